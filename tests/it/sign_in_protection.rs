//! Sign-in under attack (issue 11, items 2 and 3): the hashing pool's bound, identical answers
//! for existing and unknown e-mails, the per-IP and per-e-mail throttles stored in the
//! database, known devices that pass them, and `forgekeys user unlock`.

use crate::helpers::*;
use reqwest::cookie::Jar;
use std::sync::Arc;

const OWNER: &str = "owner@acme.test";
/// An unknown e-mail as long as [`OWNER`] (the page echoes the e-mail back).
const NOBODY: &str = "nobdy@acme.test";
const TOKENS: &str = "/orgs/acme/settings/git-tokens";

/// A browser-like client over `jar`, optionally behind a trusted proxy that says the client is
/// `forwarded_for`.
fn browser(app: &TestApp, jar: &Arc<Jar>, forwarded_for: Option<&str>) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", app.address.parse().unwrap());
    if let Some(ip) = forwarded_for {
        headers.insert("x-forwarded-for", ip.parse().unwrap());
    }
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    Client {
        http,
        base: app.address.clone(),
    }
}

fn fresh(app: &TestApp) -> Client {
    browser(app, &Arc::new(Jar::default()), None)
}

fn from_ip(app: &TestApp, ip: &str) -> Client {
    browser(app, &Arc::new(Jar::default()), Some(ip))
}

/// What a client can see of an answer, with the typed e-mail and the random CSRF value (and
/// cookie values) blanked: status, every header but `date`, and the body.
fn shape(p: &Page, email: &str) -> (u16, Vec<String>, String) {
    let csrf = p.input_value("csrf_token").unwrap_or_default();
    let mut headers: Vec<String> = p
        .headers
        .iter()
        .filter(|(k, _)| k.as_str() != "date")
        .map(|(k, v)| {
            let v = v.to_str().unwrap_or("");
            let v = match k.as_str() {
                "set-cookie" => v.split_once(';').map_or(v, |(_, attrs)| attrs).to_string(),
                _ => v.to_string(),
            };
            format!("{k}: {v}")
        })
        .collect();
    headers.sort();
    let body = p.body.replace(email, "EMAIL").replace(&csrf, "CSRF");
    (p.status.as_u16(), headers, body)
}

#[tokio::test]
async fn a_full_hashing_pool_answers_429_busy_and_counts_nothing() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    // Every place of the server's hashing pool taken (as by a storm of sign-ins in flight).
    let hasher = app.state.hasher.clone();
    let held: Vec<_> = (0..hasher.bound())
        .map(|_| hasher.reserve().expect("a free place"))
        .collect();
    assert!(hasher.reserve().is_err());
    let c = fresh(&app);
    for email in [OWNER, NOBODY] {
        let p = c.login(email, PASSWORD).await;
        p.assert_status(429)
            .assert_contains("busy")
            .assert_contains("Try again in a few seconds");
        assert_eq!(
            p.headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("2")
        );
        p.assert_lacks("not correct");
    }
    // Busy answers are not failures: six of them leave the five attempts of the e-mail intact.
    for _ in 0..4 {
        c.login(OWNER, "wrong while busy").await.assert_status(429);
    }
    drop(held);
    for i in 1..=4 {
        c.login(OWNER, &format!("wrong {i}"))
            .await
            .assert_status(401);
    }
    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
}

#[tokio::test]
async fn existing_and_unknown_emails_get_identical_answers_after_many_failures() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let (known, unknown) = (fresh(&app), fresh(&app));
    for i in 1..=8 {
        let a = known.login(OWNER, &format!("wrong guess {i}")).await;
        let b = unknown.login(NOBODY, &format!("wrong guess {i}")).await;
        let expected = if i <= 5 { 401 } else { 429 };
        a.assert_status(expected);
        assert_eq!(shape(&a, OWNER), shape(&b, NOBODY), "attempt {i}");
        if i > 5 {
            a.assert_contains("locked for 15 minutes");
            assert_eq!(
                a.headers.get("retry-after").and_then(|v| v.to_str().ok()),
                Some("900")
            );
        }
    }
    // The correct password from a new device is throttled like everything else.
    let p = fresh(&app).login(OWNER, PASSWORD).await;
    p.assert_status(429);
    // No user row was made for the unknown e-mail.
    use diesel::prelude::*;
    let users: i64 = forgekeys::db::schema::users::table
        .count()
        .get_result(&mut *db(&app))
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn an_attackers_failures_do_not_lock_out_the_owner_on_a_known_device() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    // The owner's usual browser signed in before, and signed out.
    let jar = Arc::new(Jar::default());
    let owner = browser(&app, &jar, None);
    owner
        .login(OWNER, PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    let csrf = owner.session_csrf().await;
    owner
        .post("/logout", &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to("/login");

    // An attacker locks the e-mail.
    let attacker = fresh(&app);
    for i in 1..=10 {
        attacker.login(OWNER, &format!("guess {i}")).await;
    }
    attacker.login(OWNER, PASSWORD).await.assert_status(429);

    // The owner's device still signs in with the right password, and gets in.
    owner
        .login(OWNER, PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    owner.get(TOKENS).await.assert_status(200);
    // The e-mail stays locked for everyone else.
    fresh(&app).login(OWNER, PASSWORD).await.assert_status(429);

    // A known device has its own five attempts (a stolen device cookie is no way around it).
    let csrf = owner.session_csrf().await;
    owner.post("/logout", &[("csrf_token", &csrf)]).await;
    for i in 1..=5 {
        owner
            .login(OWNER, &format!("typo {i}"))
            .await
            .assert_status(401);
    }
    owner.login(OWNER, PASSWORD).await.assert_status(429);
}

#[tokio::test]
async fn a_device_cookie_passes_the_lock_only_with_its_signature() {
    use reqwest::cookie::CookieStore;
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let jar = Arc::new(Jar::default());
    browser(&app, &jar, None)
        .login(OWNER, PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    let url: reqwest::Url = app.address.parse().unwrap();
    let cookies = jar.cookies(&url).unwrap();
    let device = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("fk_device="))
        .expect("a device cookie after sign-in")
        .to_string();
    let (id, mac) = device.rsplit_once('.').expect("id.signature");
    assert_eq!(mac.len(), 64, "{device}");

    let attacker = fresh(&app);
    for i in 1..=5 {
        attacker.login(OWNER, &format!("guess {i}")).await;
    }
    attacker.login(OWNER, PASSWORD).await.assert_status(429);
    // The device's id with another signature, or with none, is no known device.
    let flipped = if mac.starts_with('0') { "1" } else { "0" };
    for forged in [format!("{id}.{flipped}{}", &mac[1..]), id.to_string()] {
        let jar = Arc::new(Jar::default());
        jar.add_cookie_str(&format!("fk_device={forged}; Path=/"), &url);
        browser(&app, &jar, None)
            .login(OWNER, PASSWORD)
            .await
            .assert_status(429);
    }
    // The cookie as the server signed it is.
    let jar = Arc::new(Jar::default());
    jar.add_cookie_str(&format!("fk_device={device}; Path=/"), &url);
    browser(&app, &jar, None)
        .login(OWNER, PASSWORD)
        .await
        .assert_redirect_to("/orgs");
}

#[tokio::test]
async fn one_client_address_is_throttled_after_thirty_failures_and_others_are_not() {
    let app = TestApp::builder()
        .with(|o| o.trusted_proxies = Some("127.0.0.1/32".into()))
        .start();
    setup_owner(&app, "acme").await;
    let attacker = from_ip(&app, "198.51.100.7");
    // Thirty different (unknown) e-mails: no e-mail reaches its own limit.
    for i in 0..30 {
        attacker
            .login(&format!("user{i}@acme.test"), "password")
            .await
            .assert_status(401);
    }
    let p = attacker.login("user99@acme.test", "password").await;
    p.assert_status(429)
        .assert_contains("locked for 15 minutes");
    assert!(p.headers.get("retry-after").is_some());
    // Even a correct password is refused from that address (on a device never signed in)...
    attacker.login(OWNER, PASSWORD).await.assert_status(429);
    // ...but not from another address.
    let other = from_ip(&app, "203.0.113.9");
    other
        .login(OWNER, PASSWORD)
        .await
        .assert_redirect_to("/orgs");

    // After the lock (the server's clock moved, no waiting), the address may try again.
    app.clock.advance(chrono::Duration::minutes(16));
    attacker
        .login("user99@acme.test", "password")
        .await
        .assert_status(401);
}

#[tokio::test]
async fn forgekeys_user_unlock_lifts_the_lock_of_an_email() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = fresh(&app);
    for i in 1..=5 {
        c.login(OWNER, &format!("wrong {i}"))
            .await
            .assert_status(401);
    }
    c.login(OWNER, PASSWORD).await.assert_status(429);

    let url = match &app.database {
        forgekeys::db::DatabaseUrl::Sqlite(p) => format!("sqlite://{p}"),
        forgekeys::db::DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut cmd = forgekeys_command();
    cmd.current_dir(app.dir.path())
        .env("DATABASE_URL", url)
        .env("FORGEKEYS_KEY_FILE", &app.key_file)
        .env("RUST_LOG", "warn")
        .args(["user", "unlock", "--email", "Owner@Acme.test"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("sign-in unlocked"), "{stdout}");

    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
}

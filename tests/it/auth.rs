//! Accounts, sessions, CSRF and the security headers, through real HTTP (DESIGN.md §2, §3, §6).

use crate::fakes;
use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::models::audit::AuditEvent;
use forgekeys::db::schema::{audit_events, git_tokens, sessions};
use reqwest::cookie::{CookieStore, Jar};
use std::sync::Arc;

const OWNER: &str = "owner@acme.test";
const BAD_CREDENTIALS: &str = "The e-mail address or password is not correct.";
const TOKENS: &str = "/orgs/acme/settings/git-tokens";

fn url(app: &TestApp) -> reqwest::Url {
    app.address.parse().unwrap()
}

/// A client over a cookie jar the test can read and plant cookies in. `origin` decides whether
/// it sends the browser's `Origin` header by default.
fn jar_client(app: &TestApp, jar: &Arc<Jar>, origin: bool) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if origin {
        headers.insert("origin", app.address.parse().unwrap());
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

/// The value of cookie `name` in the jar, if any.
fn jar_cookie(app: &TestApp, jar: &Jar, name: &str) -> Option<String> {
    let all = jar.cookies(&url(app))?;
    all.to_str()
        .unwrap()
        .split("; ")
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The raw `Set-Cookie` line for cookie `name`.
fn set_cookie(page: &Page, name: &str) -> Option<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// A request with an explicit `Cookie` header and no cookie store (replays a stolen value).
async fn get_with_session(app: &TestApp, path: &str, session: &str) -> Page {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(format!("{}{path}", app.address))
        .header("cookie", format!("fk_session={session}"))
        .send()
        .await
        .unwrap();
    Page {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

fn audit_rows(app: &TestApp, action: &str, email: &str) -> Vec<AuditEvent> {
    let mut conn = db(app);
    audit_events::table
        .filter(audit_events::action.eq(action))
        .filter(audit_events::actor_email.eq(email))
        .select(AuditEvent::as_select())
        .load(&mut *conn)
        .unwrap()
}

fn token_count(app: &TestApp) -> i64 {
    let mut conn = db(app);
    git_tokens::table
        .count()
        .get_result::<i64>(&mut *conn)
        .unwrap()
}

fn session_count(app: &TestApp) -> i64 {
    let mut conn = db(app);
    sessions::table
        .count()
        .get_result::<i64>(&mut *conn)
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Login, sessions, lockout, logout

#[tokio::test]
async fn login_succeeds_with_a_hardened_session_cookie() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);
    let page = c.login(OWNER, PASSWORD).await;
    page.assert_redirect_to("/orgs");
    let cookie = set_cookie(&page, "fk_session").expect("a session cookie is set at login");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    // Bound to loopback with FORGEKEYS_COOKIE_SECURE=auto: no Secure flag (plain http works).
    assert!(!cookie.contains("Secure"), "{cookie}");
    // The pre-session CSRF cookie is retired once signed in.
    let pre = set_cookie(&page, "fk_pre").expect("fk_pre removed");
    assert!(pre.starts_with("fk_pre=;"), "{pre}");
    // The session works.
    c.get("/orgs")
        .await
        .assert_status(200)
        .assert_contains("Acme Corp")
        .assert_contains(OWNER);
    // An audit row records the sign-in.
    let rows = audit_rows(&app, "login", OWNER);
    assert_eq!(rows.len(), 1, "{rows:?}");
    // Already signed in: the login page sends the user on.
    c.get("/login").await.assert_redirect_to("/orgs");
}

#[tokio::test]
async fn login_renews_the_session_id() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;

    // A session id planted before login (fixation) is never adopted.
    let jar = Arc::new(Jar::default());
    jar.add_cookie_str("fk_session=planted-by-an-attacker; Path=/", &url(&app));
    let c = jar_client(&app, &jar, true);
    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
    let first = jar_cookie(&app, &jar, "fk_session").unwrap();
    assert_ne!(first, "planted-by-an-attacker");
    assert!(first.len() >= 32, "session ids are long random values");
    c.get("/orgs").await.assert_status(200);

    // Signing in again while holding a live session replaces it, and the old id is dead.
    // GET /login redirects a signed-in user, so fetch the form as an anonymous client and plant
    // its fk_pre cookie into our jar; then post the login form with the old session cookie
    // still in the jar.
    let pre_page = {
        let anon_jar = Arc::new(Jar::default());
        let anon = jar_client(&app, &anon_jar, true);
        let p = anon.get("/login").await;
        let pre = jar_cookie(&app, &anon_jar, "fk_pre").unwrap();
        jar.add_cookie_str(&format!("fk_pre={pre}; Path=/"), &url(&app));
        p
    };
    let again = c
        .post(
            "/login",
            &[
                ("csrf_token", pre_page.csrf().as_str()),
                ("email", OWNER),
                ("password", PASSWORD),
            ],
        )
        .await;
    again.assert_redirect_to("/orgs");
    let second = jar_cookie(&app, &jar, "fk_session").unwrap();
    assert_ne!(first, second, "login must issue a new session id");
    get_with_session(&app, "/orgs", &first)
        .await
        .assert_redirect_to("/login");
    get_with_session(&app, "/orgs", &second)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);

    let wrong = c.login(OWNER, "not the password at all").await;
    wrong
        .assert_status(401)
        .assert_contains(BAD_CREDENTIALS)
        .assert_lacks("not the password at all");
    assert!(set_cookie(&wrong, "fk_session").is_none());

    let unknown = c.login("nobody@acme.test", PASSWORD).await;
    unknown
        .assert_status(401)
        .assert_contains(BAD_CREDENTIALS)
        .assert_lacks(PASSWORD);
    assert!(set_cookie(&unknown, "fk_session").is_none());

    // Same message element, same wording: nothing tells the two apart.
    let msg = |p: &Page| {
        let re = regex::Regex::new(r#"id="login-error">([^<]*)<"#).unwrap();
        re.captures(&p.body).map(|c| c[1].to_string())
    };
    assert_eq!(msg(&wrong), msg(&unknown));
    assert!(msg(&wrong).is_some());

    // Both failures are audited, without the password.
    let known = audit_rows(&app, "login_failed", OWNER);
    assert_eq!(known.len(), 1, "{known:?}");
    assert!(known[0].details.contains("bad_password"));
    let nobody = audit_rows(&app, "login_failed", "nobody@acme.test");
    assert_eq!(nobody.len(), 1, "{nobody:?}");
    for row in known.iter().chain(nobody.iter()) {
        assert!(!row.details.contains("not the password"));
        assert!(!row.details.contains(PASSWORD));
    }
    // The form keeps working after a failure.
    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
}

#[tokio::test]
async fn five_failures_lock_the_account() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);
    for i in 1..=5 {
        let p = c.login(OWNER, &format!("wrong password {i}")).await;
        p.assert_status(401).assert_contains(BAD_CREDENTIALS);
    }
    // Locked now: even the correct password is refused, with a clear message.
    let locked = c.login(OWNER, PASSWORD).await;
    locked
        .assert_status(429)
        .assert_contains("locked")
        .assert_contains("15 minutes")
        .assert_lacks(BAD_CREDENTIALS);
    assert!(set_cookie(&locked, "fk_session").is_none());
    c.get("/orgs").await.assert_redirect_to("/login");
    // A wrong password while locked is refused the same way.
    c.login(OWNER, "wrong again").await.assert_status(429);

    // Audit: 5 bad passwords + 2 refused while locked, no successful login after setup.
    let rows = audit_rows(&app, "login_failed", OWNER);
    assert_eq!(rows.len(), 7, "{rows:?}");
    let locked_rows = rows.iter().filter(|r| r.details.contains("locked")).count();
    assert_eq!(locked_rows, 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.org_id.is_some() && r.actor_user_id.is_some())
    );
    assert!(audit_rows(&app, "login", OWNER).is_empty());

    // Another account is not affected.
    let other = member(
        &app,
        "acme",
        "viewer@acme.test",
        forgekeys::domain::role::Role::Viewer,
    )
    .await;
    other.get(TOKENS).await.assert_status(200);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let jar = Arc::new(Jar::default());
    let c = jar_client(&app, &jar, true);
    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
    let sid = jar_cookie(&app, &jar, "fk_session").unwrap();
    let before = session_count(&app);

    // Logging out needs the CSRF token too.
    c.post("/logout", &[]).await.assert_status(403);
    get_with_session(&app, "/orgs", &sid)
        .await
        .assert_status(200);

    let csrf = c.session_csrf().await;
    let out = c.post("/logout", &[("csrf_token", &csrf)]).await;
    out.assert_redirect_to("/login");
    let removal = set_cookie(&out, "fk_session").expect("cookie removed");
    assert!(removal.starts_with("fk_session=;"), "{removal}");
    assert_eq!(session_count(&app), before - 1);

    // The old cookie replayed (as an attacker who copied it would) no longer works.
    get_with_session(&app, "/orgs", &sid)
        .await
        .assert_redirect_to("/login");
    get_with_session(&app, TOKENS, &sid)
        .await
        .assert_redirect_to("/login");
    c.get("/orgs").await.assert_redirect_to("/login");
    // The sign-in page shows the flash.
    c.get("/login").await.assert_contains("You are signed out.");
}

#[tokio::test]
async fn anonymous_users_are_sent_to_login() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);
    for path in [
        "/orgs",
        "/orgs/acme",
        TOKENS,
        "/orgs/acme/settings/git-tokens/new",
        "/orgs/acme/settings/git-tokens/some-id",
        "/orgs/unknown/settings/git-tokens",
    ] {
        let p = c.get(path).await;
        assert_eq!(p.status.as_u16(), 303, "{path}: {}", p.body);
        assert_eq!(p.location(), Some("/login"), "{path}");
    }
    c.get("/").await.assert_redirect_to("/login");
    // A POST without a session: to the login page too, never a 500.
    let p = c.post(TOKENS, &[("name", "x")]).await;
    assert_eq!(p.location(), Some("/login"), "{}", p.body);

    // HTMX requests are told where to go with HX-Redirect (a 303 would be swapped in place).
    let h = c.get_htmx(TOKENS, "provider-fields").await;
    h.assert_status(401);
    assert_eq!(
        h.headers.get("hx-redirect").and_then(|v| v.to_str().ok()),
        Some("/login")
    );
    assert!(h.location().is_none());
}

// ---------------------------------------------------------------------------------------------
// CSRF

fn create_form(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("provider", "github".into()),
        ("hosting", "cloud".into()),
        ("name", name.into()),
        ("token", "ghp_allscopes_csrf_test_0001".into()),
    ]
}

fn with(form: &[(&'static str, String)], extra: &[(&'static str, &str)]) -> Vec<(String, String)> {
    form.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .collect()
}

async fn post_raw(
    c: &Client,
    path: &str,
    headers: &[(&str, &str)],
    form: &[(String, String)],
) -> Page {
    let mut req = c.http.post(format!("{}{path}", c.base)).form(form);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    Page {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

#[tokio::test]
async fn csrf_refuses_forged_posts_and_saves_nothing() {
    let fake = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(fake.url.clone()),
        ..Default::default()
    });
    setup_owner(&app, "acme").await;
    let jar = Arc::new(Jar::default());
    let c = jar_client(&app, &jar, true);
    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
    let csrf = c.session_csrf().await;
    let form = create_form("Deploy bot");

    let refused = "Request refused";
    // 1. No csrf_token at all.
    let p = post_raw(&c, TOKENS, &[], &with(&form, &[])).await;
    p.assert_status(403).assert_contains(refused);
    // 2. A wrong token (same length, one character off).
    let mut wrong = csrf.clone();
    let last = if wrong.ends_with('A') { "B" } else { "A" };
    wrong.replace_range(wrong.len() - 1.., last);
    let p = post_raw(&c, TOKENS, &[], &with(&form, &[("csrf_token", &wrong)])).await;
    p.assert_status(403).assert_contains(refused);
    // An empty token and a header token that is wrong are refused too.
    post_raw(&c, TOKENS, &[], &with(&form, &[("csrf_token", "")]))
        .await
        .assert_status(403);
    post_raw(&c, TOKENS, &[("X-CSRF-Token", "nope")], &with(&form, &[]))
        .await
        .assert_status(403);
    // 3. The right token from a foreign origin.
    let p = post_raw(
        &c,
        TOKENS,
        &[("origin", "https://evil.example")],
        &with(&form, &[("csrf_token", &csrf)]),
    )
    .await;
    p.assert_status(403).assert_contains(refused);
    // `null` origin (sandboxed iframe, file://) likewise.
    post_raw(
        &c,
        TOKENS,
        &[("origin", "null")],
        &with(&form, &[("csrf_token", &csrf)]),
    )
    .await
    .assert_status(403);
    // 4. Sec-Fetch-Site: cross-site wins over a matching Origin.
    for site in ["cross-site", "same-site"] {
        let p = post_raw(
            &c,
            TOKENS,
            &[("sec-fetch-site", site)],
            &with(&form, &[("csrf_token", &csrf)]),
        )
        .await;
        assert_eq!(p.status.as_u16(), 403, "Sec-Fetch-Site: {site}: {}", p.body);
    }
    // 5. Neither Origin nor Sec-Fetch-Site (same session, a client that sends no Origin).
    let bare = jar_client(&app, &jar, false);
    let p = post_raw(&bare, TOKENS, &[], &with(&form, &[("csrf_token", &csrf)])).await;
    p.assert_status(403).assert_contains(refused);
    // Logout is protected the same way.
    post_raw(
        &c,
        "/logout",
        &[("origin", "https://evil.example")],
        &[("csrf_token".to_string(), csrf.clone())],
    )
    .await
    .assert_status(403);

    // Nothing was saved, and the provider was never called by a refused request.
    assert_eq!(token_count(&app), 0);
    fake.assert_untouched();
    c.get(TOKENS).await.assert_contains("No tokens yet");
    assert!(audit_rows(&app, "token.create", OWNER).is_empty());

    // The genuine requests pass: same-origin via Sec-Fetch-Site, and the HTMX header path
    // (X-CSRF-Token header, no form field).
    let p = post_raw(
        &bare,
        TOKENS,
        &[("sec-fetch-site", "same-origin")],
        &with(&create_form("Form bot"), &[("csrf_token", &csrf)]),
    )
    .await;
    p.assert_redirect_to(TOKENS);
    let form_b = create_form("Htmx bot");
    let pairs: Vec<(&str, &str)> = form_b.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let h = c.post_htmx(TOKENS, &csrf, "main", &pairs).await;
    assert!(
        h.status.is_success() || h.status.is_redirection(),
        "HTMX post with X-CSRF-Token refused: {} {}",
        h.status,
        h.body
    );
    assert_eq!(token_count(&app), 2);
    let list = c.get(TOKENS).await;
    list.assert_status(200)
        .assert_contains("Form bot")
        .assert_contains("Htmx bot")
        .assert_lacks("Deploy bot");
}

#[tokio::test]
async fn login_form_is_csrf_protected_too() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);
    let form = c.get("/login").await;
    let csrf = form.csrf();
    // No token.
    c.post("/login", &[("email", OWNER), ("password", PASSWORD)])
        .await
        .assert_status(403);
    // A token without the matching pre-session cookie (another browser).
    Client::new(&app)
        .post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", OWNER),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_status(403);
    // Foreign origin.
    let p = post_raw(
        &c,
        "/login",
        &[("origin", "https://evil.example")],
        &[
            ("csrf_token".into(), csrf.clone()),
            ("email".into(), OWNER.into()),
            ("password".into(), PASSWORD.into()),
        ],
    )
    .await;
    p.assert_status(403);
    assert!(set_cookie(&p, "fk_session").is_none());
    // None of these counted as a failed login.
    assert!(audit_rows(&app, "login_failed", OWNER).is_empty());
    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
}

// ---------------------------------------------------------------------------------------------
// Headers and static assets

fn directive<'a>(csp: &'a str, name: &str) -> Option<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find(|d| d.split_whitespace().next() == Some(name))
}

#[track_caller]
fn assert_security_headers(p: &Page, what: &str) {
    let h = |n: &str| {
        p.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {n} header"))
            .to_string()
    };
    let csp = h("content-security-policy");
    let script = directive(&csp, "script-src").unwrap_or_else(|| panic!("{what}: {csp}"));
    assert!(!script.contains("'unsafe-inline'"), "{what}: {csp}");
    assert!(!script.contains("'unsafe-eval'"), "{what}: {csp}");
    let style = directive(&csp, "style-src").unwrap_or_else(|| panic!("{what}: {csp}"));
    assert!(!style.contains("'unsafe-inline'"), "{what}: {csp}");
    assert_eq!(
        directive(&csp, "frame-ancestors"),
        Some("frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    let referrer = h("referrer-policy");
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin-when-cross-origin",
            "strict-origin"
        ]
        .contains(&referrer.as_str()),
        "{what}: Referrer-Policy {referrer}"
    );
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let anon = Client::new(&app);
    let login = anon.get("/login").await;
    login.assert_status(200);
    assert_security_headers(&login, "GET /login");
    let list = owner.get(TOKENS).await;
    list.assert_status(200);
    assert_security_headers(&list, "token list");
    assert!(
        list.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store")),
        "signed-in pages must not be cached: {:?}",
        list.headers.get("cache-control")
    );
    let missing = owner.get("/orgs/acme/settings/git-tokens/nope").await;
    missing.assert_status(404);
    assert_security_headers(&missing, "404 page");
    let failed = anon.login(OWNER, "wrong password").await;
    failed.assert_status(401);
    assert_security_headers(&failed, "failed login");
    // No inline script or style in the HTML itself (CSP would block it).
    for (what, p) in [("login", &login), ("list", &list)] {
        assert!(!p.body.contains("<script>"), "{what} has an inline script");
        assert!(!p.body.contains("<style"), "{what} has an inline style");
        assert!(
            !p.body.contains(" style=\""),
            "{what} has a style attribute"
        );
        assert!(
            !p.body.contains(" onclick="),
            "{what} has an inline handler"
        );
    }
}

#[tokio::test]
async fn static_assets_are_versioned_and_cacheable() {
    let app = spawn_app();
    let c = Client::new(&app);
    let login = c.get("/login").await;
    let css = regex::Regex::new(r#"href="(/static/app\.css\?v=[0-9a-f]+)""#)
        .unwrap()
        .captures(&login.body)
        .map(|m| m[1].to_string())
        .expect("versioned stylesheet link");
    let first = c.get(&css).await;
    first.assert_status(200);
    let header = |p: &Page, n: &str| {
        p.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let cache = header(&first, "cache-control").unwrap();
    assert!(cache.contains("immutable"), "{cache}");
    assert!(cache.contains("max-age="), "{cache}");
    assert!(
        header(&first, "content-type")
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        header(&first, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(first.body.len() > 100, "stylesheet body served");
    let etag = header(&first, "etag").expect("ETag");

    let again = c
        .http
        .get(format!("{}{css}", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(
        again.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
    assert!(again.text().await.unwrap().is_empty());
    // A stale ETag gets the file again.
    let stale = c
        .http
        .get(format!("{}{css}", app.address))
        .header("if-none-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 200);

    // Unversioned URLs are revalidated, not cached for a year.
    let plain = c.get("/static/app.css").await;
    plain.assert_status(200);
    assert!(
        !header(&plain, "cache-control")
            .unwrap()
            .contains("immutable")
    );

    // Every asset the layout links to exists.
    let re = regex::Regex::new(r#"(?:href|src)="(/static/[^"]+)""#).unwrap();
    let links: Vec<String> = re
        .captures_iter(&login.body)
        .map(|m| m[1].to_string())
        .collect();
    assert!(links.len() >= 4, "{links:?}");
    for link in links {
        c.get(&link).await.assert_status(200);
    }

    // Favicon at the conventional path.
    let fav = c.get("/favicon.ico").await;
    fav.assert_status(200).assert_contains("<svg");
    assert!(
        header(&fav, "content-type")
            .unwrap()
            .starts_with("image/svg+xml")
    );
    // Unknown assets are a plain 404, never a 500; no path traversal.
    c.get("/static/nope.css").await.assert_status(404);
    let trav = c.get("/static/..%2F..%2FCargo.toml").await;
    assert_eq!(trav.status.as_u16(), 404, "{}", trav.body);
}

#[tokio::test]
async fn parallel_guesses_do_not_get_past_the_lockout() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);
    let csrf = c.get("/login").await.csrf();
    let guesses: Vec<String> = (0..12).map(|i| format!("parallel guess {i}")).collect();
    let pages = futures::future::join_all(guesses.iter().map(|g| {
        let csrf = csrf.clone();
        let g = g.clone();
        let c = &c;
        async move {
            c.post(
                "/login",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("email", OWNER),
                    ("password", g.as_str()),
                ],
            )
            .await
        }
    }))
    .await;
    let answered_401 = pages.iter().filter(|p| p.status.as_u16() == 401).count();
    let answered_429 = pages.iter().filter(|p| p.status.as_u16() == 429).count();
    let statuses: Vec<u16> = pages.iter().map(|p| p.status.as_u16()).collect();
    assert_eq!(
        answered_401 + answered_429,
        12,
        "{statuses:?}\n{}",
        pages
            .iter()
            .find(|p| !matches!(p.status.as_u16(), 401 | 429))
            .map(|p| p.body.as_str())
            .unwrap_or("")
    );
    // Only five passwords may be tried before the lock, however the requests are timed.
    assert!(answered_401 <= 5, "{answered_401} guesses were checked");
    c.login(OWNER, PASSWORD).await.assert_status(429);
}

/// A POST answered early (no session, foreign origin) must not break the keep-alive connection:
/// actix closes a connection whose request body was not read, and a client that reuses it
/// (reqwest, browsers) loses its next request.
#[tokio::test]
async fn refused_posts_keep_the_connection_usable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let host = format!("127.0.0.1:{}", app.port);
    for (case, origin, expect) in [
        ("no session", app.address.as_str(), "HTTP/1.1 303"),
        ("foreign origin", "https://evil.example", "HTTP/1.1 403"),
    ] {
        let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
        let body = "name=x&csrf_token=y";
        let head = format!(
            "POST {TOKENS} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        // The body arrives after the server could have answered from the headers alone.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let next = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let _ = s.write_all(format!("{body}{next}").as_bytes()).await;
        let mut out = Vec::new();
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
        assert!(read.is_ok(), "{case}: no answer");
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with(expect), "{case}:\n{text}");
        assert!(
            text.contains("HTTP/1.1 200 OK") && text.ends_with("ok"),
            "{case}: the connection was dropped after the refused POST:\n{text}"
        );
    }
}

#[tokio::test]
async fn lockout_ends_when_locked_until_has_passed() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);
    for i in 1..=5 {
        c.login(OWNER, &format!("wrong password {i}"))
            .await
            .assert_status(401);
    }
    c.login(OWNER, PASSWORD).await.assert_status(429);
    // Fifteen minutes later (the server's clock moved instead of waiting).
    app.clock.advance(chrono::Duration::minutes(16));
    c.login(OWNER, PASSWORD).await.assert_redirect_to("/orgs");
    c.get(TOKENS).await.assert_status(200);
    assert_eq!(audit_rows(&app, "login", OWNER).len(), 1);
}

#[tokio::test]
async fn setup_post_without_the_pre_session_cookie_is_refused() {
    let app = spawn_app();
    let url = app.setup_url.clone().expect("setup still open");
    let path = url.trim_start_matches(&app.address).to_string();
    let c = Client::new(&app);
    let form = c.get(&path).await;
    form.assert_status(200);
    let csrf = form.csrf();
    let token = form.input_value("token").unwrap();
    // Same token and CSRF value, but from a client that never got the `fk_pre` cookie.
    let p = Client::new(&app)
        .post(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("org_name", "Acme Corp"),
                ("org_slug", "acme"),
                ("email", OWNER),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    p.assert_status(403);
    assert!(set_cookie(&p, "fk_session").is_none());
    let mut conn = db(&app);
    let users: i64 = forgekeys::db::schema::users::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(users, 0, "setup went through without the cookie");
    // The setup is still open for the right browser.
    setup_owner(&app, "acme").await;
}

#[tokio::test]
async fn a_password_typed_as_the_email_is_not_audited() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let c = Client::new(&app);
    let typed = "Hunter2 Secret-Passphrase";
    c.login(typed, "whatever it is").await.assert_status(401);
    c.login("Nobody@Acme.test", "whatever it is")
        .await
        .assert_status(401);

    let mut conn = db(&app);
    let emails: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("login_failed"))
        .select(audit_events::actor_email)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(emails.len(), 2, "{emails:?}");
    assert!(
        emails.iter().all(|e| !e
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .contains("hunter2")),
        "{emails:?}"
    );
    assert!(
        emails
            .iter()
            .any(|e| e.as_deref() == Some("(not an e-mail address)")),
        "{emails:?}"
    );
    // A real address is still recorded, normalized.
    assert!(
        emails
            .iter()
            .any(|e| e.as_deref() == Some("nobody@acme.test")),
        "{emails:?}"
    );
}

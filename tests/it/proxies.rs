//! Behind a reverse proxy and on a LAN (issue 11, item 7): the cookie's `Secure` flag follows an
//! https base URL, forwarding headers count only from trusted proxies, the Origin check never
//! believes `X-Forwarded-Host`, a browser that drops the Secure cookie over http is told why, a
//! wildcard bind never prints an `http://0.0.0.0…` link, and audit entries name the client.

use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::schema::audit_events;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

const INVENTORY_CSV: &str = "/orgs/acme/settings/git-tokens/inventory?format=csv";

fn set_cookie_lines(p: &Page) -> Vec<String> {
    p.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn an_https_base_url_makes_cookies_secure_on_a_loopback_bind() {
    // A TLS proxy in front, the server on 127.0.0.1: before, `auto` looked at the bind only.
    let app = TestApp::builder()
        .with(|o| o.base_url = Some("https://forgekeys.example.com".into()))
        .start();
    let page = Client::new(&app).get("/login").await;
    let cookies = set_cookie_lines(&page);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("fk_pre=") && c.contains("Secure")),
        "{cookies:?}"
    );
    // An http base URL (a LAN without TLS) keeps them usable over http.
    let app = TestApp::builder()
        .with(|o| o.base_url = Some("http://forgekeys.lan:8080".into()))
        .start();
    let page = Client::new(&app).get("/login").await;
    let cookies = set_cookie_lines(&page);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("fk_pre=") && !c.contains("Secure")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn a_dropped_secure_cookie_over_http_is_explained_not_called_csrf() {
    // Secure cookies, a browser on http://192.168.1.5:8080 (a LAN address): it drops the
    // cookie, so the form comes back without it. Before: "This form was not sent from a
    // Forgekeys page…", which sends the operator hunting for a CSRF problem.
    let app = TestApp::builder()
        .with(|o| o.cookie_secure = Some("true".into()))
        .start();
    let lan = "192.168.1.5:8080";
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = http
        .get(format!("{}/login", app.address))
        .header("host", lan)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("data-cookie-warning") && form.contains("FORGEKEYS_COOKIE_SECURE"),
        "the sign-in page warns before anyone types: {form}"
    );
    let resp = http
        .post(format!("{}/login", app.address))
        .header("host", lan)
        .header("origin", format!("http://{lan}"))
        .form(&[
            ("csrf_token", "x".repeat(43).as_str()),
            ("email", "owner@acme.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("refused the sign-in cookie")
            && body.contains("FORGEKEYS_COOKIE_SECURE")
            && body.contains("FORGEKEYS_BASE_URL"),
        "{body}"
    );
    // On localhost browsers keep Secure cookies over http: no warning there.
    Client::new(&app)
        .get("/login")
        .await
        .assert_status(200)
        .assert_lacks("data-cookie-warning");
}

#[tokio::test]
async fn the_origin_check_does_not_believe_x_forwarded_host() {
    // A cross-site form post naming its own site in X-Forwarded-Host (and -Proto): before, the
    // "request's own origin" was read from those headers, so the post passed the Origin check.
    let app = TestApp::builder().start();
    let owner = app.owner("acme").await;
    let csrf = owner.session_csrf().await;
    let resp = owner
        .http
        .post(format!("{}/logout", app.address))
        .header("origin", "https://evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "refused as cross-origin");
    owner.get("/orgs").await.assert_status(200); // still signed in
}

fn recorded_ips(app: &TestApp) -> Vec<Option<String>> {
    audit_events::table
        .filter(audit_events::action.eq("inventory.export"))
        .order(audit_events::id.asc())
        .select(audit_events::client_ip)
        .load(&mut *db(app))
        .unwrap()
}

#[tokio::test]
async fn audit_entries_name_the_client_and_forwarded_for_counts_only_from_trusted_proxies() {
    // No trusted proxy: X-Forwarded-For is the client's own claim and is ignored.
    let app = TestApp::builder().start();
    let owner = app.owner("acme").await;
    let csv = |c: &Client| {
        c.http
            .get(format!("{}{INVENTORY_CSV}", app.address))
            .header("x-forwarded-for", "203.0.113.7")
            .send()
    };
    assert_eq!(csv(&owner).await.unwrap().status(), 200);
    assert_eq!(recorded_ips(&app), vec![Some("127.0.0.1".to_string())]);

    // The server behind a proxy on loopback: the address the proxy reports is the client.
    let app = TestApp::builder()
        .with(|o| o.trusted_proxies = Some("127.0.0.1/32".into()))
        .start();
    let owner = app.owner("acme").await;
    let resp = owner
        .http
        .get(format!("{}{INVENTORY_CSV}", app.address))
        // A client-supplied entry first, then the one the proxy appended.
        .header("x-forwarded-for", "10.9.9.9, 203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(recorded_ips(&app), vec![Some("203.0.113.7".to_string())]);
    owner
        .get("/orgs/acme/audit")
        .await
        .assert_status(200)
        .assert_contains("data-client-ip>203.0.113.7<");
}

#[test]
fn a_wildcard_bind_prints_a_usable_setup_link_and_warns() {
    // `forgekeys serve` on 0.0.0.0 without a base URL. Before: "http://0.0.0.0:PORT/setup?…",
    // which no browser can open, and no word about the base URL.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forgekeys.db");
    let mut child = forgekeys_command()
        .args(["serve", "--bind", "0.0.0.0:0"])
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("FORGEKEYS_RECHECK_INTERVAL", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut link = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if line.contains("/setup?token=") {
            link = Some(line.trim().to_string());
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let link = link.expect("a setup link is printed");
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    assert!(!link.contains("0.0.0.0"), "{link}");
    assert!(
        log.contains("without FORGEKEYS_BASE_URL"),
        "the start warns: {log}"
    );
}

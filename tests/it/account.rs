//! The account page (DESIGN.md §3a): changing the password ends every other session and the old
//! password fails; the user's own sessions with the device named from the user agent; signing
//! out one or all others; CSRF on every form; another user's session is "not found".

use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::schema::audit_events;
use forgekeys::domain::role::Role;

pub(crate) const ACCOUNT: &str = "/account";
const NEW_PASSWORD: &str = "a brand new passphrase 42";
pub(crate) const FIREFOX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A browser-like client that sends this `User-Agent`.
pub(crate) fn client_with_agent(app: &TestApp, ua: &str) -> Client {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .user_agent(ua)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert("origin", app.address.parse().unwrap());
            h
        })
        .build()
        .unwrap();
    Client {
        http,
        base: app.address.clone(),
    }
}

/// The user agents of every stored session.
pub(crate) fn session_agents(app: &TestApp) -> Vec<Option<String>> {
    use forgekeys::db::schema::sessions;
    sessions::table
        .select(sessions::user_agent)
        .load(&mut db(app))
        .unwrap()
}

pub(crate) fn audit_count(app: &TestApp, action: &str) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(&mut db(app))
        .unwrap()
}

/// The revoke form actions of the sessions other than the current one.
fn other_revoke_urls(p: &Page) -> Vec<String> {
    let re = regex::Regex::new(
        r#"(?s)<tr data-session>.*?action="(/account/sessions/[0-9a-f]+/revoke)""#,
    )
    .unwrap();
    re.captures_iter(&p.body)
        .map(|c| c[1].to_string())
        .collect()
}

async fn change(c: &Client, current: &str, new: &str, confirm: &str) -> Page {
    let csrf = c.session_csrf().await;
    c.post(
        "/account/password",
        &[
            ("csrf_token", &csrf),
            ("current_password", current),
            ("new_password", new),
            ("new_password_confirm", confirm),
        ],
    )
    .await
}

#[tokio::test]
async fn every_signed_in_page_links_to_the_account_page() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    owner
        .get("/orgs")
        .await
        .assert_status(200)
        .assert_contains(r#"href="/account""#);
    let p = owner.get(ACCOUNT).await;
    p.assert_status(200)
        .assert_contains("Your account")
        .assert_contains("owner@acme.test")
        .assert_contains(r#"data-two-factor="off""#)
        .assert_contains("data-current-session");
    // Signed out: to the sign-in page.
    let anon = Client::new(&app);
    assert_eq!(anon.get(ACCOUNT).await.status.as_u16(), 303);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_the_old_password_fails() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let other = Client::new(&app);
    other.login("owner@acme.test", PASSWORD).await;
    other.get("/orgs").await.assert_status(200);

    // Refusals change nothing.
    change(&owner, "not my password at all", NEW_PASSWORD, NEW_PASSWORD)
        .await
        .assert_status(422)
        .assert_contains("This is not your current password.");
    change(&owner, PASSWORD, NEW_PASSWORD, "something else entirely")
        .await
        .assert_status(422)
        .assert_contains("The two passwords differ.");
    change(&owner, PASSWORD, "short", "short")
        .await
        .assert_status(422)
        .assert_contains("at least 12");
    other.get("/orgs").await.assert_status(200);
    assert_eq!(audit_count(&app, "password.change"), 0);

    let p = change(&owner, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    p.assert_redirect_to(ACCOUNT);
    // This session goes on; the other one has ended.
    owner.get(ACCOUNT).await.assert_status(200);
    assert_eq!(other.get("/orgs").await.status.as_u16(), 303);
    assert_eq!(audit_count(&app, "password.change"), 1);

    let fresh = Client::new(&app);
    fresh
        .login("owner@acme.test", PASSWORD)
        .await
        .assert_status(401);
    fresh
        .login("owner@acme.test", NEW_PASSWORD)
        .await
        .assert_redirect_to("/orgs");
}

#[tokio::test]
async fn sessions_show_their_device_and_can_be_signed_out_one_or_all() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let laptop = client_with_agent(&app, FIREFOX);
    laptop.login("owner@acme.test", PASSWORD).await;
    let phone = client_with_agent(
        &app,
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    );
    phone.login("owner@acme.test", PASSWORD).await;
    let spare = Client::new(&app);
    spare.login("owner@acme.test", PASSWORD).await;

    let p = owner.get(ACCOUNT).await;
    p.assert_status(200)
        .assert_contains("Firefox on Linux")
        .assert_contains("Safari on iOS")
        .assert_contains("127.0.0.1");
    let others = other_revoke_urls(&p);
    assert_eq!(others.len(), 3, "{}", p.body);

    // Sign out the Firefox session only.
    let laptop_page = laptop.get(ACCOUNT).await;
    let own = regex::Regex::new(
        r#"(?s)<tr data-session data-current-session>.*?action="(/account/sessions/[0-9a-f]+/revoke)""#,
    )
    .unwrap();
    let laptop_url = own.captures(&laptop_page.body).unwrap()[1].to_string();
    let csrf = owner.session_csrf().await;
    owner
        .post(&laptop_url, &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to(ACCOUNT);
    assert_eq!(laptop.get("/orgs").await.status.as_u16(), 303);
    phone.get("/orgs").await.assert_status(200);
    // Twice, or someone else's: not found.
    owner
        .post(&laptop_url, &[("csrf_token", &csrf)])
        .await
        .assert_status(404);
    let stranger = member(&app, "beta", "stranger@beta.test", Role::Owner).await;
    let phone_page = phone.get(ACCOUNT).await;
    let phone_url = own.captures(&phone_page.body).unwrap()[1].to_string();
    let s_csrf = stranger.session_csrf().await;
    stranger
        .post(&phone_url, &[("csrf_token", &s_csrf)])
        .await
        .assert_status(404);
    phone.get("/orgs").await.assert_status(200);

    // All the others.
    owner
        .post("/account/sessions/revoke-others", &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to(ACCOUNT);
    assert_eq!(phone.get("/orgs").await.status.as_u16(), 303);
    assert_eq!(spare.get("/orgs").await.status.as_u16(), 303);
    let p = owner.get(ACCOUNT).await;
    assert!(other_revoke_urls(&p).is_empty(), "{}", p.body);
    assert!(audit_count(&app, "session.revoke") >= 2);

    // Signing out the current session from the list ends it.
    let mine = own.captures(&p.body).unwrap()[1].to_string();
    owner
        .post(&mine, &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to("/login");
    assert_eq!(owner.get(ACCOUNT).await.status.as_u16(), 303);
}

#[tokio::test]
async fn every_account_form_checks_its_csrf_token() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let other = Client::new(&app);
    other.login("owner@acme.test", PASSWORD).await;
    let p = owner.get(ACCOUNT).await;
    let url = other_revoke_urls(&p)[0].clone();
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/account/password".into(),
            vec![
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirm", NEW_PASSWORD),
            ],
        ),
        (url, vec![]),
        ("/account/sessions/revoke-others".into(), vec![]),
        ("/account/2fa/enable".into(), vec![("code", "123456")]),
        (
            "/account/2fa/disable".into(),
            vec![("password", PASSWORD), ("code", "123456")],
        ),
        (
            "/orgs/acme/settings/security".into(),
            vec![("require_2fa", "on")],
        ),
    ];
    for (path, fields) in forms {
        let mut wrong = fields.clone();
        wrong.push(("csrf_token", "not-the-token"));
        owner.post(&path, &wrong).await.assert_status(403);
        owner.post(&path, &fields).await.assert_status(403);
    }
    // Nothing happened.
    other.get("/orgs").await.assert_status(200);
    Client::new(&app)
        .login("owner@acme.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
}

//! OpenID Connect single sign-on (DESIGN.md §3a) against a real provider (`oidc-provider`,
//! started by `support::oidc`): an existing member signs in, an invitation is accepted, and
//! an unknown e-mail, an unverified e-mail, a forged `state` and a tampered ID token are
//! refused with a page (never a 500) and no session.

use crate::helpers::*;
use crate::members::{MEMBERS, invite};
use crate::support::oidc::OidcProvider;
use diesel::prelude::*;
use forgekeys::db::schema::audit_events;
use forgekeys::domain::role::Role;

/// The provider and an app configured for it, with the organization `acme` and its Owner;
/// `None` when the provider cannot run here (see `support::oidc`).
async fn setup() -> Option<(OidcProvider, TestApp, Client)> {
    let idp = OidcProvider::start()?;
    let settings = idp.settings();
    let app = TestApp::builder()
        .with(move |o| {
            o.oidc = Some(settings);
            // Several providers start at once on few cores: the token endpoint can be slow.
            o.provider_timeout_ms = Some(15_000);
        })
        .start();
    idp.configure(&app.address).await;
    let owner = app.owner("acme").await;
    Some((idp, app, owner))
}

fn absolute(app: &TestApp, url: &str) -> String {
    if url.starts_with("http") {
        url.to_string()
    } else {
        format!("{}{url}", app.address)
    }
}

/// Follow the redirects from `start` (through the provider) until the app's callback, and
/// return the callback's URL and its answer.
async fn through_provider(app: &TestApp, c: &Client, start: &str) -> (String, Page) {
    let mut url = absolute(app, start);
    for _ in 0..12 {
        let resp = c.http.get(&url).send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap_or_default();
        let page = Page {
            status,
            headers,
            body,
        };
        if url.contains("/auth/oidc/callback") || !status.is_redirection() {
            return (url, page);
        }
        let loc = page.location().expect("a redirect has a Location");
        url = reqwest::Url::parse(&url)
            .unwrap()
            .join(loc)
            .unwrap()
            .to_string();
    }
    panic!("too many redirects from {start}");
}

/// Whether the client has a session (the organizations page answers instead of sending to
/// the sign-in page).
async fn signed_in(c: &Client) -> bool {
    c.get("/orgs").await.status.as_u16() == 200
}

fn sso_logins(app: &TestApp, action: &str) -> Vec<(Option<String>, String, Option<String>)> {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .select((
            audit_events::actor_email,
            audit_events::details,
            audit_events::client_ip,
        ))
        .load(&mut db(app))
        .unwrap()
        .into_iter()
        .filter(|(_, d, _): &(Option<String>, String, Option<String>)| d.contains("sso"))
        .collect()
}

#[tokio::test]
async fn an_existing_member_signs_in_and_lands_on_the_page_asked_for() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    app.member("acme", "member@example.test", Role::Viewer)
        .await;
    let c = Client::new(&app);
    let login = c.get("/login?next=/orgs/acme/services").await;
    login
        .assert_status(200)
        .assert_contains("Sign in with Test ID");
    idp.sign_in_as("member").await;
    let (_, done) =
        through_provider(&app, &c, "/auth/oidc/start?next=%2Forgs%2Facme%2Fservices").await;
    done.assert_redirect_to("/orgs/acme/services");
    assert!(signed_in(&c).await);
    c.get("/orgs/acme/services").await.assert_status(200);
    let logins = sso_logins(&app, "login");
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0].0.as_deref(), Some("member@example.test"));
    assert_eq!(logins[0].2.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn an_invitation_is_accepted_through_sso_without_a_password() {
    let Some((idp, app, owner)) = setup().await else {
        return;
    };
    let path = invite(&owner, "invited@example.test", "admin").await;
    let token = path.trim_start_matches("/invites/").to_string();
    let c = Client::new(&app);
    c.get(&path)
        .await
        .assert_status(200)
        .assert_contains("Sign in with Test ID");
    idp.sign_in_as("invited").await;
    let (_, done) = through_provider(&app, &c, &format!("/auth/oidc/start?invite={token}")).await;
    done.assert_redirect_to("/orgs/acme");
    // The role of the invitation, at once.
    c.get(MEMBERS).await.assert_status(200);
    // The link is used up.
    Client::new(&app).get(&path).await.assert_status(410);
    assert_eq!(sso_logins(&app, "login").len(), 1);
}

#[tokio::test]
async fn an_unknown_address_is_refused_and_no_member_is_created() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    let c = Client::new(&app);
    idp.sign_in_as("unknown").await;
    let (_, done) = through_provider(&app, &c, "/auth/oidc/start").await;
    done.assert_status(403)
        .assert_contains("No Forgekeys account has the e-mail address");
    assert!(!signed_in(&c).await);
    let failed = sso_logins(&app, "login_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].2.as_deref(), Some("127.0.0.1"));
    use forgekeys::db::schema::users;
    let n: i64 = users::table.count().get_result(&mut db(&app)).unwrap();
    assert_eq!(n, 1, "only the Owner has an account");
}

#[tokio::test]
async fn an_address_the_provider_did_not_verify_is_refused() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    app.member("acme", "member@example.test", Role::Viewer)
        .await;
    let c = Client::new(&app);
    idp.sign_in_as("unverified").await;
    let (_, done) = through_provider(&app, &c, "/auth/oidc/start").await;
    done.assert_status(403)
        .assert_contains("has not verified your e-mail address");
    assert!(!signed_in(&c).await);
}

#[tokio::test]
async fn a_forged_state_or_a_callback_from_another_browser_is_refused() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    app.member("acme", "member@example.test", Role::Viewer)
        .await;
    idp.sign_in_as("member").await;
    // Stop before the callback: follow until the provider sends the browser back.
    let c = Client::new(&app);
    let mut url = absolute(&app, "/auth/oidc/start");
    let callback = loop {
        let resp = c.http.get(&url).send().await.unwrap();
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        let next = reqwest::Url::parse(&url).unwrap().join(&loc).unwrap();
        if next.path() == "/auth/oidc/callback" {
            break next;
        }
        url = next.to_string();
    };
    let mut forged = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let answer = c.http.get(forged.as_str()).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let body = answer.text().await.unwrap();
    assert!(body.contains("did not start in this browser"), "{body}");
    assert!(!signed_in(&c).await);
    // The genuine callback in another browser (no pending sign-in cookie) is refused too.
    let other = Client::new(&app);
    let answer = other.http.get(callback.as_str()).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    assert!(!signed_in(&other).await);
}

#[tokio::test]
async fn an_id_token_altered_after_signing_is_refused() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    app.member("acme", "member@example.test", Role::Viewer)
        .await;
    // A stranger signs in; the ID token is changed to name the member.
    idp.sign_in_as("unknown").await;
    idp.tamper_next_id_token("member@example.test").await;
    let c = Client::new(&app);
    let (_, done) = through_provider(&app, &c, "/auth/oidc/start").await;
    done.assert_status(400)
        .assert_contains("its signature is not valid");
    assert!(!signed_in(&c).await);
    assert!(sso_logins(&app, "login").is_empty());
}

#[tokio::test]
async fn without_the_settings_there_is_no_button_and_the_routes_say_so() {
    let app = spawn_app();
    let c = Client::new(&app);
    c.get("/login")
        .await
        .assert_status(200)
        .assert_lacks("data-sso");
    c.get("/auth/oidc/start")
        .await
        .assert_status(404)
        .assert_contains("Single sign-on is not set up here.");
    c.get("/auth/oidc/callback?code=x&state=y")
        .await
        .assert_status(404);
}

#[tokio::test]
async fn an_unreachable_provider_ends_on_a_page_not_a_500() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = forgekeys::config::OidcArgs {
        issuer: format!("http://127.0.0.1:{port}"),
        client_id: "c".into(),
        client_secret: "s".into(),
        name: String::new(),
    };
    let app = TestApp::builder()
        .with(move |o| o.oidc = Some(settings))
        .start();
    let c = Client::new(&app);
    c.get("/login")
        .await
        .assert_contains("Sign in with single sign-on");
    c.get("/auth/oidc/start")
        .await
        .assert_status(400)
        .assert_contains("could not be reached");
}

#[tokio::test]
async fn the_start_asks_for_pkce_s256_state_and_nonce_and_keeps_them_in_an_httponly_cookie() {
    let Some((_idp, app, _owner)) = setup().await else {
        return;
    };
    let c = Client::new(&app);
    let start = c.get("/auth/oidc/start").await;
    assert_eq!(start.status.as_u16(), 303);
    let to = reqwest::Url::parse(start.location().unwrap()).unwrap();
    assert!(
        to.as_str().starts_with(&format!("{}/auth?", _idp.issuer)),
        "{to}"
    );
    let q: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    assert!(q["code_challenge"].len() >= 43 && q["state"].len() >= 32 && q["nonce"].len() >= 32);
    let cookie = start.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("fk_sso=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // The verifier and nonce travel signed, not in the URL.
    assert!(!to.as_str().contains("verifier"));
}

#[tokio::test]
async fn an_existing_account_accepts_an_invitation_and_another_address_cannot() {
    let Some((idp, app, owner)) = setup().await else {
        return;
    };
    // member@example.test has an account (in another organization).
    app.member("beta", "member@example.test", Role::Viewer)
        .await;
    let for_member = invite(&owner, "member@example.test", "viewer").await;
    let for_invited = invite(&owner, "invited@example.test", "viewer").await;
    let start = |path: &str| format!("/auth/oidc/start?invite={}", &path["/invites/".len()..]);
    idp.sign_in_as("member").await;
    // The provider names member@: the invitation for invited@ is refused, and stays open.
    let c = Client::new(&app);
    let (_, done) = through_provider(&app, &c, &start(&for_invited)).await;
    done.assert_status(403)
        .assert_contains("for another e-mail address");
    assert!(!signed_in(&c).await);
    Client::new(&app).get(&for_invited).await.assert_status(200);
    // Its own invitation joins the existing account to acme.
    let (_, done) = through_provider(&app, &c, &start(&for_member)).await;
    done.assert_redirect_to("/orgs/acme");
    c.get("/orgs/acme/services").await.assert_status(200);
    c.get("/orgs/beta/services").await.assert_status(200);
}

#[tokio::test]
async fn the_discovery_document_and_keys_are_fetched_once_for_several_sign_ins() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    app.member("acme", "member@example.test", Role::Viewer)
        .await;
    idp.sign_in_as("member").await;
    for _ in 0..3 {
        let c = Client::new(&app);
        let (_, done) = through_provider(&app, &c, "/auth/oidc/start").await;
        done.assert_status(303);
        assert!(signed_in(&c).await);
    }
    // Three sign-ins: three token requests, but one discovery document and one key set.
    assert_eq!(idp.requests_to("/token").await, 3);
    assert_eq!(
        idp.requests_to("/.well-known/openid-configuration").await,
        1
    );
    assert_eq!(idp.requests_to("/jwks").await, 1);
}

#[tokio::test]
async fn a_token_signed_with_a_key_not_kept_fetches_the_keys_again() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    app.member("acme", "member@example.test", Role::Viewer)
        .await;
    idp.sign_in_as("member").await;
    let c = Client::new(&app);
    through_provider(&app, &c, "/auth/oidc/start")
        .await
        .1
        .assert_status(303);
    // The provider rotated its keys: the kept set has none of the new ones.
    let stale: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(serde_json::json!({ "keys": [] })).unwrap();
    app.state.sso.keys.put(stale, std::time::Instant::now());
    let c = Client::new(&app);
    let (_, done) = through_provider(&app, &c, "/auth/oidc/start").await;
    done.assert_status(303);
    assert!(signed_in(&c).await);
    assert_eq!(idp.requests_to("/jwks").await, 2);
}

#[tokio::test]
async fn a_session_started_through_sso_records_the_browser() {
    let Some((idp, app, _owner)) = setup().await else {
        return;
    };
    app.member("acme", "member@example.test", Role::Viewer)
        .await;
    idp.sign_in_as("member").await;
    let c = crate::account::client_with_agent(&app, crate::account::FIREFOX);
    let (_, done) = through_provider(&app, &c, "/auth/oidc/start").await;
    done.assert_status(303);
    let agents = crate::account::session_agents(&app);
    assert!(
        agents.contains(&Some(crate::account::FIREFOX.to_string())),
        "{agents:?}"
    );
}

//! Build credentials (issue 14, DESIGN.md §9): service keys on a service's page (roles, CSRF,
//! audit), `GET /api/v1/services/{id}/git-credentials` and `GET /api/v1/service-key` (every
//! status of their matrix, problem+json, no-store, rate limit, audit with the client IP, the
//! token page's "last used by a service"), expiry warnings for keys, and a real `git clone`
//! through `forgekeys git-credential` against a real `git http-backend`
//! (fakes/git_server.rs). Backend-agnostic (SQLite, or PostgreSQL with `TEST_POSTGRES_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes::git_server::{self, GitAccess, GitFlavour};
use crate::fakes::{self, FakeResponse, FakeServer};
use crate::helpers::*;
use crate::lifecycle::{Receiver, save_webhook, state_for};
use forgekeys::db::models::audit::AuditEvent;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::service::Service;
use forgekeys::db::models::token::{GitToken, TokenFilter};
use forgekeys::domain::access_key::{AccessKey, KeyKind};
use forgekeys::domain::role::Role;
use std::process::{Command, Stdio};

const TOKEN: &str = "ghp_allscopes_build";
const OTHER_TOKEN: &str = "ghp_noorgs_build";

struct Env {
    app: TestApp,
    owner: Client,
    github: FakeServer,
    token_id: String,
    /// `web`, on `acme/app-01` with [`TOKEN`].
    service: String,
    /// `other`, on `octocat/app-02` with [`OTHER_TOKEN`] (which cannot read `acme/app-01`).
    other: String,
}

fn org_id(app: &TestApp) -> String {
    Organization::find_by_slug(&mut db(app), "acme")
        .unwrap()
        .unwrap()
        .id
}

async fn add_token(app: &TestApp, c: &Client, name: &str, token: &str) -> String {
    let csrf = c.session_csrf().await;
    let p = c
        .post(
            "/orgs/acme/settings/git-tokens",
            &[
                ("csrf_token", &csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", name),
                ("token", token),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "token {name} not saved:\n{}", p.body);
    GitToken::all(&mut db(app), &org_id(app), &TokenFilter::default())
        .unwrap()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap()
        .id
}

async fn env_with(change: impl FnOnce(&mut Options)) -> Env {
    let github = fakes::github::start();
    let mut opts = Options {
        github_api_url: Some(github.url.clone()),
        outbound_allow: Some("127.0.0.0/8".into()),
        provider_timeout_ms: Some(5000),
        ..Options::default()
    };
    change(&mut opts);
    let app = spawn_app_with(opts);
    let owner = setup_owner(&app, "acme").await;
    let token_id = add_token(&app, &owner, "deploy", TOKEN).await;
    let csrf = owner.session_csrf().await;
    let p = owner
        .post(
            "/orgs/acme/services",
            &[
                ("csrf_token", &csrf),
                ("name", "web"),
                ("kind", "application"),
                ("provider", ""),
                ("access", "token"),
                ("token_id", &token_id),
                ("repository", "acme/app-01"),
                ("branch", "main"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "service not saved:\n{}", p.body);
    let other_token = add_token(&app, &owner, "user-bot", OTHER_TOKEN).await;
    // A second service straight in the database (its repository need not exist at the fake).
    let n = app.clock.naive();
    let other = Service {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org_id(&app),
        name: "other".into(),
        kind: "application".into(),
        provider: "github".into(),
        access: "token".into(),
        token_id: Some(other_token),
        repository: "octocat/app-02".into(),
        branch: "main".into(),
        created_at: n,
        updated_at: n,
        name_key: String::new(),
    };
    Service::insert(&mut db(&app), &other).unwrap();
    let service = Service::list_for_org(&mut db(&app), &org_id(&app))
        .unwrap()
        .into_iter()
        .find(|s| s.name == "web")
        .unwrap()
        .id;
    Env {
        app,
        owner,
        github,
        token_id,
        service,
        other: other.id,
    }
}

async fn env() -> Env {
    env_with(|_| {}).await
}

fn key_in(p: &Page) -> Option<String> {
    let re = regex::Regex::new(r#"value="(fks_[0-9a-f]{64})""#).unwrap();
    re.captures(&p.body).map(|c| c[1].to_string())
}

/// Make a key through the service page's form; the page and the key shown.
async fn make_key(c: &Client, service: &str, name: &str, days: &str) -> (Page, Option<String>) {
    let csrf = c.session_csrf().await;
    let p = c
        .post(
            &format!("/orgs/acme/services/{service}/keys"),
            &[
                ("csrf_token", &csrf),
                ("name", name),
                ("expires_in_days", days),
            ],
        )
        .await;
    let key = key_in(&p);
    (p, key)
}

async fn new_key(env: &Env, service: &str, name: &str) -> String {
    let (p, key) = make_key(&env.owner, service, name, "30").await;
    p.assert_status(200);
    key.unwrap_or_else(|| panic!("no key shown:\n{}", p.body))
}

/// A plain HTTP client (no cookies).
fn api() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    #[track_caller]
    fn problem(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.headers.get("content-type").unwrap(),
            "application/problem+json"
        );
        assert_eq!(self.headers.get("cache-control").unwrap(), "no-store");
        let j = self.json();
        assert_eq!(j["status"], status);
        assert!(j["type"].is_string() && j["title"].is_string() && j["detail"].is_string());
        if status == 401 {
            // The challenge of every API route (RFC 6750), like the organization routes.
            let challenge = self
                .headers
                .get("www-authenticate")
                .unwrap()
                .to_str()
                .unwrap();
            assert!(
                challenge.starts_with("Bearer realm=\"forgekeys\""),
                "{challenge}"
            );
        }
    }
}

async fn call(app: &TestApp, path: &str, auth: Option<&str>) -> Answer {
    let mut r = api().get(format!("{}{path}", app.address));
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    let resp = r.send().await.unwrap();
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

fn creds_path(service: &str, query: &str) -> String {
    format!("/api/v1/services/{service}/git-credentials{query}")
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

#[tokio::test]
async fn git_credentials_answer_only_the_services_own_key_for_its_repository() {
    let env = env().await;
    let app = &env.app;
    let key = new_key(&env, &env.service, "GitHub Actions").await;
    let other_key = new_key(&env, &env.other, "Jenkins").await;
    let path = creds_path(&env.service, "");
    let host = env.github.url.trim_start_matches("http://").to_string();

    // The right key: the token with the user name GitHub expects, not to be cached.
    let ok = call(app, &path, Some(&bearer(&key))).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(ok.headers.get("content-type").unwrap(), "application/json");
    let j = ok.json();
    assert_eq!(j["username"], "x-access-token");
    assert_eq!(j["password"], TOKEN);
    assert!(j["expires_at"].as_str().unwrap().ends_with('Z'), "{j}");
    // The remote git asks for, with or without `.git`, any case, the default port spelled out.
    for q in [
        format!("?protocol=http&host={host}"),
        format!("?protocol=http&host={host}&path=acme/app-01.git"),
        format!("?host={host}&path=acme/app-01"),
        format!("?host={}&path=Acme/App-01.git", host.to_uppercase()),
    ] {
        let a = call(app, &creds_path(&env.service, &q), Some(&bearer(&key))).await;
        assert_eq!(a.status, 200, "{q}: {}", a.body);
    }
    // Another host, port, protocol or repository: 403, and no token in the answer.
    for q in [
        "?protocol=http&host=github.com".to_string(),
        format!("?protocol=https&host={host}"),
        format!("?host={host}0"),
        format!("?host={host}&path=acme/other.git"),
        format!("?host={host}&path=acme/app-01.git/../other"),
    ] {
        let a = call(app, &creds_path(&env.service, &q), Some(&bearer(&key))).await;
        a.problem(403);
        assert!(!a.body.contains(TOKEN), "{q}");
    }
    // Another service's key, an organization key: 403.
    call(app, &path, Some(&bearer(&other_key)))
        .await
        .problem(403);
    let org_key = AccessKey::generate(KeyKind::Org);
    call(app, &path, Some(&bearer(org_key.reveal())))
        .await
        .problem(403);
    // No key, another scheme, a malformed or unknown key: 401.
    call(app, &path, None).await.problem(401);
    call(app, &path, Some("Basic eDp5")).await.problem(401);
    call(app, &path, Some("Bearer")).await.problem(401);
    call(app, &path, Some("Bearer fks_123")).await.problem(401);
    let unknown = AccessKey::generate(KeyKind::Service);
    call(app, &path, Some(&bearer(unknown.reveal())))
        .await
        .problem(401);
    // A signed-in browser session is no key: 401 on the cookie alone.
    let p = env.owner.get(&path).await;
    assert_eq!(p.status, 401, "{}", p.body);
    let challenge = p.headers.get("www-authenticate").unwrap().to_str().unwrap();
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    assert!(!p.body.contains(TOKEN));
    // The other service's own credentials: its token.
    let a = call(app, &creds_path(&env.other, ""), Some(&bearer(&other_key))).await;
    assert_eq!(a.json()["password"], OTHER_TOKEN);

    // `service-key`: the key's service and remote, nothing secret.
    let d = call(app, "/api/v1/service-key", Some(&bearer(&key))).await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.headers.get("cache-control").unwrap(), "no-store");
    let j = d.json();
    assert_eq!(j["service_id"], env.service.as_str());
    assert_eq!(
        j["repository_url"],
        format!("{}/acme/app-01.git", env.github.url)
    );
    assert_eq!(j["host"], host.as_str());
    assert_eq!(j["path"], "acme/app-01.git");
    assert!(!d.body.contains(TOKEN));
    call(app, "/api/v1/service-key", None).await.problem(401);
    call(app, "/api/v1/service-key", Some(&bearer(org_key.reveal())))
        .await
        .problem(403);

    // Every release is audited with the client IP; no value in the trail.
    let trail = AuditEvent::list_for_org(&mut db(app), &org_id(app), 500).unwrap();
    let releases: Vec<&AuditEvent> = trail
        .iter()
        .filter(|e| e.action == "credentials.release")
        .collect();
    assert_eq!(releases.len(), 6, "one per 200");
    let r = releases
        .iter()
        .find(|e| e.token_id.as_deref() == Some(env.token_id.as_str()))
        .unwrap();
    assert_eq!(r.client_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(r.token_name.as_deref(), Some("deploy"));
    assert!(r.details.contains(&env.service) && r.details.contains("\"service\":\"web\""));
    assert!(r.actor_email.as_deref().unwrap().contains("GitHub Actions"));
    for e in &trail {
        let all = format!("{e:?}");
        assert!(!all.contains(TOKEN) && !all.contains(&key), "{all}");
    }

    // The token page: last used by a service, and which services fetched it; never the value.
    let page = env
        .owner
        .get(&format!("/orgs/acme/settings/git-tokens/{}", env.token_id))
        .await;
    page.assert_status(200);
    let last = page
        .body
        .split("data-last-used-by-service>")
        .nth(1)
        .unwrap();
    assert!(
        last[..last.find("</dd>").unwrap()].contains(">web</a>"),
        "{last}"
    );
    page.assert_contains("Services that fetched it")
        .assert_contains("<td data-label=\"Fetches\">5</td>")
        .assert_lacks(TOKEN)
        .assert_lacks(&key);
    // The releases do not crowd the token's change history.
    assert!(!page.body.contains("Git credentials fetched"));
    // No other page carries the value or the key: the service page (key listed by hint),
    // the audit trail (the releases listed), the token list.
    let service_page = env
        .owner
        .get(&format!("/orgs/acme/services/{}", env.service))
        .await;
    service_page
        .assert_status(200)
        .assert_contains("GitHub Actions")
        .assert_contains(&format!("{}…", &key[..10]))
        .assert_lacks(&key)
        .assert_lacks(TOKEN);
    let last_used = service_page
        .body
        .split("data-label=\"Last used\">")
        .nth(1)
        .unwrap();
    assert!(last_used.starts_with("<time"), "{last_used}");
    for path in [
        "/orgs/acme/audit".to_string(),
        "/orgs/acme/audit?action=credentials.release".to_string(),
        "/orgs/acme/settings/git-tokens".to_string(),
        "/orgs/acme/services".to_string(),
    ] {
        let p = env.owner.get(&path).await;
        p.assert_status(200).assert_lacks(TOKEN).assert_lacks(&key);
    }
    env.owner
        .get("/orgs/acme/audit?action=credentials.release")
        .await
        .assert_contains("Git credentials fetched")
        .assert_contains("127.0.0.1");
}

#[tokio::test]
async fn revoked_and_expired_keys_and_legacy_services_get_nothing() {
    let env = env().await;
    let app = &env.app;
    let key = new_key(&env, &env.service, "short").await;
    let path = creds_path(&env.service, "");
    assert_eq!(call(app, &path, Some(&bearer(&key))).await.status, 200);
    // Expired: 30 days on.
    app.clock.advance(chrono::Duration::days(30));
    call(app, &path, Some(&bearer(&key))).await.problem(401);
    app.clock.advance(chrono::Duration::days(-30));
    assert_eq!(call(app, &path, Some(&bearer(&key))).await.status, 200);

    // Revoked, through the confirmation page.
    let page = env
        .owner
        .get(&format!("/orgs/acme/services/{}", env.service))
        .await;
    let re = regex::Regex::new(r#"href="(/orgs/acme/services/[^"]+/keys/[^"]+/revoke)""#).unwrap();
    let revoke = re.captures(&page.body).unwrap()[1].to_string();
    let confirm = env.owner.get(&revoke).await;
    confirm
        .assert_status(200)
        .assert_contains("data-confirm=\"service-key-revoke\"")
        .assert_contains("Revoke “short”");
    let csrf = confirm.csrf();
    // Without the CSRF token nothing happens.
    let refused = env.owner.post(&revoke, &[("csrf_token", "nope")]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(call(app, &path, Some(&bearer(&key))).await.status, 200);
    env.owner
        .post(&revoke, &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to(&format!("/orgs/acme/services/{}", env.service));
    call(app, &path, Some(&bearer(&key))).await.problem(401);
    call(app, "/api/v1/service-key", Some(&bearer(&key)))
        .await
        .problem(401);
    let page = env
        .owner
        .get(&format!("/orgs/acme/services/{}", env.service))
        .await;
    page.assert_contains("revoked")
        .assert_contains("data-no-keys");
    // Revoking twice says so.
    env.owner
        .post(&revoke, &[("csrf_token", &csrf)])
        .await
        .assert_status(303);

    // A service without an organization token: 409.
    let legacy = Service {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org_id(app),
        name: "legacy".into(),
        kind: "application".into(),
        provider: "github".into(),
        access: "github_app".into(),
        token_id: None,
        repository: "acme/legacy".into(),
        branch: "main".into(),
        created_at: app.clock.naive(),
        updated_at: app.clock.naive(),
        name_key: String::new(),
    };
    Service::insert(&mut db(app), &legacy).unwrap();
    let lk = new_key(&env, &legacy.id, "legacy").await;
    call(app, &creds_path(&legacy.id, ""), Some(&bearer(&lk)))
        .await
        .problem(409);

    // Audit: made and revoked, by name and hint, never the value.
    let trail = AuditEvent::list_for_org(&mut db(app), &org_id(app), 500).unwrap();
    let made = trail
        .iter()
        .find(|e| {
            e.action == "service_key.create" && e.details.contains("\"service_key\":\"short\"")
        })
        .unwrap();
    assert!(made.details.contains(&key[..10]) && made.details.contains("expires_at"));
    assert!(trail.iter().any(|e| e.action == "service_key.revoke"));
    for e in &trail {
        assert!(!format!("{e:?}").contains(&key));
    }
}

#[tokio::test]
async fn deleting_the_service_ends_its_keys() {
    let env = env().await;
    let key = new_key(&env, &env.other, "ci").await;
    let path = creds_path(&env.other, "");
    assert_eq!(call(&env.app, &path, Some(&bearer(&key))).await.status, 200);
    let csrf = env.owner.session_csrf().await;
    env.owner
        .post(
            &format!("/orgs/acme/services/{}/delete", env.other),
            &[("csrf_token", &csrf)],
        )
        .await
        .assert_status(303);
    call(&env.app, &path, Some(&bearer(&key)))
        .await
        .problem(401);
}

#[tokio::test]
async fn each_key_is_rate_limited() {
    let env = env_with(|o| o.api_rate_limit = Some(2)).await;
    let key = new_key(&env, &env.service, "ci").await;
    let other = key_for_other(&env).await;
    let path = creds_path(&env.service, "");
    for _ in 0..2 {
        assert_eq!(call(&env.app, &path, Some(&bearer(&key))).await.status, 200);
    }
    let limited = call(&env.app, &path, Some(&bearer(&key))).await;
    limited.problem(429);
    let wait: u64 = limited
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(!limited.body.contains(TOKEN));
    // Another key has its own budget.
    let a = call(&env.app, &creds_path(&env.other, ""), Some(&bearer(&other))).await;
    assert_eq!(a.status, 200);
}

async fn key_for_other(env: &Env) -> String {
    new_key(env, &env.other, "other").await
}

#[tokio::test]
async fn service_keys_follow_the_service_roles() {
    let env = env().await;
    let app = &env.app;
    let page_of = |s: &str| format!("/orgs/acme/services/{s}");
    // Owner, Admin and DevOps make keys; the form refuses bad fields with 422.
    for (email, role) in [
        ("admin@acme.test", Role::Admin),
        ("devops@acme.test", Role::Devops),
    ] {
        let c = member(app, "acme", email, role).await;
        let (p, k) = make_key(&c, &env.service, email, "").await;
        p.assert_status(200).assert_contains("data-key-created");
        assert!(k.is_some());
        p.assert_contains("git -c credential.helper=&#39;!forgekeys git-credential&#39; clone")
            .assert_contains(&format!("{}/acme/app-01.git", env.github.url))
            .assert_contains("FORGEKEYS_SERVICE_KEY=fks_");
    }
    let (p, k) = make_key(&env.owner, &env.service, "", "0").await;
    p.assert_status(422)
        .assert_contains("key-name-error")
        .assert_contains("key-days-error");
    assert!(k.is_none());
    // Viewer: sees the keys (names, hints), no form, no revoke; posting is 403.
    let viewer = member(app, "acme", "viewer@acme.test", Role::Viewer).await;
    let p = viewer.get(&page_of(&env.service)).await;
    p.assert_status(200)
        .assert_contains("admin@acme.test")
        .assert_lacks("Make service key")
        .assert_lacks("/revoke");
    let (p, k) = make_key(&viewer, &env.service, "sneaky", "").await;
    p.assert_status(403);
    assert!(k.is_none());
    // Billing sees no services at all.
    let billing = member(app, "acme", "billing@acme.test", Role::Billing).await;
    billing.get(&page_of(&env.service)).await.assert_status(403);
    let (p, _) = make_key(&billing, &env.service, "sneaky", "").await;
    p.assert_status(403);
    // Another organization: 404 for everything of this one.
    let stranger = member(app, "globex", "owner@globex.test", Role::Owner).await;
    for path in [
        format!("/orgs/acme/services/{}", env.service),
        format!("/orgs/globex/services/{}", env.service),
    ] {
        stranger.get(&path).await.assert_status(404);
    }
    let (p, _) = make_key(&stranger, &env.service, "x", "").await;
    p.assert_status(404);
    let csrf = stranger.session_csrf().await;
    let p = stranger
        .post(
            &format!("/orgs/globex/services/{}/keys", env.service),
            &[
                ("csrf_token", &csrf),
                ("name", "x"),
                ("expires_in_days", ""),
            ],
        )
        .await;
    p.assert_status(404);
    // Without a CSRF token: refused, nothing made.
    let p = env
        .owner
        .post(
            &format!("/orgs/acme/services/{}/keys", env.service),
            &[("name", "no-csrf"), ("expires_in_days", "")],
        )
        .await;
    assert_eq!(p.status, 403);
    let trail = AuditEvent::list_for_org(&mut db(app), &org_id(app), 500).unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.action == "service_key.create")
            .count(),
        2
    );
}

#[tokio::test]
async fn expiring_service_keys_are_announced_like_tokens() {
    let env = env().await;
    let app = &env.app;
    let hook = Receiver::start(&[]);
    save_webhook(&env.owner, &hook.url)
        .await
        .assert_redirect_to("/orgs/acme/settings/notifications");
    let (p, nightly) = make_key(&env.owner, &env.service, "nightly", "10").await;
    p.assert_status(200);
    let nightly = nightly.unwrap();
    make_key(&env.owner, &env.service, "forever", "")
        .await
        .0
        .assert_status(200);
    let state = state_for(app);
    let key_messages = || -> Vec<String> {
        hook.bodies()
            .into_iter()
            .filter(|b| b.contains("service key"))
            .collect()
    };
    forgekeys::app::checks::scheduler::run_once(&state)
        .await
        .unwrap();
    let sent = key_messages();
    assert_eq!(sent.len(), 1, "the 14-day warning: {sent:?}");
    assert!(
        sent[0].contains("nightly") && sent[0].contains("web"),
        "{}",
        sent[0]
    );
    assert!(sent[0].contains(&format!("/orgs/acme/services/{}", env.service)));
    assert!(sent[0].contains(&nightly[..10]) && !sent[0].contains(&nightly));
    // Once per threshold.
    forgekeys::app::checks::scheduler::run_once(&state)
        .await
        .unwrap();
    assert_eq!(key_messages().len(), 1);
    // Four days on, 6 days left: the 7-day warning.
    app.clock.advance(chrono::Duration::days(4));
    forgekeys::app::checks::scheduler::run_once(&state)
        .await
        .unwrap();
    let sent = key_messages();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[1].contains("expires in 5 days") || sent[1].contains("expires in 6 days"),
        "{}",
        sent[1]
    );
    // Expired keys are not announced again.
    app.clock.advance(chrono::Duration::days(10));
    forgekeys::app::checks::scheduler::run_once(&state)
        .await
        .unwrap();
    assert_eq!(key_messages().len(), 2);
}

/// A Git server on another host that would accept any credentials: what it receives is what
/// the helper let out.
fn any_git_server() -> FakeServer {
    FakeServer::start(|req| {
        git_server::answer(req, "", GitFlavour::Github, |_, _, _, _| GitAccess::Granted)
            .unwrap_or_else(|| FakeResponse::new(404))
    })
}

/// `git clone` with Forgekeys as the credential helper, in an empty environment.
fn clone(
    app: &TestApp,
    key: &str,
    url: &str,
    extra: &[&str],
) -> (std::process::Output, tempfile::TempDir) {
    let home = tempfile::tempdir().unwrap();
    let dest = home.path().join("checkout");
    let helper = format!("!{} git-credential", env!("CARGO_BIN_EXE_forgekeys"));
    let mut cmd = Command::new("git");
    cmd.env_clear();
    for (k, v) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name == "PATH" || name == "LD_PRELOAD" || name.starts_with("FAKETIME") {
            cmd.env(&k, &v);
        }
    }
    cmd.env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("FORGEKEYS_URL", &app.address)
        .env("FORGEKEYS_SERVICE_KEY", key)
        .arg("-c")
        .arg(format!("credential.helper={helper}"))
        .args(extra)
        .args(["clone", "-q", url])
        .arg(&dest)
        .stdin(Stdio::null());
    (cmd.output().unwrap(), home)
}

#[tokio::test]
async fn a_real_git_clone_gets_its_credentials_from_forgekeys_for_its_repository_only() {
    let env = env().await;
    let app = &env.app;
    let key = new_key(&env, &env.service, "build").await;
    let other_key = key_for_other(&env).await;
    let repo = format!("{}/acme/app-01.git", env.github.url);

    // Its own repository: the clone works, with or without credential.useHttpPath.
    for extra in [&[][..], &["-c", "credential.useHttpPath=true"][..]] {
        let (out, home) = clone(app, &key, &repo, extra);
        assert!(
            out.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dest = home.path().join("checkout");
        assert_eq!(
            std::fs::read_to_string(dest.join("README.md")).unwrap(),
            "# acme/app-01\n"
        );
        let log = Command::new("git")
            .current_dir(&dest)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", home.path())
            .args(["log", "--format=%s"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&log.stdout).trim(),
            "Initial commit"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains(TOKEN) && !err.contains(&key), "{err}");
    }
    let releases = || {
        AuditEvent::list_for_org(&mut db(app), &org_id(app), 500)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "credentials.release")
            .count()
    };
    assert_eq!(releases(), 2);

    // Another service's key: its token cannot read acme/app-01 (the clone fails), and with the
    // path compared the helper answers nothing at all.
    let (out, _home) = clone(app, &other_key, &repo, &[]);
    assert!(!out.status.success());
    let (out, _home) = clone(
        app,
        &other_key,
        &repo,
        &["-c", "credential.useHttpPath=true"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains(OTHER_TOKEN) && !err.contains(&other_key),
        "{err}"
    );
    assert_eq!(
        releases(),
        3,
        "only the clone without the path fetched anything"
    );

    // Another host that would take any credentials: the helper answers nothing, git fails, and
    // the token never reaches it.
    let stranger = any_git_server();
    let (out, _home) = clone(app, &key, &format!("{}/acme/app-01.git", stranger.url), &[]);
    assert!(!out.status.success());
    let reqs = stranger.requests();
    assert!(!reqs.is_empty(), "git asked the other host");
    assert!(!stranger.saw_token(TOKEN));
    assert!(reqs.iter().all(|r| r.header("authorization").is_none()));
    assert_eq!(releases(), 3);
    // A wrong key: git fails, the helper says why without the key.
    let (out, _home) = clone(
        app,
        AccessKey::generate(KeyKind::Service).reveal(),
        &repo,
        &[],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("forgekeys git-credential: Forgekeys refused (HTTP 401)"),
        "{err}"
    );
    assert!(!err.contains("fks_"), "{err}");
}

#[test]
fn the_helper_speaks_the_credential_protocol_and_ignores_store_and_erase() {
    let run = |action: &str, input: &str, envs: &[(&str, &str)]| {
        let mut cmd = forgekeys_command();
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd
            .args(["git-credential", action])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let input = "protocol=https\nhost=github.com\n\n";
    for action in ["store", "erase"] {
        let out = run(
            action,
            "protocol=https\nhost=github.com\nusername=u\npassword=p\n\n",
            &[],
        );
        assert!(out.status.success());
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
    // Not configured: a sentence on stderr, nothing for git.
    let out = run("get", input, &[]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FORGEKEYS_URL is not set"));
    let key = AccessKey::generate(KeyKind::Service);
    let out = run(
        "get",
        input,
        &[
            ("FORGEKEYS_URL", "http://forgekeys.example.com"),
            ("FORGEKEYS_SERVICE_KEY", key.reveal()),
        ],
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must be https://"), "{err}");
    assert!(!err.contains(key.reveal()));
    let out = run(
        "get",
        input,
        &[
            ("FORGEKEYS_URL", "https://forgekeys.example.com"),
            ("FORGEKEYS_SERVICE_KEY", "fkp_nope"),
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a service key"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("fkp_nope"));
}

#[tokio::test]
async fn a_release_behind_a_trusted_proxy_records_the_builds_address() {
    let env = env_with(|o| o.trusted_proxies = Some("127.0.0.0/8".into())).await;
    let key = new_key(&env, &env.service, "behind-proxy").await;
    let resp = api()
        .get(format!(
            "{}{}",
            env.app.address,
            creds_path(&env.service, "")
        ))
        .header("authorization", bearer(&key))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let trail = AuditEvent::list_for_org(&mut db(&env.app), &org_id(&env.app), 50).unwrap();
    let r = trail
        .iter()
        .find(|e| e.action == "credentials.release")
        .unwrap();
    assert_eq!(r.client_ip.as_deref(), Some("203.0.113.9"));
}

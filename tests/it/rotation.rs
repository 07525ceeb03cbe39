//! Issue 4, rotation: `GET/POST …/git-tokens/{id}/rotate` (a new value, tested and compared with
//! the stored token, swapped in atomically) and `POST …/{id}/rotate-at-provider` (GitLab
//! self-rotation), against the provider fakes. Backend-agnostic (SQLite or TEST_POSTGRES_URL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::models::audit::AuditEvent;
use forgekeys::db::models::lease::Lease;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::service::Service;
use forgekeys::db::models::token::{GitToken, TokenFilter};
use forgekeys::db::schema::{audit_events, git_tokens};
use forgekeys::domain::role::Role;

const BASE: &str = "/orgs/acme/settings/git-tokens";

pub(crate) struct Env {
    pub app: TestApp,
    pub owner: Client,
    pub csrf: String,
}

pub(crate) async fn env(opts: Options) -> Env {
    let app = spawn_app_with(opts);
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    Env { app, owner, csrf }
}

pub(crate) fn github_opts(fake: &fakes::FakeServer) -> Options {
    Options {
        github_api_url: Some(fake.url.clone()),
        ..Default::default()
    }
}

pub(crate) fn gitlab_opts(fake: &fakes::FakeServer) -> Options {
    Options {
        gitlab_url: Some(fake.url.clone()),
        ..Default::default()
    }
}

impl Env {
    /// Create a cloud token through the add form; it must pass and be saved.
    pub async fn create(&self, provider: &str, name: &str, token: &str) -> GitToken {
        let p = self
            .owner
            .post(
                BASE,
                &[
                    ("csrf_token", &self.csrf),
                    ("provider", provider),
                    ("hosting", "cloud"),
                    ("name", name),
                    ("token", token),
                    ("url", ""),
                    ("workspace", ""),
                    ("description", ""),
                    ("save_anyway", "1"),
                ],
            )
            .await;
        p.assert_redirect_to(BASE);
        self.named(name).expect("token stored")
    }

    pub fn named(&self, name: &str) -> Option<GitToken> {
        let mut conn = db(&self.app);
        let org = Organization::find_by_slug(&mut conn, "acme")
            .unwrap()
            .unwrap();
        GitToken::all(&mut conn, &org.id, &TokenFilter::default())
            .unwrap()
            .into_iter()
            .find(|t| t.name == name)
    }

    pub fn reload(&self, id: &str) -> GitToken {
        GitToken::find(&mut db(&self.app), id).unwrap().unwrap()
    }

    pub async fn rotate(&self, id: &str, form: &[(&str, &str)]) -> Page {
        let mut f = vec![("csrf_token", self.csrf.as_str())];
        f.extend_from_slice(form);
        self.owner.post(&format!("{BASE}/{id}/rotate"), &f).await
    }

    pub async fn rotate_at_provider(&self, id: &str, form: &[(&str, &str)]) -> Page {
        let mut f = vec![("csrf_token", self.csrf.as_str())];
        f.extend_from_slice(form);
        self.owner
            .post(&format!("{BASE}/{id}/rotate-at-provider"), &f)
            .await
    }

    pub fn audit(&self) -> Vec<AuditEvent> {
        audit_events::table
            .select(AuditEvent::as_select())
            .load(&mut db(&self.app))
            .unwrap()
    }

    /// Give the token a service (straight in the database).
    pub fn add_service(&self, token: &GitToken, name: &str, repository: &str) {
        let now = chrono::Utc::now().naive_utc();
        Service::insert(
            &mut db(&self.app),
            &Service {
                id: uuid::Uuid::new_v4().to_string(),
                org_id: token.org_id.clone(),
                name: name.into(),
                kind: "application".into(),
                provider: token.provider.clone(),
                access: "token".into(),
                token_id: Some(token.id.clone()),
                repository: repository.into(),
                branch: "main".into(),
                created_at: now,
                updated_at: now,
                name_key: String::new(),
            },
        )
        .unwrap();
    }
}

/// Nothing about the stored token changed.
#[track_caller]
fn unchanged(before: &GitToken, after: &GitToken) {
    assert_eq!(before.secret, after.secret, "ciphertext changed");
    assert_eq!(before.hint, after.hint);
    assert_eq!(before.status, after.status);
    assert_eq!(before.account, after.account);
    assert_eq!(before.last_test, after.last_test);
    assert_eq!(after.rotated_at, None);
}

const GITLAB_ROTATE: &str = "/api/v4/personal_access_tokens/self/rotate";

/// The calls GitLab's rotate endpoint got, with the token each one sent.
fn rotate_calls(gl: &fakes::FakeServer) -> Vec<Option<String>> {
    gl.requests()
        .into_iter()
        .filter(|r| r.route() == GITLAB_ROTATE)
        .map(|r| r.token().map(str::to_owned))
        .collect()
}

/// One rotation at the provider, started when every other one waiting on `barrier` is too.
async fn rotate_at_provider_together(barrier: &tokio::sync::Barrier, e: &Env, id: &str) -> Page {
    barrier.wait().await;
    e.rotate_at_provider(id, &[]).await
}

fn tokens_sent(fake: &fakes::FakeServer) -> Vec<String> {
    fake.requests()
        .iter()
        .filter_map(|r| r.token().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn github_rotation_through_the_form_swaps_the_value_and_reminds_to_revoke() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let old_value = "ghp_allscopes_OLD1";
    let new_value = "ghp_allscopes_NEW2";
    let t = e.create("github", "deploy", old_value).await;
    assert_eq!(t.status, "valid");

    // The detail page offers Rotate to managers; the rotation page has the form.
    let detail = e.owner.get(&format!("{BASE}/{}", t.id)).await;
    detail.assert_status(200);
    detail.assert_contains(&format!("{BASE}/{}/rotate", t.id));
    let form = e.owner.get(&format!("{BASE}/{}/rotate", t.id)).await;
    form.assert_status(200);
    form.assert_contains(r#"name="token""#);
    form.assert_lacks("rotate-at-provider"); // GitLab only

    let p = e.rotate(&t.id, &[("token", new_value)]).await;
    p.assert_redirect_to(&format!("{BASE}/{}/rotate?done=manual", t.id));
    let after = e.reload(&t.id);
    assert_ne!(after.secret, t.secret);
    assert!(after.hint.ends_with("NEW2"), "{}", after.hint);
    assert_eq!(after.status, "valid");
    assert_eq!(after.account.as_deref(), Some("octocat"));
    assert!(after.rotated_at.is_some());

    let done = e
        .owner
        .get(&format!("{BASE}/{}/rotate?done=manual", t.id))
        .await;
    done.assert_status(200);
    done.assert_contains(r#"data-rotated="manual""#);
    done.assert_contains(r#"href="https://github.com/settings/tokens""#);
    done.assert_contains("revoke the old token");
    // The reminder names the replaced value by its hint (the one to find at the provider).
    assert_eq!(after.previous_hint.as_deref(), Some(t.hint.as_str()));
    done.assert_contains(&format!("revoke the old token <code>{}</code>", t.hint));
    done.assert_lacks(new_value);
    done.assert_lacks(old_value);

    // Re-testing now sends only the new value.
    let before = gh.requests().len();
    let r = e
        .owner
        .post(
            &format!("{BASE}/{}/test", t.id),
            &[("csrf_token", &e.csrf), ("return_to", "detail")],
        )
        .await;
    r.assert_redirect_to(&format!("{BASE}/{}", t.id));
    let later: Vec<String> = tokens_sent(&gh).split_off(before);
    assert!(!later.is_empty());
    assert!(later.iter().all(|v| v == new_value), "{later:?}");
    assert!(gh.saw_token(new_value));

    // Audited by field name only, and shown in the token's history.
    let rot: Vec<AuditEvent> = e
        .audit()
        .into_iter()
        .filter(|a| a.action == "token.rotate")
        .collect();
    assert_eq!(rot.len(), 1);
    assert_eq!(rot[0].token_id.as_deref(), Some(t.id.as_str()));
    assert_eq!(rot[0].actor_email.as_deref(), Some("owner@acme.test"));
    let details: serde_json::Value = serde_json::from_str(&rot[0].details).unwrap();
    assert_eq!(details["fields"], serde_json::json!(["token"]));
    assert_eq!(details["method"], "manual");
    for a in e.audit() {
        let all = format!("{a:?}");
        assert!(
            !all.contains(old_value) && !all.contains(new_value),
            "{all}"
        );
    }
    let detail = e.owner.get(&format!("{BASE}/{}", t.id)).await;
    detail.assert_contains("Rotated");
    detail.assert_contains("new value entered by hand");
}

#[tokio::test]
async fn refusals_change_nothing_and_say_why() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let t = e.create("github", "deploy", "ghp_allscopes_A1").await;

    // Fewer permissions: `repo` only.
    let p = e.rotate(&t.id, &[("token", "ghp_repoonly_B2")]).await;
    p.assert_status(422);
    p.assert_contains("The token was not rotated");
    p.assert_contains("admin:repo_hook");
    p.assert_contains(r#"data-status="missing_permissions""#);
    p.assert_lacks("ghp_repoonly_B2");
    // One fact, one sentence: the lacking permission is named once in the refusal list (it was
    // also listed as a "fewer permissions" scope).
    let refusal = between(&p.body, r#"id="rotate-errors""#, "</div>");
    assert_eq!(refusal.matches("admin:repo_hook").count(), 1, "{refusal}");
    unchanged(&t, &e.reload(&t.id));

    // A token the provider rejects.
    let p = e.rotate(&t.id, &[("token", "ghp_bad_C3")]).await;
    p.assert_status(422);
    p.assert_contains("did not pass its test");
    // The provider's reason stands once, in the test result, not again in the refusal list.
    let refusal = between(&p.body, r#"id="rotate-errors""#, "</div>");
    assert!(refusal.contains("test result below"), "{refusal}");
    let reason = "it is wrong, expired or revoked";
    assert!(!refusal.contains(reason), "{refusal}");
    assert_eq!(p.body.matches(reason).count(), 1, "{}", p.body);
    unchanged(&t, &e.reload(&t.id));

    // The value that is already stored.
    let p = e.rotate(&t.id, &[("token", "ghp_allscopes_A1")]).await;
    p.assert_status(422);
    p.assert_contains("already stored");
    unchanged(&t, &e.reload(&t.id));

    // Empty and malformed values: field messages, no provider call.
    let sent = gh.requests().len();
    let p = e.rotate(&t.id, &[("token", "  ")]).await;
    p.assert_status(422);
    p.assert_contains("Paste the token value.");
    let p = e.rotate(&t.id, &[("token", "ghp_tab\tinside")]).await;
    p.assert_status(422);
    p.assert_contains("printable ASCII");
    assert_eq!(gh.requests().len(), sent, "nothing sent for bad input");
    unchanged(&t, &e.reload(&t.id));

    // No token field at all, and a CSRF-less post.
    let p = e.rotate(&t.id, &[]).await;
    p.assert_status(422);
    let p = e
        .owner
        .post(
            &format!("{BASE}/{}/rotate", t.id),
            &[("token", "ghp_allscopes_X")],
        )
        .await;
    p.assert_status(403);
    unchanged(&t, &e.reload(&t.id));
    assert!(e.audit().iter().all(|a| a.action != "token.rotate"));

    // Unknown token id: 404.
    e.rotate("nope", &[("token", "ghp_allscopes_Z")])
        .await
        .assert_status(404);
}

#[tokio::test]
async fn fewer_scopes_after_expansion_are_refused_even_when_both_are_valid() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    // admin:org implies write:org and read:org; the new token has only read:org.
    let t = e.create("github", "org admin", "ghp_adminorg_1").await;
    assert_eq!(t.status, "valid");
    let p = e.rotate(&t.id, &[("token", "ghp_allscopes_2")]).await;
    p.assert_status(422);
    p.assert_contains("fewer permissions");
    p.assert_contains("admin:org");
    unchanged(&t, &e.reload(&t.id));

    // The other way round gains scopes: accepted.
    let t2 = e.create("github", "plain", "ghp_allscopes_3").await;
    let p = e.rotate(&t2.id, &[("token", "ghp_adminorg_4")]).await;
    p.assert_redirect_to(&format!("{BASE}/{}/rotate?done=manual", t2.id));
}

#[tokio::test]
async fn another_account_is_refused_unless_confirmed() {
    let gl = fakes::gitlab::start();
    let e = env(gitlab_opts(&gl)).await;
    let t = e.create("gitlab", "gl", "glpat-owner-first").await;
    assert_eq!(t.account.as_deref(), Some("alice"));

    let p = e
        .rotate(&t.id, &[("token", "glpat-maintainer-second")])
        .await;
    p.assert_status(422);
    p.assert_contains("belongs to project_17_bot_3f1a2b");
    p.assert_contains(r#"name="confirm_account_change""#);
    p.assert_lacks("glpat-maintainer-second");
    unchanged(&t, &e.reload(&t.id));

    let p = e
        .rotate(
            &t.id,
            &[
                ("token", "glpat-maintainer-second"),
                ("confirm_account_change", "1"),
            ],
        )
        .await;
    p.assert_redirect_to(&format!("{BASE}/{}/rotate?done=manual", t.id));
    let after = e.reload(&t.id);
    assert_eq!(after.account.as_deref(), Some("project_17_bot_3f1a2b"));
    let rot = e
        .audit()
        .into_iter()
        .find(|a| a.action == "token.rotate")
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&rot.details).unwrap();
    assert_eq!(details["account_changed"], true);

    // The reminder links to GitLab's token page on the configured GitLab.
    let done = e
        .owner
        .get(&format!("{BASE}/{}/rotate?done=manual", t.id))
        .await;
    done.assert_contains(&format!(
        r#"href="{}/-/user_settings/personal_access_tokens""#,
        gl.url
    ));
}

#[tokio::test]
async fn repository_coverage_is_checked_for_every_service() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let t = e.create("github", "fg", "github_pat_good_one").await;
    e.add_service(&t, "web", "acme/web");

    // The new token reads acme/web: accepted.
    let p = e.rotate(&t.id, &[("token", "github_pat_good_two")]).await;
    p.assert_redirect_to(&format!("{BASE}/{}/rotate?done=manual", t.id));
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.route() == "/repos/acme/web" && r.token() == Some("github_pat_good_two"))
    );
    let done = e
        .owner
        .get(&format!("{BASE}/{}/rotate?done=manual", t.id))
        .await;
    done.assert_contains(r#"href="https://github.com/settings/personal-access-tokens""#);

    // A service on a repository the new token cannot read: refused, named.
    let t2 = e.create("github", "fg2", "github_pat_good_three").await;
    e.add_service(&t2, "secret", "acme/hidden-repo");
    let p = e.rotate(&t2.id, &[("token", "github_pat_good_four")]).await;
    p.assert_status(422);
    p.assert_contains("cannot read acme/hidden-repo");
    p.assert_contains("“secret”");
    unchanged(&t2, &e.reload(&t2.id));
}

#[tokio::test]
async fn gitlab_self_rotation_stores_and_retests_a_value_nobody_sees() {
    let gl = fakes::gitlab::start();
    let e = env(gitlab_opts(&gl)).await;
    let old_value = "glpat-owner-selfrot";
    let t = e.create("gitlab", "gl", old_value).await;
    let page = e.owner.get(&format!("{BASE}/{}/rotate", t.id)).await;
    page.assert_status(200);
    page.assert_contains("rotate-at-provider");

    let p = e.rotate_at_provider(&t.id, &[("expires_on", "")]).await;
    p.assert_redirect_to(&format!("{BASE}/{}/rotate?done=provider", t.id));

    // GitLab got exactly one rotate call, with the old token.
    let rotations: Vec<_> = gl
        .requests()
        .into_iter()
        .filter(|r| r.route() == "/api/v4/personal_access_tokens/self/rotate")
        .collect();
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].method, "POST");
    assert_eq!(rotations[0].token(), Some(old_value));
    // The new value was tested at once.
    let new_value = tokens_sent(&gl)
        .into_iter()
        .find(|v| v.starts_with("glpat-owner-rotated"))
        .expect("the new token was tested");

    let after = e.reload(&t.id);
    assert_ne!(after.secret, t.secret);
    assert!(after.hint.ends_with(&new_value[new_value.len() - 4..]));
    assert_eq!(after.status, "valid");
    assert_eq!(after.account.as_deref(), Some("alice"));
    assert!(after.rotated_at.is_some());

    let done = e
        .owner
        .get(&format!("{BASE}/{}/rotate?done=provider", t.id))
        .await;
    done.assert_status(200);
    done.assert_contains(r#"data-rotated="provider""#);
    done.assert_contains("GitLab revoked the old token");
    done.assert_lacks(&new_value);
    let detail = e.owner.get(&format!("{BASE}/{}", t.id)).await;
    detail.assert_lacks(&new_value);
    detail.assert_contains("rotated at the provider");

    // Re-test uses the new value only.
    let before = gl.requests().len();
    e.owner
        .post(
            &format!("{BASE}/{}/test", t.id),
            &[("csrf_token", &e.csrf), ("return_to", "detail")],
        )
        .await
        .assert_status(303);
    let later = tokens_sent(&gl).split_off(before);
    assert!(
        !later.is_empty() && later.iter().all(|v| *v == new_value),
        "{later:?}"
    );

    let rot = e
        .audit()
        .into_iter()
        .find(|a| a.action == "token.rotate")
        .unwrap();
    let details: serde_json::Value = serde_json::from_str(&rot.details).unwrap();
    assert_eq!(details["method"], "provider");
    for a in e.audit() {
        let all = format!("{a:?}");
        assert!(
            !all.contains(old_value) && !all.contains(&new_value),
            "{all}"
        );
    }
}

#[tokio::test]
async fn gitlab_self_rotation_refusals() {
    let gl = fakes::gitlab::start();
    let gh = fakes::github::start();
    let e = env(Options {
        gitlab_url: Some(gl.url.clone()),
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;

    // Not a GitLab token: a 4xx with words, nothing sent.
    let g = e.create("github", "gh", "ghp_allscopes_x").await;
    let sent = gh.requests().len();
    let p = e.rotate_at_provider(&g.id, &[]).await;
    p.assert_status(400);
    p.assert_contains("GitLab tokens only");
    assert_eq!(gh.requests().len(), sent);
    unchanged(&g, &e.reload(&g.id));

    // 403 insufficient_scope (no `api`): explained, nothing changed.
    let t = e.create("gitlab", "noapi", "glpat-noapi-1").await;
    assert_eq!(t.status, "missing_permissions");
    let p = e.rotate_at_provider(&t.id, &[]).await;
    p.assert_status(422);
    p.assert_contains("HTTP 403");
    p.assert_contains("self_rotate");
    unchanged(&t, &e.reload(&t.id));

    // A bad expiry date: a field message, no call.
    let ok = e.create("gitlab", "owner", "glpat-owner-2").await;
    let calls = gl.requests().len();
    let p = e
        .rotate_at_provider(&ok.id, &[("expires_on", "31/01/2030")])
        .await;
    p.assert_status(422);
    p.assert_contains("YYYY-MM-DD");
    // Today itself is not after today; nor is yesterday.
    for days_back in [0, 1] {
        let day = (chrono::Utc::now() - chrono::Duration::days(days_back)).format("%Y-%m-%d");
        let p = e
            .rotate_at_provider(&ok.id, &[("expires_on", &day.to_string())])
            .await;
        p.assert_status(422);
        p.assert_contains("after today");
    }
    assert_eq!(gl.requests().len(), calls);

    // A stored token whose last test says invalid is not sent to the rotate endpoint.
    diesel::update(git_tokens::table.find(&ok.id))
        .set(git_tokens::status.eq("invalid"))
        .execute(&mut db(&e.app))
        .unwrap();
    let p = e.rotate_at_provider(&ok.id, &[]).await;
    p.assert_status(409);
    p.assert_contains("revokes its whole token family");
    assert!(gl.requests().iter().all(|r| r.route()
        != "/api/v4/personal_access_tokens/self/rotate"
        || r.token() != Some("glpat-owner-2")));
    assert!(e.reload(&ok.id).rotated_at.is_none());
    assert!(e.audit().iter().all(|a| a.action != "token.rotate"));
}

#[tokio::test]
async fn role_rules_on_the_rotation_routes() {
    let gl = fakes::gitlab::start();
    let e = env(gitlab_opts(&gl)).await;
    let t = e.create("gitlab", "gl", "glpat-owner-roles").await;
    let rotate = format!("{BASE}/{}/rotate", t.id);
    let at_provider = format!("{BASE}/{}/rotate-at-provider", t.id);

    for role in [Role::Viewer, Role::Billing] {
        let c = member(
            &e.app,
            "acme",
            &format!("{}@acme.test", role.as_str()),
            role,
        )
        .await;
        let csrf = c.session_csrf().await;
        c.get(&rotate).await.assert_status(403);
        c.post(
            &rotate,
            &[("csrf_token", &csrf), ("token", "glpat-owner-new")],
        )
        .await
        .assert_status(403);
        c.post(&at_provider, &[("csrf_token", &csrf)])
            .await
            .assert_status(403);
    }
    // Viewers see the detail page without the Rotate button.
    let viewer = member(&e.app, "acme", "viewer2@acme.test", Role::Viewer).await;
    viewer
        .get(&format!("{BASE}/{}", t.id))
        .await
        .assert_status(200)
        .assert_lacks(&rotate);

    // Someone from another organization: 404 everywhere.
    let outsider = member(&e.app, "other", "out@other.test", Role::Owner).await;
    let csrf = outsider.session_csrf().await;
    outsider.get(&rotate).await.assert_status(404);
    outsider
        .post(
            &rotate,
            &[("csrf_token", &csrf), ("token", "glpat-owner-new")],
        )
        .await
        .assert_status(404);
    outsider
        .post(&at_provider, &[("csrf_token", &csrf)])
        .await
        .assert_status(404);
    // …also with the token id under their own organization.
    outsider
        .get(&format!("/orgs/other/settings/git-tokens/{}/rotate", t.id))
        .await
        .assert_status(404);

    // DevOps may rotate.
    let devops = member(&e.app, "acme", "devops@acme.test", Role::Devops).await;
    devops.get(&rotate).await.assert_status(200);

    unchanged(&t, &e.reload(&t.id));
    assert!(
        gl.requests()
            .iter()
            .all(|r| r.route() != "/api/v4/personal_access_tokens/self/rotate")
    );
}

#[tokio::test]
async fn another_orgs_token_via_own_slug_is_404_on_rotation_routes() {
    let gl = fakes::gitlab::start();
    let e = env(gitlab_opts(&gl)).await;
    let t = e.create("gitlab", "gl", "glpat-owner-elsewhere").await;
    let spare = e.create("gitlab", "gl2", "glpat-owner-spare").await;
    e.add_service(&t, "api", "test/app");
    let requests_before = gl.requests().len();
    let acme_audit = |e: &Env| {
        e.audit()
            .into_iter()
            .filter(|a| a.org_id.as_deref() == Some(t.org_id.as_str()))
            .count()
    };
    let audit_before = acme_audit(&e);

    let outsider = member(&e.app, "elsewhere", "boss@elsewhere.test", Role::Owner).await;
    let csrf = outsider.session_csrf().await;
    let mine = format!("/orgs/elsewhere/settings/git-tokens/{}", t.id);
    outsider
        .get(&format!("{mine}/rotate"))
        .await
        .assert_status(404)
        .assert_lacks("glpat-");
    outsider
        .post(
            &format!("{mine}/rotate"),
            &[("csrf_token", &csrf), ("token", "glpat-owner-new")],
        )
        .await
        .assert_status(404);
    outsider
        .post(
            &format!("{mine}/rotate-at-provider"),
            &[("csrf_token", &csrf)],
        )
        .await
        .assert_status(404);
    let services_before: Vec<Option<String>> = Service::using_token(&mut db(&e.app), &t.id)
        .unwrap()
        .into_iter()
        .map(|s| s.token_id)
        .collect();
    outsider
        .post(
            &format!("{mine}/move"),
            &[("csrf_token", &csrf), ("target_token_id", &spare.id)],
        )
        .await
        .assert_status(404);

    unchanged(&t, &e.reload(&t.id));
    assert_eq!(services_before.len(), 1);
    assert_eq!(
        Service::using_token(&mut db(&e.app), &t.id).unwrap().len(),
        1,
        "nothing moved"
    );
    assert_eq!(
        gl.requests().len(),
        requests_before,
        "the provider was not contacted"
    );
    assert_eq!(acme_audit(&e), audit_before, "nothing audited in acme");
}

#[tokio::test]
async fn two_rotations_at_the_provider_at_once_call_gitlab_once() {
    let gl = fakes::gitlab::start();
    let e = env(Options {
        gitlab_url: Some(gl.url.clone()),
        // The winning rotation waits at the fake GitLab while the other one is answered.
        provider_timeout_ms: Some(30_000),
        ..Default::default()
    })
    .await;
    let old_value = "glpat-owner-twice";
    let t = e.create("gitlab", "gl", old_value).await;
    let done = format!("{BASE}/{}/rotate?done=provider", t.id);

    // GitLab holds its answer to the rotate call until released: the request that took the
    // token's lease stays in the middle of its rotation while the other one runs.
    let gate = gl.hold(GITLAB_ROTATE);
    let barrier = tokio::sync::Barrier::new(2);
    let a = Box::pin(rotate_at_provider_together(&barrier, &e, &t.id));
    let b = Box::pin(rotate_at_provider_together(&barrier, &e, &t.id));
    // The one answered first cannot be the one waiting at GitLab.
    let (refused, rotating) = match futures::future::select(a, b).await {
        futures::future::Either::Left((p, other)) => (p, other),
        futures::future::Either::Right((p, other)) => (p, other),
    };
    refused.assert_status(409);
    refused.assert_contains("A rotation of this token is already running");
    let ((), rotated) = tokio::join!(
        async {
            gate.arrived().await;
            gate.release();
        },
        rotating
    );
    rotated.assert_redirect_to(&done);

    assert_eq!(rotate_calls(&gl), vec![Some(old_value.to_owned())]);
    let after = e.reload(&t.id);
    assert_ne!(after.secret, t.secret);
    assert_eq!(after.status, "valid");
    let rotations = e
        .audit()
        .into_iter()
        .filter(|a| a.action == "token.rotate")
        .count();
    assert_eq!(rotations, 1);

    // The lease was released: the next rotation runs, with the value GitLab issued.
    e.rotate_at_provider(&t.id, &[])
        .await
        .assert_redirect_to(&done);
    let calls = rotate_calls(&gl);
    assert_eq!(calls.len(), 2);
    assert!(
        calls[1]
            .as_deref()
            .is_some_and(|v| v.starts_with("glpat-owner-rotated")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn a_rotation_held_by_another_server_process_is_not_started_again() {
    let gl = fakes::gitlab::start();
    let e = env(gitlab_opts(&gl)).await;
    let t = e
        .create("gitlab", "gl", "glpat-owner-elsewhere-running")
        .await;
    let lease = format!("rotate:{}", t.id);

    // Another process on the same database is rotating the token (it holds the lease).
    let taken = Lease::try_acquire_named(
        &mut db(&e.app),
        &lease,
        "another-process",
        e.app.clock.naive(),
        chrono::Duration::minutes(2),
    )
    .unwrap();
    assert!(taken);
    let p = e.rotate_at_provider(&t.id, &[]).await;
    p.assert_status(409);
    p.assert_contains("already running");
    assert!(rotate_calls(&gl).is_empty(), "GitLab was not called");
    unchanged(&t, &e.reload(&t.id));

    // That process died: once its lease has expired, a rotation runs and gives the lease back.
    e.app.clock.advance(chrono::Duration::minutes(3));
    e.rotate_at_provider(&t.id, &[])
        .await
        .assert_redirect_to(&format!("{BASE}/{}/rotate?done=provider", t.id));
    assert_eq!(rotate_calls(&gl).len(), 1);
    let row = Lease::find(&mut db(&e.app), &lease).unwrap().unwrap();
    assert_eq!(row.holder, None);
}

#[tokio::test]
async fn a_value_changed_while_the_new_one_is_tested_is_not_overwritten() {
    let gh = fakes::github::start();
    let e = env(Options {
        github_api_url: Some(gh.url.clone()),
        provider_timeout_ms: Some(30_000),
        ..Default::default()
    })
    .await;
    let t = e.create("github", "deploy", "ghp_allscopes_first").await;

    // While the new value is at the provider for its test, someone else changes the stored one.
    let gate = gh.hold("/user");
    let elsewhere = b"changed meanwhile".to_vec();
    let (p, ()) = tokio::join!(
        e.rotate(&t.id, &[("token", "ghp_allscopes_second")]),
        async {
            gate.arrived().await;
            diesel::update(git_tokens::table.find(&t.id))
                .set(git_tokens::secret.eq(&elsewhere))
                .execute(&mut db(&e.app))
                .unwrap();
            gate.release();
        }
    );
    p.assert_status(409);
    p.assert_contains("changed by someone else");
    let after = e.reload(&t.id);
    assert_eq!(after.secret, elsewhere, "the other change is kept");
    assert_eq!(after.rotated_at, None);
    assert!(e.audit().iter().all(|a| a.action != "token.rotate"));
}

/// The text of `body` from `start` to the next `end` after it.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {body}"));
    let rest = &body[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

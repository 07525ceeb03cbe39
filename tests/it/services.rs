//! Issue 4: services (pickers fetched with a token, paged), usage, moving services between
//! tokens, repository coverage of a re-test, the GitHub App migration, hygiene badges, audit
//! entries and the role rules on every new route. Backend-agnostic (SQLite or PostgreSQL).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes::{self, FakeServer};
use crate::helpers::*;
use forgekeys::db::models::audit::AuditEvent;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::service::Service;
use forgekeys::db::models::token::{GitToken, TokenFilter};
use forgekeys::domain::role::Role;

const TOKENS: &str = "/orgs/acme/settings/git-tokens";
const SERVICES: &str = "/orgs/acme/services";

struct Env {
    app: TestApp,
    owner: Client,
    csrf: String,
    github: FakeServer,
    ghes: FakeServer,
    gitlab: FakeServer,
    bitbucket: FakeServer,
}

async fn env() -> Env {
    let github = fakes::github::start();
    let ghes = fakes::github::start_ghes();
    let gitlab = fakes::gitlab::start();
    let bitbucket = fakes::bitbucket::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(github.url.clone()),
        gitlab_url: Some(gitlab.url.clone()),
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&bitbucket)),
        outbound_allow: Some("127.0.0.0/8".into()),
        provider_timeout_ms: Some(5000),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    Env {
        app,
        owner,
        csrf,
        github,
        ghes,
        gitlab,
        bitbucket,
    }
}

fn org_id(app: &TestApp, slug: &str) -> String {
    Organization::find_by_slug(&mut db(app), slug)
        .unwrap()
        .unwrap()
        .id
}

fn services_of(app: &TestApp) -> Vec<Service> {
    Service::list_for_org(&mut db(app), &org_id(app, "acme")).unwrap()
}

fn service_named(app: &TestApp, name: &str) -> Service {
    services_of(app)
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

fn audit_of(app: &TestApp) -> Vec<AuditEvent> {
    AuditEvent::list_for_org(&mut db(app), &org_id(app, "acme"), 500).unwrap()
}

/// With `FORGEKEYS_DUMP_HTML=dir`, save a page for the HTML checker (vnu).
fn dump(name: &str, p: &Page) {
    if let Ok(dir) = std::env::var("FORGEKEYS_DUMP_HTML") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/{name}.html"), &p.body).unwrap();
    }
}

/// Percent-encode a query value.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Env {
    /// Add a token through the real form (tested against the fakes); returns its id.
    async fn add_token(
        &self,
        c: &Client,
        slug: &str,
        provider: &str,
        token: &str,
        name: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let csrf = c.session_csrf().await;
        let mut form: Vec<(&str, &str)> = vec![
            ("csrf_token", &csrf),
            ("provider", provider),
            ("hosting", "cloud"),
            ("name", name),
            ("token", token),
            ("description", ""),
        ];
        form.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        form.extend_from_slice(extra);
        let p = c
            .post(&format!("/orgs/{slug}/settings/git-tokens"), &form)
            .await;
        assert_eq!(p.status, 303, "token {name} not saved:\n{}", p.body);
        let org = org_id(&self.app, slug);
        GitToken::all(&mut db(&self.app), &org, &TokenFilter::default())
            .unwrap()
            .into_iter()
            .find(|t| t.name == name)
            .unwrap()
            .id
    }

    async fn token(&self, provider: &str, token: &str, name: &str) -> String {
        let extra: Vec<(&str, &str)> = match provider {
            "bitbucket" => vec![("workspace", "acme")],
            _ => vec![],
        };
        self.add_token(&self.owner, "acme", provider, token, name, &extra)
            .await
    }

    async fn create_service(
        &self,
        name: &str,
        token_id: &str,
        repository: &str,
        branch: &str,
    ) -> Page {
        self.owner
            .post(
                SERVICES,
                &[
                    ("csrf_token", &self.csrf),
                    ("name", name),
                    ("kind", "application"),
                    ("provider", ""),
                    ("access", "token"),
                    ("token_id", token_id),
                    ("repository", repository),
                    ("branch", branch),
                ],
            )
            .await
    }

    /// A service straight in the database (for states the UI only reaches in several steps).
    fn seed_service(
        &self,
        name: &str,
        provider: &str,
        access: &str,
        token_id: Option<&str>,
        repository: &str,
    ) -> String {
        let n = chrono::Utc::now().naive_utc();
        let s = Service {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: org_id(&self.app, "acme"),
            name: name.into(),
            kind: "application".into(),
            provider: provider.into(),
            access: access.into(),
            token_id: token_id.map(str::to_string),
            repository: repository.into(),
            branch: "main".into(),
            created_at: n,
            updated_at: n,
            name_key: String::new(),
        };
        Service::insert(&mut db(&self.app), &s).unwrap();
        s.id
    }
}

fn options(body: &str, select_id: &str) -> Vec<String> {
    let start = body
        .find(&format!("<select id=\"{select_id}\""))
        .unwrap_or_else(|| panic!("no select {select_id} in:\n{body}"));
    let end = start + body[start..].find("</select>").unwrap();
    let re = regex::Regex::new(r#"<option value="([^"]+)""#).unwrap();
    re.captures_iter(&body[start..end])
        .map(|c| c[1].to_string())
        .collect()
}

/// The picker flow for one provider: HTMX fragments and the no-JS steps, then create.
async fn pickers(
    env: &Env,
    fake: &FakeServer,
    token_id: &str,
    secret: &str,
    repo_prefix: &str,
    name: &str,
) {
    let o = &env.owner;
    // Step 1: the form lists the token.
    let p = o
        .get(&format!("{SERVICES}/new?access=token&token_id="))
        .await;
    p.assert_status(200);
    // HTMX: repositories of the token — 25 over 3 provider pages.
    let frag = o
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={token_id}&q=&page="),
            "repository-choices",
        )
        .await;
    frag.assert_status(200);
    let repos = options(&frag.body, "repository");
    assert_eq!(repos.len(), 25, "{}", frag.body);
    assert!(repos.contains(&format!("{repo_prefix}app-01")));
    assert!(repos.contains(&format!("{repo_prefix}app-25")));
    assert!(frag.body.contains("hx-swap-oob"), "branch choices reset");
    assert!(!frag.body.contains("<html"), "a fragment, not a page");
    let pages: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .filter(|p| p.contains("page=2") || p.contains("page=3"))
        .collect();
    assert!(pages.len() >= 2, "paging followed: {:?}", fake.requests());
    // HTMX: branches — 12 over 2 pages, default preselected.
    let repo = format!("{repo_prefix}app-12");
    let frag = o
        .get_htmx(
            &format!(
                "{SERVICES}/new/branches?token_id={token_id}&repository={}",
                enc(&repo)
            ),
            "branch-choices",
        )
        .await;
    frag.assert_status(200);
    let branches = options(&frag.body, "branch");
    assert_eq!(branches.len(), 12, "{}", frag.body);
    assert!(branches.contains(&"release-2".to_string()));
    frag.assert_contains(r#"<option value="main" selected>"#);
    // No JS: each step a GET rendering the next one with the earlier choices kept.
    let step = o
        .get(&format!("{SERVICES}/new?name={name}&kind=cron&access=token&token_id={token_id}&repository={}&branch=", enc(&repo)))
        .await;
    step.assert_status(200);
    dump(&format!("{name}-step"), &step);
    assert_eq!(options(&step.body, "repository").len(), 25);
    assert_eq!(options(&step.body, "branch").len(), 12);
    step.assert_contains(&format!(r#"<option value="{repo}" selected>"#));
    step.assert_contains(&format!(r#"value="{name}""#));
    step.assert_contains(r#"<option value="cron" selected>"#);
    // The no-JS fragment URLs render the step page.
    let page = o
        .get(&format!("{SERVICES}/new/repositories?token_id={token_id}"))
        .await;
    page.assert_status(200).assert_contains("<html");
    // Create.
    let p = env.create_service(name, token_id, &repo, "release-2").await;
    assert_eq!(p.status, 303, "{}", p.body);
    let s = service_named(&env.app, name);
    assert_eq!(s.token_id.as_deref(), Some(token_id));
    assert_eq!(s.repository, repo);
    assert_eq!(s.branch, "release-2");
    assert_eq!(p.location(), Some(format!("{SERVICES}/{}", s.id).as_str()));
    let list = o.get(SERVICES).await;
    dump(&format!("{name}-list"), &list);
    list.assert_status(200)
        .assert_contains(&format!(r#"data-service-id="{}""#, s.id))
        .assert_lacks(secret);
    let detail = o.get(&format!("{SERVICES}/{}", s.id)).await;
    dump(&format!("{name}-detail"), &detail);
    detail
        .assert_status(200)
        .assert_contains(&repo)
        .assert_lacks(secret);
    assert!(fake.saw_token(secret));
}

#[actix_web::test]
async fn github_service_through_the_pickers() {
    let env = env().await;
    let id = env
        .token("github", "ghp_noexpiry-pick", "GitHub deploy")
        .await;
    pickers(
        &env,
        &env.github,
        &id,
        "ghp_noexpiry-pick",
        "acme/",
        "web-api",
    )
    .await;
    // Search by name (GitHub has no server-side search: filtered here).
    let frag = env
        .owner
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={id}&q=app-2"),
            "repository-choices",
        )
        .await;
    assert_eq!(options(&frag.body, "repository").len(), 6, "{}", frag.body);
    // Changing the provider drops the GitHub token and what was picked with it.
    let step = env
        .owner
        .get(&format!(
            "{SERVICES}/new?provider=gitlab&access=token&token_id={id}&repository=acme%2Fapp-01"
        ))
        .await;
    step.assert_status(200)
        .assert_contains(r#"<option value="gitlab" selected>"#);
    step.assert_lacks(&format!(r#"<option value="{id}""#));
    step.assert_lacks(r#"<select id="repository""#);
}

#[actix_web::test]
async fn github_enterprise_service_through_the_pickers() {
    let env = env().await;
    let url = env.ghes.url.clone();
    let id = env
        .add_token(
            &env.owner,
            "acme",
            "github",
            "ghp_noexpiry-ghes",
            "GHES deploy",
            &[("hosting", "self_hosted"), ("url", &url)],
        )
        .await;
    pickers(
        &env,
        &env.ghes,
        &id,
        "ghp_noexpiry-ghes",
        "acme/",
        "ghes-api",
    )
    .await;
    assert!(
        env.ghes
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/api/v3/user/repos"))
    );
    env.github.assert_untouched();
}

#[actix_web::test]
async fn gitlab_service_through_the_pickers() {
    let env = env().await;
    let id = env
        .token("gitlab", "glpat-owner-pick", "GitLab deploy")
        .await;
    pickers(
        &env,
        &env.gitlab,
        &id,
        "glpat-owner-pick",
        "acme/",
        "gl-api",
    )
    .await;
    let frag = env
        .owner
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={id}&q=app-2"),
            "repository-choices",
        )
        .await;
    assert_eq!(options(&frag.body, "repository").len(), 6, "{}", frag.body);
    assert!(
        env.gitlab
            .requests()
            .iter()
            .any(|r| r.path.contains("search=app-2"))
    );
    assert!(env.gitlab.requests().iter().any(|r| {
        r.route()
            .ends_with("/projects/acme%2Fapp-12/repository/branches")
    }));
}

#[actix_web::test]
async fn bitbucket_service_through_the_pickers() {
    let env = env().await;
    let id = env
        .token("bitbucket", "bb_valid-pick", "Bitbucket deploy")
        .await;
    pickers(
        &env,
        &env.bitbucket,
        &id,
        "bb_valid-pick",
        "acme/",
        "bb-api",
    )
    .await;
    let frag = env
        .owner
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={id}&q=app-2"),
            "repository-choices",
        )
        .await;
    assert_eq!(options(&frag.body, "repository").len(), 6, "{}", frag.body);
    assert!(
        env.bitbucket
            .requests()
            .iter()
            .any(|r| r.path.contains("q=name"))
    );
}

#[actix_web::test]
async fn a_long_listing_is_capped_and_says_so() {
    let env = env().await;
    let id = env.token("github", "ghp_noexpiry-many", "Many").await;
    let frag = env
        .owner
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={id}"),
            "repository-choices",
        )
        .await;
    assert_eq!(options(&frag.body, "repository").len(), 100);
    frag.assert_contains(r#"data-capped="true""#);
    frag.assert_contains("page=2");
    let next = env
        .owner
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={id}&page=2"),
            "repository-choices",
        )
        .await;
    let rest = options(&next.body, "repository");
    assert_eq!(rest.len(), 30, "{}", next.body);
    assert!(rest.contains(&"acme/app-130".to_string()));
    next.assert_lacks(r#"data-capped="true""#);
}

#[actix_web::test]
async fn an_invalid_or_foreign_token_is_not_selectable() {
    let env = env().await;
    let id = env.token("github", "ghp_noexpiry-bad", "Broken").await;
    let mut t = GitToken::find(&mut db(&env.app), &id).unwrap().unwrap();
    t.status = "invalid".into();
    GitToken::save(&mut db(&env.app), &t).unwrap();
    let before = env.github.requests().len();
    let p = env
        .owner
        .get(&format!("{SERVICES}/new?provider=github"))
        .await;
    p.assert_status(200);
    p.assert_contains(&format!(r#"<option value="{id}" disabled>"#));
    p.assert_contains("not selectable");
    let frag = env
        .owner
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={id}"),
            "repository-choices",
        )
        .await;
    frag.assert_status(200).assert_contains("cannot be used");
    let p = env.create_service("svc", &id, "acme/app-01", "main").await;
    p.assert_status(422).assert_contains("cannot be used");
    assert_eq!(
        env.github.requests().len(),
        before,
        "an invalid token is never used"
    );
    assert!(services_of(&env.app).is_empty());

    // Another organization's token: 404 in a fragment, a field error in the form, never used.
    let other = member(&env.app, "other", "boss@other.test", Role::Owner).await;
    let foreign = env
        .add_token(
            &other,
            "other",
            "github",
            "ghp_noexpiry-foreign",
            "Foreign",
            &[],
        )
        .await;
    let before = env.github.requests().len();
    env.owner
        .get_htmx(
            &format!("{SERVICES}/new/repositories?token_id={foreign}"),
            "repository-choices",
        )
        .await
        .assert_status(404);
    env.owner
        .get_htmx(
            &format!("{SERVICES}/new/branches?token_id={foreign}&repository=acme/app-01"),
            "branch-choices",
        )
        .await
        .assert_status(404);
    let p = env
        .create_service("svc", &foreign, "acme/app-01", "main")
        .await;
    p.assert_status(422).assert_contains("this organization");
    let step = env
        .owner
        .get(&format!("{SERVICES}/new?token_id={foreign}"))
        .await;
    step.assert_status(200).assert_contains("this organization");
    assert_eq!(env.github.requests().len(), before);
    assert!(services_of(&env.app).is_empty());
}

#[actix_web::test]
async fn bad_inputs_get_messages_not_errors() {
    let env = env().await;
    let id = env.token("github", "ghp_noexpiry-v", "Deploy").await;
    for (field, value, expect) in [
        ("name", "", "Enter a name"),
        ("kind", "daemon", "Choose application"),
        ("access", "root", "Choose how the service reaches Git"),
        ("repository", "../etc", "owner/repository"),
        ("repository", "acme/app-99", "cannot read acme/app-99"),
        ("branch", "bad..branch", "not a valid branch"),
    ] {
        let mut form = vec![
            ("csrf_token", env.csrf.as_str()),
            ("name", "svc"),
            ("kind", "application"),
            ("access", "token"),
            ("token_id", id.as_str()),
            ("repository", "acme/app-01"),
            ("branch", "main"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let p = env.owner.post(SERVICES, &form).await;
        assert_eq!(p.status, 422, "{field}={value}: {}", p.body);
        p.assert_contains(expect);
    }
    // Legacy access takes typed repository and branch; the GitHub App only for GitHub.
    let p = env
        .owner
        .post(
            SERVICES,
            &[
                ("csrf_token", &env.csrf),
                ("name", "old"),
                ("kind", "helm"),
                ("provider", "gitlab"),
                ("access", "github_app"),
                ("repository", "g/p"),
                ("branch", "main"),
            ],
        )
        .await;
    p.assert_status(422).assert_contains("only reaches GitHub");
    let p = env
        .owner
        .post(
            SERVICES,
            &[
                ("csrf_token", &env.csrf),
                ("name", "old"),
                ("kind", "helm"),
                ("provider", "github"),
                ("access", "github_app"),
                ("repository", "acme/legacy"),
                ("branch", "main"),
            ],
        )
        .await;
    p.assert_status(303);
    // Duplicate name (case-insensitive).
    let p = env.create_service("OLD", &id, "acme/app-01", "main").await;
    dump("form-errors", &p);
    p.assert_status(422).assert_contains("already exists");
    // Unknown ids are 404s.
    env.owner
        .get(&format!("{SERVICES}/nope"))
        .await
        .assert_status(404);
    env.owner
        .get(&format!("{SERVICES}/nope/edit"))
        .await
        .assert_status(404);
    env.owner
        .post(
            &format!("{SERVICES}/nope/delete"),
            &[("csrf_token", &env.csrf)],
        )
        .await
        .assert_status(404);
    // Without the CSRF token nothing is created.
    let p = env
        .owner
        .post(
            SERVICES,
            &[
                ("name", "x"),
                ("kind", "helm"),
                ("provider", "github"),
                ("access", "personal"),
                ("repository", "a/b"),
                ("branch", "main"),
            ],
        )
        .await;
    p.assert_status(403);
    assert_eq!(services_of(&env.app).len(), 1);
}

#[actix_web::test]
async fn edit_and_delete_a_service_are_audited_without_secrets() {
    let env = env().await;
    let secret = "ghp_noexpiry-audit";
    let id = env.token("github", secret, "Deploy").await;
    env.create_service("api", &id, "acme/app-03", "main")
        .await
        .assert_status(303);
    let s = service_named(&env.app, "api");
    let edit = env.owner.get(&format!("{SERVICES}/{}/edit", s.id)).await;
    edit.assert_status(200)
        .assert_contains(r#"<option value="acme/app-03" selected>"#);
    let p = env
        .owner
        .post(
            &format!("{SERVICES}/{}/edit", s.id),
            &[
                ("csrf_token", &env.csrf),
                ("name", "api"),
                ("kind", "application"),
                ("access", "token"),
                ("token_id", &id),
                ("repository", "acme/app-03"),
                ("branch", "develop"),
            ],
        )
        .await;
    p.assert_status(303);
    assert_eq!(service_named(&env.app, "api").branch, "develop");
    let p = env
        .owner
        .post(
            &format!("{SERVICES}/{}/delete", s.id),
            &[("csrf_token", &env.csrf)],
        )
        .await;
    p.assert_redirect_to(SERVICES);
    assert!(services_of(&env.app).is_empty());
    let events = audit_of(&env.app);
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for a in ["service.create", "service.update", "service.delete"] {
        assert!(actions.contains(&a), "{actions:?}");
    }
    let update = events
        .iter()
        .find(|e| e.action == "service.update")
        .unwrap();
    assert!(update.details.contains("\"branch\""), "{}", update.details);
    assert!(
        !update.details.contains("develop"),
        "field names only: {}",
        update.details
    );
    for e in &events {
        assert!(!e.details.contains(secret), "{e:?}");
        assert!(!format!("{e:?}").contains(secret));
    }
    // The token's history tab shows the service actions.
    let detail = env.owner.get(&format!("{TOKENS}/{id}")).await;
    detail.assert_contains("Service added").assert_lacks(secret);
}

#[actix_web::test]
async fn delete_in_use_offers_a_checked_all_or_nothing_move() {
    let env = env().await;
    let a = env.token("github", "ghp_noexpiry-a", "Token A").await;
    let narrow = env.token("github", "ghp_noexpiry-narrow", "Narrow").await;
    let c = env.token("github", "ghp_noexpiry-c", "Token C").await;
    let gl = env.token("gitlab", "glpat-owner-x", "GitLab").await;
    let s1 = env.seed_service("one", "github", "token", Some(&a), "acme/app-02");
    let s2 = env.seed_service("two", "github", "token", Some(&a), "acme/app-12");

    // Editing the token says how many services it affects.
    env.owner
        .get(&format!("{TOKENS}/{a}/edit"))
        .await
        .assert_contains("2 services use this token");
    // Delete refused while in use; the confirmation offers the move to same-provider tokens.
    let confirm = env.owner.get(&format!("{TOKENS}/{a}/delete")).await;
    dump("delete-confirm", &confirm);
    confirm
        .assert_status(200)
        .assert_contains(&format!("{TOKENS}/{a}/move"));
    let targets = options(&confirm.body, "target_token_id");
    assert!(
        targets.contains(&narrow) && targets.contains(&c),
        "{targets:?}"
    );
    assert!(!targets.contains(&gl) && !targets.contains(&a));
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/{a}/delete"),
            &[("csrf_token", &env.csrf)],
        )
        .await;
    assert_eq!(p.status, 409);
    assert!(GitToken::find(&mut db(&env.app), &a).unwrap().is_some());

    // Both to "Narrow": it cannot read acme/app-12 → refused, named, nothing moved.
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/{a}/move"),
            &[
                ("csrf_token", &env.csrf),
                ("target_token_id", &narrow),
                ("service_ids", &s1),
                ("service_ids", &s2),
            ],
        )
        .await;
    dump("move-refused", &p);
    p.assert_status(422)
        .assert_contains(r#"data-unreadable="acme/app-12 (two)""#);
    p.assert_lacks(r#"data-unreadable="acme/app-02"#);
    for s in services_of(&env.app) {
        assert_eq!(s.token_id.as_deref(), Some(a.as_str()), "nothing moved");
    }
    // Other bad inputs: no target, another provider's token, a foreign service id.
    env.owner
        .post(
            &format!("{TOKENS}/{a}/move"),
            &[("csrf_token", &env.csrf), ("service_ids", &s1)],
        )
        .await
        .assert_status(422);
    env.owner
        .post(
            &format!("{TOKENS}/{a}/move"),
            &[
                ("csrf_token", &env.csrf),
                ("target_token_id", &gl),
                ("service_ids", &s1),
            ],
        )
        .await
        .assert_status(422)
        .assert_contains("another provider");
    env.owner
        .post(
            &format!("{TOKENS}/{a}/move"),
            &[
                ("csrf_token", &env.csrf),
                ("target_token_id", &c),
                ("service_ids", "nope"),
            ],
        )
        .await
        .assert_status(422);
    env.owner
        .post(
            &format!("{TOKENS}/{a}/move"),
            &[("csrf_token", &env.csrf), ("target_token_id", &c)],
        )
        .await
        .assert_status(422)
        .assert_contains("Select at least one");

    // Only "one" to Narrow: moved.
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/{a}/move"),
            &[
                ("csrf_token", &env.csrf),
                ("target_token_id", &narrow),
                ("service_ids", &s1),
            ],
        )
        .await;
    p.assert_redirect_to(&format!("{TOKENS}/{a}"));
    assert_eq!(
        service_named(&env.app, "one").token_id.as_deref(),
        Some(narrow.as_str())
    );
    assert_eq!(
        service_named(&env.app, "two").token_id.as_deref(),
        Some(a.as_str())
    );
    // "two" to C; then A is unused and can be deleted.
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/{a}/move"),
            &[
                ("csrf_token", &env.csrf),
                ("target_token_id", &c),
                ("service_ids", &s2),
            ],
        )
        .await;
    p.assert_redirect_to(&format!("{TOKENS}/{a}/delete"));
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/{a}/delete"),
            &[("csrf_token", &env.csrf)],
        )
        .await;
    p.assert_redirect_to(TOKENS);
    let moves: Vec<AuditEvent> = audit_of(&env.app)
        .into_iter()
        .filter(|e| e.action == "service.move")
        .collect();
    assert_eq!(moves.len(), 4, "out + in for each move");
    for e in &moves {
        assert!(!e.details.contains("ghp_"), "{e:?}");
    }
    let hist = env.owner.get(&format!("{TOKENS}/{c}")).await;
    hist.assert_contains("received 1 service");
}

#[actix_web::test]
async fn retest_names_each_repository_the_token_cannot_read() {
    let env = env().await;
    let narrow = env.token("github", "ghp_noexpiry-narrow", "Narrow").await;
    env.seed_service("readable", "github", "token", Some(&narrow), "acme/app-03");
    env.seed_service("gap-1", "github", "token", Some(&narrow), "acme/app-12");
    env.seed_service("gap-2", "github", "token", Some(&narrow), "acme/app-12");
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/{narrow}/test"),
            &[("csrf_token", &env.csrf), ("return_to", "detail")],
        )
        .await;
    p.assert_status(303);
    let t = GitToken::find(&mut db(&env.app), &narrow).unwrap().unwrap();
    assert_eq!(t.status, "missing_permissions");
    let detail = env.owner.get(&format!("{TOKENS}/{narrow}")).await;
    detail.assert_contains("Access to repository acme/app-12");
    detail.assert_contains("gap-1, gap-2");
    detail.assert_lacks("Access to repository acme/app-03");

    // HTMX row re-test of a Bitbucket token reading everything: stays valid.
    let bb = env.token("bitbucket", "bb_valid-cov", "BB").await;
    env.seed_service("bb", "bitbucket", "token", Some(&bb), "acme/app-07");
    let row = env
        .owner
        .post_htmx(
            &format!("{TOKENS}/{bb}/test"),
            &env.csrf,
            &format!("row-{bb}"),
            &[("return_to", "list")],
        )
        .await;
    row.assert_status(200)
        .assert_contains(r#"data-status="valid""#);
    let bb_narrow = env.token("bitbucket", "bb_valid-narrow", "BB narrow").await;
    env.seed_service(
        "bb-gap",
        "bitbucket",
        "token",
        Some(&bb_narrow),
        "acme/app-20",
    );
    let row = env
        .owner
        .post_htmx(
            &format!("{TOKENS}/{bb_narrow}/test"),
            &env.csrf,
            &format!("row-{bb_narrow}"),
            &[("return_to", "list")],
        )
        .await;
    row.assert_contains(r#"data-status="missing_permissions""#);
    assert!(
        env.bitbucket
            .requests()
            .iter()
            .any(|r| r.route() == "/2.0/repositories/acme/app-20")
    );
}

#[actix_web::test]
async fn migration_page_moves_legacy_services_in_bulk() {
    let env = env().await;
    let narrow = env.token("github", "ghp_noexpiry-narrow", "Narrow").await;
    let m1 = env.seed_service("m1", "github", "github_app", None, "acme/app-01");
    let m2 = env.seed_service("m2", "github", "personal", None, "acme/app-04");
    let m3 = env.seed_service("m3", "github", "github_app", None, "acme/app-12");
    let _m4 = env.seed_service("m4", "gitlab", "personal", None, "acme/app-01");
    let page = env.owner.get(&format!("{TOKENS}/migrate-github-app")).await;
    page.assert_status(200)
        .assert_contains(r#"data-remaining="4""#);
    let preview = env
        .owner
        .get(&format!("{TOKENS}/migrate-github-app?token_id={narrow}"))
        .await;
    dump("migrate-preview", &preview);
    preview.assert_status(200);
    for (id, reach) in [(&m1, "reachable"), (&m2, "reachable"), (&m3, "unreachable")] {
        preview.assert_contains(&format!(r#"data-service-id="{id}" data-reach="{reach}""#));
    }
    preview.assert_contains(r#"data-reach="other""#);
    // Selecting an unreachable one: refused, named, nothing moved.
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/migrate-github-app"),
            &[
                ("csrf_token", &env.csrf),
                ("token_id", &narrow),
                ("service_ids", &m1),
                ("service_ids", &m3),
            ],
        )
        .await;
    dump("migrate-refused", &p);
    p.assert_status(422)
        .assert_contains(r#"data-unreadable="acme/app-12 (m3)""#);
    assert_eq!(service_named(&env.app, "m1").access, "github_app");
    // Bulk move of the reachable ones.
    let p = env
        .owner
        .post(
            &format!("{TOKENS}/migrate-github-app"),
            &[
                ("csrf_token", &env.csrf),
                ("token_id", &narrow),
                ("service_ids", &m1),
                ("service_ids", &m2),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    for n in ["m1", "m2"] {
        let s = service_named(&env.app, n);
        assert_eq!(
            (s.access.as_str(), s.token_id.as_deref()),
            ("token", Some(narrow.as_str()))
        );
    }
    let after = env.owner.get(p.location().unwrap()).await;
    after
        .assert_contains(r#"data-remaining="2""#)
        .assert_contains("2 services remain");
    assert!(
        audit_of(&env.app).iter().any(
            |e| e.action == "service.migrate" && e.token_id.as_deref() == Some(narrow.as_str())
        )
    );
    // A non-GitHub token or none: refused.
    env.owner
        .post(
            &format!("{TOKENS}/migrate-github-app"),
            &[
                ("csrf_token", &env.csrf),
                ("token_id", "nope"),
                ("service_ids", &m3),
            ],
        )
        .await
        .assert_status(422);
}

#[actix_web::test]
async fn hygiene_badges_unused_and_duplicate() {
    let env = env().await;
    let a = env.token("github", "ghp_noexpiry-one", "One").await;
    let b = env.token("github", "ghp_noexpiry-two", "Two").await;
    let g = env.token("gitlab", "glpat-owner-h", "GitLab").await;
    env.seed_service("uses-a", "github", "token", Some(&a), "acme/app-01");
    let list = env.owner.get(TOKENS).await;
    dump("tokens-hygiene", &list);
    let row = |id: &str| {
        let start = list.body.find(&format!(r#"<tr id="row-{id}""#)).unwrap();
        let end = start + list.body[start..].find("</tr>").unwrap();
        list.body[start..end].to_string()
    };
    assert!(
        row(&a).contains(r#"data-hygiene="duplicate""#),
        "same account octocat twice"
    );
    assert!(row(&b).contains(r#"data-hygiene="duplicate""#));
    assert!(!row(&g).contains(r#"data-hygiene="duplicate""#));
    assert!(!row(&a).contains(r#"data-hygiene="unused""#));
    assert!(row(&b).contains(r#"data-hygiene="unused""#));
    assert!(row(&g).contains(r#"data-hygiene="unused""#));
    env.owner
        .get(&format!("{TOKENS}/{b}"))
        .await
        .assert_contains(r#"data-hygiene="duplicate""#);
    env.owner
        .get(&format!("{TOKENS}/{g}"))
        .await
        .assert_lacks(r#"data-hygiene="duplicate""#);
}

#[actix_web::test]
async fn roles_hold_on_every_new_route() {
    let env = env().await;
    let t = env.token("github", "ghp_noexpiry-r", "Deploy").await;
    let s = env.seed_service("svc", "github", "token", Some(&t), "acme/app-01");
    let reads = [SERVICES.to_string(), format!("{SERVICES}/{s}")];
    let manage_gets = [
        format!("{SERVICES}/new"),
        format!("{SERVICES}/new/repositories?token_id={t}"),
        format!("{SERVICES}/new/branches?token_id={t}&repository=acme/app-01"),
        format!("{SERVICES}/{s}/edit"),
        format!("{TOKENS}/migrate-github-app"),
    ];
    let posts = [
        SERVICES.to_string(),
        format!("{SERVICES}/{s}/edit"),
        format!("{SERVICES}/{s}/delete"),
        format!("{TOKENS}/{t}/move"),
        format!("{TOKENS}/migrate-github-app"),
    ];
    let viewer = member(&env.app, "acme", "viewer@acme.test", Role::Viewer).await;
    let billing = member(&env.app, "acme", "billing@acme.test", Role::Billing).await;
    let outsider = member(&env.app, "elsewhere", "out@else.test", Role::Owner).await;
    for path in &reads {
        let p = viewer.get(path).await;
        p.assert_status(200)
            .assert_lacks("/delete\"")
            .assert_lacks("/edit\"")
            .assert_lacks("Add service");
        billing.get(path).await.assert_status(403);
        outsider.get(path).await.assert_status(404);
    }
    for path in &manage_gets {
        viewer.get(path).await.assert_status(403);
        billing.get(path).await.assert_status(403);
        outsider.get(path).await.assert_status(404);
    }
    for (c, want) in [(&viewer, 403), (&billing, 403), (&outsider, 404)] {
        let csrf = c.session_csrf().await;
        for path in &posts {
            let p = c
                .post(
                    path,
                    &[
                        ("csrf_token", &csrf),
                        ("name", "x"),
                        ("kind", "helm"),
                        ("provider", "github"),
                        ("access", "personal"),
                        ("repository", "a/b"),
                        ("branch", "main"),
                        ("target_token_id", &t),
                        ("token_id", &t),
                        ("service_ids", &s),
                    ],
                )
                .await;
            assert_eq!(p.status, want, "{path}");
        }
    }
    let svc = service_named(&env.app, "svc");
    assert_eq!(svc.token_id.as_deref(), Some(t.as_str()), "nothing changed");
    assert_eq!(services_of(&env.app).len(), 1);
    // DevOps manages.
    let devops = member(&env.app, "acme", "ops@acme.test", Role::Devops).await;
    devops
        .get(&format!("{SERVICES}/new"))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn another_orgs_service_and_token_via_own_slug_are_404() {
    let env = env().await;
    let id = env.token("github", "ghp_noexpiry-x404", "Deploy").await;
    let target = env.token("github", "ghp_noexpiry-y404", "Spare").await;
    let sid = env.seed_service("api", "github", "token", Some(&id), "acme/app-03");
    let services_before = format!("{:?}", services_of(&env.app));
    let audit_before = audit_of(&env.app).len();
    let requests_before = env.github.requests().len();

    let outsider = member(&env.app, "elsewhere", "boss@elsewhere.test", Role::Owner).await;
    let csrf = outsider.session_csrf().await;
    let mine = "/orgs/elsewhere/services";
    outsider
        .get(&format!("{mine}/{sid}"))
        .await
        .assert_status(404)
        .assert_lacks("acme/app-03");
    outsider
        .get(&format!("{mine}/{sid}/edit"))
        .await
        .assert_status(404)
        .assert_lacks("acme/app-03");
    outsider
        .post(
            &format!("{mine}/{sid}/edit"),
            &[
                ("csrf_token", &csrf),
                ("name", "hijacked"),
                ("kind", "application"),
                ("access", "token"),
                ("token_id", &id),
                ("repository", "acme/app-03"),
                ("branch", "develop"),
            ],
        )
        .await
        .assert_status(404);
    outsider
        .post(&format!("{mine}/{sid}/delete"), &[("csrf_token", &csrf)])
        .await
        .assert_status(404);
    outsider
        .post(
            &format!("/orgs/elsewhere/settings/git-tokens/{id}/move"),
            &[
                ("csrf_token", &csrf),
                ("target_token_id", &target),
                ("service_ids", &sid),
            ],
        )
        .await
        .assert_status(404);

    assert_eq!(format!("{:?}", services_of(&env.app)), services_before);
    assert_eq!(
        service_named(&env.app, "api").token_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(audit_of(&env.app).len(), audit_before, "nothing audited");
    assert_eq!(env.github.requests().len(), requests_before);
}

/// Set a token's status and expiry straight in the database.
fn set_token(app: &TestApp, id: &str, status: &str, expires_at: Option<chrono::NaiveDateTime>) {
    let mut t = GitToken::find(&mut db(app), id).unwrap().unwrap();
    t.status = status.into();
    t.expires_at = expires_at;
    GitToken::save(&mut db(app), &t).unwrap();
}

#[actix_web::test]
async fn expired_or_invalid_tokens_are_disabled_and_refused_as_move_targets() {
    let env = env().await;
    let good = env.token("github", "ghp_noexpiry-good", "Good").await;
    let expired = env.token("github", "ghp_noexpiry-old", "Old").await;
    let invalid = env
        .token("github", "ghp_noexpiry-rejected", "Rejected")
        .await;
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::hours(2);
    // Still "valid" by its last test, but the expiry date has passed.
    set_token(&env.app, &expired, "valid", Some(past));
    set_token(&env.app, &invalid, "invalid", None);

    let p = env
        .owner
        .get(&format!("{SERVICES}/new?provider=github"))
        .await;
    p.assert_status(200);
    p.assert_contains(&format!(r#"<option value="{expired}" disabled>"#));
    p.assert_contains(&format!(r#"<option value="{invalid}" disabled>"#));
    p.assert_lacks(&format!(r#"<option value="{good}" disabled>"#));
    p.assert_contains(&format!(r#"<option value="{good}""#));
    p.assert_contains("not selectable: expired");
    p.assert_contains("not selectable: rejected by the provider");

    let s1 = env.seed_service("one", "github", "token", Some(&good), "acme/app-02");
    let requests_before = env.github.requests().len();
    let audit_before = audit_of(&env.app).len();
    for (target, reason) in [
        (&expired, "expired"),
        (&invalid, "rejected by the provider"),
    ] {
        let name = if target == &expired {
            "Old"
        } else {
            "Rejected"
        };
        let p = env
            .owner
            .post(
                &format!("{TOKENS}/{good}/move"),
                &[
                    ("csrf_token", &env.csrf),
                    ("target_token_id", target),
                    ("service_ids", &s1),
                ],
            )
            .await;
        p.assert_status(422)
            .assert_contains(&format!("“{name}” cannot be used: {reason}"));
        assert_eq!(
            service_named(&env.app, "one").token_id.as_deref(),
            Some(good.as_str()),
            "nothing moved"
        );
    }
    // The delete confirmation offers them only as disabled choices.
    let confirm = env.owner.get(&format!("{TOKENS}/{good}/delete")).await;
    confirm
        .assert_status(200)
        .assert_contains(&format!(r#"<option value="{expired}" disabled>"#))
        .assert_contains(&format!(r#"<option value="{invalid}" disabled>"#));
    assert_eq!(env.github.requests().len(), requests_before, "never used");
    assert_eq!(audit_of(&env.app).len(), audit_before);
}

/// How many services a list page shows (`data-service-id` rows).
fn listed_ids(p: &Page) -> Vec<String> {
    let re = regex::Regex::new(r#"<tr id="service-[^"]+" data-service-id="([^"]+)""#).unwrap();
    re.captures_iter(&p.body)
        .map(|c| c[1].to_string())
        .collect()
}

#[actix_web::test]
async fn the_services_list_is_paged_25_a_page() {
    let env = env().await;
    let t = env.token("github", "ghp_noexpiry-paged", "Deploy").await;
    let mut all: Vec<String> = (0..30)
        .map(|i| {
            env.seed_service(
                &format!("svc-{i:02}"),
                "github",
                "token",
                Some(&t),
                "acme/app-01",
            )
        })
        .collect();
    all.push(env.seed_service("legacy-app", "github", "github_app", None, "acme/app-02"));

    let first = env.owner.get(SERVICES).await;
    dump("services-page-1", &first);
    first
        .assert_status(200)
        .assert_contains("31 services · page 1 of 2")
        .assert_contains(&format!(r#"href="{SERVICES}?page=2" rel="next""#))
        .assert_lacks(r#"rel="prev""#)
        .assert_contains("1 service still reaches Git through the legacy GitHub App")
        .assert_contains(&format!(r#"href="{TOKENS}/{t}">Deploy</a>"#));
    let page1 = listed_ids(&first);
    assert_eq!(page1.len(), 25, "{}", first.body);

    let second = env.owner.get(&format!("{SERVICES}?page=2")).await;
    second
        .assert_status(200)
        .assert_contains("page 2 of 2")
        .assert_contains(&format!(r#"href="{SERVICES}?page=1" rel="prev""#))
        .assert_lacks(r#"rel="next""#)
        .assert_lacks("There is no page");
    let page2 = listed_ids(&second);
    assert_eq!(page2.len(), 6, "{}", second.body);
    // The two pages list every service once.
    let mut seen: Vec<String> = page1.iter().chain(&page2).cloned().collect();
    seen.sort();
    all.sort();
    assert_eq!(seen, all);

    // Past the end: the last page, saying so.
    let beyond = env.owner.get(&format!("{SERVICES}?page=9")).await;
    beyond
        .assert_status(200)
        .assert_contains("There is no page 9: the list has 2 pages. This is the last one.")
        .assert_contains("page 2 of 2");
    assert_eq!(listed_ids(&beyond), page2);
    // Nonsense is page 1.
    assert_eq!(
        listed_ids(&env.owner.get(&format!("{SERVICES}?page=x")).await),
        page1
    );
}

/// A proxy in front of a fake that holds the first `n` requests for `route` (path without the
/// query) until all `n` have arrived (a tokio barrier), then lets everything through. Requests
/// racing for the same thing thus all get past every step before that request before any of
/// them goes on. Returns the proxy's origin.
async fn gate(upstream_port: u16, route: &'static str, n: usize) -> String {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let held = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (barrier, held) = (Arc::clone(&barrier), Arc::clone(&held));
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut chunk = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match client.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&chunk[..k]),
                    }
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let path = line.split_whitespace().nth(1).unwrap_or("");
                if path.split('?').next() == Some(route) && held.fetch_add(1, Ordering::SeqCst) < n
                {
                    barrier.wait().await;
                }
                let mut up = tokio::net::TcpStream::connect(("127.0.0.1", upstream_port))
                    .await
                    .unwrap();
                up.write_all(&head).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[actix_web::test]
async fn two_creates_of_one_name_at_once_save_one_and_tell_the_other() {
    let github = fakes::github::start();
    // Both creates pass the name check, then wait for each other at the repository check.
    let proxy = gate(github.port, "/repos/acme/app-01", 2).await;
    let app = spawn_app_with(Options {
        github_api_url: Some(proxy),
        outbound_allow: Some("127.0.0.0/8".into()),
        provider_timeout_ms: Some(5000),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    let p = owner
        .post(
            TOKENS,
            &[
                ("csrf_token", csrf.as_str()),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", "Deploy"),
                ("token", "ghp_noexpiry-race"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let org = org_id(&app, "acme");
    let token = GitToken::all(&mut db(&app), &org, &TokenFilter::default())
        .unwrap()
        .remove(0)
        .id;
    let form = |name: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("name", name.to_string()),
            ("kind", "application".to_string()),
            ("access", "token".to_string()),
            ("token_id", token.clone()),
            ("repository", "acme/app-01".to_string()),
            ("branch", "main".to_string()),
        ]
    };
    // The same name, differently cased: one key.
    let (a, b) = (form("billing-api"), form("Billing-API"));
    let ra: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let rb: Vec<(&str, &str)> = b.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (one, two) = tokio::join!(owner.post(SERVICES, &ra), owner.post(SERVICES, &rb));
    let mut statuses = [one.status.as_u16(), two.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 422], "{}\n{}", one.body, two.body);
    let refused = if one.status == 422 { &one } else { &two };
    refused
        .assert_contains("A service with this name already exists in this organization")
        .assert_contains(r#"id="name-error""#);
    let saved = Service::list_for_org(&mut db(&app), &org).unwrap();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let creates = AuditEvent::list_for_org(&mut db(&app), &org, 50)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "service.create")
        .count();
    assert_eq!(creates, 1, "only the saved one is audited");
    let checks = github
        .requests()
        .iter()
        .filter(|r| r.route() == "/repos/acme/app-01")
        .count();
    assert!(checks >= 2, "both creates got past the name check");
}

//! Token pages: create / edit / delete, validation (DESIGN.md §2, §4), list filters and pages.
//!
//! Every app here runs against the fake providers, so a create (which tests the token first) can
//! pass. The helpers at the top are shared with `secrets.rs`.

use crate::fakes::{self, FakeServer};
use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::models::service::Service;
use forgekeys::db::models::token::GitToken;
use forgekeys::db::schema::{audit_events, git_tokens};

pub const LIST: &str = "/orgs/acme/settings/git-tokens";

pub type Form = Vec<(&'static str, String)>;

/// An app wired to the three fakes, with a signed-in Owner of `acme`.
pub struct Env {
    pub app: TestApp,
    pub gh: FakeServer,
    pub gl: FakeServer,
    pub bb: FakeServer,
    pub owner: Client,
    pub csrf: String,
}

pub async fn env() -> Env {
    let gh = fakes::github::start();
    let gl = fakes::gitlab::start();
    let bb = fakes::bitbucket::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(gh.url.clone()),
        gitlab_url: Some(gl.url.clone()),
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&bb)),
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Default::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    Env {
        app,
        gh,
        gl,
        bb,
        owner,
        csrf,
    }
}

pub fn github(name: &str, token: &str) -> Form {
    vec![
        ("provider", "github".into()),
        ("hosting", "cloud".into()),
        ("name", name.into()),
        ("token", token.into()),
    ]
}

pub fn gitlab(name: &str, token: &str) -> Form {
    vec![
        ("provider", "gitlab".into()),
        ("hosting", "cloud".into()),
        ("name", name.into()),
        ("token", token.into()),
    ]
}

pub fn self_hosted(provider: &str, name: &str, url: &str, token: &str) -> Form {
    vec![
        ("provider", provider.into()),
        ("hosting", "self_hosted".into()),
        ("name", name.into()),
        ("url", url.into()),
        ("token", token.into()),
    ]
}

pub fn bitbucket(name: &str, workspace: &str, token: &str) -> Form {
    vec![
        ("provider", "bitbucket".into()),
        ("hosting", "cloud".into()),
        ("name", name.into()),
        ("workspace", workspace.into()),
        ("token", token.into()),
    ]
}

/// `form` with `key` set to `value` (added if absent).
pub fn with(mut form: Form, key: &'static str, value: &str) -> Form {
    match form.iter_mut().find(|(k, _)| *k == key) {
        Some(pair) => pair.1 = value.to_string(),
        None => form.push((key, value.to_string())),
    }
    form
}

pub fn without(mut form: Form, key: &str) -> Form {
    form.retain(|(k, _)| *k != key);
    form
}

/// `(id, status, name)` of every list row on a page.
pub fn rows(page: &Page) -> Vec<(String, String, String)> {
    let re = regex::Regex::new(
        r#"(?s)<tr id="row-([^"]+)" data-token-id="([^"]+)" data-status="([^"]+)">\s*<th[^>]*><a href="[^"]+">([^<]*)</a>"#,
    )
    .unwrap();
    re.captures_iter(&page.body)
        .map(|c| {
            assert_eq!(&c[1], &c[2], "row id and data-token-id differ");
            (c[2].to_string(), c[3].to_string(), c[4].to_string())
        })
        .collect()
}

impl Env {
    pub async fn post(&self, path: &str, form: &[(&'static str, String)]) -> Page {
        let mut pairs: Vec<(&str, &str)> = vec![("csrf_token", self.csrf.as_str())];
        pairs.extend(form.iter().map(|(k, v)| (*k, v.as_str())));
        self.owner.post(path, &pairs).await
    }

    pub async fn create(&self, form: &[(&'static str, String)]) -> Page {
        self.post(LIST, form).await
    }

    /// Create a token that must pass; returns its id.
    pub async fn create_ok(&self, form: &[(&'static str, String)]) -> String {
        let name = form
            .iter()
            .find(|(k, _)| *k == "name")
            .map(|(_, v)| v.trim().to_string())
            .unwrap();
        self.create(form).await.assert_redirect_to(LIST);
        self.id_of(&name)
    }

    pub fn id_of(&self, name: &str) -> String {
        let mut conn = db(&self.app);
        git_tokens::table
            .filter(git_tokens::name.eq(name))
            .select(git_tokens::id)
            .first::<String>(&mut *conn)
            .unwrap_or_else(|e| panic!("no token named {name:?}: {e}"))
    }

    pub fn count(&self) -> i64 {
        let mut conn = db(&self.app);
        git_tokens::table.count().get_result(&mut *conn).unwrap()
    }

    pub fn token(&self, id: &str) -> Option<GitToken> {
        let mut conn = db(&self.app);
        GitToken::find(&mut conn, id).unwrap()
    }

    pub fn audit_count(&self, action: &str) -> i64 {
        let mut conn = db(&self.app);
        audit_events::table
            .filter(audit_events::action.eq(action))
            .count()
            .get_result(&mut *conn)
            .unwrap()
    }

    /// Requests all fakes have received so far.
    pub fn outbound(&self) -> usize {
        self.gh.requests().len() + self.gl.requests().len() + self.bb.requests().len()
    }

    pub fn org_id(&self) -> String {
        let mut conn = db(&self.app);
        forgekeys::db::models::organization::Organization::find_by_slug(&mut conn, "acme")
            .unwrap()
            .unwrap()
            .id
    }

    /// A service row that uses `token_id` (issue 4 builds the pages; the core only reads them).
    pub fn add_service(&self, name: &str, token_id: &str) {
        let mut conn = db(&self.app);
        let n = forgekeys::db::now();
        Service::insert(
            &mut conn,
            &Service {
                id: forgekeys::db::new_id(),
                org_id: self.org_id(),
                name: name.into(),
                kind: "application".into(),
                provider: "github".into(),
                access: "token".into(),
                token_id: Some(token_id.into()),
                repository: "acme/web".into(),
                branch: "main".into(),
                created_at: n,
                updated_at: n,
                name_key: String::new(),
            },
        )
        .unwrap();
    }
}

fn url(id: &str) -> String {
    format!("{LIST}/{id}")
}

// ---------------------------------------------------------------------------------------------
// Create, per provider and hosting
// ---------------------------------------------------------------------------------------------

/// After a create: flash on the list, the row with its id and `valid` status.
async fn assert_listed_valid(env: &Env, id: &str, name: &str) {
    let list = env.owner.get(LIST).await;
    list.assert_status(200)
        .assert_contains(&format!("Token “{name}” saved"));
    let row = rows(&list).into_iter().find(|(rid, _, _)| rid == id);
    assert_eq!(
        row,
        Some((id.to_string(), "valid".to_string(), name.to_string())),
        "{}",
        list.body
    );
    // The flash is shown once.
    env.owner
        .get(LIST)
        .await
        .assert_lacks(&format!("Token “{name}” saved"));
}

#[tokio::test]
async fn create_github_cloud() {
    let env = env().await;
    let id = env
        .create_ok(&github("GitHub deploy", "ghp_allscopesCreate0001"))
        .await;
    assert!(env.gh.saw_token("ghp_allscopesCreate0001"));
    assert_listed_valid(&env, &id, "GitHub deploy").await;
    let t = env.token(&id).unwrap();
    assert_eq!(
        (t.provider.as_str(), t.hosting.as_str()),
        ("github", "cloud")
    );
    assert_eq!(t.url, None);
    assert_eq!(t.hint, "ghp_…0001");
}

#[tokio::test]
async fn create_github_enterprise() {
    let env = env().await;
    let ghes = fakes::github::start_ghes();
    let id = env
        .create_ok(&self_hosted(
            "github",
            "GHES deploy",
            &ghes.url,
            "ghp_allscopesGhes0002",
        ))
        .await;
    assert!(ghes.saw_token("ghp_allscopesGhes0002"));
    // The API under /api/v3, and the clone check on the same server's Git.
    assert!(
        ghes.requests()
            .iter()
            .all(|r| r.route().starts_with("/api/v3/") || r.route().ends_with(".git/info/refs")),
        "{:?}",
        ghes.requests()
    );
    assert!(!env.gh.saw_token("ghp_allscopesGhes0002"), "sent to cloud");
    assert_listed_valid(&env, &id, "GHES deploy").await;
    let t = env.token(&id).unwrap();
    assert_eq!(t.hosting, "self_hosted");
    assert_eq!(t.url.as_deref(), Some(ghes.url.as_str()));
}

#[tokio::test]
async fn create_gitlab_com() {
    let env = env().await;
    let id = env
        .create_ok(&gitlab("GitLab deploy", "glpat-maintainerCreate03"))
        .await;
    assert!(env.gl.saw_token("glpat-maintainerCreate03"));
    assert_listed_valid(&env, &id, "GitLab deploy").await;
    assert_eq!(env.token(&id).unwrap().provider, "gitlab");
}

#[tokio::test]
async fn create_gitlab_self_hosted() {
    let env = env().await;
    let own = fakes::gitlab::start();
    // A trailing slash is accepted and reduced to the origin.
    let id = env
        .create_ok(&self_hosted(
            "gitlab",
            "Self-managed GitLab",
            &format!("{}/", own.url),
            "glpat-maintainerSelf0004",
        ))
        .await;
    assert!(own.saw_token("glpat-maintainerSelf0004"));
    assert!(
        !env.gl.saw_token("glpat-maintainerSelf0004"),
        "sent to gitlab.com"
    );
    assert_listed_valid(&env, &id, "Self-managed GitLab").await;
    assert_eq!(
        env.token(&id).unwrap().url.as_deref(),
        Some(own.url.as_str())
    );
}

#[tokio::test]
async fn create_bitbucket_workspace() {
    let env = env().await;
    // The workspace is stored lower-case.
    let id = env
        .create_ok(&bitbucket("Bitbucket deploy", "ACME", "bb_validCreate0005"))
        .await;
    assert!(env.bb.saw_token("bb_validCreate0005"));
    assert!(
        env.bb
            .requests()
            .iter()
            .any(|r| r.route() == "/2.0/repositories/acme")
    );
    assert_listed_valid(&env, &id, "Bitbucket deploy").await;
    assert_eq!(env.token(&id).unwrap().workspace.as_deref(), Some("acme"));
}

#[tokio::test]
async fn create_trims_the_token_and_sends_only_the_trimmed_value() {
    let env = env().await;
    let id = env
        .create_ok(&github("Trimmed", "  \tghp_allscopesTrim0006 \r\n"))
        .await;
    let reqs = env.gh.requests();
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert_eq!(r.token(), Some("ghp_allscopesTrim0006"), "{r:?}");
        let auth = r.authorization.as_deref().unwrap_or("");
        // The API gets `Bearer <token>`; the clone check `Basic base64(x-access-token:<token>)`,
        // whose decoded password `token()` checks above.
        assert!(
            (auth.ends_with(" ghp_allscopesTrim0006") || auth.starts_with("Basic "))
                && auth.split_whitespace().count() == 2,
            "untrimmed credential sent: {auth:?}"
        );
    }
    assert_eq!(env.token(&id).unwrap().hint, "ghp_…0006");
}

#[tokio::test]
async fn name_of_100_unicode_characters_is_accepted() {
    let env = env().await;
    let name = "é".repeat(100); // 200 bytes, 100 characters
    let id = env
        .create_ok(&github(&name, "ghp_allscopesUnicode07"))
        .await;
    assert_eq!(env.token(&id).unwrap().name, name);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// A refused create: 422, the message next to the field, the values kept except the token,
/// nothing saved, no provider contacted.
#[track_caller]
fn assert_refused(env: &Env, page: &Page, form: &Form, field: &str, message: &str, before: i64) {
    page.assert_status(422);
    let re = regex::Regex::new(&format!(
        r#"<p class="error" id="{field}-error">([^<]*)</p>"#
    ))
    .unwrap();
    let shown = re
        .captures(&page.body)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no {field}-error on page:\n{}", page.body));
    assert!(
        shown.contains(message),
        "{field}-error is {shown:?}, expected {message:?}"
    );
    for (k, v) in form {
        match *k {
            "token" if !v.trim().is_empty() => {
                page.assert_lacks(v.trim());
            }
            "url"
                if form
                    .iter()
                    .any(|(k, v)| *k == "provider" && v == "bitbucket") => {}
            // A URL with credentials is not echoed back: the password may be a secret.
            "url" if v.contains('@') => {
                page.assert_lacks(v);
            }
            "name" | "url" | "workspace" | "expires_on" if !v.is_empty() => {
                let kept = page.input_value(k);
                assert_eq!(
                    kept.as_deref(),
                    Some(html_escape(v).as_str()),
                    "{k} not kept:\n{}",
                    page.body
                );
            }
            _ => {}
        }
    }
    assert!(
        page.body.contains(r#"type="password""#) && !page.body.contains(r#"name="token" value"#),
        "token field must be empty"
    );
    assert_eq!(env.count(), before, "something was saved");
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn create_validation_rules() {
    let env = env().await;
    env.create_ok(&github("Deploy", "ghp_allscopesExisting8"))
        .await;
    let before = env.count();
    let sent_before = env.outbound();
    let tok = "ghp_allscopesValid0009";
    let gl_self = |url: &str| self_hosted("gitlab", "Self-managed", url, "glpat-maintainerV10");
    let cases: Vec<(&str, Form, &str, &str)> = vec![
        (
            "missing provider",
            without(github("A", tok), "provider"),
            "provider",
            "Choose GitHub, GitLab or Bitbucket",
        ),
        (
            "unknown provider",
            with(github("A", tok), "provider", "gitea"),
            "provider",
            "Choose GitHub, GitLab or Bitbucket",
        ),
        (
            "unknown hosting",
            with(github("A", tok), "hosting", "on_prem"),
            "hosting",
            "Choose cloud or self-hosted",
        ),
        (
            "bitbucket self-hosted",
            with(
                with(
                    bitbucket("A", "acme", "bb_validX"),
                    "hosting",
                    "self_hosted",
                ),
                "url",
                "https://bitbucket.example.com",
            ),
            "hosting",
            "Bitbucket Cloud only",
        ),
        ("empty name", github("", tok), "name", "Enter a name"),
        ("blank name", github("   ", tok), "name", "Enter a name"),
        (
            "name of 101 characters",
            github(&"n".repeat(101), tok),
            "name",
            "at most 100 characters",
        ),
        (
            "name of 101 unicode characters",
            github(&"é".repeat(101), tok),
            "name",
            "this one has 101",
        ),
        (
            "duplicate name, other case",
            github("deploy", tok),
            "name",
            "already exists",
        ),
        (
            "duplicate name, surrounding spaces",
            github("  DEPLOY ", tok),
            "name",
            "already exists",
        ),
        (
            "empty token",
            github("A", ""),
            "token",
            "Paste the token value",
        ),
        (
            "blank token",
            github("A", " \t "),
            "token",
            "Paste the token value",
        ),
        (
            "token of 4097 characters",
            github("A", &format!("ghp_allscopes{}", "x".repeat(4097 - 13))),
            "token",
            "at most 4096 characters",
        ),
        (
            "non-ASCII token",
            github("A", "ghp_allscopesNonAsciié9"),
            "token",
            "printable ASCII",
        ),
        (
            "token with a control character",
            github("A", "ghp_allscopes\u{7}Bell99"),
            "token",
            "printable ASCII",
        ),
        (
            "token with an inner line break",
            github("A", "ghp_allscopesLine\nBreak9"),
            "token",
            "printable ASCII",
        ),
        (
            "self-hosted without url",
            gl_self(""),
            "url",
            "Enter the server URL",
        ),
        (
            "url that is not a URL",
            gl_self("gitlab company com"),
            "url",
            "Enter a full URL",
        ),
        (
            "ftp url",
            gl_self("ftp://gitlab.example.com"),
            "url",
            "starting with https://",
        ),
        (
            "url with credentials",
            gl_self("https://user:pass@gitlab.example.com"),
            "url",
            "Remove the user name or password",
        ),
        (
            "url with the API path",
            gl_self("https://gitlab.example.com/api/v4"),
            "url",
            "without /api/v4",
        ),
        (
            // GitLab may live under a path (DESIGN.md §2); GitHub Enterprise Server may not.
            "GitHub Enterprise Server url with a path",
            self_hosted("github", "GHES", "https://ghe.example.com/github", tok),
            "url",
            "without a path",
        ),
        (
            "url with a query",
            gl_self("https://gitlab.example.com?x=1"),
            "url",
            "without ?query",
        ),
        (
            "bitbucket without workspace",
            bitbucket("A", "", "bb_validX"),
            "workspace",
            "Enter the Bitbucket workspace ID",
        ),
        (
            "workspace with invalid characters",
            bitbucket("A", "acme corp!", "bb_validX"),
            "workspace",
            "only letters, digits",
        ),
        (
            "workspace too long",
            bitbucket("A", &"w".repeat(63), "bb_validX"),
            "workspace",
            "only letters, digits",
        ),
        (
            "expiry in another format",
            with(github("A", tok), "expires_on", "31/12/2026"),
            "expires_on",
            "YYYY-MM-DD",
        ),
        (
            "expiry that does not exist",
            with(github("A", tok), "expires_on", "2026-02-30"),
            "expires_on",
            "YYYY-MM-DD",
        ),
        (
            "description too long",
            with(github("A", tok), "description", &"d".repeat(1001)),
            "description",
            "at most 1000",
        ),
    ];
    for (what, form, field, message) in &cases {
        let page = env.create(form).await;
        assert!(
            page.status.as_u16() == 422,
            "{what}: expected 422, got {}:\n{}",
            page.status,
            page.body
        );
        assert_refused(&env, &page, form, field, message, before);
    }
    assert_eq!(
        env.outbound(),
        sent_before,
        "a provider was contacted for a form that cannot be saved"
    );
}

#[tokio::test]
async fn several_errors_are_shown_together_with_a_summary() {
    let env = env().await;
    let form = self_hosted("gitlab", "", "ftp://x.example.com", "");
    let page = env.create(&form).await;
    page.assert_status(422)
        .assert_contains(r#"id="name-error""#)
        .assert_contains(r#"id="url-error""#)
        .assert_contains(r#"id="token-error""#)
        .assert_contains(r#"id="form-errors""#)
        .assert_contains(r#"aria-invalid="true""#);
    assert_eq!(env.count(), 0);
}

#[tokio::test]
async fn plain_http_url_is_refused_without_an_allow_list() {
    let gl = fakes::gitlab::start();
    let app = spawn_app_with(Options {
        gitlab_url: Some(gl.url.clone()),
        ..Default::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    let page = owner
        .post(
            LIST,
            &[
                ("csrf_token", &csrf),
                ("provider", "gitlab"),
                ("hosting", "self_hosted"),
                ("name", "Plain"),
                ("url", &gl.url),
                ("token", "glpat-maintainerPlain11"),
            ],
        )
        .await;
    page.assert_status(422)
        .assert_contains(r#"id="url-error""#)
        .assert_contains("Use https://")
        .assert_lacks("glpat-maintainerPlain11");
    assert_eq!(page.input_value("url").as_deref(), Some(gl.url.as_str()));
    gl.assert_untouched();
    let mut conn = db(&app);
    let n: i64 = git_tokens::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn failed_test_on_create_saves_nothing() {
    let env = env().await;
    let form = github("Bad one", "ghp_badCredentials012");
    let page = env.create(&form).await;
    page.assert_status(422)
        .assert_contains(r#"data-status="invalid""#)
        .assert_contains("Not saved")
        .assert_lacks("ghp_badCredentials012");
    assert_eq!(page.input_value("name").as_deref(), Some("Bad one"));
    assert!(env.gh.saw_token("ghp_badCredentials012"));
    assert_eq!(env.count(), 0);
    assert_eq!(env.audit_count("token.create"), 0);
}

#[tokio::test]
async fn missing_permissions_needs_save_anyway() {
    let env = env().await;
    let form = github("Repo only", "ghp_repoonlyPerm0013");
    let page = env.create(&form).await;
    page.assert_status(422)
        .assert_contains(r#"data-status="missing_permissions""#)
        .assert_contains(r#"name="save_anyway""#)
        .assert_contains("admin:repo_hook")
        .assert_lacks("ghp_repoonlyPerm0013");
    assert_eq!(env.count(), 0);

    let id = env.create_ok(&with(form, "save_anyway", "1")).await;
    let t = env.token(&id).unwrap();
    assert_eq!(t.status, "missing_permissions");
    let list = env.owner.get(LIST).await;
    assert_eq!(
        rows(&list),
        vec![(id, "missing_permissions".into(), "Repo only".into())]
    );
}

#[tokio::test]
async fn save_anyway_does_not_save_an_invalid_token() {
    let env = env().await;
    let page = env
        .create(&with(
            github("Bad", "ghp_badAnyway0014"),
            "save_anyway",
            "1",
        ))
        .await;
    page.assert_status(422)
        .assert_contains(r#"data-status="invalid""#);
    assert_eq!(env.count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Provider-specific fields
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn new_form_renders_provider_specific_fields() {
    let env = env().await;
    let base = format!("{LIST}/new");

    let gh = env.owner.get(&base).await;
    gh.assert_status(200)
        .assert_contains(r#"<select id="hosting""#)
        .assert_lacks(r#"name="url""#)
        .assert_lacks(r#"name="workspace""#);

    let gl = env
        .owner
        .get(&format!("{base}?provider=gitlab&hosting=self_hosted"))
        .await;
    gl.assert_status(200)
        .assert_contains(r#"<input id="url" name="url""#)
        .assert_contains("GitLab server URL")
        .assert_contains(r#"<option value="gitlab" selected>"#)
        .assert_contains(r#"<option value="self_hosted" selected>"#);

    let ghes = env
        .owner
        .get(&format!("{base}?provider=github&hosting=self_hosted"))
        .await;
    ghes.assert_status(200)
        .assert_contains("GitHub Enterprise Server URL");

    let bb = env.owner.get(&format!("{base}?provider=bitbucket")).await;
    bb.assert_status(200)
        .assert_contains(r#"name="workspace""#)
        .assert_lacks(r#"<select id="hosting""#)
        .assert_lacks(r#"name="url""#);

    // Bitbucket has no self-hosted variant: no URL field even when asked for.
    env.owner
        .get(&format!("{base}?provider=bitbucket&hosting=self_hosted"))
        .await
        .assert_status(200)
        .assert_lacks(r#"name="url""#);

    // Unknown values fall back to a usable form, never an error.
    env.owner
        .get(&format!("{base}?provider=gitea&hosting=moon"))
        .await
        .assert_status(200)
        .assert_contains(r#"id="provider-fields""#);

    let frag = env
        .owner
        .get_htmx(&format!("{base}?provider=bitbucket"), "provider-fields")
        .await;
    frag.assert_status(200)
        .assert_contains(r#"id="provider-fields""#)
        .assert_contains(r#"name="workspace""#)
        .assert_lacks("<html")
        .assert_lacks("<body");
}

// ---------------------------------------------------------------------------------------------
// Edit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn edit_form_shows_values_but_never_the_token() {
    let env = env().await;
    let id = env
        .create_ok(&with(
            github("Editable", "ghp_allscopesEditForm15"),
            "description",
            "for CI",
        ))
        .await;
    let page = env.owner.get(&format!("{}/edit", url(&id))).await;
    page.assert_status(200)
        .assert_contains("for CI")
        .assert_contains("ghp_…rm15")
        .assert_lacks("ghp_allscopesEditForm15");
    assert_eq!(page.input_value("name").as_deref(), Some("Editable"));
}

#[tokio::test]
async fn edit_rename_and_description_without_a_new_token() {
    let env = env().await;
    let id = env
        .create_ok(&github("Old name", "ghp_allscopesRename16"))
        .await;
    let sent = env.gh.requests().len();
    let before = env.token(&id).unwrap();

    let page = env
        .post(
            &url(&id),
            &with(github("New name", ""), "description", "Deploys the web app"),
        )
        .await;
    page.assert_redirect_to(&url(&id));
    assert_eq!(
        env.gh.requests().len(),
        sent,
        "an edit without token re-tested"
    );
    let after = env.token(&id).unwrap();
    assert_eq!(after.name, "New name");
    assert_eq!(after.description.as_deref(), Some("Deploys the web app"));
    assert_eq!(
        after.secret, before.secret,
        "secret changed without a new value"
    );
    assert_eq!(after.status, "valid");
    env.owner
        .get(&url(&id))
        .await
        .assert_status(200)
        .assert_contains("Token “New name” updated")
        .assert_contains("Deploys the web app");

    // Nothing changed: no audit row, a message that says so.
    let updates = env.audit_count("token.update");
    env.post(
        &url(&id),
        &with(github("New name", ""), "description", "Deploys the web app"),
    )
    .await
    .assert_redirect_to(&url(&id));
    assert_eq!(env.audit_count("token.update"), updates);
    env.owner
        .get(&url(&id))
        .await
        .assert_contains("Nothing changed");
}

#[tokio::test]
async fn edit_that_changes_the_destination_needs_the_token_again() {
    let env = env().await;
    let ghes = fakes::github::start_ghes();
    let other = fakes::github::start_ghes();
    let gh_id = env
        .create_ok(&self_hosted(
            "github",
            "GHES",
            &ghes.url,
            "ghp_allscopesDest0017",
        ))
        .await;
    let bb_id = env
        .create_ok(&bitbucket("BB", "acme", "bb_validDest0018"))
        .await;
    let ghes_seen = ghes.requests().len();
    let sent = env.outbound();
    let before_gh = env.token(&gh_id).unwrap();
    let msg = "Paste the token value again";
    let cases: Vec<(&str, &str, Form)> = vec![
        (
            "url",
            gh_id.as_str(),
            self_hosted("github", "GHES", &other.url, ""),
        ),
        ("hosting", gh_id.as_str(), github("GHES", "")),
        (
            "provider",
            gh_id.as_str(),
            self_hosted("gitlab", "GHES", &ghes.url, ""),
        ),
        (
            "workspace",
            bb_id.as_str(),
            bitbucket("BB", "other-space", ""),
        ),
        ("provider", bb_id.as_str(), github("BB", "")),
    ];
    let re = regex::Regex::new(r#"<p class="error" id="token-error">([^<]*)</p>"#).unwrap();
    for (what, id, form) in &cases {
        let page = env.post(&url(id), form).await;
        assert_eq!(page.status.as_u16(), 422, "{what}: {}", page.body);
        let shown = re.captures(&page.body).map(|c| c[1].to_string());
        assert!(
            shown.as_deref().is_some_and(|m| m.contains(msg)),
            "{what}: token-error {shown:?}"
        );
        page.assert_lacks("ghp_allscopesDest0017")
            .assert_lacks("bb_validDest0018");
    }
    assert_eq!(env.outbound(), sent, "a provider was contacted");
    assert_eq!(ghes.requests().len(), ghes_seen, "old GHES contacted");
    other.assert_untouched();
    let after = env.token(&gh_id).unwrap();
    assert_eq!(after.url, before_gh.url);
    assert_eq!(after.provider, "github");
    assert_eq!(
        env.token(&bb_id).unwrap().workspace.as_deref(),
        Some("acme")
    );
}

#[tokio::test]
async fn edit_with_a_new_token_retests_and_saves() {
    let env = env().await;
    let ghes = fakes::github::start_ghes();
    let other = fakes::github::start_ghes();
    let id = env
        .create_ok(&self_hosted(
            "github",
            "Moving",
            &ghes.url,
            "ghp_allscopesFirst0019",
        ))
        .await;
    let before = env.token(&id).unwrap();
    // New destination with a new value: tested there, then saved.
    let page = env
        .post(
            &url(&id),
            &self_hosted("github", "Moving", &other.url, "ghp_allscopesSecond020"),
        )
        .await;
    page.assert_redirect_to(&url(&id));
    assert!(other.saw_token("ghp_allscopesSecond020"));
    assert!(
        !other.saw_token("ghp_allscopesFirst0019"),
        "old token sent to the new URL"
    );
    let after = env.token(&id).unwrap();
    assert_eq!(after.url.as_deref(), Some(other.url.as_str()));
    assert_eq!(after.hint, "ghp_…d020");
    assert_ne!(after.secret, before.secret);
    assert_eq!(after.status, "valid");

    // A new value that fails its test is not saved.
    let page = env
        .post(
            &url(&id),
            &self_hosted("github", "Moving", &other.url, "ghp_badThird00021"),
        )
        .await;
    page.assert_status(422)
        .assert_contains(r#"data-status="invalid""#)
        .assert_lacks("ghp_badThird00021");
    assert_eq!(env.token(&id).unwrap().secret, after.secret);
    assert_eq!(env.token(&id).unwrap().hint, "ghp_…d020");

    // An invalid new value is a message, not a 400/500.
    let page = env
        .post(
            &url(&id),
            &self_hosted("github", "Moving", &other.url, "ghp_é"),
        )
        .await;
    page.assert_status(422)
        .assert_contains(r#"id="token-error""#)
        .assert_contains("printable ASCII");
}

#[tokio::test]
async fn edit_validation_and_duplicate_name() {
    let env = env().await;
    env.create_ok(&github("First", "ghp_allscopesDupA0022"))
        .await;
    let id = env
        .create_ok(&github("Second", "ghp_allscopesDupB0023"))
        .await;
    let sent = env.outbound();
    let page = env.post(&url(&id), &github("FIRST", "")).await;
    page.assert_status(422)
        .assert_contains(r#"id="name-error""#)
        .assert_contains("already exists");
    assert_eq!(page.input_value("name").as_deref(), Some("FIRST"));
    let page = env.post(&url(&id), &github("", "")).await;
    page.assert_status(422)
        .assert_contains(r#"id="name-error""#);
    let page = env
        .post(&url(&id), &with(github("Second", ""), "expires_on", "soon"))
        .await;
    page.assert_status(422)
        .assert_contains(r#"id="expires_on-error""#);
    assert_eq!(env.token(&id).unwrap().name, "Second");
    assert_eq!(env.outbound(), sent);
    // Renaming to another case of its own name is fine.
    env.post(&url(&id), &github("SECOND", ""))
        .await
        .assert_redirect_to(&url(&id));
    assert_eq!(env.token(&id).unwrap().name, "SECOND");
    // Unknown token id: 404.
    env.post(&url("nope"), &github("X", ""))
        .await
        .assert_status(404);
}

// ---------------------------------------------------------------------------------------------
// Delete
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_with_confirmation() {
    let env = env().await;
    let id = env
        .create_ok(&github("Doomed", "ghp_allscopesDelete024"))
        .await;
    let keep = env
        .create_ok(&github("Kept", "ghp_allscopesKeep00025"))
        .await;
    let confirm = env.owner.get(&format!("{}/delete", url(&id))).await;
    confirm
        .assert_status(200)
        .assert_contains("Delete “Doomed”?")
        .assert_contains(&format!(r#"action="{}/delete""#, url(&id)))
        .assert_contains("No service uses this token");
    assert_eq!(env.count(), 2, "the confirmation page deleted something");

    env.post(&format!("{}/delete", url(&id)), &[])
        .await
        .assert_redirect_to(LIST);
    assert!(env.token(&id).is_none());
    assert!(env.token(&keep).is_some());
    let list = env.owner.get(LIST).await;
    list.assert_contains("Token “Doomed” deleted");
    assert_eq!(
        rows(&list).into_iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![keep]
    );
    env.owner.get(&url(&id)).await.assert_status(404);
    env.post(&format!("{}/delete", url(&id)), &[])
        .await
        .assert_status(404);
}

#[tokio::test]
async fn delete_is_refused_while_a_service_uses_the_token() {
    let env = env().await;
    let id = env
        .create_ok(&github("In use", "ghp_allscopesInUse0026"))
        .await;
    env.add_service("billing-api", &id);
    let confirm = env.owner.get(&format!("{}/delete", url(&id))).await;
    confirm
        .assert_status(200)
        .assert_contains("billing-api")
        .assert_contains("cannot be deleted yet")
        .assert_lacks(r#"class="button danger""#);
    let page = env.post(&format!("{}/delete", url(&id)), &[]).await;
    page.assert_status(409)
        .assert_contains("billing-api")
        .assert_contains("another token");
    assert!(env.token(&id).is_some());
    assert_eq!(env.audit_count("token.delete"), 0);
    env.owner
        .get(&url(&id))
        .await
        .assert_status(200)
        .assert_contains("billing-api");
}

// ---------------------------------------------------------------------------------------------
// List: pages and filters
// ---------------------------------------------------------------------------------------------

fn seed(env: &Env, name: &str, provider: &str, status: &str) {
    let mut conn = db(&env.app);
    let n = forgekeys::db::now();
    let t = GitToken {
        id: forgekeys::db::new_id(),
        org_id: env.org_id(),
        name: name.into(),
        name_key: forgekeys::db::models::token::name_key(name),
        provider: provider.into(),
        hosting: "cloud".into(),
        url: None,
        workspace: (provider == "bitbucket").then(|| "acme".to_string()),
        description: None,
        secret: vec![0u8; 48],
        key_id: "seed".into(),
        hint: "…".into(),
        status: status.into(),
        last_tested_at: None,
        account: None,
        expires_at: None,
        expiry_source: None,
        last_test: None,
        created_by: None,
        created_at: n,
        updated_by: None,
        updated_at: n,
        rotated_at: None,
        username: None,
        identity_key: None,
        version: 1,
        previous_hint: None,
        previous_kind: None,
    };
    GitToken::insert(&mut conn, &t).unwrap();
}

#[tokio::test]
async fn list_paginates_and_filters() {
    let env = env().await;
    for i in 0..30 {
        let (provider, status) = match i % 3 {
            0 => ("github", "valid"),
            1 => ("gitlab", "invalid"),
            _ => ("bitbucket", "valid"),
        };
        seed(&env, &format!("tok-{i:02}"), provider, status);
    }
    seed(&env, "100%_literal", "github", "expired");

    let p1 = env.owner.get(LIST).await;
    p1.assert_status(200)
        .assert_contains("31 tokens · page 1 of 2")
        .assert_contains(&format!(r#"href="{LIST}?page=2" rel="next""#));
    let r1 = rows(&p1);
    assert_eq!(r1.len(), 25);
    let p2 = env.owner.get(&format!("{LIST}?page=2")).await;
    p2.assert_status(200)
        .assert_contains(&format!(r#"href="{LIST}?page=1" rel="prev""#))
        .assert_lacks(r#"rel="next""#);
    let r2 = rows(&p2);
    assert_eq!(r2.len(), 6);
    let mut all: Vec<String> = r1.iter().chain(r2.iter()).map(|r| r.2.clone()).collect();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "a row on both pages");

    // Nonsense page numbers are page 1, never an error.
    for p in ["0", "-3", "abc", "99999999999999999999"] {
        let page = env.owner.get(&format!("{LIST}?page={p}")).await;
        page.assert_status(200);
        assert_eq!(rows(&page).len(), 25, "page={p}");
    }
    env.owner
        .get(&format!("{LIST}?page=9"))
        .await
        .assert_status(200)
        .assert_contains("No token matches");

    // q: case-insensitive substring of the name; LIKE wildcards are literal.
    let q = env.owner.get(&format!("{LIST}?q=TOK-1")).await;
    let names: Vec<String> = rows(&q).into_iter().map(|r| r.2).collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(names.iter().all(|n| n.starts_with("tok-1")));
    assert_eq!(q.input_value("q").as_deref(), Some("TOK-1"));
    let q = env.owner.get(&format!("{LIST}?q=%25_")).await;
    assert_eq!(
        rows(&q).into_iter().map(|r| r.2).collect::<Vec<_>>(),
        vec!["100%_literal".to_string()]
    );

    let gl = env.owner.get(&format!("{LIST}?provider=gitlab")).await;
    let gl_rows = rows(&gl);
    assert_eq!(gl_rows.len(), 10);
    assert!(gl_rows.iter().all(|r| r.1 == "invalid"));
    gl.assert_contains(r#"<option value="gitlab" selected>"#);

    let inv = env.owner.get(&format!("{LIST}?status=invalid")).await;
    assert_eq!(rows(&inv).len(), 10);
    let both = env
        .owner
        .get(&format!("{LIST}?provider=github&status=valid"))
        .await;
    assert_eq!(rows(&both).len(), 10);
    let none = env
        .owner
        .get(&format!("{LIST}?provider=bitbucket&status=invalid"))
        .await;
    none.assert_status(200).assert_contains("No token matches");
    assert!(rows(&none).is_empty());

    // Filters are kept in the pagination links.
    let valid = env.owner.get(&format!("{LIST}?status=valid&q=tok")).await;
    valid
        .assert_contains("20 tokens · page 1 of 1")
        .assert_lacks(r#"rel="next""#);

    let bad = env.owner.get(&format!("{LIST}?provider=gitea")).await;
    bad.assert_status(400)
        .assert_contains("Unknown provider filter")
        .assert_contains("gitea")
        .assert_contains("github, gitlab or bitbucket");
    let bad = env.owner.get(&format!("{LIST}?status=great")).await;
    bad.assert_status(400)
        .assert_contains("Unknown status filter");
}

#[tokio::test]
async fn pagination_links_keep_the_filters() {
    let env = env().await;
    for i in 0..27 {
        seed(&env, &format!("gh-{i:02}"), "github", "valid");
    }
    seed(&env, "gl-only", "gitlab", "valid");
    let p = env.owner.get(&format!("{LIST}?provider=github")).await;
    p.assert_contains("27 tokens · page 1 of 2")
        .assert_contains(&format!(r#"href="{LIST}?provider=github&#38;page=2""#));
}

#[tokio::test]
async fn nojs_refresh_shows_provider_fields_without_testing() {
    let env = env().await;
    let test_url = format!("{LIST}/test");
    let secret = "glpat-secretvalue123";

    let gl = env
        .post(
            &test_url,
            &[
                ("provider", "gitlab".into()),
                ("hosting", "self_hosted".into()),
                ("name", "X".into()),
                ("token", secret.into()),
                ("refresh", "1".into()),
            ],
        )
        .await;
    gl.assert_status(200)
        .assert_contains(r#"<input id="url" name="url""#)
        .assert_contains(r#"<option value="gitlab" selected>"#)
        .assert_lacks(r#"class="result"#)
        .assert_lacks("data-status=")
        .assert_lacks("Tested without saving")
        .assert_lacks(secret);

    let bb = env
        .post(
            &test_url,
            &[
                ("provider", "bitbucket".into()),
                ("hosting", "self_hosted".into()),
                ("name", "X".into()),
                ("token", secret.into()),
                ("refresh", "1".into()),
            ],
        )
        .await;
    bb.assert_status(200)
        .assert_contains(r#"name="workspace""#)
        .assert_lacks(r#"name="url""#)
        .assert_lacks(r#"class="result"#)
        .assert_lacks(secret);

    assert_eq!(env.outbound(), 0, "a refresh must not contact any provider");
    assert_eq!(env.count(), 0);
}

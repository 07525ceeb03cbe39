//! The token form as a browser posts it, for tests through the HTTP form endpoints: the form's
//! fields, an app with a signed-in owner of `acme`, and the checks of a result panel
//! (`through_forms` tests a token through both the HTMX fragment and the no-JS page).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::helpers::*;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::token::{GitToken, TokenFilter};

pub const BASE: &str = "/orgs/acme/settings/git-tokens";

/// The add/edit form's fields.
#[derive(Clone, Debug)]
pub struct Form {
    pub provider: &'static str,
    pub hosting: &'static str,
    pub name: String,
    pub token: String,
    pub url: String,
    pub workspace: String,
    pub extra: Vec<(&'static str, String)>,
}

impl Form {
    pub fn new(provider: &'static str, hosting: &'static str, token: &str) -> Form {
        Form {
            provider,
            hosting,
            name: format!("{provider} {hosting} token"),
            token: token.to_owned(),
            url: String::new(),
            workspace: String::new(),
            extra: Vec::new(),
        }
    }
    pub fn github(token: &str) -> Form {
        Form::new("github", "cloud", token)
    }
    pub fn gitlab(token: &str) -> Form {
        Form::new("gitlab", "cloud", token)
    }
    pub fn bitbucket(token: &str, workspace: &str) -> Form {
        Form::new("bitbucket", "cloud", token).workspace(workspace)
    }
    pub fn self_hosted(provider: &'static str, token: &str, url: &str) -> Form {
        Form::new(provider, "self_hosted", token).url(url)
    }
    pub fn url(mut self, url: &str) -> Form {
        self.url = url.to_owned();
        self
    }
    pub fn workspace(mut self, w: &str) -> Form {
        self.workspace = w.to_owned();
        self
    }
    pub fn name(mut self, n: &str) -> Form {
        self.name = n.to_owned();
        self
    }
    /// The Bitbucket `username` field (API tokens, app passwords).
    pub fn username(self, u: &str) -> Form {
        self.with("username", u)
    }
    pub fn with(mut self, k: &'static str, v: &str) -> Form {
        self.extra.push((k, v.to_owned()));
        self
    }
    pub fn fields(&self, csrf: Option<&str>) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("provider", self.provider.to_owned()),
            ("hosting", self.hosting.to_owned()),
            ("name", self.name.clone()),
            ("token", self.token.clone()),
            ("url", self.url.clone()),
            ("workspace", self.workspace.clone()),
            ("description", String::new()),
        ];
        f.extend(self.extra.iter().cloned());
        if let Some(c) = csrf {
            f.push(("csrf_token", c.to_owned()));
        }
        f
    }
}

pub fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A signed-in owner of `acme` on an app wired to the given fakes.
pub struct Env {
    pub app: TestApp,
    pub owner: Client,
    pub csrf: String,
}

pub async fn env(opts: Options) -> Env {
    let app = spawn_app_with(opts);
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    Env { app, owner, csrf }
}

pub fn loopback() -> Option<String> {
    Some("127.0.0.0/8".into())
}

impl Env {
    /// `POST …/test` as HTMX: the result fragment.
    pub async fn test_htmx(&self, f: &Form) -> Page {
        let fields = f.fields(None);
        self.owner
            .post_htmx(
                &format!("{BASE}/test"),
                &self.csrf,
                "test-result",
                &pairs(&fields),
            )
            .await
    }

    /// `POST …/test` without JS: the whole form page.
    pub async fn test_nojs(&self, f: &Form) -> Page {
        let fields = f.fields(Some(&self.csrf));
        self.owner
            .post(&format!("{BASE}/test"), &pairs(&fields))
            .await
    }

    /// `POST …/git-tokens` (create).
    pub async fn create(&self, f: &Form) -> Page {
        let fields = f.fields(Some(&self.csrf));
        self.owner.post(BASE, &pairs(&fields)).await
    }

    pub fn token_named(&self, name: &str) -> Option<GitToken> {
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

    /// Create `f` and return the stored row (the create must pass).
    pub async fn create_ok(&self, f: &Form) -> GitToken {
        let p = self.create(f).await;
        p.assert_redirect_to(BASE);
        p.assert_lacks(&f.token);
        self.token_named(&f.name).expect("token stored")
    }

    /// `POST …/{id}/test` as HTMX targeting the list row.
    pub async fn retest_row(&self, id: &str) -> Page {
        self.owner
            .post_htmx(
                &format!("{BASE}/{id}/test"),
                &self.csrf,
                &format!("row-{id}"),
                &[("return_to", "list")],
            )
            .await
    }
}

/// `data-status` of the result panel (`<div class="result …" data-status=…>`).
#[track_caller]
pub fn result_status(p: &Page) -> String {
    let re = regex::Regex::new(r#"<div class="result[^"]*" data-status="([a-z_]+)""#).unwrap();
    match re.captures(&p.body) {
        Some(c) => c[1].to_owned(),
        None => panic!("no result panel in:\n{}", p.body),
    }
}

/// What a test through the form must show.
pub struct Expect {
    pub status: &'static str,
    /// Texts the result must contain (account, expiry, each missing permission and its fix…).
    pub texts: Vec<String>,
    /// Names of missing permissions (`data-missing="…"`).
    pub missing: Vec<&'static str>,
    /// Texts the result must not contain.
    pub lacks: Vec<String>,
    /// The clone check's `data-clone` (`passed`, `failed`, `skipped`, `error`), when checked.
    pub clone: Option<&'static str>,
}

pub fn expect(status: &'static str, texts: &[&str], missing: &[&'static str]) -> Expect {
    Expect {
        status,
        texts: texts.iter().map(|s| (*s).to_owned()).collect(),
        missing: missing.to_vec(),
        lacks: Vec::new(),
        clone: None,
    }
}

impl Expect {
    /// The result must not contain these texts.
    pub fn lacking(mut self, texts: &[&str]) -> Expect {
        self.lacks.extend(texts.iter().map(|s| (*s).to_owned()));
        self
    }

    /// The clone check ended so (`data-clone="…"`).
    pub fn clone_check(mut self, result: &'static str) -> Expect {
        self.clone = Some(result);
        self
    }
}

/// The fix text shown for the missing permission `name` (`<li data-missing="name">…</li>`).
#[track_caller]
pub fn missing_fix(p: &Page, name: &str) -> String {
    let re = regex::Regex::new(&format!(
        r#"<li data-missing="{}">(.*?)</li>"#,
        regex::escape(name)
    ))
    .unwrap();
    match re.captures(&p.body) {
        Some(c) => c[1].to_owned(),
        None => panic!("no missing permission {name:?} in:\n{}", p.body),
    }
}

#[track_caller]
pub fn check_result(p: &Page, f: &Form, e: &Expect, how: &str) {
    assert_eq!(
        result_status(p),
        e.status,
        "{how} {}: wrong status in:\n{}",
        f.token,
        p.body
    );
    for t in &e.texts {
        assert!(
            p.body.contains(t.as_str()),
            "{how} {}: lacks {t:?}:\n{}",
            f.token,
            p.body
        );
    }
    let re = regex::Regex::new(r#"data-missing="([^"]+)""#).unwrap();
    let shown: Vec<&str> = re
        .captures_iter(&p.body)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    let mut want = e.missing.clone();
    want.sort_unstable();
    let mut got = shown.clone();
    got.sort_unstable();
    assert_eq!(got, want, "{how} {}: missing permissions", f.token);
    for t in &e.lacks {
        assert!(
            !p.body.contains(t.as_str()),
            "{how} {}: contains {t:?}:\n{}",
            f.token,
            p.body
        );
    }
    if let Some(clone) = e.clone {
        assert!(
            p.body.contains(&format!(r#"data-clone="{clone}""#)),
            "{how} {}: clone check is not {clone}:\n{}",
            f.token,
            p.body
        );
    }
    assert!(
        !p.body.contains(&f.token),
        "{how}: the token value is echoed:\n{}",
        p.body
    );
}

/// Test `f` through both form endpoints (HTMX fragment and the no-JS page) and check both.
pub async fn through_forms(env: &Env, f: &Form, e: &Expect) {
    let frag = env.test_htmx(f).await;
    frag.assert_status(200);
    assert!(
        !frag.body.contains("<html"),
        "HTMX gets a fragment:\n{}",
        frag.body
    );
    check_result(&frag, f, e, "htmx");

    let page = env.test_nojs(f).await;
    page.assert_status(200)
        .assert_contains("<html")
        .assert_contains("id=\"test-result\"")
        .assert_contains("Tested without saving");
    check_result(&page, f, e, "no-js");
}

//! Fake GitHub REST API (api.github.com, or GHES under `/api/v3`) and GitHub's Git smart HTTP
//! (`/{owner}/{repo}.git/…`, the same server: tests point `FORGEKEYS_GITHUB_GIT_URL` at it).
//! See the table in `../mod.rs`. Fine-grained tokens: [`fine_grained`]; GitHub App tokens,
//! SAML SSO and organization rules: [`orgs`].

pub mod fine_grained;
pub mod orgs;

use super::dates;
use super::git_server::{self, GitAccess, GitFlavour};
use super::{FakeResponse, FakeServer, RecordedRequest};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const GHES_VERSION: &str = "3.14.2";
pub(crate) const ALL_SCOPES: &str = "admin:repo_hook, read:org, repo";
pub(crate) const USER_BODY: &str = r#"{"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=","avatar_url":"https://github.com/images/error/octocat_happy.gif","html_url":"https://github.com/octocat","type":"User","site_admin":false,"name":"monalisa octocat","company":"GitHub","email":"octocat@github.com","created_at":"2008-01-14T04:33:35Z","updated_at":"2008-01-14T04:33:35Z","two_factor_authentication":true}"#;
const ORGS: &str = r#"[{"login":"acme","id":2,"node_id":"MDEyOk9yZ2FuaXphdGlvbjE=","url":"https://api.github.com/orgs/acme","avatar_url":"https://github.com/images/error/octocat_happy.gif","description":"A great organization"}]"#;
/// Public repositories every token reads (and every fine-grained token lists, §6).
pub const PUBLIC_REPOS: [&str; 2] = ["acme/docs", "octocat/hello-world"];

/// Fake api.github.com (plus github.com's Git smart HTTP on the same port).
pub fn start() -> FakeServer {
    let once = Once::default();
    FakeServer::start(move |req| {
        git_server::answer(req, "", GitFlavour::Github, git_access)
            .unwrap_or_else(|| once.answer(req, ""))
    })
}

/// Fake GitHub Enterprise Server: the API under `/api/v3`, Git at the root,
/// `X-GitHub-Enterprise-Version` on every API answer.
pub fn start_ghes() -> FakeServer {
    let once = Once::default();
    FakeServer::start(move |req| {
        if req.path.starts_with("/api/v3") {
            once.answer(req, "/api/v3")
                .header("x-github-enterprise-version", GHES_VERSION)
        } else {
            git_server::answer(req, "", GitFlavour::Github, git_access).unwrap_or_else(not_found)
        }
    })
}

/// A repository object as `/user/repos` lists it (shape: PyGithub ReplayData
/// `Authentication.testAppInstallationAuthAuthentication.txt`, provider-research.md §1).
pub(crate) fn repo_json(full_name: &str, private: bool) -> String {
    let (owner, name) = full_name.split_once('/').unwrap_or(("acme", full_name));
    let kind = if owner == "octocat" {
        "User"
    } else {
        "Organization"
    };
    let visibility = if private { "private" } else { "public" };
    format!(
        r#"{{"id":{},"name":"{name}","full_name":"{full_name}","private":{private},"visibility":"{visibility}","owner":{{"login":"{owner}","id":2,"type":"{kind}","site_admin":false}},"default_branch":"main","permissions":{{"admin":true,"maintain":true,"push":true,"triage":true,"pull":true}}}}"#,
        100_000 + full_name.len()
    )
}

/// Per-server memory for the `ghp_once*` tokens: valid on their first `/user` call, then revoked
/// (401), like a token that expired or was revoked after it was saved.
#[derive(Default, Clone)]
struct Once(Arc<Mutex<HashSet<String>>>);

impl Once {
    fn answer(&self, req: &RecordedRequest, prefix: &str) -> FakeResponse {
        let token = req.token().unwrap_or("");
        let Some(rest) = token.strip_prefix("ghp_once") else {
            return answer(req, prefix);
        };
        let route = req.route().strip_prefix(prefix).unwrap_or("");
        let mut seen = self.0.lock().unwrap();
        if route == "/user" && !seen.insert(token.to_owned()) {
            return bad_credentials();
        }
        let expiry = (!rest.starts_with("noexpiry")).then(|| expiry_header(req, token));
        match route {
            "/user" => classic_user(req, ALL_SCOPES, expiry.as_deref()),
            "/user/repos" => repos_answer(req, &[("octocat/hello-world", false)], ALL_SCOPES),
            _ => not_found(),
        }
    }
}

/// The expiration header of a token: its expiry (`dates::github_expiry`) in UTC.
pub(crate) fn expiry_header(req: &RecordedRequest, token: &str) -> String {
    dates::github_utc(dates::github_expiry(req.anchor, token))
}

/// When the primary rate limit of the fake resets: an hour after the fake started.
pub fn rate_reset(anchor: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    anchor + chrono::Duration::hours(1)
}

pub(crate) fn rate_headers(
    req: &RecordedRequest,
    resp: FakeResponse,
    remaining: &str,
) -> FakeResponse {
    resp.header("x-github-media-type", "github.v3; format=json")
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", remaining)
        .header("x-ratelimit-reset", &dates::epoch(rate_reset(req.anchor)))
        .header(
            "x-ratelimit-used",
            if remaining == "0" { "5000" } else { "1" },
        )
        .header("x-ratelimit-resource", "core")
}

pub(crate) fn not_found() -> FakeResponse {
    FakeResponse::json(
        404,
        r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#,
    )
}

pub(crate) fn bad_credentials() -> FakeResponse {
    FakeResponse::json(
        401,
        r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}"#,
    )
}

/// Classic `/user` answer with the given scopes header and expiry (None = no header).
pub(crate) fn classic_user(
    req: &RecordedRequest,
    scopes: &str,
    expiry: Option<&str>,
) -> FakeResponse {
    let mut resp = rate_headers(req, FakeResponse::json(200, USER_BODY), "4999")
        .header("x-oauth-scopes", scopes)
        .header("x-accepted-oauth-scopes", "");
    if let Some(e) = expiry {
        resp = resp.header("github-authentication-token-expiration", e);
    }
    resp
}

/// `/user/repos` from `(full_name, private)` pairs, honouring
/// `affiliation=organization_member` (user/repos/get.md).
pub(crate) fn repos_answer(
    req: &RecordedRequest,
    repos: &[(&str, bool)],
    scopes: &str,
) -> FakeResponse {
    let org_only =
        super::listing::param(req, "affiliation").as_deref() == Some("organization_member");
    let items: Vec<String> = repos
        .iter()
        .filter(|(name, _)| !org_only || !name.starts_with("octocat/"))
        .map(|(name, private)| repo_json(name, *private))
        .collect();
    rate_headers(
        req,
        FakeResponse::json(200, format!("[{}]", items.join(","))),
        "4998",
    )
    .header("x-oauth-scopes", scopes)
}

/// Who a classic token belongs to, which decides `/user/orgs`, `/user/repos` and Git.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Account {
    /// Member of `acme`: `acme/web` (private) and `octocat/hello-world`.
    Org,
    /// No organization: `octocat/hello-world` only.
    NoOrg,
    /// No `repo` scope: `/user/repos` shows public repositories only.
    PublicOnly,
    /// Member of the SAML SSO organization `acme-sso` only, token not authorized (orgs.rs).
    Sso,
    /// Member of `forbidorg`, which forbids classic tokens (orgs.rs).
    Forbidden,
}

/// The expiration header a classic token gets.
#[derive(Debug, Clone, Copy)]
enum Expiry {
    Utc,
    None,
    East,
    West,
    Odd,
}

/// Classic tokens: prefix → (scopes, expiry header, account).
fn classic(t: &str) -> Option<(&'static str, Expiry, Account)> {
    const TABLE: &[(&str, &str, Expiry, Account)] = &[
        ("ghp_allscopes", ALL_SCOPES, Expiry::Utc, Account::Org),
        ("ghp_slow", ALL_SCOPES, Expiry::Utc, Account::Org),
        // admin:org ⊃ write:org ⊃ read:org (scopes-for-oauth-apps).
        (
            "ghp_adminorg",
            "admin:repo_hook, admin:org, repo",
            Expiry::Utc,
            Account::Org,
        ),
        ("ghp_repoonly", "repo", Expiry::Utc, Account::Org),
        (
            "ghp_noorgs",
            "admin:repo_hook, repo",
            Expiry::Utc,
            Account::NoOrg,
        ),
        (
            "ghp_inorgs",
            "admin:repo_hook, repo",
            Expiry::Utc,
            Account::Org,
        ),
        ("ghp_emptyscopes", "", Expiry::Utc, Account::PublicOnly),
        ("ghp_noexpiry", ALL_SCOPES, Expiry::None, Account::Org),
        ("ghp_offsetexpiry", ALL_SCOPES, Expiry::East, Account::Org),
        ("ghp_westexpiry", ALL_SCOPES, Expiry::West, Account::Org),
        ("ghp_oddexpiry", ALL_SCOPES, Expiry::Odd, Account::Org),
        ("ghp_sso", ALL_SCOPES, Expiry::Utc, Account::Sso),
        ("ghp_forbidden", ALL_SCOPES, Expiry::Utc, Account::Forbidden),
    ];
    TABLE
        .iter()
        .find(|(p, ..)| t.starts_with(p))
        .map(|(_, s, e, a)| (*s, *e, *a))
}

/// Whether a classic token may list organizations: `read:org` (or its parents) or `user`
/// (orgs/orgs#list-organizations-for-the-authenticated-user; provider-research.md §1).
fn may_list_orgs(scopes: &str) -> bool {
    scopes
        .split(", ")
        .any(|s| matches!(s, "read:org" | "write:org" | "admin:org" | "user"))
}

/// `GET /user/orgs` without `read:org`/`user`: 403, message recorded in AlexsJones/prop-rep#1
/// and oauth2-proxy reports (provider-research.md §1); `x-accepted-oauth-scopes` UNCONFIRMED.
fn orgs_forbidden(req: &RecordedRequest, scopes: &str) -> FakeResponse {
    rate_headers(
        req,
        FakeResponse::json(
            403,
            r#"{"message":"You need at least read:org scope or user scope to list your organizations.","documentation_url":"https://docs.github.com/rest/orgs/orgs#list-organizations-for-the-authenticated-user","status":"403"}"#,
        ),
        "4997",
    )
    .header("x-oauth-scopes", scopes)
    .header("x-accepted-oauth-scopes", "admin:org, read:org, repo, user, write:org")
}

fn answer(req: &RecordedRequest, prefix: &str) -> FakeResponse {
    if req.header("user-agent").is_none_or(str::is_empty) {
        return FakeResponse::json(
            403,
            r#"{"message":"Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required)."}"#,
        );
    }
    let token = req.token().unwrap_or("").to_owned();
    let route = req.route().strip_prefix(prefix).unwrap_or("").to_owned();
    let t = token.as_str();

    // Repository and branch listings (issue 4), paged: see `listing.rs`.
    if let Some(resp) = super::listing::github(req, &route) {
        return resp;
    }
    // Error tokens answer the same on every path.
    if t.starts_with("ghp_bad") || t.is_empty() {
        return bad_credentials();
    }
    if let Some(resp) = orgs::errors(req, t) {
        return resp;
    }
    if let Some(resp) = orgs::app_tokens(req, t, &route) {
        return resp;
    }
    if t.starts_with("github_pat_") {
        return fine_grained::answer(req, t, &route);
    }

    let Some((scopes, kind, account)) = classic(t) else {
        return bad_credentials();
    };
    let expiry = match kind {
        Expiry::Utc => Some(expiry_header(req, t)),
        Expiry::None => None,
        // Recorded with an offset east of UTC (`… +0800`, provider-apis.md §1.4) and west of
        // it (`… -0700`, go-github#3708, WebKit PR #53897; provider-research.md §2c).
        Expiry::East => Some(dates::github_offset(
            dates::github_expiry(req.anchor, t),
            8 * 60,
        )),
        Expiry::West => Some(dates::github_offset(
            dates::github_expiry(req.anchor, t),
            -7 * 60,
        )),
        Expiry::Odd => Some("sometime soon".to_owned()),
    };
    // GitHub revokes a token when it expires: afterwards every call is 401 Bad credentials
    // (token-expiration-and-revocation, provider-apis.md §1.8).
    if expiry.is_some() && dates::github_expiry(req.anchor, t) <= chrono::Utc::now() {
        return bad_credentials();
    }
    let delay = t.starts_with("ghp_slow").then(|| Duration::from_secs(3));
    let mut resp = match route.as_str() {
        "/user" => classic_user(req, scopes, expiry.as_deref()),
        "/user/orgs" if !may_list_orgs(scopes) => orgs_forbidden(req, scopes),
        "/user/orgs" => orgs::user_orgs(req, account, scopes, ORGS),
        "/user/repos" => orgs::user_repos(req, account, scopes),
        other => orgs::org_resource(req, account, other).unwrap_or_else(not_found),
    };
    resp.delay = delay;
    resp
}

/// Git over HTTPS for a GitHub token: user name `x-access-token` (GitHub, "Authenticating as a
/// GitHub App installation"; Forgekeys sends it for every token), a token the API knows, and a
/// repository that token reads. Public repositories read for every valid token.
pub fn git_access(req: &RecordedRequest, user: &str, t: &str, repo: &str) -> GitAccess {
    if user != "x-access-token" {
        return GitAccess::Unauthorized;
    }
    if t.starts_with("github_pat_") {
        return fine_grained::git_access(req, t, repo);
    }
    let listed = super::listing::github_repo_names(t);
    let account = match classic(t) {
        Some((_, kind, account)) => {
            let expires = !matches!(kind, Expiry::None);
            if expires && dates::github_expiry(req.anchor, t) <= chrono::Utc::now() {
                return GitAccess::Unauthorized;
            }
            Some(account)
        }
        None if t.starts_with("ghp_once") => None,
        None => return GitAccess::Unauthorized,
    };
    if PUBLIC_REPOS.contains(&repo) {
        return GitAccess::Granted;
    }
    if let Some(names) = listed {
        return if names.iter().any(|n| n == repo) {
            GitAccess::Granted
        } else {
            GitAccess::NotFound
        };
    }
    match account {
        Some(a) => orgs::git_access(a, repo),
        None => GitAccess::NotFound,
    }
}

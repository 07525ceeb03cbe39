//! Fake GitHub REST API (api.github.com, or GHES under `/api/v3`). See the table in `mod.rs`.

use super::dates;
use super::{FakeResponse, FakeServer, RecordedRequest};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const GHES_VERSION: &str = "3.14.2";
const ALL_SCOPES: &str = "admin:repo_hook, read:org, repo";
const USER_BODY: &str = r#"{"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=","avatar_url":"https://github.com/images/error/octocat_happy.gif","html_url":"https://github.com/octocat","type":"User","site_admin":false,"name":"monalisa octocat","company":"GitHub","email":"octocat@github.com","created_at":"2008-01-14T04:33:35Z","updated_at":"2008-01-14T04:33:35Z","two_factor_authentication":true}"#;
const ORGS: &str = r#"[{"login":"github","id":1,"node_id":"MDEyOk9yZ2FuaXphdGlvbjE=","url":"https://api.github.com/orgs/github","avatar_url":"https://github.com/images/error/octocat_happy.gif","description":"A great organization"}]"#;
const REPOS: &str = r#"[{"id":1296269,"name":"web","full_name":"acme/web","owner":{"login":"acme","id":2,"type":"Organization"},"private":true}]"#;

/// Fake api.github.com.
pub fn start() -> FakeServer {
    let once = Once::default();
    FakeServer::start(move |req| once.answer(req, ""))
}

/// Fake GitHub Enterprise Server: the API under `/api/v3`, `X-GitHub-Enterprise-Version` on
/// every answer.
pub fn start_ghes() -> FakeServer {
    let once = Once::default();
    FakeServer::start(move |req| {
        let resp = match req.path.strip_prefix("/api/v3") {
            Some(_) => once.answer(req, "/api/v3"),
            None => not_found(),
        };
        resp.header("x-github-enterprise-version", GHES_VERSION)
    })
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
            _ => not_found(),
        }
    }
}

/// The expiration header of a token: its expiry (`dates::github_expiry`) in UTC.
fn expiry_header(req: &RecordedRequest, token: &str) -> String {
    dates::github_utc(dates::github_expiry(req.anchor, token))
}

/// When the primary rate limit of the fake resets: an hour after the fake started.
pub fn rate_reset(anchor: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    anchor + chrono::Duration::hours(1)
}

fn rate_headers(req: &RecordedRequest, resp: FakeResponse, remaining: &str) -> FakeResponse {
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

fn not_found() -> FakeResponse {
    FakeResponse::json(
        404,
        r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#,
    )
}

fn bad_credentials() -> FakeResponse {
    FakeResponse::json(
        401,
        r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}"#,
    )
}

/// Classic `/user` answer with the given scopes header and expiry (None = no header).
fn classic_user(req: &RecordedRequest, scopes: &str, expiry: Option<&str>) -> FakeResponse {
    let mut resp = rate_headers(req, FakeResponse::json(200, USER_BODY), "4999")
        .header("x-oauth-scopes", scopes)
        .header("x-accepted-oauth-scopes", "");
    if let Some(e) = expiry {
        resp = resp.header("github-authentication-token-expiration", e);
    }
    resp
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

    // Error tokens answer the same on every path.
    // Repository and branch listings (issue 4), paged: see `listing.rs`.
    if let Some(resp) = super::listing::github(req, &route) {
        return resp;
    }
    if t.starts_with("ghp_bad") || t.is_empty() {
        return bad_credentials();
    }
    if t.starts_with("ghp_ratelimited") {
        return rate_headers(
            req,
            FakeResponse::json(
                403,
                r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting","status":"403"}"#,
            ),
            "0",
        );
    }
    if t.starts_with("ghp_secondary") {
        return FakeResponse::json(
            403,
            r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}"#,
        )
        .header("retry-after", "60");
    }
    if t.starts_with("ghp_5xx") {
        return FakeResponse::json(500, r#"{"message":"Server Error"}"#);
    }
    if t.starts_with("ghp_echo") {
        let auth = req.authorization.clone().unwrap_or_default();
        return FakeResponse::json(
            500,
            format!(
                r#"{{"message":"internal error while checking {auth} for https://admin:hunter2@internal.example/x"}}"#
            ),
        );
    }
    if t.starts_with("ghp_huge") {
        let mut body = br#"{"login":"octocat","pad":""#.to_vec();
        body.resize(2 * 1024 * 1024, b'x');
        body.extend_from_slice(br#""}"#);
        return FakeResponse::json(200, "").body(body);
    }
    if t.starts_with("ghp_garbage") {
        return FakeResponse::new(200)
            .header("content-type", "text/html")
            .body(b"<html>Service temporarily moved</html>".to_vec());
    }

    if [
        "github_pat_good",
        "github_pat_nohooks",
        "github_pat_norepos",
    ]
    .iter()
    .any(|p| t.starts_with(p))
    {
        return fine_grained(req, t, &route);
    }

    let exp = || Some(expiry_header(req, t));
    let (scopes, expiry, in_org) = if t.starts_with("ghp_allscopes") || t.starts_with("ghp_slow") {
        (ALL_SCOPES, exp(), true)
    } else if t.starts_with("ghp_adminorg") {
        ("admin:repo_hook, admin:org, repo", exp(), true)
    } else if t.starts_with("ghp_repoonly") {
        ("repo", exp(), true)
    } else if t.starts_with("ghp_noorgs") {
        ("admin:repo_hook, repo", exp(), false)
    } else if t.starts_with("ghp_inorgs") {
        ("admin:repo_hook, repo", exp(), true)
    } else if t.starts_with("ghp_emptyscopes") {
        ("", exp(), false)
    } else if t.starts_with("ghp_noexpiry") {
        (ALL_SCOPES, None, true)
    } else if t.starts_with("ghp_offsetexpiry") {
        // Recorded with an offset east of UTC (`… +0800`, provider-apis.md §1.4).
        let at = dates::github_expiry(req.anchor, t);
        (ALL_SCOPES, Some(dates::github_offset(at, 8 * 60)), true)
    } else if t.starts_with("ghp_westexpiry") {
        // And west of it (`… -0700`, provider-apis.md §6).
        let at = dates::github_expiry(req.anchor, t);
        (ALL_SCOPES, Some(dates::github_offset(at, -7 * 60)), true)
    } else if t.starts_with("ghp_oddexpiry") {
        (ALL_SCOPES, Some("sometime soon".to_owned()), true)
    } else {
        return bad_credentials();
    };
    // GitHub revokes a token when it expires: afterwards every call is 401 Bad credentials
    // (token-expiration-and-revocation, provider-apis.md §1.8).
    if expiry.is_some() && dates::github_expiry(req.anchor, t) <= chrono::Utc::now() {
        return bad_credentials();
    }
    let delay = t.starts_with("ghp_slow").then(|| Duration::from_secs(3));
    let mut resp = match route.as_str() {
        "/user" => classic_user(req, scopes, expiry.as_deref()),
        "/user/orgs" => rate_headers(
            req,
            FakeResponse::json(200, if in_org { ORGS } else { "[]" }),
            "4998",
        )
        .header("x-oauth-scopes", scopes),
        _ => not_found(),
    };
    resp.delay = delay;
    resp
}

fn fine_grained(req: &RecordedRequest, t: &str, route: &str) -> FakeResponse {
    if dates::github_expiry(req.anchor, t) <= chrono::Utc::now() {
        return bad_credentials();
    }
    let ok = |body: &str| {
        let r = rate_headers(req, FakeResponse::json(200, body), "4999");
        if route == "/user" {
            r.header(
                "github-authentication-token-expiration",
                &expiry_header(req, t),
            )
        } else {
            r
        }
    };
    match route {
        "/user" => ok(USER_BODY),
        "/user/orgs" => ok("[]"),
        "/user/repos" if t.starts_with("github_pat_norepos") => ok("[]"),
        "/user/repos" => ok(REPOS),
        "/repos/acme/web" => ok(r#"{"id":1296269,"name":"web","full_name":"acme/web","private":true}"#),
        "/repos/acme/web/hooks" if t.starts_with("github_pat_nohooks") => FakeResponse::json(
            403,
            r#"{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/repos/webhooks#list-repository-webhooks","status":"403"}"#,
        )
        .header("x-accepted-github-permissions", "repository_hooks=read"),
        "/repos/acme/web/hooks" => ok("[]"),
        "/repos/acme/web/pulls" => ok("[]"),
        _ => not_found(),
    }
}

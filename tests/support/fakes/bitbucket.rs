//! Fake Bitbucket Cloud API under `/2.0` and bitbucket.org's Git smart HTTP
//! (`/{workspace}/{slug}.git/…`, same server: the tests' `FORGEKEYS_BITBUCKET_GIT_URL` is its
//! origin). See the table in `mod.rs`.
//!
//! Three kinds of credential, as Bitbucket takes them (provider-apis.md §6, research §7):
//! access tokens (`bb_…`) as `Authorization: Bearer`; Atlassian API tokens (`ATATT3x…`) only
//! as Basic `EMAIL:TOKEN` (as Bearer: 401 "Token is invalid, expired, or not supported for this
//! endpoint."; with a Bitbucket username instead of the e-mail: 401 — Atlassian KB "Getting 401
//! HTTP error while authenticating to Bitbucket Cloud REST APIs"); app passwords (`bbapp_…`) as
//! Basic `USERNAME:APP_PASSWORD`, refused since Bitbucket turned them off
//! ([`forgekeys::providers::BITBUCKET_APP_PASSWORDS_END`]).

use super::dates;
use super::git_server::{self, GitAccess, GitFlavour};
use super::{FakeResponse, FakeServer, RecordedRequest};

/// The workspace the fake knows.
pub const WORKSPACE: &str = "acme";
/// The Atlassian account of the API tokens and app passwords.
pub const EMAIL: &str = "jane@acme.test";
pub const USERNAME: &str = "jdoe";
pub const DISPLAY_NAME: &str = "Jane Doe";

/// Fake api.bitbucket.org; the API base is `{url}/2.0` ([`api_url`]).
pub fn start() -> FakeServer {
    start_at(dates::anchor_now())
}

/// [`start`] with the fake's day at `anchor` (app passwords work before
/// [`forgekeys::providers::BITBUCKET_APP_PASSWORDS_END`], not after).
pub fn start_at(anchor: chrono::DateTime<chrono::Utc>) -> FakeServer {
    FakeServer::start_at(anchor, |req| {
        git_server::answer(req, "", GitFlavour::Bitbucket, git_access)
            .unwrap_or_else(|| answer(req))
    })
}

/// API base of a started fake.
pub fn api_url(fake: &FakeServer) -> String {
    fake.at("/2.0")
}

const REPOS: &str = r#"{"pagelen":10,"size":1,"page":1,"values":[{"type":"repository","full_name":"acme/web","name":"web","slug":"web","uuid":"{11111111-1111-1111-1111-111111111111}","is_private":true,"workspace":{"type":"workspace","slug":"acme","name":"Acme","uuid":"{33333333-3333-3333-3333-333333333333}"}}]}"#;

/// `/2.0/user` for the Basic credentials (research §7; `username` optional today).
const USER: &str = r#"{"type":"user","uuid":"{7b7c3f2e-1111-4c1b-9d7e-5e8f9a0b1c2d}","account_id":"557058:ba8948b2-49da-43a9-9e8b-e7249b8e324a","nickname":"jdoe","display_name":"Jane Doe","username":"jdoe","account_status":"active","has_2fa_enabled":null,"is_staff":false,"location":null,"links":{}}"#;

/// Every scope Forgekeys needs, in API-token names (support.atlassian.com/bitbucket-cloud/docs/
/// api-token-permissions), comma + space as third-party fixtures show (research §7).
pub const API_TOKEN_SCOPES: &str = "read:repository:bitbucket, read:pullrequest:bitbucket, write:pullrequest:bitbucket, read:webhook:bitbucket, write:webhook:bitbucket, read:user:bitbucket";

fn error(status: u16, message: &str) -> FakeResponse {
    FakeResponse::json(
        status,
        format!(r#"{{"type":"error","error":{{"message":"{message}"}}}}"#),
    )
}

fn invalid_token() -> FakeResponse {
    error(
        401,
        "Token is invalid, expired, or not supported for this endpoint.",
    )
}

/// Wrong Basic credentials: `www-authenticate: Basic realm="Bitbucket.org HTTP"` (KB above).
fn basic_refused() -> FakeResponse {
    FakeResponse::new(401)
        .header("server", "envoy")
        .header("www-authenticate", "Basic realm=\"Bitbucket.org HTTP\"")
}

fn repos(scopes: &str, kind: &str) -> FakeResponse {
    FakeResponse::json(200, REPOS)
        .header("server", "AtlassianEdge")
        .header("x-accepted-oauth-scopes", "repository")
        .header("x-credential-type", kind)
        .header("x-oauth-scopes", scopes)
}

/// Whether app passwords still work on the fake's day.
pub fn app_passwords_work(req: &RecordedRequest) -> bool {
    dates::before_app_passwords_end(req.anchor)
}

/// The Basic credentials' scopes and kind, or the refusal.
fn basic(req: &RecordedRequest) -> Result<(&'static str, &'static str), FakeResponse> {
    let Some((user, t)) = req.basic() else {
        return Err(basic_refused());
    };
    if t.starts_with("ATATT3x") {
        // The REST API wants the Atlassian e-mail: "The Bitbucket username or the token name
        // will NOT work when using API tokens" (KB).
        if user != EMAIL {
            return Err(basic_refused());
        }
        let scopes = if t.starts_with("ATATT3xreadonly") {
            "read:repository:bitbucket, read:user:bitbucket"
        } else if t.starts_with("ATATT3xwriteonly") {
            // The three write-side names alone: reading is not implied (api-token-permissions).
            "read:repository:bitbucket, write:pullrequest:bitbucket, write:webhook:bitbucket, read:user:bitbucket"
        } else if t.starts_with("ATATT3xnouser") {
            "read:repository:bitbucket, read:pullrequest:bitbucket, write:pullrequest:bitbucket, read:webhook:bitbucket, write:webhook:bitbucket"
        } else if t.starts_with("ATATT3xvalid") {
            API_TOKEN_SCOPES
        } else {
            return Err(basic_refused());
        };
        // `x-credential-type: api_token` seen in third-party client code (UNCONFIRMED, §7).
        return Ok((scopes, "api_token"));
    }
    if t.starts_with("bbapp_") && user == USERNAME && app_passwords_work(req) {
        // App passwords take the Bitbucket username, never the e-mail; their scopes use the
        // OAuth names. `x-credential-type` value UNCONFIRMED.
        return Ok(("pullrequest:write, repository, webhook", "app_password"));
    }
    Err(basic_refused())
}

fn answer(req: &RecordedRequest) -> FakeResponse {
    let t = req.token().unwrap_or("");
    let is = |p: &str| t.starts_with(p);
    let route = req.route();
    if req.basic().is_some() {
        return basic_answer(req, route);
    }
    if is("ATATT3x") {
        // An API token sent as Bearer (community.developer.atlassian.com, research §7).
        return invalid_token();
    }
    // Repository and branch listings (issue 4), paged: see `listing.rs`.
    if let Some(resp) = super::listing::bitbucket(req) {
        return resp;
    }
    if route == "/2.0/user" {
        // Access tokens get 403 here, the headers still name the kind (research §7).
        return error(403, "Access denied. You must have write or admin access.")
            .header("x-credential-type", "repo_access_token");
    }
    let Some(workspace) = route.strip_prefix("/2.0/repositories/") else {
        return error(404, "Resource not found");
    };
    let known = [
        "bb_valid",
        "bb_spaces",
        "bb_nowebhook",
        "bb_readonly",
        "bb_403",
        "bb_gone",
        "bb_ratelimited",
        "bb_5xx",
    ];
    if !known.iter().any(|k| is(k)) {
        return invalid_token();
    }
    if is("bb_gone") {
        return FakeResponse::json(
            410,
            r#"{"type":"error","error":{"message":"CHANGE-2770 - Functionality has been deprecated","detail":"https://developer.atlassian.com/cloud/bitbucket/changelog/#CHANGE-2770"}}"#,
        );
    }
    if is("bb_ratelimited") {
        return error(429, "Rate limit for this resource has been exceeded");
    }
    if is("bb_5xx") {
        return error(500, "Something went wrong");
    }
    if workspace != WORKSPACE {
        return error(404, &format!("Could not find workspace {workspace}"));
    }
    if is("bb_valid") {
        repos(
            "pullrequest:write, repository, webhook",
            "repo_access_token",
        )
    } else if is("bb_spaces") {
        repos(
            "repository:write pullrequest:write webhook",
            "workspace_access_token",
        )
    } else if is("bb_nowebhook") {
        repos("pullrequest:write, repository", "repo_access_token")
    } else if is("bb_readonly") {
        repos("repository", "repo_access_token")
    } else {
        // bb_403
        FakeResponse::json(
            403,
            r#"{"type":"error","error":{"message":"Your credentials lack one or more required privilege scopes.","detail":{"granted":["repository"],"required":["webhook"]}}}"#,
        )
        .header("x-credential-type", "repo_access_token")
        .header("x-oauth-scopes", "repository")
    }
}

fn basic_answer(req: &RecordedRequest, route: &str) -> FakeResponse {
    let (scopes, kind) = match basic(req) {
        Ok(s) => s,
        Err(refused) => return refused,
    };
    if route == "/2.0/user" {
        // `/2.0/user` needs `read:user:bitbucket` (Atlassian Community, staff answer; §7).
        return if kind == "api_token" && !scopes.contains("read:user:bitbucket") {
            FakeResponse::json(
                403,
                r#"{"type":"error","error":{"message":"Your credentials lack one or more required privilege scopes.","detail":{"granted":[],"required":["read:user:bitbucket"]}}}"#,
            )
        } else {
            FakeResponse::json(200, USER)
                .header("x-credential-type", kind)
                .header("x-oauth-scopes", scopes)
        };
    }
    match route.strip_prefix("/2.0/repositories/") {
        Some(WORKSPACE) => repos(scopes, kind),
        Some(w) => error(404, &format!("Could not find workspace {w}")),
        None => error(404, "Resource not found"),
    }
}

/// Git over HTTPS (support.atlassian.com using-access-tokens / using-api-tokens, research §8):
/// access tokens with user `x-token-auth`; API tokens with `x-bitbucket-api-token-auth` or the
/// Bitbucket username — not the e-mail ("email does not work for git", RooCodeInc/Roomote
/// PR #182); app passwords with the Bitbucket username, while they still work.
pub fn git_access(req: &RecordedRequest, user: &str, t: &str, repo: &str) -> GitAccess {
    let ok = if t.starts_with("bb_") {
        user == "x-token-auth"
            && ["bb_valid", "bb_spaces", "bb_nowebhook", "bb_readonly"]
                .iter()
                .any(|p| t.starts_with(p))
    } else if t.starts_with("ATATT3x") {
        user == "x-bitbucket-api-token-auth" || user == USERNAME
    } else if t.starts_with("bbapp_") {
        user == USERNAME && app_passwords_work(req)
    } else {
        false
    };
    if !ok {
        return GitAccess::Unauthorized;
    }
    let listed = repo
        .strip_prefix("acme/")
        .is_some_and(|n| super::listing::repos_for(t).iter().any(|r| r == n));
    if repo == "acme/web" || listed {
        GitAccess::Granted
    } else {
        GitAccess::NotFound
    }
}

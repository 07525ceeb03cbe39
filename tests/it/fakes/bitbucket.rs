//! Fake Bitbucket Cloud API under `/2.0`. See the table in `mod.rs`.

use super::{FakeResponse, FakeServer, RecordedRequest};

/// The workspace the fake knows.
pub const WORKSPACE: &str = "acme";

/// Fake api.bitbucket.org; the API base is `{url}/2.0` ([`api_url`]).
pub fn start() -> FakeServer {
    FakeServer::start(answer)
}

/// API base of a started fake.
pub fn api_url(fake: &FakeServer) -> String {
    fake.at("/2.0")
}

const REPOS: &str = r#"{"pagelen":10,"size":1,"page":1,"values":[{"type":"repository","full_name":"acme/web","name":"web","slug":"web","uuid":"{11111111-1111-1111-1111-111111111111}","is_private":true,"workspace":{"type":"workspace","slug":"acme","name":"Acme","uuid":"{33333333-3333-3333-3333-333333333333}"}}]}"#;

fn error(status: u16, message: &str) -> FakeResponse {
    FakeResponse::json(
        status,
        format!(r#"{{"type":"error","error":{{"message":"{message}"}}}}"#),
    )
}

fn repos(scopes: &str, kind: &str) -> FakeResponse {
    FakeResponse::json(200, REPOS)
        .header("server", "AtlassianEdge")
        .header("x-accepted-oauth-scopes", "repository")
        .header("x-credential-type", kind)
        .header("x-oauth-scopes", scopes)
}

fn answer(req: &RecordedRequest) -> FakeResponse {
    let t = req.token().unwrap_or("");
    let is = |p: &str| t.starts_with(p);
    let route = req.route();
    // Repository and branch listings (issue 4), paged: see `listing.rs`.
    if let Some(resp) = super::listing::bitbucket(req) {
        return resp;
    }
    if route == "/2.0/user" {
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
        return error(
            401,
            "Token is invalid, expired, or not supported for this endpoint.",
        );
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

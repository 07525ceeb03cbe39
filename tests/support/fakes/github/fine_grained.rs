//! Fine-grained personal access tokens (`github_pat_…`) as GitHub answers them.
//!
//! - `/user`: no `x-oauth-scopes` header at all, an expiration header (PyGithub ReplayData
//!   `GitRef.testExample.txt`, provider-research.md §2b).
//! - `/user/repos`: the granted private repositories **and** the public ones the user can see,
//!   sorted by `full_name` (provider-apis.md §6; the public part is UNCONFIRMED by a recording,
//!   research §2a, so `github_pat_nopublic` lists the granted one only).
//! - 200s carry `x-accepted-github-permissions` (`metadata=read` on the repository, research
//!   §2b); a missing permission is 403 "Resource not accessible by personal access token" with
//!   `x-accepted-github-permissions: repository_hooks=read` on `/hooks` (research §2d, §2e). A
//!   public repository the token was never granted reads, but its `/hooks` answers that 403.

use super::super::dates;
use super::super::git_server::GitAccess;
use super::super::{FakeResponse, RecordedRequest};
use super::{PUBLIC_REPOS, USER_BODY, bad_credentials, expiry_header, not_found, rate_headers};

/// The repository granted to the fine-grained tokens.
pub const GRANTED: &str = "acme/web";

fn listed(t: &str) -> Vec<(String, bool)> {
    let public = || {
        PUBLIC_REPOS
            .iter()
            .map(|r| ((*r).to_owned(), false))
            .collect::<Vec<_>>()
    };
    let mut repos = if t.starts_with("github_pat_nopublic") {
        vec![(GRANTED.to_owned(), true)]
    } else if t.starts_with("github_pat_norepos") || t.starts_with("github_pat_publichooks") {
        public()
    } else if t.starts_with("github_pat_empty") {
        Vec::new()
    } else if t.starts_with("github_pat_manypublic") {
        (1..=100)
            .map(|i| (format!("acme/pub-{i:03}"), false))
            .collect()
    } else {
        let mut v = public();
        v.push((GRANTED.to_owned(), true));
        v
    };
    repos.sort();
    repos
}

fn granted(t: &str, repo: &str) -> bool {
    if t.starts_with("github_pat_publichooks") {
        return repo == "acme/docs";
    }
    repo == GRANTED && !(t.starts_with("github_pat_norepos") || t.starts_with("github_pat_empty"))
}

fn forbidden_hooks() -> FakeResponse {
    FakeResponse::json(
        403,
        r#"{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/repos/webhooks#list-repository-webhooks","status":"403"}"#,
    )
    .header("x-accepted-github-permissions", "repository_hooks=read")
}

/// NixOS/org#247: an organization's fine-grained lifetime policy, on every endpoint under it
/// (public repositories too) while `/user` stays 200 (provider-research.md §4).
fn lifetime_policy() -> FakeResponse {
    FakeResponse::json(
        403,
        r#"{"message":"The 'acme' organization forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 366 days. Please adjust your token's lifetime at the following URL: https://github.com/settings/personal-access-tokens/12885303","documentation_url":"https://docs.github.com/rest/repos/repos#get-a-repository","status":"403"}"#,
    )
}

pub fn answer(req: &RecordedRequest, t: &str, route: &str) -> FakeResponse {
    const KNOWN: [&str; 10] = [
        "github_pat_good",
        "github_pat_nohooks",
        "github_pat_norepos",
        "github_pat_nopublic",
        "github_pat_empty",
        "github_pat_publichooks",
        "github_pat_manypublic",
        "github_pat_nocontents",
        "github_pat_lifetime",
        "github_pat_nowexpiry",
    ];
    if !KNOWN.iter().any(|k| t.starts_with(k))
        || dates::github_expiry(req.anchor, t) <= chrono::Utc::now()
    {
        return bad_credentials();
    }
    let ok = |body: String, accepted: &str| {
        let mut r = rate_headers(req, FakeResponse::json(200, body), "4999");
        if !accepted.is_empty() {
            r = r.header("x-accepted-github-permissions", accepted);
        }
        r
    };
    if route == "/user" {
        // go-github#3708: the header sometimes holds about the current time (research §2c).
        let expiry = if t.starts_with("github_pat_nowexpiry") {
            dates::github_utc(req.anchor)
        } else {
            expiry_header(req, t)
        };
        return ok(USER_BODY.to_owned(), "")
            .header("github-authentication-token-expiration", &expiry);
    }
    if route == "/user/orgs" {
        // "Requests using a fine-grained access token will receive a 200 Success response
        // with an empty list." (orgs/orgs, provider-apis.md §1.7)
        return ok("[]".to_owned(), "");
    }
    if route == "/user/repos" {
        let private_only =
            super::super::listing::param(req, "visibility").as_deref() == Some("private");
        let items: Vec<String> = if t.starts_with("github_pat_manypublic") && private_only {
            vec![super::repo_json(GRANTED, true)]
        } else {
            listed(t)
                .iter()
                .filter(|(_, private)| !private_only || *private)
                .map(|(name, private)| super::repo_json(name, *private))
                .collect()
        };
        let mut resp = ok(format!("[{}]", items.join(",")), "");
        if t.starts_with("github_pat_manypublic") && !private_only {
            let host = req.header("host").unwrap_or("127.0.0.1");
            resp = resp.header(
                "link",
                &format!("<http://{host}/user/repos?per_page=100&page=2>; rel=\"next\""),
            );
        }
        return resp;
    }
    let Some(rest) = route.strip_prefix("/repos/") else {
        return not_found();
    };
    let parts: Vec<&str> = rest.splitn(3, '/').collect();
    let (Some(owner), Some(name)) = (parts.first(), parts.get(1)) else {
        return not_found();
    };
    let repo = format!("{owner}/{name}");
    if t.starts_with("github_pat_lifetime") && *owner == "acme" {
        return lifetime_policy();
    }
    let readable = granted(t, &repo)
        || PUBLIC_REPOS.contains(&repo.as_str())
        || (t.starts_with("github_pat_manypublic") && repo.starts_with("acme/pub-"));
    if !readable {
        return not_found();
    }
    let is_granted =
        granted(t, &repo) || (t.starts_with("github_pat_manypublic") && repo == GRANTED);
    match parts.get(2).copied() {
        None => ok(
            super::repo_json(&repo, !PUBLIC_REPOS.contains(&repo.as_str())),
            "metadata=read",
        ),
        Some("hooks") if !is_granted || t.starts_with("github_pat_nohooks") => forbidden_hooks(),
        Some("hooks") => ok("[]".to_owned(), "repository_hooks=read"),
        Some(p) if p.starts_with("pulls") => ok("[]".to_owned(), "pull_requests=read"),
        Some(_) => not_found(),
    }
}

/// Git for a fine-grained token: the granted repository (unless the token lacks Contents:
/// `github_pat_nocontents` — GitHub then hides the repository, 404 "Repository not found.",
/// UNCONFIRMED exact status) and public repositories.
pub fn git_access(req: &RecordedRequest, t: &str, repo: &str) -> GitAccess {
    if dates::github_expiry(req.anchor, t) <= chrono::Utc::now() {
        return GitAccess::Unauthorized;
    }
    if t.starts_with("github_pat_lifetime") && repo.starts_with("acme/") {
        return GitAccess::Forbidden(
            "The 'acme' organization forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 366 days.".to_owned(),
        );
    }
    if PUBLIC_REPOS.contains(&repo) {
        return GitAccess::Granted;
    }
    if t.starts_with("github_pat_nocontents") {
        return GitAccess::NotFound;
    }
    if granted(t, repo) || (t.starts_with("github_pat_manypublic") && repo == GRANTED) {
        GitAccess::Granted
    } else {
        GitAccess::NotFound
    }
}

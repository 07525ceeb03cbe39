//! The clone-level check: after the API checks, prove git read access on the repository the
//! verdict rests on, the way a clone authenticates. "The test passes, the clone fails" is the
//! failure users of similar tools report most (Dokploy, Argo CD).
//!
//! One request, Git's smart-HTTP discovery:
//! `GET {git base}/{repo}.git/info/refs?service=git-upload-pack` with HTTP Basic credentials
//! `{username}:{token}` — the user name each provider expects: `x-access-token` (GitHub),
//! `oauth2` (GitLab), `x-token-auth` (Bitbucket access tokens), `x-bitbucket-api-token-auth`
//! (Bitbucket API tokens) or the Bitbucket username (app passwords). Git servers refuse Bearer
//! on this endpoint (provider-research.md §8), so Basic is always used. A `200` whose body is a
//! ref advertisement (`001e# service=git-upload-pack`) passes; `401`, `403` and `404` fail (the
//! token cannot clone the repository); anything else means the check could not run.
//!
//! Same outbound rules as the API calls (the [`Fetcher`]: address policy, time budget, no
//! cross-origin redirects, redaction); only the first 64 KiB of the advertisement are read.

use super::ctx::encode_segment;
use super::http::{Fetcher, Reply, basic_header};
use crate::domain::provider::Provider;
use crate::domain::test_result::{CloneCheck, CloneResult, MissingPermission, TestOutcome};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use url::Url;

/// The most of a ref advertisement read.
const ADVERTISEMENT_LIMIT: usize = 64 * 1024;

/// Git's smart-HTTP `User-Agent` starts with `git/`; some servers only speak the smart
/// protocol to such clients.
const GIT_USER_AGENT: &str = concat!("git/forgekeys-", env!("CARGO_PKG_VERSION"));

/// What to clone-check, chosen by the provider module.
#[derive(Debug, Clone)]
pub(crate) struct CloneTarget {
    /// `owner/repo`, a GitLab project path, or `workspace/slug`.
    pub repository: String,
    /// The user name sent with the token.
    pub username: String,
    /// How to give the token git read access to the repository, in plain words.
    pub fix: String,
}

impl CloneTarget {
    pub fn new(repository: &str, username: &str, fix: String) -> CloneTarget {
        CloneTarget {
            repository: repository.to_owned(),
            username: username.to_owned(),
            fix,
        }
    }
}

/// The clone URL of `repository` under `base` (no credentials).
pub(crate) fn clone_url(base: &str, repository: &str) -> String {
    let path: Vec<String> = repository
        .trim_matches('/')
        .split('/')
        .map(encode_segment)
        .collect();
    format!("{}/{}.git", base.trim_end_matches('/'), path.join("/"))
}

/// A ref advertisement of `git-upload-pack` (protocol v0, or v2 when the server insists).
fn is_advertisement(reply: &Reply) -> bool {
    let ct = reply.header("content-type").unwrap_or("");
    let body = &reply.body;
    ct.starts_with("application/x-git-upload-pack-advertisement")
        || body.starts_with(b"001e# service=git-upload-pack")
        || body.starts_with(b"000eversion 2")
}

fn host_of(url: &str) -> String {
    Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "the Git server".to_owned())
}

/// Runs the check and records it in `o`: a failure adds a missing permission (the status then
/// becomes `missing_permissions`); a check that could not run adds a warning.
pub(crate) async fn check(
    fetch: &Fetcher<'_>,
    base: &str,
    secret: &str,
    provider: Provider,
    target: CloneTarget,
    o: &mut TestOutcome,
) {
    let clone = clone_url(base, &target.repository);
    let mut check = CloneCheck {
        result: CloneResult::Error,
        repository: Some(target.repository.clone()),
        url: Some(clone.clone()),
        username: Some(target.username.clone()),
        message: String::new(),
    };
    let Some(auth) = basic_header(&target.username, secret) else {
        check.message = "The token contains characters that cannot be sent to git.".into();
        o.clone_check = Some(check);
        return;
    };
    let Ok(url) = Url::parse(&format!("{clone}/info/refs?service=git-upload-pack")) else {
        check.message = "Could not build the clone URL.".into();
        o.clone_check = Some(check);
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, auth);
    headers.insert(USER_AGENT, HeaderValue::from_static(GIT_USER_AGENT));
    let host = host_of(&clone);
    let repo = &target.repository;
    let reply = match fetch.get_limited(url, &headers, ADVERTISEMENT_LIMIT).await {
        Ok(r) => r,
        Err(e) => {
            check.message = format!("The clone check could not reach {host}: {e}");
            o.warnings.push(check.message.clone());
            o.clone_check = Some(check);
            return;
        }
    };
    let said = git_message(fetch, &reply);
    match reply.status {
        200 if is_advertisement(&reply) => {
            check.result = CloneResult::Passed;
            check.message = format!(
                "git over HTTPS works: {host} lists the branches of {repo} to the token, as a \
                 clone would see them."
            );
        }
        200 => {
            check.message = format!(
                "{host} answered the clone request for {repo} with something that is not a Git \
                 answer (content type {}); is this the address of the Git server?",
                reply.header("content-type").unwrap_or("none")
            );
            o.warnings.push(check.message.clone());
        }
        401 | 403 | 404 => {
            check.result = CloneResult::Failed;
            let blocked = (provider == Provider::Github && reply.status == 403)
                .then(|| {
                    let owner = repo.split('/').next().unwrap_or(repo);
                    super::github::policy::from_git_text(&reply.text(), owner)
                })
                .flatten();
            check.message = match reply.status {
                401 => format!(
                    "{host} refused the token for git over HTTPS (HTTP 401), so a clone of \
                     {repo} would fail although the API accepted the token.{said}"
                ),
                403 => format!("{host} forbade the token to clone {repo} (HTTP 403).{said}"),
                _ => format!(
                    "{host} does not show {repo} to the token over git (HTTP 404), so a clone \
                     would fail with \u{201c}repository not found\u{201d}.{said}"
                ),
            };
            let missing = match blocked {
                Some(block) => block.missing(),
                None => MissingPermission {
                    name: format!("Git read access to {repo}"),
                    fix: format!(
                        "The clone check failed: {} (HTTP {}). {}",
                        if reply.status == 404 {
                            format!("git over HTTPS does not show {repo} to the token")
                        } else {
                            format!("git over HTTPS refuses the token for {repo}")
                        },
                        reply.status,
                        target.fix
                    ),
                },
            };
            // An organization rule the API checks named already is named once.
            if !o.missing.iter().any(|m| m.name == missing.name) {
                o.missing.push(missing);
            }
        }
        status => {
            check.message = format!(
                "The clone check could not run: {host} answered HTTP {status} for {repo}.{said}"
            );
            o.warnings.push(check.message.clone());
        }
    }
    o.clone_check = Some(check);
}

/// `" The Git server said: “…”"` (its plain-text body, as git prints after `remote:`),
/// redacted and short, or empty.
fn git_message(fetch: &Fetcher<'_>, reply: &Reply) -> String {
    if reply.status == 200 {
        return String::new();
    }
    let ct = reply.header("content-type").unwrap_or("");
    if !(ct.starts_with("text/plain") || ct.is_empty()) {
        return String::new();
    }
    let text = reply.text();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(
            " The Git server said: \u{201c}{}\u{201d}",
            fetch.redactor.quote(text)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_urls_encode_each_segment() {
        assert_eq!(
            clone_url("https://github.com/", "acme/web"),
            "https://github.com/acme/web.git"
        );
        assert_eq!(
            clone_url("https://dev.example.com/gitlab", "group/sub/my project"),
            "https://dev.example.com/gitlab/group/sub/my%20project.git"
        );
    }
}

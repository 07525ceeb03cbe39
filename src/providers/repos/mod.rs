//! Repository and branch listings made with a stored token (issue 4: the service pickers, moving
//! services to another token, repository coverage of a re-test, the GitHub App migration).
//!
//! Same outbound rules as a token test ([`super::http::Fetcher`]: address policy, time budget,
//! 1 MiB body cap, same-origin redirects only, redaction). Paged answers are followed —
//! GitHub and GitLab by their `Link: <…>; rel="next"` header (GitLab also `X-Next-Page`),
//! Bitbucket by the `next` URL in the body — for at most [`MAX_PAGES`] pages per call; a `next`
//! link to another origin is never followed (the token would go with it).
//!
//! Endpoints (provider-apis.md): GitHub `GET /user/repos?per_page=100&sort=updated` and
//! `GET /repos/{owner}/{repo}/branches?per_page=100`; GitLab
//! `GET /projects?membership=true&simple=true&per_page=100&search=q` and
//! `GET /projects/{url-encoded path}/repository/branches?per_page=100`; Bitbucket
//! `GET /repositories/{workspace}?pagelen=100&q=name~"q"` and
//! `GET /repositories/{workspace}/{slug}/refs/branches?pagelen=100`. Read checks: GitHub
//! `GET /repos/{owner}/{repo}`, GitLab `GET /projects/{path}`, Bitbucket
//! `GET /repositories/{workspace}/{slug}` — 200 readable, 403/404 not.

mod session;

use super::http::Redactor;
use super::{ProviderClient, TokenTarget, encode_segment};
use crate::domain::provider::Provider;
use secrecy::{ExposeSecret, SecretString};
use session::{Session, fetch_error};

/// Provider pages followed by one listing call.
pub const MAX_PAGES: u32 = 10;
/// Page size asked for.
pub const PER_PAGE: u32 = 100;
/// Longest repository path accepted.
const MAX_REPO_LEN: usize = 255;

/// One repository the token reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// `owner/repo` (GitHub), the project path (GitLab), `workspace/slug` (Bitbucket).
    pub full_name: String,
    pub default_branch: Option<String>,
}

/// Repositories from up to [`MAX_PAGES`] provider pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoPage {
    pub items: Vec<Repo>,
    /// More pages existed than were followed.
    pub capped: bool,
    /// The `page` argument that continues the listing, when capped.
    pub next_page: Option<u32>,
    /// Provider pages read.
    pub pages_read: u32,
}

/// Branch names from up to [`MAX_PAGES`] provider pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchPage {
    pub items: Vec<String>,
    pub default_branch: Option<String>,
    pub capped: bool,
    pub pages_read: u32,
}

/// Why a listing failed, in words for the page (already redacted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// 401: the token is wrong, expired or revoked.
    #[error("{0}")]
    Rejected(String),
    /// 403 / 404 on the thing asked for.
    #[error("{0}")]
    NoAccess(String),
    /// The input (repository path, token target) is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Network, DNS, TLS, timeout or a blocked address.
    #[error("{0}")]
    Unreachable(String),
    /// The provider answered unexpectedly (5xx, rate limit, unparseable body).
    #[error("{0}")]
    Provider(String),
}

/// Checks a repository path as the provider names it: `owner/repo` for GitHub and Bitbucket,
/// `group/…/project` for GitLab. Error text is user-facing.
pub fn validate_repository(provider: Provider, input: &str) -> Result<String, String> {
    let s = input.trim().trim_matches('/');
    if s.is_empty() {
        return Err("Choose or enter a repository.".into());
    }
    if s.len() > MAX_REPO_LEN {
        return Err(format!(
            "The repository path is too long (at most {MAX_REPO_LEN} characters)."
        ));
    }
    let parts: Vec<&str> = s.split('/').collect();
    let ok_chars = |p: &str| {
        !p.is_empty()
            && p != "."
            && p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let shape_ok = match provider {
        Provider::Github | Provider::Bitbucket => parts.len() == 2,
        Provider::Gitlab => parts.len() >= 2 && parts.len() <= 20,
    };
    if !shape_ok || !parts.iter().all(|p| ok_chars(p)) {
        let example = match provider {
            Provider::Github => "owner/repository",
            Provider::Gitlab => "group/subgroup/project",
            Provider::Bitbucket => "workspace/repository",
        };
        return Err(format!(
            "Enter the repository as {example} (letters, digits, - _ . only)."
        ));
    }
    Ok(s.to_owned())
}

/// Checks a branch name (Git ref rules, simplified). Error text is user-facing.
pub fn validate_branch(input: &str) -> Result<String, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("Choose or enter a branch.".into());
    }
    let bad = s.len() > 255
        || s.starts_with('/')
        || s.ends_with('/')
        || s.ends_with('.')
        || s.starts_with('-')
        || s.contains("..")
        || s.contains("//")
        || s.contains("@{")
        || s.ends_with(".lock")
        || s.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if bad {
        return Err("This is not a valid branch name.".into());
    }
    Ok(s.to_owned())
}

/// Repositories the token reaches, filtered by `q` (server side on GitLab and Bitbucket,
/// by name here for GitHub), starting at listing page `page` (1-based; each listing page is up
/// to [`MAX_PAGES`] provider pages).
pub async fn list_repositories(
    client: &ProviderClient,
    target: &TokenTarget,
    token: &SecretString,
    q: Option<&str>,
    page: u32,
) -> Result<RepoPage, ListError> {
    let secret = token.expose_secret().trim();
    let redactor = Redactor::new(secret);
    let s = Session::new(client, target, secret, &redactor)?;
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let page = page.max(1);
    let first_provider_page = (page - 1).saturating_mul(MAX_PAGES) + 1;
    let start = match target.provider {
        Provider::Github => format!(
            "{}/user/repos?per_page={PER_PAGE}&sort=updated&page={first_provider_page}",
            s.base
        ),
        Provider::Gitlab => {
            let mut u = format!(
                "{}/projects?membership=true&simple=true&per_page={PER_PAGE}&order_by=last_activity_at&page={first_provider_page}",
                s.base
            );
            if let Some(q) = q {
                u.push_str("&search=");
                u.push_str(&encode_segment(q));
            }
            u
        }
        Provider::Bitbucket => {
            let ws = s.workspace()?;
            let mut u = format!(
                "{}/repositories/{}?pagelen={PER_PAGE}&sort=-updated_on&page={first_provider_page}",
                s.base,
                encode_segment(&ws)
            );
            if let Some(q) = q {
                let escaped = q.replace('\\', "\\\\").replace('"', "\\\"");
                u.push_str("&q=");
                u.push_str(&encode_segment(&format!("name~\"{escaped}\"")));
            }
            u
        }
    };
    let mut out = RepoPage::default();
    let mut next = Some(s.url(&start)?);
    while let Some(url) = next.take() {
        if out.pages_read == MAX_PAGES {
            out.capped = true;
            out.next_page = Some(page + 1);
            break;
        }
        let reply = s.get(url.clone(), "the repository list").await?;
        out.pages_read += 1;
        let json = reply.json().ok_or_else(|| {
            ListError::Provider(format!(
                "{} sent a repository list that could not be read",
                s.label()
            ))
        })?;
        let (values, body_next) = match target.provider {
            Provider::Bitbucket => (
                json.get("values").cloned().unwrap_or_default(),
                json.get("next").and_then(|v| v.as_str()).map(str::to_owned),
            ),
            _ => (json, None),
        };
        let Some(values) = values.as_array() else {
            return Err(ListError::Provider(format!(
                "{} sent a repository list that could not be read",
                s.label()
            )));
        };
        for v in values {
            let (name, default_branch) = match target.provider {
                Provider::Github => (
                    v.get("full_name").and_then(|n| n.as_str()),
                    v.get("default_branch").and_then(|b| b.as_str()),
                ),
                Provider::Gitlab => (
                    v.get("path_with_namespace").and_then(|n| n.as_str()),
                    v.get("default_branch").and_then(|b| b.as_str()),
                ),
                Provider::Bitbucket => (
                    v.get("full_name").and_then(|n| n.as_str()),
                    v.pointer("/mainbranch/name").and_then(|b| b.as_str()),
                ),
            };
            let Some(name) = name else { continue };
            if let Some(q) = q {
                if target.provider == Provider::Github
                    && !name.to_lowercase().contains(&q.to_lowercase())
                {
                    continue;
                }
            }
            out.items.push(Repo {
                full_name: name.to_owned(),
                default_branch: default_branch.map(str::to_owned),
            });
        }
        next = s.next_link(&reply, &url, body_next)?;
    }
    Ok(out)
}

/// Branches of `repository` (as [`validate_repository`] accepts it).
pub async fn list_branches(
    client: &ProviderClient,
    target: &TokenTarget,
    token: &SecretString,
    repository: &str,
) -> Result<BranchPage, ListError> {
    let repository =
        validate_repository(target.provider, repository).map_err(ListError::Invalid)?;
    let secret = token.expose_secret().trim();
    let redactor = Redactor::new(secret);
    let s = Session::new(client, target, secret, &redactor)?;
    let start = format!(
        "{}{}",
        s.repo_path(&repository)?,
        match target.provider {
            Provider::Github => format!("/branches?per_page={PER_PAGE}"),
            Provider::Gitlab => format!("/repository/branches?per_page={PER_PAGE}"),
            Provider::Bitbucket => format!("/refs/branches?pagelen={PER_PAGE}"),
        }
    );
    let mut out = BranchPage::default();
    let mut next = Some(s.url(&start)?);
    while let Some(url) = next.take() {
        if out.pages_read == MAX_PAGES {
            out.capped = true;
            break;
        }
        let reply = s
            .get(url.clone(), &format!("the branches of {repository}"))
            .await?;
        out.pages_read += 1;
        let unreadable = || {
            ListError::Provider(format!(
                "{} sent a branch list that could not be read",
                s.label()
            ))
        };
        let json = reply.json().ok_or_else(unreadable)?;
        let (values, body_next) = match target.provider {
            Provider::Bitbucket => (
                json.get("values").cloned().unwrap_or_default(),
                json.get("next").and_then(|v| v.as_str()).map(str::to_owned),
            ),
            _ => (json, None),
        };
        let values = values.as_array().ok_or_else(unreadable)?;
        for v in values {
            if let Some(name) = v.get("name").and_then(|n| n.as_str()) {
                if v.get("default").and_then(|d| d.as_bool()) == Some(true) {
                    out.default_branch = Some(name.to_owned());
                }
                out.items.push(name.to_owned());
            }
        }
        next = s.next_link(&reply, &url, body_next)?;
    }
    Ok(out)
}

/// Whether the token can read `repository`: `Ok(false)` on 403/404, an error when the token is
/// rejected (401) or the provider cannot be asked.
pub async fn can_read_repository(
    client: &ProviderClient,
    target: &TokenTarget,
    token: &SecretString,
    repository: &str,
) -> Result<bool, ListError> {
    let repository =
        validate_repository(target.provider, repository).map_err(ListError::Invalid)?;
    let secret = token.expose_secret().trim();
    let redactor = Redactor::new(secret);
    let s = Session::new(client, target, secret, &redactor)?;
    let url = s.url(&s.repo_path(&repository)?)?;
    let reply = s.fetch.get(url, &s.hdrs).await.map_err(fetch_error)?;
    match reply.status {
        200..=299 => Ok(true),
        403 | 404 => Ok(false),
        _ => Err(s.failure(&reply, &repository)),
    }
}

/// Most repositories checked by one coverage run.
pub const MAX_COVERAGE_CHECKS: usize = 50;

/// Repository coverage of a re-test: for each repository the token's services use (with the
/// names of those services), check that the token can read it. Each one it cannot read is
/// added to `outcome.missing` (named, with the services affected) and the status becomes
/// `missing_permissions`; a repository that could not be checked (network, rate limit) is a
/// warning. Runs only on a token that otherwise works (`valid` / `missing_permissions`).
pub async fn check_coverage(
    client: &ProviderClient,
    target: &TokenTarget,
    token: &SecretString,
    uses: &[(String, Vec<String>)],
    outcome: &mut crate::domain::test_result::TestOutcome,
) {
    use crate::domain::test_result::{MissingPermission, TestStatus};
    if !matches!(
        outcome.status,
        TestStatus::Valid | TestStatus::MissingPermissions
    ) || uses.is_empty()
    {
        return;
    }
    let mut unreadable = Vec::new();
    for (repo, services) in uses.iter().take(MAX_COVERAGE_CHECKS) {
        match can_read_repository(client, target, token, repo).await {
            Ok(true) => {}
            Ok(false) | Err(ListError::NoAccess(_)) | Err(ListError::Invalid(_)) => {
                unreadable.push(repo.clone());
                outcome.missing.push(MissingPermission {
                    name: format!("Access to repository {repo}"),
                    fix: format!(
                        "The token cannot read {repo}, which {} use{}. Grant the token access to \
                         this repository at the provider, or move {} to a token that can read it.",
                        services.join(", "),
                        if services.len() == 1 { "s" } else { "" },
                        if services.len() == 1 {
                            "the service"
                        } else {
                            "these services"
                        },
                    ),
                });
            }
            Err(e) => outcome
                .warnings
                .push(format!("Could not check access to repository {repo}: {e}")),
        }
    }
    if uses.len() > MAX_COVERAGE_CHECKS {
        outcome.warnings.push(format!(
            "Only the first {MAX_COVERAGE_CHECKS} of {} repositories were checked for access.",
            uses.len()
        ));
    }
    if !unreadable.is_empty() {
        outcome.status = TestStatus::MissingPermissions;
        let names: Vec<&str> = outcome.missing.iter().map(|m| m.name.as_str()).collect();
        outcome.reason = Some(format!("missing: {}", names.join(", ")));
    } else {
        outcome.details.push(format!(
            "Reads every repository its services use ({}).",
            uses.len()
        ));
    }
}

/// The `rel="next"` target of an RFC 8288 `Link` header.
pub fn parse_next_link(header: &str) -> Option<String> {
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p == "rel=\"next\"" || p == "rel=next"
        });
        if is_next {
            return target
                .strip_prefix('<')
                .and_then(|t| t.strip_suffix('>'))
                .map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_headers() {
        let h = r#"<https://api.github.com/user/repos?page=2>; rel="next", <https://api.github.com/user/repos?page=5>; rel="last""#;
        assert_eq!(
            parse_next_link(h).as_deref(),
            Some("https://api.github.com/user/repos?page=2")
        );
        assert_eq!(parse_next_link(r#"<https://x/?page=1>; rel="first""#), None);
    }

    #[test]
    fn validates_repository_paths() {
        assert_eq!(
            validate_repository(Provider::Github, " acme/web ").as_deref(),
            Ok("acme/web")
        );
        assert!(validate_repository(Provider::Github, "acme").is_err());
        assert!(validate_repository(Provider::Github, "a/b/c").is_err());
        assert!(validate_repository(Provider::Gitlab, "a/b/c").is_ok());
        assert!(validate_repository(Provider::Gitlab, "a/../c").is_err());
        assert!(validate_repository(Provider::Bitbucket, "acme/we b").is_err());
        assert!(validate_branch("release/1.2").is_ok());
        assert!(validate_branch("bad..name").is_err());
        assert!(validate_branch("with space").is_err());
        assert!(validate_branch("").is_err());
    }
}

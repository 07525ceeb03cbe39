//! Where a token is sent: the API base and the Git base of a target, with the trust level that
//! decides which outbound rules apply (DESIGN.md §5), and the validation of user-typed server
//! addresses.

use super::outbound::Trust;
use super::{ProviderClient, TokenTarget};
use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::domain::token::{PathPrefixError, check_path_prefix};
use url::Url;

fn trimmed(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

impl ProviderClient {
    /// API base (no trailing slash) and trust level for a target.
    pub(crate) fn destination(&self, target: &TokenTarget) -> Result<(String, Trust), TestOutcome> {
        let cfg = &self.inner.cfg;
        match (target.provider, target.hosting) {
            (Provider::Github, Hosting::Cloud) => {
                Ok((trimmed(&cfg.github_api_url), Trust::Operator))
            }
            (Provider::Gitlab, Hosting::Cloud) => Ok((
                format!("{}/api/v4", trimmed(&cfg.gitlab_url)),
                Trust::Operator,
            )),
            (Provider::Bitbucket, Hosting::Cloud) => {
                Ok((trimmed(&cfg.bitbucket_api_url), Trust::Operator))
            }
            (Provider::Bitbucket, Hosting::SelfHosted) => Err(TestOutcome::failed(
                TestStatus::Error,
                "Bitbucket Data Center is not supported; only Bitbucket Cloud",
            )),
            (provider, Hosting::SelfHosted) => {
                let server = self.server_base(target)?;
                let api = if provider == Provider::Github {
                    "/api/v3"
                } else {
                    "/api/v4"
                };
                Ok((format!("{server}{api}"), Trust::User))
            }
        }
    }

    /// Base of the Git smart-HTTP URLs (`{base}/{repo}.git/info/refs`), no trailing slash:
    /// `FORGEKEYS_GITHUB_GIT_URL` for github.com, the GitLab URL itself for GitLab (a path
    /// prefix included), `FORGEKEYS_BITBUCKET_GIT_URL` for Bitbucket Cloud, and the entered
    /// server address for GitHub Enterprise Server and self-managed GitLab.
    pub(crate) fn git_destination(
        &self,
        target: &TokenTarget,
    ) -> Result<(String, Trust), TestOutcome> {
        let cfg = &self.inner.cfg;
        match (target.provider, target.hosting) {
            (Provider::Github, Hosting::Cloud) => {
                Ok((trimmed(&cfg.github_git_url), Trust::Operator))
            }
            (Provider::Gitlab, Hosting::Cloud) => Ok((trimmed(&cfg.gitlab_url), Trust::Operator)),
            (Provider::Bitbucket, _) => Ok((trimmed(&cfg.bitbucket_git_url), Trust::Operator)),
            (_, Hosting::SelfHosted) => Ok((self.server_base(target)?, Trust::User)),
        }
    }

    /// The Git server base a stored token's repositories are cloned from (see
    /// [`Self::git_destination`]); `None` when the target has none (Bitbucket Data Center, a
    /// self-hosted target without a valid address).
    pub fn git_base(&self, target: &TokenTarget) -> Option<String> {
        self.git_destination(target).ok().map(|(base, _)| base)
    }

    /// The entered server address, checked again (a stored value may predate a rule).
    fn server_base(&self, target: &TokenTarget) -> Result<String, TestOutcome> {
        let raw = target.url.as_deref().unwrap_or("");
        if raw.trim().is_empty() {
            return Err(TestOutcome::failed(
                TestStatus::Error,
                "the server URL is required for a self-hosted provider",
            ));
        }
        normalize_base(raw, target.provider == Provider::Gitlab)
            .map_err(|e| TestOutcome::failed(TestStatus::Error, e))
    }
}

/// Validates a user-typed server address and returns its origin (`https://host[:port]`).
/// A missing scheme means `https`. `http` is accepted here; the outbound policy refuses it at
/// request time unless the address is in `FORGEKEYS_OUTBOUND_ALLOW`. Error text is user-facing.
pub fn normalize_origin(input: &str) -> Result<String, String> {
    normalize_base(input, false)
}

/// [`normalize_origin`], and with `allow_path` also an origin with a path prefix for a GitLab
/// installed under one (`https://dev.company.com/gitlab`, DESIGN.md §2): returned without a
/// trailing slash. The path may hold only plain segments (letters, digits, `-`, `_`, `.`, `~`).
pub fn normalize_base(input: &str, allow_path: bool) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("Enter the server address, like https://gitlab.company.com.".to_owned());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("https://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        format!("This is not a valid address ({e}); use the form https://gitlab.company.com.")
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "The address must start with https:// (got {}://).",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("The address must not contain a user name or password.".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("The address has no host name.".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("The address must not contain ? or # parts.".to_owned());
    }
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        return Ok(origin);
    }
    if !allow_path {
        return Err(
            "Enter only the server address (scheme, host and optional port), without a path, \
             like https://gitlab.company.com."
                .to_owned(),
        );
    }
    check_path_prefix(path).map_err(|e| match e {
        PathPrefixError::Characters => {
            "the path after the server name holds characters a GitLab path prefix cannot have"
                .to_owned()
        }
        PathPrefixError::ApiPath => {
            "the server address ends with an API path; Forgekeys adds /api/v4 itself".to_owned()
        }
    })?;
    Ok(format!("{origin}{path}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_origins() {
        assert_eq!(
            normalize_origin(" https://GitLab.Company.com/ ").as_deref(),
            Ok("https://gitlab.company.com")
        );
        assert_eq!(
            normalize_origin("gitlab.company.com:8443").as_deref(),
            Ok("https://gitlab.company.com:8443")
        );
        assert_eq!(
            normalize_origin("https://ghe.example.com:443").as_deref(),
            Ok("https://ghe.example.com")
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:8080").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        assert_eq!(
            normalize_origin("https://[::1]:8443").as_deref(),
            Ok("https://[::1]:8443")
        );
        for bad in [
            "",
            "ftp://x.example",
            "https://user:pw@x.example",
            "https://x.example/gitlab",
            "https://x.example/?a=1",
            "https://",
            "https://exa mple.com",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gitlab_may_live_under_a_path() {
        assert_eq!(
            normalize_base("https://Dev.Company.com/gitlab/", true).as_deref(),
            Ok("https://dev.company.com/gitlab")
        );
        assert_eq!(
            normalize_base("https://dev.company.com/tools/gitlab", true).as_deref(),
            Ok("https://dev.company.com/tools/gitlab")
        );
        for bad in [
            "https://dev.company.com/gitlab/api/v4",
            "https://dev.company.com/git lab",
            "https://dev.company.com/gitlab?x=1",
        ] {
            assert!(normalize_base(bad, true).is_err(), "{bad}");
        }
        assert!(normalize_base("https://dev.company.com/gitlab", false).is_err());
    }
}

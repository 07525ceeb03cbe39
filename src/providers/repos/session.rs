//! One listing's HTTP side: the provider's headers for a stored token (Bitbucket API tokens and
//! app passwords with HTTP Basic), the outbound-guarded fetcher, error words, and the next page.

use super::{ListError, parse_next_link};
use crate::domain::provider::{Hosting, Provider};
use crate::providers::http::{
    FetchError, Fetcher, Redactor, Reply, basic_header, headers, secret_header,
};
use crate::providers::{ProviderClient, TokenTarget, encode_segment, quoted};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName};
use url::Url;

/// One listing's HTTP side.
pub(super) struct Session<'a> {
    pub fetch: Fetcher<'a>,
    /// API base without trailing slash.
    pub base: String,
    pub hdrs: HeaderMap,
    pub target: &'a TokenTarget,
}

pub(super) fn fetch_error(e: FetchError) -> ListError {
    match e {
        FetchError::Blocked(b) => ListError::Unreachable(b.to_string()),
        FetchError::Unreachable(f) => ListError::Unreachable(f.to_string()),
        FetchError::Refused(m) => ListError::Provider(m),
    }
}

impl<'a> Session<'a> {
    pub(super) fn new(
        client: &'a ProviderClient,
        target: &'a TokenTarget,
        secret: &str,
        redactor: &'a Redactor,
    ) -> Result<Session<'a>, ListError> {
        if secret.is_empty() {
            return Err(ListError::Rejected("The token is empty.".into()));
        }
        let (base, trust) = client.destination(target).map_err(|o| {
            ListError::Invalid(
                o.reason
                    .unwrap_or_else(|| "the provider address is not usable".into()),
            )
        })?;
        let inner = &client.inner;
        let http = inner.client_for(trust, &base);
        let unsendable =
            || ListError::Rejected("The token contains characters that cannot be sent.".into());
        let hdrs = match target.provider {
            Provider::Github => {
                let mut map = headers(&[
                    ("accept", "application/vnd.github+json"),
                    ("x-github-api-version", "2022-11-28"),
                ]);
                map.insert(
                    AUTHORIZATION,
                    secret_header(&format!("Bearer {secret}")).ok_or_else(unsendable)?,
                );
                map
            }
            Provider::Gitlab => {
                let mut map = headers(&[("accept", "application/json")]);
                map.insert(
                    HeaderName::from_static("private-token"),
                    secret_header(secret).ok_or_else(unsendable)?,
                );
                map
            }
            Provider::Bitbucket => {
                let mut map = headers(&[("accept", "application/json")]);
                // API tokens and app passwords: HTTP Basic with the username (DESIGN.md §8).
                let auth = match target.username.as_deref().map(str::trim) {
                    Some(user) if !user.is_empty() => basic_header(user, secret),
                    _ => secret_header(&format!("Bearer {secret}")),
                };
                map.insert(AUTHORIZATION, auth.ok_or_else(unsendable)?);
                map
            }
        };
        Ok(Session {
            fetch: Fetcher {
                client: http,
                policy: &inner.policy,
                trust,
                deadline: tokio::time::Instant::now() + inner.cfg.timeout,
                redactor,
            },
            base,
            hdrs,
            target,
        })
    }

    pub(super) fn label(&self) -> &'static str {
        match (self.target.provider, self.target.hosting) {
            (Provider::Github, Hosting::Cloud) => "GitHub",
            (Provider::Github, Hosting::SelfHosted) => "GitHub Enterprise Server",
            (Provider::Gitlab, Hosting::Cloud) => "GitLab.com",
            (Provider::Gitlab, Hosting::SelfHosted) => "GitLab",
            (Provider::Bitbucket, _) => "Bitbucket",
        }
    }

    pub(super) fn workspace(&self) -> Result<String, ListError> {
        self.target
            .workspace
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ListError::Invalid("The Bitbucket token has no workspace.".into()))
    }

    pub(super) fn url(&self, s: &str) -> Result<Url, ListError> {
        Url::parse(s).map_err(|_| ListError::Invalid("could not build the provider URL".into()))
    }

    /// `{base}/repos/o/r`, `{base}/projects/g%2Fp`, `{base}/repositories/w/slug`.
    pub(super) fn repo_path(&self, repository: &str) -> Result<String, ListError> {
        let parts: Vec<&str> = repository.split('/').collect();
        Ok(match self.target.provider {
            Provider::Github => format!(
                "{}/repos/{}/{}",
                self.base,
                encode_segment(parts.first().copied().unwrap_or_default()),
                encode_segment(parts.get(1).copied().unwrap_or_default())
            ),
            Provider::Gitlab => format!("{}/projects/{}", self.base, encode_segment(repository)),
            Provider::Bitbucket => {
                let ws = self.workspace()?;
                let owner = parts.first().copied().unwrap_or_default();
                if !owner.eq_ignore_ascii_case(&ws) {
                    return Err(ListError::NoAccess(format!(
                        "{repository} is not in the token's workspace {ws}."
                    )));
                }
                format!(
                    "{}/repositories/{}/{}",
                    self.base,
                    encode_segment(owner),
                    encode_segment(parts.get(1).copied().unwrap_or_default())
                )
            }
        })
    }

    pub(super) async fn get(&self, url: Url, what: &str) -> Result<Reply, ListError> {
        let reply = self.fetch.get(url, &self.hdrs).await.map_err(fetch_error)?;
        if (200..300).contains(&reply.status) {
            Ok(reply)
        } else {
            Err(self.failure(&reply, what))
        }
    }

    pub(super) fn failure(&self, reply: &Reply, what: &str) -> ListError {
        let label = self.label();
        let quoted = quoted(self.fetch.redactor, reply);
        match reply.status {
            401 => ListError::Rejected(format!(
                "{label} rejected the token (401): it is wrong, expired or revoked. Re-test or rotate it."
            )),
            403 if reply.header("x-ratelimit-remaining") == Some("0") => ListError::Provider(
                format!("{label} rate-limited the request for {what}; try again in a few minutes"),
            ),
            403 | 404 => ListError::NoAccess(format!(
                "The token cannot read {what} (HTTP {}){quoted}",
                reply.status
            )),
            429 => ListError::Provider(format!(
                "{label} rate-limited the request for {what}; try again in a few minutes"
            )),
            s => ListError::Provider(format!(
                "{label} answered unexpectedly for {what} (HTTP {s}){quoted}"
            )),
        }
    }

    /// The next page's URL: `Link: <…>; rel="next"`, else GitLab's `X-Next-Page`, else
    /// Bitbucket's body `next`. Never to another origin.
    pub(super) fn next_link(
        &self,
        reply: &Reply,
        current: &Url,
        body_next: Option<String>,
    ) -> Result<Option<Url>, ListError> {
        let raw = reply.header("link").and_then(parse_next_link).or(body_next);
        let next = match raw {
            Some(raw) => current.join(&raw).ok(),
            None => match reply.header("x-next-page").map(str::trim) {
                Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
                    let mut u = current.clone();
                    let pairs: Vec<(String, String)> = u
                        .query_pairs()
                        .filter(|(k, _)| k != "page")
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    u.query_pairs_mut()
                        .clear()
                        .extend_pairs(pairs)
                        .append_pair("page", n);
                    Some(u)
                }
                _ => None,
            },
        };
        match next {
            Some(u) if u.origin() != current.origin() => Err(ListError::Provider(format!(
                "{} pointed the next page at another address ({}); Forgekeys does not send the token there",
                self.label(),
                u.origin().ascii_serialization()
            ))),
            Some(u) if &u == current => Ok(None),
            other => Ok(other),
        }
    }
}

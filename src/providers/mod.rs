//! Provider clients: test a Git provider access token (DESIGN.md §4, §5; provider-apis.md).
//!
//! [`ProviderClient::test_token`] calls the provider's API with the token and turns the answer
//! into a [`TestOutcome`]. Every request goes through [`outbound`] (address policy enforced in
//! the DNS resolver and on IP-literal hosts) and [`http`] (time budget, 1 MiB body cap, no
//! cross-origin redirects, redaction of quoted text).
//!
//! reqwest's system proxy support is turned off: a proxy would hide the destination address from
//! the outbound policy.

// Internal `Result<_, TestOutcome>`: the error *is* the final outcome, returned once per test;
// boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod bitbucket;
mod github;
mod gitlab;
mod http;
mod outbound;
pub mod repos;
pub mod rotate;
mod scopes;
pub mod webhook;

use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::{TestOutcome, TestStatus};
use chrono::{DateTime, Utc};
use futures::FutureExt;
use http::{FetchError, Fetcher, Redactor, Reply};
use outbound::{GuardedResolver, OutboundPolicy, Trust};
use secrecy::{ExposeSecret, SecretString};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Where the providers are and how far outbound requests may go.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// GitHub cloud API base (operator-trusted: `http` and loopback allowed).
    pub github_api_url: Url,
    /// GitLab.com base; the API root is `{base}/api/v4`.
    pub gitlab_url: Url,
    /// Bitbucket Cloud API base.
    pub bitbucket_api_url: Url,
    /// `FORGEKEYS_OUTBOUND_ALLOW`.
    pub outbound_allow: Vec<ipnet::IpNet>,
    /// `FORGEKEYS_OUTBOUND_DENY`.
    pub outbound_deny: Vec<ipnet::IpNet>,
    /// Total budget of one token test.
    pub timeout: Duration,
    /// The server's clock ("expired" versus "invalid", the time of a test).
    pub clock: crate::clock::Clock,
}

fn const_url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| panic!("built-in URL {s} is invalid: {e}"))
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            github_api_url: const_url("https://api.github.com"),
            gitlab_url: const_url("https://gitlab.com"),
            bitbucket_api_url: const_url("https://api.bitbucket.org/2.0"),
            outbound_allow: Vec::new(),
            outbound_deny: Vec::new(),
            timeout: Duration::from_millis(10_000),
            clock: crate::clock::Clock::system(),
        }
    }
}

/// Which token to test and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenTarget {
    pub provider: Provider,
    pub hosting: Hosting,
    /// Origin such as `https://gitlab.company.com`, for self-hosted servers.
    pub url: Option<String>,
    /// Bitbucket workspace slug.
    pub workspace: Option<String>,
}

/// The provider clients could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    #[error("{name} must be an http or https URL with a host, got {value}")]
    BaseUrl { name: &'static str, value: String },
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Tests tokens against their providers. Cheap to clone.
#[derive(Clone)]
pub struct ProviderClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: ProviderConfig,
    policy: Arc<OutboundPolicy>,
    /// Configured cloud URLs.
    operator: reqwest::Client,
    /// User-supplied `https` URLs.
    user_https: reqwest::Client,
    /// User-supplied `http` URLs (only to `FORGEKEYS_OUTBOUND_ALLOW`).
    user_http: reqwest::Client,
}

impl std::fmt::Debug for ProviderClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderClient")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

const USER_AGENT: &str = concat!("forgekeys/", env!("CARGO_PKG_VERSION"));

fn build_client(
    policy: &Arc<OutboundPolicy>,
    trust: Trust,
    plain_http: bool,
    timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let resolver = GuardedResolver::new(Arc::clone(policy), trust, plain_http);
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .dns_resolver(Arc::new(resolver));
    if trust == Trust::User && !plain_http {
        builder = builder.https_only(true);
    }
    builder.build()
}

fn check_base(name: &'static str, url: &Url) -> Result<(), ProviderSetupError> {
    if matches!(url.scheme(), "http" | "https") && url.host().is_some() {
        Ok(())
    } else {
        Err(ProviderSetupError::BaseUrl {
            name,
            value: http::strip_userinfo(url.as_str()),
        })
    }
}

impl ProviderClient {
    pub fn new(cfg: ProviderConfig) -> Result<Self, ProviderSetupError> {
        check_base("FORGEKEYS_GITHUB_API_URL", &cfg.github_api_url)?;
        check_base("FORGEKEYS_GITLAB_URL", &cfg.gitlab_url)?;
        check_base("FORGEKEYS_BITBUCKET_API_URL", &cfg.bitbucket_api_url)?;
        let policy = Arc::new(OutboundPolicy::new(
            cfg.outbound_allow.clone(),
            cfg.outbound_deny.clone(),
        ));
        let operator = build_client(&policy, Trust::Operator, true, cfg.timeout)?;
        let user_https = build_client(&policy, Trust::User, false, cfg.timeout)?;
        let user_http = build_client(&policy, Trust::User, true, cfg.timeout)?;
        Ok(ProviderClient {
            inner: Arc::new(Inner {
                cfg,
                policy,
                operator,
                user_https,
                user_http,
            }),
        })
    }

    /// Tests `token` against the provider of `target`. Never panics and never returns the token
    /// in any string; network problems give `unreachable`, odd answers `error`.
    pub async fn test_token(
        &self,
        target: &TokenTarget,
        token: &SecretString,
        known_expiry: Option<DateTime<Utc>>,
    ) -> TestOutcome {
        let secret = token.expose_secret().trim();
        let redactor = Redactor::new(secret);
        let budget = self.inner.cfg.timeout;
        let run = self.run(target, secret, known_expiry, &redactor, budget);
        let guarded = AssertUnwindSafe(tokio::time::timeout(budget, run)).catch_unwind();
        let mut outcome = match guarded.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_elapsed)) => TestOutcome::failed(
                TestStatus::Unreachable,
                format!(
                    "no complete answer within {} (timed out)",
                    human_duration(budget)
                ),
            ),
            Err(_panic) => {
                tracing::error!(provider = %target.provider, "token test panicked");
                TestOutcome::failed(TestStatus::Error, "internal error while testing the token")
            }
        };
        scrub(&mut outcome, &redactor, secret);
        outcome.tested_at = self.inner.cfg.clock.now();
        outcome
    }

    async fn run(
        &self,
        target: &TokenTarget,
        secret: &str,
        known_expiry: Option<DateTime<Utc>>,
        redactor: &Redactor,
        budget: Duration,
    ) -> TestOutcome {
        if secret.is_empty() {
            return TestOutcome::failed(TestStatus::Invalid, "the token is empty");
        }
        let (base, trust) = match self.destination(target) {
            Ok(d) => d,
            Err(outcome) => return outcome,
        };
        let client = match (trust, base.starts_with("http://")) {
            (Trust::Operator, _) => &self.inner.operator,
            (Trust::User, false) => &self.inner.user_https,
            (Trust::User, true) => &self.inner.user_http,
        };
        let ctx = Ctx {
            fetch: Fetcher {
                client,
                policy: &self.inner.policy,
                trust,
                deadline: tokio::time::Instant::now() + budget,
                redactor,
            },
            base,
            token: secret,
            known_expiry,
            now: self.inner.cfg.clock.now(),
            self_hosted: target.hosting == Hosting::SelfHosted,
        };
        match target.provider {
            Provider::Github => github::test(&ctx).await,
            Provider::Gitlab => gitlab::test(&ctx).await,
            Provider::Bitbucket => {
                let workspace = target.workspace.as_deref().map(str::trim).unwrap_or("");
                if workspace.is_empty() {
                    return TestOutcome::failed(
                        TestStatus::Error,
                        "a Bitbucket workspace is required to test the token",
                    );
                }
                bitbucket::test(&ctx, workspace).await
            }
        }
    }

    /// API base (no trailing slash) and trust level for a target.
    fn destination(&self, target: &TokenTarget) -> Result<(String, Trust), TestOutcome> {
        let cfg = &self.inner.cfg;
        let operator = |url: &Url| {
            Ok((
                url.as_str().trim_end_matches('/').to_owned(),
                Trust::Operator,
            ))
        };
        match (target.provider, target.hosting) {
            (Provider::Github, Hosting::Cloud) => operator(&cfg.github_api_url),
            (Provider::Gitlab, Hosting::Cloud) => {
                let base = cfg.gitlab_url.as_str().trim_end_matches('/');
                Ok((format!("{base}/api/v4"), Trust::Operator))
            }
            (Provider::Bitbucket, Hosting::Cloud) => operator(&cfg.bitbucket_api_url),
            (Provider::Bitbucket, Hosting::SelfHosted) => Err(TestOutcome::failed(
                TestStatus::Error,
                "Bitbucket Data Center is not supported; only Bitbucket Cloud",
            )),
            (provider, Hosting::SelfHosted) => {
                let raw = target.url.as_deref().unwrap_or("");
                if raw.trim().is_empty() {
                    return Err(TestOutcome::failed(
                        TestStatus::Error,
                        "the server URL is required for a self-hosted provider",
                    ));
                }
                let origin =
                    normalize_origin(raw).map_err(|e| TestOutcome::failed(TestStatus::Error, e))?;
                let api = if provider == Provider::Github {
                    "/api/v3"
                } else {
                    "/api/v4"
                };
                Ok((format!("{origin}{api}"), Trust::User))
            }
        }
    }
}

/// Validates a user-typed server address and returns its origin (`https://host[:port]`).
/// A missing scheme means `https`. `http` is accepted here; the outbound policy refuses it at
/// request time unless the address is in `FORGEKEYS_OUTBOUND_ALLOW`. Error text is user-facing.
pub fn normalize_origin(input: &str) -> Result<String, String> {
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
    if url.path() != "/" && !url.path().is_empty() {
        return Err(
            "Enter only the server address (scheme, host and optional port), without a path, \
             like https://gitlab.company.com."
                .to_owned(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("The address must not contain ? or # parts.".to_owned());
    }
    Ok(url.origin().ascii_serialization())
}

/// What a provider module needs for one test.
pub(crate) struct Ctx<'a> {
    pub fetch: Fetcher<'a>,
    /// API base without trailing slash.
    pub base: String,
    pub token: &'a str,
    pub known_expiry: Option<DateTime<Utc>>,
    /// When the test started, by the server's clock.
    pub now: DateTime<Utc>,
    pub self_hosted: bool,
}

impl Ctx<'_> {
    /// `{base}{path}` as a URL (path starts with `/`, segments already encoded).
    pub fn url(&self, path: &str) -> Result<Url, TestOutcome> {
        Url::parse(&format!("{}{}", self.base, path))
            .map_err(|_| TestOutcome::failed(TestStatus::Error, "could not build the provider URL"))
    }

    pub fn redactor(&self) -> &Redactor {
        self.fetch.redactor
    }

    /// GET `{base}{path}`; a transport problem becomes the final outcome.
    pub async fn get(
        &self,
        path: &str,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Reply, TestOutcome> {
        let url = self.url(path)?;
        self.fetch.get(url, headers).await.map_err(fetch_failed)
    }

    /// Outcome of a 401: `expired` if the known expiry has passed, else `invalid`.
    pub fn unauthorized(&self, what: &str) -> TestOutcome {
        match self.known_expiry {
            Some(at) if at <= self.now => TestOutcome::failed(
                TestStatus::Expired,
                format!(
                    "{what} rejected the token; it expired on {}",
                    at.format("%Y-%m-%d %H:%M UTC")
                ),
            ),
            _ => TestOutcome::failed(
                TestStatus::Invalid,
                format!("{what} rejected the token (401): it is wrong, expired or revoked"),
            ),
        }
    }

    /// `error` outcome quoting the provider's message.
    pub fn unexpected(&self, what: &str, reply: &Reply) -> TestOutcome {
        TestOutcome::failed(
            TestStatus::Error,
            format!(
                "{what} answered unexpectedly (HTTP {}){}",
                reply.status,
                self.quoted_message(reply)
            ),
        )
    }

    /// `": <message>"` from the provider's body, redacted and short, or empty.
    pub fn quoted_message(&self, reply: &Reply) -> String {
        let msg = provider_message(reply);
        if msg.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", self.redactor().quote(&msg))
        }
    }
}

/// The human message in a provider error body (GitHub `message`, GitLab `message`/`error_description`,
/// Bitbucket `error.message`), else the raw text.
pub(crate) fn provider_message(reply: &Reply) -> String {
    if reply.truncated {
        return "the answer was larger than 1 MiB".to_owned();
    }
    match reply.json() {
        Some(json) => {
            let pick = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            };
            json.get("error_description")
                .and_then(pick)
                .or_else(|| json.pointer("/error/message").and_then(pick))
                .or_else(|| json.get("message").and_then(pick))
                .or_else(|| json.get("error").and_then(pick))
                .unwrap_or_else(|| json.to_string())
        }
        None => reply.text(),
    }
}

fn fetch_failed(err: FetchError) -> TestOutcome {
    match err {
        FetchError::Blocked(m) | FetchError::Unreachable(m) => {
            TestOutcome::failed(TestStatus::Unreachable, m)
        }
        FetchError::Refused(m) => TestOutcome::failed(TestStatus::Error, m),
    }
}

/// A `valid` outcome to fill in.
pub(crate) fn blank() -> TestOutcome {
    let mut o = TestOutcome::failed(TestStatus::Valid, "");
    o.reason = None;
    o
}

/// Sets `missing_permissions` (with a reason naming them) when something is missing.
pub(crate) fn finish(mut o: TestOutcome) -> TestOutcome {
    if o.status == TestStatus::Valid && !o.missing.is_empty() {
        o.status = TestStatus::MissingPermissions;
        let names: Vec<&str> = o.missing.iter().map(|m| m.name.as_str()).collect();
        o.reason = Some(format!("missing: {}", names.join(", ")));
    }
    o
}

fn human_duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Percent-encodes one URL path segment.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Last line of defence: no string in the outcome may contain the token.
fn scrub(o: &mut TestOutcome, redactor: &Redactor, secret: &str) {
    // Tokens shorter than 4 characters would mangle ordinary words; they are rejected as
    // invalid by every provider anyway.
    if secret.chars().count() < 4 {
        return;
    }
    let fix = |s: &mut String| {
        if s.contains(secret) {
            *s = redactor.clean(s);
        }
    };
    for s in [
        &mut o.account,
        &mut o.token_kind,
        &mut o.server_version,
        &mut o.reason,
    ]
    .into_iter()
    .flatten()
    {
        fix(s);
    }
    o.scopes.iter_mut().for_each(fix);
    o.warnings.iter_mut().for_each(fix);
    o.details.iter_mut().for_each(fix);
    for m in &mut o.missing {
        fix(&mut m.name);
        fix(&mut m.fix);
    }
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
    fn encodes_segments() {
        assert_eq!(encode_segment("acme-1.x_y"), "acme-1.x_y");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn scrub_removes_token_everywhere() {
        let secret = "ghp_abcdef123456";
        let r = Redactor::new(secret);
        let mut o = TestOutcome::failed(TestStatus::Error, format!("server said {secret}"));
        o.warnings.push(format!("x{secret}x"));
        o.account = Some(secret.to_owned());
        scrub(&mut o, &r, secret);
        let all = format!("{o:?}");
        assert!(!all.contains(secret), "{all}");
    }
}

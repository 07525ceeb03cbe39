//! Provider clients: test a Git provider access token (DESIGN.md §4, §5; provider-apis.md).
//!
//! [`ProviderClient::test_token`] calls the provider's API with the token, then proves git read
//! access the way a clone authenticates (`git_probe`), and turns both answers into a
//! [`TestOutcome`]. Every request goes through [`outbound`] (address policy enforced in the DNS
//! resolver and on IP-literal hosts) and [`http`] (time budget, 1 MiB body cap, no cross-origin
//! redirects, redaction of quoted text).
//!
//! reqwest's system proxy support is turned off: a proxy would hide the destination address from
//! the outbound policy. `FORGEKEYS_CA_BUNDLE` adds trusted CA certificates to every client.

// Internal `Result<_, TestOutcome>`: the error *is* the final outcome, returned once per test;
// boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod bitbucket;
mod ctx;
mod git_probe;
mod github;
mod gitlab;
mod http;
pub mod oidc;
mod outbound;
pub mod repos;
pub mod rotate;
mod scopes;
mod target;
pub mod webhook;

pub use bitbucket::APP_PASSWORDS_END as BITBUCKET_APP_PASSWORDS_END;
pub(crate) use ctx::{Ctx, blank, encode_segment, finish, provider_message, quoted};
pub use target::{normalize_base, normalize_origin};

use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::{CloneCheck, TestOutcome, TestStatus};
use chrono::{DateTime, Utc};
use futures::FutureExt;
use http::{Fetcher, Redactor};
use outbound::{GuardedResolver, OutboundPolicy, StaticHosts, Trust};
use secrecy::{ExposeSecret, SecretString};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Where the providers are and how far outbound requests may go.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// GitHub cloud API base (operator-trusted: `http` and loopback allowed).
    pub github_api_url: Url,
    /// github.com's Git base (`FORGEKEYS_GITHUB_GIT_URL`) for the clone check.
    pub github_git_url: Url,
    /// GitLab.com base; the API root is `{base}/api/v4`, the Git base the base itself.
    pub gitlab_url: Url,
    /// Bitbucket Cloud API base.
    pub bitbucket_api_url: Url,
    /// bitbucket.org's Git base (`FORGEKEYS_BITBUCKET_GIT_URL`).
    pub bitbucket_git_url: Url,
    /// `FORGEKEYS_OUTBOUND_ALLOW`.
    pub outbound_allow: Vec<ipnet::IpNet>,
    /// `FORGEKEYS_OUTBOUND_DENY`.
    pub outbound_deny: Vec<ipnet::IpNet>,
    /// `FORGEKEYS_CA_BUNDLE`: a PEM file of extra CA certificates to trust.
    pub ca_bundle: Option<PathBuf>,
    /// Fixed answers for host names (like `/etc/hosts`), consulted before DNS; their
    /// addresses are checked like DNS answers. No setting fills it: tests point names at
    /// addresses with it, without DNS.
    pub hosts: Vec<(String, std::net::IpAddr)>,
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
            github_git_url: const_url("https://github.com"),
            gitlab_url: const_url("https://gitlab.com"),
            bitbucket_api_url: const_url("https://api.bitbucket.org/2.0"),
            bitbucket_git_url: const_url("https://bitbucket.org"),
            outbound_allow: Vec::new(),
            outbound_deny: Vec::new(),
            ca_bundle: None,
            hosts: Vec::new(),
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
    /// Origin such as `https://gitlab.company.com` (GitLab: possibly with a path prefix), for
    /// self-hosted servers.
    pub url: Option<String>,
    /// Bitbucket workspace slug.
    pub workspace: Option<String>,
    /// Bitbucket: the Atlassian account e-mail (API token) or Bitbucket username (app
    /// password), sent with the token as HTTP Basic credentials. `None`: a Bearer access token.
    pub username: Option<String>,
}

/// The provider clients could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    #[error("{name} must be an http or https URL with a host, got {value}")]
    BaseUrl { name: &'static str, value: String },
    #[error("FORGEKEYS_CA_BUNDLE ({path}): {msg}")]
    CaBundle { path: String, msg: String },
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Tests tokens against their providers. Cheap to clone.
#[derive(Clone)]
pub struct ProviderClient {
    inner: Arc<Inner>,
    /// Where each token test is counted (`forgekeys_token_tests_total`); none in bare clients.
    metrics: Option<crate::metrics::Metrics>,
}

struct Inner {
    cfg: ProviderConfig,
    policy: Arc<OutboundPolicy>,
    /// `ProviderConfig::hosts`, for lookups outside a request (the webhook check).
    hosts: Arc<StaticHosts>,
    /// Configured cloud URLs.
    operator: reqwest::Client,
    /// User-supplied `https` URLs.
    user_https: reqwest::Client,
    /// User-supplied `http` URLs (only to `FORGEKEYS_OUTBOUND_ALLOW`).
    user_http: reqwest::Client,
}

impl Inner {
    /// The client for a destination of this trust (`base` decides http versus https).
    fn client_for(&self, trust: Trust, base: &str) -> &reqwest::Client {
        match (trust, base.starts_with("http://")) {
            (Trust::Operator, _) => &self.operator,
            (Trust::User, false) => &self.user_https,
            (Trust::User, true) => &self.user_http,
        }
    }
}

impl std::fmt::Debug for ProviderClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderClient")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

const USER_AGENT: &str = concat!("forgekeys/", env!("CARGO_PKG_VERSION"));

/// The user name git sends with a token of `target` over HTTPS (provider-research.md §8):
/// `x-access-token` for GitHub (any token kind; required for App installation tokens),
/// `oauth2` for GitLab (required for OAuth tokens, accepted for every token), and for
/// Bitbucket `x-token-auth` (access tokens), `x-bitbucket-api-token-auth` (API tokens) or the
/// Bitbucket username (app passwords).
pub fn git_username(target: &TokenTarget, token: &str) -> String {
    match target.provider {
        crate::domain::provider::Provider::Github => github::GIT_USER.to_string(),
        crate::domain::provider::Provider::Gitlab => "oauth2".to_string(),
        crate::domain::provider::Provider::Bitbucket => {
            bitbucket::git_user_of(target.username.as_deref(), token)
        }
    }
}

/// User names a clone may send with a token (the redactor also hides their Basic encodings).
const GIT_USERNAMES: [&str; 4] = [
    "x-access-token",
    "oauth2",
    "x-token-auth",
    "x-bitbucket-api-token-auth",
];

fn build_client(
    policy: &Arc<OutboundPolicy>,
    hosts: &Arc<StaticHosts>,
    trust: Trust,
    plain_http: bool,
    timeout: Duration,
    roots: &[reqwest::Certificate],
) -> Result<reqwest::Client, reqwest::Error> {
    let resolver = GuardedResolver::new(Arc::clone(policy), Arc::clone(hosts), trust, plain_http);
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .dns_resolver(Arc::new(resolver));
    for cert in roots {
        builder = builder.add_root_certificate(cert.clone());
    }
    if trust == Trust::User && !plain_http {
        builder = builder.https_only(true);
    }
    builder.build()
}

/// The certificates of `FORGEKEYS_CA_BUNDLE`, with a message that says what is wrong.
fn load_ca_bundle(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, ProviderSetupError> {
    let fail = |msg: String| ProviderSetupError::CaBundle {
        path: path.display().to_string(),
        msg,
    };
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot read the file ({e})")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| {
        fail("not a PEM file of certificates (-----BEGIN CERTIFICATE----- blocks)".into())
    })?;
    if certs.is_empty() {
        return Err(fail(
            "holds no certificate (expected -----BEGIN CERTIFICATE----- blocks)".into(),
        ));
    }
    Ok(certs)
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
        check_base("FORGEKEYS_GITHUB_GIT_URL", &cfg.github_git_url)?;
        check_base("FORGEKEYS_GITLAB_URL", &cfg.gitlab_url)?;
        check_base("FORGEKEYS_BITBUCKET_API_URL", &cfg.bitbucket_api_url)?;
        check_base("FORGEKEYS_BITBUCKET_GIT_URL", &cfg.bitbucket_git_url)?;
        let roots = match &cfg.ca_bundle {
            Some(path) => load_ca_bundle(path)?,
            None => Vec::new(),
        };
        let policy = Arc::new(OutboundPolicy::new(
            cfg.outbound_allow.clone(),
            cfg.outbound_deny.clone(),
        ));
        let hosts = Arc::new(StaticHosts::new(&cfg.hosts));
        let build = |trust, plain_http| {
            build_client(&policy, &hosts, trust, plain_http, cfg.timeout, &roots)
        };
        let operator = build(Trust::Operator, true)?;
        let user_https = build(Trust::User, false)?;
        let user_http = build(Trust::User, true)?;
        Ok(ProviderClient {
            inner: Arc::new(Inner {
                cfg,
                policy,
                hosts,
                operator,
                user_https,
                user_http,
            }),
            metrics: None,
        })
    }

    /// This client, counting its token tests in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
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
        let mut users: Vec<&str> = GIT_USERNAMES.to_vec();
        if let Some(u) = target.username.as_deref() {
            users.push(u.trim());
        }
        let redactor = Redactor::new(secret).with_basic_users(&users);
        let budget = self.inner.cfg.timeout;
        let run = self.run(target, secret, known_expiry, &redactor, budget);
        let guarded = AssertUnwindSafe(tokio::time::timeout(budget, run)).catch_unwind();
        let mut outcome = match guarded.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_elapsed)) => TestOutcome::failed(
                TestStatus::Unreachable,
                format!(
                    "no complete answer within {} (timed out)",
                    ctx::human_duration(budget)
                ),
            ),
            Err(_panic) => {
                tracing::error!(provider = %target.provider, "token test panicked");
                TestOutcome::failed(TestStatus::Error, "internal error while testing the token")
            }
        };
        ctx::scrub(&mut outcome, &redactor, secret);
        outcome.tested_at = self.inner.cfg.clock.now();
        if let Some(m) = &self.metrics {
            m.token_test(target.provider, outcome.status);
        }
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
        let started = tokio::time::Instant::now();
        let ctx = Ctx {
            fetch: Fetcher {
                client: self.inner.client_for(trust, &base),
                policy: &self.inner.policy,
                trust,
                deadline: started + budget,
                redactor,
            },
            base,
            token: secret,
            username: target
                .username
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty()),
            known_expiry,
            now: self.inner.cfg.clock.now(),
            self_hosted: target.hosting == Hosting::SelfHosted,
        };
        let (mut outcome, clone) = match target.provider {
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
        };
        if !matches!(
            outcome.status,
            TestStatus::Valid | TestStatus::MissingPermissions
        ) {
            outcome.clone_check = Some(CloneCheck::skipped(
                "Not run: the provider's API did not accept the token.",
            ));
            return outcome;
        }
        let Some(clone) = clone else {
            outcome.clone_check = Some(CloneCheck::skipped(
                "Not run: the token reaches no repository to try a clone on.",
            ));
            return outcome;
        };
        let (git_base, git_trust) = match self.git_destination(target) {
            Ok(d) => d,
            Err(o) => {
                outcome.clone_check = Some(CloneCheck::skipped(o.reason.unwrap_or_default()));
                return outcome;
            }
        };
        // The clone check ends a little before the test's budget, so that a slow Git server
        // costs the check, not the whole verdict.
        let margin = (budget / 10).min(Duration::from_millis(200));
        let fetch = Fetcher {
            client: self.inner.client_for(git_trust, &git_base),
            policy: &self.inner.policy,
            trust: git_trust,
            deadline: started + budget - margin,
            redactor,
        };
        git_probe::check(
            &fetch,
            &git_base,
            secret,
            target.provider,
            clone,
            &mut outcome,
        )
        .await;
        finish(outcome)
    }
}

//! Organization webhooks (Slack-compatible `{"text": "…"}`), under the same outbound rules as
//! user-supplied provider URLs (DESIGN.md §5): `https` unless the address is in
//! `FORGEKEYS_OUTBOUND_ALLOW`; loopback, link-local, unspecified, multicast and broadcast
//! addresses blocked, and private, shared and unique-local ranges and the IPv6 forms that embed
//! such an IPv4 address (see `outbound`), checked on IP literals before sending and on every
//! DNS answer inside the resolver the connection uses; no redirects followed. A failed delivery
//! is reported by category (refused, timed out, DNS, TLS…), never with the error's own text.

use super::ProviderClient;
use super::outbound::{Failure, Trust, lookup};
use url::Url;

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// Why a webhook message was not delivered. `Display` is safe to show and store: it never
/// contains the webhook URL's path or credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The URL is not usable (syntax).
    #[error("{0}")]
    Invalid(String),
    /// The outbound policy refused the destination (never retried).
    #[error("{0}")]
    Blocked(String),
    /// Network problem or an answer other than 2xx (retried later).
    #[error("{0}")]
    Failed(String),
}

impl WebhookError {
    /// Worth trying again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, WebhookError::Failed(_))
    }
}

/// Parse a webhook URL typed by a user: `http(s)://host…`, no credentials, no fragment.
pub fn parse_webhook_url(s: &str) -> Result<Url, WebhookError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(WebhookError::Invalid("Enter the webhook URL.".into()));
    }
    if s.len() > MAX_URL_LEN {
        return Err(WebhookError::Invalid(format!(
            "The webhook URL is too long (at most {MAX_URL_LEN} characters)."
        )));
    }
    let url = Url::parse(s).map_err(|_| {
        WebhookError::Invalid(
            "Enter a full URL such as https://hooks.slack.com/services/… .".into(),
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(WebhookError::Invalid(
            "The webhook URL must start with https:// .".into(),
        ));
    }
    if url.host().is_none() {
        return Err(WebhookError::Invalid("The webhook URL has no host.".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(WebhookError::Invalid(
            "Remove the user name and password from the webhook URL.".into(),
        ));
    }
    Ok(url)
}

/// The URL without its path and query (which often carry the webhook's secret), for pages,
/// logs and records: `https://hooks.slack.com/…`.
pub fn describe_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => {
            let origin = u.origin().ascii_serialization();
            if u.path().len() > 1 || u.query().is_some() {
                format!("{origin}/…")
            } else {
                origin
            }
        }
        Err(_) => "(invalid URL)".into(),
    }
}

impl ProviderClient {
    /// Check a webhook URL against the outbound policy, DNS answers included, without sending
    /// anything (for the settings form). `Invalid` or `Blocked` with a message.
    pub async fn check_webhook_url(&self, s: &str) -> Result<Url, WebhookError> {
        let url = parse_webhook_url(s)?;
        let policy = &self.inner.policy;
        policy
            .check_url(&url, Trust::User)
            .map_err(|b| WebhookError::Blocked(b.to_string()))?;
        if let Some(url::Host::Domain(host)) = url.host() {
            let plain_http = url.scheme() == "http";
            let lookup =
                tokio::time::timeout(self.inner.cfg.timeout, lookup(&self.inner.hosts, host)).await;
            let addrs = match lookup {
                Ok(Ok(a)) => a,
                Ok(Err(_)) | Err(_) => {
                    return Err(WebhookError::Invalid(format!(
                        "The host {host} could not be resolved. Check the URL."
                    )));
                }
            };
            let mut ok = false;
            let mut first_block = None;
            for ip in addrs {
                let shown = format!("{host} ({ip})");
                match policy.check_named(ip, &shown, Trust::User, plain_http) {
                    Ok(()) => ok = true,
                    Err(b) => {
                        first_block.get_or_insert(b.to_string());
                    }
                }
            }
            if !ok {
                return Err(WebhookError::Blocked(
                    first_block.unwrap_or_else(|| format!("The host {host} has no address.")),
                ));
            }
        }
        Ok(url)
    }

    /// POST `{"text": text}` to the webhook. Succeeds on any 2xx answer. Redirects are not
    /// followed; the time budget is `FORGEKEYS_PROVIDER_TIMEOUT_MS`.
    pub async fn send_webhook(&self, webhook_url: &str, text: &str) -> Result<u16, WebhookError> {
        let url = parse_webhook_url(webhook_url)?;
        let policy = &self.inner.policy;
        policy
            .check_url(&url, Trust::User)
            .map_err(|b| WebhookError::Blocked(b.to_string()))?;
        let client = if url.scheme() == "http" {
            &self.inner.user_http
        } else {
            &self.inner.user_https
        };
        let host = url.host_str().unwrap_or("the webhook").to_owned();
        // The URL's path is the webhook's secret: messages name the host only (a failure by
        // category, never the error's own text, which may quote the URL).
        let sent = client
            .post(url.clone())
            .json(&serde_json::json!({ "text": text }))
            .timeout(self.inner.cfg.timeout)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return Err(match Failure::of(&e, &host) {
                    Failure::Blocked(blocked) => WebhookError::Blocked(blocked.to_string()),
                    failure => WebhookError::Failed(failure.to_string()),
                });
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        if status.is_redirection() {
            return Err(WebhookError::Failed(format!(
                "{host} answered HTTP {} (a redirect; Forgekeys does not follow webhook \
                 redirects — enter the final URL)",
                status.as_u16()
            )));
        }
        Err(WebhookError::Failed(format!(
            "{host} answered HTTP {}",
            status.as_u16()
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_describes() {
        assert!(parse_webhook_url("https://hooks.slack.com/services/T/B/x").is_ok());
        for bad in [
            "",
            "hooks.slack.com/x",
            "ftp://example.com/x",
            "https://user:pw@example.com/x",
            "javascript:alert(1)",
        ] {
            assert!(parse_webhook_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            describe_url("https://hooks.slack.com/services/T/B/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(describe_url("https://example.com"), "https://example.com");
    }
}

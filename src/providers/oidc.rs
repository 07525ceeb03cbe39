//! The HTTP side of OpenID Connect single sign-on: the discovery document, the JWKS and the
//! token endpoint of the issuer in `FORGEKEYS_OIDC_ISSUER`.
//!
//! The issuer is set by the operator, like `FORGEKEYS_GITLAB_URL`, so it goes through the
//! outbound guard at the same level ([`Trust::Operator`], DESIGN.md §5): `http` and private
//! or loopback addresses are allowed (an in-house identity provider, the tests' local one),
//! `FORGEKEYS_OUTBOUND_DENY` still applies, `FORGEKEYS_CA_BUNDLE` is trusted, no redirect is
//! followed and bodies are capped at 1 MiB. The endpoints the discovery document names are
//! held to the same rule (they are the operator's provider's).

use super::ProviderClient;
use super::http::{FetchError, MAX_BODY, describe, host_of};
use super::outbound::{Failure, Trust};
use reqwest::header::{ACCEPT, HeaderValue};
use tokio::time::Instant;
use url::Url;

/// Why an SSO request to the provider gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcHttpError {
    /// Refused by the outbound policy or no answer (by category); `Display` is user-facing.
    Unreachable(String),
    /// An HTTP status other than 2xx, with the OAuth `error` code when the body had one.
    Status { status: u16, error: Option<String> },
    /// The body was not the JSON object expected (or over 1 MiB).
    NotJson,
}

fn unreachable(e: FetchError) -> OidcHttpError {
    OidcHttpError::Unreachable(e.to_string())
}

/// An OAuth error code as quoted: the RFC 6749 alphabet only, at most 64 characters.
pub fn safe_code(code: &str) -> Option<String> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    ok.then(|| code.to_string())
}

impl ProviderClient {
    async fn oidc_send(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<serde_json::Value, OidcHttpError> {
        self.inner
            .policy
            .check_url(url, Trust::Operator)
            .map_err(|b| unreachable(FetchError::Blocked(b)))?;
        let deadline = Instant::now() + self.inner.cfg.timeout;
        let sent = request
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .timeout(self.inner.cfg.timeout)
            .send()
            .await;
        let mut response = sent.map_err(|e| unreachable(describe(&e, url)))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        loop {
            if Instant::now() > deadline {
                return Err(unreachable(FetchError::Unreachable(Failure::TimedOut {
                    host: host_of(url),
                })));
            }
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > MAX_BODY => {
                    return Err(OidcHttpError::NotJson);
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(unreachable(describe(&e, url))),
            }
        }
        let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        if !(200..300).contains(&status) {
            let error = json
                .as_ref()
                .and_then(|j| j.get("error"))
                .and_then(|e| e.as_str())
                .and_then(safe_code);
            return Err(OidcHttpError::Status { status, error });
        }
        match json {
            Some(v) if v.is_object() => Ok(v),
            _ => Err(OidcHttpError::NotJson),
        }
    }

    /// GET a JSON document (the discovery document, the JWKS).
    pub async fn oidc_get(&self, url: &Url) -> Result<serde_json::Value, OidcHttpError> {
        let request = self.inner.operator.get(url.clone());
        self.oidc_send(request, url).await
    }

    /// POST a form to the token endpoint with the client's credentials (HTTP Basic,
    /// `client_secret_basic`, the method every provider supports).
    pub async fn oidc_post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        client_id: &str,
        client_secret: &str,
    ) -> Result<serde_json::Value, OidcHttpError> {
        // RFC 6749 §2.3.1: both parts form-urlencoded before the Basic encoding.
        let enc = |s: &str| form_urlencoded(s);
        let request = self
            .inner
            .operator
            .post(url.clone())
            .basic_auth(enc(client_id), Some(enc(client_secret)))
            .form(form);
        self.oidc_send(request, url).await
    }
}

fn form_urlencoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_quoted_only_when_plain() {
        assert_eq!(safe_code("access_denied"), Some("access_denied".into()));
        assert_eq!(safe_code("<script>"), None);
        assert_eq!(safe_code(""), None);
        assert_eq!(safe_code(&"a".repeat(65)), None);
    }
}

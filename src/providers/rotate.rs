//! GitLab self-rotation (provider-apis.md §2.6): `POST {api}/personal_access_tokens/self/rotate`
//! with the stored token. GitLab revokes the old token and answers with the new `token` and its
//! `expires_at` (a week from today unless `expires_at` is sent).
//!
//! Only the personal endpoint is used. Per GitLab's source (`lib/api/personal_access_tokens/
//! self_rotation.rb`) it accepts any `PersonalAccessToken`, and project and group access tokens
//! are `PersonalAccessToken` rows of a bot user; the documented `projects/:id/access_tokens/self/
//! rotate` variant needs the project or group id, which a token test does not establish reliably.
//!
//! The request goes through the same outbound policy as a token test (address checks in the
//! resolver, `https` only for user-supplied URLs, time budget, 1 MiB body cap, no redirects), and
//! nothing the provider says is quoted without redaction of both the old and the new token.

use super::http::{MAX_BODY, Redactor, secret_header};
use super::{ProviderClient, TokenTarget};
use crate::domain::provider::Provider;
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// The token GitLab issued in exchange for the stored one.
pub struct RotatedToken {
    pub token: SecretString,
    /// Midnight UTC of GitLab's `expires_at`, when it sent one.
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for RotatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why GitLab did not rotate the token. `Display` is user-facing and never contains a token.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("Rotation at the provider is available for GitLab tokens only.")]
    NotGitlab,
    #[error("{0}")]
    Destination(String),
    #[error("GitLab could not be reached: {0}. Nothing was changed.")]
    Unreachable(String),
    #[error(
        "GitLab rejected the stored token (HTTP 401{0}): it is wrong, expired or revoked, so it \
         cannot rotate itself. Create a new token at GitLab and use “Rotate” with the new value."
    )]
    Unauthorized(String),
    #[error(
        "GitLab refused the rotation (HTTP 403{0}). Self-rotation needs the `api` or \
         `self_rotate` scope on the token. Create a new token at GitLab and use “Rotate” with \
         the new value."
    )]
    Forbidden(String),
    #[error(
        "This GitLab server does not offer self-rotation (HTTP {0}): it needs GitLab 16.10 or \
         later and a personal, project or group access token. Create a new token at GitLab and \
         use “Rotate” with the new value."
    )]
    NotSupported(u16),
    #[error("GitLab answered unexpectedly (HTTP {status}){message}. Nothing was changed here.")]
    Unexpected { status: u16, message: String },
    #[error(
        "GitLab answered the rotation without a readable new token. GitLab may already have \
         revoked the stored token: check the token at GitLab, create a new one if needed and \
         use “Rotate” with the new value."
    )]
    NoToken,
}

impl ProviderClient {
    /// Rotates a GitLab token at GitLab with the token itself. `expires_on` is sent as
    /// `expires_at` when given. Never returns the old or new token in an error.
    pub async fn gitlab_self_rotate(
        &self,
        target: &TokenTarget,
        token: &SecretString,
        expires_on: Option<NaiveDate>,
    ) -> Result<RotatedToken, RotateError> {
        if target.provider != Provider::Gitlab {
            return Err(RotateError::NotGitlab);
        }
        let secret = token.expose_secret().trim();
        let redactor = Redactor::new(secret);
        let (base, trust) = self
            .destination(target)
            .map_err(|o| RotateError::Destination(o.reason.unwrap_or_default()))?;
        let client = self.inner.client_for(trust, &base);
        let url = url::Url::parse(&format!("{base}/personal_access_tokens/self/rotate"))
            .map_err(|_| RotateError::Destination("could not build the GitLab URL".into()))?;
        self.inner
            .policy
            .check_url(&url, trust)
            .map_err(|b| RotateError::Unreachable(redactor.clean(&b.to_string())))?;
        let mut headers = HeaderMap::new();
        let auth = secret_header(secret).ok_or_else(|| {
            RotateError::Destination(
                "the stored token contains characters that cannot be sent to GitLab".into(),
            )
        })?;
        headers.insert(HeaderName::from_static("private-token"), auth);
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let body = expires_on
            .map(|d| format!("expires_at={}", d.format("%Y-%m-%d")))
            .unwrap_or_default();
        let sent = client
            .post(url.clone())
            .headers(headers)
            .body(body)
            .timeout(self.inner.cfg.timeout)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return Err(RotateError::Unreachable(describe(&e, &url))),
        };
        let status = response.status().as_u16();
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_BODY - body.len();
                    if chunk.len() > room {
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(RotateError::Unreachable(describe(&e, &url))),
            }
        }
        let json: Option<Value> = if truncated {
            None
        } else {
            serde_json::from_slice(&body).ok()
        };
        if (200..300).contains(&status) {
            let Some(json) = json else {
                return Err(RotateError::NoToken);
            };
            let new = json
                .get("token")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.bytes().all(|b| (0x21..=0x7e).contains(&b)))
                .map(|t| SecretString::from(t.to_owned()))
                .ok_or(RotateError::NoToken)?;
            let expires_at = json
                .get("expires_at")
                .and_then(Value::as_str)
                .and_then(super::scopes::parse_gitlab_date);
            return Ok(RotatedToken {
                token: new,
                expires_at,
            });
        }
        let reply = super::http::Reply {
            status,
            headers: HeaderMap::new(),
            body,
            truncated,
        };
        // Only GitLab's own (JSON) message is quoted, never another server's page.
        let quoted = super::quoted(&redactor, &reply);
        Err(match status {
            401 => RotateError::Unauthorized(quoted),
            403 => RotateError::Forbidden(quoted),
            404 | 405 => RotateError::NotSupported(status),
            300..=399 => RotateError::Unexpected {
                status,
                message: ": the server redirected; Forgekeys does not send the token to another \
                          address — check the server URL"
                    .into(),
            },
            _ => RotateError::Unexpected {
                status,
                message: quoted,
            },
        })
    }
}

/// A transport error in words by category (never the error's own text, so never the token).
fn describe(err: &reqwest::Error, url: &url::Url) -> String {
    super::outbound::Failure::of(err, &super::http::host_of(url)).to_string()
}

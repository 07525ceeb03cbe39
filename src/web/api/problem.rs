//! Errors of the JSON API as `application/problem+json` (RFC 9457), in one place next to
//! [`crate::web::error`]: the same sentences the pages show (taken from `AppError`), the same
//! field messages the forms show (`errors: [{field, message}]`), and a token test's verdict
//! where a test refused a save.

use super::types::Verdict;
use crate::app;
use crate::app::rate_limit::Limited;
use crate::app::service_keys::release::Refused;
use crate::domain::test_result::TestOutcome;
use crate::web::error::AppError;
use crate::web::forms::FormErrors;
use crate::web::urls;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One field's message, as the form shows it next to the field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem (`/api/v1/problems/validation`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Field errors, for a 422 on a request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The token test that refused the save (422 on create or on a new value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Internal errors: the id the operator finds in the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
}

/// What the API refuses or fails with.
pub enum ApiError {
    /// No usable key (missing, malformed, unknown, revoked or expired): 401 with
    /// `WWW-Authenticate: Bearer`.
    Unauthenticated { key_sent: bool },
    /// A service key (`fks_…`) on an organization route.
    ServiceKey,
    /// Past the key's request rate.
    RateLimited(Limited),
    /// A body or query that is not what the route takes (malformed JSON, wrong types).
    Malformed(String),
    /// Field errors, with the sentence that heads them.
    Invalid { detail: String, errors: FormErrors },
    /// A token test refused the save.
    NotSaved {
        detail: String,
        outcome: Box<TestOutcome>,
    },
    /// A refusal of the build-credentials routes (service keys, `fks_…`).
    Credentials(Refused),
    /// Everything the pages also answer (404, 403 with the roles, 409, 400, 500).
    Web(AppError),
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError::Web(e)
    }
}

impl From<app::Error> for ApiError {
    fn from(e: app::Error) -> ApiError {
        ApiError::Web(e.into())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Web(e) => write!(f, "{e:?}"),
            other => write!(f, "{other}"),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unauthenticated { .. } => f.write_str("API key required"),
            ApiError::ServiceKey => f.write_str("service key on an organization route"),
            ApiError::Credentials(r) => write!(f, "build credentials refused: {r:?}"),
            ApiError::RateLimited(_) => f.write_str("rate limited"),
            ApiError::Malformed(m) => f.write_str(m),
            ApiError::Invalid { detail, .. } | ApiError::NotSaved { detail, .. } => {
                f.write_str(detail)
            }
            ApiError::Web(e) => write!(f, "{e}"),
        }
    }
}

fn problem(kind: &str, title: &str, status: StatusCode, detail: String) -> Problem {
    Problem {
        kind: urls::api_problem_type(kind),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        verdict: None,
        incident: None,
    }
}

pub fn field_errors(errors: &FormErrors) -> Vec<FieldError> {
    errors
        .0
        .iter()
        .map(|(f, m)| FieldError {
            field: (*f).to_string(),
            message: m.clone(),
        })
        .collect()
}

impl ApiError {
    fn problem(&self) -> Problem {
        let status = self.status_code();
        match self {
            ApiError::Unauthenticated { .. } => problem(
                "unauthenticated",
                "API key required",
                status,
                "Send an organization API key as `Authorization: Bearer fkp_…`. Keys are made on the organization's API keys page; cookies are not accepted here. A revoked or expired key no longer works.".into(),
            ),
            ApiError::ServiceKey => problem(
                "service-key",
                "Not allowed",
                status,
                "A service key (fks_…) only fetches its service's Git credentials. Use an organization API key (fkp_…) for this route.".into(),
            ),
            ApiError::RateLimited(l) => problem(
                "rate-limited",
                "Too many requests",
                status,
                format!(
                    "This API key sent more requests than its limit allows. Retry in {} second(s).",
                    l.retry_after_secs
                ),
            ),
            ApiError::Malformed(m) => problem("malformed", "Bad request", status, m.clone()),
            ApiError::Invalid { detail, errors } => Problem {
                errors: field_errors(errors),
                ..problem("validation", "Invalid fields", status, detail.clone())
            },
            ApiError::NotSaved { detail, outcome } => Problem {
                verdict: Some(Verdict::from(outcome.as_ref())),
                ..problem("test-failed", "Not saved", status, detail.clone())
            },
            ApiError::Credentials(r) => credentials_problem(r, status),
            ApiError::Web(e) => {
                let (title, message, roles) = e.describe();
                let kind = match e {
                    AppError::NotFound | AppError::SetupClosed => "not-found",
                    AppError::Forbidden(_) => "forbidden",
                    AppError::Conflict(_) => "conflict",
                    AppError::Internal(_) => "internal",
                    _ => "bad-request",
                };
                let detail = if roles.is_empty() {
                    message
                } else {
                    format!("{message} Roles that may: {}.", roles.join(", "))
                };
                problem(kind, title, status, detail)
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::ServiceKey => StatusCode::FORBIDDEN,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Credentials(r) => match r {
                Refused::Unauthenticated => StatusCode::UNAUTHORIZED,
                Refused::NotAServiceKey | Refused::OtherService | Refused::OtherRepository => {
                    StatusCode::FORBIDDEN
                }
                Refused::NoToken | Refused::NoRemote => StatusCode::CONFLICT,
                Refused::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            },
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } | ApiError::NotSaved { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Web(AppError::Unauthorized) => StatusCode::UNAUTHORIZED,
            ApiError::Web(AppError::Csrf | AppError::CookieRefused) => StatusCode::FORBIDDEN,
            ApiError::Web(AppError::TwoFactorRequired) => StatusCode::FORBIDDEN,
            ApiError::Web(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut p = self.problem();
        if let ApiError::Web(AppError::Internal(e)) = self {
            let id = uuid::Uuid::new_v4().to_string();
            tracing::error!(incident = %id, error = ?e, "internal error (API)");
            p.detail = format!("{} (incident {id})", p.detail);
            p.incident = Some(id);
        }
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)));
        resp.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            ApiError::Credentials(Refused::Unauthenticated) => {
                resp.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="forgekeys", error="invalid_token""#),
                ));
            }
            ApiError::Credentials(Refused::Limited { retry_after_secs }) => {
                resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unauthenticated { key_sent } => {
                resp.insert_header((
                    header::WWW_AUTHENTICATE,
                    if *key_sent {
                        HeaderValue::from_static(
                            r#"Bearer realm="forgekeys", error="invalid_token""#,
                        )
                    } else {
                        HeaderValue::from_static(r#"Bearer realm="forgekeys""#)
                    },
                ));
            }
            ApiError::RateLimited(l) => {
                resp.insert_header((header::RETRY_AFTER, l.retry_after_secs.to_string()));
            }
            _ => {}
        }
        let body = serde_json::to_string(&p).unwrap_or_else(|_| {
            format!(
                r#"{{"title":"error","status":{}}}"#,
                self.status_code().as_u16()
            )
        });
        resp.body(body)
    }
}

/// The build-credentials refusals in words (`GET /api/v1/service-key`, `…/git-credentials`).
fn credentials_problem(r: &Refused, status: StatusCode) -> Problem {
    let (kind, title, detail) = match r {
        Refused::Unauthenticated => (
            "unauthenticated",
            "Service key required",
            "The service key is missing or not valid: send it as `Authorization: Bearer` (sign-in cookies are not accepted here). An unknown, revoked or expired key no longer works: make a new one on the service's page.".to_string(),
        ),
        Refused::NotAServiceKey => (
            "not-a-service-key",
            "Not allowed",
            "Only a service key (fks_…) may fetch Git credentials; organization API keys may not.".into(),
        ),
        Refused::OtherService => (
            "other-service",
            "Not allowed",
            "This service key belongs to another service: it fetches only its own service's credentials.".into(),
        ),
        Refused::OtherRepository => (
            "other-repository",
            "Not allowed",
            "The protocol, host or path asked for is not the service's repository: its token is released for that repository only.".into(),
        ),
        Refused::NoToken => (
            "no-token",
            "No organization token",
            "The service has no organization token (legacy access): move it to a token first.".into(),
        ),
        Refused::NoRemote => (
            "no-remote",
            "No Git server",
            "The service's token has no Git server to clone from.".into(),
        ),
        Refused::Limited { retry_after_secs } => (
            "rate-limited",
            "Too many requests",
            format!("This service key sent more requests than its limit allows. Retry in {retry_after_secs} second(s)."),
        ),
    };
    problem(kind, title, status, detail)
}

/// A 404 problem for paths under `/api` that no route matches.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::Web(AppError::NotFound))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::role::Permission;

    fn body(e: &ApiError) -> serde_json::Value {
        let r = e.error_response();
        assert_eq!(r.headers().get(header::CONTENT_TYPE).unwrap(), CONTENT_TYPE);
        let b = actix_web::body::to_bytes(r.into_body());
        let b = futures::executor::block_on(b).unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[test]
    fn problems_carry_the_pages_sentences_and_the_forms_field_messages() {
        let mut errors = FormErrors::default();
        errors.add("name", "Enter a name.");
        let p = body(&ApiError::Invalid {
            detail: "Nothing was saved.".into(),
            errors,
        });
        assert_eq!(p["status"], 422);
        assert_eq!(p["type"], "/api/v1/problems/validation");
        assert_eq!(p["errors"][0]["field"], "name");
        assert_eq!(p["errors"][0]["message"], "Enter a name.");
        let p = body(&ApiError::Web(AppError::Forbidden(
            Permission::ManageTokens,
        )));
        assert_eq!(p["status"], 403);
        let (_, sentence, _) = AppError::Forbidden(Permission::ManageTokens).describe();
        assert!(p["detail"].as_str().unwrap().starts_with(&sentence));
        assert!(p.get("errors").is_none() && p.get("verdict").is_none());
        let limited = ApiError::RateLimited(Limited {
            retry_after_secs: 7,
        });
        assert_eq!(
            limited
                .error_response()
                .headers()
                .get(header::RETRY_AFTER)
                .unwrap(),
            "7"
        );
    }
}

//! The build-credentials API (DESIGN.md §9), answered to a service key only
//! (`Authorization: Bearer fks_…`; a cookie is never accepted here, so there is no CSRF):
//!
//! - `GET /api/v1/service-key` → `{service_id, service, repository_url, protocol, host, path}`:
//!   the key's service and the remote it may answer git for, nothing secret. The credential
//!   helper is configured with `FORGEKEYS_URL` and `FORGEKEYS_SERVICE_KEY` only, so it learns
//!   here which service and repository its key is for before it asks for a token.
//! - `GET /api/v1/services/{id}/git-credentials[?protocol=&host=&path=]` →
//!   `{username, password, expires_at}`: the only answer that ever carries a token value.
//!   Another service's key or an organization key (`fkp_`) gets 403; an unknown, revoked,
//!   expired or malformed key 401; a protocol, host or path other than the service's
//!   repository 403 (the token is never released for another host).
//!
//! Every answer is `Cache-Control: no-store`; refusals are `application/problem+json`
//! (RFC 9457), and 401s carry `WWW-Authenticate: Bearer`. Rate-limited per key
//! (`FORGEKEYS_API_RATE_LIMIT`: 429 with `Retry-After`).

use crate::app;
use crate::app::service_keys::release::{GitRequest, Refused};
use crate::app::state::AppState;
use crate::domain::access_key::AccessKey;
use crate::domain::ids::ServiceId;
use crate::web::client::client_ip;
use crate::web::urls;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

/// A refusal as `application/problem+json` (RFC 9457). The lead moves this onto the common
/// problem module of the JSON API at merge; the fields are the same.
fn problem(status: StatusCode, detail: &str) -> HttpResponse {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut r = HttpResponse::build(status);
    r.content_type("application/problem+json")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if status == StatusCode::UNAUTHORIZED {
        r.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    r.body(body.to_string())
}

fn json(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// The key of `Authorization: Bearer …`, or the 401 to answer. Cookies are ignored: a browser
/// session never reaches a token value.
fn bearer(req: &HttpRequest) -> Result<AccessKey, HttpResponse> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((scheme, rest)) = value.trim().split_once(' ') else {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "Send a service key as Authorization: Bearer fks_… (sign-in cookies are not accepted here).",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(problem(
            StatusCode::UNAUTHORIZED,
            "Only Bearer authorization is accepted: Authorization: Bearer fks_….",
        ));
    }
    AccessKey::parse(rest).map_err(|_| refused(&Refused::Unauthenticated))
}

fn refused(r: &Refused) -> HttpResponse {
    match r {
        Refused::Unauthenticated => problem(
            StatusCode::UNAUTHORIZED,
            "The service key is not valid: unknown, revoked or expired. Make a new one on the service's page.",
        ),
        Refused::NotAServiceKey => problem(
            StatusCode::FORBIDDEN,
            "Only a service key (fks_…) may fetch Git credentials; organization API keys may not.",
        ),
        Refused::OtherService => problem(
            StatusCode::FORBIDDEN,
            "This service key belongs to another service: it fetches only its own service's credentials.",
        ),
        Refused::OtherRepository => problem(
            StatusCode::FORBIDDEN,
            "The protocol, host or path asked for is not the service's repository: its token is released for that repository only.",
        ),
        Refused::NoToken => problem(
            StatusCode::CONFLICT,
            "The service has no organization token (legacy access): move it to a token first.",
        ),
        Refused::NoRemote => problem(
            StatusCode::CONFLICT,
            "The service's token has no Git server to clone from.",
        ),
        Refused::Limited { retry_after_secs } => {
            let mut r = problem(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many requests with this key: try again in {retry_after_secs} s."),
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

fn internal(e: &app::Error) -> HttpResponse {
    tracing::error!(error = %e, "build credentials failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Forgekeys could not answer; the server log says why.",
    )
}

/// `GET /api/v1/service-key`.
pub async fn service_key(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let key = match bearer(&req) {
        Ok(k) => k,
        Err(r) => return r,
    };
    match app::service_keys::release::describe(&state, &key).await {
        Ok(Ok(s)) => json(serde_json::json!({
            "service_id": s.service_id.as_str(),
            "service": s.service_name,
            "repository_url": s.remote.url(),
            "protocol": s.remote.protocol,
            "host": s.remote.host,
            "path": s.remote.path,
            "git_credentials_url": urls::api_git_credentials(s.service_id.as_str()),
        })),
        Ok(Err(r)) => refused(&r),
        Err(e) => internal(&e),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct GitQuery {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
}

/// Empty values count as not given.
fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `GET /api/v1/services/{id}/git-credentials`.
pub async fn git_credentials(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<GitQuery>,
) -> HttpResponse {
    let key = match bearer(&req) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let asked = GitRequest {
        protocol: given(&query.protocol),
        host: given(&query.host),
        path: given(&query.path),
    };
    let service = ServiceId::new(path.into_inner());
    let ip = client_ip(&req);
    match app::service_keys::release::release(&state, &key, &service, &asked, ip).await {
        Ok(Ok(c)) => json(serde_json::json!({
            "username": c.username,
            "password": c.password.expose_secret(),
            "expires_at": c.expires_at.map(|e| e.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        })),
        Ok(Err(r)) => refused(&r),
        Err(e) => internal(&e),
    }
}

/// A malformed query (`?host=a&host=b`) is answered like the rest: problem+json.
fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = format!("The query is not valid: {err}.");
    actix_web::error::InternalError::from_response(err, problem(StatusCode::BAD_REQUEST, &detail))
        .into()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(urls::API_SERVICE_KEY).route(web::get().to(service_key)))
        .service(
            web::resource(urls::API_GIT_CREDENTIALS)
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .route(web::get().to(git_credentials)),
        );
}

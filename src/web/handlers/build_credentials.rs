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
use crate::web::api::problem::ApiError;
use crate::web::client::client_ip;
use crate::web::urls;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use secrecy::ExposeSecret;

fn json(body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// The service a key is for and the remote it may answer git for (nothing secret).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ServiceKeyOut {
    pub service_id: String,
    pub service: String,
    pub repository_url: String,
    pub protocol: String,
    pub host: String,
    pub path: String,
    /// Where to fetch the credentials.
    pub git_credentials_url: String,
}

/// Credentials for git over HTTPS: the only answer that carries a token value.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct GitCredentialsOut {
    /// The user name the provider expects with a token (`x-access-token`, `oauth2`, …).
    pub username: String,
    pub password: String,
    /// When the token expires (RFC 3339), if known.
    pub expires_at: Option<String>,
}

/// The key of `Authorization: Bearer …`. Cookies are ignored: a browser session never reaches
/// a token value.
fn bearer(req: &HttpRequest) -> Result<AccessKey, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let unauthenticated = || ApiError::Credentials(Refused::Unauthenticated);
    let (scheme, rest) = value.trim().split_once(' ').ok_or_else(unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthenticated());
    }
    AccessKey::parse(rest).map_err(|_| unauthenticated())
}

/// `GET /api/v1/service-key`.
#[utoipa::path(get, path = "/api/v1/service-key", tag = "build-credentials",
    responses((status = 200, body = ServiceKeyOut), (status = "4XX", body = crate::web::api::problem::Problem, content_type = "application/problem+json")),
    security(("service_key" = [])))]
pub async fn service_key(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = bearer(&req)?;
    match app::service_keys::release::describe(&state, &key).await? {
        Ok(s) => Ok(json(&ServiceKeyOut {
            service_id: s.service_id.as_str().to_string(),
            git_credentials_url: urls::api_git_credentials(s.service_id.as_str()),
            repository_url: s.remote.url(),
            service: s.service_name,
            protocol: s.remote.protocol,
            host: s.remote.host,
            path: s.remote.path,
        })),
        Err(r) => Err(ApiError::Credentials(r)),
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
#[utoipa::path(get, path = "/api/v1/services/{id}/git-credentials", tag = "build-credentials",
    params(("id" = String, Path, description = "Service id"),
        ("protocol" = Option<String>, Query, description = "What git asks for: https"),
        ("host" = Option<String>, Query, description = "The remote's host (and port)"),
        ("path" = Option<String>, Query, description = "The repository path, with or without .git")),
    responses((status = 200, body = GitCredentialsOut), (status = "4XX", body = crate::web::api::problem::Problem, content_type = "application/problem+json")),
    security(("service_key" = [])))]
pub async fn git_credentials(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<GitQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = bearer(&req)?;
    let asked = GitRequest {
        protocol: given(&query.protocol),
        host: given(&query.host),
        path: given(&query.path),
    };
    let service = ServiceId::new(path.into_inner());
    let ip = client_ip(&req);
    match app::service_keys::release::release(&state, &key, &service, &asked, ip).await? {
        Ok(c) => Ok(json(&GitCredentialsOut {
            password: c.password.expose_secret().to_string(),
            username: c.username,
            expires_at: c.expires_at.map(|e| {
                e.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }),
        })),
        Err(r) => Err(ApiError::Credentials(r)),
    }
}

/// A malformed query (`?host=a&host=b`) is answered like the rest: problem+json.
fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = format!("The query is not valid: {err}.");
    let answer = ApiError::Malformed(detail).error_response();
    actix_web::error::InternalError::from_response(err, answer).into()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(urls::API_SERVICE_KEY).route(web::get().to(service_key)))
        .service(
            web::resource(urls::API_GIT_CREDENTIALS)
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .route(web::get().to(git_credentials)),
        );
}

//! CSRF protection for every state-changing request.
//!
//! Two checks, both required:
//! 1. origin (middleware, every non-safe method): `Sec-Fetch-Site` is `same-origin` or `none`,
//!    or, without it, `Origin` equals the configured base URL or this request's own origin.
//!    A request with neither header is refused.
//! 2. token (extractors): the `csrf_token` form field or the `X-CSRF-Token` header equals the
//!    session's token (signed-in forms), or the pre-session cookie (login and setup forms),
//!    compared in constant time.

use super::error::AppError;
use super::extractors::{CurrentUser, state};
use super::session::PRE_CSRF_COOKIE;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

pub const HEADER: &str = "X-CSRF-Token";
/// Largest form body accepted (a token is at most 4 KiB).
const FORM_LIMIT: usize = 64 * 1024;

fn origin_ok(req: &HttpRequest) -> bool {
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = h.get("origin").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if let Ok(st) = state(req) {
        if origin == st.config.base_url {
            return true;
        }
    }
    // This request's own origin: the `Host` header with the scheme of the connection (or of a
    // trusted proxy). Never `X-Forwarded-Host`, which anyone can send.
    let Some(host) = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    origin == format!("{}://{host}", super::client::scheme(req))
}

/// Read the whole request body (at most `FORM_LIMIT` bytes) so it can be handed on.
///
/// actix shuts a keep-alive connection down after the response when the request body was not
/// read to its end, without saying `Connection: close`: a client that reuses the connection then
/// loses its next request. Every state-changing request is therefore read completely before
/// anything (origin check, sign-in check, CSRF check) can answer it early.
async fn buffer_body(req: &mut ServiceRequest) -> Result<web::Bytes, AppError> {
    use actix_web::HttpMessage;
    use futures::StreamExt;
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            AppError::BadRequest("The form could not be read (interrupted).".into())
        })?;
        if body.len() + chunk.len() > FORM_LIMIT {
            return Err(AppError::BadRequest("The form is too large.".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

pub async fn check_origin(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    // The JSON API takes bearer keys only and never reads a cookie: nothing to forge there.
    // Its handlers read (and bound) their own bodies.
    if super::api::is_api_path(req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        match buffer_body(&mut req).await {
            Ok(body) if super::guard::contains_nul(&body) => {
                let resp = super::guard::nul_error().error_response();
                return Ok(req.into_response(resp).map_into_right_body());
            }
            Ok(body) => req.set_payload(Payload::from(body)),
            Err(e) => {
                // The rest of the body is unread: tell the client this connection ends.
                let mut resp = e.error_response();
                resp.head_mut()
                    .set_connection_type(actix_web::http::ConnectionType::Close);
                return Ok(req.into_response(resp).map_into_right_body());
            }
        }
    }
    if !safe && !origin_ok(req.request()) {
        tracing::warn!(path = %req.path(), "refused a state-changing request from another origin");
        // `from_error` keeps the error on the response: its page gets the signed-in header.
        let resp = HttpResponse::from_error(AppError::Csrf);
        return Ok(req.into_response(resp).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: Option<String>,
}

async fn read_form<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Result<(T, Option<String>), AppError> {
    let body = web::Bytes::from_request(req, payload).await.map_err(|_| {
        AppError::BadRequest("The form could not be read (too large or interrupted).".into())
    })?;
    if body.len() > FORM_LIMIT {
        return Err(AppError::BadRequest("The form is too large.".into()));
    }
    let field: CsrfField =
        serde_urlencoded::from_bytes(&body).unwrap_or(CsrfField { csrf_token: None });
    let form: T = serde_urlencoded::from_bytes(&body)
        .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}.")))?;
    let header = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((form, field.csrf_token.or(header)))
}

/// A urlencoded form posted by a signed-in user, with its CSRF token checked.
pub struct Posted<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Posted<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let cu = CurrentUser::load(&req).await?;
            // Under an organization, membership is decided first so that a non-member always
            // gets 404, whatever the CSRF token (the order must not depend on timing).
            if req.match_info().get("org").is_some() {
                super::extractors::OrgContext::from_request(&req, &mut Payload::None).await?;
            }
            let (form, token) = read_form::<T>(&req, &mut payload).await?;
            match token {
                Some(t) if tokens_equal(&t, &cu.session.csrf_token) => Ok(Posted(form)),
                _ => Err(AppError::Csrf),
            }
        })
    }
}

/// Whether a browser on this request would drop our cookies: they are `Secure` and the page is
/// plain http (a browser keeps Secure cookies over http only for `localhost`).
pub fn cookie_refused(req: &HttpRequest) -> bool {
    let secure = state(req).is_ok_and(|s| s.config.cookie_secure);
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let hostname = host
        .rsplit_once(':')
        .filter(|(h, port)| !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    let local =
        matches!(hostname, "localhost" | "127.0.0.1" | "[::1]") || hostname.ends_with(".localhost");
    secure && super::client::scheme(req) == "http" && !local
}

/// A urlencoded form posted before sign-in (login, setup): checked against the pre-session
/// cookie set when the form was shown.
pub struct AnonPosted<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for AnonPosted<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let cookie = req.cookie(PRE_CSRF_COOKIE).map(|c| c.value().to_string());
            let (form, token) = read_form::<T>(&req, &mut payload).await?;
            match (cookie, token) {
                (Some(c), Some(t)) if !c.is_empty() && tokens_equal(&c, &t) => Ok(AnonPosted(form)),
                (None, Some(_)) if cookie_refused(&req) => Err(AppError::CookieRefused),
                _ => Err(AppError::Csrf),
            }
        })
    }
}

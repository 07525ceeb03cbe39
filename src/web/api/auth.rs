//! Bearer authentication of `/api/v1/orgs/{org}/…` (DESIGN.md §9): `Authorization: Bearer
//! fkp_…` only (a session cookie is never looked at, so there is no CSRF here). The key is
//! looked up by its hash; a revoked, expired, unknown or malformed key is 401; a service key is
//! 403; a valid key of another organization is 404 (like a non-member). Each key has its
//! request rate ([`crate::app::rate_limit`]). The result is the [`Member`] the use cases take,
//! so every role rule is the members' one.

use super::problem::ApiError;
use crate::app;
use crate::app::api_keys::Refused;
use crate::domain::access_key::{AccessKey, KeyKind};
use crate::domain::account::Member;
use crate::web::error::AppError;
use crate::web::extractors::state;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;

/// The organization member an API key acts as.
pub struct ApiMember(pub Member);

/// The key of `Authorization: Bearer …`, or why there is none.
fn presented(req: &HttpRequest) -> Result<AccessKey, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::Unauthenticated { key_sent: false });
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthenticated { key_sent: true })?;
    let (scheme, rest) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthenticated { key_sent: true })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthenticated { key_sent: true });
    }
    AccessKey::parse(rest).map_err(|_| ApiError::Unauthenticated { key_sent: true })
}

impl FromRequest for ApiMember {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let key = presented(&req)?;
            if key.kind() == KeyKind::Service {
                return Err(ApiError::ServiceKey);
            }
            let slug = req
                .match_info()
                .get("org")
                .ok_or(ApiError::Web(AppError::NotFound))?
                .to_string();
            let st = state(&req)?;
            let ip = crate::web::client::client_ip(&req);
            let member = match app::api_keys::authenticate(&st, &key, &slug, ip).await? {
                Ok(m) => m,
                Err(Refused::Unauthenticated) => {
                    return Err(ApiError::Unauthenticated { key_sent: true });
                }
                Err(Refused::OtherOrganization) => return Err(ApiError::Web(AppError::NotFound)),
            };
            if let Some(k) = &member.via_key {
                st.api_limiter
                    .check(&format!("api:{}", k.id))
                    .map_err(ApiError::RateLimited)?;
            }
            Ok(ApiMember(member))
        })
    }
}

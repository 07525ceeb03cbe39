//! Request extractors: the signed-in user, and the organization context with the member's role.

use super::error::AppError;
use super::session::SESSION_COOKIE;
use crate::app;
use crate::app::auth::{Banner, Session, hash_id};
use crate::app::state::AppState;
use crate::domain::account::{Member, Organization, User};
use crate::domain::role::{Permission, Role};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures::future::LocalBoxFuture;

/// The signed-in user and their session. Cached in the request extensions after the first
/// lookup so several extractors cost one query.
#[derive(Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session: Session,
}

pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("application state missing")))
}

impl CurrentUser {
    pub async fn load(req: &HttpRequest) -> Result<CurrentUser, AppError> {
        if let Some(cu) = req.extensions().get::<CurrentUser>() {
            return Ok(cu.clone());
        }
        let Some(cookie) = req.cookie(SESSION_COOKIE) else {
            return Err(AppError::Unauthorized);
        };
        let state = state(req)?;
        let session = app::auth::session(&state, hash_id(cookie.value()))
            .await?
            .ok_or(AppError::Unauthorized)?;
        let cu = CurrentUser {
            user: session.user.clone(),
            session,
        };
        req.extensions_mut().insert(cu.clone());
        Ok(cu)
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { CurrentUser::load(&req).await })
    }
}

/// The organization named by `{org}` in the path, with the signed-in member's role.
/// Not a member (or no such organization) → 404, never 403.
#[derive(Clone)]
pub struct OrgContext {
    /// The actor every organization use case takes.
    pub member: Member,
    pub session: Session,
    pub role: Role,
    /// Tokens needing attention (failing, expired or expiring soon), for the banner on every
    /// organization page; 0 for roles that may not see tokens.
    pub attention: i64,
    /// The organization (the same as `member.org`).
    pub org: Organization,
}

impl OrgContext {
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        Ok(app::require(&self.member, p)?)
    }

    pub fn can(&self, p: Permission) -> bool {
        self.member.can(p)
    }
}

impl FromRequest for OrgContext {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(ctx) = req.extensions().get::<OrgContext>() {
                return Ok(ctx.clone());
            }
            let slug = req.match_info().get("org").ok_or(AppError::NotFound)?;
            let state = state(&req)?;
            // The attention banner is part of full pages only; a post (which redirects, or
            // re-renders a form with its errors) and an HTMX fragment skip the count.
            let banner =
                if req.method() == actix_web::http::Method::GET && !super::htmx::is_htmx(&req) {
                    Banner::Wanted
                } else {
                    Banner::NotNeeded
                };
            // (Bound first: the extensions must not stay borrowed while they are written.)
            let cached = req.extensions().get::<CurrentUser>().cloned();
            let (cu, member) = match cached {
                Some(cu) => {
                    let m = app::auth::member(&state, &cu.user, slug, banner).await?;
                    (cu, m)
                }
                None => {
                    // Session and membership in one database round trip.
                    let cookie = req.cookie(SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
                    let (session, m) =
                        app::auth::session_in_org(&state, hash_id(cookie.value()), slug, banner)
                            .await?
                            .ok_or(AppError::Unauthorized)?;
                    let cu = CurrentUser {
                        user: session.user.clone(),
                        session,
                    };
                    req.extensions_mut().insert(cu.clone());
                    (cu, m)
                }
            };
            let visit = member.ok_or(AppError::NotFound)?;
            if visit.must_enroll {
                return Err(AppError::TwoFactorRequired);
            }
            let (mut member, attention) = (visit.member, visit.attention);
            member.client_ip = super::client::client_ip(&req);
            let ctx = OrgContext {
                role: member.role,
                org: member.org.clone(),
                member,
                session: cu.session,
                attention,
            };
            req.extensions_mut().insert(ctx.clone());
            Ok(ctx)
        })
    }
}

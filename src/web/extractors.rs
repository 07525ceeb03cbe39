//! Request extractors: the signed-in user, the organization context with the member's role.

use super::error::AppError;
use super::session::{SESSION_COOKIE, hash_id, idle_timeout};
use crate::db::models::membership::Membership;
use crate::db::models::organization::Organization;
use crate::db::models::session::Session;
use crate::db::models::token::GitToken;
use crate::db::models::user::User;
use crate::domain::account::Member;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::role::{Permission, Role};
use crate::state::AppState;
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
        let id_hash = hash_id(cookie.value());
        let found = web::block(move || {
            let mut conn = state.conn()?;
            let Some(session) = Session::find_live(&mut conn, &id_hash, idle_timeout())? else {
                return Ok(None);
            };
            let Some(user) = User::find(&mut conn, &session.user_id)? else {
                return Ok(None);
            };
            Session::touch(&mut conn, &session)?;
            Ok::<_, crate::db::StoreError>(Some(CurrentUser { user, session }))
        })
        .await??;
        let cu = found.ok_or(AppError::Unauthorized)?;
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
    pub user: User,
    pub session: Session,
    pub org: Organization,
    pub role: Role,
    /// Tokens needing attention (failing, expired or expiring within 30 days), for the banner
    /// on every organization page; 0 for roles that may not see tokens.
    pub attention: i64,
}

impl OrgContext {
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if p.allows(self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(p))
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        p.allows(self.role)
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
            let cu = CurrentUser::load(&req).await?;
            let slug = req
                .match_info()
                .get("org")
                .ok_or(AppError::NotFound)?
                .to_string();
            let state = state(&req)?;
            let user_id = cu.user.id.clone();
            let found = web::block(move || {
                let mut conn = state.conn()?;
                let Some((org, role)) = Membership::find_for_user(&mut conn, &slug, &user_id)?
                else {
                    return Ok(None);
                };
                // One count query for the attention banner of the layout.
                let attention = if Permission::ViewTokens.allows(role) {
                    GitToken::attention_count(
                        &mut conn,
                        &org.id,
                        crate::domain::expiry::attention_horizon(state.clock.naive()),
                    )?
                } else {
                    0
                };
                Ok::<_, crate::db::StoreError>(Some((org, role, attention)))
            })
            .await??;
            let (org, role, attention) = found.ok_or(AppError::NotFound)?;
            let member = Member {
                user: crate::domain::account::User {
                    id: UserId::new(cu.user.id.clone()),
                    email: cu.user.email.clone(),
                },
                org: crate::domain::account::Organization {
                    id: OrgId::new(org.id.clone()),
                    slug: org.slug.clone(),
                    name: org.name.clone(),
                },
                role,
            };
            let ctx = OrgContext {
                member,
                user: cu.user,
                session: cu.session,
                org,
                role,
                attention,
            };
            req.extensions_mut().insert(ctx.clone());
            Ok(ctx)
        })
    }
}

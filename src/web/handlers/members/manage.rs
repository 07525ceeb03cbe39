//! Changing a member's role, and removing a member (with a confirmation page that works
//! without JavaScript).

use super::Empty;
use crate::app;
use crate::app::members::manage::RoleChanged;
use crate::app::state::AppState;
use crate::domain::ids::UserId;
use crate::domain::role::{Permission, Role};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html, see_other_with_flash};
use crate::web::urls;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Debug, Default, serde::Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

fn user_id(path: &web::Path<(String, String)>) -> UserId {
    UserId::new(path.1.clone())
}

/// `POST …/settings/members/{user_id}/role`.
pub async fn change_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let Some(role) = Role::parse(&form.0.role) else {
        app::require(&ctx.member, Permission::ManageMembers)?;
        return Err(AppError::BadRequest(
            "Unknown role: use owner, admin, devops, viewer or billing.".into(),
        ));
    };
    let msg = match app::members::manage::change_role(&state, &ctx.member, &user_id(&path), role)
        .await?
    {
        RoleChanged::Changed { email, old, new } => {
            format!("{email} is now {} (was {}).", new.label(), old.label())
        }
        RoleChanged::Unchanged { email, role } => {
            format!(
                "{email} already has the role {}; nothing changed.",
                role.label()
            )
        }
    };
    Ok(see_other_with_flash(
        &req,
        &urls::members(&ctx.org.slug),
        &msg,
    ))
}

#[derive(Template)]
#[template(path = "pages/members/remove.html")]
pub struct RemoveMemberPage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub org_name: String,
    pub email: String,
    pub role: &'static str,
    pub is_you: bool,
    pub remove_url: String,
}

/// `GET …/settings/members/{user_id}/remove`: the confirmation.
pub async fn remove_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path);
    let m = app::members::manage::removal(&state, &ctx.member, &id).await?;
    let page = RemoveMemberPage {
        layout: Layout::for_org(&req, &ctx, format!("Remove {}", m.email), "members"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        org_name: ctx.org.name.clone(),
        is_you: m.user_id == ctx.member.user.id,
        role: m.role.label(),
        email: m.email,
        remove_url: urls::member_remove(&ctx.org.slug, id.as_str()),
    };
    Ok(html(&req, page.render()?))
}

/// `POST …/settings/members/{user_id}/remove`.
pub async fn remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = user_id(&path);
    let m = app::members::manage::remove(&state, &ctx.member, &id).await?;
    let (to, msg) = if m.user_id == ctx.member.user.id {
        (
            urls::ORGS.to_string(),
            format!("You left {}.", ctx.org.name),
        )
    } else {
        (
            urls::members(&ctx.org.slug),
            format!(
                "{} ({}) was removed from {}.",
                m.email,
                m.role.label(),
                ctx.org.name
            ),
        )
    };
    Ok(see_other_with_flash(&req, &to, &msg))
}

//! The members page (DESIGN.md §3a): members with role, two-factor state and last sign-in,
//! open invitations, the invite form (the new link shown once), and revoking an invitation.
//! Role changes and removal are in [`manage`], accepting an invitation in [`accept`].

pub mod accept;
pub mod manage;

use crate::app;
use crate::app::members::MembersPage;
use crate::app::members::invites::Invited;
use crate::app::state::AppState;
use crate::domain::account::parse_email;
use crate::domain::ids::InviteId;
use crate::domain::members::INVITE_VALID;
use crate::domain::role::Role;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::forms::account::email_message;
use crate::web::paging::{Pager, page_number};
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::members::{InviteLine, MemberLine, RoleOption, role_options, role_summary};
use crate::web::view::time::fmt_time;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// A link just created, shown once.
pub struct NewLink {
    pub email: String,
    pub role: &'static str,
    pub link: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "pages/members/list.html")]
pub struct MembersListPage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub org_name: String,
    pub members: Vec<MemberLine>,
    pub total: i64,
    pub pager: Option<Pager>,
    pub invites: Vec<InviteLine>,
    pub role_options: Vec<RoleOption>,
    pub role_help: Vec<(&'static str, &'static str)>,
    pub valid_days: i64,
    pub invite_email: String,
    pub errors: FormErrors,
    pub created: Option<NewLink>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    page: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Empty {}

fn page(
    req: &HttpRequest,
    ctx: &OrgContext,
    data: MembersPage,
    form: (&str, Option<Role>),
    errors: FormErrors,
    created: Option<NewLink>,
) -> MembersListPage {
    let m = &ctx.member;
    let pages = (data.total + app::members::PAGE_SIZE - 1) / app::members::PAGE_SIZE;
    let base = urls::members(&ctx.org.slug);
    MembersListPage {
        layout: Layout::for_org(req, ctx, "Members", "members"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        org_name: ctx.org.name.clone(),
        members: data
            .members
            .iter()
            .map(|e| MemberLine::new(m, e, data.owners))
            .collect(),
        total: data.total,
        pager: (pages > 1)
            .then(|| Pager::new(&base, "", data.page, data.total, app::members::PAGE_SIZE)),
        invites: data.invites.iter().map(|i| InviteLine::new(m, i)).collect(),
        role_options: role_options(m, Some(form.1.unwrap_or(Role::Viewer))),
        role_help: role_options(m, None)
            .into_iter()
            .filter_map(|o| Role::parse(o.value).map(|r| (o.label, role_summary(r))))
            .collect(),
        valid_days: INVITE_VALID.num_days(),
        invite_email: form.0.to_string(),
        errors,
        created,
    }
}

/// `GET …/settings/members`.
pub async fn list_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let data = app::members::list(&state, &ctx.member, page_number(&q.page)).await?;
    let p = page(&req, &ctx, data, ("", None), FormErrors::default(), None);
    Ok(html(&req, p.render()?))
}

/// `POST …/settings/members/invites`: the page again, with the new link shown once (it is
/// never shown again: only its hash is stored).
pub async fn create_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.0;
    let mut errors = FormErrors::default();
    let email = parse_email(&f.email)
        .map_err(|e| errors.add("email", email_message(e)))
        .ok();
    let role = Role::parse(&f.role);
    if role.is_none() {
        errors.add("role", "Choose a role.");
    }
    let typed: String = f.email.trim().chars().take(254).collect();
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        // The role decides first: a member who may not invite gets 403, not field errors.
        app::require(&ctx.member, crate::domain::role::Permission::ManageMembers)?;
        let data = app::members::list(&state, &ctx.member, 1).await?;
        let p = page(&req, &ctx, data, (&typed, role), errors, None);
        return Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?));
    };
    let result = app::members::invites::invite(&state, &ctx.member, email.clone(), role).await?;
    let data = app::members::list(&state, &ctx.member, 1).await?;
    match result {
        Invited::Created { invite, token } => {
            let created = NewLink {
                email: invite.email,
                role: invite.role.label(),
                link: urls::absolute(&state.config.base_url, &urls::invite(&token)),
                expires: fmt_time(invite.expires_at),
            };
            let p = page(
                &req,
                &ctx,
                data,
                ("", None),
                FormErrors::default(),
                Some(created),
            );
            Ok(html(&req, p.render()?))
        }
        Invited::AlreadyMember { role: has } => {
            errors.add(
                "email",
                format!(
                    "{email} is already a member of {} (role {}). Change their role in the list instead.",
                    ctx.org.name,
                    has.label()
                ),
            );
            let p = page(&req, &ctx, data, (&typed, Some(role)), errors, None);
            Ok(html_status(StatusCode::CONFLICT, p.render()?))
        }
    }
}

/// `POST …/settings/members/invites/{id}/revoke`.
pub async fn revoke_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = InviteId::new(path.1.clone());
    let inv = app::members::invites::revoke(&state, &ctx.member, &id).await?;
    Ok(see_other_with_flash(
        &req,
        &urls::members(&ctx.org.slug),
        &format!(
            "The invitation for {} was revoked; its link no longer works.",
            inv.email
        ),
    ))
}

/// `…/settings/members…` and `/invites/{token}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::MEMBERS, web::get().to(list_members))
        .route(org::MEMBER_INVITES, web::post().to(create_invite))
        .route(org::INVITE_REVOKE, web::post().to(revoke_invite))
        .route(org::MEMBER_ROLE, web::post().to(manage::change_role))
        .route(org::MEMBER_REMOVE, web::get().to(manage::remove_confirm))
        .route(org::MEMBER_REMOVE, web::post().to(manage::remove_member));
}

/// The routes outside an organization: accepting an invitation.
pub fn public_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::INVITE, web::get().to(accept::show_invite))
        .route(urls::INVITE, web::post().to(accept::accept_invite));
}

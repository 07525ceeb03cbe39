//! `GET/POST /orgs/{org}/settings/security`: `require_2fa` (Owner and Admin).

use crate::app;
use crate::app::security::SecurityUpdate;
use crate::app::state::AppState;
use crate::domain::role::Permission;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/orgs/security.html")]
pub struct SecurityPage {
    pub layout: Layout,
    pub csrf: String,
    pub slug: String,
    pub org_name: String,
    pub require_2fa: bool,
    pub error: Option<&'static str>,
}

#[derive(serde::Deserialize)]
pub struct SecurityForm {
    #[serde(default)]
    require_2fa: Option<String>,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    error: Option<&'static str>,
) -> Result<SecurityPage, AppError> {
    let s = app::security::settings(state, &ctx.member).await?;
    Ok(SecurityPage {
        layout: Layout::for_org(req, ctx, "Security", "security"),
        csrf: ctx.session.csrf_token.clone(),
        slug: ctx.org.slug.clone(),
        org_name: ctx.org.name.clone(),
        require_2fa: s.require_2fa,
        error,
    })
}

/// `GET /orgs/{org}/settings/security`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageMembers)?;
    Ok(html(&req, page(&req, &state, &ctx, None).await?.render()?))
}

/// `POST /orgs/{org}/settings/security`: `require_2fa` (a checkbox).
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<SecurityForm>,
) -> Result<HttpResponse, AppError> {
    let on = form.0.require_2fa.is_some_and(|v| !v.is_empty());
    let to = urls::security(&ctx.org.slug);
    match app::security::set_require_2fa(&state, &ctx.member, on).await? {
        SecurityUpdate::Saved if on => Ok(see_other_with_flash(
            &req,
            &to,
            "Two-factor sign-in is now required: members without it are sent to turn it on.",
        )),
        SecurityUpdate::Saved => Ok(see_other_with_flash(
            &req,
            &to,
            "Two-factor sign-in is no longer required.",
        )),
        SecurityUpdate::Unchanged => Ok(see_other_with_flash(&req, &to, "Nothing changed.")),
        SecurityUpdate::EnrollFirst => {
            let msg = "Turn on two-factor sign-in for your own account first: requiring it now would lock you out.";
            let p = page(&req, &state, &ctx, Some(msg)).await?;
            Ok(html_status(StatusCode::CONFLICT, p.render()?))
        }
    }
}

/// `…/settings/security`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::org::SECURITY, web::get().to(show))
        .route(urls::org::SECURITY, web::post().to(save));
}

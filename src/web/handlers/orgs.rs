//! The user's organizations.

use crate::app;
use crate::app::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::{CurrentUser, OrgContext};
use crate::web::render::{Layout, html, see_other};
use crate::web::urls;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub struct OrgRow {
    pub slug: String,
    pub name: String,
    pub role: &'static str,
}

#[derive(Template)]
#[template(path = "pages/orgs/list.html")]
pub struct OrgsPage {
    pub layout: Layout,
    pub orgs: Vec<OrgRow>,
}

pub async fn list_orgs(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let orgs = app::auth::organizations(&state, &cu.user).await?;
    let mut layout = Layout::anonymous(&req, "Organizations");
    layout.csrf = Some(cu.session.csrf_token.clone());
    layout.user_email = Some(cu.user.email.clone());
    layout.active = "orgs";
    let page = OrgsPage {
        layout,
        orgs: orgs
            .into_iter()
            .map(|(o, r)| OrgRow {
                slug: o.slug,
                name: o.name,
                role: r.label(),
            })
            .collect(),
    };
    Ok(html(&req, page.render()?))
}

/// `/orgs/{org}` → its Git Repository Access page (404 for non-members).
pub async fn org_home(req: HttpRequest, ctx: OrgContext) -> Result<HttpResponse, AppError> {
    Ok(see_other(&req, &urls::tokens(&ctx.member.org.slug)))
}

pub async fn root(req: HttpRequest) -> HttpResponse {
    match CurrentUser::load(&req).await {
        Ok(_) => see_other(&req, urls::ORGS),
        Err(_) => see_other(&req, urls::LOGIN),
    }
}

/// `/orgs/{org}` itself.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::org::HOME, web::get().to(org_home));
}

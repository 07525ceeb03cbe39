//! The user's organizations.

use crate::db::models::membership::Membership;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::{CurrentUser, OrgContext};
use crate::web::render::{Layout, html, see_other};
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
    let uid = cu.user.id.clone();
    let st = state.clone();
    let orgs = web::block(move || {
        let mut conn = st.conn()?;
        Membership::orgs_of_user(&mut conn, &uid)
    })
    .await??;
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
    Ok(see_other(
        &req,
        &format!("/orgs/{}/settings/git-tokens", ctx.org.slug),
    ))
}

pub async fn root(req: HttpRequest) -> HttpResponse {
    match CurrentUser::load(&req).await {
        Ok(_) => see_other(&req, "/orgs"),
        Err(_) => see_other(&req, "/login"),
    }
}

/// `/orgs/{org}` itself.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(crate::web::urls::org::HOME, web::get().to(org_home));
}

//! Services (applications) of an organization: the paged list, a service's page, delete
//! (DESIGN.md §7); the step-by-step form in [`form`] and [`pickers`]; moving services between
//! tokens in [`moves`]; the service's page and its service keys in [`keys`]. Handlers parse, call `app::services` / `app::moves`, render.

pub mod choices;
pub mod form;
pub mod keys;
pub mod moves;
pub mod pickers;

use crate::app;
use crate::app::state::AppState;
use crate::domain::ids::ServiceId;
use crate::domain::role::Permission;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::paging::{Pager, page_number};
use crate::web::render::{Layout, html, see_other_with_flash};
use crate::web::urls;
use crate::web::view::service::ServiceView;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// Services a page of the list shows.
pub const PAGE_SIZE: i64 = 25;

/// The `{id}` of a service path.
pub fn service_id(path: &web::Path<(String, String)>) -> ServiceId {
    ServiceId::new(path.1.clone())
}

#[derive(Template)]
#[template(path = "pages/services/list.html")]
pub struct ServiceListPage {
    pub layout: Layout,
    pub slug: String,
    pub can_manage: bool,
    pub services: Vec<ServiceView>,
    pub total: i64,
    pub legacy: i64,
    pub pager: Pager,
    /// Said when the page asked for is past the end (the last page is shown).
    pub notice: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub page: String,
}

/// `GET /orgs/{org}/services[?page=]`.
pub async fn list_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let asked = page_number(&query.page);
    let list = app::services::list(&state, &ctx.member, asked, PAGE_SIZE).await?;
    let notice = (asked > list.page).then(|| {
        format!(
            "There is no page {asked}: the list has {} page{}. This is the last one.",
            list.pages,
            if list.pages == 1 { "" } else { "s" }
        )
    });
    let slug = &ctx.org.slug;
    let page = ServiceListPage {
        layout: Layout::for_org(&req, &ctx, "Services", "services"),
        slug: slug.clone(),
        can_manage: ctx.can(Permission::ManageServices),
        services: list.items.iter().map(ServiceView::new).collect(),
        pager: Pager::new(&urls::services(slug), "", list.page, list.total, PAGE_SIZE),
        total: list.total,
        legacy: list.legacy,
        notice,
    };
    Ok(html(&req, page.render()?))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Empty {}

/// `POST /orgs/{org}/services/{id}/delete`.
pub async fn delete_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let s = app::services::write::delete(&state, &ctx.member, &service_id(&path)).await?;
    Ok(see_other_with_flash(
        &req,
        &urls::services(&ctx.org.slug),
        &format!("Service “{}” deleted.", s.name),
    ))
}

/// `…/services…` and the token move.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::TOKEN_MOVE, web::post().to(moves::move_services))
        .route(org::SERVICES, web::get().to(list_services))
        .route(org::SERVICES, web::post().to(form::create_service))
        .route(org::SERVICE_NEW, web::get().to(form::new_service))
        .route(
            org::SERVICE_REPOSITORIES,
            web::get().to(pickers::repositories),
        )
        .route(org::SERVICE_BRANCHES, web::get().to(pickers::branches))
        .route(org::SERVICE, web::get().to(keys::show_service))
        .route(org::SERVICE_KEYS, web::post().to(keys::create_key))
        .route(
            org::SERVICE_KEY_REVOKE,
            web::get().to(keys::confirm_revoke_key),
        )
        .route(org::SERVICE_KEY_REVOKE, web::post().to(keys::revoke_key))
        .route(org::SERVICE_EDIT, web::get().to(form::edit_service_form))
        .route(org::SERVICE_EDIT, web::post().to(form::update_service))
        .route(
            org::SERVICE_DELETE,
            web::get().to(super::confirm::confirm_service_delete),
        )
        .route(org::SERVICE_DELETE, web::post().to(delete_service));
}

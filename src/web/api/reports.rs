//! `/api/v1/orgs/{org}/audit` (the audit trail with the page's filters, paged) and
//! `/api/v1/orgs/{org}/inventory` (the JSON the inventory export produces, recorded like it).

use super::auth::ApiMember;
use super::input::query;
use super::problem::{ApiError, Problem};
use super::types::{AuditOut, AuditPage, pages};
use crate::app;
use crate::app::audit::TRAIL_PAGE_SIZE;
use crate::app::inventory::ExportFormat;
use crate::app::state::AppState;
use crate::web::handlers::audit::AuditQuery;
use crate::web::handlers::inventory::InventoryQuery;
use crate::web::handlers::inventory::export::download;
use crate::web::paging::page_number;
use actix_web::{HttpRequest, HttpResponse, web};

/// The organization's audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/audit", tag = "audit",
    params(("org" = String, Path, description = "Organization slug"),
        ("actor" = Option<String>, Query, description = "Actor (e-mail or API key name as recorded)"),
        ("action" = Option<String>, Query, description = "Action, e.g. token.create"),
        ("token_id" = Option<String>, Query, description = "Token id"),
        ("q" = Option<String>, Query, description = "Text in the record"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD"),
        ("page" = Option<i64>, Query, description = "Page, from 1")),
    responses((status = 200, body = AuditPage), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn audit(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: ApiMember,
) -> Result<web::Json<AuditPage>, ApiError> {
    let q: AuditQuery = query(&req)?;
    let filter = q.filter()?;
    let page = page_number(&q.page);
    let t = app::audit::trail(&state, &member.0, filter, page).await?;
    Ok(web::Json(AuditPage {
        items: t.entries.iter().map(AuditOut::from).collect(),
        total: t.total,
        page,
        per_page: TRAIL_PAGE_SIZE,
        pages: pages(t.total, TRAIL_PAGE_SIZE),
    }))
}

/// The token inventory as the JSON export (never a value nor a hint), with the list's filters
/// and sort; recorded in the audit trail as an export.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/inventory", tag = "inventory",
    params(("org" = String, Path, description = "Organization slug"),
        ("q" = Option<String>, Query, description = "Name contains"),
        ("provider" = Option<String>, Query, description = "github, gitlab or bitbucket"),
        ("status" = Option<String>, Query, description = "A test status, or attention"),
        ("sort" = Option<String>, Query, description = "Sort key"),
        ("order" = Option<String>, Query, description = "asc or desc")),
    responses((status = 200, description = "The inventory document", content_type = "application/json", body = Object),
        (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn inventory(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: ApiMember,
) -> Result<HttpResponse, ApiError> {
    let q: InventoryQuery = query(&req)?;
    let filter = q.list_query().filter()?;
    let sort = q.sort()?;
    let format = ExportFormat::Json;
    let inv = app::inventory::export(&state, &member.0, filter, sort, format).await?;
    Ok(download(inv, format, &member.0)?)
}

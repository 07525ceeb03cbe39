//! `/api/v1/orgs/{org}/services…`: list, create, read, patch (only the fields named) and
//! delete, with the service form's parsing and messages and `app::services`.

use super::auth::ApiMember;
use super::input::{ApiJson, query};
use super::problem::{ApiError, Problem};
use super::types::{ServiceIn, ServiceOut, ServicePage, pages};
use crate::app;
use crate::app::services::write::{Created, Updated};
use crate::app::state::AppState;
use crate::domain::ids::ServiceId;
use crate::domain::role::Permission;
use crate::web::forms::FormErrors;
use crate::web::forms::service::ServiceForm;
use crate::web::handlers::services::PAGE_SIZE;
use crate::web::handlers::services::form::{name_taken, problem_errors};
use crate::web::paging::page_number;
use crate::web::urls;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

fn invalid(errors: FormErrors) -> ApiError {
    ApiError::Invalid {
        detail: "Nothing was saved: correct the fields named in `errors`.".into(),
        errors,
    }
}

fn id_of(path: &web::Path<(String, String)>) -> ServiceId {
    ServiceId::new(path.1.clone())
}

/// The form as the body fills it over `base` (the current service on PATCH).
fn form_of(body: ServiceIn, base: ServiceForm) -> ServiceForm {
    let pick = |v: Option<String>, old: String| v.unwrap_or(old);
    ServiceForm {
        name: pick(body.name, base.name),
        kind: pick(body.kind, base.kind),
        provider: pick(body.provider, base.provider),
        access: pick(body.access, base.access),
        token_id: pick(body.token_id, base.token_id),
        repository: pick(body.repository, base.repository),
        branch: pick(body.branch, base.branch),
        ..ServiceForm::default()
    }
    .normalized()
}

#[derive(Debug, Default, serde::Deserialize)]
struct PageQuery {
    #[serde(default)]
    page: String,
}

/// The organization's services, by name.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/services", tag = "services",
    params(("org" = String, Path, description = "Organization slug"), ("page" = Option<i64>, Query, description = "Page, from 1")),
    responses((status = 200, body = ServicePage), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: ApiMember,
) -> Result<web::Json<ServicePage>, ApiError> {
    let q: PageQuery = query(&req)?;
    let l = app::services::list(&state, &member.0, page_number(&q.page), PAGE_SIZE).await?;
    Ok(web::Json(ServicePage {
        items: l.items.iter().map(ServiceOut::from).collect(),
        total: l.total,
        page: l.page,
        per_page: PAGE_SIZE,
        pages: pages(l.total, PAGE_SIZE),
    }))
}

/// Add a service (token access: the token must be able to read the repository).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/services", tag = "services",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = ServiceIn,
    responses((status = 201, body = ServiceOut), (status = 422, body = Problem, content_type = "application/problem+json"), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_service(
    state: web::Data<AppState>,
    member: ApiMember,
    body: ApiJson<ServiceIn>,
) -> Result<HttpResponse, ApiError> {
    app::require(&member.0, Permission::ManageServices)?;
    let f = form_of(body.0, ServiceForm::default());
    let input = f.input().map_err(invalid)?;
    match app::services::write::create(&state, &member.0, input).await? {
        Created::Saved(s) => {
            let l = app::services::detail(&state, &member.0, &s.id).await?;
            Ok(HttpResponse::Created()
                .insert_header((
                    header::LOCATION,
                    urls::api_service(&member.0.org.slug, s.id.as_str()),
                ))
                .json(ServiceOut::from(&l)))
        }
        Created::NameTaken => Err(invalid(name_taken())),
        Created::Refused(p) => Err(invalid(problem_errors(&p))),
    }
}

/// One service.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/services/{id}", tag = "services",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Service id")),
    responses((status = 200, body = ServiceOut), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn show_service(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ServiceOut>, ApiError> {
    let l = app::services::detail(&state, &member.0, &id_of(&path)).await?;
    Ok(web::Json(ServiceOut::from(&l)))
}

/// Change a service: only the fields named.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/services/{id}", tag = "services",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Service id")),
    request_body = ServiceIn,
    responses((status = 200, body = ServiceOut), (status = 422, body = Problem, content_type = "application/problem+json"), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn patch_service(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
    body: ApiJson<ServiceIn>,
) -> Result<web::Json<ServiceOut>, ApiError> {
    app::require(&member.0, Permission::ManageServices)?;
    let id = id_of(&path);
    let cur = app::services::detail(&state, &member.0, &id).await?.service;
    let base = ServiceForm {
        name: cur.name.clone(),
        kind: cur.kind.as_str().into(),
        provider: cur.provider.as_str().into(),
        access: cur.access.as_str().into(),
        token_id: cur
            .token_id
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        repository: cur.repository.clone(),
        branch: cur.branch.clone(),
        ..ServiceForm::default()
    };
    let input = form_of(body.0, base).input().map_err(invalid)?;
    match app::services::write::update(&state, &member.0, &id, input).await? {
        Updated::Saved { service, .. } => {
            let l = app::services::detail(&state, &member.0, &service.id).await?;
            Ok(web::Json(ServiceOut::from(&l)))
        }
        Updated::NameTaken => Err(invalid(name_taken())),
        Updated::Refused(p) => Err(invalid(problem_errors(&p))),
    }
}

/// Delete a service.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/services/{id}", tag = "services",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Service id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete_service(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    app::services::write::delete(&state, &member.0, &id_of(&path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

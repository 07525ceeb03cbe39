//! Services (applications) of an organization: list, detail, create through the repository and
//! branch pickers, edit, delete (DESIGN.md §7), and moving services between tokens.
//!
//! Roles: `ViewServices` (everyone but Billing) reads; `ManageServices` (Owner, Admin, DevOps)
//! changes. Another organization's service or token id answers 404, or a field error in a form —
//! it is never used.

pub mod form;
pub mod moves;

use crate::db::StoreError;
use crate::db::models::service::{Actor, Service, ServiceError, access_label, kind_label};
use crate::db::models::token::{GitToken, TokenFilter};
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::test_result::TestStatus;
use crate::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html, see_other_with_flash};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use std::collections::HashMap;

pub fn list_url(slug: &str) -> String {
    format!("/orgs/{slug}/services")
}

pub fn service_url(slug: &str, id: &str) -> String {
    format!("/orgs/{slug}/services/{id}")
}

/// An `<option>`.
#[derive(Debug, Clone, Default)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
    pub disabled: bool,
}

/// Why a token cannot be picked for a service, or `None` when it can.
pub fn unusable_reason(t: &GitToken, now: NaiveDateTime) -> Option<String> {
    match t.status() {
        TestStatus::Invalid => Some("rejected by the provider at its last test".into()),
        TestStatus::Expired => Some("expired".into()),
        _ => match t.expires_at {
            Some(e) if e <= now => Some("expired".into()),
            _ => None,
        },
    }
}

/// Token choices of a provider: expired or invalid ones are shown but disabled, with the reason.
pub fn token_options(tokens: &[GitToken], selected: &str, now: NaiveDateTime) -> Vec<Opt> {
    tokens
        .iter()
        .map(|t| {
            let reason = unusable_reason(t, now);
            let mut label = t.name.clone();
            if let Some(a) = t.account.as_deref().filter(|a| !a.is_empty()) {
                label.push_str(&format!(" · {a}"));
            }
            if let Some(u) = t.url.as_deref().filter(|u| !u.is_empty()) {
                label.push_str(&format!(" · {u}"));
            }
            match &reason {
                Some(r) => label.push_str(&format!(" — not selectable: {r}")),
                None => label.push_str(&format!(" — {}", t.status().label())),
            }
            Opt {
                value: t.id.clone(),
                label,
                selected: t.id == selected && reason.is_none(),
                disabled: reason.is_some(),
            }
        })
        .collect()
}

/// A service as listed and shown.
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub provider: String,
    pub access: String,
    pub access_key: String,
    pub repository: String,
    pub branch: String,
    pub token_id: String,
    pub token_name: String,
    pub token_status: String,
    pub token_status_label: String,
    pub created: String,
    pub updated: String,
}

impl ServiceView {
    pub fn new(s: &Service, tokens: &HashMap<String, GitToken>) -> ServiceView {
        let tok = s.token_id.as_ref().and_then(|id| tokens.get(id));
        ServiceView {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: kind_label(&s.kind).to_string(),
            provider: Provider::parse(&s.provider)
                .map(|p| p.label().to_string())
                .unwrap_or_else(|| s.provider.clone()),
            access: access_label(&s.access).to_string(),
            access_key: s.access.clone(),
            repository: s.repository.clone(),
            branch: s.branch.clone(),
            token_id: tok.map(|t| t.id.clone()).unwrap_or_default(),
            token_name: tok.map(|t| t.name.clone()).unwrap_or_default(),
            token_status: tok.map(|t| t.status().as_str()).unwrap_or("").to_string(),
            token_status_label: tok.map(|t| t.status().label()).unwrap_or("").to_string(),
            created: crate::web::handlers::tokens::views::fmt_time(s.created_at),
            updated: crate::web::handlers::tokens::views::fmt_time(s.updated_at),
        }
    }
}

fn token_map(tokens: Vec<GitToken>) -> HashMap<String, GitToken> {
    tokens.into_iter().map(|t| (t.id.clone(), t)).collect()
}

#[derive(Template)]
#[template(path = "pages/services/list.html")]
pub struct ServiceListPage {
    pub layout: Layout,
    pub slug: String,
    pub can_manage: bool,
    pub services: Vec<ServiceView>,
    pub legacy: usize,
}

/// `GET /orgs/{org}/services`.
pub async fn list_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ViewServices)?;
    let st = state.clone();
    let org_id = ctx.org.id.clone();
    let (services, tokens) = web::block(move || -> Result<_, StoreError> {
        let mut conn = st.conn()?;
        Ok((
            Service::list_for_org(&mut conn, &org_id)?,
            GitToken::all(&mut conn, &org_id, &TokenFilter::default())?,
        ))
    })
    .await??;
    let tokens = token_map(tokens);
    let page = ServiceListPage {
        layout: Layout::for_org(&req, &ctx, "Services", "services"),
        slug: ctx.org.slug.clone(),
        can_manage: ctx.can(Permission::ManageServices),
        legacy: services.iter().filter(|s| s.access != "token").count(),
        services: services
            .iter()
            .map(|s| ServiceView::new(s, &tokens))
            .collect(),
    };
    Ok(html(&req, page.render()?))
}

/// Load a service of the context's organization or answer 404.
pub async fn load_service(
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    id: &str,
) -> Result<Service, AppError> {
    let st = state.clone();
    let org_id = ctx.org.id.clone();
    let id = id.to_string();
    web::block(move || {
        let mut conn = st.conn()?;
        Service::find_in_org(&mut conn, &org_id, &id)
    })
    .await??
    .ok_or(AppError::NotFound)
}

/// The organization's tokens (for names and pickers).
pub async fn org_tokens(
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    provider: Option<Provider>,
) -> Result<Vec<GitToken>, AppError> {
    let st = state.clone();
    let org_id = ctx.org.id.clone();
    Ok(web::block(move || {
        let mut conn = st.conn()?;
        GitToken::all(
            &mut conn,
            &org_id,
            &TokenFilter {
                provider,
                ..TokenFilter::default()
            },
        )
    })
    .await??)
}

#[derive(Template)]
#[template(path = "pages/services/show.html")]
pub struct ServiceDetailPage {
    pub layout: Layout,
    pub slug: String,
    pub can_manage: bool,
    pub csrf: String,
    pub s: ServiceView,
}

/// `GET /orgs/{org}/services/{id}`.
pub async fn show_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ViewServices)?;
    let s = load_service(&state, &ctx, &path.1).await?;
    let tokens = token_map(org_tokens(&state, &ctx, None).await?);
    let page = ServiceDetailPage {
        layout: Layout::for_org(&req, &ctx, format!("{} · Service", s.name), "services"),
        slug: ctx.org.slug.clone(),
        can_manage: ctx.can(Permission::ManageServices),
        csrf: ctx.session.csrf_token.clone(),
        s: ServiceView::new(&s, &tokens),
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
    ctx.require(Permission::ManageServices)?;
    let s = load_service(&state, &ctx, &path.1).await?;
    let tokens = token_map(org_tokens(&state, &ctx, None).await?);
    let token_name = s
        .token_id
        .as_ref()
        .and_then(|id| tokens.get(id))
        .map(|t| t.name.clone());
    let st = state.clone();
    let (uid, email) = (ctx.user.id.clone(), ctx.user.email.clone());
    let svc = s.clone();
    web::block(move || -> Result<(), ServiceError> {
        let mut conn = st.conn()?;
        Service::delete(
            &mut conn,
            &svc,
            token_name.as_deref(),
            &Actor {
                id: &uid,
                email: &email,
            },
        )
    })
    .await?
    .map_err(service_error)?;
    Ok(see_other_with_flash(
        &req,
        &list_url(&ctx.org.slug),
        &format!("Service “{}” deleted.", s.name),
    ))
}

pub fn service_error(e: ServiceError) -> AppError {
    match e {
        ServiceError::DuplicateName(_) | ServiceError::Stale(_) => {
            AppError::Conflict(e.to_string())
        }
        ServiceError::Store(s) => AppError::from(s),
    }
}

/// Ids of the organization's tokens saved twice (hygiene badge "duplicate").
pub async fn duplicate_tokens(
    state: &web::Data<AppState>,
    ctx: &OrgContext,
) -> Result<std::collections::HashSet<String>, AppError> {
    let all = org_tokens(state, ctx, None).await?;
    Ok(crate::web::handlers::tokens::views::duplicate_ids(&all))
}

/// `…/services…` and the token move.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::TOKEN_MOVE, web::post().to(moves::move_services))
        .route(org::SERVICES, web::get().to(list_services))
        .route(org::SERVICES, web::post().to(form::create_service))
        .route(org::SERVICE_NEW, web::get().to(form::new_service))
        .route(org::SERVICE_REPOSITORIES, web::get().to(form::repositories))
        .route(org::SERVICE_BRANCHES, web::get().to(form::branches))
        .route(org::SERVICE, web::get().to(show_service))
        .route(org::SERVICE_EDIT, web::get().to(form::edit_service_form))
        .route(org::SERVICE_EDIT, web::post().to(form::update_service))
        .route(org::SERVICE_DELETE, web::post().to(delete_service));
}

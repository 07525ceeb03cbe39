//! Legacy GitHub App migration (`GET/POST /orgs/{org}/settings/git-tokens/migrate-github-app`):
//! the services still on the GitHub App or on personal accounts, a choice of a GitHub token, a
//! preview of which of their repositories the token reaches (GET with `token_id`), and a bulk
//! move of the selected ones (POST `token_id`, `service_ids` repeated) — checked, all or
//! nothing, audited — with the count that remains.

use crate::db::models::service::{Actor, Service, access_label};
use crate::db::models::token::GitToken;
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::providers::repos::{self, ListError};
use crate::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::handlers::services::form::{open_token, target_of};
use crate::web::handlers::services::moves::{parse_move_form, unreadable_with};
use crate::web::handlers::services::{
    Opt, org_tokens, service_error, token_options, unusable_reason,
};
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub fn migrate_url(slug: &str) -> String {
    format!("/orgs/{slug}/settings/git-tokens/migrate-github-app")
}

/// One legacy service in the preview.
pub struct LegacyRow {
    pub id: String,
    pub name: String,
    pub access: String,
    pub provider: String,
    pub repository: String,
    pub branch: String,
    /// GitHub service: may move to a GitHub token.
    pub movable: bool,
    /// `reachable`, `unreachable`, `unknown` (no token chosen / check failed), `other` (not GitHub).
    pub reach: &'static str,
    pub note: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "pages/migrate/page.html")]
pub struct MigratePage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub tokens: Vec<Opt>,
    pub token_id: String,
    pub token_name: String,
    pub rows: Vec<LegacyRow>,
    pub remaining: usize,
    pub reachable: usize,
    pub error: Option<String>,
    pub unreadable: Vec<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct MigrateQuery {
    #[serde(default)]
    pub token_id: String,
}

async fn legacy(state: &web::Data<AppState>, ctx: &OrgContext) -> Result<Vec<Service>, AppError> {
    let st = state.clone();
    let org_id = ctx.org.id.clone();
    Ok(web::block(move || {
        let mut conn = st.conn()?;
        Service::legacy(&mut conn, &org_id)
    })
    .await??)
}

/// Build the page; with a usable token, check each GitHub service's repository with it.
async fn build(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    token_id: &str,
    selected: Option<&[String]>,
) -> Result<MigratePage, AppError> {
    let services = legacy(state, ctx).await?;
    let tokens = org_tokens(state, ctx, Some(Provider::Github)).await?;
    let n = state.clock.naive();
    let mut error = None;
    let chosen: Option<GitToken> = if token_id.is_empty() {
        None
    } else {
        match tokens.iter().find(|t| t.id == token_id) {
            None => {
                error = Some("Choose one of this organization's GitHub tokens.".to_string());
                None
            }
            Some(t) => match unusable_reason(t, n) {
                Some(r) => {
                    error = Some(format!(
                        "“{}” cannot be used: {r}. Choose another token.",
                        t.name
                    ));
                    None
                }
                None => Some(t.clone()),
            },
        }
    };
    let secret = match &chosen {
        Some(t) => match open_token(state, t) {
            Ok(s) => Some(s),
            Err(m) => {
                error = Some(m);
                None
            }
        },
        None => None,
    };
    let mut rows = Vec::new();
    for s in &services {
        let movable = s.provider == Provider::Github.as_str();
        let (reach, note) = match (&chosen, &secret, movable) {
            (_, _, false) => (
                "other",
                "Not a GitHub repository: edit the service to choose a token of its provider."
                    .to_string(),
            ),
            (Some(t), Some(secret), true) => {
                match repos::can_read_repository(
                    &state.providers,
                    &target_of(t),
                    secret,
                    &s.repository,
                )
                .await
                {
                    Ok(true) => ("reachable", format!("“{}” can read it.", t.name)),
                    Ok(false) | Err(ListError::NoAccess(_)) | Err(ListError::Invalid(_)) => {
                        ("unreachable", format!("“{}” cannot read it.", t.name))
                    }
                    Err(e) => ("unknown", format!("Could not check: {e}")),
                }
            }
            _ => (
                "unknown",
                "Choose a token to see whether it reaches this repository.".to_string(),
            ),
        };
        let checked = match selected {
            Some(ids) => ids.contains(&s.id),
            None => reach == "reachable",
        };
        rows.push(LegacyRow {
            id: s.id.clone(),
            name: s.name.clone(),
            access: access_label(&s.access).to_string(),
            provider: Provider::parse(&s.provider)
                .map(|p| p.label().to_string())
                .unwrap_or_else(|| s.provider.clone()),
            repository: s.repository.clone(),
            branch: s.branch.clone(),
            movable,
            reach,
            note,
            checked: checked && reach == "reachable",
        });
    }
    Ok(MigratePage {
        layout: Layout::for_org(req, ctx, "GitHub App migration", "migrate"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        tokens: token_options(&tokens, token_id, n),
        token_id: chosen.as_ref().map(|t| t.id.clone()).unwrap_or_default(),
        token_name: chosen.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
        reachable: rows.iter().filter(|r| r.reach == "reachable").count(),
        remaining: services.len(),
        rows,
        error,
        unreadable: Vec::new(),
    })
}

/// `GET …/git-tokens/migrate-github-app?token_id=`.
pub async fn migrate_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<MigrateQuery>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let page = build(&req, &state, &ctx, query.token_id.trim(), None).await?;
    Ok(html(&req, page.render()?))
}

/// `POST …/git-tokens/migrate-github-app`: `token_id`, `service_ids` (repeated).
pub async fn migrate_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let (token_id, ids) = parse_move_form(&form.0, "token_id");
    let refuse = |mut page: MigratePage, msg: String, unreadable: Vec<String>| {
        page.error = Some(msg);
        page.unreadable = unreadable;
        Ok::<_, AppError>(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            page.render()?,
        ))
    };
    let tokens = org_tokens(&state, &ctx, Some(Provider::Github)).await?;
    let target = tokens.iter().find(|t| t.id == token_id).cloned();
    let Some(target) = target.filter(|t| unusable_reason(t, state.clock.naive()).is_none()) else {
        let page = build(&req, &state, &ctx, "", Some(&ids)).await?;
        return refuse(
            page,
            "Choose a usable GitHub token of this organization.".into(),
            vec![],
        );
    };
    if ids.is_empty() {
        let page = build(&req, &state, &ctx, &token_id, None).await?;
        return refuse(page, "Select at least one service to move.".into(), vec![]);
    }
    let services = legacy(&state, &ctx).await?;
    let chosen: Vec<Service> = services
        .into_iter()
        .filter(|s| ids.contains(&s.id) && s.provider == Provider::Github.as_str())
        .collect();
    if chosen.len() != ids.len() {
        let page = build(&req, &state, &ctx, &token_id, Some(&ids)).await?;
        return refuse(
            page,
            "A selected service is not a GitHub service on legacy access (any more). Nothing was moved.".into(),
            vec![],
        );
    }
    match unreadable_with(&state, &target, &chosen).await {
        Err(m) => {
            let page = build(&req, &state, &ctx, &token_id, Some(&ids)).await?;
            return refuse(page, m, vec![]);
        }
        Ok(bad) if !bad.is_empty() => {
            let page = build(&req, &state, &ctx, &token_id, Some(&ids)).await?;
            let msg = format!(
                "Nothing was moved: “{}” cannot read {} of the selected repositories.",
                target.name,
                bad.len()
            );
            return refuse(page, msg, bad);
        }
        Ok(_) => {}
    }
    let st = state.clone();
    let (uid, email) = (ctx.user.id.clone(), ctx.user.email.clone());
    let (org_id, tgt, move_ids) = (ctx.org.id.clone(), target.clone(), ids.clone());
    let moved = web::block(move || {
        let mut conn = st.conn()?;
        Service::move_to_token(
            &mut conn,
            &org_id,
            &move_ids,
            None,
            &tgt,
            &Actor {
                id: &uid,
                email: &email,
            },
        )
    })
    .await?
    .map_err(service_error)?;
    let remaining = legacy(&state, &ctx).await?.len();
    Ok(see_other_with_flash(
        &req,
        &format!("{}?token_id={}", migrate_url(&ctx.org.slug), target.id),
        &format!(
            "Moved {moved} service{} to “{}”. {remaining} service{} remain{} on the GitHub App or personal accounts.",
            if moved == 1 { "" } else { "s" },
            target.name,
            if remaining == 1 { "" } else { "s" },
            if remaining == 1 { "s" } else { "" },
        ),
    ))
}

/// `…/git-tokens/migrate-github-app`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::MIGRATE, web::get().to(migrate_page))
        .route(org::MIGRATE, web::post().to(migrate_services));
}

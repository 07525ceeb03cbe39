//! Legacy GitHub App migration (`GET/POST /orgs/{org}/settings/git-tokens/migrate-github-app`):
//! the services still on the GitHub App or on personal accounts, a choice of a GitHub token, a
//! preview of which of their repositories the token reaches (GET with `token_id`), and a bulk
//! move of the selected ones (POST `token_id`, `service_ids` repeated). The rules are
//! `app::moves::migrate`'s; this module parses, calls and renders.

use crate::app::moves::migrate::{self, Migrated, Preview, PreviewProblem, Reach};
use crate::app::state::AppState;
use crate::domain::ids::TokenId;
use crate::domain::provider::Provider;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::handlers::services::moves::{On, move_request, parse_move_form, refusal_text};
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::service::undecryptable;
use crate::web::view::service::{Opt, access_label, token_options, unusable_text};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// One legacy service in the preview.
pub struct LegacyRow {
    pub id: String,
    pub name: String,
    pub access: &'static str,
    pub provider: &'static str,
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

fn problem_text(p: &PreviewProblem) -> String {
    match p {
        PreviewProblem::TokenNotFound => "Choose one of this organization's GitHub tokens.".into(),
        PreviewProblem::TokenUnusable { name, why } => format!(
            "“{name}” cannot be used: {}. Choose another token.",
            unusable_text(*why)
        ),
        PreviewProblem::Undecryptable(e) => undecryptable(e),
    }
}

/// The page of a preview; `selected` services ticked (`None`: every reachable one).
fn page(
    req: &HttpRequest,
    ctx: &OrgContext,
    p: Preview,
    selected: Option<&[String]>,
) -> MigratePage {
    let token_name = p.token.as_ref().map(|t| t.name.clone()).unwrap_or_default();
    let token_id = p
        .token
        .as_ref()
        .map(|t| t.id.to_string())
        .unwrap_or_default();
    let remaining = p.remaining();
    let rows: Vec<LegacyRow> = p
        .rows
        .into_iter()
        .map(|r| {
            let s = r.service;
            let (reach, note) = match &r.reach {
                Reach::OtherProvider => (
                    "other",
                    "Not a GitHub repository: edit the service to choose a token of its provider."
                        .to_string(),
                ),
                Reach::Reachable => ("reachable", format!("“{token_name}” can read it.")),
                Reach::Unreachable => ("unreachable", format!("“{token_name}” cannot read it.")),
                Reach::CheckFailed(e) => ("unknown", format!("Could not check: {e}")),
                Reach::Unknown => (
                    "unknown",
                    "Choose a token to see whether it reaches this repository.".to_string(),
                ),
            };
            let id = s.id.into_string();
            let checked = match selected {
                Some(ids) => ids.contains(&id),
                None => reach == "reachable",
            };
            LegacyRow {
                checked: checked && reach == "reachable",
                movable: s.provider == Provider::Github,
                name: s.name,
                access: access_label(s.access),
                provider: s.provider.label(),
                repository: s.repository,
                branch: s.branch,
                reach,
                note,
                id,
            }
        })
        .collect();
    MigratePage {
        layout: Layout::for_org(req, ctx, "GitHub App migration", "migrate"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        tokens: token_options(&p.tokens, &token_id, true),
        reachable: rows.iter().filter(|r| r.reach == "reachable").count(),
        error: p.problem.as_ref().map(problem_text),
        unreadable: Vec::new(),
        token_id,
        token_name,
        rows,
        remaining,
    }
}

/// `GET …/git-tokens/migrate-github-app?token_id=`.
pub async fn migrate_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<MigrateQuery>,
) -> Result<HttpResponse, AppError> {
    let id = query.token_id.trim();
    let token = (!id.is_empty()).then(|| TokenId::new(id));
    let p = migrate::preview(&state, &ctx.member, token.as_ref()).await?;
    Ok(html(&req, page(&req, &ctx, p, None).render()?))
}

/// `POST …/git-tokens/migrate-github-app`: `token_id`, `service_ids` (repeated).
pub async fn migrate_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (token_id, ids) = parse_move_form(&form.0, "token_id");
    match migrate::migrate(&state, &ctx.member, move_request(&token_id, &ids)).await? {
        Migrated::Done {
            target,
            moved,
            remaining,
        } => {
            let plural = |n: i64, one: &'static str, many: &'static str| {
                if n == 1 { one } else { many }
            };
            let back = format!(
                "{}?{}",
                urls::migrate(&ctx.org.slug),
                crate::web::paging::query_string(&[("token_id", target.id.as_str())])
            );
            Ok(see_other_with_flash(
                &req,
                &back,
                &format!(
                    "Moved {moved} service{} to “{}”. {remaining} service{} remain{} on the GitHub App or personal accounts.",
                    plural(moved as i64, "", "s"),
                    target.name,
                    plural(remaining, "", "s"),
                    plural(remaining, "s", ""),
                ),
            ))
        }
        Migrated::Refused { preview, refusal } => {
            let selected = match refusal {
                crate::app::moves::Refusal::NoServices => None,
                _ => Some(ids.as_slice()),
            };
            let mut p = page(&req, &ctx, preview, selected);
            let (error, unreadable) = refusal_text(&refusal, On::Migration);
            p.error = Some(error);
            p.unreadable = unreadable;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?))
        }
    }
}

/// `…/git-tokens/migrate-github-app`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::MIGRATE, web::get().to(migrate_page))
        .route(org::MIGRATE, web::post().to(migrate_services));
}

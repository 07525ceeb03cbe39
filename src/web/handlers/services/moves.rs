//! Moving services to another token (`POST …/git-tokens/{id}/move`, offered by the delete
//! confirmation): the move panel and the words for a refused move (shared with the migration
//! page). The rules are `app::moves`'.

use crate::app::moves::{self, MoveRequest, Moved, Refusal};
use crate::app::services::TokenChoice;
use crate::app::state::AppState;
use crate::domain::account::Member;
use crate::domain::ids::{ServiceId, TokenId};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::service::undecryptable;
use crate::web::view::service::{Opt, unusable_text};
use crate::web::view::token::TokenView;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// A service offered for a move.
#[derive(Debug, Clone)]
pub struct MoveService {
    pub id: String,
    pub name: String,
    pub repository: String,
    pub branch: String,
    pub checked: bool,
}

/// The "move these services" part of a token's delete confirmation.
#[derive(Debug, Clone, Default)]
pub struct MovePanel {
    pub services: Vec<MoveService>,
    /// Other tokens of the same provider and host (unusable ones disabled).
    pub targets: Vec<Opt>,
    pub error: Option<String>,
    /// Repositories the chosen target cannot read (named on the page).
    pub unreadable: Vec<String>,
}

fn target_option(c: &TokenChoice, selected: &str) -> Opt {
    let t = &c.token;
    Opt {
        value: t.id.as_str().to_string(),
        selected: t.id.as_str() == selected && c.unusable.is_none(),
        disabled: c.unusable.is_some(),
        label: match c.unusable {
            Some(why) => format!("{} — not selectable: {}", t.name, unusable_text(why)),
            None => format!(
                "{}{} — {}",
                t.name,
                t.account
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .map(|a| format!(" · {a}"))
                    .unwrap_or_default(),
                t.status.label()
            ),
        },
    }
}

impl MovePanel {
    /// The panel of `p`: `selected` services checked (`None`: all), `selected_target` chosen.
    pub fn new(p: moves::MovePanel, selected_target: &str, selected: Option<&[String]>) -> Self {
        MovePanel {
            targets: p
                .targets
                .iter()
                .map(|c| target_option(c, selected_target))
                .collect(),
            services: p
                .services
                .into_iter()
                .map(|s| MoveService {
                    checked: selected.is_none_or(|ids| ids.iter().any(|i| s.id == *i.as_str())),
                    id: s.id.into_string(),
                    name: s.name,
                    repository: s.repository,
                    branch: s.branch,
                })
                .collect(),
            error: None,
            unreadable: Vec::new(),
        }
    }

    /// The move offer for a token's services (delete confirmation).
    pub async fn load(
        state: &AppState,
        member: &Member,
        token: &TokenId,
        selected_target: &str,
        selected: Option<&[String]>,
    ) -> Result<MovePanel, AppError> {
        let p = moves::panel(state, member, token).await?;
        Ok(MovePanel::new(p, selected_target, selected))
    }
}

/// `target_token_id` / `token_id` and the repeated `service_ids` of a posted form.
pub fn parse_move_form(pairs: &[(String, String)], target_key: &str) -> (String, Vec<String>) {
    let mut target = String::new();
    let mut ids: Vec<String> = Vec::new();
    for (k, v) in pairs {
        if k == target_key {
            target = v.trim().to_string();
        } else if k == "service_ids" || k == "service_ids[]" {
            let v = v.trim().to_string();
            if !v.is_empty() && !ids.contains(&v) {
                ids.push(v);
            }
        }
    }
    (target, ids)
}

/// The request of a parsed move form.
pub fn move_request(target: &str, ids: &[String]) -> MoveRequest {
    MoveRequest {
        target: (!target.is_empty()).then(|| TokenId::new(target)),
        services: ids.iter().map(|i| ServiceId::new(i.clone())).collect(),
    }
}

/// Which page a refusal is worded for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// Moving off a token in use.
    Token,
    /// The GitHub App migration.
    Migration,
}

/// A refused move in words, and the repositories to name (`repository (service)`).
pub fn refusal_text(r: &Refusal, on: On) -> (String, Vec<String>) {
    let text = match r {
        Refusal::NoTarget => "Choose the token to move the services to.".into(),
        Refusal::TargetNotFound => "Choose one of this organization's tokens.".into(),
        Refusal::SameToken => "Choose another token than the one the services use now.".into(),
        Refusal::OtherServer { target } => format!(
            "“{target}” is for another provider or server; services can only move to a token of the same provider and server."
        ),
        Refusal::TargetUnusable { target, why } => {
            format!("“{target}” cannot be used: {}.", unusable_text(*why))
        }
        Refusal::NoGithubToken => "Choose a usable GitHub token of this organization.".into(),
        Refusal::NoServices => "Select at least one service to move.".into(),
        Refusal::NotUsingToken => "A selected service does not use this token (any more). Nothing was moved; check the list and try again.".into(),
        Refusal::NotLegacy => "A selected service is not a GitHub service on legacy access (any more). Nothing was moved.".into(),
        Refusal::Undecryptable { error, .. } => undecryptable(error),
        Refusal::CheckFailed {
            target,
            repository,
            error,
        } => format!("Could not check {repository} with “{target}”: {error}. Nothing was moved."),
        Refusal::Unreadable {
            target,
            repositories,
        } => {
            let base = format!(
                "Nothing was moved: “{target}” cannot read {} of the selected repositories.",
                repositories.len()
            );
            match on {
                On::Token => format!(
                    "{base} Give it access at the provider, or leave those services out."
                ),
                On::Migration => base,
            }
        }
    };
    let named = match r {
        Refusal::Unreadable { repositories, .. } => repositories
            .iter()
            .map(|u| format!("{} ({})", u.repository, u.service))
            .collect(),
        _ => Vec::new(),
    };
    (text, named)
}

#[derive(Template)]
#[template(path = "pages/services/move.html")]
pub struct MovePage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub t: TokenView,
    pub moves: MovePanel,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `POST /orgs/{org}/settings/git-tokens/{id}/move`: `target_token_id`, `service_ids` (repeated).
pub async fn move_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (target, ids) = parse_move_form(&form.0, "target_token_id");
    let from = TokenId::new(path.1.clone());
    let slug = &ctx.org.slug;
    match moves::move_services(&state, &ctx.member, &from, move_request(&target, &ids)).await? {
        Moved::Done {
            source,
            target,
            moved,
            remaining,
        } => {
            let what = format!("{moved} service{}", plural(moved));
            Ok(if remaining == 0 {
                see_other_with_flash(
                    &req,
                    &urls::token_delete(slug, source.id.as_str()),
                    &format!(
                        "Moved {what} to “{}”. No service uses “{}” now; you can delete it.",
                        target.name, source.name
                    ),
                )
            } else {
                see_other_with_flash(
                    &req,
                    &urls::token(slug, source.id.as_str()),
                    &format!(
                        "Moved {what} to “{}”. {remaining} still use “{}”.",
                        target.name, source.name
                    ),
                )
            })
        }
        Moved::Refused {
            source,
            panel,
            refusal,
        } => {
            let services = panel.services.len() as i64;
            let mut moves = MovePanel::new(panel, &target, Some(&ids));
            let (error, unreadable) = refusal_text(&refusal, On::Token);
            moves.error = Some(error);
            moves.unreadable = unreadable;
            let page = MovePage {
                layout: Layout::for_org(
                    &req,
                    &ctx,
                    format!("Move services from {}", source.name),
                    "tokens",
                ),
                slug: slug.clone(),
                csrf: ctx.session.csrf_token.clone(),
                t: TokenView::new(&source, services, false, state.clock.naive()),
                moves,
            };
            Ok(html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                page.render()?,
            ))
        }
    }
}

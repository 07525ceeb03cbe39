//! Moving services to another token: from a token in use (`POST …/git-tokens/{id}/move`, offered
//! by the delete confirmation) and off the legacy GitHub App / personal accounts (the migration
//! page). Each service's repository is checked with the target token first; the move is one
//! transaction — all or nothing — and audited.

use super::form::{open_token, target_of};
use super::{Opt, org_tokens, service_error, unusable_reason};
use crate::db::models::service::{Actor, Service};
use crate::db::models::token::GitToken;
use crate::domain::role::Permission;
use crate::providers::repos::{self, ListError};
use crate::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::handlers::tokens::load_token;
use crate::web::handlers::tokens::views::TokenView;
use crate::web::render::{Layout, html_status, see_other_with_flash};
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
    /// Other usable tokens of the same provider and host.
    pub targets: Vec<Opt>,
    pub error: Option<String>,
    /// Repositories the chosen target cannot read (named on the page).
    pub unreadable: Vec<String>,
}

/// Same provider and the same server (host URL); Bitbucket workspaces may differ (the
/// repository check decides).
pub fn same_destination(a: &GitToken, b: &GitToken) -> bool {
    a.provider == b.provider
        && a.hosting == b.hosting
        && a.url.as_deref().map(str::to_lowercase) == b.url.as_deref().map(str::to_lowercase)
}

impl MovePanel {
    pub async fn load(
        state: &web::Data<AppState>,
        ctx: &OrgContext,
        token: &GitToken,
        selected_target: &str,
        selected: Option<&[String]>,
    ) -> Result<MovePanel, AppError> {
        let st = state.clone();
        let tid = token.id.clone();
        let services = web::block(move || {
            let mut conn = st.conn()?;
            Service::using_token(&mut conn, &tid)
        })
        .await??;
        let n = state.clock.naive();
        let targets = org_tokens(state, ctx, Some(token.provider()))
            .await?
            .into_iter()
            .filter(|t| t.id != token.id && same_destination(t, token))
            .map(|t| {
                let reason = unusable_reason(&t, n);
                Opt {
                    selected: t.id == selected_target && reason.is_none(),
                    label: match &reason {
                        Some(r) => format!("{} — not selectable: {r}", t.name),
                        None => format!(
                            "{}{} — {}",
                            t.name,
                            t.account
                                .as_deref()
                                .filter(|a| !a.is_empty())
                                .map(|a| format!(" · {a}"))
                                .unwrap_or_default(),
                            t.status().label()
                        ),
                    },
                    disabled: reason.is_some(),
                    value: t.id,
                }
            })
            .collect();
        Ok(MovePanel {
            services: services
                .into_iter()
                .map(|s| MoveService {
                    checked: selected.is_none_or(|ids| ids.contains(&s.id)),
                    id: s.id,
                    name: s.name,
                    repository: s.repository,
                    branch: s.branch,
                })
                .collect(),
            targets,
            error: None,
            unreadable: Vec::new(),
        })
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

/// Check every repository of `services` with `target`; names those it cannot read (with the
/// service), or a problem that stopped the check.
pub async fn unreadable_with(
    state: &AppState,
    target: &GitToken,
    services: &[Service],
) -> Result<Vec<String>, String> {
    let secret = open_token(state, target)?;
    let tt = target_of(target);
    let mut bad = Vec::new();
    let mut checked: Vec<(String, bool)> = Vec::new();
    for s in services {
        let ok = match checked.iter().find(|(r, _)| *r == s.repository) {
            Some((_, ok)) => *ok,
            None => {
                let ok =
                    match repos::can_read_repository(&state.providers, &tt, &secret, &s.repository)
                        .await
                    {
                        Ok(ok) => ok,
                        Err(ListError::NoAccess(_)) | Err(ListError::Invalid(_)) => false,
                        Err(e) => {
                            return Err(format!(
                                "Could not check {} with “{}”: {e}. Nothing was moved.",
                                s.repository, target.name
                            ));
                        }
                    };
                checked.push((s.repository.clone(), ok));
                ok
            }
        };
        if !ok {
            bad.push(format!("{} ({})", s.repository, s.name));
        }
    }
    Ok(bad)
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

/// `POST /orgs/{org}/settings/git-tokens/{id}/move`: `target_token_id`, `service_ids` (repeated).
pub async fn move_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    let (target_id, ids) = parse_move_form(&form.0, "target_token_id");
    let mut panel = MovePanel::load(&state, &ctx, &token, &target_id, Some(&ids)).await?;
    let refuse = |mut panel: MovePanel, msg: String, unreadable: Vec<String>| {
        panel.error = Some(msg);
        panel.unreadable = unreadable;
        let page = MovePage {
            layout: Layout::for_org(
                &req,
                &ctx,
                format!("Move services from {}", token.name),
                "tokens",
            ),
            slug: ctx.org.slug.clone(),
            csrf: ctx.session.csrf_token.clone(),
            t: TokenView::new(&token, panel.services.len() as i64, state.clock.naive()),
            moves: panel,
        };
        Ok::<_, AppError>(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            page.render()?,
        ))
    };
    if target_id.is_empty() {
        return refuse(
            panel,
            "Choose the token to move the services to.".into(),
            vec![],
        );
    }
    let all = org_tokens(&state, &ctx, None).await?;
    let Some(target) = all.iter().find(|t| t.id == target_id).cloned() else {
        return refuse(
            panel,
            "Choose one of this organization's tokens.".into(),
            vec![],
        );
    };
    if target.id == token.id {
        return refuse(
            panel,
            "Choose another token than the one the services use now.".into(),
            vec![],
        );
    }
    if !same_destination(&target, &token) {
        return refuse(
            panel,
            format!(
                "“{}” is for another provider or server; services can only move to a token of the same provider and server.",
                target.name
            ),
            vec![],
        );
    }
    if let Some(r) = unusable_reason(&target, state.clock.naive()) {
        return refuse(
            panel,
            format!("“{}” cannot be used: {r}.", target.name),
            vec![],
        );
    }
    if ids.is_empty() {
        return refuse(panel, "Select at least one service to move.".into(), vec![]);
    }
    let st = state.clone();
    let tid = token.id.clone();
    let users = web::block(move || {
        let mut conn = st.conn()?;
        Service::using_token(&mut conn, &tid)
    })
    .await??;
    let chosen: Vec<Service> = users.into_iter().filter(|s| ids.contains(&s.id)).collect();
    if chosen.len() != ids.len() {
        return refuse(
            panel,
            "A selected service does not use this token (any more). Nothing was moved; check the list and try again.".into(),
            vec![],
        );
    }
    match unreadable_with(&state, &target, &chosen).await {
        Err(m) => return refuse(panel, m, vec![]),
        Ok(bad) if !bad.is_empty() => {
            let msg = format!(
                "Nothing was moved: “{}” cannot read {} of the selected repositories. Give it access at the provider, or leave those services out.",
                target.name,
                bad.len()
            );
            panel
                .services
                .iter_mut()
                .for_each(|s| s.checked = ids.contains(&s.id));
            return refuse(panel, msg, bad);
        }
        Ok(_) => {}
    }
    let st = state.clone();
    let (uid, email) = (ctx.user.id.clone(), ctx.user.email.clone());
    let (org_id, src, tgt, move_ids) = (
        ctx.org.id.clone(),
        token.clone(),
        target.clone(),
        ids.clone(),
    );
    let moved = web::block(move || {
        let mut conn = st.conn()?;
        Service::move_to_token(
            &mut conn,
            &org_id,
            &move_ids,
            Some(&src),
            &tgt,
            &Actor {
                id: &uid,
                email: &email,
            },
        )
    })
    .await?
    .map_err(service_error)?;
    let remaining = panel.services.len().saturating_sub(moved);
    let what = format!("{moved} service{}", if moved == 1 { "" } else { "s" });
    let base = crate::web::handlers::tokens::token_url(&ctx.org.slug, &token.id);
    Ok(if remaining == 0 {
        see_other_with_flash(
            &req,
            &format!("{base}/delete"),
            &format!(
                "Moved {what} to “{}”. No service uses “{}” now; you can delete it.",
                target.name, token.name
            ),
        )
    } else {
        see_other_with_flash(
            &req,
            &base,
            &format!(
                "Moved {what} to “{}”. {remaining} still use “{}”.",
                target.name, token.name
            ),
        )
    })
}

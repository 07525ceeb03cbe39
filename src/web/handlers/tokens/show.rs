//! `GET …/git-tokens/{id}`: the token page.

use super::token_id;
use crate::app;
use crate::app::state::AppState;
use crate::app::tokens::{ServiceRef, StatusEntry};
use crate::domain::role::Permission;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html};
use crate::web::view::audit::HistoryLine;
use crate::web::view::status::{source_label, status_class};
use crate::web::view::time::{Moment, fmt_time};
use crate::web::view::token::{ResultView, TokenView};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub struct ServiceLine {
    pub name: String,
    pub repository: String,
    pub branch: String,
}

impl From<ServiceRef> for ServiceLine {
    fn from(s: ServiceRef) -> ServiceLine {
        ServiceLine {
            name: s.name,
            repository: s.repository,
            branch: s.branch,
        }
    }
}

/// A service that fetched the token with a service key.
pub struct FetchLine {
    pub name: String,
    pub url: String,
    pub last: Moment,
    pub fetches: i64,
}

/// One row of a token's status history.
pub struct StatusLine {
    pub when: String,
    pub status: &'static str,
    pub label: &'static str,
    pub class: &'static str,
    pub source: &'static str,
    pub reason: String,
}

impl From<StatusEntry> for StatusLine {
    fn from(h: StatusEntry) -> StatusLine {
        StatusLine {
            when: fmt_time(h.at),
            status: h.status.as_str(),
            label: h.status.label(),
            class: status_class(h.status),
            source: source_label(h.source),
            reason: h.reason.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/tokens/show.html")]
pub struct TokenDetailPage {
    pub layout: Layout,
    pub slug: String,
    pub can_manage: bool,
    pub csrf: String,
    pub t: TokenView,
    pub result: Option<ResultView>,
    pub services: Vec<ServiceLine>,
    pub history: Vec<HistoryLine>,
    /// Test results over time (scheduler, manual, CLI), newest first.
    pub status_history: Vec<StatusLine>,
    /// Services that fetched the value at clone time, the latest first.
    pub fetches: Vec<FetchLine>,
}

pub async fn show_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let d = app::tokens::detail(&state, &ctx.member, &token_id(&path)).await?;
    let now = state.clock.now();
    let page = TokenDetailPage {
        layout: Layout::for_org(
            &req,
            &ctx,
            format!("{} · Git token", d.token.name),
            "tokens",
        ),
        slug: ctx.org.slug.clone(),
        can_manage: ctx.can(Permission::ManageTokens),
        csrf: ctx.session.csrf_token.clone(),
        t: TokenView::new(
            &d.token,
            d.services.len() as i64,
            d.duplicate,
            now.naive_utc(),
        ),
        result: d.last.as_ref().map(|o| ResultView::new(o, now)),
        services: d.services.into_iter().map(ServiceLine::from).collect(),
        history: d
            .history
            .iter()
            .map(|e| HistoryLine::new(e.at, e.actor_email.as_deref(), &e.action, &e.details))
            .collect(),
        status_history: d.statuses.into_iter().map(StatusLine::from).collect(),
        fetches: d
            .fetches
            .iter()
            .map(|f| FetchLine {
                name: f.service.clone(),
                url: crate::web::urls::service(&ctx.org.slug, f.service_id.as_str()),
                last: Moment::new(f.last_at, now.naive_utc()),
                fetches: f.fetches,
            })
            .collect(),
    };
    Ok(html(&req, page.render()?))
}

//! Git Repository Access pages (DESIGN.md §2).

pub mod actions;
pub mod fields;
pub mod form;
pub mod views;

use crate::db::StoreError;
use crate::db::models::audit::AuditEvent;
use crate::db::models::service::Service;
use crate::db::models::status_history::{StatusHistory, TestSource};
use crate::db::models::token::{GitToken, TokenFilter};
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::test_result::TestStatus;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::paging::Pager;
use crate::web::render::{Layout, html};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use views::{ResultView, TokenView, fmt_time};

pub const PAGE_SIZE: i64 = 25;

pub fn list_url(slug: &str) -> String {
    format!("/orgs/{slug}/settings/git-tokens")
}

pub fn token_url(slug: &str, id: &str) -> String {
    format!("/orgs/{slug}/settings/git-tokens/{id}")
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub page: String,
}

impl ListQuery {
    /// Parse the filters; an unknown provider or status is a 400 with a message.
    pub fn filter(&self) -> Result<TokenFilter, AppError> {
        let provider = match self.provider.trim() {
            "" => None,
            p => Some(Provider::parse(p).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "Unknown provider filter {p:?}: use github, gitlab or bitbucket."
                ))
            })?),
        };
        let status = match self.status.trim() {
            "" => None,
            s => Some(TestStatus::parse(s).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "Unknown status filter {s:?}: use valid, missing_permissions, invalid, expired, unreachable, error or not_tested."
                ))
            })?),
        };
        let q = self.q.trim();
        Ok(TokenFilter {
            q: (!q.is_empty()).then(|| q.chars().take(100).collect()),
            provider,
            status,
        })
    }

    pub fn page(&self) -> i64 {
        crate::web::paging::page_number(&self.page)
    }

    /// Query string of the filters, for pagination links.
    pub fn filter_query(&self) -> String {
        crate::web::paging::query_string(&[
            ("q", &self.q),
            ("provider", &self.provider),
            ("status", &self.status),
        ])
    }
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub fn provider_choices(selected: &str) -> Vec<Choice> {
    Provider::ALL
        .into_iter()
        .map(|p| Choice {
            value: p.as_str(),
            label: p.label(),
            selected: p.as_str() == selected,
        })
        .collect()
}

pub fn status_choices(selected: &str) -> Vec<Choice> {
    TestStatus::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.as_str(),
            label: s.label(),
            selected: s.as_str() == selected,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/tokens/list.html")]
pub struct TokenListPage {
    pub layout: Layout,
    pub slug: String,
    pub can_manage: bool,
    pub csrf: String,
    pub tokens: Vec<TokenView>,
    pub total: i64,
    pub org_total: i64,
    pub q: String,
    pub providers: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub pager: Pager,
    pub attention: i64,
}

/// One list row, for in-place HTMX updates after a re-test.
#[derive(Template)]
#[template(path = "pages/tokens/row.html")]
pub struct TokenRowFragment {
    pub slug: String,
    pub can_manage: bool,
    pub csrf: String,
    pub t: TokenView,
}

pub async fn list_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ViewTokens)?;
    let filter = query.filter()?;
    let page = query.page();
    let org_id = ctx.org.id.clone();
    let st = state.clone();
    let (rows, total, org_total, usage, attention) =
        web::block(move || -> Result<_, StoreError> {
            let mut conn = st.conn()?;
            let (rows, total) = GitToken::list(
                &mut conn,
                &org_id,
                &filter,
                (page - 1) * PAGE_SIZE,
                PAGE_SIZE,
            )?;
            let (_, org_total) = GitToken::list(&mut conn, &org_id, &TokenFilter::default(), 0, 0)?;
            let usage = Service::usage_counts(&mut conn, &org_id)?;
            let attention = GitToken::needing_attention(&mut conn, &org_id, st.clock.naive())?;
            Ok((rows, total, org_total, usage, attention))
        })
        .await??;
    let n = state.clock.naive();
    let mut tokens: Vec<TokenView> = rows
        .iter()
        .map(|t| TokenView::new(t, usage.get(&t.id).copied().unwrap_or(0), n))
        .collect();
    let dups = super::services::duplicate_tokens(&state, &ctx).await?;
    tokens
        .iter_mut()
        .for_each(|t| t.duplicate = dups.contains(&t.id));
    let pager = Pager::new(
        &list_url(&ctx.org.slug),
        &query.filter_query(),
        page,
        total,
        PAGE_SIZE,
    );
    let page_view = TokenListPage {
        layout: Layout::for_org(&req, &ctx, "Git Repository Access", "tokens"),
        slug: ctx.org.slug.clone(),
        can_manage: ctx.can(Permission::ManageTokens),
        csrf: ctx.session.csrf_token.clone(),
        tokens,
        total,
        org_total,
        q: query.q.trim().to_string(),
        providers: provider_choices(query.provider.trim()),
        statuses: status_choices(query.status.trim()),
        pager,
        attention,
    };
    Ok(html(&req, page_view.render()?))
}

pub struct ServiceLine {
    pub name: String,
    pub repository: String,
    pub branch: String,
}

pub struct HistoryLine {
    pub when: String,
    pub who: String,
    pub action: String,
    pub details: String,
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
}

/// One row of a token's status history.
pub struct StatusLine {
    pub when: String,
    pub status: String,
    pub label: &'static str,
    pub class: &'static str,
    pub source: &'static str,
    pub reason: String,
}

pub fn status_lines(rows: Vec<StatusHistory>) -> Vec<StatusLine> {
    rows.into_iter()
        .map(|h| {
            let st = TestStatus::parse(&h.status).unwrap_or(TestStatus::Error);
            StatusLine {
                when: fmt_time(h.tested_at),
                status: st.as_str().to_string(),
                label: st.label(),
                class: views::status_class(st),
                source: TestSource::label(&h.source),
                reason: h.reason.unwrap_or_default(),
            }
        })
        .collect()
}

/// Short words for an audit action.
pub fn action_label(action: &str) -> &str {
    match action {
        "token.create" => "Created",
        "token.update" => "Edited",
        "token.test" => "Tested",
        "token.delete" => "Deleted",
        "token.rotate" => "Rotated",
        "service.create" => "Service added",
        "service.update" => "Service edited",
        "service.delete" => "Service deleted",
        "service.move" => "Services moved",
        "service.migrate" => "Services moved off the GitHub App",
        "org.create" => "Organization created",
        "member.add" => "Member added",
        "keys.rotate" => "Master key rotated",
        "notifications.update" => "Notification webhook set",
        "notifications.remove" => "Notification webhook removed",
        "notifications.test" => "Test notification sent",
        "inventory.export" => "Inventory exported",
        "login" => "Signed in",
        "login_failed" => "Failed sign-in",
        "setup" => "Set up",
        other => other,
    }
}

/// Audit details in words: changed field names and outcomes, never values.
pub fn details_text(details: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(details) else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(fields) = v.get("fields").and_then(|f| f.as_array()) {
        let names: Vec<&str> = fields.iter().filter_map(|f| f.as_str()).collect();
        if !names.is_empty() {
            parts.push(format!("fields: {}", names.join(", ")));
        }
    }
    if let Some(s) = v.get("status").and_then(|s| s.as_str()) {
        parts.push(format!(
            "status: {}",
            TestStatus::parse(s).map(|s| s.label()).unwrap_or(s)
        ));
    }
    if let Some(m) = v.get("missing").and_then(|m| m.as_array()) {
        let names: Vec<&str> = m.iter().filter_map(|f| f.as_str()).collect();
        if !names.is_empty() {
            parts.push(format!("missing: {}", names.join(", ")));
        }
    }
    if let Some(r) = v.get("reason").and_then(|s| s.as_str()) {
        parts.push(r.replace('_', " "));
    }
    match v.get("method").and_then(|m| m.as_str()) {
        Some("manual") => parts.push("new value entered by hand".into()),
        Some("provider") => parts.push("rotated at the provider".into()),
        _ => {}
    }
    if v.get("account_changed").and_then(|a| a.as_bool()) == Some(true) {
        parts.push("account changed (confirmed)".into());
    }
    if let Some(services) = v.get("services").and_then(|s| s.as_array()) {
        let n = services.len();
        let what = format!("{n} service{}", if n == 1 { "" } else { "s" });
        let other = |k: &str| v.get(k).and_then(|t| t.as_str()).map(str::to_string);
        match v.get("direction").and_then(|d| d.as_str()) {
            Some("out") => parts.push(match other("to_token") {
                Some(t) => format!("moved {what} to “{t}”"),
                None => format!("moved {what} away"),
            }),
            Some("in") => parts.push(match other("from_token") {
                Some(t) => format!("received {what} from “{t}”"),
                None => format!("received {what}"),
            }),
            _ => parts.push(what),
        }
    }
    // inventory.export: `{"format": "csv", "count": 12, "filters": {...}}`.
    if let (Some(f), Some(n)) = (
        v.get("format").and_then(|f| f.as_str()),
        v.get("count").and_then(|c| c.as_u64()),
    ) {
        parts.push(format!(
            "{} with {n} token{}",
            f.to_uppercase(),
            if n == 1 { "" } else { "s" }
        ));
        let filters = v.get("filters");
        for (key, label) in [
            ("q", "name contains"),
            ("provider", "provider"),
            ("status", "status"),
        ] {
            if let Some(x) = filters.and_then(|fs| fs.get(key)).and_then(|x| x.as_str()) {
                parts.push(format!("{label} {x}"));
            }
        }
    }
    parts.join("; ")
}

pub fn history_lines(events: Vec<AuditEvent>) -> Vec<HistoryLine> {
    events
        .into_iter()
        .map(|e| HistoryLine {
            when: fmt_time(e.created_at),
            who: e.actor_email.unwrap_or_else(|| "—".into()),
            action: action_label(&e.action).to_string(),
            details: details_text(&e.details),
        })
        .collect()
}

/// Load a token of the context's organization or answer 404.
pub async fn load_token(
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    id: &str,
) -> Result<GitToken, AppError> {
    let st = state.clone();
    let org_id = ctx.org.id.clone();
    let id = id.to_string();
    web::block(move || {
        let mut conn = st.conn()?;
        GitToken::find_in_org(&mut conn, &org_id, &id)
    })
    .await??
    .ok_or(AppError::NotFound)
}

pub async fn show_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ViewTokens)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    let st = state.clone();
    let tid = token.id.clone();
    let (services, events, statuses) = web::block(move || -> Result<_, StoreError> {
        let mut conn = st.conn()?;
        Ok((
            Service::using_token(&mut conn, &tid)?,
            AuditEvent::list_for_token(&mut conn, &tid, 50)?,
            StatusHistory::list_for_token(&mut conn, &tid, 50)?,
        ))
    })
    .await??;
    let page = TokenDetailPage {
        layout: Layout::for_org(&req, &ctx, format!("{} · Git token", token.name), "tokens"),
        slug: ctx.org.slug.clone(),
        can_manage: ctx.can(Permission::ManageTokens),
        csrf: ctx.session.csrf_token.clone(),
        t: {
            let mut t = TokenView::new(&token, services.len() as i64, state.clock.naive());
            t.duplicate = super::services::duplicate_tokens(&state, &ctx)
                .await?
                .contains(&token.id);
            t
        },
        result: token
            .last_outcome()
            .as_ref()
            .map(|o| ResultView::new(o, state.clock.now())),
        services: services
            .into_iter()
            .map(|s| ServiceLine {
                name: s.name,
                repository: s.repository,
                branch: s.branch,
            })
            .collect(),
        history: history_lines(events),
        status_history: status_lines(statuses),
    };
    Ok(html(&req, page.render()?))
}

/// The Git Repository Access routes (`…/git-tokens`, `…/git-tokens/{id}…`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::TOKENS, web::get().to(list_tokens))
        .route(org::TOKENS, web::post().to(form::create_token))
        .route(org::TOKEN_NEW, web::get().to(form::new_token_form))
        .route(org::TOKEN_TEST_UNSAVED, web::post().to(form::test_new))
        .route(org::TOKEN, web::get().to(show_token))
        .route(org::TOKEN, web::post().to(form::update_token))
        .route(org::TOKEN_EDIT, web::get().to(form::edit_token_form))
        .route(org::TOKEN_TEST, web::post().to(actions::retest_token))
        .route(org::TOKEN_DELETE, web::get().to(actions::delete_confirm))
        .route(org::TOKEN_DELETE, web::post().to(actions::delete_token));
}

//! The organization audit trail (DESIGN.md §6, §7): `GET /orgs/{org}/audit?actor=&action=&token_id=&page=`.
//! Newest first; details are field names and statuses only, never values.

use super::tokens::views::fmt_time;
use super::tokens::{action_label, details_text, token_url};
use crate::db::StoreError;
use crate::db::models::audit::{AuditEvent, AuditFilter};
use crate::db::models::token::{GitToken, TokenFilter};
use crate::domain::role::Permission;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use std::collections::{BTreeMap, HashMap};

pub const AUDIT_PAGE_SIZE: i64 = 50;

/// Actions Forgekeys records, offered in the filter even before they happen.
pub const KNOWN_ACTIONS: [&str; 8] = [
    "token.create",
    "token.update",
    "token.test",
    "token.rotate",
    "token.delete",
    "login",
    "login_failed",
    "setup",
];

#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub token_id: String,
    #[serde(default)]
    pub page: String,
}

impl AuditQuery {
    fn page(&self) -> i64 {
        crate::web::paging::page_number(&self.page)
    }

    fn filter_query(&self) -> String {
        crate::web::paging::query_string(&[
            ("actor", &self.actor),
            ("action", &self.action),
            ("token_id", &self.token_id),
        ])
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct AuditRow {
    pub when: String,
    pub who: String,
    pub action: String,
    pub action_label: String,
    pub token_name: String,
    pub token_url: Option<String>,
    pub details: String,
}

#[derive(Template)]
#[template(path = "pages/audit/list.html")]
pub struct AuditPage {
    pub layout: Layout,
    pub slug: String,
    pub rows: Vec<AuditRow>,
    pub total: i64,
    pub org_total: i64,
    pub actors: Vec<Opt>,
    pub actions: Vec<Opt>,
    pub tokens: Vec<Opt>,
    pub filtered: bool,
    pub pager: crate::web::paging::Pager,
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `GET /orgs/{org}/audit`.
pub async fn audit_trail(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ViewAudit)?;
    let actor = query.actor.trim().to_string();
    let action = query.action.trim().to_string();
    let token_id = query.token_id.trim().to_string();
    if actor.chars().count() > 254 {
        return Err(AppError::BadRequest(
            "The actor filter is an e-mail address of at most 254 characters.".into(),
        ));
    }
    if !token_id.is_empty() && !valid_id(&token_id) {
        return Err(AppError::BadRequest(
            "The token filter is not a token id. Pick a token from the list.".into(),
        ));
    }
    let page = query.page();
    let filter = AuditFilter {
        actor: (!actor.is_empty()).then(|| actor.clone()),
        action: (!action.is_empty()).then(|| action.clone()),
        token_id: (!token_id.is_empty()).then(|| token_id.clone()),
    };
    let org_id = ctx.org.id.clone();
    let st = state.clone();
    let f = filter.clone();
    let (rows, total, org_total, actors, present_actions, audit_tokens, current) =
        web::block(move || -> Result<_, StoreError> {
            let mut conn = st.conn()?;
            let (rows, total) = AuditEvent::search(
                &mut conn,
                &org_id,
                &f,
                (page - 1) * AUDIT_PAGE_SIZE,
                AUDIT_PAGE_SIZE,
            )?;
            let (_, org_total) =
                AuditEvent::search(&mut conn, &org_id, &AuditFilter::default(), 0, 0)?;
            let actors = AuditEvent::actors(&mut conn, &org_id)?;
            let actions = AuditEvent::actions(&mut conn, &org_id)?;
            let audit_tokens = AuditEvent::tokens(&mut conn, &org_id)?;
            let current = GitToken::all(&mut conn, &org_id, &TokenFilter::default())?;
            Ok((
                rows,
                total,
                org_total,
                actors,
                actions,
                audit_tokens,
                current,
            ))
        })
        .await??;

    let mut known: Vec<String> = KNOWN_ACTIONS.iter().map(|s| s.to_string()).collect();
    for a in present_actions {
        if !known.contains(&a) {
            known.push(a);
        }
    }
    if !action.is_empty() && !known.contains(&action) {
        return Err(AppError::BadRequest(format!(
            "Unknown action filter {:?}. Pick an action from the list.",
            action.chars().take(60).collect::<String>()
        )));
    }

    let slug = ctx.org.slug.clone();
    let live: HashMap<String, String> = current
        .into_iter()
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    let mut token_names: BTreeMap<String, String> = BTreeMap::new();
    for (id, name) in audit_tokens {
        let label = match live.get(&id) {
            Some(n) => n.clone(),
            None => format!("{name} (deleted)"),
        };
        token_names.insert(id, label);
    }
    for (id, name) in &live {
        token_names.insert(id.clone(), name.clone());
    }
    let mut tokens: Vec<Opt> = token_names
        .into_iter()
        .map(|(id, label)| Opt {
            selected: id == token_id,
            value: id,
            label,
        })
        .collect();
    tokens.sort_by_key(|o| o.label.to_lowercase());

    let mut actions: Vec<Opt> = known
        .into_iter()
        .map(|a| Opt {
            label: action_label(&a).to_string(),
            selected: a == action,
            value: a,
        })
        .collect();
    actions.sort_by_key(|o| o.label.to_lowercase());
    let actors = actors
        .into_iter()
        .map(|a| Opt {
            selected: a == actor,
            label: a.clone(),
            value: a,
        })
        .collect();

    let rows = rows
        .into_iter()
        .map(|e| {
            let (token_name, link) = match e.token_id.as_deref() {
                Some(id) => match live.get(id) {
                    Some(name) => (name.clone(), Some(token_url(&slug, id))),
                    None => (
                        format!("{} (deleted)", e.token_name.clone().unwrap_or_default()),
                        None,
                    ),
                },
                None => (String::new(), None),
            };
            AuditRow {
                when: fmt_time(e.created_at),
                who: e.actor_email.clone().unwrap_or_else(|| "—".into()),
                action_label: action_label(&e.action).to_string(),
                action: e.action,
                token_name,
                token_url: link,
                details: details_text(&e.details),
            }
        })
        .collect();

    let fq = query.filter_query();
    let pager = crate::web::paging::Pager::new(
        &format!("/orgs/{slug}/audit"),
        &fq,
        page,
        total,
        AUDIT_PAGE_SIZE,
    );
    let view = AuditPage {
        layout: Layout::for_org(&req, &ctx, "Audit trail", "audit"),
        slug: slug.clone(),
        rows,
        total,
        org_total,
        actors,
        actions,
        tokens,
        filtered: !fq.is_empty(),
        pager,
    };
    Ok(html(&req, view.render()?))
}

/// `…/audit`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(crate::web::urls::org::AUDIT, web::get().to(audit_trail));
}

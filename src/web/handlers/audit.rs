//! The organization audit trail (DESIGN.md §6, §7): `GET /orgs/{org}/audit?actor=&action=&token_id=&page=`.
//! Newest first; details are field names and statuses only, never values. Parses the filters,
//! calls `app::audit::trail`, renders.

use crate::app::audit::{TRAIL_PAGE_SIZE, TrailFilter, TrailToken, trail};
use crate::app::state::AppState;
use crate::domain::audit::AuditAction;
use crate::domain::ids::TokenId;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::paging::{Pager, page_number, query_string};
use crate::web::render::{Layout, html};
use crate::web::urls;
use crate::web::view::audit::{action_label, entry_details};
use crate::web::view::time::fmt_time;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// Actions offered in the filter even before they happen.
pub const OFFERED_ACTIONS: [AuditAction; 8] = [
    AuditAction::TokenCreate,
    AuditAction::TokenUpdate,
    AuditAction::TokenTest,
    AuditAction::TokenRotate,
    AuditAction::TokenDelete,
    AuditAction::Login,
    AuditAction::LoginFailed,
    AuditAction::Setup,
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
    pub q: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: String,
}

/// A `YYYY-MM-DD` day filter (the date input's value), empty for none.
fn day(raw: &str, what: &str) -> Result<Option<chrono::NaiveDate>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::BadRequest(format!(
                    "The {what} date is not a date: use YYYY-MM-DD, e.g. from the date picker."
                ))
            }),
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl AuditQuery {
    /// The typed filter; a filter that cannot be one is a 400 with words.
    pub fn filter(&self) -> Result<TrailFilter, AppError> {
        let actor = self.actor.trim();
        if actor.chars().count() > 254 {
            return Err(AppError::BadRequest(
                "The actor filter is an e-mail address of at most 254 characters.".into(),
            ));
        }
        let action = match self.action.trim() {
            "" => None,
            a => Some(AuditAction::parse(a).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "Unknown action filter {:?}. Pick an action from the list.",
                    a.chars().take(60).collect::<String>()
                ))
            })?),
        };
        let token = match self.token_id.trim() {
            "" => None,
            t if valid_id(t) => Some(TokenId::new(t)),
            _ => {
                return Err(AppError::BadRequest(
                    "The token filter is not a token id. Pick a token from the list.".into(),
                ));
            }
        };
        let text: String = self.q.trim().chars().take(100).collect();
        let (from, to) = (day(&self.from, "“from”")?, day(&self.to, "“to”")?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(AppError::BadRequest(
                    "The “from” date is after the “to” date: swap them.".into(),
                ));
            }
        }
        Ok(TrailFilter {
            actor: (!actor.is_empty()).then(|| actor.to_string()),
            action,
            token,
            text: (!text.is_empty()).then_some(text),
            from,
            to,
        })
    }

    fn page(&self) -> i64 {
        page_number(&self.page)
    }

    pub fn filter_query(&self) -> String {
        query_string(&[
            ("actor", &self.actor),
            ("action", &self.action),
            ("token_id", &self.token_id),
            ("q", &self.q),
            ("from", &self.from),
            ("to", &self.to),
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
    pub action: &'static str,
    pub action_label: String,
    pub token_name: String,
    pub token_url: Option<String>,
    pub details: String,
    /// The client address the request came from.
    pub from: Option<String>,
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
    pub pager: Pager,
    pub q: String,
    pub from: String,
    pub to: String,
    /// The CSV download of the entries these filters match.
    pub csv_url: String,
}

/// A token as the trail names it: its current name, or its recorded one marked deleted.
fn token_label(t: &TrailToken) -> String {
    if t.live {
        t.name.clone()
    } else {
        format!("{} (deleted)", t.name)
    }
}

/// `GET /orgs/{org}/audit`.
pub async fn audit_trail(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.filter()?;
    let page = query.page();
    let t = trail(&state, &ctx.member, filter.clone(), page).await?;
    let slug = ctx.org.slug.clone();

    let mut tokens: Vec<Opt> = t
        .tokens
        .iter()
        .map(|tok| Opt {
            selected: filter.token.as_ref() == Some(&tok.id),
            value: tok.id.to_string(),
            label: token_label(tok),
        })
        .collect();
    tokens.sort_by_cached_key(|o| o.label.to_lowercase());

    // The usual ones, those the trail holds, and the one asked for.
    let mut offered: Vec<AuditAction> = OFFERED_ACTIONS.to_vec();
    for a in t.actions.into_iter().chain(filter.action) {
        if !offered.contains(&a) {
            offered.push(a);
        }
    }
    let mut actions: Vec<Opt> = offered
        .into_iter()
        .map(|a| Opt {
            label: action_label(a.as_str()).to_string(),
            selected: filter.action == Some(a),
            value: a.as_str().to_string(),
        })
        .collect();
    actions.sort_by_cached_key(|o| o.label.to_lowercase());
    let actors = t
        .actors
        .into_iter()
        .map(|a| Opt {
            selected: filter.actor.as_deref() == Some(a.as_str()),
            label: a.clone(),
            value: a,
        })
        .collect();

    let rows = t
        .entries
        .into_iter()
        .map(|e| {
            let (token_name, token_url) = match &e.token {
                Some(tok) if tok.live => {
                    (tok.name.clone(), Some(urls::token(&slug, tok.id.as_str())))
                }
                Some(tok) => (token_label(tok), None),
                None => (String::new(), None),
            };
            let details = entry_details(&e);
            AuditRow {
                when: fmt_time(e.at),
                who: e.actor.unwrap_or_else(|| "—".into()),
                action: e.action.as_str(),
                action_label: action_label(e.action.as_str()).to_string(),
                token_name,
                token_url,
                details,
                from: e.client_ip.map(|ip| ip.to_string()),
            }
        })
        .collect();

    let fq = query.filter_query();
    let pager = Pager::new(&urls::audit(&slug), &fq, page, t.total, TRAIL_PAGE_SIZE);
    let csv_url = if fq.is_empty() {
        urls::audit_csv(&slug)
    } else {
        format!("{}?{fq}", urls::audit_csv(&slug))
    };
    let view = AuditPage {
        layout: Layout::for_org(&req, &ctx, "Audit trail", "audit"),
        slug,
        rows,
        total: t.total,
        org_total: t.org_total,
        actors,
        actions,
        tokens,
        filtered: !fq.is_empty(),
        csv_url,
        pager,
        q: query.q.trim().to_string(),
        from: query.from.trim().to_string(),
        to: query.to.trim().to_string(),
    };
    Ok(html(&req, view.render()?))
}

/// `…/audit`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::org::AUDIT, web::get().to(audit_trail))
        .route(
            urls::org::AUDIT_CSV,
            web::get().to(super::audit_export::audit_csv),
        );
}

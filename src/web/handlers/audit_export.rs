//! `GET /orgs/{org}/audit/export.csv?…filters`: the audit entries the trail's filters match,
//! newest first (at most `app::audit::EXPORT_MAX`), as CSV: UTF-8 with a BOM so spreadsheets
//! read the typographic quotes and dashes right, RFC 4180, formula cells neutralised.

use super::audit::AuditQuery;
use super::inventory::export::push_row;
use crate::app::audit::export;
use crate::app::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::view::audit::{action_label, entry_details};
use actix_web::http::header;
use actix_web::{HttpResponse, web};

pub const AUDIT_CSV_HEADER: [&str; 8] = [
    "time_utc",
    "actor",
    "client_ip",
    "action",
    "action_label",
    "token_id",
    "token",
    "details",
];

pub async fn audit_csv(
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.filter()?;
    let (entries, _total) = export(&state, &ctx.member, filter).await?;
    let mut out = String::from("\u{feff}");
    push_row(&mut out, AUDIT_CSV_HEADER);
    for e in &entries {
        let at =
            e.at.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let ip = e.client_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let (tid, tname) = match &e.token {
            Some(t) => (t.id.to_string(), t.name.clone()),
            None => (String::new(), String::new()),
        };
        let details = entry_details(e);
        push_row(
            &mut out,
            [
                at.as_str(),
                e.actor.as_deref().unwrap_or(""),
                ip.as_str(),
                e.action.as_str(),
                action_label(e.action.as_str()),
                tid.as_str(),
                tname.as_str(),
                details.as_str(),
            ],
        );
    }
    let safe: String = ctx
        .org
        .slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(60)
        .collect();
    let day = state.clock.naive().format("%Y-%m-%d");
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"forgekeys-audit-{safe}-{day}.csv\""),
        ))
        .body(out))
}

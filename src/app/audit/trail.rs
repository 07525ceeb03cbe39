//! Reading an organization's audit trail (DESIGN.md §6, §7): one page of entries, newest first,
//! with the filter choices. Each query is shaped for the page: the rows of this page, counts by
//! the database, the choices from `DISTINCT` / `GROUP BY`, and the current names of only the
//! tokens the trail names (a projection, never the token rows themselves).

use crate::app::state::AppState;
use crate::app::{Error, require};
use crate::db::models::audit::{AuditEvent, AuditFilter};
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::TokenId;
use crate::domain::role::Permission;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::HashMap;

/// Entries a page of the trail shows.
pub const TRAIL_PAGE_SIZE: i64 = 50;

/// The trail's filters (`?actor=&action=&token_id=`); `None` is "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailFilter {
    /// Exact actor e-mail (or system actor name).
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub token: Option<TokenId>,
    /// Text anywhere in who, what, the token's name or the details (case-insensitive).
    pub text: Option<String>,
    /// First day (UTC) of the entries, inclusive.
    pub from: Option<NaiveDate>,
    /// Last day (UTC) of the entries, inclusive.
    pub to: Option<NaiveDate>,
}

impl TrailFilter {
    pub fn is_empty(&self) -> bool {
        self.actor.is_none()
            && self.action.is_none()
            && self.token.is_none()
            && self.text.is_none()
            && self.from.is_none()
            && self.to.is_none()
    }

    fn storage(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            action: self.action.map(|a| a.as_str().to_string()),
            token_id: self.token.as_ref().map(|t| t.as_str().to_string()),
            text: self.text.as_ref().map(|t| t.to_lowercase()),
            since: self.from.map(|d| d.and_time(NaiveTime::MIN)),
            before: self
                .to
                .and_then(|d| d.succ_opt())
                .map(|d| d.and_time(NaiveTime::MIN)),
        }
    }
}

/// A token named by the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailToken {
    pub id: TokenId,
    /// Its current name while it exists, else the name it was recorded with.
    pub name: String,
    /// The token still exists (its page can be linked).
    pub live: bool,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailEntry {
    pub at: NaiveDateTime,
    /// Who: a member's e-mail, or a system actor's name.
    pub actor: Option<String>,
    pub action: AuditAction,
    pub token: Option<TrailToken>,
    pub details: AuditDetails,
    /// Where the request came from, when it came over HTTP.
    pub client_ip: Option<std::net::IpAddr>,
    /// The token's name when the record was written (a rename's new name).
    pub token_name_then: Option<String>,
}

/// One page of the trail and the filter choices.
#[derive(Debug, Clone)]
pub struct Trail {
    pub entries: Vec<TrailEntry>,
    /// Entries matching the filter.
    pub total: i64,
    /// Entries of the organization (distinguishes "no activity yet" from "none match").
    pub org_total: i64,
    /// Everyone the trail names, sorted.
    pub actors: Vec<String>,
    /// The actions the trail holds.
    pub actions: Vec<AuditAction>,
    /// Every token the trail names, deleted ones included.
    pub tokens: Vec<TrailToken>,
}

/// Page `page` (from 1) of the member's organization's trail, [`TRAIL_PAGE_SIZE`] entries a
/// page, newest first. Owner, Admin and DevOps may read it.
pub async fn trail(
    state: &AppState,
    member: &Member,
    filter: TrailFilter,
    page: i64,
) -> Result<Trail, Error> {
    require(member, Permission::ViewAudit)?;
    let m = member.clone();
    state
        .db(move |conn| {
            let org = m.org.id.as_str();
            let f = filter.storage();
            let (rows, total) = AuditEvent::search(
                conn,
                org,
                &f,
                (page.max(1) - 1) * TRAIL_PAGE_SIZE,
                TRAIL_PAGE_SIZE,
            )?;
            let org_total = if filter.is_empty() {
                total
            } else {
                AuditEvent::count(conn, org, &AuditFilter::default())?
            };
            let live: HashMap<String, String> =
                AuditEvent::live_tokens(conn, org)?.into_iter().collect();
            let token = |id: String, recorded: Option<String>| match live.get(&id) {
                Some(name) => TrailToken {
                    name: name.clone(),
                    live: true,
                    id: TokenId::new(id),
                },
                None => TrailToken {
                    name: recorded.unwrap_or_default(),
                    live: false,
                    id: TokenId::new(id),
                },
            };
            let entries = rows
                .into_iter()
                .map(|e| {
                    let client_ip = e.client_ip()?;
                    Ok(TrailEntry {
                        action: e.action()?,
                        at: e.created_at,
                        actor: e.actor_email,
                        token_name_then: e.token_name.clone(),
                        token: e.token_id.map(|id| token(id, e.token_name)),
                        details: AuditDetails::from_json(&e.details),
                        client_ip,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let tokens = AuditEvent::tokens(conn, org)?
                .into_iter()
                .map(|(id, recorded)| token(id, Some(recorded)))
                .collect();
            Ok(Trail {
                entries,
                total,
                org_total,
                actors: AuditEvent::actors(conn, org)?,
                actions: AuditEvent::typed_actions(conn, org)?,
                tokens,
            })
        })
        .await
}

/// At most this many entries go into one export (the filters narrow a longer trail).
pub const EXPORT_MAX: i64 = 10_000;

/// The entries matching `filter`, newest first, at most [`EXPORT_MAX`], for a download; and
/// how many matched in all.
pub async fn export(
    state: &AppState,
    member: &Member,
    filter: TrailFilter,
) -> Result<(Vec<TrailEntry>, i64), Error> {
    require(member, Permission::ViewAudit)?;
    let m = member.clone();
    state
        .db(move |conn| {
            let org = m.org.id.as_str();
            let (rows, total) = AuditEvent::search(conn, org, &filter.storage(), 0, EXPORT_MAX)?;
            let live: HashMap<String, String> =
                AuditEvent::live_tokens(conn, org)?.into_iter().collect();
            let entries = rows
                .into_iter()
                .map(|e| {
                    let client_ip = e.client_ip()?;
                    let action = e.action()?;
                    let token = e.token_id.map(|id| match live.get(&id) {
                        Some(name) => TrailToken {
                            name: name.clone(),
                            live: true,
                            id: TokenId::new(id),
                        },
                        None => TrailToken {
                            name: e.token_name.clone().unwrap_or_default(),
                            live: false,
                            id: TokenId::new(id),
                        },
                    });
                    Ok(TrailEntry {
                        action,
                        at: e.created_at,
                        actor: e.actor_email,
                        token,
                        details: AuditDetails::from_json(&e.details),
                        client_ip,
                        token_name_then: e.token_name,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            Ok((entries, total))
        })
        .await
}

//! Git Repository Access: the organization's tokens (DESIGN.md §2, §4).
//!
//! Reads here; changes in [`write`]; tests in [`test`].

pub mod edit;
pub mod stats;
pub mod test;
pub mod write;

use super::{Error, require};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::audit::AuditEvent;
use crate::db::models::organization::Organization;
use crate::db::models::service::Service;
use crate::db::models::service_key::TokenFetch;
use crate::db::models::status_history::StatusHistory;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::role::Permission;
use crate::domain::status::{TestSource, TestStatus};
use crate::domain::test_result::TestOutcome;
use crate::domain::token::{Token, TokenFilter};
use chrono::NaiveDateTime;
use stats::{StatsCache, org_stats, org_stats_at};

/// A token as the list shows it, with what the row needs to know about the others.
#[derive(Debug, Clone)]
pub struct Listed {
    pub token: Token,
    /// Services that use it.
    pub services: i64,
    /// Another token of the organization has the same destination and account.
    pub duplicate: bool,
}

/// One page of the list.
#[derive(Debug, Clone)]
pub struct TokenList {
    /// Shared with the page cache (see [`stats`]).
    pub items: std::sync::Arc<[Listed]>,
    /// Tokens matching the filter.
    pub total: i64,
    /// Tokens of the organization (distinguishes "none yet" from "none match").
    pub org_total: i64,
}

/// A service, as a token's pages name it.
#[derive(Debug, Clone)]
pub struct ServiceRef {
    pub id: ServiceId,
    pub name: String,
    pub repository: String,
    pub branch: String,
}

impl From<Service> for ServiceRef {
    fn from(s: Service) -> ServiceRef {
        ServiceRef {
            id: ServiceId::new(s.id),
            name: s.name,
            repository: s.repository,
            branch: s.branch,
        }
    }
}

/// An audit record as pages show it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub at: NaiveDateTime,
    pub actor_email: Option<String>,
    pub action: String,
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    /// The stored details JSON (see `domain::audit::AuditDetails`).
    pub details: String,
}

impl From<AuditEvent> for AuditEntry {
    fn from(e: AuditEvent) -> AuditEntry {
        AuditEntry {
            at: e.created_at,
            actor_email: e.actor_email,
            action: e.action,
            token_id: e.token_id,
            token_name: e.token_name,
            details: e.details,
        }
    }
}

/// One test in a token's status history.
#[derive(Debug, Clone)]
pub struct StatusEntry {
    pub at: NaiveDateTime,
    pub status: TestStatus,
    pub source: Option<TestSource>,
    pub reason: Option<String>,
}

/// A service that fetched the token's value with a service key (`git-credentials`).
#[derive(Debug, Clone)]
pub struct FetchEntry {
    pub service_id: ServiceId,
    pub service: String,
    pub last_at: NaiveDateTime,
    pub fetches: i64,
}

/// Everything the token page shows.
#[derive(Debug, Clone)]
pub struct TokenDetail {
    pub token: Token,
    pub last: Option<TestOutcome>,
    pub services: Vec<ServiceRef>,
    pub history: Vec<AuditEntry>,
    pub statuses: Vec<StatusEntry>,
    pub duplicate: bool,
    /// Services that fetched it, the latest first (the first is "last used by a service").
    pub fetches: Vec<FetchEntry>,
}

/// How many entries a token page shows of its history and of its status history.
pub const HISTORY_LIMIT: i64 = 50;

/// The stored row of a token of the member's organization, or `NotFound` (another
/// organization's token included).
pub(crate) fn row_in_org(
    conn: &mut DbConn,
    member: &Member,
    id: &TokenId,
) -> Result<GitToken, Error> {
    GitToken::find_in_org(conn, member.org.id.as_str(), id.as_str())?.ok_or(Error::NotFound)
}

/// Of `tokens`, the ids of those saved twice in the organization.
fn duplicates(
    conn: &mut DbConn,
    member: &Member,
    tokens: &[Token],
) -> Result<std::collections::HashSet<TokenId>, Error> {
    let keys: Vec<String> = tokens.iter().filter_map(Token::identity_key).collect();
    let shared = GitToken::shared_identities(conn, member.org.id.as_str(), &keys)?;
    Ok(tokens
        .iter()
        .filter(|t| t.identity_key().is_some_and(|k| shared.contains(&k)))
        .map(|t| t.id.clone())
        .collect())
}

/// Tokens needing attention in the member's organization (the banner on every page): failing,
/// missing permissions, expired or expiring within `domain::expiry::ATTENTION_DAYS`. Zero for
/// roles that may not see tokens.
pub fn attention(
    conn: &mut DbConn,
    cache: &StatsCache,
    member: &Member,
    now: NaiveDateTime,
) -> Result<i64, Error> {
    if !member.can(Permission::ViewTokens) {
        return Ok(0);
    }
    Ok(org_stats(conn, cache, &member.org.id, now)?.attention)
}

/// One page of the list: by name, `page_size` a page (pages count from 1). Each query is
/// shaped for the page: the rows of this page only, counts by the database, usage and
/// duplicates for these rows only.
pub async fn list(
    state: &AppState,
    member: &Member,
    filter: TokenFilter,
    page: i64,
    page_size: i64,
) -> Result<TokenList, Error> {
    require(member, Permission::ViewTokens)?;
    let (m, cache, now) = (member.clone(), state.stats.clone(), state.clock.naive());
    let mut filter = filter;
    if filter.attention {
        filter.horizon = Some(crate::domain::expiry::attention_horizon(now));
    }
    state
        .db(move |conn| {
            let org = m.org.id.as_str();
            let offset = (page - 1) * page_size;
            let version = Organization::tokens_version(conn, org)?;
            let org_total = org_stats_at(conn, &cache, &m.org.id, version, now)?.total;
            if filter.is_empty() {
                // The plain list, the page everyone opens: from the cache while no token or
                // service of the organization changed, else one prepared statement.
                let key = (m.org.id.clone(), page, page_size);
                if let Some(items) = cache.page(&key, version, now) {
                    return Ok(TokenList {
                        items,
                        total: org_total,
                        org_total,
                    });
                }
                let items = GitToken::list_page_with_counts(conn, org, offset, page_size)?
                    .into_iter()
                    .map(|(row, services, twins)| {
                        Ok(Listed {
                            token: Token::try_from(row)?,
                            services,
                            duplicate: twins > 1,
                        })
                    })
                    .collect::<Result<std::sync::Arc<[Listed]>, Error>>()?;
                cache.put_page(key, version, now, &items);
                return Ok(TokenList {
                    items,
                    total: org_total,
                    org_total,
                });
            }
            let rows = GitToken::list_page(conn, org, &filter, offset, page_size)?;
            let total = GitToken::count(conn, org, &filter)?;
            let tokens = rows
                .into_iter()
                .map(Token::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let ids: Vec<&str> = tokens.iter().map(|t| t.id.as_str()).collect();
            let usage = Service::usage_of(conn, &ids)?;
            let dups = duplicates(conn, &m, &tokens)?;
            let items = tokens
                .into_iter()
                .map(|token| Listed {
                    services: usage.get(token.id.as_str()).copied().unwrap_or(0),
                    duplicate: dups.contains(&token.id),
                    token,
                })
                .collect();
            Ok(TokenList {
                items,
                total,
                org_total,
            })
        })
        .await
}

/// One token with the number of services using it (edit form, rotation page).
pub async fn find(state: &AppState, member: &Member, id: &TokenId) -> Result<Listed, Error> {
    require(member, Permission::ViewTokens)?;
    let (m, id) = (member.clone(), id.clone());
    state
        .db(move |conn| {
            let row = row_in_org(conn, &m, &id)?;
            let token = Token::try_from(&row)?;
            let services = Service::usage_of(conn, &[token.id.as_str()])?
                .get(token.id.as_str())
                .copied()
                .unwrap_or(0);
            let duplicate = duplicates(conn, &m, std::slice::from_ref(&token))?.contains(&token.id);
            Ok(Listed {
                token,
                services,
                duplicate,
            })
        })
        .await
}

/// A token and the services that use it (delete confirmation).
pub async fn with_services(
    state: &AppState,
    member: &Member,
    id: &TokenId,
) -> Result<(Token, Vec<ServiceRef>), Error> {
    require(member, Permission::ViewTokens)?;
    let (m, id) = (member.clone(), id.clone());
    state
        .db(move |conn| {
            let row = row_in_org(conn, &m, &id)?;
            let services = Service::using_token(conn, &row.id)?;
            Ok((
                Token::try_from(&row)?,
                services.into_iter().map(ServiceRef::from).collect(),
            ))
        })
        .await
}

/// The token page: fields, last result, services, history and status history.
pub async fn detail(state: &AppState, member: &Member, id: &TokenId) -> Result<TokenDetail, Error> {
    require(member, Permission::ViewTokens)?;
    let (m, id) = (member.clone(), id.clone());
    state
        .db(move |conn| {
            let row = row_in_org(conn, &m, &id)?;
            let token = Token::try_from(&row)?;
            let services = Service::using_token(conn, &row.id)?;
            let history = AuditEvent::list_for_token(conn, &row.id, HISTORY_LIMIT)?;
            let statuses = StatusHistory::list_for_token(conn, &row.id, HISTORY_LIMIT)?
                .into_iter()
                .map(|h| {
                    Ok(StatusEntry {
                        at: h.tested_at,
                        status: TestStatus::parse(&h.status).ok_or_else(|| {
                            crate::db::StoreError::Corrupt(format!("status {:?}", h.status))
                        })?,
                        source: TestSource::parse(&h.source),
                        reason: h.reason,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let duplicate = duplicates(conn, &m, std::slice::from_ref(&token))?.contains(&token.id);
            let fetches = TokenFetch::for_token(conn, &row.id, HISTORY_LIMIT)?
                .into_iter()
                .map(|(id, service, last_at, fetches)| FetchEntry {
                    service_id: ServiceId::new(id),
                    service,
                    last_at,
                    fetches,
                })
                .collect();
            Ok(TokenDetail {
                fetches,
                last: row.outcome()?,
                services: services.into_iter().map(ServiceRef::from).collect(),
                history: history.into_iter().map(AuditEntry::from).collect(),
                statuses,
                duplicate,
                token,
            })
        })
        .await
}

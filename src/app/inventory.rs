//! The token inventory (issue 5): every token of an organization matching the list's filters,
//! sorted, with its services and summary counts — for the printable page and the CSV / JSON
//! exports. An export is a file that leaves Forgekeys: it writes an audit record.
//!
//! Rows are read a chunk at a time ([`LOAD_CHUNK_ROWS`]) into slim typed
//! [`InventoryToken`]s (no secret, hint or ciphertext), so memory stays flat however many tokens
//! an organization has; `web` renders and streams them.

use super::audit::Record;
use super::{Error, require};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::inventory::{service_names_in_org, service_names_of};
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::expiry::attention_horizon;
use crate::domain::inventory::{InventoryToken, status_rank};
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::status::TestStatus;
use crate::domain::token::TokenFilter;
use chrono::NaiveDateTime;
use serde::Serialize;
use std::collections::HashMap;

/// Rows read from the database per query when loading an inventory: only one chunk of raw rows
/// (with their last-test JSON) is held at a time, next to the slimmer [`InventoryToken`]s.
pub const LOAD_CHUNK_ROWS: i64 = 500;

/// What the inventory is sorted by (`?sort=`), ascending unless `?order=desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    Name,
    Provider,
    /// Worst first: expired, invalid, unreachable, error, missing permissions, not tested, valid.
    Status,
    /// Soonest first; tokens without a known expiry last.
    Expiry,
    /// Least recently tested first; never tested first of all.
    LastTested,
    /// Fewest first.
    Services,
    Created,
    Updated,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        SortKey::Name,
        SortKey::Provider,
        SortKey::Status,
        SortKey::Expiry,
        SortKey::LastTested,
        SortKey::Services,
        SortKey::Created,
        SortKey::Updated,
    ];

    /// The query value (`name`, `last_tested`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Provider => "provider",
            SortKey::Status => "status",
            SortKey::Expiry => "expiry",
            SortKey::LastTested => "last_tested",
            SortKey::Services => "services",
            SortKey::Created => "created",
            SortKey::Updated => "updated",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// Sort direction (`?order=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// Sort key and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub order: Order,
}

impl Default for Sort {
    fn default() -> Sort {
        Sort {
            key: SortKey::Name,
            order: Order::Asc,
        }
    }
}

/// The filters and sort that produced an inventory, as its exports and their audit record
/// carry them (`{"q":…,"provider":…,"status":…,"sort":…,"order":…}`, nulls included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedFilters {
    pub q: Option<String>,
    pub provider: Option<Provider>,
    pub status: Option<TestStatus>,
    pub sort: SortKey,
    pub order: Order,
}

impl AppliedFilters {
    pub fn new(f: &TokenFilter, sort: Sort) -> AppliedFilters {
        AppliedFilters {
            q: f.q.clone(),
            provider: f.provider,
            status: f.status,
            sort: sort.key,
            order: sort.order,
        }
    }

    /// Any filter (not the sort) narrows the list.
    pub fn any(&self) -> bool {
        self.q.is_some() || self.provider.is_some() || self.status.is_some()
    }
}

/// Summary counts over the tokens listed (after filters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    /// Every provider, in [`Provider::ALL`] order.
    pub by_provider: Vec<(Provider, usize)>,
    /// Every status, in [`TestStatus::ALL`] order.
    pub by_status: Vec<(TestStatus, usize)>,
    /// Not yet expired, expiring within `domain::expiry::ATTENTION_DAYS`.
    pub expiring_soon: usize,
    /// Expiry date already passed.
    pub expired_by_date: usize,
    /// No service uses the token.
    pub unused: usize,
}

impl Summary {
    pub fn of(tokens: &[InventoryToken], now: NaiveDateTime) -> Summary {
        let horizon = attention_horizon(now);
        let count = |f: &dyn Fn(&InventoryToken) -> bool| tokens.iter().filter(|t| f(t)).count();
        Summary {
            total: tokens.len(),
            by_provider: Provider::ALL
                .into_iter()
                .map(|p| (p, count(&|t| t.provider() == p)))
                .collect(),
            by_status: TestStatus::ALL
                .into_iter()
                .map(|s| (s, count(&|t| t.status == s)))
                .collect(),
            expiring_soon: count(&|t| t.expires_at.is_some_and(|e| e > now && e <= horizon)),
            expired_by_date: count(&|t| t.expiry().is_past(now)),
            unused: count(&|t| t.services.is_empty()),
        }
    }
}

/// An inventory: the tokens matching the filters, sorted, and what its header shows.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub tokens: Vec<InventoryToken>,
    pub summary: Summary,
    pub filters: AppliedFilters,
    /// When it was made (the server clock); expiry words and counts are as of then.
    pub generated_at: NaiveDateTime,
    /// The organization has tokens at all (distinguishes "none yet" from "none match").
    pub org_has_tokens: bool,
}

/// The file formats an inventory is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    /// As recorded in the audit trail (`csv`, `json`).
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// The printable inventory (Viewer and up; Billing may not see tokens).
pub async fn show(
    state: &AppState,
    member: &Member,
    filter: TokenFilter,
    sort: Sort,
) -> Result<Inventory, Error> {
    require(member, Permission::ViewTokens)?;
    let (m, now) = (member.clone(), state.clock.naive());
    state
        .db(move |conn| load(conn, &m, &filter, sort, now))
        .await
}

/// The inventory for a CSV or JSON download, recorded in the audit trail with its format,
/// filters and count (never a value). The record is written after the tokens are read and
/// before anything is sent: no file leaves without its record. It is the use case's only write
/// (a single insert); the read is not held in a transaction with it, so a long read never
/// holds or waits for the write lock.
pub async fn export(
    state: &AppState,
    member: &Member,
    filter: TokenFilter,
    sort: Sort,
    format: ExportFormat,
) -> Result<Inventory, Error> {
    require(member, Permission::ViewTokens)?;
    let (m, now) = (member.clone(), state.clock.naive());
    state
        .db(move |conn| {
            let inv = load(conn, &m, &filter, sort, now)?;
            Record::by(&m, AuditAction::InventoryExport)
                .details(AuditDetails {
                    format: Some(format.as_str().to_string()),
                    count: Some(inv.tokens.len() as u64),
                    filters: serde_json::to_value(&inv.filters).ok(),
                    ..AuditDetails::default()
                })
                .write(conn, now)?;
            Ok(inv)
        })
        .await
}

fn load(
    conn: &mut DbConn,
    member: &Member,
    filter: &TokenFilter,
    sort: Sort,
    now: NaiveDateTime,
) -> Result<Inventory, Error> {
    let org = member.org.id.as_str();
    let mut resolved = filter.clone();
    if resolved.attention {
        resolved.horizon = Some(attention_horizon(now));
    }
    let filter = &resolved;
    let mut tokens = load_tokens(conn, org, filter)?;
    sort_tokens(&mut tokens, sort);
    let org_has_tokens = if filter.is_empty() || !tokens.is_empty() {
        !tokens.is_empty()
    } else {
        GitToken::count(conn, org, &TokenFilter::default())? > 0
    };
    Ok(Inventory {
        summary: Summary::of(&tokens, now),
        filters: AppliedFilters::new(filter, sort),
        generated_at: now,
        org_has_tokens,
        tokens,
    })
}

/// The tokens matching `filter`, by name, with their services: keyset chunks of
/// [`LOAD_CHUNK_ROWS`] rows. The services: when every token is listed, one query for all of
/// the organization's; when filtered, one query per chunk for its tokens only.
fn load_tokens(
    conn: &mut DbConn,
    org: &str,
    filter: &TokenFilter,
) -> Result<Vec<InventoryToken>, Error> {
    let mut org_names = if filter.is_empty() {
        Some(service_names_in_org(conn, org)?)
    } else {
        None
    };
    let mut tokens: Vec<InventoryToken> = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let rows = GitToken::inventory_chunk(
            conn,
            org,
            filter,
            after.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
            LOAD_CHUNK_ROWS,
        )?;
        let full = rows.len() as i64 == LOAD_CHUNK_ROWS;
        after = rows.last().map(|r| (r.name_key.clone(), r.id.clone()));
        let mut chunk_names = match org_names {
            Some(_) => HashMap::new(),
            None => {
                let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
                service_names_of(conn, org, &ids)?
            }
        };
        let names = org_names.as_mut().unwrap_or(&mut chunk_names);
        tokens.reserve(rows.len());
        for row in rows {
            let services = names.remove(&row.id).unwrap_or_default();
            let mut t = InventoryToken::try_from(row)?;
            t.services = services;
            tokens.push(t);
        }
        if !full {
            break;
        }
    }
    tokens.shrink_to_fit();
    Ok(tokens)
}

/// Sort in place. Rows arrive sorted by name, and the sort is stable, so ties stay by name.
fn sort_tokens(tokens: &mut [InventoryToken], sort: Sort) {
    use std::cmp::Ordering;
    fn none_last<T: Ord>(a: &Option<T>, b: &Option<T>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let cmp = |a: &InventoryToken, b: &InventoryToken| -> Ordering {
        match sort.key {
            SortKey::Name => Ordering::Equal,
            SortKey::Provider => (a.provider().label(), a.hosting().as_str())
                .cmp(&(b.provider().label(), b.hosting().as_str())),
            SortKey::Status => status_rank(a.status).cmp(&status_rank(b.status)),
            SortKey::Expiry => none_last(&a.expires_at, &b.expires_at),
            SortKey::LastTested => a.last_tested_at.cmp(&b.last_tested_at),
            SortKey::Services => a.services.len().cmp(&b.services.len()),
            SortKey::Created => a.created_at.cmp(&b.created_at),
            SortKey::Updated => a.updated_at.cmp(&b.updated_at),
        }
    };
    let descending = sort.order == Order::Desc;
    if sort.key == SortKey::Name {
        if descending {
            tokens.reverse();
        }
        return;
    }
    if descending {
        tokens.sort_by(|a, b| cmp(b, a));
    } else {
        tokens.sort_by(cmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::expiry::ATTENTION_DAYS;
    use crate::domain::ids::TokenId;
    use crate::domain::provider::Hosting;
    use crate::domain::token::Destination;
    use chrono::Duration;

    fn token(name: &str, status: TestStatus, expires_in: Option<Duration>) -> InventoryToken {
        let now = now();
        InventoryToken {
            id: TokenId::new(name),
            name: name.into(),
            hint: "glpat-…abcd".into(),
            description: None,
            destination: Destination {
                username: None,
                provider: Provider::Gitlab,
                hosting: Hosting::Cloud,
                url: None,
                workspace: None,
            },
            account: None,
            scopes: Vec::new(),
            missing_permissions: Vec::new(),
            status,
            last_tested_at: None,
            expires_at: expires_in.map(|d| now + d),
            expiry_source: None,
            services: Vec::new(),
            created_by: None,
            created_at: now,
            updated_by: None,
            updated_at: now,
            rotated_at: None,
        }
    }

    fn now() -> NaiveDateTime {
        chrono::DateTime::UNIX_EPOCH.naive_utc() + Duration::days(20_000)
    }

    #[test]
    fn the_summary_counts_expiry_by_the_attention_horizon() {
        let mut used = token(
            "used",
            TestStatus::Valid,
            Some(Duration::days(ATTENTION_DAYS)),
        );
        used.services = vec!["web".into()];
        let tokens = [
            used,
            token(
                "later",
                TestStatus::Valid,
                Some(Duration::days(ATTENTION_DAYS + 1)),
            ),
            token("gone", TestStatus::Expired, Some(-Duration::hours(1))),
            token("never", TestStatus::NotTested, None),
        ];
        let s = Summary::of(&tokens, now());
        assert_eq!(s.total, 4);
        assert_eq!(s.expiring_soon, 1);
        assert_eq!(s.expired_by_date, 1);
        assert_eq!(s.unused, 3);
        assert_eq!(s.by_provider[1], (Provider::Gitlab, 4));
        assert!(s.by_status.contains(&(TestStatus::Valid, 2)));
    }

    #[test]
    fn sorts_worst_status_first_and_unknown_expiry_last_keeping_name_order_on_ties() {
        let names = |t: &[InventoryToken]| t.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        let mut t = vec![
            token("a", TestStatus::Valid, None),
            token("b", TestStatus::Invalid, Some(Duration::days(3))),
            token("c", TestStatus::Valid, Some(Duration::days(1))),
            token("d", TestStatus::Expired, None),
        ];
        sort_tokens(
            &mut t,
            Sort {
                key: SortKey::Status,
                order: Order::Asc,
            },
        );
        assert_eq!(names(&t), ["d", "b", "a", "c"]);
        sort_tokens(
            &mut t,
            Sort {
                key: SortKey::Expiry,
                order: Order::Asc,
            },
        );
        assert_eq!(names(&t), ["c", "b", "d", "a"]);
        for k in SortKey::ALL {
            assert_eq!(SortKey::parse(k.as_str()), Some(k));
        }
    }
}

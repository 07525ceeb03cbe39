//! An organization's token counts (total, needing attention) and its unfiltered list pages,
//! cached per token version.
//!
//! Every write of a token bumps `organizations.tokens_version` (database triggers), so a cached
//! count is reused only while no token of the organization changed — in this process or any
//! other on the same database — and for at most [`STATS_TTL`] (the attention count depends on
//! the time: a token crosses the 30-day horizon without being written). A page then reads one
//! version number instead of counting thousands of rows.

use super::super::Error;
use super::Listed;
use crate::db::DbConn;
use crate::db::models::organization::Organization;
use crate::db::models::token::GitToken;
use crate::domain::expiry::attention_horizon;
use crate::domain::ids::OrgId;
use crate::domain::token::TokenFilter;
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a count is reused at most, even when no token changed.
pub const STATS_TTL: Duration = Duration::seconds(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgStats {
    pub total: i64,
    pub attention: i64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    version: i64,
    computed_at: NaiveDateTime,
    stats: OrgStats,
}

/// The per-process cache (in the application state): counts per organization, and the
/// unfiltered list pages people open (at most [`PAGES_KEPT`]).
#[derive(Debug, Default)]
pub struct StatsCache(
    Mutex<HashMap<OrgId, Entry>>,
    Mutex<HashMap<PageKey, PageEntry>>,
);

/// How many cached list pages a process keeps at most (a few tens of KB each).
pub const PAGES_KEPT: usize = 256;

/// An unfiltered list page: organization, page number, page size.
pub type PageKey = (OrgId, i64, i64);

#[derive(Debug, Clone)]
struct PageEntry {
    version: i64,
    computed_at: NaiveDateTime,
    items: Arc<[Listed]>,
}

impl StatsCache {
    fn get(&self, org: &OrgId, version: i64, now: NaiveDateTime) -> Option<OrgStats> {
        let map = self.0.lock().ok()?;
        map.get(org)
            .filter(|e| {
                e.version == version && now - e.computed_at < STATS_TTL && e.computed_at <= now
            })
            .map(|e| e.stats)
    }

    fn put(&self, org: &OrgId, entry: Entry) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(org.clone(), entry);
        }
    }

    /// A cached list page, if it is of this version and fresh.
    pub fn page(&self, key: &PageKey, version: i64, now: NaiveDateTime) -> Option<Arc<[Listed]>> {
        let map = self.1.lock().ok()?;
        map.get(key)
            .filter(|e| {
                e.version == version && now - e.computed_at < STATS_TTL && e.computed_at <= now
            })
            .map(|e| Arc::clone(&e.items))
    }

    /// Keep a list page (dropping every other entry first when [`PAGES_KEPT`] are held).
    pub fn put_page(&self, key: PageKey, version: i64, now: NaiveDateTime, items: &Arc<[Listed]>) {
        if let Ok(mut map) = self.1.lock() {
            if map.len() >= PAGES_KEPT && !map.contains_key(&key) {
                map.clear();
            }
            map.insert(
                key,
                PageEntry {
                    version,
                    computed_at: now,
                    items: Arc::clone(items),
                },
            );
        }
    }
}

/// The organization's counts, from the cache when its version is unchanged.
pub fn org_stats(
    conn: &mut DbConn,
    cache: &StatsCache,
    org: &OrgId,
    now: NaiveDateTime,
) -> Result<OrgStats, Error> {
    let version = Organization::tokens_version(conn, org.as_str())?;
    org_stats_at(conn, cache, org, version, now)
}

/// [`org_stats`] with the version already read.
pub fn org_stats_at(
    conn: &mut DbConn,
    cache: &StatsCache,
    org: &OrgId,
    version: i64,
    now: NaiveDateTime,
) -> Result<OrgStats, Error> {
    if let Some(s) = cache.get(org, version, now) {
        return Ok(s);
    }
    let stats = OrgStats {
        total: GitToken::count(conn, org.as_str(), &TokenFilter::default())?,
        attention: GitToken::attention_count(conn, org.as_str(), attention_horizon(now))?,
    };
    cache.put(
        org,
        Entry {
            version,
            computed_at: now,
            stats,
        },
    );
    Ok(stats)
}

//! Organization API keys (`fkp_…`, DESIGN.md §9): only the SHA-256 of a key is kept
//! (`key_hash`), with its hint in clear; revoked (`revoked_at`) or past `expires_at` keys do not
//! authenticate.

use crate::db::schema::api_keys;
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub role: String,
    pub key_hash: String,
    pub hint: String,
    /// E-mail of who made it (kept if that account goes).
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Keys listed on the page at most (newest first).
pub const LIST_LIMIT: i64 = 200;

impl ApiKeyRow {
    pub fn insert(conn: &mut DbConn, k: &ApiKeyRow) -> Result<(), StoreError> {
        diesel::insert_into(api_keys::table)
            .values(k)
            .execute(conn)?;
        Ok(())
    }

    /// The key whose value hashes to `key_hash`, whatever its state.
    pub fn find_by_hash(
        conn: &mut DbConn,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(api_keys::table
            .filter(api_keys::key_hash.eq(key_hash))
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()?)
    }

    /// The organization's keys, revoked ones included, newest first.
    pub fn list(conn: &mut DbConn, org_id: &str) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(api_keys::table
            .filter(api_keys::org_id.eq(org_id))
            .order((api_keys::created_at.desc(), api_keys::id))
            .limit(LIST_LIMIT)
            .select(ApiKeyRow::as_select())
            .load(conn)?)
    }

    /// One key of the organization, whatever its state.
    pub fn list_one(
        conn: &mut DbConn,
        org_id: &str,
        id: &str,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::org_id.eq(org_id))
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()?)
    }

    /// Revoke one key of the organization; `Some(key)` when this call revoked it.
    pub fn revoke(
        conn: &mut DbConn,
        org_id: &str,
        id: &str,
        now: NaiveDateTime,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        let n = diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(id))
                .filter(api_keys::org_id.eq(org_id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(now)))
        .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(api_keys::table
            .find(id)
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()?)
    }

    /// Record a use at `now`, unless one was recorded after `since` (at most one write a
    /// minute per key).
    pub fn touch(
        conn: &mut DbConn,
        id: &str,
        now: NaiveDateTime,
        since: NaiveDateTime,
    ) -> Result<(), StoreError> {
        diesel::update(
            api_keys::table.filter(api_keys::id.eq(id)).filter(
                api_keys::last_used_at
                    .is_null()
                    .or(api_keys::last_used_at.lt(since)),
            ),
        )
        .set(api_keys::last_used_at.eq(Some(now)))
        .execute(conn)?;
        Ok(())
    }

    /// Keys neither revoked nor expired at `now` whose expiry falls before `horizon` (for the
    /// expiry notifications), at most `limit`.
    pub fn expiring(
        conn: &mut DbConn,
        now: NaiveDateTime,
        horizon: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(api_keys::table
            .filter(api_keys::revoked_at.is_null())
            .filter(api_keys::expires_at.is_not_null())
            .filter(api_keys::expires_at.le(horizon))
            .filter(api_keys::expires_at.gt(now))
            .order(api_keys::expires_at)
            .limit(limit)
            .select(ApiKeyRow::as_select())
            .load(conn)?)
    }
}

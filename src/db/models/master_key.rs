//! The master keys the database knows (ids and states only; the key material is in the key
//! file). See `app::keys` for the protocol these queries serve.

use crate::db::schema::{git_tokens, master_keys, notification_settings, users};
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The key every process seals new secrets with (one at most: a unique partial index).
pub const PRIMARY: &str = "primary";
/// Replaced by a rotation: still opens the rows that use it, never seals again.
pub const RETIRING: &str = "retiring";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = master_keys)]
pub struct MasterKeyRow {
    pub id: String,
    pub state: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

impl MasterKeyRow {
    pub fn all(conn: &mut DbConn) -> Result<Vec<MasterKeyRow>, StoreError> {
        Ok(master_keys::table
            .order(master_keys::created_at.asc())
            .select(MasterKeyRow::as_select())
            .load(conn)?)
    }

    /// The id of the primary key, if one is registered.
    pub fn primary(conn: &mut DbConn) -> Result<Option<String>, StoreError> {
        Ok(master_keys::table
            .filter(master_keys::state.eq(PRIMARY))
            .select(master_keys::id)
            .first(conn)
            .optional()?)
    }

    /// Claim `id` for sealing in the caller's transaction: true if it is the primary key, and
    /// then it stays primary until that transaction ends. On PostgreSQL a `FOR SHARE` lock on
    /// its row (a rotation's `UPDATE` of the row waits for every sealing transaction holding
    /// it; sealers do not wait for each other); on SQLite a write to the row, which takes the
    /// database's write lock until commit.
    pub fn claim(conn: &mut DbConn, id: &str) -> Result<bool, StoreError> {
        let is_primary = master_keys::id.eq(id).and(master_keys::state.eq(PRIMARY));
        let n = match conn {
            DbConn::Postgres(c) => master_keys::table
                .filter(is_primary)
                .select(master_keys::id)
                .for_share()
                .load::<String>(c)?
                .len(),
            DbConn::Sqlite(c) => diesel::update(master_keys::table.filter(is_primary))
                .set(master_keys::state.eq(master_keys::state))
                .execute(c)?,
        };
        Ok(n == 1)
    }

    /// Register keys found in the key file (first start after the upgrade): `primary` as the
    /// primary key unless one is registered, every other id as retiring. Ids already known are
    /// left as they are.
    pub fn register(
        conn: &mut DbConn,
        primary: &str,
        others: &[String],
        now: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let known: Vec<String> = master_keys::table.select(master_keys::id).load(conn)?;
        let has_primary = MasterKeyRow::primary(conn)?.is_some();
        let mut rows = Vec::new();
        for id in others {
            if !known.contains(id) && id != primary {
                rows.push(row(id, RETIRING, now, Some(now)));
            }
        }
        if !known.iter().any(|k| k == primary) {
            let state = if has_primary { RETIRING } else { PRIMARY };
            rows.push(row(primary, state, now, None));
        }
        // One statement a row: the multi-backend connection has no batch insert.
        for r in &rows {
            diesel::insert_into(master_keys::table)
                .values(r)
                .execute(conn)?;
        }
        Ok(())
    }

    /// Make `id` the primary key: the current primary becomes retiring first (its row update
    /// waits for the transactions that claimed it), then `id` is inserted as primary.
    pub fn promote(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<(), StoreError> {
        diesel::update(master_keys::table.filter(master_keys::state.eq(PRIMARY)))
            .set((
                master_keys::state.eq(RETIRING),
                master_keys::retired_at.eq(Some(now)),
            ))
            .execute(conn)?;
        diesel::insert_into(master_keys::table)
            .values(&row(id, PRIMARY, now, None))
            .execute(conn)?;
        Ok(())
    }

    /// Rows (tokens and webhooks) whose secret is sealed under `id`.
    pub fn uses(conn: &mut DbConn, id: &str) -> Result<i64, StoreError> {
        let tokens: i64 = git_tokens::table
            .filter(git_tokens::key_id.eq(id))
            .count()
            .get_result(conn)?;
        let hooks: i64 = notification_settings::table
            .filter(notification_settings::webhook_key_id.eq(id))
            .count()
            .get_result(conn)?;
        let totp: i64 = users::table
            .filter(users::totp_key_id.eq(id))
            .count()
            .get_result(conn)?;
        Ok(tokens + hooks + totp)
    }

    /// Every key id some row uses.
    pub fn used_ids(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = git_tokens::table
            .select(git_tokens::key_id)
            .distinct()
            .load(conn)?;
        let hooks: Vec<Option<String>> = notification_settings::table
            .select(notification_settings::webhook_key_id)
            .distinct()
            .load(conn)?;
        ids.extend(hooks.into_iter().flatten());
        let totp: Vec<Option<String>> = users::table
            .select(users::totp_key_id)
            .distinct()
            .load(conn)?;
        ids.extend(totp.into_iter().flatten());
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Forget a retiring key, only if no row uses it (checked in the same statement's
    /// transaction by the caller: see `app::keys::rotate`). Returns whether it was deleted.
    pub fn forget_retired(conn: &mut DbConn, id: &str) -> Result<bool, StoreError> {
        if MasterKeyRow::uses(conn, id)? > 0 {
            return Ok(false);
        }
        let n = diesel::delete(
            master_keys::table
                .filter(master_keys::id.eq(id))
                .filter(master_keys::state.eq(RETIRING)),
        )
        .execute(conn)?;
        Ok(n == 1)
    }
}

fn row(id: &str, state: &str, now: NaiveDateTime, retired: Option<NaiveDateTime>) -> MasterKeyRow {
    MasterKeyRow {
        id: id.to_string(),
        state: state.to_string(),
        created_at: now,
        retired_at: retired,
    }
}

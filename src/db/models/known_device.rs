//! Browsers that signed in to an account before (`fk_device` cookie; the database keeps the
//! SHA-256 of its random id, once per account signed in with it).

use crate::db::schema::known_devices as d;
use crate::db::{DbConn, StoreError};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

/// A device not used to sign in for this long is forgotten.
pub const FORGET_AFTER: Duration = Duration::days(180);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = d)]
pub struct KnownDevice {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
}

impl KnownDevice {
    /// Whether the device signed in to this account within [`FORGET_AFTER`].
    pub fn is_known(
        conn: &mut DbConn,
        id_hash: &str,
        user_id: &str,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let n: i64 = d::table
            .filter(d::id_hash.eq(id_hash))
            .filter(d::user_id.eq(user_id))
            .filter(d::last_used_at.gt(now - FORGET_AFTER))
            .count()
            .get_result(conn)?;
        Ok(n > 0)
    }

    /// Record a successful sign-in of the account from the device.
    pub fn remember(
        conn: &mut DbConn,
        id_hash: &str,
        user_id: &str,
        now: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let touched = diesel::update(
            d::table
                .filter(d::id_hash.eq(id_hash))
                .filter(d::user_id.eq(user_id)),
        )
        .set(d::last_used_at.eq(now))
        .execute(conn)?;
        if touched == 0 {
            let row = KnownDevice {
                id_hash: id_hash.to_string(),
                user_id: user_id.to_string(),
                created_at: now,
                last_used_at: now,
            };
            let insert = diesel::insert_into(d::table)
                .values(&row)
                .on_conflict((d::id_hash, d::user_id))
                .do_nothing();
            match conn {
                DbConn::Sqlite(c) => insert.execute(c)?,
                DbConn::Postgres(c) => insert.execute(c)?,
            };
            diesel::delete(d::table.filter(d::last_used_at.lt(now - FORGET_AFTER)))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Forget every device of an account (`forgekeys user unlock --forget-devices`).
    pub fn forget_user(conn: &mut DbConn, user_id: &str) -> Result<usize, StoreError> {
        Ok(diesel::delete(d::table.filter(d::user_id.eq(user_id))).execute(conn)?)
    }
}

//! The one-time setup's lock (see the migration `2026-12-01-000120_sign_in_protection`).

use crate::db::schema::setup_lock as s;
use crate::db::{DbConn, StoreError};
use diesel::prelude::*;

const ROW: &str = "setup";

/// Take the setup lock in the caller's transaction: the first statement of the transaction, a
/// write, so a concurrent setup (in any process) waits here until this transaction ends — on
/// SQLite for the database's write lock, on PostgreSQL for the row's unique index entry. The
/// row is removed again by [`release`] before commit, so the table is empty between setups.
pub fn take(conn: &mut DbConn) -> Result<(), StoreError> {
    diesel::insert_into(s::table)
        .values(s::id.eq(ROW))
        .execute(conn)?;
    Ok(())
}

/// Remove the lock row (same transaction as [`take`]).
pub fn release(conn: &mut DbConn) -> Result<(), StoreError> {
    diesel::delete(s::table.find(ROW)).execute(conn)?;
    Ok(())
}

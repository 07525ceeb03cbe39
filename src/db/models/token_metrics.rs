//! Installation-wide token counts for the metrics endpoint: grouped and counted by the
//! database, one query per figure, no rows loaded.

use crate::db::schema::git_tokens;
use crate::db::{DbConn, StoreError};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

/// `(status, n)` over every organization.
pub fn by_status(conn: &mut DbConn) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(git_tokens::table
        .group_by(git_tokens::status)
        .select((git_tokens::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// Tokens whose expiry date is at or before `now`.
pub fn expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<i64, StoreError> {
    Ok(git_tokens::table
        .filter(git_tokens::expires_at.le(now))
        .count()
        .get_result(conn)?)
}

/// Tokens expiring after `now` and within `days` of it.
pub fn expiring_within(
    conn: &mut DbConn,
    now: NaiveDateTime,
    days: i64,
) -> Result<i64, StoreError> {
    Ok(git_tokens::table
        .filter(git_tokens::expires_at.gt(now))
        .filter(git_tokens::expires_at.le(now + Duration::days(days)))
        .count()
        .get_result(conn)?)
}

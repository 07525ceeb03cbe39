//! Each token's status over time (one row per test: scheduled, manual or from the CLI).

use crate::db::schema::token_status_history;
use crate::db::{DbConn, StoreError, new_id};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use crate::domain::status::TestSource;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = token_status_history)]
pub struct StatusHistory {
    pub id: String,
    pub token_id: String,
    pub org_id: String,
    pub status: String,
    pub tested_at: NaiveDateTime,
    /// The (already redacted) reason of a failing result; never a secret.
    pub reason: Option<String>,
    pub source: String,
}

impl StatusHistory {
    pub fn record(
        conn: &mut DbConn,
        token_id: &str,
        org_id: &str,
        status: &str,
        tested_at: NaiveDateTime,
        reason: Option<&str>,
        source: TestSource,
    ) -> Result<StatusHistory, StoreError> {
        let row = StatusHistory {
            id: new_id(),
            token_id: token_id.to_string(),
            org_id: org_id.to_string(),
            status: status.to_string(),
            tested_at,
            reason: reason.map(|r| r.chars().take(300).collect()),
            source: source.as_str().to_string(),
        };
        diesel::insert_into(token_status_history::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    }

    /// Newest first.
    pub fn list_for_token(
        conn: &mut DbConn,
        token_id: &str,
        limit: i64,
    ) -> Result<Vec<StatusHistory>, StoreError> {
        Ok(token_status_history::table
            .filter(token_status_history::token_id.eq(token_id))
            .order((
                token_status_history::tested_at.desc(),
                token_status_history::id.desc(),
            ))
            .limit(limit)
            .select(StatusHistory::as_select())
            .load(conn)?)
    }

    pub fn count_for_token(conn: &mut DbConn, token_id: &str) -> Result<i64, StoreError> {
        Ok(token_status_history::table
            .filter(token_status_history::token_id.eq(token_id))
            .count()
            .get_result(conn)?)
    }
}

//! Server-side sessions. The cookie holds a random id; the table keeps only its SHA-256, so a
//! leaked database does not hand out live sessions.

use crate::db::schema::sessions;
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl Session {
    pub fn insert(conn: &mut DbConn, s: &Session) -> Result<(), StoreError> {
        diesel::insert_into(sessions::table)
            .values(s)
            .execute(conn)?;
        Ok(())
    }

    /// A live session by id hash (not past its absolute expiry nor its idle timeout).
    pub fn find_live(
        conn: &mut DbConn,
        id_hash: &str,
        idle: chrono::Duration,
        n: NaiveDateTime,
    ) -> Result<Option<Session>, StoreError> {
        let s: Option<Session> = sessions::table
            .find(id_hash)
            .select(Session::as_select())
            .first(conn)
            .optional()?;
        Ok(s.filter(|s| s.expires_at > n && s.last_seen_at + idle > n))
    }

    /// Refresh `last_seen_at`, at most once a minute to spare writes.
    pub fn touch(conn: &mut DbConn, s: &Session, n: NaiveDateTime) -> Result<(), StoreError> {
        if n - s.last_seen_at > chrono::Duration::seconds(60) {
            diesel::update(sessions::table.find(&s.id_hash))
                .set(sessions::last_seen_at.eq(n))
                .execute(conn)?;
        }
        Ok(())
    }

    pub fn delete(conn: &mut DbConn, id_hash: &str) -> Result<(), StoreError> {
        diesel::delete(sessions::table.find(id_hash)).execute(conn)?;
        Ok(())
    }

    pub fn delete_expired(conn: &mut DbConn, n: NaiveDateTime) -> Result<usize, StoreError> {
        Ok(diesel::delete(sessions::table.filter(sessions::expires_at.lt(n))).execute(conn)?)
    }
}

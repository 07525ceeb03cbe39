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
    /// The browser's `User-Agent` at sign-in (cut to [`USER_AGENT_MAX`] characters).
    pub user_agent: Option<String>,
    /// The client address at sign-in.
    pub client_ip: Option<String>,
}

pub const USER_AGENT_MAX: usize = 300;

/// One session as the account page lists it.
#[derive(Debug, Clone, Queryable)]
pub struct SessionListing {
    pub id_hash: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
}

/// Sessions listed on the account page at most (the most recently used).
pub const LISTED: i64 = 50;

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

    /// The user's live sessions, most recently used first.
    pub fn list_for_user(
        conn: &mut DbConn,
        user_id: &str,
        idle: chrono::Duration,
        n: NaiveDateTime,
    ) -> Result<Vec<SessionListing>, StoreError> {
        Ok(sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::expires_at.gt(n))
            .filter(sessions::last_seen_at.gt(n - idle))
            .order(sessions::last_seen_at.desc())
            .limit(LISTED)
            .select((
                sessions::id_hash,
                sessions::created_at,
                sessions::last_seen_at,
                sessions::user_agent,
                sessions::client_ip,
            ))
            .load(conn)?)
    }

    /// End one session of this user (false: none such).
    pub fn delete_of_user(
        conn: &mut DbConn,
        user_id: &str,
        id_hash: &str,
    ) -> Result<bool, StoreError> {
        let n = diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::id_hash.eq(id_hash)),
        )
        .execute(conn)?;
        Ok(n > 0)
    }

    /// End every session of this user but `keep`; returns how many ended.
    pub fn delete_others(
        conn: &mut DbConn,
        user_id: &str,
        keep: &str,
    ) -> Result<usize, StoreError> {
        Ok(diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::id_hash.ne(keep)),
        )
        .execute(conn)?)
    }

    pub fn delete_expired(conn: &mut DbConn, n: NaiveDateTime) -> Result<usize, StoreError> {
        Ok(diesel::delete(sessions::table.filter(sessions::expires_at.lt(n))).execute(conn)?)
    }
}

//! Failed sign-in counters, one row per key (an IP address, a keyed hash of an e-mail, a known
//! device), shared by every server process on the database. Attempts are claimed with one
//! conditional `UPDATE` (no read-then-write), so concurrent requests in any process cannot try
//! more passwords than a key allows, and SQLite never has to upgrade a read lock.

use crate::db::schema::login_throttles as t;
use crate::db::{DbConn, StoreError};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

/// How many attempts a key has in a window, and how long it is locked once they are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub attempts: i64,
    /// A window's attempts are forgotten this long after it began.
    pub window: Duration,
    pub lock: Duration,
}

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// One attempt taken: check the password, then `release`/`clear` it or record it `failed`.
    Taken,
    /// Locked (or every attempt is taken by requests in flight) until this time.
    Locked(NaiveDateTime),
}

/// Rows untouched this long are deleted (a lock never lasts this long).
const FORGET_AFTER: Duration = Duration::days(1);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = t)]
pub struct Throttle {
    pub key: String,
    pub attempts: i64,
    pub window_start: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

impl Throttle {
    pub fn find(conn: &mut DbConn, key: &str) -> Result<Option<Throttle>, StoreError> {
        Ok(t::table
            .find(key)
            .select(Throttle::as_select())
            .first(conn)
            .optional()?)
    }

    /// The conditional UPDATE that takes one attempt of a live, unlocked key.
    fn take(conn: &mut DbConn, key: &str, limit: Limit, now: NaiveDateTime) -> QueryResult<bool> {
        let n = diesel::update(
            t::table
                .find(key)
                .filter(t::attempts.lt(limit.attempts))
                .filter(t::window_start.gt(now - limit.window))
                .filter(t::locked_until.is_null().or(t::locked_until.le(now))),
        )
        .set(t::attempts.eq(t::attempts + 1))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Take one of the key's attempts. A missing row is created (`INSERT … ON CONFLICT DO
    /// NOTHING`, atomic on both backends), a window that has run out starts afresh, and a key
    /// whose attempts are all used gets (or keeps) its lock.
    pub fn claim(
        conn: &mut DbConn,
        key: &str,
        limit: Limit,
        now: NaiveDateTime,
    ) -> Result<Claim, StoreError> {
        if Throttle::take(conn, key, limit, now)? {
            return Ok(Claim::Taken);
        }
        let row = Throttle {
            key: key.to_string(),
            attempts: 0,
            window_start: now,
            locked_until: None,
        };
        let insert = diesel::insert_into(t::table)
            .values(&row)
            .on_conflict(t::key)
            .do_nothing();
        let inserted = match conn {
            DbConn::Sqlite(c) => insert.execute(c)?,
            DbConn::Postgres(c) => insert.execute(c)?,
        };
        if inserted == 1 {
            // Forget keys nobody tried for a day (the e-mails of a storm must not pile up).
            diesel::delete(
                t::table
                    .filter(t::window_start.lt(now - FORGET_AFTER))
                    .filter(t::locked_until.is_null().or(t::locked_until.lt(now))),
            )
            .execute(conn)?;
        } else {
            // An expired window (and no lock in force) starts again.
            diesel::update(
                t::table
                    .find(key)
                    .filter(t::window_start.le(now - limit.window))
                    .filter(t::locked_until.is_null().or(t::locked_until.le(now))),
            )
            .set((t::attempts.eq(0), t::window_start.eq(now)))
            .execute(conn)?;
        }
        if Throttle::take(conn, key, limit, now)? {
            return Ok(Claim::Taken);
        }
        // Every attempt used: make sure the lock is in place (also heals attempts left claimed
        // by an interrupted request), then say until when.
        Throttle::lock_if_exhausted(conn, key, limit, now)?;
        let until = Throttle::find(conn, key)?
            .and_then(|r| r.locked_until)
            .filter(|u| *u > now)
            .unwrap_or(now + limit.lock);
        Ok(Claim::Locked(until))
    }

    /// A claimed attempt that tested no password, or a correct one that must not count against
    /// the key (an IP address's failures only): give it back.
    pub fn release(conn: &mut DbConn, key: &str) -> Result<(), StoreError> {
        diesel::update(t::table.find(key).filter(t::attempts.gt(0)))
            .set(t::attempts.eq(t::attempts - 1))
            .execute(conn)?;
        Ok(())
    }

    /// A correct password: the key starts from nothing (also `forgekeys user unlock`).
    pub fn clear(conn: &mut DbConn, key: &str) -> Result<bool, StoreError> {
        Ok(diesel::delete(t::table.find(key)).execute(conn)? == 1)
    }

    /// A wrong password: the attempt stays used; once all are, the key is locked for
    /// `limit.lock` (and its count restarts for after the lock). Returns whether this locked it.
    pub fn lock_if_exhausted(
        conn: &mut DbConn,
        key: &str,
        limit: Limit,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            t::table
                .find(key)
                .filter(t::attempts.ge(limit.attempts))
                .filter(t::locked_until.is_null().or(t::locked_until.le(now))),
        )
        .set((
            t::attempts.eq(0),
            t::window_start.eq(now),
            t::locked_until.eq(Some(now + limit.lock)),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }
}

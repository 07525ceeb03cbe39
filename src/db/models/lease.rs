//! Leases for background jobs: one holder at a time across every server process on the
//! database. Taken with one conditional `UPDATE … WHERE expires_at < now` (atomic on SQLite and
//! PostgreSQL alike: the row lock / database write lock serialises competing updates, and only
//! one of them still sees the condition true).

use crate::db::schema::scheduler_leases;
use crate::db::{DbConn, StoreError};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scheduler_leases)]
pub struct Lease {
    pub name: String,
    pub holder: Option<String>,
    pub expires_at: NaiveDateTime,
    pub last_started_at: Option<NaiveDateTime>,
    pub last_finished_at: Option<NaiveDateTime>,
}

impl Lease {
    /// Make sure the row exists (the migration inserts `recheck`; other names are added here).
    pub fn ensure(conn: &mut DbConn, name: &str) -> Result<(), StoreError> {
        let exists: i64 = scheduler_leases::table
            .filter(scheduler_leases::name.eq(name))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            let row = Lease {
                name: name.to_string(),
                holder: None,
                expires_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
                last_started_at: None,
                last_finished_at: None,
            };
            match diesel::insert_into(scheduler_leases::table)
                .values(&row)
                .execute(conn)
            {
                Ok(_) => {}
                // Another process inserted it first: fine.
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Take the lease for `ttl` if nobody holds it. With `not_finished_since`, only if the last
    /// run finished before that time (so several processes do not each run once per interval).
    /// Returns whether this holder now has it.
    pub fn try_acquire(
        conn: &mut DbConn,
        name: &str,
        holder: &str,
        now: NaiveDateTime,
        ttl: Duration,
        not_finished_since: Option<NaiveDateTime>,
    ) -> Result<bool, StoreError> {
        Lease::ensure(conn, name)?;
        let free = scheduler_leases::name
            .eq(name)
            .and(scheduler_leases::expires_at.lt(now));
        let changes = (
            scheduler_leases::holder.eq(Some(holder)),
            scheduler_leases::expires_at.eq(now + ttl),
            scheduler_leases::last_started_at.eq(Some(now)),
        );
        let n = match not_finished_since {
            Some(since) => diesel::update(scheduler_leases::table)
                .filter(free)
                .filter(
                    scheduler_leases::last_finished_at
                        .is_null()
                        .or(scheduler_leases::last_finished_at.le(since)),
                )
                .set(changes)
                .execute(conn)?,
            None => diesel::update(scheduler_leases::table)
                .filter(free)
                .set(changes)
                .execute(conn)?,
        };
        Ok(n == 1)
    }

    /// Extend a lease this holder has; false if it was lost (expired and taken by another).
    pub fn renew(
        conn: &mut DbConn,
        name: &str,
        holder: &str,
        now: NaiveDateTime,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(scheduler_leases::table)
            .filter(scheduler_leases::name.eq(name))
            .filter(scheduler_leases::holder.eq(holder))
            .set(scheduler_leases::expires_at.eq(now + ttl))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Give the lease back and note when the run finished.
    pub fn release(
        conn: &mut DbConn,
        name: &str,
        holder: &str,
        now: NaiveDateTime,
    ) -> Result<(), StoreError> {
        diesel::update(scheduler_leases::table)
            .filter(scheduler_leases::name.eq(name))
            .filter(scheduler_leases::holder.eq(holder))
            .set((
                scheduler_leases::holder.eq(None::<String>),
                scheduler_leases::expires_at.eq(chrono::DateTime::UNIX_EPOCH.naive_utc()),
                scheduler_leases::last_finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConn, name: &str) -> Result<Option<Lease>, StoreError> {
        Ok(scheduler_leases::table
            .find(name)
            .select(Lease::as_select())
            .first(conn)
            .optional()?)
    }
}

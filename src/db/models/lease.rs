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
        Lease::take(conn, name, holder, now, ttl, not_finished_since)
    }

    /// Take the lease `name` for `ttl` if nobody holds it, creating its row on first use (for
    /// leases named at run time, e.g. one per token). The row is created with
    /// `INSERT … ON CONFLICT (name) DO NOTHING`, which SQLite and PostgreSQL both run atomically:
    /// a concurrent insert of the same name neither fails nor aborts a surrounding PostgreSQL
    /// transaction. The lease is then taken with the same conditional `UPDATE` as
    /// [`Lease::try_acquire`], so of competing holders exactly one gets it.
    pub fn try_acquire_named(
        conn: &mut DbConn,
        name: &str,
        holder: &str,
        now: NaiveDateTime,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let row = Lease {
            name: name.to_string(),
            holder: None,
            expires_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
            last_started_at: None,
            last_finished_at: None,
        };
        // The multi-backend connection has no ON CONFLICT clause: run the same statement on
        // the backend's own connection.
        let insert = diesel::insert_into(scheduler_leases::table)
            .values(&row)
            .on_conflict(scheduler_leases::name)
            .do_nothing();
        match conn {
            DbConn::Sqlite(c) => insert.execute(c)?,
            DbConn::Postgres(c) => insert.execute(c)?,
        };
        Lease::take(conn, name, holder, now, ttl, None)
    }

    /// The conditional `UPDATE` that takes an existing lease row.
    fn take(
        conn: &mut DbConn,
        name: &str,
        holder: &str,
        now: NaiveDateTime,
        ttl: Duration,
        not_finished_since: Option<NaiveDateTime>,
    ) -> Result<bool, StoreError> {
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

    /// Delete the leases named `prefix…` other than `keep` that nobody holds (released, or
    /// expired before `now`): for leases named at run time, so their rows do not pile up.
    pub fn remove_expired(
        conn: &mut DbConn,
        prefix: &str,
        keep: &str,
        now: NaiveDateTime,
    ) -> Result<usize, StoreError> {
        let pattern = format!("{prefix}%");
        Ok(diesel::delete(
            scheduler_leases::table
                .filter(scheduler_leases::name.like(pattern))
                .filter(scheduler_leases::name.ne(keep))
                .filter(scheduler_leases::expires_at.lt(now)),
        )
        .execute(conn)?)
    }

    pub fn find(conn: &mut DbConn, name: &str) -> Result<Option<Lease>, StoreError> {
        Ok(scheduler_leases::table
            .find(name)
            .select(Lease::as_select())
            .first(conn)
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::Connection;
    use diesel::sqlite::SqliteConnection;

    #[test]
    fn a_named_lease_is_made_on_first_use_and_held_by_one_holder_at_a_time() {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        crate::db::migrations::run(&mut conn).unwrap();
        let now = chrono::DateTime::UNIX_EPOCH.naive_utc() + Duration::days(20_000);
        let ttl = Duration::minutes(2);
        assert!(Lease::try_acquire_named(&mut conn, "rotate:t1", "a", now, ttl).unwrap());
        assert!(!Lease::try_acquire_named(&mut conn, "rotate:t1", "b", now, ttl).unwrap());
        // Another name is another lease.
        assert!(Lease::try_acquire_named(&mut conn, "rotate:t2", "b", now, ttl).unwrap());
        Lease::release(&mut conn, "rotate:t1", "a", now).unwrap();
        assert!(Lease::try_acquire_named(&mut conn, "rotate:t1", "b", now, ttl).unwrap());
        // A holder that never gives it back loses it when it expires.
        let later = now + ttl + Duration::seconds(1);
        assert!(Lease::try_acquire_named(&mut conn, "rotate:t1", "c", later, ttl).unwrap());
        assert_eq!(
            Lease::find(&mut conn, "rotate:t1")
                .unwrap()
                .unwrap()
                .holder
                .as_deref(),
            Some("c")
        );
    }
}

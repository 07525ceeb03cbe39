use crate::db::schema::users;
use crate::db::{DbConn, StoreError, new_id, now};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl User {
    pub fn create(conn: &mut DbConn, email: &str, password_hash: &str) -> Result<User, StoreError> {
        let user = User {
            id: new_id(),
            email: email.to_string(),
            password_hash: password_hash.to_string(),
            failed_logins: 0,
            locked_until: None,
            created_at: now(),
        };
        diesel::insert_into(users::table)
            .values(&user)
            .execute(conn)?;
        Ok(user)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<User>, StoreError> {
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<User>, StoreError> {
        Ok(users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
        Ok(users::table.count().get_result(conn)?)
    }

    /// Claim one of the `threshold` password attempts an account has before it locks. One
    /// atomic UPDATE (no read-then-write), so concurrent sign-ins cannot try more passwords than
    /// allowed, and SQLite never has to upgrade a read lock. `false`: the account is locked, or
    /// every attempt is already taken by requests in flight.
    pub fn claim_attempt(
        conn: &mut DbConn,
        id: &str,
        threshold: i64,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let claimed = diesel::update(
            users::table
                .find(id)
                .filter(users::failed_logins.lt(threshold))
                .filter(
                    users::locked_until
                        .is_null()
                        .or(users::locked_until.le(now)),
                ),
        )
        .set(users::failed_logins.eq(users::failed_logins + 1))
        .execute(conn)?;
        Ok(claimed == 1)
    }

    /// Lock the account for `lock_for` once `threshold` attempts have been used (and restart the
    /// count for after the lock). Returns whether this call locked it.
    pub fn lock_if_exhausted(
        conn: &mut DbConn,
        id: &str,
        threshold: i64,
        lock_for: chrono::Duration,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let locked = diesel::update(
            users::table
                .find(id)
                .filter(users::failed_logins.ge(threshold)),
        )
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(Some(now + lock_for)),
        ))
        .execute(conn)?;
        Ok(locked == 1)
    }

    pub fn record_success(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
        diesel::update(users::table.find(id))
            .set((
                users::failed_logins.eq(0),
                users::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn set_password(conn: &mut DbConn, id: &str, hash: &str) -> Result<(), StoreError> {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)?;
        Ok(())
    }
}

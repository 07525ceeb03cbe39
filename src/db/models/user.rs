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
    /// Unused since issue 11 (the throttle is `login_throttles`, keyed by e-mail whether an
    /// account exists or not); kept so older databases need no rewrite.
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

    pub fn set_password(conn: &mut DbConn, id: &str, hash: &str) -> Result<(), StoreError> {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(conn)?;
        Ok(())
    }
}

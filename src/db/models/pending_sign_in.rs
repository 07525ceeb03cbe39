//! The half-session between a correct password and the second factor: the cookie holds a
//! random id, the table its SHA-256; it lives a few minutes and becomes a session once the
//! code is right.

use crate::db::schema::pending_sign_ins;
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pending_sign_ins)]
pub struct PendingSignIn {
    pub id_hash: String,
    pub user_id: String,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl PendingSignIn {
    /// Store a new one (the user's earlier ones and every expired one go).
    pub fn insert(conn: &mut DbConn, p: &PendingSignIn) -> Result<(), StoreError> {
        diesel::delete(
            pending_sign_ins::table.filter(
                pending_sign_ins::user_id
                    .eq(&p.user_id)
                    .or(pending_sign_ins::expires_at.lt(p.created_at)),
            ),
        )
        .execute(conn)?;
        diesel::insert_into(pending_sign_ins::table)
            .values(p)
            .execute(conn)?;
        Ok(())
    }

    pub fn find_live(
        conn: &mut DbConn,
        id_hash: &str,
        n: NaiveDateTime,
    ) -> Result<Option<PendingSignIn>, StoreError> {
        Ok(pending_sign_ins::table
            .find(id_hash)
            .filter(pending_sign_ins::expires_at.gt(n))
            .select(PendingSignIn::as_select())
            .first(conn)
            .optional()?)
    }

    /// Consume it (false: already consumed by a concurrent request).
    pub fn take(conn: &mut DbConn, id_hash: &str) -> Result<bool, StoreError> {
        Ok(diesel::delete(pending_sign_ins::table.find(id_hash)).execute(conn)? > 0)
    }

    pub fn delete_for_user(conn: &mut DbConn, user_id: &str) -> Result<usize, StoreError> {
        Ok(
            diesel::delete(pending_sign_ins::table.filter(pending_sign_ins::user_id.eq(user_id)))
                .execute(conn)?,
        )
    }
}

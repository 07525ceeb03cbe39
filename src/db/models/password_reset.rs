//! One-time password-reset links (`forgekeys user reset-password`): only the SHA-256 of the
//! link's token is kept; used once, until `expires_at`.

use crate::db::schema::password_resets;
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = password_resets)]
pub struct PasswordReset {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl PasswordReset {
    /// A new link for the user; the user's earlier unused links stop working.
    pub fn replace_for_user(conn: &mut DbConn, r: &PasswordReset) -> Result<(), StoreError> {
        diesel::delete(
            password_resets::table
                .filter(password_resets::user_id.eq(&r.user_id))
                .filter(password_resets::used_at.is_null()),
        )
        .execute(conn)?;
        diesel::insert_into(password_resets::table)
            .values(r)
            .execute(conn)?;
        Ok(())
    }

    /// The open link (unused, not expired at `now`) with this hash.
    pub fn find_open(
        conn: &mut DbConn,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> Result<Option<PasswordReset>, StoreError> {
        Ok(password_resets::table
            .find(token_hash)
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now))
            .select(PasswordReset::as_select())
            .first(conn)
            .optional()?)
    }

    /// Use the link: one atomic UPDATE that succeeds only while it is open. `true` when this
    /// call used it.
    pub fn consume(
        conn: &mut DbConn,
        token_hash: &str,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            password_resets::table
                .find(token_hash)
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(now)),
        )
        .set(password_resets::used_at.eq(Some(now)))
        .execute(conn)?;
        Ok(n == 1)
    }
}

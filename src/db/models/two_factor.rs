//! A user's TOTP secret (sealed, on the `users` row) and recovery codes (SHA-256 only).

use crate::db::schema::{organizations, recovery_codes, users};
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The TOTP columns of a user.
#[derive(Debug, Clone, Queryable)]
pub struct TotpRow {
    pub secret: Option<Vec<u8>>,
    pub key_id: Option<String>,
    pub enabled_at: Option<NaiveDateTime>,
    pub last_step: Option<i64>,
}

impl TotpRow {
    pub fn find(conn: &mut DbConn, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        Ok(users::table
            .find(user_id)
            .select((
                users::totp_secret,
                users::totp_key_id,
                users::totp_enabled_at,
                users::totp_last_step,
            ))
            .first(conn)
            .optional()?)
    }

    /// Whether the user signs in with a second factor.
    pub fn is_on(conn: &mut DbConn, user_id: &str) -> Result<bool, StoreError> {
        Ok(Self::find(conn, user_id)?.is_some_and(|t| t.enabled_at.is_some()))
    }

    /// A new secret awaiting its first code (enrollment started; 2FA not on yet).
    pub fn set_pending(
        conn: &mut DbConn,
        user_id: &str,
        secret: &[u8],
        key_id: &str,
    ) -> Result<(), StoreError> {
        diesel::update(users::table.find(user_id))
            .set((
                users::totp_secret.eq(Some(secret)),
                users::totp_key_id.eq(Some(key_id)),
                users::totp_enabled_at.eq(None::<NaiveDateTime>),
                users::totp_last_step.eq(None::<i64>),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn enable(conn: &mut DbConn, user_id: &str, at: NaiveDateTime) -> Result<(), StoreError> {
        diesel::update(users::table.find(user_id))
            .set(users::totp_enabled_at.eq(Some(at)))
            .execute(conn)?;
        Ok(())
    }

    pub fn disable(conn: &mut DbConn, user_id: &str) -> Result<(), StoreError> {
        diesel::update(users::table.find(user_id))
            .set((
                users::totp_secret.eq(None::<Vec<u8>>),
                users::totp_key_id.eq(None::<String>),
                users::totp_enabled_at.eq(None::<NaiveDateTime>),
                users::totp_last_step.eq(None::<i64>),
            ))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?;
        Ok(())
    }

    /// Every TOTP secret not under `key_id` (user id, key id, ciphertext): what a key rotation
    /// re-seals.
    pub fn sealed_not_under(
        conn: &mut DbConn,
        key_id: &str,
    ) -> Result<Vec<(String, String, Vec<u8>)>, StoreError> {
        let rows: Vec<(String, Option<String>, Option<Vec<u8>>)> = users::table
            .filter(users::totp_key_id.ne(key_id))
            .select((users::id, users::totp_key_id, users::totp_secret))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, kid, blob)| Some((id, kid?, blob?)))
            .collect())
    }

    /// Store a re-sealed secret if the row still holds the ciphertext `old` (compare-and-swap).
    pub fn reseal(
        conn: &mut DbConn,
        user_id: &str,
        old: &[u8],
        sealed: &[u8],
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            users::table
                .find(user_id)
                .filter(users::totp_secret.eq(old)),
        )
        .set((
            users::totp_secret.eq(Some(sealed)),
            users::totp_key_id.eq(Some(key_id)),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Record `step` as used, only if it is later than the last one used (atomic: of two
    /// requests with the same code, one wins). False: the step was already used.
    pub fn use_step(conn: &mut DbConn, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let n = diesel::update(
            users::table.find(user_id).filter(
                users::totp_last_step
                    .is_null()
                    .or(users::totp_last_step.lt(step)),
            ),
        )
        .set(users::totp_last_step.eq(Some(step)))
        .execute(conn)?;
        Ok(n > 0)
    }
}

/// Recovery codes.
pub struct RecoveryCodes;

impl RecoveryCodes {
    /// Replace the user's codes with these hashes.
    pub fn replace(
        conn: &mut DbConn,
        user_id: &str,
        hashes: &[String],
        at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?;
        for h in hashes {
            diesel::insert_into(recovery_codes::table)
                .values((
                    recovery_codes::code_hash.eq(h),
                    recovery_codes::user_id.eq(user_id),
                    recovery_codes::created_at.eq(at),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Use one code (false: unknown, another user's or already used).
    pub fn consume(
        conn: &mut DbConn,
        user_id: &str,
        hash: &str,
        at: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            recovery_codes::table
                .filter(recovery_codes::code_hash.eq(hash))
                .filter(recovery_codes::user_id.eq(user_id))
                .filter(recovery_codes::used_at.is_null()),
        )
        .set(recovery_codes::used_at.eq(Some(at)))
        .execute(conn)?;
        Ok(n > 0)
    }

    /// Codes not used yet.
    pub fn left(conn: &mut DbConn, user_id: &str) -> Result<i64, StoreError> {
        Ok(recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(conn)?)
    }
}

/// The organization setting that requires 2FA of every member.
pub struct OrgSecurity;

impl OrgSecurity {
    pub fn requires_2fa(conn: &mut DbConn, org_id: &str) -> Result<bool, StoreError> {
        Ok(organizations::table
            .find(org_id)
            .select(organizations::require_2fa)
            .first(conn)
            .optional()?
            .unwrap_or(false))
    }

    pub fn set_require_2fa(conn: &mut DbConn, org_id: &str, on: bool) -> Result<(), StoreError> {
        diesel::update(organizations::table.find(org_id))
            .set(organizations::require_2fa.eq(on))
            .execute(conn)?;
        Ok(())
    }
}

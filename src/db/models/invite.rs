//! Invitations to an organization: a one-time link (only its SHA-256 is kept here), valid until
//! `expires_at`, used once (`used_at`) or revoked (`revoked_at`).

use crate::db::models::organization::Organization;
use crate::db::schema::{invites, organizations};
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invites)]
pub struct Invite {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub role: String,
    pub token_hash: String,
    /// E-mail of who invited (kept if that account goes).
    pub invited_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub used_by: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl Invite {
    pub fn insert(conn: &mut DbConn, i: &Invite) -> Result<(), StoreError> {
        diesel::insert_into(invites::table)
            .values(i)
            .execute(conn)?;
        Ok(())
    }

    /// The invite whose link hashes to `token_hash`, whatever its state.
    pub fn find_by_hash(conn: &mut DbConn, token_hash: &str) -> Result<Option<Invite>, StoreError> {
        Ok(invites::table
            .filter(invites::token_hash.eq(token_hash))
            .select(Invite::as_select())
            .first(conn)
            .optional()?)
    }

    /// The organization's invites still open at `now` (not used, revoked or expired), newest
    /// first, at most `limit`.
    pub fn pending(
        conn: &mut DbConn,
        org_id: &str,
        now: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<Invite>, StoreError> {
        Ok(invites::table
            .filter(invites::org_id.eq(org_id))
            .filter(invites::used_at.is_null())
            .filter(invites::revoked_at.is_null())
            .filter(invites::expires_at.gt(now))
            .order(invites::created_at.desc())
            .limit(limit)
            .select(Invite::as_select())
            .load(conn)?)
    }

    /// Revoke one open invite of the organization; `Some(invite)` when this call revoked it.
    pub fn revoke(
        conn: &mut DbConn,
        org_id: &str,
        id: &str,
        now: NaiveDateTime,
    ) -> Result<Option<Invite>, StoreError> {
        let n = diesel::update(
            invites::table
                .filter(invites::id.eq(id))
                .filter(invites::org_id.eq(org_id))
                .filter(invites::used_at.is_null())
                .filter(invites::revoked_at.is_null()),
        )
        .set(invites::revoked_at.eq(Some(now)))
        .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        Ok(invites::table
            .find(id)
            .select(Invite::as_select())
            .first(conn)
            .optional()?)
    }

    /// Revoke every open invite of the organization for `email` (a new invite replaces them).
    pub fn revoke_for_email(
        conn: &mut DbConn,
        org_id: &str,
        email: &str,
        now: NaiveDateTime,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            invites::table
                .filter(invites::org_id.eq(org_id))
                .filter(invites::email.eq(email))
                .filter(invites::used_at.is_null())
                .filter(invites::revoked_at.is_null()),
        )
        .set(invites::revoked_at.eq(Some(now)))
        .execute(conn)?)
    }

    /// Use the invite: one atomic UPDATE that succeeds only while it is open, so of two
    /// simultaneous acceptances exactly one gets it. `true` when this call used it.
    pub fn consume(
        conn: &mut DbConn,
        id: &str,
        user_id: &str,
        now: NaiveDateTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            invites::table
                .filter(invites::id.eq(id))
                .filter(invites::used_at.is_null())
                .filter(invites::revoked_at.is_null())
                .filter(invites::expires_at.gt(now)),
        )
        .set((
            invites::used_at.eq(Some(now)),
            invites::used_by.eq(Some(user_id)),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// The organization an invitation is for.
    pub fn organization(conn: &mut DbConn, org_id: &str) -> Result<Organization, StoreError> {
        Ok(organizations::table
            .find(org_id)
            .select(Organization::as_select())
            .first(conn)?)
    }
}

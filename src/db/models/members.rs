//! Queries of the members page and of member management: memberships joined with their users,
//! shaped for the page (one page of rows, counts in the database).

use crate::db::schema::{memberships, sessions, users};
use crate::db::{DbConn, StoreError, new_id};
use crate::domain::role::Role;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// One member as the members page shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct MemberRow {
    #[diesel(select_expression = users::id)]
    pub user_id: String,
    pub email: String,
    #[diesel(select_expression = memberships::role)]
    pub role: String,
    pub last_sign_in_at: Option<NaiveDateTime>,
    /// When the member turned two-factor sign-in on (`None`: off).
    pub totp_enabled_at: Option<NaiveDateTime>,
}

fn role_of(raw: &str) -> Result<Role, StoreError> {
    Role::parse(raw).ok_or_else(|| StoreError::Corrupt(format!("unknown role {raw:?}")))
}

impl MemberRow {
    pub fn role(&self) -> Result<Role, StoreError> {
        role_of(&self.role)
    }

    /// One page of the organization's members, by e-mail.
    pub fn page(
        conn: &mut DbConn,
        org_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<MemberRow>, StoreError> {
        Ok(memberships::table
            .inner_join(users::table)
            .filter(memberships::org_id.eq(org_id))
            .order(users::email.asc())
            .offset(offset)
            .limit(limit)
            .select(MemberRow::as_select())
            .load(conn)?)
    }

    pub fn count(conn: &mut DbConn, org_id: &str) -> Result<i64, StoreError> {
        Ok(memberships::table
            .filter(memberships::org_id.eq(org_id))
            .count()
            .get_result(conn)?)
    }

    /// One member of the organization.
    pub fn find(
        conn: &mut DbConn,
        org_id: &str,
        user_id: &str,
    ) -> Result<Option<MemberRow>, StoreError> {
        Ok(memberships::table
            .inner_join(users::table)
            .filter(memberships::org_id.eq(org_id))
            .filter(memberships::user_id.eq(user_id))
            .select(MemberRow::as_select())
            .first(conn)
            .optional()?)
    }

    /// The member of the organization with this e-mail.
    pub fn find_by_email(
        conn: &mut DbConn,
        org_id: &str,
        email: &str,
    ) -> Result<Option<MemberRow>, StoreError> {
        Ok(memberships::table
            .inner_join(users::table)
            .filter(memberships::org_id.eq(org_id))
            .filter(users::email.eq(email))
            .select(MemberRow::as_select())
            .first(conn)
            .optional()?)
    }
}

/// Writes on memberships for member management.
pub struct Members;

impl Members {
    /// Take the write lock on the organization's Owner memberships before an Owner check:
    /// a no-op UPDATE, so that on PostgreSQL two concurrent demotions or removals of the last two
    /// Owners queue on the same rows (the second then sees one Owner left); SQLite serializes
    /// writers anyway.
    pub fn lock_owners(conn: &mut DbConn, org_id: &str) -> Result<(), StoreError> {
        diesel::update(
            memberships::table
                .filter(memberships::org_id.eq(org_id))
                .filter(memberships::role.eq(Role::Owner.as_str())),
        )
        .set(memberships::role.eq(Role::Owner.as_str()))
        .execute(conn)?;
        Ok(())
    }

    pub fn count_owners(conn: &mut DbConn, org_id: &str) -> Result<i64, StoreError> {
        Ok(memberships::table
            .filter(memberships::org_id.eq(org_id))
            .filter(memberships::role.eq(Role::Owner.as_str()))
            .count()
            .get_result(conn)?)
    }

    pub fn set_role(
        conn: &mut DbConn,
        org_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            memberships::table
                .filter(memberships::org_id.eq(org_id))
                .filter(memberships::user_id.eq(user_id)),
        )
        .set(memberships::role.eq(role.as_str()))
        .execute(conn)?;
        Ok(n == 1)
    }

    pub fn insert(
        conn: &mut DbConn,
        org_id: &str,
        user_id: &str,
        role: Role,
        at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        diesel::insert_into(memberships::table)
            .values((
                memberships::id.eq(new_id()),
                memberships::org_id.eq(org_id),
                memberships::user_id.eq(user_id),
                memberships::role.eq(role.as_str()),
                memberships::created_at.eq(at),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConn, org_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let n = diesel::delete(
            memberships::table
                .filter(memberships::org_id.eq(org_id))
                .filter(memberships::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Record a sign-in (any new session) for the members page.
    pub fn record_sign_in(
        conn: &mut DbConn,
        user_id: &str,
        at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        diesel::update(users::table.find(user_id))
            .set(users::last_sign_in_at.eq(Some(at)))
            .execute(conn)?;
        Ok(())
    }

    /// End every session of a user (a password reset).
    pub fn end_sessions(conn: &mut DbConn, user_id: &str) -> Result<usize, StoreError> {
        Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?)
    }
}

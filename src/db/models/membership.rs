use crate::db::models::organization::Organization;
use crate::db::schema::{memberships, organizations};
use crate::db::{DbConn, StoreError, new_id, now};
use crate::domain::role::Role;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: NaiveDateTime,
}

impl Membership {
    pub fn role(&self) -> Result<Role, StoreError> {
        Role::parse(&self.role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {:?}", self.role)))
    }

    /// Add or change a user's role in an organization.
    pub fn upsert(
        conn: &mut DbConn,
        org_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<(), StoreError> {
        let updated = diesel::update(
            memberships::table
                .filter(memberships::org_id.eq(org_id))
                .filter(memberships::user_id.eq(user_id)),
        )
        .set(memberships::role.eq(role.as_str()))
        .execute(conn)?;
        if updated == 0 {
            let m = Membership {
                id: new_id(),
                org_id: org_id.to_string(),
                user_id: user_id.to_string(),
                role: role.as_str().to_string(),
                created_at: now(),
            };
            diesel::insert_into(memberships::table)
                .values(&m)
                .execute(conn)?;
        }
        Ok(())
    }

    /// The organization with this slug and the user's role in it; `None` when either the
    /// organization does not exist or the user is not a member (both answer 404).
    pub fn find_for_user(
        conn: &mut DbConn,
        slug: &str,
        user_id: &str,
    ) -> Result<Option<(Organization, Role)>, StoreError> {
        let row: Option<(Organization, String)> = organizations::table
            .inner_join(memberships::table)
            .filter(organizations::slug.eq(slug))
            .filter(memberships::user_id.eq(user_id))
            .select((Organization::as_select(), memberships::role))
            .first(conn)
            .optional()?;
        match row {
            None => Ok(None),
            Some((org, role)) => {
                let role = Role::parse(&role)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?;
                Ok(Some((org, role)))
            }
        }
    }

    /// Organizations of a user, by name.
    pub fn orgs_of_user(
        conn: &mut DbConn,
        user_id: &str,
    ) -> Result<Vec<(Organization, Role)>, StoreError> {
        let rows: Vec<(Organization, String)> = organizations::table
            .inner_join(memberships::table)
            .filter(memberships::user_id.eq(user_id))
            .order(organizations::name.asc())
            .select((Organization::as_select(), memberships::role))
            .load(conn)?;
        rows.into_iter()
            .map(|(o, r)| {
                Role::parse(&r)
                    .map(|r| (o, r))
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown role {r:?}")))
            })
            .collect()
    }
}

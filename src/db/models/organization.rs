use crate::db::schema::organizations;
use crate::db::{DbConn, StoreError, new_id, now};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

impl Organization {
    pub fn create(conn: &mut DbConn, slug: &str, name: &str) -> Result<Organization, StoreError> {
        let org = Organization {
            id: new_id(),
            slug: slug.to_string(),
            name: name.to_string(),
            created_at: now(),
        };
        diesel::insert_into(organizations::table)
            .values(&org)
            .execute(conn)?;
        Ok(org)
    }

    pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> Result<Option<Organization>, StoreError> {
        Ok(organizations::table
            .filter(organizations::slug.eq(slug))
            .select(Organization::as_select())
            .first(conn)
            .optional()?)
    }
}

impl Organization {
    /// The version of the organization's tokens and services, bumped by triggers on every
    /// write (on PostgreSQL at commit time, so the version never runs ahead of the rows it
    /// describes: migration 2026-12-01-000071_tokens_version_at_commit).
    pub fn tokens_version(conn: &mut DbConn, id: &str) -> Result<i64, StoreError> {
        Ok(organizations::table
            .find(id)
            .select(organizations::tokens_version)
            .first(conn)?)
    }
}

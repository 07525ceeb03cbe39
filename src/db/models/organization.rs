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
        if Organization::find_by_slug(conn, slug)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "An organization with the slug {slug:?} already exists."
            )));
        }
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

/// Validate an organization slug: 2–40 of a–z, 0–9 and `-`, not starting or ending with `-`.
pub fn parse_slug(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_ascii_lowercase();
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if s.len() < 2 || s.len() > 40 || !ok_chars || s.starts_with('-') || s.ends_with('-') {
        return Err(
            "Use 2–40 lower-case letters, digits and hyphens (not at the start or end), e.g. acme-corp."
                .into(),
        );
    }
    Ok(s)
}

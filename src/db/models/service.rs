//! Services (applications) that deploy with an organization token. Issue 4 builds their pages;
//! the core needs them to show usage and to refuse deleting a token in use.

use crate::db::schema::services;
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub kind: String,
    pub provider: String,
    pub access: String,
    pub token_id: Option<String>,
    pub repository: String,
    pub branch: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Service {
    pub fn insert(conn: &mut DbConn, s: &Service) -> Result<(), StoreError> {
        diesel::insert_into(services::table)
            .values(s)
            .execute(conn)?;
        Ok(())
    }

    pub fn using_token(conn: &mut DbConn, token_id: &str) -> Result<Vec<Service>, StoreError> {
        Ok(services::table
            .filter(services::token_id.eq(token_id))
            .order(services::name.asc())
            .select(Service::as_select())
            .load(conn)?)
    }

    /// token id → number of services using it, for one organization.
    pub fn usage_counts(
        conn: &mut DbConn,
        org_id: &str,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let ids: Vec<Option<String>> = services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::token_id.is_not_null())
            .select(services::token_id)
            .load(conn)?;
        let mut counts = HashMap::new();
        for id in ids.into_iter().flatten() {
            *counts.entry(id).or_insert(0) += 1;
        }
        Ok(counts)
    }
}

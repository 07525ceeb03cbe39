//! Audit records (DESIGN.md §6): who, when, which org and token, which fields changed — never values.

use crate::db::schema::audit_events;
use crate::db::{DbConn, StoreError, new_id, now};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: String,
    pub org_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    /// JSON object: `{"fields": [...], "status": "...", ...}` — names and outcomes only.
    pub details: String,
    pub created_at: NaiveDateTime,
}

/// Builder for an audit record.
#[derive(Debug, Default, Clone)]
pub struct Audit {
    pub org_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: &'static str,
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    pub details: serde_json::Value,
}

impl Audit {
    pub fn new(action: &'static str) -> Audit {
        Audit {
            action,
            details: serde_json::json!({}),
            ..Default::default()
        }
    }

    pub fn write(self, conn: &mut DbConn) -> Result<(), StoreError> {
        let e = AuditEvent {
            id: new_id(),
            org_id: self.org_id,
            actor_user_id: self.actor_user_id,
            actor_email: self.actor_email,
            action: self.action.to_string(),
            token_id: self.token_id,
            token_name: self.token_name,
            details: self.details.to_string(),
            created_at: now(),
        };
        diesel::insert_into(audit_events::table)
            .values(&e)
            .execute(conn)?;
        Ok(())
    }
}

impl AuditEvent {
    /// Newest first.
    pub fn list_for_org(
        conn: &mut DbConn,
        org_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(audit_events::table
            .filter(audit_events::org_id.eq(org_id))
            .order((audit_events::created_at.desc(), audit_events::id.desc()))
            .limit(limit)
            .select(AuditEvent::as_select())
            .load(conn)?)
    }

    pub fn list_for_token(
        conn: &mut DbConn,
        token_id: &str,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(audit_events::table
            .filter(audit_events::token_id.eq(token_id))
            .order((audit_events::created_at.desc(), audit_events::id.desc()))
            .limit(limit)
            .select(AuditEvent::as_select())
            .load(conn)?)
    }
}

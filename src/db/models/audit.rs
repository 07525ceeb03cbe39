//! Audit records (DESIGN.md §6): who, when, which org and token, which fields changed — never values.

use crate::db::schema::{audit_events, git_tokens};
use crate::db::{DbConn, StoreError, new_id, now};
use crate::domain::audit::AuditAction;
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
    /// The request's client address (see `web::client`); none for system actors.
    pub client_ip: Option<String>,
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
    pub client_ip: Option<String>,
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
        self.write_at(conn, now())
    }

    /// Write the record, dated `at` (the server clock's now).
    pub fn write_at(self, conn: &mut DbConn, at: NaiveDateTime) -> Result<(), StoreError> {
        let e = AuditEvent {
            id: ordered_id(),
            org_id: self.org_id,
            actor_user_id: self.actor_user_id,
            actor_email: self.actor_email,
            action: self.action.to_string(),
            token_id: self.token_id,
            token_name: self.token_name,
            details: self.details.to_string(),
            created_at: at,
            client_ip: self.client_ip,
        };
        diesel::insert_into(audit_events::table)
            .values(&e)
            .execute(conn)?;
        Ok(())
    }
}

fn parse_action(s: &str) -> Result<AuditAction, StoreError> {
    AuditAction::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown audit action {s:?}")))
}

/// A unique id that sorts by creation time (microseconds, then random): `created_at` has whole
/// seconds only, so the id breaks ties and keeps the trail in the order things happened.
fn ordered_id() -> String {
    let micros = chrono::Utc::now().timestamp_micros().max(0);
    format!("{micros:016x}-{}", new_id())
}

impl AuditEvent {
    /// The recorded action; one this version does not know is an error, never a default.
    pub fn action(&self) -> Result<AuditAction, StoreError> {
        parse_action(&self.action)
    }

    /// The recorded client address; one that does not parse is an error, never dropped.
    pub fn client_ip(&self) -> Result<Option<std::net::IpAddr>, StoreError> {
        self.client_ip
            .as_deref()
            .map(|s| {
                s.parse()
                    .map_err(|_| StoreError::Corrupt(format!("audit client address {s:?}")))
            })
            .transpose()
    }

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
        // Releases to builds are summed up on the token page ("Services that fetched it") and
        // listed in the audit trail; the token's history lists its changes and tests.
        Ok(audit_events::table
            .filter(audit_events::token_id.eq(token_id))
            .filter(audit_events::action.ne("credentials.release"))
            .order((audit_events::created_at.desc(), audit_events::id.desc()))
            .limit(limit)
            .select(AuditEvent::as_select())
            .load(conn)?)
    }
}

/// Filters of the organization audit page (`?actor=&action=&token_id=`).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exact actor e-mail.
    pub actor: Option<String>,
    /// Exact action, e.g. `token.rotate`.
    pub action: Option<String>,
    pub token_id: Option<String>,
    /// Text anywhere in the actor, action, token name or details (lowercase; case-insensitive).
    pub text: Option<String>,
    /// Recorded at or after this instant.
    pub since: Option<chrono::NaiveDateTime>,
    /// Recorded before this instant.
    pub before: Option<chrono::NaiveDateTime>,
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);

impl AuditEvent {
    fn filtered<'a>(
        org_id: &'a str,
        f: &'a AuditFilter,
    ) -> audit_events::BoxedQuery<'a, crate::db::MultiBackend> {
        let mut q = audit_events::table
            .filter(audit_events::org_id.eq(org_id))
            .into_boxed();
        if let Some(a) = f.actor.as_deref() {
            q = q.filter(audit_events::actor_email.eq(a));
        }
        if let Some(a) = f.action.as_deref() {
            q = q.filter(audit_events::action.eq(a));
        }
        if let Some(t) = f.token_id.as_deref() {
            q = q.filter(audit_events::token_id.eq(t));
        }
        if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
            let pattern = format!(
                "%{}%",
                text.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            q = q.filter(
                lower(audit_events::actor_email)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(audit_events::token_name)
                        .like(pattern.clone())
                        .escape('\\'))
                    .or(lower(audit_events::action.nullable())
                        .like(pattern.clone())
                        .escape('\\'))
                    .or(lower(audit_events::details.nullable())
                        .like(pattern)
                        .escape('\\')),
            );
        }
        if let Some(t) = f.since {
            q = q.filter(audit_events::created_at.ge(t));
        }
        if let Some(t) = f.before {
            q = q.filter(audit_events::created_at.lt(t));
        }
        q
    }

    /// One page of an organization's events, newest first, and the total matching.
    pub fn search(
        conn: &mut DbConn,
        org_id: &str,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditEvent>, i64), StoreError> {
        let total: i64 = AuditEvent::filtered(org_id, filter)
            .count()
            .get_result(conn)?;
        let rows = AuditEvent::filtered(org_id, filter)
            .order((audit_events::created_at.desc(), audit_events::id.desc()))
            .offset(offset)
            .limit(limit)
            .select(AuditEvent::as_select())
            .load(conn)?;
        Ok((rows, total))
    }

    /// Events of an organization matching the filter, counted by the database.
    pub fn count(conn: &mut DbConn, org_id: &str, filter: &AuditFilter) -> Result<i64, StoreError> {
        Ok(AuditEvent::filtered(org_id, filter)
            .count()
            .get_result(conn)?)
    }

    /// Distinct actor e-mails of an organization's events, sorted (filter choices).
    pub fn actors(conn: &mut DbConn, org_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<Option<String>> = audit_events::table
            .filter(audit_events::org_id.eq(org_id))
            .filter(audit_events::actor_email.is_not_null())
            .select(audit_events::actor_email)
            .distinct()
            .order(audit_events::actor_email.asc())
            .load(conn)?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// Distinct actions of an organization's events (filter choices).
    pub fn actions(conn: &mut DbConn, org_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(audit_events::table
            .filter(audit_events::org_id.eq(org_id))
            .select(audit_events::action)
            .distinct()
            .order(audit_events::action.asc())
            .load(conn)?)
    }

    /// [`AuditEvent::actions`], typed.
    pub fn typed_actions(conn: &mut DbConn, org_id: &str) -> Result<Vec<AuditAction>, StoreError> {
        AuditEvent::actions(conn, org_id)?
            .iter()
            .map(|a| parse_action(a))
            .collect()
    }

    /// Tokens named in an organization's events, deleted ones included: (id, a recorded name).
    pub fn tokens(conn: &mut DbConn, org_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(Option<String>, Option<String>)> = audit_events::table
            .filter(audit_events::org_id.eq(org_id))
            .filter(audit_events::token_id.is_not_null())
            .group_by(audit_events::token_id)
            .select((
                audit_events::token_id,
                diesel::dsl::max(audit_events::token_name),
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| id.map(|id| (id, name.unwrap_or_default())))
            .collect())
    }

    /// The current names of the organization's tokens that its events name and that still
    /// exist: (id, name). A projection of the token rows (no ciphertext) limited by a
    /// sub-select of the trail, so only the tokens the trail's filter can offer are read.
    pub fn live_tokens(
        conn: &mut DbConn,
        org_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let named = audit_events::table
            .filter(audit_events::org_id.eq(org_id))
            .filter(audit_events::token_id.is_not_null())
            .select(audit_events::token_id);
        Ok(git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .filter(git_tokens::id.nullable().eq_any(named))
            .select((git_tokens::id, git_tokens::name))
            .load(conn)?)
    }
}

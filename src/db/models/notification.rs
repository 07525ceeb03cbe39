//! Organization webhook settings and the record of every notification (sent once per key).

use crate::db::schema::{notification_deliveries, notification_settings};
use crate::db::{DbConn, StoreError, new_id};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = notification_settings)]
pub struct NotificationSettings {
    pub org_id: String,
    /// Slack-compatible incoming-webhook URL. Shown masked on the page; never in audit or logs.
    pub webhook_url: String,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl NotificationSettings {
    pub fn find(
        conn: &mut DbConn,
        org_id: &str,
    ) -> Result<Option<NotificationSettings>, StoreError> {
        Ok(notification_settings::table
            .find(org_id)
            .select(NotificationSettings::as_select())
            .first(conn)
            .optional()?)
    }

    /// Insert or replace the organization's settings (portable: delete + insert in the caller's
    /// transaction).
    pub fn save(conn: &mut DbConn, s: &NotificationSettings) -> Result<(), StoreError> {
        diesel::delete(notification_settings::table.find(&s.org_id)).execute(conn)?;
        diesel::insert_into(notification_settings::table)
            .values(s)
            .execute(conn)?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConn, org_id: &str) -> Result<bool, StoreError> {
        Ok(diesel::delete(notification_settings::table.find(org_id)).execute(conn)? > 0)
    }

    /// Every organization with a webhook.
    pub fn all(conn: &mut DbConn) -> Result<Vec<NotificationSettings>, StoreError> {
        Ok(notification_settings::table
            .select(NotificationSettings::as_select())
            .load(conn)?)
    }
}

/// Delivery states.
pub mod state {
    /// Created, not tried yet.
    pub const PENDING: &str = "pending";
    /// Tried and failed; tried again on a later scheduler run.
    pub const RETRYING: &str = "retrying";
    pub const SENT: &str = "sent";
    /// Given up (blocked address, no webhook, or too many attempts).
    pub const FAILED: &str = "failed";
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notification_deliveries)]
pub struct Delivery {
    pub id: String,
    pub org_id: String,
    pub token_id: Option<String>,
    pub kind: String,
    pub dedup_key: String,
    pub message: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

impl Delivery {
    pub fn new(
        org_id: &str,
        token_id: Option<&str>,
        kind: &str,
        dedup_key: String,
        message: String,
        now: NaiveDateTime,
    ) -> Delivery {
        Delivery {
            id: new_id(),
            org_id: org_id.to_string(),
            token_id: token_id.map(str::to_string),
            kind: kind.to_string(),
            dedup_key,
            message,
            state: state::PENDING.to_string(),
            attempts: 0,
            last_error: None,
            next_attempt_at: now,
            created_at: now,
            sent_at: None,
        }
    }

    /// Record a delivery unless one with the same key exists. Returns whether it was new.
    pub fn insert_once(conn: &mut DbConn, d: &Delivery) -> Result<bool, StoreError> {
        let exists: i64 = notification_deliveries::table
            .filter(notification_deliveries::dedup_key.eq(&d.dedup_key))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(false);
        }
        match diesel::insert_into(notification_deliveries::table)
            .values(d)
            .execute(conn)
        {
            Ok(_) => Ok(true),
            // A concurrent insert of the same key (the unique index decides).
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Deliveries waiting to be (re)tried for an organization, oldest first.
    pub fn due(
        conn: &mut DbConn,
        org_id: &str,
        now: NaiveDateTime,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(notification_deliveries::table
            .filter(notification_deliveries::org_id.eq(org_id))
            .filter(notification_deliveries::state.eq_any([state::PENDING, state::RETRYING]))
            .filter(notification_deliveries::next_attempt_at.le(now))
            .order((
                notification_deliveries::created_at.asc(),
                notification_deliveries::id.asc(),
            ))
            .select(Delivery::as_select())
            .load(conn)?)
    }

    /// Store the outcome of a send attempt (or attempts).
    pub fn record(
        conn: &mut DbConn,
        id: &str,
        new_state: &str,
        attempts: i64,
        error: Option<&str>,
        next_attempt_at: NaiveDateTime,
        sent_at: Option<NaiveDateTime>,
    ) -> Result<(), StoreError> {
        diesel::update(notification_deliveries::table.find(id))
            .set((
                notification_deliveries::state.eq(new_state),
                notification_deliveries::attempts.eq(attempts),
                notification_deliveries::last_error.eq(error),
                notification_deliveries::next_attempt_at.eq(next_attempt_at),
                notification_deliveries::sent_at.eq(sent_at),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Newest first, for the settings page.
    pub fn recent(
        conn: &mut DbConn,
        org_id: &str,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(notification_deliveries::table
            .filter(notification_deliveries::org_id.eq(org_id))
            .order((
                notification_deliveries::created_at.desc(),
                notification_deliveries::id.desc(),
            ))
            .limit(limit)
            .select(Delivery::as_select())
            .load(conn)?)
    }

    pub fn list_for_org(conn: &mut DbConn, org_id: &str) -> Result<Vec<Delivery>, StoreError> {
        Ok(notification_deliveries::table
            .filter(notification_deliveries::org_id.eq(org_id))
            .order((
                notification_deliveries::created_at.asc(),
                notification_deliveries::id.asc(),
            ))
            .select(Delivery::as_select())
            .load(conn)?)
    }
}

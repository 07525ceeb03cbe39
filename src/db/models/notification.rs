//! Organization webhook settings and the record of every notification (sent once per key).

use crate::db::schema::organizations;
use crate::db::schema::{notification_deliveries, notification_settings};
use crate::db::{DbConn, StoreError, new_id};
use crate::domain::ids::TokenId;
use crate::domain::notification::{DeliveryEntry, DeliveryState, DueDelivery, NotificationKind};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = notification_settings, treat_none_as_null = true)]
pub struct NotificationSettings {
    pub org_id: String,
    /// The Slack-compatible incoming-webhook URL, sealed under a master key like a token
    /// (`app::keys`; bound to the organization). NULL only on a row an older version wrote,
    /// until the next start seals it.
    pub webhook_secret: Option<Vec<u8>>,
    pub webhook_key_id: Option<String>,
    /// What pages show: `https://hooks.example.com/…`.
    pub webhook_url_hint: String,
    /// The plain URL an older version stored; sealed and cleared at start
    /// (`app::keys::legacy`).
    pub legacy_webhook_url: Option<String>,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl std::fmt::Debug for NotificationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL works like a password: never in a log line.
        f.debug_struct("NotificationSettings")
            .field("org_id", &self.org_id)
            .field("webhook_key_id", &self.webhook_key_id)
            .field("webhook_url_hint", &self.webhook_url_hint)
            .finish_non_exhaustive()
    }
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

    /// Plain URLs an older version stored: `(org id, url)`.
    pub fn legacy(conn: &mut DbConn) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, Option<String>)> = notification_settings::table
            .filter(notification_settings::legacy_webhook_url.is_not_null())
            .select((
                notification_settings::org_id,
                notification_settings::legacy_webhook_url,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(org, url)| Some((org, url?)))
            .collect())
    }

    /// Replace a plain URL with its sealed form, if the row still holds that URL.
    pub fn seal_legacy(
        conn: &mut DbConn,
        org_id: &str,
        url: &str,
        sealed: &[u8],
        key_id: &str,
        hint: &str,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            notification_settings::table
                .filter(notification_settings::org_id.eq(org_id))
                .filter(notification_settings::legacy_webhook_url.eq(url)),
        )
        .set((
            notification_settings::webhook_secret.eq(Some(sealed)),
            notification_settings::webhook_key_id.eq(Some(key_id)),
            notification_settings::webhook_url_hint.eq(hint),
            notification_settings::legacy_webhook_url.eq(None::<String>),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Sealed URLs under another key than `key_id`: `(org id, key id, ciphertext)`.
    pub fn sealed_not_under(
        conn: &mut DbConn,
        key_id: &str,
    ) -> Result<Vec<(String, String, Vec<u8>)>, StoreError> {
        let rows: Vec<(String, Option<String>, Option<Vec<u8>>)> = notification_settings::table
            .filter(notification_settings::webhook_key_id.ne(key_id))
            .select((
                notification_settings::org_id,
                notification_settings::webhook_key_id,
                notification_settings::webhook_secret,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(org, kid, blob)| Some((org, kid?, blob?)))
            .collect())
    }

    /// Store a re-sealed URL if the row still holds the ciphertext `old` (compare-and-swap).
    pub fn reseal(
        conn: &mut DbConn,
        org_id: &str,
        old: &[u8],
        sealed: &[u8],
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            notification_settings::table
                .filter(notification_settings::org_id.eq(org_id))
                .filter(notification_settings::webhook_secret.eq(old)),
        )
        .set((
            notification_settings::webhook_secret.eq(Some(sealed)),
            notification_settings::webhook_key_id.eq(Some(key_id)),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    pub fn delete(conn: &mut DbConn, org_id: &str) -> Result<bool, StoreError> {
        Ok(diesel::delete(notification_settings::table.find(org_id)).execute(conn)? > 0)
    }

    /// Every organization with a webhook, with its slug and name (for the messages).
    pub fn with_orgs(
        conn: &mut DbConn,
    ) -> Result<Vec<(NotificationSettings, String, String)>, StoreError> {
        let settings: Vec<NotificationSettings> = notification_settings::table
            .select(NotificationSettings::as_select())
            .load(conn)?;
        let ids: Vec<&str> = settings.iter().map(|s| s.org_id.as_str()).collect();
        let orgs: std::collections::HashMap<String, (String, String)> = organizations::table
            .filter(organizations::id.eq_any(ids))
            .select((organizations::id, organizations::slug, organizations::name))
            .load::<(String, String, String)>(conn)?
            .into_iter()
            .map(|(id, slug, name)| (id, (slug, name)))
            .collect();
        Ok(settings
            .into_iter()
            .filter_map(|s| {
                let (slug, name) = orgs.get(&s.org_id)?.clone();
                Some((s, slug, name))
            })
            .collect())
    }
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
        kind: NotificationKind,
        dedup_key: String,
        message: String,
        now: NaiveDateTime,
    ) -> Delivery {
        Delivery {
            id: new_id(),
            org_id: org_id.to_string(),
            token_id: token_id.map(str::to_string),
            kind: kind.as_str().to_string(),
            dedup_key,
            message,
            state: DeliveryState::Pending.as_str().to_string(),
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

    /// Up to `limit` deliveries waiting to be (re)tried for an organization, oldest first,
    /// after the `(created_at, id)` of the previous chunk's last row (keyset paging: each is
    /// visited once per pass, even one that stays due after a failed attempt). The message is
    /// the only large column read.
    pub fn due_chunk(
        conn: &mut DbConn,
        org_id: &str,
        now: NaiveDateTime,
        after: Option<(NaiveDateTime, &str)>,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let due = [DeliveryState::Pending, DeliveryState::Retrying].map(DeliveryState::as_str);
        let mut q = notification_deliveries::table
            .filter(notification_deliveries::org_id.eq(org_id))
            .filter(notification_deliveries::state.eq_any(due))
            .filter(notification_deliveries::next_attempt_at.le(now))
            .into_boxed();
        if let Some((at, id)) = after {
            q = q.filter(
                notification_deliveries::created_at
                    .gt(at)
                    .or(notification_deliveries::created_at
                        .eq(at)
                        .and(notification_deliveries::id.gt(id.to_string()))),
            );
        }
        q.order((
            notification_deliveries::created_at.asc(),
            notification_deliveries::id.asc(),
        ))
        .limit(limit)
        .select(DueRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DueDelivery::try_from)
        .collect()
    }

    /// Store the outcome of a send attempt (or attempts).
    pub fn record(
        conn: &mut DbConn,
        id: &str,
        new_state: DeliveryState,
        attempts: i64,
        error: Option<&str>,
        next_attempt_at: NaiveDateTime,
        sent_at: Option<NaiveDateTime>,
    ) -> Result<(), StoreError> {
        diesel::update(notification_deliveries::table.find(id))
            .set((
                notification_deliveries::state.eq(new_state.as_str()),
                notification_deliveries::attempts.eq(attempts),
                notification_deliveries::last_error.eq(error),
                notification_deliveries::next_attempt_at.eq(next_attempt_at),
                notification_deliveries::sent_at.eq(sent_at),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// The newest `limit` deliveries of an organization, for the settings page: only the
    /// columns it shows.
    pub fn recent(
        conn: &mut DbConn,
        org_id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryEntry>, StoreError> {
        notification_deliveries::table
            .filter(notification_deliveries::org_id.eq(org_id))
            .order((
                notification_deliveries::created_at.desc(),
                notification_deliveries::id.desc(),
            ))
            .limit(limit)
            .select(EntryRow::as_select())
            .load(conn)?
            .into_iter()
            .map(DeliveryEntry::try_from)
            .collect()
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

/// The columns of a delivery the settings page shows.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_deliveries)]
pub struct EntryRow {
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// The columns of a delivery that sending needs.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notification_deliveries)]
pub struct DueRow {
    pub id: String,
    pub token_id: Option<String>,
    pub kind: String,
    pub message: String,
    pub attempts: i64,
    pub created_at: NaiveDateTime,
}

fn kind_of(s: &str) -> Result<NotificationKind, StoreError> {
    NotificationKind::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown notification kind {s:?}")))
}

fn state_of(s: &str) -> Result<DeliveryState, StoreError> {
    DeliveryState::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state {s:?}")))
}

impl TryFrom<EntryRow> for DeliveryEntry {
    type Error = StoreError;

    fn try_from(r: EntryRow) -> Result<DeliveryEntry, StoreError> {
        Ok(DeliveryEntry {
            kind: kind_of(&r.kind)?,
            state: state_of(&r.state)?,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}

impl TryFrom<DueRow> for DueDelivery {
    type Error = StoreError;

    fn try_from(r: DueRow) -> Result<DueDelivery, StoreError> {
        Ok(DueDelivery {
            kind: kind_of(&r.kind)?,
            id: r.id,
            token_id: r.token_id.map(TokenId::new),
            message: r.message,
            attempts: r.attempts,
            created_at: r.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_state_or_kind_is_corrupt_not_a_default() {
        let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let row = |kind: &str, state: &str| EntryRow {
            kind: kind.into(),
            state: state.into(),
            attempts: 1,
            last_error: None,
            created_at: at,
            sent_at: None,
        };
        let ok = DeliveryEntry::try_from(row("status", "retrying")).map(|e| (e.kind, e.state));
        assert!(matches!(
            ok,
            Ok((NotificationKind::Status, DeliveryState::Retrying))
        ));
        assert!(matches!(
            DeliveryEntry::try_from(row("status", "lost")),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            DeliveryEntry::try_from(row("email", "sent")),
            Err(StoreError::Corrupt(_))
        ));
    }
}

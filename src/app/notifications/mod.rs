//! Webhook notifications of the expiry watch (Slack-compatible `{"text": "…"}`): the
//! organization's settings (the notifications page), and what each scheduler run sends
//! ([`deliver`]). The scheduler calls in here; nothing here calls the scheduler.

pub mod deliver;
pub mod key_expiry;
pub mod messages;

use super::audit::Record;
use super::{Error, require};
use crate::app::state::AppState;
use crate::crypto::secret_box::CryptoError;
use crate::db::DbConn;
use crate::db::models::notification::{Delivery, NotificationSettings};
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::notification::{DeliveryEntry, DeliveryState, NotificationKind};
use crate::domain::role::Permission;
use crate::providers::webhook::{WebhookError, describe_url};
use chrono::NaiveDateTime;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// How many deliveries the settings page lists.
pub const RECENT: i64 = 20;

/// The organization's webhook as the page may show it.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Origin only (`https://hooks.slack.com/…`): the rest works like a password.
    pub masked: String,
    pub updated_at: NaiveDateTime,
    pub updated_by: Option<String>,
}

/// Everything the notifications page shows.
#[derive(Debug, Clone)]
pub struct Overview {
    pub webhook: Option<Webhook>,
    /// The newest [`RECENT`] deliveries, newest first.
    pub recent: Vec<DeliveryEntry>,
    /// The scheduler's period (`None`: off).
    pub recheck_interval: Option<Duration>,
    /// Days before expiry that warnings are sent.
    pub warn_days: Vec<i64>,
}

/// What became of a save.
#[derive(Debug, Clone)]
pub enum Saved {
    Saved,
    /// The URL is malformed, or the outbound policy refuses its destination: nothing saved.
    Refused(WebhookError),
}

/// What became of a remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    Removed,
    /// There was no webhook.
    NoneSet,
}

/// What became of a test message.
#[derive(Debug, Clone)]
pub enum TestSent {
    /// The webhook answered with this 2xx status.
    Delivered {
        status: u16,
    },
    NotDelivered(WebhookError),
    /// No webhook is saved: nothing was sent.
    NoWebhook,
}

/// The notifications page: the masked webhook, the recent deliveries and the schedule.
pub async fn settings(state: &AppState, member: &Member) -> Result<Overview, Error> {
    require(member, Permission::ManageNotifications)?;
    let org = member.org.id.clone();
    let (settings, recent) = state
        .db(move |conn| {
            Ok((
                NotificationSettings::find(conn, org.as_str())?,
                Delivery::recent(conn, org.as_str(), RECENT)?,
            ))
        })
        .await?;
    Ok(Overview {
        webhook: settings.map(|s| Webhook {
            masked: s.webhook_url_hint.clone(),
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        }),
        recent,
        recheck_interval: state.config.recheck_interval,
        warn_days: state.config.expiry_warn_days.clone(),
    })
}

/// Save the organization's webhook URL after checking it against the outbound policy (DNS
/// answers included). Audited without the value.
pub async fn save_webhook(state: &AppState, member: &Member, url: &str) -> Result<Saved, Error> {
    require(member, Permission::ManageNotifications)?;
    let url = match state.providers.check_webhook_url(url).await {
        Ok(u) => u,
        Err(e) => return Ok(Saved::Refused(e)),
    };
    let (m, st) = (member.clone(), state.clone());
    let at = state.clock.naive();
    let hint = describe_url(url.as_str());
    let plain = SecretString::from(url.to_string());
    state
        .tx(move |conn| {
            let org = m.org.id.as_str().to_string();
            // Sealed like a token (the path is the webhook's secret); pages show the hint.
            let (sealed, key_id) = st.seal_webhook(conn, &org, &plain)?;
            NotificationSettings::save(
                conn,
                &NotificationSettings {
                    org_id: org,
                    webhook_secret: Some(sealed),
                    webhook_key_id: Some(key_id),
                    webhook_url_hint: hint,
                    legacy_webhook_url: None,
                    updated_by: Some(m.user.email.clone()),
                    updated_at: at,
                },
            )?;
            Record::by(&m, AuditAction::NotificationsUpdate)
                .details(AuditDetails::fields(["webhook_url"]))
                .write(conn, at)
        })
        .await?;
    Ok(Saved::Saved)
}

/// Remove the organization's webhook: nothing is sent any more.
pub async fn remove_webhook(state: &AppState, member: &Member) -> Result<Removed, Error> {
    require(member, Permission::ManageNotifications)?;
    let m = member.clone();
    let at = state.clock.naive();
    state
        .tx(move |conn| {
            if !NotificationSettings::delete(conn, m.org.id.as_str())? {
                return Ok(Removed::NoneSet);
            }
            Record::by(&m, AuditAction::NotificationsRemove)
                .details(AuditDetails::fields(["webhook_url"]))
                .write(conn, at)?;
            Ok(Removed::Removed)
        })
        .await
}

/// Send one test message to the saved webhook now, and record it (a delivery row and an audit
/// record with the result).
pub async fn send_test(state: &AppState, member: &Member) -> Result<TestSent, Error> {
    require(member, Permission::ManageNotifications)?;
    let org = member.org.id.clone();
    let saved = state
        .db(move |conn| Ok(NotificationSettings::find(conn, org.as_str())?))
        .await?;
    let Some(saved) = saved else {
        return Ok(TestSent::NoWebhook);
    };
    let text = messages::test(&member.org.name, &member.user.email);
    let url = open_url(state, &saved).ok_or(Error::Crypto(CryptoError::Open))?;
    let result = state
        .providers
        .send_webhook(url.expose_secret(), &text)
        .await;
    let (m, r) = (member.clone(), result.clone());
    let at = state.clock.naive();
    state
        .tx(move |conn| {
            record_test_delivery(conn, &m, text, &r, at)?;
            Record::by(&m, AuditAction::NotificationsTest)
                .details(AuditDetails {
                    result: Some(if r.is_ok() { "sent" } else { "failed" }.into()),
                    ..AuditDetails::default()
                })
                .write(conn, at)
        })
        .await?;
    Ok(match result {
        Ok(status) => TestSent::Delivered { status },
        Err(e) => TestSent::NotDelivered(e),
    })
}

fn record_test_delivery(
    conn: &mut DbConn,
    member: &Member,
    text: String,
    r: &Result<u16, WebhookError>,
    at: NaiveDateTime,
) -> Result<(), Error> {
    let mut d = Delivery::new(
        member.org.id.as_str(),
        None,
        NotificationKind::Test,
        format!("test:{}", crate::db::new_id()),
        text,
        at,
    );
    d.attempts = 1;
    match r {
        Ok(_) => {
            d.state = DeliveryState::Sent.as_str().into();
            d.sent_at = Some(at);
        }
        Err(e) => {
            d.state = DeliveryState::Failed.as_str().into();
            d.last_error = Some(e.to_string());
        }
    }
    Delivery::insert_once(conn, &d)?;
    Ok(())
}

/// The saved webhook URL, decrypted; `None` (logged) if it cannot be (a key file without its
/// key, a damaged row, or a plain row not yet sealed at start).
pub(crate) fn open_url(state: &AppState, s: &NotificationSettings) -> Option<SecretString> {
    let (Some(key_id), Some(blob)) = (&s.webhook_key_id, &s.webhook_secret) else {
        tracing::error!(org_id = %s.org_id, "the webhook URL is not sealed yet (restart the server to seal it)");
        return None;
    };
    match state.open_webhook(&s.org_id, key_id, blob) {
        Ok(url) => Some(url),
        Err(e) => {
            tracing::error!(org_id = %s.org_id, key_id = %key_id, error = %e, "the webhook URL cannot be decrypted");
            None
        }
    }
}

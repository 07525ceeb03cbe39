//! Webhook notifications of the expiry watch (Slack-compatible `{"text": "…"}`).
//!
//! After each scheduler run:
//! - **Expiry warnings**: for every token with a known expiry, the smallest threshold of
//!   `FORGEKEYS_EXPIRY_WARN_DAYS` (default 30, 14, 7, 1) that the time left has reached. Key
//!   `expiry:<token>:<expiry>:<days>`: sent once per threshold and expiry date (a rotated token
//!   with a new expiry starts over). Thresholds passed while no webhook was set are not sent
//!   late: only the current one is.
//! - **Status turned bad**: a test whose status differs from the previous one and is anything
//!   but `valid` / `not_tested`. Key `status:<token>:<history row>`: sent once.
//!
//! Each notification is a `notification_deliveries` row before anything is sent. Sending tries
//! [`ATTEMPTS_PER_RUN`] times with 1 s then 2 s between attempts; if all fail the row is
//! `retrying` and the next scheduler runs try again, until [`MAX_ATTEMPTS`] attempts in all
//! (then `failed`). A blocked destination (outbound policy) is `failed` at once, with the
//! reason, and nothing is sent. Messages name the token, its provider, organization and a link
//! — never a secret, never the webhook URL.

use crate::db::models::notification::{Delivery, NotificationSettings, state};
use crate::db::models::organization::Organization;
use crate::db::schema::organizations;
use crate::db::{DbConn, StoreError};
use crate::domain::test_result::TestStatus;
use crate::providers::webhook::WebhookError;
use crate::scheduler::{Checked, SchedulerError};
use crate::state::AppState;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;
use std::time::Duration;

/// Attempts within one run.
pub const ATTEMPTS_PER_RUN: i64 = 3;
/// Attempts in all before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 9;

/// Counts of one sending pass.
#[derive(Debug, Default, Clone)]
pub struct SendReport {
    pub created: usize,
    pub sent: usize,
    /// Will be retried on a later run.
    pub retrying: usize,
    /// Given up (blocked or too many attempts).
    pub failed: usize,
}

/// Escape text for Slack's message format (`&`, `<`, `>`).
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn is_bad(s: TestStatus) -> bool {
    !matches!(s, TestStatus::Valid | TestStatus::NotTested)
}

/// The smallest threshold (days) reached by an expiry, if any; none once expired.
pub fn threshold_reached(
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
    thresholds: &[i64],
) -> Option<i64> {
    let left = expires_at - now;
    if left <= chrono::Duration::zero() {
        return None;
    }
    thresholds
        .iter()
        .copied()
        .filter(|d| left <= chrono::Duration::days(*d))
        .min()
}

fn token_link(state: &AppState, slug: &str, token_id: &str) -> String {
    format!(
        "{}/orgs/{slug}/settings/git-tokens/{token_id}",
        state.config.base_url
    )
}

/// Create the deliveries a run calls for, then send everything due.
pub async fn after_run(
    state: &AppState,
    checked: &[Checked],
) -> Result<SendReport, SchedulerError> {
    let n = state.clock.naive();
    let thresholds = state.config.expiry_warn_days.clone();
    let mut wanted = Vec::new();
    let orgs = load_orgs(state).await?;
    for c in checked {
        let t = &c.recorded.token;
        let Some((org, _)) = orgs.get(&t.org_id) else {
            continue;
        };
        let provider = t.provider().label();
        let name = slack_escape(&t.name);
        let org_name = slack_escape(&org.name);
        let link = token_link(state, &org.slug, &t.id);
        if let Some(exp) = t.expires_at {
            if let Some(days) = threshold_reached(exp, n, &thresholds) {
                let left = exp - n;
                let when = if left < chrono::Duration::days(1) {
                    "in less than a day".to_string()
                } else {
                    let d = left.num_days();
                    format!("in {d} day{}", if d == 1 { "" } else { "s" })
                };
                wanted.push(Delivery::new(
                    &t.org_id,
                    Some(&t.id),
                    "expiry",
                    format!("expiry:{}:{}:{days}", t.id, exp.format("%Y-%m-%dT%H:%M:%S")),
                    format!(
                        "Forgekeys: the {provider} token “{name}” of {org_name} expires {when} \
                         (on {}). Rotate it before then: {link}",
                        exp.format("%Y-%m-%d")
                    ),
                    n,
                ));
            }
        }
        let new = c.outcome.status;
        let previous = TestStatus::parse(&c.recorded.previous_status);
        if is_bad(new) && previous != Some(new) {
            let was = previous.map(|p| p.label()).unwrap_or("unknown");
            let missing = if new == TestStatus::MissingPermissions {
                format!(
                    " (missing: {})",
                    slack_escape(
                        &c.outcome
                            .missing
                            .iter()
                            .map(|m| m.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                )
            } else {
                String::new()
            };
            wanted.push(Delivery::new(
                &t.org_id,
                Some(&t.id),
                "status",
                format!("status:{}:{}", t.id, c.recorded.history_id),
                format!(
                    "Forgekeys: the {provider} token “{name}” of {org_name} is now {}{missing} \
                     (was {was}). Services that use it may fail to deploy. Details: {link}",
                    new.label()
                ),
                n,
            ));
        }
    }
    let mut report = SendReport::default();
    let with_webhook: HashMap<String, String> = orgs
        .iter()
        .filter_map(|(id, (_, s))| s.as_ref().map(|s| (id.clone(), s.webhook_url.clone())))
        .collect();
    // Only organizations with a webhook get deliveries.
    let wanted: Vec<Delivery> = wanted
        .into_iter()
        .filter(|d| with_webhook.contains_key(&d.org_id))
        .collect();
    let st = state.clone();
    report.created = tokio::task::spawn_blocking(move || -> Result<usize, StoreError> {
        let mut conn = st.conn()?;
        let mut created = 0;
        for d in &wanted {
            if Delivery::insert_once(&mut conn, d)? {
                created += 1;
            }
        }
        Ok(created)
    })
    .await??;
    for (org_id, url) in with_webhook {
        let r = send_due(state, &org_id, &url).await?;
        report.sent += r.sent;
        report.retrying += r.retrying;
        report.failed += r.failed;
    }
    Ok(report)
}

type OrgMap = HashMap<String, (Organization, Option<NotificationSettings>)>;

async fn load_orgs(state: &AppState) -> Result<OrgMap, SchedulerError> {
    let st = state.clone();
    Ok(
        tokio::task::spawn_blocking(move || -> Result<OrgMap, StoreError> {
            let mut conn = st.conn()?;
            let orgs: Vec<Organization> = organizations::table
                .select(Organization::as_select())
                .load(&mut conn)?;
            let mut settings: HashMap<String, NotificationSettings> =
                NotificationSettings::all(&mut conn)?
                    .into_iter()
                    .map(|s| (s.org_id.clone(), s))
                    .collect();
            Ok(orgs
                .into_iter()
                .map(|o| {
                    let s = settings.remove(&o.id);
                    (o.id.clone(), (o, s))
                })
                .collect())
        })
        .await??,
    )
}

/// Send an organization's due deliveries to its webhook.
pub async fn send_due(
    state: &AppState,
    org_id: &str,
    webhook_url: &str,
) -> Result<SendReport, SchedulerError> {
    let st = state.clone();
    let oid = org_id.to_string();
    let now = state.clock.naive();
    let due = tokio::task::spawn_blocking(move || {
        let mut conn = st.conn()?;
        Delivery::due(&mut conn, &oid, now)
    })
    .await??;
    let mut report = SendReport::default();
    for d in due {
        let (result, tries) = send_with_retries(state, webhook_url, &d.message).await;
        let attempts = d.attempts + tries;
        let (new_state, error) = match &result {
            Ok(_) => (state::SENT, None),
            Err(e) if e.is_retryable() && attempts < MAX_ATTEMPTS => {
                (state::RETRYING, Some(e.to_string()))
            }
            Err(e) => (state::FAILED, Some(e.to_string())),
        };
        match new_state {
            state::SENT => report.sent += 1,
            state::RETRYING => report.retrying += 1,
            _ => report.failed += 1,
        }
        if let Some(e) = &error {
            tracing::warn!(delivery = %d.id, kind = %d.kind, attempts, "webhook notification not delivered: {e}");
        }
        let st = state.clone();
        let id = d.id.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = st.conn()?;
            let n = st.clock.naive();
            Delivery::record(
                &mut conn,
                &id,
                new_state,
                attempts,
                error.as_deref(),
                n,
                (new_state == state::SENT).then_some(n),
            )
        })
        .await??;
    }
    Ok(report)
}

/// Up to [`ATTEMPTS_PER_RUN`] attempts, 1 s then 2 s apart; stops at success or a
/// non-retryable error. Returns the last result and the number of attempts made.
pub async fn send_with_retries(
    state: &AppState,
    webhook_url: &str,
    text: &str,
) -> (Result<u16, WebhookError>, i64) {
    let mut tries = 0;
    let mut delay = Duration::from_secs(1);
    loop {
        tries += 1;
        let r = state.providers.send_webhook(webhook_url, text).await;
        match &r {
            Err(e) if e.is_retryable() && tries < ATTEMPTS_PER_RUN => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            _ => return (r, tries),
        }
    }
}

/// Send one test message now (settings page) and record it. Returns the result in words.
pub async fn send_test(
    state: &AppState,
    org: &Organization,
    webhook_url: &str,
    actor_email: &str,
) -> Result<Result<u16, WebhookError>, StoreError> {
    let text = format!(
        "Forgekeys: test message for {} (sent by {}). Expiry warnings and status changes of \
         Git tokens will arrive here.",
        slack_escape(&org.name),
        slack_escape(actor_email)
    );
    let result = state.providers.send_webhook(webhook_url, &text).await;
    let st = state.clone();
    let org_id = org.id.clone();
    let r = result.clone();
    tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        let mut conn = st.conn()?;
        record_test_delivery(&mut conn, &org_id, text, &r, st.clock.naive())
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("background task failed: {e}")))??;
    Ok(result)
}

fn record_test_delivery(
    conn: &mut DbConn,
    org_id: &str,
    text: String,
    r: &Result<u16, WebhookError>,
    n: chrono::NaiveDateTime,
) -> Result<(), StoreError> {
    let mut d = Delivery::new(
        org_id,
        None,
        "test",
        format!("test:{}", crate::db::new_id()),
        text,
        n,
    );
    d.attempts = 1;
    match r {
        Ok(_) => {
            d.state = state::SENT.into();
            d.sent_at = Some(n);
        }
        Err(e) => {
            d.state = state::FAILED.into();
            d.last_error = Some(e.to_string());
        }
    }
    Delivery::insert_once(conn, &d)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        let n = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default();
        let t = [30, 14, 7, 1];
        let d = |days: i64| n + chrono::Duration::days(days);
        assert_eq!(threshold_reached(d(40), n, &t), None);
        assert_eq!(threshold_reached(d(30), n, &t), Some(30));
        assert_eq!(threshold_reached(d(20), n, &t), Some(30));
        assert_eq!(threshold_reached(d(10), n, &t), Some(14));
        assert_eq!(threshold_reached(d(3), n, &t), Some(7));
        assert_eq!(
            threshold_reached(n + chrono::Duration::hours(5), n, &t),
            Some(1)
        );
        assert_eq!(threshold_reached(d(-1), n, &t), None);
        assert_eq!(slack_escape("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}

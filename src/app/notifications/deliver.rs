//! What a scheduler run notifies, and sending it.
//!
//! - **Expiry warnings**: for every token with a known expiry, the smallest threshold of
//!   `FORGEKEYS_EXPIRY_WARN_DAYS` (default 30, 14, 7, 1) that the time left has reached
//!   (`domain::expiry::threshold_reached`). Key `expiry:<token>:<expiry>:<days>`: sent once per
//!   threshold and expiry date (a rotated token with a new expiry starts over). Thresholds
//!   passed while no webhook was set are not sent late: only the current one is.
//! - **Status turned bad**: a test whose status differs from the previous one and is anything
//!   but `valid` / `not_tested`. Key `status:<token>:<history row>`: sent once.
//!
//! Each notification is a `notification_deliveries` row before anything is sent. Sending tries
//! [`ATTEMPTS_PER_RUN`] times with 1 s then 2 s between attempts; if all fail the row is
//! `retrying` and the next scheduler runs try again, until [`MAX_ATTEMPTS`] attempts in all
//! (then `failed`). A blocked destination (outbound policy) is `failed` at once, with the
//! reason, and nothing is sent.

use super::super::Error;
use super::messages::{self, Subject};
use crate::app::state::AppState;
use crate::db::models::notification::{Delivery, NotificationSettings};
use crate::domain::expiry::{Expiry, threshold_reached};
use crate::domain::ids::OrgId;
use crate::domain::notification::{DeliveryState, DueDelivery, NotificationKind};
use crate::domain::status::TestStatus;
use crate::domain::token::Token;
use crate::providers::webhook::WebhookError;
use crate::web::urls;
use chrono::NaiveDateTime;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::time::Duration;

/// Attempts within one run.
pub const ATTEMPTS_PER_RUN: i64 = 3;
/// Attempts in all before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 9;
/// Due deliveries read at once.
const SEND_CHUNK: i64 = 100;

/// A token's test in a scheduler run, as the notifications need it.
#[derive(Debug, Clone)]
pub struct CheckedToken {
    /// The token as stored after the test.
    pub token: Token,
    /// Its status before the test.
    pub previous: TestStatus,
    /// The status-history row the test wrote.
    pub history_id: String,
    /// Names of the permissions the test found missing.
    pub missing: Vec<String>,
}

/// Counts of one sending pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub created: usize,
    pub sent: usize,
    /// Will be retried on a later run.
    pub retrying: usize,
    /// Given up (blocked or too many attempts).
    pub failed: usize,
}

impl SendReport {
    fn add(&mut self, other: &SendReport) {
        self.created += other.created;
        self.sent += other.sent;
        self.retrying += other.retrying;
        self.failed += other.failed;
    }
}

/// An organization with a webhook.
#[derive(Clone)]
pub struct Target {
    pub org_id: OrgId,
    pub slug: String,
    pub name: String,
    webhook_url: SecretString,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The webhook URL works like a password: never in a log line.
        f.debug_struct("Target")
            .field("org_id", &self.org_id)
            .field("slug", &self.slug)
            .finish_non_exhaustive()
    }
}

/// The organizations that have a webhook: only they get deliveries.
#[derive(Debug, Clone, Default)]
pub struct Targets(HashMap<OrgId, Target>);

impl Targets {
    pub fn get(&self, org: &OrgId) -> Option<&Target> {
        self.0.get(org)
    }
}

/// Load the organizations with a webhook.
pub async fn targets(state: &AppState) -> Result<Targets, Error> {
    let rows = state
        .db(|conn| Ok(NotificationSettings::with_orgs(conn)?))
        .await?;
    Ok(Targets(
        rows.into_iter()
            // A URL that cannot be decrypted is logged and its organization gets nothing.
            .filter_map(|(s, slug, name)| {
                let url = super::open_url(state, &s)?;
                let org_id = OrgId::new(s.org_id);
                let t = Target {
                    org_id: org_id.clone(),
                    slug,
                    name,
                    webhook_url: url,
                };
                Some((org_id, t))
            })
            .collect(),
    ))
}

fn is_bad(s: TestStatus) -> bool {
    !matches!(s, TestStatus::Valid | TestStatus::NotTested)
}

/// The deliveries one checked token calls for.
fn wanted(
    state: &AppState,
    target: &Target,
    c: &CheckedToken,
    now: NaiveDateTime,
) -> Vec<Delivery> {
    let t = &c.token;
    let link = urls::absolute(
        &state.config.base_url,
        &urls::token(&target.slug, t.id.as_str()),
    );
    let subject = Subject {
        provider: t.provider(),
        token_name: &t.name,
        org_name: &target.name,
        link: &link,
    };
    let mut out = Vec::new();
    if let Some(exp) = t.expires_at {
        if let Some(days) = threshold_reached(exp, now, &state.config.expiry_warn_days) {
            let left = Expiry::At(exp).days_left(now).unwrap_or(0);
            out.push(Delivery::new(
                t.org_id.as_str(),
                Some(t.id.as_str()),
                NotificationKind::Expiry,
                format!("expiry:{}:{}:{days}", t.id, exp.format("%Y-%m-%dT%H:%M:%S")),
                messages::expiry(&subject, exp, left),
                now,
            ));
        }
    }
    if is_bad(t.status) && c.previous != t.status {
        out.push(Delivery::new(
            t.org_id.as_str(),
            Some(t.id.as_str()),
            NotificationKind::Status,
            format!("status:{}:{}", t.id, c.history_id),
            messages::status_change(&subject, t.status, c.previous, &c.missing),
            now,
        ));
    }
    out
}

/// Record the deliveries that these checked tokens call for (organizations with a webhook
/// only), each once per key. Returns how many were new.
pub async fn queue(
    state: &AppState,
    targets: &Targets,
    checked: &[CheckedToken],
) -> Result<usize, Error> {
    let now = state.clock.naive();
    let rows: Vec<Delivery> = checked
        .iter()
        .filter_map(|c| targets.get(&c.token.org_id).map(|t| (t, c)))
        .flat_map(|(t, c)| wanted(state, t, c, now))
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    state
        .db(move |conn| {
            let mut created = 0;
            for d in &rows {
                if Delivery::insert_once(conn, d)? {
                    created += 1;
                }
            }
            Ok(created)
        })
        .await
}

/// Send every organization's due deliveries to its webhook.
pub async fn send_all_due(state: &AppState, targets: &Targets) -> Result<SendReport, Error> {
    let mut report = SendReport::default();
    for t in targets.0.values() {
        report.add(&send_due(state, t).await?);
    }
    Ok(report)
}

/// Send an organization's due deliveries to its webhook, a chunk at a time, oldest first.
pub async fn send_due(state: &AppState, target: &Target) -> Result<SendReport, Error> {
    let now = state.clock.naive();
    let mut report = SendReport::default();
    let mut after: Option<(NaiveDateTime, String)> = None;
    loop {
        let (org, cursor) = (target.org_id.clone(), after.clone());
        let due = state
            .db(move |conn| {
                let after = cursor.as_ref().map(|(at, id)| (*at, id.as_str()));
                Ok(Delivery::due_chunk(
                    conn,
                    org.as_str(),
                    now,
                    after,
                    SEND_CHUNK,
                )?)
            })
            .await?;
        let full = i64::try_from(due.len()).unwrap_or(i64::MAX) >= SEND_CHUNK;
        after = due.last().map(|d| (d.created_at, d.id.clone()));
        for d in due {
            send_one(state, target.webhook_url.expose_secret(), d, &mut report).await?;
        }
        if !full {
            return Ok(report);
        }
    }
}

async fn send_one(
    state: &AppState,
    webhook_url: &str,
    d: DueDelivery,
    report: &mut SendReport,
) -> Result<(), Error> {
    let (result, tries) = send_with_retries(state, webhook_url, &d.message).await;
    let attempts = d.attempts + tries;
    let (new_state, error) = match &result {
        Ok(_) => (DeliveryState::Sent, None),
        Err(e) if e.is_retryable() && attempts < MAX_ATTEMPTS => {
            (DeliveryState::Retrying, Some(e.to_string()))
        }
        Err(e) => (DeliveryState::Failed, Some(e.to_string())),
    };
    match new_state {
        DeliveryState::Sent => report.sent += 1,
        DeliveryState::Retrying => report.retrying += 1,
        _ => report.failed += 1,
    }
    if let Some(e) = &error {
        tracing::warn!(delivery = %d.id, kind = d.kind.as_str(), attempts, "webhook notification not delivered: {e}");
    }
    let st = state.clone();
    state
        .db(move |conn| {
            let n = st.clock.naive();
            Ok(Delivery::record(
                conn,
                &d.id,
                new_state,
                attempts,
                error.as_deref(),
                n,
                (new_state == DeliveryState::Sent).then_some(n),
            )?)
        })
        .await
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

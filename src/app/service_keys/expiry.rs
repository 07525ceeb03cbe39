//! Expiry warnings for service keys, like those of tokens (`app::notifications::deliver`): each
//! scheduler run queues, for every live key with an expiry, the smallest threshold of
//! `FORGEKEYS_EXPIRY_WARN_DAYS` its time left has reached, once per key, expiry and threshold
//! (key `service-key-expiry:<key>:<expiry>:<days>`), for organizations with a webhook. The
//! run's sending pass then delivers them with the token notifications.

use super::super::Error;
use super::super::notifications::deliver::Targets;
use super::super::notifications::messages;
use crate::app::state::AppState;
use crate::db::models::notification::Delivery;
use crate::db::models::service_key::ServiceKey;
use crate::domain::expiry::{Expiry, threshold_reached};
use crate::domain::ids::OrgId;
use crate::domain::notification::NotificationKind;
use crate::web::urls;

/// Keys read per run (the soonest first); more wait for the next run.
const PER_RUN: i64 = 1000;

/// Queue the warnings due now; returns how many were new.
pub async fn queue_warnings(state: &AppState, targets: &Targets) -> Result<usize, Error> {
    let now = state.clock.naive();
    let days = state.config.expiry_warn_days.clone();
    let Some(furthest) = days.iter().copied().max() else {
        return Ok(0);
    };
    let until = now + chrono::Duration::days(furthest);
    let keys = state
        .db(move |conn| Ok(ServiceKey::expiring(conn, now, until, PER_RUN)?))
        .await?;
    let rows: Vec<Delivery> = keys
        .into_iter()
        .filter_map(|k| {
            let exp = k.key.expires_at?;
            let reached = threshold_reached(exp, now, &days)?;
            let target = targets.get(&OrgId::new(k.key.org_id.clone()))?;
            let link = urls::absolute(
                &state.config.base_url,
                &urls::service(&target.slug, &k.key.service_id),
            );
            let left = Expiry::At(exp).days_left(now).unwrap_or(0);
            let text = messages::service_key_expiry(
                &messages::KeySubject {
                    key_name: &k.key.name,
                    key_hint: &k.key.hint,
                    service_name: &k.service_name,
                    org_name: &k.org_name,
                    link: &link,
                },
                exp,
                left,
            );
            Some(Delivery::new(
                &k.key.org_id,
                None,
                NotificationKind::Expiry,
                format!(
                    "service-key-expiry:{}:{}:{reached}",
                    k.key.id,
                    exp.format("%Y-%m-%dT%H:%M:%S")
                ),
                text,
                now,
            ))
        })
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

//! Expiry warnings for organization API keys (issue 14: "keys that expire get a notification
//! like tokens do"): each scheduler run, every active key whose time left has reached a
//! threshold of `FORGEKEYS_EXPIRY_WARN_DAYS` gets one delivery per threshold and expiry date
//! (key `api-key-expiry:<key>:<expiry>:<days>`), sent with the token notifications.

use super::super::Error;
use super::deliver::Targets;
use super::messages;
use crate::app::state::AppState;
use crate::db::models::notification::Delivery;
use crate::domain::expiry::{Expiry, threshold_reached};
use crate::domain::notification::NotificationKind;
use crate::web::urls;
use chrono::Duration;

/// Keys looked at per run at most.
const LIMIT: i64 = 10_000;

/// Queue the warnings due now for the organizations with a webhook; returns how many were new.
pub async fn queue(state: &AppState, targets: &Targets) -> Result<usize, Error> {
    let now = state.clock.naive();
    let warn = state.config.expiry_warn_days.clone();
    let Some(max) = warn.iter().copied().max() else {
        return Ok(0);
    };
    let base = state.config.base_url.clone();
    let keys = state
        .db(move |conn| crate::app::api_keys::expiring(conn, now, now + Duration::days(max), LIMIT))
        .await?;
    let rows: Vec<Delivery> = keys
        .iter()
        .filter_map(|k| {
            let target = targets.get(&k.org_id)?;
            let exp = k.expires_at?;
            let days = threshold_reached(exp, now, &warn)?;
            let left = Expiry::At(exp).days_left(now).unwrap_or(0);
            let link = urls::absolute(&base, &urls::api_keys(&target.slug));
            Some(Delivery::new(
                k.org_id.as_str(),
                None,
                NotificationKind::Expiry,
                format!(
                    "api-key-expiry:{}:{}:{days}",
                    k.id,
                    exp.format("%Y-%m-%dT%H:%M:%S")
                ),
                messages::key_expiry(&k.name, &k.hint, &target.name, exp, left, &link),
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

//! What the metrics endpoint reads from the database at each scrape (the counters live in
//! [`crate::metrics::Metrics`] and move as things happen).

use super::Error;
use crate::app::state::AppState;
use crate::db::StoreError;
use crate::db::models::token_metrics;
use crate::domain::expiry::{ATTENTION_DAYS, URGENT_DAYS};
use crate::domain::status::TestStatus;
use crate::metrics::TokenCounts;

/// The windows of `forgekeys_tokens_expiring{within_days}`: the "urgent" and the "needs
/// attention" horizons of the pages (`domain::expiry`).
pub const EXPIRY_WINDOWS: [i64; 2] = [URGENT_DAYS, ATTENTION_DAYS];

/// Tokens by status and by expiry, over the whole installation, as of the server clock.
pub async fn token_counts(state: &AppState) -> Result<TokenCounts, Error> {
    let now = state.clock.naive();
    state
        .db(move |conn| {
            let by_status = token_metrics::by_status(conn)?
                .into_iter()
                .map(|(s, n)| {
                    TestStatus::parse(&s)
                        .map(|s| (s, n))
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown status {s:?}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let expired = token_metrics::expired(conn, now)?;
            let mut expiring = Vec::with_capacity(EXPIRY_WINDOWS.len());
            for days in EXPIRY_WINDOWS {
                expiring.push((days, token_metrics::expiring_within(conn, now, days)?));
            }
            Ok(TokenCounts {
                by_status,
                expired,
                expiring,
            })
        })
        .await
}

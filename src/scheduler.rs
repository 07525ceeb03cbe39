//! The expiry watch inside the server: re-tests every stored token periodically, keeps each
//! token's status history and hands the results to [`crate::notify`].
//!
//! - Period: `FORGEKEYS_RECHECK_INTERVAL` (default 6h; `0` = off), each wait jittered ±10%.
//! - One run at a time across every server process on the database: a run first takes the
//!   `recheck` row of `scheduler_leases` with one conditional `UPDATE` (free = `expires_at` in
//!   the past), renews it every minute while it works and gives it back at the end. A process
//!   that crashes loses the lease when it expires ([`LEASE_TTL_SECS`]). A periodic run is also
//!   skipped when another process finished one less than 90% of an interval ago, so N processes
//!   do not make N runs per interval.
//! - At most [`CONCURRENCY`] token tests at once; database work on blocking threads.
//! - The task is aborted when the HTTP server stops (see `startup::Application`).

use crate::app::audit::{System, Who};
use crate::app::checks::{self, RecordedTest};
use crate::db::models::lease::Lease;
use crate::db::models::status_history::TestSource;
use crate::db::models::token::GitToken;
use crate::db::schema::git_tokens;
use crate::db::{StoreError, new_id};
use crate::domain::test_result::TestOutcome;
use crate::notify::{self, SendReport};
use crate::state::AppState;
use diesel::prelude::*;
use futures::StreamExt;
use rand::Rng;
use std::time::Duration;

/// Name of the lease row of the re-check job.
pub const LEASE_NAME: &str = "recheck";
/// How long a taken lease lasts without renewal.
pub const LEASE_TTL_SECS: i64 = 300;
/// Token tests running at once.
pub const CONCURRENCY: usize = 4;
const HEARTBEAT: Duration = Duration::from_secs(60);

/// What one run did.
#[derive(Debug, Default, Clone)]
pub struct RunReport {
    /// False when another process held the lease (nothing was done).
    pub ran: bool,
    pub tested: usize,
    /// Results not stored because the token was edited, rotated or deleted meanwhile.
    pub skipped: usize,
    pub notifications: SendReport,
}

/// Errors that end a run early (logged by the loop).
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("background task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// One token's result in a run.
pub struct Checked {
    pub before: GitToken,
    pub recorded: RecordedTest,
    pub outcome: TestOutcome,
}

/// `d` ± 10%, at least one second.
pub fn jittered(d: Duration) -> Duration {
    let factor = rand::thread_rng().gen_range(0.9..=1.1);
    d.mul_f64(factor).max(Duration::from_secs(1))
}

/// Start the periodic loop (none when the interval is off). Abort the handle to stop it.
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let interval = state.config.recheck_interval?;
    tracing::info!(
        every_secs = interval.as_secs(),
        "token re-check scheduler started"
    );
    Some(tokio::spawn(async move {
        let holder = format!("{}:{}", std::process::id(), new_id());
        // The first check comes soon after start (a run done by another process less than an
        // interval ago makes it a no-op); later ones every interval.
        let mut wait = jittered(interval.min(Duration::from_secs(60)));
        loop {
            tokio::time::sleep(wait).await;
            wait = jittered(interval);
            match run_if_due(&state, &holder, interval).await {
                Ok(r) if r.ran => tracing::info!(
                    tested = r.tested,
                    skipped = r.skipped,
                    sent = r.notifications.sent,
                    failed = r.notifications.failed,
                    "scheduled token re-check done"
                ),
                Ok(_) => tracing::debug!("re-check skipped: another process ran it recently"),
                Err(e) => tracing::error!(error = %e, "scheduled token re-check failed"),
            }
        }
    }))
}

/// Run now unless another process holds the lease (then `ran: false`). For tests, the CLI and
/// anything that wants one deterministic run.
pub async fn run_once(state: &AppState) -> Result<RunReport, SchedulerError> {
    let holder = format!("{}:{}", std::process::id(), new_id());
    run_locked(state, &holder, None).await
}

/// Run if nobody holds the lease and no run finished within 90% of `interval`.
pub async fn run_if_due(
    state: &AppState,
    holder: &str,
    interval: Duration,
) -> Result<RunReport, SchedulerError> {
    let recent = chrono::Duration::from_std(interval.mul_f64(0.9)).unwrap_or_default();
    run_locked(state, holder, Some(recent)).await
}

async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut crate::db::DbConn) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SchedulerError> {
    let st = state.clone();
    let r = tokio::task::spawn_blocking(move || {
        let mut conn = st.conn()?;
        f(&mut conn)
    })
    .await??;
    Ok(r)
}

async fn run_locked(
    state: &AppState,
    holder: &str,
    not_within: Option<chrono::Duration>,
) -> Result<RunReport, SchedulerError> {
    let h = holder.to_string();
    let n = state.clock.naive();
    let taken = blocking(state, move |conn| {
        Lease::try_acquire(
            conn,
            LEASE_NAME,
            &h,
            n,
            chrono::Duration::seconds(LEASE_TTL_SECS),
            not_within.map(|d| n - d),
        )
    })
    .await?;
    if !taken {
        return Ok(RunReport::default());
    }
    let heartbeat = {
        let st = state.clone();
        let h = holder.to_string();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let st2 = st.clone();
                let h2 = h.clone();
                let renewed = tokio::task::spawn_blocking(move || {
                    let mut conn = st2.conn()?;
                    Lease::renew(
                        &mut conn,
                        LEASE_NAME,
                        &h2,
                        st2.clock.naive(),
                        chrono::Duration::seconds(LEASE_TTL_SECS),
                    )
                })
                .await;
                if !matches!(renewed, Ok(Ok(true))) {
                    tracing::warn!("could not renew the re-check lease");
                }
            }
        })
    };
    let result = execute(state).await;
    heartbeat.abort();
    let h = holder.to_string();
    let n = state.clock.naive();
    let released = blocking(state, move |conn| Lease::release(conn, LEASE_NAME, &h, n)).await;
    let report = result?;
    released?;
    Ok(report)
}

async fn execute(state: &AppState) -> Result<RunReport, SchedulerError> {
    let all: Vec<GitToken> = blocking(state, |conn| {
        Ok(git_tokens::table
            .order((git_tokens::org_id.asc(), git_tokens::name_key.asc()))
            .select(GitToken::as_select())
            .load(conn)?)
    })
    .await?;
    type Tested = (
        GitToken,
        Result<(RecordedTest, TestOutcome), crate::app::Error>,
    );
    let results: Vec<Tested> = futures::stream::iter(all.clone())
        .map(|t| {
            let st = state.clone();
            async move {
                let who = Who::System(System::Scheduler);
                let r = checks::retest_stored(&st, &t, who, TestSource::Scheduler).await;
                (t, r)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut report = RunReport {
        ran: true,
        ..RunReport::default()
    };
    let mut checked = Vec::new();
    for (before, r) in results {
        match r {
            Ok((recorded, outcome)) => {
                report.tested += 1;
                checked.push(Checked {
                    before,
                    recorded,
                    outcome,
                });
            }
            Err(crate::app::Error::Conflict(c)) => {
                report.skipped += 1;
                tracing::info!(token = %before.id, "scheduled test not stored: {c:?}");
            }
            Err(e) => {
                report.skipped += 1;
                tracing::error!(token = %before.id, error = %e, "scheduled test failed");
            }
        }
    }
    report.notifications = notify::after_run(state, &checked).await?;
    Ok(report)
}

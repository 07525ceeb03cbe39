//! The expiry watch inside the server: re-tests every stored token periodically (each result
//! recorded with its status history, see [`super::record`]) and hands the results to
//! [`crate::app::notifications`].
//!
//! - Period: `FORGEKEYS_RECHECK_INTERVAL` (default 6h; `0` = off), each wait jittered ±10%.
//! - One run at a time across every server process on the database: a run first takes the
//!   `recheck` row of `scheduler_leases` with one conditional `UPDATE` (free = `expires_at` in
//!   the past), renews it every minute while it works and gives it back at the end. A process
//!   that crashes loses the lease when it expires ([`LEASE_TTL_SECS`]). A periodic run is also
//!   skipped when another process finished one less than 90% of an interval ago, so N processes
//!   do not make N runs per interval.
//! - Memory stays bounded however many tokens there are: tokens are read [`CHUNK`] at a time
//!   (the next chunk only once the tests need it), at most [`CONCURRENCY`] tests run at once,
//!   and the notifications of each batch of results are queued before the next batch.
//! - Stopping (SIGTERM/SIGINT, see `startup::Application`): the loop takes no new run; a run in
//!   progress starts no new test, lets the tests in flight finish and record their results,
//!   queues their notifications (sent by the next run), and gives the lease back. Only if that
//!   takes longer than the grace period is the task aborted, and the lease is then released on
//!   its behalf (a result being written still commits or rolls back whole).

use super::super::Error;
use super::super::audit::{System, Who};
use super::super::notifications::deliver::{self, CheckedToken, SendReport};
use super::{RecordedTest, retest_stored, stored};
use crate::app::state::AppState;
use crate::db::StoreError;
use crate::db::models::lease::Lease;
use crate::db::new_id;
use crate::domain::ids::TokenId;
use crate::domain::status::{TestSource, TestStatus};
use crate::domain::test_result::TestOutcome;
use crate::domain::token::Token;
use crate::metrics::RunOutcome;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use rand::Rng;
use std::time::Duration;
use tokio::sync::watch;

pub use super::stored::CHUNK;

/// Name of the lease row of the re-check job.
pub const LEASE_NAME: &str = "recheck";
/// How long a taken lease lasts without renewal.
pub const LEASE_TTL_SECS: i64 = 300;
/// Token tests running at once.
pub const CONCURRENCY: usize = 4;
const HEARTBEAT: Duration = Duration::from_secs(60);

/// How much of the installation a run holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tokens read from the database at once, and results handed to the notifications at once.
    pub chunk: i64,
    /// Token tests running at once.
    pub concurrency: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            chunk: CHUNK,
            concurrency: CONCURRENCY,
        }
    }
}

/// What one run did.
#[derive(Debug, Default, Clone)]
pub struct RunReport {
    /// False when another process held the lease (nothing was done).
    pub ran: bool,
    pub tested: usize,
    /// Results not stored because the token was edited, rotated or deleted meanwhile.
    pub skipped: usize,
    pub notifications: SendReport,
    /// The server was stopping: the tests in flight finished and were recorded, the rest of
    /// the tokens were left for the next run.
    pub interrupted: bool,
}

/// `d` ± 10%, at least one second.
pub fn jittered(d: Duration) -> Duration {
    let factor = rand::thread_rng().gen_range(0.9..=1.1);
    d.mul_f64(factor).max(Duration::from_secs(1))
}

/// The periodic loop of a server, and the way to stop it.
pub struct Scheduler {
    task: tokio::task::JoinHandle<()>,
    stop: watch::Sender<bool>,
    state: AppState,
    holder: String,
}

impl Scheduler {
    /// A handle that asks the loop to stop (see [`Scheduler::finish`]).
    pub fn stopper(&self) -> watch::Sender<bool> {
        self.stop.clone()
    }

    /// Stop the loop: a run in progress finishes its tests in flight and gives the lease back.
    /// After `grace` the task is aborted and the lease released here instead.
    pub async fn finish(mut self, grace: Duration) {
        self.stop.send_replace(true);
        if tokio::time::timeout(grace, &mut self.task).await.is_ok() {
            return;
        }
        self.task.abort();
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "the token re-check did not stop in time; aborted"
        );
        let (h, n) = (self.holder.clone(), self.state.clock.naive());
        let released = self
            .state
            .db(move |conn| Ok(Lease::release(conn, LEASE_NAME, &h, n)?))
            .await;
        if let Err(e) = released {
            tracing::error!(error = %e, "could not release the re-check lease");
        }
    }
}

/// Resolves once `stop` says so (or its sender is gone); never without one.
fn stopped(stop: Option<watch::Receiver<bool>>) -> BoxFuture<'static, ()> {
    match stop {
        Some(mut rx) => async move {
            let _ = rx.wait_for(|s| *s).await;
        }
        .boxed(),
        None => futures::future::pending().boxed(),
    }
}

/// Start the periodic loop (none when the interval is off).
pub fn spawn(state: AppState) -> Option<Scheduler> {
    let interval = state.config.recheck_interval?;
    tracing::info!(
        every_secs = interval.as_secs(),
        "token re-check scheduler started"
    );
    let holder = format!("{}:{}", std::process::id(), new_id());
    let (stop, rx) = watch::channel(false);
    let (st, h) = (state.clone(), holder.clone());
    let task = tokio::spawn(async move {
        // The first check comes soon after start (a run done by another process less than an
        // interval ago makes it a no-op); later ones every interval.
        let mut wait = jittered(interval.min(Duration::from_secs(60)));
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stopped(Some(rx.clone())) => break,
            }
            wait = jittered(interval);
            match run_if_due_until(&st, &h, interval, Some(rx.clone())).await {
                Ok(r) if r.ran => tracing::info!(
                    tested = r.tested,
                    skipped = r.skipped,
                    sent = r.notifications.sent,
                    failed = r.notifications.failed,
                    interrupted = r.interrupted,
                    "scheduled token re-check done"
                ),
                Ok(_) => tracing::debug!("re-check skipped: another process ran it recently"),
                Err(e) => tracing::error!(error = %e, "scheduled token re-check failed"),
            }
        }
        tracing::info!("token re-check scheduler stopped");
    });
    Some(Scheduler {
        task,
        stop,
        state,
        holder,
    })
}

/// Run now unless another process holds the lease (then `ran: false`). For tests, the CLI and
/// anything that wants one deterministic run.
pub async fn run_once(state: &AppState) -> Result<RunReport, Error> {
    run_once_with(state, Limits::default()).await
}

/// [`run_once`] with other limits.
pub async fn run_once_with(state: &AppState, limits: Limits) -> Result<RunReport, Error> {
    let holder = format!("{}:{}", std::process::id(), new_id());
    run_locked(state, &holder, None, limits, None).await
}

/// Run if nobody holds the lease and no run finished within 90% of `interval`.
pub async fn run_if_due(
    state: &AppState,
    holder: &str,
    interval: Duration,
) -> Result<RunReport, Error> {
    run_if_due_until(state, holder, interval, None).await
}

/// [`run_if_due`], ended early when `stop` turns true (see the module notes).
async fn run_if_due_until(
    state: &AppState,
    holder: &str,
    interval: Duration,
    stop: Option<watch::Receiver<bool>>,
) -> Result<RunReport, Error> {
    let recent = chrono::Duration::from_std(interval.mul_f64(0.9)).unwrap_or_default();
    run_locked(state, holder, Some(recent), Limits::default(), stop).await
}

/// Count a run in `forgekeys_scheduler_runs_total`.
fn count_run(state: &AppState, result: &Result<RunReport, Error>) {
    let outcome = match result {
        Ok(r) if !r.ran => RunOutcome::Skipped,
        Ok(r) if r.interrupted => RunOutcome::Interrupted,
        Ok(_) => RunOutcome::Completed,
        Err(_) => RunOutcome::Failed,
    };
    state
        .metrics
        .scheduler_run(outcome, state.clock.now().timestamp());
}

fn ttl() -> chrono::Duration {
    chrono::Duration::seconds(LEASE_TTL_SECS)
}

async fn run_locked(
    state: &AppState,
    holder: &str,
    not_within: Option<chrono::Duration>,
    limits: Limits,
    stop: Option<watch::Receiver<bool>>,
) -> Result<RunReport, Error> {
    let result = run_leased(state, holder, not_within, limits, stop).await;
    count_run(state, &result);
    result
}

async fn run_leased(
    state: &AppState,
    holder: &str,
    not_within: Option<chrono::Duration>,
    limits: Limits,
    stop: Option<watch::Receiver<bool>>,
) -> Result<RunReport, Error> {
    let h = holder.to_string();
    let n = state.clock.naive();
    let taken = state
        .db(move |conn| {
            Ok(Lease::try_acquire(
                conn,
                LEASE_NAME,
                &h,
                n,
                ttl(),
                not_within.map(|d| n - d),
            )?)
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
                let (h2, at) = (h.clone(), st.clock.naive());
                let renewed = st
                    .db(move |conn| Ok(Lease::renew(conn, LEASE_NAME, &h2, at, ttl())?))
                    .await;
                if !matches!(renewed, Ok(true)) {
                    tracing::warn!("could not renew the re-check lease");
                }
            }
        })
    };
    let result = execute(state, limits, stop).await;
    heartbeat.abort();
    let h = holder.to_string();
    let n = state.clock.naive();
    let released = state
        .db(move |conn| Ok(Lease::release(conn, LEASE_NAME, &h, n)?))
        .await;
    let report = result?;
    released?;
    Ok(report)
}

/// What the notifications need of a recorded test.
fn checked(recorded: &RecordedTest, outcome: &TestOutcome) -> Result<CheckedToken, Error> {
    let previous = TestStatus::parse(&recorded.previous_status).ok_or_else(|| {
        StoreError::Corrupt(format!("unknown status {:?}", recorded.previous_status))
    })?;
    Ok(CheckedToken {
        token: Token::try_from(&recorded.token)?,
        previous,
        history_id: recorded.history_id.clone(),
        missing: outcome.missing.iter().map(|m| m.name.clone()).collect(),
    })
}

type Tested = (TokenId, Result<(RecordedTest, TestOutcome), Error>);

async fn execute(
    state: &AppState,
    limits: Limits,
    stop: Option<watch::Receiver<bool>>,
) -> Result<RunReport, Error> {
    let stopping = || stop.as_ref().is_some_and(|rx| *rx.borrow());
    let targets = deliver::targets(state).await?;
    let mut report = RunReport {
        ran: true,
        ..RunReport::default()
    };
    let batch = usize::try_from(limits.chunk.max(1)).unwrap_or(1);
    let results = stored::chunks(state.clone(), limits.chunk)
        .map_ok(|rows| futures::stream::iter(rows.into_iter().map(Ok::<_, Error>)))
        .try_flatten()
        // Once the server stops, no new test starts; those in flight finish below.
        .take_until(stopped(stop.clone()))
        .map(|row| {
            let st = state.clone();
            async move {
                let (t, _org) = row?;
                let who = Who::System(System::Scheduler);
                let r = retest_stored(&st, &t, who, TestSource::Scheduler).await;
                Ok::<Tested, Error>((TokenId::new(t.id), r))
            }
        })
        .buffer_unordered(limits.concurrency.max(1))
        .chunks(batch);
    futures::pin_mut!(results);
    while let Some(results) = results.next().await {
        let mut batch = Vec::with_capacity(results.len());
        for r in results {
            let (id, r) = r?;
            match r {
                Ok((recorded, outcome)) => {
                    report.tested += 1;
                    match checked(&recorded, &outcome) {
                        Ok(c) => batch.push(c),
                        Err(e) => {
                            tracing::error!(token = %id, error = %e, "no notification for this test")
                        }
                    }
                }
                Err(Error::Conflict(c)) => {
                    report.skipped += 1;
                    tracing::info!(token = %id, "scheduled test not stored: {c:?}");
                }
                Err(e) => {
                    report.skipped += 1;
                    tracing::error!(token = %id, error = %e, "scheduled test failed");
                }
            }
        }
        report.notifications.created += deliver::queue(state, &targets, &batch).await?;
    }
    if stopping() {
        // The queued notifications are rows: the next run sends them.
        report.interrupted = true;
        return Ok(report);
    }
    report.notifications.created +=
        super::super::notifications::key_expiry::queue(state, &targets).await?;
    let sent = deliver::send_all_due(state, &targets).await?;
    report.notifications = SendReport {
        created: report.notifications.created,
        ..sent
    };
    Ok(report)
}

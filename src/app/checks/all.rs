//! `forgekeys tokens check` as a use case: re-test every stored token with bounded
//! concurrency, record each result, and report which tokens need attention. Callable without a
//! terminal; the CLI only prints the report.

use super::super::Error;
use super::super::audit::{System, Who};
use super::{record, stored, test_stored};
use crate::app::state::AppState;
use crate::config::Config;
use crate::db::models::token::GitToken;
use crate::domain::expiry::Expiry;
use crate::domain::ids::TokenId;
use crate::domain::provider::Provider;
use crate::domain::status::{TestSource, TestStatus};
use crate::domain::test_result::TestOutcome;
use crate::domain::token::{Destination, Token, name_key};
use chrono::NaiveDateTime;
use futures::{StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Default `tokens check --concurrency`: token tests in flight at once, over all hosts.
pub const CHECK_CONCURRENCY: usize = 64;

/// Default `tokens check --per-host`: token tests in flight at once against one API origin
/// (`api.github.com`, `gitlab.com`, one self-hosted server, …).
///
/// Each test is one to five GET requests, mostly sequential (a classic GitHub token: `/user`,
/// `/user/repos`, then the clone check on the Git host), so this is also about the number of
/// concurrent requests one host sees from Forgekeys. 32 stays well under GitHub's documented
/// ceiling of 100 concurrent requests (secondary rate limits) and is modest for a self-hosted
/// GitLab, while 1,000 classic GitHub tokens answering in 100 ms take about
/// 1,000 / 32 × 3 × 0.1 s ≈ 10 s (`scripts/bench-tokens-check.sh`). Lower it for a small
/// self-hosted server.
pub const CHECK_PER_HOST: usize = 32;

/// Results waiting to be recorded (the tests go on while the database writes).
const RECORD_QUEUE: usize = 256;
/// Results recorded per database round trip (each in its own transaction).
const RECORD_BATCH: usize = 64;

/// Why a checked token needs attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The provider did not accept it, or it could not be tested.
    Failing {
        status: TestStatus,
        reason: Option<String>,
    },
    /// Valid but without these permissions.
    MissingPermissions(Vec<String>),
    /// Its expiry has passed.
    Expired { days_ago: i64 },
    /// It expires within the `within_days` asked for.
    ExpiresSoon { days: i64 },
}

/// One token in the report.
#[derive(Debug, Clone)]
pub struct CheckRow {
    pub org_slug: String,
    pub id: TokenId,
    pub name: String,
    pub provider: Provider,
    pub status: TestStatus,
    /// From the test, else as stored.
    pub expiry: Expiry,
    pub problem: Option<Problem>,
    /// The token was edited, rotated or deleted while it was tested: this result was not
    /// stored.
    pub changed_meanwhile: bool,
}

/// Every stored token, by organization slug and name.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub rows: Vec<CheckRow>,
}

impl CheckReport {
    /// No token needs attention.
    pub fn healthy(&self) -> bool {
        self.rows.iter().all(|r| r.problem.is_none())
    }

    pub fn needing_attention(&self) -> usize {
        self.rows.iter().filter(|r| r.problem.is_some()).count()
    }
}

/// Why a checked token needs attention, if it does: a failing status, missing permissions,
/// or an expiry passed or within `within_days`, counted from the moment of the test by the
/// server's clock. `stored_expiry` serves when the test reported none.
pub fn problem(
    o: &TestOutcome,
    stored_expiry: Option<NaiveDateTime>,
    within_days: u32,
) -> Option<Problem> {
    match o.status {
        TestStatus::Valid => {}
        TestStatus::MissingPermissions => {
            return Some(Problem::MissingPermissions(
                o.missing.iter().map(|m| m.name.clone()).collect(),
            ));
        }
        status => {
            return Some(Problem::Failing {
                status,
                reason: o.reason.clone(),
            });
        }
    }
    let expiry = Expiry::At(o.expires_at.map(|e| e.naive_utc()).or(stored_expiry)?);
    let at = o.tested_at.naive_utc();
    let days = expiry.days_left(at)?;
    if expiry.is_past(at) {
        return Some(Problem::Expired { days_ago: -days });
    }
    (days <= i64::from(within_days)).then_some(Problem::ExpiresSoon { days })
}

/// The API origin a token is tested against.
fn host_of(d: &Destination, config: &Config) -> String {
    match (&d.url, d.provider) {
        (Some(u), _) => u.clone(),
        (None, Provider::Github) => config.github_api_url.to_string(),
        (None, Provider::Gitlab) => config.gitlab_url.to_string(),
        (None, Provider::Bitbucket) => config.bitbucket_api_url.to_string(),
    }
}

/// Orders jobs round-robin over their hosts, so that the `concurrency` slots are not all taken
/// by tokens of one host waiting for its per-host permits while other hosts sit idle.
pub(crate) fn interleave_by_host<T>(jobs: Vec<(String, T)>) -> Vec<T> {
    let mut queues: Vec<(String, VecDeque<T>)> = Vec::new();
    for (host, job) in jobs {
        match queues.iter_mut().find(|(h, _)| *h == host) {
            Some((_, q)) => q.push_back(job),
            None => queues.push((host, VecDeque::from([job]))),
        }
    }
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for (_, q) in &mut queues {
            if let Some(job) = q.pop_front() {
                out.push(job);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

fn row_of(
    t: &GitToken,
    org_slug: String,
    o: &TestOutcome,
    within_days: u32,
) -> Result<CheckRow, Error> {
    let token = Token::try_from(t)?;
    let expiry = match o.expires_at.map(|e| e.naive_utc()).or(t.expires_at) {
        Some(at) => Expiry::At(at),
        None if o.never_expires => Expiry::Never,
        None => Expiry::Unknown,
    };
    Ok(CheckRow {
        org_slug,
        id: token.id,
        name: token.name,
        provider: token.destination.provider,
        status: o.status,
        expiry,
        problem: problem(o, t.expires_at, within_days),
        changed_meanwhile: false,
    })
}

/// Records results as they arrive, each in its own transaction, in the name of `tokens check`.
/// Returns the tokens whose result was not stored because they changed meanwhile.
async fn record_all(
    state: AppState,
    mut rx: tokio::sync::mpsc::Receiver<(GitToken, TestOutcome)>,
) -> Result<HashSet<TokenId>, Error> {
    let mut changed = HashSet::new();
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while rx.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let items = std::mem::take(&mut batch);
        let stale = state
            .db(move |conn| {
                let mut stale = Vec::new();
                for (t, o) in &items {
                    let who = Who::System(System::TokensCheck);
                    let stored = diesel::Connection::transaction(conn, |c| {
                        record(c, t, o, who, TestSource::Cli)
                    });
                    match stored {
                        Ok(_) => {}
                        // Edited, rotated or deleted while it was tested: that result is stale.
                        Err(Error::Conflict(_)) => stale.push(TokenId::new(t.id.clone())),
                        Err(e) => return Err(e),
                    }
                }
                Ok(stale)
            })
            .await?;
        changed.extend(stale);
    }
    Ok(changed)
}

/// Re-test every stored token of every organization: at most `concurrency` tests at once, at
/// most `per_host` at once against one provider host; each result is recorded (status,
/// history, audit) as it arrives. Tokens are read a chunk at a time, so memory holds one chunk
/// of rows plus the report's small typed rows.
pub async fn check_all(
    state: &AppState,
    within_days: u32,
    concurrency: usize,
    per_host: usize,
) -> Result<CheckReport, Error> {
    let (tx, rx) = tokio::sync::mpsc::channel(RECORD_QUEUE);
    let recorder = tokio::spawn(record_all(state.clone(), rx));
    let config = state.config.clone();
    let per_host = per_host.max(1);
    let mut permits: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let jobs = stored::chunks(state.clone(), stored::CHUNK)
        .map_ok(move |rows| {
            let jobs = rows
                .into_iter()
                .map(|(t, org)| {
                    // A destination the domain does not know is reported by the test itself
                    // (`error`); it still needs a queue.
                    let host = Token::try_from(&t)
                        .map(|tok| host_of(&tok.destination, &config))
                        .unwrap_or_default();
                    let sem = permits
                        .entry(host.clone())
                        .or_insert_with(|| Arc::new(Semaphore::new(per_host)))
                        .clone();
                    (host, (t, org, sem))
                })
                .collect();
            futures::stream::iter(interleave_by_host(jobs).into_iter().map(Ok::<_, Error>))
        })
        .try_flatten();
    let rows: Vec<Result<CheckRow, Error>> = jobs
        .map(|job| {
            let (st, tx) = (state.clone(), tx.clone());
            async move {
                let (t, org, sem) = job?;
                let outcome = {
                    let _permit = sem.acquire_owned().await;
                    test_stored(&st, &t).await
                };
                let row = row_of(&t, org, &outcome, within_days)?;
                // The recorder only stops early on an error, which `recorder.await` reports.
                let _ = tx.send((t, outcome)).await;
                Ok(row)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    drop(tx);
    let changed = recorder.await??;
    let mut rows = rows.into_iter().collect::<Result<Vec<_>, _>>()?;
    for r in &mut rows {
        r.changed_meanwhile = changed.contains(&r.id);
    }
    rows.sort_by_cached_key(|r| (r.org_slug.clone(), name_key(&r.name), r.id.clone()));
    Ok(CheckReport { rows })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_interleaved_by_host() {
        let jobs = vec![
            ("a".to_owned(), 1),
            ("a".to_owned(), 2),
            ("a".to_owned(), 3),
            ("b".to_owned(), 4),
            ("c".to_owned(), 5),
            ("b".to_owned(), 6),
        ];
        assert_eq!(interleave_by_host(jobs), vec![1, 4, 5, 2, 6, 3]);
    }

    #[test]
    fn failing_statuses_and_missing_permissions_are_problems() {
        let o = TestOutcome::failed(TestStatus::Invalid, "rejected");
        assert_eq!(
            problem(&o, None, 14),
            Some(Problem::Failing {
                status: TestStatus::Invalid,
                reason: Some("rejected".into())
            })
        );
        let mut o = TestOutcome::failed(TestStatus::MissingPermissions, "");
        o.missing
            .push(crate::domain::test_result::MissingPermission {
                name: "read:org".into(),
                fix: String::new(),
            });
        assert_eq!(
            problem(&o, None, 14),
            Some(Problem::MissingPermissions(vec!["read:org".into()]))
        );
        // A stored expiry serves when the test reports none.
        let mut o = TestOutcome::failed(TestStatus::Valid, "");
        let at = o.tested_at.naive_utc();
        o.reason = None;
        assert_eq!(
            problem(&o, Some(at + chrono::Duration::days(2)), 14),
            Some(Problem::ExpiresSoon { days: 2 })
        );
        assert_eq!(problem(&o, None, 14), None);
    }
}

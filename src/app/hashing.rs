//! The password-hashing pool: every Argon2 run of the server (sign-in, setup, new accounts,
//! password changes) happens on one of a few dedicated threads, never inside a database closure
//! and never on an async worker.
//!
//! Argon2 takes 19 MiB and a core for tens of milliseconds per run, so what bounds the server's
//! memory and keeps its pages responsive under a login storm is how many run at once. Choices
//! (DESIGN.md §10 is silent on the numbers):
//! - **workers** = the number of cores less one, at least 1 and at most 4 ([`MAX_WORKERS`]):
//!   one core always stays for the pages of signed-in users (figures below); more threads only
//!   queue on the cores while each holds its 19 MiB (and 4 × 19 MiB caps what sign-in can take
//!   on a big machine).
//! - **queue** = [`QUEUE_PER_WORKER`] × workers waiting jobs; past that a sign-in waits up to
//!   [`WAIT_FOR_A_PLACE`] (1 s, asynchronously: no thread, no memory) for a place, then is
//!   answered 429 ("busy") instead of queueing without bound. At ~50 ms a hash, the queue is
//!   under half a second of waiting.
//!
//! - The workers run at the lowest CPU priority (nice 19 on Linux): under a storm the cores go
//!   to the pages of signed-in users first and the hashes take the rest. Measured with
//!   `scripts/bench-login-storm.sh` on 2 cores: a worker per core at nice 10 took the token
//!   list's p99 from 1.7 ms to 6.3–6.5 ms (3.7–3.8×) under a 16/48-client storm; one worker at
//!   nice 19, 1.2 ms to 3.5–3.6 ms (≤ 3×), with ~17 refused sign-ins a second instead of ~29.
//!   Not `SCHED_IDLE`: on a machine kept busy by other work, sign-in would stop altogether.
//!
//! Not a setting: the defaults follow the machine, and an operator who sees 429 "busy" under
//! real load has more users signing in per second than the cores can hash.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

/// Hashing threads: one per core but one, at least 1 and at most 4 (4 × 19 MiB bounds the
/// memory of sign-in on any machine).
pub const MIN_WORKERS: usize = 1;
pub const MAX_WORKERS: usize = 4;

/// Waiting jobs per worker before the pool answers [`Busy`].
pub const QUEUE_PER_WORKER: usize = 8;

/// How long a job waits for a place in a full pool before it is [`Busy`]: a burst of real
/// sign-ins gets through instead of a 429, and a storm's clients, answered no sooner than this,
/// cannot turn cheap refusals into a flood that takes the cores from everyone else.
pub const WAIT_FOR_A_PLACE: std::time::Duration = std::time::Duration::from_secs(1);

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The pool is full (every worker busy and the queue at its bound), or shut down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// A fixed set of hashing threads behind a bounded queue. Cheap to clone (shared).
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    tx: SyncSender<Job>,
    workers: usize,
    /// Jobs reserved, queued or running: at most `workers + queue`.
    pending: AtomicUsize,
    bound: usize,
    /// When (Unix seconds) a full pool was last reported.
    last_busy_report: AtomicI64,
    /// Woken when a place is given back.
    freed: tokio::sync::Notify,
}

/// A place in the pool, taken before the work that needs it (see [`Hasher::reserve`]); given
/// back when dropped, or when the job it runs ends.
pub struct Slot {
    inner: Arc<Inner>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.inner.pending.fetch_sub(1, Ordering::SeqCst);
        self.inner.freed.notify_one();
    }
}

impl Hasher {
    /// `workers` threads (at least 1) and room for `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> Hasher {
        let workers = workers.max(1);
        // The channel holds every job that may be pending, so `try_send` never blocks.
        let (tx, rx) = sync_channel::<Job>(workers + queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("fk-hash-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-hashing thread");
            }
        }
        Hasher {
            inner: Arc::new(Inner {
                tx,
                workers,
                pending: AtomicUsize::new(0),
                bound: workers + queue,
                last_busy_report: AtomicI64::new(i64::MIN),
                freed: tokio::sync::Notify::new(),
            }),
        }
    }

    /// The server's pool: one worker per core but one (1 to 4), [`QUEUE_PER_WORKER`] per worker.
    pub fn for_this_machine() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let workers = cores.saturating_sub(1).clamp(MIN_WORKERS, MAX_WORKERS);
        Hasher::new(workers, workers * QUEUE_PER_WORKER)
    }

    pub fn workers(&self) -> usize {
        self.inner.workers
    }

    /// Jobs that may be reserved, queued or running at once.
    pub fn bound(&self) -> usize {
        self.inner.bound
    }

    /// Whether a full pool at `now` (Unix seconds) should be reported: at most once a minute,
    /// so a storm does not flood the log.
    pub fn first_busy_in_a_minute(&self, now: i64) -> bool {
        let last = self.inner.last_busy_report.load(Ordering::Relaxed);
        now.saturating_sub(last) >= 60
            && self
                .inner
                .last_busy_report
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Take a place for a job to come, or [`Busy`].
    pub fn reserve(&self) -> Result<Slot, Busy> {
        let inner = &self.inner;
        let mut n = inner.pending.load(Ordering::SeqCst);
        loop {
            if n >= inner.bound {
                return Err(Busy);
            }
            match inner
                .pending
                .compare_exchange(n, n + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    return Ok(Slot {
                        inner: inner.clone(),
                    });
                }
                Err(actual) => n = actual,
            }
        }
    }

    /// Take a place, waiting up to `wait` for one to be given back, or [`Busy`].
    pub async fn reserve_within(&self, wait: std::time::Duration) -> Result<Slot, Busy> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Ok(slot) = self.reserve() {
                return Ok(slot);
            }
            // A place given back since the last try is not missed: `notify_one` keeps a permit
            // for the next waiter.
            if tokio::time::timeout_at(deadline, self.inner.freed.notified())
                .await
                .is_err()
            {
                return self.reserve();
            }
        }
    }

    /// Run `f` on a hashing thread in a reserved place; resolves when it is done.
    pub async fn run_in<T, F>(&self, slot: Slot, f: F) -> Result<T, Busy>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let out = f();
            // The place is free before the caller hears the result, so a caller that reserves
            // again right after finds it.
            drop(slot);
            let _ = done.send(out);
        });
        match self.inner.tx.try_send(job) {
            Ok(()) => result.await.map_err(|_| Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }

    /// [`Hasher::reserve_within`] [`WAIT_FOR_A_PLACE`], then [`Hasher::run_in`].
    pub async fn run<T, F>(&self, f: F) -> Result<T, Busy>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = self.reserve_within(WAIT_FOR_A_PLACE).await?;
        self.run_in(slot, f).await
    }
}

/// Lower this thread's CPU priority (Linux keeps a nice value per thread).
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: `setpriority` takes plain integers and touches no memory of ours; `who = 0` is
    // the calling thread on Linux. A failure only leaves the default priority.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

fn work(rx: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_bound_the_pool_is_busy_and_frees_places_when_jobs_end() {
        let pool = Hasher::new(1, 1);
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let g = gate.clone();
        let first = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    let _ = g.lock().map(|r| r.recv());
                    1
                })
                .await
            }
        });
        let held = pool.reserve();
        assert!(held.is_ok());
        // One running (or queued) and one reserved: the bound of 2 is reached.
        while pool.inner.pending.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.reserve().err(), Some(Busy));
        assert_eq!(pool.run(|| 2).await, Err(Busy));
        drop(held);
        let _ = release.send(());
        assert_eq!(first.await.ok(), Some(Ok(1)));
        assert_eq!(pool.run(|| 3).await, Ok(3));
    }

    #[tokio::test]
    async fn a_job_waiting_for_a_full_pool_gets_the_place_given_back() {
        let pool = Hasher::new(1, 0);
        let held = pool.reserve();
        assert!(held.is_ok());
        let waiter = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.reserve_within(std::time::Duration::from_secs(60))
                    .await
                    .is_ok()
            }
        });
        tokio::task::yield_now().await;
        drop(held);
        assert_eq!(waiter.await.ok(), Some(true));
        // Nothing given back: a short wait ends busy.
        let _taken = pool.reserve();
        let short = std::time::Duration::from_millis(1);
        assert!(pool.reserve_within(short).await.is_err());
    }
}

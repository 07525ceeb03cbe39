//! Per-key request limits for machine access (DESIGN.md §9): a token bucket per key id, in
//! memory. Each key may burst up to `per_minute` requests and then gets `per_minute / 60` a
//! second. Past it the caller gets [`Limited`] with the seconds to wait (the API answers 429 with
//! `Retry-After`).
//!
//! The buckets live in one process: with several processes on one PostgreSQL database each
//! process counts on its own (a key gets the limit per process). That is the documented trade:
//! a database write per API request would cost more than the limit protects.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Whole seconds until one more request is allowed (at least 1).
    pub retry_after_secs: u64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `per_minute` = 0 turns the limit off.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Take one request for `key` now.
    pub fn check(&self, key: &str) -> Result<(), Limited> {
        self.check_at(key, Instant::now())
    }

    /// Take one request for `key` at `now` (tests pass their own instants).
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), Limited> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let rate = capacity / 60.0;
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
            });
        }
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = Duration::from_secs_f64((1.0 - b.tokens) / rate);
            Err(Limited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_bursts_to_its_limit_then_waits_and_other_keys_are_not_affected() {
        let l = RateLimiter::new(60);
        let t0 = Instant::now();
        for i in 0..60 {
            assert_eq!(l.check_at("a", t0), Ok(()), "request {i}");
        }
        assert_eq!(
            l.check_at("a", t0),
            Err(Limited {
                retry_after_secs: 1
            })
        );
        assert_eq!(l.check_at("b", t0), Ok(()));
        // One a second comes back.
        assert_eq!(l.check_at("a", t0 + Duration::from_millis(1_100)), Ok(()));
        assert!(l.check_at("a", t0 + Duration::from_millis(1_200)).is_err());
        // Idle for a minute: the whole burst is back, not more.
        let later = t0 + Duration::from_secs(120);
        for _ in 0..60 {
            assert_eq!(l.check_at("a", later), Ok(()));
        }
        assert!(l.check_at("a", later).is_err());
    }

    #[test]
    fn retry_after_counts_the_seconds_to_the_next_request() {
        let l = RateLimiter::new(6); // one every 10 s
        let t0 = Instant::now();
        for _ in 0..6 {
            l.check_at("k", t0).expect("within the burst");
        }
        assert_eq!(
            l.check_at("k", t0 + Duration::from_secs(3)),
            Err(Limited {
                retry_after_secs: 7
            })
        );
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let l = RateLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..10_000 {
            assert_eq!(l.check_at("k", t0), Ok(()));
        }
    }
}

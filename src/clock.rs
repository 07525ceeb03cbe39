//! The server's notion of "now".
//!
//! Everything that decides by the date — expiry thresholds and badges, the attention banner,
//! `tokens check`, the scheduler's lease, notification de-duplication, "expired" versus
//! "invalid" after a 401 — asks the [`Clock`] held in the application state instead of reading
//! the system time deep inside. Production uses [`Clock::system`]; tests build the app with a
//! clock they can move forward ([`Clock::advance`]) to see what happens in 20 days without
//! waiting or branching on today's date.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// System time plus an offset (zero unless a test moved it).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, in UTC, at second precision (what the database stores on both backends).
    pub fn now(&self) -> DateTime<Utc> {
        let offset = chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst));
        (Utc::now() + offset).trunc_subsecs(0)
    }

    /// Now as the naive UTC timestamp stored in the database.
    pub fn naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Moves this clock (and every clone of it) forward by `by` (backward if negative). For
    /// tests: the server then behaves as it will at that time.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_moves_every_clone_and_keeps_second_precision() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(chrono::Duration::days(20));
        let after = copy.now();
        let moved = after - before;
        assert!(
            moved >= chrono::Duration::days(20)
                && moved < chrono::Duration::days(20) + chrono::Duration::seconds(5),
            "{moved:?}"
        );
        assert_eq!(after.timestamp_subsec_nanos(), 0);
        clock.advance(chrono::Duration::days(-20));
        assert!(copy.now() - before < chrono::Duration::seconds(5));
    }
}

//! The identity provider's discovery document and signing keys, kept for a while instead of
//! fetched at every sign-in (each callback used to cost three requests to the provider: the
//! discovery document, the token endpoint and the JWKS; now one, the token endpoint).
//!
//! Kept in the application state (one provider per process) for [`TTL`]. A token signed with a
//! key the kept set does not have (the provider rotated its keys) fetches the set once more
//! before it is refused, so a key rotation never locks anyone out; a failed token request
//! forgets the endpoints; a failed fetch is never kept.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a discovery document and a key set are used before they are fetched again.
pub const TTL: Duration = Duration::from_secs(10 * 60);

/// One value and when it was fetched.
pub struct Slot<T> {
    kept: Mutex<Option<(T, Instant)>>,
}

impl<T: Clone> Slot<T> {
    /// The value, if it is younger than [`TTL`] at `now`.
    pub fn get(&self, now: Instant) -> Option<T> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref()
            .filter(|(_, at)| now.saturating_duration_since(*at) < TTL)
            .map(|(v, _)| v.clone())
    }

    pub fn put(&self, value: T, now: Instant) {
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some((value, now));
    }

    pub fn forget(&self) {
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            kept: Mutex::new(None),
        }
    }
}

/// What is kept of the configured provider (`AppState::sso`).
#[derive(Default)]
pub struct Kept {
    pub(super) discovery: Slot<super::Discovery>,
    /// Public so that a test can make the kept set stale (a provider key rotation).
    pub keys: Slot<jsonwebtoken::jwk::JwkSet>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_until_the_ttl_and_can_be_forgotten() {
        let s: Slot<u32> = Slot::default();
        let t0 = Instant::now();
        assert_eq!(s.get(t0), None);
        s.put(1, t0);
        assert_eq!(s.get(t0 + TTL - Duration::from_secs(1)), Some(1));
        assert_eq!(s.get(t0 + TTL), None);
        s.put(2, t0);
        s.forget();
        assert_eq!(s.get(t0), None);
    }
}

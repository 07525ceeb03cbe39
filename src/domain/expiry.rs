//! Every rule about token expiry, in one place: when a token "needs attention", which badge an
//! expiry gets, the best-practice lifetime, and which notification threshold a token has
//! reached. Pages, the attention banner, the inventory summary, `tokens check`, the service
//! pickers and the notifications all ask here, with the server clock's "now".

use chrono::{Duration, NaiveDateTime};

/// A token expiring within this many days needs attention (banner, "expiring soon").
pub const ATTENTION_DAYS: i64 = 30;
/// Within this many days the badge turns from "warn" to "danger".
pub const URGENT_DAYS: i64 = 7;
/// Longest recommended lifetime: expiry at most a year after creation or rotation.
pub const MAX_LIFETIME_DAYS: i64 = 365;

/// Where a stored expiry came from (`expiry_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirySource {
    /// Reported by the provider at a test (GitHub header, GitLab `expires_at`).
    Provider,
    /// Entered by an admin (Bitbucket, or a provider that does not report it).
    Admin,
}

impl ExpirySource {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpirySource::Provider => "provider",
            ExpirySource::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<ExpirySource> {
        match s {
            "provider" => Some(ExpirySource::Provider),
            "admin" => Some(ExpirySource::Admin),
            _ => None,
        }
    }
}

/// What is known about when a token expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    At(NaiveDateTime),
    /// The provider says it never expires.
    Never,
    /// Not reported and not entered.
    Unknown,
}

/// The expiry badge's class of a token, by the time left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryClass {
    Expired,
    /// Less than a day left.
    Today,
    /// Within [`URGENT_DAYS`].
    Urgent,
    /// Within [`ATTENTION_DAYS`].
    Soon,
    Later,
    Never,
    Unknown,
}

impl Expiry {
    /// From the stored columns: a date wins; no date but a provider report = never expires.
    pub fn of(expires_at: Option<NaiveDateTime>, source: Option<ExpirySource>) -> Expiry {
        match (expires_at, source) {
            (Some(at), _) => Expiry::At(at),
            (None, Some(ExpirySource::Provider)) => Expiry::Never,
            (None, _) => Expiry::Unknown,
        }
    }

    /// Whole days left (negative once expired), if the date is known.
    pub fn days_left(self, now: NaiveDateTime) -> Option<i64> {
        match self {
            Expiry::At(at) => Some((at - now).num_days()),
            _ => None,
        }
    }

    pub fn is_past(self, now: NaiveDateTime) -> bool {
        matches!(self, Expiry::At(at) if at <= now)
    }

    pub fn classify(self, now: NaiveDateTime) -> ExpiryClass {
        match self {
            Expiry::At(at) if at <= now => ExpiryClass::Expired,
            Expiry::At(at) => {
                let days = (at - now).num_days();
                if days < 1 {
                    ExpiryClass::Today
                } else if days <= URGENT_DAYS {
                    ExpiryClass::Urgent
                } else if days <= ATTENTION_DAYS {
                    ExpiryClass::Soon
                } else {
                    ExpiryClass::Later
                }
            }
            Expiry::Never => ExpiryClass::Never,
            Expiry::Unknown => ExpiryClass::Unknown,
        }
    }

    /// The token lives longer than [`MAX_LIFETIME_DAYS`] after `born` (creation or rotation).
    pub fn lifetime_too_long(self, born: NaiveDateTime) -> bool {
        matches!(self, Expiry::At(at) if at - born > Duration::days(MAX_LIFETIME_DAYS))
    }
}

/// Expiries up to this instant need attention.
pub fn attention_horizon(now: NaiveDateTime) -> NaiveDateTime {
    now + Duration::days(ATTENTION_DAYS)
}

/// The smallest notification threshold (days, `FORGEKEYS_EXPIRY_WARN_DAYS`) the time left has
/// reached; none once expired.
pub fn threshold_reached(
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
    thresholds: &[i64],
) -> Option<i64> {
    let left = expires_at - now;
    if left <= Duration::zero() {
        return None;
    }
    thresholds
        .iter()
        .copied()
        .filter(|d| left <= Duration::days(*d))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64, hours: i64) -> (Expiry, NaiveDateTime) {
        let now = chrono::DateTime::UNIX_EPOCH.naive_utc() + Duration::days(20_000);
        (
            Expiry::At(now + Duration::days(days) + Duration::hours(hours)),
            now,
        )
    }

    #[test]
    fn classes_follow_the_time_left() {
        let cases = [
            ((-1, 0), ExpiryClass::Expired),
            ((0, 5), ExpiryClass::Today),
            ((3, 0), ExpiryClass::Urgent),
            ((7, 1), ExpiryClass::Urgent),
            ((8, 1), ExpiryClass::Soon),
            ((30, 1), ExpiryClass::Soon),
            ((31, 1), ExpiryClass::Later),
        ];
        for ((d, h), class) in cases {
            let (e, now) = at(d, h);
            assert_eq!(e.classify(now), class, "{d}d {h}h");
        }
        let (_, now) = at(0, 0);
        assert_eq!(Expiry::Never.classify(now), ExpiryClass::Never);
        assert_eq!(Expiry::of(None, None), Expiry::Unknown);
        assert_eq!(
            Expiry::of(None, Some(ExpirySource::Provider)),
            Expiry::Never
        );
    }

    #[test]
    fn thresholds_pick_the_smallest_reached() {
        let (e, now) = at(13, 2);
        let Expiry::At(exp) = e else { unreachable!() };
        assert_eq!(threshold_reached(exp, now, &[30, 14, 7, 1]), Some(14));
        assert_eq!(threshold_reached(exp, now, &[7, 1]), None);
        let (e, now) = at(-1, 0);
        let Expiry::At(exp) = e else { unreachable!() };
        assert_eq!(threshold_reached(exp, now, &[30, 14, 7, 1]), None);
    }

    #[test]
    fn a_lifetime_over_a_year_is_flagged() {
        let (e, now) = at(366, 0);
        assert!(e.lifetime_too_long(now));
        let (e, now) = at(200, 0);
        assert!(!e.lifetime_too_long(now));
    }
}

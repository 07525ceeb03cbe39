//! Expiry in words with a badge class (`expired`, `danger`, `warn`, `ok`, `muted`), a
//! machine-readable `kind` (`data-expiry`: `expired`, `within_7`, `within_30`, `later`, `none`,
//! `unknown`) and the best-practice lifetime warning. The rules are `domain::expiry`'s; the
//! words carry the meaning, colour only repeats it.

use super::time::{Moment, fmt_date, relative, relative_words};
use crate::domain::expiry::{Expiry, ExpiryClass};
use chrono::NaiveDateTime;

#[derive(Debug, Clone)]
pub struct ExpiryView {
    /// The one wording of an expiry, the same on the list badge, the token page, the test
    /// result and the inventory: "Expires in 18 days", "Expired 3 days ago", "Expires
    /// 2027-06-19" (past a month: the date), "No expiry set", "Expiry unknown".
    pub text: String,
    pub class: &'static str,
    pub kind: &'static str,
    /// The known expiry as a `<time>`: `text` as its words, the exact UTC time for its title.
    pub at: Option<Moment>,
    /// The date (`2026-12-19`) when `text` counts days or hours instead of naming it (paper
    /// needs the date too); `None` when `text` already names it, or no date is known.
    pub counted_date: Option<String>,
    pub days_left: Option<i64>,
    /// Best-practice warning: the token lives more than a year after it was created or last
    /// rotated. Shown as a second badge.
    pub lifetime_warning: Option<&'static str>,
    /// One sentence on the detail page explaining the warning, empty when none.
    pub advice: &'static str,
}

/// An expiry in words at `now`, with its badge class and machine-readable kind. Relative
/// within a month (the time helper of "Last test"), the date beyond.
pub fn expiry_words(expiry: Expiry, now: NaiveDateTime) -> (String, &'static str, &'static str) {
    let Expiry::At(at) = expiry else {
        return match expiry {
            // Neutral: the lifetime advice on the detail page says why an expiry is better.
            Expiry::Never => ("No expiry set".to_string(), "muted", "none"),
            _ => ("Expiry unknown".to_string(), "muted", "unknown"),
        };
    };
    let ahead = || match relative_words(at, now).as_str() {
        "just now" => "in under a minute".to_string(),
        w => w.to_string(),
    };
    match expiry.classify(now) {
        ExpiryClass::Expired => (
            format!("Expired {}", relative(at, now)),
            "expired",
            "expired",
        ),
        ExpiryClass::Today | ExpiryClass::Urgent => {
            (format!("Expires {}", ahead()), "danger", "within_7")
        }
        ExpiryClass::Soon => (format!("Expires {}", ahead()), "warn", "within_30"),
        ExpiryClass::Later => (format!("Expires {}", fmt_date(at)), "ok", "later"),
        ExpiryClass::Never => ("No expiry set".to_string(), "muted", "none"),
        ExpiryClass::Unknown => ("Expiry unknown".to_string(), "muted", "unknown"),
    }
}

/// The expiry view of `expiry` at `now`; `born` is when the token was rotated, or else created.
pub fn expiry_view(expiry: Expiry, born: NaiveDateTime, now: NaiveDateTime) -> ExpiryView {
    let (text, class, kind) = expiry_words(expiry, now);
    let (at, counted_date) = match expiry {
        Expiry::At(t) => {
            let date = fmt_date(t);
            let counted = (!text.ends_with(&date)).then_some(date);
            (Some(Moment::worded(t, text.clone())), counted)
        }
        _ => (None, None),
    };
    let long = expiry.lifetime_too_long(born);
    let advice = match expiry {
        Expiry::At(_) if long => {
            "Best practice: tokens should expire within a year of being created or rotated. Rotate it with a shorter expiry."
        }
        Expiry::At(_) => "",
        Expiry::Never => {
            "Best practice: tokens should expire within a year. This one never expires; replace it with a token that has an expiry date."
        }
        Expiry::Unknown => {
            "The provider does not report an expiry for this token. Edit it to enter the expiry date so Forgekeys can warn you in time."
        }
    };
    ExpiryView {
        text,
        class,
        kind,
        at,
        counted_date,
        days_left: expiry.days_left(now),
        lifetime_warning: long.then_some("Lifetime over 1 year"),
        advice,
    }
}

/// A token the provider rejects gets no green "expires later" badge: its expiry date says
/// nothing good about it.
pub fn trusted_expiry(mut e: ExpiryView, status: crate::domain::status::TestStatus) -> ExpiryView {
    if e.class == "ok"
        && matches!(
            status,
            crate::domain::status::TestStatus::Invalid | crate::domain::status::TestStatus::Expired
        )
    {
        e.class = "muted";
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> NaiveDateTime {
        chrono::DateTime::UNIX_EPOCH.naive_utc() + Duration::days(20_000) + Duration::hours(9)
    }

    fn words(d: Duration) -> String {
        expiry_words(Expiry::At(now() + d), now()).0
    }

    #[test]
    fn relative_within_a_month_the_date_beyond() {
        let (h, days) = (Duration::hours, Duration::days);
        assert_eq!(words(days(18) + h(3)), "Expires in 18 days");
        assert_eq!(words(days(1)), "Expires in 1 day");
        assert_eq!(words(h(5)), "Expires in 5 hours");
        assert_eq!(words(Duration::seconds(20)), "Expires in under a minute");
        assert_eq!(words(days(30) + h(23)), "Expires in 30 days");
        let later = now() + days(31) + h(1);
        assert_eq!(
            words(days(31) + h(1)),
            format!("Expires {}", fmt_date(later))
        );
        assert_eq!(words(-days(3) - h(2)), "Expired 3 days ago");
        assert_eq!(words(-h(2)), "Expired 2 hours ago");
        let long_ago = now() - days(45);
        assert_eq!(words(-days(45)), format!("Expired {}", fmt_date(long_ago)));
        assert_eq!(expiry_words(Expiry::Never, now()).0, "No expiry set");
        assert_eq!(expiry_words(Expiry::Unknown, now()).0, "Expiry unknown");
    }

    #[test]
    fn the_view_carries_the_exact_time_and_the_counted_date() {
        let at = now() + Duration::days(18);
        let v = expiry_view(Expiry::At(at), now(), now());
        let m = v.at.clone().unwrap_or_else(|| Moment::date(now()));
        assert_eq!(m.words, v.text);
        assert!(m.exact.ends_with(" UTC") && m.iso.ends_with('Z'), "{m:?}");
        assert_eq!(v.counted_date, Some(fmt_date(at)));
        let far = expiry_view(Expiry::At(now() + Duration::days(200)), now(), now());
        assert_eq!(far.counted_date, None, "the words name the date");
        assert!(expiry_view(Expiry::Never, now(), now()).at.is_none());
    }
}

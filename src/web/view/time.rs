//! Times on pages: always UTC, said so.

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

// Written field by field: `format("%Y-…")` parses its pattern on every call, and a list page
// formats a hundred times.

/// `2026-12-01 09:58 UTC`.
pub fn fmt_time(t: NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `2026-12-01`.
pub fn fmt_date(t: NaiveDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

pub fn fmt_dt(t: DateTime<Utc>) -> String {
    fmt_time(t.naive_utc())
}

/// The `datetime` attribute of a `<time>`: `2026-12-01T09:58:00Z`.
pub fn iso(t: NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn plural(n: i64, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `t` relative to `now` in words: "just now", "3 hours ago", "in 18 days". Past a month, the
/// date (the exact time is the `<time>` element's title).
pub fn relative(t: NaiveDateTime, now: NaiveDateTime) -> String {
    if (now - t).num_seconds().abs() >= MONTH_SECS {
        return fmt_date(t);
    }
    relative_words(t, now)
}

/// A month, for [`relative`]: 30 days.
const MONTH_SECS: i64 = 2_592_000;

/// `t` relative to `now` in words however far it is ("in 45 days"); "just now" within a
/// minute either way. [`relative`] turns to the date past a month; the expiry badges count
/// their days with this up to where they show the date ([`super::expiry`]).
pub fn relative_words(t: NaiveDateTime, now: NaiveDateTime) -> String {
    let secs = (now - t).num_seconds();
    let (ago, s) = (secs >= 0, secs.abs());
    let words = match s {
        0..60 => return "just now".into(),
        60..3600 => plural(s / 60, "minute"),
        3600..86_400 => plural(s / 3600, "hour"),
        _ => plural(s / 86_400, "day"),
    };
    if ago {
        format!("{words} ago")
    } else {
        format!("in {words}")
    }
}

/// A moment on a page: relative words, the exact UTC time for hover and `<time datetime>`.
#[derive(Debug, Clone)]
pub struct Moment {
    pub iso: String,
    pub exact: String,
    pub words: String,
}

impl Moment {
    pub fn new(t: NaiveDateTime, now: NaiveDateTime) -> Moment {
        Moment::worded(t, relative(t, now))
    }

    /// `t` with words of the caller's (e.g. "Expires in 18 days").
    pub fn worded(t: NaiveDateTime, words: String) -> Moment {
        Moment {
            iso: iso(t),
            exact: fmt_time(t),
            words,
        }
    }

    /// `t` as its date ("2026-12-01"), the exact time for hover.
    pub fn date(t: NaiveDateTime) -> Moment {
        Moment::worded(t, fmt_date(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_strftime() {
        let t = chrono::NaiveDate::from_ymd_opt(2031, 2, 3)
            .and_then(|d| d.and_hms_opt(4, 5, 6))
            .unwrap();
        assert_eq!(fmt_time(t), t.format("%Y-%m-%d %H:%M UTC").to_string());
        assert_eq!(fmt_date(t), t.format("%Y-%m-%d").to_string());
        assert_eq!(iso(t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }

    #[test]
    fn relative_wording() {
        let now = chrono::NaiveDate::from_ymd_opt(2031, 2, 3)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap();
        let h = chrono::Duration::hours;
        assert_eq!(relative(now, now), "just now");
        assert_eq!(
            relative(now - chrono::Duration::minutes(1), now),
            "1 minute ago"
        );
        assert_eq!(relative(now - h(3), now), "3 hours ago");
        assert_eq!(relative(now + h(24 * 18), now), "in 18 days");
        assert_eq!(relative(now - h(24 * 40), now), fmt_date(now - h(24 * 40)));
        assert_eq!(relative_words(now + h(24 * 45), now), "in 45 days");
        assert_eq!(relative_words(now - h(24 * 45 + 5), now), "45 days ago");
    }
}

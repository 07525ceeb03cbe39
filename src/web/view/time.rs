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
    }
}

//! Times on pages: always UTC, said so.

use chrono::{DateTime, NaiveDateTime, Utc};

pub fn fmt_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn fmt_date(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub fn fmt_dt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

//! Expiry in words with a badge class (`expired`, `danger`, `warn`, `ok`, `muted`), a
//! machine-readable `kind` (`data-expiry`: `expired`, `within_7`, `within_30`, `later`, `none`,
//! `unknown`) and the best-practice lifetime warning. The rules are `domain::expiry`'s; the
//! words carry the meaning, colour only repeats it.

use super::time::fmt_date;
use crate::domain::expiry::{Expiry, ExpiryClass};
use chrono::NaiveDateTime;

#[derive(Debug, Clone)]
pub struct ExpiryView {
    pub text: String,
    pub class: &'static str,
    pub kind: &'static str,
    pub date: Option<String>,
    pub days_left: Option<i64>,
    /// Best-practice warning: the token lives more than a year after it was created or last
    /// rotated. Shown as a second badge.
    pub lifetime_warning: Option<&'static str>,
    /// One sentence on the detail page explaining the warning, empty when none.
    pub advice: &'static str,
}

/// The expiry view of `expiry` at `now`; `born` is when the token was rotated, or else created.
pub fn expiry_view(expiry: Expiry, born: NaiveDateTime, now: NaiveDateTime) -> ExpiryView {
    let days = expiry.days_left(now);
    let date = match expiry {
        Expiry::At(at) => Some(fmt_date(at)),
        _ => None,
    };
    let d = date.clone().unwrap_or_default();
    let n = days.unwrap_or(0);
    let (text, class, kind) = match expiry.classify(now) {
        ExpiryClass::Expired => (format!("Expired {d}"), "expired", "expired"),
        ExpiryClass::Today => ("Expires today".to_string(), "danger", "within_7"),
        ExpiryClass::Urgent => (
            format!("Expires in {n} day{}", if n == 1 { "" } else { "s" }),
            "danger",
            "within_7",
        ),
        ExpiryClass::Soon => (format!("Expires in {n} days"), "warn", "within_30"),
        ExpiryClass::Later => (format!("Expires {d}"), "ok", "later"),
        // Neutral: the lifetime advice on the detail page says why an expiry is better.
        ExpiryClass::Never => ("No expiry set".to_string(), "muted", "none"),
        ExpiryClass::Unknown => ("Expiry unknown".to_string(), "muted", "unknown"),
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
        date,
        days_left: days,
        lifetime_warning: long.then_some("Lifetime over 1 year"),
        advice,
    }
}

//! The rotation forms (DESIGN.md §7): fields and their messages.

use chrono::NaiveDate;

/// `POST …/rotate` fields (`token`, `confirm_account_change`; `expires_on` for providers that
/// do not report an expiry).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub confirm_account_change: String,
    #[serde(default)]
    pub expires_on: String,
}

/// `POST …/rotate-at-provider` fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ProviderRotateForm {
    #[serde(default)]
    pub expires_on: String,
}

/// Whether a checkbox was ticked.
pub fn checked(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "on" | "yes")
}

/// Longest expiry accepted, from today.
const MAX_DAYS_AHEAD: i64 = 3660;

/// Parse an optional `YYYY-MM-DD` date that must lie after `today`.
pub fn parse_future_date(raw: &str, today: NaiveDate) -> Result<Option<NaiveDate>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| "Enter the date as YYYY-MM-DD, e.g. 2027-01-31.".to_string())?;
    if d <= today {
        return Err("The expiry date must be after today.".into());
    }
    if d > today + chrono::Duration::days(MAX_DAYS_AHEAD) {
        return Err("The expiry date is more than ten years away; check the year.".into());
    }
    Ok(Some(d))
}

/// A posted date to show again in a `type=date` input: only a well-formed one (anything else
/// would make the page invalid HTML; the field's message says what was wrong).
pub fn date_echo(raw: &str) -> String {
    let s = raw.trim();
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => d.format("%Y-%m-%d").to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates_must_be_well_formed_and_ahead() {
        let today = NaiveDate::from_ymd_opt(2030, 6, 15).unwrap_or_default();
        assert_eq!(parse_future_date(" ", today), Ok(None));
        assert_eq!(parse_future_date("2030-06-16", today), Ok(today.succ_opt()));
        assert!(parse_future_date("2030-06-15", today).is_err());
        assert!(parse_future_date("16/06/2030", today).is_err());
        assert!(parse_future_date("2050-01-01", today).is_err());
        assert_eq!(date_echo("2030-6-1"), "2030-06-01");
        assert_eq!(date_echo("<script>"), "");
    }
}

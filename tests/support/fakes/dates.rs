//! Every date the fake providers report, in one place, computed relative to now — never a
//! calendar date written into a fixture (a fixture that says "2026-10-03" is valid in
//! September and expired in October, and the suite would change behaviour with the calendar).
//!
//! **The anchor.** A fake's dates are computed from the moment the fake server started
//! ([`super::FakeServer::anchor`], also in every [`super::RecordedRequest`]), which is "now" for
//! the test that started it, to the second. A real token's expiry does not move between two
//! requests, so the fake's does not either: a test can compare what it stored on the first
//! request with what the fake says on the tenth, and compute the exact expected value with
//! [`github_expiry`] / [`gitlab_expiry`].
//!
//! **Lifetimes.** A token's lifetime comes from an `exp` marker anywhere in the token value, so
//! a test that needs "expires in 3 days" makes such a token: `ghp_allscopes_exp+3d_x`,
//! `glpat-maintainer_exp-60d` (expired 60 days ago), `ghp_allscopes_exp+2h`. Units: `d` days,
//! `h` hours, `m` minutes. Without a marker a provider's default applies ([`GITHUB_DEFAULT`],
//! [`GITLAB_DEFAULT`]).
//!
//! **Formats**, as the real providers send them:
//! - GitHub `github-authentication-token-expiration`: `2026-10-03 11:43:41 UTC` and with a
//!   numeric offset, `2027-03-01 11:43:41 +0100` / `… -0700` (provider-apis.md §1.4 and §6,
//!   recorded in PyGithub `tests/ReplayData`). [`github_utc`], [`github_offset`].
//! - GitLab `expires_at`: a date only, `YYYY-MM-DD`; the token expires at midnight UTC that day
//!   (provider-apis.md §2.2, `lib/api/entities/personal_access_token.rb`). [`gitlab_date`].
//! - GitHub `x-ratelimit-reset`: UTC epoch seconds (provider-apis.md §1.4). [`epoch`].
//! - Timestamps in bodies (`created_at`, `last_used_at`): RFC 3339 with milliseconds and `Z`,
//!   as GitLab's entities render them. [`rfc3339_ms`].

#![allow(dead_code)]

use chrono::{DateTime, Duration, FixedOffset, NaiveTime, SubsecRound, Utc};

/// Lifetime of a GitHub token without a marker: 90 days, one of the lifetimes GitHub offers
/// when a token is made (7, 30, 60, 90 days or custom).
pub const GITHUB_DEFAULT: Duration = Duration::days(90);
/// Lifetime of a GitLab token without a marker (`expires_at` = that many days after the
/// anchor's date).
pub const GITLAB_DEFAULT: Duration = Duration::days(60);

/// The anchor of a fake started now.
pub fn anchor_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// The `exp±N{d,h,m}` marker of a token value, if any.
pub fn marker(token: &str) -> Option<Duration> {
    let mut rest = token;
    while let Some(i) = rest.find("exp") {
        let after = &rest[i + 3..];
        let mut chars = after.chars();
        let sign = match chars.next() {
            Some('+') => 1,
            Some('-') => -1,
            _ => {
                rest = after;
                continue;
            }
        };
        let digits: String = after[1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let unit = after[1 + digits.len()..].chars().next();
        if let (Ok(n), Some(unit)) = (digits.parse::<i64>(), unit) {
            let d = match unit {
                'd' => Duration::days(n),
                'h' => Duration::hours(n),
                'm' => Duration::minutes(n),
                _ => {
                    rest = after;
                    continue;
                }
            };
            return Some(d * sign);
        }
        rest = after;
    }
    None
}

/// When a GitHub token expires: the anchor plus its marker (or [`GITHUB_DEFAULT`]).
pub fn github_expiry(anchor: DateTime<Utc>, token: &str) -> DateTime<Utc> {
    anchor + marker(token).unwrap_or(GITHUB_DEFAULT)
}

/// When a GitLab token expires: midnight UTC of the date the anchor plus its marker (or
/// [`GITLAB_DEFAULT`]) falls on — GitLab keeps a date only.
pub fn gitlab_expiry(anchor: DateTime<Utc>, token: &str) -> DateTime<Utc> {
    let at = anchor + marker(token).unwrap_or(GITLAB_DEFAULT);
    at.date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// GitHub's expiration header in UTC: `2026-10-03 11:43:41 UTC`.
pub fn github_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// GitHub's expiration header with a numeric offset (`minutes` east of UTC):
/// `2027-03-01 11:43:41 +0100`, `2027-03-01 03:43:41 -0700`.
pub fn github_offset(at: DateTime<Utc>, minutes: i32) -> String {
    let tz = FixedOffset::east_opt(minutes * 60).unwrap_or(FixedOffset::east_opt(0).unwrap());
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string()
}

/// GitLab's date-only `expires_at`: `2026-01-31`.
pub fn gitlab_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// The `expires_on` form field (`YYYY-MM-DD`) for an instant's date.
pub fn form_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// Whether Bitbucket still took app passwords at `at`: they stopped working on the day the
/// product names ([`forgekeys::providers::BITBUCKET_APP_PASSWORDS_END`], provider-apis.md §6).
pub fn before_app_passwords_end(at: DateTime<Utc>) -> bool {
    at.date_naive() < forgekeys::providers::BITBUCKET_APP_PASSWORDS_END
}

/// UTC epoch seconds, as in `x-ratelimit-reset`.
pub fn epoch(at: DateTime<Utc>) -> String {
    at.timestamp().to_string()
}

/// `2025-01-20T22:11:48.151Z`, as GitLab renders timestamps.
pub fn rfc3339_ms(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The minute-precision form the pages show: `2026-10-03 11:43 UTC`.
pub fn page_minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The naive UTC timestamp as stored (and as `NaiveDateTime::to_string` prints it).
pub fn stored(at: DateTime<Utc>) -> String {
    at.naive_utc().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_formats() {
        assert_eq!(marker("ghp_allscopes_exp+3d_x"), Some(Duration::days(3)));
        assert_eq!(marker("glpat-owner_exp-60d"), Some(Duration::days(-60)));
        assert_eq!(marker("ghp_x_exp+2h"), Some(Duration::hours(2)));
        assert_eq!(marker("ghp_noexpiry_a"), None);
        assert_eq!(marker("ghp_offsetexpiry_exp+5d"), Some(Duration::days(5)));
        let at = DateTime::parse_from_rfc3339("2030-03-01T10:43:41Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(github_utc(at), "2030-03-01 10:43:41 UTC");
        assert_eq!(github_offset(at, 60), "2030-03-01 11:43:41 +0100");
        assert_eq!(github_offset(at, -420), "2030-03-01 03:43:41 -0700");
        assert_eq!(gitlab_date(at), "2030-03-01");
    }
}

//! The text of the webhook messages (Slack's message format). They leave Forgekeys, so they
//! are written here rather than in a page; links come from `web::urls`. A message names the
//! token, its provider, the organization and a link — never a secret, never the webhook URL.

use crate::domain::provider::Provider;
use crate::domain::status::TestStatus;
use chrono::NaiveDateTime;

/// Escape text for Slack's message format (`&`, `<`, `>`).
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A token, as a message names it.
pub struct Subject<'a> {
    pub provider: Provider,
    pub token_name: &'a str,
    pub org_name: &'a str,
    /// Absolute link to the token's page.
    pub link: &'a str,
}

/// "in 3 days", "in 1 day", "in less than a day" (`days_left` 0 or less).
fn within(days_left: i64) -> String {
    if days_left < 1 {
        "in less than a day".to_string()
    } else {
        format!(
            "in {days_left} day{}",
            if days_left == 1 { "" } else { "s" }
        )
    }
}

/// "…expires in 3 days (on 2031-05-01)…"; `days_left` 0 = less than a day.
pub fn expiry(s: &Subject<'_>, expires_at: NaiveDateTime, days_left: i64) -> String {
    let when = within(days_left);
    format!(
        "Forgekeys: the {} token “{}” of {} expires {when} (on {}). Rotate it before then: {}",
        s.provider.label(),
        slack_escape(s.token_name),
        slack_escape(s.org_name),
        expires_at.format("%Y-%m-%d"),
        s.link
    )
}

/// "…the API key “terraform” (fkp_3f9a1c) of Acme expires in 3 days…"
pub fn key_expiry(
    name: &str,
    hint: &str,
    org_name: &str,
    expires_at: NaiveDateTime,
    days_left: i64,
    link: &str,
) -> String {
    let when = within(days_left);
    format!(
        "Forgekeys: the API key “{}” ({hint}…) of {} expires {when} (on {}). Make a new key and switch to it before then: {link}",
        slack_escape(name),
        slack_escape(org_name),
        expires_at.format("%Y-%m-%d"),
    )
}

/// "…is now Invalid (was Valid)…", with the missing permissions when that is the problem.
pub fn status_change(
    s: &Subject<'_>,
    now: TestStatus,
    was: TestStatus,
    missing: &[String],
) -> String {
    let missing = if now == TestStatus::MissingPermissions {
        format!(" (missing: {})", slack_escape(&missing.join(", ")))
    } else {
        String::new()
    };
    format!(
        "Forgekeys: the {} token “{}” of {} is now {}{missing} (was {}). Services that use it \
         may fail to deploy. Details: {}",
        s.provider.label(),
        slack_escape(s.token_name),
        slack_escape(s.org_name),
        now.label(),
        was.label(),
        s.link
    )
}

/// A service key, as a message names it (its hint, never its value).
pub struct KeySubject<'a> {
    pub key_name: &'a str,
    pub key_hint: &'a str,
    pub service_name: &'a str,
    pub org_name: &'a str,
    /// Absolute link to the service's page.
    pub link: &'a str,
}

/// "…the service key “ci” (fks_3f9a1c) of the service “web” of Acme expires in 3 days…".
pub fn service_key_expiry(s: &KeySubject<'_>, expires_at: NaiveDateTime, days_left: i64) -> String {
    let when = within(days_left);
    format!(
        "Forgekeys: the service key “{}” ({}) of the service “{}” of {} expires {when} (on {}). \
         Builds that fetch Git credentials with it will then fail: make a new key and update \
         FORGEKEYS_SERVICE_KEY before then: {}",
        slack_escape(s.key_name),
        slack_escape(s.key_hint),
        slack_escape(s.service_name),
        slack_escape(s.org_name),
        expires_at.format("%Y-%m-%d"),
        s.link
    )
}

/// The message of the settings page's "Send test message".
pub fn test(org_name: &str, actor_email: &str) -> String {
    format!(
        "Forgekeys: test message for {} (sent by {}). Expiry warnings and status changes of \
         Git tokens will arrive here.",
        slack_escape(org_name),
        slack_escape(actor_email)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_escape_names_and_count_days() {
        assert_eq!(slack_escape("a<b>&c"), "a&lt;b&gt;&amp;c");
        let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let s = Subject {
            provider: Provider::Gitlab,
            token_name: "<deploy>",
            org_name: "A&B",
            link: "https://fk.example/orgs/ab/settings/git-tokens/t1",
        };
        let m = expiry(&s, at, 0);
        assert!(m.contains("GitLab token “&lt;deploy&gt;” of A&amp;B expires in less than a day"));
        assert!(expiry(&s, at, 1).contains("expires in 1 day (on 1970-01-01)"));
        assert!(expiry(&s, at, 5).contains("expires in 5 days"));
        let m = status_change(
            &s,
            TestStatus::MissingPermissions,
            TestStatus::Valid,
            &["api".into(), "read_repository".into()],
        );
        assert!(
            m.contains("is now Missing permissions (missing: api, read_repository) (was Valid)")
        );
        assert!(m.ends_with(s.link));
    }
}

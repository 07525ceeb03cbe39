//! Scope hierarchies and the date formats providers report expiry in.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::collections::BTreeSet;

/// GitHub classic scopes and the scopes each one includes (scopes-for-oauth-apps page).
const GITHUB_IMPLIES: &[(&str, &[&str])] = &[
    (
        "repo",
        &[
            "repo:status",
            "repo_deployment",
            "public_repo",
            "repo:invite",
            "security_events",
        ],
    ),
    ("admin:repo_hook", &["write:repo_hook"]),
    ("write:repo_hook", &["read:repo_hook"]),
    ("admin:org", &["write:org"]),
    ("write:org", &["read:org"]),
    ("admin:public_key", &["write:public_key"]),
    ("write:public_key", &["read:public_key"]),
    ("admin:gpg_key", &["write:gpg_key"]),
    ("write:gpg_key", &["read:gpg_key"]),
    ("admin:ssh_signing_key", &["write:ssh_signing_key"]),
    ("write:ssh_signing_key", &["read:ssh_signing_key"]),
    ("user", &["read:user", "user:email", "user:follow"]),
    ("write:packages", &["read:packages"]),
    ("project", &["read:project"]),
    (
        "admin:enterprise",
        &["manage_runners:enterprise", "manage_billing:enterprise"],
    ),
    ("manage_billing:enterprise", &["read:enterprise"]),
    ("codespace", &["codespace:secrets"]),
    ("audit_log", &["read:audit_log"]),
];

/// Bitbucket Cloud scope implications (REST intro, scope descriptions).
/// `repository:admin` implies neither read nor write.
const BITBUCKET_IMPLIES: &[(&str, &[&str])] = &[
    ("repository:write", &["repository"]),
    ("repository:delete", &[]),
    ("pullrequest", &["repository"]),
    ("pullrequest:write", &["pullrequest", "repository:write"]),
    ("project", &["repository"]),
    ("project:admin", &["project"]),
    ("pipeline:write", &["pipeline"]),
    ("runner:write", &["runner"]),
    ("issue:write", &["issue"]),
    ("wiki", &[]),
    ("snippet:write", &["snippet"]),
    ("account:write", &["account"]),
];

fn expand(table: &[(&str, &[&str])], scopes: &[String]) -> Vec<String> {
    let mut set: BTreeSet<String> = scopes.iter().map(|s| s.trim().to_owned()).collect();
    set.remove("");
    loop {
        let mut added = false;
        for (parent, children) in table {
            if set.contains(*parent) {
                for child in *children {
                    added |= set.insert((*child).to_owned());
                }
            }
        }
        if !added {
            break;
        }
    }
    set.into_iter().collect()
}

/// Every scope a set of GitHub classic scopes grants, sorted.
pub(crate) fn expand_github(scopes: &[String]) -> Vec<String> {
    expand(GITHUB_IMPLIES, scopes)
}

/// Every scope a set of Bitbucket scopes grants, sorted.
pub(crate) fn expand_bitbucket(scopes: &[String]) -> Vec<String> {
    expand(BITBUCKET_IMPLIES, scopes)
}

/// Splits a scope header on commas and whitespace, dropping empties.
pub(crate) fn split_scopes(header: &str) -> Vec<String> {
    header
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// GitHub `github-authentication-token-expiration`: `2026-10-03 11:43:41 UTC` or
/// `2026-12-02 07:00:00 +0800`. Anything else ⇒ `None` (expiry unknown).
pub(crate) fn parse_github_expiry(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Some(naive) = value.strip_suffix(" UTC") {
        return NaiveDateTime::parse_from_str(naive.trim(), "%Y-%m-%d %H:%M:%S")
            .ok()
            .map(|n| n.and_utc());
    }
    DateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S %z")
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// GitLab `expires_at` (`YYYY-MM-DD`): the token expires at midnight UTC of that date.
pub(crate) fn parse_gitlab_date(value: &str) -> Option<DateTime<Utc>> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn github_hierarchy() {
        let e = expand_github(&v(&["repo", "admin:repo_hook", "admin:org"]));
        for s in [
            "repo:status",
            "public_repo",
            "repo:invite",
            "security_events",
            "repo_deployment",
            "write:repo_hook",
            "read:repo_hook",
            "write:org",
            "read:org",
        ] {
            assert!(e.contains(&s.to_owned()), "{s} in {e:?}");
        }
        let p = expand_github(&v(&["public_repo"]));
        assert_eq!(p, v(&["public_repo"]), "public_repo is not repo");
        // repo does not include admin:repo_hook.
        assert!(!expand_github(&v(&["repo"])).contains(&"admin:repo_hook".to_owned()));
        assert!(expand_github(&v(&["write:org"])).contains(&"read:org".to_owned()));
        assert!(!expand_github(&v(&["read:org"])).contains(&"write:org".to_owned()));
    }

    #[test]
    fn bitbucket_implications() {
        let e = expand_bitbucket(&v(&["pullrequest:write"]));
        assert_eq!(
            e,
            v(&[
                "pullrequest",
                "pullrequest:write",
                "repository",
                "repository:write"
            ])
        );
        assert_eq!(
            expand_bitbucket(&v(&["repository:admin"])),
            v(&["repository:admin"])
        );
        assert_eq!(
            split_scopes("pullrequest:write, repository webhook,,"),
            v(&["pullrequest:write", "repository", "webhook"])
        );
        assert!(split_scopes("  ").is_empty());
    }

    #[test]
    fn github_expiry_formats() {
        assert_eq!(
            parse_github_expiry("2026-10-03 11:43:41 UTC"),
            Some(Utc.with_ymd_and_hms(2026, 10, 3, 11, 43, 41).unwrap())
        );
        assert_eq!(
            parse_github_expiry("2026-12-02 07:00:00 +0800"),
            Some(Utc.with_ymd_and_hms(2026, 12, 1, 23, 0, 0).unwrap())
        );
        assert_eq!(parse_github_expiry("next tuesday"), None);
        assert_eq!(parse_github_expiry(""), None);
    }

    #[test]
    fn gitlab_dates() {
        assert_eq!(
            parse_gitlab_date("2026-01-31"),
            Some(Utc.with_ymd_and_hms(2026, 1, 31, 0, 0, 0).unwrap())
        );
        assert_eq!(parse_gitlab_date("2026-01-31T00:00:00Z"), None);
    }
}

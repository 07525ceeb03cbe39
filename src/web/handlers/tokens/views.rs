//! View models for token pages: everything a template shows, already in words. Never the secret.

use crate::db::models::token::GitToken;
use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::{
    CloneCheck, CloneResult, MissingPermission, TestOutcome, TestStatus,
};
use chrono::{DateTime, NaiveDateTime, Utc};

pub fn fmt_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn fmt_date(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Expiry in words with a badge class (`expired`, `danger`, `warn`, `ok`, `muted`), a
/// machine-readable `kind` (`data-expiry`: `expired`, `within_7`, `within_30`, `later`,
/// `none`, `unknown`) and the best-practice lifetime warning. The words carry the meaning;
/// colour only repeats it.
#[derive(Debug, Clone)]
pub struct ExpiryView {
    pub text: String,
    pub class: &'static str,
    pub kind: &'static str,
    pub date: Option<String>,
    pub days_left: Option<i64>,
    /// Best-practice warning: the token lives more than a year (expiry more than 365 days after
    /// it was created or last rotated). Shown as a second badge.
    pub lifetime_warning: Option<&'static str>,
    /// One sentence on the detail page explaining the warning, empty when none.
    pub advice: &'static str,
}

/// Longest recommended token lifetime.
pub const MAX_LIFETIME_DAYS: i64 = 365;

pub fn expiry_view(t: &GitToken, now: NaiveDateTime) -> ExpiryView {
    expiry_view_of(
        t.expires_at,
        t.expiry_source.as_deref(),
        t.rotated_at.unwrap_or(t.created_at),
        now,
    )
}

/// [`expiry_view`] from the columns it reads; `born` is when the token was rotated, or else
/// created.
pub fn expiry_view_of(
    expires_at: Option<NaiveDateTime>,
    expiry_source: Option<&str>,
    born: NaiveDateTime,
    now: NaiveDateTime,
) -> ExpiryView {
    match (expires_at, expiry_source) {
        (Some(exp), _) => {
            let days = (exp - now).num_days();
            let date = fmt_date(exp);
            let (text, class, kind) = if exp <= now {
                (format!("Expired {date}"), "expired", "expired")
            } else if days < 1 {
                ("Expires today".to_string(), "danger", "within_7")
            } else if days <= 7 {
                (
                    format!("Expires in {days} day{}", if days == 1 { "" } else { "s" }),
                    "danger",
                    "within_7",
                )
            } else if days <= 30 {
                (format!("Expires in {days} days"), "warn", "within_30")
            } else {
                (format!("Expires {date}"), "ok", "later")
            };
            let long = exp - born > chrono::Duration::days(MAX_LIFETIME_DAYS);
            ExpiryView {
                text,
                class,
                kind,
                date: Some(date),
                days_left: Some(days),
                lifetime_warning: long.then_some("Lifetime over 1 year"),
                advice: if long {
                    "Best practice: tokens should expire within a year of being created or rotated. Rotate it with a shorter expiry."
                } else {
                    ""
                },
            }
        }
        (None, Some("provider")) => ExpiryView {
            text: "No expiry set".into(),
            class: "warn",
            kind: "none",
            date: None,
            days_left: None,
            lifetime_warning: None,
            advice: "Best practice: tokens should expire within a year. This one never expires; replace it with a token that has an expiry date.",
        },
        _ => ExpiryView {
            text: "Expiry unknown".into(),
            class: "muted",
            kind: "unknown",
            date: None,
            days_left: None,
            lifetime_warning: None,
            advice: "The provider does not report an expiry for this token. Edit it to enter the expiry date so Forgekeys can warn you in time.",
        },
    }
}

/// Badge class for a status.
pub fn status_class(s: TestStatus) -> &'static str {
    match s {
        TestStatus::Valid => "ok",
        TestStatus::MissingPermissions => "warn",
        TestStatus::NotTested => "muted",
        TestStatus::Invalid | TestStatus::Expired => "danger",
        TestStatus::Unreachable | TestStatus::Error => "danger",
    }
}

/// A token as listed and shown.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub provider: &'static str,
    pub provider_label: &'static str,
    pub hosting: &'static str,
    pub hosting_label: &'static str,
    /// URL for self-hosted, workspace for Bitbucket, else empty.
    pub location: String,
    pub workspace: String,
    /// Bitbucket API tokens and app passwords: the username sent with the token.
    pub username: String,
    pub url: String,
    pub description: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub status_class: &'static str,
    pub expiry: ExpiryView,
    pub services: i64,
    /// Hygiene: no service uses it.
    pub unused: bool,
    /// Hygiene: another token of the organization has the same provider, server/workspace and
    /// account (set by the pages that know all tokens; see [`duplicate_ids`]).
    pub duplicate: bool,
    pub last_test: String,
    pub account: String,
    pub hint: String,
    pub created: String,
    pub updated: String,
}

impl TokenView {
    pub fn new(t: &GitToken, services: i64, now: NaiveDateTime) -> TokenView {
        let provider: Provider = t.provider();
        let hosting: Hosting = t.hosting();
        let status = t.status();
        let location = match (provider, &t.url, &t.workspace) {
            (Provider::Bitbucket, _, Some(w)) => format!("workspace {w}"),
            (_, Some(u), _) => u.clone(),
            _ => String::new(),
        };
        TokenView {
            id: t.id.clone(),
            name: t.name.clone(),
            provider: provider.as_str(),
            provider_label: provider.label(),
            hosting: hosting.as_str(),
            hosting_label: provider.hosting_label(hosting),
            location,
            workspace: t.workspace.clone().unwrap_or_default(),
            username: t.username.clone().unwrap_or_default(),
            url: t.url.clone().unwrap_or_default(),
            description: t.description.clone().unwrap_or_default(),
            status: status.as_str(),
            status_label: status.label(),
            status_class: status_class(status),
            expiry: expiry_view(t, now),
            services,
            unused: services == 0,
            duplicate: false,
            last_test: t
                .last_tested_at
                .map(fmt_time)
                .unwrap_or_else(|| "Never".into()),
            account: t.account.as_deref().map(unquote).unwrap_or_default(),
            hint: t.hint.clone(),
            created: format!(
                "{}{}",
                fmt_time(t.created_at),
                t.created_by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default()
            ),
            updated: format!(
                "{}{}",
                fmt_time(t.updated_at),
                t.updated_by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// A test result as shown in the result panel (`data-status` on its root element).
#[derive(Debug, Clone)]
pub struct ResultView {
    pub status: &'static str,
    pub status_label: &'static str,
    pub status_class: &'static str,
    pub headline: String,
    pub account: String,
    pub token_kind: String,
    pub scopes: Vec<String>,
    pub missing: Vec<MissingPermission>,
    pub warnings: Vec<String>,
    pub details: Vec<String>,
    pub expiry: String,
    pub server_version: String,
    pub reason: String,
    pub tested_at: String,
    /// The clone-level check (`data-clone="passed|failed|skipped|error"`), if it ran or was
    /// recorded.
    pub clone: Option<CloneView>,
}

/// The clone-level check in words.
#[derive(Debug, Clone)]
pub struct CloneView {
    pub result: &'static str,
    pub label: &'static str,
    pub class: &'static str,
    pub repository: String,
    pub url: String,
    pub username: String,
    pub message: String,
}

impl CloneView {
    fn new(c: &CloneCheck) -> CloneView {
        CloneView {
            result: c.result.as_str(),
            label: c.result.label(),
            class: match c.result {
                CloneResult::Passed => "ok",
                CloneResult::Failed => "danger",
                CloneResult::Skipped => "muted",
                CloneResult::Error => "warn",
            },
            repository: c.repository.clone().unwrap_or_default(),
            url: c.url.clone().unwrap_or_default(),
            username: c.username.clone().unwrap_or_default(),
            message: unquote(&c.message),
        }
    }
}

/// Provider texts mark names with backticks (`repo`); show them with typographic quotes.
pub fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open = true;
    for c in text.chars() {
        if c == '`' {
            out.push(if open { '“' } else { '”' });
            open = !open;
        } else {
            out.push(c);
        }
    }
    out
}

fn fmt_dt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

impl ResultView {
    /// The result in words; days left are counted from `now`.
    pub fn new(o: &TestOutcome, now: DateTime<Utc>) -> ResultView {
        let headline = match o.status {
            TestStatus::Valid => "The token works and has every required permission.".to_string(),
            TestStatus::MissingPermissions => format!(
                "The token works but lacks {} required permission{}.",
                o.missing.len(),
                if o.missing.len() == 1 { "" } else { "s" }
            ),
            TestStatus::Invalid => "The provider rejected the token.".to_string(),
            TestStatus::Expired => "The token has expired.".to_string(),
            TestStatus::Unreachable => "The provider could not be reached.".to_string(),
            TestStatus::Error => "The provider answered unexpectedly.".to_string(),
            TestStatus::NotTested => "Not tested yet.".to_string(),
        };
        let expiry = match (o.expires_at, o.never_expires) {
            (Some(e), _) => {
                let days = (e - now).num_days();
                if e <= now {
                    format!("expired {}", fmt_dt(e))
                } else {
                    format!(
                        "{} ({} day{} left)",
                        fmt_dt(e),
                        days,
                        if days == 1 { "" } else { "s" }
                    )
                }
            }
            (None, true) => "never expires".to_string(),
            (None, false) => "not reported by the provider".to_string(),
        };
        ResultView {
            status: o.status.as_str(),
            status_label: o.status.label(),
            status_class: status_class(o.status),
            headline,
            account: o.account.as_deref().map(unquote).unwrap_or_default(),
            token_kind: o.token_kind.clone().unwrap_or_default(),
            scopes: o.scopes.clone(),
            missing: o
                .missing
                .iter()
                .map(|m| MissingPermission {
                    name: m.name.clone(),
                    fix: unquote(&m.fix),
                })
                .collect(),
            warnings: o.warnings.iter().map(|w| unquote(w)).collect(),
            details: o.details.iter().map(|d| unquote(d)).collect(),
            expiry,
            server_version: o.server_version.clone().unwrap_or_default(),
            reason: o.reason.as_deref().map(unquote).unwrap_or_default(),
            tested_at: fmt_dt(o.tested_at),
            clone: o.clone_check.as_ref().map(CloneView::new),
        }
    }
}

/// Ids of tokens saved twice: same provider, hosting, server URL, workspace and account
/// (case-insensitive; tokens whose account is not known yet are never duplicates).
pub fn duplicate_ids(tokens: &[GitToken]) -> std::collections::HashSet<String> {
    use std::collections::HashMap;
    let key = |t: &GitToken| {
        let account = t.account.as_deref().map(str::trim).unwrap_or("");
        (!account.is_empty()).then(|| {
            (
                t.provider.clone(),
                t.hosting.clone(),
                t.url
                    .as_deref()
                    .unwrap_or("")
                    .trim_end_matches('/')
                    .to_lowercase(),
                t.workspace.as_deref().unwrap_or("").to_lowercase(),
                account.to_lowercase(),
            )
        })
    };
    let mut groups: HashMap<_, Vec<&str>> = HashMap::new();
    for t in tokens {
        if let Some(k) = key(t) {
            groups.entry(k).or_default().push(t.id.as_str());
        }
    }
    groups
        .into_values()
        .filter(|ids| ids.len() > 1)
        .flatten()
        .map(str::to_string)
        .collect()
}

//! Tokens and test results as pages show them: everything a template shows, already in words.
//! Never the secret.

use super::expiry::{ExpiryView, expiry_view, expiry_words, trusted_expiry};
use super::status::status_class;
use super::time::{Moment, fmt_dt, fmt_time};
use crate::domain::expiry::Expiry;
use crate::domain::provider::Provider;
use crate::domain::test_result::{
    CloneCheck, CloneResult, MissingPermission, TestOutcome, TestStatus,
};
use crate::domain::token::Token;
use chrono::{DateTime, NaiveDateTime, Utc};

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
    pub url: String,
    /// Bitbucket API tokens and app passwords: the username sent with the token.
    pub username: String,
    pub description: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub status_class: &'static str,
    pub expiry: ExpiryView,
    pub services: i64,
    /// Hygiene: no service uses it.
    pub unused: bool,
    /// Hygiene: another token of the organization has the same provider, server/workspace and
    /// account.
    pub duplicate: bool,
    pub last_test: String,
    /// The last test as relative words with the exact time (`None`: never tested).
    pub last_tested: Option<Moment>,
    pub account: String,
    pub hint: String,
    created_at: NaiveDateTime,
    created_by: Option<String>,
    updated_at: NaiveDateTime,
    updated_by: Option<String>,
}

fn by(at: NaiveDateTime, who: Option<&str>) -> String {
    format!(
        "{}{}",
        fmt_time(at),
        who.map(|b| format!(" by {b}")).unwrap_or_default()
    )
}

impl TokenView {
    pub fn new(t: &Token, services: i64, duplicate: bool, now: NaiveDateTime) -> TokenView {
        let d = &t.destination;
        let location = match (d.provider, &d.url, &d.workspace) {
            (Provider::Bitbucket, _, Some(w)) => format!("workspace {w}"),
            (_, Some(u), _) => u.clone(),
            _ => String::new(),
        };
        TokenView {
            id: t.id.as_str().to_string(),
            name: t.name.clone(),
            provider: d.provider.as_str(),
            provider_label: d.provider.label(),
            hosting: d.hosting.as_str(),
            hosting_label: d.provider.hosting_label(d.hosting),
            location,
            workspace: d.workspace.clone().unwrap_or_default(),
            url: d.url.clone().unwrap_or_default(),
            username: d.username.clone().unwrap_or_default(),
            description: t.description.clone().unwrap_or_default(),
            status: t.status.as_str(),
            status_label: t.status.label(),
            status_class: status_class(t.status),
            expiry: trusted_expiry(expiry_view(t.expiry(), t.born(), now), t.status),
            services,
            unused: services == 0,
            duplicate,
            last_test: t
                .last_tested_at
                .map(fmt_time)
                .unwrap_or_else(|| "Never".into()),
            last_tested: t.last_tested_at.map(|at| Moment::new(at, now)),
            account: t.account.as_deref().map(unquote).unwrap_or_default(),
            hint: t.hint.clone(),
            created_at: t.created_at,
            created_by: t.created_by.clone(),
            updated_at: t.updated_at,
            updated_by: t.updated_by.clone(),
        }
    }

    /// "2026-12-01 09:58 UTC by admin@acme.com" (formatted only by the pages that show it).
    pub fn created(&self) -> String {
        by(self.created_at, self.created_by.as_deref())
    }

    pub fn updated(&self) -> String {
        by(self.updated_at, self.updated_by.as_deref())
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
    /// The expiry in the words of the list badge ("Expires in 18 days", "No expiry set").
    pub expiry: String,
    /// A known expiry as a `<time>` (the words above, the exact UTC time).
    pub expiry_at: Option<Moment>,
    /// Why there is no date, in a few words (empty with a date).
    pub expiry_note: &'static str,
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
        let known = match (o.expires_at, o.never_expires) {
            (Some(e), _) => Expiry::At(e.naive_utc()),
            (None, true) => Expiry::Never,
            (None, false) => Expiry::Unknown,
        };
        // The badge's words; without a date, what the provider said (an expiry an admin
        // entered is the token's badge, not this result).
        let (expiry, expiry_note) = match known {
            Expiry::Unknown => ("Expiry not reported by the provider".to_string(), ""),
            Expiry::Never => (
                expiry_words(known, now.naive_utc()).0,
                "the provider reports that this token never expires",
            ),
            Expiry::At(_) => (expiry_words(known, now.naive_utc()).0, ""),
        };
        let expiry_at = match known {
            Expiry::At(at) => Some(Moment::worded(at, expiry.clone())),
            _ => None,
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
            expiry_at,
            expiry_note,
            server_version: o.server_version.clone().unwrap_or_default(),
            reason: o.reason.as_deref().map(unquote).unwrap_or_default(),
            tested_at: fmt_dt(o.tested_at),
            clone: o.clone_check.as_ref().map(CloneView::new),
        }
    }
}

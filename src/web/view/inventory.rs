//! The inventory in words: a token's row (the page's cells and the export's record), the
//! summary, the filters in words and the sort choices. Expiry words and classes are
//! [`super::expiry`]'s, status classes [`super::status`]'s.

use super::expiry::{expiry_view, trusted_expiry};
use super::status::status_class;
use super::time::Moment;
use crate::app::inventory::{AppliedFilters, SortKey, Summary};
use crate::domain::expiry::ATTENTION_DAYS;
use crate::domain::inventory::InventoryToken;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use serde::ser::SerializeMap;

/// Words for a sort choice.
pub fn sort_label(k: SortKey) -> &'static str {
    match k {
        SortKey::Name => "Name",
        SortKey::Provider => "Provider",
        SortKey::Status => "Status (worst first)",
        SortKey::Expiry => "Expiry (soonest first)",
        SortKey::LastTested => "Last test (oldest first)",
        SortKey::Services => "Services (fewest first)",
        SortKey::Created => "Created",
        SortKey::Updated => "Last changed",
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A date for a table cell, its exact UTC time on hover (`<time datetime title>`).
fn on(t: DateTime<Utc>) -> Moment {
    Moment::date(t.naive_utc())
}

/// An e-mail address in two parts (`platform-lead`, `@example.com`) that a table cell may
/// put on two lines, so that the address breaks at its `@` before it breaks at a hyphen, and
/// never inside a word. Anything without an `@` is one part.
#[derive(Debug, Clone, Copy)]
pub struct Email<'a> {
    pub local: &'a str,
    /// From the `@` on; empty without one.
    pub domain: &'a str,
}

impl<'a> Email<'a> {
    pub fn new(s: &'a str) -> Email<'a> {
        match s.rfind('@') {
            Some(i) if i > 0 => Email {
                local: &s[..i],
                domain: &s[i..],
            },
            _ => Email {
                local: s,
                domain: "",
            },
        }
    }
}

/// One token as the inventory shows and exports it, borrowed from the typed token for the
/// time one chunk is rendered. Its JSON form is the export's token object: deliberately
/// without secret, hint or ciphertext, which [`InventoryToken`] does not have either.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// Known prefix and last 4 characters, as on the token list.
    pub hint: &'a str,
    pub description: Option<&'a str>,
    pub provider: &'static str,
    pub provider_label: &'static str,
    pub hosting: &'static str,
    pub hosting_label: &'static str,
    pub url: Option<&'a str>,
    pub workspace: Option<&'a str>,
    /// Provider account the token belongs to, as last seen by a test.
    pub account: Option<&'a str>,
    /// Scopes / permissions the provider reported at the last test.
    pub scopes: &'a [String],
    /// Required permissions the token lacked at the last test.
    pub missing_permissions: &'a [String],
    pub status: &'static str,
    pub status_label: &'static str,
    #[serde(skip)]
    pub status_class: &'static str,
    pub last_tested_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `provider`, `admin`, or null when unknown.
    pub expiry_source: Option<&'static str>,
    /// Whole days until expiry (negative once expired); null without a known expiry.
    pub days_left: Option<i64>,
    /// Expiry in words, e.g. "Expires in 12 days", "No expiry set", "Expiry unknown".
    pub expiry_text: String,
    #[serde(skip)]
    pub expiry_class: &'static str,
    /// The expiry as a `<time>` (the badge's words, the exact time).
    #[serde(skip)]
    pub expiry_at: Option<Moment>,
    /// The expiry date printed under a badge that counts days ("Expires in 12 days").
    #[serde(skip)]
    pub expiry_date: Option<String>,
    pub services_count: usize,
    pub services: &'a [String],
    pub created_by: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub updated_by: Option<&'a str>,
    pub updated_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
}

impl<'a> TokenRow<'a> {
    /// The row of `t` in an inventory made at `now`.
    pub fn new(t: &'a InventoryToken, now: NaiveDateTime) -> TokenRow<'a> {
        let (provider, hosting) = (t.provider(), t.hosting());
        // No green "expires later" for a token the provider rejects (as on the token list).
        let expiry = trusted_expiry(expiry_view(t.expiry(), t.born(), now), t.status);
        TokenRow {
            id: t.id.as_str(),
            name: &t.name,
            hint: &t.hint,
            description: t.description.as_deref(),
            provider: provider.as_str(),
            provider_label: provider.label(),
            hosting: hosting.as_str(),
            hosting_label: provider.hosting_label(hosting),
            url: t.destination.url.as_deref(),
            workspace: t.destination.workspace.as_deref(),
            account: t.account.as_deref(),
            scopes: &t.scopes,
            missing_permissions: &t.missing_permissions,
            status: t.status.as_str(),
            status_label: t.status.label(),
            status_class: status_class(t.status),
            last_tested_at: t.last_tested_at.map(utc),
            expires_at: t.expires_at.map(utc),
            expiry_source: t.expiry_source.map(|s| s.as_str()),
            days_left: expiry.days_left,
            expiry_text: expiry.text,
            expiry_class: expiry.class,
            expiry_at: expiry.at,
            expiry_date: expiry.counted_date,
            services_count: t.services.len(),
            services: &t.services,
            created_by: t.created_by.as_deref(),
            created_at: utc(t.created_at),
            updated_by: t.updated_by.as_deref(),
            updated_at: utc(t.updated_at),
            rotated_at: t.rotated_at.map(utc),
        }
    }

    pub fn account_email(&self) -> Option<Email<'a>> {
        self.account.map(Email::new)
    }
    pub fn created_by_email(&self) -> Option<Email<'a>> {
        self.created_by.map(Email::new)
    }
    pub fn updated_by_email(&self) -> Option<Email<'a>> {
        self.updated_by.map(Email::new)
    }
    /// When the last test ran, as a date.
    pub fn tested_on(&self) -> Option<Moment> {
        self.last_tested_at.map(on)
    }
    pub fn created_on(&self) -> Moment {
        on(self.created_at)
    }
    /// The last change, unless it is the creation itself.
    pub fn changed_on(&self) -> Option<Moment> {
        (self.updated_at != self.created_at || self.updated_by != self.created_by)
            .then(|| on(self.updated_at))
    }
    pub fn rotated_on(&self) -> Option<Moment> {
        self.rotated_at.map(on)
    }
    pub fn services_text(&self) -> String {
        self.services.join(", ")
    }
    pub fn scopes_text(&self) -> String {
        self.scopes.join(" ")
    }
    pub fn missing_text(&self) -> String {
        self.missing_permissions.join(", ")
    }
}

/// A labelled count (summary tables).
#[derive(Debug, Clone)]
pub struct Count {
    pub key: &'static str,
    pub label: &'static str,
    pub count: usize,
}

fn counts_as_map<S: serde::Serializer>(v: &[Count], s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(v.len()))?;
    for c in v {
        m.serialize_entry(c.key, &c.count)?;
    }
    m.end()
}

/// The summary as the page's tables and the JSON export's `summary` object show it.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryView {
    pub total: usize,
    #[serde(serialize_with = "counts_as_map")]
    pub by_provider: Vec<Count>,
    #[serde(serialize_with = "counts_as_map")]
    pub by_status: Vec<Count>,
    /// Not yet expired, expiring within [`ATTENTION_DAYS`] days (the key keeps its name).
    pub expiring_within_30_days: usize,
    /// Expiry date already passed.
    pub expired_by_date: usize,
    /// No service uses the token.
    pub unused: usize,
    #[serde(skip)]
    pub attention_days: i64,
}

impl SummaryView {
    pub fn new(s: &Summary) -> SummaryView {
        SummaryView {
            total: s.total,
            by_provider: s
                .by_provider
                .iter()
                .map(|(p, n)| Count {
                    key: p.as_str(),
                    label: p.label(),
                    count: *n,
                })
                .collect(),
            by_status: s
                .by_status
                .iter()
                .map(|(st, n)| Count {
                    key: st.as_str(),
                    label: st.label(),
                    count: *n,
                })
                .collect(),
            expiring_within_30_days: s.expiring_soon,
            expired_by_date: s.expired_by_date,
            unused: s.unused,
            attention_days: ATTENTION_DAYS,
        }
    }
}

/// The filters in words, for the printed header.
pub fn filters_text(f: &AppliedFilters) -> String {
    let mut parts = Vec::new();
    if let Some(q) = &f.q {
        parts.push(format!("name contains \u{201c}{q}\u{201d}"));
    }
    if let Some(p) = f.provider {
        parts.push(format!("provider {}", p.label()));
    }
    if let Some(s) = f.status {
        parts.push(format!("status {}", s.label()));
    }
    if parts.is_empty() {
        "none (all tokens)".into()
    } else {
        parts.join("; ")
    }
}

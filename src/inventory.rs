//! The token inventory (issue 5): every token of an organization with what an auditor needs on
//! paper, summary counts, and the CSV / JSON exports of the same data.
//!
//! Built from stored rows into [`InventoryToken`], a struct that has no field for the secret, its
//! hint or its ciphertext: whatever renders or serializes an inventory cannot leak them.

use crate::db::models::token::{GitToken, InventoryRow, TokenFilter};
use crate::db::schema::services;
use crate::db::{DbConn, StoreError};
use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::TestStatus;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::collections::HashMap;

/// Days ahead that count as "expiring soon" in the summary.
pub const EXPIRING_DAYS: i64 = 30;

/// What the inventory is sorted by (`?sort=`), ascending unless `?order=desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Provider,
    /// Worst first: expired, invalid, unreachable, error, missing permissions, not tested, valid.
    Status,
    /// Soonest first; tokens without a known expiry last.
    Expiry,
    /// Least recently tested first; never tested first of all.
    LastTested,
    Services,
    Created,
    Updated,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        SortKey::Name,
        SortKey::Provider,
        SortKey::Status,
        SortKey::Expiry,
        SortKey::LastTested,
        SortKey::Services,
        SortKey::Created,
        SortKey::Updated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Provider => "provider",
            SortKey::Status => "status",
            SortKey::Expiry => "expiry",
            SortKey::LastTested => "last_tested",
            SortKey::Services => "services",
            SortKey::Created => "created",
            SortKey::Updated => "updated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
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

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// Sort key and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Sort {
        Sort {
            key: SortKey::Name,
            descending: false,
        }
    }
}

/// How bad a status is, for sorting (lower = needs attention first).
fn status_rank(s: &str) -> u8 {
    match TestStatus::parse(s) {
        Some(TestStatus::Expired) => 0,
        Some(TestStatus::Invalid) => 1,
        Some(TestStatus::Unreachable) => 2,
        Some(TestStatus::Error) => 3,
        Some(TestStatus::MissingPermissions) => 4,
        Some(TestStatus::NotTested) | None => 5,
        Some(TestStatus::Valid) => 6,
    }
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// One token as the inventory shows and exports it. Deliberately without secret, hint or
/// ciphertext.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryToken {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub provider: &'static str,
    pub provider_label: &'static str,
    pub hosting: &'static str,
    pub hosting_label: &'static str,
    pub url: Option<String>,
    pub workspace: Option<String>,
    /// Provider account the token belongs to, as last seen by a test.
    pub account: Option<String>,
    /// Scopes / permissions the provider reported at the last test.
    pub scopes: Vec<String>,
    /// Required permissions the token lacked at the last test.
    pub missing_permissions: Vec<String>,
    pub status: &'static str,
    pub status_label: &'static str,
    #[serde(skip)]
    pub status_class: &'static str,
    pub last_tested_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `provider`, `admin`, or null when unknown.
    pub expiry_source: Option<String>,
    /// Whole days until expiry (negative once expired); null without a known expiry.
    pub days_left: Option<i64>,
    /// Expiry in words, e.g. "Expires in 12 days", "No expiry", "Unknown".
    pub expiry_text: String,
    #[serde(skip)]
    pub expiry_class: &'static str,
    /// The expiry has passed (at the time the inventory was made).
    #[serde(skip)]
    pub expired: bool,
    pub services_count: usize,
    pub services: Vec<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_by: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
}

/// Date and time for table cells; the page header says once that all times are UTC.
fn fmt_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// The part of a stored [`crate::domain::test_result::TestOutcome`] the inventory shows; the
/// rest of the JSON (details, warnings, fixes) is skipped, not allocated.
#[derive(Debug, Default, serde::Deserialize)]
struct LastTestScopes {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    missing: Vec<MissingName>,
}

#[derive(Debug, serde::Deserialize)]
struct MissingName {
    name: String,
}

impl InventoryToken {
    /// Build from the inventory's columns of a stored row (which has no secret nor hint).
    pub fn from_row(t: InventoryRow, services: Vec<String>, now: NaiveDateTime) -> InventoryToken {
        let provider = Provider::parse(&t.provider).unwrap_or(Provider::Github);
        let hosting = Hosting::parse(&t.hosting).unwrap_or(Hosting::Cloud);
        let status = TestStatus::parse(&t.status).unwrap_or(TestStatus::NotTested);
        let expiry = crate::web::handlers::tokens::views::expiry_view_of(
            t.expires_at,
            t.expiry_source.as_deref(),
            t.rotated_at.unwrap_or(t.created_at),
            now,
        );
        let last = t
            .last_test
            .as_deref()
            .and_then(|j| serde_json::from_str::<LastTestScopes>(j).ok())
            .unwrap_or_default();
        InventoryToken {
            provider: provider.as_str(),
            provider_label: provider.label(),
            hosting: hosting.as_str(),
            hosting_label: provider.hosting_label(hosting),
            account: t.account.filter(|a| !a.is_empty()),
            scopes: last.scopes,
            missing_permissions: last.missing.into_iter().map(|m| m.name).collect(),
            status: status.as_str(),
            status_label: status.label(),
            status_class: crate::web::handlers::tokens::views::status_class(status),
            last_tested_at: t.last_tested_at.map(utc),
            expires_at: t.expires_at.map(utc),
            expiry_source: t.expiry_source,
            days_left: expiry.days_left,
            expiry_text: expiry.text,
            expiry_class: expiry.class,
            expired: t.expires_at.is_some_and(|e| e <= now),
            services_count: services.len(),
            services,
            created_by: t.created_by,
            created_at: utc(t.created_at),
            updated_by: t.updated_by,
            updated_at: utc(t.updated_at),
            rotated_at: t.rotated_at.map(utc),
            url: t.url.filter(|u| !u.is_empty()),
            workspace: t.workspace.filter(|w| !w.is_empty()),
            description: t.description.filter(|d| !d.is_empty()),
            id: t.id,
            name: t.name,
        }
    }

    pub fn last_tested_text(&self) -> String {
        match self.last_tested_at {
            Some(_) => fmt_opt(self.last_tested_at),
            None => "Never tested".into(),
        }
    }
    pub fn expiry_date_text(&self) -> String {
        self.expires_at
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }
    /// "12 days left", "1 day left", "expired 3 days ago", or empty.
    pub fn days_left_text(&self) -> String {
        match self.days_left {
            Some(d) if self.expired => {
                let ago = -d;
                if ago <= 0 {
                    "expired today".into()
                } else {
                    format!("expired {ago} day{} ago", if ago == 1 { "" } else { "s" })
                }
            }
            Some(0) => "less than a day left".into(),
            Some(d) => format!("{d} day{} left", if d == 1 { "" } else { "s" }),
            None => String::new(),
        }
    }
    pub fn created_text(&self) -> String {
        fmt_opt(Some(self.created_at))
    }
    pub fn updated_text(&self) -> String {
        fmt_opt(Some(self.updated_at))
    }
    pub fn rotated_text(&self) -> String {
        fmt_opt(self.rotated_at)
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

/// Summary counts over the tokens listed (after filters).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub total: usize,
    #[serde(serialize_with = "counts_as_map")]
    pub by_provider: Vec<Count>,
    #[serde(serialize_with = "counts_as_map")]
    pub by_status: Vec<Count>,
    /// Not yet expired, expiring within [`EXPIRING_DAYS`] days.
    pub expiring_within_30_days: usize,
    /// Expiry date already passed.
    pub expired_by_date: usize,
    /// No service uses the token.
    pub unused: usize,
}

impl Summary {
    pub fn of(tokens: &[InventoryToken], now: NaiveDateTime) -> Summary {
        let now = utc(now);
        let soon = now + Duration::days(EXPIRING_DAYS);
        Summary {
            total: tokens.len(),
            by_provider: Provider::ALL
                .into_iter()
                .map(|p| Count {
                    key: p.as_str(),
                    label: p.label(),
                    count: tokens.iter().filter(|t| t.provider == p.as_str()).count(),
                })
                .collect(),
            by_status: TestStatus::ALL
                .into_iter()
                .map(|s| Count {
                    key: s.as_str(),
                    label: s.label(),
                    count: tokens.iter().filter(|t| t.status == s.as_str()).count(),
                })
                .collect(),
            expiring_within_30_days: tokens
                .iter()
                .filter(|t| t.expires_at.is_some_and(|e| e > now && e <= soon))
                .count(),
            expired_by_date: tokens
                .iter()
                .filter(|t| t.expires_at.is_some_and(|e| e <= now))
                .count(),
            unused: tokens.iter().filter(|t| t.services_count == 0).count(),
        }
    }
}

/// Organization as named in the header.
#[derive(Debug, Clone, Serialize)]
pub struct OrgRef {
    pub slug: String,
    pub name: String,
}

/// The filters and sort that produced an inventory (echoed in its header and exports).
#[derive(Debug, Clone, Serialize)]
pub struct AppliedFilters {
    pub q: Option<String>,
    pub provider: Option<&'static str>,
    pub status: Option<&'static str>,
    pub sort: &'static str,
    pub order: &'static str,
}

impl AppliedFilters {
    pub fn new(f: &TokenFilter, sort: Sort) -> AppliedFilters {
        AppliedFilters {
            q: f.q.clone(),
            provider: f.provider.map(|p| p.as_str()),
            status: f.status.map(|s| s.as_str()),
            sort: sort.key.as_str(),
            order: if sort.descending { "desc" } else { "asc" },
        }
    }

    pub fn any(&self) -> bool {
        self.q.is_some() || self.provider.is_some() || self.status.is_some()
    }

    /// The filters in words, for the printed header.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(q) = &self.q {
            parts.push(format!("name contains \u{201c}{q}\u{201d}"));
        }
        if let Some(p) = self.provider.and_then(Provider::parse) {
            parts.push(format!("provider {}", p.label()));
        }
        if let Some(s) = self.status.and_then(TestStatus::parse) {
            parts.push(format!("status {}", s.label()));
        }
        if parts.is_empty() {
            "none (all tokens)".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The whole inventory. `tokens` must stay the last field (see [`json_envelope`]).
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub organization: OrgRef,
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
    pub filters: AppliedFilters,
    pub summary: Summary,
    pub tokens: Vec<InventoryToken>,
}

impl Inventory {
    /// A copy of everything but the tokens.
    pub fn clone_without_tokens(&self) -> Inventory {
        Inventory {
            organization: self.organization.clone(),
            generated_at: self.generated_at,
            generated_by: self.generated_by.clone(),
            filters: self.filters.clone(),
            summary: self.summary.clone(),
            tokens: Vec::new(),
        }
    }
}

/// token id → names of the services using it (sorted), for one organization.
pub fn service_names(
    conn: &mut DbConn,
    org_id: &str,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let rows: Vec<(Option<String>, String)> = services::table
        .filter(services::org_id.eq(org_id))
        .filter(services::token_id.is_not_null())
        .order((services::name.asc(), services::id.asc()))
        .select((services::token_id, services::name))
        .load(conn)?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (id, name) in rows {
        if let Some(id) = id {
            map.entry(id).or_default().push(name);
        }
    }
    Ok(map)
}

/// Rows read from the database per query when loading an inventory: only one chunk of raw rows
/// (with their last-test JSON) is held at a time, next to the slimmer [`InventoryToken`]s.
pub const LOAD_CHUNK_ROWS: i64 = 500;

/// Load the tokens matching `filter`, sorted, with their services.
pub fn load_tokens(
    conn: &mut DbConn,
    org_id: &str,
    filter: &TokenFilter,
    sort: Sort,
    now: NaiveDateTime,
) -> Result<Vec<InventoryToken>, StoreError> {
    let mut names = service_names(conn, org_id)?;
    let mut tokens: Vec<InventoryToken> = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let rows = GitToken::inventory_chunk(
            conn,
            org_id,
            filter,
            after.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
            LOAD_CHUNK_ROWS,
        )?;
        let full = rows.len() as i64 == LOAD_CHUNK_ROWS;
        after = rows.last().map(|r| (r.name_key.clone(), r.id.clone()));
        tokens.reserve(rows.len());
        for row in rows {
            let services = names.remove(&row.id).unwrap_or_default();
            tokens.push(InventoryToken::from_row(row, services, now));
        }
        if !full {
            break;
        }
    }
    tokens.shrink_to_fit();
    sort_tokens(&mut tokens, sort);
    Ok(tokens)
}

/// Sort in place. Rows arrive sorted by name, and the sort is stable, so ties stay by name.
pub fn sort_tokens(tokens: &mut [InventoryToken], sort: Sort) {
    use std::cmp::Ordering;
    fn none_last<T: Ord>(a: &Option<T>, b: &Option<T>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let cmp = |a: &InventoryToken, b: &InventoryToken| -> Ordering {
        match sort.key {
            SortKey::Name => Ordering::Equal,
            SortKey::Provider => (a.provider_label, a.hosting).cmp(&(b.provider_label, b.hosting)),
            SortKey::Status => status_rank(a.status).cmp(&status_rank(b.status)),
            SortKey::Expiry => none_last(&a.expires_at, &b.expires_at),
            SortKey::LastTested => a.last_tested_at.cmp(&b.last_tested_at),
            SortKey::Services => a.services_count.cmp(&b.services_count),
            SortKey::Created => a.created_at.cmp(&b.created_at),
            SortKey::Updated => a.updated_at.cmp(&b.updated_at),
        }
    };
    if sort.key == SortKey::Name {
        if sort.descending {
            tokens.reverse();
        }
        return;
    }
    if sort.descending {
        tokens.sort_by(|a, b| cmp(b, a));
    } else {
        tokens.sort_by(cmp);
    }
}

/// Neutralise a CSV cell that a spreadsheet would read as a formula (OWASP "CSV injection"):
/// a cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
/// A plain integer (e.g. `-3` days left) cannot be a formula and is left as it is.
pub fn neutralise_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let plain_int = {
        let digits = s.strip_prefix('-').unwrap_or(s);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    if risky && !plain_int {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Append one CSV field (RFC 4180 quoting) after neutralising it.
fn push_field(out: &mut String, raw: &str) {
    let cell = neutralise_cell(raw);
    if cell.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&cell);
    }
}

fn push_row<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, c);
    }
    out.push_str("\r\n");
}

pub const CSV_HEADER: [&str; 24] = [
    "name",
    "description",
    "provider",
    "hosting",
    "url",
    "workspace",
    "account",
    "scopes",
    "missing_permissions",
    "status",
    "last_tested_at",
    "expires_at",
    "expiry_source",
    "days_left",
    "services_count",
    "services",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "rotated_at",
    "id",
    "organization",
    "generated_at",
];

fn rfc3339(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The CSV header row (CRLF line ends, UTF-8, no BOM).
pub fn csv_header() -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_HEADER);
    out
}

/// Append one CSV row per token. Scopes are separated by spaces, services and missing
/// permissions by `; `; times are RFC 3339 UTC.
pub fn push_csv_rows(out: &mut String, tokens: &[InventoryToken], org_slug: &str, generated: &str) {
    for t in tokens {
        let days = t.days_left.map(|d| d.to_string()).unwrap_or_default();
        let count = t.services_count.to_string();
        let cells: [&str; 24] = [
            &t.name,
            t.description.as_deref().unwrap_or(""),
            t.provider,
            t.hosting,
            t.url.as_deref().unwrap_or(""),
            t.workspace.as_deref().unwrap_or(""),
            t.account.as_deref().unwrap_or(""),
            &t.scopes.join(" "),
            &t.missing_permissions.join("; "),
            t.status,
            &rfc3339(t.last_tested_at),
            &rfc3339(t.expires_at),
            t.expiry_source.as_deref().unwrap_or(""),
            &days,
            &count,
            &t.services.join("; "),
            t.created_by.as_deref().unwrap_or(""),
            &rfc3339(Some(t.created_at)),
            t.updated_by.as_deref().unwrap_or(""),
            &rfc3339(Some(t.updated_at)),
            &rfc3339(t.rotated_at),
            &t.id,
            org_slug,
            generated,
        ];
        push_row(out, cells);
    }
}

/// The generation time as written in every CSV row.
pub fn csv_generated(inv: &Inventory) -> String {
    rfc3339(Some(inv.generated_at))
}

/// The whole inventory as CSV in one string (the handler streams the same rows in chunks).
pub fn to_csv(inv: &Inventory) -> String {
    let mut out = csv_header();
    push_csv_rows(
        &mut out,
        &inv.tokens,
        &inv.organization.slug,
        &csv_generated(inv),
    );
    out
}

/// The JSON document split around its token array, so the tokens can be streamed:
/// `head` ends with `"tokens":[`, `tail` is `]}`. `inv.tokens` is ignored (serialized empty).
pub fn json_envelope(inv: &Inventory) -> Result<(String, &'static str), serde_json::Error> {
    let empty = inv.clone_without_tokens();
    let mut head = serde_json::to_string(&empty)?;
    // `tokens` is the last field, serialized as `"tokens":[]}`.
    if head.ends_with("[]}") {
        head.truncate(head.len() - 2);
        Ok((head, "]}"))
    } else {
        Err(serde::ser::Error::custom("unexpected inventory JSON shape"))
    }
}

/// Append tokens as JSON array elements; `first` says whether no element precedes them.
pub fn push_json_tokens(
    out: &mut Vec<u8>,
    tokens: &[InventoryToken],
    first: bool,
) -> Result<(), serde_json::Error> {
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 || !first {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, t)?;
    }
    Ok(())
}

/// A download file name: `forgekeys-inventory-<org>-<YYYY-MM-DD>.<ext>` (slug reduced to
/// `[a-z0-9-]`, so it needs no quoting beyond the plain quotes).
pub fn file_name(slug: &str, at: DateTime<Utc>, ext: &str) -> String {
    let safe: String = slug
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(60)
        .collect();
    format!(
        "forgekeys-inventory-{}-{}.{ext}",
        if safe.is_empty() { "org" } else { &safe },
        at.format("%Y-%m-%d")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_cells() {
        assert_eq!(neutralise_cell("=1+1"), "'=1+1");
        assert_eq!(neutralise_cell("+SUM(A1)"), "'+SUM(A1)");
        assert_eq!(neutralise_cell("-2+3"), "'-2+3");
        assert_eq!(neutralise_cell("@cmd"), "'@cmd");
        assert_eq!(neutralise_cell("\tx"), "'\tx");
        assert_eq!(neutralise_cell("-12"), "-12");
        assert_eq!(neutralise_cell("-"), "'-");
        assert_eq!(neutralise_cell("deploy"), "deploy");
        assert_eq!(neutralise_cell(""), "");
    }

    #[test]
    fn quotes_fields() {
        let mut s = String::new();
        push_row(&mut s, ["a,b", "say \"hi\"", "=x,y", "line\nbreak"]);
        assert_eq!(
            s,
            "\"a,b\",\"say \"\"hi\"\"\",\"'=x,y\",\"line\nbreak\"\r\n"
        );
    }

    fn sample(name: &str) -> InventoryToken {
        let t = chrono::DateTime::<Utc>::UNIX_EPOCH;
        InventoryToken {
            id: format!("id-{name}"),
            name: name.into(),
            description: None,
            provider: "github",
            provider_label: "GitHub",
            hosting: "cloud",
            hosting_label: "github.com",
            url: None,
            workspace: None,
            account: Some("bot".into()),
            scopes: vec!["repo".into()],
            missing_permissions: Vec::new(),
            status: "valid",
            status_label: "Valid",
            status_class: "ok",
            last_tested_at: Some(t),
            expires_at: None,
            expiry_source: None,
            days_left: None,
            expiry_text: "Unknown".into(),
            expiry_class: "muted",
            expired: false,
            services_count: 0,
            services: Vec::new(),
            created_by: None,
            created_at: t,
            updated_by: None,
            updated_at: t,
            rotated_at: None,
        }
    }

    #[test]
    fn streamed_json_equals_whole_json() {
        for n in [0usize, 1, 3] {
            let tokens: Vec<InventoryToken> = (0..n).map(|i| sample(&format!("t{i}"))).collect();
            let inv = Inventory {
                organization: OrgRef {
                    slug: "acme".into(),
                    name: "Acme".into(),
                },
                generated_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
                generated_by: "a@b.c".into(),
                filters: AppliedFilters::new(&TokenFilter::default(), Sort::default()),
                summary: Summary::of(&tokens, chrono::DateTime::<Utc>::UNIX_EPOCH.naive_utc()),
                tokens,
            };
            let (head, tail) = json_envelope(&inv).unwrap_or_default();
            let mut out = head.into_bytes();
            // Two chunks, as the handler streams them.
            let (a, b) = inv.tokens.split_at(n.min(1));
            assert!(push_json_tokens(&mut out, a, true).is_ok());
            assert!(push_json_tokens(&mut out, b, a.is_empty()).is_ok());
            out.extend_from_slice(tail.as_bytes());
            let whole = serde_json::to_string(&inv).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&out), whole);
        }
    }

    #[test]
    fn file_names() {
        let at = DateTime::parse_from_rfc3339("2025-03-04T05:06:07Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(
            file_name("acme", at, "csv"),
            "forgekeys-inventory-acme-2025-03-04.csv"
        );
        assert_eq!(
            file_name("a\"b/c", at, "json"),
            "forgekeys-inventory-abc-2025-03-04.json"
        );
    }
}

//! The inventory as a download: CSV (RFC 4180, CRLF, UTF-8 with a BOM so that spreadsheets read it as UTF-8, formula cells
//! neutralised) or JSON, streamed a chunk of tokens at a time. Never cached: it lists an
//! organization's credentials (never their values).

use super::chunks;
use crate::app::inventory::{AppliedFilters, ExportFormat, Inventory};
use crate::domain::account::Member;
use crate::domain::inventory::InventoryToken;
use crate::web::error::AppError;
use crate::web::view::inventory::{SummaryView, TokenRow};
use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::stream::{self, Stream, StreamExt};
use serde::Serialize;

/// Organization as named in the JSON header.
#[derive(Debug, Clone, Serialize)]
pub struct OrgRef<'a> {
    pub slug: &'a str,
    pub name: &'a str,
}

/// The JSON document. `tokens` must stay the last field (see [`json_envelope`]).
#[derive(Debug, Clone, Serialize)]
pub struct InventoryDoc<'a> {
    pub organization: OrgRef<'a>,
    pub generated_at: DateTime<Utc>,
    pub generated_by: &'a str,
    pub filters: &'a AppliedFilters,
    pub summary: SummaryView,
    pub tokens: Vec<TokenRow<'a>>,
}

/// The download of `inv` in `format`, for the member's organization (the page's member, or an
/// API key acting as one).
pub fn download(
    inv: Inventory,
    format: ExportFormat,
    member: &Member,
) -> Result<HttpResponse, AppError> {
    let slug = member.org.slug.clone();
    let generated_at = inv.generated_at.and_utc();
    match format {
        ExportFormat::Csv => {
            let generated = rfc3339(Some(generated_at));
            let name = file_name(&slug, generated_at, "csv");
            let rows = chunks(inv, move |_, part, now| {
                let mut out = String::with_capacity(part.len() * 400);
                push_csv_rows(&mut out, part, now, &slug, &generated);
                Ok::<_, std::convert::Infallible>(Bytes::from(out))
            });
            Ok(streamed(
                "text/csv; charset=utf-8",
                &name,
                stream::once(async move { Ok(Bytes::from(csv_header())) }).chain(rows),
            ))
        }
        ExportFormat::Json => {
            let doc = InventoryDoc {
                organization: OrgRef {
                    slug: &slug,
                    name: &member.org.name,
                },
                generated_at,
                generated_by: &member.user.email,
                filters: &inv.filters,
                summary: SummaryView::new(&inv.summary),
                tokens: Vec::new(),
            };
            let (head, tail) = json_envelope(&doc)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("inventory JSON: {e}")))?;
            let rows = chunks(inv, |i, part, now| {
                let mut out = Vec::with_capacity(part.len() * 700);
                push_json_tokens(&mut out, part, now, i == 0)?;
                Ok::<_, serde_json::Error>(Bytes::from(out))
            });
            Ok(streamed(
                "application/json",
                &file_name(&slug, generated_at, "json"),
                stream::once(async move { Ok(Bytes::from(head)) })
                    .chain(rows)
                    .chain(stream::once(async move {
                        Ok(Bytes::from_static(tail.as_bytes()))
                    })),
            ))
        }
    }
}

/// An attachment download, streamed; never cached.
fn streamed<S>(content_type: &'static str, name: &str, body: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .streaming(body)
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

pub(crate) fn push_row<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, c);
    }
    out.push_str("\r\n");
}

pub const CSV_HEADER: [&str; 25] = [
    "name",
    "hint",
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

/// The CSV header row.
pub fn csv_header() -> String {
    // The byte order mark: Excel reads a CSV without it in the machine's legacy code page
    // ("–" and "…" garbled).
    let mut out = String::from('\u{feff}');
    push_row(&mut out, CSV_HEADER);
    out
}

/// Append one CSV row per token of an inventory made at `now`. Scopes are separated by spaces,
/// services and missing permissions by `; `; times are RFC 3339 UTC.
pub fn push_csv_rows(
    out: &mut String,
    tokens: &[InventoryToken],
    now: NaiveDateTime,
    org_slug: &str,
    generated: &str,
) {
    for t in tokens {
        let t = TokenRow::new(t, now);
        let days = t.days_left.map(|d| d.to_string()).unwrap_or_default();
        let count = t.services_count.to_string();
        let cells: [&str; 25] = [
            t.name,
            t.hint,
            t.description.unwrap_or(""),
            t.provider,
            t.hosting,
            t.url.unwrap_or(""),
            t.workspace.unwrap_or(""),
            t.account.unwrap_or(""),
            &t.scopes.join(" "),
            &t.missing_permissions.join("; "),
            t.status,
            &rfc3339(t.last_tested_at),
            &rfc3339(t.expires_at),
            t.expiry_source.unwrap_or(""),
            &days,
            &count,
            &t.services.join("; "),
            t.created_by.unwrap_or(""),
            &rfc3339(Some(t.created_at)),
            t.updated_by.unwrap_or(""),
            &rfc3339(Some(t.updated_at)),
            &rfc3339(t.rotated_at),
            t.id,
            org_slug,
            generated,
        ];
        push_row(out, cells);
    }
}

/// The JSON document split around its token array, so the tokens can be streamed:
/// `head` ends with `"tokens":[`, `tail` is `]}`. `doc.tokens` is ignored (serialized empty).
pub fn json_envelope(doc: &InventoryDoc<'_>) -> Result<(String, &'static str), serde_json::Error> {
    let empty = InventoryDoc {
        tokens: Vec::new(),
        ..doc.clone()
    };
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
    now: NaiveDateTime,
    first: bool,
) -> Result<(), serde_json::Error> {
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 || !first {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, &TokenRow::new(t, now))?;
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
    use crate::app::inventory::{Sort, Summary};
    use crate::domain::ids::TokenId;
    use crate::domain::provider::{Hosting, Provider};
    use crate::domain::status::TestStatus;
    use crate::domain::token::{Destination, TokenFilter};

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
        let t = DateTime::<Utc>::UNIX_EPOCH.naive_utc();
        InventoryToken {
            id: TokenId::new(format!("id-{name}")),
            name: name.into(),
            hint: "ghp_…abcd".into(),
            description: None,
            destination: Destination {
                username: None,
                provider: Provider::Github,
                hosting: Hosting::Cloud,
                url: None,
                workspace: None,
            },
            account: Some("bot".into()),
            scopes: vec!["repo".into()],
            missing_permissions: Vec::new(),
            status: TestStatus::Valid,
            last_tested_at: Some(t),
            expires_at: None,
            expiry_source: None,
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
        let now = DateTime::<Utc>::UNIX_EPOCH.naive_utc();
        let filters = AppliedFilters::new(&TokenFilter::default(), Sort::default());
        for n in [0usize, 1, 3] {
            let tokens: Vec<InventoryToken> = (0..n).map(|i| sample(&format!("t{i}"))).collect();
            let doc = InventoryDoc {
                organization: OrgRef {
                    slug: "acme",
                    name: "Acme",
                },
                generated_at: now.and_utc(),
                generated_by: "a@b.c",
                filters: &filters,
                summary: SummaryView::new(&Summary::of(&tokens, now)),
                tokens: tokens.iter().map(|t| TokenRow::new(t, now)).collect(),
            };
            let (head, tail) = json_envelope(&doc).unwrap_or_default();
            let mut out = head.into_bytes();
            // Two chunks, as the handler streams them.
            let (a, b) = tokens.split_at(n.min(1));
            assert!(push_json_tokens(&mut out, a, now, true).is_ok());
            assert!(push_json_tokens(&mut out, b, now, a.is_empty()).is_ok());
            out.extend_from_slice(tail.as_bytes());
            let whole = serde_json::to_string(&doc).unwrap_or_default();
            assert_eq!(String::from_utf8_lossy(&out), whole);
        }
    }

    #[test]
    fn the_json_header_keeps_its_shape() {
        let now = DateTime::<Utc>::UNIX_EPOCH.naive_utc();
        let filters = AppliedFilters::new(
            &TokenFilter {
                provider: Some(Provider::Gitlab),
                status: Some(TestStatus::MissingPermissions),
                ..TokenFilter::default()
            },
            Sort {
                key: crate::app::inventory::SortKey::LastTested,
                order: crate::app::inventory::Order::Desc,
            },
        );
        let doc = InventoryDoc {
            organization: OrgRef {
                slug: "acme",
                name: "Acme",
            },
            generated_at: now.and_utc(),
            generated_by: "a@b.c",
            filters: &filters,
            summary: SummaryView::new(&Summary::of(&[sample("x")], now)),
            tokens: Vec::new(),
        };
        let (head, _) = json_envelope(&doc).unwrap_or_default();
        assert_eq!(
            head,
            r#"{"organization":{"slug":"acme","name":"Acme"},"generated_at":"1970-01-01T00:00:00Z","generated_by":"a@b.c","filters":{"q":null,"provider":"gitlab","status":"missing_permissions","sort":"last_tested","order":"desc"},"summary":{"total":1,"by_provider":{"github":1,"gitlab":0,"bitbucket":0},"by_status":{"valid":1,"missing_permissions":0,"invalid":0,"expired":0,"unreachable":0,"error":0,"not_tested":0},"expiring_within_30_days":0,"expired_by_date":0,"unused":1},"tokens":["#
        );
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

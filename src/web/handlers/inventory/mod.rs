//! Printable token inventory with CSV and JSON export (issue 5):
//! `GET /orgs/{org}/settings/git-tokens/inventory[?q=&provider=&status=&sort=&order=&format=]`.
//!
//! Viewer and up may open it; Billing gets 403, non-members 404 (DESIGN.md §3). The page is made
//! for paper (`static/print.css`); `format=csv` / `format=json` download the same data
//! ([`export`]). Never a secret, nor its hint: the typed inventory token has no field for them.
//! Handlers parse, call `app::inventory`, render; rows are rendered and sent a chunk at a time.

pub mod export;

use crate::app::inventory::{self as inventory, ExportFormat, Inventory, Order, Sort, SortKey};
use crate::app::state::AppState;
use crate::domain::inventory::InventoryToken;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::handlers::tokens::{Choice, ListQuery, provider_choices, status_choices};
use crate::web::render::{Layout, html};
use crate::web::urls;
use crate::web::view::inventory::{SummaryView, TokenRow, filters_text, sort_label};
use crate::web::view::time::fmt_time;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use futures::stream::{self, Stream, StreamExt};
use std::sync::Arc;

/// Rows rendered per streamed chunk: the response is written as it is rendered, so memory
/// stays flat however many tokens an organization has.
const CHUNK_ROWS: usize = 250;
/// Where the page template leaves room for the streamed rows.
const ROWS_MARKER: &str = "<!--inventory-rows-->";

/// Query of the inventory: the list's filters, a sort, and the output format.
#[derive(Debug, Default, serde::Deserialize)]
pub struct InventoryQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub order: String,
    #[serde(default)]
    pub format: String,
}

impl InventoryQuery {
    pub(crate) fn list_query(&self) -> ListQuery {
        ListQuery {
            q: self.q.clone(),
            provider: self.provider.clone(),
            status: self.status.clone(),
            // The inventory sorts by its own `sort`/`order` (all of its rows, in memory).
            ..ListQuery::default()
        }
    }

    pub fn sort(&self) -> Result<Sort, AppError> {
        let key = match self.sort.trim() {
            "" => SortKey::Name,
            s => SortKey::parse(s).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "Unknown sort {s:?}: use {}.",
                    SortKey::ALL.map(|k| k.as_str()).join(", ")
                ))
            })?,
        };
        let order = match self.order.trim() {
            "" | "asc" => Order::Asc,
            "desc" => Order::Desc,
            o => {
                return Err(AppError::BadRequest(format!(
                    "Unknown order {o:?}: use asc or desc."
                )));
            }
        };
        Ok(Sort { key, order })
    }

    /// `None` is the printable page.
    pub fn format(&self) -> Result<Option<ExportFormat>, AppError> {
        match self.format.trim() {
            "" | "html" => Ok(None),
            "csv" => Ok(Some(ExportFormat::Csv)),
            "json" => Ok(Some(ExportFormat::Json)),
            f => Err(AppError::BadRequest(format!(
                "Unknown format {f:?}: use csv or json (or leave it out for the printable page)."
            ))),
        }
    }

    /// The filters and sort as a query string (for export links), without `format`.
    pub fn query_string(&self) -> String {
        crate::web::paging::query_string(&[
            ("q", &self.q),
            ("provider", &self.provider),
            ("status", &self.status),
            ("sort", &self.sort),
            ("order", &self.order),
        ])
    }
}

/// A chunk of table rows.
#[derive(Template)]
#[template(path = "pages/inventory/rows.html")]
pub struct InventoryRows<'a> {
    pub slug: &'a str,
    pub tokens: Vec<TokenRow<'a>>,
}

pub struct SortChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "pages/inventory/page.html")]
pub struct InventoryPage {
    pub layout: Layout,
    pub slug: String,
    pub org_name: String,
    pub generated_iso: String,
    pub generated_at: String,
    pub generated_by: String,
    pub summary: SummaryView,
    pub filters_text: String,
    pub filtered: bool,
    /// The organization has tokens at all (distinguishes "none yet" from "none match").
    pub org_has_tokens: bool,
    pub q: String,
    pub providers: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub sorts: Vec<SortChoice>,
    pub descending: bool,
    pub csv_url: String,
    pub json_url: String,
    pub base_url: String,
}

/// `GET …/git-tokens/inventory`: the page, or with `format=` a download.
pub async fn show_inventory(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<InventoryQuery>,
) -> Result<HttpResponse, AppError> {
    let format = query.format()?;
    let filter = query.list_query().filter()?;
    let sort = query.sort()?;
    if let Some(format) = format {
        let inv = inventory::export(&state, &ctx.member, filter, sort, format).await?;
        return export::download(inv, format, &ctx.member);
    }
    let inv = inventory::show(&state, &ctx.member, filter, sort).await?;
    let base = urls::inventory(&ctx.org.slug);
    let qs = query.query_string();
    let with = |fmt: &str| {
        if qs.is_empty() {
            format!("{base}?format={fmt}")
        } else {
            format!("{base}?{qs}&format={fmt}")
        }
    };
    let page = InventoryPage {
        layout: Layout::for_org(
            &req,
            &ctx,
            format!("Token inventory · {}", ctx.org.name),
            "inventory",
        ),
        slug: ctx.org.slug.clone(),
        org_name: ctx.org.name.clone(),
        generated_iso: inv.generated_at.and_utc().to_rfc3339(),
        generated_at: fmt_time(inv.generated_at),
        generated_by: ctx.member.user.email.clone(),
        summary: SummaryView::new(&inv.summary),
        filters_text: filters_text(&inv.filters),
        filtered: inv.filters.any(),
        org_has_tokens: inv.org_has_tokens,
        q: query.q.trim().to_string(),
        providers: provider_choices(query.provider.trim()),
        statuses: status_choices(query.status.trim()),
        sorts: SortKey::ALL
            .into_iter()
            .map(|k| SortChoice {
                value: k.as_str(),
                label: sort_label(k),
                selected: k == sort.key,
            })
            .collect(),
        descending: sort.order == Order::Desc,
        csv_url: with("csv"),
        json_url: with("json"),
        base_url: base,
    };
    let whole = page.render()?;
    let (head, tail) = match whole.split_once(ROWS_MARKER) {
        Some((h, t)) => (h.to_string(), t.to_string()),
        None => (whole, String::new()),
    };
    let slug = ctx.org.slug.clone();
    let rows = chunks(inv, move |_, part, now| {
        InventoryRows {
            slug: &slug,
            tokens: part.iter().map(|t| TokenRow::new(t, now)).collect(),
        }
        .render()
        .map(Bytes::from)
    });
    let body = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) })
        .chain(rows)
        .chain(stream::once(async move { Ok(Bytes::from(tail)) }));
    Ok(html(&req, String::new())
        .set_body(actix_web::body::BodyStream::new(body))
        .map_into_boxed_body())
}

/// The inventory's tokens in chunks of [`CHUNK_ROWS`], each turned into bytes (by
/// `render(index, rows, generated_at)`) only when the client is ready for it.
pub(crate) fn chunks<F, E>(
    inv: Inventory,
    render: F,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + 'static
where
    F: Fn(usize, &[InventoryToken], NaiveDateTime) -> Result<Bytes, E> + 'static,
    E: std::fmt::Display,
{
    let now = inv.generated_at;
    let tokens = Arc::new(inv.tokens);
    let n = tokens.len().div_ceil(CHUNK_ROWS);
    stream::iter(0..n).map(move |i| {
        let start = i * CHUNK_ROWS;
        let end = (start + CHUNK_ROWS).min(tokens.len());
        render(i, tokens.get(start..end).unwrap_or_default(), now)
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
}

/// `…/git-tokens/inventory`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::org::INVENTORY, web::get().to(show_inventory));
}

//! Printable token inventory with CSV and JSON export (issue 5):
//! `GET /orgs/{org}/settings/git-tokens/inventory[?q=&provider=&status=&sort=&order=&format=]`.
//!
//! Viewer and up may open it; Billing gets 403, non-members 404 (DESIGN.md §3). The page is made
//! for paper (`static/print.css`); `format=csv` / `format=json` download the same data.
//! Never a secret, nor its hint: [`InventoryToken`] has no field for them.

use crate::db::StoreError;
use crate::db::models::audit::Audit;
use crate::domain::role::Permission;
use crate::inventory::{
    AppliedFilters, Inventory, InventoryToken, OrgRef, Sort, SortKey, Summary, csv_generated,
    csv_header, file_name, json_envelope, load_tokens, push_csv_rows, push_json_tokens,
};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::handlers::tokens::{Choice, ListQuery, provider_choices, status_choices};
use crate::web::render::{Layout, html};
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures::stream::{self, Stream, StreamExt};
use std::sync::Arc;

/// Rows rendered per streamed chunk: the response is written as it is rendered, so memory
/// stays flat however many tokens an organization has.
const CHUNK_ROWS: usize = 250;
/// Where the page template leaves room for the streamed rows.
const ROWS_MARKER: &str = "<!--inventory-rows-->";

pub fn inventory_url(slug: &str) -> String {
    format!("/orgs/{slug}/settings/git-tokens/inventory")
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Csv,
    Json,
}

impl InventoryQuery {
    fn list_query(&self) -> ListQuery {
        ListQuery {
            q: self.q.clone(),
            provider: self.provider.clone(),
            status: self.status.clone(),
            page: String::new(),
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
        let descending = match self.order.trim() {
            "" | "asc" => false,
            "desc" => true,
            o => {
                return Err(AppError::BadRequest(format!(
                    "Unknown order {o:?}: use asc or desc."
                )));
            }
        };
        Ok(Sort { key, descending })
    }

    pub fn format(&self) -> Result<Format, AppError> {
        match self.format.trim() {
            "" | "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            f => Err(AppError::BadRequest(format!(
                "Unknown format {f:?}: use csv or json (or leave it out for the printable page)."
            ))),
        }
    }

    /// The filters and sort as a query string (for export links), without `format`.
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("provider", &self.provider),
            ("status", &self.status),
            ("sort", &self.sort),
            ("order", &self.order),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        s.finish()
    }
}

/// A chunk of table rows.
#[derive(Template)]
#[template(path = "pages/inventory/rows.html")]
pub struct InventoryRows<'a> {
    pub slug: &'a str,
    pub tokens: &'a [InventoryToken],
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
    pub inv: Inventory,
    pub generated_at: String,
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

pub async fn show_inventory(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<InventoryQuery>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ViewTokens)?;
    let format = query.format()?;
    let filter = query.list_query().filter()?;
    let sort = query.sort()?;
    let applied = AppliedFilters::new(&filter, sort);
    let org_id = ctx.org.id.clone();
    let st = state.clone();
    let n = state.clock.naive();
    let want_org_total = applied.any() && format == Format::Html;
    // Exports are files that leave Forgekeys: the audit trail says who took the credential
    // list, in which format, with which filters and how many tokens (never a value).
    let export_audit = match format {
        Format::Html => None,
        Format::Csv | Format::Json => {
            let mut a = Audit::new("inventory.export");
            a.org_id = Some(ctx.org.id.clone());
            a.actor_user_id = Some(ctx.user.id.clone());
            a.actor_email = Some(ctx.user.email.clone());
            a.details = serde_json::json!({
                "format": if format == Format::Csv { "csv" } else { "json" },
                "filters": &applied,
            });
            Some(a)
        }
    };
    let (tokens, org_has_tokens) = web::block(move || -> Result<_, StoreError> {
        let mut conn = st.conn()?;
        let tokens = load_tokens(&mut conn, &org_id, &filter, sort, n)?;
        if let Some(mut a) = export_audit {
            if let Some(d) = a.details.as_object_mut() {
                d.insert("count".into(), tokens.len().into());
            }
            a.write(&mut conn)?;
        }
        let org_has_tokens = if want_org_total {
            let (_, total) = crate::db::models::token::GitToken::list(
                &mut conn,
                &org_id,
                &Default::default(),
                0,
                0,
            )?;
            total > 0
        } else {
            !tokens.is_empty()
        };
        Ok((tokens, org_has_tokens))
    })
    .await??;
    let generated_at = n.and_utc();
    let inv = Inventory {
        organization: OrgRef {
            slug: ctx.org.slug.clone(),
            name: ctx.org.name.clone(),
        },
        generated_at,
        generated_by: ctx.user.email.clone(),
        summary: Summary::of(&tokens, n),
        filters: applied,
        tokens: Vec::new(),
    };
    let tokens = Arc::new(tokens);
    let slug = ctx.org.slug.clone();
    match format {
        Format::Csv => {
            let generated = Arc::new(csv_generated(&inv));
            let rows = chunks(tokens, move |_, part| {
                let mut out = String::with_capacity(part.len() * 400);
                push_csv_rows(&mut out, part, &slug, &generated);
                Ok::<_, std::convert::Infallible>(Bytes::from(out))
            });
            Ok(download(
                "text/csv; charset=utf-8",
                &file_name(&ctx.org.slug, generated_at, "csv"),
                stream::once(async move { Ok(Bytes::from(csv_header())) }).chain(rows),
            ))
        }
        Format::Json => {
            let (head, tail) = json_envelope(&inv)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("inventory JSON: {e}")))?;
            let rows = chunks(tokens, |i, part| {
                let mut out = Vec::with_capacity(part.len() * 700);
                push_json_tokens(&mut out, part, i == 0)?;
                Ok::<_, serde_json::Error>(Bytes::from(out))
            });
            Ok(download(
                "application/json",
                &file_name(&ctx.org.slug, generated_at, "json"),
                stream::once(async move { Ok(Bytes::from(head)) })
                    .chain(rows)
                    .chain(stream::once(async move {
                        Ok(Bytes::from_static(tail.as_bytes()))
                    })),
            ))
        }
        Format::Html => {
            let base = inventory_url(&ctx.org.slug);
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
                generated_at: generated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                filters_text: inv.filters.describe(),
                filtered: inv.filters.any(),
                org_has_tokens,
                q: query.q.trim().to_string(),
                providers: provider_choices(query.provider.trim()),
                statuses: status_choices(query.status.trim()),
                sorts: SortKey::ALL
                    .into_iter()
                    .map(|k| SortChoice {
                        value: k.as_str(),
                        label: k.label(),
                        selected: k == sort.key,
                    })
                    .collect(),
                descending: sort.descending,
                csv_url: with("csv"),
                json_url: with("json"),
                base_url: base,
                inv,
            };
            let whole = page.render()?;
            let (head, tail) = match whole.split_once(ROWS_MARKER) {
                Some((h, t)) => (h.to_string(), t.to_string()),
                None => (whole, String::new()),
            };
            let rows = chunks(tokens, move |_, part| {
                let html = InventoryRows {
                    slug: &slug,
                    tokens: part,
                }
                .render()?;
                Ok::<_, askama::Error>(Bytes::from(html))
            });
            let body = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) })
                .chain(rows)
                .chain(stream::once(async move { Ok(Bytes::from(tail)) }));
            Ok(html(&req, String::new())
                .set_body(actix_web::body::BodyStream::new(body))
                .map_into_boxed_body())
        }
    }
}

/// The tokens in chunks of [`CHUNK_ROWS`], each turned into bytes (by `render(index, rows)`)
/// only when the client is ready for it.
fn chunks<F, E>(
    tokens: Arc<Vec<InventoryToken>>,
    render: F,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + 'static
where
    F: Fn(usize, &[InventoryToken]) -> Result<Bytes, E> + 'static,
    E: std::fmt::Display,
{
    let n = tokens.len().div_ceil(CHUNK_ROWS);
    stream::iter(0..n).map(move |i| {
        let start = i * CHUNK_ROWS;
        let end = (start + CHUNK_ROWS).min(tokens.len());
        render(i, tokens.get(start..end).unwrap_or_default())
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
}

/// An attachment download, streamed; never cached (it lists an organization's credentials).
fn download<S>(content_type: &'static str, name: &str, body: S) -> HttpResponse
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

/// `…/git-tokens/inventory`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        crate::web::urls::org::INVENTORY,
        web::get().to(show_inventory),
    );
}

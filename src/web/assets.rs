//! Static assets embedded in the binary, served with ETags and long-lived caching when the URL
//! carries a version (`?v=<content hash>`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;
use std::sync::OnceLock;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

pub const HTMX_FILE: &str = "vendor/htmx-2.0.11.min.js";

/// Versioned URLs of the assets the layout links to.
#[derive(Debug, Clone)]
pub struct AssetUrls {
    pub css: String,
    pub print_css: String,
    pub js: String,
    pub htmx: String,
    pub favicon: String,
}

fn versioned(path: &str) -> String {
    match Static::get(path) {
        Some(f) => format!(
            "/static/{path}?v={}",
            &hex::encode(f.metadata.sha256_hash())[..12]
        ),
        None => format!("/static/{path}"),
    }
}

pub fn urls() -> &'static AssetUrls {
    static URLS: OnceLock<AssetUrls> = OnceLock::new();
    URLS.get_or_init(|| AssetUrls {
        css: versioned("app.css"),
        print_css: versioned("print.css"),
        js: versioned("app.js"),
        htmx: versioned(HTMX_FILE),
        favicon: versioned("favicon.svg"),
    })
}

pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve_path(&req, &path)
}

pub async fn favicon(req: HttpRequest) -> HttpResponse {
    serve_path(&req, "favicon.svg")
}

fn serve_path(req: &HttpRequest, path: &str) -> HttpResponse {
    let Some(file) = Static::get(path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("not found");
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = if req.query_string().starts_with("v=") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, file.metadata.mimetype().to_string()))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned())
}

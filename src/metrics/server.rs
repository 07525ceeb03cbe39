//! The `/metrics` listener on `FORGEKEYS_METRICS_BIND`: its own socket and one worker, so the
//! metrics are never reachable on the public port (which answers 404 for `/metrics`) and a
//! firewall can keep them to the monitoring network. Unauthenticated by design, like most
//! exporters: bind it to loopback or an internal address.

use crate::app::state::AppState;
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;

/// The metrics path on the metrics listener.
pub const PATH: &str = "/metrics";

/// `GET /metrics`: the token gauges are read now (one grouped query), then everything is
/// encoded. A failed reading keeps the previous gauges and is logged; the counters are served.
async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    match crate::app::metrics::token_counts(&state).await {
        Ok(counts) => state.metrics.set_token_counts(&counts),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count the tokens"),
    }
    HttpResponse::Ok()
        .content_type(super::CONTENT_TYPE)
        .body(state.metrics.encode())
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain")
        .body("not found: the metrics are at /metrics\n")
}

/// Start serving `/metrics` on `listener` (already bound, so a port-0 address is known).
pub fn start(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(PATH, web::get().to(scrape))
            .default_service(web::to(not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run())
}

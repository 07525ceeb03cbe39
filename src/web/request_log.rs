//! One log line and one metrics observation per request (the outermost middleware, so it sees
//! every answer, refusals of the other middleware included).
//!
//! The line (target `forgekeys::http`) carries the method, the matched route *pattern*, the
//! status, the time to the response head in milliseconds, and the client IP
//! ([`super::client::client_ip`], which believes forwarding headers only from
//! `FORGEKEYS_TRUSTED_PROXIES`). Never the raw path or the query string: both can hold secrets
//! (the one-time `/setup?token=…` link, reset links), and the pattern is what an operator
//! groups by anyway. `GET /healthz` logs at `debug`, so health probes do not flood the log.

use super::client::client_ip;
use super::drain::{InFlight, Tracked};
use super::extractors::state;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::time::Instant;

/// The route label of a request that matched no route (the 404 page).
pub const UNMATCHED: &str = "unmatched";

macro_rules! request_line {
    ($level:ident, $method:expr, $route:expr, $status:expr, $ms:expr, $ip:expr) => {
        tracing::$level!(
            target: "forgekeys::http",
            method = %$method,
            route = %$route,
            status = $status,
            duration_ms = $ms,
            client_ip = %$ip,
            "request"
        )
    };
}

/// Middleware: time the request, then count and log it.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Tracked>, actix_web::Error> {
    let started = Instant::now();
    // Held until the response body is written out (see `web::drain`).
    let guard = req
        .app_data::<actix_web::web::Data<InFlight>>()
        .map(|d| d.enter());
    // The pattern is looked up in the route table from the path alone, before routing.
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_string());
    let method = req.method().clone();
    let ip = client_ip(req.request()).map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let metrics = state(req.request()).ok().map(|s| s.metrics.clone());
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.http_request(method.as_str(), &route, status.as_u16(), elapsed);
    }
    // Milliseconds with microsecond resolution.
    let ms = (elapsed.as_micros() as f64) / 1000.0;
    if route == super::urls::HEALTH {
        request_line!(debug, method, route, status.as_u16(), ms, ip);
    } else {
        request_line!(info, method, route, status.as_u16(), ms, ip);
    }
    result.map(|res| res.map_body(|_, body| Tracked::new(body.boxed(), guard)))
}

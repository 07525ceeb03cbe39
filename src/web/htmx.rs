//! HTMX request detection.
//!
//! `ResponseError::error_response` gets no request, so a middleware records whether the current
//! request came from HTMX in a task-local that the error mapping reads.

use actix_web::HttpRequest;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

tokio::task_local! {
    static IS_HTMX: bool;
}

/// Whether the request being handled carries `HX-Request: true`.
pub fn current_request_is_htmx() -> bool {
    IS_HTMX.try_with(|v| *v).unwrap_or(false)
}

pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers()
        .get("HX-Request")
        .is_some_and(|v| v.as_bytes() == b"true")
}

/// The element id HTMX will swap into (`HX-Target`), if any.
pub fn target(req: &HttpRequest) -> Option<&str> {
    req.headers().get("HX-Target").and_then(|v| v.to_str().ok())
}

pub async fn htmx_flag(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let flag = is_htmx(req.request());
    IS_HTMX.scope(flag, next.call(req)).await
}

//! Input guard: refuse NUL characters before they reach a handler.
//!
//! PostgreSQL cannot store or compare text containing U+0000, so a NUL in a path, query or form
//! would otherwise end in a database error (a 500). No legitimate value contains one, so the
//! request is refused up front with a 400 that says why.

use super::error::AppError;
use actix_web::ResponseError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Whether URL-encoded or raw bytes carry a NUL (`%00`, any case, or a raw 0 byte).
pub fn contains_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

pub fn nul_error() -> AppError {
    AppError::BadRequest(
        "The request contains a NUL character (%00), which no Forgekeys field accepts. Remove it and try again."
            .into(),
    )
}

/// Middleware: refuse a path or query with a NUL.
pub async fn reject_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let uri = req.uri();
    let raw_path = uri.path().as_bytes();
    let query = uri.query().unwrap_or("").as_bytes();
    if contains_nul(raw_path) || contains_nul(query) {
        let resp = if super::api::is_api_path(req.path()) {
            super::api::problem::ApiError::Malformed(
                "The request contains a NUL character (%00), which no Forgekeys field accepts."
                    .into(),
            )
            .error_response()
        } else {
            nul_error().error_response()
        };
        return Ok(req.into_response(resp).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul() {
        assert!(contains_nul(b"a%00b"));
        assert!(contains_nul(b"a\0b"));
        assert!(!contains_nul(b"a%2500b"));
        assert!(!contains_nul(b"100%"));
    }
}

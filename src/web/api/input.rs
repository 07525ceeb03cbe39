//! Reading a request's JSON body and query string for the API: anything that is not what the
//! route takes is a 400 problem (never a 500), and a NUL character is refused before it can
//! reach the database (as the pages' input guard does).

use super::problem::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

/// Largest JSON body accepted (a token value is at most 4 KiB).
const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body.
pub struct ApiJson<T>(pub T);

/// A serde message without the values it may quote (`invalid type: string "…"`): a body may
/// carry a token value in the wrong field.
fn redacted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("string \"") {
        out.push_str(&rest[..i + 8]);
        rest = &rest[i + 8..];
        match rest.find('"') {
            Some(j) => {
                out.push_str("…\"");
                rest = &rest[j + 1..];
            }
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

fn has_nul(body: &[u8]) -> bool {
    body.contains(&0) || body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if has_nul(body) {
        return Err(ApiError::Malformed(
            "The request contains a NUL character (\\u0000), which no Forgekeys field accepts."
                .into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::Malformed(match e.classify() {
            serde_json::error::Category::Data => format!(
                "The JSON body does not fit this request: {}.",
                redacted(&e.to_string())
            ),
            _ => format!(
                "The body is not valid JSON (line {}, column {}). Send a JSON object with Content-Type: application/json.",
                e.line(),
                e.column()
            ),
        })
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = web::Bytes::from_request(&req, &mut payload)
                .await
                .map_err(|_| {
                    ApiError::Malformed(
                        "The body could not be read (too large or interrupted).".into(),
                    )
                })?;
            if body.len() > BODY_LIMIT {
                return Err(ApiError::Malformed("The body is too large.".into()));
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

/// The query string as `T`.
pub fn query<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ApiError> {
    let q = req.query_string();
    if crate::web::guard::contains_nul(q.as_bytes()) {
        return Err(ApiError::Malformed(
            "The query contains a NUL character (%00), which no Forgekeys field accepts.".into(),
        ));
    }
    serde_urlencoded::from_str(q)
        .map_err(|e| ApiError::Malformed(format!("The query string could not be read: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_left_out_of_messages() {
        assert_eq!(
            redacted(r#"invalid type: string "ghp_secret", expected a boolean at line 1"#),
            r#"invalid type: string "…", expected a boolean at line 1"#
        );
        assert!(has_nul(br#"{"name":"a\u0000"}"#));
        assert!(!has_nul(br#"{"name":"a"}"#));
    }
}

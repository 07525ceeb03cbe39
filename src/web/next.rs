//! Where a sign-in returns to (`next=`): a same-origin path only, so the sign-in page can never
//! send anyone to another site (no open redirect). The path of the request being handled is kept
//! in a task-local, so a "sign in first" redirect (which `ResponseError` builds without the
//! request) can remember the page that was asked for in a short-lived cookie ([`NEXT_COOKIE`]),
//! which the sign-in page then uses (an explicit `?next=` wins).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

tokio::task_local! {
    static ASKED_FOR: Option<String>;
}

/// The page asked for before signing in (a path only, checked again when used).
pub const NEXT_COOKIE: &str = "fk_next";

/// The cookie remembering `path` for ten minutes.
pub fn cookie(path: String) -> actix_web::cookie::Cookie<'static> {
    let value: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    super::session::cookie(
        NEXT_COOKIE,
        value,
        false,
        Some(actix_web::cookie::time::Duration::minutes(10)),
    )
}

/// Where the sign-in page returns to: its `?next=` or the remembered page, when either is a
/// same-origin path.
pub fn requested(req: &actix_web::HttpRequest, query_next: &str) -> Option<String> {
    if let Some(n) = safe_next(query_next) {
        return Some(n.to_string());
    }
    let c = req.cookie(NEXT_COOKIE)?;
    let decoded: String = url::form_urlencoded::parse(format!("n={}", c.value()).as_bytes())
        .find(|(k, _)| k == "n")
        .map(|(_, v)| v.into_owned())?;
    safe_next(&decoded).map(str::to_string)
}

/// Longest `next` kept.
const NEXT_MAX: usize = 2000;

/// `raw` when it is a path on this site: it starts with one `/` (not `//` or `/\`, which
/// browsers read as another host), and holds no backslash, whitespace or control character
/// (browsers drop tabs and newlines, so `/\t/evil.example` would become `//evil.example`).
/// A path cannot carry a scheme, since it starts with `/`.
pub fn safe_next(raw: &str) -> Option<&str> {
    let ok = raw.len() <= NEXT_MAX
        && raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    ok.then_some(raw)
}

/// The path and query of the GET request being handled, when it may be returned to.
pub fn asked_for() -> Option<String> {
    ASKED_FOR.try_with(Clone::clone).ok().flatten()
}

/// Remember the path of a GET request for the sign-in redirect.
pub async fn remember_path(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = (req.method() == Method::GET)
        .then(|| {
            req.uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default()
        })
        .filter(|p| safe_next(p).is_some() && p != "/");
    ASKED_FOR.scope(path, next.call(req)).await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_origin_paths() {
        assert_eq!(
            safe_next("/orgs/acme/settings/members"),
            Some("/orgs/acme/settings/members")
        );
        assert_eq!(safe_next("/orgs?a=1&b=%2F%2F"), Some("/orgs?a=1&b=%2F%2F"));
        for bad in [
            "",
            "orgs",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/\n/evil.example",
            " /orgs",
            "/a\\b",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}

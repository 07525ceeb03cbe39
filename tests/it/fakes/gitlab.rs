//! Fake GitLab REST API under `/api/v4`. See the table in `mod.rs`.

use super::dates;
use super::{FakeResponse, FakeServer, RecordedRequest};

/// Fake GitLab (gitlab.com or self-managed: same answers).
pub fn start() -> FakeServer {
    FakeServer::start(answer)
}

fn unauthorized() -> FakeResponse {
    FakeResponse::json(401, r#"{"message":"401 Unauthorized"}"#)
}

fn not_found() -> FakeResponse {
    FakeResponse::json(404, r#"{"message":"404 Not Found"}"#)
}

fn insufficient_scope() -> FakeResponse {
    FakeResponse::json(
        403,
        r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token.","scope":"api"}"#,
    )
}

/// `GET /personal_access_tokens/self` (entity `PersonalAccessTokenWithLastUsedIps`, body of
/// provider-apis.md §2.2): made 30 days before the fake started, last used an hour before,
/// `expires_at` date-only or `null`.
fn token_self(
    req: &RecordedRequest,
    scopes: &str,
    active: bool,
    expires: Option<&str>,
) -> FakeResponse {
    let created = dates::rfc3339_ms(req.anchor - chrono::Duration::days(30));
    let used = dates::rfc3339_ms(req.anchor - chrono::Duration::hours(1));
    let expires_at = expires.map_or("null".to_owned(), |d| format!("\"{d}\""));
    FakeResponse::json(
        200,
        format!(
            r#"{{"id":42,"name":"forgekeys","revoked":false,"created_at":"{created}","description":"deploy platform","scopes":{scopes},"user_id":141,"last_used_at":"{used}","active":{active},"expires_at":{expires_at},"last_used_ips":["203.0.113.5"]}}"#
        ),
    )
}

/// The token's `expires_at` date (`dates::gitlab_expiry`).
fn expiry_date(req: &RecordedRequest, token: &str) -> String {
    dates::gitlab_date(dates::gitlab_expiry(req.anchor, token))
}

/// `Token is expired` (401), as `lib/api/api_guard.rb` answers an expired token on any route.
fn expired() -> FakeResponse {
    FakeResponse::json(
        401,
        r#"{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}"#,
    )
}

const BOT_USER: &str = r#"{"id":141,"username":"project_17_bot_3f1a2b","name":"forgekeys","state":"active","locked":false,"web_url":"https://gitlab.example.com/project_17_bot_3f1a2b","bot":true}"#;
const HUMAN_USER: &str = r#"{"id":141,"username":"alice","name":"Alice","state":"active","locked":false,"web_url":"https://gitlab.example.com/alice","bot":false}"#;
const BOTH: &str = r#"["api","read_repository"]"#;

fn answer(req: &RecordedRequest) -> FakeResponse {
    let Some(route) = req.route().strip_prefix("/api/v4") else {
        return not_found();
    };
    let t = req.token().unwrap_or("");
    let is = |p: &str| t.starts_with(p);

    if is("glpat-expired") {
        return expired();
    }
    // A token whose `exp` marker lies in the past has expired at midnight UTC of its date:
    // GitLab refuses it before any route (authentication fails first, provider-apis.md §6).
    if dates::marker(t).is_some() && dates::gitlab_expiry(req.anchor, t) <= chrono::Utc::now() {
        return expired();
    }
    if is("glpat-revoked") {
        return FakeResponse::json(
            401,
            r#"{"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}"#,
        );
    }
    if is("glpat-oauth") && route == "/personal_access_tokens/self" {
        return FakeResponse::json(
            400,
            r#"{"message":"400 Bad request - This endpoint requires token type to be a personal access token"}"#,
        );
    }
    if is("glpat-ratelimited") {
        return FakeResponse::new(429)
            .header("content-type", "text/plain")
            .header("retry-after", "30")
            .header("ratelimit-limit", "2000")
            .header("ratelimit-remaining", "0")
            .body(b"Retry later".to_vec());
    }
    if is("glpat-5xx") {
        return FakeResponse::json(500, r#"{"message":"500 Internal Server Error"}"#);
    }

    let known = [
        "glpat-maintainer",
        "glpat-owner",
        "glpat-developer",
        "glpat-noapi",
        "glpat-inactive",
        "glpat-old",
        "glpat-noassoc",
    ];
    if !known.iter().any(|k| is(k)) {
        return unauthorized();
    }
    // Project and branch listings (issue 4), paged: see `listing.rs`.
    if let Some(resp) = super::listing::gitlab(req, route) {
        return resp;
    }

    match route {
        "/personal_access_tokens/self/rotate" if req.method == "POST" => rotate(t),
        "/personal_access_tokens/self" => {
            let date = expiry_date(req, t);
            if is("glpat-owner") {
                // Non-expiring unless a marker says otherwise (service accounts may be).
                let d = dates::marker(t).map(|_| date);
                token_self(req, BOTH, true, d.as_deref())
            } else if is("glpat-maintainer") || is("glpat-developer") || is("glpat-noassoc") {
                token_self(req, BOTH, true, Some(&date))
            } else if is("glpat-noapi") {
                token_self(req, r#"["read_repository","read_user"]"#, true, Some(&date))
            } else if is("glpat-inactive") {
                token_self(req, BOTH, false, None)
            } else {
                not_found() // glpat-old: GitLab < 15.5
            }
        }
        "/user" => {
            if is("glpat-owner") || is("glpat-old") || is("glpat-noapi") {
                FakeResponse::json(200, HUMAN_USER)
            } else {
                FakeResponse::json(200, BOT_USER)
            }
        }
        "/personal_access_tokens/self/associations" => {
            if is("glpat-maintainer") {
                FakeResponse::json(
                    200,
                    r#"{"groups":[],"projects":[{"id":1337,"name":"test-project","path_with_namespace":"Test/test-project","access_levels":{"project_access_level":null,"group_access_level":40}}]}"#,
                )
            } else if is("glpat-owner") {
                FakeResponse::json(
                    200,
                    r#"{"groups":[{"id":1,"name":"Test","full_path":"test","access_levels":50}],"projects":[]}"#,
                )
            } else if is("glpat-developer") {
                FakeResponse::json(200, r#"{"groups":[],"projects":[]}"#)
            } else if is("glpat-noapi") {
                insufficient_scope()
            } else {
                not_found() // glpat-old, glpat-noassoc: GitLab < 17.4
            }
        }
        "/projects" if is("glpat-old") => FakeResponse::json(
            200,
            r#"[{"id":7,"name":"app","path_with_namespace":"group/app"}]"#,
        ),
        "/projects" => FakeResponse::json(200, "[]"),
        "/groups" if is("glpat-noassoc") => FakeResponse::json(
            200,
            r#"[{"id":3,"name":"Platform","path":"platform","full_path":"platform"}]"#,
        ),
        "/groups" => FakeResponse::json(200, "[]"),
        _ => not_found(),
    }
}

/// `POST /api/v4/personal_access_tokens/self/rotate` (GitLab 16.10+, provider-apis.md §2.6).
/// Needs `api` or `self_rotate`: `glpat-noapi` gets 403 `insufficient_scope`; `glpat-old`
/// (an old GitLab) 404; `glpat-inactive` 401; `glpat-expired` / `glpat-revoked` and unknown
/// tokens already got their 401 above. Otherwise 200 with a new token that behaves like the old
/// one (same prefix, then `-rotated<n>`) and `expires_at` one week from today (GitLab's
/// default). The fake does not revoke the old value.
fn rotate(t: &str) -> FakeResponse {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    if t.starts_with("glpat-noapi") {
        return insufficient_scope();
    }
    if t.starts_with("glpat-old") {
        return not_found();
    }
    if t.starts_with("glpat-inactive") {
        return unauthorized();
    }
    let prefix = [
        "glpat-maintainer",
        "glpat-owner",
        "glpat-developer",
        "glpat-noassoc",
    ]
    .into_iter()
    .find(|p| t.starts_with(p))
    .unwrap_or("glpat-owner");
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let now = chrono::Utc::now();
    let expires = dates::gitlab_date(now + chrono::Duration::days(7));
    let created = dates::rfc3339_ms(now);
    FakeResponse::json(
        200,
        format!(
            r#"{{"id":{},"name":"forgekeys","revoked":false,"created_at":"{created}","description":"deploy platform","scopes":["api","read_repository"],"user_id":141,"last_used_at":null,"active":true,"expires_at":"{expires}","token":"{prefix}-rotated{n}"}}"#,
            42 + n
        ),
    )
}

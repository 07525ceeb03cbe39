//! Fake GitLab REST API under `/api/v4`. See the table in `mod.rs`.

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

fn token_self(scopes: &str, active: bool, expires_at: &str) -> FakeResponse {
    FakeResponse::json(
        200,
        format!(
            r#"{{"id":42,"name":"forgekeys","revoked":false,"created_at":"2025-01-20T22:11:48.151Z","description":"deploy platform","scopes":{scopes},"user_id":141,"last_used_at":"2025-02-01T10:00:00.000Z","active":{active},"expires_at":{expires_at},"last_used_ips":["203.0.113.5"]}}"#
        ),
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
        return FakeResponse::json(
            401,
            r#"{"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}"#,
        );
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
            if is("glpat-maintainer") {
                token_self(BOTH, true, r#""2026-01-31""#)
            } else if is("glpat-owner") {
                token_self(BOTH, true, "null")
            } else if is("glpat-developer") || is("glpat-noassoc") {
                token_self(BOTH, true, r#""2026-06-30""#)
            } else if is("glpat-noapi") {
                token_self(
                    r#"["read_repository","read_user"]"#,
                    true,
                    r#""2026-06-30""#,
                )
            } else if is("glpat-inactive") {
                token_self(BOTH, false, "null")
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
    let expires = (chrono::Utc::now().date_naive() + chrono::Duration::days(7)).format("%Y-%m-%d");
    FakeResponse::json(
        200,
        format!(
            r#"{{"id":{},"name":"forgekeys","revoked":false,"created_at":"2025-01-20T22:11:48.151Z","description":"deploy platform","scopes":["api","read_repository"],"user_id":141,"last_used_at":null,"active":true,"expires_at":"{expires}","token":"{prefix}-rotated{n}"}}"#,
            42 + n
        ),
    )
}

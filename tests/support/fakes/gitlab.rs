//! Fake GitLab REST API under `/api/v4` and its Git smart HTTP (`/{project}.git/…`), at the root
//! or under a path prefix (a GitLab installed at `https://host/gitlab`). See the table in
//! `mod.rs`.

use super::dates;
use super::git_server::{self, GitAccess, GitFlavour};
use super::{FakeResponse, FakeServer, RecordedRequest};

/// Fake GitLab (gitlab.com or self-managed: same answers).
pub fn start() -> FakeServer {
    start_under("")
}

/// Fake GitLab installed under `prefix` (e.g. `/gitlab`): the API at `{prefix}/api/v4`, Git at
/// `{prefix}/{project}.git`; anything else 404.
pub fn start_under(prefix: &str) -> FakeServer {
    FakeServer::start(handler(prefix))
}

/// The fake's answers (API and Git) under `prefix`, for any server (plain or TLS).
pub fn handler(prefix: &str) -> impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static {
    let prefix = prefix.trim_end_matches('/').to_owned();
    move |req| {
        git_server::answer(req, &prefix, GitFlavour::Gitlab, git_access)
            .unwrap_or_else(|| answer(req, &prefix))
    }
}

/// GitLab's `GET /api/v4/version` (alias of `/metadata` on new servers; `lib/api/metadata.rb`,
/// `doc/api/metadata.md`, provider-research.md §6): allowed scopes `api`, `read_api`,
/// `read_user`; a token with only `read_repository` gets 403 `insufficient_scope`.
pub const VERSION: &str = "18.1.1-ee";
pub const OLD_VERSION: &str = "15.4.0";

fn version(t: &str) -> FakeResponse {
    if t.starts_with("glpat-old") {
        return FakeResponse::json(
            200,
            format!(r#"{{"version":"{OLD_VERSION}","revision":"4e963fe"}}"#),
        );
    }
    FakeResponse::json(
        200,
        format!(
            r#"{{"version":"{VERSION}","revision":"ceb07b24cb0","kas":{{"enabled":true,"externalUrl":"grpc://gitlab.example.com:8150","externalK8sProxyUrl":"https://gitlab.example.com:8150/k8s-proxy","version":"18.1.1"}},"enterprise":true}}"#
        ),
    )
}

/// Projects a token's user reads over Git (user name `oauth2`: Forgekeys sends it for every
/// GitLab token; research §8 says any name works for PATs). A token without `read_repository`
/// gets 401 "HTTP Basic: Access denied … improperly scoped" (`spec/requests/git_http_spec.rb`).
pub fn git_access(req: &RecordedRequest, user: &str, t: &str, project: &str) -> GitAccess {
    if user != "oauth2" {
        return GitAccess::Unauthorized;
    }
    if dates::marker(t).is_some() && dates::gitlab_expiry(req.anchor, t) <= chrono::Utc::now() {
        return GitAccess::Unauthorized;
    }
    let grants: &[&str] = if t.starts_with("glpat-maintainer") || t.starts_with("glpat-noapi") {
        &["Test/test-project"]
    } else if t.starts_with("glpat-owner") {
        &["test/infra"]
    } else if t.starts_with("glpat-old") {
        &["group/app"]
    } else if t.starts_with("glpat-noassoc") {
        &["platform/site"]
    } else if t.starts_with("glpat-personal") {
        &["alice/scratch"]
    } else if t.starts_with("glpat-shared") {
        &["partner/shared-app"]
    } else if t.starts_with("glpat-developer") {
        &[]
    } else {
        // Unknown tokens and `glpat-noreadrepo` (no `read_repository`).
        return GitAccess::Unauthorized;
    };
    let listed = (t.starts_with("glpat-maintainer") || t.starts_with("glpat-owner"))
        && project
            .strip_prefix("acme/")
            .is_some_and(|n| super::listing::repos_for(t).iter().any(|r| r == n));
    if grants.contains(&project) || listed {
        GitAccess::Granted
    } else {
        GitAccess::NotFound
    }
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
/// A group project with the Maintainer role through the group (`doc/api/personal_access_tokens.md`).
const TEST_PROJECT: &str = r#"{"id":1337,"description":"Leet.","name":"test-project","name_with_namespace":"Test / Test Project","path":"test-project","path_with_namespace":"Test/test-project","access_levels":{"project_access_level":null,"group_access_level":40},"visibility":"private","namespace":{"id":1,"name":"Test","path":"Test","kind":"group","full_path":"Test","parent_id":null}}"#;

fn answer(req: &RecordedRequest, prefix: &str) -> FakeResponse {
    let Some(route) = req
        .route()
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix("/api/v4"))
    else {
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

    // CI job tokens (`glcbt-`) and other kinds get a plain 401 here: this API does not take
    // them (provider-research.md §6 reads `job_token_allowed` off; corrects provider-apis.md §6).
    let known = [
        "glpat-maintainer",
        "glpat-owner",
        "glpat-developer",
        "glpat-noapi",
        "glpat-inactive",
        "glpat-old",
        "glpat-noassoc",
        "glpat-personal",
        "glpat-shared",
        "glpat-noreadrepo",
    ];
    if !known.iter().any(|k| is(k)) {
        return unauthorized();
    }
    // Project and branch listings (issue 4), paged: see `listing.rs`.
    if let Some(resp) = super::listing::gitlab(req, route) {
        return resp;
    }

    match route {
        "/version" => version(t),
        "/personal_access_tokens/self/rotate" if req.method == "POST" => rotate(t),
        "/personal_access_tokens/self" => {
            let date = expiry_date(req, t);
            if is("glpat-owner") {
                // Non-expiring unless a marker says otherwise (service accounts may be).
                let d = dates::marker(t).map(|_| date);
                token_self(req, BOTH, true, d.as_deref())
            } else if is("glpat-maintainer")
                || is("glpat-developer")
                || is("glpat-noassoc")
                || is("glpat-personal")
                || is("glpat-shared")
            {
                token_self(req, BOTH, true, Some(&date))
            } else if is("glpat-noreadrepo") {
                token_self(req, r#"["api"]"#, true, Some(&date))
            } else if is("glpat-noapi") {
                token_self(req, r#"["read_repository","read_user"]"#, true, Some(&date))
            } else if is("glpat-inactive") {
                token_self(req, BOTH, false, None)
            } else {
                not_found() // glpat-old: GitLab < 15.5
            }
        }
        "/user" => {
            if is("glpat-owner") || is("glpat-old") || is("glpat-noapi") || is("glpat-personal") {
                FakeResponse::json(200, HUMAN_USER)
            } else {
                FakeResponse::json(200, BOT_USER)
            }
        }
        // Any scope may call it (`self_information.rb`, provider-research.md §6): `glpat-noapi`
        // gets 200 too. Entities `lib/api/entities/{group,project}_association_details.rb`.
        "/personal_access_tokens/self/associations" => {
            if is("glpat-maintainer") || is("glpat-noapi") || is("glpat-noreadrepo") {
                FakeResponse::json(
                    200,
                    format!(r#"{{"groups":[],"projects":[{TEST_PROJECT}]}}"#),
                )
            } else if is("glpat-owner") {
                FakeResponse::json(
                    200,
                    r#"{"groups":[{"id":1,"web_url":"http://gitlab.example.com/groups/test","name":"Test","full_path":"test","parent_id":null,"organization_id":1,"access_levels":50,"visibility":"private"}],"projects":[]}"#,
                )
            } else if is("glpat-developer") {
                FakeResponse::json(200, r#"{"groups":[],"projects":[]}"#)
            } else if is("glpat-personal") {
                // A human's token: Owner of the user's own project (`namespace.kind: user`,
                // `group_access_level: null` — no group), Developer elsewhere (not listed with
                // min_access_level=40).
                FakeResponse::json(
                    200,
                    r#"{"groups":[],"projects":[{"id":77,"name":"scratch","path_with_namespace":"alice/scratch","access_levels":{"project_access_level":50,"group_access_level":null},"visibility":"private","namespace":{"id":141,"name":"alice","path":"alice","kind":"user","full_path":"alice"}}]}"#,
                )
            } else if is("glpat-shared") {
                // Reached only through a group share: listed, both levels null (research §6:
                // `highest_group_member` does not see shares).
                FakeResponse::json(
                    200,
                    r#"{"groups":[],"projects":[{"id":88,"name":"shared-app","path_with_namespace":"partner/shared-app","access_levels":{"project_access_level":null,"group_access_level":null},"visibility":"private","namespace":{"id":9,"name":"partner","path":"partner","kind":"group","full_path":"partner"}}]}"#,
                )
            } else {
                not_found() // glpat-old, glpat-noassoc: GitLab < 17.4
            }
        }
        "/groups/1/projects" => FakeResponse::json(
            200,
            r#"[{"id":12,"name":"infra","path_with_namespace":"test/infra"}]"#,
        ),
        "/groups/3/projects" => FakeResponse::json(
            200,
            r#"[{"id":13,"name":"site","path_with_namespace":"platform/site"}]"#,
        ),
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

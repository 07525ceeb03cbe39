//! GitLab (gitlab.com and self-managed, also under a path like `https://host/gitlab`):
//! provider-apis.md §2 and §6, provider-research.md §6.
//!
//! `GET /personal_access_tokens/self` (any scope may call it) gives scopes and expiry; then, at
//! once, `GET /user` (account), `GET /version` (server version; needs `api`, `read_api` or
//! `read_user`) and the token's reach ([`reach`]: associations, any scope). The clone check
//! runs on the first project with the Maintainer or Owner role (user name `oauth2`).

mod reach;

use super::git_probe::CloneTarget;
use super::http::{Reply, secret_header};
use super::scopes::parse_gitlab_date;
use super::{Ctx, blank, finish};
use crate::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use chrono::Utc;
use reach::Roles;
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;

const ROLE_NAME: &str = "Maintainer or Owner role";
/// Most projects/groups listed in the details.
const MAX_LISTED: usize = 10;
/// The user name a clone sends with a GitLab token.
const GIT_USER: &str = "oauth2";

fn request_headers(token: &str) -> Option<HeaderMap> {
    let mut map = HeaderMap::new();
    map.insert(
        HeaderName::from_static("private-token"),
        secret_header(token)?,
    );
    Some(map)
}

fn label(ctx: &Ctx<'_>) -> &'static str {
    if ctx.self_hosted {
        "GitLab"
    } else {
        "GitLab.com"
    }
}

fn scope_fix(scope: &str) -> String {
    format!(
        "GitLab cannot add scopes to an existing token: create a new one with `api` and \
         `read_repository` ticked (User settings → Access tokens, or the project's or group's \
         Settings → Access tokens) and enter it here. Missing: `{scope}`."
    )
}

const USE_AN_ACCESS_TOKEN: &str = "Use a personal, project or group access token (glpat-…) with \
     the `api` and `read_repository` scopes instead: User settings → Access tokens, or the \
     project's or group's Settings → Access tokens.";

/// GitLab's other token kinds, by their fixed prefixes (security/tokens, token prefixes):
/// the kind and what it is for.
fn other_kind(token: &str) -> Option<(&'static str, &'static str)> {
    const KINDS: [(&str, &str, &str); 9] = [
        (
            "glcbt-",
            "CI/CD job token",
            "it works only while its job runs",
        ),
        (
            "gldt-",
            "deploy token",
            "it works for Git and registries, not the API",
        ),
        (
            "glrt-",
            "runner authentication token",
            "it registers runners",
        ),
        (
            "glptt-",
            "pipeline trigger token",
            "it only starts pipelines",
        ),
        (
            "glft-",
            "feed token",
            "it only reads RSS and calendar feeds",
        ),
        (
            "glimt-",
            "incoming mail token",
            "it only creates issues by e-mail",
        ),
        (
            "gloas-",
            "OAuth application secret",
            "it is the secret of an OAuth application",
        ),
        (
            "glagent-",
            "Kubernetes agent token",
            "it only connects a cluster agent",
        ),
        ("glsoat-", "SCIM OAuth token", "it only provisions users"),
    ];
    KINDS
        .iter()
        .find(|(p, _, _)| token.starts_with(p))
        .map(|(_, kind, what)| (*kind, *what))
}

/// Maps a non-2xx answer to a final outcome (mapping table §2.5).
fn failure(ctx: &Ctx<'_>, reply: &Reply) -> TestOutcome {
    let message = super::provider_message(reply).to_ascii_lowercase();
    let mut o = match reply.status {
        401 if message.contains("expired") => TestOutcome::failed(
            TestStatus::Expired,
            format!("{} says the token has expired", label(ctx)),
        ),
        401 if message.contains("revoked") => TestOutcome::failed(
            TestStatus::Invalid,
            format!("{} says the token was revoked", label(ctx)),
        ),
        401 => ctx.unauthorized(label(ctx)),
        400 if message.contains("token type") => {
            // OAuth access tokens get this 400 (provider-research.md §6).
            let mut o = TestOutcome::failed(
                TestStatus::Invalid,
                format!(
                    "this is not a personal, project or group access token: GitLab answers that \
                     the endpoint requires a personal access token, as it does for an OAuth \
                     access token. {USE_AN_ACCESS_TOKEN}"
                ),
            );
            o.token_kind = Some("OAuth access token (not an access token)".to_owned());
            return o;
        }
        429 => TestOutcome::failed(
            TestStatus::Error,
            match reply
                .header("retry-after")
                .and_then(|v| v.parse::<u64>().ok())
            {
                Some(s) => format!(
                    "rate limited by GitLab, retry after {}",
                    super::http::human_secs(s)
                ),
                None => "rate limited by GitLab, retry after a few minutes".to_owned(),
            },
        ),
        _ => return ctx.unexpected(label(ctx), reply),
    };
    if let (401, Some((kind, what))) = (reply.status, other_kind(ctx.token)) {
        // A CI job token gets a plain 401 here: this API does not accept job tokens
        // (provider-research.md §6, correcting provider-apis.md §6).
        o.reason = Some(format!(
            "{} rejected the token: this is a GitLab {kind}, not an access token ({what}). \
             {USE_AN_ACCESS_TOKEN}",
            label(ctx)
        ));
        o.token_kind = Some(kind.to_owned());
    }
    o
}

fn unreadable(ctx: &Ctx<'_>, path: &str) -> TestOutcome {
    TestOutcome::failed(
        TestStatus::Error,
        format!(
            "{} answered {path} with a body Forgekeys could not read",
            label(ctx)
        ),
    )
}

pub(crate) async fn test(ctx: &Ctx<'_>) -> (TestOutcome, Option<CloneTarget>) {
    let Some(hdrs) = request_headers(ctx.token) else {
        return (
            TestOutcome::failed(
                TestStatus::Invalid,
                "the token contains characters that cannot be sent to GitLab",
            ),
            None,
        );
    };
    let reply = match ctx.get("/personal_access_tokens/self", &hdrs).await {
        Ok(r) => r,
        Err(o) => return (o, None),
    };
    let mut o = blank();
    let mut scopes: Option<Vec<String>> = None;
    let mut user_id: Option<i64> = None;
    match reply.status {
        200 => {
            let Some(json) = reply.json() else {
                return (unreadable(ctx, "/personal_access_tokens/self"), None);
            };
            let list: Option<Vec<String>> = json.get("scopes").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            });
            let Some(list) = list else {
                return (unreadable(ctx, "/personal_access_tokens/self"), None);
            };
            user_id = json.get("user_id").and_then(Value::as_i64);
            match json.get("expires_at") {
                Some(Value::Null) => {
                    o.never_expires = true;
                    o.warnings.push("This token never expires.".to_owned());
                }
                Some(Value::String(date)) => match parse_gitlab_date(date) {
                    Some(at) => o.expires_at = Some(at),
                    None => o
                        .warnings
                        .push("GitLab reported an expiry date in an unknown format".to_owned()),
                },
                _ => {}
            }
            if json.get("active").and_then(Value::as_bool) == Some(false) {
                return (inactive(ctx, &json, o.expires_at), None);
            }
            if let Some(name) = json.get("name").and_then(Value::as_str) {
                o.details.push(format!("token name at GitLab: {name}"));
            }
            scopes = Some(list);
        }
        404 => {
            o.warnings.push(
                "This GitLab version cannot report the token's scopes (before 15.5); `api` and \
                 `read_repository` could not be checked."
                    .to_owned(),
            );
        }
        _ => return (failure(ctx, &reply), None),
    }

    if let Some(list) = &scopes {
        for required in ["api", "read_repository"] {
            if !list.iter().any(|s| s == required) {
                o.missing.push(MissingPermission {
                    name: required.to_owned(),
                    fix: scope_fix(required),
                });
            }
        }
        o.scopes = list.clone();
    }

    // Account and version need api, read_api or read_user (unknown scopes: try); the reach
    // (associations) any scope. All three at once.
    let can_read_user = scopes.as_ref().is_none_or(|l| {
        l.iter()
            .any(|s| matches!(s.as_str(), "api" | "read_api" | "read_user"))
    });
    let user_req = async {
        if can_read_user {
            Some(ctx.get("/user", &hdrs).await)
        } else {
            None
        }
    };
    let version_req = async {
        if can_read_user {
            ctx.get("/version", &hdrs).await.ok()
        } else {
            None
        }
    };
    let (user, version, roles) = futures::join!(user_req, version_req, reach::roles(ctx, &hdrs));
    match user {
        Some(Ok(r)) if r.status == 200 => {
            let json = r.json();
            let username = json
                .as_ref()
                .and_then(|j| j.get("username").and_then(Value::as_str));
            o.account = username.map(str::to_owned);
            user_id = user_id.or_else(|| json.as_ref().and_then(|j| j.get("id")?.as_i64()));
            o.token_kind = Some(
                match json.as_ref().and_then(|j| j.get("bot")?.as_bool()) {
                    Some(true) => "project or group access token",
                    Some(false) => "personal access token",
                    None => "access token",
                }
                .to_owned(),
            );
        }
        Some(Ok(r)) if scopes.is_none() => return (failure(ctx, &r), None),
        Some(Ok(_)) | None => {}
        Some(Err(outcome)) => return (outcome, None),
    }
    if let Some(v) = version.filter(|v| v.status == 200).and_then(|v| v.json()) {
        o.server_version = v.get("version").and_then(Value::as_str).map(str::to_owned);
    }
    if o.account.is_none() {
        o.account = user_id.map(|id| format!("user #{id}"));
    }
    if o.token_kind.is_none() {
        o.token_kind = Some("access token".to_owned());
    }

    let mut clone = None;
    match roles {
        Ok(Roles::Found(found)) => {
            let total = found.len();
            o.details
                .extend(found.iter().take(MAX_LISTED).map(reach::Reach::describe));
            if total > MAX_LISTED {
                o.details.push(format!("and {} more", total - MAX_LISTED));
            }
            if found.iter().all(|r| r.personal) {
                o.warnings.push(reach::personal_only_warning(
                    &found,
                    o.account.as_deref().unwrap_or("the token's user"),
                ));
            }
            clone = match reach::clone_project(ctx, &hdrs, &found).await {
                Ok(p) => p,
                Err(outcome) => return (outcome, None),
            };
        }
        Ok(Roles::None) => o.missing.push(MissingPermission {
            name: ROLE_NAME.to_owned(),
            fix: "The token reaches no project or group with the Maintainer (40) or Owner (50) \
                  role. Give its user that role (Project or Group → Manage → Members), or \
                  create a project/group access token with role Maintainer (Settings → Access \
                  tokens)."
                .to_owned(),
        }),
        Ok(Roles::NoScope) => {
            if !o.missing.iter().any(|m| m.name == "api") {
                o.missing.push(MissingPermission {
                    name: "api".to_owned(),
                    fix: scope_fix("api"),
                });
            }
            o.warnings.push(
                "The Maintainer role could not be checked because the token lacks the `api` \
                 scope."
                    .to_owned(),
            );
        }
        Err(outcome) => return (outcome, None),
    }
    let clone = clone.map(|project| {
        CloneTarget::new(
            &project,
            GIT_USER,
            format!(
                "A clone needs the `read_repository` scope on the token and at least the \
                 Reporter role on {project} for its user. {}",
                scope_fix("read_repository")
            ),
        )
    });
    (finish(o), clone)
}

/// `active: false`: revoked, expired or otherwise inactive.
fn inactive(ctx: &Ctx<'_>, json: &Value, expires_at: Option<chrono::DateTime<Utc>>) -> TestOutcome {
    let mut o = if json.get("revoked").and_then(Value::as_bool) == Some(true) {
        TestOutcome::failed(
            TestStatus::Invalid,
            format!("{} says the token was revoked", label(ctx)),
        )
    } else if expires_at.is_some_and(|at| at <= ctx.now) {
        TestOutcome::failed(
            TestStatus::Expired,
            format!("{} says the token has expired", label(ctx)),
        )
    } else {
        TestOutcome::failed(
            TestStatus::Invalid,
            format!("{} reports the token as inactive", label(ctx)),
        )
    };
    o.expires_at = expires_at;
    o
}

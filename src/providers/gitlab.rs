//! GitLab (gitlab.com and self-managed): provider-apis.md §2.

use super::http::{Reply, secret_header};
use super::scopes::parse_gitlab_date;
use super::{Ctx, blank, finish};
use crate::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;

const MAINTAINER: i64 = 40;
const ROLE_NAME: &str = "Maintainer or Owner role";
/// Most projects/groups listed in the details.
const MAX_LISTED: usize = 10;

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

/// Maps a non-2xx answer to a final outcome (mapping table §2.5).
fn failure(ctx: &Ctx<'_>, reply: &Reply) -> TestOutcome {
    let message = super::provider_message(reply).to_ascii_lowercase();
    match reply.status {
        401 if message.contains("expired") => TestOutcome::failed(
            TestStatus::Expired,
            format!("{} says the token has expired", label(ctx)),
        ),
        401 if message.contains("revoked") => TestOutcome::failed(
            TestStatus::Invalid,
            format!("{} says the token was revoked", label(ctx)),
        ),
        401 => ctx.unauthorized(label(ctx)),
        400 if message.contains("token type") => TestOutcome::failed(
            TestStatus::Invalid,
            "this is not a personal, project or group access token (GitLab: the endpoint \
             requires a personal access token)",
        ),
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
        _ => ctx.unexpected(label(ctx), reply),
    }
}

fn is_insufficient_scope(reply: &Reply) -> bool {
    reply.status == 403
        && reply
            .json()
            .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_owned))
            .is_some_and(|e| e == "insufficient_scope")
}

pub(crate) async fn test(ctx: &Ctx<'_>) -> TestOutcome {
    let Some(hdrs) = request_headers(ctx.token) else {
        return TestOutcome::failed(
            TestStatus::Invalid,
            "the token contains characters that cannot be sent to GitLab",
        );
    };
    let reply = match ctx.get("/personal_access_tokens/self", &hdrs).await {
        Ok(r) => r,
        Err(o) => return o,
    };
    let mut o = blank();
    let mut scopes: Option<Vec<String>> = None;
    let mut user_id: Option<i64> = None;
    match reply.status {
        200 => {
            let Some(json) = reply.json() else {
                return unreadable(ctx, "/personal_access_tokens/self");
            };
            let list: Option<Vec<String>> = json.get("scopes").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            });
            let Some(list) = list else {
                return unreadable(ctx, "/personal_access_tokens/self");
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
                return inactive(ctx, &json, o.expires_at);
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
        _ => return failure(ctx, &reply),
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

    // Account name: needs api, read_api or read_user (unknown scopes: try).
    let can_read_user = scopes.as_ref().is_none_or(|l| {
        l.iter()
            .any(|s| matches!(s.as_str(), "api" | "read_api" | "read_user"))
    });
    if can_read_user {
        match ctx.get("/user", &hdrs).await {
            Ok(r) if r.status == 200 => {
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
            Ok(r) if scopes.is_none() => return failure(ctx, &r),
            Ok(_) => {}
            Err(outcome) => return outcome,
        }
    }
    if o.account.is_none() {
        o.account = user_id.map(|id| format!("user #{id}"));
    }
    if o.token_kind.is_none() {
        o.token_kind = Some("access token".to_owned());
    }

    match roles(ctx, &hdrs).await {
        Ok(Roles::Found(list)) => {
            let total = list.len();
            o.details.extend(list.into_iter().take(MAX_LISTED));
            if total > MAX_LISTED {
                o.details.push(format!("and {} more", total - MAX_LISTED));
            }
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
        Err(outcome) => return outcome,
    }
    finish(o)
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

enum Roles {
    /// Projects/groups with Maintainer or Owner, described.
    Found(Vec<String>),
    None,
    /// The token may not call the endpoints (403 insufficient_scope).
    NoScope,
}

fn level_name(level: i64) -> &'static str {
    if level >= 50 { "Owner" } else { "Maintainer" }
}

async fn roles(ctx: &Ctx<'_>, hdrs: &HeaderMap) -> Result<Roles, TestOutcome> {
    let reply = ctx
        .get(
            "/personal_access_tokens/self/associations?min_access_level=40&per_page=100",
            hdrs,
        )
        .await?;
    match reply.status {
        200 => {
            let json = reply
                .json()
                .ok_or_else(|| unreadable(ctx, "/personal_access_tokens/self/associations"))?;
            Ok(describe(associations(&json)))
        }
        404 => fallback_roles(ctx, hdrs).await,
        _ if is_insufficient_scope(&reply) => Ok(Roles::NoScope),
        _ => Err(failure(ctx, &reply)),
    }
}

fn describe(found: Vec<String>) -> Roles {
    if found.is_empty() {
        Roles::None
    } else {
        Roles::Found(found)
    }
}

/// Entries of an associations answer with level ≥ 40.
fn associations(json: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let groups = json
        .get("groups")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for g in groups {
        // Filtered by the server already; re-check when a level is given.
        let level = g
            .get("access_levels")
            .and_then(Value::as_i64)
            .unwrap_or(MAINTAINER);
        if level >= MAINTAINER {
            out.push(format!("group {} ({})", group_name(g), level_name(level)));
        }
    }
    let projects = json
        .get("projects")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for p in projects {
        let levels = p.get("access_levels");
        let pick = |k: &str| levels.and_then(|l| l.get(k)).and_then(Value::as_i64);
        let level = match (pick("project_access_level"), pick("group_access_level")) {
            (None, None) => MAINTAINER,
            (a, b) => a.unwrap_or(0).max(b.unwrap_or(0)),
        };
        if level >= MAINTAINER {
            out.push(format!(
                "project {} ({})",
                project_name(p),
                level_name(level)
            ));
        }
    }
    out
}

fn group_name(g: &Value) -> String {
    ["full_path", "path", "name"]
        .iter()
        .find_map(|k| g.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
        .or_else(|| {
            g.get("id")
                .and_then(Value::as_i64)
                .map(|id| format!("#{id}"))
        })
        .unwrap_or_else(|| "(unnamed)".to_owned())
}

fn project_name(p: &Value) -> String {
    ["path_with_namespace", "name_with_namespace", "name"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
        .or_else(|| {
            p.get("id")
                .and_then(Value::as_i64)
                .map(|id| format!("#{id}"))
        })
        .unwrap_or_else(|| "(unnamed)".to_owned())
}

/// GitLab < 17.4: list projects and groups with min_access_level=40.
async fn fallback_roles(ctx: &Ctx<'_>, hdrs: &HeaderMap) -> Result<Roles, TestOutcome> {
    let mut out = Vec::new();
    let projects = ctx
        .get(
            "/projects?membership=true&min_access_level=40&simple=true&per_page=20",
            hdrs,
        )
        .await?;
    if is_insufficient_scope(&projects) {
        return Ok(Roles::NoScope);
    }
    if projects.status != 200 {
        return Err(failure(ctx, &projects));
    }
    let list = projects
        .json()
        .and_then(|j| j.as_array().cloned())
        .ok_or_else(|| unreadable(ctx, "/projects"))?;
    out.extend(
        list.iter()
            .map(|p| format!("project {} (Maintainer or higher)", project_name(p))),
    );
    let groups = ctx
        .get("/groups?min_access_level=40&per_page=20", hdrs)
        .await?;
    if is_insufficient_scope(&groups) {
        return Ok(Roles::NoScope);
    }
    if groups.status != 200 {
        return Err(failure(ctx, &groups));
    }
    let list = groups
        .json()
        .and_then(|j| j.as_array().cloned())
        .ok_or_else(|| unreadable(ctx, "/groups"))?;
    out.extend(
        list.iter()
            .map(|g| format!("group {} (Maintainer or higher)", group_name(g))),
    );
    Ok(describe(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_associations() {
        let json: Value = serde_json::from_str(
            r#"{"groups":[{"id":1,"name":"Test","access_levels":50},{"id":2,"name":"Low","access_levels":30}],
                "projects":[{"id":1337,"path_with_namespace":"Test/test-project",
                              "access_levels":{"project_access_level":null,"group_access_level":40}},
                            {"id":9,"path_with_namespace":"x/y","access_levels":{"project_access_level":20,"group_access_level":null}}]}"#,
        )
        .unwrap();
        assert_eq!(
            associations(&json),
            vec![
                "group Test (Owner)".to_owned(),
                "project Test/test-project (Maintainer)".to_owned()
            ]
        );
        assert!(associations(&serde_json::json!({"groups":[],"projects":[]})).is_empty());
    }
}

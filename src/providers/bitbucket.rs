//! Bitbucket Cloud (workspaces): provider-apis.md §3.

use super::http::secret_header;
use super::scopes::{expand_bitbucket, split_scopes};
use super::{Ctx, blank, encode_segment, finish};
use crate::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde_json::Value;

/// Required scopes with their Bitbucket UI words.
const REQUIRED: &[(&str, &str)] = &[
    ("repository", "Repositories: Read"),
    ("pullrequest:write", "Pull requests: Write"),
    ("webhook", "Webhooks: Read and write"),
];

fn fix_for(scope: &str) -> String {
    let ui = REQUIRED
        .iter()
        .find(|(s, _)| *s == scope)
        .map(|(_, ui)| *ui)
        .unwrap_or(scope);
    format!(
        "Bitbucket cannot change the scopes of an access token: create a new one (Repository, \
         Project or Workspace settings → Security → Access tokens → Create access token) with \
         {ui} ticked, and enter it here. Missing scope: `{scope}`."
    )
}

fn kind_label(kind: &str) -> String {
    match kind {
        "repo_access_token" => "repository access token".to_owned(),
        "project_access_token" => "project access token".to_owned(),
        "workspace_access_token" => "workspace access token".to_owned(),
        "api_token" => "API token".to_owned(),
        other => other.replace('_', " "),
    }
}

pub(crate) async fn test(ctx: &Ctx<'_>, workspace: &str) -> TestOutcome {
    let mut hdrs = HeaderMap::new();
    let Some(auth) = secret_header(&format!("Bearer {}", ctx.token)) else {
        return TestOutcome::failed(
            TestStatus::Invalid,
            "the token contains characters that cannot be sent to Bitbucket",
        );
    };
    hdrs.insert(AUTHORIZATION, auth);
    let path = format!("/repositories/{}?pagelen=10", encode_segment(workspace));
    let reply = match ctx.get(&path, &hdrs).await {
        Ok(r) => r,
        Err(o) => return o,
    };
    let kind = reply.header("x-credential-type").map(kind_label);
    match reply.status {
        200 => {}
        401 => return ctx.unauthorized("Bitbucket"),
        403 => {
            let required: Option<Vec<String>> = reply.json().and_then(|j| {
                let list = j.pointer("/error/detail/required")?.as_array()?;
                Some(
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                )
            });
            let Some(required) = required.filter(|r| !r.is_empty()) else {
                return ctx.unexpected("Bitbucket", &reply);
            };
            let mut o = blank();
            o.token_kind = kind.clone();
            o.account = Some(account(workspace, kind.as_deref()));
            if let Some(granted) = reply.json().and_then(|j| {
                let list = j.pointer("/error/detail/granted")?.as_array()?.clone();
                Some(
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect::<Vec<_>>(),
                )
            }) {
                o.scopes = expand_bitbucket(&granted);
            }
            for scope in required {
                o.missing.push(MissingPermission {
                    fix: fix_for(&scope),
                    name: scope,
                });
            }
            return finish(o);
        }
        404 => {
            return TestOutcome::failed(
                TestStatus::Invalid,
                format!(
                    "the token does not belong to workspace `{workspace}` (or the workspace \
                     does not exist)"
                ),
            );
        }
        410 => {
            return TestOutcome::failed(
                TestStatus::Error,
                format!(
                    "Bitbucket says this endpoint was removed (HTTP 410){}",
                    ctx.quoted_message(&reply)
                ),
            );
        }
        429 => {
            return TestOutcome::failed(
                TestStatus::Error,
                "rate limited by Bitbucket, retry after a few minutes",
            );
        }
        _ => return ctx.unexpected("Bitbucket", &reply),
    }

    let Some(json) = reply.json() else {
        return TestOutcome::failed(
            TestStatus::Error,
            "Bitbucket answered with a body Forgekeys could not read",
        );
    };
    let mut o = blank();
    o.token_kind = kind.clone();
    o.account = Some(account(workspace, kind.as_deref()));
    o.warnings
        .push("Expiry is not reported by Bitbucket; enter it if the token has one.".to_owned());

    let names: Vec<String> = json
        .get("values")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("full_name").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let size = json.get("size").and_then(Value::as_u64);
    if names.is_empty() {
        o.warnings.push(format!(
            "The token sees no repository in workspace `{workspace}`."
        ));
    } else {
        let more = size
            .and_then(|s| s.checked_sub(names.len() as u64))
            .filter(|m| *m > 0)
            .map(|m| format!(" and {m} more"))
            .unwrap_or_default();
        o.details
            .push(format!("repositories: {}{more}", names.join(", ")));
    }

    match reply.header("x-oauth-scopes") {
        Some(raw) => {
            let scopes = expand_bitbucket(&split_scopes(raw));
            for (scope, _) in REQUIRED {
                if !scopes.iter().any(|s| s == scope) {
                    o.missing.push(MissingPermission {
                        name: (*scope).to_owned(),
                        fix: fix_for(scope),
                    });
                }
            }
            o.scopes = scopes;
        }
        None => o.warnings.push(
            "Bitbucket did not report the token's scopes; `pullrequest:write` and `webhook` \
             could not be checked."
                .to_owned(),
        ),
    }
    finish(o)
}

fn account(workspace: &str, kind: Option<&str>) -> String {
    format!("workspace {workspace} ({})", kind.unwrap_or("access token"))
}

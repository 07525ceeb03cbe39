//! GitHub (github.com and GitHub Enterprise Server): provider-apis.md §1.

use super::http::{Reply, headers, human_secs, secret_header};
use super::scopes::{expand_github, parse_github_expiry, split_scopes};
use super::{Ctx, blank, encode_segment, finish};
use crate::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use chrono::{TimeZone, Utc};
use reqwest::header::{AUTHORIZATION, HeaderMap};

const CLASSIC_FIX_PATH: &str =
    "Settings → Developer settings → Personal access tokens → Tokens (classic)";
const FINE_GRAINED_FIX_PATH: &str =
    "Settings → Developer settings → Personal access tokens → Fine-grained tokens";

fn request_headers(token: &str) -> Option<HeaderMap> {
    let mut map = headers(&[
        ("accept", "application/vnd.github+json"),
        ("x-github-api-version", "2022-11-28"),
    ]);
    map.insert(AUTHORIZATION, secret_header(&format!("Bearer {token}"))?);
    Some(map)
}

fn label(ctx: &Ctx<'_>) -> &'static str {
    if ctx.self_hosted {
        "GitHub Enterprise Server"
    } else {
        "GitHub"
    }
}

/// Rate limited (primary or secondary) ⇒ "rate limited, retry after …".
fn rate_limited(reply: &Reply) -> Option<String> {
    if reply.status != 403 && reply.status != 429 {
        return None;
    }
    let exhausted = reply.header("x-ratelimit-remaining") == Some("0");
    let message = super::provider_message(reply).to_ascii_lowercase();
    let secondary = message.contains("secondary rate limit") || message.contains("rate limit");
    if !exhausted && !secondary && reply.status != 429 {
        return None;
    }
    if let Some(secs) = reply
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Some(format!(
            "rate limited by GitHub, retry after {}",
            human_secs(secs)
        ));
    }
    if let Some(reset) = reply
        .header("x-ratelimit-reset")
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
    {
        return Some(format!(
            "rate limited by GitHub, retry after {}",
            reset.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    Some("rate limited by GitHub, retry after a few minutes".to_owned())
}

/// Maps a non-2xx answer to a final outcome.
fn failure(ctx: &Ctx<'_>, reply: &Reply) -> TestOutcome {
    if reply.status == 401 {
        return ctx.unauthorized(label(ctx));
    }
    if let Some(reason) = rate_limited(reply) {
        return TestOutcome::failed(TestStatus::Error, reason);
    }
    ctx.unexpected(label(ctx), reply)
}

pub(crate) async fn test(ctx: &Ctx<'_>) -> TestOutcome {
    let Some(hdrs) = request_headers(ctx.token) else {
        return TestOutcome::failed(
            TestStatus::Invalid,
            "the token contains characters that cannot be sent to GitHub",
        );
    };
    let reply = match ctx.get("/user", &hdrs).await {
        Ok(r) => r,
        Err(o) => return o,
    };
    if reply.status != 200 {
        return failure(ctx, &reply);
    }
    let Some(login) = reply
        .json()
        .and_then(|j| j.get("login").and_then(|l| l.as_str()).map(str::to_owned))
    else {
        return TestOutcome::failed(
            TestStatus::Error,
            format!(
                "{} answered /user with a body Forgekeys could not read{}",
                label(ctx),
                if reply.truncated {
                    " (larger than 1 MiB)"
                } else {
                    ""
                }
            ),
        );
    };

    let mut o = blank();
    o.account = Some(login);
    if ctx.self_hosted {
        o.server_version = reply
            .header("x-github-enterprise-version")
            .map(str::to_owned);
    }

    let classic = if ctx.token.starts_with("ghp_") || ctx.token.starts_with("gho_") {
        true
    } else if ctx.token.starts_with("github_pat_") {
        false
    } else {
        reply.has_header("x-oauth-scopes")
    };

    match reply.header("github-authentication-token-expiration") {
        Some(raw) => match parse_github_expiry(raw) {
            Some(at) => o.expires_at = Some(at),
            None => o.warnings.push(
                "GitHub reported an expiry date in an unknown format; expiry unknown".to_owned(),
            ),
        },
        None => {
            o.never_expires = true;
            o.warnings.push(
                "This token never expires. GitHub recommends an expiration date; rotate it \
                 regularly."
                    .to_owned(),
            );
        }
    }

    if classic {
        o.token_kind = Some(if ctx.token.starts_with("gho_") {
            "OAuth app token".to_owned()
        } else {
            "personal access token (classic)".to_owned()
        });
        classic_checks(ctx, &hdrs, &reply, o).await
    } else {
        o.token_kind = Some("fine-grained personal access token".to_owned());
        fine_grained_checks(ctx, &hdrs, o).await
    }
}

fn classic_fix(scope: &str) -> String {
    format!(
        "Edit the token at {CLASSIC_FIX_PATH} and tick `{scope}` (the token value stays the same)."
    )
}

async fn classic_checks(
    ctx: &Ctx<'_>,
    hdrs: &HeaderMap,
    reply: &Reply,
    mut o: TestOutcome,
) -> TestOutcome {
    let raw = split_scopes(reply.header("x-oauth-scopes").unwrap_or(""));
    let scopes = expand_github(&raw);
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if !has("repo") {
        o.missing.push(MissingPermission {
            name: "repo".to_owned(),
            fix: format!(
                "{} `public_repo` alone is not enough: it covers public repositories only.",
                classic_fix("repo")
            ),
        });
    }
    if !has("admin:repo_hook") {
        o.missing.push(MissingPermission {
            name: "admin:repo_hook".to_owned(),
            fix: format!(
                "{} `repo` already covers repository webhooks at GitHub, but Forgekeys requires \
                 `admin:repo_hook` explicitly so webhook management keeps working if `repo` is \
                 narrowed later.",
                classic_fix("admin:repo_hook")
            ),
        });
    }
    if !has("read:org") {
        match ctx.get("/user/orgs?per_page=1", hdrs).await {
            Ok(orgs) if orgs.status == 200 => {
                let count = orgs.json().and_then(|j| j.as_array().map(Vec::len));
                match count {
                    Some(0) => o.warnings.push(
                        "`read:org` is recommended: the account belongs to no organization \
                         today, but organization repositories need it."
                            .to_owned(),
                    ),
                    Some(_) => o.missing.push(MissingPermission {
                        name: "read:org".to_owned(),
                        fix: format!(
                            "{} The account belongs to an organization; `write:org` or \
                             `admin:org` also satisfy this.",
                            classic_fix("read:org")
                        ),
                    }),
                    None => o.warnings.push(
                        "Could not read the account's organizations; `read:org` is required \
                         if it belongs to one."
                            .to_owned(),
                    ),
                }
            }
            Ok(orgs) if orgs.status == 401 => return failure(ctx, &orgs),
            Ok(orgs) => {
                if let Some(reason) = rate_limited(&orgs) {
                    return TestOutcome::failed(TestStatus::Error, reason);
                }
                o.warnings.push(format!(
                    "Could not list the account's organizations (HTTP {}); `read:org` is \
                     required if it belongs to one.",
                    orgs.status
                ));
            }
            Err(outcome) => return outcome,
        }
    }
    o.scopes = scopes;
    finish(o)
}

struct Probe {
    path: String,
    /// Scope label recorded when granted.
    granted: &'static str,
    /// Name used when GitHub does not say which permission is needed.
    fallback: &'static str,
    /// GitHub UI words for the fix.
    ui: &'static str,
}

async fn fine_grained_checks(ctx: &Ctx<'_>, hdrs: &HeaderMap, mut o: TestOutcome) -> TestOutcome {
    let repos = match ctx.get("/user/repos?per_page=1", hdrs).await {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    if repos.status != 200 {
        return failure(ctx, &repos);
    }
    let first = repos.json().and_then(|j| {
        let repo = j.as_array()?.first()?.clone();
        let full = repo.get("full_name")?.as_str()?.to_owned();
        Some(full)
    });
    let Some(full_name) = first else {
        if repos.json().and_then(|j| j.as_array().map(Vec::is_empty)) == Some(true) {
            o.missing.push(MissingPermission {
                name: "Repository access".to_owned(),
                fix: format!(
                    "Edit the token at {FINE_GRAINED_FIX_PATH}: under Repository access choose \
                     the repositories Forgekeys should manage (the token sees none)."
                ),
            });
            o.warnings.push(write_warning());
            return finish(o);
        }
        return ctx.unexpected("GitHub /user/repos", &repos);
    };
    let Some((owner, name)) = full_name.split_once('/') else {
        return ctx.unexpected("GitHub /user/repos", &repos);
    };
    let repo_path = format!("/repos/{}/{}", encode_segment(owner), encode_segment(name));
    o.details
        .push(format!("permissions probed on repository {full_name}"));

    let probes = [
        Probe {
            path: repo_path.clone(),
            granted: "metadata=read",
            fallback: "metadata=read",
            ui: "Metadata: Read-only",
        },
        Probe {
            path: format!("{repo_path}/hooks"),
            granted: "repository_hooks=read",
            fallback: "repository_hooks=read",
            ui: "Webhooks: Read and write",
        },
        Probe {
            path: format!("{repo_path}/pulls?per_page=1"),
            granted: "pull_requests=read",
            fallback: "pull_requests=read",
            ui: "Pull requests: Read and write",
        },
    ];
    for probe in probes {
        let reply = match ctx.get(&probe.path, hdrs).await {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        match reply.status {
            200 => o.scopes.push(probe.granted.to_owned()),
            403 if rate_limited(&reply).is_none() => {
                let name = reply
                    .header("x-accepted-github-permissions")
                    .and_then(|v| v.split(';').next())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .unwrap_or(probe.fallback)
                    .to_owned();
                o.missing.push(MissingPermission {
                    name,
                    fix: format!(
                        "Edit the token at {FINE_GRAINED_FIX_PATH}: under Repository \
                         permissions set {} (GitHub answered: {}).",
                        probe.ui,
                        ctx.redactor().quote(&super::provider_message(&reply))
                    ),
                });
            }
            404 => o.missing.push(MissingPermission {
                name: probe.fallback.to_owned(),
                fix: format!(
                    "GitHub answered 404 for {full_name}: the repository is not selected for \
                     this token, or the token lacks permission. Edit the token at \
                     {FINE_GRAINED_FIX_PATH}, select the repository and set {}.",
                    probe.ui
                ),
            }),
            _ => return failure(ctx, &reply),
        }
    }
    o.warnings.push(write_warning());
    finish(o)
}

fn write_warning() -> String {
    "Write permissions cannot be verified for fine-grained tokens without making a change: make \
     sure Contents (read and write), Pull requests (read and write) and Webhooks (read and \
     write) are granted, and organization Members (read) if you use organizations."
        .to_owned()
}

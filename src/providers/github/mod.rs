//! GitHub (github.com and GitHub Enterprise Server): provider-apis.md §1 and §6,
//! provider-research.md §1–§5.
//!
//! `GET /user` names the account and, by prefix and headers, the kind of token. Then:
//! - classic tokens ([`classic`]): scopes from `X-OAuth-Scopes`, `read:org` judged by what the
//!   account works with (`GET /user/orgs` answers 403 without `read:org`), SAML SSO
//!   organizations the token is not authorized for ([`policy`]);
//! - fine-grained tokens ([`fine_grained`]): read probes on a repository the token was granted
//!   (a private or internal one: `/user/repos` also lists public repositories it never got);
//! - GitHub App tokens (`ghu_`, `ghs_`, `ghr_`): said what they are and what to use instead.
//!
//! Every path ends with the repository the clone check runs on (user name `x-access-token`).

mod classic;
mod fine_grained;
pub(crate) mod policy;

use super::git_probe::CloneTarget;
use super::http::{Reply, headers, human_secs, secret_header};
use super::scopes::parse_github_expiry;
use super::{Ctx, blank};
use crate::domain::test_result::{TestOutcome, TestStatus};
use chrono::{DateTime, TimeZone, Utc};
use reqwest::header::{AUTHORIZATION, HeaderMap};

pub(crate) const CLASSIC_FIX_PATH: &str =
    "Settings → Developer settings → Personal access tokens → Tokens (classic)";
pub(crate) const FINE_GRAINED_FIX_PATH: &str =
    "Settings → Developer settings → Personal access tokens → Fine-grained tokens";
/// The user name a clone sends with a GitHub token.
pub(crate) const GIT_USER: &str = "x-access-token";

/// What a GitHub token is, by its prefix first and the `/user` headers second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Classic,
    OAuthApp,
    FineGrained,
    /// `ghu_`: a GitHub App user-to-server token.
    AppUser,
}

fn kind_of(token: &str, reply: &Reply) -> Kind {
    if token.starts_with("ghp_") {
        Kind::Classic
    } else if token.starts_with("gho_") {
        Kind::OAuthApp
    } else if token.starts_with("github_pat_") {
        Kind::FineGrained
    } else if token.starts_with("ghu_") {
        Kind::AppUser
    } else if let Some(client) = reply.header("x-oauth-client-id") {
        // An app's token without a new-style prefix: GitHub App client ids start with `Iv`
        // (provider-research.md §5), OAuth app ids do not.
        if client.starts_with("Iv") {
            Kind::AppUser
        } else {
            Kind::OAuthApp
        }
    } else if reply.has_header("x-oauth-scopes") {
        Kind::Classic
    } else {
        Kind::FineGrained
    }
}

const USE_A_PAT: &str = "Create a personal access token instead: a fine-grained one (Settings → \
     Developer settings → Personal access tokens → Fine-grained tokens) with Contents, Metadata, \
     Pull requests and Webhooks on the repositories Forgekeys manages, or a classic one with \
     `repo` and `admin:repo_hook`.";

/// What an App token is, for the prefixes that are no personal access token.
fn app_token_words(token: &str) -> Option<&'static str> {
    if token.starts_with("ghu_") {
        Some(
            "This is a GitHub App user access token (ghu_…), not a personal access token: it \
             expires after 8 hours and carries the app's permissions, not scopes, so Forgekeys \
             cannot keep using it.",
        )
    } else if token.starts_with("ghs_") {
        Some(
            "This is a GitHub App installation token (ghs_…): it belongs to the app, not to a \
             user, and expires after an hour, so it cannot be stored here.",
        )
    } else if token.starts_with("ghr_") {
        Some(
            "This is a GitHub App refresh token (ghr_…): it only buys new user access tokens and \
             cannot call the API.",
        )
    } else {
        None
    }
}

fn request_headers(token: &str) -> Option<HeaderMap> {
    let mut map = headers(&[
        ("accept", "application/vnd.github+json"),
        ("x-github-api-version", "2022-11-28"),
    ]);
    map.insert(AUTHORIZATION, secret_header(&format!("Bearer {token}"))?);
    Some(map)
}

pub(crate) fn label(ctx: &Ctx<'_>) -> &'static str {
    if ctx.self_hosted {
        "GitHub Enterprise Server"
    } else {
        "GitHub"
    }
}

/// Rate limited (primary or secondary) ⇒ "rate limited, retry after …".
pub(crate) fn rate_limited(reply: &Reply) -> Option<String> {
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
pub(crate) fn failure(ctx: &Ctx<'_>, reply: &Reply) -> TestOutcome {
    if reply.status == 401 {
        let mut o = ctx.unauthorized(label(ctx));
        if let (Some(words), Some(reason)) = (app_token_words(ctx.token), &mut o.reason) {
            reason.push_str(&format!(". {words} {USE_A_PAT}"));
        }
        return o;
    }
    if let Some(reason) = rate_limited(reply) {
        return TestOutcome::failed(TestStatus::Error, reason);
    }
    ctx.unexpected(label(ctx), reply)
}

pub(crate) type Verdict = (TestOutcome, Option<CloneTarget>);

pub(crate) async fn test(ctx: &Ctx<'_>) -> Verdict {
    let Some(hdrs) = request_headers(ctx.token) else {
        return (
            TestOutcome::failed(
                TestStatus::Invalid,
                "the token contains characters that cannot be sent to GitHub",
            ),
            None,
        );
    };
    let reply = match ctx.get("/user", &hdrs).await {
        Ok(r) => r,
        Err(o) => return (o, None),
    };
    if reply.status == 403
        && super::provider_message(&reply).contains("Resource not accessible by integration")
    {
        // An installation token (`ghs_`) on `/user` (provider-research.md §5).
        let words = app_token_words(ctx.token).unwrap_or(
            "This is a GitHub App installation token: it belongs to the app, not to a user.",
        );
        let mut o = TestOutcome::failed(TestStatus::Invalid, format!("{words} {USE_A_PAT}"));
        o.token_kind = Some("GitHub App installation token".to_owned());
        return (o, None);
    }
    if reply.status != 200 {
        return (failure(ctx, &reply), None);
    }
    let Some(login) = reply
        .json()
        .and_then(|j| j.get("login").and_then(|l| l.as_str()).map(str::to_owned))
    else {
        let why = if reply.truncated {
            " (larger than 1 MiB)"
        } else {
            ""
        };
        return (
            TestOutcome::failed(
                TestStatus::Error,
                format!(
                    "{} answered /user with a body Forgekeys could not read{why}",
                    label(ctx)
                ),
            ),
            None,
        );
    };

    let mut o = blank();
    o.account = Some(login);
    if ctx.self_hosted {
        o.server_version = reply
            .header("x-github-enterprise-version")
            .map(str::to_owned);
    }
    let kind = kind_of(ctx.token, &reply);
    if kind == Kind::AppUser {
        let mut o = TestOutcome::failed(
            TestStatus::Invalid,
            format!(
                "{} {USE_A_PAT}",
                app_token_words("ghu_").unwrap_or_default()
            ),
        );
        o.account = Some(reply_login(&reply));
        o.token_kind = Some("GitHub App user access token".to_owned());
        return (o, None);
    }
    read_expiry(ctx, &reply, kind, &mut o);
    match kind {
        Kind::Classic | Kind::OAuthApp => {
            o.token_kind = Some(if kind == Kind::OAuthApp {
                "OAuth app token".to_owned()
            } else {
                "personal access token (classic)".to_owned()
            });
            classic::checks(ctx, &hdrs, &reply, o).await
        }
        Kind::FineGrained | Kind::AppUser => {
            o.token_kind = Some("fine-grained personal access token".to_owned());
            fine_grained::checks(ctx, &hdrs, o).await
        }
    }
}

fn reply_login(reply: &Reply) -> String {
    reply
        .json()
        .and_then(|j| j.get("login").and_then(|l| l.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// The answer's `Date`, else the test's start.
fn answered_at(ctx: &Ctx<'_>, reply: &Reply) -> DateTime<Utc> {
    reply
        .header("date")
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(ctx.now)
}

/// `github-authentication-token-expiration`: `… UTC` or `… ±HHMM` (provider-research.md §2c).
/// Absent on github.com means "never expires" (documented); GitHub Enterprise Server versions
/// that predate the header send none either, so there it means "not reported". A fine-grained
/// token's header holding about the current time is a known GitHub fault (go-github#3708):
/// expiry unknown.
fn read_expiry(ctx: &Ctx<'_>, reply: &Reply, kind: Kind, o: &mut TestOutcome) {
    match reply.header("github-authentication-token-expiration") {
        Some(raw) => match parse_github_expiry(raw) {
            Some(at)
                if kind == Kind::FineGrained
                    && (at - answered_at(ctx, reply)).num_minutes().abs() < 5 =>
            {
                o.warnings.push(
                    "GitHub reported the current time as this token's expiry, a known GitHub \
                     fault: expiry unknown. Check the date on the token's settings page and \
                     enter it."
                        .to_owned(),
                )
            }
            Some(at) => o.expires_at = Some(at),
            None => o.warnings.push(
                "GitHub reported an expiry date in an unknown format; expiry unknown".to_owned(),
            ),
        },
        None if ctx.self_hosted => o.warnings.push(
            "This GitHub Enterprise Server did not report an expiry date (versions before the \
             expiration header send none): expiry not reported. Enter it if the token has one."
                .to_owned(),
        ),
        None => {
            o.never_expires = true;
            o.warnings.push(
                "This token never expires. GitHub recommends an expiration date; rotate it \
                 regularly."
                    .to_owned(),
            );
        }
    }
}

/// One repository of a `/user/repos` answer.
#[derive(Debug, Clone)]
pub(crate) struct RepoInfo {
    pub full_name: String,
    /// `private` or `internal` (a fine-grained token sees those only when granted them).
    pub restricted: bool,
    pub visibility: String,
    pub org_owned: bool,
}

/// The repositories of a `/user/repos` answer.
pub(crate) fn repo_list(reply: &Reply) -> Option<Vec<RepoInfo>> {
    let json = reply.json()?;
    let list = json.as_array()?;
    Some(
        list.iter()
            .filter_map(|r| {
                let full_name = r.get("full_name")?.as_str()?.to_owned();
                let visibility = r
                    .get("visibility")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        if r.get("private").and_then(|p| p.as_bool()) == Some(true) {
                            "private".to_owned()
                        } else {
                            "public".to_owned()
                        }
                    });
                let restricted = r.get("private").and_then(|p| p.as_bool()) == Some(true)
                    || matches!(visibility.as_str(), "private" | "internal");
                let org_owned =
                    r.pointer("/owner/type").and_then(|t| t.as_str()) == Some("Organization");
                Some(RepoInfo {
                    full_name,
                    restricted,
                    visibility,
                    org_owned,
                })
            })
            .collect(),
    )
}

/// Whether a paged answer has more pages (`Link: …; rel="next"`).
pub(crate) fn has_next_page(reply: &Reply) -> bool {
    reply
        .header("link")
        .and_then(super::repos::parse_next_link)
        .is_some()
}

/// `/repos/{owner}/{repo}` for a `owner/repo` name.
pub(crate) fn repo_path(full_name: &str) -> Option<String> {
    let (owner, name) = full_name.split_once('/')?;
    Some(format!(
        "/repos/{}/{}",
        super::encode_segment(owner),
        super::encode_segment(name)
    ))
}

//! Bitbucket Cloud (workspaces): provider-apis.md §3 and §6, provider-research.md §7.
//!
//! Three kinds of credential reach the REST API (DESIGN.md §8):
//! - repository / project / workspace **access tokens**: `Authorization: Bearer`, no username;
//! - Atlassian **API tokens**: HTTP Basic `ATLASSIAN_EMAIL:TOKEN` (as Bearer they get 401);
//!   scopes named `read:repository:bitbucket`, …;
//! - **app passwords**: HTTP Basic `BITBUCKET_USERNAME:APP_PASSWORD`; Bitbucket turned them off
//!   on 2026-06-09 ([`APP_PASSWORDS_END`]).
//!
//! `GET /2.0/repositories/{workspace}` proves the workspace answers for the credential and
//! carries its scopes (`x-oauth-scopes`) and kind (`x-credential-type`); for the Basic kinds
//! `GET /2.0/user` names the account. Bitbucket reports no expiry: an entered one makes a later
//! 401 `expired`. The clone check runs on the first repository listed, with the user name git
//! expects: `x-token-auth` (access tokens), `x-bitbucket-api-token-auth` (API tokens; an
//! e-mail does not work for git) or the Bitbucket username (app passwords).

mod required;

use super::git_probe::CloneTarget;
use super::http::{basic_header, secret_header};
use super::{Ctx, blank, encode_segment, finish};
use crate::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use chrono::NaiveDate;
use required::Vocabulary;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::Value;

/// The day Bitbucket Cloud stopped accepting app passwords (Atlassian KB, "Getting 401 HTTP
/// error while authenticating to Bitbucket Cloud REST APIs"; provider-apis.md §6).
pub const APP_PASSWORDS_END: NaiveDate = match NaiveDate::from_ymd_opt(2026, 6, 9) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

const ACCESS_TOKEN_HOW: &str = "an access token (Repository, Project or Workspace settings → \
     Security → Access tokens → Create access token)";
const APP_PASSWORD_HOW: &str = "an app password, and app passwords stop working on 2026-06-09 — \
     rather create an Atlassian API token with scopes";

/// The Git user name for a stored credential (its `username` field and value): the one
/// Bitbucket expects for git over HTTPS.
pub(super) fn git_user_of(username: Option<&str>, token: &str) -> String {
    Cred::of(username, token).git_user().to_string()
}

/// The kind of credential, from the username field.
#[derive(Debug, Clone, Copy)]
enum Cred<'a> {
    Access,
    ApiToken { email: &'a str },
    AppPassword { user: &'a str },
}

impl<'a> Cred<'a> {
    /// With a username: an API token when the token has the Atlassian prefix (`ATATT`) or the
    /// username is an e-mail, else an app password.
    fn of(username: Option<&'a str>, token: &str) -> Cred<'a> {
        match username {
            None => Cred::Access,
            Some(u) if u.contains('@') || token.starts_with("ATATT") => Cred::ApiToken { email: u },
            Some(u) => Cred::AppPassword { user: u },
        }
    }

    fn git_user(self) -> &'a str {
        match self {
            Cred::Access => "x-token-auth",
            Cred::ApiToken { .. } => "x-bitbucket-api-token-auth",
            Cred::AppPassword { user } => user,
        }
    }

    fn vocabulary(self) -> Vocabulary {
        match self {
            Cred::ApiToken { .. } => Vocabulary::ApiToken,
            _ => Vocabulary::OAuth,
        }
    }

    fn how(self) -> &'static str {
        match self {
            Cred::AppPassword { .. } => APP_PASSWORD_HOW,
            _ => ACCESS_TOKEN_HOW,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Cred::Access => "access token",
            Cred::ApiToken { .. } => "API token (Atlassian account)",
            Cred::AppPassword { .. } => "app password",
        }
    }
}

fn kind_label(kind: &str) -> String {
    match kind {
        "repo_access_token" => "repository access token".to_owned(),
        "project_access_token" => "project access token".to_owned(),
        "workspace_access_token" => "workspace access token".to_owned(),
        "api_token" => "API token (Atlassian account)".to_owned(),
        "app_password" => "app password".to_owned(),
        other => other.replace('_', " "),
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    Some(
        v?.as_array()?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

/// A 401, in words that say what to change for this kind of credential.
fn rejected(ctx: &Ctx<'_>, cred: Cred<'_>) -> TestOutcome {
    let mut o = ctx.unauthorized("Bitbucket");
    if o.status == TestStatus::Expired {
        return o;
    }
    let extra = match cred {
        Cred::Access if ctx.token.starts_with("ATATT") => {
            "This looks like an Atlassian API token (ATATT…): Bitbucket accepts it only together \
             with the e-mail address of the Atlassian account. Enter that e-mail in Username and \
             test again."
                .to_owned()
        }
        Cred::Access => String::new(),
        Cred::ApiToken { email } => format!(
            "For an Atlassian API token, Username must be the e-mail address of the Atlassian \
             account that created it ({email} was sent), not the Bitbucket username or the \
             token's name."
        ),
        Cred::AppPassword { .. } if ctx.token.starts_with("ATCTT") => {
            "This looks like a repository, project or workspace access token (ATCTT…), which \
             Bitbucket takes without a username: leave Username empty and test again."
                .to_owned()
        }
        Cred::AppPassword { .. } if ctx.now.date_naive() >= APP_PASSWORDS_END => {
            "Bitbucket turned app passwords off on 2026-06-09. Create an Atlassian API token \
             with scopes (Atlassian account settings → Security → Create and manage API tokens) \
             and enter it with the Atlassian account e-mail as Username."
                .to_owned()
        }
        Cred::AppPassword { user } => format!(
            "For an app password, Username is the Bitbucket username ({user} was sent), not the \
             e-mail address."
        ),
    };
    if let Some(reason) = &mut o.reason {
        if !extra.is_empty() {
            reason.push_str(&format!(". {extra}"));
        }
    }
    o.token_kind = Some(match cred {
        Cred::Access if ctx.token.starts_with("ATATT") => {
            "Atlassian API token, sent without a username".to_owned()
        }
        _ => cred.label().to_owned(),
    });
    o
}

pub(crate) async fn test(ctx: &Ctx<'_>, workspace: &str) -> (TestOutcome, Option<CloneTarget>) {
    let cred = Cred::of(ctx.username, ctx.token);
    let auth = match cred {
        Cred::Access => secret_header(&format!("Bearer {}", ctx.token)),
        Cred::ApiToken { email: u } | Cred::AppPassword { user: u } => basic_header(u, ctx.token),
    };
    let Some(auth) = auth else {
        return (
            TestOutcome::failed(
                TestStatus::Invalid,
                "the token or username contains characters that cannot be sent to Bitbucket",
            ),
            None,
        );
    };
    let mut hdrs = HeaderMap::new();
    hdrs.insert(AUTHORIZATION, auth);
    hdrs.insert("accept", HeaderValue::from_static("application/json"));
    let path = format!("/repositories/{}?pagelen=10", encode_segment(workspace));
    let user_req = async {
        match cred {
            Cred::Access => None,
            _ => ctx.get("/user", &hdrs).await.ok(),
        }
    };
    let (reply, user) = futures::join!(ctx.get(&path, &hdrs), user_req);
    let reply = match reply {
        Ok(r) => r,
        Err(o) => return (o, None),
    };
    let kind = reply
        .header("x-credential-type")
        .map(kind_label)
        .unwrap_or_else(|| cred.label().to_owned());
    let account = match cred {
        Cred::Access => format!("workspace {workspace} ({kind})"),
        Cred::ApiToken { email: u } | Cred::AppPassword { user: u } => user
            .filter(|r| r.status == 200)
            .and_then(|r| r.json())
            .and_then(|j| {
                let name = j.get("display_name")?.as_str()?.to_owned();
                let nick = j
                    .get("nickname")
                    .or_else(|| j.get("username"))
                    .and_then(Value::as_str);
                Some(match nick {
                    Some(n) => format!("{name} ({n})"),
                    None => name,
                })
            })
            .unwrap_or_else(|| u.to_owned()),
    };
    match reply.status {
        200 => {}
        401 => return (rejected(ctx, cred), None),
        403 => {
            let json = reply.json();
            let required = strings(
                json.as_ref()
                    .and_then(|j| j.pointer("/error/detail/required")),
            )
            .filter(|r| !r.is_empty());
            let Some(required) = required else {
                return (ctx.unexpected("Bitbucket", &reply), None);
            };
            let voc = Vocabulary::of(&required, cred.vocabulary());
            let mut o = blank();
            o.token_kind = Some(kind);
            o.account = Some(account);
            if let Some(granted) = strings(
                json.as_ref()
                    .and_then(|j| j.pointer("/error/detail/granted")),
            ) {
                o.scopes = voc.expand(&granted);
            }
            for scope in required {
                o.missing.push(MissingPermission {
                    fix: voc.fix(&scope, cred.how()),
                    name: scope,
                });
            }
            return (finish(o), None);
        }
        404 => {
            return (
                TestOutcome::failed(
                    TestStatus::Invalid,
                    format!(
                        "the token does not belong to workspace `{workspace}` (or the workspace \
                         does not exist)"
                    ),
                ),
                None,
            );
        }
        410 => {
            return (
                TestOutcome::failed(
                    TestStatus::Error,
                    format!(
                        "Bitbucket says this endpoint was removed (HTTP 410){}",
                        ctx.quoted_message(&reply)
                    ),
                ),
                None,
            );
        }
        429 => {
            return (
                TestOutcome::failed(
                    TestStatus::Error,
                    "rate limited by Bitbucket, retry after a few minutes",
                ),
                None,
            );
        }
        _ => return (ctx.unexpected("Bitbucket", &reply), None),
    }

    let Some(json) = reply.json() else {
        return (
            TestOutcome::failed(
                TestStatus::Error,
                "Bitbucket answered with a body Forgekeys could not read",
            ),
            None,
        );
    };
    let mut o = blank();
    o.token_kind = Some(kind);
    o.account = Some(account);
    if let Some(u) = ctx.username {
        o.details.push(format!("username sent with the token: {u}"));
    }
    o.warnings
        .push("Expiry is not reported by Bitbucket; enter it if the token has one.".to_owned());
    if let Cred::AppPassword { .. } = cred {
        o.warnings.push(
            "App passwords stop working on 2026-06-09: replace this one with an Atlassian API \
             token (username: the Atlassian account e-mail)."
                .to_owned(),
        );
    }

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
            let granted = super::scopes::split_scopes(raw);
            let voc = Vocabulary::of(&granted, cred.vocabulary());
            let scopes = voc.expand(&granted);
            o.missing.extend(voc.missing(&scopes, cred.how()));
            o.scopes = scopes;
        }
        None => o.warnings.push(
            "Bitbucket did not report the token's scopes; `pullrequest:write` and `webhook` \
             could not be checked."
                .to_owned(),
        ),
    }
    let clone = names.first().map(|repo| {
        CloneTarget::new(
            repo,
            cred.git_user(),
            format!(
                "A clone needs Repositories: Read on {repo} (`repository`, or \
                 `read:repository:bitbucket` for an API token)."
            ),
        )
    });
    (finish(o), clone)
}

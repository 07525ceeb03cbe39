//! Classic personal access tokens and OAuth app tokens (provider-apis.md §1.5, §1.7, §6).
//!
//! Scopes come from `X-OAuth-Scopes`, expanded by their documented hierarchy. `read:org` is
//! required when the account works with organizations: GitHub answers `GET /user/orgs` with 403
//! for a token without `read:org` or `user` (provider-research.md §1), so the organizations are
//! then judged by the owners (`owner.type`) of the repositories `/user/repos` lists. The same
//! listing names SAML SSO organizations the token is not authorized for
//! (`X-GitHub-SSO: partial-results; organizations=…`) and the repository the clone check runs on.

use super::policy;
use super::{
    CLASSIC_FIX_PATH, GIT_USER, RepoInfo, Verdict, failure, has_next_page, rate_limited, repo_list,
};
use crate::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use crate::providers::git_probe::CloneTarget;
use crate::providers::http::Reply;
use crate::providers::scopes::{expand_github, split_scopes};
use crate::providers::{Ctx, finish};
use reqwest::header::HeaderMap;

fn classic_fix(scope: &str) -> String {
    format!(
        "Edit the token at {CLASSIC_FIX_PATH} and tick `{scope}` (the token value stays the same)."
    )
}

fn owner(full_name: &str) -> &str {
    full_name.split('/').next().unwrap_or(full_name)
}

/// The repository the clone check runs on: an organization's private one first (what
/// Forgekeys is for), then any organization's, then any private one, then the first listed.
fn pick(listed: &[RepoInfo]) -> Option<&RepoInfo> {
    listed
        .iter()
        .find(|r| r.org_owned && r.restricted)
        .or_else(|| listed.iter().find(|r| r.org_owned))
        .or_else(|| listed.iter().find(|r| r.restricted))
        .or_else(|| listed.first())
}

fn clone_fix(repo: &str) -> String {
    format!(
        "A clone of {repo} needs the `repo` scope and an account that can read {repo}. If its \
         organization uses SAML single sign-on, authorize the token for it (Configure SSO next \
         to the token at {CLASSIC_FIX_PATH})."
    )
}

pub(super) async fn checks(
    ctx: &Ctx<'_>,
    hdrs: &HeaderMap,
    reply: &Reply,
    mut o: TestOutcome,
) -> Verdict {
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
    let need_orgs = !has("read:org");
    let repos_req = ctx.get("/user/repos?per_page=100", hdrs);
    let orgs_req = async {
        if need_orgs {
            Some(ctx.get("/user/orgs?per_page=1", hdrs).await)
        } else {
            None
        }
    };
    let (repos, orgs) = futures::join!(repos_req, orgs_req);
    let repos = match repos {
        Ok(r) => r,
        Err(outcome) => return (outcome, None),
    };
    if repos.status == 401 {
        return (failure(ctx, &repos), None);
    }
    if let Some(reason) = rate_limited(&repos) {
        return (TestOutcome::failed(TestStatus::Error, reason), None);
    }
    let listed = if repos.status == 200 {
        repo_list(&repos)
    } else {
        None
    };
    if listed.is_none() {
        o.warnings.push(format!(
            "Could not list the account's repositories (HTTP {}).",
            repos.status
        ));
    }
    let mut sso_ids = policy::partial_orgs(&repos);
    match orgs {
        Some(Ok(orgs)) => {
            sso_ids.extend(policy::partial_orgs(&orgs));
            let more = has_next_page(&repos);
            if let Err(outcome) = read_org(ctx, hdrs, &orgs, listed.as_deref(), more, &mut o).await
            {
                return (outcome, None);
            }
        }
        Some(Err(outcome)) => return (outcome, None),
        None => {}
    }
    sso_ids.sort();
    sso_ids.dedup();
    for block in policy::resolve_sso(ctx, hdrs, &sso_ids).await {
        o.missing.push(block.missing());
    }
    o.scopes = scopes;
    let clone = listed
        .as_deref()
        .and_then(pick)
        .map(|r| CloneTarget::new(&r.full_name, GIT_USER, clone_fix(&r.full_name)));
    (finish(o), clone)
}

/// Decides `read:org` (absent from the scopes) from the `/user/orgs` answer; `Err` is a final
/// outcome (401, rate limit).
async fn read_org(
    ctx: &Ctx<'_>,
    hdrs: &HeaderMap,
    orgs: &Reply,
    listed: Option<&[RepoInfo]>,
    more_repos: bool,
    o: &mut TestOutcome,
) -> Result<(), TestOutcome> {
    match orgs.status {
        200 => {
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
        401 => return Err(failure(ctx, orgs)),
        403 if rate_limited(orgs).is_some() => {
            return Err(TestOutcome::failed(
                TestStatus::Error,
                rate_limited(orgs).unwrap_or_default(),
            ));
        }
        403 => {
            // "You need at least read:org scope or user scope to list your organizations."
            // (provider-research.md §1): not "no organizations". The repositories say more.
            let mut org = listed
                .and_then(|l| l.iter().find(|r| r.org_owned))
                .map(|r| owner(&r.full_name).to_owned());
            if org.is_none() && more_repos {
                let r = ctx
                    .get(
                        "/user/repos?affiliation=organization_member&per_page=1",
                        hdrs,
                    )
                    .await?;
                if r.status == 200 {
                    org = repo_list(&r)
                        .and_then(|l| l.first().map(|r| owner(&r.full_name).to_owned()));
                }
            }
            match org {
                Some(org) => o.missing.push(MissingPermission {
                    name: "read:org".to_owned(),
                    fix: format!(
                        "{} The account belongs to an organization: it works with repositories \
                         of `{org}`, and GitHub refuses to list its organizations without \
                         `read:org` (HTTP 403). `write:org` or `admin:org` also satisfy this.",
                        classic_fix("read:org")
                    ),
                }),
                None => o.warnings.push(
                    "`read:org` is recommended: the account belongs to no organization today \
                     as far as its repositories show (GitHub lists organizations only to \
                     tokens with `read:org`), but organization repositories need it."
                        .to_owned(),
                ),
            }
        }
        status => o.warnings.push(format!(
            "Could not list the account's organizations (HTTP {status}); `read:org` is \
             required if it belongs to one."
        )),
    }
    Ok(())
}

//! Fine-grained personal access tokens (`github_pat_`): provider-apis.md §1.6 and §6.
//!
//! No endpoint tells a token holder its permissions, so read permissions are probed on one
//! repository. It must be one the token was **granted**: `GET /user/repos` also lists public
//! repositories the token never got (every token reads those, and their `/hooks` answer 403),
//! sorted by name, so the first entry proves nothing. A private or internal repository is
//! listed only when granted; those come first. If the token sees only public ones, a public
//! repository whose webhooks answer proves a grant; if none does, the verdict says the token
//! reaches no granted repository instead of inventing a missing permission.

use super::policy;
use super::{FINE_GRAINED_FIX_PATH, GIT_USER, RepoInfo, Verdict, failure, has_next_page};
use super::{rate_limited, repo_list, repo_path};
use crate::domain::test_result::{MissingPermission, TestOutcome};
use crate::providers::git_probe::CloneTarget;
use crate::providers::{Ctx, finish};
use reqwest::header::HeaderMap;

/// Public repositories tried for a grant when the token lists no private one.
const PUBLIC_TRIES: usize = 3;

struct Probe {
    suffix: &'static str,
    /// Scope label recorded when granted (and the name when GitHub does not say one).
    permission: &'static str,
    /// GitHub UI words for the fix.
    ui: &'static str,
}

const PROBES: [Probe; 3] = [
    Probe {
        suffix: "",
        permission: "metadata=read",
        ui: "Metadata: Read-only",
    },
    Probe {
        suffix: "/hooks",
        permission: "repository_hooks=read",
        ui: "Webhooks: Read and write",
    },
    Probe {
        suffix: "/pulls?per_page=1",
        permission: "pull_requests=read",
        ui: "Pull requests: Read and write",
    },
];

fn write_warning() -> String {
    "Write permissions cannot be verified for fine-grained tokens without making a change: make \
     sure Contents (read and write), Pull requests (read and write) and Webhooks (read and \
     write) are granted, and organization Members (read) if you use organizations."
        .to_owned()
}

fn no_repository(seen_public: &[RepoInfo]) -> MissingPermission {
    let seen = if seen_public.is_empty() {
        "The token sees no repository at all.".to_owned()
    } else {
        let names: Vec<&str> = seen_public
            .iter()
            .take(3)
            .map(|r| r.full_name.as_str())
            .collect();
        format!(
            "It lists only public repositories ({}{}), which every token may read, and none of \
             them answers for webhooks, so none is known to be granted to it.",
            names.join(", "),
            if seen_public.len() > 3 { ", …" } else { "" }
        )
    };
    MissingPermission {
        name: "Repository access".to_owned(),
        fix: format!(
            "{seen} Edit the token at {FINE_GRAINED_FIX_PATH}: under Repository access choose \
             the repositories Forgekeys should manage, and give them Webhooks and Pull requests \
             (Read and write)."
        ),
    }
}

pub(super) async fn checks(ctx: &Ctx<'_>, hdrs: &HeaderMap, mut o: TestOutcome) -> Verdict {
    let repos = match ctx.get("/user/repos?per_page=100", hdrs).await {
        Ok(r) => r,
        Err(outcome) => return (outcome, None),
    };
    if repos.status != 200 {
        return (failure(ctx, &repos), None);
    }
    let Some(mut listed) = repo_list(&repos) else {
        return (ctx.unexpected("GitHub /user/repos", &repos), None);
    };
    o.warnings.push(write_warning());
    if !listed.iter().any(|r| r.restricted) && has_next_page(&repos) {
        // Granted private repositories may sort after a page of public ones.
        if let Ok(r) = ctx
            .get("/user/repos?visibility=private&per_page=100", hdrs)
            .await
        {
            if let Some(private) = repo_list(&r).filter(|l| !l.is_empty()) {
                listed = private;
            }
        }
    }
    let chosen = match listed.iter().find(|r| r.restricted) {
        Some(r) => r.clone(),
        None => match granted_public(ctx, hdrs, &listed).await {
            Some(r) => r,
            None => {
                o.missing.push(no_repository(&listed));
                return (finish(o), None);
            }
        },
    };
    let full = chosen.full_name.as_str();
    let Some(base) = repo_path(full) else {
        return (ctx.unexpected("GitHub /user/repos", &repos), None);
    };
    o.details.push(format!(
        "permissions probed on repository {full} ({}, granted to the token)",
        chosen.visibility
    ));
    let owner = full.split('/').next().unwrap_or(full);
    let paths: Vec<String> = PROBES
        .iter()
        .map(|p| format!("{base}{}", p.suffix))
        .collect();
    let answers = futures::future::join_all(paths.iter().map(|p| ctx.get(p, hdrs))).await;
    for (probe, answer) in PROBES.iter().zip(answers) {
        let reply = match answer {
            Ok(r) => r,
            Err(outcome) => return (outcome, None),
        };
        match reply.status {
            200 => o.scopes.push(probe.permission.to_owned()),
            403 if rate_limited(&reply).is_none() => {
                if let Some(block) = policy::from_reply(&reply, Some(owner)) {
                    let m = block.missing();
                    if !o.missing.iter().any(|x| x.name == m.name) {
                        o.missing.push(m);
                    }
                    continue;
                }
                let name = reply
                    .header("x-accepted-github-permissions")
                    .and_then(|v| v.split(';').next())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .unwrap_or(probe.permission)
                    .to_owned();
                o.missing.push(MissingPermission {
                    name,
                    fix: format!(
                        "GitHub refused it on {full}, a repository granted to the token. Edit \
                         the token at {FINE_GRAINED_FIX_PATH}: under Repository permissions set \
                         {} (GitHub answered: {}).",
                        probe.ui,
                        ctx.redactor()
                            .quote(&crate::providers::provider_message(&reply))
                    ),
                });
            }
            404 => o.missing.push(MissingPermission {
                name: probe.permission.to_owned(),
                fix: format!(
                    "GitHub answered 404 for {full}: the token lacks permission there. Edit the \
                     token at {FINE_GRAINED_FIX_PATH} and set {} for {full}.",
                    probe.ui
                ),
            }),
            _ => return (failure(ctx, &reply), None),
        }
    }
    let clone = CloneTarget::new(
        full,
        GIT_USER,
        format!(
            "Give the token Contents (Read-only, or Read and write) on {full} at \
             {FINE_GRAINED_FIX_PATH}."
        ),
    );
    (finish(o), Some(clone))
}

/// The first of a few public repositories whose webhooks answer the token: a grant (an
/// ungranted public repository answers 403 there).
async fn granted_public(ctx: &Ctx<'_>, hdrs: &HeaderMap, listed: &[RepoInfo]) -> Option<RepoInfo> {
    let tries: Vec<&RepoInfo> = listed.iter().take(PUBLIC_TRIES).collect();
    let paths: Vec<String> = tries
        .iter()
        .filter_map(|r| repo_path(&r.full_name).map(|p| format!("{p}/hooks")))
        .collect();
    let answers = futures::future::join_all(paths.iter().map(|p| ctx.get(p, hdrs))).await;
    tries
        .into_iter()
        .zip(answers)
        .find(|(_, a)| a.as_ref().is_ok_and(|r| r.status == 200))
        .map(|(r, _)| r.clone())
}

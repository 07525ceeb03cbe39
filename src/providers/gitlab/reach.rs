//! Which projects and groups a GitLab token reaches with the Maintainer (40) or Owner (50) role.
//!
//! `GET /personal_access_tokens/self/associations?min_access_level=40` (GitLab 17.4+; any
//! scope may call it; without `min_access_level` it would list every public project, so it is
//! always sent — provider-research.md §6). A project's `access_levels` is
//! `{project_access_level, group_access_level}`: direct membership and the highest membership
//! in its group's hierarchy. A project reached only through a **group share** is listed (the
//! server filtered by level) with both `null`: it counts, and is shown as shared. A project in
//! a **personal namespace** (`namespace.kind: "user"`) counts too, but when nothing else does
//! the verdict says so: a human's token is Owner of the user's own projects, which says
//! nothing about the organization's. Before 17.4: `GET /projects?membership=true&
//! min_access_level=40` and `GET /groups?min_access_level=40`.

use super::{failure, unreadable};
use crate::domain::test_result::TestOutcome;
use crate::providers::Ctx;
use crate::providers::http::Reply;
use reqwest::header::HeaderMap;
use serde_json::Value;

const MAINTAINER: i64 = 40;

/// One project or group the token reaches with Maintainer or Owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reach {
    pub project: bool,
    pub name: String,
    /// `None`: not reported (a group share, or an old server's list).
    pub level: Option<i64>,
    /// In a user's personal namespace.
    pub personal: bool,
    /// Both levels `null` in an associations answer: through a group share.
    pub shared: bool,
    /// Group id (for the clone check of a group-only reach).
    pub group_id: Option<i64>,
}

impl Reach {
    pub fn describe(&self) -> String {
        let role = match self.level {
            Some(l) if l >= 50 => "Owner",
            Some(_) => "Maintainer",
            None => "Maintainer or higher",
        };
        let mut how = Vec::new();
        if self.shared {
            how.push("through a group share");
        }
        if self.personal {
            how.push("personal namespace");
        }
        let how = if how.is_empty() {
            String::new()
        } else {
            format!(", {}", how.join(", "))
        };
        let kind = if self.project { "project" } else { "group" };
        format!("{kind} {} ({role}{how})", self.name)
    }
}

pub(super) enum Roles {
    /// Projects/groups with Maintainer or Owner.
    Found(Vec<Reach>),
    None,
    /// The token may not call the endpoints (403 insufficient_scope, old servers).
    NoScope,
}

fn is_insufficient_scope(reply: &Reply) -> bool {
    reply.status == 403
        && reply
            .json()
            .and_then(|j| j.get("error").and_then(Value::as_str).map(str::to_owned))
            .is_some_and(|e| e == "insufficient_scope")
}

pub(super) fn personal_only_warning(found: &[Reach], account: &str) -> String {
    let names: Vec<&str> = found.iter().take(3).map(|r| r.name.as_str()).collect();
    format!(
        "The Maintainer or Owner role comes only from personal namespaces ({}): the token \
         reaches no group or group project with that role. If Forgekeys should manage your \
         organization's projects, give {account} the Maintainer role on them (Project or Group → \
         Manage → Members), or use a project or group access token with role Maintainer.",
        names.join(", ")
    )
}

pub(super) async fn roles(ctx: &Ctx<'_>, hdrs: &HeaderMap) -> Result<Roles, TestOutcome> {
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

fn describe(found: Vec<Reach>) -> Roles {
    if found.is_empty() {
        Roles::None
    } else {
        Roles::Found(found)
    }
}

/// Entries of an associations answer with level ≥ 40 (or not reported).
fn associations(json: &Value) -> Vec<Reach> {
    let empty = Vec::new();
    let list = |k: &str| json.get(k).and_then(Value::as_array).unwrap_or(&empty);
    let mut out = Vec::new();
    for g in list("groups") {
        // Filtered by the server already; re-check when a level is given.
        let level = g.get("access_levels").and_then(Value::as_i64);
        if level.is_none_or(|l| l >= MAINTAINER) {
            out.push(Reach {
                project: false,
                name: group_name(g),
                level,
                personal: false,
                shared: level.is_none(),
                group_id: g.get("id").and_then(Value::as_i64),
            });
        }
    }
    for p in list("projects") {
        let levels = p.get("access_levels");
        let pick = |k: &str| levels.and_then(|l| l.get(k)).and_then(Value::as_i64);
        let (level, shared) = match (pick("project_access_level"), pick("group_access_level")) {
            (None, None) => (None, true),
            (a, b) => (Some(a.unwrap_or(0).max(b.unwrap_or(0))), false),
        };
        if level.is_none_or(|l| l >= MAINTAINER) {
            out.push(project_reach(p, level, shared));
        }
    }
    out
}

fn project_reach(p: &Value, level: Option<i64>, shared: bool) -> Reach {
    Reach {
        project: true,
        name: project_name(p),
        level,
        personal: p.pointer("/namespace/kind").and_then(Value::as_str) == Some("user"),
        shared,
        group_id: None,
    }
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
    out.extend(list.iter().map(|p| project_reach(p, None, false)));
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
    out.extend(list.iter().map(|g| Reach {
        project: false,
        name: group_name(g),
        level: None,
        personal: false,
        shared: false,
        group_id: g.get("id").and_then(Value::as_i64),
    }));
    Ok(describe(out))
}

/// The project the clone check runs on: the first reached outside personal namespaces, else
/// a personal one, else the first project of the first group reached.
pub(super) async fn clone_project(
    ctx: &Ctx<'_>,
    hdrs: &HeaderMap,
    found: &[Reach],
) -> Result<Option<String>, TestOutcome> {
    let projects = || found.iter().filter(|r| r.project);
    if let Some(p) = projects()
        .find(|r| !r.personal)
        .or_else(|| projects().next())
    {
        return Ok(Some(p.name.clone()));
    }
    let Some(group) = found.iter().find_map(|r| r.group_id) else {
        return Ok(None);
    };
    let reply = ctx
        .get(
            &format!("/groups/{group}/projects?per_page=1&simple=true&include_subgroups=true"),
            hdrs,
        )
        .await?;
    Ok((reply.status == 200)
        .then(|| reply.json())
        .flatten()
        .and_then(|j| j.as_array()?.first().map(project_name)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn described(json: &str) -> Vec<String> {
        let v: Value = serde_json::from_str(json).unwrap();
        associations(&v).iter().map(Reach::describe).collect()
    }

    #[test]
    fn reads_associations() {
        assert_eq!(
            described(
                r#"{"groups":[{"id":1,"name":"Test","access_levels":50},{"id":2,"name":"Low","access_levels":30}],
                "projects":[{"id":1337,"path_with_namespace":"Test/test-project",
                              "access_levels":{"project_access_level":null,"group_access_level":40}},
                            {"id":9,"path_with_namespace":"x/y","access_levels":{"project_access_level":20,"group_access_level":null}}]}"#
            ),
            vec![
                "group Test (Owner)".to_owned(),
                "project Test/test-project (Maintainer)".to_owned()
            ]
        );
        assert!(described(r#"{"groups":[],"projects":[]}"#).is_empty());
    }

    #[test]
    fn shares_and_personal_namespaces_are_named() {
        assert_eq!(
            described(
                r#"{"groups":[],"projects":[
                {"id":5,"path_with_namespace":"partner/shared-app","access_levels":{"project_access_level":null,"group_access_level":null},"namespace":{"kind":"group"}},
                {"id":6,"path_with_namespace":"alice/scratch","access_levels":{"project_access_level":50,"group_access_level":null},"namespace":{"kind":"user"}}]}"#
            ),
            vec![
                "project partner/shared-app (Maintainer or higher, through a group share)"
                    .to_owned(),
                "project alice/scratch (Owner, personal namespace)".to_owned()
            ]
        );
    }
}

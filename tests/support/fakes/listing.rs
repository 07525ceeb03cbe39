//! Paged repository and branch listings of the fake providers (issue 4: service pickers, moves,
//! coverage, migration). Hooked into each fake ahead of its token-test routes.
//!
//! Data: repositories `acme/app-01` … `acme/app-25` (GitLab: the same paths), 10 per fake page
//! whatever page size is asked for (providers may return fewer than asked), so 3 pages; each
//! has 12 branches on 2 pages (`main`, `develop`, `feature-01`…`feature-08`, `release-1`,
//! `release-2`), default `main`. Token variants, by a suffix after the usual prefix:
//!
//! | token | sees / reads |
//! |---|---|
//! | `…-narrow` (e.g. `ghp_allscopes-narrow`, `glpat-maintainer-narrow`, `bb_valid-narrow`) | only `app-01`…`app-05` (one page); other repositories 404 |
//! | `…-many` (GitHub) | `app-001`…`app-130` (13 pages: more than the app follows in one go) |
//! | others | all 25 |
//!
//! Paging as documented: GitHub `Link: <…>; rel="next", <…>; rel="last"`; GitLab `Link` plus
//! `X-Page`, `X-Per-Page`, `X-Total`, `X-Total-Pages`, `X-Next-Page`, `X-Prev-Page`; Bitbucket
//! `{"pagelen","size","page","next","values"}` in the body. Searches: GitLab `search=`,
//! Bitbucket `q=name~"…"` (GitHub's `/user/repos` has no search).

use super::{FakeResponse, RecordedRequest};

pub const PAGE: usize = 10;

/// Repository names (without owner) the token sees.
pub fn repos_for(token: &str) -> Vec<String> {
    if token.contains("-narrow") {
        (1..=5).map(|i| format!("app-{i:02}")).collect()
    } else if token.contains("-many") {
        (1..=130).map(|i| format!("app-{i:03}")).collect()
    } else {
        (1..=25).map(|i| format!("app-{i:02}")).collect()
    }
}

pub fn branches() -> Vec<String> {
    let mut b = vec!["main".to_owned(), "develop".to_owned()];
    b.extend((1..=8).map(|i| format!("feature-{i:02}")));
    b.extend(["release-1".to_owned(), "release-2".to_owned()]);
    b
}

pub fn query(req: &RecordedRequest) -> Vec<(String, String)> {
    let q = req.path.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(req: &RecordedRequest, name: &str) -> Option<String> {
    query(req)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn page_no(req: &RecordedRequest) -> usize {
    param(req, "page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

/// `(items of page, total pages)`.
fn slice<T: Clone>(items: &[T], page: usize) -> (Vec<T>, usize) {
    let pages = items.len().div_ceil(PAGE).max(1);
    let start = (page - 1) * PAGE;
    let part = items.iter().skip(start).take(PAGE).cloned().collect();
    (part, pages)
}

/// Absolute URL of the same request with another `page`.
fn with_page(req: &RecordedRequest, page: usize) -> String {
    let host = req.header("host").unwrap_or("127.0.0.1");
    let route = req.route();
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in query(req) {
        if k != "page" {
            s.append_pair(&k, &v);
        }
    }
    s.append_pair("page", &page.to_string());
    format!("http://{host}{route}?{}", s.finish())
}

fn link_header(req: &RecordedRequest, page: usize, pages: usize) -> String {
    let mut parts = Vec::new();
    if page < pages {
        parts.push(format!("<{}>; rel=\"next\"", with_page(req, page + 1)));
        parts.push(format!("<{}>; rel=\"last\"", with_page(req, pages)));
    }
    if page > 1 {
        parts.push(format!("<{}>; rel=\"first\"", with_page(req, 1)));
        parts.push(format!("<{}>; rel=\"prev\"", with_page(req, page - 1)));
    }
    parts.join(", ")
}

fn json_list(items: Vec<String>) -> String {
    format!("[{}]", items.join(","))
}

// ---------------------------------------------------------------------------------------------
// GitHub

const GITHUB_TOKENS: [&str; 5] = [
    "ghp_allscopes",
    "ghp_noexpiry",
    "ghp_adminorg",
    "ghp_noorgs",
    "ghp_inorgs",
];

/// The owner of a GitHub listing token's repositories: `ghp_noorgs` belongs to no organization,
/// so its repositories are the user's own (`owner.type: User`).
fn github_owner(token: &str) -> (&'static str, &'static str) {
    if token.starts_with("ghp_noorgs") {
        ("octocat", "User")
    } else {
        ("acme", "Organization")
    }
}

/// Full names of the repositories a GitHub listing token reads (`None` for other tokens).
pub fn github_repo_names(token: &str) -> Option<Vec<String>> {
    if !GITHUB_TOKENS.iter().any(|p| token.starts_with(p)) {
        return None;
    }
    let (owner, _) = github_owner(token);
    Some(
        repos_for(token)
            .into_iter()
            .map(|n| format!("{owner}/{n}"))
            .collect(),
    )
}

/// `route` is the path without query and without the GHES `/api/v3` prefix.
pub fn github(req: &RecordedRequest, route: &str) -> Option<FakeResponse> {
    let t = req.token().unwrap_or("");
    if !GITHUB_TOKENS.iter().any(|p| t.starts_with(p)) {
        return None;
    }
    let (owner, owner_type) = github_owner(t);
    let names = repos_for(t);
    let paged = |items: Vec<String>| {
        let page = page_no(req);
        let (part, pages) = slice(&items, page);
        let mut resp = FakeResponse::json(200, json_list(part))
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "4990");
        let link = link_header(req, page, pages);
        if !link.is_empty() {
            resp = resp.header("link", &link);
        }
        resp
    };
    if route == "/user/repos" {
        // `affiliation=organization_member` lists only organization repositories.
        let org_only = param(req, "affiliation").as_deref() == Some("organization_member");
        let items = names
            .iter()
            .filter(|_| !(org_only && owner_type == "User"))
            .enumerate()
            .map(|(i, n)| {
                format!(
                    r#"{{"id":{},"name":"{n}","full_name":"{owner}/{n}","owner":{{"login":"{owner}","id":2,"type":"{owner_type}"}},"private":true,"visibility":"private","default_branch":"main"}}"#,
                    1000 + i
                )
            })
            .collect();
        return Some(paged(items));
    }
    let rest = route.strip_prefix(&format!("/repos/{owner}/"))?;
    let (repo, tail) = match rest.split_once('/') {
        Some((r, t)) => (r, Some(t)),
        None => (rest, None),
    };
    if !names.iter().any(|n| n == repo) {
        return Some(FakeResponse::json(
            404,
            r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#,
        ));
    }
    match tail {
        None => Some(FakeResponse::json(
            200,
            format!(
                r#"{{"id":1001,"name":"{repo}","full_name":"{owner}/{repo}","private":true,"default_branch":"main"}}"#
            ),
        )),
        Some("branches") => Some(paged(
            branches()
                .into_iter()
                .map(|b| {
                    format!(
                        r#"{{"name":"{b}","commit":{{"sha":"c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc","url":"https://api.github.com/repos/{owner}/{repo}/commits/c5b97d5"}},"protected":{}}}"#,
                        b == "main"
                    )
                })
                .collect(),
        )),
        Some(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// GitLab

/// `route` is the path without query and without `/api/v4`.
pub fn gitlab(req: &RecordedRequest, route: &str) -> Option<FakeResponse> {
    let t = req.token().unwrap_or("");
    if !(t.starts_with("glpat-maintainer") || t.starts_with("glpat-owner")) {
        return None;
    }
    let names = repos_for(t);
    let paged = |items: Vec<String>| {
        let page = page_no(req);
        let (part, pages) = slice(&items, page);
        let mut resp = FakeResponse::json(200, json_list(part))
            .header("x-page", &page.to_string())
            .header("x-per-page", &PAGE.to_string())
            .header("x-total", &items.len().to_string())
            .header("x-total-pages", &pages.to_string())
            .header(
                "x-next-page",
                &if page < pages {
                    (page + 1).to_string()
                } else {
                    String::new()
                },
            )
            .header(
                "x-prev-page",
                &if page > 1 {
                    (page - 1).to_string()
                } else {
                    String::new()
                },
            );
        let link = link_header(req, page, pages);
        if !link.is_empty() {
            resp = resp.header("link", &link);
        }
        resp
    };
    if route == "/projects" {
        if param(req, "min_access_level").is_some() {
            return None; // the token test's fallback query
        }
        let search = param(req, "search").unwrap_or_default().to_lowercase();
        let items = names
            .iter()
            .enumerate()
            .filter(|(_, n)| search.is_empty() || n.contains(&search))
            .map(|(i, n)| {
                format!(
                    r#"{{"id":{},"name":"{n}","path":"{n}","path_with_namespace":"acme/{n}","default_branch":"main","web_url":"https://gitlab.example.com/acme/{n}"}}"#,
                    2000 + i
                )
            })
            .collect();
        return Some(paged(items));
    }
    let rest = route.strip_prefix("/projects/")?;
    let decoded = rest.replace("%2F", "/").replace("%2f", "/");
    let path = decoded.strip_prefix("acme/")?;
    let (repo, tail) = match path.split_once('/') {
        Some((r, t)) => (r, Some(t)),
        None => (path, None),
    };
    if !names.iter().any(|n| n == repo) {
        return Some(FakeResponse::json(
            404,
            r#"{"message":"404 Project Not Found"}"#,
        ));
    }
    match tail {
        None => Some(FakeResponse::json(
            200,
            format!(
                r#"{{"id":2001,"name":"{repo}","path_with_namespace":"acme/{repo}","default_branch":"main"}}"#
            ),
        )),
        Some("repository/branches") => Some(paged(
            branches()
                .into_iter()
                .map(|b| {
                    format!(
                        r#"{{"name":"{b}","merged":false,"protected":{main},"default":{main},"commit":{{"id":"7b5c3cc8be40ee161ae89a06bba6229da1032a0c"}}}}"#,
                        main = b == "main"
                    )
                })
                .collect(),
        )),
        Some(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Bitbucket

const BITBUCKET_TOKENS: [&str; 4] = ["bb_valid", "bb_spaces", "bb_readonly", "bb_nowebhook"];

fn bb_error(status: u16, message: &str) -> FakeResponse {
    FakeResponse::json(
        status,
        format!(r#"{{"type":"error","error":{{"message":"{message}"}}}}"#),
    )
}

/// The `"…"` of `name~"…"`.
fn bb_name_filter(q: &str) -> String {
    q.split_once('"')
        .and_then(|(_, rest)| rest.rsplit_once('"'))
        .map(|(inner, _)| inner.replace("\\\"", "\""))
        .unwrap_or_default()
        .to_lowercase()
}

pub fn bitbucket(req: &RecordedRequest) -> Option<FakeResponse> {
    let t = req.token().unwrap_or("");
    if !BITBUCKET_TOKENS.iter().any(|p| t.starts_with(p)) {
        return None;
    }
    let rest = req.route().strip_prefix("/2.0/repositories/")?;
    let names = repos_for(t);
    let paged = |items: Vec<String>, total: usize| {
        let page = page_no(req);
        let (part, pages) = slice(&items, page);
        let next = if page < pages {
            format!(r#""next":"{}","#, with_page(req, page + 1))
        } else {
            String::new()
        };
        FakeResponse::json(
            200,
            format!(
                r#"{{"pagelen":{PAGE},"size":{total},"page":{page},{next}"values":[{}]}}"#,
                part.join(",")
            ),
        )
    };
    let repo_json = |n: &str| {
        format!(
            r#"{{"type":"repository","full_name":"acme/{n}","name":"{n}","slug":"{n}","is_private":true,"mainbranch":{{"type":"branch","name":"main"}},"workspace":{{"type":"workspace","slug":"acme","name":"Acme"}}}}"#
        )
    };
    if rest == "acme" {
        // The token test asks `?pagelen=10` and reads the scope headers: leave it alone.
        if param(req, "pagelen").as_deref() != Some("100") {
            return None;
        }
        let filter = param(req, "q")
            .map(|q| bb_name_filter(&q))
            .unwrap_or_default();
        let items: Vec<String> = names
            .iter()
            .filter(|n| filter.is_empty() || n.contains(&filter))
            .map(|n| repo_json(n))
            .collect();
        let total = items.len();
        return Some(paged(items, total));
    }
    let path = rest.strip_prefix("acme/")?;
    let (repo, tail) = match path.split_once('/') {
        Some((r, t)) => (r, Some(t)),
        None => (path, None),
    };
    if !names.iter().any(|n| n == repo) {
        return Some(bb_error(404, &format!("Repository acme/{repo} not found")));
    }
    match tail {
        None => Some(FakeResponse::json(200, repo_json(repo))),
        Some("refs/branches") => {
            let items: Vec<String> = branches()
                .into_iter()
                .map(|b| {
                    format!(
                        r#"{{"type":"branch","name":"{b}","target":{{"type":"commit","hash":"a1b2c3d4e5f6"}}}}"#
                    )
                })
                .collect();
            let total = items.len();
            Some(paged(items, total))
        }
        Some(_) => None,
    }
}

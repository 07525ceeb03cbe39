//! Help on the token form that does the work: what the token needs (scopes and permissions as
//! code) and links to the provider page that creates such a token, pre-filled where the provider
//! allows it (issue 13 item 11), for the cloud and for the server URL or workspace typed on the
//! form.

use crate::domain::provider::{Hosting, Provider};

/// A piece of a help line: words, or a scope / permission / setting name shown as code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub code: bool,
}

/// A help line written with `backticks` around the names to show as code.
pub fn pieces(line: &str) -> Vec<Piece> {
    line.split('`')
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(i, t)| Piece {
            text: t.to_string(),
            code: i % 2 == 1,
        })
        .collect()
}

/// Where a link's address starts: fixed, or from a field on the form (updated as it is typed
/// by static/app.js; without JavaScript, after the form is sent back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkBase {
    Fixed,
    /// The self-hosted server URL; `origin_only` for GitHub Enterprise Server (its address
    /// only), the whole URL for GitLab (which may be installed under a path).
    ServerUrl {
        origin_only: bool,
    },
    /// The Bitbucket workspace ID.
    Workspace,
}

impl LinkBase {
    /// The field the address comes from, for `data-link-from` ("" when fixed).
    pub fn field(self) -> &'static str {
        match self {
            LinkBase::Fixed => "",
            LinkBase::ServerUrl { .. } => "url",
            LinkBase::Workspace => "workspace",
        }
    }

    pub fn origin_only(self) -> bool {
        matches!(self, LinkBase::ServerUrl { origin_only: true })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLink {
    pub label: &'static str,
    pub base: LinkBase,
    /// Appended to the base (the whole address when fixed).
    pub path: &'static str,
    /// The address for the values on the form; empty until the field it needs is filled in.
    pub url: String,
}

const GITHUB_CLASSIC: &str =
    "/settings/tokens/new?scopes=repo,admin:repo_hook,read:org&description=Forgekeys";
const GITHUB_FINE: &str = "/settings/personal-access-tokens/new";
const GITLAB_PERSONAL: &str =
    "/-/user_settings/personal_access_tokens?name=Forgekeys&scopes=api,read_repository";
const BITBUCKET_WORKSPACE: &str = "/workspace/settings/access-tokens";

/// The links for `provider` and `hosting`, with `url` / `workspace` as typed.
pub fn links(provider: Provider, hosting: Hosting, url: &str, workspace: &str) -> Vec<HelpLink> {
    let self_hosted = hosting == Hosting::SelfHosted;
    let server = |origin_only| LinkBase::ServerUrl { origin_only };
    let mut out = match provider {
        Provider::Github => {
            let base = if self_hosted {
                server(true)
            } else {
                LinkBase::Fixed
            };
            vec![
                link(
                    "Create a classic token with repo, admin:repo_hook and read:org ticked",
                    base,
                    GITHUB_CLASSIC,
                ),
                link("Create a fine-grained token", base, GITHUB_FINE),
            ]
        }
        Provider::Gitlab => {
            let base = if self_hosted {
                server(false)
            } else {
                LinkBase::Fixed
            };
            vec![link(
                "Create a personal access token with api and read_repository ticked",
                base,
                GITLAB_PERSONAL,
            )]
        }
        Provider::Bitbucket => vec![
            link(
                "Create a workspace access token in the workspace's settings",
                LinkBase::Workspace,
                BITBUCKET_WORKSPACE,
            ),
            link(
                "Create an Atlassian API token with scopes",
                LinkBase::Fixed,
                "https://id.atlassian.com/manage-profile/security/api-tokens",
            ),
        ],
    };
    for l in &mut out {
        l.url = address(l, provider, url, workspace);
    }
    out
}

fn link(label: &'static str, base: LinkBase, path: &'static str) -> HelpLink {
    HelpLink {
        label,
        base,
        path,
        url: String::new(),
    }
}

fn address(l: &HelpLink, provider: Provider, url: &str, workspace: &str) -> String {
    match l.base {
        LinkBase::Fixed if provider == Provider::Github => format!("https://github.com{}", l.path),
        LinkBase::Fixed if provider == Provider::Gitlab => format!("https://gitlab.com{}", l.path),
        LinkBase::Fixed => l.path.to_string(),
        LinkBase::ServerUrl { origin_only } => match server_base(url, origin_only) {
            Some(b) => format!("{b}{}", l.path),
            None => String::new(),
        },
        LinkBase::Workspace => {
            let ws = workspace.trim();
            if ws.is_empty()
                || !ws
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                return String::new();
            }
            format!("https://bitbucket.org/{ws}{}", l.path)
        }
    }
}

/// The typed server URL as a link base: https only, no credentials, query or fragment; the
/// origin alone, or the URL without its trailing slash.
fn server_base(raw: &str, origin_only: bool) -> Option<String> {
    let u = url::Url::parse(raw.trim()).ok()?;
    if u.scheme() != "https"
        || u.host_str().is_none()
        || !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return None;
    }
    let origin = u.origin().ascii_serialization();
    if origin_only {
        Some(origin)
    } else {
        Some(format!("{origin}{}", u.path().trim_end_matches('/')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(p: Provider, h: Hosting, url: &str, ws: &str) -> Vec<String> {
        links(p, h, url, ws).into_iter().map(|l| l.url).collect()
    }

    #[test]
    fn cloud_links_are_pre_filled() {
        assert_eq!(
            urls(Provider::Github, Hosting::Cloud, "", ""),
            vec![
                "https://github.com/settings/tokens/new?scopes=repo,admin:repo_hook,read:org&description=Forgekeys",
                "https://github.com/settings/personal-access-tokens/new",
            ]
        );
        assert_eq!(
            urls(Provider::Gitlab, Hosting::Cloud, "", ""),
            vec![
                "https://gitlab.com/-/user_settings/personal_access_tokens?name=Forgekeys&scopes=api,read_repository"
            ]
        );
    }

    #[test]
    fn self_hosted_links_follow_the_typed_server() {
        assert_eq!(
            urls(
                Provider::Github,
                Hosting::SelfHosted,
                "https://ghe.corp/some/page",
                ""
            )[1],
            "https://ghe.corp/settings/personal-access-tokens/new"
        );
        // GitLab under a path keeps it.
        assert_eq!(
            urls(
                Provider::Gitlab,
                Hosting::SelfHosted,
                "https://dev.corp/gitlab/",
                ""
            )[0],
            "https://dev.corp/gitlab/-/user_settings/personal_access_tokens?name=Forgekeys&scopes=api,read_repository"
        );
        // Nothing usable typed yet: no address (the page says to enter the URL).
        for bad in [
            "",
            "ghe.corp",
            "http://ghe.corp",
            "https://u:p@ghe.corp",
            "https://g/?x=1",
        ] {
            assert_eq!(
                urls(Provider::Github, Hosting::SelfHosted, bad, ""),
                vec![String::new(), String::new()],
                "{bad}"
            );
        }
    }

    #[test]
    fn bitbucket_links_to_the_typed_workspace() {
        let u = urls(Provider::Bitbucket, Hosting::Cloud, "", "acme-co");
        assert_eq!(
            u[0],
            "https://bitbucket.org/acme-co/workspace/settings/access-tokens"
        );
        assert_eq!(
            u[1],
            "https://id.atlassian.com/manage-profile/security/api-tokens"
        );
        assert_eq!(urls(Provider::Bitbucket, Hosting::Cloud, "", "")[0], "");
        assert_eq!(
            urls(Provider::Bitbucket, Hosting::Cloud, "", "a/../b")[0],
            ""
        );
    }

    #[test]
    fn backticks_mark_code() {
        assert_eq!(
            pieces("tick `repo` and `admin:repo_hook`."),
            vec![
                Piece {
                    text: "tick ".into(),
                    code: false
                },
                Piece {
                    text: "repo".into(),
                    code: true
                },
                Piece {
                    text: " and ".into(),
                    code: false
                },
                Piece {
                    text: "admin:repo_hook".into(),
                    code: true
                },
                Piece {
                    text: ".".into(),
                    code: false
                },
            ]
        );
    }
}

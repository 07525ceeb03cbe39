//! Organization rules that make a working token fail on an organization's resources while
//! `/user` answers 200 (provider-research.md §3, §4):
//!
//! - **SAML single sign-on**: a classic token not authorized for an SSO organization gets
//!   listings without that organization's items and `X-GitHub-SSO: partial-results;
//!   organizations=<ids>`, and on the organization's resources 403 with `X-GitHub-SSO: required;
//!   url=https://github.com/orgs/ORG/sso?authorization_request=…` ("Resource protected by
//!   organization SAML enforcement…"). The fix is to authorize the token for the organization;
//!   editing a classic token's scopes would *remove* its SSO authorizations, so the fix text
//!   never suggests it.
//! - **Classic tokens forbidden**: 403 "`ORG` forbids access via a personal access token
//!   (classic)…" (REST), "Personal access tokens (classic) are forbidden from accessing this
//!   repository." (git).
//! - **Fine-grained lifetime limit**: 403 "The 'ORG' organization forbids access via a
//!   fine-grained personal access tokens if the token's lifetime is greater than N days…".

use super::{CLASSIC_FIX_PATH, FINE_GRAINED_FIX_PATH};
use crate::domain::test_result::MissingPermission;
use crate::providers::Ctx;
use crate::providers::http::Reply;
use reqwest::header::HeaderMap;

/// SSO organizations named by id that are looked up, at most.
const MAX_SSO_LOOKUPS: usize = 3;

/// Why an organization refuses a token that otherwise works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// Not authorized for the organization's SAML SSO; `url` is GitHub's authorization link.
    Sso { org: String, url: Option<String> },
    /// The organization does not accept classic personal access tokens.
    ClassicForbidden { org: String },
    /// The organization limits the lifetime of fine-grained tokens; `url` is the token's page.
    Lifetime { org: String, url: Option<String> },
}

impl Block {
    pub fn missing(&self) -> MissingPermission {
        match self {
            Block::Sso { org, url } => {
                let link = match url {
                    Some(u) => format!(
                        "open {u} while signed in to GitHub (GitHub's link, valid for one hour), \
                         or "
                    ),
                    None => String::new(),
                };
                MissingPermission {
                    name: format!("SAML SSO authorization for {org}"),
                    fix: format!(
                        "The organization `{org}` uses SAML single sign-on and this token is not \
                         authorized for it, so GitHub hides that organization's repositories \
                         from it. Authorize the token for `{org}`: {link}at {CLASSIC_FIX_PATH} \
                         choose Configure SSO next to the token, then Authorize next to \
                         `{org}`. The token's scopes are not the problem: leave them as they \
                         are, since changing them removes the SSO authorizations the token \
                         already has."
                    ),
                }
            }
            Block::ClassicForbidden { org } => MissingPermission {
                name: format!("Classic tokens allowed by {org}"),
                fix: format!(
                    "The organization `{org}` forbids access with personal access tokens \
                     (classic), whatever their scopes. Use a fine-grained personal access token \
                     instead ({FINE_GRAINED_FIX_PATH}, resource owner `{org}`, with the \
                     repositories Forgekeys manages), or a GitHub App."
                ),
            },
            Block::Lifetime { org, url } => MissingPermission {
                name: format!("Token lifetime allowed by {org}"),
                fix: format!(
                    "The organization `{org}` forbids fine-grained tokens that live longer than \
                     its limit. Give the token a shorter expiry{}, or create a new one with an \
                     expiry within the organization's limit.",
                    url.as_deref()
                        .map(|u| format!(" at {u}"))
                        .unwrap_or_default()
                ),
            },
        }
    }
}

/// The text between the first `open` and the next `close`.
fn between(text: &str, open: char, close: char) -> Option<&str> {
    let start = text.find(open)? + open.len_utf8();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len]).filter(|s| !s.is_empty())
}

/// `ORG` of `https://github.com/orgs/ORG/sso?…`.
fn org_of_sso_url(url: &str) -> Option<String> {
    let after = url.split("/orgs/").nth(1)?;
    let org = after.split(['/', '?']).next()?;
    (!org.is_empty()).then(|| org.to_owned())
}

/// The `url=` of `X-GitHub-SSO: required; url=…`.
fn sso_required_url(reply: &Reply) -> Option<String> {
    let header = reply.header("x-github-sso")?;
    if !header.trim_start().starts_with("required") {
        return None;
    }
    header
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("url="))
        .map(str::to_owned)
        .next()
}

/// The ids of `X-GitHub-SSO: partial-results; organizations=21955855,20582480`.
pub(crate) fn partial_orgs(reply: &Reply) -> Vec<String> {
    let Some(header) = reply.header("x-github-sso") else {
        return Vec::new();
    };
    if !header.trim_start().starts_with("partial-results") {
        return Vec::new();
    }
    header
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("organizations="))
        .flat_map(|ids| ids.split(','))
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// A REST 403 that an organization rule explains; `fallback_org` names the organization when
/// the answer does not.
pub(crate) fn from_reply(reply: &Reply, fallback_org: Option<&str>) -> Option<Block> {
    if reply.status != 403 {
        return None;
    }
    let message = crate::providers::provider_message(reply);
    if let Some(url) = sso_required_url(reply) {
        let org = org_of_sso_url(&url).or_else(|| fallback_org.map(str::to_owned))?;
        return Some(Block::Sso {
            org,
            url: Some(url),
        });
    }
    if message.starts_with("Resource protected by organization SAML enforcement") {
        return Some(Block::Sso {
            org: fallback_org?.to_owned(),
            url: None,
        });
    }
    from_text(&message, fallback_org)
}

fn from_text(message: &str, fallback_org: Option<&str>) -> Option<Block> {
    let named = |quote: char| {
        between(message, quote, quote)
            .map(str::to_owned)
            .or_else(|| fallback_org.map(str::to_owned))
    };
    if message.contains("forbids access via a personal access token (classic)")
        || message.contains("Personal access tokens (classic) are forbidden")
    {
        return Some(Block::ClassicForbidden { org: named('`')? });
    }
    if message.contains("forbids access via a fine-grained personal access token") {
        let url = message
            .split("following URL: ")
            .nth(1)
            .map(|u| u.trim().trim_end_matches('.').to_owned())
            .filter(|u| u.starts_with("https://"));
        return Some(Block::Lifetime {
            org: named('\'')?,
            url,
        });
    }
    None
}

/// A 403 of the Git server (its plain-text message) that an organization rule explains;
/// `owner` is the repository's owner.
pub(crate) fn from_git_text(text: &str, owner: &str) -> Option<Block> {
    if let Some(block) = from_text(text, Some(owner)) {
        return Some(block);
    }
    (text.contains("SAML") || text.contains("single sign-on")).then(|| Block::Sso {
        org: owner.to_owned(),
        url: None,
    })
}

/// Names the SSO organizations of a partial listing: `GET /organizations/{id}` answers 403 with
/// the authorization link for an SSO organization the token is not authorized for, or the
/// organization itself.
pub(crate) async fn resolve_sso(ctx: &Ctx<'_>, hdrs: &HeaderMap, ids: &[String]) -> Vec<Block> {
    let paths: Vec<String> = ids
        .iter()
        .take(MAX_SSO_LOOKUPS)
        .map(|id| format!("/organizations/{id}"))
        .collect();
    let answers = futures::future::join_all(paths.iter().map(|p| ctx.get(p, hdrs))).await;
    let mut out: Vec<Block> = ids
        .iter()
        .zip(answers)
        .map(|(id, answer)| {
            let fallback = format!("#{id}");
            match answer {
                Ok(r) if r.status == 403 => from_reply(&r, Some(&fallback)),
                Ok(r) if r.status == 200 => r
                    .json()
                    .and_then(|j| j.get("login")?.as_str().map(str::to_owned))
                    .map(|org| Block::Sso { org, url: None }),
                _ => None,
            }
            .unwrap_or(Block::Sso {
                org: format!("organization {fallback}"),
                url: None,
            })
        })
        .collect();
    out.extend(ids.iter().skip(MAX_SSO_LOOKUPS).map(|id| Block::Sso {
        org: format!("organization #{id}"),
        url: None,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_organization_rules_from_messages() {
        assert_eq!(
            from_text(
                "`microbiomedata` forbids access via a personal access token (classic). Please \
                 use a GitHub App, OAuth App, or a personal access token with fine-grained \
                 permissions.",
                None
            ),
            Some(Block::ClassicForbidden {
                org: "microbiomedata".into()
            })
        );
        assert_eq!(
            from_git_text(
                "Personal access tokens (classic) are forbidden from accessing this repository.",
                "acme"
            ),
            Some(Block::ClassicForbidden { org: "acme".into() })
        );
        assert_eq!(
            from_text(
                "The 'NixOS' organization forbids access via a fine-grained personal access \
                 tokens if the token's lifetime is greater than 90 days. Please adjust your \
                 token's lifetime at the following URL: \
                 https://github.com/settings/personal-access-tokens/12885303",
                None
            ),
            Some(Block::Lifetime {
                org: "NixOS".into(),
                url: Some("https://github.com/settings/personal-access-tokens/12885303".into())
            })
        );
        assert_eq!(
            org_of_sso_url("https://github.com/orgs/octodocs-test/sso?authorization_request=A"),
            Some("octodocs-test".into())
        );
    }

    #[test]
    fn sso_fix_never_suggests_editing_scopes() {
        let m = Block::Sso {
            org: "acme".into(),
            url: Some("https://github.com/orgs/acme/sso?authorization_request=x".into()),
        }
        .missing();
        assert!(m.fix.contains("Configure SSO"), "{}", m.fix);
        assert!(!m.fix.contains("tick"), "{}", m.fix);
        assert!(
            !m.fix.to_lowercase().contains("edit the token"),
            "{}",
            m.fix
        );
    }
}

//! Rotation in words: where a token is sent, where to revoke the old one, and why a rotation
//! was refused.

use crate::app::rotation::RotationProblem;
use crate::crypto::secret_box::CryptoError;
use crate::domain::provider::{Hosting, Provider};
use crate::domain::status::TestStatus;
use crate::domain::token::Token;

/// Where to revoke the old token at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeLink {
    pub url: String,
    pub label: String,
    /// An extra sentence, or empty.
    pub note: String,
}

/// The origin of a self-hosted server, or `cloud`.
fn origin(t: &Token, cloud: &str) -> String {
    match (t.destination.hosting, t.destination.url.as_deref()) {
        (Hosting::SelfHosted, Some(u)) => u.trim_end_matches('/').to_string(),
        _ => cloud.trim_end_matches('/').to_string(),
    }
}

/// Where to revoke `t`'s old value, by the kind of that value: `old_hint` is the replaced
/// value's hint (GitHub tells classic from fine-grained by it), `kind` the kind the last test
/// detected (GitLab personal vs project/group tokens), `gitlab_url` the configured GitLab.
pub fn revoke_link(
    t: &Token,
    old_hint: &str,
    kind: Option<&str>,
    gitlab_url: &url::Url,
) -> RevokeLink {
    match t.provider() {
        Provider::Github => {
            let origin = origin(t, "https://github.com");
            if old_hint.starts_with("github_pat_") {
                RevokeLink {
                    url: format!("{origin}/settings/personal-access-tokens"),
                    label: "GitHub → Settings → Developer settings → Fine-grained tokens".into(),
                    note: String::new(),
                }
            } else {
                RevokeLink {
                    url: format!("{origin}/settings/tokens"),
                    label:
                        "GitHub → Settings → Developer settings → Personal access tokens (classic)"
                            .into(),
                    note: "Sign in as the token's account to see it.".into(),
                }
            }
        }
        Provider::Gitlab => {
            let origin = origin(t, gitlab_url.as_str());
            if kind.is_some_and(|k| k.contains("project or group")) {
                RevokeLink {
                    url: format!("{origin}/dashboard/projects"),
                    label: "GitLab → the token's project or group → Settings → Access tokens"
                        .into(),
                    note: "Project and group access tokens are listed in the settings of the \
                           project or group they were made in (Maintainer role or higher)."
                        .into(),
                }
            } else {
                RevokeLink {
                    url: format!("{origin}/-/user_settings/personal_access_tokens"),
                    label: "GitLab → User settings → Personal access tokens".into(),
                    note: "Sign in as the token's user to see it.".into(),
                }
            }
        }
        Provider::Bitbucket => match t.destination.username.as_deref() {
            // Atlassian API tokens are sent with the account e-mail (DESIGN.md §8).
            Some(u) if u.contains('@') => RevokeLink {
                url: "https://id.atlassian.com/manage-profile/security/api-tokens".into(),
                label: "Atlassian account → Security → API tokens".into(),
                note: format!("Sign in to Atlassian as {u} to see it."),
            },
            Some(u) => RevokeLink {
                url: "https://bitbucket.org/account/settings/app-passwords/".into(),
                label: "Bitbucket → Personal settings → App passwords".into(),
                note: format!("Sign in to Bitbucket as {u} to see it."),
            },
            None => {
                let ws = t.destination.workspace.as_deref().unwrap_or_default();
                let ws: String = url::form_urlencoded::byte_serialize(ws.as_bytes()).collect();
                RevokeLink {
                    url: format!("https://bitbucket.org/{ws}/workspace/settings/access-tokens"),
                    label: "Bitbucket → Workspace settings → Access tokens".into(),
                    note: "A repository or project access token is revoked in that repository's \
                           or project's Settings → Access tokens."
                        .into(),
                }
            }
        },
    }
}

/// The stored destination a new value is tested against, in words.
pub fn destination_words(t: &Token) -> String {
    let d = &t.destination;
    let p = d.provider;
    match (p, d.hosting, &d.url, &d.workspace) {
        (Provider::Bitbucket, _, _, Some(w)) => format!("{} workspace {w}", p.label()),
        (_, Hosting::SelfHosted, Some(u), _) => format!("{} at {u}", p.label()),
        _ => p.hosting_label(d.hosting).to_string(),
    }
}

/// Why GitLab self-rotation is not offered for a token whose last test says `status`.
pub fn blocked_text(status: TestStatus) -> String {
    format!(
        "The stored token's last test says “{}”: GitLab cannot rotate a token that is revoked or \
         expired (rotating a revoked token revokes its whole token family). Re-test it, or create \
         a new token at GitLab and enter it above.",
        status.label()
    )
}

/// A stored value that could not be decrypted for a rotation at the provider.
pub fn unreadable_text(e: &CryptoError) -> String {
    format!("{e}. Edit the token and paste its value again, or use Rotate with a new value.")
}

/// What the page calls the new token's account when the provider named none.
pub const UNNAMED_ACCOUNT: &str = "an account the provider did not name";

/// One reason a manual rotation was refused.
/// The refusal list of a rotation page. With the new token's test result on the same page, a
/// failed test is named without repeating the result's reason (it stands right below).
pub fn problem_texts(problems: &[RotationProblem], result_shown: bool) -> Vec<String> {
    problems
        .iter()
        .map(|p| match p {
            RotationProblem::TestFailed { status, .. } if result_shown => format!(
                "The new token did not pass its test ({}): its test result below says why.",
                status.label()
            ),
            p => problem_text(p),
        })
        .collect()
}

pub fn problem_text(p: &RotationProblem) -> String {
    match p {
        RotationProblem::SameValue => {
            "This is the token that is already stored. Create a new token at the provider first, \
             then enter its value here."
                .into()
        }
        RotationProblem::TestFailed { status, reason } => format!(
            "The new token did not pass its test ({}){}.",
            status.label(),
            reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        RotationProblem::LacksPermissions(names) => format!(
            "The new token lacks required permissions the stored token had: {}. Create it with at \
             least the same permissions.",
            names.join(", ")
        ),
        RotationProblem::FewerScopes(scopes) => format!(
            "The new token has fewer permissions than the stored one: it lacks {}. Create it with \
             at least the same scopes.",
            scopes.join(", ")
        ),
        RotationProblem::AccountChanged { old, new } => format!(
            "The new token belongs to {}, but the stored one to {}. If that is intended, tick “The \
             account changes” and submit again.",
            new.as_deref().unwrap_or(UNNAMED_ACCOUNT),
            old.as_deref().unwrap_or_default()
        ),
        RotationProblem::CannotRead {
            repository,
            service,
        } => format!(
            "The new token cannot read {repository}, which the service “{service}” deploys from. \
             Give it access to that repository first."
        ),
        RotationProblem::ReadUnchecked {
            repository,
            service,
            reason,
        } => format!(
            "Could not check that the new token can read {repository} (service “{service}”): \
             {reason}."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{OrgId, TokenId};
    use crate::domain::token::Destination;

    fn token(provider: Provider, hosting: Hosting, url: Option<&str>, hint: &str) -> Token {
        let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
        Token {
            id: TokenId::new("t"),
            org_id: OrgId::new("o"),
            name: "deploy".into(),
            destination: Destination {
                username: None,
                provider,
                hosting,
                url: url.map(str::to_string),
                workspace: (provider == Provider::Bitbucket).then(|| "acme co".to_string()),
            },
            description: None,
            hint: hint.into(),
            status: TestStatus::Valid,
            last_tested_at: None,
            account: None,
            expires_at: None,
            expiry_source: None,
            created_by: None,
            created_at: at,
            updated_by: None,
            updated_at: at,
            rotated_at: None,
            version: 1,
        }
    }

    #[test]
    fn a_failed_test_is_not_explained_twice_when_its_result_is_shown() {
        let failed = [RotationProblem::TestFailed {
            status: TestStatus::Invalid,
            reason: Some("Bad credentials".into()),
        }];
        let with_result = problem_texts(&failed, true);
        assert_eq!(with_result.len(), 1);
        assert!(
            !with_result[0].contains("Bad credentials"),
            "{with_result:?}"
        );
        assert!(with_result[0].contains("test result below"));
        assert!(problem_texts(&failed, false)[0].contains("Bad credentials"));
    }

    #[test]
    fn revoke_links_point_at_the_token_pages_of_its_server() {
        let gitlab = url::Url::parse("https://gitlab.example.com/").unwrap();
        let ghes = token(
            Provider::Github,
            Hosting::SelfHosted,
            Some("https://ghe.corp/"),
            "ghp_…1234",
        );
        assert_eq!(
            revoke_link(&ghes, &ghes.hint, None, &gitlab).url,
            "https://ghe.corp/settings/tokens"
        );
        let fine = token(Provider::Github, Hosting::Cloud, None, "github_pat_…1234");
        assert_eq!(
            revoke_link(&fine, &fine.hint, None, &gitlab).url,
            "https://github.com/settings/personal-access-tokens"
        );
        let gl = token(Provider::Gitlab, Hosting::Cloud, None, "glpat-…1234");
        assert_eq!(
            revoke_link(&gl, &gl.hint, Some("personal access token"), &gitlab).url,
            "https://gitlab.example.com/-/user_settings/personal_access_tokens"
        );
        let bb = token(Provider::Bitbucket, Hosting::Cloud, None, "…1234");
        assert_eq!(
            revoke_link(&bb, &bb.hint, None, &gitlab).url,
            "https://bitbucket.org/acme+co/workspace/settings/access-tokens"
        );
        assert_eq!(destination_words(&bb), "Bitbucket workspace acme co");
        // By the kind of the replaced value: a classic value replaced by a fine-grained one is
        // revoked on the classic page; GitLab project/group tokens live in their project;
        // Bitbucket API tokens at Atlassian, app passwords in the personal settings.
        let now_fine = token(Provider::Github, Hosting::Cloud, None, "github_pat_…9999");
        assert_eq!(
            revoke_link(&now_fine, "ghp_…1234", None, &gitlab).url,
            "https://github.com/settings/tokens"
        );
        let bot = revoke_link(
            &gl,
            &gl.hint,
            Some("project or group access token"),
            &gitlab,
        );
        assert!(bot.label.contains("project or group"), "{bot:?}");
        let mut api = bb.clone();
        api.destination.username = Some("ops@acme.test".into());
        assert_eq!(
            revoke_link(&api, "…1234", None, &gitlab).url,
            "https://id.atlassian.com/manage-profile/security/api-tokens"
        );
        let mut app_pw = bb.clone();
        app_pw.destination.username = Some("acme-ops".into());
        assert!(
            revoke_link(&app_pw, "…1234", None, &gitlab)
                .url
                .ends_with("/app-passwords/")
        );
        assert_eq!(destination_words(&ghes), "GitHub at https://ghe.corp/");
    }
}

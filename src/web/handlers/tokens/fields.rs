//! The provider-specific part of the token form: hosting, server URL, workspace and what the
//! token needs. Rendered inside the form, and alone for HTMX when provider or hosting changes.

use crate::domain::provider::{Hosting, Provider};
use crate::web::forms::FormErrors;
use crate::web::view::token_help::{self, HelpLink, Piece, pieces};

/// Values the form shows (never the token).
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    pub provider: String,
    pub hosting: String,
    pub name: String,
    pub url: String,
    pub workspace: String,
    pub username: String,
    pub description: String,
    pub expires_on: String,
}

impl FormValues {
    pub fn from_form(f: &crate::web::forms::token::TokenFormData) -> FormValues {
        FormValues {
            provider: f.provider.trim().to_string(),
            hosting: f.hosting.trim().to_string(),
            name: f.name.clone(),
            url: without_credentials(&f.url),
            workspace: f.workspace.clone(),
            username: f.username.clone(),
            description: f.description.clone(),
            expires_on: f.expires_on.clone(),
        }
    }
}

/// A URL typed with `user:password@` is not echoed back into the page (it may hold a secret).
fn without_credentials(raw: &str) -> String {
    match url::Url::parse(raw.trim()) {
        Ok(u) if !u.username().is_empty() || u.password().is_some() => String::new(),
        _ => raw.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct ProviderFields {
    pub provider: &'static str,
    pub provider_label: &'static str,
    pub hosting: &'static str,
    pub show_hosting: bool,
    pub cloud_label: &'static str,
    pub self_hosted_label: &'static str,
    pub show_url: bool,
    pub url_label: &'static str,
    pub url_placeholder: &'static str,
    pub show_workspace: bool,
    /// Bitbucket: the optional username of API tokens and app passwords.
    pub show_username: bool,
    /// Where to create the token and what to tick, in plain words (names as code).
    pub how_to: Vec<Vec<Piece>>,
    /// Links to the provider's page that creates such a token, pre-filled where it allows, for
    /// the cloud or for the server URL / workspace typed on the form.
    pub links: Vec<HelpLink>,
    pub token_placeholder: &'static str,
    pub expiry_hint: &'static str,
}

impl ProviderFields {
    /// Fields for the chosen provider and hosting, with help links for the typed server `url`
    /// and `workspace`; unknown values fall back to GitHub / cloud.
    pub fn new(provider: &str, hosting: &str, url: &str, workspace: &str) -> ProviderFields {
        let provider = Provider::parse(provider).unwrap_or(Provider::Github);
        let mut hosting = Hosting::parse(hosting).unwrap_or(Hosting::Cloud);
        if !provider.supports_self_hosted() {
            hosting = Hosting::Cloud;
        }
        let self_hosted = hosting == Hosting::SelfHosted;
        let (url_label, url_placeholder) = match provider {
            Provider::Github => ("GitHub Enterprise Server URL", "https://github.company.com"),
            _ => (
                "GitLab server URL",
                "https://gitlab.company.com or https://dev.company.com/gitlab",
            ),
        };
        let how_to = match provider {
            Provider::Github => vec![
                "Create a classic token at Settings → Developer settings → Personal access tokens (classic) and tick `repo` and `admin:repo_hook` (and `read:org` if the account belongs to organizations).",
                "Fine-grained tokens (`github_pat_…`) work too: give them Contents, Metadata, Pull requests and Webhooks on the repositories you deploy.",
            ],
            Provider::Gitlab => vec![
                "Create a personal, project or group access token with the `api` and `read_repository` scopes (project and group tokens: the project's or group's Settings → Access tokens).",
                "The token's user needs the Maintainer or Owner role on the projects you deploy.",
            ],
            Provider::Bitbucket => vec![
                "A repository, project or workspace access token (Repository, Project or Workspace settings → Access tokens): give it Repositories: Read, Pull requests: Write and Webhooks: Read and write, and leave Username empty.",
                "An Atlassian API token (Atlassian account settings → Security → Create API token with scopes → Bitbucket): tick `read:repository:bitbucket`, `read:pullrequest:bitbucket`, `write:pullrequest:bitbucket`, `read:webhook:bitbucket` and `write:webhook:bitbucket`, and enter your Atlassian account e-mail as Username.",
                "An app password: enter your Bitbucket username as Username. Bitbucket turned app passwords off on 2026-06-09, so create an API token instead.",
            ],
        }
        .into_iter()
        .map(pieces)
        .collect();
        let links = token_help::links(provider, hosting, url, workspace);
        ProviderFields {
            links,
            provider: provider.as_str(),
            provider_label: provider.label(),
            hosting: hosting.as_str(),
            show_hosting: provider.supports_self_hosted(),
            cloud_label: provider.hosting_label(Hosting::Cloud),
            self_hosted_label: provider.hosting_label(Hosting::SelfHosted),
            show_url: self_hosted,
            url_label,
            url_placeholder,
            show_workspace: provider == Provider::Bitbucket,
            show_username: provider == Provider::Bitbucket,
            how_to,
            token_placeholder: match provider {
                Provider::Github => "ghp_… or github_pat_…",
                Provider::Gitlab => "glpat-…",
                Provider::Bitbucket => "Access token, API token (ATATT…) or app password",
            },
            expiry_hint: match provider {
                Provider::Bitbucket => {
                    "Bitbucket does not report expiry dates: enter it so Forgekeys can warn you."
                }
                _ => "Only if the provider does not report it; the test reads it where it can.",
            },
        }
    }
}

#[derive(askama::Template)]
#[template(path = "pages/tokens/fields.html")]
pub struct FieldsFragment {
    pub slug: String,
    pub fields: ProviderFields,
    pub f: FormValues,
    pub errors: FormErrors,
}

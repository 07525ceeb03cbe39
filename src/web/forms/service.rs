//! The service form (DESIGN.md §7: `name`, `kind`, `provider`, `access`, `token_id`,
//! `repository`, `branch`): the query string of a step or the POST body, and its parsing.

use crate::app::services::pickers::Draft;
use crate::app::services::write::ServiceInput;
use crate::domain::ids::TokenId;
use crate::domain::provider::Provider;
use crate::domain::service::{Access, NAME_MAX, ServiceKind};
use crate::web::forms::FormErrors;

/// The form's fields (query string of a step, or the POST body).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub access: String,
    #[serde(default)]
    pub token_id: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub branch: String,
}

impl ServiceForm {
    pub fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.kind,
            &self.provider,
            &self.access,
            &self.token_id,
            &self.repository,
            &self.branch,
            &self.q,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }

    pub fn page(&self) -> u32 {
        self.page
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=1000).contains(p))
            .unwrap_or(1)
    }

    /// Defaults for a new form, and trimmed values.
    pub fn normalized(mut self) -> ServiceForm {
        for v in [
            &mut self.name,
            &mut self.kind,
            &mut self.provider,
            &mut self.access,
            &mut self.token_id,
            &mut self.q,
            &mut self.repository,
            &mut self.branch,
        ] {
            *v = v.trim().to_string();
        }
        if self.kind.is_empty() {
            self.kind = "application".into();
        }
        if self.access.is_empty() {
            self.access = "token".into();
        }
        self.q = self.q.chars().take(100).collect();
        self
    }

    pub fn token(&self) -> Option<TokenId> {
        (!self.token_id.is_empty()).then(|| TokenId::new(self.token_id.clone()))
    }

    /// The choices of a step, and the messages for values the form does not know.
    pub fn draft(&self) -> (Draft, FormErrors) {
        let mut errors = FormErrors::default();
        let provider = match self.provider.as_str() {
            "" => None,
            p => Provider::parse(p).or_else(|| {
                errors.add("provider", "Choose GitHub, GitLab or Bitbucket.");
                None
            }),
        };
        let access = Access::parse(&self.access);
        if access.is_none() {
            errors.add("access", "Choose how the service reaches Git.");
        }
        let draft = Draft {
            provider,
            access,
            token_id: self.token(),
            q: (!self.q.is_empty()).then(|| self.q.clone()),
            page: self.page(),
            repository: self.repository.clone(),
            branch: self.branch.clone(),
        };
        (draft, errors)
    }

    /// The posted service, or the messages of the fields that are not acceptable as typed.
    pub fn input(&self) -> Result<ServiceInput, FormErrors> {
        let mut e = FormErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            e.add("name", "Enter a name for the service.");
        } else if name.chars().count() > NAME_MAX {
            e.add("name", "The name is too long (at most 100 characters).");
        } else if name.chars().any(char::is_control) {
            e.add("name", "The name must not contain control characters.");
        }
        let kind = ServiceKind::parse(&self.kind);
        if kind.is_none() {
            e.add("kind", "Choose application, cron job or Helm chart.");
        }
        let access = Access::parse(&self.access);
        if access.is_none() {
            e.add("access", "Choose how the service reaches Git.");
        }
        match (kind, access) {
            (Some(kind), Some(access)) if e.is_empty() => Ok(ServiceInput {
                name: name.to_string(),
                kind,
                access,
                // Not a known provider: the token's, or "choose a provider".
                provider: Provider::parse(&self.provider),
                token_id: self.token().filter(|_| access == Access::Token),
                repository: self.repository.clone(),
                branch: self.branch.clone(),
            }),
            _ => Err(e),
        }
    }
}

//! Create and edit a service: the form's fields, their parsing, and the words for what
//! `app::services::write` refuses. Each step of the form is a GET that renders the next one
//! with the earlier choices kept ([`super::pickers`]).
//!
//! The form's POST button carries the CSRF token as its own value (`name="csrf_token"`), so the
//! GET "Continue" steps never put the token in a URL.

use super::pickers::{Editing, build_page};
use super::service_id;
use crate::app;
use crate::app::services::pickers::{Draft, edit_form, form};
use crate::app::services::write::{Created, Problem, ServiceInput, Updated};
use crate::domain::ids::TokenId;
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::service::{Access, NAME_MAX, ServiceKind};
use crate::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::render::{html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::service::unusable_text;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

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
    fn is_blank(&self) -> bool {
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
    fn input(&self) -> Result<ServiceInput, FormErrors> {
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

/// The decrypted-value failure in words.
pub fn undecryptable(e: &crate::crypto::secret_box::CryptoError) -> String {
    format!(
        "The stored token could not be decrypted ({e}). Edit the token and paste its value again."
    )
}

/// What the use case refused, next to the fields.
fn problem_errors(problems: &[Problem]) -> FormErrors {
    let mut e = FormErrors::default();
    for p in problems {
        match p {
            Problem::TokenMissing => e.add(
                "token_id",
                "Choose the organization token the service deploys with.",
            ),
            Problem::TokenNotFound => {
                e.add("token_id", "Choose one of this organization's tokens.")
            }
            Problem::TokenUnusable { name, why } => e.add(
                "token_id",
                format!(
                    "“{name}” cannot be used: {}. Choose another token.",
                    unusable_text(*why)
                ),
            ),
            Problem::TokenOtherProvider => e.add(
                "token_id",
                "This token is for another provider than the one chosen.",
            ),
            Problem::ProviderMissing => e.add("provider", "Choose GitHub, GitLab or Bitbucket."),
            Problem::GithubAppNotGithub => {
                e.add("access", "The GitHub App only reaches GitHub repositories.")
            }
            Problem::RepositoryInvalid(m) => e.add("repository", m.clone()),
            Problem::BranchInvalid(m) => e.add("branch", m.clone()),
            Problem::TokenUndecryptable(err) => e.add("token_id", undecryptable(err)),
            Problem::RepositoryUnreadable { token, repository } => e.add(
                "repository",
                format!("“{token}” cannot read {repository}. Choose a repository from the list."),
            ),
            Problem::RepositoryRefused(err) => e.add("repository", err.to_string()),
            Problem::RepositoryCheckFailed { token, error } => e.add(
                "repository",
                format!("Could not check the repository with “{token}”: {error}"),
            ),
        }
    }
    e
}

fn name_taken() -> FormErrors {
    let mut errors = FormErrors::default();
    errors.add(
        "name",
        "A service with this name already exists in this organization. Choose another name.",
    );
    errors
}

/// The form again with the messages, 422.
async fn invalid(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    f: ServiceForm,
    editing: Option<&crate::domain::ids::ServiceId>,
    mut errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let (draft, step_errors) = f.draft();
    for (field, msg) in step_errors.0 {
        errors.add(field, msg);
    }
    let page = match editing {
        None => build_page(
            req,
            ctx,
            f,
            form(state, &ctx.member, draft).await?,
            None,
            errors,
        ),
        Some(id) => {
            let (s, p) = edit_form(state, &ctx.member, id, Some(draft)).await?;
            build_page(req, ctx, f, p, Some(Editing::of(&s)), errors)
        }
    };
    Ok(html_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        page.render()?,
    ))
}

/// `GET /orgs/{org}/services/new`: the form, or its next step.
pub async fn new_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    let f = query.into_inner().normalized();
    let (draft, errors) = f.draft();
    let pickers = form(&state, &ctx.member, draft).await?;
    let page = build_page(&req, &ctx, f, pickers, None, errors);
    Ok(html(&req, page.render()?))
}

/// `POST /orgs/{org}/services`.
pub async fn create_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageServices)?;
    let f = form.0.normalized();
    let input = match f.input() {
        Ok(i) => i,
        Err(errors) => return invalid(&req, &state, &ctx, f, None, errors).await,
    };
    match app::services::write::create(&state, &ctx.member, input).await? {
        Created::Saved(s) => Ok(see_other_with_flash(
            &req,
            &urls::service(&ctx.org.slug, s.id.as_str()),
            &format!("Service “{}” added.", s.name),
        )),
        Created::NameTaken => invalid(&req, &state, &ctx, f, None, name_taken()).await,
        Created::Refused(p) => invalid(&req, &state, &ctx, f, None, problem_errors(&p)).await,
    }
}

/// `GET /orgs/{org}/services/{id}/edit` (with a query: the next step of the edit).
pub async fn edit_service_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    query: web::Query<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let (draft, errors, f) = if q.is_blank() {
        (None, FormErrors::default(), None)
    } else {
        let f = q.normalized();
        let (d, e) = f.draft();
        (Some(d), e, Some(f))
    };
    let (s, pickers) = edit_form(&state, &ctx.member, &service_id(&path), draft).await?;
    let f = f.unwrap_or_else(|| ServiceForm {
        name: s.name.clone(),
        kind: s.kind.as_str().to_string(),
        provider: s.provider.as_str().to_string(),
        access: s.access.as_str().to_string(),
        token_id: s
            .token_id
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        repository: s.repository.clone(),
        branch: s.branch.clone(),
        ..ServiceForm::default()
    });
    let page = build_page(&req, &ctx, f, pickers, Some(Editing::of(&s)), errors);
    Ok(html(&req, page.render()?))
}

/// `POST /orgs/{org}/services/{id}/edit`.
pub async fn update_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageServices)?;
    let id = service_id(&path);
    let f = form.0.normalized();
    let input = match f.input() {
        Ok(i) => i,
        Err(errors) => return invalid(&req, &state, &ctx, f, Some(&id), errors).await,
    };
    match app::services::write::update(&state, &ctx.member, &id, input).await? {
        Updated::Saved { service, changed } => Ok(see_other_with_flash(
            &req,
            &urls::service(&ctx.org.slug, service.id.as_str()),
            &if changed.is_empty() {
                "Nothing changed.".to_string()
            } else {
                format!("Service “{}” saved.", service.name)
            },
        )),
        Updated::NameTaken => invalid(&req, &state, &ctx, f, Some(&id), name_taken()).await,
        Updated::Refused(p) => invalid(&req, &state, &ctx, f, Some(&id), problem_errors(&p)).await,
    }
}

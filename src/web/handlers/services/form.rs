//! Create and edit a service: the form's fields, their parsing, and the words for what
//! `app::services::write` refuses. Each step of the form is a GET that renders the next one
//! with the earlier choices kept ([`super::pickers`]).
//!
//! The form's POST button carries the CSRF token as its own value (`name="csrf_token"`), so the
//! GET "Continue" steps never put the token in a URL.

use super::pickers::{Editing, build_page};
use super::service_id;
use crate::app;
use crate::app::services::pickers::{edit_form, form};
use crate::app::services::write::{Created, Problem, Updated};
use crate::app::state::AppState;
use crate::domain::role::Permission;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::forms::service::ServiceForm;
use crate::web::render::{html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::service::{undecryptable, unusable_text};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// What the use case refused, next to the fields.
pub(crate) fn problem_errors(problems: &[Problem]) -> FormErrors {
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

pub(crate) fn name_taken() -> FormErrors {
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

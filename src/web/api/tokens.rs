//! `/api/v1/orgs/{org}/git-tokens…`: the token list, create (tested first, as the form), read,
//! patch (only the fields named; a new value is tested), delete (409 while services use it),
//! re-test and move. The same parsing, messages and use cases as the pages.

use super::auth::ApiMember;
use super::input::{ApiJson, query};
use super::problem::{ApiError, Problem};
use super::types::{
    MoveIn, MoveOut, TestAnswer, TokenCreate, TokenOut, TokenPage, TokenPatch, Verdict, pages,
};
use crate::app;
use crate::app::moves::{MoveRequest, Moved};
use crate::app::state::AppState;
use crate::app::tokens::write::{Created, Edit, Updated};
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::role::Permission;
use crate::domain::token::TokenInput;
use crate::web::forms::FormErrors;
use crate::web::forms::token::{TokenFormData, parse_fields, parse_token_value};
use crate::web::handlers::services::moves::{On, refusal_text};
use crate::web::handlers::tokens::form::{needs_token_message, validation_options};
use crate::web::handlers::tokens::save::{duplicate_error, not_saved_notice, token_error};
use crate::web::handlers::tokens::{ListQuery, PAGE_SIZE};
use crate::web::urls;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

fn invalid(errors: FormErrors) -> ApiError {
    ApiError::Invalid {
        detail: "Nothing was saved: correct the fields named in `errors`.".into(),
        errors,
    }
}

fn id_of(path: &web::Path<(String, String)>) -> TokenId {
    TokenId::new(path.1.clone())
}

async fn out(state: &AppState, member: &ApiMember, id: &TokenId) -> Result<TokenOut, ApiError> {
    let l = app::tokens::find(state, &member.0, id).await?;
    Ok(TokenOut::from(&l))
}

/// List the organization's tokens.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/git-tokens", tag = "git-tokens",
    params(("org" = String, Path, description = "Organization slug"),
        ("q" = Option<String>, Query, description = "Name contains"),
        ("provider" = Option<String>, Query, description = "github, gitlab or bitbucket"),
        ("status" = Option<String>, Query, description = "A test status, or attention"),
        ("page" = Option<i64>, Query, description = "Page, from 1")),
    responses((status = 200, body = TokenPage), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    member: ApiMember,
) -> Result<web::Json<TokenPage>, ApiError> {
    let q: ListQuery = query(&req)?;
    let filter = q.filter()?;
    let page = q.page();
    let list = app::tokens::list(&state, &member.0, filter, page, PAGE_SIZE).await?;
    Ok(web::Json(TokenPage {
        items: list.items.iter().map(TokenOut::from).collect(),
        total: list.total,
        page,
        per_page: PAGE_SIZE,
        pages: pages(list.total, PAGE_SIZE),
    }))
}

/// Add a token: tested first, saved only if the test passes (or, with `save_anyway`, when
/// only permissions are missing).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/git-tokens", tag = "git-tokens",
    params(("org" = String, Path, description = "Organization slug")),
    request_body = TokenCreate,
    responses((status = 201, body = TestAnswer), (status = 422, body = Problem, content_type = "application/problem+json"), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_token(
    state: web::Data<AppState>,
    member: ApiMember,
    body: ApiJson<TokenCreate>,
) -> Result<HttpResponse, ApiError> {
    app::require(&member.0, Permission::ManageTokens)?;
    let b = body.0;
    let form = TokenFormData {
        provider: b.provider,
        hosting: b.hosting.unwrap_or_default(),
        name: b.name,
        token: b.token,
        url: b.url.unwrap_or_default(),
        workspace: b.workspace.unwrap_or_default(),
        username: b.username.unwrap_or_default(),
        description: b.description.unwrap_or_default(),
        expires_on: b.expires_on.unwrap_or_default(),
        save_anyway: String::new(),
        version: String::new(),
    };
    let input = parse_fields(&form, validation_options(&state, true)).map_err(invalid)?;
    let secret = parse_token_value(&form.token).map_err(|m| invalid(token_error(m)))?;
    let name = input.name.clone();
    match app::tokens::write::create(&state, &member.0, input, secret, b.save_anyway).await? {
        Created::Saved { token, outcome } => {
            let body = TestAnswer {
                token: out(&state, &member, &token.id).await?,
                verdict: Verdict::from(&outcome),
            };
            Ok(HttpResponse::Created()
                .insert_header((
                    header::LOCATION,
                    urls::api_token(&member.0.org.slug, token.id.as_str()),
                ))
                .json(body))
        }
        Created::NameTaken => Err(invalid(duplicate_error(&name))),
        Created::NotSaved(o) => Err(ApiError::NotSaved {
            detail: not_saved_notice(&o),
            outcome: Box::new(o),
        }),
    }
}

/// One token.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/git-tokens/{id}", tag = "git-tokens",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Token id")),
    responses((status = 200, body = TokenOut), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn show_token(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
) -> Result<web::Json<TokenOut>, ApiError> {
    Ok(web::Json(out(&state, &member, &id_of(&path)).await?))
}

fn overlay(current: TokenInput, p: &TokenPatch) -> TokenFormData {
    let or = |new: &Option<Option<String>>, old: Option<String>| match new {
        Some(v) => v.clone().unwrap_or_default(),
        None => old.unwrap_or_default(),
    };
    TokenFormData {
        provider: p
            .provider
            .clone()
            .unwrap_or_else(|| current.provider.as_str().into()),
        hosting: p
            .hosting
            .clone()
            .unwrap_or_else(|| current.hosting.as_str().into()),
        name: p.name.clone().unwrap_or(current.name),
        token: p.token.clone().unwrap_or_default(),
        url: or(&p.url, current.url),
        workspace: or(&p.workspace, current.workspace),
        username: or(&p.username, current.username),
        description: or(&p.description, current.description),
        expires_on: or(
            &p.expires_on,
            current.expires_on.map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        save_anyway: String::new(),
        version: String::new(),
    }
}

/// Change a token: only the fields named. A new `token` is tested first; a new destination
/// needs a new `token`.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/git-tokens/{id}", tag = "git-tokens",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Token id")),
    request_body = TokenPatch,
    responses((status = 200, body = TokenOut), (status = 422, body = Problem, content_type = "application/problem+json"), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn patch_token(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
    body: ApiJson<TokenPatch>,
) -> Result<web::Json<TokenOut>, ApiError> {
    app::require(&member.0, Permission::ManageTokens)?;
    let id = id_of(&path);
    let current = app::tokens::find(&state, &member.0, &id).await?;
    let p = body.0;
    let form = overlay(TokenInput::of(&current.token), &p);
    let input = parse_fields(&form, validation_options(&state, false)).map_err(invalid)?;
    let new_secret = match form.token.trim() {
        "" if p.token.is_some() => {
            return Err(invalid(token_error("Paste the token value.".into())));
        }
        "" => None,
        raw => Some(parse_token_value(raw).map_err(|m| invalid(token_error(m)))?),
    };
    let name = input.name.clone();
    let edit = Edit {
        input,
        new_secret,
        save_anyway: p.save_anyway,
        version: Some(current.token.version),
    };
    match app::tokens::write::update(&state, &member.0, &id, edit).await? {
        Updated::Saved { token, .. } => Ok(web::Json(out(&state, &member, &token.id).await?)),
        Updated::NeedsToken => Err(invalid(token_error(needs_token_message()))),
        Updated::NameTaken => Err(invalid(duplicate_error(&name))),
        Updated::NotSaved(o) => Err(ApiError::NotSaved {
            detail: not_saved_notice(&o),
            outcome: Box::new(o),
        }),
    }
}

/// Delete a token no service uses (409 while services use it: move them first).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/git-tokens/{id}", tag = "git-tokens",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Token id")),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json"), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete_token(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    app::tokens::write::delete(&state, &member.0, &id_of(&path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Re-test the stored token and record the result.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/git-tokens/{id}/test", tag = "git-tokens",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Token id")),
    responses((status = 200, body = TestAnswer), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn test_token(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
) -> Result<web::Json<TestAnswer>, ApiError> {
    let r = app::tokens::test::retest(&state, &member.0, &id_of(&path)).await?;
    Ok(web::Json(TestAnswer {
        token: TokenOut::from(&r.listed),
        verdict: Verdict::from(&r.outcome),
    }))
}

/// Move services of this token to another token of the same provider and server.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/git-tokens/{id}/move", tag = "git-tokens",
    params(("org" = String, Path, description = "Organization slug"), ("id" = String, Path, description = "Token id the services use now")),
    request_body = MoveIn,
    responses((status = 200, body = MoveOut), (status = 422, body = Problem, content_type = "application/problem+json"), (status = "4XX", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn move_services(
    state: web::Data<AppState>,
    member: ApiMember,
    path: web::Path<(String, String)>,
    body: ApiJson<MoveIn>,
) -> Result<web::Json<MoveOut>, ApiError> {
    let b = body.0;
    let request = MoveRequest {
        target: Some(TokenId::new(b.target_token_id.trim().to_string()))
            .filter(|t| !t.as_str().is_empty()),
        services: b.service_ids.into_iter().map(ServiceId::new).collect(),
    };
    match app::moves::move_services(&state, &member.0, &id_of(&path), request).await? {
        Moved::Done {
            target,
            moved,
            remaining,
            ..
        } => Ok(web::Json(MoveOut {
            moved,
            remaining,
            target_token_id: target.id.as_str().to_string(),
        })),
        Moved::Refused { refusal, .. } => {
            let (text, repos) = refusal_text(&refusal, On::Token);
            let mut errors = FormErrors::default();
            let text = if repos.is_empty() {
                text
            } else {
                format!("{text} ({})", repos.join(", "))
            };
            errors.add(refusal_field(&refusal), text);
            Err(ApiError::Invalid {
                detail: "Nothing was moved.".into(),
                errors,
            })
        }
    }
}

fn refusal_field(r: &app::moves::Refusal) -> &'static str {
    use app::moves::Refusal;
    match r {
        Refusal::NoServices | Refusal::NotUsingToken | Refusal::NotLegacy => "service_ids",
        _ => "target_token_id",
    }
}

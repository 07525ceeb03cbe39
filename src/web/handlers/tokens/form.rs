//! Add, edit and test-before-save (DESIGN.md §2, §4).
//!
//! Create and an edit with a new token value test the token first and save only a passing one
//! (`valid`, or `missing_permissions` when the admin ticks "save anyway"). An edit that changes
//! provider, hosting, URL or workspace requires the token value again, so a stored token is never
//! sent to a destination other than the one it was tested with.

use super::fields::{FieldsFragment, FormValues, ProviderFields};
use super::views::{ResultView, fmt_date};
use super::{list_url, load_token, token_url};
use crate::db::models::service::Service;
use crate::db::models::token::GitToken;
use crate::domain::role::Permission;
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::domain::token_form::{
    FormErrors, TokenFormData, TokenInput, ValidationOptions, parse_fields, parse_token_value,
};
use crate::providers::TokenTarget;
use crate::state::AppState;
use crate::tokens::{self, TokenError};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::htmx;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

/// Editing an existing token (`None` for the add form).
pub struct Editing {
    pub id: String,
    pub name: String,
    pub services: i64,
    pub hint: String,
}

#[derive(Template)]
#[template(path = "pages/tokens/form.html")]
pub struct TokenFormPage {
    pub layout: Layout,
    pub slug: String,
    pub editing: Option<Editing>,
    pub action_url: String,
    pub test_url: String,
    pub fields_url: String,
    pub providers: Vec<super::Choice>,
    pub fields: ProviderFields,
    pub f: FormValues,
    pub errors: FormErrors,
    pub result: Option<ResultView>,
    pub offer_save_anyway: bool,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/tokens/result.html")]
pub struct ResultFragment {
    pub result: ResultView,
}

fn validation_options(state: &AppState, token_required: bool) -> ValidationOptions {
    ValidationOptions {
        allow_http: !state.config.outbound_allow.is_empty(),
        token_required,
    }
}

fn target_of(input: &TokenInput) -> TokenTarget {
    TokenTarget {
        provider: input.provider,
        hosting: input.hosting,
        url: input.url.clone(),
        workspace: input.workspace.clone(),
        username: input.username.clone(),
    }
}

fn form_page(
    req: &HttpRequest,
    ctx: &OrgContext,
    editing: Option<Editing>,
    f: FormValues,
    errors: FormErrors,
    result: Option<&TestOutcome>,
    notice: Option<String>,
) -> TokenFormPage {
    let slug = ctx.org.slug.clone();
    let base = list_url(&slug);
    let (title, action_url) = match &editing {
        Some(e) => (format!("Edit {}", e.name), token_url(&slug, &e.id)),
        None => ("Add a Git token".to_string(), base.clone()),
    };
    TokenFormPage {
        layout: Layout::for_org(req, ctx, title, "tokens"),
        providers: super::provider_choices(&f.provider),
        fields: ProviderFields::new(&f.provider, &f.hosting),
        offer_save_anyway: result.is_some_and(|r| r.status == TestStatus::MissingPermissions),
        result: result.map(|r| ResultView::new(r, r.tested_at)),
        slug,
        editing,
        action_url,
        test_url: format!("{base}/test"),
        fields_url: format!("{base}/new"),
        f,
        errors,
        notice,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    hosting: String,
}

/// `GET …/git-tokens/new[?provider=&hosting=]`: the add form, or only the provider-specific
/// fields when HTMX asks for them (`HX-Target: provider-fields`).
pub async fn new_token_form(
    req: HttpRequest,
    ctx: OrgContext,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let f = FormValues {
        provider: if q.provider.is_empty() {
            "github".into()
        } else {
            q.provider.clone()
        },
        hosting: if q.hosting.is_empty() {
            "cloud".into()
        } else {
            q.hosting.clone()
        },
        ..Default::default()
    };
    if htmx::is_htmx(&req) && htmx::target(&req) == Some("provider-fields") {
        let frag = FieldsFragment {
            slug: ctx.org.slug.clone(),
            fields: ProviderFields::new(&f.provider, &f.hosting),
            f,
            errors: FormErrors::default(),
        };
        return Ok(html(&req, frag.render()?));
    }
    Ok(html(
        &req,
        form_page(&req, &ctx, None, f, FormErrors::default(), None, None).render()?,
    ))
}

async fn editing_of(state: &web::Data<AppState>, t: &GitToken) -> Result<Editing, AppError> {
    let st = state.clone();
    let id = t.id.clone();
    let services = web::block(move || {
        let mut conn = st.conn()?;
        Service::using_token(&mut conn, &id)
    })
    .await??
    .len() as i64;
    Ok(Editing {
        id: t.id.clone(),
        name: t.name.clone(),
        services,
        hint: t.hint.clone(),
    })
}

fn values_of(t: &GitToken) -> FormValues {
    FormValues {
        provider: t.provider.clone(),
        hosting: t.hosting.clone(),
        name: t.name.clone(),
        url: t.url.clone().unwrap_or_default(),
        workspace: t.workspace.clone().unwrap_or_default(),
        username: t.username.clone().unwrap_or_default(),
        description: t.description.clone().unwrap_or_default(),
        expires_on: match t.expiry_source.as_deref() {
            Some("admin") => t.expires_at.map(fmt_date).unwrap_or_default(),
            _ => String::new(),
        },
    }
}

pub async fn edit_token_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let t = load_token(&state, &ctx, &path.1).await?;
    let editing = editing_of(&state, &t).await?;
    Ok(html(
        &req,
        form_page(
            &req,
            &ctx,
            Some(editing),
            values_of(&t),
            FormErrors::default(),
            None,
            None,
        )
        .render()?,
    ))
}

/// Form fields plus the hidden `token_id` of the edit form (so a no-JS test re-renders it).
#[derive(Debug, Default, serde::Deserialize)]
pub struct TestFormData {
    #[serde(flatten)]
    pub form: TokenFormData,
    #[serde(default)]
    pub token_id: String,
    /// No-JS "Show fields for this provider": re-render the form, test nothing.
    #[serde(default)]
    pub refresh: String,
}

/// `POST …/git-tokens/test`: test the submitted values without saving.
pub async fn test_new(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<TestFormData>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let TestFormData {
        form,
        token_id,
        refresh,
    } = form.0;
    let editing = if token_id.is_empty() {
        None
    } else {
        let t = load_token(&state, &ctx, &token_id).await?;
        Some(editing_of(&state, &t).await?)
    };
    let values = FormValues::from_form(&form);
    if !refresh.is_empty() {
        let page = form_page(
            &req,
            &ctx,
            editing,
            values,
            FormErrors::default(),
            None,
            None,
        );
        return Ok(html(&req, page.render()?));
    }
    let mut opts = validation_options(&state, true);
    opts.token_required = true;
    let parsed = parse_fields(&form, opts);
    let outcome = match &parsed {
        Ok(input) => match parse_token_value(&form.token) {
            Ok(secret) => Some(
                state
                    .providers
                    .test_token(&target_of(input), &secret, input.known_expiry())
                    .await,
            ),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let errors = parsed.err().unwrap_or_default();
    if htmx::is_htmx(&req) {
        return match outcome {
            Some(o) => Ok(html(
                &req,
                ResultFragment {
                    result: ResultView::new(&o, o.tested_at),
                }
                .render()?,
            )),
            None => {
                let msg = errors
                    .0
                    .iter()
                    .map(|(k, v)| format!("{}: {v}", field_label(k)))
                    .collect::<Vec<_>>()
                    .join(" ");
                Ok(html_status(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ValidationFragment {
                        message: format!("Fix the form before testing. {msg}"),
                    }
                    .render()?,
                ))
            }
        };
    }
    let page = form_page(&req, &ctx, editing, values, errors, outcome.as_ref(), Some(
        "Tested without saving. Paste the token again to save it (Forgekeys never sends a token back to the browser).".into(),
    ));
    Ok(html(&req, page.render()?))
}

#[derive(Template)]
#[template(path = "pages/tokens/validation.html")]
pub struct ValidationFragment {
    pub message: String,
}

pub fn field_label(field: &str) -> &str {
    match field {
        "provider" => "Provider",
        "hosting" => "Hosting",
        "name" => "Name",
        "token" => "Token",
        "url" => "Server URL",
        "workspace" => "Workspace",
        "username" => "Username",
        "description" => "Description",
        "expires_on" => "Expiry date",
        other => other,
    }
}

fn rerender(
    req: &HttpRequest,
    ctx: &OrgContext,
    editing: Option<Editing>,
    form: &TokenFormData,
    errors: FormErrors,
    outcome: Option<&TestOutcome>,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let page = form_page(
        req,
        ctx,
        editing,
        FormValues::from_form(form),
        errors,
        outcome,
        notice,
    );
    Ok(html_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        page.render()?,
    ))
}

/// Whether a test outcome lets the token be saved.
fn may_save(outcome: &TestOutcome, save_anyway: bool) -> bool {
    outcome.passes() || (outcome.status == TestStatus::MissingPermissions && save_anyway)
}

fn not_saved_notice(outcome: &TestOutcome) -> String {
    match outcome.status {
        TestStatus::MissingPermissions => "Not saved: the token lacks required permissions. Fix them at the provider and paste the token again, or tick “Save anyway” and save again.".into(),
        _ => format!("Not saved: the token test failed ({}). Check the token and try again.", outcome.status.label()),
    }
}

/// `POST …/git-tokens`: validate, test, save only if the test passes, 303 to the list.
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<TokenFormData>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let form = form.0;
    let input = match parse_fields(&form, validation_options(&state, true)) {
        Ok(i) => i,
        Err(errors) => return rerender(&req, &ctx, None, &form, errors, None, None),
    };
    let secret = match parse_token_value(&form.token) {
        Ok(s) => s,
        Err(m) => {
            let mut errors = FormErrors::default();
            errors.add("token", m);
            return rerender(&req, &ctx, None, &form, errors, None, None);
        }
    };
    // Name clash first: no need to call the provider for a form that cannot be saved.
    if name_taken(&state, &ctx.org.id, &input.name, None).await? {
        return rerender(
            &req,
            &ctx,
            None,
            &form,
            duplicate_error(&input.name),
            None,
            None,
        );
    }
    let outcome = state
        .providers
        .test_token(&target_of(&input), &secret, input.known_expiry())
        .await;
    if !may_save(&outcome, form.save_anyway()) {
        return rerender(
            &req,
            &ctx,
            None,
            &form,
            FormErrors::default(),
            Some(&outcome),
            Some(not_saved_notice(&outcome)),
        );
    }
    let st = state.clone();
    let org_id = ctx.org.id.clone();
    let actor = ctx.user.clone();
    let input2 = input.clone();
    let saved = web::block(move || -> Result<GitToken, TokenError> {
        let mut conn = st.conn().map_err(TokenError::Store)?;
        tokens::create(
            &st,
            &mut conn,
            &org_id,
            &input2,
            &secret,
            Some(&outcome),
            &actor,
        )
    })
    .await?;
    match saved {
        Ok(t) => {
            tracing::info!(org = %ctx.org.slug, token = %t.id, status = %t.status, "token created");
            Ok(see_other_with_flash(
                &req,
                &list_url(&ctx.org.slug),
                &format!("Token “{}” saved ({}).", t.name, t.status().label()),
            ))
        }
        Err(TokenError::DuplicateName(n)) => {
            rerender(&req, &ctx, None, &form, duplicate_error(&n), None, None)
        }
        Err(e) => Err(AppError::Internal(anyhow::Error::new(e))),
    }
}

fn duplicate_error(name: &str) -> FormErrors {
    let mut errors = FormErrors::default();
    errors.add(
        "name",
        format!("A token named “{name}” already exists in this organization. Choose another name."),
    );
    errors
}

async fn name_taken(
    state: &web::Data<AppState>,
    org_id: &str,
    name: &str,
    except: Option<String>,
) -> Result<bool, AppError> {
    let st = state.clone();
    let org_id = org_id.to_string();
    let name = name.to_string();
    Ok(web::block(move || {
        let mut conn = st.conn()?;
        GitToken::name_taken(&mut conn, &org_id, &name, except.as_deref())
    })
    .await??)
}

/// `POST …/git-tokens/{id}`: save an edit.
pub async fn update_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<TokenFormData>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let form = form.0;
    let existing = load_token(&state, &ctx, &path.1).await?;
    let editing = editing_of(&state, &existing).await?;
    let services = editing.services;
    let mut input = match parse_fields(&form, validation_options(&state, false)) {
        Ok(i) => i,
        Err(errors) => return rerender(&req, &ctx, Some(editing), &form, errors, None, None),
    };
    // A provider-reported expiry is not an admin entry: keep it out of the comparison.
    if form.expires_on.trim().is_empty() {
        input.expires_on = None;
    }
    let before = tokens::input_of(&existing);
    let new_secret: Option<SecretString> = match form.token.trim() {
        "" => None,
        raw => Some(parse_token_value(raw).map_err(AppError::BadRequest)?),
    };
    if new_secret.is_none() && input.destination_differs(&before) {
        let mut errors = FormErrors::default();
        errors.add(
            "token",
            "Paste the token value again: you changed where it is sent (provider, hosting, URL, workspace or username), and Forgekeys never sends a stored token to a destination it was not tested with.",
        );
        return rerender(&req, &ctx, Some(editing), &form, errors, None, None);
    }
    if name_taken(&state, &ctx.org.id, &input.name, Some(existing.id.clone())).await? {
        return rerender(
            &req,
            &ctx,
            Some(editing),
            &form,
            duplicate_error(&input.name),
            None,
            None,
        );
    }
    let outcome = match &new_secret {
        Some(secret) => {
            let o = state
                .providers
                .test_token(&target_of(&input), secret, input.known_expiry())
                .await;
            if !may_save(&o, form.save_anyway()) {
                return rerender(
                    &req,
                    &ctx,
                    Some(editing),
                    &form,
                    FormErrors::default(),
                    Some(&o),
                    Some(not_saved_notice(&o)),
                );
            }
            Some(o)
        }
        None => None,
    };
    let st = state.clone();
    let actor = ctx.user.clone();
    let input2 = input.clone();
    let existing2 = existing.clone();
    let result = web::block(move || -> Result<Vec<&'static str>, TokenError> {
        let mut conn = st.conn().map_err(TokenError::Store)?;
        let pair = match (&new_secret, &outcome) {
            (Some(s), Some(o)) => Some((s, o)),
            _ => None,
        };
        tokens::update(&st, &mut conn, &existing2, &input2, pair, &actor)
    })
    .await?;
    match result {
        Ok(changed) => {
            let msg = if changed.is_empty() {
                format!("Nothing changed on “{}”.", input.name)
            } else if services > 0 {
                format!(
                    "Token “{}” updated; {services} service(s) use it.",
                    input.name
                )
            } else {
                format!("Token “{}” updated.", input.name)
            };
            Ok(see_other_with_flash(
                &req,
                &token_url(&ctx.org.slug, &existing.id),
                &msg,
            ))
        }
        Err(TokenError::DuplicateName(n)) => rerender(
            &req,
            &ctx,
            Some(editing),
            &form,
            duplicate_error(&n),
            None,
            None,
        ),
        Err(e) => Err(AppError::Internal(anyhow::Error::new(e))),
    }
}

//! Add, edit and test-before-save (DESIGN.md §2, §4). The rules (test first, save only a
//! passing token, a new destination needs the value again) are `app::tokens::write`'s; this
//! module parses the form, calls it and renders the answer.

use super::fields::{FieldsFragment, FormValues, ProviderFields};
use super::token_id;
use crate::app;
use crate::app::state::AppState;
use crate::app::tokens::test::StoredTest;
use crate::domain::role::Permission;
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::domain::token::{Token, TokenInput};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::forms::token::{TokenFormData, ValidationOptions, parse_fields, parse_token_value};
use crate::web::htmx;
use crate::web::render::{Layout, html, html_status};
use crate::web::urls;
use crate::web::view::time::fmt_date;
use crate::web::view::token::ResultView;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// Editing an existing token (`None` for the add form).
pub struct Editing {
    pub id: String,
    pub name: String,
    pub services: i64,
    pub hint: String,
    /// The version the form carries (hidden field): the one it was first loaded at.
    pub version: i64,
}

impl Editing {
    fn of(t: &Token, services: i64) -> Editing {
        Editing {
            id: t.id.as_str().to_string(),
            name: t.name.clone(),
            services,
            hint: t.hint.clone(),
            version: t.version,
        }
    }

    /// Keep the version a submitted form was loaded at (a re-rendered form must not move it
    /// forward over changes the admin has not seen).
    pub(super) fn at(mut self, form: &TokenFormData) -> Editing {
        if let Some(v) = form.version() {
            self.version = v;
        }
        self
    }
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

#[derive(Template)]
#[template(path = "pages/tokens/validation.html")]
pub struct ValidationFragment {
    pub message: String,
}

pub(crate) fn validation_options(state: &AppState, token_required: bool) -> ValidationOptions {
    ValidationOptions {
        allow_http: !state.config.outbound_allow.is_empty(),
        token_required,
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
    let (title, action_url) = match &editing {
        Some(e) => (format!("Edit {}", e.name), urls::token(&slug, &e.id)),
        None => ("Add a Git token".to_string(), urls::tokens(&slug)),
    };
    TokenFormPage {
        layout: Layout::for_org(req, ctx, title, "tokens"),
        providers: super::provider_choices(&f.provider),
        fields: ProviderFields::new(&f.provider, &f.hosting, &f.url, &f.workspace),
        offer_save_anyway: result.is_some_and(|r| r.status == TestStatus::MissingPermissions),
        result: result.map(|r| ResultView::new(r, r.tested_at)),
        test_url: urls::token_test_unsaved(&slug),
        fields_url: urls::token_new(&slug),
        slug,
        editing,
        action_url,
        f,
        errors,
        notice,
    }
}

pub(super) fn rerender(
    req: &HttpRequest,
    ctx: &OrgContext,
    editing: Option<Editing>,
    form: &TokenFormData,
    errors: FormErrors,
    outcome: Option<&TestOutcome>,
    notice: Option<String>,
) -> Result<HttpResponse, AppError> {
    let editing = editing.map(|e| e.at(form));
    let mut page = form_page(
        req,
        ctx,
        editing,
        FormValues::from_form(form),
        errors,
        outcome,
        notice,
    );
    // "Save anyway" pressed without the value: keep offering it next to the token error.
    page.offer_save_anyway |= form.save_anyway();
    Ok(html_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        page.render()?,
    ))
}

/// A stale edit: the form again with what was typed, over the token's current version
/// (`editing` read after the refusal), and the conflict in words; 409.
pub(super) fn conflicted(
    req: &HttpRequest,
    ctx: &OrgContext,
    editing: Editing,
    form: &TokenFormData,
    conflict: &app::Conflict,
) -> Result<HttpResponse, AppError> {
    let notice = Some(crate::web::error::conflict_text(conflict));
    let values = FormValues::from_form(form);
    let page = form_page(
        req,
        ctx,
        Some(editing),
        values,
        FormErrors::default(),
        None,
        notice,
    );
    Ok(html_status(StatusCode::CONFLICT, page.render()?))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    hosting: String,
    /// Typed values the swapped-in fields keep (HTMX includes them when Hosting or Provider
    /// changes).
    #[serde(default)]
    url: String,
    #[serde(default)]
    workspace: String,
    #[serde(default)]
    username: String,
}

/// `GET …/git-tokens/new[?provider=&hosting=]`: the add form, or only the provider-specific
/// fields when HTMX asks for them (`HX-Target: provider-fields`).
pub async fn new_token_form(
    req: HttpRequest,
    ctx: OrgContext,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageTokens)?;
    let or = |v: &str, d: &str| {
        if v.is_empty() {
            d.to_string()
        } else {
            v.to_string()
        }
    };
    let f = FormValues {
        provider: or(&q.provider, "github"),
        hosting: or(&q.hosting, "cloud"),
        url: q.url.trim().to_string(),
        workspace: q.workspace.trim().to_string(),
        username: q.username.trim().to_string(),
        ..Default::default()
    };
    if htmx::is_htmx(&req) && htmx::target(&req) == Some("provider-fields") {
        let frag = FieldsFragment {
            slug: ctx.org.slug.clone(),
            fields: ProviderFields::new(&f.provider, &f.hosting, &f.url, &f.workspace),
            f,
            errors: FormErrors::default(),
        };
        return Ok(html(&req, frag.render()?));
    }
    let page = form_page(&req, &ctx, None, f, FormErrors::default(), None, None);
    Ok(html(&req, page.render()?))
}

fn values_of(t: &Token) -> FormValues {
    let input = TokenInput::of(t);
    FormValues {
        provider: input.provider.as_str().to_string(),
        hosting: input.hosting.as_str().to_string(),
        name: input.name,
        url: input.url.unwrap_or_default(),
        workspace: input.workspace.unwrap_or_default(),
        username: input.username.unwrap_or_default(),
        description: input.description.unwrap_or_default(),
        expires_on: input
            .expires_on
            .map(|d| fmt_date(d.and_time(chrono::NaiveTime::MIN)))
            .unwrap_or_default(),
    }
}

/// The token being edited, for the form's heading and hints.
pub(super) async fn editing(
    state: &AppState,
    ctx: &OrgContext,
    id: &crate::domain::ids::TokenId,
) -> Result<(Token, Editing), AppError> {
    app::require(&ctx.member, Permission::ManageTokens)?;
    let l = app::tokens::find(state, &ctx.member, id).await?;
    let e = Editing::of(&l.token, l.services);
    Ok((l.token, e))
}

pub async fn edit_token_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (t, e) = editing(&state, &ctx, &token_id(&path)).await?;
    let page = form_page(
        &req,
        &ctx,
        Some(e),
        values_of(&t),
        FormErrors::default(),
        None,
        None,
    );
    Ok(html(&req, page.render()?))
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

/// The refusal of a stored token for a changed destination (test or save without a value).
pub(crate) fn needs_token_message() -> String {
    "Paste the token value again: you changed where it is sent (provider, hosting, URL, workspace or username), and Forgekeys never sends a stored token to a destination it was not tested with.".into()
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

/// `POST …/git-tokens/test`: test the submitted values without saving.
pub async fn test_new(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<TestFormData>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageTokens)?;
    let TestFormData {
        form,
        token_id,
        refresh,
    } = form.0;
    let edit = if token_id.is_empty() {
        None
    } else {
        let id = crate::domain::ids::TokenId::new(token_id);
        Some(editing(&state, &ctx, &id).await?.1.at(&form))
    };
    let values = FormValues::from_form(&form);
    if !refresh.is_empty() {
        let page = form_page(&req, &ctx, edit, values, FormErrors::default(), None, None);
        return Ok(html(&req, page.render()?));
    }
    // The edit form with the token field left empty tests the stored token (DESIGN.md §2).
    let stored = edit
        .as_ref()
        .filter(|_| form.token.trim().is_empty())
        .map(|e| crate::domain::ids::TokenId::new(e.id.clone()));
    let parsed = parse_fields(&form, validation_options(&state, stored.is_none()));
    let mut errors = FormErrors::default();
    let outcome = match (parsed, stored) {
        (Ok(input), Some(id)) => {
            match app::tokens::test::test_stored_from_form(&state, &ctx.member, &id, &input).await?
            {
                StoredTest::Tested(r) => Some(r.outcome),
                StoredTest::DestinationChanged => {
                    errors.add("token", needs_token_message());
                    None
                }
            }
        }
        (Ok(input), None) => match parse_token_value(&form.token) {
            Ok(secret) => {
                Some(app::tokens::test::test_unsaved(&state, &ctx.member, &input, &secret).await?)
            }
            Err(m) => {
                errors.add("token", m);
                None
            }
        },
        (Err(e), _) => {
            errors = e;
            None
        }
    };
    let tested_stored = outcome.is_some() && edit.is_some() && form.token.trim().is_empty();
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
                // 422, swapped in like a result (the htmx-config meta in base.html).
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
    let notice = if tested_stored {
        "Tested the stored token without saving the form.".to_string()
    } else {
        "Tested without saving. Paste the token again to save it (Forgekeys never sends a token back to the browser).".to_string()
    };
    // Nothing tested (the form has errors): the error summary speaks, not a notice.
    let notice = outcome.is_some().then_some(notice);
    let page = form_page(&req, &ctx, edit, values, errors, outcome.as_ref(), notice);
    Ok(html(&req, page.render()?))
}

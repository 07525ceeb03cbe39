//! Saving the token form: create and edit (`app::tokens::write`), with the answers in words.

use super::form::{conflicted, editing, needs_token_message, rerender, validation_options};
use super::token_id;
use crate::app;
use crate::app::state::AppState;
use crate::app::tokens::write::{Created, Edit, Updated};
use crate::domain::role::Permission;
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::forms::token::{TokenFormData, parse_fields, parse_token_value};
use crate::web::render::see_other_with_flash;
use crate::web::urls;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;

pub(crate) fn not_saved_notice(outcome: &TestOutcome) -> String {
    match outcome.status {
        TestStatus::MissingPermissions => "Not saved: the token lacks required permissions. Fix them at the provider and test again, or paste the token again and choose “Save anyway”.".into(),
        _ => format!("Not saved: the token test failed ({}). Check the token, paste it again and retry.", outcome.status.label()),
    }
}

pub(crate) fn duplicate_error(name: &str) -> FormErrors {
    let mut errors = FormErrors::default();
    errors.add(
        "name",
        format!("A token named “{name}” already exists in this organization. Choose another name."),
    );
    errors
}

pub(crate) fn token_error(message: String) -> FormErrors {
    let mut errors = FormErrors::default();
    errors.add("token", message);
    errors
}

/// `POST …/git-tokens`: validate, test, save only if the test passes, 303 to the list.
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<TokenFormData>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageTokens)?;
    let form = form.0;
    let input = match parse_fields(&form, validation_options(&state, true)) {
        Ok(i) => i,
        Err(errors) => return rerender(&req, &ctx, None, &form, errors, None, None),
    };
    let secret = match parse_token_value(&form.token) {
        Ok(s) => s,
        Err(m) => return rerender(&req, &ctx, None, &form, token_error(m), None, None),
    };
    let name = input.name.clone();
    match app::tokens::write::create(&state, &ctx.member, input, secret, form.save_anyway()).await?
    {
        Created::Saved { token, .. } => Ok(see_other_with_flash(
            &req,
            &urls::tokens(&ctx.org.slug),
            &format!("Token “{}” saved ({}).", token.name, token.status.label()),
        )),
        Created::NameTaken => rerender(&req, &ctx, None, &form, duplicate_error(&name), None, None),
        Created::NotSaved(o) => rerender(
            &req,
            &ctx,
            None,
            &form,
            FormErrors::default(),
            Some(&o),
            Some(not_saved_notice(&o)),
        ),
    }
}

/// `POST …/git-tokens/{id}`: save an edit.
pub async fn update_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<TokenFormData>,
) -> Result<HttpResponse, AppError> {
    let id = token_id(&path);
    let (_, edit) = editing(&state, &ctx, &id).await?;
    let form = form.0;
    let mut input = match parse_fields(&form, validation_options(&state, false)) {
        Ok(i) => i,
        Err(errors) => return rerender(&req, &ctx, Some(edit), &form, errors, None, None),
    };
    // A provider-reported expiry is not an admin entry: keep it out of the comparison.
    if form.expires_on.trim().is_empty() {
        input.expires_on = None;
    }
    let new_secret: Option<SecretString> = match form.token.trim() {
        "" => None,
        raw => Some(parse_token_value(raw).map_err(AppError::BadRequest)?),
    };
    let name = input.name.clone();
    let submitted = Edit {
        input,
        new_secret,
        save_anyway: form.save_anyway(),
        version: form.version(),
    };
    let result = match app::tokens::write::update(&state, &ctx.member, &id, submitted).await {
        Ok(r) => r,
        Err(app::Error::Conflict(c @ app::Conflict::EditedMeanwhile)) => {
            // The form again, now carrying the current version.
            let (_, current) = editing(&state, &ctx, &id).await?;
            return conflicted(&req, &ctx, current, &form, &c);
        }
        Err(e) => return Err(e.into()),
    };
    match result {
        Updated::Saved {
            token,
            changed,
            services,
        } => {
            let msg = if changed.is_empty() {
                format!("Nothing changed on “{}”.", token.name)
            } else if services > 0 {
                format!(
                    "Token “{}” updated; {services} service(s) use it.",
                    token.name
                )
            } else {
                format!("Token “{}” updated.", token.name)
            };
            Ok(see_other_with_flash(
                &req,
                &urls::token(&ctx.org.slug, token.id.as_str()),
                &msg,
            ))
        }
        Updated::NeedsToken => rerender(
            &req,
            &ctx,
            Some(edit),
            &form,
            token_error(needs_token_message()),
            None,
            None,
        ),
        Updated::NameTaken => rerender(
            &req,
            &ctx,
            Some(edit),
            &form,
            duplicate_error(&name),
            None,
            None,
        ),
        Updated::NotSaved(o) => rerender(
            &req,
            &ctx,
            Some(edit),
            &form,
            FormErrors::default(),
            Some(&o),
            Some(not_saved_notice(&o)),
        ),
    }
}

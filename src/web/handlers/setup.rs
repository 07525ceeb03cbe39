//! First start: the one-time setup page creates the first organization and its Owner
//! (`app::setup::first_setup`). It is gone once any user exists.

use crate::app;
use crate::app::setup::{FirstSetup, NewOrg, SetupDone, SetupLink};
use crate::app::state::AppState;
use crate::crypto::password;
use crate::domain::account::{ORG_NAME_MAX, parse_email, parse_slug};
use crate::web::client::client_ip;
use crate::web::csrf::AnonPosted;
use crate::web::error::AppError;
use crate::web::forms::FormErrors;
use crate::web::forms::account::{email_message, password_message, slug_message};
use crate::web::handlers::auth::{pre_csrf, with_pre_cookie};
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::session::{self, PRE_CSRF_COOKIE};
use crate::web::urls;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

#[derive(Template)]
#[template(path = "pages/auth/setup.html")]
pub struct SetupPage {
    pub layout: Layout,
    pub csrf: String,
    pub token: String,
    pub org_name: String,
    pub org_slug: String,
    pub email: String,
    pub errors: FormErrors,
}

#[derive(serde::Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    org_name: String,
    #[serde(default)]
    org_slug: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[derive(serde::Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

pub async fn setup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<SetupQuery>,
) -> Result<HttpResponse, AppError> {
    // The page is gone once a user exists.
    if app::setup::setup_link(&state, &q.token).await? != SetupLink::Open {
        return Err(AppError::SetupClosed);
    }
    let csrf = pre_csrf(&req);
    let page = SetupPage {
        layout: Layout::anonymous(&req, "Set up Forgekeys"),
        csrf: csrf.clone(),
        token: q.token.clone(),
        org_name: String::new(),
        org_slug: String::new(),
        email: String::new(),
        errors: FormErrors::default(),
    };
    Ok(with_pre_cookie(&state, html(&req, page.render()?), csrf))
}

/// The form's values, or its field errors.
fn parse(f: &SetupForm) -> Result<(NewOrg, String), FormErrors> {
    let mut errors = FormErrors::default();
    let name = f.org_name.trim().to_string();
    if name.is_empty() || name.chars().count() > ORG_NAME_MAX {
        errors.add(
            "org_name",
            "Enter the organization's name (1–100 characters).",
        );
    }
    let slug = parse_slug(&f.org_slug)
        .map_err(|e| errors.add("org_slug", slug_message(e)))
        .ok();
    let email = parse_email(&f.email)
        .map_err(|e| errors.add("email", email_message(e)))
        .ok();
    if let Err(e) = password::check_policy(&f.password) {
        errors.add("password", password_message(e));
    } else if f.password != f.password_confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
    match (slug, email) {
        (Some(slug), Some(email)) if errors.is_empty() => Ok((NewOrg { slug, name }, email)),
        _ => Err(errors),
    }
}

/// The form again, with its values (never the passwords) and messages.
fn form_again(
    req: &HttpRequest,
    f: SetupForm,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let csrf = req
        .cookie(PRE_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let page = SetupPage {
        layout: Layout::anonymous(req, "Set up Forgekeys"),
        csrf,
        token: f.token,
        org_name: f.org_name,
        org_slug: f.org_slug,
        email: f.email,
        errors,
    };
    Ok(html_status(status, page.render()?))
}

/// Another submission of the setup form won (possibly in another server process).
const ALREADY_DONE: &str = "This setup link has already been used: the first organization and \
     its Owner were created by another submission of this form. Sign in with that account at /login.";

pub async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: AnonPosted<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.0;
    match app::setup::setup_link(&state, &f.token).await? {
        SetupLink::Open => {}
        // A submission that lost the race (or came late) is told what happened.
        SetupLink::Used => return Err(AppError::Conflict(ALREADY_DONE.into())),
        SetupLink::Invalid => return Err(AppError::SetupClosed),
    }
    let (org, email) = match parse(&f) {
        Ok(v) => v,
        Err(errors) => return form_again(&req, f, errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let setup = FirstSetup {
        org,
        email,
        password: SecretString::from(f.password.clone()),
        client_ip: client_ip(&req),
        user_agent: crate::web::handlers::auth::user_agent(&req),
    };
    match app::setup::first_setup(&state, &f.token, setup).await? {
        SetupDone::Created { org, session: sid } => {
            let mut resp = see_other_with_flash(
                &req,
                &urls::tokens(&org.slug),
                "Welcome! Your organization is ready. Add its first Git token.",
            );
            let secure = state.config.cookie_secure;
            let _ = resp.add_cookie(&session::session_cookie(sid, secure));
            let _ = resp.add_cookie(&session::removal(PRE_CSRF_COOKIE, secure));
            Ok(resp)
        }
        SetupDone::Closed => Err(AppError::SetupClosed),
        SetupDone::AlreadyDone => Err(AppError::Conflict(ALREADY_DONE.into())),
        SetupDone::SlugTaken => {
            let mut errors = FormErrors::default();
            errors.add(
                "org_slug",
                "An organization with this URL name exists. Choose another.",
            );
            form_again(&req, f, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        SetupDone::Busy => {
            let mut errors = FormErrors::default();
            errors.add(
                "password",
                "Forgekeys is busy checking other passwords right now. Send the form again in a few seconds.",
            );
            let mut resp = form_again(&req, f, errors, StatusCode::TOO_MANY_REQUESTS)?;
            resp.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static("2"),
            );
            Ok(resp)
        }
    }
}

/// `/setup`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::SETUP, web::get().to(setup_form))
        .route(urls::SETUP, web::post().to(setup));
}

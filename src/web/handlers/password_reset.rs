//! `GET/POST /password-reset/{token}`: the one-time link from `forgekeys user reset-password`
//! (valid 1 hour, works once). Setting the password ends every session of the account; the
//! person then signs in with the new password.

use crate::app;
use crate::app::members::reset::ResetDone;
use crate::app::state::AppState;
use crate::crypto::password;
use crate::web::csrf::AnonPosted;
use crate::web::error::AppError;
use crate::web::forms::FormErrors;
use crate::web::forms::account::password_message;
use crate::web::handlers::auth::{pre_csrf, with_pre_cookie};
use crate::web::render::{Layout, html_status, see_other_with_flash};
use crate::web::session::{self, PRE_CSRF_COOKIE, SESSION_COOKIE};
use crate::web::urls;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

#[derive(Template)]
#[template(path = "pages/auth/password_reset.html")]
pub struct PasswordResetPage {
    pub layout: Layout,
    pub action: String,
    pub csrf: String,
    /// `None`: the link is unknown, used or expired.
    pub email: Option<String>,
    pub valid_minutes: i64,
    pub errors: FormErrors,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

fn token(path: &web::Path<String>) -> String {
    path.as_str().chars().take(200).collect()
}

fn page(
    req: &HttpRequest,
    token: &str,
    csrf: String,
    email: Option<String>,
    errors: FormErrors,
) -> PasswordResetPage {
    PasswordResetPage {
        layout: Layout::anonymous(req, "Set a new password"),
        action: urls::password_reset(token),
        csrf,
        email,
        valid_minutes: crate::domain::members::RESET_VALID.num_minutes(),
        errors,
    }
}

/// `GET /password-reset/{token}`.
pub async fn reset_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token(&path);
    let email = app::members::reset::reset_open(&state, &token).await?;
    let status = if email.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let csrf = pre_csrf(&req);
    let body = page(&req, &token, csrf.clone(), email, FormErrors::default()).render()?;
    Ok(with_pre_cookie(&state, html_status(status, body), csrf))
}

/// `POST /password-reset/{token}`: `password`, `password_confirm`.
pub async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: AnonPosted<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let token = token(&path);
    let f = form.0;
    let mut errors = FormErrors::default();
    if let Err(e) = password::check_policy(&f.password) {
        errors.add("password", password_message(e));
    } else if f.password != f.password_confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
    if !errors.is_empty() {
        let email = app::members::reset::reset_open(&state, &token).await?;
        let status = if email.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::GONE
        };
        let body = page(&req, &token, pre_csrf(&req), email, errors).render()?;
        return Ok(html_status(status, body));
    }
    let ip = crate::web::client::client_ip(&req);
    let pw = SecretString::from(f.password);
    match app::members::reset::reset_password(&state, &token, pw, ip).await? {
        ResetDone::Done { .. } => {
            let mut resp = see_other_with_flash(
                &req,
                urls::LOGIN,
                "Your new password is set, and every session of your account has ended. Sign in with the new password.",
            );
            let secure = state.config.cookie_secure;
            let _ = resp.add_cookie(&session::removal(SESSION_COOKIE, secure));
            let _ = resp.add_cookie(&session::removal(PRE_CSRF_COOKIE, secure));
            Ok(resp)
        }
        ResetDone::Gone => {
            let body = page(&req, &token, pre_csrf(&req), None, FormErrors::default()).render()?;
            Ok(html_status(StatusCode::GONE, body))
        }
    }
}

/// `/password-reset/{token}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::PASSWORD_RESET, web::get().to(reset_form))
        .route(urls::PASSWORD_RESET, web::post().to(reset_password));
}

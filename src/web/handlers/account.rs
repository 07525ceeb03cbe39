//! `GET /account`: the signed-in user's own account — change the password (ends every other
//! session), the list of their sessions with sign-out of one or of all others, and the link to
//! two-factor sign-in (`super::two_factor`).

use crate::app;
use crate::app::account::PasswordChange;
use crate::app::state::AppState;
use crate::crypto::password;
use crate::web::client::client_ip;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::CurrentUser;
use crate::web::forms::FormErrors;
use crate::web::forms::account::password_message;
use crate::web::handlers::auth::{Empty, throttled_text};
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::account::SessionView;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

#[derive(Template)]
#[template(path = "pages/account/index.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub email: String,
    pub csrf: String,
    pub errors: FormErrors,
    /// A refusal of the whole password form (wrong current password, throttled, busy).
    pub password_error: Option<String>,
    pub sessions: Vec<SessionView>,
    pub others: usize,
    pub two_factor_on: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: String,
}

const BUSY: &str =
    "Forgekeys is busy checking other passwords right now. Try again in a few seconds.";

async fn page(
    req: &HttpRequest,
    state: &AppState,
    cu: &CurrentUser,
    errors: FormErrors,
    password_error: Option<String>,
) -> Result<AccountPage, AppError> {
    let now = state.clock.naive();
    let sessions: Vec<SessionView> = app::account::sessions(state, &cu.session)
        .await?
        .iter()
        .map(|e| SessionView::new(e, now))
        .collect();
    let two_factor_on = app::account::two_factor::is_on(state, &cu.session).await?;
    Ok(AccountPage {
        layout: Layout::for_user(req, cu, "Account", "account"),
        email: cu.user.email.clone(),
        csrf: cu.session.csrf_token.clone(),
        errors,
        password_error,
        others: sessions.iter().filter(|s| !s.current).count(),
        sessions,
        two_factor_on,
    })
}

/// `GET /account`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let p = page(&req, &state, &cu, FormErrors::default(), None).await?;
    Ok(html(&req, p.render()?))
}

/// `POST /account/password`: `current_password`, `new_password`, `new_password_confirm`.
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    form: Posted<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.0;
    let mut errors = FormErrors::default();
    if f.current_password.is_empty() {
        errors.add("current_password", "Enter your current password.");
    }
    if let Err(e) = password::check_policy(&f.new_password) {
        errors.add("new_password", password_message(e));
    } else if f.new_password != f.new_password_confirm {
        errors.add("new_password_confirm", "The two passwords differ.");
    }
    if !errors.is_empty() {
        let p = page(&req, &state, &cu, errors, None).await?;
        return Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?));
    }
    let (current, new) = (
        SecretString::from(f.current_password),
        SecretString::from(f.new_password),
    );
    let ip = client_ip(&req);
    let outcome = app::account::change_password(&state, &cu.session, current, new, ip).await?;
    let (status, message) = match outcome {
        PasswordChange::Changed { ended } => {
            let msg = match ended {
                0 => "Your password is changed.".to_string(),
                1 => "Your password is changed, and your other session has ended.".to_string(),
                n => format!("Your password is changed, and your {n} other sessions have ended."),
            };
            return Ok(see_other_with_flash(&req, urls::ACCOUNT, &msg));
        }
        PasswordChange::WrongCurrent => {
            let mut errors = FormErrors::default();
            errors.add("current_password", "This is not your current password.");
            let p = page(&req, &state, &cu, errors, None).await?;
            return Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?));
        }
        PasswordChange::Throttled { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            throttled_text((retry_after.num_seconds() + 59) / 60),
        ),
        PasswordChange::Busy => (StatusCode::TOO_MANY_REQUESTS, BUSY.to_string()),
    };
    let p = page(&req, &state, &cu, FormErrors::default(), Some(message)).await?;
    Ok(html_status(status, p.render()?))
}

/// `POST /account/sessions/{id}/revoke`: sign out one of the user's own sessions.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    path: web::Path<String>,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let id: String = path.as_str().chars().take(100).collect();
    let ip = client_ip(&req);
    if !app::account::revoke_session(&state, &cu.session, &id, ip).await? {
        return Err(AppError::NotFound);
    }
    let msg = if id == cu.session.id_hash {
        "This session is signed out."
    } else {
        "The session is signed out."
    };
    let to = if id == cu.session.id_hash {
        urls::LOGIN
    } else {
        urls::ACCOUNT
    };
    Ok(see_other_with_flash(&req, to, msg))
}

/// `POST /account/sessions/revoke-others`: sign out every other session.
pub async fn revoke_others(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let n = app::account::revoke_other_sessions(&state, &cu.session, client_ip(&req)).await?;
    let msg = match n {
        0 => "You had no other session.".to_string(),
        1 => "Your other session is signed out.".to_string(),
        n => format!("Your {n} other sessions are signed out."),
    };
    Ok(see_other_with_flash(&req, urls::ACCOUNT, &msg))
}

/// `/account`, `/account/password`, `/account/sessions/…`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::ACCOUNT, web::get().to(show))
        .route(urls::ACCOUNT_PASSWORD, web::post().to(change_password))
        .route(
            urls::ACCOUNT_SESSIONS_REVOKE_OTHERS,
            web::post().to(revoke_others),
        )
        .route(urls::ACCOUNT_SESSION_REVOKE, web::post().to(revoke));
}

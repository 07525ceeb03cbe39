//! `GET /account/2fa`, `POST /account/2fa/enable` (`code`), `POST /account/2fa/disable`
//! (`password`, `code`): TOTP two-factor sign-in of the user's own account. The QR code is an
//! inline SVG drawn on the server, beside the `otpauth://` URI and the secret to type in; the
//! recovery codes are shown once, on the answer to the enable form.

use crate::app;
use crate::app::account::PasswordChange;
use crate::app::account::two_factor::{Disabled, Enabled, Status};
use crate::app::state::AppState;
use crate::web::client::client_ip;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::CurrentUser;
use crate::web::handlers::auth::throttled_text;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::time::fmt_date;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

/// What the page shows.
pub enum View {
    On {
        since: String,
        recovery_left: i64,
    },
    Enrolling {
        secret: String,
        uri: String,
        qr: Option<String>,
    },
    /// Just turned on: the recovery codes, this once.
    Codes(Vec<String>),
}

#[derive(Template)]
#[template(path = "pages/account/two_factor.html")]
pub struct TwoFactorPage {
    pub layout: Layout,
    pub csrf: String,
    pub email: String,
    pub view: View,
    /// Sent here by an organization that requires two-factor sign-in.
    pub required: bool,
    pub error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    required: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct EnableForm {
    #[serde(default)]
    code: String,
}

#[derive(serde::Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    cu: &CurrentUser,
    required: bool,
    error: Option<String>,
) -> Result<TwoFactorPage, AppError> {
    let view = match app::account::two_factor::status(state, &cu.session).await? {
        Status::On {
            since,
            recovery_left,
        } => View::On {
            since: fmt_date(since),
            recovery_left,
        },
        Status::Enrolling { secret, uri } => View::Enrolling {
            qr: crate::web::view::qr::svg(&uri, "QR code for your authenticator app"),
            secret,
            uri,
        },
    };
    Ok(TwoFactorPage {
        layout: Layout::for_user(req, cu, "Two-factor sign-in", "account"),
        csrf: cu.session.csrf_token.clone(),
        email: cu.user.email.clone(),
        view,
        required,
        error,
    })
}

/// `GET /account/2fa`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let p = page(&req, &state, &cu, q.required.is_some(), None).await?;
    Ok(html(&req, p.render()?))
}

const WRONG_CODE: &str =
    "This code is not right (or was already used). Enter the current 6-digit code from your app.";

/// `POST /account/2fa/enable`: `code`.
pub async fn enable(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    form: Posted<EnableForm>,
) -> Result<HttpResponse, AppError> {
    let code: String = form.0.code.chars().take(20).collect();
    let ip = client_ip(&req);
    match app::account::two_factor::enable(&state, &cu.session, code, ip).await? {
        Enabled::Done { recovery_codes } => {
            let mut p = page(&req, &state, &cu, false, None).await?;
            p.view = View::Codes(recovery_codes);
            Ok(html(&req, p.render()?))
        }
        Enabled::WrongCode => {
            let p = page(&req, &state, &cu, false, Some(WRONG_CODE.into())).await?;
            Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?))
        }
        Enabled::AlreadyOn => Ok(see_other_with_flash(
            &req,
            urls::ACCOUNT_2FA,
            "Two-factor sign-in is already on.",
        )),
    }
}

/// `POST /account/2fa/disable`: `password`, `code`.
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    form: Posted<DisableForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.0;
    let code: String = f.code.chars().take(40).collect();
    let pw = SecretString::from(f.password);
    let ip = client_ip(&req);
    let (status, error) =
        match app::account::two_factor::disable(&state, &cu.session, pw, code, ip).await? {
            Disabled::Done => {
                return Ok(see_other_with_flash(
                    &req,
                    urls::ACCOUNT,
                    "Two-factor sign-in is off.",
                ));
            }
            Disabled::NotOn => {
                return Ok(see_other_with_flash(
                    &req,
                    urls::ACCOUNT_2FA,
                    "Two-factor sign-in is already off.",
                ));
            }
            Disabled::WrongCode => (StatusCode::UNPROCESSABLE_ENTITY, WRONG_CODE.to_string()),
            Disabled::Password(PasswordChange::Throttled { retry_after }) => (
                StatusCode::TOO_MANY_REQUESTS,
                throttled_text((retry_after.num_seconds() + 59) / 60),
            ),
            Disabled::Password(PasswordChange::Busy) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Forgekeys is busy checking other passwords right now. Try again in a few seconds."
                    .to_string(),
            ),
            Disabled::Password(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "This is not your current password.".to_string(),
            ),
        };
    let p = page(&req, &state, &cu, false, Some(error)).await?;
    Ok(html_status(status, p.render()?))
}

/// `/account/2fa…`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::ACCOUNT_2FA, web::get().to(show))
        .route(urls::ACCOUNT_2FA_ENABLE, web::post().to(enable))
        .route(urls::ACCOUNT_2FA_DISABLE, web::post().to(disable));
}

//! `GET/POST /login/2fa`: the second sign-in step of an account with two-factor sign-in on —
//! a code from the authenticator app or a recovery code, after the password (the pending
//! half-session's cookie, `fk_2fa`, lives 5 minutes).

use crate::app;
use crate::app::auth::second_factor::SecondStep;
use crate::app::state::AppState;
use crate::web::client::client_ip;
use crate::web::csrf::AnonPosted;
use crate::web::error::AppError;
use crate::web::handlers::auth::{pre_csrf, throttled_text, with_pre_cookie};
use crate::web::next;
use crate::web::render::{Layout, html, html_status, see_other, see_other_with_flash};
use crate::web::session::{self, PENDING_COOKIE, PRE_CSRF_COOKIE};
use crate::web::urls;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/auth/login_2fa.html")]
pub struct SecondStepPage {
    pub layout: Layout,
    pub csrf: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct StepQuery {
    #[serde(default)]
    next: String,
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

const GONE: &str = "Your sign-in took too long or was already used. Sign in again.";
const WRONG: &str = "This code is not right, or was already used. Enter the current code from your authenticator app, or one of your recovery codes.";

fn pending(req: &HttpRequest) -> Option<String> {
    req.cookie(PENDING_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

fn gone(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let mut resp = see_other_with_flash(req, urls::LOGIN, GONE);
    let _ = resp.add_cookie(&session::removal(
        PENDING_COOKIE,
        state.config.cookie_secure,
    ));
    resp
}

/// `GET /login/2fa`.
pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<StepQuery>,
) -> Result<HttpResponse, AppError> {
    let open = match pending(&req) {
        Some(p) => app::auth::second_factor::pending_open(&state, &p).await?,
        None => false,
    };
    if !open {
        return Ok(gone(&req, &state));
    }
    let csrf = pre_csrf(&req);
    let page = SecondStepPage {
        layout: Layout::anonymous(&req, "Two-factor sign-in"),
        csrf: csrf.clone(),
        next: next::safe_next(q.next.trim())
            .unwrap_or_default()
            .to_string(),
        error: None,
    };
    Ok(with_pre_cookie(&state, html(&req, page.render()?), csrf))
}

/// `POST /login/2fa`: `code` (TOTP or recovery code).
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: AnonPosted<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.0;
    let Some(p) = pending(&req) else {
        return Ok(gone(&req, &state));
    };
    let code: String = f.code.chars().take(40).collect();
    let ip = client_ip(&req);
    let secure = state.config.cookie_secure;
    let (status, error, retry) =
        match app::auth::second_factor::second_factor(&state, &p, code, ip).await? {
            SecondStep::SignedIn { session: sid } => {
                let to = next::safe_next(f.next.trim()).unwrap_or(urls::ORGS);
                let mut resp = see_other(&req, to);
                let _ = resp.add_cookie(&session::removal(next::NEXT_COOKIE, false));
                let _ = resp.add_cookie(&session::removal(PENDING_COOKIE, secure));
                let _ = resp.add_cookie(&session::removal(PRE_CSRF_COOKIE, secure));
                let _ = resp.add_cookie(&session::session_cookie(sid, secure));
                return Ok(resp);
            }
            SecondStep::Gone => return Ok(gone(&req, &state)),
            SecondStep::Refused => (StatusCode::UNAUTHORIZED, WRONG.to_string(), None),
            SecondStep::Throttled { retry_after } => {
                let minutes = (retry_after.num_seconds() + 59) / 60;
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    throttled_text(minutes),
                    Some(minutes * 60),
                )
            }
        };
    let csrf = pre_csrf(&req);
    let page = SecondStepPage {
        layout: Layout::anonymous(&req, "Two-factor sign-in"),
        csrf: csrf.clone(),
        next: next::safe_next(f.next.trim())
            .unwrap_or_default()
            .to_string(),
        error: Some(error),
    };
    let mut resp = html_status(status, page.render()?);
    if let Some(secs) = retry {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, v);
        }
    }
    Ok(with_pre_cookie(&state, resp, csrf))
}

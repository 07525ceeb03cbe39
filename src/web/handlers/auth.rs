//! Sign-in and sign-out pages; the rules are `app::auth`'s.

use crate::app;
use crate::app::auth::{Attempt, SignIn, random_token};
use crate::app::state::AppState;
use crate::web::client::client_ip;
use crate::web::csrf::{AnonPosted, Posted};
use crate::web::error::AppError;
use crate::web::extractors::CurrentUser;
use crate::web::next;
use crate::web::render::{Layout, html, html_status, see_other, see_other_with_flash};
use crate::web::session::{self, DEVICE_COOKIE, PRE_CSRF_COOKIE, SESSION_COOKIE};
use crate::web::urls;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

#[derive(Template)]
#[template(path = "pages/auth/login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
    /// The same-origin path to land on after signing in (empty: the organizations).
    pub next: String,
    /// No account exists yet: say that the setup link is in the server log.
    pub setup_hint: bool,
    /// "Sign in with …" when single sign-on is configured.
    pub sso: Option<crate::web::handlers::sso::SsoButton>,
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The pre-session CSRF value: the one already in the browser (several tabs keep working), or a new one.
pub fn pre_csrf(req: &HttpRequest) -> String {
    req.cookie(PRE_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(random_token)
}

pub fn with_pre_cookie(state: &AppState, mut resp: HttpResponse, csrf: String) -> HttpResponse {
    let _ = resp.add_cookie(&session::cookie(
        PRE_CSRF_COOKIE,
        csrf,
        state.config.cookie_secure,
        None,
    ));
    resp
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let next = next::requested(&req, &q.next);
    if CurrentUser::load(&req).await.is_ok() {
        return Ok(see_other(&req, next.as_deref().unwrap_or(urls::ORGS)));
    }
    let csrf = pre_csrf(&req);
    let page = LoginPage {
        layout: Layout::anonymous(&req, "Sign in"),
        csrf: csrf.clone(),
        email: String::new(),
        error: None,
        sso: crate::web::handlers::sso::button(&req, None, next.as_deref()),
        next: next.unwrap_or_default(),
        setup_hint: app::setup::no_user_yet(&state).await?,
    };
    Ok(with_pre_cookie(&state, html(&req, page.render()?), csrf))
}

/// The sign-in refusals in words. Throttled and busy both answer 429 with `Retry-After`; the
/// throttled sentence is the same whether the e-mail, the device or the client address is
/// throttled, and whether an account has the e-mail or not.
const BAD_CREDENTIALS: &str = "The e-mail address or password is not correct.";
const BUSY: &str =
    "Forgekeys is busy checking other sign-ins right now. Try again in a few seconds.";
const BUSY_RETRY_SECS: i64 = 2;

pub fn throttled_text(minutes: i64) -> String {
    format!(
        "Too many failed sign-ins: signing in is locked for {minutes} minutes. Try again later, \
         or sign in from a device you have signed in with before. An operator can lift the \
         lock with `forgekeys user unlock`."
    )
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: AnonPosted<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.0;
    let email = form.email.trim().to_lowercase();
    let attempt = Attempt {
        email: email.clone(),
        password: SecretString::from(form.password),
        client_ip: client_ip(&req),
        device: req.cookie(DEVICE_COOKIE).map(|c| c.value().to_string()),
        previous_session: req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()),
        user_agent: user_agent(&req),
    };
    let (error, status, retry_after) = match app::auth::sign_in(&state, attempt).await? {
        SignIn::SignedIn {
            session: sid,
            device,
        } => {
            let to = next::requested(&req, form.next.trim());
            let mut resp = see_other(&req, to.as_deref().unwrap_or(urls::ORGS));
            let secure = state.config.cookie_secure;
            let _ = resp.add_cookie(&session::removal(next::NEXT_COOKIE, false));
            let _ = resp.add_cookie(&session::session_cookie(sid, secure));
            let _ = resp.add_cookie(&session::device_cookie(device, secure));
            let _ = resp.add_cookie(&session::removal(PRE_CSRF_COOKIE, secure));
            return Ok(resp);
        }
        SignIn::SecondFactor { pending, device } => {
            let mut to = urls::LOGIN_2FA.to_string();
            if let Some(n) = next::requested(&req, form.next.trim()) {
                let n: String = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
                to = format!("{to}?next={n}");
            }
            let mut resp = see_other(&req, &to);
            let secure = state.config.cookie_secure;
            let _ = resp.add_cookie(&session::pending_cookie(pending, secure));
            let _ = resp.add_cookie(&session::device_cookie(device, secure));
            return Ok(resp);
        }
        SignIn::Throttled { retry_after } => {
            // Whole minutes, rounded up: the same figure for every attempt of one lock.
            let minutes = (retry_after.num_seconds() + 59) / 60;
            (
                throttled_text(minutes),
                StatusCode::TOO_MANY_REQUESTS,
                Some(minutes * 60),
            )
        }
        SignIn::Busy => (
            BUSY.to_string(),
            StatusCode::TOO_MANY_REQUESTS,
            Some(BUSY_RETRY_SECS),
        ),
        SignIn::Refused => (BAD_CREDENTIALS.to_string(), StatusCode::UNAUTHORIZED, None),
    };
    let csrf = pre_csrf(&req);
    let next = next::safe_next(form.next.trim()).unwrap_or_default();
    let page = LoginPage {
        layout: Layout::anonymous(&req, "Sign in"),
        csrf: csrf.clone(),
        email,
        error: Some(error),
        sso: crate::web::handlers::sso::button(&req, None, Some(next).filter(|n| !n.is_empty())),
        next: next.to_string(),
        setup_hint: false,
    };
    let mut resp = html_status(status, page.render()?);
    if let Some(secs) = retry_after {
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, v);
        }
    }
    Ok(with_pre_cookie(&state, resp, csrf))
}

/// The request's `User-Agent`, if it is text.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    app::auth::sign_out(&state, &cu.session).await?;
    let mut resp = see_other_with_flash(&req, urls::LOGIN, "You are signed out.");
    let _ = resp.add_cookie(&session::removal(
        SESSION_COOKIE,
        state.config.cookie_secure,
    ));
    Ok(resp)
}

/// `/login`, `/login/2fa`, `/logout`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::LOGIN_2FA, web::get().to(super::login_2fa::form))
        .route(urls::LOGIN_2FA, web::post().to(super::login_2fa::submit))
        .route(urls::LOGIN, web::get().to(login_form))
        .route(urls::LOGIN, web::post().to(login))
        .route(urls::LOGOUT, web::post().to(logout));
}

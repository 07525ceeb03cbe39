//! Sign-in and sign-out pages; the rules are `app::auth`'s.

use crate::app;
use crate::app::auth::{LOCK_MINUTES, SignIn, random_token};
use crate::app::state::AppState;
use crate::web::csrf::{AnonPosted, Posted};
use crate::web::error::AppError;
use crate::web::extractors::CurrentUser;
use crate::web::next;
use crate::web::render::{Layout, html, html_status, see_other, see_other_with_flash};
use crate::web::session::{self, PRE_CSRF_COOKIE, SESSION_COOKIE};
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
        next: next.unwrap_or_default(),
        setup_hint: app::setup::no_user_yet(&state).await?,
    };
    Ok(with_pre_cookie(&state, html(&req, page.render()?), csrf))
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: AnonPosted<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.0;
    let email = form.email.trim().to_lowercase();
    let previous = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
    let pw = SecretString::from(form.password);
    let (error, status) = match app::auth::sign_in(&state, &email, pw, previous).await? {
        SignIn::SignedIn(sid) => {
            let to = next::requested(&req, form.next.trim());
            let mut resp = see_other(&req, to.as_deref().unwrap_or(urls::ORGS));
            let secure = state.config.cookie_secure;
            let _ = resp.add_cookie(&session::removal(next::NEXT_COOKIE, false));
            let _ = resp.add_cookie(&session::session_cookie(sid, secure));
            let _ = resp.add_cookie(&session::removal(PRE_CSRF_COOKIE, secure));
            return Ok(resp);
        }
        SignIn::Locked => (
            format!(
                "Too many failed sign-ins: this account is locked for {LOCK_MINUTES} minutes. Try again later."
            ),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        SignIn::Refused => (
            "The e-mail address or password is not correct.".to_string(),
            StatusCode::UNAUTHORIZED,
        ),
    };
    let csrf = pre_csrf(&req);
    let page = LoginPage {
        layout: Layout::anonymous(&req, "Sign in"),
        csrf: csrf.clone(),
        email,
        error: Some(error),
        next: next::safe_next(form.next.trim())
            .unwrap_or_default()
            .to_string(),
        setup_hint: false,
    };
    Ok(with_pre_cookie(
        &state,
        html_status(status, page.render()?),
        csrf,
    ))
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

/// `/login`, `/logout`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::LOGIN, web::get().to(login_form))
        .route(urls::LOGIN, web::post().to(login))
        .route(urls::LOGOUT, web::post().to(logout));
}

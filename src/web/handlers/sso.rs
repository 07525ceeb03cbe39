//! `GET /auth/oidc/start`, `GET /auth/oidc/callback`: OpenID Connect single sign-on (the
//! rules are `app::sso`'s). Every refusal ends on a page that says what happened, with a 4xx
//! status: 400 for a broken exchange with the provider (or a callback that did not start
//! here), 403 when the provider's answer is valid but names nobody who may sign in, 404 when
//! SSO is off.

use crate::app;
use crate::app::sso::id_token::IdTokenProblem;
use crate::app::sso::{Callback, Failure, Finished};
use crate::app::state::AppState;
use crate::providers::oidc::OidcHttpError;
use crate::web::client::client_ip;
use crate::web::error::AppError;
use crate::web::next;
use crate::web::render::{Layout, html_status, see_other, see_other_with_flash};
use crate::web::session::{self, PRE_CSRF_COOKIE};
use crate::web::urls;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// The cookie of a sign-in in progress (`app::sso::pending`).
pub const SSO_COOKIE: &str = "fk_sso";

/// The "Sign in with …" button of the sign-in and invitation pages.
#[derive(Debug, Clone)]
pub struct SsoButton {
    pub label: String,
    pub href: String,
}

/// The button when SSO is configured: accepting `invite`, or landing on `next`.
pub fn button(req: &HttpRequest, invite: Option<&str>, next: Option<&str>) -> Option<SsoButton> {
    let state = req.app_data::<web::Data<AppState>>()?;
    let cfg = state.config.oidc.as_ref()?;
    Some(SsoButton {
        label: format!("Sign in with {}", cfg.name),
        href: urls::oidc_start(invite, next),
    })
}

#[derive(Template)]
#[template(path = "pages/auth/sso_failed.html")]
pub struct SsoFailedPage {
    pub layout: Layout,
    pub message: String,
    pub retry: Option<SsoButton>,
}

#[derive(serde::Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    invite: String,
    #[serde(default)]
    next: String,
}

fn callback_url(state: &AppState) -> String {
    format!("{}{}", state.config.base_url, urls::OIDC_CALLBACK)
}

fn provider_text(e: &OidcHttpError) -> String {
    match e {
        OidcHttpError::Unreachable(why) => why.clone(),
        OidcHttpError::Status {
            status,
            error: Some(code),
        } => format!("it answered HTTP {status} ({code})"),
        OidcHttpError::Status { status, .. } => format!("it answered HTTP {status}"),
        OidcHttpError::NotJson => "its answer was not the JSON document expected".into(),
    }
}

fn id_token_text(p: IdTokenProblem) -> &'static str {
    match p {
        IdTokenProblem::Malformed => "it is not a well-formed signed token",
        IdTokenProblem::Algorithm => "it is signed with an algorithm Forgekeys does not accept",
        IdTokenProblem::UnknownKey => "it is signed with a key the provider does not publish",
        IdTokenProblem::Signature => "its signature is not valid",
        IdTokenProblem::Issuer => "it was issued by another provider",
        IdTokenProblem::Audience => "it was issued for another application",
        IdTokenProblem::Time => "it has expired (or the clocks differ too much)",
        IdTokenProblem::Nonce => "it does not belong to this sign-in",
    }
}

/// The sentence and status of a refusal.
fn failure_text(f: &Failure) -> (StatusCode, String) {
    use StatusCode as S;
    const ASK: &str = "Ask an administrator to check the single sign-on settings \
                       (FORGEKEYS_OIDC_*) and the server log.";
    match f {
        Failure::Off => (S::NOT_FOUND, "Single sign-on is not set up here.".into()),
        Failure::Discovery(e) => (
            S::BAD_REQUEST,
            format!(
                "The sign-in provider could not be reached: {}. {ASK}",
                provider_text(e)
            ),
        ),
        Failure::BadDiscovery => (
            S::BAD_REQUEST,
            format!("The sign-in provider's configuration document is not usable. {ASK}"),
        ),
        Failure::Denied(code) => (
            S::FORBIDDEN,
            match code.as_deref() {
                Some("access_denied") | None => {
                    "The sign-in provider did not sign you in.".to_string()
                }
                Some(c) => format!("The sign-in provider did not sign you in ({c})."),
            },
        ),
        Failure::State => (
            S::BAD_REQUEST,
            "This sign-in did not start in this browser, or it took longer than 10 minutes. \
             Start again."
                .into(),
        ),
        Failure::NoCode | Failure::NoIdToken => (
            S::BAD_REQUEST,
            format!("The sign-in provider's answer is incomplete. {ASK}"),
        ),
        Failure::Token(e) => (
            S::BAD_REQUEST,
            format!(
                "The sign-in provider did not confirm the sign-in: {}. Start again; if it \
                 keeps failing: {ASK}",
                provider_text(e)
            ),
        ),
        Failure::Keys(e) => (
            S::BAD_REQUEST,
            format!(
                "The sign-in provider's signing keys could not be read: {}. {ASK}",
                provider_text(e)
            ),
        ),
        Failure::IdToken(p) => (
            S::BAD_REQUEST,
            format!(
                "The identity the sign-in provider sent was refused: {}.",
                id_token_text(*p)
            ),
        ),
        Failure::NoEmail => (
            S::FORBIDDEN,
            "The sign-in provider did not tell Forgekeys your e-mail address.".into(),
        ),
        Failure::EmailNotVerified => (
            S::FORBIDDEN,
            "The sign-in provider has not verified your e-mail address, so Forgekeys cannot \
             use it. Verify it at the provider, then sign in again."
                .into(),
        ),
        Failure::NoAccount => (
            S::FORBIDDEN,
            "No Forgekeys account has the e-mail address the sign-in provider gave. Single \
             sign-on signs in existing members only: ask an Owner or Admin for an invitation."
                .into(),
        ),
        Failure::InviteGone => (
            S::FORBIDDEN,
            "This invitation link does not work: it was already used, revoked, or it expired. \
             Ask an Owner or Admin of the organization for a new one."
                .into(),
        ),
        Failure::InviteForOther => (
            S::FORBIDDEN,
            "This invitation is for another e-mail address than the one the sign-in provider \
             gave. Sign in at the provider with the invited address."
                .into(),
        ),
    }
}

fn failed(req: &HttpRequest, f: &Failure) -> Result<HttpResponse, AppError> {
    let (status, message) = failure_text(f);
    let page = SsoFailedPage {
        layout: Layout::anonymous(req, "Single sign-on failed"),
        message,
        retry: button(req, None, None),
    };
    let secure = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.config.cookie_secure);
    let mut resp = html_status(status, page.render()?);
    let _ = resp.add_cookie(&session::removal(SSO_COOKIE, secure));
    Ok(resp)
}

/// `GET /auth/oidc/start`.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<StartQuery>,
) -> Result<HttpResponse, AppError> {
    let invite: String = q.invite.trim().chars().take(200).collect();
    let invite = (!invite.is_empty()).then_some(invite);
    let next = next::safe_next(q.next.trim()).map(str::to_string);
    match app::sso::start(&state, &callback_url(&state), invite, next).await? {
        Ok(started) => {
            let mut resp = see_other(&req, started.to.as_str());
            let age = CookieDuration::seconds(app::sso::pending::LIFETIME.num_seconds());
            let cookie = session::cookie(
                SSO_COOKIE,
                started.cookie,
                state.config.cookie_secure,
                Some(age),
            );
            let _ = resp.add_cookie(&cookie);
            Ok(resp)
        }
        Err(f) => failed(&req, &f),
    }
}

#[derive(serde::Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// `GET /auth/oidc/callback`.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<CallbackQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let cb = Callback {
        code: q.code,
        state: q.state,
        error: q.error,
        iss: q.iss,
    };
    let cookie = req.cookie(SSO_COOKIE).map(|c| c.value().to_string());
    let origin = app::auth::Origin {
        user_agent: crate::web::handlers::auth::user_agent(&req),
        client_ip: client_ip(&req),
    };
    let done =
        app::sso::finish(&state, &callback_url(&state), cookie.as_deref(), cb, origin).await?;
    let (mut resp, sid) = match done {
        Ok(Finished::SignedIn { session, next }) => {
            let to = next
                .as_deref()
                .and_then(next::safe_next)
                .unwrap_or(urls::ORGS);
            (see_other(&req, to), session)
        }
        Ok(Finished::Joined { session, org }) => (
            see_other_with_flash(
                &req,
                &urls::org_home(&org.slug),
                &format!("Welcome to {}.", org.name),
            ),
            session,
        ),
        Err(f) => return failed(&req, &f),
    };
    let secure = state.config.cookie_secure;
    let _ = resp.add_cookie(&session::session_cookie(sid, secure));
    let _ = resp.add_cookie(&session::removal(SSO_COOKIE, secure));
    let _ = resp.add_cookie(&session::removal(PRE_CSRF_COOKIE, secure));
    let _ = resp.add_cookie(&session::removal(next::NEXT_COOKIE, false));
    Ok(resp)
}

/// `/auth/oidc/start`, `/auth/oidc/callback`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::OIDC_START, web::get().to(start))
        .route(urls::OIDC_CALLBACK, web::get().to(callback));
}

//! `GET/POST /invites/{token}`: accepting an invitation. A signed-in user whose e-mail address
//! is the invited one joins with one button; a new person sets `password` and
//! `password_confirm` (the account is created with the invited address and signed in); someone
//! who already has an account with that address is sent to sign in first (and comes back
//! here). A signed-in user with another address is refused: the invitation is for the address.

use crate::app;
use crate::app::members::invites::{Accepted, AcceptedNew, OpenInvite};
use crate::app::state::AppState;
use crate::crypto::password;
use crate::web::csrf::{AnonPosted, Posted};
use crate::web::error::AppError;
use crate::web::extractors::CurrentUser;
use crate::web::forms::FormErrors;
use crate::web::forms::account::password_message;
use crate::web::handlers::auth::{pre_csrf, with_pre_cookie};
use crate::web::render::{Layout, html_status, see_other_with_flash};
use crate::web::session::{self, PRE_CSRF_COOKIE};
use crate::web::urls;
use crate::web::view::time::fmt_time;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use futures::future::LocalBoxFuture;
use secrecy::SecretString;
use serde::de::DeserializeOwned;

/// What the page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Signed in with the invited address: a Join button.
    Join,
    /// Signed in with another address.
    WrongAccount,
    /// Not signed in, an account with the address exists: sign in first.
    SignIn,
    /// Not signed in, no account: choose a password.
    NewAccount,
    /// Unknown, used, revoked or expired.
    Gone,
}

#[derive(Template)]
#[template(path = "pages/members/invite.html")]
pub struct InvitePage {
    pub layout: Layout,
    pub offer: Offer,
    pub action: String,
    pub csrf: String,
    pub org_name: String,
    pub email: String,
    pub role: &'static str,
    pub expires: String,
    pub signed_in_as: String,
    pub login_url: String,
    pub errors: FormErrors,
    /// "Sign in with …" accepting this invitation, when single sign-on is configured.
    pub sso: Option<crate::web::handlers::sso::SsoButton>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// A form posted to the invitation: CSRF-checked against the session when signed in, against
/// the pre-session cookie otherwise.
pub struct InvitePosted<T> {
    pub form: T,
    pub user: Option<CurrentUser>,
}

impl<T: DeserializeOwned + 'static> FromRequest for InvitePosted<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            match CurrentUser::load(&req).await {
                Ok(cu) => {
                    let Posted(form) = Posted::<T>::from_request(&req, &mut payload).await?;
                    Ok(InvitePosted {
                        form,
                        user: Some(cu),
                    })
                }
                Err(_) => {
                    let AnonPosted(form) =
                        AnonPosted::<T>::from_request(&req, &mut payload).await?;
                    Ok(InvitePosted { form, user: None })
                }
            }
        })
    }
}

fn token(path: &web::Path<String>) -> String {
    path.as_str().chars().take(200).collect()
}

fn render(
    req: &HttpRequest,
    token: &str,
    offer: Offer,
    invite: Option<&OpenInvite>,
    user: Option<&CurrentUser>,
    csrf: String,
    errors: FormErrors,
) -> Result<String, AppError> {
    let title = match offer {
        Offer::Gone => "Invitation not valid".to_string(),
        _ => format!(
            "Join {}",
            invite.map(|i| i.org.name.as_str()).unwrap_or_default()
        ),
    };
    let mut layout = Layout::anonymous(req, title);
    if let Some(cu) = user {
        layout.user_email = Some(cu.user.email.clone());
        layout.csrf = Some(cu.session.csrf_token.clone());
    }
    let page = InvitePage {
        layout,
        offer,
        action: urls::invite(token),
        csrf,
        org_name: invite.map(|i| i.org.name.clone()).unwrap_or_default(),
        email: invite.map(|i| i.email.clone()).unwrap_or_default(),
        role: invite.map(|i| i.role.label()).unwrap_or_default(),
        expires: invite.map(|i| fmt_time(i.expires_at)).unwrap_or_default(),
        signed_in_as: user.map(|u| u.user.email.clone()).unwrap_or_default(),
        login_url: urls::login_then(&urls::invite(token)),
        errors,
        sso: crate::web::handlers::sso::button(req, Some(token), None),
    };
    Ok(page.render()?)
}

fn gone(req: &HttpRequest, token: &str) -> Result<HttpResponse, AppError> {
    let body = render(
        req,
        token,
        Offer::Gone,
        None,
        None,
        String::new(),
        FormErrors::default(),
    )?;
    Ok(html_status(StatusCode::GONE, body))
}

/// `GET /invites/{token}`.
pub async fn show_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token(&path);
    let Some(invite) = app::members::invites::find_open(&state, &token).await? else {
        return gone(&req, &token);
    };
    let user = CurrentUser::load(&req).await.ok();
    let offer = match &user {
        Some(cu) if cu.user.email == invite.email => Offer::Join,
        Some(_) => Offer::WrongAccount,
        None if invite.account_exists => Offer::SignIn,
        None => Offer::NewAccount,
    };
    let csrf = match &user {
        Some(cu) => cu.session.csrf_token.clone(),
        None => pre_csrf(&req),
    };
    let body = render(
        &req,
        &token,
        offer,
        Some(&invite),
        user.as_ref(),
        csrf.clone(),
        FormErrors::default(),
    )?;
    let resp = html_status(StatusCode::OK, body);
    Ok(if user.is_none() {
        with_pre_cookie(&state, resp, csrf)
    } else {
        resp
    })
}

fn welcome(org: &str, role: crate::domain::role::Role) -> String {
    format!(
        "Welcome to {org}: you are a member with the role {}.",
        role.label()
    )
}

/// `POST /invites/{token}`.
pub async fn accept_invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: InvitePosted<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let token = token(&path);
    let ip = crate::web::client::client_ip(&req);
    if let Some(cu) = &posted.user {
        return match app::members::accept_invite_as(&state, &token, &cu.user.id, ip).await? {
            Accepted::Joined { org, role } => Ok(see_other_with_flash(
                &req,
                urls::ORGS,
                &welcome(&org.name, role),
            )),
            Accepted::AlreadyMember { org, role } => Ok(see_other_with_flash(
                &req,
                urls::ORGS,
                &format!(
                    "You were already a member of {} (role {}).",
                    org.name,
                    role.label()
                ),
            )),
            Accepted::WrongAccount { .. } => {
                let Some(invite) = app::members::invites::find_open(&state, &token).await? else {
                    return gone(&req, &token);
                };
                let csrf = cu.session.csrf_token.clone();
                let body = render(
                    &req,
                    &token,
                    Offer::WrongAccount,
                    Some(&invite),
                    Some(cu),
                    csrf,
                    FormErrors::default(),
                )?;
                Ok(html_status(StatusCode::FORBIDDEN, body))
            }
            Accepted::Gone => gone(&req, &token),
        };
    }
    let f = posted.form;
    let mut errors = FormErrors::default();
    if let Err(e) = password::check_policy(&f.password) {
        errors.add("password", password_message(e));
    } else if f.password != f.password_confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
    if !errors.is_empty() {
        let Some(invite) = app::members::invites::find_open(&state, &token).await? else {
            return gone(&req, &token);
        };
        let csrf = pre_csrf(&req);
        let body = render(
            &req,
            &token,
            Offer::NewAccount,
            Some(&invite),
            None,
            csrf,
            errors,
        )?;
        return Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, body));
    }
    let pw = SecretString::from(f.password);
    let origin = app::auth::Origin {
        user_agent: crate::web::handlers::auth::user_agent(&req),
        client_ip: ip,
    };
    match app::members::accept_with_password(&state, &token, pw, origin).await? {
        AcceptedNew::Joined {
            org,
            role,
            session: sid,
        } => {
            let mut resp = see_other_with_flash(&req, urls::ORGS, &welcome(&org.name, role));
            let secure = state.config.cookie_secure;
            let _ = resp.add_cookie(&session::session_cookie(sid, secure));
            let _ = resp.add_cookie(&session::removal(PRE_CSRF_COOKIE, secure));
            Ok(resp)
        }
        AcceptedNew::AccountExists => {
            let Some(invite) = app::members::invites::find_open(&state, &token).await? else {
                return gone(&req, &token);
            };
            let csrf = pre_csrf(&req);
            let body = render(
                &req,
                &token,
                Offer::SignIn,
                Some(&invite),
                None,
                csrf,
                FormErrors::default(),
            )?;
            Ok(html_status(StatusCode::CONFLICT, body))
        }
        AcceptedNew::Gone => gone(&req, &token),
    }
}

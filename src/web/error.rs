//! Errors of the web layer, mapped to pages in one place.
//!
//! Normal requests get an error page; HTMX requests get a small fragment swapped into the page's
//! message area (`HX-Retarget`/`HX-Reswap`); `Unauthorized` redirects to the login page (over
//! HTMX with `HX-Redirect`). Internal errors are logged with their chain and shown only as an id.

use crate::app::{self, BadRequest, Conflict};
use crate::domain::role::Permission;
use crate::web::extractors::CurrentUser;
use crate::web::render::Layout;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use std::fmt;

pub enum AppError {
    /// Not logged in (or the session ended).
    Unauthorized,
    /// Unknown route, unknown organization, not a member, or another organization's object.
    NotFound,
    /// Member, but the role does not allow this.
    Forbidden(Permission),
    /// The request failed the CSRF / origin checks.
    Csrf,
    /// A sign-in or setup form came back without its cookie over plain http while cookies are
    /// `Secure`: the browser refused the cookie, not the user's fault.
    CookieRefused,
    /// Malformed request that no form field explains.
    BadRequest(String),
    /// The request conflicts with the state (shown as a message).
    Conflict(String),
    /// Anything unexpected. Logged; shown as an opaque id.
    Internal(anyhow::Error),
    /// `/setup` without a valid one-time link (a 404 that says where the link comes from).
    SetupClosed,
    /// The organization requires two-factor sign-in and the member has it off: sent to enroll.
    TwoFactorRequired,
}

pub fn error_chain_fmt(e: &dyn std::error::Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "{e}")?;
    let mut current = e.source();
    while let Some(cause) = current {
        writeln!(f, "Caused by:\n\t{cause}")?;
        current = cause.source();
    }
    Ok(())
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Internal(e) => write!(f, "Internal({e:?})"),
            other => write!(f, "{other}"),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unauthorized => f.write_str("sign-in required"),
            AppError::NotFound => f.write_str("not found"),
            AppError::Forbidden(p) => write!(f, "forbidden: {}", p.describe()),
            AppError::Csrf => f.write_str("request failed the CSRF check"),
            AppError::CookieRefused => f.write_str("Secure cookie not returned over plain http"),
            AppError::BadRequest(m) | AppError::Conflict(m) => f.write_str(m),
            AppError::Internal(e) => write!(f, "internal error: {e}"),
            AppError::SetupClosed => f.write_str("setup link missing, wrong or used"),
            AppError::TwoFactorRequired => f.write_str("two-factor sign-in required"),
        }
    }
}

/// The one conversion from what a use case refuses to what the browser gets; every sentence is
/// written here.
impl From<app::Error> for AppError {
    fn from(e: app::Error) -> AppError {
        match e {
            app::Error::NotFound => AppError::NotFound,
            app::Error::Forbidden(p) => AppError::Forbidden(p),
            app::Error::Conflict(c) => AppError::Conflict(conflict_text(&c)),
            app::Error::BadRequest(b) => AppError::BadRequest(bad_request_text(&b)),
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// A conflict in words.
pub fn conflict_text(c: &Conflict) -> String {
    match c {
        Conflict::TokenInUse { name, services } => format!(
            "“{name}” is used by {services} service(s). Move them to another token before deleting it."
        ),
        Conflict::TokenChanged => {
            "The token was changed by someone else meanwhile; nothing was changed. Reload the page and try again.".into()
        }
        Conflict::TokenGone => "The token was deleted meanwhile; nothing was changed.".into(),
        Conflict::ServiceChanged { name: Some(n) } => {
            format!("“{n}” changed in the meantime. Nothing was moved; reload the page.")
        }
        Conflict::ServiceChanged { name: None } => {
            "A selected service no longer exists. Nothing was moved; reload the page.".into()
        }
        Conflict::RotationRunning => {
            "A rotation of this token is already running. Wait a moment and reload.".into()
        }
        Conflict::RotationNotStored { incident } => format!(
            "GitLab issued a new token and revoked the old one, but Forgekeys could not store \
             the new value (incident {incident}). Create a new token at GitLab and use Rotate \
             with its value."
        ),
        Conflict::EditedMeanwhile => {
            "This token was changed by someone else while you were editing; nothing was saved. \
             The form below shows what you entered over the current version: review and save again."
                .into()
        }
        Conflict::LastOwner => "This is the organization's last Owner: make another member \
             Owner first. An organization always keeps at least one Owner."
            .into(),
    }
}

fn bad_request_text(b: &BadRequest) -> String {
    match b {
        BadRequest::ProviderRotationUnsupported { name, provider } => {
            let provider = provider.label();
            format!(
                "Rotation at the provider is available for GitLab tokens only; “{name}” is a \
                 {provider} token. Create a new token at {provider} and use Rotate with the new \
                 value."
            )
        }
        BadRequest::ApiKeyFields => "The API key's name, role or lifetime is not valid.".into(),
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> AppError {
        AppError::Internal(anyhow::anyhow!("template error: {e}"))
    }
}

/// A whole error page, in the layout of every page: with the signed-in user's header (e-mail,
/// sign-out form) when the request carries a valid session ([`signed_in_header`]).
#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    title: &'a str,
    message: String,
    roles: Vec<&'static str>,
    incident: Option<String>,
}

/// The incident id of an internal error's page, kept on the response so the page rendered
/// again with the header ([`signed_in_header`]) names the id that was logged.
#[derive(Clone)]
struct Incident(String);

#[derive(Template)]
#[template(path = "errors/toast.html")]
struct ErrorToast<'a> {
    title: &'a str,
    message: String,
}

impl AppError {
    pub(crate) fn describe(&self) -> (&'static str, String, Vec<&'static str>) {
        match self {
            AppError::Unauthorized => ("Sign in required", "Sign in to continue.".into(), vec![]),
            AppError::NotFound => (
                "Page not found",
                "There is nothing here, or you do not have access to it.".into(),
                vec![],
            ),
            AppError::Forbidden(p) => {
                let roles: Vec<&'static str> = p.roles().into_iter().map(|r| r.label()).collect();
                (
                    "Not allowed",
                    format!(
                        "Your role in this organization does not allow you to {}. Ask an organization Owner or Admin if you need it.",
                        p.describe()
                    ),
                    roles,
                )
            }
            AppError::Csrf => (
                "Request refused",
                "This form was not sent from a Forgekeys page in this browser session (or the session has ended). Reload the page and try again.".into(),
                vec![],
            ),
            AppError::CookieRefused => (
                "Your browser refused the sign-in cookie",
                "This server marks its cookies Secure (FORGEKEYS_COOKIE_SECURE), and browsers send those back only over https — this page was opened over plain http. Open Forgekeys at its https address (set FORGEKEYS_BASE_URL to it, behind a TLS reverse proxy), or, on a trusted network without TLS, set FORGEKEYS_COOKIE_SECURE=false.".into(),
                vec![],
            ),
            AppError::BadRequest(m) => ("Bad request", m.clone(), vec![]),
            AppError::Conflict(m) => ("Cannot do that", m.clone(), vec![]),
            AppError::Internal(_) => (
                "Something went wrong",
                "An unexpected error occurred. Nothing secret was shown or logged. Give the incident id below to your operator.".into(),
                vec![],
            ),
            AppError::TwoFactorRequired => (
                "Two-factor sign-in required",
                "This organization requires two-factor sign-in. Turn it on from your account page.".into(),
                vec![],
            ),
            AppError::SetupClosed => (
                "No setup here",
                "This setup link is missing its token, is wrong, or was already used. On its first start, while no user exists, Forgekeys prints a one-time link (/setup?token=…) in its log: open that exact link. If Forgekeys is already set up, sign in instead; an operator can add people with forgekeys user add.".into(),
                vec![],
            ),
        }
    }
}

impl AppError {
    /// Answered with an error page (not a redirect, not an HTMX fragment).
    fn has_page(&self) -> bool {
        !matches!(self, AppError::Unauthorized | AppError::TwoFactorRequired)
            && !crate::web::htmx::current_request_is_htmx()
    }

    /// The error page, with the header of `user` when signed in.
    fn page(&self, user: Option<&CurrentUser>, incident: Option<String>) -> String {
        let (title, message, roles) = self.describe();
        let status = self.status_code();
        let layout = Layout {
            title: title.to_string(),
            assets: crate::web::assets::urls(),
            csrf: user.map(|u| u.session.csrf_token.clone()),
            user_email: user.map(|u| u.user.email.clone()),
            org: None,
            flash: None,
            active: "",
            cookie_warning: false,
        };
        ErrorPage {
            layout,
            status: status.as_u16(),
            title,
            message,
            roles,
            incident,
        }
        .render()
        .unwrap_or_else(|_| format!("{} {title}", status.as_u16()))
    }
}

/// Middleware: an error page answered to a request with a valid session gets that user's
/// header (e-mail, account link, sign-out form with its CSRF token) like every other page.
/// `error_response` has no request, so the page is rendered there without it and once more
/// here when the session is known (looked up only for error pages, then cached as for pages).
pub async fn signed_in_header(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // (The request is cloned only once routed: routing needs it unshared.)
    let res = next.call(req).await?.map_into_boxed_body();
    let http = res.request().clone();
    let Some(err) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .filter(|e| e.has_page())
    else {
        return Ok(res);
    };
    // The JSON API answers with problems, and never by the session.
    if crate::web::api::is_api_path(http.path())
        || http.cookie(crate::web::session::SESSION_COOKIE).is_none()
    {
        return Ok(res);
    }
    let Ok(user) = CurrentUser::load(&http).await else {
        return Ok(res);
    };
    let incident = res
        .response()
        .extensions()
        .get::<Incident>()
        .map(|i| i.0.clone());
    let body = err.page(Some(&user), incident);
    let (http, resp) = res.into_parts();
    Ok(ServiceResponse::new(
        http,
        resp.set_body(BoxBody::new(body)),
    ))
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Unauthorized | AppError::TwoFactorRequired => StatusCode::SEE_OTHER,
            AppError::NotFound | AppError::SetupClosed => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) | AppError::Csrf | AppError::CookieRefused => {
                StatusCode::FORBIDDEN
            }
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Called without the request; the HTMX flag is carried through a task-local set by
        // the htmx middleware. Fall back to a full page.
        let is_htmx = crate::web::htmx::current_request_is_htmx();
        if let AppError::Unauthorized = self {
            return if is_htmx {
                HttpResponse::Unauthorized()
                    .insert_header(("HX-Redirect", "/login"))
                    .finish()
            } else {
                // The page that was asked for, to return to after signing in.
                let mut resp = HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/login"))
                    .finish();
                if let Some(path) = crate::web::next::asked_for() {
                    let _ = resp.add_cookie(&crate::web::next::cookie(path));
                }
                resp
            };
        }
        if let AppError::TwoFactorRequired = self {
            let to = crate::web::urls::ACCOUNT_2FA_REQUIRED;
            return if is_htmx {
                HttpResponse::Ok()
                    .insert_header(("HX-Redirect", to))
                    .finish()
            } else {
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, to))
                    .finish()
            };
        }
        let incident = if let AppError::Internal(e) = self {
            let id = uuid::Uuid::new_v4().to_string();
            tracing::error!(incident = %id, error = ?e, "internal error");
            Some(id)
        } else {
            None
        };
        let status = self.status_code();
        let body = if is_htmx {
            let (title, message, _) = self.describe();
            let message = match &incident {
                Some(id) => format!("{message} (incident {id})"),
                None => message,
            };
            ErrorToast { title, message }
                .render()
                .unwrap_or_else(|_| format!("{} {title}", status.as_u16()))
        } else {
            self.page(None, incident.clone())
        };
        let mut resp = HttpResponse::build(status);
        resp.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ));
        resp.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if is_htmx {
            resp.insert_header(("HX-Retarget", "#messages"));
            resp.insert_header(("HX-Reswap", "innerHTML"));
        }
        let mut resp = resp.body(body);
        if let Some(id) = incident {
            resp.extensions_mut().insert(Incident(id));
        }
        resp
    }
}

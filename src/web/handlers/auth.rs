//! Sign-in and sign-out.

use crate::crypto::password;
use crate::db::StoreError;
use crate::db::models::audit::Audit;
use crate::db::models::membership::Membership;
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::state::AppState;
use crate::web::csrf::{AnonPosted, Posted};
use crate::web::error::AppError;
use crate::web::extractors::CurrentUser;
use crate::web::render::{Layout, html, html_status, see_other, see_other_with_flash};
use crate::web::session::{self, PRE_CSRF_COOKIE, SESSION_COOKIE, hash_id, random_token};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

/// Failed attempts before an account is locked, and for how long.
pub const LOCK_THRESHOLD: i64 = 5;
pub fn lock_duration() -> chrono::Duration {
    chrono::Duration::minutes(15)
}

#[derive(Template)]
#[template(path = "pages/auth/login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub csrf: String,
    pub email: String,
    pub error: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The pre-session CSRF value: the one already in the browser (several tabs keep working), or a new one.
pub fn pre_csrf(req: &HttpRequest) -> String {
    req.cookie(PRE_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32)
        .unwrap_or_else(random_token)
}

fn with_pre_cookie(state: &AppState, mut resp: HttpResponse, csrf: String) -> HttpResponse {
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
) -> Result<HttpResponse, AppError> {
    if CurrentUser::load(&req).await.is_ok() {
        return Ok(see_other(&req, "/orgs"));
    }
    let csrf = pre_csrf(&req);
    let page = LoginPage {
        layout: Layout::anonymous(&req, "Sign in"),
        csrf: csrf.clone(),
        email: String::new(),
        error: None,
    };
    Ok(with_pre_cookie(&state, html(&req, page.render()?), csrf))
}

enum LoginResult {
    Ok(User),
    Locked,
    Bad,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: AnonPosted<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.0;
    let email = form.email.trim().to_lowercase();
    let pw = SecretString::from(form.password);
    let st = state.clone();
    let email2 = email.clone();
    // Argon2 and the database run on the blocking pool, never on an async worker.
    let result = web::block(move || -> Result<LoginResult, StoreError> {
        let mut conn = st.conn()?;
        let user = User::find_by_email(&mut conn, &email2)?;
        // Claim one of the account's attempts before checking the password (one atomic
        // UPDATE): parallel guesses share the same LOCK_THRESHOLD attempts instead of each
        // reading "not locked yet".
        let claimed = match &user {
            Some(u) => User::claim_attempt(&mut conn, &u.id, LOCK_THRESHOLD)?,
            None => true,
        };
        // Unknown e-mail: verified against a dummy hash, so timing does not tell it apart.
        let ok = claimed && password::verify(&pw, user.as_ref().map(|u| u.password_hash.as_str()));
        let mut audit = Audit::new("login_failed");
        // Only what looks like an e-mail address: a password typed into the e-mail field must
        // not land in the audit log.
        audit.actor_email = Some(
            crate::db::models::user::parse_email(&email2)
                .unwrap_or_else(|_| "(not an e-mail address)".into()),
        );
        audit.actor_user_id = user.as_ref().map(|u| u.id.clone());
        let result = match user {
            Some(u) if !claimed => {
                // Locked, or every attempt taken: make sure the lock is in place (also heals
                // attempts left claimed by an interrupted request).
                User::lock_if_exhausted(&mut conn, &u.id, LOCK_THRESHOLD, lock_duration())?;
                audit.details = serde_json::json!({"reason": "locked"});
                LoginResult::Locked
            }
            Some(u) if ok => {
                User::record_success(&mut conn, &u.id)?;
                audit.action = "login";
                LoginResult::Ok(u)
            }
            Some(u) => {
                User::lock_if_exhausted(&mut conn, &u.id, LOCK_THRESHOLD, lock_duration())?;
                audit.details = serde_json::json!({"reason": "bad_password"});
                LoginResult::Bad
            }
            None => {
                audit.details = serde_json::json!({"reason": "unknown_email"});
                LoginResult::Bad
            }
        };
        // Record against every organization the user belongs to, or globally.
        let orgs = match &audit.actor_user_id {
            Some(uid) => Membership::orgs_of_user(&mut conn, uid)?,
            None => Vec::new(),
        };
        if orgs.is_empty() {
            audit.write(&mut conn)?;
        } else {
            for (org, _) in orgs {
                let mut a = audit.clone();
                a.org_id = Some(org.id);
                a.write(&mut conn)?;
            }
        }
        Ok(result)
    })
    .await??;

    match result {
        LoginResult::Ok(user) => {
            let st = state.clone();
            let old = req.cookie(SESSION_COOKIE).map(|c| hash_id(c.value()));
            let sid = web::block(move || -> Result<String, StoreError> {
                let mut conn = st.conn()?;
                if let Some(old) = old {
                    Session::delete(&mut conn, &old)?;
                }
                session::start(&mut conn, &user.id)
            })
            .await??;
            let mut resp = see_other(&req, "/orgs");
            let _ = resp.add_cookie(&session::session_cookie(sid, state.config.cookie_secure));
            let _ = resp.add_cookie(&session::removal(
                PRE_CSRF_COOKIE,
                state.config.cookie_secure,
            ));
            Ok(resp)
        }
        LoginResult::Locked | LoginResult::Bad => {
            let error = if matches!(result, LoginResult::Locked) {
                format!(
                    "Too many failed sign-ins: this account is locked for {} minutes. Try again later.",
                    lock_duration().num_minutes()
                )
            } else {
                "The e-mail address or password is not correct.".to_string()
            };
            let csrf = pre_csrf(&req);
            let page = LoginPage {
                layout: Layout::anonymous(&req, "Sign in"),
                csrf: csrf.clone(),
                email,
                error: Some(error),
            };
            let status = if matches!(result, LoginResult::Locked) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            Ok(with_pre_cookie(
                &state,
                html_status(status, page.render()?),
                csrf,
            ))
        }
    }
}

#[derive(serde::Deserialize)]
pub struct Empty {}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    cu: CurrentUser,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let st = state.clone();
    let id_hash = cu.session.id_hash.clone();
    web::block(move || {
        let mut conn = st.conn()?;
        Session::delete(&mut conn, &id_hash)
    })
    .await??;
    let mut resp = see_other_with_flash(&req, "/login", "You are signed out.");
    let _ = resp.add_cookie(&session::removal(
        SESSION_COOKIE,
        state.config.cookie_secure,
    ));
    Ok(resp)
}

/// `/login`, `/logout`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls;
    cfg.route(urls::LOGIN, web::get().to(login_form))
        .route(urls::LOGIN, web::post().to(login))
        .route(urls::LOGOUT, web::post().to(logout));
}

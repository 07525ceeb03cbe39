//! First start: the one-time setup page creates the first organization and its Owner. It is gone
//! once any user exists.

use crate::crypto::password;
use crate::db::models::audit::Audit;
use crate::db::models::membership::Membership;
use crate::db::models::organization::{Organization, parse_slug};
use crate::db::models::user::{User, parse_email};
use crate::db::{DbConn, StoreError};
use crate::domain::role::Role;
use crate::state::AppState;
use crate::web::csrf::AnonPosted;
use crate::web::error::AppError;
use crate::web::forms::FormErrors;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::session::{self, PRE_CSRF_COOKIE};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::Connection;
use secrecy::SecretString;
use subtle::ConstantTimeEq;

#[derive(Template)]
#[template(path = "pages/auth/setup.html")]
pub struct SetupPage {
    pub layout: Layout,
    pub csrf: String,
    pub token: String,
    pub org_name: String,
    pub org_slug: String,
    pub email: String,
    pub errors: FormErrors,
}

#[derive(serde::Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    org_name: String,
    #[serde(default)]
    org_slug: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[derive(serde::Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

/// The setup token matches and no user exists yet.
async fn setup_open(state: &web::Data<AppState>, token: &str) -> Result<bool, AppError> {
    let Some(expected) = state.setup_token() else {
        return Ok(false);
    };
    if token.is_empty() || !bool::from(expected.as_bytes().ct_eq(token.as_bytes())) {
        return Ok(false);
    }
    let st = state.clone();
    let users = web::block(move || {
        let mut conn = st.conn()?;
        User::count(&mut conn)
    })
    .await??;
    if users > 0 {
        state.clear_setup_token();
        return Ok(false);
    }
    Ok(true)
}

pub async fn setup_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<SetupQuery>,
) -> Result<HttpResponse, AppError> {
    if !setup_open(&state, &q.token).await? {
        return Err(AppError::NotFound);
    }
    let csrf = crate::web::handlers::auth::pre_csrf(&req);
    let page = SetupPage {
        layout: Layout::anonymous(&req, "Set up Forgekeys"),
        csrf: csrf.clone(),
        token: q.token.clone(),
        org_name: String::new(),
        org_slug: String::new(),
        email: String::new(),
        errors: FormErrors::default(),
    };
    let mut resp = html(&req, page.render()?);
    let _ = resp.add_cookie(&session::cookie(
        PRE_CSRF_COOKIE,
        csrf,
        state.config.cookie_secure,
        None,
    ));
    Ok(resp)
}

fn create_all(
    conn: &mut DbConn,
    slug: &str,
    name: &str,
    email: &str,
    hash: &str,
) -> Result<User, StoreError> {
    conn.transaction(|conn| {
        let org = Organization::create(conn, slug, name)?;
        let user = User::create(conn, email, hash)?;
        Membership::upsert(conn, &org.id, &user.id, Role::Owner)?;
        let mut a = Audit::new("setup");
        a.org_id = Some(org.id.clone());
        a.actor_user_id = Some(user.id.clone());
        a.actor_email = Some(user.email.clone());
        a.details = serde_json::json!({"created": ["organization", "owner"]});
        a.write(conn)?;
        Ok(user)
    })
}

pub async fn setup(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: AnonPosted<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let f = form.0;
    if !setup_open(&state, &f.token).await? {
        return Err(AppError::NotFound);
    }
    let mut errors = FormErrors::default();
    let name = f.org_name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add(
            "org_name",
            "Enter the organization's name (1–100 characters).",
        );
    }
    let slug = parse_slug(&f.org_slug)
        .map_err(|m| errors.add("org_slug", m))
        .ok();
    let email = parse_email(&f.email)
        .map_err(|m| errors.add("email", m))
        .ok();
    if let Err(m) = password::check_policy(&f.password) {
        errors.add("password", m);
    } else if f.password != f.password_confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
    let (Some(slug), Some(email), true) = (slug, email, errors.is_empty()) else {
        let csrf = req
            .cookie(PRE_CSRF_COOKIE)
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let page = SetupPage {
            layout: Layout::anonymous(&req, "Set up Forgekeys"),
            csrf,
            token: f.token,
            org_name: f.org_name,
            org_slug: f.org_slug,
            email: f.email,
            errors,
        };
        return Ok(html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            page.render()?,
        ));
    };
    let st = state.clone();
    let pw = SecretString::from(f.password);
    let slug2 = slug.clone();
    let sid = web::block(move || -> Result<String, StoreError> {
        let hash = password::hash(&pw)
            .map_err(|e| StoreError::Corrupt(format!("password hashing failed: {e}")))?;
        let mut conn = st.conn()?;
        let user = create_all(&mut conn, &slug2, &name, &email, &hash)?;
        session::start(&mut conn, &user.id)
    })
    .await??;
    state.clear_setup_token();
    tracing::info!(org = %slug, "setup complete: first organization and owner created");
    let mut resp = see_other_with_flash(
        &req,
        &format!("/orgs/{slug}/settings/git-tokens"),
        "Welcome! Your organization is ready. Add its first Git token.",
    );
    let _ = resp.add_cookie(&session::session_cookie(sid, state.config.cookie_secure));
    let _ = resp.add_cookie(&session::removal(
        PRE_CSRF_COOKIE,
        state.config.cookie_secure,
    ));
    Ok(resp)
}

/// `/setup`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls;
    cfg.route(urls::SETUP, web::get().to(setup_form))
        .route(urls::SETUP, web::post().to(setup));
}

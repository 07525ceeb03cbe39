//! Server-side sessions: the cookie carries a random id, the database its SHA-256.

use crate::db::models::session::Session;
use crate::db::{DbConn, StoreError, now};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "fk_session";
/// Pre-session CSRF cookie for the login and setup forms.
pub const PRE_CSRF_COOKIE: &str = "fk_pre";
pub const FLASH_COOKIE: &str = "fk_flash";

/// Sessions end after 12 idle hours or 7 days, whichever comes first.
pub fn idle_timeout() -> chrono::Duration {
    chrono::Duration::hours(12)
}
pub fn absolute_timeout() -> chrono::Duration {
    chrono::Duration::days(7)
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

pub fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Start a session for a user (a fresh id: login renews it). Returns the cookie value.
pub fn start(conn: &mut DbConn, user_id: &str) -> Result<String, StoreError> {
    let id = random_token();
    let n = now();
    Session::insert(
        conn,
        &Session {
            id_hash: hash_id(&id),
            user_id: user_id.to_string(),
            csrf_token: random_token(),
            created_at: n,
            last_seen_at: n,
            expires_at: n + absolute_timeout(),
        },
    )?;
    let _ = Session::delete_expired(conn);
    Ok(id)
}

pub fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
    max_age: Option<CookieDuration>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(age);
    }
    c
}

pub fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    cookie(SESSION_COOKIE, value, secure, Some(CookieDuration::days(7)))
}

pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), secure, None);
    c.make_removal();
    c
}

//! The cookies: the session id (sessions themselves live in the database, see `app::auth`),
//! the pre-session CSRF value of the sign-in and setup forms, and one-time flash messages.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

pub const SESSION_COOKIE: &str = "fk_session";
/// Pre-session CSRF cookie for the login and setup forms.
pub const PRE_CSRF_COOKIE: &str = "fk_pre";
pub const FLASH_COOKIE: &str = "fk_flash";
/// A browser that signed in before: a random id (the database keeps its SHA-256 per account);
/// a correct password from it passes the sign-in throttles (`app::auth::throttle`).
pub const DEVICE_COOKIE: &str = "fk_device";
/// The pending half-session between the password and the second factor (`/login/2fa`).
pub const PENDING_COOKIE: &str = "fk_2fa";

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

/// The known-device cookie: kept 180 days (as long as the database remembers the device).
pub fn device_cookie(value: String, secure: bool) -> Cookie<'static> {
    cookie(
        DEVICE_COOKIE,
        value,
        secure,
        Some(CookieDuration::days(180)),
    )
}

pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), secure, None);
    c.make_removal();
    c
}

/// The pending second-factor cookie: as long as the pending sign-in lives.
pub fn pending_cookie(value: String, secure: bool) -> Cookie<'static> {
    let minutes = crate::app::auth::second_factor::PENDING_VALID.num_minutes();
    cookie(
        PENDING_COOKIE,
        value,
        secure,
        Some(CookieDuration::minutes(minutes)),
    )
}

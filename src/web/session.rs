//! The cookies: the session id (sessions themselves live in the database, see `app::auth`),
//! the pre-session CSRF value of the sign-in and setup forms, and one-time flash messages.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

pub const SESSION_COOKIE: &str = "fk_session";
/// Pre-session CSRF cookie for the login and setup forms.
pub const PRE_CSRF_COOKIE: &str = "fk_pre";
pub const FLASH_COOKIE: &str = "fk_flash";

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

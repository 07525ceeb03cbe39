//! The signed-in user's own account (DESIGN.md §3a): the password (the current one checked on
//! the hashing pool; a change ends every other session), the list of their sessions with
//! sign-out of one or of all others, and TOTP two-factor sign-in ([`two_factor`]).
//!
//! These use cases act on the session's own user only: there is no role to check, and another
//! user's session id is "not found".

pub mod two_factor;

use super::Error;
use crate::app::audit::Who;
use crate::app::auth::throttle::EMAIL;
use crate::app::auth::{IDLE_TIMEOUT, Session};
use crate::app::members::reset::{record, write_everywhere};
use crate::app::state::AppState;
use crate::crypto::password;
use crate::db::DbConn;
use crate::db::models::login_throttle::{Claim, Throttle};
use crate::db::models::session::Session as SessionRow;
use crate::db::models::user::User as UserRow;
use crate::domain::audit::AuditAction;
use chrono::NaiveDateTime;
use secrecy::SecretString;
use std::net::IpAddr;

/// One of the user's sessions.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    /// The id the revoke form names (the SHA-256 of the cookie's id, never the id itself).
    pub id: String,
    /// The session this request comes from.
    pub current: bool,
    pub signed_in_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
}

/// The user's live sessions, most recently used first.
pub async fn sessions(state: &AppState, session: &Session) -> Result<Vec<SessionEntry>, Error> {
    let (user, now) = (session.user.id.as_str().to_string(), state.clock.naive());
    let rows = state
        .db(move |conn| Ok(SessionRow::list_for_user(conn, &user, IDLE_TIMEOUT, now)?))
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionEntry {
            current: r.id_hash == session.id_hash,
            id: r.id_hash,
            signed_in_at: r.created_at,
            last_seen_at: r.last_seen_at,
            user_agent: r.user_agent,
            client_ip: r.client_ip,
        })
        .collect())
}

fn audit(
    conn: &mut DbConn,
    session: &Session,
    action: AuditAction,
    ip: Option<IpAddr>,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let who = Who::User(session.user.clone());
    let rec = record(action, who, &session.user.email, ip);
    write_everywhere(conn, session.user.id.as_str(), rec, now)
}

/// End one of the user's own sessions (false: no such session of theirs).
pub async fn revoke_session(
    state: &AppState,
    session: &Session,
    id: &str,
    ip: Option<IpAddr>,
) -> Result<bool, Error> {
    let (session, id, now) = (session.clone(), id.to_string(), state.clock.naive());
    state
        .tx(move |conn| {
            if !SessionRow::delete_of_user(conn, session.user.id.as_str(), &id)? {
                return Ok(false);
            }
            audit(conn, &session, AuditAction::SessionRevoke, ip, now)?;
            Ok(true)
        })
        .await
}

/// End every session of the user but this one; returns how many ended.
pub async fn revoke_other_sessions(
    state: &AppState,
    session: &Session,
    ip: Option<IpAddr>,
) -> Result<usize, Error> {
    let (session, now) = (session.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let n = SessionRow::delete_others(conn, session.user.id.as_str(), &session.id_hash)?;
            if n > 0 {
                audit(conn, &session, AuditAction::SessionRevoke, ip, now)?;
            }
            Ok(n)
        })
        .await
}

/// What became of a password change.
#[derive(Debug)]
pub enum PasswordChange {
    /// Set; `ended` other sessions of the user ended.
    Changed { ended: usize },
    /// The current password was not correct.
    WrongCurrent,
    /// Too many wrong current passwords for this account: try again after `retry_after`.
    Throttled { retry_after: chrono::Duration },
    /// The hashing pool is full: try again in a moment.
    Busy,
}

/// The throttle key of wrong current passwords on the account page (per account).
pub(crate) fn account_key(user_id: &str) -> String {
    format!("account:{user_id}")
}

/// Check the current password on the hashing pool (counted by the account's throttle).
/// `Ok(None)` when it is correct.
pub(crate) async fn check_password(
    state: &AppState,
    session: &Session,
    current: SecretString,
) -> Result<Option<PasswordChange>, Error> {
    let now = state.clock.naive();
    let Ok(slot) = state
        .hasher
        .reserve_within(crate::app::hashing::WAIT_FOR_A_PLACE)
        .await
    else {
        return Ok(Some(PasswordChange::Busy));
    };
    let user_id = session.user.id.as_str().to_string();
    let key = account_key(&user_id);
    let (u, k) = (user_id.clone(), key.clone());
    let claimed = state
        .db(move |conn| {
            Ok(match Throttle::claim(conn, &k, EMAIL, now)? {
                Claim::Taken => Ok(UserRow::find(conn, &u)?.map(|u| u.password_hash)),
                Claim::Locked(until) => Err(until),
            })
        })
        .await?;
    let stored = match claimed {
        Ok(stored) => stored,
        Err(until) => {
            let retry_after = (until - now).max(chrono::Duration::seconds(1));
            return Ok(Some(PasswordChange::Throttled { retry_after }));
        }
    };
    let checked = state
        .hasher
        .run_in(slot, move || password::verify(&current, stored.as_deref()))
        .await;
    let Ok(ok) = checked else {
        let k = key.clone();
        state
            .db(move |conn| Ok(Throttle::release(conn, &k)?))
            .await?;
        return Ok(Some(PasswordChange::Busy));
    };
    state
        .db(move |conn| {
            if ok {
                Throttle::clear(conn, &key)?;
            } else {
                Throttle::lock_if_exhausted(conn, &key, EMAIL, now)?;
            }
            Ok(())
        })
        .await?;
    Ok((!ok).then_some(PasswordChange::WrongCurrent))
}

/// Change the user's password (the new one's policy checked by the caller): the current one
/// must be correct; every other session of the user ends; audited.
pub async fn change_password(
    state: &AppState,
    session: &Session,
    current: SecretString,
    new: SecretString,
    ip: Option<IpAddr>,
) -> Result<PasswordChange, Error> {
    if let Some(refused) = check_password(state, session, current).await? {
        return Ok(refused);
    }
    let hashed = crate::app::members::hash_password(state, new).await?;
    let (session, now) = (session.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let user = session.user.id.as_str();
            UserRow::set_password(conn, user, &hashed)?;
            let ended = SessionRow::delete_others(conn, user, &session.id_hash)?;
            crate::db::models::pending_sign_in::PendingSignIn::delete_for_user(conn, user)?;
            audit(conn, &session, AuditAction::PasswordChange, ip, now)?;
            Ok(PasswordChange::Changed { ended })
        })
        .await
}

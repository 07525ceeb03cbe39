//! The second step of signing in, for accounts with two-factor sign-in on: after a correct
//! password the browser holds a **pending** half-session (a random id in a cookie, its SHA-256
//! in `pending_sign_ins`, valid [`PENDING_VALID`]); it becomes a session once a TOTP code (not
//! used before) or an unused recovery code is right. Wrong codes count against the account's
//! own throttle key with the e-mail limits ([`super::throttle::EMAIL`]): 5 in 15 minutes, then
//! 15 minutes of 429.

use super::throttle::EMAIL;
use super::{Origin, hash_id, random_token, start_session_from};
use crate::app::Error;
use crate::app::account::two_factor::use_code;
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::login_throttle::{Claim, Throttle};
use crate::db::models::pending_sign_in::PendingSignIn;
use crate::db::models::user::User as UserRow;
use crate::domain::audit::AuditAction;
use crate::domain::ids::UserId;
use chrono::{Duration, NaiveDateTime};
use std::net::IpAddr;

pub const PENDING_VALID: Duration = Duration::minutes(5);

/// Store a pending sign-in for the user; returns its cookie id.
pub(super) fn start(
    conn: &mut DbConn,
    user_id: &str,
    origin: &Origin,
    now: NaiveDateTime,
) -> Result<String, Error> {
    let id = random_token();
    PendingSignIn::insert(
        conn,
        &PendingSignIn {
            id_hash: hash_id(&id),
            user_id: user_id.to_string(),
            user_agent: origin.user_agent(),
            client_ip: origin.client_ip.map(|ip| ip.to_canonical().to_string()),
            created_at: now,
            expires_at: now + PENDING_VALID,
        },
    )?;
    Ok(id)
}

/// Whether the pending sign-in with this cookie id is still open.
pub async fn pending_open(state: &AppState, pending: &str) -> Result<bool, Error> {
    let (hash, now) = (hash_id(pending), state.clock.naive());
    state
        .db(move |conn| Ok(PendingSignIn::find_live(conn, &hash, now)?.is_some()))
        .await
}

/// What became of the code.
#[derive(Debug)]
pub enum SecondStep {
    /// Signed in: the new session's cookie id.
    SignedIn { session: String },
    /// A wrong, already used or malformed code.
    Refused,
    /// No such pending sign-in, or it expired: sign in with the password again.
    Gone,
    /// Too many wrong codes for this account.
    Throttled { retry_after: Duration },
}

/// The throttle key of an account's second-factor codes.
fn code_key(user_id: &str) -> String {
    format!("2fa:{user_id}")
}

/// Check the code of a pending sign-in.
pub async fn second_factor(
    state: &AppState,
    pending: &str,
    code: String,
    client_ip: Option<IpAddr>,
) -> Result<SecondStep, Error> {
    let (hash, now, unix) = (
        hash_id(pending),
        state.clock.naive(),
        state.clock.now().timestamp(),
    );
    let st = state.clone();
    state
        .tx(move |conn| {
            let Some(p) = PendingSignIn::find_live(conn, &hash, now)? else {
                return Ok(SecondStep::Gone);
            };
            let Some(user) = UserRow::find(conn, &p.user_id)? else {
                return Ok(SecondStep::Gone);
            };
            let key = code_key(&user.id);
            if let Claim::Locked(until) = Throttle::claim(conn, &key, EMAIL, now)? {
                let retry_after = (until - now).max(Duration::seconds(1));
                return Ok(SecondStep::Throttled { retry_after });
            }
            let email = user.email.clone();
            if !use_code(&st, conn, &user.id, &code, now, unix)? {
                Throttle::lock_if_exhausted(conn, &key, EMAIL, now)?;
                let action = AuditAction::LoginFailed;
                let reason = Some("bad_code");
                super::sign_in::audit(conn, &email, client_ip, Some(&user), action, reason, now)?;
                return Ok(SecondStep::Refused);
            }
            if !PendingSignIn::take(conn, &hash)? {
                return Ok(SecondStep::Gone);
            }
            Throttle::clear(conn, &key)?;
            let origin = Origin {
                user_agent: p.user_agent.clone(),
                client_ip,
            };
            let session = start_session_from(conn, &UserId::new(user.id.clone()), &origin, now)?;
            let action = AuditAction::Login;
            super::sign_in::audit(conn, &email, client_ip, Some(&user), action, None, now)?;
            Ok(SecondStep::SignedIn { session })
        })
        .await
}

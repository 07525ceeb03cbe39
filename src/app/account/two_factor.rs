//! TOTP two-factor sign-in (RFC 6238: SHA-1, 6 digits, 30 s) for the user's own account:
//! enrollment (a new secret, sealed under the master key like token values, on until its first
//! code is right), [`RECOVERY_CODES`] single-use recovery codes shown once (SHA-256 stored),
//! and turning it off (password and a code).
//!
//! A code counts once: the last accepted time step is stored and a code of that step or an
//! earlier one is refused (`TotpRow::use_step`, atomic across processes).

use super::{PasswordChange, audit, check_password};
use crate::app::Error;
use crate::app::auth::{Session, hash_id};
use crate::app::state::AppState;
use crate::crypto::totp;
use crate::db::DbConn;
use crate::db::models::two_factor::{RecoveryCodes, TotpRow};
use crate::domain::audit::AuditAction;
use chrono::NaiveDateTime;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;

pub const RECOVERY_CODES: usize = 10;
/// The issuer an authenticator app shows beside the account.
pub const ISSUER: &str = "Forgekeys";

/// The two-factor state of the user's account.
#[derive(Debug, Clone)]
pub enum Status {
    On {
        since: NaiveDateTime,
        recovery_left: i64,
    },
    /// Off; the secret to scan (kept across reloads of the page until confirmed).
    Enrolling { secret: String, uri: String },
}

fn open(state: &AppState, user_id: &str, row: &TotpRow) -> Result<Option<SecretString>, Error> {
    match (&row.secret, &row.key_id) {
        (Some(blob), Some(key)) => Ok(Some(state.open_totp(user_id, key, blob)?)),
        _ => Ok(None),
    }
}

/// The account's state; while off, a pending secret to enroll with (a new one on the first
/// visit).
pub async fn status(state: &AppState, session: &Session) -> Result<Status, Error> {
    let user = session.user.id.as_str().to_string();
    let email = session.user.email.clone();
    let st = state.clone();
    state
        .tx(move |conn| {
            let row = TotpRow::find(conn, &user)?.ok_or(Error::NotFound)?;
            if let Some(since) = row.enabled_at {
                let recovery_left = RecoveryCodes::left(conn, &user)?;
                return Ok(Status::On {
                    since,
                    recovery_left,
                });
            }
            let secret = match open(&st, &user, &row)? {
                Some(s) => s,
                None => {
                    let s = SecretString::from(totp::new_secret());
                    let (blob, key) = st.seal_totp(conn, &user, &s)?;
                    TotpRow::set_pending(conn, &user, &blob, &key)?;
                    s
                }
            };
            let secret = secret.expose_secret().to_string();
            Ok(Status::Enrolling {
                uri: totp::otpauth_uri(ISSUER, &email, &secret),
                secret,
            })
        })
        .await
}

/// Whether the user has two-factor sign-in on.
pub async fn is_on(state: &AppState, session: &Session) -> Result<bool, Error> {
    let user = session.user.id.as_str().to_string();
    state.db(move |conn| Ok(TotpRow::is_on(conn, &user)?)).await
}

/// What became of confirming the enrollment.
#[derive(Debug)]
pub enum Enabled {
    /// On: the recovery codes, to show this once.
    Done {
        recovery_codes: Vec<String>,
    },
    WrongCode,
    AlreadyOn,
}

/// A recovery code: 10 characters in two groups, from an alphabet without look-alikes.
fn new_recovery_code() -> String {
    const A: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let mut s = String::with_capacity(11);
    for i in 0..10 {
        if i == 5 {
            s.push('-');
        }
        s.push(char::from(A[rng.gen_range(0..A.len())]));
    }
    s
}

/// What the database keeps of a recovery code (as typed: case and dashes ignored).
fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hash_id(&format!("recovery:{norm}"))
}

/// Check a TOTP code against the stored secret and use its step. True: accepted.
pub(crate) fn use_totp(
    state: &AppState,
    conn: &mut DbConn,
    user_id: &str,
    row: &TotpRow,
    code: &str,
    now_unix: i64,
) -> Result<bool, Error> {
    let Some(secret) = open(state, user_id, row)? else {
        return Ok(false);
    };
    let Some(step) = totp::verify(secret.expose_secret(), code, now_unix, row.last_step) else {
        return Ok(false);
    };
    Ok(TotpRow::use_step(conn, user_id, step)?)
}

/// A TOTP code or, failing that, an unused recovery code (used up). True: accepted.
pub(crate) fn use_code(
    state: &AppState,
    conn: &mut DbConn,
    user_id: &str,
    code: &str,
    now: NaiveDateTime,
    now_unix: i64,
) -> Result<bool, Error> {
    let Some(row) = TotpRow::find(conn, user_id)? else {
        return Ok(false);
    };
    if row.enabled_at.is_none() {
        return Ok(false);
    }
    if use_totp(state, conn, user_id, &row, code, now_unix)? {
        return Ok(true);
    }
    let code = code.trim();
    if code.len() < 10 || code.len() > 40 {
        return Ok(false);
    }
    Ok(RecoveryCodes::consume(
        conn,
        user_id,
        &recovery_hash(code),
        now,
    )?)
}

/// Turn 2FA on with the first code from the app.
pub async fn enable(
    state: &AppState,
    session: &Session,
    code: String,
    ip: Option<IpAddr>,
) -> Result<Enabled, Error> {
    let (session, now, unix) = (
        session.clone(),
        state.clock.naive(),
        state.clock.now().timestamp(),
    );
    let st = state.clone();
    state
        .tx(move |conn| {
            let user = session.user.id.as_str();
            let row = TotpRow::find(conn, user)?.ok_or(Error::NotFound)?;
            if row.enabled_at.is_some() {
                return Ok(Enabled::AlreadyOn);
            }
            if !use_totp(&st, conn, user, &row, &code, unix)? {
                return Ok(Enabled::WrongCode);
            }
            TotpRow::enable(conn, user, now)?;
            let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
            let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
            RecoveryCodes::replace(conn, user, &hashes, now)?;
            audit(conn, &session, AuditAction::TwoFactorEnable, ip, now)?;
            Ok(Enabled::Done {
                recovery_codes: codes,
            })
        })
        .await
}

/// What became of turning 2FA off.
#[derive(Debug)]
pub enum Disabled {
    Done,
    /// The password was refused (wrong, throttled or busy).
    Password(PasswordChange),
    WrongCode,
    NotOn,
}

/// Turn 2FA off: the password and a current code (or a recovery code).
pub async fn disable(
    state: &AppState,
    session: &Session,
    password: SecretString,
    code: String,
    ip: Option<IpAddr>,
) -> Result<Disabled, Error> {
    if let Some(refused) = check_password(state, session, password).await? {
        return Ok(Disabled::Password(refused));
    }
    let (session, now, unix) = (
        session.clone(),
        state.clock.naive(),
        state.clock.now().timestamp(),
    );
    let st = state.clone();
    state
        .tx(move |conn| {
            let user = session.user.id.as_str();
            if !TotpRow::is_on(conn, user)? {
                return Ok(Disabled::NotOn);
            }
            if !use_code(&st, conn, user, &code, now, unix)? {
                return Ok(Disabled::WrongCode);
            }
            TotpRow::disable(conn, user)?;
            audit(conn, &session, AuditAction::TwoFactorDisable, ip, now)?;
            Ok(Disabled::Done)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_typed_loosely() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(
            recovery_hash(&c),
            recovery_hash(&c.to_uppercase().replace('-', " "))
        );
    }
}

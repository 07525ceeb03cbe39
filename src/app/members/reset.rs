//! One-time password resets: `forgekeys user reset-password EMAIL` prints a link
//! (`/password-reset/{token}`, valid for [`RESET_VALID`], only its SHA-256 stored); the page
//! behind it sets a new password once and ends every session of that user. A new link
//! replaces the user's earlier unused ones.

use crate::app::Error;
use crate::app::audit::{Record, System, Who};
use crate::app::auth::{hash_id, random_token};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::members::Members;
use crate::db::models::membership::Membership;
use crate::db::models::password_reset::PasswordReset;
use crate::db::models::user::User as UserRow;
use crate::domain::account::User;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::OrgId;
use crate::domain::members::RESET_VALID;
use chrono::NaiveDateTime;
use secrecy::SecretString;
use std::net::IpAddr;

/// What became of `user reset-password`.
#[derive(Debug, Clone)]
pub enum ResetIssued {
    /// `token` goes into the link (only its hash is stored).
    Issued {
        token: String,
        expires_at: NaiveDateTime,
    },
    NoSuchUser,
}

/// Write `record` in every organization of the user (or once without one).
pub(crate) fn write_everywhere(
    conn: &mut DbConn,
    user_id: &str,
    record: Record,
    at: NaiveDateTime,
) -> Result<(), Error> {
    let orgs = Membership::orgs_of_user(conn, user_id)?;
    if orgs.is_empty() {
        return record.write(conn, at);
    }
    for (org, _) in orgs {
        let mut r = record.clone();
        r.org = Some(OrgId::new(org.id));
        r.write(conn, at)?;
    }
    Ok(())
}

pub(crate) fn record(action: AuditAction, who: Who, email: &str, ip: Option<IpAddr>) -> Record {
    Record {
        action,
        who,
        org: None,
        token: None,
        details: AuditDetails {
            member: Some(email.to_string()),
            ..AuditDetails::default()
        },
        client_ip: ip,
    }
}

/// Issue a reset link for the account `email` (the operator, from the CLI).
pub async fn issue_password_reset(state: &AppState, email: &str) -> Result<ResetIssued, Error> {
    let (email, now) = (email.to_string(), state.clock.naive());
    state
        .tx(move |conn| {
            let Some(user) = UserRow::find_by_email(conn, &email)? else {
                return Ok(ResetIssued::NoSuchUser);
            };
            let token = random_token();
            let expires_at = now + RESET_VALID;
            PasswordReset::replace_for_user(
                conn,
                &PasswordReset {
                    token_hash: hash_id(&token),
                    user_id: user.id.clone(),
                    created_at: now,
                    expires_at,
                    used_at: None,
                },
            )?;
            let r = record(
                AuditAction::PasswordResetIssue,
                Who::System(System::Cli),
                &user.email,
                None,
            );
            write_everywhere(conn, &user.id, r, now)?;
            Ok(ResetIssued::Issued { token, expires_at })
        })
        .await
}

/// The e-mail address of the account an open reset link is for (`None`: unknown, used or
/// expired).
pub async fn reset_open(state: &AppState, token: &str) -> Result<Option<String>, Error> {
    let (hash, now) = (hash_id(token), state.clock.naive());
    state
        .db(move |conn| {
            let Some(r) = PasswordReset::find_open(conn, &hash, now)? else {
                return Ok(None);
            };
            Ok(UserRow::find(conn, &r.user_id)?.map(|u| u.email))
        })
        .await
}

/// What became of a reset.
#[derive(Debug, Clone)]
pub enum ResetDone {
    /// The password is set and every session of the account ended.
    Done { email: String },
    /// Unknown, used or expired.
    Gone,
}

/// Set a new password through the link (policy checked by the caller).
pub async fn reset_password(
    state: &AppState,
    token: &str,
    password: SecretString,
    client_ip: Option<IpAddr>,
) -> Result<ResetDone, Error> {
    if reset_open(state, token).await?.is_none() {
        return Ok(ResetDone::Gone);
    }
    let hashed = super::hash_password(state, password).await?;
    let (hash, now) = (hash_id(token), state.clock.naive());
    state
        .tx(move |conn| {
            let Some(r) = PasswordReset::find_open(conn, &hash, now)? else {
                return Ok(ResetDone::Gone);
            };
            if !PasswordReset::consume(conn, &hash, now)? {
                return Ok(ResetDone::Gone);
            }
            let user = UserRow::find(conn, &r.user_id)?.ok_or(Error::NotFound)?;
            UserRow::set_password(conn, &user.id, &hashed)?;
            Members::end_sessions(conn, &user.id)?;
            let who = Who::User(User::from(user.clone()));
            let rec = record(AuditAction::PasswordReset, who, &user.email, client_ip);
            write_everywhere(conn, &user.id, rec, now)?;
            Ok(ResetDone::Done { email: user.email })
        })
        .await
}

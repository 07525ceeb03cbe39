//! Accepting an invitation through SSO, for the address the provider verified.

use super::{Failure, Finished, SSO, sign_in_verified};
use crate::app::Error;
use crate::app::auth::Origin;
use crate::app::members::invites::{Accepted, AcceptedNew};
use crate::app::state::AppState;
use crate::db::models::user::User as UserRow;
use crate::domain::audit::AuditAction;
use crate::domain::ids::UserId;
use std::net::IpAddr;

/// Accept the invitation `token` for the verified address `email`: the existing account is
/// signed in and joins; without one, the invited account is created (no password) and joins.
pub(super) async fn accept(
    state: &AppState,
    token: &str,
    email: &str,
    origin: &Origin,
) -> Result<Result<Finished, Failure>, Error> {
    let ip = origin.client_ip;
    let Some(open) = crate::app::members::invites::find_open(state, token).await? else {
        return Ok(Err(Failure::InviteGone));
    };
    if open.email != email {
        return Ok(Err(Failure::InviteForOther));
    }
    if open.account_exists {
        let Some(user) = find_user(state, email).await? else {
            return Ok(Err(Failure::InviteGone));
        };
        return match crate::app::members::accept_invite_as(state, token, &user, ip).await? {
            Accepted::Joined { org, .. } | Accepted::AlreadyMember { org, .. } => {
                match sign_in_verified(state, email, origin).await? {
                    Some(session) => Ok(Ok(Finished::Joined { session, org })),
                    None => Ok(Err(Failure::NoAccount)),
                }
            }
            Accepted::WrongAccount { .. } => Ok(Err(Failure::InviteForOther)),
            Accepted::Gone => Ok(Err(Failure::InviteGone)),
        };
    }
    match crate::app::members::accept_invite_verified(state, token, email, origin.clone()).await? {
        AcceptedNew::Joined { org, session, .. } => {
            signed_in_new(state, email, ip).await?;
            Ok(Ok(Finished::Joined { session, org }))
        }
        AcceptedNew::AccountExists | AcceptedNew::Gone => Ok(Err(Failure::InviteGone)),
    }
}

async fn find_user(state: &AppState, email: &str) -> Result<Option<UserId>, Error> {
    let email = email.to_string();
    state
        .db(move |conn| Ok(UserRow::find_by_email(conn, &email)?.map(|u| UserId::new(u.id))))
        .await
}

/// The sign-in audit entry of an account just created from an invitation through SSO.
async fn signed_in_new(state: &AppState, email: &str, ip: Option<IpAddr>) -> Result<(), Error> {
    let (email, now) = (email.to_string(), state.clock.naive());
    state
        .tx(move |conn| {
            let user = UserRow::find_by_email(conn, &email)?;
            let action = AuditAction::Login;
            crate::app::auth::audit_sign_in(conn, &email, ip, user.as_ref(), action, SSO, now)
        })
        .await
}

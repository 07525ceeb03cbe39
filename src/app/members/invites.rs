//! Invitations: a one-time link (only its SHA-256 is stored), valid for
//! [`INVITE_VALID`], revocable, used at most once (one atomic UPDATE).
//!
//! Who may accept: the link always makes the account with the **invited e-mail address** a
//! member. A new person sets a password and gets that account; someone who already has an
//! account with that address signs in first (or signs in with SSO) and joins. A signed-in user
//! with another address is refused (they would otherwise join under an account the Owner did
//! not invite).

use super::InviteEntry;
use crate::app::audit::{Record, Who};
use crate::app::auth::Origin;
use crate::app::auth::{hash_id, random_token, start_session_from};
use crate::app::error::is_unique_violation;
use crate::app::state::AppState;
use crate::app::{Error, require};
use crate::db::DbConn;
use crate::db::models::invite::Invite;
use crate::db::models::members::{MemberRow, Members};
use crate::db::models::user::User as UserRow;
use crate::domain::account::{Member, Organization, User};
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{InviteId, OrgId, UserId};
use crate::domain::members::{INVITE_VALID, needed_for};
use crate::domain::role::{Permission, Role};
use chrono::NaiveDateTime;
use secrecy::SecretString;
use std::net::IpAddr;

/// What became of an invitation.
#[derive(Debug, Clone)]
pub enum Invited {
    /// Created; `token` goes into the link, shown once (only its hash is stored).
    Created { invite: InviteEntry, token: String },
    /// The address already belongs to a member (with this role): nothing was created.
    AlreadyMember { role: Role },
}

fn details(email: &str, role: Role) -> AuditDetails {
    AuditDetails {
        member: Some(email.to_string()),
        role: Some(role.as_str().into()),
        ..AuditDetails::default()
    }
}

/// Invite `email` (already parsed) with `role`. A new invitation replaces the open ones for the
/// same address. Inviting as Owner needs an Owner.
pub async fn invite(
    state: &AppState,
    member: &Member,
    email: String,
    role: Role,
) -> Result<Invited, Error> {
    require(member, Permission::ManageMembers)?;
    require(member, needed_for(None, Some(role)))?;
    let (m, now) = (member.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let org = m.org.id.as_str();
            if let Some(existing) = MemberRow::find_by_email(conn, org, &email)? {
                return Ok(Invited::AlreadyMember {
                    role: existing.role()?,
                });
            }
            Invite::revoke_for_email(conn, org, &email, now)?;
            let token = random_token();
            let row = Invite {
                id: InviteId::random().into_string(),
                org_id: org.to_string(),
                email: email.clone(),
                role: role.as_str().to_string(),
                token_hash: hash_id(&token),
                invited_by: Some(m.user.email.clone()),
                created_at: now,
                expires_at: now + INVITE_VALID,
                used_at: None,
                used_by: None,
                revoked_at: None,
            };
            Invite::insert(conn, &row)?;
            Record::by(&m, AuditAction::MemberInvite)
                .details(details(&email, role))
                .write(conn, now)?;
            Ok(Invited::Created {
                invite: InviteEntry::try_from(row)?,
                token,
            })
        })
        .await
}

/// Revoke an open invitation of the member's organization (another organization's, a used or
/// an already revoked one: not found).
pub async fn revoke(
    state: &AppState,
    member: &Member,
    id: &InviteId,
) -> Result<InviteEntry, Error> {
    require(member, Permission::ManageMembers)?;
    let (m, id, now) = (member.clone(), id.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let inv = Invite::revoke(conn, m.org.id.as_str(), id.as_str(), now)?
                .ok_or(Error::NotFound)?;
            let entry = InviteEntry::try_from(inv)?;
            require(&m, needed_for(None, Some(entry.role)))?;
            Record::by(&m, AuditAction::MemberInviteRevoke)
                .details(details(&entry.email, entry.role))
                .write(conn, now)?;
            Ok(entry)
        })
        .await
}

/// An open invitation, as its acceptance page shows it.
#[derive(Debug, Clone)]
pub struct OpenInvite {
    pub org: Organization,
    pub email: String,
    pub role: Role,
    pub expires_at: NaiveDateTime,
    /// An account with the invited address exists (its owner signs in to accept).
    pub account_exists: bool,
}

fn open_invite(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<Invite>, Error> {
    let Some(inv) = Invite::find_by_hash(conn, &hash_id(token))? else {
        return Ok(None);
    };
    let open = inv.used_at.is_none() && inv.revoked_at.is_none() && inv.expires_at > now;
    Ok(open.then_some(inv))
}

fn org_of(conn: &mut DbConn, id: &str) -> Result<Organization, Error> {
    Ok(Invite::organization(conn, id)?.into())
}

fn role_of(inv: &Invite) -> Result<Role, Error> {
    Ok(InviteEntry::try_from(inv.clone())?.role)
}

/// The invitation behind a link, while it is open (`None`: unknown, used, revoked or expired).
pub async fn find_open(state: &AppState, token: &str) -> Result<Option<OpenInvite>, Error> {
    let (token, now) = (token.to_string(), state.clock.naive());
    state
        .db(move |conn| {
            let Some(inv) = open_invite(conn, &token, now)? else {
                return Ok(None);
            };
            Ok(Some(OpenInvite {
                org: org_of(conn, &inv.org_id)?,
                role: role_of(&inv)?,
                account_exists: UserRow::find_by_email(conn, &inv.email)?.is_some(),
                email: inv.email,
                expires_at: inv.expires_at,
            }))
        })
        .await
}

/// What became of accepting as an existing account.
#[derive(Debug, Clone)]
pub enum Accepted {
    Joined {
        org: Organization,
        role: Role,
    },
    /// Already a member: the invitation is used up, the role is unchanged.
    AlreadyMember {
        org: Organization,
        role: Role,
    },
    /// The account's address is not the invited one: nothing changed.
    WrongAccount {
        invited: String,
    },
    /// Unknown, used, revoked or expired.
    Gone,
}

fn join_record(user: &User, org: &OrgId, role: Role, ip: Option<IpAddr>) -> Record {
    Record {
        action: AuditAction::MemberJoin,
        who: Who::User(user.clone()),
        org: Some(org.clone()),
        token: None,
        details: details(&user.email, role),
        client_ip: ip,
    }
}

/// Accept the invitation behind `token` as the existing account `user_id`: the signed-in
/// user's "Join", and SSO once the provider has verified the account's e-mail address. The
/// account's address must be the invited one.
pub async fn accept_invite_as(
    state: &AppState,
    token: &str,
    user_id: &UserId,
    client_ip: Option<IpAddr>,
) -> Result<Accepted, Error> {
    let (token, user_id, now) = (token.to_string(), user_id.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let Some(inv) = open_invite(conn, &token, now)? else {
                return Ok(Accepted::Gone);
            };
            let user: User = UserRow::find(conn, user_id.as_str())?
                .ok_or(Error::NotFound)?
                .into();
            if user.email != inv.email {
                return Ok(Accepted::WrongAccount { invited: inv.email });
            }
            if !Invite::consume(conn, &inv.id, user.id.as_str(), now)? {
                return Ok(Accepted::Gone);
            }
            let org = org_of(conn, &inv.org_id)?;
            if let Some(existing) = MemberRow::find(conn, org.id.as_str(), user.id.as_str())? {
                let role = existing.role()?;
                return Ok(Accepted::AlreadyMember { org, role });
            }
            let role = role_of(&inv)?;
            Members::insert(conn, org.id.as_str(), user.id.as_str(), role, now)?;
            join_record(&user, &org.id, role, client_ip).write(conn, now)?;
            Ok(Accepted::Joined { org, role })
        })
        .await
}

/// What became of accepting with a new password.
#[derive(Debug)]
pub enum AcceptedNew {
    /// The account was created, joined, and signed in with this session cookie id.
    Joined {
        org: Organization,
        role: Role,
        session: String,
    },
    /// An account with the invited address exists: sign in to accept.
    AccountExists,
    Gone,
}

/// Accept the invitation behind `token` as a new person: creates the account with the invited
/// address and `password` (policy checked by the caller), joins, and starts a session.
pub async fn accept_with_password(
    state: &AppState,
    token: &str,
    password: SecretString,
    origin: Origin,
) -> Result<AcceptedNew, Error> {
    // Cheap checks first: no hashing for a dead link.
    match find_open(state, token).await? {
        None => return Ok(AcceptedNew::Gone),
        Some(o) if o.account_exists => return Ok(AcceptedNew::AccountExists),
        Some(_) => {}
    }
    let hashed = super::hash_password(state, password).await?;
    join_new(state, token, hashed, None, origin).await
}

/// A stored password hash no password matches (an account made through SSO signs in with SSO
/// until a password is set with a reset link).
const NO_PASSWORD: &str = "!no-password";

/// Accept the invitation behind `token` for a person the SSO provider says owns the verified
/// address `verified_email` and who has no account yet: the account is created without a
/// usable password, joins, and a session starts. An existing account with that address gets
/// `AccountExists` (sign it in and call [`accept_invite_as`]); any other address gets `Gone`.
pub async fn accept_invite_verified(
    state: &AppState,
    token: &str,
    verified_email: &str,
    origin: Origin,
) -> Result<AcceptedNew, Error> {
    join_new(
        state,
        token,
        NO_PASSWORD.to_string(),
        Some(verified_email.trim().to_lowercase()),
        origin,
    )
    .await
}

/// Create the invited account with `hashed`, join, start a session. With `verified`, only
/// for that address.
async fn join_new(
    state: &AppState,
    token: &str,
    hashed: String,
    verified: Option<String>,
    origin: Origin,
) -> Result<AcceptedNew, Error> {
    let (token, now) = (token.to_string(), state.clock.naive());
    let r = state
        .tx(move |conn| {
            let inv = open_invite(conn, &token, now)?.ok_or(Error::NotFound)?;
            if verified.as_ref().is_some_and(|v| *v != inv.email) {
                return Err(Error::NotFound);
            }
            if UserRow::find_by_email(conn, &inv.email)?.is_some() {
                return Ok(AcceptedNew::AccountExists);
            }
            let user: User = UserRow::create(conn, &inv.email, &hashed)?.into();
            // Used by this request or by none: a concurrent acceptance rolls this one back.
            if !Invite::consume(conn, &inv.id, user.id.as_str(), now)? {
                return Err(Error::NotFound);
            }
            let org = org_of(conn, &inv.org_id)?;
            let role = role_of(&inv)?;
            Members::insert(conn, org.id.as_str(), user.id.as_str(), role, now)?;
            join_record(&user, &org.id, role, origin.client_ip).write(conn, now)?;
            // The session records the browser and address the invitation was accepted from.
            let session = start_session_from(conn, &user.id, &origin, now)?;
            Ok(AcceptedNew::Joined { org, role, session })
        })
        .await;
    match r {
        Err(Error::NotFound) => Ok(AcceptedNew::Gone),
        Err(e) if is_unique_violation(&e) => Ok(AcceptedNew::AccountExists),
        other => other,
    }
}

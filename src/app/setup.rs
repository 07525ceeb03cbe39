//! Bootstrap: organizations and their first members. The one-time setup page and the CLI
//! (`forgekeys org add`, `forgekeys user add`) call the same functions.

use super::Error;
use super::audit::{Record, System, Who};
use super::auth::start_session_from;
use super::error::is_unique_violation;
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::membership::Membership;
use crate::db::models::organization::Organization as OrgRow;
use crate::db::models::setup_lock;
use crate::db::models::user::User as UserRow;
use crate::domain::account::{Organization, User};
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::role::Role;
use chrono::NaiveDateTime;
use secrecy::SecretString;

/// A new organization (slug and name already validated by the caller's form or flags).
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub slug: String,
    pub name: String,
}

/// Create an organization in the caller's transaction; `None` when the slug is taken.
fn create_org(conn: &mut DbConn, new: &NewOrg) -> Result<Option<Organization>, Error> {
    if OrgRow::find_by_slug(conn, &new.slug)?.is_some() {
        return Ok(None);
    }
    Ok(Some(OrgRow::create(conn, &new.slug, &new.name)?.into()))
}

/// What became of `org add`.
#[derive(Debug)]
pub enum OrgAdded {
    Created(Organization),
    SlugTaken,
}

/// `forgekeys org add`.
pub async fn add_org(state: &AppState, new: NewOrg) -> Result<OrgAdded, Error> {
    let at = state.clock.naive();
    let r = state
        .tx(move |conn| {
            let Some(org) = create_org(conn, &new)? else {
                return Ok(None);
            };
            Record {
                client_ip: None,
                action: AuditAction::OrgCreate,
                who: Who::System(System::Cli),
                org: Some(org.id.clone()),
                token: None,
                details: AuditDetails::default(),
            }
            .write(conn, at)?;
            Ok(Some(org))
        })
        .await;
    match r {
        Ok(Some(org)) => Ok(OrgAdded::Created(org)),
        Ok(None) => Ok(OrgAdded::SlugTaken),
        Err(e) if is_unique_violation(&e) => Ok(OrgAdded::SlugTaken),
        Err(e) => Err(e),
    }
}

/// What became of `user add`.
#[derive(Debug)]
pub enum MemberAdded {
    /// A new account was created with the given password.
    Created(User),
    /// The account existed and was added to the organization (its password is unchanged).
    Added(User),
    /// The account was already a member with role `old`; its role is now `new` (the same when
    /// nothing changed). Its password is unchanged.
    AlreadyMember {
        user: User,
        old: Role,
        new: Role,
    },
    NoSuchOrg,
    /// The hashing pool is full (a login storm): try again.
    Busy,
}

/// Add a member (creating the account if needed) in the caller's transaction; `None` when a
/// new account is needed but no password was given.
fn add_member_in(
    conn: &mut DbConn,
    org: &OrgId,
    email: &str,
    password_hash: Option<&str>,
    role: Role,
    who: Who,
    at: NaiveDateTime,
) -> Result<Option<MemberAdded>, Error> {
    use crate::db::models::members::{MemberRow, Members};
    let (user, created) = match UserRow::find_by_email(conn, email)? {
        Some(u) => (u, false),
        None => match password_hash {
            Some(h) => (UserRow::create(conn, email, h)?, true),
            None => return Ok(None),
        },
    };
    Members::lock_owners(conn, org.as_str())?;
    let old = match MemberRow::find(conn, org.as_str(), &user.id)? {
        Some(m) => Some(m.role()?),
        None => None,
    };
    if old == Some(Role::Owner)
        && role != Role::Owner
        && Members::count_owners(conn, org.as_str())? <= 1
    {
        return Err(Error::Conflict(super::Conflict::LastOwner));
    }
    let user: User = user.into();
    if old == Some(role) {
        return Ok(Some(MemberAdded::AlreadyMember {
            user,
            old: role,
            new: role,
        }));
    }
    Membership::upsert(conn, org.as_str(), user.id.as_str(), role)?;
    let (action, details) = match old {
        None => (
            AuditAction::MemberAdd,
            AuditDetails {
                member: Some(user.email.clone()),
                role: Some(role.as_str().into()),
                ..AuditDetails::default()
            },
        ),
        Some(old) => (
            AuditAction::MemberRoleChange,
            AuditDetails {
                member: Some(user.email.clone()),
                old_role: Some(old.as_str().into()),
                role: Some(role.as_str().into()),
                ..AuditDetails::default()
            },
        ),
    };
    Record {
        client_ip: None,
        action,
        who,
        org: Some(org.clone()),
        token: None,
        details,
    }
    .write(conn, at)?;
    Ok(Some(match (old, created) {
        (Some(old), _) => MemberAdded::AlreadyMember {
            user,
            old,
            new: role,
        },
        (None, true) => MemberAdded::Created(user),
        (None, false) => MemberAdded::Added(user),
    }))
}

/// Whether no account exists yet (the sign-in page then points to the setup link in the log).
pub async fn no_user_yet(state: &AppState) -> Result<bool, Error> {
    Ok(state.db(|conn| Ok(UserRow::count(conn)?)).await? == 0)
}

/// Whether an account with this e-mail exists (the CLI asks for a password only for new ones).
pub async fn user_exists(state: &AppState, email: &str) -> Result<bool, Error> {
    let email = email.to_string();
    state
        .db(move |conn| Ok(UserRow::find_by_email(conn, &email)?.is_some()))
        .await
}

/// `forgekeys user add`: `password` is needed for a new account only.
pub async fn add_member(
    state: &AppState,
    org_slug: &str,
    email: &str,
    password: Option<SecretString>,
    role: Role,
) -> Result<MemberAdded, Error> {
    let hashed = match password {
        Some(p) => match state.hash_password(p).await? {
            Ok(h) => Some(h),
            Err(_busy) => return Ok(MemberAdded::Busy),
        },
        None => None,
    };
    let (slug, email, at) = (org_slug.to_string(), email.to_string(), state.clock.naive());
    state
        .tx(move |conn| {
            let Some(org) = OrgRow::find_by_slug(conn, &slug)? else {
                return Ok(MemberAdded::NoSuchOrg);
            };
            let org = OrgId::new(org.id);
            let who = Who::System(System::Cli);
            add_member_in(conn, &org, &email, hashed.as_deref(), role, who, at)?
                .ok_or_else(|| Error::Task("a new account needs a password".into()))
        })
        .await
}

/// The first organization and its Owner, from the setup page.
#[derive(Debug, Clone)]
pub struct FirstSetup {
    pub org: NewOrg,
    pub email: String,
    pub password: SecretString,
    /// The address the form came from (recorded in the audit entry and the session).
    pub client_ip: Option<std::net::IpAddr>,
    /// The browser's `User-Agent` (the account page names the session's device from it).
    pub user_agent: Option<String>,
}

/// What became of the setup form.
#[derive(Debug)]
pub enum SetupDone {
    /// Created; signed in with this session cookie id.
    Created { org: Organization, session: String },
    /// The link is not (or no longer) valid.
    Closed,
    /// Another submission (in this or another process) created the first organization and
    /// account first.
    AlreadyDone,
    /// An organization with this slug exists (made with `forgekeys org add`).
    SlugTaken,
    /// The hashing pool is full: try again in a moment.
    Busy,
}

/// What a setup link is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupLink {
    /// It matches and no user exists yet.
    Open,
    /// It matched this server's link, but a user exists (setup done, here or in another
    /// process).
    Used,
    /// Not this server's link.
    Invalid,
}

/// Whether the one-time setup link `token` is open. The link stays known to the process after
/// use (only its presence in memory), so a late submission of it is told that setup is done.
pub async fn setup_link(state: &AppState, token: &str) -> Result<SetupLink, Error> {
    if !state.setup_token_matches(token) {
        return Ok(SetupLink::Invalid);
    }
    let users = state.db(|conn| Ok(UserRow::count(conn)?)).await?;
    Ok(if users > 0 {
        SetupLink::Used
    } else {
        SetupLink::Open
    })
}

/// The first organization and its Owner, in the caller's transaction (holding the setup lock).
fn create_first(
    conn: &mut DbConn,
    setup: &FirstSetup,
    hashed: &str,
    at: NaiveDateTime,
) -> Result<SetupDone, Error> {
    if UserRow::count(conn)? > 0 {
        return Ok(SetupDone::AlreadyDone);
    }
    let Some(org) = create_org(conn, &setup.org)? else {
        return Ok(SetupDone::SlugTaken);
    };
    let user = UserRow::create(conn, &setup.email, hashed)?;
    Membership::upsert(conn, org.id.as_str(), &user.id, Role::Owner)?;
    let user: User = user.into();
    Record {
        action: AuditAction::Setup,
        who: Who::User(user.clone()),
        org: Some(org.id.clone()),
        token: None,
        details: AuditDetails {
            created: vec!["organization".into(), "owner".into()],
            ..AuditDetails::default()
        },
        client_ip: setup.client_ip,
    }
    .write(conn, at)?;
    let origin = super::auth::Origin {
        user_agent: setup.user_agent.clone(),
        client_ip: setup.client_ip,
    };
    let session = start_session_from(conn, &UserId::new(user.id.as_str()), &origin, at)?;
    Ok(SetupDone::Created { org, session })
}

/// Create the first organization and its Owner and sign them in.
///
/// Consumed atomically in the database, so it holds across server processes (each prints its
/// own link): the transaction's first statement takes the setup lock (a write), then checks that
/// no user exists. Of simultaneous submissions, in any process, exactly one creates; the others
/// wait for it and then find a user ([`SetupDone::AlreadyDone`]). The password is hashed before,
/// on the hashing pool, outside any database work.
pub async fn first_setup(
    state: &AppState,
    token: &str,
    setup: FirstSetup,
) -> Result<SetupDone, Error> {
    if !state.setup_token_matches(token) {
        return Ok(SetupDone::Closed);
    }
    let Ok(hashed) = state.hash_password(setup.password.clone()).await? else {
        return Ok(SetupDone::Busy);
    };
    let at = state.clock.naive();
    let r = state
        .tx(move |conn| {
            setup_lock::take(conn)?;
            let done = create_first(conn, &setup, &hashed, at)?;
            setup_lock::release(conn)?;
            Ok(done)
        })
        .await;
    match r {
        Ok(SetupDone::Created { org, session }) => {
            tracing::info!(org = %org.slug, "setup complete: first organization and owner created");
            Ok(SetupDone::Created { org, session })
        }
        Ok(other) => Ok(other),
        // A concurrent setup whose lock row this one met after all (a backend that reports the
        // conflict instead of waiting).
        Err(e) if is_unique_violation(&e) => Ok(SetupDone::AlreadyDone),
        Err(e) => Err(e),
    }
}

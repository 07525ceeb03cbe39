//! Changing a member's role and removing a member, with the Owner rules and the last-Owner
//! guard. The Owner memberships are locked first ([`Members::lock_owners`]), so two
//! simultaneous demotions of the last two Owners cannot both pass the guard.

use super::MemberEntry;
use crate::app::audit::{Record, System, Who};
use crate::app::state::AppState;
use crate::app::{Conflict, Error, require};
use crate::db::DbConn;
use crate::db::models::members::{MemberRow, Members};
use crate::db::models::organization::Organization as OrgRow;
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::members::needed_for;
use crate::domain::role::{Permission, Role};
use chrono::NaiveDateTime;

/// What became of a role change.
#[derive(Debug, Clone)]
pub enum RoleChanged {
    Changed {
        email: String,
        old: Role,
        new: Role,
    },
    /// The member already had that role.
    Unchanged {
        email: String,
        role: Role,
    },
}

fn change_details(email: &str, old: Role, new: Option<Role>) -> AuditDetails {
    AuditDetails {
        member: Some(email.to_string()),
        old_role: Some(old.as_str().into()),
        role: new.map(|r| r.as_str().into()),
        ..AuditDetails::default()
    }
}

/// The target member (locking the Owners first), or not found.
fn target(conn: &mut DbConn, org: &OrgId, user: &UserId) -> Result<MemberEntry, Error> {
    Members::lock_owners(conn, org.as_str())?;
    let row = MemberRow::find(conn, org.as_str(), user.as_str())?.ok_or(Error::NotFound)?;
    Ok(MemberEntry::try_from(row)?)
}

/// Refuse to leave the organization without an Owner.
fn guard_last_owner(conn: &mut DbConn, org: &OrgId, old: Role) -> Result<(), Error> {
    if old == Role::Owner && Members::count_owners(conn, org.as_str())? <= 1 {
        return Err(Error::Conflict(Conflict::LastOwner));
    }
    Ok(())
}

/// Give `user` the role `new` in the member's organization.
pub async fn change_role(
    state: &AppState,
    member: &Member,
    user: &UserId,
    new: Role,
) -> Result<RoleChanged, Error> {
    require(member, Permission::ManageMembers)?;
    let (m, user, now) = (member.clone(), user.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let t = target(conn, &m.org.id, &user)?;
            require(&m, needed_for(Some(t.role), Some(new)))?;
            if t.role == new {
                return Ok(RoleChanged::Unchanged {
                    email: t.email,
                    role: new,
                });
            }
            if new != Role::Owner {
                guard_last_owner(conn, &m.org.id, t.role)?;
            }
            Members::set_role(conn, m.org.id.as_str(), user.as_str(), new)?;
            Record::by(&m, AuditAction::MemberRoleChange)
                .details(change_details(&t.email, t.role, Some(new)))
                .write(conn, now)?;
            Ok(RoleChanged::Changed {
                email: t.email,
                old: t.role,
                new,
            })
        })
        .await
}

/// The member a removal would concern, for its confirmation page (with the same checks as
/// the removal, so the page never offers what would be refused).
pub async fn removal(
    state: &AppState,
    member: &Member,
    user: &UserId,
) -> Result<MemberEntry, Error> {
    require(member, Permission::ManageMembers)?;
    let (m, user) = (member.clone(), user.clone());
    state
        .db(move |conn| {
            let row =
                MemberRow::find(conn, m.org.id.as_str(), user.as_str())?.ok_or(Error::NotFound)?;
            let t = MemberEntry::try_from(row)?;
            require(&m, needed_for(Some(t.role), None))?;
            guard_last_owner(conn, &m.org.id, t.role)?;
            Ok(t)
        })
        .await
}

fn remove_in(
    conn: &mut DbConn,
    org: &OrgId,
    user: &UserId,
    record: Record,
    at: NaiveDateTime,
    allowed: impl FnOnce(Role) -> Result<(), Error>,
) -> Result<MemberEntry, Error> {
    let t = target(conn, org, user)?;
    allowed(t.role)?;
    guard_last_owner(conn, org, t.role)?;
    Members::delete(conn, org.as_str(), user.as_str())?;
    record
        .details(change_details(&t.email, t.role, None))
        .write(conn, at)?;
    Ok(t)
}

/// Remove `user` from the member's organization (their sessions stay; the organization is
/// closed to them from their next request).
pub async fn remove(
    state: &AppState,
    member: &Member,
    user: &UserId,
) -> Result<MemberEntry, Error> {
    require(member, Permission::ManageMembers)?;
    let (m, user, now) = (member.clone(), user.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let record = Record::by(&m, AuditAction::MemberRemove);
            remove_in(conn, &m.org.id, &user, record, now, |role| {
                require(&m, needed_for(Some(role), None))
            })
        })
        .await
}

/// What became of `forgekeys user remove`.
#[derive(Debug, Clone)]
pub enum CliRemoved {
    Removed { role: Role },
    NoSuchOrg,
    NotAMember,
}

/// `forgekeys user remove EMAIL --org ORG` (the operator: any role, but never the last Owner).
pub async fn remove_by_cli(
    state: &AppState,
    org_slug: &str,
    email: &str,
) -> Result<CliRemoved, Error> {
    let (slug, email, now) = (org_slug.to_string(), email.to_string(), state.clock.naive());
    state
        .tx(move |conn| {
            let Some(org) = OrgRow::find_by_slug(conn, &slug)? else {
                return Ok(CliRemoved::NoSuchOrg);
            };
            let Some(row) = MemberRow::find_by_email(conn, &org.id, &email)? else {
                return Ok(CliRemoved::NotAMember);
            };
            let (org, user) = (OrgId::new(org.id), UserId::new(row.user_id));
            let record = Record {
                action: AuditAction::MemberRemove,
                who: Who::System(System::Cli),
                org: Some(org.clone()),
                token: None,
                details: AuditDetails::default(),
                client_ip: None,
            };
            let t = remove_in(conn, &org, &user, record, now, |_| Ok(()))?;
            Ok(CliRemoved::Removed { role: t.role })
        })
        .await
}

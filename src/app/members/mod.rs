//! Members of an organization (DESIGN.md §3a): the members page, invitations and their
//! acceptance, role changes and removal, and one-time password resets.
//!
//! Owner and Admin manage members; only an Owner grants or takes away the Owner role
//! ([`crate::domain::members::needed_for`]); the last Owner can be neither removed nor demoted
//! ([`super::Conflict::LastOwner`]). A role lives in `memberships` only and every
//! organization request reads it afresh (`app::auth::member`), so a removal or a demotion
//! counts from the member's very next request.

pub mod invites;
pub mod manage;
mod password;
pub mod reset;

pub use invites::{accept_invite_as, accept_invite_verified, accept_with_password};
pub use password::hash_password;

use super::{Error, require};
use crate::app::state::AppState;
use crate::db::StoreError;
use crate::db::models::invite::Invite;
use crate::db::models::members::{MemberRow, Members};
use crate::domain::account::Member;
use crate::domain::ids::{InviteId, UserId};
use crate::domain::role::{Permission, Role};
use chrono::NaiveDateTime;

/// Members shown per page.
pub const PAGE_SIZE: i64 = 100;
/// Pending invitations shown (the newest).
pub const INVITES_SHOWN: i64 = 100;

/// One member as the members page shows it.
#[derive(Debug, Clone)]
pub struct MemberEntry {
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub last_sign_in: Option<NaiveDateTime>,
    /// Whether the member signs in with a second factor (TOTP).
    pub two_factor_on: bool,
}

impl TryFrom<MemberRow> for MemberEntry {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<MemberEntry, StoreError> {
        Ok(MemberEntry {
            role: r.role()?,
            user_id: UserId::new(r.user_id),
            email: r.email,
            last_sign_in: r.last_sign_in_at,
            two_factor_on: r.totp_enabled_at.is_some(),
        })
    }
}

/// One open invitation.
#[derive(Debug, Clone)]
pub struct InviteEntry {
    pub id: InviteId,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl TryFrom<Invite> for InviteEntry {
    type Error = StoreError;
    fn try_from(i: Invite) -> Result<InviteEntry, StoreError> {
        Ok(InviteEntry {
            role: Role::parse(&i.role)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown role {:?}", i.role)))?,
            id: InviteId::new(i.id),
            email: i.email,
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
        })
    }
}

/// What the members page shows.
#[derive(Debug, Clone)]
pub struct MembersPage {
    /// This page's members, by e-mail.
    pub members: Vec<MemberEntry>,
    pub total: i64,
    pub page: i64,
    /// Open invitations, newest first.
    pub invites: Vec<InviteEntry>,
    /// How many Owners the organization has (the last one can be neither demoted nor removed).
    pub owners: i64,
}

/// The members page: one page of members and the open invitations (Owner and Admin).
pub async fn list(state: &AppState, member: &Member, page: i64) -> Result<MembersPage, Error> {
    require(member, Permission::ManageMembers)?;
    let org = member.org.id.clone();
    let now = state.clock.naive();
    let page = page.max(1);
    state
        .db(move |conn| {
            let total = MemberRow::count(conn, org.as_str())?;
            let members = MemberRow::page(conn, org.as_str(), (page - 1) * PAGE_SIZE, PAGE_SIZE)?
                .into_iter()
                .map(MemberEntry::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let invites = Invite::pending(conn, org.as_str(), now, INVITES_SHOWN)?
                .into_iter()
                .map(InviteEntry::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(MembersPage {
                members,
                total,
                page,
                invites,
                owners: Members::count_owners(conn, org.as_str())?,
            })
        })
        .await
}

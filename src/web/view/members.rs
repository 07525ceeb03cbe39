//! The members page in words: roles, the two-factor state, times and what the viewer may do
//! with each row.

use super::time::fmt_time;
use crate::app::members::{InviteEntry, MemberEntry};
use crate::domain::account::Member;
use crate::domain::members::needed_for;
use crate::domain::role::Role;
use crate::web::urls;

/// A role choice of a `<select>`.
pub struct RoleOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// The roles `viewer` may hand out (only an Owner offers Owner), `current` selected.
pub fn role_options(viewer: &Member, current: Option<Role>) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .filter(|r| viewer.can(needed_for(None, Some(*r))) || current == Some(*r))
        .map(|r| RoleOption {
            value: r.as_str(),
            label: r.label(),
            selected: current == Some(r),
        })
        .collect()
}

/// What a role may do, in a few words (the invite form's hint).
pub fn role_summary(r: Role) -> &'static str {
    match r {
        Role::Owner => "everything, including Owners",
        Role::Admin => "tokens, services and members",
        Role::Devops => "tokens and services",
        Role::Viewer => "reads tokens and services",
        Role::Billing => "no token access",
    }
}

/// One member row.
pub struct MemberLine {
    pub user_id: String,
    pub email: String,
    pub role: &'static str,
    /// `On` / `Off` (two-factor sign-in).
    pub two_factor: &'static str,
    pub two_factor_class: &'static str,
    pub last_sign_in: String,
    pub is_you: bool,
    /// The organization's only Owner: neither demoted nor removed, so no controls.
    pub last_owner: bool,
    /// The viewer may change this member's role and remove them.
    pub can_change: bool,
    pub options: Vec<RoleOption>,
    pub role_url: String,
    pub remove_url: String,
}

impl MemberLine {
    /// `owners`: how many Owners the organization has.
    pub fn new(viewer: &Member, m: &MemberEntry, owners: i64) -> MemberLine {
        let slug = &viewer.org.slug;
        let last_owner = m.role == Role::Owner && owners <= 1;
        let can_change = viewer.can(needed_for(Some(m.role), None)) && !last_owner;
        MemberLine {
            user_id: m.user_id.to_string(),
            email: m.email.clone(),
            role: m.role.label(),
            two_factor: if m.two_factor_on { "On" } else { "Off" },
            two_factor_class: if m.two_factor_on { "ok" } else { "muted" },
            last_sign_in: m.last_sign_in.map_or_else(|| "Never".to_string(), fmt_time),
            is_you: m.user_id == viewer.user.id,
            last_owner,
            can_change,
            options: if can_change {
                role_options(viewer, Some(m.role))
            } else {
                Vec::new()
            },
            role_url: urls::member_role(slug, m.user_id.as_str()),
            remove_url: urls::member_remove(slug, m.user_id.as_str()),
        }
    }
}

/// One open invitation row.
pub struct InviteLine {
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub invited_by: String,
    pub expires: String,
    pub can_revoke: bool,
    pub revoke_url: String,
}

impl InviteLine {
    pub fn new(viewer: &Member, i: &InviteEntry) -> InviteLine {
        InviteLine {
            id: i.id.to_string(),
            email: i.email.clone(),
            role: i.role.label(),
            invited_by: i.invited_by.clone().unwrap_or_else(|| "—".into()),
            expires: fmt_time(i.expires_at),
            can_revoke: viewer.can(needed_for(None, Some(i.role))),
            revoke_url: urls::invite_revoke(&viewer.org.slug, i.id.as_str()),
        }
    }
}

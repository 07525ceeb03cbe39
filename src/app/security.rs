//! An organization's security settings (DESIGN.md §3a): `require_2fa` — members without
//! two-factor sign-in are sent to enroll before they reach the organization
//! (`app::auth::member`). Owner and Admin change it; audited.

use super::{Error, require};
use crate::app::audit::Record;
use crate::app::state::AppState;
use crate::db::models::two_factor::{OrgSecurity, TotpRow};
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::role::Permission;

/// The settings as the page shows them.
#[derive(Debug, Clone)]
pub struct SecuritySettings {
    pub require_2fa: bool,
}

pub async fn settings(state: &AppState, member: &Member) -> Result<SecuritySettings, Error> {
    require(member, Permission::ManageMembers)?;
    let org = member.org.id.as_str().to_string();
    state
        .db(move |conn| {
            Ok(SecuritySettings {
                require_2fa: OrgSecurity::requires_2fa(conn, &org)?,
            })
        })
        .await
}

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityUpdate {
    Saved,
    /// Nothing changed.
    Unchanged,
    /// Requiring 2FA while the member's own is off would lock them out: they enroll first.
    EnrollFirst,
}

pub async fn set_require_2fa(
    state: &AppState,
    member: &Member,
    on: bool,
) -> Result<SecurityUpdate, Error> {
    require(member, Permission::ManageMembers)?;
    let (member, now) = (member.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let org = member.org.id.as_str();
            if OrgSecurity::requires_2fa(conn, org)? == on {
                return Ok(SecurityUpdate::Unchanged);
            }
            if on && !TotpRow::is_on(conn, member.user.id.as_str())? {
                return Ok(SecurityUpdate::EnrollFirst);
            }
            OrgSecurity::set_require_2fa(conn, org, on)?;
            Record::by(&member, AuditAction::OrgSecurityUpdate)
                .details(AuditDetails {
                    fields: vec!["require_2fa".into()],
                    ..AuditDetails::default()
                })
                .write(conn, now)?;
            Ok(SecurityUpdate::Saved)
        })
        .await
}

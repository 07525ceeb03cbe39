//! Rules of membership (DESIGN.md §3a) that need no storage: how long links live, and who may
//! give or take which role.

use super::role::{Permission, Role};
use chrono::Duration;

/// An invitation link is valid this long after it is created.
pub const INVITE_VALID: Duration = Duration::days(7);
/// A password-reset link from `forgekeys user reset-password` is valid this long.
pub const RESET_VALID: Duration = Duration::hours(1);

/// What an actor needs to move a member from `old` to `new` (`None`: a removal): Owner and
/// Admin manage members; only an Owner grants or takes away the Owner role.
pub fn needed_for(old: Option<Role>, new: Option<Role>) -> Permission {
    if old == Some(Role::Owner) || new == Some(Role::Owner) {
        Permission::ManageOwners
    } else {
        Permission::ManageMembers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_role_needs_an_owner() {
        assert_eq!(
            needed_for(Some(Role::Viewer), Some(Role::Owner)),
            Permission::ManageOwners
        );
        assert_eq!(
            needed_for(Some(Role::Owner), None),
            Permission::ManageOwners
        );
        assert_eq!(
            needed_for(Some(Role::Devops), Some(Role::Admin)),
            Permission::ManageMembers
        );
        assert_eq!(
            needed_for(None, Some(Role::Viewer)),
            Permission::ManageMembers
        );
    }
}

//! Organization roles (DESIGN.md §3) and what each may do.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Devops,
    Viewer,
    Billing,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Devops,
        Role::Viewer,
        Role::Billing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Devops => "devops",
            Role::Viewer => "viewer",
            Role::Billing => "billing",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim().to_ascii_lowercase();
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Devops => "DevOps",
            Role::Viewer => "Viewer",
            Role::Billing => "Billing",
        }
    }

    /// Create, edit, test and delete tokens.
    pub fn can_manage_tokens(self) -> bool {
        matches!(self, Role::Owner | Role::Admin | Role::Devops)
    }

    /// See the token list, details and the inventory.
    pub fn can_view_tokens(self) -> bool {
        !matches!(self, Role::Billing)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a role-gated action needs; used to build the 403 page text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ViewTokens,
    ManageTokens,
    /// See services (applications) and which token each uses.
    ViewServices,
    /// Create, edit, delete and move services.
    ManageServices,
    /// Read the organization's audit trail.
    ViewAudit,
    /// Change the organization's notification webhook.
    ManageNotifications,
    /// See and manage the organization's members and invitations (DESIGN.md §3a).
    ManageMembers,
    /// Grant or take away the Owner role (Owners only).
    ManageOwners,
    /// Create and revoke the organization's API keys (DESIGN.md §9): Owners and Admins.
    ManageApiKeys,
}

impl Permission {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Permission::ViewTokens | Permission::ViewServices => role.can_view_tokens(),
            Permission::ManageTokens
            | Permission::ManageServices
            | Permission::ManageNotifications => role.can_manage_tokens(),
            // The audit trail names people and actions: managers only.
            Permission::ViewAudit => role.can_manage_tokens(),
            Permission::ManageMembers | Permission::ManageApiKeys => {
                matches!(role, Role::Owner | Role::Admin)
            }
            Permission::ManageOwners => role == Role::Owner,
        }
    }

    /// Roles that hold this permission, for messages.
    pub fn roles(self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| self.allows(*r)).collect()
    }

    pub fn describe(self) -> &'static str {
        match self {
            Permission::ViewTokens => "view Git tokens",
            Permission::ManageTokens => "manage Git tokens",
            Permission::ViewServices => "view services",
            Permission::ManageServices => "manage services",
            Permission::ViewAudit => "read the audit trail",
            Permission::ManageNotifications => "change notification settings",
            Permission::ManageMembers => "manage members and invitations",
            Permission::ManageOwners => "grant or take away the Owner role",
            Permission::ManageApiKeys => "manage API keys",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix() {
        assert!(Role::Owner.can_manage_tokens());
        assert!(Role::Devops.can_manage_tokens());
        assert!(!Role::Viewer.can_manage_tokens());
        assert!(Role::Viewer.can_view_tokens());
        assert!(!Role::Billing.can_view_tokens());
        assert_eq!(
            Permission::ManageTokens.roles(),
            vec![Role::Owner, Role::Admin, Role::Devops]
        );
        assert_eq!(Role::parse("DevOps"), Some(Role::Devops));
        assert_eq!(
            Permission::ManageMembers.roles(),
            vec![Role::Owner, Role::Admin]
        );
        assert_eq!(Permission::ManageOwners.roles(), vec![Role::Owner]);
    }
}

//! Organizations, users and memberships as the use cases see them (no password hash here).

use super::ids::{OrgId, UserId};
use super::role::{Permission, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
}

/// A signed-in user acting in one organization with their role there: the actor of every
/// organization use case, which checks the role itself.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub org: Organization,
    pub role: Role,
}

impl Member {
    pub fn can(&self, p: Permission) -> bool {
        p.allows(self.role)
    }
}

//! What a service is and how it reaches Git (DESIGN.md §7: `kind`, `access`), and a stored
//! service as the use cases see it.

use super::ids::{OrgId, ServiceId, TokenId};
use super::provider::Provider;
use chrono::NaiveDateTime;

/// Longest service name (characters).
pub const NAME_MAX: usize = 100;

/// `kind` of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    Application,
    Cron,
    Helm,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 3] = [
        ServiceKind::Application,
        ServiceKind::Cron,
        ServiceKind::Helm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Application => "application",
            ServiceKind::Cron => "cron",
            ServiceKind::Helm => "helm",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceKind> {
        ServiceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
    }
}

/// `access`: how a service reaches Git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// An organization token kept in Forgekeys.
    Token,
    /// The legacy GitHub App installation.
    GithubApp,
    /// A member's personal account.
    Personal,
}

impl Access {
    pub const ALL: [Access; 3] = [Access::Token, Access::GithubApp, Access::Personal];

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Token => "token",
            Access::GithubApp => "github_app",
            Access::Personal => "personal",
        }
    }

    pub fn parse(s: &str) -> Option<Access> {
        Access::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }

    /// Legacy access: the GitHub App or a personal account (the migration page moves these).
    pub fn is_legacy(self) -> bool {
        !matches!(self, Access::Token)
    }
}

/// A service (application, cron job, Helm chart): the repository and branch it deploys from and
/// how it reaches Git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: ServiceId,
    pub org_id: OrgId,
    pub name: String,
    pub kind: ServiceKind,
    pub provider: Provider,
    pub access: Access,
    /// The organization token it deploys with (token access only).
    pub token_id: Option<TokenId>,
    pub repository: String,
    pub branch: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::parse(k.as_str()), Some(k));
        }
        for a in Access::ALL {
            assert_eq!(Access::parse(a.as_str()), Some(a));
        }
        assert_eq!(Access::parse("ssh"), None);
        assert!(Access::GithubApp.is_legacy() && !Access::Token.is_legacy());
    }
}

//! What a service is and how it reaches Git (DESIGN.md §7: `kind`, `access`).

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

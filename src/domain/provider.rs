//! Git providers and where they are hosted.

use std::fmt;

/// A Git provider Forgekeys can hold tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Github,
    Gitlab,
    Bitbucket,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Github, Provider::Gitlab, Provider::Bitbucket];

    /// The form / database value (`github`, `gitlab`, `bitbucket`).
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Bitbucket => "bitbucket",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        match s.trim() {
            "github" => Some(Provider::Github),
            "gitlab" => Some(Provider::Gitlab),
            "bitbucket" => Some(Provider::Bitbucket),
            _ => None,
        }
    }

    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Provider::Github => "GitHub",
            Provider::Gitlab => "GitLab",
            Provider::Bitbucket => "Bitbucket",
        }
    }

    /// Label of a hosting choice for this provider.
    pub fn hosting_label(self, hosting: Hosting) -> &'static str {
        match (self, hosting) {
            (Provider::Github, Hosting::Cloud) => "github.com",
            (Provider::Github, Hosting::SelfHosted) => "GitHub Enterprise Server",
            (Provider::Gitlab, Hosting::Cloud) => "gitlab.com",
            (Provider::Gitlab, Hosting::SelfHosted) => "Self-hosted GitLab",
            (Provider::Bitbucket, _) => "Bitbucket Cloud",
        }
    }

    /// Whether this provider can be self-hosted in Forgekeys (Bitbucket Data Center is out of scope).
    pub fn supports_self_hosted(self) -> bool {
        !matches!(self, Provider::Bitbucket)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cloud service or a self-hosted server (GitHub Enterprise Server, self-managed GitLab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hosting {
    Cloud,
    SelfHosted,
}

impl Hosting {
    pub fn as_str(self) -> &'static str {
        match self {
            Hosting::Cloud => "cloud",
            Hosting::SelfHosted => "self_hosted",
        }
    }

    pub fn parse(s: &str) -> Option<Hosting> {
        match s.trim() {
            "cloud" => Some(Hosting::Cloud),
            "self_hosted" => Some(Hosting::SelfHosted),
            _ => None,
        }
    }
}

impl fmt::Display for Hosting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
        assert_eq!(Hosting::parse("self_hosted"), Some(Hosting::SelfHosted));
        assert_eq!(Provider::parse("gitea"), None);
    }
}

//! A stored Git token as the use cases see it: typed values, and never its value or
//! ciphertext (those stay in storage and in [`crate::app`]).

use super::expiry::{Expiry, ExpirySource};
use super::ids::{OrgId, TokenId};
use super::provider::{Hosting, Provider};
use super::status::TestStatus;
use chrono::{NaiveDate, NaiveDateTime};

pub const NAME_MAX: usize = 100;
pub const TOKEN_MAX: usize = 4096;
pub const DESCRIPTION_MAX: usize = 1000;
pub const WORKSPACE_MAX: usize = 62;
/// A Bitbucket username or Atlassian e-mail address has at most 254 characters.
pub const USERNAME_MAX: usize = 254;

/// Where a token is sent: provider, cloud or self-hosted, the server URL (self-hosted) and the
/// Bitbucket workspace. A stored token is only ever sent to the destination it was tested with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub provider: Provider,
    pub hosting: Hosting,
    pub url: Option<String>,
    pub workspace: Option<String>,
    /// Bitbucket API tokens and app passwords are sent with a username (HTTP Basic); it is part
    /// of where the token goes (DESIGN.md §8). `None` for every other token.
    pub username: Option<String>,
}

impl Destination {
    /// Same provider and server (URL compared case-insensitively); Bitbucket workspaces may
    /// differ. Services may move between tokens of the same provider and server.
    pub fn same_server(&self, other: &Destination) -> bool {
        self.provider == other.provider
            && self.hosting == other.hosting
            && self.url.as_deref().map(str::to_lowercase)
                == other.url.as_deref().map(str::to_lowercase)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: TokenId,
    pub org_id: OrgId,
    pub name: String,
    pub destination: Destination,
    pub description: Option<String>,
    /// Known prefix and last 4 characters, e.g. `ghp_…a1b2`.
    pub hint: String,
    pub status: TestStatus,
    pub last_tested_at: Option<NaiveDateTime>,
    /// Provider account the token belongs to, as last seen by a test.
    pub account: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub expiry_source: Option<ExpirySource>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    /// The row's version (optimistic concurrency: an edit names the version it was made on);
    /// 0 where the query did not read it (lists).
    pub version: i64,
}

/// Why a token cannot be chosen for a service (or as a move target).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// The provider rejected it at its last test.
    Rejected,
    /// Its last test said expired, or its expiry date has passed.
    Expired,
}

impl Token {
    pub fn provider(&self) -> Provider {
        self.destination.provider
    }

    pub fn expiry(&self) -> Expiry {
        Expiry::of(self.expires_at, self.expiry_source)
    }

    /// When its current value was made: the last rotation, or else creation.
    pub fn born(&self) -> NaiveDateTime {
        self.rotated_at.unwrap_or(self.created_at)
    }

    /// Why services may not use it now, if they may not.
    pub fn unusable(&self, now: NaiveDateTime) -> Option<Unusable> {
        match self.status {
            TestStatus::Invalid => Some(Unusable::Rejected),
            TestStatus::Expired => Some(Unusable::Expired),
            _ if self.expiry().is_past(now) => Some(Unusable::Expired),
            _ => None,
        }
    }

    /// The key that finds tokens saved twice: same provider, server, workspace and account
    /// (case-insensitive). `None` while the account is unknown: such tokens are never duplicates.
    pub fn identity_key(&self) -> Option<String> {
        identity_key(&self.destination, self.account.as_deref())
    }
}

/// See [`Token::identity_key`]; stored in `git_tokens.identity_key` so duplicates are found
/// with an index.
pub fn identity_key(d: &Destination, account: Option<&str>) -> Option<String> {
    let account = account.map(str::trim).filter(|a| !a.is_empty())?;
    Some(format!(
        "{}|{}|{}|{}|{}",
        d.provider.as_str(),
        d.hosting.as_str(),
        d.url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_lowercase(),
        d.workspace.as_deref().unwrap_or("").to_lowercase(),
        account.to_lowercase()
    ))
}

/// Validated, non-secret fields of a token (from the add/edit form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInput {
    pub provider: Provider,
    pub hosting: Hosting,
    pub name: String,
    pub url: Option<String>,
    pub workspace: Option<String>,
    /// Bitbucket credentials' username (`None`: a Bearer access token).
    pub username: Option<String>,
    pub description: Option<String>,
    /// Admin-entered expiry, for providers that do not report one.
    pub expires_on: Option<NaiveDate>,
}

impl TokenInput {
    pub fn destination(&self) -> Destination {
        Destination {
            provider: self.provider,
            hosting: self.hosting,
            url: self.url.clone(),
            workspace: self.workspace.clone(),
            username: self.username.clone(),
        }
    }

    /// The admin-entered expiry as an instant (midnight UTC), for "a 401 after it is expired".
    pub fn known_expiry(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.expires_on
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc())
    }

    /// Whether the destination the token is sent to differs from `other`'s.
    pub fn destination_differs(&self, other: &TokenInput) -> bool {
        self.destination() != other.destination()
    }

    /// The input an edit form starts from.
    pub fn of(t: &Token) -> TokenInput {
        TokenInput {
            provider: t.destination.provider,
            hosting: t.destination.hosting,
            name: t.name.clone(),
            url: t.destination.url.clone(),
            workspace: t.destination.workspace.clone(),
            username: t.destination.username.clone(),
            description: t.description.clone(),
            expires_on: match t.expiry_source {
                Some(ExpirySource::Admin) => t.expires_at.map(|e| e.date()),
                _ => None,
            },
        }
    }
}

/// Why a GitLab path prefix (`https://host/gitlab`) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathPrefixError {
    /// Not plain segments of letters, digits, `- _ . ~`.
    Characters,
    /// An API path (`/api/v4`), which Forgekeys adds itself.
    ApiPath,
}

/// A path prefix such as `/gitlab` or `/tools/gitlab`: plain segments, not an API path.
pub fn check_path_prefix(path: &str) -> Result<(), PathPrefixError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let plain = |s: &&str| {
        !s.is_empty()
            && *s != "."
            && *s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
    };
    if segments.len() > 5 || !segments.iter().all(plain) {
        return Err(PathPrefixError::Characters);
    }
    if segments.last().is_some_and(|s| *s == "v4" || *s == "v3") || segments.contains(&"api") {
        return Err(PathPrefixError::ApiPath);
    }
    Ok(())
}

/// List filters (DESIGN.md §2: `q`, `provider`, `status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    pub q: Option<String>,
    pub provider: Option<Provider>,
    pub status: Option<TestStatus>,
}

impl TokenFilter {
    pub fn is_empty(&self) -> bool {
        self.q.is_none() && self.provider.is_none() && self.status.is_none()
    }
}

/// The case-insensitive key a name is unique by.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The hint shown after save: a known prefix and the last 4 characters, e.g. `ghp_…a1b2`.
pub fn token_hint(token: &str) -> String {
    const PREFIXES: [&str; 8] = [
        "github_pat_",
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "glpat-",
        "gldt-",
        "ATCTT",
    ];
    let prefix = PREFIXES
        .iter()
        .find(|p| token.starts_with(**p) && token.len() >= p.len() + 8)
        .copied()
        .unwrap_or("");
    let chars: Vec<char> = token.chars().collect();
    if chars.len() < 12 {
        // Too short to reveal anything safely.
        return "…".to_string();
    }
    let last: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_reveals_little() {
        assert_eq!(token_hint("ghp_abcdefghijklmnop1234"), "ghp_…1234");
        assert_eq!(token_hint("short"), "…");
        assert_eq!(token_hint("abcdefghijklmnopqrstuvwxyz"), "…wxyz");
    }
}

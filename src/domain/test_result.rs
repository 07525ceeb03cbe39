//! The outcome of testing a token against its provider (DESIGN.md §4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::status::TestStatus;

/// A required permission the token lacks, with the fix in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingPermission {
    /// Provider name of the permission, e.g. `admin:repo_hook`, `api`, `Maintainer or Owner role`.
    pub name: String,
    /// How to fix it at the provider, in plain words.
    pub fix: String,
}

/// Everything a token test learned. Never contains the token value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    pub status: TestStatus,
    /// Account the token belongs to (GitHub login, GitLab username, "workspace acme (…)").
    pub account: Option<String>,
    /// Kind of token as detected ("classic personal access token", "repo_access_token", …).
    pub token_kind: Option<String>,
    /// Scopes / permissions the provider reported (after expansion where relevant).
    pub scopes: Vec<String>,
    /// Required permissions that are absent.
    pub missing: Vec<MissingPermission>,
    /// Non-failing remarks ("`read:org` recommended", "write permissions not verifiable", …).
    pub warnings: Vec<String>,
    /// Facts worth showing (GitLab projects/groups with Maintainer role, …).
    pub details: Vec<String>,
    /// When the token expires, if the provider reports it.
    pub expires_at: Option<DateTime<Utc>>,
    /// True when the provider positively reports that the token never expires.
    pub never_expires: bool,
    /// Provider / server version where reported (GHES `X-GitHub-Enterprise-Version`).
    pub server_version: Option<String>,
    /// Why the status is not `valid`, redacted and short.
    pub reason: Option<String>,
    pub tested_at: DateTime<Utc>,
}

impl TestOutcome {
    /// An outcome with only a status and a reason.
    pub fn failed(status: TestStatus, reason: impl Into<String>) -> TestOutcome {
        TestOutcome {
            status,
            account: None,
            token_kind: None,
            scopes: Vec::new(),
            missing: Vec::new(),
            warnings: Vec::new(),
            details: Vec::new(),
            expires_at: None,
            never_expires: false,
            server_version: None,
            reason: Some(reason.into()),
            tested_at: Utc::now(),
        }
    }

    /// Whether a token with this outcome may be saved without the admin's explicit confirmation.
    pub fn passes(&self) -> bool {
        self.status == TestStatus::Valid
    }
}

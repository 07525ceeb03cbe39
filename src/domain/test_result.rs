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
    /// The clone-level check: git read access over smart HTTP on the repository the verdict
    /// rests on. Absent in results stored before it existed.
    #[serde(default)]
    pub clone_check: Option<CloneCheck>,
}

/// How the clone-level check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloneResult {
    /// The Git server advertised the repository's refs to the token.
    Passed,
    /// The Git server refused the token or does not show it the repository.
    Failed,
    /// Not run: the API checks failed first, or no repository was found to try.
    Skipped,
    /// Could not be run to the end (network, timeout, an unexpected answer).
    Error,
}

impl CloneResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CloneResult::Passed => "passed",
            CloneResult::Failed => "failed",
            CloneResult::Skipped => "skipped",
            CloneResult::Error => "error",
        }
    }

    /// Words for badges.
    pub fn label(self) -> &'static str {
        match self {
            CloneResult::Passed => "Passed",
            CloneResult::Failed => "Failed",
            CloneResult::Skipped => "Not run",
            CloneResult::Error => "Could not run",
        }
    }
}

/// The clone-level check of a token test (`GET …/{repo}.git/info/refs?service=git-upload-pack`
/// with the token as a clone sends it). Never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloneCheck {
    pub result: CloneResult,
    /// The repository tried (`owner/repo`, a GitLab project path, `workspace/slug`).
    pub repository: Option<String>,
    /// The clone URL tried, without credentials (`https://github.com/acme/web.git`).
    pub url: Option<String>,
    /// The user name sent with the token (`x-access-token`, `oauth2`, `x-token-auth`, …).
    pub username: Option<String>,
    /// What happened, in plain words.
    pub message: String,
}

impl CloneCheck {
    /// A check that did not run, and why.
    pub fn skipped(message: impl Into<String>) -> CloneCheck {
        CloneCheck {
            result: CloneResult::Skipped,
            repository: None,
            url: None,
            username: None,
            message: message.into(),
        }
    }
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
            clone_check: None,
        }
    }

    /// Whether a token with this outcome may be saved without the admin's explicit confirmation.
    pub fn passes(&self) -> bool {
        self.status == TestStatus::Valid
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn results_stored_before_the_clone_check_still_parse() {
        let old = r#"{"status":"valid","account":"octocat","token_kind":null,"scopes":["repo"],
            "missing":[],"warnings":[],"details":[],"expires_at":null,"never_expires":false,
            "server_version":null,"reason":null,"tested_at":"2026-01-01T00:00:00Z"}"#;
        let o: TestOutcome = serde_json::from_str(old).unwrap();
        assert_eq!(o.status, TestStatus::Valid);
        assert_eq!(o.clone_check, None);
        let mut o2 = o.clone();
        o2.clone_check = Some(CloneCheck::skipped("no repository"));
        let back: TestOutcome = serde_json::from_str(&serde_json::to_string(&o2).unwrap()).unwrap();
        assert_eq!(back, o2);
    }
}

//! The status of a token test (DESIGN.md §4), and who ran the test.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Status of a token test. `NotTested` is a stored token that was never tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    NotTested,
    Valid,
    MissingPermissions,
    Invalid,
    Expired,
    Unreachable,
    Error,
}

impl TestStatus {
    pub const ALL: [TestStatus; 7] = [
        TestStatus::Valid,
        TestStatus::MissingPermissions,
        TestStatus::Invalid,
        TestStatus::Expired,
        TestStatus::Unreachable,
        TestStatus::Error,
        TestStatus::NotTested,
    ];

    /// Statuses that need attention whatever the expiry.
    pub const FAILING: [TestStatus; 5] = [
        TestStatus::Invalid,
        TestStatus::Expired,
        TestStatus::Unreachable,
        TestStatus::Error,
        TestStatus::MissingPermissions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::NotTested => "not_tested",
            TestStatus::Valid => "valid",
            TestStatus::MissingPermissions => "missing_permissions",
            TestStatus::Invalid => "invalid",
            TestStatus::Expired => "expired",
            TestStatus::Unreachable => "unreachable",
            TestStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<TestStatus> {
        TestStatus::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }

    /// Words shown in badges (readable without colour).
    pub fn label(self) -> &'static str {
        match self {
            TestStatus::NotTested => "Not tested",
            TestStatus::Valid => "Valid",
            TestStatus::MissingPermissions => "Missing permissions",
            TestStatus::Invalid => "Invalid",
            TestStatus::Expired => "Expired",
            TestStatus::Unreachable => "Unreachable",
            TestStatus::Error => "Error",
        }
    }

    /// A token in this state can be used by services for deployments.
    pub fn is_usable(self) -> bool {
        matches!(
            self,
            TestStatus::Valid | TestStatus::MissingPermissions | TestStatus::NotTested
        )
    }
}

impl fmt::Display for TestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who ran a test (status history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestSource {
    /// The background scheduler inside the server.
    Scheduler,
    /// A member pressed "Test" / "Test now".
    Manual,
    /// `forgekeys tokens check`.
    Cli,
}

impl TestSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TestSource::Scheduler => "scheduler",
            TestSource::Manual => "manual",
            TestSource::Cli => "cli",
        }
    }

    pub fn parse(s: &str) -> Option<TestSource> {
        [TestSource::Scheduler, TestSource::Manual, TestSource::Cli]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

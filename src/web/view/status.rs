//! Test statuses and their sources, in words and badge classes.

use crate::domain::status::{TestSource, TestStatus};

/// Badge class for a status.
pub fn status_class(s: TestStatus) -> &'static str {
    match s {
        TestStatus::Valid => "ok",
        TestStatus::MissingPermissions => "warn",
        TestStatus::NotTested => "muted",
        TestStatus::Invalid | TestStatus::Expired => "danger",
        TestStatus::Unreachable | TestStatus::Error => "danger",
    }
}

/// Who ran a test, for the history table.
pub fn source_label(s: Option<TestSource>) -> &'static str {
    match s {
        Some(TestSource::Scheduler) => "Scheduled check",
        Some(TestSource::Manual) => "Manual test",
        Some(TestSource::Cli) => "tokens check (CLI)",
        None => "Test",
    }
}

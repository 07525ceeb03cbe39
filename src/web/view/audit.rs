//! Audit records in words: the action, and details (changed field names, outcomes) — never
//! values.

use super::time::fmt_time;
use crate::domain::audit::{AuditAction, AuditDetails, MoveDirection};
use crate::domain::status::TestStatus;
use chrono::NaiveDateTime;

/// Short words for an action; an action this version does not know is shown as stored.
pub fn action_label(action: &str) -> &str {
    let Some(a) = AuditAction::parse(action) else {
        return action;
    };
    match a {
        AuditAction::TokenCreate => "Created",
        AuditAction::TokenUpdate => "Edited",
        AuditAction::TokenTest => "Tested",
        AuditAction::TokenDelete => "Deleted",
        AuditAction::TokenRotate => "Rotated",
        AuditAction::ServiceCreate => "Service added",
        AuditAction::ServiceUpdate => "Service edited",
        AuditAction::ServiceDelete => "Service deleted",
        AuditAction::ServiceMove => "Services moved",
        AuditAction::ServiceMigrate => "Services moved off the GitHub App",
        AuditAction::OrgCreate => "Organization created",
        AuditAction::MemberAdd => "Member added",
        AuditAction::KeysRotate => "Master key rotated",
        AuditAction::NotificationsUpdate => "Notification webhook set",
        AuditAction::NotificationsRemove => "Notification webhook removed",
        AuditAction::NotificationsTest => "Test notification sent",
        AuditAction::InventoryExport => "Inventory exported",
        AuditAction::Login => "Signed in",
        AuditAction::LoginFailed => "Failed sign-in",
        AuditAction::Setup => "Set up",
        AuditAction::MemberInvite => "Member invited",
        AuditAction::MemberInviteRevoke => "Invitation revoked",
        AuditAction::MemberJoin => "Joined by invitation",
        AuditAction::MemberRoleChange => "Role changed",
        AuditAction::MemberRemove => "Member removed",
        AuditAction::PasswordResetIssue => "Password reset link issued",
        AuditAction::PasswordReset => "Password reset",
        AuditAction::PasswordChange => "Password changed",
        AuditAction::SessionRevoke => "Session signed out",
        AuditAction::TwoFactorEnable => "Two-factor sign-in turned on",
        AuditAction::TwoFactorDisable => "Two-factor sign-in turned off",
        AuditAction::OrgSecurityUpdate => "Security settings changed",
        AuditAction::ApiKeyCreate => "API key created",
        AuditAction::ApiKeyRevoke => "API key revoked",
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Stored details (JSON) in words: changed field names and outcomes, never values.
pub fn details_text(details: &str) -> String {
    details_words(&AuditDetails::from_json(details))
}

/// Details in words: changed field names and outcomes, never values.
pub fn details_words(d: &AuditDetails) -> String {
    let mut parts = Vec::new();
    // Service records name the service (their token column is the token it uses).
    if let Some(s) = &d.service {
        parts.push(format!("service “{s}”"));
    }
    if let (Some(from), Some(to)) = (&d.renamed_from, &d.renamed_to) {
        parts.push(format!("renamed “{from}” → “{to}”"));
    }
    if !d.fields.is_empty() {
        parts.push(format!("fields: {}", d.fields.join(", ")));
    }
    if let Some(s) = &d.status {
        parts.push(format!(
            "status: {}",
            TestStatus::parse(s).map(|s| s.label()).unwrap_or(s)
        ));
    }
    if !d.missing.is_empty() {
        parts.push(format!("missing: {}", d.missing.join(", ")));
    }
    if let Some(m) = &d.member {
        parts.push(m.clone());
    }
    if let Some(k) = &d.api_key {
        parts.push(match &d.hint {
            Some(h) => format!("API key “{k}” ({h})"),
            None => format!("API key “{k}”"),
        });
    }
    if let Some(e) = &d.expires_at {
        parts.push(format!("expires {e}"));
    }
    let role = |r: &str| {
        crate::domain::role::Role::parse(r)
            .map(|r| r.label().to_string())
            .unwrap_or_else(|| r.to_string())
    };
    match (&d.old_role, &d.role) {
        (Some(old), Some(new)) => parts.push(format!("role {} → {}", role(old), role(new))),
        (Some(old), None) => parts.push(format!("was {}", role(old))),
        (None, Some(new)) => parts.push(format!("role {}", role(new))),
        (None, None) => {}
    }
    if let Some(r) = &d.reason {
        parts.push(r.replace('_', " "));
    }
    match d.method.as_deref() {
        Some("manual") => parts.push("new value entered by hand".into()),
        Some("provider") => parts.push("rotated at the provider".into()),
        _ => {}
    }
    if d.account_changed == Some(true) {
        parts.push("account changed (confirmed)".into());
    }
    if let Some(services) = &d.services {
        let what = plural(services.len(), "service");
        match d.direction {
            Some(MoveDirection::Out) => parts.push(match &d.to_token {
                Some(t) => format!("moved {what} to “{t}”"),
                None => format!("moved {what} away"),
            }),
            Some(MoveDirection::In) => parts.push(match &d.from_token {
                Some(t) => format!("received {what} from “{t}”"),
                None => format!("received {what}"),
            }),
            None => parts.push(what),
        }
    }
    if let (Some(f), Some(n)) = (&d.format, d.count) {
        parts.push(format!(
            "{} with {}",
            f.to_uppercase(),
            plural(n as usize, "token")
        ));
        let filters = d.filters.as_ref();
        for (key, label) in [
            ("q", "name contains"),
            ("provider", "provider"),
            ("status", "status"),
        ] {
            if let Some(x) = filters.and_then(|fs| fs.get(key)).and_then(|x| x.as_str()) {
                parts.push(format!("{label} {x}"));
            }
        }
    }
    parts.join("; ")
}

/// A trail entry's details in words; a token rename names the new name (the record's token
/// name when it was written: token records carry field names only).
pub fn entry_details(e: &crate::app::audit::TrailEntry) -> String {
    let mut words = details_words(&e.details);
    let renamed_token = e.action == AuditAction::TokenUpdate
        && e.details.renamed_to.is_none()
        && e.details.fields.iter().any(|f| f == "name");
    if let (true, Some(name)) = (renamed_token, &e.token_name_then) {
        if !words.is_empty() {
            words.push_str("; ");
        }
        words.push_str(&format!("renamed to “{name}”"));
    }
    words
}

/// One line of a token's history.
pub struct HistoryLine {
    pub when: String,
    pub who: String,
    pub action: String,
    pub details: String,
}

impl HistoryLine {
    pub fn new(at: NaiveDateTime, who: Option<&str>, action: &str, details: &str) -> HistoryLine {
        HistoryLine {
            when: fmt_time(at),
            who: who.unwrap_or("—").to_string(),
            action: action_label(action).to_string(),
            details: details_text(details),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_records_name_the_service_and_renames_show_both_names() {
        let d = AuditDetails {
            service: Some("web".into()),
            renamed_from: Some("old web".into()),
            renamed_to: Some("web".into()),
            ..AuditDetails::fields(["name"])
        };
        assert_eq!(
            details_words(&d),
            "service “web”; renamed “old web” → “web”; fields: name"
        );
    }
}

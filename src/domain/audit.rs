//! What the audit trail records (DESIGN.md §6): an action and its details — field names,
//! statuses and counts, never a secret or a field's value.

use serde::{Deserialize, Serialize};

/// Every action Forgekeys records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    TokenCreate,
    TokenUpdate,
    TokenTest,
    TokenRotate,
    TokenDelete,
    ServiceCreate,
    ServiceUpdate,
    ServiceDelete,
    ServiceMove,
    ServiceMigrate,
    OrgCreate,
    MemberAdd,
    KeysRotate,
    NotificationsUpdate,
    NotificationsRemove,
    NotificationsTest,
    InventoryExport,
    Login,
    LoginFailed,
    Setup,
    MemberInvite,
    MemberInviteRevoke,
    MemberJoin,
    MemberRoleChange,
    MemberRemove,
    PasswordResetIssue,
    PasswordReset,
    PasswordChange,
    SessionRevoke,
    TwoFactorEnable,
    TwoFactorDisable,
    OrgSecurityUpdate,
    ApiKeyCreate,
    ApiKeyRevoke,
}

impl AuditAction {
    pub const ALL: [AuditAction; 34] = [
        AuditAction::TokenCreate,
        AuditAction::TokenUpdate,
        AuditAction::TokenTest,
        AuditAction::TokenRotate,
        AuditAction::TokenDelete,
        AuditAction::ServiceCreate,
        AuditAction::ServiceUpdate,
        AuditAction::ServiceDelete,
        AuditAction::ServiceMove,
        AuditAction::ServiceMigrate,
        AuditAction::OrgCreate,
        AuditAction::MemberAdd,
        AuditAction::KeysRotate,
        AuditAction::NotificationsUpdate,
        AuditAction::NotificationsRemove,
        AuditAction::NotificationsTest,
        AuditAction::InventoryExport,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::Setup,
        AuditAction::MemberInvite,
        AuditAction::MemberInviteRevoke,
        AuditAction::MemberJoin,
        AuditAction::MemberRoleChange,
        AuditAction::MemberRemove,
        AuditAction::PasswordResetIssue,
        AuditAction::PasswordReset,
        AuditAction::PasswordChange,
        AuditAction::SessionRevoke,
        AuditAction::TwoFactorEnable,
        AuditAction::TwoFactorDisable,
        AuditAction::OrgSecurityUpdate,
        AuditAction::ApiKeyCreate,
        AuditAction::ApiKeyRevoke,
    ];

    /// The stored value, e.g. `token.rotate`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::TokenCreate => "token.create",
            AuditAction::TokenUpdate => "token.update",
            AuditAction::TokenTest => "token.test",
            AuditAction::TokenRotate => "token.rotate",
            AuditAction::TokenDelete => "token.delete",
            AuditAction::ServiceCreate => "service.create",
            AuditAction::ServiceUpdate => "service.update",
            AuditAction::ServiceDelete => "service.delete",
            AuditAction::ServiceMove => "service.move",
            AuditAction::ServiceMigrate => "service.migrate",
            AuditAction::OrgCreate => "org.create",
            AuditAction::MemberAdd => "member.add",
            AuditAction::KeysRotate => "keys.rotate",
            AuditAction::NotificationsUpdate => "notifications.update",
            AuditAction::NotificationsRemove => "notifications.remove",
            AuditAction::NotificationsTest => "notifications.test",
            AuditAction::InventoryExport => "inventory.export",
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Setup => "setup",
            AuditAction::MemberInvite => "member.invite",
            AuditAction::MemberInviteRevoke => "member.invite_revoke",
            AuditAction::MemberJoin => "member.join",
            AuditAction::MemberRoleChange => "member.role_change",
            AuditAction::MemberRemove => "member.remove",
            AuditAction::PasswordResetIssue => "password_reset.issue",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::PasswordChange => "password.change",
            AuditAction::SessionRevoke => "session.revoke",
            AuditAction::TwoFactorEnable => "two_factor.enable",
            AuditAction::TwoFactorDisable => "two_factor.disable",
            AuditAction::OrgSecurityUpdate => "org.security_update",
            AuditAction::ApiKeyCreate => "api_key.create",
            AuditAction::ApiKeyRevoke => "api_key.revoke",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Services named by a move (`service.move` / `service.migrate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveDirection {
    /// Recorded on the token the services left.
    Out,
    /// Recorded on the token the services now use.
    In,
}

/// The details of an audit record, stored as a JSON object with only the fields that apply.
/// Names and outcomes only: a field's new value never appears here (DESIGN.md §6).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditDetails {
    /// Names of the fields that changed (`name`, `token`, `url`, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// A test status (`valid`, `missing_permissions`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Names of missing permissions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Who ran a test: `manual`, `scheduler`, `cli`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Rotation: `manual` (new value entered) or `provider` (GitLab self-rotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_changed: Option<bool>,
    /// Why a sign-in failed (`bad_password`, `unknown_email`, `locked`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Provider of a deleted token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// A service's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<MoveDirection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_token_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_token_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_token: Option<String>,
    /// Names of the services a move concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_ids: Option<Vec<String>>,
    /// Inventory export format (`csv`, `json`) and how many tokens it held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The filters of an export (`{"q": …, "provider": …, "status": …, "sort": …}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<serde_json::Value>,
    /// Outcome of a test notification: `sent` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// What a setup created (`organization`, `owner`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
    /// Member e-mail and role of `member.add`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The role before a change or a removal (`member.role_change`, `member.remove`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_role: Option<String>,
    /// `keys.rotate`: tokens re-encrypted, skipped, and the new key's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reencrypted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// A rename: the name before (names are not secrets; the new one is the record's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
    /// An API key (`api_key.create` / `api_key.revoke`): its name, hint (never its value) and
    /// expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl AuditDetails {
    /// Details naming the changed fields.
    pub fn fields<S: Into<String>>(names: impl IntoIterator<Item = S>) -> AuditDetails {
        AuditDetails {
            fields: names.into_iter().map(Into::into).collect(),
            ..AuditDetails::default()
        }
    }

    /// The stored JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Read stored details; anything unreadable is empty details.
    pub fn from_json(s: &str) -> AuditDetails {
        serde_json::from_str(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_details_keep_only_what_applies() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        let d = AuditDetails {
            status: Some("valid".into()),
            ..AuditDetails::fields(["name", "token"])
        };
        assert_eq!(
            d.to_json(),
            r#"{"fields":["name","token"],"status":"valid"}"#
        );
        assert_eq!(AuditDetails::from_json(&d.to_json()), d);
        assert_eq!(AuditDetails::from_json("not json"), AuditDetails::default());
    }
}

//! The JSON shapes of the API (requests and answers), with their OpenAPI schemas. A token's
//! value is never in an answer: [`TokenOut`] has no field for it (only its hint).

use crate::app::audit::TrailEntry;
use crate::app::services::Listed as ListedService;
use crate::app::tokens::Listed as ListedToken;
use crate::domain::test_result::TestOutcome;
use crate::web::view::time::iso;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn time(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(|t| t.and_utc().to_rfc3339())
}

/// A required permission the token lacks, with the fix in plain words.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MissingOut {
    pub name: String,
    pub fix: String,
}

/// What a token test found (the form's result panel): never the token value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verdict {
    /// `valid`, `missing_permissions`, `invalid`, `expired`, `unreachable`, `error`.
    pub status: String,
    /// The status in words, as the page shows it.
    pub label: String,
    pub account: Option<String>,
    pub token_kind: Option<String>,
    pub scopes: Vec<String>,
    pub missing: Vec<MissingOut>,
    pub warnings: Vec<String>,
    pub details: Vec<String>,
    pub expires_at: Option<String>,
    pub never_expires: bool,
    pub reason: Option<String>,
    pub tested_at: String,
    /// The clone-level check: `passed`, `failed`, `skipped`, `error`.
    pub clone_check: Option<String>,
    pub clone_message: Option<String>,
}

impl From<&TestOutcome> for Verdict {
    fn from(o: &TestOutcome) -> Verdict {
        Verdict {
            status: o.status.as_str().to_string(),
            label: o.status.label().to_string(),
            account: o.account.clone(),
            token_kind: o.token_kind.clone(),
            scopes: o.scopes.clone(),
            missing: o
                .missing
                .iter()
                .map(|m| MissingOut {
                    name: m.name.clone(),
                    fix: m.fix.clone(),
                })
                .collect(),
            warnings: o.warnings.clone(),
            details: o.details.clone(),
            expires_at: o.expires_at.map(|e| e.to_rfc3339()),
            never_expires: o.never_expires,
            reason: o.reason.clone(),
            tested_at: o.tested_at.to_rfc3339(),
            clone_check: o
                .clone_check
                .as_ref()
                .map(|c| c.result.as_str().to_string()),
            clone_message: o.clone_check.as_ref().map(|c| c.message.clone()),
        }
    }
}

/// A stored Git token (never its value: `hint` is its prefix and last characters at most).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: String,
    pub name: String,
    /// `github`, `gitlab`, `bitbucket`.
    pub provider: String,
    /// `cloud`, `self_hosted`.
    pub hosting: String,
    pub url: Option<String>,
    pub workspace: Option<String>,
    pub username: Option<String>,
    pub description: Option<String>,
    pub hint: String,
    pub status: String,
    pub last_tested_at: Option<String>,
    pub account: Option<String>,
    pub expires_at: Option<String>,
    /// `provider` or `admin`.
    pub expiry_source: Option<String>,
    /// Services that use it.
    pub services: i64,
    /// Another token of the organization has the same destination and account.
    pub duplicate: bool,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_by: Option<String>,
    pub updated_at: String,
    pub rotated_at: Option<String>,
}

impl From<&ListedToken> for TokenOut {
    fn from(l: &ListedToken) -> TokenOut {
        let t = &l.token;
        let d = &t.destination;
        TokenOut {
            id: t.id.as_str().to_string(),
            name: t.name.clone(),
            provider: d.provider.as_str().to_string(),
            hosting: d.hosting.as_str().to_string(),
            url: d.url.clone(),
            workspace: d.workspace.clone(),
            username: d.username.clone(),
            description: t.description.clone(),
            hint: t.hint.clone(),
            status: t.status.as_str().to_string(),
            last_tested_at: time(t.last_tested_at),
            account: t.account.clone(),
            expires_at: time(t.expires_at),
            expiry_source: t.expiry_source.map(|s| s.as_str().to_string()),
            services: l.services,
            duplicate: l.duplicate,
            created_by: t.created_by.clone(),
            created_at: iso(t.created_at),
            updated_by: t.updated_by.clone(),
            updated_at: iso(t.updated_at),
            rotated_at: time(t.rotated_at),
        }
    }
}

/// One page of tokens.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPage {
    pub items: Vec<TokenOut>,
    /// Tokens matching the filters.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub pages: i64,
}

/// A new token: the form's fields (DESIGN.md §2), `token` being the value to test and store.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub provider: String,
    /// `cloud` (default) or `self_hosted`.
    #[serde(default)]
    pub hosting: Option<String>,
    pub name: String,
    pub token: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `YYYY-MM-DD`, for providers that do not report an expiry.
    #[serde(default)]
    pub expires_on: Option<String>,
    /// Save a token whose test reports missing permissions (the form's "Save anyway").
    #[serde(default)]
    pub save_anyway: bool,
}

/// A change: only the fields named are changed. A new `token` is tested first; changing
/// `provider`, `hosting`, `url`, `workspace` or `username` requires `token`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPatch {
    pub provider: Option<String>,
    pub hosting: Option<String>,
    pub name: Option<String>,
    pub token: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "some_option")]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "some_option")]
    pub workspace: Option<Option<String>>,
    #[serde(default, deserialize_with = "some_option")]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "some_option")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "some_option")]
    pub expires_on: Option<Option<String>>,
    #[serde(default)]
    pub save_anyway: bool,
}

/// `Some(None)` for an explicit `null`, `None` for an absent field.
fn some_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A token test's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestAnswer {
    pub token: TokenOut,
    pub verdict: Verdict,
}

/// Move services to another token of the same provider and server.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    pub target_token_id: String,
    pub service_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MoveOut {
    pub moved: usize,
    /// Services that still use the source token.
    pub remaining: i64,
    pub target_token_id: String,
}

/// A service (DESIGN.md §7).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceOut {
    pub id: String,
    pub name: String,
    /// `application`, `cron`, `helm`.
    pub kind: String,
    pub provider: String,
    /// `token`, `github_app`, `personal`.
    pub access: String,
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    pub repository: String,
    pub branch: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&ListedService> for ServiceOut {
    fn from(l: &ListedService) -> ServiceOut {
        let s = &l.service;
        ServiceOut {
            id: s.id.as_str().to_string(),
            name: s.name.clone(),
            kind: s.kind.as_str().to_string(),
            provider: s.provider.as_str().to_string(),
            access: s.access.as_str().to_string(),
            token_id: s.token_id.as_ref().map(|t| t.as_str().to_string()),
            token_name: l.token.as_ref().map(|t| t.name.clone()),
            repository: s.repository.clone(),
            branch: s.branch.clone(),
            created_at: iso(s.created_at),
            updated_at: iso(s.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServicePage {
    pub items: Vec<ServiceOut>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub pages: i64,
}

/// A service's fields, as the form takes them. On PATCH only the fields named change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub provider: Option<String>,
    pub access: Option<String>,
    pub token_id: Option<String>,
    pub repository: Option<String>,
    pub branch: Option<String>,
}

/// One audit record: who, when, what (field names and outcomes, never values).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditOut {
    pub at: String,
    pub actor: Option<String>,
    pub action: String,
    pub token_id: Option<String>,
    pub token_name: Option<String>,
    /// The stored details (field names, statuses, counts).
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub client_ip: Option<String>,
}

impl From<&TrailEntry> for AuditOut {
    fn from(e: &TrailEntry) -> AuditOut {
        AuditOut {
            at: iso(e.at),
            actor: e.actor.clone(),
            action: e.action.as_str().to_string(),
            token_id: e.token.as_ref().map(|t| t.id.as_str().to_string()),
            token_name: e
                .token
                .as_ref()
                .map(|t| t.name.clone())
                .or_else(|| e.token_name_then.clone()),
            details: serde_json::to_value(&e.details).unwrap_or_default(),
            client_ip: e.client_ip.map(|ip| ip.to_string()),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditOut>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub pages: i64,
}

pub fn pages(total: i64, size: i64) -> i64 {
    ((total + size - 1) / size.max(1)).max(1)
}

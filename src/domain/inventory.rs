//! A token as the inventory lists and exports it (issue 5): typed values, what an auditor needs
//! on paper, and deliberately no field for the secret or its ciphertext — whatever renders or
//! serializes an inventory cannot leak them. The hint (known prefix and last 4 characters, as on
//! the token list) is there: it is how an auditor finds the token in the provider's own list.

use super::expiry::{Expiry, ExpirySource};
use super::ids::TokenId;
use super::provider::{Hosting, Provider};
use super::status::TestStatus;
use super::token::Destination;
use chrono::NaiveDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryToken {
    pub id: TokenId,
    pub name: String,
    /// The token list's hint (`ghp_…a1b2`), never more of the value.
    pub hint: String,
    pub description: Option<String>,
    pub destination: Destination,
    /// Provider account the token belongs to, as last seen by a test.
    pub account: Option<String>,
    /// Scopes / permissions the provider reported at the last test.
    pub scopes: Vec<String>,
    /// Names of the required permissions the token lacked at the last test.
    pub missing_permissions: Vec<String>,
    pub status: TestStatus,
    pub last_tested_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub expiry_source: Option<ExpirySource>,
    /// Names of the services that use it, by name.
    pub services: Vec<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
}

impl InventoryToken {
    pub fn provider(&self) -> Provider {
        self.destination.provider
    }

    pub fn hosting(&self) -> Hosting {
        self.destination.hosting
    }

    pub fn expiry(&self) -> Expiry {
        Expiry::of(self.expires_at, self.expiry_source)
    }

    /// When its current value was made: the last rotation, or else creation.
    pub fn born(&self) -> NaiveDateTime {
        self.rotated_at.unwrap_or(self.created_at)
    }
}

/// How bad a status is, for "worst first" (lower needs attention first): expired, invalid,
/// unreachable, error, missing permissions, not tested, valid.
pub fn status_rank(s: TestStatus) -> u8 {
    match s {
        TestStatus::Expired => 0,
        TestStatus::Invalid => 1,
        TestStatus::Unreachable => 2,
        TestStatus::Error => 3,
        TestStatus::MissingPermissions => 4,
        TestStatus::NotTested => 5,
        TestStatus::Valid => 6,
    }
}

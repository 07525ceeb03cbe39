//! Webhook notifications: what a notification is about and where its delivery stands.

use super::ids::TokenId;
use chrono::NaiveDateTime;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// A token's expiry reached a threshold of `FORGEKEYS_EXPIRY_WARN_DAYS`.
    Expiry,
    /// A token's status turned bad.
    Status,
    /// A test message sent from the settings page.
    Test,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 3] = [
        NotificationKind::Expiry,
        NotificationKind::Status,
        NotificationKind::Test,
    ];

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Expiry => "expiry",
            NotificationKind::Status => "status",
            NotificationKind::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationKind> {
        NotificationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Created, not tried yet.
    Pending,
    /// Tried and failed; tried again on a later scheduler run.
    Retrying,
    Sent,
    /// Given up (blocked address, or too many attempts).
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 4] = [
        DeliveryState::Pending,
        DeliveryState::Retrying,
        DeliveryState::Sent,
        DeliveryState::Failed,
    ];

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still to be (re)tried.
    pub fn is_due(self) -> bool {
        matches!(self, DeliveryState::Pending | DeliveryState::Retrying)
    }
}

/// A delivery as the settings page lists it (no message text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEntry {
    pub kind: NotificationKind,
    pub state: DeliveryState,
    pub attempts: i64,
    /// Why the last attempt failed (never the webhook URL).
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A delivery waiting to be (re)tried, with what sending needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: String,
    pub token_id: Option<TokenId>,
    pub kind: NotificationKind,
    pub message: String,
    pub attempts: i64,
    pub created_at: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_states_round_trip() {
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(k.as_str()), Some(k));
        }
        for s in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeliveryState::parse("lost"), None);
        assert_eq!(NotificationKind::parse(""), None);
    }
}

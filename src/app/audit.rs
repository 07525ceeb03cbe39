//! Writing audit records (every use case writes its own, in its transaction) and reading the
//! organization's trail.

use super::Error;
use crate::db::DbConn;
use crate::db::models::audit::Audit;
use crate::domain::account::{Member, User};
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{OrgId, TokenId};
use chrono::NaiveDateTime;
use std::net::IpAddr;

mod trail;

pub use trail::{
    EXPORT_MAX, TRAIL_PAGE_SIZE, Trail, TrailEntry, TrailFilter, TrailToken, export, trail,
};

/// Who an audit record names.
#[derive(Debug, Clone)]
pub enum Who {
    /// A signed-in user.
    User(User),
    /// Forgekeys itself: the scheduler, a CLI command.
    System(System),
    /// An organization API key acting through the JSON API.
    ApiKey(crate::domain::access_key::KeyActor),
    /// Someone not signed in (a failed sign-in for an unknown e-mail): what they typed, when it
    /// looks like an e-mail address.
    Anonymous(String),
}

impl Who {
    /// The actor of a member's action: the user, or the API key acting with a role.
    pub fn of(member: &Member) -> Who {
        match &member.via_key {
            Some(k) => Who::ApiKey(k.clone()),
            None => Who::User(member.user.clone()),
        }
    }
}

/// The non-human actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Scheduler,
    TokensCheck,
    Cli,
}

impl System {
    /// The actor name stored in the record.
    pub fn actor_name(self) -> &'static str {
        match self {
            System::Scheduler => "forgekeys (scheduled check)",
            System::TokensCheck => "forgekeys tokens check",
            System::Cli => "forgekeys CLI",
        }
    }
}

/// One audit record to write.
#[derive(Debug, Clone)]
pub struct Record {
    pub action: AuditAction,
    pub who: Who,
    pub org: Option<OrgId>,
    /// The token concerned, with its name at the time.
    pub token: Option<(TokenId, String)>,
    pub details: AuditDetails,
    /// The address the request came from; `None` for system actors.
    pub client_ip: Option<IpAddr>,
}

impl Record {
    /// A record of `member` acting in their organization.
    pub fn by(member: &Member, action: AuditAction) -> Record {
        Record {
            action,
            who: Who::of(member),
            org: Some(member.org.id.clone()),
            token: None,
            details: AuditDetails::default(),
            client_ip: member.client_ip,
        }
    }

    pub fn token(mut self, id: &TokenId, name: &str) -> Record {
        self.token = Some((id.clone(), name.to_string()));
        self
    }

    /// The address the request came from (for records not made with [`Record::by`]).
    pub fn from_ip(mut self, ip: Option<IpAddr>) -> Record {
        self.client_ip = ip;
        self
    }

    pub fn details(mut self, d: AuditDetails) -> Record {
        self.details = d;
        self
    }

    /// Write it, dated `at`.
    pub fn write(self, conn: &mut DbConn, at: NaiveDateTime) -> Result<(), Error> {
        let mut a = Audit::new(self.action.as_str());
        a.org_id = self.org.map(|o| o.as_str().to_string());
        match self.who {
            Who::User(u) => {
                a.actor_user_id = Some(u.id.into_string());
                a.actor_email = Some(u.email);
            }
            Who::System(s) => a.actor_email = Some(s.actor_name().to_string()),
            Who::ApiKey(k) => a.actor_email = Some(k.actor_name()),
            Who::Anonymous(e) => a.actor_email = Some(e),
        }
        if let Some((id, name)) = self.token {
            a.token_id = Some(id.into_string());
            a.token_name = Some(name);
        }
        a.details = serde_json::to_value(&self.details).unwrap_or_default();
        a.client_ip = self.client_ip.map(|ip| ip.to_string());
        Ok(a.write_at(conn, at)?)
    }
}

//! Token rotation (DESIGN.md §7): a new value entered by hand ([`manual`]) or issued by GitLab's
//! self-rotate API ([`provider`]), swapped in with one transaction ([`store`]).
//!
//! The destination (provider, hosting, URL, workspace) is always the stored one: the new value
//! is only ever sent where the old one was tested.

pub mod lease;
pub mod manual;
pub mod provider;
pub mod store;

pub use manual::{NewValue, Rotated, RotationProblem, rotate};
pub use provider::{ProviderRotated, prepare_at_provider, rotate_at_provider};
pub use store::RotationMethod;

use super::tokens::row_in_org;
use super::{Error, require};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::service::Service;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::ids::TokenId;
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::status::TestStatus;
use crate::domain::token::Token;

/// The token being rotated, with what the rotation page shows about it.
#[derive(Debug, Clone)]
pub struct Subject {
    pub token: Token,
    /// Services that use it: all of them get the new value in the same step.
    pub services: i64,
    /// The hint of the value the last rotation replaced (`ghp_…a1b2`), if it was rotated.
    pub previous_hint: Option<String>,
    /// The kind of the replaced value, as its last test detected it ("personal access token").
    pub previous_kind: Option<String>,
}

impl Subject {
    pub fn at_provider(&self) -> AtProvider {
        at_provider(&self.token)
    }
}

/// Whether the provider can rotate the token itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtProvider {
    /// Only GitLab offers self-rotation.
    Unsupported,
    /// The stored token's last test says it is revoked or expired: sending it to GitLab's
    /// rotate endpoint would revoke its whole token family.
    Blocked(TestStatus),
    Available,
}

pub fn at_provider(t: &Token) -> AtProvider {
    if t.provider() != Provider::Gitlab {
        return AtProvider::Unsupported;
    }
    match t.status {
        s @ (TestStatus::Invalid | TestStatus::Expired) => AtProvider::Blocked(s),
        _ => AtProvider::Available,
    }
}

/// Whether the provider reports token expiry itself (GitLab always, GitHub through a header);
/// for Bitbucket the admin may enter the new token's expiry date.
pub fn expiry_reported(p: Provider) -> bool {
    p != Provider::Bitbucket
}

/// The rotation page of a token of the member's organization.
pub async fn prepare(state: &AppState, member: &Member, id: &TokenId) -> Result<Subject, Error> {
    require(member, Permission::ManageTokens)?;
    let (m, id) = (member.clone(), id.clone());
    state
        .db(move |conn| {
            let row = row_in_org(conn, &m, &id)?;
            subject_of(conn, &row)
        })
        .await
}

fn subject_of(conn: &mut DbConn, row: &GitToken) -> Result<Subject, Error> {
    let token = Token::try_from(row)?;
    let services = Service::usage_of(conn, &[row.id.as_str()])?
        .get(row.id.as_str())
        .copied()
        .unwrap_or(0);
    Ok(Subject {
        token,
        services,
        previous_hint: row.previous_hint.clone(),
        previous_kind: row.previous_kind.clone(),
    })
}

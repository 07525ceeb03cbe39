//! Use cases: everything Forgekeys does, callable without HTTP (the web console, the CLI, the
//! scheduler and tests call the same functions).
//!
//! Each use case takes an actor and typed input, checks the actor's role itself, runs its
//! database work in one transaction through [`AppState::db`] / [`AppState::tx`] (the only way
//! to the database), writes its own audit record, and returns a typed result or an [`Error`].
//! No HTTP and no page wording here: `web` parses, calls and renders.

pub mod account;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod checks;
pub mod error;
pub mod hashing;
pub mod health;
pub mod inventory;
pub mod keys;
pub mod members;
pub mod metrics;
pub mod moves;
pub mod notifications;
pub mod rate_limit;
pub mod rotation;
pub mod security;
pub mod services;
pub mod setup;
pub mod sso;
pub mod state;
pub mod tokens;

pub use error::{BadRequest, Conflict, Error};

use crate::domain::account::Member;
use crate::domain::role::Permission;

/// Refuse unless the member's role allows `p`.
pub fn require(member: &Member, p: Permission) -> Result<(), Error> {
    if member.can(p) {
        Ok(())
    } else {
        Err(Error::Forbidden(p))
    }
}

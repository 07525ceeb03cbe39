//! Handlers, one module per area.

pub mod auth;
pub mod health;
pub mod orgs;
pub mod setup;
pub mod tokens;

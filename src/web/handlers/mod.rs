//! Handlers, one module per area.

pub mod account;
pub mod api_keys;
pub mod audit;
pub mod audit_export;
pub mod auth;
pub mod confirm;
pub mod health;
pub mod inventory;
pub mod login_2fa;
pub mod members;
pub mod migrate;
pub mod notifications;
pub mod orgs;
pub mod password_reset;
pub mod rotate;
pub mod security;
pub mod services;
pub mod setup;
pub mod sso;
pub mod tokens;
pub mod two_factor;

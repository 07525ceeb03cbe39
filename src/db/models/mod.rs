//! Row types and their queries, one file per table.

pub mod api_key;
pub mod audit;
pub mod inventory;
pub mod invite;
pub mod known_device;
pub mod lease;
pub mod login_throttle;
pub mod master_key;
pub mod members;
pub mod membership;
pub mod notification;
pub mod organization;
pub mod password_reset;
pub mod pending_sign_in;
pub mod service;
pub mod session;
pub mod setup_lock;
pub mod status_history;
pub mod token;
pub mod token_domain;
pub mod token_metrics;
pub mod token_queries;
pub mod two_factor;
pub mod user;

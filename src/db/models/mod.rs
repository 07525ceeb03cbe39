//! Row types and their queries, one file per table.

pub mod audit;
pub mod membership;
pub mod organization;
pub mod service;
pub mod session;
pub mod token;
pub mod user;

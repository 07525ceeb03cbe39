//! Domain rules: validated values and business decisions. No actix, diesel or page wording here.

pub mod access_key;
pub mod account;
pub mod audit;
pub mod expiry;
pub mod ids;
pub mod inventory;
pub mod members;
pub mod notification;
pub mod provider;
pub mod role;
pub mod service;
pub mod status;
pub mod test_result;
pub mod token;

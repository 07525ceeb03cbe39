//! How domain values look on a page: words, badge classes and formatted times. Every sentence
//! a page shows about a token, a status or a date comes from here (or from the handler that
//! owns the page), never from the use cases.

pub mod account;
pub mod audit;
pub mod expiry;
pub mod inventory;
pub mod members;
pub mod qr;
pub mod rotation;
pub mod service;
pub mod status;
pub mod time;
pub mod token;
pub mod token_help;

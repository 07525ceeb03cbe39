//! Token encryption at rest and password hashing.

pub mod keyfile;
pub mod mac;
pub mod password;
pub mod secret_box;
pub mod totp;

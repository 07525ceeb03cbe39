//! The one way this area hashes a password (so hashing can move onto a bounded pool in one
//! place).

use crate::app::Error;
use crate::app::state::AppState;
use crate::crypto::password;
use secrecy::SecretString;

/// Hash a new password (Argon2id) off the async workers.
pub async fn hash_password(state: &AppState, pw: SecretString) -> Result<String, Error> {
    state
        .blocking(move || {
            password::hash(&pw).map_err(|e| Error::Task(format!("password hashing failed: {e}")))
        })
        .await
}

//! Argon2id password hashing with OWASP parameters (19 MiB, 2 passes, 1 lane).
//! Call from a blocking thread (`web::block` / `spawn_blocking`), never on an async worker.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 1024;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &SecretString) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(argon2()
        .hash_password(password.expose_secret().as_bytes(), &salt)?
        .to_string())
}

/// Verify against a stored PHC hash. `None` for the hash checks against a dummy hash so an
/// unknown e-mail takes as long as a wrong password.
pub fn verify(password: &SecretString, stored: Option<&str>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1XzO3o4Y1Xq6o4d9P7mK0m3r2D9vJm1wq6m4e7Hk9vE";
    let target = stored.unwrap_or(DUMMY);
    let ok = match PasswordHash::new(target) {
        Ok(parsed) => argon2()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok(),
        Err(_) => {
            // Malformed stored hash: still spend the time.
            let _ = hash(password);
            false
        }
    };
    ok && stored.is_some()
}

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordError {
    TooShort,
    TooLong,
}

/// Password policy: length only (NIST 800-63B), no composition rules.
pub fn check_policy(pw: &str) -> Result<(), PasswordError> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let pw = SecretString::from("correct horse battery".to_string());
        let h = hash(&pw).unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&pw, Some(&h)));
        assert!(!verify(&SecretString::from("wrong".to_string()), Some(&h)));
        assert!(!verify(&pw, None));
    }
}

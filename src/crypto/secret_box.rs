//! XChaCha20-Poly1305 encryption of stored tokens and webhook URLs (DESIGN.md §4).
//!
//! Stored layout: `[version = 1][24-byte random nonce][ciphertext + 16-byte tag]`. The associated
//! data binds the table, column, row id and key id, so a ciphertext copied to another row (or
//! relabelled with another key id) fails to open.
//!
//! Which key seals is not decided here: `app::keys` claims the primary key in the database and
//! seals with that key id explicitly (`seal_token_with`, `seal_webhook_with`).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("no master key with id {0:?} is loaded (check FORGEKEYS_KEY_FILE)")]
    UnknownKey(String),
    #[error("the stored token could not be decrypted (wrong key, or data moved or altered)")]
    Open,
    #[error("encryption failed")]
    Seal,
    /// The database names no primary key (see `app::keys`).
    #[error("the database records no primary master key (restart the server to register one)")]
    NoPrimary,
}

/// One 256-bit master key.
pub struct MasterKey {
    pub id: String,
    key: Zeroizing<[u8; 32]>,
}

impl MasterKey {
    pub fn new(id: String, key: [u8; 32]) -> MasterKey {
        MasterKey {
            id,
            key: Zeroizing::new(key),
        }
    }

    pub fn generate() -> MasterKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let mut id = [0u8; 4];
        rand::rngs::OsRng.fill_bytes(&mut id);
        MasterKey::new(format!("k{}", hex::encode(id)), key)
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.key
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Encrypts with the current key; decrypts with any loaded key.
#[derive(Debug)]
pub struct SecretBox {
    keys: BTreeMap<String, MasterKey>,
    current: String,
}

/// Associated data for a token row.
pub fn token_aad(row_id: &str, key_id: &str) -> String {
    format!("forgekeys/git_tokens/secret/{row_id}/{key_id}")
}

/// Associated data for an organization's webhook URL.
pub fn webhook_aad(org_id: &str, key_id: &str) -> String {
    format!("forgekeys/notification_settings/webhook_url/{org_id}/{key_id}")
}

/// Associated data for a user's TOTP secret.
pub fn totp_aad(user_id: &str, key_id: &str) -> String {
    format!("forgekeys/users/totp_secret/{user_id}/{key_id}")
}

impl SecretBox {
    /// `keys` in file order; the last one is the current (encrypting) key.
    pub fn new(keys: Vec<MasterKey>) -> Option<SecretBox> {
        let current = keys.last()?.id.clone();
        let keys = keys.into_iter().map(|k| (k.id.clone(), k)).collect();
        Some(SecretBox { keys, current })
    }

    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// A keyed hash of `data` for `purpose` (HMAC-SHA256 under a key derived from the current
    /// master key): the same in every process with the same key file; it changes with
    /// `keys rotate`.
    pub fn keyed_hash(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let master = self.keys.get(&self.current).map(MasterKey::bytes);
        let derived =
            super::mac::hmac_sha256(master.map_or(&[][..], |k| &k[..]), purpose.as_bytes());
        super::mac::hmac_sha256(&derived, data)
    }

    pub fn has_key(&self, id: &str) -> bool {
        self.keys.contains_key(id)
    }

    /// Make the loaded key `id` the one [`SecretBox::seal_token`] uses; false if not loaded.
    pub fn set_current(&mut self, id: &str) -> bool {
        if self.keys.contains_key(id) {
            self.current = id.to_string();
            true
        } else {
            false
        }
    }

    /// The ids of the loaded keys.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Encrypt a token for the row `row_id` with the key `key_id`.
    pub fn seal_token_with(
        &self,
        key_id: &str,
        row_id: &str,
        token: &SecretString,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal_with(
            key_id,
            token_aad(row_id, key_id).as_bytes(),
            token.expose_secret().as_bytes(),
        )
    }

    /// Encrypt an organization's webhook URL with the key `key_id`.
    pub fn seal_webhook_with(
        &self,
        key_id: &str,
        org_id: &str,
        url: &SecretString,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal_with(
            key_id,
            webhook_aad(org_id, key_id).as_bytes(),
            url.expose_secret().as_bytes(),
        )
    }

    /// Encrypt a user's TOTP secret with the key `key_id`.
    pub fn seal_totp_with(
        &self,
        key_id: &str,
        user_id: &str,
        secret: &SecretString,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal_with(
            key_id,
            totp_aad(user_id, key_id).as_bytes(),
            secret.expose_secret().as_bytes(),
        )
    }

    pub fn open_totp(
        &self,
        user_id: &str,
        key_id: &str,
        blob: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let plain =
            Zeroizing::new(self.open_with(key_id, totp_aad(user_id, key_id).as_bytes(), blob)?);
        let s = std::str::from_utf8(&plain).map_err(|_| CryptoError::Open)?;
        Ok(SecretString::from(s.to_string()))
    }

    pub fn open_webhook(
        &self,
        org_id: &str,
        key_id: &str,
        blob: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let plain =
            Zeroizing::new(self.open_with(key_id, webhook_aad(org_id, key_id).as_bytes(), blob)?);
        let s = std::str::from_utf8(&plain).map_err(|_| CryptoError::Open)?;
        Ok(SecretString::from(s.to_string()))
    }

    /// Encrypt a token for the row `row_id`; returns the blob and the key id used.
    pub fn seal_token(
        &self,
        row_id: &str,
        token: &SecretString,
    ) -> Result<(Vec<u8>, String), CryptoError> {
        let key_id = self.current.clone();
        let blob = self.seal_token_with(&key_id, row_id, token)?;
        Ok((blob, key_id))
    }

    pub fn open_token(
        &self,
        row_id: &str,
        key_id: &str,
        blob: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let plain =
            Zeroizing::new(self.open_with(key_id, token_aad(row_id, key_id).as_bytes(), blob)?);
        let s = std::str::from_utf8(&plain).map_err(|_| CryptoError::Open)?;
        Ok(SecretString::from(s.to_string()))
    }

    fn cipher(&self, key_id: &str) -> Result<XChaCha20Poly1305, CryptoError> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))?;
        XChaCha20Poly1305::new_from_slice(key.bytes()).map_err(|_| CryptoError::Seal)
    }

    fn seal_with(&self, key_id: &str, aad: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = self.cipher(key_id)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg, aad })
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn open_with(&self, key_id: &str, aad: &[u8], blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher = self.cipher(key_id)?;
        if blob.len() < 1 + NONCE_LEN + 16 || blob[0] != VERSION {
            return Err(CryptoError::Open);
        }
        let (nonce, ct) = blob[1..].split_at(NONCE_LEN);
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sb() -> SecretBox {
        SecretBox::new(vec![MasterKey::generate()]).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn round_trip_and_binding() {
        let b = sb();
        let secret = SecretString::from("ghp_secret_value_1234".to_string());
        let (blob, kid) = b.seal_token("row-1", &secret).unwrap_or_default();
        assert!(!blob.windows(8).any(|w| w == b"ghp_secr"));
        let opened = b
            .open_token("row-1", &kid, &blob)
            .map(|s| s.expose_secret().to_string());
        assert_eq!(opened.as_deref(), Ok("ghp_secret_value_1234"));
        assert_eq!(
            b.open_token("row-2", &kid, &blob).err(),
            Some(CryptoError::Open)
        );
        let mut tampered = blob.clone();
        if let Some(x) = tampered.last_mut() {
            *x ^= 1;
        }
        assert_eq!(
            b.open_token("row-1", &kid, &tampered).err(),
            Some(CryptoError::Open)
        );
        assert!(matches!(
            b.open_token("row-1", "nope", &blob),
            Err(CryptoError::UnknownKey(_))
        ));
    }

    #[test]
    fn a_webhook_url_is_bound_to_its_organization_and_key() {
        let mut b = SecretBox::new(vec![MasterKey::generate(), MasterKey::generate()])
            .unwrap_or_else(|| unreachable!());
        let ids: Vec<String> = b.key_ids().map(str::to_string).collect();
        let url = SecretString::from("https://hooks.example.com/T/B/secret".to_string());
        let blob = b
            .seal_webhook_with(&ids[0], "org-1", &url)
            .unwrap_or_default();
        let opened = b.open_webhook("org-1", &ids[0], &blob);
        assert_eq!(
            opened.map(|s| s.expose_secret().to_string()).as_deref(),
            Ok("https://hooks.example.com/T/B/secret")
        );
        assert_eq!(
            b.open_webhook("org-2", &ids[0], &blob).err(),
            Some(CryptoError::Open)
        );
        assert_eq!(
            b.open_webhook("org-1", &ids[1], &blob).err(),
            Some(CryptoError::Open)
        );
        // Not a token's ciphertext either.
        assert_eq!(
            b.open_token("org-1", &ids[0], &blob).err(),
            Some(CryptoError::Open)
        );
        assert!(b.set_current(&ids[0]));
        assert_eq!(b.current_key_id(), ids[0]);
        assert!(!b.set_current("unknown"));
        assert_eq!(b.current_key_id(), ids[0]);
    }

    #[test]
    fn nonces_differ() {
        let b = sb();
        let s = SecretString::from("x".repeat(20));
        let (a, _) = b.seal_token("r", &s).unwrap_or_default();
        let (c, _) = b.seal_token("r", &s).unwrap_or_default();
        assert_ne!(a, c);
    }
}

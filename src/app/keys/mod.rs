//! Master keys (DESIGN.md §4, issue 11 item 4): which key seals a secret, and rotating keys
//! while servers run.
//!
//! ## The rule
//! The key material lives in the key file (`FORGEKEYS_KEY_FILE`, one key a line); the database
//! records the key ids and which one is **primary** (`master_keys`). A secret (a token value,
//! a webhook URL) is only ever sealed under the primary key, *claimed in the transaction that
//! writes the sealed value* ([`seal`]; `MasterKeyRow::claim`: a share lock on the key's row on
//! PostgreSQL, the write lock on SQLite). A process whose loaded key is no longer primary finds
//! out at its next seal — the claim fails — reads the primary's id from the database and
//! re-reads the key file if it lacks that key ([`adopt`]). A process whose key file lacks the
//! primary key refuses to seal (the write fails) rather than seal under an older key.
//!
//! ## `keys rotate`, in three phases ([`rotate`])
//! 1. **add**: a new key is appended to the key file (atomic rename), then one transaction makes
//!    it primary and the old primary `retiring`. That update waits for every transaction that
//!    claimed the old key, so when it commits every row sealed under the old key is committed
//!    and no process can seal under it any more. This is why rotating because a key leaked
//!    leaves no new secret under the leaked key, in any running server, with no restart.
//! 2. **re-seal**: every token value and webhook URL not under the new key is opened and
//!    sealed again under it (compare-and-swap on the old ciphertext: a row changed meanwhile was
//!    written under the new key by whoever changed it).
//! 3. **drop**: a retiring key is forgotten (database) and removed from the key file only when no
//!    row references it, counted in the database after phase 2 — rows written by servers
//!    during the rotation are counted too. A row that cannot be opened keeps its key, which
//!    then stays (reported).
//!
//! Interrupted anywhere, nothing is lost: the key file holds every key a row references at
//! every moment (a key is written to the file before it can be used and removed after its last
//! use), and running `keys rotate` again finishes the job: it adds one more key, re-seals
//! everything not under it and drops every retiring key nothing uses, including the one the
//! interrupted run added. One rotation at a time per key file: an exclusive lock on
//! `<key file>.lock`, which the kernel releases if the process dies.

pub mod legacy;
pub mod rotate;

pub use rotate::{Resealed, RotateError, Rotated, Rotation, Skipped, rotate};

use super::Error;
use crate::crypto::keyfile;
use crate::crypto::secret_box::{CryptoError, SecretBox};
use crate::db::models::master_key::MasterKeyRow;
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use secrecy::SecretString;
use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard};

/// What a sealed value is bound to (its associated data).
#[derive(Debug, Clone, Copy)]
pub enum Slot<'a> {
    /// The `secret` column of the token row with this id.
    Token(&'a str),
    /// The webhook URL of the organization with this id.
    Webhook(&'a str),
    /// The TOTP secret of the user with this id.
    Totp(&'a str),
}

fn read(secrets: &RwLock<SecretBox>) -> Result<RwLockReadGuard<'_, SecretBox>, CryptoError> {
    secrets.read().map_err(|_| CryptoError::Seal)
}

/// Seal `plain` for `slot` under the primary key, claimed in `conn`'s current transaction:
/// call it inside the transaction that stores the result. Returns the ciphertext and its key id.
pub fn seal(
    conn: &mut DbConn,
    secrets: &RwLock<SecretBox>,
    key_file: &Path,
    slot: Slot<'_>,
    plain: &SecretString,
) -> Result<(Vec<u8>, String), Error> {
    // The loaded key; else the primary after adopting it (and once more should another
    // rotation commit in between).
    for _ in 0..3 {
        let current = read(secrets)?.current_key_id().to_string();
        if MasterKeyRow::claim(conn, &current)? {
            let sb = read(secrets)?;
            let blob = match slot {
                Slot::Token(id) => sb.seal_token_with(&current, id, plain)?,
                Slot::Webhook(org) => sb.seal_webhook_with(&current, org, plain)?,
                Slot::Totp(user) => sb.seal_totp_with(&current, user, plain)?,
            };
            return Ok((blob, current));
        }
        let primary = MasterKeyRow::primary(conn)?.ok_or(CryptoError::NoPrimary)?;
        adopt(secrets, key_file, &primary)?;
    }
    Err(Error::Crypto(CryptoError::Seal))
}

/// Open a sealed value; a key this process does not have (a rotation added it) makes it re-read
/// the key file once.
pub fn open(
    secrets: &RwLock<SecretBox>,
    key_file: &Path,
    slot: Slot<'_>,
    key_id: &str,
    blob: &[u8],
) -> Result<SecretString, CryptoError> {
    let open_with = |sb: &SecretBox| match slot {
        Slot::Token(id) => sb.open_token(id, key_id, blob),
        Slot::Webhook(org) => sb.open_webhook(org, key_id, blob),
        Slot::Totp(user) => sb.open_totp(user, key_id, blob),
    };
    {
        let sb = secrets.read().map_err(|_| CryptoError::Open)?;
        if sb.has_key(key_id) {
            return open_with(&sb);
        }
    }
    if let Err(e) = reload(secrets, key_file) {
        tracing::warn!(error = %e, "could not re-read the key file");
    }
    let sb = secrets.read().map_err(|_| CryptoError::Open)?;
    open_with(&sb)
}

/// Seal with the key `id` from now on (the primary key, as the database says), re-reading the
/// key file if this process does not have it.
pub fn adopt(secrets: &RwLock<SecretBox>, key_file: &Path, id: &str) -> Result<(), CryptoError> {
    if secrets
        .write()
        .map_err(|_| CryptoError::Seal)?
        .set_current(id)
    {
        return Ok(());
    }
    if let Err(e) = reload(secrets, key_file) {
        tracing::error!(error = %e, "could not re-read the key file");
    }
    let mut sb = secrets.write().map_err(|_| CryptoError::Seal)?;
    if sb.set_current(id) {
        tracing::info!(key = %id, "sealing under the new primary master key");
        Ok(())
    } else {
        tracing::error!(key = %id, path = %key_file.display(),
            "the primary master key is not in this process's key file; nothing is sealed until it is (copy the current key file here)");
        Err(CryptoError::UnknownKey(id.to_string()))
    }
}

/// Replace the loaded keys with the key file's, keeping the current key if the file still has it.
fn reload(secrets: &RwLock<SecretBox>, key_file: &Path) -> Result<(), keyfile::KeyFileError> {
    let keys = keyfile::load(key_file)?;
    let Some(mut fresh) = SecretBox::new(keys) else {
        return Ok(());
    };
    if let Ok(mut sb) = secrets.write() {
        fresh.set_current(sb.current_key_id());
        *sb = fresh;
    }
    Ok(())
}

/// How the loaded keys and the database's record of them agree at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Startup {
    /// Sealing under `primary`; `registered`: the keys were recorded in the database just now
    /// (the first start after the upgrade, or a new database).
    Ready { primary: String, registered: bool },
    /// The database's primary key is not in the key file (an older copy of the file).
    PrimaryNotInFile(String),
}

/// The key ids the database knows (for the start's "key file missing" check).
pub fn known_ids(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    Ok(MasterKeyRow::all(conn)?.into_iter().map(|k| k.id).collect())
}

/// At start, before serving: seal under the database's primary key; on a database without one,
/// record the key file's keys (its last line primary, the others retiring).
pub fn bootstrap(
    conn: &mut DbConn,
    sb: &mut SecretBox,
    now: NaiveDateTime,
) -> Result<Startup, StoreError> {
    let mut registered = false;
    if MasterKeyRow::primary(conn)?.is_none() {
        use diesel::Connection;
        let current = sb.current_key_id().to_string();
        let others: Vec<String> = sb
            .key_ids()
            .filter(|k| *k != current)
            .map(str::to_string)
            .collect();
        match conn.transaction(|c| MasterKeyRow::register(c, &current, &others, now)) {
            Ok(()) => registered = true,
            // Another process starting at the same moment registered them first.
            Err(StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) => {}
            Err(e) => return Err(e),
        }
    }
    let primary = MasterKeyRow::primary(conn)?
        .ok_or_else(|| StoreError::Corrupt("no primary master key after registering".into()))?;
    Ok(if sb.set_current(&primary) {
        Startup::Ready {
            primary,
            registered,
        }
    } else {
        Startup::PrimaryNotInFile(primary)
    })
}

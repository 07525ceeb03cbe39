//! Master key rotation (`forgekeys keys rotate`): a new key, every token re-encrypted under it
//! one row at a time (each row update is atomic, and the key file keeps every key still in
//! use), then the keys nothing uses any more dropped.

use super::Error;
use super::audit::{Record, System, Who};
use crate::app::state::AppState;
use crate::crypto::keyfile::{self, KeyFileError};
use crate::crypto::secret_box::{CryptoError, MasterKey, SecretBox};
use crate::db::models::token::GitToken;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::TokenId;
use std::collections::HashSet;

/// A token that could not be decrypted with the loaded keys: left as it is, under its key.
#[derive(Debug)]
pub struct Skipped {
    pub id: TokenId,
    pub name: String,
    pub error: CryptoError,
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub key_id: String,
    pub reencrypted: usize,
    pub skipped: Vec<Skipped>,
    /// Keys left in the file (the new one and those still in use).
    pub kept: usize,
}

/// Why a rotation could not run.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("the key file holds no key")]
    NoKey,
    #[error(transparent)]
    App(#[from] Error),
}

/// Rotate the master key. A row that cannot be decrypted (damaged, or sealed under a key
/// missing from the file) is skipped, reported and keeps its key; every other row moves.
pub async fn rotate(state: &AppState) -> Result<Rotated, RotateError> {
    let path = state.config.key_file.clone();
    let mut with_new = keyfile::load(&path)?;
    let new_key = MasterKey::generate();
    let key_id = new_key.id.clone();
    // Keep the old keys in the file (new key last = current) before touching any row.
    with_new.push(new_key);
    keyfile::save(&path, &with_new)?;
    let sb = SecretBox::new(keyfile::load(&path)?).ok_or(RotateError::NoKey)?;
    let (new_id, at) = (key_id.clone(), state.clock.naive());
    let (reencrypted, skipped, in_use) = state
        .db(move |conn| {
            let mut moved = 0usize;
            let mut skipped = Vec::new();
            for (id, kid) in GitToken::all_ids(conn)? {
                if kid == new_id {
                    continue;
                }
                let Some(t) = GitToken::find(conn, &id)? else {
                    continue;
                };
                let secret = match sb.open_token(&t.id, &t.key_id, &t.secret) {
                    Ok(s) => s,
                    Err(error) => {
                        skipped.push(Skipped {
                            id: TokenId::new(t.id.clone()),
                            name: t.name.clone(),
                            error,
                        });
                        continue;
                    }
                };
                let (blob, kid) = sb.seal_token(&t.id, &secret)?;
                GitToken::set_secret(conn, &t.id, &blob, &kid)?;
                moved += 1;
            }
            let in_use: HashSet<String> = GitToken::all_ids(conn)?
                .into_iter()
                .map(|(_, k)| k)
                .collect();
            Record {
                client_ip: None,
                action: AuditAction::KeysRotate,
                who: Who::System(System::Cli),
                org: None,
                token: None,
                details: AuditDetails {
                    reencrypted: Some(moved as u64),
                    skipped: Some(skipped.len() as u64),
                    key_id: Some(new_id.clone()),
                    ..AuditDetails::default()
                },
            }
            .write(conn, at)?;
            Ok((moved, skipped, in_use))
        })
        .await?;
    let kept: Vec<MasterKey> = keyfile::load(&path)?
        .into_iter()
        .filter(|k| k.id == key_id || in_use.contains(&k.id))
        .collect();
    keyfile::save(&path, &kept)?;
    Ok(Rotated {
        key_id,
        reencrypted,
        skipped,
        kept: kept.len(),
    })
}

//! `forgekeys keys rotate`: the three phases of the module docs ([`super`]) — [`Rotation::begin`]
//! (add the new key as primary), [`Rotation::reseal`] (every secret under it),
//! [`Rotation::finish`] (drop the keys nothing uses). [`rotate`] runs all three.

use super::super::Error;
use super::super::audit::{Record, System, Who};
use crate::app::state::AppState;
use crate::crypto::keyfile::{self, KeyFileError};
use crate::crypto::secret_box::{CryptoError, MasterKey};
use crate::db::models::master_key::{MasterKeyRow, PRIMARY, RETIRING};
use crate::db::models::notification::NotificationSettings;
use crate::db::models::token::GitToken;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::TokenId;
use std::path::{Path, PathBuf};

/// Rows re-sealed in one transaction.
const CHUNK: i64 = 100;

/// A token that could not be decrypted with the loaded keys: left as it is, under its key.
#[derive(Debug)]
pub struct Skipped {
    pub id: TokenId,
    pub name: String,
    pub error: CryptoError,
}

/// What phase 2 did.
#[derive(Debug, Default)]
pub struct Resealed {
    pub tokens: usize,
    pub webhooks: usize,
    pub skipped: Vec<Skipped>,
    /// Webhook URLs that could not be decrypted (organization ids): left under their key.
    pub skipped_webhooks: Vec<String>,
    /// TOTP secrets re-sealed.
    pub totp: usize,
    /// TOTP secrets that could not be decrypted (user ids): left under their key.
    pub skipped_totp: Vec<String>,
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub key_id: String,
    pub reencrypted: usize,
    pub webhooks: usize,
    /// Two-factor (TOTP) secrets re-sealed.
    pub totp: usize,
    pub skipped: Vec<Skipped>,
    pub skipped_webhooks: Vec<String>,
    /// Users whose TOTP secret could not be opened with the loaded keys.
    pub skipped_totp: Vec<String>,
    /// Keys removed from the file and the database.
    pub dropped: Vec<String>,
    /// Keys left in the file (the new one and those still in use).
    pub kept: usize,
}

/// Why a rotation could not run.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// Another rotation holds the key file's lock.
    #[error("another rotation holds {}", lock.display())]
    Running { lock: PathBuf },
    #[error("lock file {}: {source}", lock.display())]
    Lock {
        lock: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    App(#[from] Error),
}

impl From<CryptoError> for RotateError {
    fn from(e: CryptoError) -> RotateError {
        RotateError::App(Error::Crypto(e))
    }
}

/// A rotation under way: its new key is primary (phase 1 done).
pub struct Rotation {
    state: AppState,
    /// Held until the rotation is dropped (the kernel releases it if the process dies).
    _lock: std::fs::File,
    pub key_id: String,
}

/// `<key file>.lock`.
pub fn lock_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    key_file.with_file_name(name)
}

fn lock(key_file: &Path) -> Result<std::fs::File, RotateError> {
    let path = lock_path(key_file);
    let err = |source| RotateError::Lock {
        lock: path.clone(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(&path).map_err(err)?;
    match try_lock(&file) {
        Ok(true) => Ok(file),
        Ok(false) => Err(RotateError::Running { lock: path }),
        Err(e) => Err(err(e)),
    }
}

/// An exclusive `flock` without waiting: false if another process holds it. (`File::try_lock`
/// needs Rust 1.89, above this crate's MSRV.)
#[cfg(unix)]
fn try_lock(file: &std::fs::File) -> std::io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: `flock` on a descriptor `file` owns and keeps open for the call; it touches no
    // memory. The lock lasts until the descriptor is closed (the file dropped, or the process
    // gone).
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Elsewhere no lock: run one rotation at a time by hand.
#[cfg(not(unix))]
fn try_lock(_file: &std::fs::File) -> std::io::Result<bool> {
    Ok(true)
}

/// Rotate the master key: all three phases.
pub async fn rotate(state: &AppState) -> Result<Rotated, RotateError> {
    let rotation = Rotation::begin(state).await?;
    let resealed = rotation.reseal().await?;
    rotation.finish(resealed).await
}

impl Rotation {
    /// Phase 1: a new key in the key file, then primary in the database. From the commit on,
    /// every process seals under it.
    pub async fn begin(state: &AppState) -> Result<Rotation, RotateError> {
        let path = state.config.key_file.clone();
        let lock = lock(&path)?;
        let mut keys = keyfile::load(&path)?;
        let new_key = MasterKey::generate();
        let key_id = new_key.id.clone();
        keys.push(new_key);
        keyfile::save(&path, &keys)?;
        let (id, at) = (key_id.clone(), state.clock.naive());
        state
            .tx(move |conn| Ok(MasterKeyRow::promote(conn, &id, at)?))
            .await?;
        super::adopt(&state.secrets, &path, &key_id)?;
        Ok(Rotation {
            state: state.clone(),
            _lock: lock,
            key_id,
        })
    }

    /// Phase 2: every token value and webhook URL not under the new key, sealed again under
    /// it, a chunk of rows per transaction.
    pub async fn reseal(&self) -> Result<Resealed, RotateError> {
        let mut report = Resealed::default();
        let mut after: Option<String> = None;
        loop {
            let (key, cursor) = (self.key_id.clone(), after.clone());
            let rows = self
                .state
                .db(move |conn| {
                    Ok(GitToken::sealed_chunk(
                        conn,
                        &key,
                        cursor.as_deref(),
                        CHUNK,
                    )?)
                })
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            let mut open = Vec::new();
            for r in rows {
                match self.state.open(&r.id, &r.key_id, &r.secret) {
                    Ok(secret) => open.push((r, secret)),
                    Err(error) => report.skipped.push(Skipped {
                        id: TokenId::new(r.id.clone()),
                        name: r.name.clone(),
                        error,
                    }),
                }
            }
            let st = self.state.clone();
            report.tokens += self
                .state
                .tx(move |conn| {
                    let mut moved = 0;
                    for (r, secret) in &open {
                        let (blob, kid) = st.seal_token(conn, &r.id, secret)?;
                        if GitToken::reseal(conn, &r.id, &r.secret, &blob, &kid)? {
                            moved += 1;
                        }
                    }
                    Ok(moved)
                })
                .await?;
        }
        let key = self.key_id.clone();
        let hooks = self
            .state
            .db(move |conn| Ok(NotificationSettings::sealed_not_under(conn, &key)?))
            .await?;
        for (org, kid, blob) in hooks {
            let Ok(url) = self.state.open_webhook(&org, &kid, &blob) else {
                report.skipped_webhooks.push(org);
                continue;
            };
            let st = self.state.clone();
            let moved = self
                .state
                .tx(move |conn| {
                    let (sealed, key) = st.seal_webhook(conn, &org, &url)?;
                    Ok(NotificationSettings::reseal(
                        conn, &org, &blob, &sealed, &key,
                    )?)
                })
                .await?;
            report.webhooks += usize::from(moved);
        }
        self.reseal_totp(&mut report).await?;
        Ok(report)
    }

    /// Phase 2 for the users' TOTP secrets.
    async fn reseal_totp(&self, report: &mut Resealed) -> Result<(), RotateError> {
        use crate::db::models::two_factor::TotpRow;
        let key = self.key_id.clone();
        let secrets = self
            .state
            .db(move |conn| Ok(TotpRow::sealed_not_under(conn, &key)?))
            .await?;
        for (user, kid, blob) in secrets {
            let Ok(secret) = self.state.open_totp(&user, &kid, &blob) else {
                report.skipped_totp.push(user);
                continue;
            };
            let st = self.state.clone();
            let moved = self
                .state
                .tx(move |conn| {
                    let (sealed, key) = st.seal_totp(conn, &user, &secret)?;
                    Ok(TotpRow::reseal(conn, &user, &blob, &sealed, &key)?)
                })
                .await?;
            report.totp += usize::from(moved);
        }
        Ok(())
    }

    /// Phase 3: forget every retiring key no row uses (counted now, after phase 2: rows
    /// servers wrote meanwhile included) and write the key file without them and without keys
    /// the database does not know that nothing uses (left by an interrupted phase 1).
    pub async fn finish(self, resealed: Resealed) -> Result<Rotated, RotateError> {
        let (key, at) = (self.key_id.clone(), self.state.clock.naive());
        let moved = (resealed.tokens + resealed.webhooks + resealed.totp) as u64;
        let skipped = (resealed.skipped.len()
            + resealed.skipped_webhooks.len()
            + resealed.skipped_totp.len()) as u64;
        let (dropped, keep) = self
            .state
            .tx(move |conn| {
                // A write first (SQLite: the write lock before the reads below).
                MasterKeyRow::claim(conn, &key)?;
                let mut dropped = Vec::new();
                for k in MasterKeyRow::all(conn)? {
                    if k.state == RETIRING && MasterKeyRow::forget_retired(conn, &k.id)? {
                        dropped.push(k.id);
                    }
                }
                let mut keep: Vec<String> = MasterKeyRow::all(conn)?
                    .into_iter()
                    .filter(|k| k.state == PRIMARY || k.state == RETIRING)
                    .map(|k| k.id)
                    .collect();
                keep.extend(MasterKeyRow::used_ids(conn)?);
                Record {
                    client_ip: None,
                    action: AuditAction::KeysRotate,
                    who: Who::System(System::Cli),
                    org: None,
                    token: None,
                    details: AuditDetails {
                        reencrypted: Some(moved),
                        skipped: Some(skipped),
                        key_id: Some(key),
                        ..AuditDetails::default()
                    },
                }
                .write(conn, at)?;
                Ok((dropped, keep))
            })
            .await?;
        let path = &self.state.config.key_file;
        let (mut kept, mut primary, mut dropped) = (Vec::new(), Vec::new(), dropped);
        for k in keyfile::load(path)? {
            if k.id == self.key_id {
                primary.push(k);
            } else if keep.contains(&k.id) {
                kept.push(k);
            } else if !dropped.contains(&k.id) {
                dropped.push(k.id.clone());
            }
        }
        if primary.is_empty() {
            // The file was replaced meanwhile: leave it alone.
            return Err(CryptoError::UnknownKey(self.key_id.clone()).into());
        }
        // The primary key last, as older versions expect the current key.
        kept.append(&mut primary);
        keyfile::save(path, &kept)?;
        Ok(Rotated {
            key_id: self.key_id.clone(),
            reencrypted: resealed.tokens,
            webhooks: resealed.webhooks,
            totp: resealed.totp,
            skipped: resealed.skipped,
            skipped_webhooks: resealed.skipped_webhooks,
            skipped_totp: resealed.skipped_totp,
            dropped,
            kept: kept.len(),
        })
    }
}

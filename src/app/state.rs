//! Shared application state handed to every handler as `web::Data<AppState>`.

use crate::app::keys;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::secret_box::{CryptoError, SecretBox};
use crate::db::{DbConn, Pool, PooledConn, StoreError};
use crate::providers::ProviderClient;
use secrecy::SecretString;
use std::sync::{Arc, Mutex, RwLock};

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub secrets: Arc<RwLock<SecretBox>>,
    pub providers: ProviderClient,
    /// "Now" for every decision by date (see [`crate::clock`]).
    pub clock: Clock,
    /// Token counts per organization, cached per token version.
    pub stats: Arc<crate::app::tokens::stats::StatsCache>,
    /// One-time setup token while no user exists (only its presence in memory; never stored).
    pub setup_token: Arc<Mutex<Option<String>>>,
    /// As many permits as the pool has connections: database work waits here, on the async
    /// side, instead of parking blocking threads on the pool's lock.
    pub db_slots: Arc<tokio::sync::Semaphore>,
    /// The password-hashing pool (see [`crate::app::hashing`]).
    pub hasher: crate::app::hashing::Hasher,
    /// The `forgekeys_*` metrics of this process (served on `FORGEKEYS_METRICS_BIND`).
    pub metrics: crate::metrics::Metrics,
    /// Per-key request limits of the API and the git-credentials route
    /// (`FORGEKEYS_API_RATE_LIMIT`; keyed by the key's id, see [`crate::app::rate_limit`]).
    pub api_limiter: Arc<crate::app::rate_limit::RateLimiter>,
    /// The single sign-on provider's endpoints and keys, kept for a while.
    pub sso: Arc<crate::app::sso::cache::Kept>,
}

impl AppState {
    /// A pooled connection, for the CLI and tests. Use cases go through [`AppState::db`].
    pub fn conn(&self) -> Result<PooledConn, StoreError> {
        Ok(self.pool.get()?)
    }

    /// The one way the use cases reach the database: `f` runs with a pooled connection on a
    /// blocking thread (never on an async worker).
    pub async fn db<T, F>(&self, f: F) -> Result<T, crate::app::Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, crate::app::Error> + Send + 'static,
    {
        let _slot = self
            .db_slots
            .acquire()
            .await
            .map_err(|e| crate::app::Error::Task(e.to_string()))?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(StoreError::from)?;
            f(&mut conn)
        })
        .await?
    }

    /// [`AppState::db`] inside one transaction: all of `f` or nothing.
    pub async fn tx<T, F>(&self, f: F) -> Result<T, crate::app::Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, crate::app::Error> + Send + 'static,
    {
        self.db(move |conn| {
            use diesel::Connection;
            conn.transaction(f)
        })
        .await
    }

    /// Hash a new password on the hashing pool (`Busy` when it is full).
    pub async fn hash_password(
        &self,
        password: SecretString,
    ) -> Result<Result<String, crate::app::hashing::Busy>, crate::app::Error> {
        match self
            .hasher
            .run(move || crate::crypto::password::hash(&password))
            .await
        {
            Ok(Ok(h)) => Ok(Ok(h)),
            Ok(Err(e)) => Err(crate::app::Error::Task(format!(
                "password hashing failed: {e}"
            ))),
            Err(busy) => Ok(Err(busy)),
        }
    }

    /// CPU-heavy work on a blocking thread (password hashing goes to [`AppState::hasher`]).
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, crate::app::Error>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, crate::app::Error> + Send + 'static,
    {
        tokio::task::spawn_blocking(f).await?
    }

    /// Seal a token value for the row `row_id` under the primary master key, claimed in
    /// `conn`'s transaction (call it inside the transaction that stores the result; see
    /// [`crate::app::keys`]). Returns the ciphertext and its key id.
    pub fn seal_token(
        &self,
        conn: &mut DbConn,
        row_id: &str,
        token: &SecretString,
    ) -> Result<(Vec<u8>, String), crate::app::Error> {
        let slot = keys::Slot::Token(row_id);
        keys::seal(conn, &self.secrets, &self.config.key_file, slot, token)
    }

    /// [`AppState::seal_token`] for an organization's webhook URL.
    pub fn seal_webhook(
        &self,
        conn: &mut DbConn,
        org_id: &str,
        url: &SecretString,
    ) -> Result<(Vec<u8>, String), crate::app::Error> {
        let slot = keys::Slot::Webhook(org_id);
        keys::seal(conn, &self.secrets, &self.config.key_file, slot, url)
    }

    /// [`AppState::seal_token`] for a user's TOTP secret.
    pub fn seal_totp(
        &self,
        conn: &mut DbConn,
        user_id: &str,
        secret: &SecretString,
    ) -> Result<(Vec<u8>, String), crate::app::Error> {
        let slot = keys::Slot::Totp(user_id);
        keys::seal(conn, &self.secrets, &self.config.key_file, slot, secret)
    }

    /// Decrypt a user's stored TOTP secret.
    pub fn open_totp(
        &self,
        user_id: &str,
        key_id: &str,
        blob: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let slot = keys::Slot::Totp(user_id);
        keys::open(&self.secrets, &self.config.key_file, slot, key_id, blob)
    }

    /// Decrypt a stored token. If its key is unknown (a `keys rotate` ran while serving), the
    /// key file is re-read once.
    pub fn open(
        &self,
        row_id: &str,
        key_id: &str,
        blob: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let slot = keys::Slot::Token(row_id);
        keys::open(&self.secrets, &self.config.key_file, slot, key_id, blob)
    }

    /// Decrypt an organization's stored webhook URL.
    pub fn open_webhook(
        &self,
        org_id: &str,
        key_id: &str,
        blob: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let slot = keys::Slot::Webhook(org_id);
        keys::open(&self.secrets, &self.config.key_file, slot, key_id, blob)
    }

    pub fn setup_token(&self) -> Option<String> {
        self.setup_token.lock().ok().and_then(|g| g.clone())
    }

    /// Whether `candidate` is the one-time setup token (compared in constant time).
    pub fn setup_token_matches(&self, candidate: &str) -> bool {
        use subtle::ConstantTimeEq;
        match self.setup_token() {
            Some(t) => {
                !candidate.is_empty() && bool::from(t.as_bytes().ct_eq(candidate.as_bytes()))
            }
            None => false,
        }
    }

    pub fn clear_setup_token(&self) {
        if let Ok(mut g) = self.setup_token.lock() {
            *g = None;
        }
    }
}

//! Storage: one connection type over SQLite or PostgreSQL, chosen from `DATABASE_URL` at run time.

pub mod backup;
pub mod migrations;
pub mod models;
pub mod schema;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use std::time::Duration;

/// A database connection of either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database connection error: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path, or `:memory:`.
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`, `postgres://…` and
    /// `postgresql://…`. Anything else is refused (never a silent SQLite fallback).
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://forgekeys.db".into());
            }
            return Ok(DatabaseUrl::Sqlite(path.to_string()));
        }
        Err(format!(
            "must start with sqlite:// or postgres:// (got {:?})",
            redact_url(url)
        ))
    }

    pub fn is_memory(&self) -> bool {
        matches!(self, DatabaseUrl::Sqlite(p) if p == ":memory:")
    }

    /// Directory a key file defaults to (beside the SQLite database; the working directory otherwise).
    pub fn sqlite_dir(&self) -> Option<std::path::PathBuf> {
        match self {
            DatabaseUrl::Sqlite(p) if p != ":memory:" => std::path::Path::new(p)
                .parent()
                .map(std::path::Path::to_path_buf),
            _ => None,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "sqlite",
            DatabaseUrl::Postgres(_) => "postgres",
        }
    }
}

/// Hide a password in a URL for logs and messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// r2d2 manager that opens the backend named by the URL.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers work while a writer commits; the busy timeout makes
                // concurrent writers wait instead of failing with SQLITE_BUSY.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url)
                .map(DbConn::Postgres)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// Build the pool. An in-memory SQLite database gets a single connection (each connection
/// would otherwise see its own empty database).
pub fn build_pool(url: &DatabaseUrl) -> Result<Pool, r2d2::PoolError> {
    if let DatabaseUrl::Sqlite(path) = url {
        private_sqlite_files(path);
    }
    let size = if url.is_memory() { 1 } else { 8 };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager { url: url.clone() })
}

/// The SQLite database file is created empty with mode 0600 before SQLite opens it; SQLite gives
/// its `-wal` and `-shm` files the mode of the database, so they are 0600 too. Files left more
/// open by an older version are tightened (with a warning). Tokens are encrypted, but the
/// database also holds password hashes, sessions and the audit trail.
fn private_sqlite_files(path: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if path == ":memory:" || path.starts_with("file:") {
            return;
        }
        match backup::create_private(std::path::Path::new(path)) {
            Ok(_) => return,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            // SQLite reports the real problem (no such directory, no permission) when it opens.
            Err(_) => return,
        }
        for file in [
            path.to_string(),
            format!("{path}-wal"),
            format!("{path}-shm"),
        ] {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            let mode = meta.permissions().mode() & 0o7777;
            if mode & 0o077 == 0 {
                continue;
            }
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o7700)) {
                Ok(()) => tracing::warn!(
                    file = %file,
                    was = format!("{mode:04o}"),
                    "database file was open to group or others; now readable by its owner only"
                ),
                Err(e) => tracing::warn!(
                    file = %file,
                    error = %e,
                    "database file is open to group or others and its mode cannot be changed: run chmod 600 on it"
                ),
            }
        }
    }
}

/// Now, as the naive UTC timestamp stored in the database (second precision is plenty and
/// keeps both backends identical).
pub fn now() -> chrono::NaiveDateTime {
    let n = chrono::Utc::now().naive_utc();
    chrono::NaiveDateTime::new(
        n.date(),
        chrono::NaiveTime::from_num_seconds_from_midnight_opt(
            chrono::Timelike::num_seconds_from_midnight(&n),
            0,
        )
        .unwrap_or_default(),
    )
}

/// A new random id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://forgekeys.db"),
            Ok(DatabaseUrl::Sqlite("forgekeys.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:"),
            Ok(DatabaseUrl::Sqlite(":memory:".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@localhost/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        let err = DatabaseUrl::parse("mysql://u:secret@h/db")
            .err()
            .unwrap_or_default();
        assert!(!err.contains("secret"), "{err}");
        assert!(DatabaseUrl::parse("forgekeys.db").is_err());
    }
}

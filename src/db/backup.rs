//! `forgekeys backup`: a consistent copy of a SQLite database, taken while servers use it.
//!
//! `VACUUM INTO` reads the database inside one read transaction (a snapshot: writers carry on
//! in the WAL meanwhile, and nothing they commit after the start is half in the copy) and
//! writes a compact, self-contained file — no `-wal` to carry along. The target is created
//! empty with mode 0600 first (`VACUUM INTO` accepts an empty file, and keeps its mode), so the
//! copy is never readable by others, not even while it is written.

use super::{DbConn, StoreError};
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use std::path::Path;

/// Create `target` empty, mode 0600; fails if it exists (a backup never overwrites a file).
pub fn create_private(target: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(target)
}

/// Copy the SQLite database of `conn` into `target` (see the module notes), then flush it to
/// disk. `target` must not exist.
pub fn sqlite_into(conn: &mut DbConn, target: &Path) -> Result<(), BackupFailed> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Err(BackupFailed::NotSqlite);
    }
    create_private(target).map_err(BackupFailed::Target)?;
    let path = target.to_string_lossy().into_owned();
    let copied = diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(&path)
        .execute(conn);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(target);
        return Err(BackupFailed::Store(e.into()));
    }
    std::fs::File::open(target)
        .and_then(|f| f.sync_all())
        .map_err(BackupFailed::Target)
}

#[derive(Debug, thiserror::Error)]
pub enum BackupFailed {
    #[error("not a SQLite database")]
    NotSqlite,
    #[error("{0}")]
    Target(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

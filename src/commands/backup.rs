//! `forgekeys backup DIR`: the database (SQLite; a `pg_dump` hint on PostgreSQL) and the key
//! file, both 0600, safe while servers run. See the README's "Backup and restore".

use crate::config::Config;
use crate::crypto::keyfile;
use crate::db::schema::git_tokens;
use crate::db::{DatabaseUrl, DbConn, backup, redact_url};
use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::path::Path;

/// The file names inside DIR.
pub const DB_FILE: &str = "forgekeys.db";
pub const KEY_FILE: &str = "forgekeys.key";

pub fn backup(config: &Config, dir: &Path) -> anyhow::Result<()> {
    // Refused like at start when the key file is open to others (`keyfile::load`).
    let before = keyfile::load(&config.key_file)?;
    prepare_dir(dir)?;
    let key_target = dir.join(KEY_FILE);
    let db_target = dir.join(DB_FILE);
    for t in [&key_target, &db_target] {
        if t.exists() {
            bail!(
                "{} already exists; a backup never overwrites one: choose an empty directory",
                t.display()
            );
        }
    }
    match &config.database {
        DatabaseUrl::Sqlite(p) if p == ":memory:" => {
            bail!("DATABASE_URL is an in-memory database: there is nothing to back up")
        }
        DatabaseUrl::Sqlite(path) => {
            if !Path::new(path).is_file() {
                bail!("no SQLite database at {path} (check DATABASE_URL)");
            }
            let mut conn = DbConn::Sqlite(
                diesel::SqliteConnection::establish(path)
                    .with_context(|| format!("cannot open the SQLite database {path}"))?,
            );
            conn.batch_execute("PRAGMA busy_timeout = 5000;")?;
            backup::sqlite_into(&mut conn, &db_target).with_context(|| {
                format!("cannot copy the database into {}", db_target.display())
            })?;
            // Read again after the copy: every key either reading saw goes into the backup.
            let keys = keyfile::merged(before, keyfile::load(&config.key_file)?);
            keyfile::save(&key_target, &keys)?;
            let mut copy = DbConn::Sqlite(diesel::SqliteConnection::establish(
                &db_target.to_string_lossy(),
            )?);
            let used: Vec<String> = git_tokens::table
                .select(git_tokens::key_id)
                .distinct()
                .load(&mut copy)?;
            let missing: Vec<&String> = used
                .iter()
                .filter(|id| !keys.iter().any(|k| &k.id == *id))
                .collect();
            if !missing.is_empty() {
                bail!(
                    "the copied database uses key(s) {missing:?} that the key file {} lacks; the backup in {} cannot decrypt those tokens",
                    config.key_file.display(),
                    dir.display()
                );
            }
            println!(
                "backed up the SQLite database to {} and the key file to {} (both mode 0600; keep them together)",
                db_target.display(),
                key_target.display()
            );
        }
        DatabaseUrl::Postgres(url) => {
            keyfile::save(&key_target, &before)?;
            println!(
                "copied the key file to {} (mode 0600).\n\
                 The database is on PostgreSQL and was NOT copied: take it with pg_dump while the \
                 servers run, and keep the dump with the key file, e.g.\n\n    \
                 pg_dump --format=custom --file {}/forgekeys.dump '{}'\n\n\
                 Without the key file the dump's tokens cannot be decrypted; without the dump the \
                 key file is useless.",
                key_target.display(),
                dir.display(),
                redact_url(url)
            );
        }
    }
    Ok(())
}

/// Create DIR (mode 0700) if missing.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("cannot create the backup directory {}", dir.display()))
}

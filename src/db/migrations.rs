//! Embedded migrations, one set per backend (same versions and names in both).

use super::DbConn;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Apply pending migrations; returns how many ran.
pub fn run(conn: &mut DbConn) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE)?.len(),
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES)?.len(),
    };
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn versions(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let s = versions("migrations/sqlite");
        assert!(!s.is_empty());
        assert_eq!(s, versions("migrations/postgres"));
    }
}

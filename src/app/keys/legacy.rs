//! Webhook URLs that versions before issue 11 stored in plain text: the migration
//! `2026-12-01-000112_webhook_sealed` moved them to `legacy_webhook_url`; the server seals
//! them at start (sealing needs the master key, which SQL does not have) and clears the column.
//!
//! On SQLite the old text would survive in free pages and the write-ahead log, so after sealing
//! any the database is vacuumed once and the log truncated. On PostgreSQL the old row versions
//! stay in the table's files until PostgreSQL reuses the space (`VACUUM FULL
//! notification_settings` removes them at once; see the README).

use super::{Slot, seal};
use crate::app::Error;
use crate::crypto::secret_box::SecretBox;
use crate::db::DbConn;
use crate::db::models::notification::NotificationSettings;
use crate::providers::webhook::describe_url;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use secrecy::SecretString;
use std::path::Path;
use std::sync::RwLock;

/// Seal every plain webhook URL left by an older version. Returns how many were sealed.
pub fn seal_webhooks(
    conn: &mut DbConn,
    secrets: &RwLock<SecretBox>,
    key_file: &Path,
) -> Result<usize, Error> {
    let mut sealed = 0;
    for (org, url) in NotificationSettings::legacy(conn)? {
        let hint = describe_url(&url);
        let plain = SecretString::from(url.clone());
        let done = conn.transaction(|c| {
            let (blob, key_id) = seal(c, secrets, key_file, Slot::Webhook(&org), &plain)?;
            Ok::<_, Error>(NotificationSettings::seal_legacy(
                c, &org, &url, &blob, &key_id, &hint,
            )?)
        })?;
        sealed += usize::from(done);
    }
    if sealed > 0 && matches!(conn, DbConn::Sqlite(_)) {
        // Best effort: the URLs are sealed either way.
        if let Err(e) = conn.batch_execute("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);") {
            tracing::warn!(error = %e, "could not vacuum the database after sealing webhook URLs");
        }
    }
    Ok(sealed)
}

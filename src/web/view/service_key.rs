//! Service keys as the service's page shows them: dates in words, the expiry badge, and the
//! lines a build needs right after a key is made.

use super::time::{Moment, fmt_date};
use crate::app::service_keys::KeyEntry;
use crate::domain::access_key::AccessKey;
use crate::domain::service_key::GitRemote;
use crate::web::urls;
use chrono::NaiveDateTime;

/// One row of the "Build credentials" table.
#[derive(Debug, Clone)]
pub struct KeyLine {
    pub id: String,
    pub name: String,
    pub hint: String,
    pub created_by: String,
    pub created: Moment,
    /// "Never", or the date.
    pub expires: String,
    /// `ok`, `warn` or `danger` (within 7 days or past).
    pub expires_class: &'static str,
    pub last_used: Option<Moment>,
    pub revoke_url: String,
}

impl KeyLine {
    pub fn new(slug: &str, k: &KeyEntry, now: NaiveDateTime) -> KeyLine {
        let (expires, expires_class) = match k.expires_at {
            None => ("Never".to_string(), "muted"),
            Some(e) if e <= now => (format!("Expired {}", fmt_date(e)), "danger"),
            Some(e) if e - now <= chrono::Duration::days(7) => (fmt_date(e), "danger"),
            Some(e) if e - now <= chrono::Duration::days(30) => (fmt_date(e), "warn"),
            Some(e) => (fmt_date(e), "ok"),
        };
        KeyLine {
            id: k.id.as_str().to_string(),
            name: k.name.clone(),
            hint: k.hint.clone(),
            created_by: k.created_by.clone().unwrap_or_else(|| "—".into()),
            created: Moment::new(k.created_at, now),
            expires,
            expires_class,
            last_used: k.last_used_at.map(|t| Moment::new(t, now)),
            revoke_url: urls::service_key_revoke(slug, k.service_id.as_str(), k.id.as_str()),
        }
    }
}

/// A key just made, shown once: the value and what to paste into a build.
#[derive(Debug, Clone)]
pub struct NewKeyView {
    pub name: String,
    pub value: String,
    pub expires: String,
    /// The environment and the clone command, ready to paste.
    pub snippet: String,
}

/// The clone command with Forgekeys as git's credential helper.
pub fn clone_command(remote: Option<&GitRemote>) -> String {
    let url = remote.map_or_else(|| "<repository URL>".to_string(), GitRemote::url);
    format!("git -c credential.helper='!forgekeys git-credential' clone {url}")
}

impl NewKeyView {
    pub fn new(
        name: &str,
        key: &AccessKey,
        expires_at: Option<NaiveDateTime>,
        forgekeys_url: &str,
        remote: Option<&GitRemote>,
    ) -> NewKeyView {
        NewKeyView {
            name: name.to_string(),
            value: key.reveal().to_string(),
            expires: expires_at.map_or_else(|| "never".to_string(), fmt_date),
            snippet: format!(
                "export FORGEKEYS_URL={forgekeys_url}\nexport FORGEKEYS_SERVICE_KEY={}\n{}",
                key.reveal(),
                clone_command(remote)
            ),
        }
    }
}

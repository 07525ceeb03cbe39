//! Machine access keys (DESIGN.md §9): organization API keys (`fkp_…`) and service keys
//! (`fks_…`). A key is shown once when made; only its SHA-256 is stored (the key is 32 random
//! bytes, so a fast hash is enough: there is nothing to guess). The first characters after the
//! prefix are kept in clear as a `hint`, so a key can be told apart on the page and in the audit
//! trail without being usable.

use super::ids::{ApiKeyId, OrgId};
use super::role::Role;
use chrono::NaiveDateTime;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// Which kind of key, from its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// An organization API key (`fkp_`): acts with a role in one organization.
    Org,
    /// A service key (`fks_`): may fetch one service's git credentials, nothing else.
    Service,
}

impl KeyKind {
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Org => "fkp_",
            KeyKind::Service => "fks_",
        }
    }
}

/// Characters after the prefix kept as the key's hint (about 36 bits: tells keys apart, does not
/// help to guess the other 220).
const HINT_CHARS: usize = 6;
/// Random bytes in a key (hex: 64 characters after the prefix).
const KEY_BYTES: usize = 32;

/// A key value, as the caller sent it or as it was just made. Never logged: `Debug` and
/// `Display` show the hint only.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    kind: KeyKind,
    value: String,
}

/// Why a presented value is not a key (the answer to the caller is the same 401 either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAKey;

impl AccessKey {
    /// A new random key of `kind`.
    pub fn generate(kind: KeyKind) -> AccessKey {
        let mut b = [0u8; KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut b);
        AccessKey {
            kind,
            value: format!("{}{}", kind.prefix(), hex::encode(b)),
        }
    }

    /// A key as presented (`Authorization: Bearer …`): the prefix names the kind; the rest must
    /// be the 64 lowercase hex characters a generated key has.
    pub fn parse(s: &str) -> Result<AccessKey, NotAKey> {
        let s = s.trim();
        let kind = [KeyKind::Org, KeyKind::Service]
            .into_iter()
            .find(|k| s.starts_with(k.prefix()))
            .ok_or(NotAKey)?;
        let rest = &s[kind.prefix().len()..];
        if rest.len() != KEY_BYTES * 2
            || !rest
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        {
            return Err(NotAKey);
        }
        Ok(AccessKey {
            kind,
            value: s.to_string(),
        })
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The whole value: only for showing it once, right after it was made.
    pub fn reveal(&self) -> &str {
        &self.value
    }

    /// What is stored and looked up: lowercase hex SHA-256 of the whole value.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.value.as_bytes()))
    }

    /// The prefix and first characters (`fkp_3f9a1c`), stored in clear to tell keys apart.
    pub fn hint(&self) -> String {
        self.value[..self.kind.prefix().len() + HINT_CHARS].to_string()
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKey({}…)", self.hint())
    }
}

impl fmt::Display for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", self.hint())
    }
}

/// Longest key name.
pub const KEY_NAME_MAX: usize = 100;
/// Longest lifetime a key may be given (`expires_in_days`); empty means it never expires.
pub const KEY_DAYS_MAX: i64 = 3650;
/// The roles an organization API key may have (DESIGN.md §9): never Owner or Billing.
pub const KEY_ROLES: [Role; 3] = [Role::Admin, Role::Devops, Role::Viewer];

/// An organization API key as the pages and the API see it (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    pub role: Role,
    /// `fkp_3f9a1c`
    pub hint: String,
    /// E-mail of who made it.
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ApiKey {
    /// Whether it authenticates at `now`: not revoked and not past its expiry.
    pub fn active(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }

    pub fn actor(&self) -> KeyActor {
        KeyActor {
            id: self.id.clone(),
            name: self.name.clone(),
            hint: self.hint.clone(),
            created_by: self.created_by.clone(),
        }
    }
}

/// An API key as an actor: what the audit trail names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyActor {
    pub id: ApiKeyId,
    pub name: String,
    pub hint: String,
    pub created_by: String,
}

impl KeyActor {
    /// The actor name stored in audit records, e.g.
    /// `API key ‘terraform’ (fkp_3f9a1c) created by alice@example.com`.
    pub fn actor_name(&self) -> String {
        format!(
            "API key ‘{}’ ({}) created by {}",
            self.name, self.hint, self.created_by
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_with_their_kind_and_differ() {
        let a = AccessKey::generate(KeyKind::Org);
        let b = AccessKey::generate(KeyKind::Org);
        assert_ne!(a, b);
        assert!(a.reveal().starts_with("fkp_"));
        assert_eq!(a.reveal().len(), 4 + 64);
        let parsed = AccessKey::parse(a.reveal()).expect("parses");
        assert_eq!(parsed.kind(), KeyKind::Org);
        assert_eq!(parsed.hash(), a.hash());
        let s = AccessKey::generate(KeyKind::Service);
        assert_eq!(
            AccessKey::parse(s.reveal()).map(|k| k.kind()),
            Ok(KeyKind::Service)
        );
    }

    #[test]
    fn malformed_values_are_not_keys() {
        let good = AccessKey::generate(KeyKind::Org);
        for bad in [
            "",
            "fkp_",
            "ghp_0123456789abcdef0123456789abcdef01234567",
            &good.reveal()[..good.reveal().len() - 1],
            &format!("{}0", good.reveal()),
            &good.reveal().to_uppercase(),
            &good.reveal().replace("fkp_", "fkx_"),
        ] {
            assert_eq!(AccessKey::parse(bad), Err(NotAKey), "{bad:?}");
        }
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let k = AccessKey::generate(KeyKind::Service);
        let secret_part = &k.reveal()[10..];
        assert!(!format!("{k:?}").contains(secret_part));
        assert!(!format!("{k}").contains(secret_part));
        assert_eq!(k.hint().len(), 10);
        assert!(k.reveal().starts_with(&k.hint()));
    }

    #[test]
    fn hash_is_sha256_hex_of_the_value() {
        let k = AccessKey::parse(&format!("fkp_{}", "ab".repeat(32))).expect("parses");
        assert_eq!(k.hash().len(), 64);
        assert_eq!(
            k.hash(),
            hex::encode(Sha256::digest(
                format!("fkp_{}", "ab".repeat(32)).as_bytes()
            ))
        );
    }
}

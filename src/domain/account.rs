//! Organizations, users and memberships as the use cases see them (no password hash here).

use super::ids::{OrgId, UserId};
use super::role::{Permission, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
}

/// A signed-in user acting in one organization with their role there: the actor of every
/// organization use case, which checks the role itself.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    pub org: Organization,
    pub role: Role,
    /// Where the request acting as this member came from (recorded in the audit trail).
    pub client_ip: Option<std::net::IpAddr>,
    /// Set when an organization API key acts (the JSON API): `user` is then the key itself
    /// (its id and actor name), `role` the key's role, and the audit trail names the key.
    pub via_key: Option<super::access_key::KeyActor>,
}

impl Member {
    pub fn can(&self, p: Permission) -> bool {
        p.allows(self.role)
    }
}

/// Longest organization name.
pub const ORG_NAME_MAX: usize = 100;

/// Why an organization slug is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSlug;

/// An organization slug: 2–40 of a–z, 0–9 and `-`, not starting or ending with `-`
/// (lower-cased).
pub fn parse_slug(raw: &str) -> Result<String, BadSlug> {
    let s = raw.trim().to_ascii_lowercase();
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if s.len() < 2 || s.len() > 40 || !ok_chars || s.starts_with('-') || s.ends_with('-') {
        return Err(BadSlug);
    }
    Ok(s)
}

/// Why an e-mail address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEmail;

/// Normalise and check an e-mail address (a light check: an `@` with text on both sides and a
/// dot in the domain).
pub fn parse_email(raw: &str) -> Result<String, BadEmail> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid { Ok(e) } else { Err(BadEmail) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_emails() {
        assert_eq!(parse_slug(" Acme-Corp "), Ok("acme-corp".into()));
        assert_eq!(parse_slug("-acme"), Err(BadSlug));
        assert_eq!(parse_slug("a"), Err(BadSlug));
        assert_eq!(
            parse_email(" Admin@Example.COM "),
            Ok("admin@example.com".into())
        );
        assert_eq!(parse_email("admin@localhost"), Err(BadEmail));
        assert_eq!(parse_email("a b@example.com"), Err(BadEmail));
    }
}

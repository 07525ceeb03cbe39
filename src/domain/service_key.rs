//! Build credentials (DESIGN.md §9): what a service key is made with, and the Git remote a
//! service's repository is cloned from — the one place that decides whether a request from git
//! (`protocol`, `host`, `path`) is for that repository. The server checks it before it releases
//! a token, and `forgekeys git-credential` checks it before it even asks, so a token is never
//! handed out for another host.

use chrono::{Duration, NaiveDateTime};

/// Longest service key name.
pub const KEY_NAME_MAX: usize = 100;
/// Longest lifetime a service key may be given (ten years); no lifetime = never expires.
pub const KEY_MAX_DAYS: u32 = 3650;

/// Why a new key's fields are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyInputError {
    NameEmpty,
    NameTooLong,
    /// `expires_in_days` is not a whole number from 1 to [`KEY_MAX_DAYS`].
    Lifetime,
}

/// A new service key's fields, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewServiceKey {
    pub name: String,
    /// Days until it expires; `None`: never.
    pub expires_in_days: Option<u32>,
}

impl NewServiceKey {
    /// `name` (1–100 characters, trimmed) and `expires_in_days` (empty = never, else 1–3650).
    pub fn parse(name: &str, expires_in_days: &str) -> Result<NewServiceKey, Vec<KeyInputError>> {
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            errors.push(KeyInputError::NameEmpty);
        } else if name.chars().count() > KEY_NAME_MAX {
            errors.push(KeyInputError::NameTooLong);
        }
        let days = expires_in_days.trim();
        let expires_in_days = if days.is_empty() {
            None
        } else {
            match days.parse::<u32>() {
                Ok(d) if (1..=KEY_MAX_DAYS).contains(&d) => Some(d),
                _ => {
                    errors.push(KeyInputError::Lifetime);
                    None
                }
            }
        };
        if errors.is_empty() {
            Ok(NewServiceKey {
                name: name.to_string(),
                expires_in_days,
            })
        } else {
            Err(errors)
        }
    }

    /// When a key made at `now` expires.
    pub fn expires_at(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.expires_in_days
            .map(|d| now + Duration::days(i64::from(d)))
    }
}

/// Whether a key with this expiry still works at `now`.
pub fn key_alive(expires_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    expires_at.is_none_or(|e| e > now)
}

/// Where git fetches a repository from over HTTP(S): `https://github.com/acme/web.git` is
/// protocol `https`, host `github.com`, path `acme/web.git`. The host carries the port when it
/// is not the scheme's default (as git sends it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitRemote {
    pub protocol: String,
    pub host: String,
    /// Without a leading slash, ending in `.git`.
    pub path: String,
}

/// Why a Git server base cannot give a remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotARemote;

fn default_port(protocol: &str) -> Option<u16> {
    match protocol {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// `host[:port]` lower-cased, without the protocol's default port.
fn normal_host(protocol: &str, host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    if let Some((name, port)) = host.rsplit_once(':') {
        // `[::1]` alone has colons but no port after the bracket.
        let is_port = !name.is_empty() && !port.contains(']') && port.parse::<u16>().is_ok();
        if is_port && port.parse::<u16>().ok() == default_port(protocol) {
            return name.to_string();
        }
    }
    host
}

/// A path compared without slashes around it, without a trailing `.git`, ignoring case.
fn normal_path(path: &str) -> String {
    let p = path.trim().trim_matches('/');
    let p = p.strip_suffix(".git").unwrap_or(p);
    p.trim_end_matches('/').to_ascii_lowercase()
}

impl GitRemote {
    /// The remote of `repository` (`owner/repo`, a GitLab project path) under a Git server base
    /// such as `https://github.com` or `https://dev.company.com/gitlab`.
    pub fn new(base: &str, repository: &str) -> Result<GitRemote, NotARemote> {
        let url = url::Url::parse(base.trim()).map_err(|_| NotARemote)?;
        let protocol = url.scheme().to_string();
        if default_port(&protocol).is_none() {
            return Err(NotARemote);
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(NotARemote)?;
        let host = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let repository = repository.trim().trim_matches('/');
        if repository.is_empty() {
            return Err(NotARemote);
        }
        let prefix = url.path().trim_matches('/');
        let path = if prefix.is_empty() {
            format!("{repository}.git")
        } else {
            format!("{prefix}/{repository}.git")
        };
        Ok(GitRemote {
            protocol,
            host: host.to_ascii_lowercase(),
            path,
        })
    }

    /// The URL to clone.
    pub fn url(&self) -> String {
        format!("{}://{}/{}", self.protocol, self.host, self.path)
    }

    /// Whether git's request is for this remote: each of `protocol`, `host` and `path` that is
    /// given must match (git sends `path` only with `credential.useHttpPath`). The host is
    /// compared without case and without the default port; the path with or without `.git`
    /// and slashes around it.
    pub fn matches(&self, protocol: Option<&str>, host: Option<&str>, path: Option<&str>) -> bool {
        let protocol_ok = protocol.is_none_or(|p| p.trim().eq_ignore_ascii_case(&self.protocol));
        let host_ok = host.is_none_or(|h| {
            normal_host(&self.protocol, h) == normal_host(&self.protocol, &self.host)
        });
        let path_ok = path.is_none_or(|p| normal_path(p) == normal_path(&self.path));
        protocol_ok && host_ok && path_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_checked() {
        assert_eq!(
            NewServiceKey::parse(" ci ", ""),
            Ok(NewServiceKey {
                name: "ci".into(),
                expires_in_days: None
            })
        );
        assert_eq!(
            NewServiceKey::parse("ci", "90").map(|k| k.expires_in_days),
            Ok(Some(90))
        );
        assert_eq!(
            NewServiceKey::parse("", "0"),
            Err(vec![KeyInputError::NameEmpty, KeyInputError::Lifetime])
        );
        assert_eq!(
            NewServiceKey::parse(&"x".repeat(101), "3651"),
            Err(vec![KeyInputError::NameTooLong, KeyInputError::Lifetime])
        );
        assert_eq!(
            NewServiceKey::parse("ci", "-1"),
            Err(vec![KeyInputError::Lifetime])
        );
        let now = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let k = NewServiceKey::parse("ci", "2").expect("valid");
        assert_eq!(k.expires_at(now), Some(now + Duration::days(2)));
        assert!(key_alive(k.expires_at(now), now + Duration::days(1)));
        assert!(!key_alive(k.expires_at(now), now + Duration::days(2)));
        assert!(key_alive(None, now));
    }

    #[test]
    fn remotes_from_git_server_bases() {
        let r = GitRemote::new("https://github.com", "acme/web").expect("remote");
        assert_eq!(r.url(), "https://github.com/acme/web.git");
        assert_eq!(r.host, "github.com");
        let r = GitRemote::new("http://127.0.0.1:4711/", "/acme/web/").expect("remote");
        assert_eq!(r.url(), "http://127.0.0.1:4711/acme/web.git");
        let r = GitRemote::new("https://dev.company.com/gitlab", "group/sub/app").expect("remote");
        assert_eq!(r.path, "gitlab/group/sub/app.git");
        assert_eq!(GitRemote::new("ssh://git@x", "a/b"), Err(NotARemote));
        assert_eq!(GitRemote::new("https://github.com", " "), Err(NotARemote));
        assert_eq!(GitRemote::new("not a url", "a/b"), Err(NotARemote));
    }

    #[test]
    fn git_requests_match_only_the_same_remote() {
        let r = GitRemote::new("https://github.com", "acme/web").expect("remote");
        assert!(r.matches(None, None, None));
        assert!(r.matches(Some("https"), Some("github.com"), None));
        assert!(r.matches(Some("https"), Some("GitHub.com:443"), Some("acme/web.git")));
        assert!(r.matches(Some("https"), Some("github.com"), Some("acme/web")));
        assert!(r.matches(Some("https"), Some("github.com"), Some("/Acme/Web.git/")));
        assert!(!r.matches(Some("http"), Some("github.com"), None));
        assert!(!r.matches(Some("https"), Some("github.com:8443"), None));
        assert!(!r.matches(Some("https"), Some("gitlab.com"), None));
        assert!(!r.matches(Some("https"), Some("github.com.evil.test"), None));
        assert!(!r.matches(Some("https"), Some("github.com"), Some("acme/other.git")));
        assert!(!r.matches(Some("https"), Some("github.com"), Some("acme/web.git/x")));
        let local = GitRemote::new("http://127.0.0.1:4711", "acme/web").expect("remote");
        assert!(local.matches(Some("http"), Some("127.0.0.1:4711"), None));
        assert!(!local.matches(Some("http"), Some("127.0.0.1:4712"), None));
        assert!(!local.matches(Some("http"), Some("127.0.0.1"), None));
        let v6 = GitRemote::new("http://[::1]:4711", "a/b").expect("remote");
        assert!(v6.matches(Some("http"), Some("[::1]:4711"), Some("a/b.git")));
        assert!(!v6.matches(Some("http"), Some("[::1]"), None));
    }
}

//! Budgeted, size-capped GET requests and the redaction of anything quoted to users.

use super::outbound::{Blocked, Failure, OutboundPolicy, Trust};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Largest response body read (DESIGN.md §5).
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// Same-origin redirects followed before giving up.
const MAX_REDIRECTS: usize = 3;
/// Longest provider text quoted to users.
const MAX_QUOTE: usize = 200;

/// A provider answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY`] and was cut.
    pub truncated: bool,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        if self.truncated {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text, for quoting after [`Redactor::quote`].
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FetchError {
    /// The outbound policy refused the destination.
    Blocked(Blocked),
    /// DNS, connect, TLS, timeout, a closed connection (by category).
    Unreachable(Failure),
    /// The server answered with something we refuse to follow.
    Refused(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Blocked(b) => b.fmt(f),
            FetchError::Unreachable(failure) => failure.fmt(f),
            FetchError::Refused(m) => f.write_str(m),
        }
    }
}

/// One token test's HTTP side: a client, a trust level, a deadline and the secret to redact.
pub(crate) struct Fetcher<'a> {
    pub client: &'a reqwest::Client,
    pub policy: &'a OutboundPolicy,
    pub trust: Trust,
    pub deadline: Instant,
    pub redactor: &'a Redactor,
}

impl Fetcher<'_> {
    /// GET `url` with `headers`; follows up to three same-origin redirects; never sends the
    /// headers to another origin.
    pub async fn get(&self, url: Url, headers: &HeaderMap) -> Result<Reply, FetchError> {
        self.get_limited(url, headers, MAX_BODY).await
    }

    /// [`Self::get`], reading at most `limit` bytes of the body (the rest is not downloaded).
    pub async fn get_limited(
        &self,
        url: Url,
        headers: &HeaderMap,
        limit: usize,
    ) -> Result<Reply, FetchError> {
        let limit = limit.min(MAX_BODY);
        let mut current = url;
        for _ in 0..=MAX_REDIRECTS {
            self.policy
                .check_url(&current, self.trust)
                .map_err(FetchError::Blocked)?;
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(FetchError::Unreachable(Failure::TimedOut {
                    host: host_of(&current),
                }));
            }
            let sent = self
                .client
                .get(current.clone())
                .headers(headers.clone())
                .timeout(remaining)
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => return Err(describe(&e, &current)),
            };
            let status = response.status();
            if status.is_redirection() {
                let target = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| current.join(loc).ok());
                match target {
                    Some(next) if next.origin() == current.origin() => {
                        current = next;
                        continue;
                    }
                    Some(next) => {
                        return Err(FetchError::Refused(format!(
                            "the server redirected to another address ({}); Forgekeys does not \
                             send the token there — enter the final address instead",
                            next.origin().ascii_serialization()
                        )));
                    }
                    None => {
                        return Err(FetchError::Refused(format!(
                            "the server answered HTTP {} without a usable redirect target",
                            status.as_u16()
                        )));
                    }
                }
            }
            return self.read(response, &current, limit).await;
        }
        Err(FetchError::Refused("too many redirects".to_owned()))
    }

    async fn read(
        &self,
        mut response: reqwest::Response,
        url: &Url,
        limit: usize,
    ) -> Result<Reply, FetchError> {
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = limit - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(describe(&e, url)),
            }
        }
        Ok(Reply {
            status,
            headers,
            body,
            truncated,
        })
    }
}

/// The host of `url` as messages name it.
pub(crate) fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or("the server").to_owned()
}

/// A failed request by category (never the error's own text).
pub(crate) fn describe(err: &reqwest::Error, url: &Url) -> FetchError {
    match Failure::of(err, &host_of(url)) {
        Failure::Blocked(blocked) => FetchError::Blocked(blocked),
        failure => FetchError::Unreachable(failure),
    }
}

/// Removes the token (and credentialed URLs) from text shown to users.
pub(crate) struct Redactor {
    secret: String,
    /// Other forms the token travels in (the Basic `user:token` encodings).
    encoded: Vec<String>,
}

impl Redactor {
    pub fn new(secret: &str) -> Redactor {
        Redactor {
            secret: secret.to_owned(),
            encoded: Vec::new(),
        }
    }

    /// Also redact the Basic credentials `username:token` (as sent in `Authorization`).
    pub fn with_basic_users(mut self, usernames: &[&str]) -> Redactor {
        if !self.secret.is_empty() {
            for user in usernames {
                self.encoded.push(basic_credentials(user, &self.secret));
            }
        }
        self
    }

    /// Whether `text` carries the token in any form this redactor knows.
    pub fn leaks(&self, text: &str) -> bool {
        (!self.secret.is_empty() && text.contains(&self.secret))
            || self.encoded.iter().any(|e| text.contains(e.as_str()))
    }

    /// Strips the token and URL userinfo; keeps the length.
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_owned();
        if !self.secret.is_empty() {
            out = out.replace(&self.secret, "[redacted]");
        }
        for e in &self.encoded {
            out = out.replace(e.as_str(), "[redacted]");
        }
        strip_userinfo(&out)
    }

    /// [`Self::clean`], single line, at most ~200 characters: for quoting provider answers.
    pub fn quote(&self, text: &str) -> String {
        let flat: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
        truncate(&self.clean(&flat), MAX_QUOTE)
    }
}

impl Drop for Redactor {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
        for e in &mut self.encoded {
            zeroize::Zeroize::zeroize(e);
        }
    }
}

/// `base64(username:secret)`, the credentials of an HTTP Basic `Authorization` header.
pub(crate) fn basic_credentials(username: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"))
}

/// A sensitive `Authorization: Basic …` header value, or `None` when it cannot be sent.
pub(crate) fn basic_header(username: &str, secret: &str) -> Option<HeaderValue> {
    secret_header(&format!("Basic {}", basic_credentials(username, secret)))
}

/// Cuts `text` to `max` characters, adding `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((idx, _)) => format!("{}…", &text[..idx]),
        None => text.to_owned(),
    }
}

/// Removes `user:password@` from every `scheme://user:password@host` in `text`.
pub(crate) fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// A header value marked sensitive (kept out of debug output).
pub(crate) fn secret_header(value: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// Builds a header map from static pairs.
pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    map
}

/// Seconds as words for "retry after …".
pub(crate) fn human_secs(secs: u64) -> String {
    let d = Duration::from_secs(secs);
    if d.as_secs() < 120 {
        format!("{} seconds", d.as_secs())
    } else {
        format!("{} minutes", d.as_secs().div_ceil(60))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn redacts_token_userinfo_and_length() {
        let r = Redactor::new("ghp_secret123");
        assert_eq!(r.clean("bad token ghp_secret123!"), "bad token [redacted]!");
        assert_eq!(
            strip_userinfo("see https://user:pw@example.com/x and http://a@b:1"),
            "see https://example.com/x and http://b:1"
        );
        assert_eq!(strip_userinfo("no urls here"), "no urls here");
        let long = "x".repeat(500);
        let q = r.quote(&long);
        assert_eq!(q.chars().count(), 201);
        assert!(q.ends_with('…'));
        assert_eq!(r.quote("a\n\tb  ghp_secret123"), "a b [redacted]");
        assert_eq!(truncate("héllo", 2), "hé…");
    }

    #[test]
    fn redacts_basic_credentials() {
        let r = Redactor::new("tok3n-value").with_basic_users(&["x-access-token"]);
        let encoded = basic_credentials("x-access-token", "tok3n-value");
        assert!(r.leaks(&format!("echo: Basic {encoded}")));
        assert_eq!(r.clean(&format!("Basic {encoded}")), "Basic [redacted]");
        assert!(!r.leaks("nothing here"));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_secs(60), "60 seconds");
        assert_eq!(human_secs(3600), "60 minutes");
    }
}

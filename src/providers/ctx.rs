//! What a provider module needs for one token test, and the helpers every provider shares:
//! status mapping of 401s and odd answers, the provider's message in an error body, and the
//! final scrub that keeps the token out of every string of an outcome.

use super::http::{FetchError, Fetcher, Redactor, Reply};
use crate::domain::test_result::{TestOutcome, TestStatus};
use chrono::{DateTime, Utc};
use std::time::Duration;
use url::Url;

/// What a provider module needs for one test.
pub(crate) struct Ctx<'a> {
    pub fetch: Fetcher<'a>,
    /// API base without trailing slash.
    pub base: String,
    pub token: &'a str,
    /// Bitbucket: the Atlassian e-mail (API token) or Bitbucket username (app password) sent
    /// with the token as HTTP Basic credentials; `None` for Bearer tokens.
    pub username: Option<&'a str>,
    pub known_expiry: Option<DateTime<Utc>>,
    /// When the test started, by the server's clock.
    pub now: DateTime<Utc>,
    pub self_hosted: bool,
}

impl Ctx<'_> {
    /// `{base}{path}` as a URL (path starts with `/`, segments already encoded).
    pub fn url(&self, path: &str) -> Result<Url, TestOutcome> {
        Url::parse(&format!("{}{}", self.base, path))
            .map_err(|_| TestOutcome::failed(TestStatus::Error, "could not build the provider URL"))
    }

    pub fn redactor(&self) -> &Redactor {
        self.fetch.redactor
    }

    /// GET `{base}{path}`; a transport problem becomes the final outcome.
    pub async fn get(
        &self,
        path: &str,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<Reply, TestOutcome> {
        let url = self.url(path)?;
        self.fetch.get(url, headers).await.map_err(fetch_failed)
    }

    /// Outcome of a 401: `expired` if the known expiry has passed, else `invalid`.
    pub fn unauthorized(&self, what: &str) -> TestOutcome {
        match self.known_expiry {
            Some(at) if at <= self.now => TestOutcome::failed(
                TestStatus::Expired,
                format!(
                    "{what} rejected the token; it expired on {}",
                    at.format("%Y-%m-%d %H:%M UTC")
                ),
            ),
            _ => TestOutcome::failed(
                TestStatus::Invalid,
                format!("{what} rejected the token (401): it is wrong, expired or revoked"),
            ),
        }
    }

    /// `error` outcome quoting the provider's message. A body that is not the API's JSON comes
    /// from something that is not the provider and is not quoted (see [`quotable_message`]).
    pub fn unexpected(&self, what: &str, reply: &Reply) -> TestOutcome {
        if quotable_message(reply).is_none() && !reply.body.is_empty() {
            let host = Url::parse(&self.base)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "that address".to_owned());
            return TestOutcome::failed(
                TestStatus::Error,
                format!(
                    "the server at {host} answered HTTP {} with something that is not the \
                     {what} API (check the server URL)",
                    reply.status
                ),
            );
        }
        TestOutcome::failed(
            TestStatus::Error,
            format!(
                "{what} answered unexpectedly (HTTP {}){}",
                reply.status,
                self.quoted_message(reply)
            ),
        )
    }

    /// `": <message>"` from the provider's body, redacted and short, or empty.
    pub fn quoted_message(&self, reply: &Reply) -> String {
        quoted(self.redactor(), reply)
    }
}

/// `": <message>"` from the provider's body, redacted and short, or empty (also for a body that
/// is not the provider's: [`quotable_message`]).
pub(crate) fn quoted(redactor: &Redactor, reply: &Reply) -> String {
    match quotable_message(reply) {
        Some(msg) if !msg.trim().is_empty() => format!(": {}", redactor.quote(&msg)),
        _ => String::new(),
    }
}

/// The provider's message in an error body, for quoting to users: only from a JSON body (the
/// provider APIs answer errors in JSON). A body in another form (an HTML page, plain text)
/// comes from something that is not the provider — a proxy, an intranet page, another service
/// on that address — and is never quoted: that would let a user read what answers at an
/// address through Forgekeys (DESIGN.md §5).
pub(crate) fn quotable_message(reply: &Reply) -> Option<String> {
    if reply.truncated {
        return Some(provider_message(reply));
    }
    reply.json()?;
    Some(provider_message(reply))
}

/// The human message in a provider error body (GitHub `message`, GitLab `message`/`error_description`,
/// Bitbucket `error.message`), else the raw text.
pub(crate) fn provider_message(reply: &Reply) -> String {
    if reply.truncated {
        return "the answer was larger than 1 MiB".to_owned();
    }
    match reply.json() {
        Some(json) => {
            let pick = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            };
            json.get("error_description")
                .and_then(pick)
                .or_else(|| json.pointer("/error/message").and_then(pick))
                .or_else(|| json.get("message").and_then(pick))
                .or_else(|| json.get("error").and_then(pick))
                .unwrap_or_else(|| json.to_string())
        }
        None => reply.text(),
    }
}

pub(crate) fn fetch_failed(err: FetchError) -> TestOutcome {
    match err {
        FetchError::Blocked(b) => TestOutcome::failed(TestStatus::Unreachable, b.to_string()),
        FetchError::Unreachable(f) => TestOutcome::failed(TestStatus::Unreachable, f.to_string()),
        FetchError::Refused(m) => TestOutcome::failed(TestStatus::Error, m),
    }
}

/// A `valid` outcome to fill in.
pub(crate) fn blank() -> TestOutcome {
    let mut o = TestOutcome::failed(TestStatus::Valid, "");
    o.reason = None;
    o
}

/// Sets `missing_permissions` (with a reason naming them) when something is missing. Safe to
/// call again after more checks added to `missing`.
pub(crate) fn finish(mut o: TestOutcome) -> TestOutcome {
    if matches!(o.status, TestStatus::Valid | TestStatus::MissingPermissions)
        && !o.missing.is_empty()
    {
        o.status = TestStatus::MissingPermissions;
        let names: Vec<&str> = o.missing.iter().map(|m| m.name.as_str()).collect();
        o.reason = Some(format!("missing: {}", names.join(", ")));
    }
    o
}

pub(crate) fn human_duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Percent-encodes one URL path segment.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Last line of defence: no string in the outcome may contain the token (in any form the
/// redactor knows, the Basic `user:token` encodings included).
pub(crate) fn scrub(o: &mut TestOutcome, redactor: &Redactor, secret: &str) {
    // Tokens shorter than 4 characters would mangle ordinary words; they are rejected as
    // invalid by every provider anyway.
    if secret.chars().count() < 4 {
        return;
    }
    let fix = |s: &mut String| {
        if redactor.leaks(s) {
            *s = redactor.clean(s);
        }
    };
    for s in [
        &mut o.account,
        &mut o.token_kind,
        &mut o.server_version,
        &mut o.reason,
    ]
    .into_iter()
    .flatten()
    {
        fix(s);
    }
    o.scopes.iter_mut().for_each(fix);
    o.warnings.iter_mut().for_each(fix);
    o.details.iter_mut().for_each(fix);
    for m in &mut o.missing {
        fix(&mut m.name);
        fix(&mut m.fix);
    }
    if let Some(c) = &mut o.clone_check {
        fix(&mut c.message);
        for s in [&mut c.repository, &mut c.url, &mut c.username]
            .into_iter()
            .flatten()
        {
            fix(s);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::test_result::CloneCheck;

    #[test]
    fn encodes_segments() {
        assert_eq!(encode_segment("acme-1.x_y"), "acme-1.x_y");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn scrub_removes_token_everywhere() {
        let secret = "ghp_abcdef123456";
        let r = Redactor::new(secret).with_basic_users(&["x-access-token"]);
        let mut o = TestOutcome::failed(TestStatus::Error, format!("server said {secret}"));
        o.warnings.push(format!("x{secret}x"));
        o.account = Some(secret.to_owned());
        let encoded = super::super::http::basic_credentials("x-access-token", secret);
        o.clone_check = Some(CloneCheck::skipped(format!("echo Basic {encoded}")));
        scrub(&mut o, &r, secret);
        let all = format!("{o:?}");
        assert!(!all.contains(secret), "{all}");
        assert!(!all.contains(&encoded), "{all}");
    }

    #[test]
    fn finish_is_idempotent() {
        let mut o = blank();
        o.missing
            .push(crate::domain::test_result::MissingPermission {
                name: "repo".into(),
                fix: "tick it".into(),
            });
        let o = finish(finish(o));
        assert_eq!(o.status, TestStatus::MissingPermissions);
        assert_eq!(o.reason.as_deref(), Some("missing: repo"));
    }
}

//! `forgekeys git-credential get|store|erase`: git's credential-helper protocol
//! (gitcredentials(7), git-credential(1)) in front of the build-credentials API.
//!
//! git writes `key=value` lines (`protocol`, `host`, and `path` with `credential.useHttpPath`)
//! and a blank line; for `get` the helper answers `username=…` and `password=…`. Settings:
//! `FORGEKEYS_URL` (this server) and `FORGEKEYS_SERVICE_KEY` (a service key, `fks_…`) — nothing
//! else, so the helper first asks `GET /api/v1/service-key` which repository its key is for
//! (an answer without any secret), and only when git asks for that remote's protocol and host
//! (and path, when git sends one; compared with and without `.git`) does it ask
//! `GET /api/v1/services/{id}/git-credentials`, which checks the same again. For any other
//! remote it prints nothing and exits 0: git then tries its other helpers or fails, and the
//! token never reaches another host. `store` and `erase` are read and ignored (Forgekeys is the
//! source of truth; a rotation reaches the next clone).
//!
//! The key is never printed or logged; errors go to standard error as one sentence. The key is
//! sent only over https, or plain http to a loopback address (tests, a sidecar).

use crate::domain::access_key::{AccessKey, KeyKind};
use crate::domain::service_key::GitRemote;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

/// How long the helper waits for Forgekeys in all.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What git asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialRequest {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
}

/// Read git's `key=value` lines up to a blank line or the end. Unknown keys are ignored; a
/// `url=` fills in what the other lines leave out.
pub fn parse_request(input: impl BufRead) -> CredentialRequest {
    let mut r = CredentialRequest::default();
    let mut url = None;
    for line in input.lines() {
        let Ok(line) = line else { break };
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = Some(v.to_string()).filter(|v| !v.is_empty());
        match k {
            "protocol" => r.protocol = v,
            "host" => r.host = v,
            "path" => r.path = v,
            "url" => url = v,
            _ => {}
        }
    }
    if let Some(u) = url.and_then(|u| url::Url::parse(&u).ok()) {
        if r.protocol.is_none() {
            r.protocol = Some(u.scheme().to_string());
        }
        if r.host.is_none() {
            r.host = u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            });
        }
        if r.path.is_none() {
            r.path = Some(u.path().trim_start_matches('/').to_string()).filter(|p| !p.is_empty());
        }
    }
    r
}

/// The answer git reads.
pub fn answer(username: &str, password: &str) -> Option<String> {
    let clean = |s: &str| !s.is_empty() && !s.contains(['\n', '\r', '\0']);
    (clean(username) && clean(password))
        .then(|| format!("username={username}\npassword={password}\n"))
}

/// Whether the key may be sent to `base`: https, or http to a loopback address.
fn safe_base(base: &url::Url) -> bool {
    match base.scheme() {
        "https" => true,
        "http" => match base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

/// Why the helper could not answer (one sentence each; never the key).
#[derive(Debug)]
enum Failure {
    Setting(String),
    Forgekeys(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Setting(s) | Failure::Forgekeys(s) => f.write_str(s),
        }
    }
}

#[derive(serde::Deserialize)]
struct KeyAnswer {
    service_id: String,
    protocol: String,
    host: String,
    path: String,
}

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(serde::Deserialize, Default)]
struct Problem {
    #[serde(default)]
    detail: String,
}

fn settings() -> Result<(url::Url, AccessKey), Failure> {
    let raw = std::env::var("FORGEKEYS_URL").unwrap_or_default();
    if raw.trim().is_empty() {
        return Err(Failure::Setting(
            "FORGEKEYS_URL is not set: set it to the Forgekeys address, e.g. https://forgekeys.example.com.".into(),
        ));
    }
    let base = url::Url::parse(raw.trim()).map_err(|_| {
        Failure::Setting(format!(
            "FORGEKEYS_URL ({}) is not a URL such as https://forgekeys.example.com.",
            raw.trim()
        ))
    })?;
    if !safe_base(&base) {
        return Err(Failure::Setting(
            "FORGEKEYS_URL must be https:// (plain http only to a loopback address): the service key would travel in clear.".into(),
        ));
    }
    let key = std::env::var("FORGEKEYS_SERVICE_KEY").unwrap_or_default();
    if key.trim().is_empty() {
        return Err(Failure::Setting(
            "FORGEKEYS_SERVICE_KEY is not set: make a service key on the service's page in Forgekeys.".into(),
        ));
    }
    match AccessKey::parse(&key) {
        Ok(k) if k.kind() == KeyKind::Service => Ok((base, k)),
        _ => Err(Failure::Setting(
            "FORGEKEYS_SERVICE_KEY is not a service key (it starts with fks_ followed by 64 hex characters).".into(),
        )),
    }
}

fn endpoint(base: &url::Url, path: &str) -> Result<url::Url, Failure> {
    let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
    url::Url::parse(&joined)
        .map_err(|_| Failure::Setting("FORGEKEYS_URL cannot be combined with the API path.".into()))
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: url::Url,
    key: &AccessKey,
) -> Result<Result<T, (u16, String)>, Failure> {
    let resp = client
        .get(url)
        .bearer_auth(key.reveal())
        .send()
        .await
        .map_err(|e| {
            let why = if e.is_timeout() {
                "it did not answer in time"
            } else if e.is_connect() {
                "the connection failed"
            } else {
                "the request failed"
            };
            Failure::Forgekeys(format!(
                "Forgekeys could not be reached at FORGEKEYS_URL: {why}."
            ))
        })?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|_| Failure::Forgekeys("Forgekeys's answer was cut off.".into()))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map(Ok).map_err(|_| {
            Failure::Forgekeys("Forgekeys answered something that is not the expected JSON.".into())
        });
    }
    let p: Problem = serde_json::from_slice(&body).unwrap_or_default();
    Ok(Err((status.as_u16(), p.detail)))
}

/// `None`: not this key's repository (print nothing).
async fn fetch(asked: &CredentialRequest) -> Result<Option<String>, Failure> {
    let (base, key) = settings()?;
    let (Some(protocol), Some(host)) = (&asked.protocol, &asked.host) else {
        return Ok(None);
    };
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!(
            "forgekeys-git-credential/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
        .map_err(|_| Failure::Forgekeys("Could not start an HTTP client.".into()))?;
    let refused = |status: u16, detail: String| {
        Failure::Forgekeys(if detail.is_empty() {
            format!("Forgekeys refused the service key (HTTP {status}).")
        } else {
            format!("Forgekeys refused (HTTP {status}): {detail}")
        })
    };
    let k: KeyAnswer = match get_json(
        &client,
        endpoint(&base, crate::web::urls::API_SERVICE_KEY)?,
        &key,
    )
    .await?
    {
        Ok(k) => k,
        Err((status, detail)) => return Err(refused(status, detail)),
    };
    let remote = GitRemote {
        protocol: k.protocol,
        host: k.host,
        path: k.path,
    };
    if !remote.matches(Some(protocol), Some(host), asked.path.as_deref()) {
        return Ok(None);
    }
    let mut url = endpoint(&base, &crate::web::urls::api_git_credentials(&k.service_id))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("protocol", protocol)
            .append_pair("host", host);
        if let Some(p) = &asked.path {
            q.append_pair("path", p);
        }
    }
    match get_json::<Credentials>(&client, url, &key).await? {
        Ok(c) => answer(&c.username, &c.password).map(Some).ok_or_else(|| {
            Failure::Forgekeys(
                "The credentials cannot be passed to git (empty, or a line break in them).".into(),
            )
        }),
        // Asked for another repository after all (the service changed meanwhile).
        Err((403, _)) => Ok(None),
        Err((status, detail)) => Err(refused(status, detail)),
    }
}

/// Run the helper with git's `action`; git's request comes on standard input.
pub fn git_credential(action: &str) -> ExitCode {
    let asked = parse_request(std::io::stdin().lock());
    if action != "get" {
        // `store` / `erase` (and actions a later git may add): nothing to do.
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(_) => {
            eprintln!("forgekeys git-credential: could not start.");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(fetch(&asked)) {
        Ok(Some(out)) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                eprintln!("forgekeys git-credential: could not write the answer to git.");
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("forgekeys git-credential: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> CredentialRequest {
        parse_request(std::io::Cursor::new(s.as_bytes().to_vec()))
    }

    #[test]
    fn reads_git_lines_until_the_blank_line() {
        let r = parse("protocol=https\nhost=github.com\npath=acme/web.git\n\nprotocol=http\n");
        assert_eq!(
            r,
            CredentialRequest {
                protocol: Some("https".into()),
                host: Some("github.com".into()),
                path: Some("acme/web.git".into()),
            }
        );
        // Without useHttpPath there is no path; unknown keys, CRLF and EOF without a blank line.
        let r = parse(
            "capability[]=authtype\r\nprotocol=http\r\nhost=127.0.0.1:4711\r\nwwwauth[]=Basic realm=\"GitHub\"",
        );
        assert_eq!(r.protocol.as_deref(), Some("http"));
        assert_eq!(r.host.as_deref(), Some("127.0.0.1:4711"));
        assert_eq!(r.path, None);
        assert_eq!(parse(""), CredentialRequest::default());
        assert_eq!(parse("garbage\nhost=\n"), CredentialRequest::default());
    }

    #[test]
    fn a_url_line_fills_in_what_is_missing() {
        let r = parse("url=https://gitlab.example.com:8443/group/app.git\n\n");
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("gitlab.example.com:8443"));
        assert_eq!(r.path.as_deref(), Some("group/app.git"));
        let r = parse("protocol=https\nhost=github.com\nurl=https://other.example/x.git\n");
        assert_eq!(r.host.as_deref(), Some("github.com"));
        assert_eq!(r.path.as_deref(), Some("x.git"));
    }

    #[test]
    fn answers_are_two_lines_and_never_break_the_protocol() {
        assert_eq!(
            answer("x-access-token", "ghp_abc").as_deref(),
            Some("username=x-access-token\npassword=ghp_abc\n")
        );
        assert_eq!(answer("oauth2", "a\nhost=evil"), None);
        assert_eq!(answer("", "x"), None);
    }

    #[test]
    fn the_key_travels_only_over_https_or_to_loopback() {
        let ok = |s: &str| safe_base(&url::Url::parse(s).expect("url"));
        assert!(ok("https://forgekeys.example.com"));
        assert!(ok("http://127.0.0.1:8080"));
        assert!(ok("http://[::1]:8080"));
        assert!(ok("http://localhost:8080"));
        assert!(!ok("http://forgekeys.example.com"));
        assert!(!ok("http://10.0.0.5"));
        assert!(!ok("ftp://127.0.0.1"));
    }
}

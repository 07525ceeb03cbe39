//! Fake provider servers for integration tests.
//!
//! Each fake is a real HTTP/1.1 server on `127.0.0.1:<random port>`, run by a small tokio server
//! on its own thread (usable from sync tests, `#[tokio::test]` and actix tests alike). It answers
//! as `provider-apis.md` documents (status codes, header names and values, bodies) and picks
//! the answer from the token it receives (by prefix, so tests may append anything). It records
//! every TCP connection and every request (path, headers, credential) so tests can assert "never
//! contacted" and "the token was never sent". Connections that start with a TLS handshake are
//! counted and closed.
//!
//! ## Token → behaviour
//!
//! Every fake also speaks Git's smart HTTP (`GET /{repo}.git/info/refs?service=git-upload-pack`,
//! `POST /{repo}.git/git-upload-pack`) through a real `git http-backend` ([`git_server`]), with
//! the user name and token checks of the provider; the tests point the Git URLs at the same
//! fake. Where each behaviour comes from is noted next to its fixture (provider-apis.md §6 and
//! /work/notes/provider-research.md, which corrects §6 in places).
//!
//! GitHub ([`github::start`] for api.github.com and github.com's Git; [`github::start_ghes`]
//! serves the API under `/api/v3` with `X-GitHub-Enterprise-Version: 3.14.2`, Git at the root).
//! Requests without a `User-Agent` get 403. Classic tokens without `read:org`, `write:org`,
//! `admin:org` or `user` get **403** on `/user/orgs` ("You need at least read:org scope or user
//! scope…"). `/user/repos` of a member of `acme`: `acme/web` (private, organization) and
//! `octocat/hello-world` (public, user); the listing tokens of `listing.rs` list
//! `acme/app-01…25` instead (`ghp_noorgs`: `octocat/app-…`, user-owned). Git: user
//! `x-access-token`; public repositories read for every valid token.
//!
//! | token prefix | answer |
//! |---|---|
//! | `ghp_allscopes` | 200, fixture 1.9: `x-oauth-scopes: admin:repo_hook, read:org, repo`, expires in 90 days (`… UTC`) |
//! | `ghp_adminorg` | 200, `admin:repo_hook, admin:org, repo` (admin:org satisfies read:org), same expiry |
//! | `ghp_repoonly` | 200, `repo`; in `acme` (missing `admin:repo_hook`, `read:org`; `/user/orgs` 403) |
//! | `ghp_noorgs` | 200, `admin:repo_hook, repo`; `/user/orgs` 403; only user-owned repositories (read:org only recommended) |
//! | `ghp_inorgs` | 200, `admin:repo_hook, repo`; `/user/orgs` 403; repositories of `acme` (missing `read:org`) |
//! | `ghp_emptyscopes` | 200, `x-oauth-scopes:` empty; `/user/orgs` 403; public repositories only |
//! | `ghp_noexpiry` | 200, all scopes, no expiration header (github.com: never expires; GHES: not reported) |
//! | `ghp_offsetexpiry` / `ghp_westexpiry` | 200, all scopes, expiry with a `+0800` / `-0700` offset |
//! | `ghp_oddexpiry` | 200, all scopes, expiration header `sometime soon` (unknown) |
//! | `ghp_sso` | 200, all scopes; member of SAML SSO org `acme-sso` (id 21955855), token not authorized: listings carry `X-GitHub-SSO: partial-results; organizations=21955855` and leave its items out; `/organizations/21955855`, `/orgs/acme-sso…`, `/repos/acme-sso/…` 403 `X-GitHub-SSO: required; url=…`; Git 403 |
//! | `ghp_forbidden` | 200, all scopes; member of `forbidorg`, which forbids classic tokens: its resources 403 "`forbidorg` forbids access via a personal access token (classic)…", Git 403 "Personal access tokens (classic) are forbidden from accessing this repository." |
//! | `github_pat_good` | fine-grained: 200 without `x-oauth-scopes`, expiry header; `/user/repos` = `acme/docs` (public, not granted), `acme/web` (private, granted), `octocat/hello-world` (public); probes on `acme/web` 200 (`x-accepted-github-permissions`); `/hooks` of a public repository 403 |
//! | `github_pat_nopublic` | like `good`, but `/user/repos` lists `acme/web` only |
//! | `github_pat_nohooks` | like `good`, but `acme/web/hooks` = 403 `Resource not accessible by personal access token`, `x-accepted-github-permissions: repository_hooks=read` |
//! | `github_pat_norepos` | `/user/repos` = the two public repositories only (nothing granted); every `/hooks` 403 |
//! | `github_pat_empty` | `/user/repos` = `[]` |
//! | `github_pat_publichooks` | public repositories only, `acme/docs` granted (its `/hooks` 200) |
//! | `github_pat_manypublic` | page 1 of `/user/repos` = 100 public repositories + `Link: rel="next"`; `visibility=private` = `acme/web` |
//! | `github_pat_nocontents` | like `good`; Git 404 for `acme/web` (no Contents permission) |
//! | `github_pat_lifetime` | like `good`; everything under `acme` 403 "The 'acme' organization forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 366 days…" |
//! | `github_pat_nowexpiry` | like `good`, the expiration header holds the fake's start (go-github#3708) |
//! | `ghu_` | 200 on `/user` with an empty `X-OAuth-Scopes`, `x-oauth-client-id: Iv1.…`, an 8-hour expiry (GitHub App user token) |
//! | `ghs_` | 403 `Resource not accessible by integration` on `/user` (installation token) |
//! | `ghr_`, `ghp_bad` (and any unknown token) | 401 `Bad credentials` (Git: 401 `WWW-Authenticate: Basic realm="GitHub"`) |
//! | `ghp_ratelimited` | 403 `API rate limit exceeded…`, `x-ratelimit-remaining: 0`, `x-ratelimit-reset` an hour after the fake started |
//! | `ghp_secondary` | 403 `You have exceeded a secondary rate limit…`, `retry-after: 60` |
//! | `ghp_5xx` | 500 |
//! | `ghp_echo` | 500 whose body quotes the received `Authorization` header (redaction test) |
//! | `ghp_huge` | 200 with a 2 MiB body (body cap test) |
//! | `ghp_garbage` | 200 with a non-JSON body |
//! | `ghp_slow` | sleeps 3 s, then answers like `ghp_allscopes` |
//! | `ghp_onceexpiring` | first `/user` call (per token value, per server) like `ghp_allscopes`; every later one 401 (revoked after saving) |
//! | `ghp_oncenoexpiry` | first `/user` call like `ghp_noexpiry`; every later one 401 |
//!
//! GitLab ([`gitlab::start`], serves `/api/v4/…`; [`gitlab::start_under`] the same under a path
//! prefix such as `/gitlab`; token from `PRIVATE-TOKEN` or `Authorization: Bearer`).
//! `/personal_access_tokens/self` and `…/self/associations` answer **any** scope;
//! `/version` answers `18.1.1-ee` (old servers `15.4.0`). Git: user `oauth2`.
//!
//! | token prefix | answer |
//! |---|---|
//! | `glpat-maintainer` | self 200 `[api, read_repository]`, `expires_at` 60 days on (date only); `/user` project bot; associations: project `Test/test-project` (group level 40) |
//! | `glpat-owner` | self 200, `expires_at: null` (unless an `exp` marker); `/user` `alice`; associations: group `test` (50); `/groups/1/projects` = `test/infra` |
//! | `glpat-developer` | self 200 both scopes; associations empty (no Maintainer role) |
//! | `glpat-noapi` | self 200 `[read_repository, read_user]`; associations 200 (`Test/test-project`, 40) |
//! | `glpat-noreadrepo` | self 200 `[api]`; associations like `maintainer`; Git 401 "HTTP Basic: Access denied…" |
//! | `glpat-personal` | human `alice`; associations: only `alice/scratch` (Owner, `namespace.kind: user`) |
//! | `glpat-shared` | associations: `partner/shared-app` with both levels `null` (reached through a group share) |
//! | `glpat-expired` | self 401 `invalid_token` / `Token is expired. …` |
//! | `glpat-revoked` | self 401 `Token was revoked. You have to re-authorize from the user.` |
//! | `glpat-inactive` | self 200 `active:false`, `revoked:false`, `expires_at:null` |
//! | `glpat-oauth` | self 400 `This endpoint requires token type to be a personal access token` (OAuth token) |
//! | `glpat-old` | GitLab < 15.5: self 404, associations 404; `/user` ok; `/projects` = `[group/app]`, `/groups` = `[]` |
//! | `glpat-noassoc` | GitLab < 17.4: self 200 ok, associations 404; `/projects` = `[]`, `/groups` = `[platform]` |
//! | `glpat-ratelimited` | 429 with `Retry-After: 30` |
//! | `glpat-5xx` | 500 |
//! | `glcbt-…`, `gldt-…` and anything else | 401 `{"message":"401 Unauthorized"}` (CI job tokens too: research §6) |
//!
//! Bitbucket ([`bitbucket::start`], API base `{url}/2.0`, Git at the root; workspace `acme`):
//!
//! | credential | answer on `/2.0/repositories/acme` |
//! |---|---|
//! | `bb_valid` (Bearer) | 200 fixture 3.2: `x-oauth-scopes: pullrequest:write, repository, webhook`, `x-credential-type: repo_access_token` |
//! | `bb_spaces` | 200, `repository:write pullrequest:write webhook` (space separated), `workspace_access_token` |
//! | `bb_nowebhook` | 200, `pullrequest:write, repository` |
//! | `bb_readonly` | 200, `repository` |
//! | `bb_403` | 403 `detail: {granted:[repository], required:[webhook]}` |
//! | `bb_gone` | 410 CHANGE-2770 |
//! | `bb_ratelimited` | 429 |
//! | `bb_5xx` | 500 |
//! | `ATATT3xvalid` with Basic `jane@acme.test` | 200, every API-token scope (`read:repository:bitbucket`, …), `x-credential-type: api_token`; `/2.0/user` Jane Doe |
//! | `ATATT3xwriteonly` / `ATATT3xreadonly` / `ATATT3xnouser` | the same with fewer scopes (no read halves / reads only / no `read:user:bitbucket`: `/2.0/user` 403) |
//! | `ATATT3x…` as Bearer, or Basic with the username `jdoe`; an access token as Basic | 401 |
//! | `bbapp_` with Basic `jdoe` | app password: 200 (`pullrequest:write, repository, webhook`) before Bitbucket turned them off, 401 after |
//! | `bb_bad` (and unknown tokens) | 401 `Token is invalid, expired, or not supported for this endpoint.` |
//! | any known token on another workspace | 404 |
//!
//! Git users: `x-token-auth` (access tokens), `x-bitbucket-api-token-auth` or `jdoe` (API
//! tokens; the e-mail is refused), `jdoe` (app passwords).
//!
//! [`tls::start`] runs any of these behind HTTPS with a certificate from a test CA.
//!
//! [`redirecting`] answers every request with `302 Location: <target origin><same path>`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod bitbucket;
pub mod dates;
pub mod git_server;
pub mod github;
pub mod gitlab;
pub mod listing;
pub mod tls;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request a fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, e.g. `/user/repos?per_page=1`.
    pub path: String,
    /// Value of the `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Value of the `PRIVATE-TOKEN` header, if any.
    pub private_token: Option<String>,
    /// All headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (read when `Content-Length` says there is one).
    pub body: Vec<u8>,
    /// The moment the fake started: every date it reports is relative to it (`dates.rs`).
    pub anchor: chrono::DateTime<chrono::Utc>,
    basic_user: Option<String>,
    basic_password: Option<String>,
}

/// Decodes `Basic base64(user:password)`.
fn decode_basic(auth: Option<&str>) -> Option<(String, String)> {
    use base64::Engine;
    let b64 = auth?.strip_prefix("Basic ")?.trim();
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The token sent, from `Authorization: Bearer|token …`, `PRIVATE-TOKEN`, or the password
    /// of `Authorization: Basic …` (as [`Self::basic`] decodes it).
    pub fn token(&self) -> Option<&str> {
        if let Some(t) = &self.private_token {
            return Some(t.as_str());
        }
        let auth = self.authorization.as_deref()?;
        if auth.starts_with("Basic ") {
            return self.basic_password.as_deref();
        }
        auth.strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("token "))
            .or(Some(auth))
    }

    /// `(user, password)` of `Authorization: Basic …`.
    pub fn basic(&self) -> Option<(&str, &str)> {
        Some((self.basic_user.as_deref()?, self.basic_password.as_deref()?))
    }

    /// Whether the credentials came as `Authorization: Bearer`.
    pub fn is_bearer(&self) -> bool {
        self.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Bearer "))
    }

    /// Path without the query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// A fake's answer.
#[derive(Debug, Clone)]
pub struct FakeResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Option<Duration>,
}

impl FakeResponse {
    pub fn new(status: u16) -> FakeResponse {
        FakeResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    /// JSON body with `content-type: application/json; charset=utf-8`.
    pub fn json(status: u16, body: impl Into<String>) -> FakeResponse {
        FakeResponse::new(status)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.into().into_bytes())
    }

    pub fn header(mut self, name: &str, value: &str) -> FakeResponse {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> FakeResponse {
        self.body = body;
        self
    }

    pub fn delayed(mut self, delay: Duration) -> FakeResponse {
        self.delay = Some(delay);
        self
    }
}

pub(crate) type Handler = Arc<dyn Fn(&RecordedRequest) -> FakeResponse + Send + Sync>;

/// Holds the answers to one route until released (see [`FakeServer::hold`]): a test can keep a
/// request "at the provider" while it makes another, without sleeping.
pub struct Gate {
    route: String,
    arrived: tokio::sync::Semaphore,
    open: tokio::sync::watch::Sender<bool>,
}

impl Gate {
    /// Waits until a request to the route has arrived (each call waits for one more).
    pub async fn arrived(&self) {
        self.arrived.acquire().await.expect("gate open").forget();
    }

    /// Lets every held and every later request through.
    pub fn release(&self) {
        self.open.send_replace(true);
    }
}

pub(crate) type Gates = Arc<Mutex<Vec<Arc<Gate>>>>;

/// A running fake HTTP server. Stops when dropped.
pub struct FakeServer {
    /// Origin, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    pub port: u16,
    /// When the fake started; the base of every date it reports (see `dates.rs`).
    pub anchor: chrono::DateTime<chrono::Utc>,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    connections: Arc<AtomicUsize>,
    gates: Gates,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeServer {
    /// Starts a server answering every request with `handler`.
    pub fn start(
        handler: impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static,
    ) -> FakeServer {
        FakeServer::start_at(dates::anchor_now(), handler)
    }

    /// [`FakeServer::start`] with the fake's "today" at `anchor` (its dates derive from it), for
    /// behaviour that changed on a calendar date the provider named.
    pub fn start_at(
        anchor: chrono::DateTime<chrono::Utc>,
        handler: impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static,
    ) -> FakeServer {
        FakeServer::listen(anchor, None, Arc::new(handler))
    }

    /// The one accept loop of every fake, plain or (with `tls`) HTTPS: a thread of its own
    /// with a current-thread runtime, a task per connection, until the server is dropped.
    pub(crate) fn listen(
        anchor: chrono::DateTime<chrono::Utc>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        handler: Handler,
    ) -> FakeServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake server");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let gates: Gates = Arc::new(Mutex::new(Vec::new()));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let (reqs, conns, held) = (
            Arc::clone(&requests),
            Arc::clone(&connections),
            Arc::clone(&gates),
        );
        let scheme = if tls.is_some() { "https" } else { "http" };
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            conns.fetch_add(1, Ordering::SeqCst);
                            let (h, r, g) = (Arc::clone(&handler), Arc::clone(&reqs), Arc::clone(&held));
                            let tls = tls.clone();
                            tokio::spawn(async move {
                                match tls {
                                    None => serve_stream(stream, h, r, g, anchor, true).await,
                                    // A client that refuses the certificate ends the handshake here.
                                    Some(acc) => {
                                        if let Ok(s) = acc.accept(stream).await {
                                            serve_stream(s, h, r, g, anchor, false).await;
                                        }
                                    }
                                }
                            });
                        }
                    }
                }
            });
        });
        FakeServer {
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            anchor,
            requests,
            connections,
            gates,
            shutdown: Some(tx),
        }
    }

    /// From now on, requests to `route` (path without query) are recorded at once but answered
    /// only after [`Gate::release`].
    pub fn hold(&self, route: &str) -> Arc<Gate> {
        let gate = Arc::new(Gate {
            route: route.to_owned(),
            arrived: tokio::sync::Semaphore::new(0),
            open: tokio::sync::watch::Sender::new(false),
        });
        self.gates.lock().unwrap().push(Arc::clone(&gate));
        gate
    }

    /// `{url}{path}`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// TCP connections accepted so far (including ones that never sent a valid request).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Panics unless nothing ever connected.
    pub fn assert_untouched(&self) {
        assert_eq!(
            self.connections(),
            0,
            "fake was contacted: {:?}",
            self.requests()
        );
        assert!(self.requests().is_empty());
    }

    /// Whether any request carried `token` in any header.
    pub fn saw_token(&self, token: &str) -> bool {
        self.requests()
            .iter()
            .any(|r| r.headers.iter().any(|(_, v)| v.contains(token)))
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A server answering every request with `302 Location: {target_origin}{path}`.
pub fn redirecting(target_origin: &str) -> FakeServer {
    let target = target_origin.trim_end_matches('/').to_owned();
    FakeServer::start(move |req| {
        FakeResponse::new(302).header("location", &format!("{target}{}", req.path))
    })
}

/// Reads one request from `stream` and writes the handler's answer. `plain`: the stream is
/// unencrypted, so a TLS ClientHello is closed at once.
pub(crate) async fn serve_stream<S>(
    mut stream: S,
    handler: Handler,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    gates: Gates,
    anchor: chrono::DateTime<chrono::Utc>,
    plain: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if plain && buf.first() == Some(&0x16) {
            return; // TLS ClientHello: not for us.
        }
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let length: usize = find("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(16 * 1024 * 1024);
    let mut body: Vec<u8> = buf[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    let authorization = find("authorization");
    let basic = decode_basic(authorization.as_deref());
    let request = RecordedRequest {
        method,
        path,
        authorization,
        private_token: find("private-token"),
        headers: headers.clone(),
        body,
        anchor,
        basic_user: basic.as_ref().map(|(u, _)| u.clone()),
        basic_password: basic.map(|(_, p)| p),
    };
    if let Ok(mut r) = requests.lock() {
        r.push(request.clone());
    }
    let gate = gates.lock().ok().and_then(|g| {
        g.iter()
            .find(|g| g.route == request.route())
            .map(Arc::clone)
    });
    if let Some(gate) = gate {
        let mut open = gate.open.subscribe();
        gate.arrived.add_permits(1);
        let _ = open.wait_for(|o| *o).await;
    }
    let response = handler(&request);
    if let Some(delay) = response.delay {
        tokio::time::sleep(delay).await;
    }
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (k, v) in &response.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        response.body.len()
    ));
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.write_all(&response.body).await;
    let _ = stream.shutdown().await;
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

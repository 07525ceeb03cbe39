//! Test harness: the real app on a random port, over a real SQLite file (default) or a fresh
//! database on a real PostgreSQL server when `TEST_POSTGRES_URL` is set; a cookie-keeping
//! client that does not follow redirects.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use forgekeys::clock::Clock;
use forgekeys::config::{Config, ServeArgs};
use forgekeys::db::DatabaseUrl;
use forgekeys::startup::Application;
use reqwest::StatusCode;
use std::path::PathBuf;

pub const PASSWORD: &str = "correct horse battery staple";

/// Settings a test may change before the app starts.
#[derive(Clone, Default)]
pub struct Options {
    pub github_api_url: Option<String>,
    /// `FORGEKEYS_GITHUB_GIT_URL`; defaults to `github_api_url` (the GitHub fakes serve Git's
    /// smart HTTP too, see `fakes/git_server.rs`).
    pub github_git_url: Option<String>,
    pub gitlab_url: Option<String>,
    pub bitbucket_api_url: Option<String>,
    /// `FORGEKEYS_BITBUCKET_GIT_URL`; defaults to the origin of `bitbucket_api_url`.
    pub bitbucket_git_url: Option<String>,
    /// `FORGEKEYS_CA_BUNDLE`.
    pub ca_bundle: Option<PathBuf>,
    pub outbound_allow: Option<String>,
    pub outbound_deny: Option<String>,
    pub provider_timeout_ms: Option<u64>,
    /// `FORGEKEYS_RECHECK_INTERVAL`; tests default to "0" (scheduler off; run it explicitly).
    pub recheck_interval: Option<String>,
    pub expiry_warn_days: Option<String>,
    /// `FORGEKEYS_TRUSTED_PROXIES`.
    pub trusted_proxies: Option<String>,
    /// Another server process on an existing database: its URL and key file (see
    /// [`TestAppBuilder::same_database_as`]).
    pub shared_database: Option<(String, PathBuf)>,
    /// Fixed answers for host names (`Config::outbound_hosts`): a name that "resolves" to an
    /// address without DNS, checked by the outbound policy like a DNS answer.
    pub hosts: Vec<(String, std::net::IpAddr)>,
    /// `FORGEKEYS_BASE_URL` (default: none, `http://BIND`).
    pub base_url: Option<String>,
    /// `FORGEKEYS_COOKIE_SECURE` (default `auto`).
    pub cookie_secure: Option<String>,
    /// `FORGEKEYS_METRICS_BIND` (e.g. `127.0.0.1:0`; default off).
    pub metrics_bind: Option<String>,
    /// `FORGEKEYS_API_RATE_LIMIT` (default 600 a minute per key).
    pub api_rate_limit: Option<u32>,
    /// `DATABASE_URL` and `FORGEKEYS_KEY_FILE` of an existing installation (e.g. a restored
    /// backup) instead of a fresh database.
    pub existing: Option<(String, PathBuf)>,
    /// `FORGEKEYS_OIDC_*` (default: SSO off).
    pub oidc: Option<forgekeys::config::OidcArgs>,
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub database: DatabaseUrl,
    pub key_file: PathBuf,
    pub setup_url: Option<String>,
    pub config: Config,
    /// The server's clock: `app.clock.advance(..)` makes the server (and a state built with
    /// `forgekeys::startup::state(&app.config, app.clock.clone())`) live that much later.
    pub clock: Clock,
    /// The server's own state (its database pool, hashing pool, clock).
    pub state: forgekeys::app::state::AppState,
    /// `http://127.0.0.1:PORT` of the `/metrics` listener, when `metrics_bind` was set.
    pub metrics_address: Option<String>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the server thread then ends and closes its pool.
        drop(self.handle.stop(false));
    }
}

fn postgres_database() -> Option<String> {
    let base = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())?;
    use diesel::Connection;
    use diesel::RunQueryDsl;
    let name = format!("fk_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn =
        diesel::pg::PgConnection::establish(&base).expect("connect to TEST_POSTGRES_URL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .expect("create test database");
    let mut url = url::Url::parse(&base).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}

/// Which backend this run uses ("sqlite" or "postgres").
pub fn backend() -> &'static str {
    if std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .is_some()
    {
        "postgres"
    } else {
        "sqlite"
    }
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(Options::default())
}

pub fn spawn_app_with(opts: Options) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db_url, key_file) = match opts.shared_database.clone().or(opts.existing.clone()) {
        Some(existing) => existing,
        None => (
            postgres_database().unwrap_or_else(|| {
                format!("sqlite://{}", dir.path().join("forgekeys.db").display())
            }),
            dir.path().join("forgekeys.key"),
        ),
    };
    let github_git_url = opts
        .github_git_url
        .or_else(|| opts.github_api_url.clone())
        .unwrap_or_else(|| "https://github.invalid".into());
    let bitbucket_git_url = opts
        .bitbucket_git_url
        .or_else(|| {
            let api = url::Url::parse(opts.bitbucket_api_url.as_deref()?).ok()?;
            Some(api.origin().ascii_serialization())
        })
        .unwrap_or_else(|| "https://bitbucket.invalid".into());
    let args = ServeArgs {
        database_url: db_url,
        bind: "127.0.0.1:0".into(),
        key_file: Some(key_file.clone()),
        github_api_url: opts
            .github_api_url
            .unwrap_or_else(|| "https://api.github.invalid".into()),
        github_git_url,
        gitlab_url: opts
            .gitlab_url
            .unwrap_or_else(|| "https://gitlab.invalid".into()),
        bitbucket_api_url: opts
            .bitbucket_api_url
            .unwrap_or_else(|| "https://api.bitbucket.invalid/2.0".into()),
        bitbucket_git_url,
        ca_bundle: opts.ca_bundle,
        outbound_allow: opts.outbound_allow.unwrap_or_default(),
        outbound_deny: opts.outbound_deny.unwrap_or_default(),
        provider_timeout_ms: opts.provider_timeout_ms.unwrap_or(2000),
        cookie_secure: opts.cookie_secure.unwrap_or_else(|| "auto".into()),
        base_url: opts.base_url,
        trusted_proxies: opts.trusted_proxies.unwrap_or_default(),
        recheck_interval: opts.recheck_interval.unwrap_or_else(|| "0".into()),
        expiry_warn_days: opts.expiry_warn_days.unwrap_or_else(|| "30,14,7,1".into()),
        metrics_bind: opts.metrics_bind.unwrap_or_default(),
        log_format: "text".into(),
        oidc: opts.oidc.clone().unwrap_or_default(),
        api_rate_limit: opts.api_rate_limit.unwrap_or(600),
    };
    let mut config = Config::from_args(&args).expect("config");
    config.outbound_hosts = opts.hosts;
    let database = config.database.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let cfg = config.clone();
    let clock = Clock::system();
    let server_clock = clock.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build_with_clock(cfg, server_clock) {
                Ok(app) => {
                    let started = (
                        app.port(),
                        app.metrics_port(),
                        app.setup_url.clone(),
                        app.handle(),
                        app.state(),
                    );
                    tx.send(Ok(started)).ok();
                    let _ = app.run_until_stopped().await;
                }
                Err(e) => {
                    tx.send(Err(format!("{e:#}"))).ok();
                }
            }
        });
    });
    let (port, metrics_port, setup_url, handle, state) =
        rx.recv().expect("app thread").expect("app starts");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        dir,
        database,
        key_file,
        setup_url,
        config,
        clock,
        state,
        metrics_address: metrics_port.map(|p| format!("http://127.0.0.1:{p}")),
        handle,
    }
}

/// A browser-like client: keeps cookies, sends `Origin`, does not follow redirects.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The value of `<input … name="NAME" … value="…">` (first match).
    pub fn input_value(&self, name: &str) -> Option<String> {
        let re = regex::Regex::new(&format!(
            r#"<input[^>]*name="{}"[^>]*value="([^"]*)""#,
            regex::escape(name)
        ))
        .ok()?;
        re.captures(&self.body).map(|c| c[1].to_string())
    }

    pub fn csrf(&self) -> String {
        self.input_value("csrf_token")
            .unwrap_or_else(|| panic!("no csrf_token on page:\n{}", self.body))
    }

    #[track_caller]
    pub fn assert_redirect_to(&self, path: &str) {
        assert_eq!(
            self.status,
            StatusCode::SEE_OTHER,
            "expected a redirect, got:\n{}",
            self.body
        );
        assert_eq!(self.location(), Some(path));
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Page {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Page {
        assert!(
            self.body.contains(text),
            "page lacks {text:?}:\n{}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn assert_lacks(&self, text: &str) -> &Page {
        assert!(
            !self.body.contains(text),
            "page contains {text:?}:\n{}",
            self.body
        );
        self
    }
}

impl Client {
    pub fn new(app: &TestApp) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers({
                let mut h = reqwest::header::HeaderMap::new();
                h.insert("origin", app.address.parse().unwrap());
                h
            })
            .build()
            .unwrap();
        Client {
            http,
            base: app.address.clone(),
        }
    }

    async fn page(resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.unwrap_or_default();
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Client::page(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn get_htmx(&self, path: &str, target: &str) -> Page {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .header("HX-Request", "true")
            .header("HX-Target", target);
        Client::page(req.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Client::page(
            self.http
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// POST as HTMX does: CSRF token in the `X-CSRF-Token` header.
    pub async fn post_htmx(
        &self,
        path: &str,
        csrf: &str,
        target: &str,
        form: &[(&str, &str)],
    ) -> Page {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("HX-Request", "true")
            .header("HX-Target", target)
            .header("X-CSRF-Token", csrf)
            .form(form);
        Client::page(req.send().await.unwrap()).await
    }

    /// Sign in through the login form.
    pub async fn login(&self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        self.post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// The CSRF token of a signed-in session (read from any page that has forms).
    pub async fn session_csrf(&self) -> String {
        let p = self.get("/orgs").await;
        p.csrf()
    }
}

/// Create the first org and owner through the setup page; returns the signed-in owner client.
pub async fn setup_owner(app: &TestApp, slug: &str) -> Client {
    let c = Client::new(app);
    let url = app.setup_url.clone().expect("setup url");
    let path = url.trim_start_matches(&app.address).to_string();
    let form = c.get(&path).await;
    form.assert_status(200);
    let csrf = form.csrf();
    let token = form.input_value("token").unwrap();
    let resp = c
        .post(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("org_name", "Acme Corp"),
                ("org_slug", slug),
                ("email", "owner@acme.test"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    resp.assert_redirect_to(&format!("/orgs/{slug}/settings/git-tokens"));
    c
}

/// Open the app's database directly (for seeding and for checking what was stored).
pub fn db(app: &TestApp) -> forgekeys::db::PooledConn {
    let pool = forgekeys::db::build_pool(&app.database).unwrap();
    pool.get().unwrap()
}

/// Add a user with a role (creating the org if needed) straight in the database, as
/// `forgekeys user add` does; returns a signed-in client.
pub async fn member(
    app: &TestApp,
    org_slug: &str,
    email: &str,
    role: forgekeys::domain::role::Role,
) -> Client {
    use forgekeys::db::models::{membership::Membership, organization::Organization, user::User};
    let mut conn = db(app);
    let org = match Organization::find_by_slug(&mut conn, org_slug).unwrap() {
        Some(o) => o,
        None => Organization::create(&mut conn, org_slug, &format!("Org {org_slug}")).unwrap(),
    };
    let user = match User::find_by_email(&mut conn, email).unwrap() {
        Some(u) => u,
        None => {
            let hash = forgekeys::crypto::password::hash(&secrecy::SecretString::from(
                PASSWORD.to_string(),
            ))
            .unwrap();
            User::create(&mut conn, email, &hash).unwrap()
        }
    };
    Membership::upsert(&mut conn, &org.id, &user.id, role).unwrap();
    let c = Client::new(app);
    c.login(email, PASSWORD).await.assert_redirect_to("/orgs");
    c
}

/// The `forgekeys` binary with an empty environment — except libfaketime's variables
/// (`LD_PRELOAD`, `FAKETIME…`), so that under `faketime -f +400d` the CLI lives on the same
/// clock as the test process and the in-process server.
pub fn forgekeys_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_forgekeys"));
    cmd.env_clear();
    for (k, v) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name == "LD_PRELOAD" || name.starts_with("FAKETIME") {
            cmd.env(&k, &v);
        }
    }
    cmd
}

/// A test app built step by step: the fakes it talks to, then its people.
///
/// ```ignore
/// let gh = fakes::github::start();
/// let app = TestApp::builder().github(&gh).loopback_allowed().start();
/// let owner = app.owner("acme").await;
/// let viewer = app.member("acme", "viewer@acme.test", Role::Viewer).await;
/// ```
#[derive(Default)]
pub struct TestAppBuilder {
    opts: Options,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// The Owner of a new organization `slug`, created through the one-time setup page.
    pub async fn owner(&self, slug: &str) -> Client {
        setup_owner(self, slug).await
    }

    /// A signed-in member of `slug` (organization and account created if missing).
    pub async fn member(
        &self,
        slug: &str,
        email: &str,
        role: forgekeys::domain::role::Role,
    ) -> Client {
        member(self, slug, email, role).await
    }
}

impl TestAppBuilder {
    /// GitHub cloud (API and Git) answered by `fake`.
    pub fn github(mut self, fake: &crate::fakes::FakeServer) -> TestAppBuilder {
        self.opts.github_api_url = Some(fake.url.clone());
        self
    }

    /// GitLab.com answered by `fake`.
    pub fn gitlab(mut self, fake: &crate::fakes::FakeServer) -> TestAppBuilder {
        self.opts.gitlab_url = Some(fake.url.clone());
        self
    }

    /// Bitbucket Cloud answered by `fake`.
    pub fn bitbucket(mut self, fake: &crate::fakes::FakeServer) -> TestAppBuilder {
        self.opts.bitbucket_api_url = Some(crate::fakes::bitbucket::api_url(fake));
        self
    }

    /// User-typed URLs may reach loopback (the self-hosted fakes and webhook receivers).
    pub fn loopback_allowed(mut self) -> TestAppBuilder {
        self.opts.outbound_allow = Some("127.0.0.0/8".into());
        self
    }

    /// `name` resolves to `ip` for the server's outbound requests (no DNS query).
    pub fn resolve(mut self, name: &str, ip: &str) -> TestAppBuilder {
        let ip = ip.parse().expect("an IP address");
        self.opts.hosts.push((name.to_owned(), ip));
        self
    }

    /// Any other setting.
    pub fn with(mut self, change: impl FnOnce(&mut Options)) -> TestAppBuilder {
        change(&mut self.opts);
        self
    }

    /// A second server process on `other`'s database and key file (PostgreSQL: the same
    /// database; SQLite: the same file), with its own port, pools and clock.
    pub fn same_database_as(mut self, other: &TestApp) -> TestAppBuilder {
        let url = match &other.database {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{path}"),
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        self.opts.shared_database = Some((url, other.key_file.clone()));
        self
    }

    pub fn start(self) -> TestApp {
        spawn_app_with(self.opts)
    }
}

//! Building and running the application.

use crate::app;
use crate::app::state::AppState;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::keyfile;
use crate::crypto::secret_box::SecretBox;
use crate::db::models::user::User;
use crate::db::{self, Pool};
use crate::providers::{ProviderClient, ProviderConfig};
use crate::web;
use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, RwLock};

/// Open the database, apply migrations, load (or create) the master key.
pub fn prepare(config: &Config) -> anyhow::Result<(Pool, SecretBox)> {
    let pool = db::build_pool(&config.database).with_context(|| {
        format!(
            "cannot open the {} database",
            config.database.backend_name()
        )
    })?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let applied =
        db::migrations::run(&mut conn).map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    if applied > 0 {
        tracing::info!(
            applied,
            backend = config.database.backend_name(),
            "database migrations applied"
        );
    }
    let secrets = load_keys(&mut conn, config)?;
    Ok((pool, secrets))
}

/// The master keys (`app::keys`): the key file (created on a new database only), matched with
/// the database's record of them; then any webhook URL an older version stored in plain text
/// is sealed.
fn load_keys(conn: &mut db::DbConn, config: &Config) -> anyhow::Result<SecretBox> {
    let path = &config.key_file;
    let known = app::keys::known_ids(conn)?;
    if !path.exists() && !known.is_empty() {
        anyhow::bail!(
            "the key file {} does not exist, but this database holds secrets sealed with the \
             master key(s) {}: restore the key file from your backup and set FORGEKEYS_KEY_FILE \
             to it (a new key could not open them)",
            path.display(),
            known.join(", ")
        );
    }
    let (keys, created) = keyfile::load_or_create(path)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "created a new master key file (mode 0600). BACK IT UP: without it stored tokens cannot be decrypted"
        );
    }
    let mut secrets = SecretBox::new(keys).context("the key file holds no key")?;
    match app::keys::bootstrap(conn, &mut secrets, db::now())? {
        app::keys::Startup::Ready {
            registered: true,
            primary,
        } => {
            tracing::info!(primary = %primary, "master keys recorded in the database");
        }
        app::keys::Startup::Ready { .. } => {}
        app::keys::Startup::PrimaryNotInFile(id) => anyhow::bail!(
            "the key file {} lacks the master key {id}, which the database names as the one \
             secrets are sealed with (`forgekeys keys rotate` added it): use the current key file",
            path.display()
        ),
    }
    let secrets = std::sync::RwLock::new(secrets);
    let sealed = app::keys::legacy::seal_webhooks(conn, &secrets, path)?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "webhook URLs stored in plain text by an older version are now sealed"
        );
    }
    secrets
        .into_inner()
        .map_err(|_| anyhow::anyhow!("the key store is poisoned"))
}

pub fn provider_client(config: &Config, clock: &Clock) -> anyhow::Result<ProviderClient> {
    ProviderClient::new(ProviderConfig {
        github_api_url: config.github_api_url.clone(),
        github_git_url: config.github_git_url.clone(),
        gitlab_url: config.gitlab_url.clone(),
        bitbucket_api_url: config.bitbucket_api_url.clone(),
        bitbucket_git_url: config.bitbucket_git_url.clone(),
        outbound_allow: config.outbound_allow.clone(),
        outbound_deny: config.outbound_deny.clone(),
        ca_bundle: config.ca_bundle.clone(),
        hosts: config.outbound_hosts.clone(),
        timeout: config.provider_timeout,
        clock: clock.clone(),
    })
    .map_err(|e| anyhow::anyhow!("cannot build the HTTP client: {e}"))
}

/// Database work in flight at once (see `AppState::db_slots`): the pool's size, but no more
/// than two per processor core — more threads only queue on locks (measured on 2 cores: 4 slots
/// serve the token list faster than 8).
fn db_slots(pool: &Pool) -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let slots = (pool.max_size() as usize).min(2 * cores).max(1);
    Arc::new(tokio::sync::Semaphore::new(slots))
}

/// The application state over the configured database and key file: the server, the CLI and
/// tests that drive the scheduler all build it here.
pub fn state(config: &Config, clock: Clock) -> anyhow::Result<AppState> {
    let (pool, secrets) = prepare(config)?;
    Ok(AppState {
        db_slots: db_slots(&pool),
        pool,
        providers: provider_client(config, &clock)?,
        clock,
        stats: Arc::default(),
        config: Arc::new(config.clone()),
        secrets: Arc::new(RwLock::new(secrets)),
        setup_token: Arc::new(Mutex::new(None)),
    })
}

/// The request as logged: method, path and query, with the value of any `token` parameter (the
/// one-time setup link) replaced, so no credential reaches the log.
fn log_target(req: &actix_web::dev::ServiceRequest) -> String {
    let query: Vec<String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, v)| {
            let v = if k == "token" { "[redacted]".into() } else { v };
            let mut pair = url::form_urlencoded::Serializer::new(String::new());
            pair.append_pair(&k, &v);
            pair.finish()
        })
        .collect();
    if query.is_empty() {
        format!("{} {}", req.method(), req.path())
    } else {
        format!("{} {}?{}", req.method(), req.path(), query.join("&"))
    }
}

pub struct Application {
    port: u16,
    server: Server,
    pub setup_url: Option<String>,
    /// The re-check scheduler (none when `FORGEKEYS_RECHECK_INTERVAL=0`); stopped with the server.
    scheduler: Option<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Bind first (port 0 picks a free port), then build the server, on the system clock.
    pub fn build(config: Config) -> anyhow::Result<Application> {
        Application::build_with_clock(config, Clock::system())
    }

    /// Like [`Application::build`] with a given clock (tests move theirs forward).
    pub fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Application> {
        let (pool, secrets) = prepare(&config)?;
        let users = {
            let mut conn = pool.get()?;
            User::count(&mut conn)?
        };
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let mut config = config;
        if config.base_url.ends_with(":0") {
            config.base_url = format!("{}:{port}", config.base_url.trim_end_matches(":0"));
        }
        let setup_token = (users == 0).then(crate::app::auth::random_token);
        let setup_url = setup_token
            .as_ref()
            .map(|t| format!("{}/setup?token={t}", config.base_url));
        let state = AppState {
            db_slots: db_slots(&pool),
            pool,
            providers: provider_client(&config, &clock)?,
            clock,
            stats: Arc::default(),
            config: Arc::new(config),
            secrets: Arc::new(RwLock::new(secrets)),
            setup_token: Arc::new(Mutex::new(setup_token)),
        };
        let scheduler = crate::app::checks::scheduler::spawn(state.clone());
        let data = actix_web::web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(actix_web::web::FormConfig::default().limit(64 * 1024))
                .wrap(from_fn(web::csrf::check_origin))
                .wrap(from_fn(web::guard::reject_nul))
                .wrap(from_fn(web::htmx::htmx_flag))
                .wrap(from_fn(web::next::remember_path))
                .wrap(web::headers::security_headers())
                .wrap(Compress::default())
                .wrap(
                    actix_web::middleware::Logger::new("%{target}xi %s %Dms")
                        .custom_request_replace("target", log_target)
                        .log_target("forgekeys::http"),
                )
                .configure(web::routes)
        })
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            server,
            setup_url,
            scheduler,
        })
    }

    /// A handle to stop the server (tests stop theirs when done).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(s) = &self.scheduler {
            s.abort();
        }
        result
    }
}

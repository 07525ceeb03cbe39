//! Building and running the application.

use crate::app;
use crate::app::checks::scheduler::Scheduler;
use crate::app::state::AppState;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::keyfile;
use crate::crypto::secret_box::SecretBox;
use crate::db::models::user::User;
use crate::db::{self, Pool};
use crate::metrics::Metrics;
use crate::providers::{ProviderClient, ProviderConfig};
use crate::web;
use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

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
    let metrics = new_metrics()?;
    Ok(AppState {
        db_slots: db_slots(&pool),
        pool,
        providers: provider_client(config, &clock)?.with_metrics(metrics.clone()),
        metrics,
        clock,
        stats: Arc::default(),
        config: Arc::new(config.clone()),
        secrets: Arc::new(RwLock::new(secrets)),
        setup_token: Arc::new(Mutex::new(None)),
        hasher: crate::app::hashing::Hasher::for_this_machine(),
        api_limiter: Arc::new(crate::app::rate_limit::RateLimiter::new(
            config.api_rate_limit,
        )),
        sso: Arc::default(),
    })
}

fn new_metrics() -> anyhow::Result<Metrics> {
    Metrics::new().map_err(|e| anyhow::anyhow!("cannot register the metrics: {e}"))
}

/// How long a stop waits for requests in flight, then for the scheduler's tests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub struct Application {
    port: u16,
    server: Server,
    /// Requests in flight (see `web::drain`), waited for on a graceful stop.
    in_flight: web::drain::InFlight,
    /// The `/metrics` listener (`FORGEKEYS_METRICS_BIND`) and its port.
    metrics: Option<(u16, Server)>,
    pub setup_url: Option<String>,
    /// The re-check scheduler (none when `FORGEKEYS_RECHECK_INTERVAL=0`); stopped with the server.
    scheduler: Option<Scheduler>,
    state: AppState,
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
        let metrics_listener = match config.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .with_context(|| format!("cannot listen on {addr} (FORGEKEYS_METRICS_BIND)"))?,
            ),
            None => None,
        };
        let metrics = new_metrics()?;
        let api_limiter = Arc::new(crate::app::rate_limit::RateLimiter::new(
            config.api_rate_limit,
        ));
        let state = AppState {
            db_slots: db_slots(&pool),
            pool,
            providers: provider_client(&config, &clock)?.with_metrics(metrics.clone()),
            metrics,
            clock,
            stats: Arc::default(),
            config: Arc::new(config),
            secrets: Arc::new(RwLock::new(secrets)),
            setup_token: Arc::new(Mutex::new(setup_token)),
            hasher: crate::app::hashing::Hasher::for_this_machine(),
            api_limiter,
            sso: Arc::default(),
        };
        let metrics = match metrics_listener {
            Some(l) => {
                let port = l.local_addr()?.port();
                tracing::info!(address = %l.local_addr()?, "metrics served at /metrics");
                Some((port, crate::metrics::server::start(l, state.clone())?))
            }
            None => None,
        };
        let scheduler = crate::app::checks::scheduler::spawn(state.clone());
        let in_flight = web::drain::InFlight::default();
        let drain = actix_web::web::Data::new(in_flight.clone());
        let data = actix_web::web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(drain.clone())
                .app_data(actix_web::web::FormConfig::default().limit(64 * 1024))
                .wrap(from_fn(web::csrf::check_origin))
                .wrap(from_fn(web::guard::reject_nul))
                // Error pages get the signed-in header, the refusals of the two above included.
                .wrap(from_fn(web::error::signed_in_header))
                .wrap(from_fn(web::htmx::htmx_flag))
                .wrap(from_fn(web::next::remember_path))
                .wrap(web::headers::security_headers())
                .wrap(Compress::default())
                // Outermost: sees every answer, the refusals of the middleware above included.
                .wrap(from_fn(web::request_log::observe))
                .configure(web::routes)
        })
        // Stopping is ours (see `stop_on_signals`): actix would end SIGINT without waiting.
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .listen(listener)?
        .run();
        Ok(Application {
            port,
            server,
            in_flight,
            metrics,
            setup_url,
            scheduler,
            state,
        })
    }

    /// The server's state (tests reach its clock, database and hashing pool through it).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// A handle to stop the server (tests stop theirs when done).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener, when `FORGEKEYS_METRICS_BIND` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(p, _)| *p)
    }

    /// Stop gracefully on SIGTERM or SIGINT (the binary; tests stop through [`Self::handle`]):
    /// no new connection is accepted, requests in flight finish (up to [`SHUTDOWN_GRACE`]), a
    /// scheduler run starts no new test and records those in flight; then
    /// [`Self::run_until_stopped`] returns and the process exits 0.
    pub fn stop_on_signals(&self) {
        let server = self.server.handle();
        let metrics = self.metrics.as_ref().map(|(_, m)| m.handle());
        let scheduler = self.scheduler.as_ref().map(Scheduler::stopper);
        let in_flight = self.in_flight.clone();
        // Listening starts now, before the first request (the default action would kill).
        let signals = stop_signals();
        actix_web::rt::spawn(async move {
            let signal = signals.await;
            tracing::info!(
                signal,
                grace_secs = SHUTDOWN_GRACE.as_secs(),
                "stopping: finishing the requests in flight and the current re-check step"
            );
            if let Some(s) = scheduler {
                s.send_replace(true);
            }
            // No new connection; requests on open ones are still served (and counted).
            server.pause().await;
            if !in_flight.drained(SHUTDOWN_GRACE).await {
                tracing::warn!(
                    in_flight = in_flight.count(),
                    "requests still in flight after the grace period; closing their connections"
                );
            }
            if let Some(m) = metrics {
                m.stop(true).await;
            }
            server.stop(true).await;
        });
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, m)| {
            let handle = m.handle();
            (handle, actix_web::rt::spawn(m))
        });
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        if let Some(s) = self.scheduler {
            s.finish(SHUTDOWN_GRACE).await;
        }
        result
    }
}

/// Resolves with the name of the first stop signal received (SIGTERM from a service manager,
/// SIGINT from a terminal); the handlers are installed when this is called.
#[cfg(unix)]
fn stop_signals() -> futures::future::BoxFuture<'static, &'static str> {
    use futures::FutureExt;
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        }
        .boxed(),
        _ => async {
            tracing::error!("cannot listen for SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
        .boxed(),
    }
}

#[cfg(not(unix))]
fn stop_signals() -> futures::future::BoxFuture<'static, &'static str> {
    use futures::FutureExt;
    async {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
    .boxed()
}

use anyhow::Context;
use clap::Parser;
use forgekeys::cli::{Cli, Command, KeysCommand, OrgCommand, TokensCommand, UserCommand};
use forgekeys::commands;
use forgekeys::config::{Config, LogFormat};
use forgekeys::startup::Application;

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // A bad value is reported by `Config::from_args` below; the log is text until then.
    forgekeys::telemetry::init(LogFormat::parse(&cli.settings().log_format).unwrap_or_default());
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Cap glibc's malloc at two arenas, before any thread starts.
///
/// glibc gives each thread that allocates concurrently its own arena (up to 8 per core) and keeps
/// freed memory in it for reuse. The inventory (issue 5) builds a large response on a blocking
/// thread and streams it from a worker thread, so every thread that ever served one keeps its
/// own few tens of MB: measured +96 MB RSS over 10,000 tokens with the default, against about
/// +25 MB with one arena. Two arenas keep the memory down without making the worker threads
/// contend on one lock, and the operator needs no `MALLOC_ARENA_MAX`. One set in the environment
/// is respected (this call would override it, so it is skipped then).
///
/// Also fixes the mmap threshold at 1 MiB (issue 11): each Argon2 run allocates its 19 MiB at
/// once, and glibc's default threshold rises to the size of the last freed mmapped block, after
/// which those 19 MiB come from the arenas, shared with every other thread, and fragment them —
/// measured 400–500 MB RSS under a login storm with only two hashing threads. Mapped and
/// unmapped per run, the hashing memory is back to the system when a run ends. A
/// `MALLOC_MMAP_THRESHOLD_` in the environment is respected.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: `mallopt` only changes allocator tuning; it is called at the top of `main`, before
    // any other thread exists, with valid parameters and values. Its result (0 on failure) only
    // means the default stays in place, which is harmless.
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    // SAFETY: as above.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn config(args: &forgekeys::config::ServeArgs) -> anyhow::Result<Config> {
    Ok(Config::from_args(args)?)
}

fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let ok = std::process::ExitCode::SUCCESS;
    match cli.command {
        None => serve(config(&cli.settings)?),
        Some(Command::Serve(a)) => serve(config(&a)?),
        Some(Command::Migrate(a)) => {
            forgekeys::startup::prepare(&config(&a)?)?;
            println!("database is up to date");
            Ok(ok)
        }
        Some(Command::Org(OrgCommand::Add(a))) => {
            commands::org_add(&config(&a.settings)?, &a.slug, &a.name)?;
            Ok(ok)
        }
        Some(Command::User(UserCommand::Add(a))) => {
            commands::user_add(&config(&a.settings)?, &a.email, &a.org, &a.role)?;
            Ok(ok)
        }
        Some(Command::User(UserCommand::Unlock(a))) => {
            commands::user_unlock(&config(&a.settings)?, a.email.as_deref(), a.ip)?;
            Ok(ok)
        }
        Some(Command::User(UserCommand::Remove(a))) => {
            commands::user_remove(&config(&a.settings)?, &a.email, &a.org)?;
            Ok(ok)
        }
        Some(Command::User(UserCommand::ResetPassword(a))) => {
            commands::user_reset_password(&config(&a.settings)?, &a.email)?;
            Ok(ok)
        }
        Some(Command::Keys(KeysCommand::Rotate(a))) => {
            commands::keys_rotate(&config(&a)?)?;
            Ok(ok)
        }
        Some(Command::GitCredential(a)) => Ok(commands::git_credential(&a.action)),
        Some(Command::Backup(a)) => {
            commands::backup(&config(&a.settings)?, &a.dir)?;
            Ok(ok)
        }
        Some(Command::Tokens(TokensCommand::Check(a))) => {
            let cfg = config(&a.settings)?;
            let rt = tokio::runtime::Runtime::new().context("cannot start the runtime")?;
            let healthy = rt.block_on(commands::tokens_check(
                &cfg,
                a.within,
                a.concurrency,
                a.per_host,
            ))?;
            Ok(if healthy {
                ok
            } else {
                std::process::ExitCode::from(1)
            })
        }
    }
}

fn serve(config: Config) -> anyhow::Result<std::process::ExitCode> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config.clone())?;
        app.stop_on_signals();
        let address = std::net::SocketAddr::new(config.bind.ip(), app.port());
        tracing::info!(address = %address, database = config.database.backend_name(), "Forgekeys is listening on {}", config.base_url);
        if !config.bind.ip().is_loopback() && !config.base_url_set {
            tracing::warn!(
                "bound to {} without FORGEKEYS_BASE_URL: links and the setup link use {}; set FORGEKEYS_BASE_URL to the address people open (https://… behind a TLS reverse proxy). Cookies are Secure (FORGEKEYS_COOKIE_SECURE=auto), so browsers sign in over https only",
                config.bind,
                config.base_url
            );
        }
        if let Some(url) = &app.setup_url {
            // Printed to the terminal for the operator; it is single-use and gone once a user exists.
            println!("\nNo user exists yet. Open this one-time setup link to create the first organization and its owner:\n\n    {url}\n");
        }
        app.run_until_stopped().await?;
        tracing::info!("Forgekeys stopped");
        Ok(std::process::ExitCode::SUCCESS)
    })
}

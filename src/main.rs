use anyhow::Context;
use clap::Parser;
use forgekeys::cli::{Cli, Command, KeysCommand, OrgCommand, TokensCommand, UserCommand};
use forgekeys::commands;
use forgekeys::config::Config;
use forgekeys::startup::Application;

fn main() -> std::process::ExitCode {
    let _ = dotenvy::dotenv();
    forgekeys::telemetry::init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

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
        Some(Command::Keys(KeysCommand::Rotate(a))) => {
            commands::keys_rotate(&config(&a)?)?;
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
        tracing::info!(address = %config.bind, database = config.database.backend_name(), "Forgekeys is listening on {}", config.base_url);
        if let Some(url) = &app.setup_url {
            // Printed to the terminal for the operator; it is single-use and gone once a user exists.
            println!("\nNo user exists yet. Open this one-time setup link to create the first organization and its owner:\n\n    {url}\n");
        }
        app.run_until_stopped().await?;
        Ok(std::process::ExitCode::SUCCESS)
    })
}

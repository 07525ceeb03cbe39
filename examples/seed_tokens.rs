//! Seeds N stored GitHub tokens into a Forgekeys database, for the `tokens check` benchmark
//! (`scripts/bench-tokens-check.sh`). Not a test.
//!
//! It runs the app's own code: migrations, the key file, XChaCha20-Poly1305 sealing bound to
//! the row id, and `tokens::create` with its audit entry, as the add form does (minus the
//! provider test: the tokens are saved as "not tested"). Settings come from the same
//! environment variables as `forgekeys` (`DATABASE_URL`, `FORGEKEYS_KEY_FILE`, …).
//!
//! ```text
//! DATABASE_URL=sqlite:///tmp/bench.db FORGEKEYS_KEY_FILE=/tmp/bench.key \
//!     cargo run --release --example seed_tokens -- --count 1000
//! ```

use anyhow::Context;
use clap::Parser;
use diesel::Connection;
use forgekeys::config::{Config, ServeArgs};
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::user::User;
use forgekeys::domain::provider::{Hosting, Provider};
use forgekeys::domain::token_form::TokenInput;
use forgekeys::tokens::{self, TokenError};
use secrecy::SecretString;

#[derive(Debug, Parser)]
struct Args {
    /// How many tokens to add.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Organization slug (created if missing).
    #[arg(long, default_value = "bench")]
    org: String,
    #[command(flatten)]
    settings: ServeArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config::from_args(&args.settings)?;
    let state = forgekeys::startup::state(&config, forgekeys::clock::Clock::system())?;
    let pool = state.pool.clone();
    let mut conn = pool.get()?;
    let org = match Organization::find_by_slug(&mut conn, &args.org)? {
        Some(o) => o,
        None => Organization::create(&mut conn, &args.org, "Benchmark")?,
    };
    let email = "bench@forgekeys.invalid";
    let user = match User::find_by_email(&mut conn, email)? {
        Some(u) => u,
        None => {
            let pw = SecretString::from(uuid::Uuid::new_v4().to_string());
            let hash = forgekeys::crypto::password::hash(&pw)
                .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
            User::create(&mut conn, email, &hash)?
        }
    };
    let run = uuid::Uuid::new_v4().simple().to_string();
    conn.transaction::<_, TokenError, _>(|conn| {
        for i in 0..args.count {
            let input = TokenInput {
                provider: Provider::Github,
                hosting: Hosting::Cloud,
                name: format!("bench-{}-{i:05}", &run[..8]),
                url: None,
                workspace: None,
                username: None,
                description: None,
                expires_on: None,
            };
            let secret = SecretString::from(format!("ghp_bench{i:05}{run}"));
            tokens::create(&state, conn, &org.id, &input, &secret, None, &user)?;
        }
        Ok(())
    })
    .context("seeding tokens")?;
    println!(
        "seeded {} token(s) into organization {}",
        args.count, org.slug
    );
    Ok(())
}

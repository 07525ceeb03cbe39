//! Seeds N stored GitHub tokens into a Forgekeys database, for the `tokens check` benchmark
//! (`scripts/bench-tokens-check.sh`). Not a test.
//!
//! It runs the app's own code: migrations, the key file, XChaCha20-Poly1305 sealing bound to
//! the row id, and the storage layer's insert (the tokens are saved as "not tested", without the
//! provider test). Settings come from the same
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
use forgekeys::db::models::token::{GitToken, name_key};
use forgekeys::db::models::user::User;
use forgekeys::domain::provider::{Hosting, Provider};
use forgekeys::domain::token::token_hint;
use secrecy::{ExposeSecret, SecretString};

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
    let n = state.clock.naive();
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        for i in 0..args.count {
            let name = format!("bench-{}-{i:05}", &run[..8]);
            let secret = SecretString::from(format!("ghp_bench{i:05}{run}"));
            let id = uuid::Uuid::new_v4().to_string();
            let (blob, key_id) = state
                .seal_token(conn, &id, &secret)
                .map_err(|e| anyhow::anyhow!("sealing failed: {e}"))?;
            let t = GitToken {
                id,
                org_id: org.id.clone(),
                name_key: name_key(&name),
                name,
                provider: Provider::Github.as_str().into(),
                hosting: Hosting::Cloud.as_str().into(),
                url: None,
                workspace: None,
                username: None,
                description: None,
                secret: blob,
                key_id,
                hint: token_hint(secret.expose_secret()),
                status: "not_tested".into(),
                last_tested_at: None,
                account: None,
                expires_at: None,
                expiry_source: None,
                last_test: None,
                created_by: Some(user.email.clone()),
                created_at: n,
                updated_by: Some(user.email.clone()),
                updated_at: n,
                rotated_at: None,
                identity_key: None,
                version: 1,
                previous_hint: None,
                previous_kind: None,
            };
            GitToken::insert(conn, &t)?;
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

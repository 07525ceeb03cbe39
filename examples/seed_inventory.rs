//! Seeds an organization with many tokens (and services using them) for the inventory and page
//! benchmarks (`scripts/bench-inventory.sh`, `scripts/bench-pages.sh`). Not a test.
//!
//! Uses the app's own code: migrations and the key file through `startup::prepare`, secrets
//! sealed with `SecretBox` (XChaCha20-Poly1305 bound to the row id), rows written with
//! `GitToken::insert` / `Service::insert` in one transaction. Tokens get varied providers,
//! statuses, expiries, scopes and last-test results so rows are as large as real ones. It also
//! makes the member who signs in to measure (password read from standard input).
//!
//! ```text
//! echo 'bench password' | DATABASE_URL=sqlite:///tmp/inv.db FORGEKEYS_KEY_FILE=/tmp/inv.key \
//!     cargo run --release --example seed_inventory -- --count 10000 --email bench@example.test
//! ```
//!
//! `--start K` numbers the tokens from K, so a second run adds to an organization seeded by a
//! first one (`scripts/bench-pages.sh` seeds 100, then grows the organization to 10,000).

use clap::Parser;
use diesel::Connection;
use forgekeys::config::{Config, ServeArgs};
use forgekeys::db::models::membership::Membership;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::service::Service;
use forgekeys::db::models::token::{GitToken, name_key};
use forgekeys::db::models::user::User;
use forgekeys::db::{new_id, now};
use forgekeys::domain::role::Role;
use forgekeys::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use forgekeys::domain::token::token_hint;
use secrecy::SecretString;

#[derive(Debug, Parser)]
struct Args {
    /// How many tokens to add.
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    /// Number of the first token (names, secrets and service names are numbered from it), so a
    /// second run can grow an organization seeded by a first one without name clashes.
    #[arg(long, default_value_t = 0)]
    start: usize,
    /// Organization slug (created if missing).
    #[arg(long, default_value = "bench")]
    org: String,
    /// Member to create as Owner (password on standard input).
    #[arg(long, default_value = "bench@example.test")]
    email: String,
    #[command(flatten)]
    settings: ServeArgs,
}

const STATUSES: [TestStatus; 6] = [
    TestStatus::Valid,
    TestStatus::Valid,
    TestStatus::MissingPermissions,
    TestStatus::Invalid,
    TestStatus::Expired,
    TestStatus::NotTested,
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    anyhow::ensure!(!password.is_empty(), "give the member's password on stdin");

    let config = Config::from_args(&args.settings)?;
    let (pool, secrets) = forgekeys::startup::prepare(&config)?;
    let mut conn = pool.get()?;
    let org = match Organization::find_by_slug(&mut conn, &args.org)? {
        Some(o) => o,
        None => Organization::create(&mut conn, &args.org, "Inventory Benchmark")?,
    };
    let user = match User::find_by_email(&mut conn, &args.email)? {
        Some(u) => u,
        None => {
            let hash = forgekeys::crypto::password::hash(&SecretString::from(password))?;
            User::create(&mut conn, &args.email, &hash)?
        }
    };
    Membership::upsert(&mut conn, &org.id, &user.id, Role::Owner)?;

    let started = std::time::Instant::now();
    let base = now();
    let (tokens, services) = conn.transaction(|conn| -> anyhow::Result<(usize, usize)> {
        let mut services = 0;
        for i in args.start..args.start + args.count {
            let id = new_id();
            let secret = format!("ghp_bench{:032}", i);
            let (blob, key_id) = secrets.seal_token(&id, &SecretString::from(secret.clone()))?;
            let provider = ["github", "gitlab", "bitbucket"][i % 3];
            let self_hosted = provider != "bitbucket" && i % 7 == 0;
            let status = STATUSES[i % STATUSES.len()];
            let name = format!("bench-token-{i:05} {provider}");
            let mut t = GitToken {
                id: id.clone(),
                org_id: org.id.clone(),
                name_key: name_key(&name),
                name,
                provider: provider.into(),
                hosting: if self_hosted { "self_hosted" } else { "cloud" }.into(),
                url: self_hosted.then(|| format!("https://{provider}.corp{}.example", i % 13)),
                workspace: (provider == "bitbucket").then(|| format!("workspace-{}", i % 50)),
                description: (i % 4 == 0).then(|| format!("Deploys for team {}", i % 40)),
                secret: blob,
                key_id,
                hint: token_hint(&secret),
                status: TestStatus::NotTested.as_str().into(),
                last_tested_at: None,
                account: None,
                expires_at: (i % 5 != 0)
                    .then(|| base + chrono::Duration::days((i % 400) as i64 - 30)),
                expiry_source: (i % 5 != 0).then(|| "admin".into()),
                last_test: None,
                created_by: Some(args.email.clone()),
                created_at: base - chrono::Duration::days((i % 700) as i64),
                updated_by: Some(args.email.clone()),
                updated_at: base - chrono::Duration::days((i % 90) as i64),
                rotated_at: (i % 6 == 0).then(|| base - chrono::Duration::days((i % 60) as i64)),
                username: None,
                identity_key: None,
                version: 1,
                previous_hint: None,
                previous_kind: None,
            };
            if status != TestStatus::NotTested {
                let mut o = TestOutcome::failed(status, "seeded for the benchmark");
                o.account = Some(format!("deploy-bot-{}", i % 100));
                o.scopes = match provider {
                    "github" => vec!["repo".into(), "admin:repo_hook".into(), "read:org".into()],
                    "gitlab" => vec!["api".into(), "read_repository".into()],
                    _ => vec![
                        "repository:write".into(),
                        "pullrequest:write".into(),
                        "webhook".into(),
                    ],
                };
                if status == TestStatus::MissingPermissions {
                    o.missing = vec![MissingPermission {
                        name: "admin:repo_hook".into(),
                        fix: "Edit the token at the provider and tick admin:repo_hook.".into(),
                    }];
                }
                t.apply_outcome(&o);
                t.updated_at = base - chrono::Duration::days((i % 90) as i64);
            }
            GitToken::insert(conn, &t)?;
            // Two tokens in three are used by 1–3 services.
            if i % 3 != 0 {
                for s in 0..(1 + i % 3) {
                    Service::insert(
                        conn,
                        &Service {
                            id: new_id(),
                            org_id: org.id.clone(),
                            name: format!("svc-{i:05}-{s}"),
                            kind: "application".into(),
                            provider: provider.into(),
                            access: "token".into(),
                            token_id: Some(id.clone()),
                            repository: format!("acme/app-{i}"),
                            branch: "main".into(),
                            created_at: base,
                            updated_at: base,
                            name_key: String::new(),
                        },
                    )?;
                    services += 1;
                }
            }
        }
        Ok((args.count, services))
    })?;
    println!(
        "seeded {tokens} tokens and {services} services into org {:?} in {:.1}s",
        args.org,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

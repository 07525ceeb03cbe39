//! Operator subcommands: `org add`, `user add`, `keys rotate`, `tokens check`.

use crate::config::Config;
use crate::crypto::keyfile;
use crate::crypto::password;
use crate::crypto::secret_box::{MasterKey, SecretBox};
use crate::db::models::audit::Audit;
use crate::db::models::membership::Membership;
use crate::db::models::organization::{Organization, parse_slug};
use crate::db::models::token::{GitToken, TokenFilter};
use crate::db::models::user::{User, parse_email};
use crate::domain::role::Role;
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::startup::prepare;
use anyhow::{Context, bail};
use futures::StreamExt;
use secrecy::SecretString;
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

pub fn org_add(config: &Config, slug: &str, name: &str) -> anyhow::Result<()> {
    let slug = parse_slug(slug).map_err(|m| anyhow::anyhow!("--slug: {m}"))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        bail!("--name: use 1–100 characters");
    }
    let (pool, _) = prepare(config)?;
    let mut conn = pool.get()?;
    let org = Organization::create(&mut conn, &slug, name)?;
    let mut a = Audit::new("org.create");
    a.org_id = Some(org.id.clone());
    a.actor_email = Some("forgekeys CLI".into());
    a.write(&mut conn)?;
    println!("created organization {slug}");
    Ok(())
}

fn read_password() -> anyhow::Result<SecretString> {
    if std::io::stdin().is_terminal() {
        let pw = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        if pw != again {
            bail!("the two passwords differ");
        }
        Ok(SecretString::from(pw))
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok(SecretString::from(
            line.trim_end_matches(['\r', '\n']).to_string(),
        ))
    }
}

pub fn user_add(config: &Config, email: &str, org: &str, role: &str) -> anyhow::Result<()> {
    let email = parse_email(email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
    let role = Role::parse(role).context("--role: use owner, admin, devops, viewer or billing")?;
    let (pool, _) = prepare(config)?;
    let mut conn = pool.get()?;
    let org = Organization::find_by_slug(&mut conn, org)?.with_context(|| {
        format!("--org: no organization with the slug {org:?} (create it with `forgekeys org add`)")
    })?;
    let user = match User::find_by_email(&mut conn, &email)? {
        Some(u) => {
            println!("{email} exists; setting the role only");
            u
        }
        None => {
            let pw = read_password()?;
            password::check_policy(secrecy::ExposeSecret::expose_secret(&pw))
                .map_err(|m| anyhow::anyhow!("password: {m}"))?;
            let hash =
                password::hash(&pw).map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
            User::create(&mut conn, &email, &hash)?
        }
    };
    Membership::upsert(&mut conn, &org.id, &user.id, role)?;
    let mut a = Audit::new("member.add");
    a.org_id = Some(org.id.clone());
    a.actor_email = Some("forgekeys CLI".into());
    a.details = serde_json::json!({"member": email, "role": role.as_str()});
    a.write(&mut conn)?;
    println!("{email} is {} of {}", role.label(), org.slug);
    Ok(())
}

/// Add a new key, re-encrypt every token under it one row at a time (each row update is atomic,
/// and the key file keeps every key still in use), then drop keys nothing uses.
///
/// A row that cannot be decrypted is skipped (named on stderr, counted in the audit event's
/// `skipped`) and keeps its key; the command still exits 0, since every other row was moved.
pub fn keys_rotate(config: &Config) -> anyhow::Result<()> {
    let (pool, _) = prepare(config)?;
    let mut with_new = keyfile::load(&config.key_file)?;
    let new_key = MasterKey::generate();
    let new_id = new_key.id.clone();
    // Keep the old keys in the file (new key last = current) before touching any row.
    with_new.push(new_key);
    keyfile::save(&config.key_file, &with_new)?;
    let sb = SecretBox::new(keyfile::load(&config.key_file)?).context("key file empty")?;
    let mut conn = pool.get()?;
    let mut moved = 0usize;
    let mut skipped = 0usize;
    for (id, key_id) in GitToken::all_ids(&mut conn)? {
        if key_id == new_id {
            continue;
        }
        let Some(t) = GitToken::find(&mut conn, &id)? else {
            continue;
        };
        // One undecryptable row (damaged, or sealed under a key missing from the file) must not
        // stop the others from moving: it is reported, counted and keeps its key.
        let secret = match sb.open_token(&t.id, &t.key_id, &t.secret) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "warning: token {} ({:?}) cannot be decrypted with the loaded keys ({e}); left as is",
                    t.id, t.name
                );
                skipped += 1;
                continue;
            }
        };
        let (blob, kid) = sb.seal_token(&t.id, &secret)?;
        GitToken::set_secret(&mut conn, &t.id, &blob, &kid)?;
        moved += 1;
    }
    let in_use: std::collections::HashSet<String> = GitToken::all_ids(&mut conn)?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    let kept: Vec<MasterKey> = keyfile::load(&config.key_file)?
        .into_iter()
        .filter(|k| k.id == new_id || in_use.contains(&k.id))
        .collect();
    keyfile::save(&config.key_file, &kept)?;
    let mut a = Audit::new("keys.rotate");
    a.actor_email = Some("forgekeys CLI".into());
    a.details = serde_json::json!({"reencrypted": moved, "skipped": skipped, "key_id": new_id});
    a.write(&mut conn)?;
    println!(
        "new master key {new_id}; re-encrypted {moved} token(s); {} key(s) kept",
        kept.len()
    );
    if skipped > 0 {
        eprintln!(
            "warning: {skipped} token(s) could not be decrypted and were left as is under their old key"
        );
    }
    Ok(())
}

/// Why a checked token is unhealthy, if it is.
fn problem(
    o: &TestOutcome,
    expires: Option<chrono::NaiveDateTime>,
    within_days: u32,
) -> Option<String> {
    match o.status {
        TestStatus::Valid => {}
        TestStatus::MissingPermissions => {
            return Some(format!(
                "missing {}",
                o.missing
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        s => return Some(o.reason.clone().unwrap_or_else(|| s.label().to_string())),
    }
    // Counted from the moment of the test, by the server's clock.
    let exp = o.expires_at.map(|e| e.naive_utc()).or(expires)?;
    let left = exp - o.tested_at.naive_utc();
    let days = left.num_days();
    if left <= chrono::Duration::zero() {
        return Some(format!("expired {} day(s) ago", -days));
    }
    (days <= i64::from(within_days)).then(|| format!("expires in {days} day(s)"))
}

fn host_of(t: &GitToken, config: &Config) -> String {
    match (&t.url, t.provider()) {
        (Some(u), _) => u.clone(),
        (None, crate::domain::provider::Provider::Github) => config.github_api_url.to_string(),
        (None, crate::domain::provider::Provider::Gitlab) => config.gitlab_url.to_string(),
        (None, crate::domain::provider::Provider::Bitbucket) => {
            config.bitbucket_api_url.to_string()
        }
    }
}

/// Default `tokens check --concurrency`: token tests in flight at once, over all hosts.
pub const CHECK_CONCURRENCY: usize = 64;

/// Default `tokens check --per-host`: token tests in flight at once against one API origin
/// (`api.github.com`, `gitlab.com`, one self-hosted server, …).
///
/// Each test is one to five GET requests, mostly sequential (a classic GitHub token: `/user`,
/// `/user/repos`, then the clone check on the Git host), so this is also about the number of
/// concurrent requests one host sees from Forgekeys. 32 stays well under GitHub's documented
/// ceiling of 100 concurrent requests (secondary rate limits) and is modest for a self-hosted
/// GitLab, while 1,000 classic GitHub tokens answering in 100 ms take about
/// 1,000 / 32 × 3 × 0.1 s ≈ 10 s (`scripts/bench-tokens-check.sh`). Lower it for a small
/// self-hosted server.
pub const CHECK_PER_HOST: usize = 32;

/// Orders jobs round-robin over their hosts, so that the `concurrency` slots are not all taken
/// by tokens of one host waiting for its per-host permits while other hosts sit idle.
fn interleave_by_host<T>(jobs: Vec<(String, T)>) -> Vec<T> {
    let mut queues: Vec<(String, std::collections::VecDeque<T>)> = Vec::new();
    for (host, job) in jobs {
        match queues.iter_mut().find(|(h, _)| *h == host) {
            Some((_, q)) => q.push_back(job),
            None => queues.push((host, std::collections::VecDeque::from([job]))),
        }
    }
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for (_, q) in &mut queues {
            if let Some(job) = q.pop_front() {
                out.push(job);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

/// Re-test every stored token with bounded concurrency (`concurrency` at once, at most
/// `per_host` at once per provider host), print a table, and return whether all are healthy.
pub async fn tokens_check(
    config: &Config,
    within_days: u32,
    concurrency: usize,
    per_host: usize,
) -> anyhow::Result<bool> {
    // The same state the server has, so the CLI re-tests through the same code
    // (`tokens::test_stored`) as the Test button and the scheduler.
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    let pool = state.pool.clone();
    let tokens = {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(GitToken, String)>> {
            let mut conn = pool.get()?;
            let mut out = Vec::new();
            let orgs: Vec<String> = {
                use crate::db::schema::organizations::dsl::*;
                use diesel::prelude::*;
                organizations.select(id).load(&mut conn)?
            };
            for org_id in orgs {
                let org = {
                    use crate::db::schema::organizations::dsl::*;
                    use diesel::prelude::*;
                    organizations
                        .filter(id.eq(&org_id))
                        .select(slug)
                        .first::<String>(&mut conn)?
                };
                for t in GitToken::all(&mut conn, &org_id, &TokenFilter::default())? {
                    out.push((t, org.clone()));
                }
            }
            Ok(out)
        })
        .await??
    };
    let mut host_permits: HashMap<String, Arc<tokio::sync::Semaphore>> = HashMap::new();
    let jobs: Vec<_> = tokens
        .into_iter()
        .map(|(t, org)| {
            let host = host_of(&t, config);
            let sem = host_permits
                .entry(host.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(per_host.max(1))))
                .clone();
            (host, (t, org, sem))
        })
        .collect();
    let jobs = interleave_by_host(jobs);
    let results: Vec<(GitToken, String, TestOutcome)> = futures::stream::iter(jobs)
        .map(|(t, org, sem)| {
            let state = state.clone();
            async move {
                let _permit = sem.acquire_owned().await;
                let outcome = crate::tokens::test_stored(&state, &t).await;
                (t, org, outcome)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut rows = results;
    rows.sort_by(|a, b| (&a.1, &a.0.name_key).cmp(&(&b.1, &b.0.name_key)));
    let store = {
        let pool = pool.clone();
        let rows: Vec<(GitToken, TestOutcome)> = rows
            .iter()
            .map(|(t, _, o)| (t.clone(), o.clone()))
            .collect();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = pool.get()?;
            for (t, o) in rows {
                match crate::tokens::record_test(&mut conn, &t, &o, None) {
                    Ok(_) => {}
                    // Edited, rotated or deleted while it was tested: that result is stale.
                    Err(crate::tokens::TokenError::Store(crate::db::StoreError::Conflict(m))) => {
                        eprintln!("{}: {m}", t.name);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        })
    };
    println!(
        "{:<16} {:<32} {:<10} {:<20} {:<12} PROBLEM",
        "ORG", "TOKEN", "PROVIDER", "STATUS", "EXPIRES"
    );
    let mut healthy = true;
    for (t, org, o) in &rows {
        let problem = problem(o, t.expires_at, within_days);
        healthy &= problem.is_none();
        let expires = o
            .expires_at
            .map(|e| e.format("%Y-%m-%d").to_string())
            .or_else(|| t.expires_at.map(|e| e.format("%Y-%m-%d").to_string()))
            .unwrap_or_else(|| {
                if o.never_expires {
                    "never".into()
                } else {
                    "unknown".into()
                }
            });
        let name: String = t.name.chars().take(32).collect();
        println!(
            "{:<16} {:<32} {:<10} {:<20} {:<12} {}",
            org,
            name,
            t.provider,
            o.status.as_str(),
            expires,
            problem.unwrap_or_default()
        );
    }
    store.await??;
    let bad = rows
        .iter()
        .filter(|(t, _, o)| problem(o, t.expires_at, within_days).is_some())
        .count();
    println!("{} token(s) checked, {} need attention", rows.len(), bad);
    Ok(healthy)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_interleaved_by_host() {
        let jobs = vec![
            ("a".to_owned(), 1),
            ("a".to_owned(), 2),
            ("a".to_owned(), 3),
            ("b".to_owned(), 4),
            ("c".to_owned(), 5),
            ("b".to_owned(), 6),
        ];
        assert_eq!(interleave_by_host(jobs), vec![1, 4, 5, 2, 6, 3]);
    }

    #[test]
    fn past_and_near_expiry_are_problems() {
        let mut o = TestOutcome::failed(TestStatus::Valid, "");
        o.reason = None;
        let now = o.tested_at;
        o.expires_at = Some(now - chrono::Duration::days(3) - chrono::Duration::hours(1));
        assert_eq!(
            problem(&o, None, 14).as_deref(),
            Some("expired 3 day(s) ago")
        );
        o.expires_at = Some(now + chrono::Duration::days(10) + chrono::Duration::hours(1));
        assert_eq!(
            problem(&o, None, 14).as_deref(),
            Some("expires in 10 day(s)")
        );
        assert_eq!(problem(&o, None, 9), None);
        o.expires_at = None;
        o.never_expires = true;
        assert_eq!(problem(&o, None, 14), None);
    }
}

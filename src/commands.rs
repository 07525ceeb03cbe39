//! Operator subcommands: `org add`, `user add`, `user remove`, `user reset-password`,
//! `keys rotate`, `tokens check`, `backup`.

mod backup;
pub use backup::backup;

use crate::app;
use crate::app::setup::{MemberAdded, NewOrg, OrgAdded};
use crate::config::Config;
use crate::crypto::password;
use crate::domain::account::{ORG_NAME_MAX, parse_email, parse_slug};
use crate::domain::role::Role;
use crate::web::forms::account::{email_message, password_message, slug_message};
use anyhow::{Context, bail};
use secrecy::SecretString;
use std::io::{BufRead, IsTerminal};

/// A runtime for a CLI command that calls the async use cases.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")
}

/// `forgekeys org add`: the same bootstrap as the setup page (`app::setup`).
pub fn org_add(config: &Config, slug: &str, name: &str) -> anyhow::Result<()> {
    let slug = parse_slug(slug).map_err(|e| anyhow::anyhow!("--slug: {}", slug_message(e)))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > ORG_NAME_MAX {
        bail!("--name: use 1–{ORG_NAME_MAX} characters");
    }
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    let new = NewOrg {
        slug: slug.clone(),
        name: name.to_string(),
    };
    match runtime()?.block_on(app::setup::add_org(&state, new))? {
        OrgAdded::Created(_) => println!("created organization {slug}"),
        OrgAdded::SlugTaken => {
            bail!("--slug: an organization with the slug {slug:?} already exists")
        }
    }
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

/// `forgekeys user add`: creates the account (password from stdin or a prompt) or, for an
/// existing account, adds it or sets its role; it says which, and that an existing account's
/// password was not changed (nothing is read from standard input for it).
pub fn user_add(config: &Config, email: &str, org: &str, role: &str) -> anyhow::Result<()> {
    let email = parse_email(email).map_err(|e| anyhow::anyhow!("--email: {}", email_message(e)))?;
    let role = Role::parse(role).context("--role: use owner, admin, devops, viewer or billing")?;
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    let rt = runtime()?;
    let exists = rt.block_on(app::setup::user_exists(&state, &email))?;
    let password = if exists {
        None
    } else {
        let pw = read_password()?;
        password::check_policy(secrecy::ExposeSecret::expose_secret(&pw))
            .map_err(|e| anyhow::anyhow!("password: {}", password_message(e)))?;
        Some(pw)
    };
    let added = match rt.block_on(app::setup::add_member(&state, org, &email, password, role)) {
        Err(app::Error::Conflict(c)) => bail!("{}", crate::web::error::conflict_text(&c)),
        other => other?,
    };
    let role = role.label();
    match added {
        MemberAdded::Created(_) => println!("created the account {email}: {role} of {org}"),
        MemberAdded::Added(_) => println!("added the existing account {email} to {org} as {role}"),
        MemberAdded::AlreadyMember { old, new, .. } if old == new => {
            println!("{email} is already a member of {org} with the role {role}; nothing changed")
        }
        MemberAdded::AlreadyMember { old, .. } => println!(
            "{email} was already a member of {org}: role changed from {} to {role}",
            old.label()
        ),
        MemberAdded::NoSuchOrg => bail!(
            "--org: no organization with the slug {org:?} (create it with `forgekeys org add`)"
        ),
        MemberAdded::Busy => bail!("the password-hashing pool is busy; run the command again"),
    }
    if exists {
        println!(
            "the account existed, so its password was not changed (a password is only read for a \
             new account; to set one, run `forgekeys user reset-password {email}`)"
        );
    }
    Ok(())
}

/// `forgekeys user unlock`: forgets the failed sign-ins of an e-mail address and/or a client
/// address (`app::auth::throttle::unlock`).
pub fn user_unlock(
    config: &Config,
    email: Option<&str>,
    ip: Option<std::net::IpAddr>,
) -> anyhow::Result<()> {
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    let r = runtime()?.block_on(app::auth::throttle::unlock(
        &state,
        email.map(str::to_string),
        ip,
    ))?;
    if let Some(e) = email {
        match r.email {
            true => println!("{e}: sign-in unlocked"),
            false => println!("{e}: no failed sign-ins recorded; nothing to unlock"),
        }
    }
    if let Some(ip) = ip {
        match r.ip {
            true => println!("{ip}: sign-in from this address unlocked"),
            false => println!("{ip}: no failed sign-ins recorded; nothing to unlock"),
        }
    }
    Ok(())
}

/// `forgekeys user remove EMAIL --org ORG` (`app::members::manage::remove_by_cli`).
pub fn user_remove(config: &Config, email: &str, org: &str) -> anyhow::Result<()> {
    use app::members::manage::CliRemoved;
    let email = parse_email(email).map_err(|e| anyhow::anyhow!("EMAIL: {}", email_message(e)))?;
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    let r = runtime()?.block_on(app::members::manage::remove_by_cli(&state, org, &email));
    match r {
        Ok(CliRemoved::Removed { role }) => {
            println!("removed {email} ({}) from {org}", role.label());
            Ok(())
        }
        Ok(CliRemoved::NoSuchOrg) => bail!("--org: no organization with the slug {org:?}"),
        Ok(CliRemoved::NotAMember) => bail!("{email} is not a member of {org}"),
        Err(app::Error::Conflict(c)) => bail!("{}", crate::web::error::conflict_text(&c)),
        Err(e) => Err(e.into()),
    }
}

/// `forgekeys user reset-password EMAIL`: prints a one-time link (no password on the command
/// line; the person sets it on the page).
pub fn user_reset_password(config: &Config, email: &str) -> anyhow::Result<()> {
    use app::members::reset::ResetIssued;
    let email = parse_email(email).map_err(|e| anyhow::anyhow!("EMAIL: {}", email_message(e)))?;
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    match runtime()?.block_on(app::members::reset::issue_password_reset(&state, &email))? {
        ResetIssued::Issued { token, .. } => {
            let link = crate::web::urls::absolute(
                &config.base_url,
                &crate::web::urls::password_reset(&token),
            );
            let minutes = crate::domain::members::RESET_VALID.num_minutes();
            println!(
                "One-time link to set a new password for {email} (valid {minutes} minutes, works once; \
                 using it signs the account out everywhere):\n\n    {link}\n"
            );
            Ok(())
        }
        ResetIssued::NoSuchUser => bail!("no account with the e-mail address {email}"),
    }
}

/// `forgekeys keys rotate` (`app::keys::rotate`): prints what it did; an undecryptable row is
/// named on stderr and counted, and the command still exits 0, since every other row moved.
/// Safe beside running servers, and safe to run again after an interrupted run.
pub fn keys_rotate(config: &Config) -> anyhow::Result<()> {
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    let r = runtime()?.block_on(app::keys::rotate(&state))?;
    for s in &r.skipped {
        eprintln!(
            "warning: token {} ({:?}) cannot be decrypted with the loaded keys ({}); left as is",
            s.id, s.name, s.error
        );
    }
    for org in &r.skipped_webhooks {
        eprintln!(
            "warning: the webhook URL of organization {org} cannot be decrypted with the loaded keys; left as is"
        );
    }
    for user in &r.skipped_totp {
        eprintln!(
            "warning: the two-factor secret of user {user} cannot be decrypted with the loaded keys; left as is"
        );
    }
    println!(
        "new master key {}; re-encrypted {} token(s), {} webhook URL(s) and {} two-factor secret(s); {} key(s) kept",
        r.key_id, r.reencrypted, r.webhooks, r.totp, r.kept
    );
    if !r.dropped.is_empty() {
        println!(
            "dropped the old key(s) {} (no secret uses them any more)",
            r.dropped.join(", ")
        );
    }
    if !r.skipped.is_empty() {
        eprintln!(
            "warning: {} token(s) could not be decrypted and were left as is under their old key",
            r.skipped.len()
        );
    }
    Ok(())
}

/// Defaults of `tokens check --concurrency` and `--per-host` (see `app::checks::all`).
pub use crate::app::checks::all::{CHECK_CONCURRENCY, CHECK_PER_HOST};

/// A problem of `tokens check`, in words.
fn problem_text(p: &crate::app::checks::all::Problem) -> String {
    use crate::app::checks::all::Problem;
    match p {
        Problem::MissingPermissions(names) => format!("missing {}", names.join(", ")),
        Problem::Failing { status, reason } => {
            reason.clone().unwrap_or_else(|| status.label().to_string())
        }
        Problem::Expired { days_ago } => format!("expired {days_ago} day(s) ago"),
        Problem::ExpiresSoon { days } => format!("expires in {days} day(s)"),
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
    use crate::domain::expiry::Expiry;
    // The same state the server has, so the CLI re-tests through the same code
    // (`app::checks`) as the Test button and the scheduler.
    let state = crate::startup::state(config, crate::clock::Clock::system())?;
    let report =
        crate::app::checks::all::check_all(&state, within_days, concurrency, per_host).await?;
    for r in report.rows.iter().filter(|r| r.changed_meanwhile) {
        eprintln!("{}: changed while it was tested; result not stored", r.name);
    }
    println!(
        "{:<16} {:<32} {:<10} {:<20} {:<12} PROBLEM",
        "ORG", "TOKEN", "PROVIDER", "STATUS", "EXPIRES"
    );
    for r in &report.rows {
        let expires = match r.expiry {
            Expiry::At(at) => at.format("%Y-%m-%d").to_string(),
            Expiry::Never => "never".into(),
            Expiry::Unknown => "unknown".into(),
        };
        let name: String = r.name.chars().take(32).collect();
        println!(
            "{:<16} {:<32} {:<10} {:<20} {:<12} {}",
            r.org_slug,
            name,
            r.provider.as_str(),
            r.status.as_str(),
            expires,
            r.problem.as_ref().map(problem_text).unwrap_or_default()
        );
    }
    println!(
        "{} token(s) checked, {} need attention",
        report.rows.len(),
        report.needing_attention()
    );
    Ok(report.healthy())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::test_result::{TestOutcome, TestStatus};

    /// A problem in words, as the table prints it.
    fn problem(
        o: &TestOutcome,
        expires: Option<chrono::NaiveDateTime>,
        within_days: u32,
    ) -> Option<String> {
        crate::app::checks::all::problem(o, expires, within_days)
            .as_ref()
            .map(problem_text)
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

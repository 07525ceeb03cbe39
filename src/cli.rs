//! Command line: `serve` (default), `migrate`, `org add`, `user add`, `user remove`,
//! `user reset-password`, `keys rotate`, `tokens check`, `backup`, `git-credential`.

use crate::config::ServeArgs;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "forgekeys",
    version,
    about = "Manage an organization's Git provider access tokens"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web console (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(ServeArgs),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage master keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check stored tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Copy the database (SQLite: a consistent online copy, safe while the server runs) and the
    /// key file into DIR. On PostgreSQL only the key file is copied: use pg_dump for the data.
    Backup(Backup),
    /// Git credential helper for builds: answers git with the credentials of the service of
    /// FORGEKEYS_SERVICE_KEY, fetched from FORGEKEYS_URL, for that service's repository only.
    /// Use: git -c credential.helper='!forgekeys git-credential' clone URL
    GitCredential(GitCredential),
}

/// `forgekeys git-credential get|store|erase` (git passes the action).
#[derive(Debug, Args)]
pub struct GitCredential {
    /// `get` answers; `store` and `erase` are read and ignored.
    pub action: String,
}

impl Cli {
    /// The settings of the command given (the top-level ones for a bare `forgekeys`).
    pub fn settings(&self) -> &ServeArgs {
        match &self.command {
            None => &self.settings,
            Some(
                Command::Serve(a)
                | Command::Migrate(a)
                | Command::Keys(KeysCommand::Rotate(a))
                | Command::Backup(Backup { settings: a, .. }),
            ) => a,
            Some(Command::Org(OrgCommand::Add(a))) => &a.settings,
            Some(Command::User(UserCommand::Add(a))) => &a.settings,
            Some(Command::User(UserCommand::Unlock(a))) => &a.settings,
            Some(Command::User(UserCommand::Remove(a))) => &a.settings,
            Some(Command::User(UserCommand::ResetPassword(a))) => &a.settings,
            Some(Command::Tokens(TokensCommand::Check(a))) => &a.settings,
            // Needs no server settings: only FORGEKEYS_URL and FORGEKEYS_SERVICE_KEY.
            Some(Command::GitCredential(_)) => &self.settings,
        }
    }
}

/// `forgekeys backup DIR`.
#[derive(Debug, Args)]
pub struct Backup {
    /// Directory to write `forgekeys.db` and `forgekeys.key` into (created if missing; files
    /// already there are never overwritten).
    pub dir: std::path::PathBuf,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Add(OrgAdd),
}

#[derive(Debug, Args)]
pub struct OrgAdd {
    /// URL name: 2–40 of a–z, 0–9 and '-'.
    #[arg(long)]
    pub slug: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (or add an existing one) as a member of an organization. The password is
    /// read from standard input, or prompted for on a terminal.
    Add(UserAdd),
    /// Remove a member from an organization (never its last Owner). The account stays.
    Remove(UserRemove),
    /// Print a one-time link (valid 1 hour) where the person sets a new password; using it ends
    /// every session of the account. No password is ever given on the command line.
    ResetPassword(UserResetPassword),
    /// Lift the sign-in throttle of an e-mail address (whether an account has it or not) and/or
    /// of a client address, at once and for every server process on the database.
    Unlock(UserUnlock),
}

#[derive(Debug, Args)]
pub struct UserRemove {
    /// The member's e-mail address.
    pub email: String,
    /// Organization slug.
    #[arg(long)]
    pub org: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Args)]
pub struct UserUnlock {
    /// The e-mail address whose failed sign-ins are forgotten.
    #[arg(long, required_unless_present = "ip")]
    pub email: Option<String>,
    /// A client address whose failed sign-ins are forgotten (an IPv6 address stands for its /64).
    #[arg(long)]
    pub ip: Option<std::net::IpAddr>,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Args)]
pub struct UserResetPassword {
    /// The account's e-mail address.
    pub email: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Args)]
pub struct UserAdd {
    #[arg(long)]
    pub email: String,
    /// Organization slug.
    #[arg(long)]
    pub org: String,
    /// owner, admin, devops, viewer or billing.
    #[arg(long)]
    pub role: String,
    #[command(flatten)]
    pub settings: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new master key and re-encrypt every token under it; old keys are dropped once
    /// nothing uses them. Safe to interrupt and run again.
    Rotate(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Re-test every stored token, print a table, exit 1 if any is invalid, expired, missing
    /// permissions, failing, or expiring within --within days.
    Check(TokensCheck),
}

#[derive(Debug, Args)]
pub struct TokensCheck {
    /// Warn about tokens expiring within this many days (0 or more; 0 = only expired ones).
    #[arg(long, default_value_t = 14, allow_negative_numbers = true, value_parser = parse_days)]
    pub within: u32,
    /// Token tests run at once, over all provider hosts.
    #[arg(long, default_value_t = crate::commands::CHECK_CONCURRENCY)]
    pub concurrency: usize,
    /// Token tests run at once against one provider host (API origin). Lower it for a small
    /// self-hosted server.
    #[arg(long, default_value_t = crate::commands::CHECK_PER_HOST)]
    pub per_host: usize,
    #[command(flatten)]
    pub settings: ServeArgs,
}

/// `--within`: a whole number of days, 0 or more; a negative or odd value gets a sentence that
/// says what to type instead of clap's "unexpected argument".
fn parse_days(raw: &str) -> Result<u32, String> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n < 0 => Err(format!(
            "{n} is negative: give the number of days ahead to look, 0 or more (0 reports only tokens that have already expired)"
        )),
        Ok(n) => u32::try_from(n).map_err(|_| format!("{n} days is too far ahead")),
        Err(_) => Err(format!("{raw:?} is not a whole number of days (0 or more)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn within_takes_zero_and_up_and_explains_a_negative_value() {
        let ok = Cli::try_parse_from(["forgekeys", "tokens", "check", "--within", "0"]);
        assert!(ok.is_ok(), "{ok:?}");
        let err = Cli::try_parse_from(["forgekeys", "tokens", "check", "--within", "-1"])
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("-1 is negative") && err.contains("0 or more"),
            "{err}"
        );
        let err = Cli::try_parse_from(["forgekeys", "tokens", "check", "--within", "soon"])
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a whole number"), "{err}");
    }
}

//! Settings from the environment (a `.env` file is read first if present) and `serve` flags.

use crate::db::DatabaseUrl;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `serve` settings; every flag has an environment variable (DESIGN.md §1).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// sqlite://PATH, sqlite::memory: or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://forgekeys.db")]
    pub database_url: String,
    /// Listen address.
    #[arg(long, env = "FORGEKEYS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Master key file (default: forgekeys.key beside the database).
    #[arg(long, env = "FORGEKEYS_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    #[arg(
        long,
        env = "FORGEKEYS_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,
    #[arg(
        long,
        env = "FORGEKEYS_GITLAB_URL",
        default_value = "https://gitlab.com"
    )]
    pub gitlab_url: String,
    #[arg(
        long,
        env = "FORGEKEYS_BITBUCKET_API_URL",
        default_value = "https://api.bitbucket.org/2.0"
    )]
    pub bitbucket_api_url: String,
    /// Comma-separated CIDRs that user-supplied URLs may reach although blocked by default.
    #[arg(long, env = "FORGEKEYS_OUTBOUND_ALLOW", default_value = "")]
    pub outbound_allow: String,
    /// Extra comma-separated CIDRs that user-supplied URLs may never reach.
    #[arg(long, env = "FORGEKEYS_OUTBOUND_DENY", default_value = "")]
    pub outbound_deny: String,
    /// Total time budget of one token test, in milliseconds.
    #[arg(long, env = "FORGEKEYS_PROVIDER_TIMEOUT_MS", default_value_t = 10_000)]
    pub provider_timeout_ms: u64,
    /// `Secure` cookie flag: auto (on unless bound to loopback), true or false.
    #[arg(long, env = "FORGEKEYS_COOKIE_SECURE", default_value = "auto")]
    pub cookie_secure: String,
    /// Public base URL (used in the setup link and the Origin check); default http://BIND.
    #[arg(long, env = "FORGEKEYS_BASE_URL")]
    pub base_url: Option<String>,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseUrl,
    pub bind: SocketAddr,
    pub key_file: PathBuf,
    pub github_api_url: url::Url,
    pub gitlab_url: url::Url,
    pub bitbucket_api_url: url::Url,
    pub outbound_allow: Vec<ipnet::IpNet>,
    pub outbound_deny: Vec<ipnet::IpNet>,
    pub provider_timeout: Duration,
    pub cookie_secure: bool,
    pub base_url: String,
}

/// A setting that cannot be used, with the variable it came from.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {msg}")]
pub struct ConfigError {
    pub var: &'static str,
    pub msg: String,
}

fn err(var: &'static str, msg: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        msg: msg.into(),
    }
}

fn parse_url(var: &'static str, s: &str) -> Result<url::Url, ConfigError> {
    let u = url::Url::parse(s.trim()).map_err(|e| err(var, format!("not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(err(var, "must be an http(s) URL"));
    }
    Ok(u)
}

/// Parse a comma-separated CIDR list; a bare address is taken as a single-host network.
pub fn parse_cidrs(var: &'static str, s: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<ipnet::IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| err(var, format!("{p:?} is not a CIDR like 10.0.0.0/8")))
        })
        .collect()
}

impl Config {
    pub fn from_args(a: &ServeArgs) -> Result<Config, ConfigError> {
        let database = DatabaseUrl::parse(&a.database_url).map_err(|m| err("DATABASE_URL", m))?;
        let bind: SocketAddr = a.bind.parse().map_err(|_| {
            err(
                "FORGEKEYS_BIND",
                format!("{:?} is not an address like 127.0.0.1:8080", a.bind),
            )
        })?;
        let key_file = match &a.key_file {
            Some(p) => p.clone(),
            None => database
                .sqlite_dir()
                .map(|d| d.join("forgekeys.key"))
                .unwrap_or_else(|| PathBuf::from("forgekeys.key")),
        };
        let cookie_secure = match a.cookie_secure.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => !bind.ip().is_loopback(),
            "true" | "1" | "on" | "yes" => true,
            "false" | "0" | "off" | "no" => false,
            other => {
                return Err(err(
                    "FORGEKEYS_COOKIE_SECURE",
                    format!("{other:?}: use auto, true or false"),
                ));
            }
        };
        if a.provider_timeout_ms == 0 {
            return Err(err("FORGEKEYS_PROVIDER_TIMEOUT_MS", "must be above 0"));
        }
        let base_url = a
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        Ok(Config {
            database,
            bind,
            key_file,
            github_api_url: parse_url("FORGEKEYS_GITHUB_API_URL", &a.github_api_url)?,
            gitlab_url: parse_url("FORGEKEYS_GITLAB_URL", &a.gitlab_url)?,
            bitbucket_api_url: parse_url("FORGEKEYS_BITBUCKET_API_URL", &a.bitbucket_api_url)?,
            outbound_allow: parse_cidrs("FORGEKEYS_OUTBOUND_ALLOW", &a.outbound_allow)?,
            outbound_deny: parse_cidrs("FORGEKEYS_OUTBOUND_DENY", &a.outbound_deny)?,
            provider_timeout: Duration::from_millis(a.provider_timeout_ms),
            cookie_secure,
            base_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let v = parse_cidrs("X", "127.0.0.0/8, ::1,10.1.2.3").unwrap_or_default();
        assert_eq!(v.len(), 3);
        assert!(parse_cidrs("X", "nope").is_err());
    }
}

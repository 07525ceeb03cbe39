//! Settings from the environment (a `.env` file is read first if present) and `serve` flags.

use crate::db::DatabaseUrl;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

mod oidc;
pub use oidc::{OidcArgs, OidcConfig};

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
    /// github.com's Git base, for the clone check of GitHub cloud tokens.
    #[arg(
        long,
        env = "FORGEKEYS_GITHUB_GIT_URL",
        default_value = "https://github.com"
    )]
    pub github_git_url: String,
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
    /// bitbucket.org's Git base, for the clone check of Bitbucket tokens.
    #[arg(
        long,
        env = "FORGEKEYS_BITBUCKET_GIT_URL",
        default_value = "https://bitbucket.org"
    )]
    pub bitbucket_git_url: String,
    /// PEM file of extra CA certificates to trust (self-hosted providers, webhooks).
    #[arg(long, env = "FORGEKEYS_CA_BUNDLE")]
    pub ca_bundle: Option<PathBuf>,
    /// Comma-separated CIDRs that user-supplied URLs may reach although blocked by default
    /// (private, shared, unique-local, loopback… ranges), e.g. `10.20.0.0/16` for an internal
    /// GitLab; an IPv4 range also opens the IPv6 forms that embed it.
    #[arg(long, env = "FORGEKEYS_OUTBOUND_ALLOW", default_value = "")]
    pub outbound_allow: String,
    /// Extra comma-separated CIDRs that user-supplied URLs may never reach.
    #[arg(long, env = "FORGEKEYS_OUTBOUND_DENY", default_value = "")]
    pub outbound_deny: String,
    /// Total time budget of one token test, in milliseconds.
    #[arg(long, env = "FORGEKEYS_PROVIDER_TIMEOUT_MS", default_value_t = 10_000)]
    pub provider_timeout_ms: u64,
    /// Requests a minute each API key (organization or service key) may make, in bursts of as
    /// many; 0 = no limit. Counted per process.
    #[arg(long, env = "FORGEKEYS_API_RATE_LIMIT", default_value_t = 600)]
    pub api_rate_limit: u32,
    /// `Secure` cookie flag: auto (on unless bound to loopback), true or false.
    #[arg(long, env = "FORGEKEYS_COOKIE_SECURE", default_value = "auto")]
    pub cookie_secure: String,
    /// Public base URL (used in the setup link and the Origin check); default http://BIND.
    #[arg(long, env = "FORGEKEYS_BASE_URL")]
    pub base_url: Option<String>,
    /// Comma-separated CIDRs of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are
    /// believed (the client IP then reaches logs and audit).
    #[arg(long, env = "FORGEKEYS_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// How often the server re-tests every token (90s, 15m, 6h, 1d); 0 turns the scheduler off.
    #[arg(long, env = "FORGEKEYS_RECHECK_INTERVAL", default_value = "6h")]
    pub recheck_interval: String,
    /// Days before expiry at which the webhook is notified (comma-separated).
    #[arg(long, env = "FORGEKEYS_EXPIRY_WARN_DAYS", default_value = "30,14,7,1")]
    pub expiry_warn_days: String,
    /// Listen address of the Prometheus `/metrics` endpoint (empty: off). Keep it off the
    /// public network: the endpoint has no sign-in.
    #[arg(long, env = "FORGEKEYS_METRICS_BIND", default_value = "")]
    pub metrics_bind: String,
    /// Log lines as `text` or `json` (one object a line).
    #[arg(long, env = "FORGEKEYS_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// OpenID Connect single sign-on (`FORGEKEYS_OIDC_*`).
    #[command(flatten)]
    pub oidc: OidcArgs,
}

/// `FORGEKEYS_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

impl LogFormat {
    pub fn parse(s: &str) -> Result<LogFormat, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(err(
                "FORGEKEYS_LOG_FORMAT",
                format!("{other:?}: use text or json"),
            )),
        }
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseUrl,
    pub bind: SocketAddr,
    pub key_file: PathBuf,
    pub github_api_url: url::Url,
    pub github_git_url: url::Url,
    pub gitlab_url: url::Url,
    pub bitbucket_api_url: url::Url,
    pub bitbucket_git_url: url::Url,
    /// `FORGEKEYS_CA_BUNDLE`, checked to be a readable file at start.
    pub ca_bundle: Option<PathBuf>,
    pub outbound_allow: Vec<ipnet::IpNet>,
    pub outbound_deny: Vec<ipnet::IpNet>,
    /// Fixed answers for host names, consulted before DNS and checked like DNS answers
    /// (`ProviderConfig::hosts`). No setting fills it (tests do).
    pub outbound_hosts: Vec<(String, std::net::IpAddr)>,
    pub provider_timeout: Duration,
    pub cookie_secure: bool,
    pub base_url: String,
    /// Whether `FORGEKEYS_BASE_URL` was set (else [`default_base_url`]).
    pub base_url_set: bool,
    /// `FORGEKEYS_TRUSTED_PROXIES`: peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Scheduler period; `None` = off (`FORGEKEYS_RECHECK_INTERVAL=0`).
    pub recheck_interval: Option<Duration>,
    /// Notification thresholds in days, largest first (`FORGEKEYS_EXPIRY_WARN_DAYS`).
    pub expiry_warn_days: Vec<i64>,
    /// `FORGEKEYS_METRICS_BIND`: where `/metrics` is served; `None` = off.
    pub metrics_bind: Option<SocketAddr>,
    pub log_format: LogFormat,
    /// `FORGEKEYS_OIDC_*`; `None`: single sign-on is off.
    pub oidc: Option<OidcConfig>,
    /// `FORGEKEYS_API_RATE_LIMIT`: requests a minute per API or service key (0 = off).
    pub api_rate_limit: u32,
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

/// Parse a duration like `90s`, `15m`, `6h` or `1d` (a bare number is seconds); `0` is `None`
/// (off).
pub fn parse_interval(var: &'static str, s: &str) -> Result<Option<Duration>, ConfigError> {
    let t = s.trim().to_ascii_lowercase();
    let bad = || {
        err(
            var,
            format!("{s:?} is not a duration like 90s, 15m, 6h or 1d (0 turns it off)"),
        )
    };
    if t.is_empty() {
        return Err(bad());
    }
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t.as_str(), "s"),
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    if secs == 0 {
        return Ok(None);
    }
    if secs > 366 * 86_400 {
        return Err(err(var, "must be at most 366d"));
    }
    Ok(Some(Duration::from_secs(secs)))
}

/// Parse notification thresholds like `30,14,7,1` (days, 1–365); largest first, no repeats.
pub fn parse_warn_days(var: &'static str, s: &str) -> Result<Vec<i64>, ConfigError> {
    let mut days = Vec::new();
    for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let d: i64 = p
            .parse()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| err(var, format!("{p:?} is not a number of days from 1 to 365")))?;
        days.push(d);
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    Ok(days)
}

/// The base URL without `FORGEKEYS_BASE_URL`: `http://BIND`, except that a wildcard bind
/// (`0.0.0.0`, `::`) is not an address anyone can open — links then name loopback on the same
/// port (usable from the server itself, e.g. through an SSH tunnel) and the server warns at
/// start that the base URL should be set.
pub fn default_base_url(bind: SocketAddr) -> String {
    match bind.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => format!("http://127.0.0.1:{}", bind.port()),
        ip if ip.is_unspecified() => format!("http://[::1]:{}", bind.port()),
        _ => format!("http://{bind}"),
    }
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
        let base_url_arg = a
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let cookie_secure = match a.cookie_secure.trim().to_ascii_lowercase().as_str() {
            // An https base URL (a TLS reverse proxy in front) ⇒ Secure; an http one ⇒ not;
            // without one, Secure unless bound to loopback.
            "auto" | "" => match base_url_arg {
                Some(u) => u.to_ascii_lowercase().starts_with("https://"),
                None => !bind.ip().is_loopback(),
            },
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
        let ca_bundle = match &a.ca_bundle {
            Some(p) if p.as_os_str().is_empty() => None,
            Some(p) if !p.is_file() => {
                return Err(err(
                    "FORGEKEYS_CA_BUNDLE",
                    format!("{} is not a readable file of PEM certificates", p.display()),
                ));
            }
            other => other.clone(),
        };
        let base_url = match base_url_arg {
            Some(u) => parse_url("FORGEKEYS_BASE_URL", u)?
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            None => default_base_url(bind),
        };
        let metrics_bind = match a.metrics_bind.trim() {
            "" => None,
            m => {
                let addr: SocketAddr = m.parse().map_err(|_| {
                    err(
                        "FORGEKEYS_METRICS_BIND",
                        format!("{m:?} is not an address like 127.0.0.1:9464"),
                    )
                })?;
                if addr == bind && addr.port() != 0 {
                    return Err(err(
                        "FORGEKEYS_METRICS_BIND",
                        "must differ from FORGEKEYS_BIND (the metrics stay off the public port)",
                    ));
                }
                Some(addr)
            }
        };
        Ok(Config {
            database,
            bind,
            key_file,
            github_api_url: parse_url("FORGEKEYS_GITHUB_API_URL", &a.github_api_url)?,
            github_git_url: parse_url("FORGEKEYS_GITHUB_GIT_URL", &a.github_git_url)?,
            gitlab_url: parse_url("FORGEKEYS_GITLAB_URL", &a.gitlab_url)?,
            bitbucket_api_url: parse_url("FORGEKEYS_BITBUCKET_API_URL", &a.bitbucket_api_url)?,
            bitbucket_git_url: parse_url("FORGEKEYS_BITBUCKET_GIT_URL", &a.bitbucket_git_url)?,
            ca_bundle,
            outbound_allow: parse_cidrs("FORGEKEYS_OUTBOUND_ALLOW", &a.outbound_allow)?,
            outbound_deny: parse_cidrs("FORGEKEYS_OUTBOUND_DENY", &a.outbound_deny)?,
            outbound_hosts: Vec::new(),
            provider_timeout: Duration::from_millis(a.provider_timeout_ms),
            cookie_secure,
            base_url,
            base_url_set: base_url_arg.is_some(),
            trusted_proxies: parse_cidrs("FORGEKEYS_TRUSTED_PROXIES", &a.trusted_proxies)?,
            recheck_interval: parse_interval("FORGEKEYS_RECHECK_INTERVAL", &a.recheck_interval)?,
            expiry_warn_days: parse_warn_days("FORGEKEYS_EXPIRY_WARN_DAYS", &a.expiry_warn_days)?,
            metrics_bind,
            log_format: LogFormat::parse(&a.log_format)?,
            oidc: OidcConfig::from_args(&a.oidc)?,
            api_rate_limit: a.api_rate_limit,
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

    #[test]
    fn intervals() {
        let secs = |s: &str| parse_interval("X", s).ok().flatten().map(|d| d.as_secs());
        assert_eq!(secs("90s"), Some(90));
        assert_eq!(secs("15m"), Some(900));
        assert_eq!(secs("6h"), Some(21_600));
        assert_eq!(secs("1d"), Some(86_400));
        assert_eq!(secs("45"), Some(45));
        assert!(matches!(parse_interval("X", "0"), Ok(None)));
        assert!(matches!(parse_interval("X", "0h"), Ok(None)));
        for bad in ["", "h", "6 hours", "-1h", "1w", "999d"] {
            assert!(parse_interval("X", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn warn_days() {
        assert_eq!(
            parse_warn_days("X", "1, 7,30,14,7").unwrap_or_default(),
            vec![30, 14, 7, 1]
        );
        assert_eq!(
            parse_warn_days("X", "").unwrap_or_default(),
            Vec::<i64>::new()
        );
        assert!(parse_warn_days("X", "0").is_err());
        assert!(parse_warn_days("X", "soon").is_err());
    }
}

//! Outbound request safety (DESIGN.md §5): which addresses a request may reach.
//!
//! Two levels of trust:
//! - [`Trust::Operator`]: base URLs from the configuration (cloud APIs). `http` and loopback are
//!   allowed (tests point them at local fakes); only `FORGEKEYS_OUTBOUND_DENY` applies.
//! - [`Trust::User`]: URLs typed by users (self-hosted servers). Loopback, link-local,
//!   unspecified, multicast and broadcast addresses (IPv4, IPv6 and IPv4-mapped IPv6) are blocked
//!   unless inside `FORGEKEYS_OUTBOUND_ALLOW`; plain `http` may only reach allowed addresses.
//!
//! The check runs on the addresses DNS returns, inside the resolver reqwest connects with
//! ([`GuardedResolver`]), so the connection only ever goes to a checked address. reqwest does not
//! call the resolver for IP-literal hosts: [`OutboundPolicy::check_url`] covers those (and the
//! name `localhost`) before a request is sent.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use url::{Host, Url};

/// How much a destination URL is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Configured by the operator (cloud API base URLs).
    Operator,
    /// Typed by a user (self-hosted server URL).
    User,
}

/// A destination refused by the outbound policy. Its `Display` is user-facing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blocked {
    message: String,
}

impl Blocked {
    fn new(message: String) -> Blocked {
        Blocked { message }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Blocked {}

/// The allow and deny lists from the configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutboundPolicy {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

impl OutboundPolicy {
    pub(crate) fn new(allow: Vec<IpNet>, deny: Vec<IpNet>) -> OutboundPolicy {
        OutboundPolicy { allow, deny }
    }

    fn in_list(list: &[IpNet], ip: IpAddr) -> bool {
        let embedded = embedded_v4(ip).map(IpAddr::V4);
        list.iter()
            .any(|net| net.contains(&ip) || embedded.is_some_and(|v4| net.contains(&v4)))
    }

    /// Whether `ip` may be reached. `plain_http` is true for `http://` URLs.
    pub(crate) fn check_ip(
        &self,
        ip: IpAddr,
        trust: Trust,
        plain_http: bool,
    ) -> Result<(), Blocked> {
        self.check_named(ip, &ip.to_string(), trust, plain_http)
    }

    /// [`Self::check_ip`], calling the destination `shown` in messages.
    fn check_named(
        &self,
        ip: IpAddr,
        shown: &str,
        trust: Trust,
        plain_http: bool,
    ) -> Result<(), Blocked> {
        if Self::in_list(&self.deny, ip) {
            return Err(Blocked::new(format!(
                "blocked: {shown} is in FORGEKEYS_OUTBOUND_DENY"
            )));
        }
        if trust == Trust::Operator {
            return Ok(());
        }
        if Self::in_list(&self.allow, ip) {
            return Ok(());
        }
        if let Some(kind) = classify(ip) {
            return Err(Blocked::new(format!(
                "blocked: {shown} is {kind} (set FORGEKEYS_OUTBOUND_ALLOW to permit)"
            )));
        }
        if plain_http {
            return Err(Blocked::new(format!(
                "blocked: plain http to {shown} is not allowed; use https (or add the address to \
                 FORGEKEYS_OUTBOUND_ALLOW)"
            )));
        }
        Ok(())
    }

    /// Checks what can be checked before DNS: the scheme, IP-literal hosts and `localhost`.
    pub(crate) fn check_url(&self, url: &Url, trust: Trust) -> Result<(), Blocked> {
        let plain_http = match url.scheme() {
            "https" => false,
            "http" => true,
            other => {
                return Err(Blocked::new(format!(
                    "blocked: the scheme {other}: is not supported (use https)"
                )));
            }
        };
        match url.host() {
            Some(Host::Ipv4(v4)) => self.check_ip(IpAddr::V4(v4), trust, plain_http),
            Some(Host::Ipv6(v6)) => self.check_ip(IpAddr::V6(v6), trust, plain_http),
            Some(Host::Domain(name)) => {
                if trust == Trust::User && is_localhost_name(name) {
                    // The resolver would block it too; say it before any DNS lookup.
                    self.check_named(IpAddr::V4(Ipv4Addr::LOCALHOST), name, trust, plain_http)
                } else {
                    Ok(())
                }
            }
            None => Err(Blocked::new("blocked: the URL has no host".to_owned())),
        }
    }
}

/// `localhost`, `localhost.` and any `*.localhost` name (RFC 6761).
pub(crate) fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// The IPv4 address carried inside an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible
/// (`::a.b.c.d`, deprecated) IPv6 address.
fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4);
            }
            let seg = v6.segments();
            let compatible = seg[..6].iter().all(|s| *s == 0);
            if compatible && !v6.is_loopback() && !v6.is_unspecified() {
                v6.to_ipv4()
            } else {
                None
            }
        }
    }
}

/// Why an address is blocked by default for user-supplied URLs, or `None`.
pub(crate) fn classify(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6).or_else(|| embedded_v4(ip).and_then(classify_v4)),
    }
}

fn classify_v4(v4: Ipv4Addr) -> Option<&'static str> {
    if v4.is_loopback() {
        Some("a loopback address")
    } else if v4.is_link_local() {
        Some("a link-local address")
    } else if v4.octets()[0] == 0 {
        // 0.0.0.0/8 ("this network"); connecting to 0.0.0.0 reaches the local host.
        Some("an unspecified address")
    } else if v4.is_multicast() {
        Some("a multicast address")
    } else if v4.is_broadcast() {
        Some("a broadcast address")
    } else {
        None
    }
}

fn classify_v6(v6: Ipv6Addr) -> Option<&'static str> {
    let first = v6.segments()[0];
    if v6.is_loopback() {
        Some("a loopback address")
    } else if v6.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if v6.is_multicast() {
        Some("a multicast address")
    } else {
        None
    }
}

/// DNS resolver that only hands out addresses the policy accepts.
pub(crate) struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
    trust: Trust,
    plain_http: bool,
}

impl GuardedResolver {
    pub(crate) fn new(policy: Arc<OutboundPolicy>, trust: Trust, plain_http: bool) -> Self {
        GuardedResolver {
            policy,
            trust,
            plain_http,
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let policy = Arc::clone(&self.policy);
        let (trust, plain_http) = (self.trust, self.plain_http);
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut first_block: Option<Blocked> = None;
            let mut checked = Vec::new();
            for addr in found {
                let shown = format!("{host} ({})", addr.ip());
                match policy.check_named(addr.ip(), &shown, trust, plain_http) {
                    Ok(()) => checked.push(addr),
                    Err(blocked) => {
                        first_block.get_or_insert(blocked);
                    }
                }
            }
            if checked.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = match first_block {
                    Some(blocked) => Box::new(blocked),
                    None => format!("{host} has no address").into(),
                };
                return Err(err);
            }
            let addrs: Addrs = Box::new(checked.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classifies_blocked_addresses() {
        for (addr, kind) in [
            ("127.0.0.1", "a loopback address"),
            ("127.9.9.9", "a loopback address"),
            ("::1", "a loopback address"),
            ("::ffff:127.0.0.1", "a loopback address"),
            ("169.254.169.254", "a link-local address"),
            ("::ffff:169.254.169.254", "a link-local address"),
            ("fe80::1", "a link-local address"),
            ("febf::1", "a link-local address"),
            ("0.0.0.0", "an unspecified address"),
            ("::", "an unspecified address"),
            ("::ffff:0.0.0.0", "an unspecified address"),
            ("224.0.0.1", "a multicast address"),
            ("ff02::1", "a multicast address"),
            ("255.255.255.255", "a broadcast address"),
            ("::127.0.0.1", "a loopback address"),
        ] {
            assert_eq!(classify(ip(addr)), Some(kind), "{addr}");
        }
        for addr in [
            "10.0.0.1",
            "192.168.1.1",
            "8.8.8.8",
            "2001:db8::1",
            "fd00::1",
            "::ffff:10.1.2.3",
        ] {
            assert_eq!(classify(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn allow_and_deny_lists() {
        let policy = OutboundPolicy::new(
            vec!["127.0.0.0/8".parse().unwrap()],
            vec!["10.0.0.0/8".parse().unwrap()],
        );
        assert!(policy.check_ip(ip("127.0.0.1"), Trust::User, true).is_ok());
        assert!(
            policy
                .check_ip(ip("::ffff:127.0.0.1"), Trust::User, false)
                .is_ok()
        );
        assert!(policy.check_ip(ip("::1"), Trust::User, false).is_err());
        let denied = policy
            .check_ip(ip("10.1.1.1"), Trust::Operator, false)
            .unwrap_err();
        assert!(denied.to_string().contains("FORGEKEYS_OUTBOUND_DENY"));
        assert!(
            policy
                .check_ip(ip("::ffff:10.1.1.1"), Trust::User, false)
                .is_err()
        );
        // Operator trust: loopback and http fine.
        let open = OutboundPolicy::default();
        assert!(
            open.check_ip(ip("127.0.0.1"), Trust::Operator, true)
                .is_ok()
        );
        // User trust, public address: https fine, http refused.
        assert!(
            open.check_ip(ip("93.184.216.34"), Trust::User, false)
                .is_ok()
        );
        let http = open
            .check_ip(ip("93.184.216.34"), Trust::User, true)
            .unwrap_err();
        assert!(http.to_string().contains("plain http"));
        let lo = open
            .check_ip(ip("127.0.0.1"), Trust::User, false)
            .unwrap_err();
        assert_eq!(
            lo.to_string(),
            "blocked: 127.0.0.1 is a loopback address (set FORGEKEYS_OUTBOUND_ALLOW to permit)"
        );
    }

    #[test]
    fn checks_literal_hosts_and_localhost() {
        let open = OutboundPolicy::default();
        for u in [
            "https://127.0.0.1:8443",
            "https://[::1]:8443",
            "https://[::ffff:127.0.0.1]:1",
            "https://localhost:1",
            "https://LOCALHOST.:1",
            "https://api.localhost",
            "https://169.254.169.254",
            "https://0.0.0.0:1",
            "https://0x7f.1/",
            "https://2130706433/",
            "ftp://example.com",
        ] {
            let url = Url::parse(u).unwrap();
            assert!(open.check_url(&url, Trust::User).is_err(), "{u}");
        }
        let ok = Url::parse("https://gitlab.example.com").unwrap();
        assert!(open.check_url(&ok, Trust::User).is_ok());
        let lo = Url::parse("http://127.0.0.1:9").unwrap();
        assert!(open.check_url(&lo, Trust::Operator).is_ok());
    }

    #[tokio::test]
    async fn resolver_filters_blocked_addresses() {
        let open = Arc::new(OutboundPolicy::default());
        let resolver = GuardedResolver::new(Arc::clone(&open), Trust::User, false);
        let err = match resolver.resolve(Name::from_str("localhost").unwrap()).await {
            Ok(_) => panic!("localhost must be blocked"),
            Err(e) => e,
        };
        let blocked = err.downcast_ref::<Blocked>().expect("a Blocked error");
        assert!(blocked.to_string().contains("loopback"), "{blocked}");

        let allowed = Arc::new(OutboundPolicy::new(
            vec!["127.0.0.0/8".parse().unwrap()],
            vec![],
        ));
        let resolver = GuardedResolver::new(allowed, Trust::User, true);
        let addrs: Vec<SocketAddr> =
            match resolver.resolve(Name::from_str("localhost").unwrap()).await {
                Ok(a) => a.collect(),
                Err(e) => panic!("{e}"),
            };
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip() == ip("127.0.0.1")), "{addrs:?}");

        let operator = GuardedResolver::new(open, Trust::Operator, true);
        assert!(
            operator
                .resolve(Name::from_str("localhost").unwrap())
                .await
                .is_ok()
        );
    }
}

//! Outbound request safety (DESIGN.md §5): which addresses a request may reach.
//!
//! Two levels of trust:
//! - [`Trust::Operator`]: base URLs from the configuration (cloud APIs). `http` and every
//!   address are allowed (tests point them at local fakes); only `FORGEKEYS_OUTBOUND_DENY`
//!   applies.
//! - [`Trust::User`]: URLs typed by users (self-hosted GitLab and GitHub Enterprise Server, the
//!   clone check and the rotation against them, webhook URLs). The ranges below are blocked
//!   unless inside `FORGEKEYS_OUTBOUND_ALLOW`; plain `http` may only reach allowed addresses.
//!
//! Blocked by default for user-supplied URLs:
//!
//! | range | what |
//! |---|---|
//! | `0.0.0.0/8`, `::/128` | unspecified ("this network"; `0.0.0.0` reaches the local host) |
//! | `127.0.0.0/8`, `::1/128` | loopback |
//! | `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` | private networks (RFC 1918) |
//! | `100.64.0.0/10` | shared address space, carrier-grade NAT (RFC 6598) |
//! | `169.254.0.0/16`, `fe80::/10` | link-local (cloud metadata `169.254.169.254`) |
//! | `fc00::/7` | unique local (cloud metadata over IPv6 `fd00:ec2::254`) |
//! | `fec0::/10` | site-local (deprecated, still routed in some networks) |
//! | `192.0.0.0/24` | IETF protocol assignments |
//! | `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32` | documentation |
//! | `198.18.0.0/15`, `2001:2::/48` | benchmarking |
//! | `224.0.0.0/4`, `ff00::/8` | multicast |
//! | `240.0.0.0/4`, `255.255.255.255/32` | reserved, broadcast |
//! | IPv6 outside `2000::/3` | not global unicast (nothing there is routed on the Internet) |
//! | `64:ff9b:1::/48` not in the `/96` layout | local-use NAT64 whose IPv4 address cannot be told |
//!
//! IPv6 forms that carry an IPv4 address are judged by the IPv4 address they carry, as if it had
//! been typed: IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96`, IPv4-translated
//! `::ffff:0:0:0/96` (`::ffff:0:7f00:1` is 127.0.0.1), NAT64 `64:ff9b::/96` and
//! `64:ff9b:1::/48` (last 32 bits), 6to4 `2002::/16` (bits 16–47) and Teredo `2001::/32` (the
//! client address: the last 32 bits inverted).
//!
//! The allow and deny lists, decided so that one IPv4 range behaves the same in every form:
//! - `FORGEKEYS_OUTBOUND_DENY` always wins: it matches the address as written and the IPv4
//!   address it carries, for both trust levels.
//! - `FORGEKEYS_OUTBOUND_ALLOW` is matched against the address that is judged: the carried IPv4
//!   address for the forms above, else the address itself. `10.20.0.0/16` thus opens
//!   `10.20.0.5`, `::ffff:10.20.0.5` and the NAT64 `64:ff9b::a14:5` alike, and an IPv6 entry
//!   covering a translation prefix (`64:ff9b::/96`, `::/0`) does not open the IPv4 addresses
//!   behind it: name those.
//!
//! The check runs on the addresses DNS returns, inside the resolver reqwest connects with
//! ([`GuardedResolver`]), so the connection only ever goes to a checked address. reqwest does not
//! call the resolver for IP-literal hosts: [`OutboundPolicy::check_url`] covers those (and the
//! name `localhost`) before a request is sent. Refusals and failures are typed ([`Blocked`],
//! [`Failure`]) and worded in [`words`].

mod failure;
mod ranges;
mod resolver;
mod words;

pub(crate) use failure::Failure;
pub(crate) use resolver::{GuardedResolver, StaticHosts, lookup};

use ipnet::IpNet;
use ranges::{Class, Embedding};
use std::net::{IpAddr, Ipv4Addr};
use url::{Host, Url};

/// How much a destination URL is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trust {
    /// Configured by the operator (cloud API base URLs).
    Operator,
    /// Typed by a user (self-hosted server URL, webhook URL).
    User,
}

/// Why a destination is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// In `FORGEKEYS_OUTBOUND_DENY`.
    Denied,
    /// In a range blocked by default, and not in `FORGEKEYS_OUTBOUND_ALLOW`. `via`: the IPv6
    /// form and the IPv4 address it carries, which `class` is about.
    ByDefault {
        class: Class,
        via: Option<(Embedding, Ipv4Addr)>,
        ip: IpAddr,
    },
    /// Plain `http` to an address outside `FORGEKEYS_OUTBOUND_ALLOW`.
    PlainHttp,
    /// Not `http` or `https`.
    Scheme(String),
    NoHost,
}

/// A destination refused by the outbound policy: the destination as shown (`10.1.2.3`,
/// `gitlab.corp (10.1.2.3)`) and why. `Display` is user-facing ([`words::blocked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blocked {
    pub shown: String,
    pub reason: Refusal,
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&words::blocked(self))
    }
}

impl std::error::Error for Blocked {}

/// The allow and deny lists from the configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutboundPolicy {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
}

fn in_list(list: &[IpNet], ip: IpAddr) -> bool {
    list.iter().any(|net| net.contains(&ip))
}

impl OutboundPolicy {
    pub(crate) fn new(allow: Vec<IpNet>, deny: Vec<IpNet>) -> OutboundPolicy {
        OutboundPolicy { allow, deny }
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
    pub(crate) fn check_named(
        &self,
        ip: IpAddr,
        shown: &str,
        trust: Trust,
        plain_http: bool,
    ) -> Result<(), Blocked> {
        let refuse = |reason| {
            Err(Blocked {
                shown: shown.to_owned(),
                reason,
            })
        };
        let via = ranges::embedded(ip);
        let judged = via.map_or(ip, |(_, v4)| IpAddr::V4(v4));
        if in_list(&self.deny, ip) || in_list(&self.deny, judged) {
            return refuse(Refusal::Denied);
        }
        if trust == Trust::Operator || in_list(&self.allow, judged) {
            return Ok(());
        }
        if let Some(class) = ranges::class_of(judged) {
            return refuse(Refusal::ByDefault { class, via, ip });
        }
        if plain_http {
            return refuse(Refusal::PlainHttp);
        }
        Ok(())
    }

    /// Checks what can be checked before DNS: the scheme, IP-literal hosts and `localhost`.
    pub(crate) fn check_url(&self, url: &Url, trust: Trust) -> Result<(), Blocked> {
        let shown = url.host_str().unwrap_or_default();
        let refuse = |reason| {
            Err(Blocked {
                shown: shown.to_owned(),
                reason,
            })
        };
        let plain_http = match url.scheme() {
            "https" => false,
            "http" => true,
            other => return refuse(Refusal::Scheme(other.to_owned())),
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
            None => refuse(Refusal::NoHost),
        }
    }
}

/// `localhost`, `localhost.` and any `*.localhost` name (RFC 6761).
pub(crate) fn is_localhost_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::ranges::Kind;
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    /// The kind of range `addr` is refused for by default (https, user trust), if any.
    fn kind(addr: &str) -> Option<Kind> {
        match OutboundPolicy::default().check_ip(ip(addr), Trust::User, false) {
            Ok(()) => None,
            Err(Blocked {
                reason: Refusal::ByDefault { class, .. },
                ..
            }) => Some(class.kind),
            Err(other) => panic!("{addr}: {other}"),
        }
    }

    #[test]
    fn classifies_blocked_addresses() {
        use Kind::*;
        for (addr, want) in [
            ("127.0.0.1", Loopback),
            ("127.9.9.9", Loopback),
            ("::1", Loopback),
            ("169.254.169.254", LinkLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("0.0.0.0", ThisNetwork),
            ("0.1.2.3", ThisNetwork),
            ("::", Unspecified),
            ("224.0.0.1", Multicast),
            ("ff02::1", Multicast),
            ("255.255.255.255", Broadcast),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", Shared),
            ("100.127.255.255", Shared),
            ("192.0.0.170", ProtocolAssignments),
            ("192.0.2.1", Documentation),
            ("198.51.100.1", Documentation),
            ("203.0.113.9", Documentation),
            ("2001:db8::1", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("2001:2::1", Benchmarking),
            ("240.0.0.1", Reserved),
            ("fc00::1", UniqueLocal),
            ("fd00:ec2::254", UniqueLocal),
            ("fec0::1", SiteLocal),
            ("64:ff9b:1:1::1", LocalNat64),
            ("64:ff9b:0:1::1", NotGlobal),
            ("100::1", NotGlobal),
            ("4000::1", NotGlobal),
        ] {
            assert_eq!(kind(addr), Some(want), "{addr}");
        }
        for addr in [
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "11.0.0.1",
            "2606:4700::1111",
            "2a00:1450:4001:80b::200e",
        ] {
            assert_eq!(kind(addr), None, "{addr}");
        }
    }

    #[test]
    fn embedded_addresses_are_judged_by_what_they_carry() {
        use Kind::*;
        for (addr, want) in [
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:0.0.0.0", Some(ThisNetwork)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("::127.0.0.1", Some(Loopback)),
            ("::10.1.2.3", Some(Private)),
            ("::ffff:0:7f00:1", Some(Loopback)),
            ("::ffff:0:a01:203", Some(Private)),
            ("64:ff9b::7f00:1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("64:ff9b::c0a8:101", Some(Private)),
            ("64:ff9b:1::7f00:1", Some(Loopback)),
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:a01:203::1", Some(Private)),
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", Some(Loopback)),
            // Public IPv4 addresses inside: reachable like the IPv4 address itself.
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::808:808", None),
            ("2002:808:808::1", None),
            ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", None),
        ] {
            assert_eq!(kind(addr), want, "{addr}");
        }
        let b = OutboundPolicy::default()
            .check_ip(ip("64:ff9b::7f00:1"), Trust::User, false)
            .unwrap_err();
        assert_eq!(
            b.to_string(),
            "blocked: 64:ff9b::7f00:1 is a NAT64 address (64:ff9b::/96) for 127.0.0.1, a \
             loopback address (127.0.0.0/8); to allow it, an operator adds 127.0.0.1/32 (or its \
             network) to FORGEKEYS_OUTBOUND_ALLOW"
        );
    }

    #[test]
    fn refusals_name_the_class_and_the_setting() {
        let open = OutboundPolicy::default();
        let said = |addr: &str| {
            open.check_ip(ip(addr), Trust::User, false)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            said("10.1.2.3"),
            "blocked: 10.1.2.3 is a private network address (10.0.0.0/8); to allow it, an \
             operator adds 10.1.2.3/32 (or its network) to FORGEKEYS_OUTBOUND_ALLOW"
        );
        assert_eq!(
            said("fd00:ec2::254"),
            "blocked: fd00:ec2::254 is a unique local address (fc00::/7); to allow it, an \
             operator adds fd00:ec2::254/128 (or its network) to FORGEKEYS_OUTBOUND_ALLOW"
        );
        assert!(said("4000::1").contains("(outside 2000::/3)"));
        assert!(said("0.0.0.0").contains("unspecified"));
    }

    #[test]
    fn allow_and_deny_lists() {
        let policy = OutboundPolicy::new(nets(&["127.0.0.0/8"]), nets(&["10.0.0.0/8"]));
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
        assert_eq!(denied.reason, Refusal::Denied);
        // Deny matches the carried IPv4 address too, for both trust levels.
        for addr in ["::ffff:10.1.1.1", "64:ff9b::a01:101", "2002:a01:101::"] {
            for trust in [Trust::User, Trust::Operator] {
                let b = policy.check_ip(ip(addr), trust, false).unwrap_err();
                assert_eq!(b.reason, Refusal::Denied, "{addr}");
            }
        }
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
        assert_eq!(
            open.check_ip(ip("127.0.0.1"), Trust::User, false)
                .unwrap_err()
                .to_string(),
            "blocked: 127.0.0.1 is a loopback address (127.0.0.0/8); to allow it, an operator \
             adds 127.0.0.1/32 (or its network) to FORGEKEYS_OUTBOUND_ALLOW"
        );
    }

    #[test]
    fn an_allowed_range_is_open_in_every_form_that_carries_it() {
        let policy = OutboundPolicy::new(nets(&["10.20.0.0/16"]), vec![]);
        for addr in [
            "10.20.0.5",
            "::ffff:10.20.0.5",
            "::10.20.0.5",
            "::ffff:0:a14:5",
            "64:ff9b::a14:5",
            "64:ff9b:1::a14:5",
            "2002:a14:5::1",
        ] {
            assert!(
                policy.check_ip(ip(addr), Trust::User, true).is_ok(),
                "{addr}"
            );
        }
        assert!(
            policy
                .check_ip(ip("10.21.0.5"), Trust::User, false)
                .is_err()
        );
        // An IPv6 entry over a translation prefix does not open the IPv4 addresses behind it.
        let wide = OutboundPolicy::new(nets(&["::/0", "64:ff9b::/96"]), vec![]);
        assert!(
            wide.check_ip(ip("64:ff9b::7f00:1"), Trust::User, false)
                .is_err()
        );
        assert!(wide.check_ip(ip("fd00::1"), Trust::User, false).is_ok());
        // Deny wins over allow, in every form.
        let both = OutboundPolicy::new(nets(&["10.20.0.0/16"]), nets(&["10.20.0.5/32"]));
        for addr in ["10.20.0.5", "64:ff9b::a14:5", "::ffff:10.20.0.5"] {
            let b = both.check_ip(ip(addr), Trust::User, false).unwrap_err();
            assert_eq!(b.reason, Refusal::Denied, "{addr}");
        }
    }

    #[test]
    fn checks_literal_hosts_and_localhost() {
        let open = OutboundPolicy::default();
        for u in [
            "https://127.0.0.1:8443",
            "https://[::1]:8443",
            "https://[::ffff:127.0.0.1]:1",
            "https://[64:ff9b::7f00:1]",
            "https://[2002:7f00:1::]",
            "https://[::ffff:0:7f00:1]",
            "https://[fd00:ec2::254]",
            "https://10.1.2.3",
            "https://localhost:1",
            "https://LOCALHOST.:1",
            "https://api.localhost",
            "https://169.254.169.254",
            "https://0.0.0.0:1",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://0xa010203/",
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
}

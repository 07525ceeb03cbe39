//! Name resolution for outbound requests: the addresses a name stands for (a fixed table, then
//! the system resolver), and the resolver reqwest connects with, which hands out only the
//! addresses the policy accepts (so the connection goes to a checked address: no DNS-rebinding
//! gap between check and connect).

use super::{Blocked, OutboundPolicy, Trust};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Fixed answers for host names, consulted before DNS (`ProviderConfig::hosts`).
#[derive(Debug, Clone, Default)]
pub(crate) struct StaticHosts(Vec<(String, IpAddr)>);

fn normalized(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl StaticHosts {
    pub(crate) fn new(entries: &[(String, IpAddr)]) -> StaticHosts {
        StaticHosts(
            entries
                .iter()
                .map(|(name, ip)| (normalized(name), *ip))
                .collect(),
        )
    }

    /// The fixed addresses of `host`, if it has any.
    fn get(&self, host: &str) -> Option<Vec<IpAddr>> {
        let host = normalized(host);
        let found: Vec<IpAddr> = self
            .0
            .iter()
            .filter(|(name, _)| *name == host)
            .map(|(_, ip)| *ip)
            .collect();
        (!found.is_empty()).then_some(found)
    }
}

/// A host name that gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unresolved {
    pub host: String,
    /// DNS did not answer (try again later), rather than "no such name".
    pub temporary: bool,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&super::words::unresolved(self))
    }
}

impl std::error::Error for Unresolved {}

/// The addresses `host` stands for: the fixed table first; a name under `.invalid` never
/// resolves and is not looked up (RFC 6761 §6.4); then the system resolver.
pub(crate) async fn lookup(hosts: &StaticHosts, host: &str) -> Result<Vec<IpAddr>, Unresolved> {
    if let Some(fixed) = hosts.get(host) {
        return Ok(fixed);
    }
    let name = normalized(host);
    let unresolved = |temporary| Unresolved {
        host: host.to_owned(),
        temporary,
    };
    if name == "invalid" || name.ends_with(".invalid") {
        return Err(unresolved(false));
    }
    match tokio::net::lookup_host((host, 0)).await {
        Ok(found) => {
            let ips: Vec<IpAddr> = found.map(|a| a.ip()).collect();
            if ips.is_empty() {
                Err(unresolved(false))
            } else {
                Ok(ips)
            }
        }
        // getaddrinfo's EAI_AGAIN ("Temporary failure in name resolution"); the rest (no such
        // name, no address for it) mean the name does not resolve.
        Err(e) => Err(unresolved(e.to_string().contains("Temporary failure"))),
    }
}

/// DNS resolver that only hands out addresses the policy accepts.
pub(crate) struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
    hosts: Arc<StaticHosts>,
    trust: Trust,
    plain_http: bool,
}

impl GuardedResolver {
    pub(crate) fn new(
        policy: Arc<OutboundPolicy>,
        hosts: Arc<StaticHosts>,
        trust: Trust,
        plain_http: bool,
    ) -> Self {
        GuardedResolver {
            policy,
            hosts,
            trust,
            plain_http,
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let (policy, hosts) = (Arc::clone(&self.policy), Arc::clone(&self.hosts));
        let (trust, plain_http) = (self.trust, self.plain_http);
        Box::pin(async move {
            let found = lookup(&hosts, &host).await?;
            let mut first_block: Option<Blocked> = None;
            let mut checked = Vec::new();
            for ip in found {
                let shown = format!("{host} ({ip})");
                match policy.check_named(ip, &shown, trust, plain_http) {
                    Ok(()) => checked.push(SocketAddr::new(ip, 0)),
                    Err(blocked) => {
                        first_block.get_or_insert(blocked);
                    }
                }
            }
            match first_block {
                Some(blocked) if checked.is_empty() => {
                    // Coerced, not `.into()`: that would box the `Box<Blocked>` again, and the
                    // error chain would no longer downcast to `Blocked`.
                    let err: Box<dyn std::error::Error + Send + Sync> = Box::new(blocked);
                    Err(err)
                }
                _ => {
                    let addrs: Addrs = Box::new(checked.into_iter());
                    Ok(addrs)
                }
            }
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

    async fn resolve(resolver: &GuardedResolver, name: &str) -> Result<Vec<IpAddr>, String> {
        match resolver.resolve(Name::from_str(name).unwrap()).await {
            Ok(addrs) => Ok(addrs.map(|a| a.ip()).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[tokio::test]
    async fn resolver_filters_blocked_addresses() {
        let open = Arc::new(OutboundPolicy::default());
        let none = Arc::new(StaticHosts::default());
        let user = GuardedResolver::new(Arc::clone(&open), Arc::clone(&none), Trust::User, false);
        let Err(boxed) = user.resolve(Name::from_str("localhost").unwrap()).await else {
            panic!("localhost must be blocked");
        };
        // The connection error chain finds the refusal by its type.
        assert!(boxed.downcast_ref::<Blocked>().is_some(), "{boxed:?}");
        let err = resolve(&user, "localhost").await.unwrap_err();
        assert!(err.starts_with("blocked: localhost ("), "{err}");
        assert!(err.contains("loopback"), "{err}");

        let allowed = Arc::new(OutboundPolicy::new(
            vec!["127.0.0.0/8".parse().unwrap()],
            vec![],
        ));
        let resolver = GuardedResolver::new(allowed, Arc::clone(&none), Trust::User, true);
        let addrs = resolve(&resolver, "localhost").await.unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| *a == ip("127.0.0.1")), "{addrs:?}");

        let operator = GuardedResolver::new(open, none, Trust::Operator, true);
        assert!(resolve(&operator, "localhost").await.is_ok());
    }

    #[tokio::test]
    async fn fixed_answers_are_checked_like_dns_answers() {
        let hosts = Arc::new(StaticHosts::new(&[
            ("GitLab.Corp.test".to_owned(), ip("10.1.2.3")),
            ("mixed.test".to_owned(), ip("10.1.2.4")),
            ("mixed.test".to_owned(), ip("127.0.0.1")),
        ]));
        let policy = Arc::new(OutboundPolicy::new(
            vec!["127.0.0.0/8".parse().unwrap()],
            vec![],
        ));
        let user = GuardedResolver::new(policy, hosts, Trust::User, false);
        let err = resolve(&user, "gitlab.corp.test.").await.unwrap_err();
        assert!(
            err.contains("gitlab.corp.test. (10.1.2.3) is a private network address"),
            "{err}"
        );
        // Only the accepted address is handed to the connection.
        assert_eq!(
            resolve(&user, "mixed.test").await.unwrap(),
            [ip("127.0.0.1")]
        );
    }

    #[tokio::test]
    async fn invalid_names_are_not_looked_up() {
        let none = StaticHosts::default();
        for name in ["gitlab.invalid", "x.INVALID.", "invalid"] {
            let err = lookup(&none, name).await.unwrap_err();
            assert!(!err.temporary, "{name}");
            assert_eq!(err.host, name);
        }
    }
}

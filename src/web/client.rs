//! Who is on the other end of a request: the client's IP address and the scheme it used.
//!
//! Forwarding headers (`X-Forwarded-For`, `X-Forwarded-Proto`) are believed only from peers in
//! `FORGEKEYS_TRUSTED_PROXIES`; from anyone else they are ignored, so a client cannot pick the
//! address that its throttling and audit entries are recorded under. `X-Forwarded-Host` is never
//! used: the public host comes from `FORGEKEYS_BASE_URL` (or the `Host` header).

use super::extractors::state;
use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client's address: the TCP peer, or — when the peer is a trusted proxy — the nearest
/// address in `X-Forwarded-For` that is not a trusted proxy itself (read right to left, the
/// part of the header trusted proxies appended). `None` only without a peer address (tests
/// calling handlers directly).
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let trusted = state(req)
        .map(|s| s.config.trusted_proxies.clone())
        .unwrap_or_default();
    Some(resolve(peer, forwarded_for(req).as_deref(), &trusted))
}

/// `https` or `http`: `X-Forwarded-Proto` from a trusted proxy, else the connection's own.
pub fn scheme(req: &HttpRequest) -> &'static str {
    let trusted = state(req)
        .map(|s| s.config.trusted_proxies.clone())
        .unwrap_or_default();
    let from_proxy = req
        .peer_addr()
        .is_some_and(|p| is_trusted(unmap(p.ip()), &trusted));
    if from_proxy {
        if let Some(proto) = req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
        {
            // A chain of proxies may list several; the first is the client's.
            let first = proto.split(',').next().unwrap_or("").trim();
            return if first.eq_ignore_ascii_case("https") {
                "https"
            } else {
                "http"
            };
        }
    }
    if req.app_config().secure() {
        "https"
    } else {
        "http"
    }
}

fn forwarded_for(req: &HttpRequest) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// The rule of [`client_ip`], without the request.
pub fn resolve(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let mut client = unmap(peer);
    if !is_trusted(client, trusted) {
        return client;
    }
    let Some(header) = forwarded_for else {
        return client;
    };
    for hop in header.rsplit(',') {
        let hop = hop.trim();
        // An entry may carry a port ("203.0.113.7:4711", "[2001:db8::1]:4711").
        let parsed = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()));
        let Some(ip) = parsed.map(unmap) else {
            // Garbage in the header: stop at the last address a trusted proxy vouched for.
            return client;
        };
        client = ip;
        if !is_trusted(ip, trusted) {
            return client;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &str) -> Vec<IpNet> {
        s.split(',').map(|p| p.parse().expect("cidr")).collect()
    }

    #[test]
    fn headers_from_untrusted_peers_are_ignored() {
        let peer: IpAddr = "198.51.100.9".parse().expect("ip");
        assert_eq!(resolve(peer, Some("203.0.113.7"), &[]), peer);
        assert_eq!(
            resolve(peer, Some("203.0.113.7"), &nets("10.0.0.0/8")),
            peer
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let t = nets("10.0.0.0/8");
        let want: IpAddr = "203.0.113.7".parse().expect("ip");
        assert_eq!(resolve(proxy, Some("203.0.113.7"), &t), want);
        // A client-supplied entry in front of the real one is not believed.
        assert_eq!(resolve(proxy, Some("1.2.3.4, 203.0.113.7"), &t), want);
        // Two trusted hops.
        assert_eq!(resolve(proxy, Some("203.0.113.7, 10.0.0.5"), &t), want);
        // Ports and IPv4-mapped peers.
        assert_eq!(resolve(proxy, Some("203.0.113.7:4711"), &t), want);
        let mapped: IpAddr = "::ffff:10.0.0.2".parse().expect("ip");
        assert_eq!(resolve(mapped, Some("203.0.113.7"), &t), want);
        // Garbage stops at the proxy.
        assert_eq!(resolve(proxy, Some("nonsense"), &t), proxy);
        // No header: the proxy itself.
        assert_eq!(resolve(proxy, None, &t), proxy);
    }
}

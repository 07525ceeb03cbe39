//! The address ranges a user-supplied URL may not reach by default (the table in the
//! [module documentation](super)), and the IPv6 forms that carry an IPv4 address.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of address a blocked range holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `0.0.0.0/8` ("this network"; connecting to `0.0.0.0` reaches the local host).
    ThisNetwork,
    /// `::`.
    Unspecified,
    Loopback,
    /// RFC 1918.
    Private,
    /// RFC 6598 shared address space (carrier-grade NAT).
    Shared,
    /// IPv4 link-local (cloud metadata `169.254.169.254` included) and IPv6 `fe80::/10`.
    LinkLocal,
    /// `192.0.0.0/24` (RFC 6890).
    ProtocolAssignments,
    /// TEST-NET-1/2/3 and `2001:db8::/32`: never routed.
    Documentation,
    /// `198.18.0.0/15` and `2001:2::/48` (RFC 2544, RFC 5180).
    Benchmarking,
    Multicast,
    /// `240.0.0.0/4` (future use).
    Reserved,
    /// `255.255.255.255`.
    Broadcast,
    /// `fc00::/7` (RFC 4193), cloud metadata over IPv6 (`fd00:ec2::254`) included.
    UniqueLocal,
    /// `fec0::/10` (deprecated, RFC 3879; still routed inside some networks).
    SiteLocal,
    /// An address of the local-use NAT64 prefix `64:ff9b:1::/48` (RFC 8215) not in the `/96`
    /// layout, so the IPv4 address it carries cannot be told.
    LocalNat64,
    /// IPv6 outside the global unicast range `2000::/3` (none of it is routed on the Internet).
    NotGlobal,
}

/// A blocked range: what it is and its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub kind: Kind,
    pub net: IpNet,
}

const fn net4(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len))
}

const fn net6(s: [u16; 8], len: u8) -> IpNet {
    let addr = Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    IpNet::V6(Ipv6Net::new_assert(addr, len))
}

/// IPv4 ranges blocked by default, most specific first.
const V4: [(IpNet, Kind); 15] = [
    (net4(0, 0, 0, 0, 8), Kind::ThisNetwork),
    (net4(10, 0, 0, 0, 8), Kind::Private),
    (net4(100, 64, 0, 0, 10), Kind::Shared),
    (net4(127, 0, 0, 0, 8), Kind::Loopback),
    (net4(169, 254, 0, 0, 16), Kind::LinkLocal),
    (net4(172, 16, 0, 0, 12), Kind::Private),
    (net4(192, 0, 0, 0, 24), Kind::ProtocolAssignments),
    (net4(192, 0, 2, 0, 24), Kind::Documentation),
    (net4(192, 168, 0, 0, 16), Kind::Private),
    (net4(198, 18, 0, 0, 15), Kind::Benchmarking),
    (net4(198, 51, 100, 0, 24), Kind::Documentation),
    (net4(203, 0, 113, 0, 24), Kind::Documentation),
    (net4(224, 0, 0, 0, 4), Kind::Multicast),
    (net4(255, 255, 255, 255, 32), Kind::Broadcast),
    (net4(240, 0, 0, 0, 4), Kind::Reserved),
];

/// IPv6 ranges blocked by default (after the embedded forms are taken out), most specific first.
const V6: [(IpNet, Kind); 9] = [
    (net6([0; 8], 128), Kind::Unspecified),
    (net6([0, 0, 0, 0, 0, 0, 0, 1], 128), Kind::Loopback),
    (net6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), Kind::LocalNat64),
    (net6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48), Kind::Benchmarking),
    (
        net6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        Kind::Documentation,
    ),
    (net6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), Kind::UniqueLocal),
    (net6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), Kind::LinkLocal),
    (net6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), Kind::SiteLocal),
    (net6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), Kind::Multicast),
];

/// The global unicast range: IPv6 outside it is [`Kind::NotGlobal`].
const GLOBAL_UNICAST: (IpNet, Kind) = (net6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3), Kind::NotGlobal);

/// Why `ip` itself is blocked by default, or `None`. An IPv6 address that carries an IPv4
/// address is judged by that address: see [`embedded`] (this function does not look inside).
pub(crate) fn class_of(ip: IpAddr) -> Option<Class> {
    let found = match ip {
        IpAddr::V4(_) => V4.iter().find(|(net, _)| net.contains(&ip)),
        IpAddr::V6(_) => V6
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .or_else(|| (!GLOBAL_UNICAST.0.contains(&ip)).then_some(&GLOBAL_UNICAST)),
    };
    found.map(|(net, kind)| Class {
        kind: *kind,
        net: *net,
    })
}

/// An IPv6 form that carries an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Embedding {
    /// `::ffff:a.b.c.d` (`::ffff:0:0/96`).
    Mapped,
    /// `::a.b.c.d` (`::/96`, deprecated; not `::` or `::1`).
    Compatible,
    /// `::ffff:0:a.b.c.d` (`::ffff:0:0:0/96`, SIIT, RFC 2765).
    Translated,
    /// `64:ff9b::a.b.c.d` (`64:ff9b::/96`, RFC 6052).
    Nat64,
    /// `64:ff9b:1::a.b.c.d` (`64:ff9b:1::/48` in the `/96` layout, RFC 8215).
    LocalNat64,
    /// `2002:AABB:CCDD::/48` (`2002::/16`, RFC 3056): the IPv4 address is bits 16–47.
    SixToFour,
    /// `2001:0:SSSS:SSSS:…:CCCC:CCCC` (`2001::/32`, RFC 4380): the client's IPv4 address is
    /// the last 32 bits inverted.
    Teredo,
}

/// The IPv4 address an IPv6 address carries, and in which form, or `None`.
pub(crate) fn embedded(ip: IpAddr) -> Option<(Embedding, Ipv4Addr)> {
    let IpAddr::V6(v6) = ip else {
        return None;
    };
    let s = v6.segments();
    let last = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let zero = |range: &[u16]| range.iter().all(|x| *x == 0);
    if let Some(v4) = v6.to_ipv4_mapped() {
        Some((Embedding::Mapped, v4))
    } else if zero(&s[..6]) && !v6.is_unspecified() && !v6.is_loopback() {
        Some((Embedding::Compatible, last(s[6], s[7])))
    } else if zero(&s[..4]) && s[4] == 0xffff && s[5] == 0 {
        Some((Embedding::Translated, last(s[6], s[7])))
    } else if s[0] == 0x64 && s[1] == 0xff9b && zero(&s[2..6]) {
        Some((Embedding::Nat64, last(s[6], s[7])))
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 && zero(&s[3..6]) {
        Some((Embedding::LocalNat64, last(s[6], s[7])))
    } else if s[0] == 0x2002 {
        Some((Embedding::SixToFour, last(s[1], s[2])))
    } else if s[0] == 0x2001 && s[1] == 0 {
        Some((Embedding::Teredo, !last(s[6], s[7])))
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_are_well_formed_and_ordered() {
        // Each range's address is its network address (a typo in the table would not be).
        for (net, _) in V4.iter().chain(V6.iter()) {
            assert_eq!(net.network(), net.addr(), "{net}");
        }
        assert_eq!(
            class_of(ip("255.255.255.255")).unwrap().kind,
            Kind::Broadcast
        );
        assert_eq!(
            class_of(ip("255.255.255.254")).unwrap().kind,
            Kind::Reserved
        );
    }

    #[test]
    fn finds_each_embedded_form() {
        let v4 = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        for (addr, form, inner) in [
            ("::ffff:127.0.0.1", Embedding::Mapped, "127.0.0.1"),
            ("::10.1.2.3", Embedding::Compatible, "10.1.2.3"),
            ("::ffff:0:7f00:1", Embedding::Translated, "127.0.0.1"),
            ("64:ff9b::7f00:1", Embedding::Nat64, "127.0.0.1"),
            ("64:ff9b::8.8.8.8", Embedding::Nat64, "8.8.8.8"),
            ("64:ff9b:1::a01:203", Embedding::LocalNat64, "10.1.2.3"),
            ("2002:7f00:1::", Embedding::SixToFour, "127.0.0.1"),
            ("2002:a01:203:1::5", Embedding::SixToFour, "10.1.2.3"),
            (
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
                Embedding::Teredo,
                "127.0.0.1",
            ),
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                Embedding::Teredo,
                "192.0.2.45",
            ),
        ] {
            assert_eq!(embedded(ip(addr)), Some((form, v4(inner))), "{addr}");
        }
        for addr in [
            "::",
            "::1",
            "2001:db8::1",
            "fd00::1",
            "64:ff9b:1:1::1",
            "10.0.0.1",
        ] {
            assert_eq!(embedded(ip(addr)), None, "{addr}");
        }
    }
}

//! Every sentence the outbound layer says: refusals (naming the address class and the setting
//! that changes it) and connection failures by category.
//!
//! Where the words live: provider messages are worded in `providers` (a test's outcome is stored
//! and shown as text: the result panel, the test history, audit details, notifications), so the
//! outbound reasons are typed ([`Refusal`], [`Failure`]) and worded here, in one place, rather
//! than in `web/`; the web layer adds only its frame ("This address may not be used for
//! webhooks (…)").

use super::failure::{Failure, TlsProblem};
use super::ranges::{Class, Embedding, Kind};
use super::resolver::Unresolved;
use super::{Blocked, Refusal};
use std::net::IpAddr;

/// The setting that opens a range.
const ALLOW: &str = "FORGEKEYS_OUTBOUND_ALLOW";

/// What to do about a certificate from an internal CA.
const CA_HINT: &str = "If the server uses a certificate from an internal CA, put that CA \
                       certificate (PEM) in a file and point FORGEKEYS_CA_BUNDLE at it.";

/// "a private network address (10.0.0.0/8)".
pub(crate) fn class(c: &Class) -> String {
    let what = match c.kind {
        Kind::ThisNetwork => "an unspecified (\u{201c}this network\u{201d}) address",
        Kind::Unspecified => "an unspecified address",
        Kind::Loopback => "a loopback address",
        Kind::Private => "a private network address",
        Kind::Shared => "a shared address space (carrier-grade NAT) address",
        Kind::LinkLocal => "a link-local address",
        Kind::ProtocolAssignments => "an IETF protocol assignments address",
        Kind::Documentation => "a documentation address",
        Kind::Benchmarking => "a benchmarking address",
        Kind::Multicast => "a multicast address",
        Kind::Reserved => "a reserved address",
        Kind::Broadcast => "a broadcast address",
        Kind::UniqueLocal => "a unique local address",
        Kind::SiteLocal => "a site-local address (deprecated)",
        Kind::LocalNat64 => "a local-use NAT64 address",
        Kind::NotGlobal => return "a reserved IPv6 address (outside 2000::/3)".to_owned(),
    };
    format!("{what} ({})", c.net)
}

/// "a NAT64 address (64:ff9b::/96)".
pub(crate) fn embedding(e: Embedding) -> &'static str {
    match e {
        Embedding::Mapped => "an IPv4-mapped address (::ffff:0:0/96)",
        Embedding::Compatible => "an IPv4-compatible address (::/96, deprecated)",
        Embedding::Translated => "an IPv4-translated address (::ffff:0:0:0/96)",
        Embedding::Nat64 => "a NAT64 address (64:ff9b::/96)",
        Embedding::LocalNat64 => "a local-use NAT64 address (64:ff9b:1::/48)",
        Embedding::SixToFour => "a 6to4 address (2002::/16)",
        Embedding::Teredo => "a Teredo address (2001::/32)",
    }
}

fn single(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => format!("{v6}/128"),
    }
}

/// The sentence of a refusal; always starts with `blocked:`.
pub(crate) fn blocked(b: &Blocked) -> String {
    let shown = &b.shown;
    match &b.reason {
        Refusal::Denied => format!("blocked: {shown} is in FORGEKEYS_OUTBOUND_DENY"),
        Refusal::ByDefault { class: c, via, ip } => {
            let (what, judged) = match via {
                None => (class(c), *ip),
                Some((form, v4)) => (
                    format!("{} for {v4}, {}", embedding(*form), class(c)),
                    IpAddr::V4(*v4),
                ),
            };
            format!(
                "blocked: {shown} is {what}; to allow it, an operator adds {} (or its network) \
                 to {ALLOW}",
                single(judged)
            )
        }
        Refusal::PlainHttp => format!(
            "blocked: plain http to {shown} is not allowed; use https (or add the address to \
             {ALLOW})"
        ),
        Refusal::Scheme(scheme) => {
            format!("blocked: the scheme {scheme}: is not supported (use https)")
        }
        Refusal::NoHost => "blocked: the URL has no host".to_owned(),
    }
}

pub(crate) fn unresolved(u: &Unresolved) -> String {
    if u.temporary {
        format!(
            "the host name {} could not be looked up (DNS did not answer); try again later",
            u.host
        )
    } else {
        format!(
            "the host name {} was not found (DNS); check the address",
            u.host
        )
    }
}

fn certificate(problem: TlsProblem) -> String {
    match problem {
        TlsProblem::UnknownIssuer => format!(
            "is not signed by an authority Forgekeys trusts (unknown issuer, or self-signed). \
             {CA_HINT}"
        ),
        TlsProblem::BadSignature => format!(
            "is not signed by an authority Forgekeys trusts (a trusted authority of that name \
             did not sign it: bad signature). {CA_HINT}"
        ),
        TlsProblem::Expired => "has expired; renew it on the server.".to_owned(),
        TlsProblem::NotYetValid => {
            "is not valid yet; check the clocks of the server and of Forgekeys.".to_owned()
        }
        TlsProblem::WrongName => {
            "is not valid for this host name; use the name the certificate was issued for."
                .to_owned()
        }
        TlsProblem::Revoked => "has been revoked; replace it on the server.".to_owned(),
        TlsProblem::Certificate | TlsProblem::Handshake => {
            format!("was refused. {CA_HINT}")
        }
    }
}

/// The sentence of a failed request.
pub(crate) fn failure(f: &Failure) -> String {
    match f {
        Failure::Blocked(b) => blocked(b),
        Failure::Refused { host } => format!(
            "could not connect to {host}: the connection was refused (nothing listens on that \
             port, or a firewall rejects the connection)"
        ),
        Failure::TimedOut { host } => format!("no answer from {host} in time (timed out)"),
        Failure::NotFound { host } => unresolved(&Unresolved {
            host: host.clone(),
            temporary: false,
        }),
        Failure::DnsFailed { host } => unresolved(&Unresolved {
            host: host.clone(),
            temporary: true,
        }),
        Failure::Tls {
            host,
            problem: TlsProblem::Handshake,
        } => format!(
            "TLS: the secure connection to {host} failed (does the server speak HTTPS on this \
             port?)"
        ),
        Failure::Tls { host, problem } => {
            format!("TLS: the certificate of {host} {}", certificate(*problem))
        }
        Failure::Closed { host } => {
            format!("{host} closed the connection before answering")
        }
        Failure::NoRoute { host } => {
            format!("could not connect to {host}: there is no network route to it")
        }
        Failure::Other { host } => format!("could not connect to {host} (the connection failed)"),
    }
}

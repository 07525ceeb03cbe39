//! Why a request got no answer, by category (DESIGN.md §5): refused, timed out, DNS, TLS with
//! the certificate's problem, closed or reset, no route. Never the operating system's or a
//! library's own text: the category is read from the error's types (`std::io::ErrorKind`,
//! `rustls::CertificateError`, this module's [`Unresolved`] and [`Blocked`]).

use super::Blocked;
use super::resolver::Unresolved;
use std::error::Error as StdError;
use std::io;

/// What was wrong with the server's certificate, or with the TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsProblem {
    /// Not signed by a trusted authority (self-signed certificates included).
    UnknownIssuer,
    /// An issuer of that name is trusted, but its signature does not verify.
    BadSignature,
    Expired,
    NotYetValid,
    /// Issued for other host names.
    WrongName,
    Revoked,
    /// Any other certificate problem (encoding, purpose, algorithms…).
    Certificate,
    /// The handshake itself failed (often: the port does not speak TLS).
    Handshake,
}

/// Why no answer came back from `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The outbound policy refused the address (found in the resolver).
    Blocked(Blocked),
    Refused {
        host: String,
    },
    TimedOut {
        host: String,
    },
    /// The name does not resolve.
    NotFound {
        host: String,
    },
    /// DNS did not answer.
    DnsFailed {
        host: String,
    },
    Tls {
        host: String,
        problem: TlsProblem,
    },
    /// Closed or reset before a complete answer.
    Closed {
        host: String,
    },
    /// Network or host unreachable.
    NoRoute {
        host: String,
    },
    /// A failure of no known category (its details are logged at debug level, not shown).
    Other {
        host: String,
    },
}

fn tls_problem(e: &rustls::Error) -> TlsProblem {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => TlsProblem::UnknownIssuer,
            C::BadSignature => TlsProblem::BadSignature,
            C::Expired | C::ExpiredContext { .. } => TlsProblem::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsProblem::NotYetValid,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsProblem::WrongName,
            C::Revoked => TlsProblem::Revoked,
            _ => TlsProblem::Certificate,
        },
        _ => TlsProblem::Handshake,
    }
}

/// The category of one error of the chain, if it tells one.
fn category(e: &(dyn StdError + 'static), host: &str) -> Option<Failure> {
    let host = host.to_owned();
    if let Some(blocked) = e.downcast_ref::<Blocked>() {
        return Some(Failure::Blocked(blocked.clone()));
    }
    if let Some(u) = e.downcast_ref::<Unresolved>() {
        return Some(if u.temporary {
            Failure::DnsFailed { host }
        } else {
            Failure::NotFound { host }
        });
    }
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        let problem = tls_problem(tls);
        return Some(Failure::Tls { host, problem });
    }
    let io = e.downcast_ref::<io::Error>()?;
    // An `io::Error` wrapping another error (rustls' handshake errors) hides it from
    // `source()`: look inside.
    if let Some(inner) = io.get_ref() {
        if let Some(found) = category(inner, &host) {
            return Some(found);
        }
    }
    use io::ErrorKind as K;
    Some(match io.kind() {
        K::ConnectionRefused => Failure::Refused { host },
        K::TimedOut => Failure::TimedOut { host },
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            Failure::Closed { host }
        }
        K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown | K::AddrNotAvailable => {
            Failure::NoRoute { host }
        }
        _ => return None,
    })
}

impl Failure {
    /// The category of a failed request to `host`.
    pub(crate) fn of(err: &reqwest::Error, host: &str) -> Failure {
        let mut source: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = source {
            if let Some(found) = category(e, host) {
                return found;
            }
            source = e.source();
        }
        let host = host.to_owned();
        if err.is_timeout() {
            return Failure::TimedOut { host };
        }
        // hyper's "connection closed before message completed" carries no I/O error.
        if !err.is_connect() && (err.is_request() || err.is_body() || err.is_decode()) {
            return Failure::Closed { host };
        }
        tracing::debug!(%host, connect = err.is_connect(), "outbound request failed without a known category");
        Failure::Other { host }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&super::words::failure(self))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;

    fn of_io(kind: io::ErrorKind) -> Option<Failure> {
        category(&io::Error::from(kind), "git.example.com")
    }

    #[test]
    fn io_errors_by_kind() {
        let host = || "git.example.com".to_owned();
        assert_eq!(
            of_io(io::ErrorKind::ConnectionRefused),
            Some(Failure::Refused { host: host() })
        );
        assert_eq!(
            of_io(io::ErrorKind::TimedOut),
            Some(Failure::TimedOut { host: host() })
        );
        assert_eq!(
            of_io(io::ErrorKind::ConnectionReset),
            Some(Failure::Closed { host: host() })
        );
        assert_eq!(
            of_io(io::ErrorKind::NetworkUnreachable),
            Some(Failure::NoRoute { host: host() })
        );
        assert_eq!(of_io(io::ErrorKind::Other), None);
    }

    #[test]
    fn certificate_errors_inside_io_errors() {
        for (cert, problem) in [
            (C::UnknownIssuer, TlsProblem::UnknownIssuer),
            (C::BadSignature, TlsProblem::BadSignature),
            (C::Expired, TlsProblem::Expired),
            (C::NotValidYet, TlsProblem::NotYetValid),
            (C::NotValidForName, TlsProblem::WrongName),
            (C::Revoked, TlsProblem::Revoked),
            (C::BadEncoding, TlsProblem::Certificate),
        ] {
            // As tokio-rustls reports a handshake error.
            let io = io::Error::new(
                io::ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(cert),
            );
            assert_eq!(
                category(&io, "h"),
                Some(Failure::Tls {
                    host: "h".into(),
                    problem
                })
            );
        }
        let plain = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::General("x".into()),
        );
        assert!(matches!(
            category(&plain, "h"),
            Some(Failure::Tls {
                problem: TlsProblem::Handshake,
                ..
            })
        ));
    }

    #[test]
    fn dns_failures() {
        let gone = Unresolved {
            host: "h".into(),
            temporary: false,
        };
        assert_eq!(
            category(&gone, "h"),
            Some(Failure::NotFound { host: "h".into() })
        );
        let busy = Unresolved {
            host: "h".into(),
            temporary: true,
        };
        assert_eq!(
            category(&busy, "h"),
            Some(Failure::DnsFailed { host: "h".into() })
        );
    }
}

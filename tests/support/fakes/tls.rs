//! A fake provider over HTTPS with a certificate from a test CA, for `FORGEKEYS_CA_BUNDLE`: an
//! internal CA is what self-hosted GitLab and GitHub Enterprise Server often use. The CA and the
//! server certificate (for `127.0.0.1` and `localhost`) are made with the `openssl` command at
//! start; they are valid from now for 100 years, so the suite holds on any later date.

use super::{FakeResponse, FakeServer, RecordedRequest, dates};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tokio_rustls::rustls;

/// A running HTTPS fake; [`TlsFake::ca_file`] is the PEM of the CA that signed it.
pub struct TlsFake {
    pub server: FakeServer,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    dir: tempfile::TempDir,
}

impl TlsFake {
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl (Debian package openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA and a server certificate signed by it, in `dir`.
fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "36500",
        "-subj",
        "/CN=Forgekeys Test Internal CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=gitlab.internal.test",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write ext file");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "36500",
            "-extfile",
            "server.ext",
        ],
    );
}

fn server_config(dir: &Path) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate")
}

/// Starts `handler` behind TLS on `127.0.0.1:<random port>`.
pub fn start(
    handler: impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static,
) -> TlsFake {
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    serve_tls(dir, handler)
}

/// [`start`] with a server certificate (from the same kind of test CA) that expired a day ago:
/// valid from three days to one day before now, whatever the clock says.
pub fn start_expired(
    handler: impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static,
) -> TlsFake {
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    let now = chrono::Utc::now();
    let stamp = |d: chrono::DateTime<chrono::Utc>| d.format("%Y%m%d%H%M%SZ").to_string();
    let (from, until) = (
        stamp(now - chrono::Duration::days(3)),
        stamp(now - chrono::Duration::days(1)),
    );
    std::fs::write(dir.path().join("index.txt"), "").expect("write index");
    std::fs::write(dir.path().join("serial"), "01\n").expect("write serial");
    std::fs::write(
        dir.path().join("ca.cnf"),
        "[ca]\ndefault_ca=test\n[test]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\n\
         default_md=sha256\npolicy=any\n[any]\ncommonName=supplied\n",
    )
    .expect("write ca.cnf");
    openssl(
        dir.path(),
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca.key",
            "-in",
            "server.csr",
            "-out",
            "server.pem",
            "-startdate",
            &from,
            "-enddate",
            &until,
            "-extfile",
            "server.ext",
            "-notext",
        ],
    );
    serve_tls(dir, handler)
}

fn serve_tls(
    dir: tempfile::TempDir,
    handler: impl Fn(&RecordedRequest) -> FakeResponse + Send + Sync + 'static,
) -> TlsFake {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config(dir.path())));
    let server = FakeServer::listen(dates::anchor_now(), Some(acceptor), Arc::new(handler));
    let url = server.url.clone();
    TlsFake { server, url, dir }
}

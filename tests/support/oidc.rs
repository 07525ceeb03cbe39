//! A real OpenID Connect provider for the SSO tests: the npm package `oidc-provider` run by
//! `tests/oidc/provider.mjs` (see there for its test controls) on a free loopback port.
//!
//! Needs `node` and `npm ci` (the package is in package.json's devDependencies). Without them
//! the SSO tests print a note and pass, unless `FORGEKEYS_E2E_REQUIRED=1` (CI and
//! scripts/test.sh set it): then a missing tool fails the test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const CLIENT_ID: &str = "forgekeys-test";
pub const CLIENT_SECRET: &str = "forgekeys-test-secret";

pub struct OidcProvider {
    child: Child,
    /// `http://127.0.0.1:PORT`, the issuer.
    pub issuer: String,
    http: reqwest::Client,
    _stderr: tempfile::NamedTempFile,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn required() -> bool {
    std::env::var("FORGEKEYS_E2E_REQUIRED").is_ok_and(|v| v == "1")
}

fn skip(reason: &str) -> Option<OidcProvider> {
    if required() {
        panic!("FORGEKEYS_E2E_REQUIRED=1 but {reason}");
    }
    eprintln!(
        "SKIPPED SSO test: {reason} (install node and run `npm ci`; set \
         FORGEKEYS_E2E_REQUIRED=1 to make this an error)"
    );
    None
}

impl OidcProvider {
    /// Start the provider; `None` (with a printed note) when node or the package is missing
    /// and the tests are not required to run.
    pub fn start() -> Option<OidcProvider> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let node_ok = Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !node_ok {
            return skip("node is not installed");
        }
        if !root
            .join("node_modules/oidc-provider/package.json")
            .is_file()
        {
            return skip("node_modules/oidc-provider is missing");
        }
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new("node")
            .arg(root.join("tests/oidc/provider.mjs"))
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().unwrap())
            .spawn()
            .expect("start node tests/oidc/provider.mjs");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        // Keep reading what the provider prints, so it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let Some(issuer) = line.trim().strip_prefix("listening ").map(str::to_string) else {
            let _ = child.kill();
            let log = std::fs::read_to_string(stderr.path()).unwrap_or_default();
            panic!("the OpenID provider did not start: {line:?}\n{log}");
        };
        Some(OidcProvider {
            child,
            issuer,
            http: reqwest::Client::new(),
            _stderr: stderr,
        })
    }

    /// The `FORGEKEYS_OIDC_*` settings for this provider.
    pub fn settings(&self) -> forgekeys::config::OidcArgs {
        forgekeys::config::OidcArgs {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            name: "Test ID".into(),
        }
    }

    async fn control(&self, what: &str, body: serde_json::Value) {
        let r = self
            .http
            .post(format!("{}/__test/{what}", self.issuer))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204, "provider control {what}");
    }

    /// Register the test client with the app's callback URL.
    pub async fn configure(&self, app_address: &str) {
        let redirect = format!("{app_address}/auth/oidc/callback");
        self.control("configure", serde_json::json!({ "redirect_uri": redirect }))
            .await;
    }

    /// Who signs in at the next interaction: `member`, `unknown`, `unverified`, `invited`.
    pub async fn sign_in_as(&self, account: &str) {
        self.control("account", serde_json::json!({ "account": account }))
            .await;
    }

    /// How many requests the provider had for `path` (e.g. `/jwks`).
    pub async fn requests_to(&self, path: &str) -> u64 {
        let counts: serde_json::Value = reqwest::get(format!("{}/__test/counts", self.issuer))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        counts[path].as_u64().unwrap_or(0)
    }

    /// The next ID token carries `email` instead, its signature unchanged.
    pub async fn tamper_next_id_token(&self, email: &str) {
        self.control("tamper", serde_json::json!({ "email": email }))
            .await;
    }
}

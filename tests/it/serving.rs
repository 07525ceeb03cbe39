//! The `forgekeys` binary as a service manager runs it: JSON log lines
//! (`FORGEKEYS_LOG_FORMAT=json`) and graceful stops on SIGTERM and SIGINT — requests in flight
//! and the scheduler's tests in flight finish, then the process exits 0.

use crate::fakes::{self, FakeServer};
use crate::helpers::*;
use crate::lifecycle::{Seed, org_id, state_for};
use crate::tokens_check::{BASE, database_url};
use forgekeys::db::models::token::GitToken;
use forgekeys::db::now;
use forgekeys::domain::role::Role;
use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `forgekeys serve` child process over the test app's database and key file, its standard
/// error collected line by line.
pub(crate) struct Served {
    child: Child,
    pub(crate) address: String,
    lines: Arc<Mutex<Vec<String>>>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Served {
    pub(crate) fn start(app: &TestApp, github: &FakeServer, extra: &[(&str, &str)]) -> Served {
        let port = free_port();
        let mut cmd = forgekeys_command();
        cmd.current_dir(app.dir.path())
            .env("DATABASE_URL", database_url(app))
            .env("FORGEKEYS_KEY_FILE", &app.key_file)
            .env("FORGEKEYS_BIND", format!("127.0.0.1:{port}"))
            .env("FORGEKEYS_GITHUB_API_URL", &github.url)
            .env("FORGEKEYS_GITHUB_GIT_URL", &github.url)
            .env("FORGEKEYS_PROVIDER_TIMEOUT_MS", "20000")
            .env("FORGEKEYS_RECHECK_INTERVAL", "0")
            .env("FORGEKEYS_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(extra.iter().copied())
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start forgekeys serve");
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        let served = Served {
            child,
            address: format!("http://127.0.0.1:{port}"),
            lines,
        };
        served.wait_for_line(|l| l.contains("Forgekeys is listening"));
        served
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// The log lines as JSON objects (every line must be one).
    pub(crate) fn json(&self) -> Vec<serde_json::Value> {
        self.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// Waits (up to 30 s) for a log line; panics with the log so far otherwise.
    #[track_caller]
    pub(crate) fn wait_for_line(&self, found: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| found(l)) {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "the line never came; log:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: sends a signal to our own child process, whose pid we hold.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// The exit code (waits up to 60 s).
    pub(crate) async fn exit_code(mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running 60 s after the signal");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A browser-like client of this process.
    pub(crate) fn client(&self) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers({
                let mut h = reqwest::header::HeaderMap::new();
                h.insert("origin", self.address.parse().unwrap());
                h
            })
            .build()
            .unwrap();
        Client {
            http,
            base: self.address.clone(),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn github_token(state: &forgekeys::app::state::AppState, org: &str, secret: &str) -> String {
    Seed {
        name: "Deploy",
        secret,
        provider: "github",
        workspace: None,
        status: "not_tested",
        expires_at: None,
        expiry_source: None,
        created_at: now(),
    }
    .insert(state, org)
}

/// A token test in flight at the provider when the signal comes still gets its answer.
async fn in_flight_request_completes_after(signal: i32) -> Served {
    let gh = fakes::github::start();
    let app = TestApp::builder().github(&gh).start();
    app.member("acme", "ops@acme.test", Role::Owner).await;
    let id = github_token(
        &state_for(&app),
        &org_id(&app, "acme"),
        "ghp_allscopes_stop",
    );
    let served = Served::start(&app, &gh, &[]);
    let c = served.client();
    c.login("ops@acme.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    let csrf = c.session_csrf().await;
    let gate = gh.hold("/user");
    let test = {
        let path = format!("{BASE}/{id}/test");
        tokio::spawn(async move { c.post(&path, &[("csrf_token", &csrf)]).await })
    };
    gate.arrived().await;
    served.signal(signal);
    served.wait_for_line(|l| l.contains("finishing the requests in flight"));
    gate.release();
    let page = test
        .await
        .unwrap_or_else(|e| panic!("{e}; log:\n{}", served.lines().join("\n")));
    assert!(
        page.status.is_success() || page.status.is_redirection(),
        "{}: {}",
        page.status,
        page.body
    );
    let stored = GitToken::find(&mut db(&app), &id).unwrap().unwrap();
    assert_eq!(stored.status, "valid");
    drop(app);
    served
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_and_exits_0() {
    let served = in_flight_request_completes_after(libc::SIGTERM).await;
    let log = served.lines().join("\n");
    assert_eq!(served.exit_code().await, Some(0), "{log}");
}

#[tokio::test]
async fn sigint_lets_a_request_in_flight_finish_and_exits_0() {
    let served = in_flight_request_completes_after(libc::SIGINT).await;
    let log = served.lines().join("\n");
    assert_eq!(served.exit_code().await, Some(0), "{log}");
}

#[tokio::test]
async fn sigterm_during_a_scheduler_run_records_the_tests_in_flight() {
    let gh = fakes::github::start();
    let app = TestApp::builder().github(&gh).start();
    app.member("acme", "ops@acme.test", Role::Owner).await;
    let id = github_token(&state_for(&app), &org_id(&app, "acme"), "ghp_allscopes_run");
    let gate = gh.hold("/user");
    let served = Served::start(&app, &gh, &[("FORGEKEYS_RECHECK_INTERVAL", "1s")]);
    gate.arrived().await;
    served.signal(libc::SIGTERM);
    served.wait_for_line(|l| l.contains("finishing the requests in flight"));
    gate.release();
    let log = served.lines().join("\n");
    assert_eq!(served.exit_code().await, Some(0), "{log}");
    let stored = GitToken::find(&mut db(&app), &id).unwrap().unwrap();
    assert_eq!(stored.status, "valid", "{log}");
    assert!(stored.last_tested_at.is_some());
}

#[tokio::test]
async fn json_logs_one_object_a_line_with_the_request_fields_and_no_secret() {
    let gh = fakes::github::start();
    let app = TestApp::builder().github(&gh).start();
    app.member("acme", "ops@acme.test", Role::Owner).await;
    let served = Served::start(&app, &gh, &[]);
    let c = served.client();
    c.login("ops@acme.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    // A link token in a query string (like the one-time setup link) never reaches the log.
    c.get("/setup?token=sekrit-link-token-123").await;
    c.get("/orgs/acme/settings/git-tokens?q=x")
        .await
        .assert_status(200);
    served.signal(libc::SIGTERM);
    served.wait_for_line(|l| l.contains("Forgekeys stopped"));
    let lines = served.json();
    let requests: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["message"] == "request").collect();
    let list = requests
        .iter()
        .find(|l| l["route"] == "/orgs/{org}/settings/git-tokens")
        .unwrap_or_else(|| panic!("no request line for the list: {lines:?}"));
    assert_eq!(list["method"], "GET");
    assert_eq!(list["status"], 200);
    assert_eq!(list["client_ip"], "127.0.0.1");
    assert!(list["duration_ms"].as_f64().is_some(), "{list}");
    assert!(list["level"].is_string() && list["timestamp"].is_string());
    let login = requests
        .iter()
        .find(|l| l["route"] == "/login" && l["method"] == "POST")
        .unwrap_or_else(|| panic!("no sign-in line: {lines:?}"));
    assert_eq!(login["status"], 303);
    let text = served.lines().join("\n");
    for secret in ["sekrit-link-token-123", "token=", PASSWORD, "q=x"] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
    assert_eq!(served.exit_code().await, Some(0));
}

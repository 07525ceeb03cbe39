//! Headless Chromium through the system `chromedriver` (fantoccini, WebDriver).
//!
//! Every [`Browser`] starts its own `chromedriver` on a free port and its own Chromium with a
//! fresh profile. When chromedriver or Chromium is missing, the tests print why and return;
//! with `FORGEKEYS_E2E_REQUIRED=1` they fail instead (CI sets it).

#![allow(dead_code)]

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long `wait_for` / `wait_until` wait (generous: CI machines run several browsers at once).
pub const WAIT: Duration = Duration::from_secs(20);

/// Desktop window size used unless a test resizes.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// The narrow width every page must fit without horizontal scrolling.
pub const NARROW: (u32, u32) = (375, 812);

/// `FORGEKEYS_E2E_REQUIRED=1`: missing tools are failures, not skips.
pub fn required() -> bool {
    std::env::var("FORGEKEYS_E2E_REQUIRED").is_ok_and(|v| v == "1")
}

/// Skip (print the reason and return `None`) or, when required, fail with the reason.
#[track_caller]
pub fn unavailable<T>(reason: &str) -> Option<T> {
    if required() {
        panic!("FORGEKEYS_E2E_REQUIRED=1 but {reason}");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED browser test: {reason} (set FORGEKEYS_E2E_REQUIRED=1 to make this an error)"
    );
    None
}

/// Find an executable: the environment variable `env` if set, else the first of `names` on PATH.
pub fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// The repository root (for `node_modules`, output folders).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where screenshots and saved pages go (`FORGEKEYS_E2E_OUT`, default `/tmp/forgekeys-e2e`).
pub fn out_dir() -> PathBuf {
    let dir = std::env::var_os("FORGEKEYS_E2E_OUT")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("forgekeys-e2e"));
    std::fs::create_dir_all(&dir).expect("create e2e output folder");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The chromedriver `GET log` extension (`POST /session/{id}/se/log`): browser console
/// entries since the previous call (needs the `goog:loggingPrefs` capability).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// A chromedriver process (in its own process group, so Chromium goes with it) and a session.
pub struct Browser {
    pub client: Client,
    /// The app's base URL, e.g. `http://127.0.0.1:1234`.
    pub base: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Start chromedriver + headless Chromium, or `None` (skip) when they are not installed.
    pub async fn start(base: &str) -> Option<Browser> {
        let Some(driver_bin) = find_program("CHROMEDRIVER", &["chromedriver"]) else {
            return unavailable("chromedriver is not installed (apt-get install chromium-driver)");
        };
        let Some(chrome_bin) = find_program(
            "CHROME_BIN",
            &["chromium", "chromium-browser", "google-chrome", "chrome"],
        ) else {
            return unavailable("Chromium is not installed (apt-get install chromium)");
        };
        let port = free_port();
        let log =
            std::fs::File::create(std::env::temp_dir().join(format!("chromedriver-{port}.log")))
                .ok()
                .map(Stdio::from)
                .unwrap_or_else(Stdio::null);
        let mut driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(log)
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", driver_bin.display()));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("chromedriver exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chrome_bin, "args": args }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        // rustls has both ring and aws-lc-rs compiled in, so it cannot pick one by itself.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!(
                    "chromedriver could not start Chromium ({}): {e}",
                    chrome_bin.display()
                );
            }
        };
        Some(Browser {
            client,
            base: base.trim_end_matches('/').to_string(),
            driver,
            _profile: profile,
        })
    }

    /// End the session (Chromium quits), then chromedriver.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
        self.kill_driver();
    }

    fn kill_driver(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            // The whole process group: chromedriver and the Chromium it started.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", self.driver.id())])
                .status();
            let _ = self.driver.kill();
            let _ = self.driver.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Navigate to an app path and wait for the load event.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    /// The path (and query) of the current page.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Run a script (a function body; `arguments` holds `args`) and return its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Wait (up to [`WAIT`]) until `css` matches an element.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        let found = self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(el) => el,
            Err(e) => {
                // Say what the page showed instead: the failing run is often the only one.
                let page = self.client.source().await.unwrap_or_default();
                let path = self.path().await;
                panic!("no element {css:?} appeared on {path}: {e}\n--- page ---\n{page}")
            }
        }
    }

    /// Wait (up to [`WAIT`]) until the script returns `true`.
    pub async fn wait_until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.js(script, vec![]).await == Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?}: {e}"))
    }

    /// Type into a field (clearing it first).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Pick an option by value in a `<select>` (fires `input` and `change` like a user would).
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value:?} in {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Click something that loads a new page, and wait until the new page has loaded.
    pub async fn click_and_load(&self, css: &str) {
        self.mark_window().await;
        self.click(css).await;
        self.wait_until(
            &format!("a new page after clicking {css}"),
            "return window.__fk === undefined && document.readyState === 'complete';",
        )
        .await;
    }

    /// Browser console entries (level, message) since the previous call.
    pub async fn console(&self) -> Vec<(String, String)> {
        let v = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("read the browser log");
        v.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_string(),
                            e["message"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Console errors and warnings since the previous call (CSP violations, failed loads,
    /// script errors, invalid headers are all logged at these levels).
    pub async fn console_problems(&self) -> Vec<String> {
        self.console()
            .await
            .into_iter()
            .filter(|(level, _)| level == "SEVERE" || level == "WARNING")
            .map(|(level, msg)| format!("{level}: {msg}"))
            .collect()
    }

    /// Resize the window so the page's layout viewport is `width` CSS pixels wide.
    pub async fn set_width(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize window");
        let inner = self.js("return window.innerWidth;", vec![]).await;
        assert_eq!(
            inner.as_u64(),
            Some(u64::from(width)),
            "the window could not be resized to {width} px"
        );
    }

    /// Save a PNG screenshot of the viewport into the output folder; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = out_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// A full-page screenshot at `width`: grow the window to the document height first.
    pub async fn screenshot_full(&self, name: &str, width: u32) -> PathBuf {
        let mut height = DESKTOP.1;
        for _ in 0..4 {
            self.client
                .set_window_size(width, height)
                .await
                .expect("resize for screenshot");
            let needed = self
                .js(
                    "window.scrollTo(0, 0); return Math.ceil(document.documentElement.scrollHeight);",
                    vec![],
                )
                .await
                .as_u64()
                .unwrap_or(u64::from(height))
                .clamp(400, 6000) as u32;
            if needed <= height {
                break;
            }
            height = needed;
        }
        let path = self.screenshot(name).await;
        self.client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .expect("resize back");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.kill_driver();
    }
}

/// Run `body` with a started browser and always close it, even when `body` panics (then the
/// panic continues). Returns without running `body` when the browser is unavailable.
pub async fn with_browser<F>(base: &str, body: F)
where
    F: AsyncFnOnce(&Browser),
{
    use futures::FutureExt;
    let Some(browser) = Browser::start(base).await else {
        return;
    };
    let result = std::panic::AssertUnwindSafe(body(&browser))
        .catch_unwind()
        .await;
    browser.close().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

impl Browser {
    /// Sign in through the real login page; ends on `/orgs`.
    pub async fn login(&self, email: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click_and_load("form[action='/login'] button[type='submit']")
            .await;
        self.wait_until(
            "the organizations page after signing in",
            "return location.pathname === '/orgs' && document.readyState === 'complete';",
        )
        .await;
    }

    /// Sign out with the top bar's button (from the organizations page).
    pub async fn logout(&self) {
        self.goto("/orgs").await;
        self.click_and_load("form[action='/logout'] button").await;
        self.wait_until(
            "the login page after signing out",
            "return location.pathname === '/login' && document.readyState === 'complete';",
        )
        .await;
    }

    /// Put a marker on `window`: it survives HTMX swaps and disappears on any page load.
    pub async fn mark_window(&self) {
        self.js("window.__fk = 1; return true;", vec![]).await;
    }

    pub async fn assert_no_page_load(&self, what: &str) {
        let v = self.js("return window.__fk === 1;", vec![]).await;
        assert_eq!(
            v,
            Value::Bool(true),
            "{what} loaded a new page instead of swapping in place"
        );
    }
}

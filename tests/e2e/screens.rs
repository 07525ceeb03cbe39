//! Screenshots of every checked page (1280 px, 375 px, and 1280 px in dark mode) into
//! `target/screenshots/`, and dark mode itself: the system setting `prefers-color-scheme`
//! emulated through the Chrome DevTools Protocol (chromedriver's `goog/cdp/execute`), the way a
//! user's system switches it; no test-only switch in the app.

use crate::browser::{Browser, DESKTOP, NARROW, repo_root};
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};
use std::path::PathBuf;

/// A Chrome DevTools Protocol command through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (reqwest::Method, Option<String>) {
        (
            reqwest::Method::POST,
            Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()),
        )
    }
}

/// Emulate the system's dark (or light) colour scheme, and check the page sees it.
pub async fn set_dark(b: &Browser, dark: bool) {
    let value = if dark { "dark" } else { "light" };
    b.client
        .issue_cmd(Cdp {
            cmd: "Emulation.setEmulatedMedia",
            params: json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] }),
        })
        .await
        .expect("Emulation.setEmulatedMedia through chromedriver");
    let seen = b
        .js(
            "return window.matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await;
    assert_eq!(seen, Value::Bool(dark), "prefers-color-scheme emulation");
}

/// Lay the page out as for paper (CSS `print` media, light) or back for the screen.
pub async fn set_print(b: &Browser, print: bool) {
    b.client
        .issue_cmd(Cdp {
            cmd: "Emulation.setEmulatedMedia",
            params: json!({ "media": if print { "print" } else { "" } }),
        })
        .await
        .expect("Emulation.setEmulatedMedia through chromedriver");
}

pub fn shots_dir() -> PathBuf {
    let dir = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

async fn full(b: &Browser, name: &str, width: u32) {
    let tmp = b.screenshot_full(&format!("shot-{name}"), width).await;
    let to = shots_dir().join(format!("{name}.png"));
    std::fs::rename(&tmp, &to)
        .or_else(|_| std::fs::copy(&tmp, &to).map(|_| ()))
        .expect("move the screenshot");
}

/// `{page}-1280.png`, `{page}-375.png`, `{page}-dark-1280.png` (full page each). Leaves the
/// window at desktop width, light.
pub async fn shoot(b: &Browser, page: &str) {
    full(b, &format!("{page}-1280"), DESKTOP.0).await;
    full(b, &format!("{page}-375"), NARROW.0).await;
    set_dark(b, true).await;
    full(b, &format!("{page}-dark-1280"), DESKTOP.0).await;
    set_dark(b, false).await;
}

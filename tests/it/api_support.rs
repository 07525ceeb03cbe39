//! Shared by the API tests: a client that sends a bearer key (and never a cookie), keys made
//! through the API keys page, and a record of every answer body (to check that no token value
//! ever comes back).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::{Arc, Mutex};

pub const KEYS: &str = "/orgs/acme/settings/api-keys";
pub const API: &str = "/api/v1/orgs/acme";

/// An answer of the API.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn assert_status(&self, s: u16) -> &Answer {
        assert_eq!(self.status.as_u16(), s, "body: {}", self.body);
        self
    }

    /// A problem+json answer with `status`; returns the document.
    pub fn problem(&self, status: u16) -> Value {
        self.assert_status(status);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{}",
            self.body
        );
        let p = self.json();
        assert_eq!(p["status"], status, "{p}");
        for f in ["type", "title", "detail"] {
            assert!(p[f].is_string(), "problem without {f}: {p}");
        }
        p
    }
}

/// A bearer-key client. Every answer body is kept in `seen`.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Api {
    pub fn new(app: &TestApp, key: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
            key: key.to_string(),
            seen: Arc::default(),
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = r.send().await.unwrap();
        let a = Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        };
        self.seen.lock().unwrap().push(a.body.clone());
        a
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(&body.to_string()))
            .await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(reqwest::Method::PATCH, path, Some(&body.to_string()))
            .await
    }
    pub async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// No answer so far contains `value`.
    pub fn assert_never_returned(&self, value: &str) {
        let seen = self.seen.lock().unwrap();
        assert!(!seen.is_empty());
        for b in seen.iter() {
            assert!(
                !b.contains(value),
                "a response contains the token value: {b}"
            );
        }
    }
}

/// Make a key on the API keys page as `owner` (an Owner or Admin of `acme`); returns its value.
pub async fn make_key(owner: &Client, name: &str, role: &str, days: &str) -> String {
    let csrf = owner.session_csrf().await;
    let page = owner
        .post(
            KEYS,
            &[
                ("csrf_token", &csrf),
                ("name", name),
                ("role", role),
                ("expires_in_days", days),
            ],
        )
        .await;
    page.assert_status(200);
    let re = regex::Regex::new(r#"value="(fkp_[0-9a-f]{64})"[^>]*data-api-key-value"#).unwrap();
    re.captures(&page.body)
        .unwrap_or_else(|| panic!("no key shown: {}", page.body))[1]
        .to_string()
}

/// The id of the key named `name` (from the list).
pub async fn key_id(owner: &Client, name: &str) -> String {
    let page = owner.get(KEYS).await;
    let re = regex::Regex::new(
        r#"(?s)<tr data-api-key-id="([^"]+)" data-state="[a-z]+">\s*<th scope="row" data-label="Name">([^<]*)</th>"#,
    )
    .unwrap();
    re.captures_iter(&page.body)
        .find(|c| &c[2] == name)
        .unwrap_or_else(|| panic!("no key {name:?} in {}", page.body))[1]
        .to_string()
}

//! `FORGEKEYS_METRICS_BIND`: the Prometheus endpoint on its own listener, its `forgekeys_*`
//! series moving with requests, token tests, stored tokens and scheduler runs.

use crate::fakes;
use crate::helpers::*;
use crate::lifecycle::{Seed, org_id, state_for};
use crate::tokens_check::{BASE, create};
use chrono::Duration;
use forgekeys::db::now;

async fn scrape(address: &str) -> String {
    let resp = reqwest::get(format!("{address}/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    resp.text().await.unwrap()
}

/// The value of one series (`name{labels}` exactly as exposed), if exposed.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[track_caller]
fn at_least(text: &str, series: &str, min: f64) {
    let v = value(text, series).unwrap_or_else(|| panic!("no {series} in:\n{text}"));
    assert!(v >= min, "{series} = {v}, expected at least {min}");
}

#[tokio::test]
async fn metrics_move_with_requests_tests_tokens_and_scheduler_runs() {
    let gh = fakes::github::start();
    let app = TestApp::builder()
        .github(&gh)
        .with(|o| {
            o.metrics_bind = Some("127.0.0.1:0".into());
            o.recheck_interval = Some("1s".into());
        })
        .start();
    let metrics = app.metrics_address.clone().expect("a metrics listener");
    let quiet = scrape(&metrics).await;
    let page = r#"forgekeys_http_requests_total{method="GET",route="/orgs/{org}/settings/git-tokens/{id}",status="200"}"#;
    assert_eq!(value(&quiet, page), None);
    let tested = r#"forgekeys_token_tests_total{outcome="valid",provider="github"}"#;
    assert_eq!(value(&quiet, tested), Some(0.0));

    let owner = app.owner("acme").await;
    let csrf = owner.session_csrf().await;
    let t = create(&app, &owner, &csrf, "Deploy", "ghp_allscopes_metrics").await;
    for _ in 0..3 {
        owner
            .get(&format!("{BASE}/{}", t.id))
            .await
            .assert_status(200);
    }
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    Seed::bitbucket("soon", "bb_valid_m1")
        .expires(now() + Duration::days(5), "admin")
        .insert(&state, &org);
    Seed::bitbucket("gone", "bb_valid_m2")
        .expires(now() - Duration::days(1), "admin")
        .insert(&state, &org);
    // The public port does not serve them.
    let public = reqwest::get(format!("{}/metrics", app.address))
        .await
        .unwrap();
    assert_eq!(public.status(), 404);

    let text = scrape(&metrics).await;
    assert_eq!(value(&text, page), Some(3.0), "{text}");
    at_least(
        &text,
        r#"forgekeys_http_request_duration_seconds_count{method="GET",route="/orgs/{org}/settings/git-tokens/{id}"}"#,
        3.0,
    );
    at_least(
        &text,
        r#"forgekeys_http_request_duration_seconds_bucket{method="GET",route="/orgs/{org}/settings/git-tokens/{id}",le="+Inf"}"#,
        3.0,
    );
    at_least(
        &text,
        r#"forgekeys_http_requests_total{method="GET",route="unmatched",status="404"}"#,
        0.0,
    );
    // Route patterns only: no token id, organization slug path or setup token in a label.
    assert!(!text.contains(&t.id), "{text}");
    assert!(!text.contains("/orgs/acme"), "{text}");
    assert!(!text.contains("token="), "{text}");
    at_least(&text, tested, 1.0);
    // By status (the scheduler may already have re-tested some): three in all.
    let stored: f64 = text
        .lines()
        .filter(|l| l.starts_with("forgekeys_tokens{status="))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(stored, 3.0, "{text}");
    assert_eq!(value(&text, "forgekeys_tokens_expired"), Some(1.0));
    assert_eq!(
        value(&text, r#"forgekeys_tokens_expiring{within_days="7"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            r#"forgekeys_webhook_deliveries_total{outcome="sent"}"#
        ),
        Some(0.0)
    );

    // The server's own scheduler (every second here) runs and is counted.
    let completed = r#"forgekeys_scheduler_runs_total{outcome="completed"}"#;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let text = loop {
        let text = scrape(&metrics).await;
        if value(&text, completed).unwrap_or(0.0) >= 1.0 {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no completed run:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    at_least(
        &text,
        "forgekeys_scheduler_last_success_timestamp_seconds",
        1.0,
    );
    // The scheduler re-tested the GitHub token through the same client.
    at_least(&text, tested, 2.0);
}

//! The `forgekeys_*` Prometheus metrics (DESIGN.md §10), kept in one in-process registry per
//! server (no global): the counters move as things happen, the token gauges are filled from one
//! grouped query at each scrape (see [`crate::app::metrics`]). [`server`] serves them on
//! `FORGEKEYS_METRICS_BIND`, a listener of its own, never the public port.
//!
//! Every label takes a bounded set of values, so the number of series does not grow with the
//! data: routes are the matched route *patterns* (`/orgs/{slug}/settings/git-tokens/{id}`, never
//! a path with ids), methods the standard ones (anything else is `OTHER`), providers, statuses
//! and outcomes their enums. There is deliberately no organization label: an installation with
//! many organizations would multiply every series by their number; per-organization figures
//! are on the pages and in `forgekeys tokens check`.

pub mod server;

use crate::domain::notification::DeliveryState;
use crate::domain::provider::Provider;
use crate::domain::status::TestStatus;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::sync::Arc;
use std::time::Duration;

/// Request latency buckets, in seconds: pages answer in milliseconds, a token test may take
/// the provider timeout (10 s by default).
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The media type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How a scheduler run ended (`forgekeys_scheduler_runs_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every token was re-tested.
    Completed,
    /// Another process held the lease or ran it recently: nothing done.
    Skipped,
    /// The server was stopping: the tests in flight finished, the rest was left for later.
    Interrupted,
    Failed,
}

impl RunOutcome {
    pub const ALL: [RunOutcome; 4] = [
        RunOutcome::Completed,
        RunOutcome::Skipped,
        RunOutcome::Interrupted,
        RunOutcome::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Completed => "completed",
            RunOutcome::Skipped => "skipped",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Failed => "failed",
        }
    }
}

/// Token counts read at a scrape (see [`crate::app::metrics::token_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenCounts {
    /// Tokens per stored status.
    pub by_status: Vec<(TestStatus, i64)>,
    /// Tokens whose expiry date is past.
    pub expired: i64,
    /// `(days, n)`: tokens not yet expired whose expiry date is within `days`.
    pub expiring: Vec<(i64, i64)>,
}

/// The registry and every metric in it. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    token_tests: IntCounterVec,
    tokens: IntGaugeVec,
    tokens_expired: IntGauge,
    tokens_expiring: IntGaugeVec,
    scheduler_runs: IntCounterVec,
    scheduler_last_success: IntGauge,
    webhook_deliveries: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn counter(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauges(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntGaugeVec> {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

fn gauge(r: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let g = IntGauge::new(name, help)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

/// The standard methods by name; anything else is one `OTHER` series.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero (the bounded label sets pre-filled, so a
    /// `rate()` has a starting point before the first event).
    pub fn new() -> prometheus::Result<Metrics> {
        let r = Registry::new();
        let http_requests = counter(
            &r,
            "forgekeys_http_requests_total",
            "HTTP requests answered, by method, route pattern and status.",
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "forgekeys_http_request_duration_seconds",
                "Time to answer an HTTP request, by method and route pattern.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        r.register(Box::new(http_duration.clone()))?;
        let token_tests = counter(
            &r,
            "forgekeys_token_tests_total",
            "Token tests against a provider, by provider and resulting status.",
            &["provider", "outcome"],
        )?;
        let tokens = gauges(
            &r,
            "forgekeys_tokens",
            "Stored tokens by their last test status (read at scrape time).",
            &["status"],
        )?;
        let tokens_expired = gauge(
            &r,
            "forgekeys_tokens_expired",
            "Stored tokens whose expiry date has passed (read at scrape time).",
        )?;
        let tokens_expiring = gauges(
            &r,
            "forgekeys_tokens_expiring",
            "Stored tokens, not yet expired, that expire within the given number of days (read at scrape time).",
            &["within_days"],
        )?;
        let scheduler_runs = counter(
            &r,
            "forgekeys_scheduler_runs_total",
            "Runs of the token re-check scheduler in this process, by outcome.",
            &["outcome"],
        )?;
        let scheduler_last_success = gauge(
            &r,
            "forgekeys_scheduler_last_success_timestamp_seconds",
            "Unix time at which this process last completed a scheduler run (0: not yet).",
        )?;
        let webhook_deliveries = counter(
            &r,
            "forgekeys_webhook_deliveries_total",
            "Webhook notification delivery attempts, by resulting state (sent, retrying, failed).",
            &["outcome"],
        )?;
        let build = gauges(
            &r,
            "forgekeys_build_info",
            "Always 1; the version of the running binary is a label.",
            &["version"],
        )?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for p in Provider::ALL {
            for s in TestStatus::ALL {
                token_tests.with_label_values(&[p.as_str(), s.as_str()]);
            }
        }
        for o in RunOutcome::ALL {
            scheduler_runs.with_label_values(&[o.as_str()]);
        }
        for s in [
            DeliveryState::Sent,
            DeliveryState::Retrying,
            DeliveryState::Failed,
        ] {
            webhook_deliveries.with_label_values(&[s.as_str()]);
        }
        Ok(Metrics {
            inner: Arc::new(Inner {
                registry: r,
                http_requests,
                http_duration,
                token_tests,
                tokens,
                tokens_expired,
                tokens_expiring,
                scheduler_runs,
                scheduler_last_success,
                webhook_deliveries,
            }),
        })
    }

    /// One answered request. `route` is the matched pattern (or `unmatched`), never the path.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let i = &self.inner;
        i.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        i.http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    pub fn token_test(&self, provider: Provider, outcome: TestStatus) {
        self.inner
            .token_tests
            .with_label_values(&[provider.as_str(), outcome.as_str()])
            .inc();
    }

    /// A scheduler run ended; `finished_at` (Unix seconds) is kept for a completed one.
    pub fn scheduler_run(&self, outcome: RunOutcome, finished_at: i64) {
        self.inner
            .scheduler_runs
            .with_label_values(&[outcome.as_str()])
            .inc();
        if outcome == RunOutcome::Completed {
            self.inner.scheduler_last_success.set(finished_at);
        }
    }

    pub fn webhook_delivery(&self, outcome: DeliveryState) {
        self.inner
            .webhook_deliveries
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    /// Replace the token gauges with a fresh reading.
    pub fn set_token_counts(&self, counts: &TokenCounts) {
        let i = &self.inner;
        for s in TestStatus::ALL {
            i.tokens.with_label_values(&[s.as_str()]).set(0);
        }
        for (s, n) in &counts.by_status {
            i.tokens.with_label_values(&[s.as_str()]).set(*n);
        }
        i.tokens_expired.set(counts.expired);
        i.tokens_expiring.reset();
        for (days, n) in &counts.expiring {
            i.tokens_expiring
                .with_label_values(&[&days.to_string()])
                .set(*n);
        }
    }

    /// Every metric in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.inner.registry.gather(), &mut out) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_move_and_labels_stay_bounded() {
        let m = Metrics::new().unwrap_or_else(|e| panic!("{e}"));
        m.http_request("GET", "/orgs/{slug}", 200, Duration::from_millis(3));
        m.http_request("BREW", "unmatched", 404, Duration::from_millis(1));
        m.token_test(Provider::Github, TestStatus::Valid);
        m.webhook_delivery(DeliveryState::Sent);
        m.scheduler_run(RunOutcome::Completed, 1_700_000_000);
        m.set_token_counts(&TokenCounts {
            by_status: vec![(TestStatus::Valid, 3)],
            expired: 1,
            expiring: vec![(7, 2), (30, 4)],
        });
        let text = m.encode();
        for line in [
            r#"forgekeys_http_requests_total{method="GET",route="/orgs/{slug}",status="200"} 1"#,
            r#"forgekeys_http_requests_total{method="OTHER",route="unmatched",status="404"} 1"#,
            r#"forgekeys_http_request_duration_seconds_count{method="GET",route="/orgs/{slug}"} 1"#,
            r#"forgekeys_token_tests_total{outcome="valid",provider="github"} 1"#,
            r#"forgekeys_token_tests_total{outcome="invalid",provider="gitlab"} 0"#,
            r#"forgekeys_webhook_deliveries_total{outcome="sent"} 1"#,
            r#"forgekeys_scheduler_runs_total{outcome="completed"} 1"#,
            "forgekeys_scheduler_last_success_timestamp_seconds 1700000000",
            r#"forgekeys_tokens{status="valid"} 3"#,
            r#"forgekeys_tokens{status="invalid"} 0"#,
            "forgekeys_tokens_expired 1",
            r#"forgekeys_tokens_expiring{within_days="7"} 2"#,
            r#"forgekeys_build_info{version=""#,
        ] {
            assert!(text.contains(line), "{line} missing in:\n{text}");
        }
    }
}

//! Re-testing every stored token (issue 10): the scheduler and `tokens check` read the tokens a
//! chunk at a time and keep their concurrency bounds whatever the number of tokens.

use crate::helpers::{Options, db, setup_owner, spawn_app_with};
use crate::lifecycle::{Receiver, Seed, org_id, save_webhook, state_for};
use chrono::Duration;
use forgekeys::app::checks::all::{Problem, check_all};
use forgekeys::app::checks::scheduler::{self, Limits};
use forgekeys::db::models::notification::Delivery;
use forgekeys::db::models::status_history::StatusHistory;
use forgekeys::db::now;
use forgekeys::domain::status::TestStatus;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A provider stand-in on 127.0.0.1 that answers 401 to every request. Each answer waits until
/// `width` requests are in flight together (a barrier; after a second it answers anyway), so
/// a client allowed `width` requests at once reaches exactly that; the most ever in flight is
/// recorded.
struct Gate {
    url: String,
    peak: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Gate {
    fn start(width: usize) -> Gate {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let peak = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        // (in flight, release epoch)
        let in_flight = Arc::new(Mutex::new((0usize, 0u64)));
        let (p, r) = (peak.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let (p, r, f) = (p.clone(), r.clone(), in_flight.clone());
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    r.fetch_add(1, Ordering::SeqCst);
                    // Arriving as number `width` releases everyone waiting (a new epoch).
                    let epoch = {
                        let mut g = f.lock().unwrap();
                        g.0 += 1;
                        p.fetch_max(g.0, Ordering::SeqCst);
                        if g.0 >= width {
                            g.1 += 1;
                        }
                        g.1
                    };
                    // Polled rather than a timed condvar wait: those wait for an absolute
                    // deadline of the (faked, under faketime) monotonic clock.
                    let started = std::time::Instant::now();
                    while f.lock().unwrap().1 == epoch
                        && f.lock().unwrap().0 < width
                        && started.elapsed() < std::time::Duration::from_secs(1)
                    {
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    // Counted out before answering: the client starts its next request only
                    // after this answer.
                    f.lock().unwrap().0 -= 1;
                    let body = r#"{"message":"Bad credentials","type":"error","error":{"message":"Token is invalid, expired, or not supported for this endpoint."}}"#;
                    let _ = s.write_all(
                        format!(
                            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\
                             content-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    );
                });
            }
        });
        Gate {
            url,
            peak,
            requests,
        }
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn the_scheduler_tests_every_token_once_in_chunks_with_bounded_concurrency() {
    let gate = Gate::start(2);
    let hook = Receiver::start(&[]);
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(format!("{}/2.0", gate.url)),
        provider_timeout_ms: Some(10_000),
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    save_webhook(&owner, &hook.url).await.assert_status(303);
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    let names: Vec<String> = (0..12).map(|i| format!("bot-{i:02}")).collect();
    let ids: Vec<String> = names
        .iter()
        .map(|n| {
            Seed::bitbucket(n, "bb_rejected_chunk")
                .expires(now() + Duration::days(10), "admin")
                .insert(&state, &org)
        })
        .collect();

    // Chunks of 5 (5 + 5 + 2 tokens), 2 tests at a time.
    let limits = Limits {
        chunk: 5,
        concurrency: 2,
    };
    let r = scheduler::run_once_with(&state, limits).await.unwrap();
    assert!(r.ran);
    assert_eq!(r.tested, 12, "{r:?}");
    assert_eq!(r.skipped, 0, "{r:?}");
    assert_eq!(gate.peak(), 2, "two tests at a time, never more");
    let mut conn = db(&app);
    for id in &ids {
        let h = StatusHistory::list_for_token(&mut conn, id, 10).unwrap();
        assert_eq!(h.len(), 1, "each token tested exactly once: {h:?}");
        assert_eq!(h[0].status, "invalid");
        assert_eq!(h[0].source, "scheduler");
    }
    // Every batch of results queued its notifications: an expiry warning and a status change
    // per token, each sent once.
    assert_eq!(r.notifications.created, 24, "{r:?}");
    assert_eq!(r.notifications.sent, 24, "{r:?}");
    assert_eq!(hook.bodies().len(), 24);
    assert_eq!(Delivery::list_for_org(&mut conn, &org).unwrap().len(), 24);
    for name in &names {
        assert_eq!(
            hook.bodies()
                .iter()
                .filter(|b| b.contains(name.as_str()))
                .count(),
            2,
            "{name}"
        );
    }
    // The default limits hold the same tokens too.
    let r = scheduler::run_once(&state).await.unwrap();
    assert_eq!(r.tested, 12);
    assert_eq!(r.notifications.created, 0, "nothing new: {r:?}");
}

#[tokio::test]
async fn tokens_check_is_a_use_case_with_a_per_host_bound() {
    let gate = Gate::start(2);
    let app = spawn_app_with(Options {
        github_api_url: Some(gate.url.clone()),
        provider_timeout_ms: Some(10_000),
        ..Options::default()
    });
    let _owner = setup_owner(&app, "acme").await;
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    // Inserted in reverse order: the report is by name.
    let names = ["f", "e", "d", "c", "b", "a"];
    for n in names {
        Seed {
            provider: "github",
            workspace: None,
            ..Seed::bitbucket(n, "ghp_rejected_check")
        }
        .insert(&state, &org);
    }

    // 8 tests may run at once, but only 2 against one host.
    let report = check_all(&state, 14, 8, 2).await.unwrap();
    assert_eq!(gate.peak(), 2, "per-host bound");
    assert!(gate.requests.load(Ordering::SeqCst) >= 6);
    let got: Vec<&str> = report.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(got, ["a", "b", "c", "d", "e", "f"]);
    assert!(!report.healthy());
    assert_eq!(report.needing_attention(), 6);
    for r in &report.rows {
        assert_eq!(r.org_slug, "acme");
        assert_eq!(r.status, TestStatus::Invalid);
        assert!(
            matches!(
                r.problem,
                Some(Problem::Failing {
                    status: TestStatus::Invalid,
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(!r.changed_meanwhile);
        // Recorded as a test by `tokens check`.
        let h = StatusHistory::list_for_token(&mut db(&app), r.id.as_str(), 10).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].source, "cli");
    }
}

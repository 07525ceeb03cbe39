//! Expiry watch (issue 4): expiry badges, the attention banner, the re-check scheduler with its
//! status history and lease, webhook notifications (once per threshold, retried, never to a
//! blocked address) and the notification settings page with its role rules.

use crate::fakes;
use crate::helpers::{
    Client, Options, TestApp, db, member, setup_owner, spawn_app, spawn_app_with,
};
use chrono::{Duration, NaiveDateTime};
use forgekeys::app::checks::scheduler;
use forgekeys::app::state::AppState;
use forgekeys::db::models::audit::AuditEvent;
use forgekeys::db::models::lease::Lease;
use forgekeys::db::models::notification::{Delivery, NotificationSettings};
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::status_history::StatusHistory;
use forgekeys::db::models::token::{GitToken, name_key};
use forgekeys::db::{new_id, now};
use forgekeys::domain::role::Role;
use secrecy::SecretString;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

/// The server's state over the test app's database and key file, to run the scheduler
/// deterministically from the test.
pub(crate) fn state_for(app: &TestApp) -> AppState {
    forgekeys::startup::state(&app.config, app.clock.clone()).unwrap()
}

pub(crate) fn org_id(app: &TestApp, slug: &str) -> String {
    Organization::find_by_slug(&mut db(app), slug)
        .unwrap()
        .unwrap()
        .id
}

/// A stored token, encrypted like the app does.
pub(crate) struct Seed<'a> {
    pub(crate) name: &'a str,
    pub(crate) secret: &'a str,
    pub(crate) provider: &'a str,
    pub(crate) workspace: Option<&'a str>,
    pub(crate) status: &'a str,
    pub(crate) expires_at: Option<NaiveDateTime>,
    pub(crate) expiry_source: Option<&'a str>,
    pub(crate) created_at: NaiveDateTime,
}

impl<'a> Seed<'a> {
    pub(crate) fn bitbucket(name: &'a str, secret: &'a str) -> Seed<'a> {
        Seed {
            name,
            secret,
            provider: "bitbucket",
            workspace: Some(fakes::bitbucket::WORKSPACE),
            status: "not_tested",
            expires_at: None,
            expiry_source: None,
            created_at: now(),
        }
    }

    pub(crate) fn expires(mut self, at: NaiveDateTime, source: &'a str) -> Seed<'a> {
        self.expires_at = Some(at);
        self.expiry_source = Some(source);
        self
    }

    pub(crate) fn insert(self, state: &AppState, org_id: &str) -> String {
        let id = new_id();
        let (secret, key_id) = state
            .seal_token(
                &mut state.conn().unwrap(),
                &id,
                &SecretString::from(self.secret.to_string()),
            )
            .unwrap();
        let t = GitToken {
            id: id.clone(),
            org_id: org_id.to_string(),
            name: self.name.to_string(),
            name_key: name_key(self.name),
            provider: self.provider.to_string(),
            hosting: "cloud".into(),
            url: None,
            workspace: self.workspace.map(str::to_string),
            description: None,
            secret,
            key_id,
            hint: "bb_…seed".into(),
            status: self.status.to_string(),
            last_tested_at: None,
            account: None,
            expires_at: self.expires_at,
            expiry_source: self.expiry_source.map(str::to_string),
            last_test: None,
            created_by: None,
            created_at: self.created_at,
            updated_by: None,
            updated_at: self.created_at,
            rotated_at: None,
            username: None,
            identity_key: None,
            version: 1,
            previous_hint: None,
            previous_kind: None,
        };
        GitToken::insert(&mut state.conn().unwrap(), &t).unwrap();
        id
    }
}

/// The `<tr>` of a token on the list page.
fn row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<tr id=\"row-{id}\""))
        .unwrap_or_else(|| panic!("no row for {id}:\n{body}"));
    let end = body[start..].find("</tr>").unwrap() + start;
    &body[start..end]
}

const LIFETIME: &str = "data-lifetime=\"over_1_year\"";

#[tokio::test]
async fn expiry_badges_on_list_and_detail_and_banner_on_org_pages() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    // Before any token: no banner.
    owner
        .get("/orgs/acme/settings/notifications")
        .await
        .assert_status(200)
        .assert_lacks("data-attention");
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    let n = now();
    let expired = Seed::bitbucket("expired", "bb_valid_1")
        .expires(n - Duration::days(2), "admin")
        .insert(&state, &org);
    let soon = Seed::bitbucket("soon", "bb_valid_2")
        .expires(n + Duration::days(3), "admin")
        .insert(&state, &org);
    let month = Seed::bitbucket("month", "bb_valid_3")
        .expires(n + Duration::days(20), "admin")
        .insert(&state, &org);
    let later = Seed::bitbucket("later", "bb_valid_4")
        .expires(n + Duration::days(200), "admin")
        .insert(&state, &org);
    let never = Seed {
        provider: "github",
        workspace: None,
        ..Seed::bitbucket("never", "ghp_noexpiry_1")
    };
    let never = Seed {
        expiry_source: Some("provider"),
        ..never
    }
    .insert(&state, &org);
    let long = Seed::bitbucket("two-years", "bb_valid_5")
        .expires(n + Duration::days(730), "admin")
        .insert(&state, &org);
    // Created 300 days ago with 100 days left: a 400-day lifetime.
    let old = Seed {
        created_at: n - Duration::days(300),
        ..Seed::bitbucket("old-long", "bb_valid_6").expires(n + Duration::days(100), "admin")
    }
    .insert(&state, &org);
    let unknown = Seed::bitbucket("unknown", "bb_valid_7").insert(&state, &org);

    let list = owner.get("/orgs/acme/settings/git-tokens").await;
    list.assert_status(200);
    let b = &list.body;
    let r = row(b, &expired);
    assert!(
        r.contains("data-expiry=\"expired\"") && r.contains("Expired "),
        "{r}"
    );
    let r = row(b, &soon);
    assert!(
        r.contains("data-expiry=\"within_7\"")
            && (r.contains("Expires in 2 days") || r.contains("Expires in 3 days")),
        "{r}"
    );
    assert!(r.contains("badge-danger"), "{r}");
    let r = row(b, &month);
    assert!(
        r.contains("data-expiry=\"within_30\"")
            && (r.contains("Expires in 19 days") || r.contains("Expires in 20 days")),
        "{r}"
    );
    assert!(!r.contains(LIFETIME), "{r}");
    let r = row(b, &later);
    assert!(
        r.contains("data-expiry=\"later\"")
            && r.contains(
                &(n + Duration::days(200))
                    .format("Expires %Y-%m-%d")
                    .to_string()
            ),
        "{r}"
    );
    assert!(!r.contains(LIFETIME), "a 200-day token is fine: {r}");
    let r = row(b, &never);
    assert!(
        r.contains("data-expiry=\"none\"") && r.contains("No expiry set"),
        "{r}"
    );
    let r = row(b, &long);
    assert!(r.contains("data-expiry=\"later\""), "{r}");
    assert!(
        r.contains(LIFETIME) && r.contains("Lifetime over 1 year"),
        "{r}"
    );
    let r = row(b, &old);
    assert!(r.contains(LIFETIME), "lifetime counts from creation: {r}");
    let r = row(b, &unknown);
    assert!(
        r.contains("data-expiry=\"unknown\"") && r.contains("Expiry unknown"),
        "{r}"
    );

    // Detail pages carry the same badges and the advice in words.
    let p = owner
        .get(&format!("/orgs/acme/settings/git-tokens/{long}"))
        .await;
    p.assert_status(200)
        .assert_contains(LIFETIME)
        .assert_contains("Lifetime over 1 year")
        .assert_contains("expire within a year");
    owner
        .get(&format!("/orgs/acme/settings/git-tokens/{soon}"))
        .await
        .assert_contains("data-expiry=\"within_7\"")
        .assert_lacks(LIFETIME);
    owner
        .get(&format!("/orgs/acme/settings/git-tokens/{never}"))
        .await
        .assert_contains("data-expiry=\"none\"")
        .assert_contains("never expires");
    owner
        .get(&format!("/orgs/acme/settings/git-tokens/{expired}"))
        .await
        .assert_contains("data-expiry=\"expired\"");

    // The banner: expired, within 7 and within 30 days = 3 tokens, on every org page.
    for path in [
        "/orgs/acme/settings/git-tokens".to_string(),
        format!("/orgs/acme/settings/git-tokens/{later}"),
        "/orgs/acme/settings/notifications".to_string(),
    ] {
        owner
            .get(&path)
            .await
            .assert_status(200)
            .assert_contains("data-attention=\"3\"")
            .assert_contains("3 tokens need attention");
    }
    let viewer = member(&app, "acme", "viewer@acme.test", Role::Viewer).await;
    viewer
        .get("/orgs/acme/settings/git-tokens")
        .await
        .assert_contains("data-attention=\"3\"");
    // Another organization's pages are not affected.
    let other = member(&app, "other", "o@other.test", Role::Owner).await;
    other
        .get("/orgs/other/settings/git-tokens")
        .await
        .assert_status(200)
        .assert_lacks("data-attention");
}

#[tokio::test]
async fn scheduler_run_records_status_history() {
    let fake = fakes::bitbucket::start();
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&fake)),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    let good = Seed::bitbucket("good", "bb_valid_sched").insert(&state, &org);
    let bad = Seed::bitbucket("bad", "bb_bad_sched").insert(&state, &org);

    let report = scheduler::run_once(&state).await.unwrap();
    assert!(report.ran);
    assert_eq!(report.tested, 2);
    let mut conn = db(&app);
    let h = StatusHistory::list_for_token(&mut conn, &good, 10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].status, "valid");
    assert_eq!(h[0].source, "scheduler");
    let h = StatusHistory::list_for_token(&mut conn, &bad, 10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].status, "invalid");
    assert!(h[0].reason.is_some());
    assert!(!h[0].reason.as_deref().unwrap().contains("bb_bad_sched"));
    assert_eq!(
        GitToken::find(&mut conn, &good).unwrap().unwrap().status,
        "valid"
    );
    assert_eq!(
        GitToken::find(&mut conn, &bad).unwrap().unwrap().status,
        "invalid"
    );

    // A second run adds a row per token; a manual test adds one marked as such.
    scheduler::run_once(&state).await.unwrap();
    assert_eq!(StatusHistory::count_for_token(&mut conn, &good).unwrap(), 2);
    let page = owner
        .get(&format!("/orgs/acme/settings/git-tokens/{good}"))
        .await;
    let csrf = page.csrf();
    owner
        .post(
            &format!("/orgs/acme/settings/git-tokens/{good}/test"),
            &[("csrf_token", &csrf), ("return_to", "detail")],
        )
        .await
        .assert_status(303);
    assert_eq!(StatusHistory::count_for_token(&mut conn, &good).unwrap(), 3);
    let page = owner
        .get(&format!("/orgs/acme/settings/git-tokens/{good}"))
        .await;
    page.assert_status(200)
        .assert_contains("Status history")
        .assert_contains("Scheduled check")
        .assert_contains("Manual test")
        .assert_lacks("bb_valid_sched");
    let page = owner
        .get(&format!("/orgs/acme/settings/git-tokens/{bad}"))
        .await;
    page.assert_contains("<tr data-status=\"invalid\">");
    // Scheduled tests are in the audit trail as such.
    let events = AuditEvent::list_for_token(&mut conn, &good, 10).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "token.test" && e.details.contains("scheduler")),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_lease_allows_one_run_at_a_time() {
    let fake = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(fake.url.clone()),
        provider_timeout_ms: Some(1500),
        ..Options::default()
    });
    let _owner = setup_owner(&app, "acme").await;
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    let slow = Seed {
        provider: "github",
        workspace: None,
        ..Seed::bitbucket("slow", "ghp_slow_lease")
    }
    .insert(&state, &org);

    // Another process holds the lease: a run does nothing.
    {
        let mut conn = db(&app);
        assert!(
            Lease::try_acquire(
                &mut conn,
                scheduler::LEASE_NAME,
                "other-process",
                now(),
                Duration::seconds(300),
                None
            )
            .unwrap()
        );
        assert!(
            !Lease::try_acquire(
                &mut conn,
                scheduler::LEASE_NAME,
                "third-process",
                now(),
                Duration::seconds(300),
                None
            )
            .unwrap(),
            "a held lease cannot be taken"
        );
    }
    let r = scheduler::run_once(&state).await.unwrap();
    assert!(!r.ran);
    assert_eq!(
        StatusHistory::count_for_token(&mut db(&app), &slow).unwrap(),
        0
    );
    // The holder gives it back: runs again.
    Lease::release(&mut db(&app), scheduler::LEASE_NAME, "other-process", now()).unwrap();

    // Two runs started together (two server processes): exactly one runs. The second starts
    // once the first holds the lease and waits on the provider (a gate at the fake, no sleep).
    let gate = fake.hold("/user");
    let s1 = state.clone();
    let s2 = state_for(&app);
    let (a, b) = tokio::join!(
        async move { scheduler::run_once(&s1).await.unwrap() },
        async {
            gate.arrived().await;
            let b = scheduler::run_once(&s2).await.unwrap();
            gate.release();
            b
        }
    );
    assert!(a.ran ^ b.ran, "exactly one run: {a:?} {b:?}");
    assert_eq!(
        StatusHistory::count_for_token(&mut db(&app), &slow).unwrap(),
        1
    );
    let lease = Lease::find(&mut db(&app), scheduler::LEASE_NAME)
        .unwrap()
        .unwrap();
    assert!(lease.holder.is_none(), "released after the run");
    assert!(lease.last_finished_at.is_some());

    // A crashed holder's lease expires and can then be taken.
    assert!(
        Lease::try_acquire(
            &mut db(&app),
            scheduler::LEASE_NAME,
            "crashed",
            now() - Duration::seconds(600),
            Duration::seconds(300),
            None
        )
        .unwrap()
    );
    assert!(scheduler::run_once(&state).await.unwrap().ran);

    // The periodic path also skips when another process finished a run recently.
    let r = scheduler::run_if_due(&state, "p1", std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(!r.ran, "a run finished seconds ago");
    assert_eq!(
        StatusHistory::count_for_token(&mut db(&app), &slow).unwrap(),
        2
    );
}

/// A tiny webhook receiver on 127.0.0.1: records request bodies and answers with queued
/// statuses (200 once the queue is empty).
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) bodies: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    pub(crate) fn start(statuses: &[u16]) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(Mutex::new(
            statuses.iter().copied().collect::<VecDeque<_>>(),
        ));
        let (b, q) = (bodies.clone(), queue);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = s.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break Some(
                                String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string(),
                            );
                        }
                    }
                };
                let Some(body) = body else { continue };
                b.lock().unwrap().push(body);
                let status = q.lock().unwrap().pop_front().unwrap_or(200);
                let _ = s.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    )
                    .as_bytes(),
                );
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/T000/B000/s3cr3tpath"),
            bodies,
        }
    }

    pub(crate) fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

pub(crate) async fn save_webhook(c: &Client, url: &str) -> crate::helpers::Page {
    let page = c.get("/orgs/acme/settings/notifications").await;
    let csrf = page.csrf();
    c.post(
        "/orgs/acme/settings/notifications",
        &[
            ("csrf_token", &csrf),
            ("action", "save"),
            ("webhook_url", url),
        ],
    )
    .await
}

fn set_expiry(app: &TestApp, id: &str, at: NaiveDateTime) {
    let mut conn = db(app);
    let mut t = GitToken::find(&mut conn, id).unwrap().unwrap();
    t.expires_at = Some(at);
    GitToken::save(&mut conn, &t).unwrap();
}

#[tokio::test]
async fn webhook_notified_once_per_threshold_and_status_change_with_retry() {
    let fake = fakes::bitbucket::start();
    let hook = Receiver::start(&[500]);
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&fake)),
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    save_webhook(&owner, &hook.url)
        .await
        .assert_redirect_to("/orgs/acme/settings/notifications");
    let page = owner.get("/orgs/acme/settings/notifications").await;
    page.assert_contains("data-webhook=\"set\"")
        .assert_lacks("s3cr3tpath");
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    let month = Seed::bitbucket("deploy-bot", "bb_valid_hook")
        .expires(now() + Duration::days(20), "admin")
        .insert(&state, &org);

    // Run 1: the 30-day warning; the receiver answers 500 first, the retry (1 s later) works.
    let started = std::time::Instant::now();
    let r = scheduler::run_once(&state).await.unwrap();
    assert!(r.ran);
    assert_eq!(r.notifications.sent, 1, "{r:?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "backoff"
    );
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 2, "one failed attempt, one retry: {bodies:?}");
    let msg: serde_json::Value = serde_json::from_str(&bodies[1]).unwrap();
    let text = msg["text"].as_str().unwrap();
    assert!(
        text.contains("deploy-bot")
            && (text.contains("expires in 19 days") || text.contains("expires in 20 days")),
        "{text}"
    );
    assert!(
        text.contains(&format!("/orgs/acme/settings/git-tokens/{month}")),
        "{text}"
    );
    let deliveries = Delivery::list_for_org(&mut db(&app), &org).unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].state, "sent");
    assert_eq!(deliveries[0].attempts, 2);

    // Run 2: nothing new (each threshold once).
    scheduler::run_once(&state).await.unwrap();
    assert_eq!(hook.bodies().len(), 2);

    // Time passes (5 days left) and another token breaks: the 7-day warning and the status
    // change, once each.
    set_expiry(&app, &month, now() + Duration::days(5));
    let flaky = Seed {
        status: "valid",
        ..Seed::bitbucket("flaky", "bb_bad_hook")
    }
    .insert(&state, &org);
    scheduler::run_once(&state).await.unwrap();
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 4, "{bodies:?}");
    let new: Vec<&String> = bodies[2..].iter().collect();
    assert!(
        new.iter().any(|b| b.contains("deploy-bot")
            && (b.contains("expires in 4 days") || b.contains("expires in 5 days"))),
        "{new:?}"
    );
    assert!(
        new.iter().any(|b| b.contains("flaky")
            && b.contains("is now Invalid")
            && b.contains("was Valid")),
        "{new:?}"
    );
    scheduler::run_once(&state).await.unwrap();
    scheduler::run_once(&state).await.unwrap();
    assert_eq!(hook.bodies().len(), 4, "no repeats");
    for b in hook.bodies() {
        assert!(
            !b.contains("bb_valid_hook") && !b.contains("bb_bad_hook"),
            "{b}"
        );
        assert!(!b.contains("s3cr3tpath"), "{b}");
    }
    let _ = flaky;
    let kinds: Vec<String> = Delivery::list_for_org(&mut db(&app), &org)
        .unwrap()
        .into_iter()
        .map(|d| format!("{}:{}", d.kind, d.state))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds.iter().all(|k| k.ends_with(":sent")), "{kinds:?}");

    // The test button sends once and says so; the page lists what was sent.
    let page = owner.get("/orgs/acme/settings/notifications").await;
    let csrf = page.csrf();
    let r = owner
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "test")],
        )
        .await;
    r.assert_redirect_to("/orgs/acme/settings/notifications");
    assert_eq!(hook.bodies().len(), 5);
    assert!(hook.bodies()[4].contains("test message"));
    let page = owner.get("/orgs/acme/settings/notifications").await;
    page.assert_contains("Test message delivered")
        .assert_contains("Expiry warning")
        .assert_contains("Status change")
        .assert_contains("data-state=\"sent\"");
}

#[tokio::test]
async fn expiry_warnings_follow_the_servers_clock_once_per_threshold() {
    let fake = fakes::bitbucket::start();
    let hook = Receiver::start(&[]);
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&fake)),
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    save_webhook(&owner, &hook.url).await.assert_status(303);
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    // Bitbucket reports no expiry: the admin entered one, 40 days and an hour away.
    Seed::bitbucket("clockwork", "bb_valid_clock")
        .expires(now() + Duration::days(40) + Duration::hours(1), "admin")
        .insert(&state, &org);
    let expiry_messages = || {
        hook.bodies()
            .into_iter()
            .filter(|b| b.contains("clockwork") && b.contains(" expires "))
            .collect::<Vec<_>>()
    };

    // 40 days left: no threshold reached.
    scheduler::run_once(&state).await.unwrap();
    assert!(expiry_messages().is_empty(), "{:?}", hook.bodies());
    // The server's clock moves on; each threshold is sent once, as it is reached.
    for (advance, left, sent) in [(11, 29, 1), (0, 29, 1), (16, 13, 2), (7, 6, 3), (0, 6, 3)] {
        app.clock.advance(Duration::days(advance));
        scheduler::run_once(&state).await.unwrap();
        let msgs = expiry_messages();
        assert_eq!(msgs.len(), sent, "after {advance} more days: {msgs:?}");
        assert!(
            msgs.last()
                .unwrap()
                .contains(&format!("expires in {left} days")),
            "{msgs:?}"
        );
    }
    // The list page counts days from the same clock. (Sessions live on that clock too: the
    // one from 34 days ago has ended, so sign in again.)
    owner
        .get("/orgs/acme/settings/git-tokens")
        .await
        .assert_redirect_to("/login");
    owner
        .login("owner@acme.test", crate::helpers::PASSWORD)
        .await;
    owner
        .get("/orgs/acme/settings/git-tokens")
        .await
        .assert_contains("Expires in 6 days")
        .assert_contains("data-attention");
    // Past the expiry: no more warnings, and the badge says expired.
    app.clock.advance(Duration::days(7));
    scheduler::run_once(&state).await.unwrap();
    assert_eq!(expiry_messages().len(), 3);
    owner
        .login("owner@acme.test", crate::helpers::PASSWORD)
        .await;
    owner
        .get("/orgs/acme/settings/git-tokens")
        .await
        .assert_contains("data-expiry=\"expired\"");
}

#[tokio::test]
async fn failed_delivery_is_retried_on_the_next_run() {
    let fake = fakes::bitbucket::start();
    let hook = Receiver::start(&[500, 503, 500]);
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&fake)),
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    save_webhook(&owner, &hook.url).await.assert_status(303);
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    Seed::bitbucket("expiring", "bb_valid_retry")
        .expires(now() + Duration::days(10), "admin")
        .insert(&state, &org);
    let r = scheduler::run_once(&state).await.unwrap();
    assert_eq!(r.notifications.retrying, 1, "{r:?}");
    assert_eq!(hook.bodies().len(), 3, "three attempts in the run");
    let d = &Delivery::list_for_org(&mut db(&app), &org).unwrap()[0];
    assert_eq!(d.state, "retrying");
    assert_eq!(d.attempts, 3);
    assert!(
        d.last_error.as_deref().unwrap_or("").contains("HTTP 500"),
        "{d:?}"
    );
    assert!(!d.last_error.as_deref().unwrap_or("").contains("s3cr3tpath"));
    owner
        .get("/orgs/acme/settings/notifications")
        .await
        .assert_contains("Will retry");
    // Next run: delivered, and only that one message (the 14-day warning).
    let r = scheduler::run_once(&state).await.unwrap();
    assert_eq!(r.notifications.sent, 1, "{r:?}");
    assert_eq!(hook.bodies().len(), 4);
    let d = &Delivery::list_for_org(&mut db(&app), &org).unwrap()[0];
    assert_eq!(d.state, "sent");
    assert_eq!(d.attempts, 4);
    scheduler::run_once(&state).await.unwrap();
    assert_eq!(hook.bodies().len(), 4);
}

#[tokio::test]
async fn webhook_never_sent_to_a_blocked_address() {
    let fake = fakes::bitbucket::start();
    let hook = Receiver::start(&[]);
    // No FORGEKEYS_OUTBOUND_ALLOW: loopback is blocked for user-supplied URLs.
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&fake)),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let r = save_webhook(&owner, &hook.url).await;
    r.assert_status(422)
        .assert_contains("may not be used")
        .assert_contains("loopback")
        .assert_contains("aria-invalid=\"true\"");
    owner
        .get("/orgs/acme/settings/notifications")
        .await
        .assert_contains("data-webhook=\"none\"");
    // Saved while allowed (or written by an older version): sending still refuses it.
    let org = org_id(&app, "acme");
    NotificationSettings::save(
        &mut db(&app),
        &NotificationSettings {
            org_id: org.clone(),
            webhook_secret: None,
            webhook_key_id: None,
            webhook_url_hint: String::new(),
            // As an older version stored it: the next start (`state_for`) seals it.
            legacy_webhook_url: Some(hook.url.clone()),
            updated_by: None,
            updated_at: now(),
        },
    )
    .unwrap();
    let state = state_for(&app);
    Seed::bitbucket("expiring", "bb_valid_blocked")
        .expires(now() + Duration::days(6), "admin")
        .insert(&state, &org);
    let r = scheduler::run_once(&state).await.unwrap();
    assert_eq!(r.notifications.failed, 1, "{r:?}");
    assert!(hook.bodies().is_empty(), "the receiver was contacted");
    let d = &Delivery::list_for_org(&mut db(&app), &org).unwrap()[0];
    assert_eq!(d.state, "failed");
    assert_eq!(d.attempts, 1, "a blocked address is not retried");
    assert!(
        d.last_error.as_deref().unwrap_or("").contains("blocked"),
        "{d:?}"
    );
    // Not retried on later runs either.
    scheduler::run_once(&state).await.unwrap();
    assert!(hook.bodies().is_empty());
    // The test button says why.
    let page = owner.get("/orgs/acme/settings/notifications").await;
    let csrf = page.csrf();
    owner
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "test")],
        )
        .await
        .assert_status(303);
    owner
        .get("/orgs/acme/settings/notifications")
        .await
        .assert_contains("not delivered: blocked")
        .assert_contains("data-state=\"failed\"");
    assert!(hook.bodies().is_empty());
}

#[tokio::test]
async fn notification_settings_validation_and_audit() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let page = owner.get("/orgs/acme/settings/notifications").await;
    page.assert_status(200)
        .assert_contains("<label for=\"webhook_url\">")
        .assert_contains("aria-current=\"page\">Notifications")
        .assert_lacks("Send test message");
    for (input, message) in [
        ("", "Enter the webhook URL."),
        ("   ", "Enter the webhook URL."),
        ("hooks.example.com/x", "Enter a full URL"),
        ("ftp://example.com/x", "must start with https://"),
        (
            "https://user:pw@example.com/x",
            "Remove the user name and password",
        ),
        ("http://93.184.216.34/hook", "plain http"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]:8443/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://no-such-host.invalid/hook", "could not be resolved"),
    ] {
        let r = save_webhook(&owner, input).await;
        r.assert_status(422).assert_contains(message);
        r.assert_contains("role=\"alert\"");
    }
    let long = format!("https://example.com/{}", "a".repeat(2100));
    save_webhook(&owner, &long)
        .await
        .assert_status(422)
        .assert_contains("too long");
    let csrf = owner.session_csrf().await;
    owner
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "test")],
        )
        .await
        .assert_status(422)
        .assert_contains("Save a webhook URL first");
    owner
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "explode")],
        )
        .await
        .assert_status(400)
        .assert_contains("Unknown action");
    // No CSRF token: refused.
    let r = owner
        .post("/orgs/acme/settings/notifications", &[("action", "remove")])
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);

    // A valid public https URL (IP literal: no DNS needed) is saved and audited without value.
    save_webhook(&owner, "https://93.184.216.34/services/T1/B2/secretpart")
        .await
        .assert_redirect_to("/orgs/acme/settings/notifications");
    let page = owner.get("/orgs/acme/settings/notifications").await;
    page.assert_contains("Webhook saved")
        .assert_contains("https://93.184.216.34/…")
        .assert_contains("Send test message")
        .assert_lacks("secretpart");
    let csrf = page.csrf();
    owner
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "remove")],
        )
        .await
        .assert_redirect_to("/orgs/acme/settings/notifications");
    owner
        .get("/orgs/acme/settings/notifications")
        .await
        .assert_contains("Webhook removed")
        .assert_contains("data-webhook=\"none\"");
    let org = org_id(&app, "acme");
    let events = AuditEvent::list_for_org(&mut db(&app), &org, 50).unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"notifications.update"), "{actions:?}");
    assert!(actions.contains(&"notifications.remove"), "{actions:?}");
    for e in &events {
        assert!(
            !e.details.contains("secretpart") && !e.details.contains("93.184"),
            "{e:?}"
        );
    }
    let e = events
        .iter()
        .find(|e| e.action == "notifications.update")
        .unwrap();
    assert_eq!(e.actor_email.as_deref(), Some("owner@acme.test"));
}

#[tokio::test]
async fn notification_settings_role_rules() {
    let app = spawn_app();
    let _owner = setup_owner(&app, "acme").await;
    for (email, role) in [
        ("admin@acme.test", Role::Admin),
        ("devops@acme.test", Role::Devops),
    ] {
        let c = member(&app, "acme", email, role).await;
        c.get("/orgs/acme/settings/notifications")
            .await
            .assert_status(200);
        let csrf = c.session_csrf().await;
        c.post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "remove")],
        )
        .await
        .assert_status(303);
    }
    for (email, role) in [
        ("viewer@acme.test", Role::Viewer),
        ("billing@acme.test", Role::Billing),
    ] {
        let c = member(&app, "acme", email, role).await;
        let r = c.get("/orgs/acme/settings/notifications").await;
        r.assert_status(403).assert_contains("Owner");
        let csrf = c.session_csrf().await;
        c.post(
            "/orgs/acme/settings/notifications",
            &[
                ("csrf_token", &csrf),
                ("action", "save"),
                ("webhook_url", "https://93.184.216.34/x"),
            ],
        )
        .await
        .assert_status(403);
        // The sidebar offers no link they cannot use.
        if role == Role::Viewer {
            c.get("/orgs/acme/settings/git-tokens")
                .await
                .assert_lacks("/settings/notifications");
        }
    }
    assert!(
        NotificationSettings::find(&mut db(&app), &org_id(&app, "acme"))
            .unwrap()
            .is_none()
    );
    let outsider = member(&app, "other", "x@other.test", Role::Owner).await;
    outsider
        .get("/orgs/acme/settings/notifications")
        .await
        .assert_status(404);
    let csrf = outsider.session_csrf().await;
    outsider
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", &csrf), ("action", "remove")],
        )
        .await
        .assert_status(404);
    // Signed out: to the login page.
    let anon = Client::new(&app);
    let r = anon.get("/orgs/acme/settings/notifications").await;
    assert!(
        r.status.is_redirection() || r.status.as_u16() == 401,
        "{}",
        r.status
    );
}

#[tokio::test]
async fn the_server_runs_the_scheduler_on_its_interval() {
    let fake = fakes::bitbucket::start();
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&fake)),
        recheck_interval: Some("1s".into()),
        ..Options::default()
    });
    let _owner = setup_owner(&app, "acme").await;
    let state = state_for(&app);
    let id = Seed::bitbucket("watched", "bb_valid_interval").insert(&state, &org_id(&app, "acme"));
    let mut seen = 0;
    for _ in 0..50 {
        seen = StatusHistory::count_for_token(&mut db(&app), &id).unwrap();
        if seen >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(seen >= 2, "the background scheduler ran {seen} time(s)");
    let h = StatusHistory::list_for_token(&mut db(&app), &id, 1).unwrap();
    assert_eq!(h[0].source, "scheduler");
    assert_eq!(h[0].status, "valid");
}

#[tokio::test]
async fn one_day_threshold_is_notified_exactly_once() {
    let fake = fakes::bitbucket::start();
    let hook = Receiver::start(&[]);
    let app = spawn_app_with(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&fake)),
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    save_webhook(&owner, &hook.url)
        .await
        .assert_redirect_to("/orgs/acme/settings/notifications");
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    let id = Seed::bitbucket("day-bot", "bb_valid_day")
        .expires(now() + Duration::hours(20), "admin")
        .insert(&state, &org);

    let r = scheduler::run_once(&state).await.unwrap();
    assert!(r.ran);
    assert_eq!(r.notifications.sent, 1, "{r:?}");
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1, "exactly one message: {bodies:?}");
    let msg: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    let text = msg["text"].as_str().unwrap();
    assert!(
        text.contains("day-bot") && text.contains("expires in less than a day"),
        "{text}"
    );
    assert!(!text.contains("bb_valid_day"), "{text}");
    let deliveries = Delivery::list_for_org(&mut db(&app), &org).unwrap();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0].kind, "expiry");
    assert_eq!(deliveries[0].token_id.as_deref(), Some(id.as_str()));
    assert!(
        deliveries[0].dedup_key.ends_with(":1"),
        "the 1-day threshold, not a wider one: {}",
        deliveries[0].dedup_key
    );
    assert_eq!(deliveries[0].state, "sent");

    // A second run sends nothing more.
    let r = scheduler::run_once(&state).await.unwrap();
    assert!(r.ran);
    assert_eq!(r.notifications.sent, 0, "{r:?}");
    assert_eq!(hook.bodies().len(), 1, "no repeat");
    assert_eq!(
        Delivery::list_for_org(&mut db(&app), &org).unwrap().len(),
        1
    );
}

//! Two server processes on one PostgreSQL behave as one (DESIGN.md §10): a session started on
//! one continues on the other, the sign-in throttle counts attempts on both, and one scheduler
//! run happens at a time. PostgreSQL only (skipped, with a line saying so, on SQLite).

use crate::fakes;
use crate::helpers::*;
use crate::lifecycle::{Seed, org_id};
use forgekeys::app::checks::scheduler;
use forgekeys::db::models::status_history::StatusHistory;
use reqwest::cookie::Jar;
use std::sync::Arc;

const OWNER: &str = "owner@acme.test";
const TOKENS: &str = "/orgs/acme/settings/git-tokens";

fn postgres_only(test: &str) -> bool {
    if backend() == "postgres" {
        return true;
    }
    eprintln!(
        "{test}: skipped (two processes on one database is a PostgreSQL deployment; set TEST_POSTGRES_URL)"
    );
    false
}

/// A browser over `jar` talking to `app` (cookies are per host, so one jar serves both
/// processes as one browser would behind a load balancer).
fn browser(app: &TestApp, jar: &Arc<Jar>) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", app.address.parse().unwrap());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    Client {
        http,
        base: app.address.clone(),
    }
}

#[tokio::test]
async fn a_session_started_on_one_process_continues_on_the_other() {
    if !postgres_only("a_session_started_on_one_process_continues_on_the_other") {
        return;
    }
    let one = spawn_app();
    setup_owner(&one, "acme").await;
    let two = TestApp::builder().same_database_as(&one).start();
    let jar = Arc::new(Jar::default());
    let (on_one, on_two) = (browser(&one, &jar), browser(&two, &jar));
    on_one
        .login(OWNER, PASSWORD)
        .await
        .assert_redirect_to("/orgs");

    // An authenticated page and a POST with the session's CSRF token, on the other process.
    let page = on_two.get(TOKENS).await;
    page.assert_status(200)
        .assert_contains("Git Repository Access");
    let csrf = page.csrf();
    on_two
        .post("/logout", &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to("/login");
    // The session ended for both.
    on_one.get(TOKENS).await.assert_redirect_to("/login");
}

#[tokio::test]
async fn the_sign_in_throttle_counts_attempts_on_both_processes() {
    if !postgres_only("the_sign_in_throttle_counts_attempts_on_both_processes") {
        return;
    }
    let one = spawn_app();
    setup_owner(&one, "acme").await;
    let two = TestApp::builder().same_database_as(&one).start();
    let (a, b) = (Client::new(&one), Client::new(&two));
    for i in 1..=5 {
        let c = if i % 2 == 0 { &b } else { &a };
        c.login(OWNER, &format!("wrong {i}"))
            .await
            .assert_status(401);
    }
    // Three on one, two on the other: the e-mail's five are used up on both.
    a.login(OWNER, PASSWORD).await.assert_status(429);
    b.login(OWNER, PASSWORD).await.assert_status(429);
}

#[tokio::test]
async fn two_processes_running_a_scheduler_step_at_once_test_each_token_once() {
    if !postgres_only("two_processes_running_a_scheduler_step_at_once_test_each_token_once") {
        return;
    }
    let gh = fakes::github::start();
    let one = TestApp::builder().github(&gh).start();
    setup_owner(&one, "acme").await;
    let two = TestApp::builder()
        .github(&gh)
        .same_database_as(&one)
        .start();
    let org = org_id(&one, "acme");
    let ids: Vec<String> = (0..3)
        .map(|i| {
            let name = format!("tok-{i}");
            let secret = format!("ghp_two_processes_{i}");
            Seed {
                provider: "github",
                workspace: None,
                ..Seed::bitbucket(&name, &secret)
            }
            .insert(&one.state, &org)
        })
        .collect();

    // Both servers' own states start a run together; the second once the first holds the
    // lease and waits on the provider (a gate at the fake, no sleep).
    let gate = gh.hold("/user");
    let (s1, s2) = (one.state.clone(), two.state.clone());
    let (r1, r2) = tokio::join!(
        async move { scheduler::run_once(&s1).await.unwrap() },
        async {
            gate.arrived().await;
            let r = scheduler::run_once(&s2).await.unwrap();
            gate.release();
            r
        }
    );
    assert!(r1.ran ^ r2.ran, "exactly one run: {r1:?} {r2:?}");
    assert_eq!(r1.tested + r2.tested, ids.len());
    for id in &ids {
        assert_eq!(
            StatusHistory::count_for_token(&mut db(&one), id).unwrap(),
            1,
            "token {id} tested once"
        );
    }
}

//! Issue 13, items 13 and 15: one wording for an expiry, relative to the app's clock with the
//! exact UTC time in a `<time>` (list badge, token page, test result), and error pages with the
//! header of every page: a signed-in user can sign out from a 403.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::forms::{BASE, Form, env};
use crate::helpers::*;
use crate::lifecycle::{Seed, org_id, state_for};
use chrono::Duration;
use forgekeys::domain::role::Role;

/// `<time datetime="…Z" title="… UTC">WORDS</time>` is on the page `count` times or more.
#[track_caller]
fn assert_time_words(p: &Page, words: &str, count: usize, what: &str) {
    let re = regex::Regex::new(&format!(
        r#"<time datetime="\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="\d{{4}}-\d\d-\d\d \d\d:\d\d UTC">{}</time>"#,
        regex::escape(words)
    ))
    .unwrap();
    let n = re.find_iter(&p.body).count();
    assert!(
        n >= count,
        "{what}: {words:?} in a <time> {n} time(s), wanted {count}:\n{}",
        p.body
    );
}

#[tokio::test]
async fn expiry_reads_the_same_on_the_list_the_token_page_and_the_test_result() {
    let gh = fakes::github::start();
    let e = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;
    // 18 days and 2 hours from the fake's start: "in 18 days" whatever the seconds the test takes.
    let form = Form::github("ghp_allscopes_exp+434h_times13").name("Eighteen days");
    // The result of a test without saving.
    let frag = e.test_htmx(&form).await;
    frag.assert_status(200).assert_lacks("days left");
    assert_time_words(&frag, "Expires in 18 days", 1, "test result");
    let t = e.create_ok(&form).await;

    let list = e.owner.get(BASE).await;
    list.assert_status(200);
    assert_time_words(&list, "Expires in 18 days", 1, "list badge");
    // The token page: the badge, the Expiry fact and the last test result say the same.
    let page = e.owner.get(&format!("{BASE}/{}", t.id)).await;
    page.assert_status(200).assert_lacks("days left");
    assert_time_words(&page, "Expires in 18 days", 3, "token page");

    // Expired 3 days ago, by the app's clock; and a token without expiry stays neutral.
    let state = state_for(&e.app);
    let org = org_id(&e.app, "acme");
    let now = e.app.clock.naive();
    let gone = Seed::bitbucket("Gone", "bb_valid_gone13")
        .expires(now - Duration::days(3) - Duration::hours(2), "admin")
        .insert(&state, &org);
    let never = Seed {
        expiry_source: Some("provider"),
        ..Seed::bitbucket("Forever", "bb_valid_never13")
    }
    .insert(&state, &org);
    let list = e.owner.get(BASE).await;
    assert_time_words(&list, "Expired 3 days ago", 1, "expired badge");
    let page = e.owner.get(&format!("{BASE}/{gone}")).await;
    assert_time_words(&page, "Expired 3 days ago", 2, "expired token page");
    e.owner
        .get(&format!("{BASE}/{never}"))
        .await
        .assert_contains(
            r#"<span class="badge badge-muted" data-expiry="none">No expiry set</span>"#,
        );

    // Five days on, by the app's clock, the same words count from the new "now".
    e.app.clock.advance(Duration::days(5));
    e.owner.login("owner@acme.test", PASSWORD).await;
    let list = e.owner.get(BASE).await;
    list.assert_status(200);
    assert_time_words(&list, "Expires in 13 days", 1, "list badge after 5 days");
    assert_time_words(&list, "Expired 8 days ago", 1, "expired badge after 5 days");
    // The inventory uses the same words, with the date for paper.
    let inv = e.owner.get(&format!("{BASE}/inventory")).await;
    assert_time_words(&inv, "Expires in 13 days", 1, "inventory");
    inv.assert_contains(&format!(
        "expires {}",
        t.expires_at.unwrap().format("%Y-%m-%d")
    ));
}

/// The sign-out form of the page's header: its CSRF token.
#[track_caller]
fn sign_out_csrf(p: &Page) -> String {
    let re = regex::Regex::new(
        r#"<form method="post" action="/logout" class="inline">\s*<input type="hidden" name="csrf_token" value="([^"]+)">"#,
    )
    .unwrap();
    match re.captures(&p.body) {
        Some(c) => c[1].to_string(),
        None => panic!("no sign-out form in the header:\n{}", p.body),
    }
}

#[tokio::test]
async fn error_pages_have_the_signed_in_header_and_its_sign_out_works() {
    let app = spawn_app();
    let _owner = setup_owner(&app, "acme").await;
    let billing = member(&app, "acme", "billing@acme.test", Role::Billing).await;

    // A 403 inside the organization: the header with the e-mail and a working sign-out form.
    let p = billing.get("/orgs/acme/settings/git-tokens").await;
    p.assert_status(403)
        .assert_contains("Not allowed")
        .assert_contains("<header class=\"topbar\">")
        .assert_contains("billing@acme.test");
    let csrf = sign_out_csrf(&p);
    // The same header on a 404 for an unknown path, and on a 404 of an unknown organization.
    for path in ["/no-such-page", "/orgs/nope/settings/git-tokens"] {
        let p = billing.get(path).await;
        p.assert_status(404).assert_contains("billing@acme.test");
        assert_eq!(sign_out_csrf(&p), csrf, "{path}");
    }
    // HTMX still gets the small message, not a page.
    billing
        .get_htmx("/orgs/acme/settings/git-tokens", "main")
        .await
        .assert_status(403)
        .assert_lacks("<header")
        .assert_lacks("/logout");

    let out = billing.post("/logout", &[("csrf_token", &csrf)]).await;
    out.assert_redirect_to("/login");
    // The session is gone: pages send to the sign-in page, error pages have no sign-out form.
    billing.get("/orgs").await.assert_redirect_to("/login");
    billing
        .get("/no-such-page")
        .await
        .assert_status(404)
        .assert_contains("<header class=\"topbar\">")
        .assert_lacks("billing@acme.test")
        .assert_lacks("/logout")
        .assert_lacks("csrf_token");
    // Nobody signed in at all: the header without the sign-out form.
    Client::new(&app)
        .get("/no-such-page")
        .await
        .assert_status(404)
        .assert_contains("Page not found")
        .assert_lacks("/logout");
}

#[tokio::test]
async fn a_rejected_token_gets_no_green_expiry_badge_on_the_list_or_the_inventory() {
    let gh = fakes::github::start();
    let e = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;
    let state = state_for(&e.app);
    let org = org_id(&e.app, "acme");
    let later = e.app.clock.naive() + Duration::days(200);
    Seed {
        status: "invalid",
        ..Seed::bitbucket("Rejected", "bb_invalid_green13").expires(later, "admin")
    }
    .insert(&state, &org);
    // A far expiry says nothing good about a token the provider rejects: neutral, not green.
    for page in [BASE.to_string(), format!("{BASE}/inventory")] {
        let p = e.owner.get(&page).await;
        p.assert_status(200)
            .assert_contains("badge-muted")
            .assert_lacks("badge badge-ok");
    }
}

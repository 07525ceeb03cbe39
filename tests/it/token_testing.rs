//! Issue 3 ("Token testing") at the HTTP level: the real provider clients behind the form
//! endpoints, against the fake providers.
//!
//! - `POST …/git-tokens/test` as HTMX (result fragment) and without JS (whole form page),
//! - `POST …/git-tokens` (saves only a passing token),
//! - `POST …/git-tokens/{id}/test` (HTMX row update, stored status/time/account/expiry),
//! - outbound safety through the forms: blocked addresses, cross-origin redirects, and an edit
//!   that changes the URL without a new token value.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::forms::*;
use crate::helpers::*;
use forgekeys::db::models::token::GitToken;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ GitHub

/// Requests of one test of a classic token with every scope: `/user`, `/user/repos` (the
/// repository the clone check runs on) and Git's `info/refs`.
const CLASSIC_TEST_REQUESTS: usize = 3;

const CLASSIC_FIX: &str =
    "Settings → Developer settings → Personal access tokens → Tokens (classic)";

#[tokio::test]
async fn github_results_through_the_form_endpoints() {
    let gh = fakes::github::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;
    // The expiry each token reports (fakes/dates.rs), as the page shows it.
    let shown = |t: &str| fakes::dates::page_minute(fakes::dates::github_expiry(gh.anchor, t));
    let (classic_exp, fine_exp) = (shown("ghp_allscopes_form"), shown("github_pat_good_form"));
    let reset = fakes::github::rate_reset(gh.anchor).format("retry after %Y-%m-%d %H:%M:%S UTC");
    let reset = reset.to_string();
    let cases: Vec<(&str, Expect)> = vec![
        (
            "ghp_allscopes_form",
            expect(
                "valid",
                &[
                    "octocat",
                    "personal access token (classic)",
                    &classic_exp,
                    "<code>admin:repo_hook</code>",
                ],
                &[],
            ),
        ),
        (
            "ghp_adminorg_form",
            expect("valid", &["octocat", "<code>read:org</code>"], &[]),
        ),
        (
            "ghp_repoonly_form",
            expect(
                "missing_permissions",
                &[
                    "octocat",
                    "lacks 2 required permissions",
                    CLASSIC_FIX,
                    "tick “admin:repo_hook”",
                    "“repo” already covers repository webhooks",
                    "tick “read:org”",
                    "belongs to an organization",
                ],
                &["admin:repo_hook", "read:org"],
            ),
        ),
        (
            "ghp_inorgs_form",
            expect(
                "missing_permissions",
                &["tick “read:org”", "“admin:org” also satisfy this"],
                &["read:org"],
            ),
        ),
        (
            "ghp_noorgs_form",
            expect(
                "valid",
                &["“read:org” is recommended", "belongs to no organization"],
                &[],
            ),
        ),
        (
            "ghp_noexpiry_form",
            expect("valid", &["never expires", "This token never expires"], &[]),
        ),
        (
            "github_pat_good_form",
            expect(
                "valid",
                &[
                    "octocat",
                    "fine-grained personal access token",
                    "Write permissions cannot be verified",
                    &fine_exp,
                ],
                &[],
            ),
        ),
        (
            "github_pat_nohooks_form",
            expect(
                "missing_permissions",
                &[
                    "fine-grained",
                    "Webhooks: Read and write",
                    "Resource not accessible by personal access token",
                ],
                &["repository_hooks=read"],
            ),
        ),
        (
            "ghp_bad_form",
            expect("invalid", &["The provider rejected the token.", "401"], &[]),
        ),
        (
            // Expired 60 days ago: GitHub revoked it, and a 401 does not say why. Without an
            // expiry known from an earlier test this is `invalid`.
            "ghp_allscopes_exp-60d_form",
            expect("invalid", &["The provider rejected the token.", "401"], &[]),
        ),
        (
            "ghp_ratelimited_form",
            expect("error", &["rate limited by GitHub", &reset], &[]),
        ),
        (
            "ghp_5xx_form",
            expect("error", &["answered unexpectedly", "HTTP 500"], &[]),
        ),
    ];
    for (token, e) in &cases {
        through_forms(&env, &Form::github(token), e).await;
    }
    // Every token reached the configured GitHub, with its own value, and nothing else did.
    for (token, _) in &cases {
        assert!(gh.saw_token(token), "{token} never reached the fake");
    }
    // Nothing was saved by testing.
    env.owner
        .get(BASE)
        .await
        .assert_status(200)
        .assert_contains("No tokens yet");
}

#[tokio::test]
async fn github_timeout_is_unreachable_through_the_form() {
    let gh = fakes::github::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        provider_timeout_ms: Some(500),
        ..Default::default()
    })
    .await;
    let f = Form::github("ghp_slow_form");
    let started = Instant::now();
    let frag = env.test_htmx(&f).await;
    let took = started.elapsed();
    check_result(
        &frag,
        &f,
        &expect("unreachable", &["could not be reached", "timed out"], &[]),
        "htmx",
    );
    assert!(took < Duration::from_millis(2500), "took {took:?}");
    // The create form says the same and saves nothing.
    let p = env.create(&f).await;
    p.assert_status(422)
        .assert_contains("Not saved")
        .assert_contains("timed out");
    assert_eq!(result_status(&p), "unreachable");
    assert!(env.token_named(&f.name).is_none());
}

#[tokio::test]
async fn github_enterprise_server_through_the_users_url() {
    let cloud = fakes::github::start();
    let ghes = fakes::github::start_ghes();
    let env = env(Options {
        github_api_url: Some(cloud.url.clone()),
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    // 10 days and 2 hours: "Expires in 10 days" whatever the seconds the test takes.
    let f = Form::self_hosted("github", "ghp_allscopes_exp+242h_ghes", &ghes.url);
    let exp = fakes::dates::github_expiry(ghes.anchor, &f.token);
    through_forms(
        &env,
        &f,
        &expect(
            "valid",
            &[
                "octocat",
                fakes::github::GHES_VERSION,
                &fakes::dates::page_minute(exp),
                "Expires in 10 days",
            ],
            &[],
        ),
    )
    .await;
    let reqs = ghes.requests();
    assert!(!reqs.is_empty());
    // The API under /api/v3 of the user's URL, then the clone check on that server's Git.
    assert!(
        reqs.iter().all(|r| [
            "/api/v3/user",
            "/api/v3/user/repos?per_page=100",
            "/acme/app-01.git/info/refs?service=git-upload-pack"
        ]
        .contains(&r.path.as_str())),
        "{reqs:?}"
    );
    cloud.assert_untouched();
    // Saved with the URL it was tested with.
    let t = env.create_ok(&f).await;
    assert_eq!(t.url.as_deref(), Some(ghes.url.as_str()));
    assert_eq!(t.status, "valid");
    cloud.assert_untouched();
}

// ------------------------------------------------------------------ GitLab

#[tokio::test]
async fn gitlab_results_through_the_form_endpoints() {
    let gl = fakes::gitlab::start();
    let own = fakes::gitlab::start(); // a self-managed instance
    let env = env(Options {
        gitlab_url: Some(gl.url.clone()),
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    let gl_exp = fakes::dates::gitlab_date(fakes::dates::gitlab_expiry(
        gl.anchor,
        "glpat-maintainer_form",
    ));
    let cases: Vec<(Form, Expect)> = vec![
        (
            Form::gitlab("glpat-maintainer_form"),
            expect(
                "valid",
                &["project_17_bot_3f1a2b", "Test/test-project", &gl_exp],
                &[],
            ),
        ),
        (
            Form::gitlab("glpat-owner_form"),
            expect("valid", &["alice", "never expires"], &[]),
        ),
        (
            Form::gitlab("glpat-developer_form"),
            expect(
                "missing_permissions",
                &["Maintainer (40) or Owner (50)", "Manage → Members"],
                &["Maintainer or Owner role"],
            ),
        ),
        (
            Form::gitlab("glpat-noapi_form"),
            expect(
                "missing_permissions",
                &["GitLab cannot add scopes", "Missing: “api”"],
                &["api"],
            ),
        ),
        (
            Form::gitlab("glpat-expired_form"),
            expect("expired", &["The token has expired.", "expired"], &[]),
        ),
        (
            Form::gitlab("glpat-revoked_form"),
            expect("invalid", &["revoked"], &[]),
        ),
        (
            // Its date passed 60 days ago: GitLab answers "Token is expired" on every route.
            Form::gitlab("glpat-maintainer_exp-60d_form"),
            expect("expired", &["The token has expired."], &[]),
        ),
        (
            Form::self_hosted("gitlab", "glpat-maintainer_own", &own.url),
            expect(
                "valid",
                &["project_17_bot_3f1a2b", "Test/test-project"],
                &[],
            ),
        ),
    ];
    for (f, e) in &cases {
        through_forms(&env, f, e).await;
    }
    // The self-managed token went to the user's URL only; the others to GitLab.com only.
    assert!(own.saw_token("glpat-maintainer_own"));
    assert!(!gl.saw_token("glpat-maintainer_own"));
    assert!(gl.saw_token("glpat-owner_form"));
    assert!(!own.saw_token("glpat-owner_form"));
    // The API under /api/v4, and the clone check on the same server (`oauth2`).
    assert!(
        own.requests().iter().all(|r| r.path.starts_with("/api/v4/")
            || (r.route() == "/Test/test-project.git/info/refs"
                && r.basic().is_some_and(|(u, _)| u == "oauth2"))),
        "{:?}",
        own.requests()
    );
}

// ------------------------------------------------------------------ Bitbucket

#[tokio::test]
async fn bitbucket_results_through_the_form_endpoints() {
    let bb = fakes::bitbucket::start();
    let env = env(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&bb)),
        ..Default::default()
    })
    .await;
    let cases: Vec<(Form, Expect)> = vec![
        (
            Form::bitbucket("bb_valid_form", "acme"),
            expect(
                "valid",
                &[
                    "workspace acme (repository access token)",
                    "acme/web",
                    "not reported by the provider",
                ],
                &[],
            ),
        ),
        (
            Form::bitbucket("bb_nowebhook_form", "acme"),
            expect(
                "missing_permissions",
                &["Webhooks: Read and write", "Missing scope: “webhook”"],
                &["webhook"],
            ),
        ),
        (
            Form::bitbucket("bb_readonly_form", "acme"),
            expect(
                "missing_permissions",
                &[
                    "Missing scope: “pullrequest:write”",
                    "Missing scope: “webhook”",
                ],
                &["pullrequest:write", "webhook"],
            ),
        ),
        (
            Form::bitbucket("bb_valid_form", "other-team"),
            expect(
                "invalid",
                &["does not belong to workspace “other-team”"],
                &[],
            ),
        ),
        (
            Form::bitbucket("bb_bad_form", "acme"),
            expect("invalid", &["The provider rejected the token."], &[]),
        ),
    ];
    for (f, e) in &cases {
        through_forms(&env, f, e).await;
    }
    // The API, and the clone check of the tokens the API accepted (`x-token-auth`).
    assert!(
        bb.requests()
            .iter()
            .all(|r| r.route().starts_with("/2.0/repositories/")
                || (r.route() == "/acme/web.git/info/refs"
                    && r.basic().is_some_and(|(u, _)| u == "x-token-auth"))),
        "{:?}",
        bb.requests()
    );
}

// ------------------------------------------------------------------ create gating

#[tokio::test]
async fn create_saves_only_passing_tokens() {
    let gh = fakes::github::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;

    // Rejected, failing and rate-limited tokens are not saved: 422 with the result and why.
    for (token, status) in [
        ("ghp_bad_create", "invalid"),
        ("ghp_5xx_create", "error"),
        ("ghp_ratelimited_create", "error"),
    ] {
        let f = Form::github(token);
        let p = env.create(&f).await;
        p.assert_status(422)
            .assert_contains("Not saved")
            .assert_lacks(token);
        assert_eq!(result_status(&p), status, "{token}");
        assert!(env.token_named(&f.name).is_none(), "{token} was saved");
    }

    // Missing permissions: not saved unless the admin ticks "save anyway".
    let f = Form::github("ghp_repoonly_create").name("Repo only");
    let p = env.create(&f).await;
    p.assert_status(422)
        .assert_contains("lacks required permissions")
        .assert_contains("name=\"save_anyway\"");
    assert_eq!(result_status(&p), "missing_permissions");
    assert!(env.token_named("Repo only").is_none());
    let saved = env.create_ok(&f.clone().with("save_anyway", "1")).await;
    assert_eq!(saved.status, "missing_permissions");

    // A valid token is saved with its test result, and listed with its status.
    let f = Form::github("ghp_allscopes_create").name("Deploy bot");
    let p = env.create(&f).await;
    p.assert_redirect_to(BASE);
    let t = env.token_named("Deploy bot").unwrap();
    assert_eq!(t.status, "valid");
    assert_eq!(t.account.as_deref(), Some("octocat"));
    let exp = fakes::dates::github_expiry(gh.anchor, "ghp_allscopes_create");
    assert_eq!(
        t.expires_at.map(|e| e.to_string()),
        Some(fakes::dates::stored(exp))
    );
    assert!(t.last_tested_at.is_some());
    let list = env.owner.get(BASE).await;
    list.assert_status(200)
        .assert_contains(&format!(
            r#"<tr id="row-{0}" data-token-id="{0}" data-status="valid">"#,
            t.id
        ))
        .assert_contains("Token “Deploy bot” saved (Valid).")
        .assert_lacks("ghp_allscopes_create");
}

// ------------------------------------------------------------------ re-test a stored token

#[tokio::test]
async fn retest_updates_the_row_and_the_stored_result() {
    let gh = fakes::github::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;
    let t = env
        .create_ok(&Form::github("ghp_allscopes_retest").name("Retest me"))
        .await;
    // Forget what the first test found, as for a token never tested.
    let mut stale = t.clone();
    stale.status = "not_tested".into();
    stale.account = None;
    stale.expires_at = None;
    stale.expiry_source = None;
    stale.last_tested_at = None;
    GitToken::save(&mut db(&env.app), &stale).unwrap();

    let before = gh.requests().len();
    let row = env.retest_row(&t.id).await;
    row.assert_status(200)
        .assert_contains(&format!(
            r#"<tr id="row-{0}" data-token-id="{0}" data-status="valid">"#,
            t.id
        ))
        .assert_contains("octocat")
        .assert_contains(
            &fakes::dates::github_expiry(gh.anchor, "ghp_allscopes_retest")
                .format("Expires %Y-%m-%d")
                .to_string(),
        )
        .assert_lacks("<html")
        .assert_lacks("ghp_allscopes_retest");
    assert_eq!(gh.requests().len(), before + CLASSIC_TEST_REQUESTS);
    let after = env.reload(&t.id);
    assert_eq!(after.status, "valid");
    assert_eq!(after.account.as_deref(), Some("octocat"));
    let exp = fakes::dates::github_expiry(gh.anchor, "ghp_allscopes_retest");
    assert_eq!(
        after.expires_at.map(|e| e.to_string()),
        Some(fakes::dates::stored(exp))
    );
    assert_eq!(after.expiry_source.as_deref(), Some("provider"));
    assert!(after.last_tested_at.is_some());

    // HTMX from the detail page: the result fragment.
    let frag = env
        .owner
        .post_htmx(
            &format!("{BASE}/{}/test", t.id),
            &env.csrf,
            "test-result",
            &[("return_to", "detail")],
        )
        .await;
    assert_eq!(result_status(&frag), "valid");
    frag.assert_contains("octocat");

    // Without JS: 303 back where the button was, with a flash naming the status.
    let p = env
        .owner
        .post(
            &format!("{BASE}/{}/test", t.id),
            &[("csrf_token", env.csrf.as_str()), ("return_to", "list")],
        )
        .await;
    p.assert_redirect_to(BASE);
    let list = env.owner.get(BASE).await;
    list.assert_contains("Tested “Retest me”: Valid.");
    let p = env
        .owner
        .post(
            &format!("{BASE}/{}/test", t.id),
            &[("csrf_token", env.csrf.as_str()), ("return_to", "detail")],
        )
        .await;
    p.assert_redirect_to(&format!("{BASE}/{}", t.id));
}

#[tokio::test]
async fn retest_401_after_the_stored_expiry_is_expired_else_invalid() {
    let gh = fakes::github::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;
    // Valid when saved, expiring an hour later by the provider's header; revoked since.
    let t = env
        .create_ok(&Form::github("ghp_onceexpiring_exp+1h_a").name("Expiring"))
        .await;
    assert_eq!(t.status, "valid");
    let exp = fakes::dates::github_expiry(gh.anchor, "ghp_onceexpiring_exp+1h_a");
    assert_eq!(t.expires_at, Some(exp.naive_utc()));
    // Before that hour is over, a 401 is just `invalid`…
    let row = env.retest_row(&t.id).await;
    row.assert_status(200).assert_contains(&format!(
        r#"<tr id="row-{0}" data-token-id="{0}" data-status="invalid">"#,
        t.id
    ));
    // …and two hours later on the server's clock, the same 401 is `expired`.
    env.app.clock.advance(chrono::Duration::hours(2));
    let tested_before = env.reload(&t.id).last_tested_at.unwrap();
    let row = env.retest_row(&t.id).await;
    row.assert_status(200).assert_contains(&format!(
        r#"<tr id="row-{0}" data-token-id="{0}" data-status="expired">"#,
        t.id
    ));
    let after = env.reload(&t.id);
    assert_eq!(after.status, "expired");
    assert!(after.last_tested_at.unwrap() >= tested_before);
    // The expiry and account of the last successful test are kept.
    assert_eq!(after.account.as_deref(), Some("octocat"));
    assert_eq!(after.expires_at, t.expires_at);

    // Never-expiring when saved, revoked since: a 401 is `invalid`.
    let t = env
        .create_ok(&Form::github("ghp_oncenoexpiry_a").name("No expiry"))
        .await;
    assert_eq!(t.expires_at, None);
    let row = env.retest_row(&t.id).await;
    row.assert_contains(&format!(
        r#"<tr id="row-{0}" data-token-id="{0}" data-status="invalid">"#,
        t.id
    ));
    assert_eq!(env.reload(&t.id).status, "invalid");
}

// ------------------------------------------------------------------ outbound safety

/// A listener on `[::1]` counting connections (the fakes listen on IPv4 only).
fn v6_listener() -> Option<(u16, Arc<AtomicUsize>)> {
    let l = std::net::TcpListener::bind("[::1]:0").ok()?;
    let port = l.local_addr().ok()?.port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&count);
    std::thread::spawn(move || {
        for s in l.incoming() {
            if s.is_ok() {
                c.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    Some((port, count))
}

#[tokio::test]
async fn blocked_addresses_never_receive_a_request_through_the_forms() {
    let gl = fakes::gitlab::start();
    let gh = fakes::github::start_ghes();
    let v6 = v6_listener();
    let env = env(Options::default()).await;
    let (p, q) = (gl.port, gh.port);
    let mut urls = vec![
        (
            format!("https://127.0.0.1:{p}"),
            format!("https://127.0.0.1:{q}"),
            "loopback",
        ),
        (
            format!("https://[::ffff:127.0.0.1]:{p}"),
            format!("https://[::ffff:127.0.0.1]:{q}"),
            "loopback",
        ),
        (
            format!("https://localhost:{p}"),
            format!("https://localhost:{q}"),
            "loopback",
        ),
        (
            format!("https://0.0.0.0:{p}"),
            format!("https://0.0.0.0:{q}"),
            "unspecified",
        ),
        (
            "https://169.254.169.254".to_owned(),
            "https://169.254.169.254:443".to_owned(),
            "link-local",
        ),
    ];
    match &v6 {
        Some((port, _)) => urls.push((
            format!("https://[::1]:{port}"),
            format!("https://[::1]:{port}"),
            "loopback",
        )),
        None => urls.push((
            format!("https://[::1]:{p}"),
            format!("https://[::1]:{q}"),
            "loopback",
        )),
    }
    for (gitlab_url, github_url, why) in &urls {
        for f in [
            Form::self_hosted("gitlab", "glpat-maintainer_blocked", gitlab_url),
            Form::self_hosted("github", "ghp_allscopes_blocked", github_url),
        ] {
            let e = expect(
                "unreachable",
                &["blocked", why, "FORGEKEYS_OUTBOUND_ALLOW"],
                &[],
            );
            through_forms(&env, &f, &e).await;
            let created = env.create(&f).await;
            created.assert_status(422).assert_contains("Not saved");
            assert_eq!(result_status(&created), "unreachable", "{}", f.url);
        }
    }
    // Plain http to loopback is refused by the form itself (no allowed range configured).
    let f = Form::self_hosted("gitlab", "glpat-maintainer_http", &gl.url);
    let frag = env.test_htmx(&f).await;
    frag.assert_status(422).assert_contains("https://");
    env.create(&f).await.assert_status(422);

    gl.assert_untouched();
    gh.assert_untouched();
    if let Some((_, count)) = v6 {
        assert_eq!(count.load(Ordering::SeqCst), 0, "[::1] was contacted");
    }
    env.owner.get(BASE).await.assert_contains("No tokens yet");
}

#[tokio::test]
async fn allowed_ranges_are_reached_and_only_those() {
    let gl = fakes::gitlab::start();
    let v6 = v6_listener();
    let env = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    // 127.0.0.0/8 is allowed: the fake receives the test.
    let f = Form::self_hosted("gitlab", "glpat-maintainer_allowed", &gl.url);
    let frag = env.test_htmx(&f).await;
    assert_eq!(result_status(&frag), "valid", "{}", frag.body);
    assert!(gl.saw_token("glpat-maintainer_allowed"));
    // ::1 and the metadata address are not in it.
    if let Some((port, count)) = v6 {
        let f = Form::self_hosted(
            "gitlab",
            "glpat-maintainer_v6",
            &format!("http://[::1]:{port}"),
        );
        let frag = env.test_htmx(&f).await;
        assert_eq!(result_status(&frag), "unreachable", "{}", frag.body);
        frag.assert_contains("blocked");
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }
    let f = Form::self_hosted("gitlab", "glpat-maintainer_meta", "http://169.254.169.254");
    let frag = env.test_htmx(&f).await;
    assert_eq!(result_status(&frag), "unreachable", "{}", frag.body);
    frag.assert_contains("link-local");
}

#[tokio::test]
async fn a_redirect_to_another_origin_never_carries_the_token() {
    let token = "ghp_allscopes_redirected";
    let target = fakes::github::start_ghes();
    let redirector = fakes::redirecting(&target.url);
    let env = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    let f = Form::self_hosted("github", token, &redirector.url);
    through_forms(
        &env,
        &f,
        &expect("error", &["redirected to another address"], &[]),
    )
    .await;
    let p = env.create(&f).await;
    p.assert_status(422).assert_contains("Not saved");
    assert!(env.token_named(&f.name).is_none());
    assert!(!redirector.requests().is_empty());
    target.assert_untouched();
    assert!(!target.saw_token(token));
}

#[tokio::test]
async fn an_edit_that_changes_the_url_without_a_new_token_sends_nothing() {
    let a = fakes::github::start_ghes();
    let b = fakes::github::start_ghes();
    let env = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    let token = "ghp_allscopes_stored";
    let t = env
        .create_ok(&Form::self_hosted("github", token, &a.url).name("GHES"))
        .await;
    let seen_by_a = a.requests().len();
    assert_eq!(seen_by_a, CLASSIC_TEST_REQUESTS);

    // The edit form never shows the token.
    env.owner
        .get(&format!("{BASE}/{}/edit", t.id))
        .await
        .assert_status(200)
        .assert_lacks(token);

    // Save with URL B and no token value: 422, asks for the token, sends nothing anywhere.
    let edit = Form::self_hosted("github", "", &b.url).name("GHES");
    let fields = edit.fields(Some(&env.csrf));
    let p = env
        .owner
        .post(&format!("{BASE}/{}", t.id), &pairs(&fields))
        .await;
    p.assert_status(422)
        .assert_contains("Paste the token value again")
        .assert_lacks(token);
    // "Test without saving" from the edit form (token_id set, no value): nothing is sent.
    let probe = edit.clone().with("token_id", &t.id);
    let frag = env.test_htmx(&probe).await;
    frag.assert_status(422)
        .assert_contains("Paste the token value");
    let page = env.test_nojs(&probe).await;
    page.assert_lacks(token);
    assert!(
        !page.body.contains("data-status=\"valid\""),
        "{}",
        page.body
    );

    assert_eq!(a.requests().len(), seen_by_a, "A was contacted again");
    b.assert_untouched();
    // Nothing changed in storage: still URL A.
    let stored = env.reload(&t.id);
    assert_eq!(stored.url.as_deref(), Some(a.url.as_str()));
    assert_eq!(stored.secret, t.secret);

    // Re-testing still goes to A only.
    let row = env.retest_row(&t.id).await;
    row.assert_contains("data-status=\"valid\"");
    assert_eq!(a.requests().len(), seen_by_a + CLASSIC_TEST_REQUESTS);
    b.assert_untouched();

    // With a new token value the edit is tested against B, and only B.
    let new_token = "ghp_allscopes_for_b";
    let edit = Form::self_hosted("github", new_token, &b.url).name("GHES");
    let fields = edit.fields(Some(&env.csrf));
    let p = env
        .owner
        .post(&format!("{BASE}/{}", t.id), &pairs(&fields))
        .await;
    p.assert_redirect_to(&format!("{BASE}/{}", t.id));
    assert!(b.saw_token(new_token));
    assert!(!b.saw_token(token), "the old token went to B");
    assert!(!a.saw_token(new_token));
    assert_eq!(env.reload(&t.id).url.as_deref(), Some(b.url.as_str()));
}

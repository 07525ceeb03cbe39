//! `forgekeys tokens check`: the built binary against the database and key file of a running app,
//! with GitHub pointed at the fake.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes::{self, FakeServer};
use crate::helpers::*;
use chrono::Utc;
use forgekeys::db::DatabaseUrl;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::token::{GitToken, TokenFilter};

pub(crate) const BASE: &str = "/orgs/acme/settings/git-tokens";

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// The table line of the token named `name`.
    #[track_caller]
    fn line(&self, name: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{}", self.stdout))
    }
}

pub(crate) fn database_url(app: &TestApp) -> String {
    match &app.database {
        DatabaseUrl::Sqlite(p) => format!("sqlite://{p}"),
        DatabaseUrl::Postgres(u) => u.clone(),
    }
}

/// Runs `forgekeys tokens check ARGS` with the app's settings and the fake as GitHub.
async fn check(app: &TestApp, github: &FakeServer, args: &[&str]) -> Run {
    let mut cmd = forgekeys_command();
    cmd.current_dir(app.dir.path())
        .env("DATABASE_URL", database_url(app))
        .env("FORGEKEYS_KEY_FILE", &app.key_file)
        .env("FORGEKEYS_GITHUB_API_URL", &github.url)
        .env("FORGEKEYS_PROVIDER_TIMEOUT_MS", "5000")
        .env("RUST_LOG", "warn")
        .args(["tokens", "check"])
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run forgekeys"))
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub(crate) async fn create(
    app: &TestApp,
    owner: &Client,
    csrf: &str,
    name: &str,
    token: &str,
) -> GitToken {
    owner
        .post(
            BASE,
            &[
                ("csrf_token", csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", name),
                ("token", token),
            ],
        )
        .await
        .assert_redirect_to(BASE);
    find(app, name).expect("saved")
}

pub(crate) fn find(app: &TestApp, name: &str) -> Option<GitToken> {
    let mut conn = db(app);
    let org = Organization::find_by_slug(&mut conn, "acme")
        .unwrap()
        .unwrap();
    GitToken::all(&mut conn, &org.id, &TokenFilter::default())
        .unwrap()
        .into_iter()
        .find(|t| t.name == name)
}

async fn delete(owner: &Client, csrf: &str, t: &GitToken) {
    owner
        .post(&format!("{BASE}/{}/delete", t.id), &[("csrf_token", csrf)])
        .await
        .assert_redirect_to(BASE);
}

pub(crate) async fn start() -> (FakeServer, TestApp, Client, String) {
    let gh = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    (gh, app, owner, csrf)
}

#[tokio::test]
async fn exits_1_on_an_unhealthy_token_and_0_when_all_are_healthy() {
    let (gh, app, owner, csrf) = start().await;
    // Both pass when saved; "Broken" is revoked at the provider afterwards.
    let good = create(&app, &owner, &csrf, "Good", "ghp_noexpiry_cli").await;
    let broken = create(&app, &owner, &csrf, "Broken", "ghp_oncenoexpiry_cli").await;
    assert_eq!(broken.status, "valid");
    let tested_before = good.last_tested_at.unwrap();

    let run = check(&app, &gh, &[]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let header = run.stdout.lines().next().unwrap();
    for col in ["ORG", "TOKEN", "PROVIDER", "STATUS", "EXPIRES", "PROBLEM"] {
        assert!(header.contains(col), "{header}");
    }
    let line = run.line("Good");
    assert!(line.starts_with("acme "), "{line}");
    assert!(line.contains(" github "), "{line}");
    assert!(line.contains(" valid "), "{line}");
    assert!(line.contains(" never"), "{line}");
    let line = run.line("Broken");
    assert!(line.contains(" invalid "), "{line}");
    assert!(line.contains("rejected the token"), "{line}");
    assert!(
        run.stdout.contains("2 token(s) checked, 1 need attention"),
        "{}",
        run.stdout
    );
    for secret in ["ghp_noexpiry_cli", "ghp_oncenoexpiry_cli"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
    // The results are stored.
    assert_eq!(find(&app, "Broken").unwrap().status, "invalid");
    let good_after = find(&app, "Good").unwrap();
    assert_eq!(good_after.status, "valid");
    assert!(good_after.last_tested_at.unwrap() >= tested_before);

    // Only healthy tokens left (the valid one never expires): exit 0, also with one test at a
    // time.
    delete(&owner, &csrf, &broken).await;
    let run = check(&app, &gh, &["--concurrency", "1", "--per-host", "1"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.line("Good").contains(" valid "));
    assert!(
        run.stdout.contains("1 token(s) checked, 0 need attention"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn expired_and_soon_expiring_tokens_fail_the_check() {
    let (gh, app, owner, csrf) = start().await;
    // Saved while valid, with the expiry GitHub reported; GitHub revoked it since (every call
    // is 401). Time passes: the stored expiry now lies 3 days back. A 401 after the known
    // expiry is `expired`, and the line names the date.
    let past = create(&app, &owner, &csrf, "Past", "ghp_onceexpiring_exp+1h_cli").await;
    let three_days_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(3);
    let mut row = past.clone();
    row.expires_at = Some(three_days_ago);
    GitToken::save(&mut db(&app), &row).unwrap();
    let run = check(&app, &gh, &["--within", "0"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let line = run.line("Past");
    assert!(line.contains(" expired "), "{line}");
    assert!(
        line.contains(
            &three_days_ago
                .format("it expired on %Y-%m-%d %H:%M UTC")
                .to_string()
        ),
        "{line}"
    );
    delete(&owner, &csrf, &past).await;

    // Expires in 3 days and 2 hours (reported with a `+0800` offset): flagged when it falls
    // within --within, and only then.
    let token = "ghp_offsetexpiry_exp+74h_cli";
    create(&app, &owner, &csrf, "Soon", token).await;
    let expiry = fakes::dates::github_expiry(gh.anchor, token);
    let days = (expiry - Utc::now()).num_days();
    assert_eq!(days, 3);
    let run = check(&app, &gh, &["--within", &days.to_string()]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.line("Soon")
            .contains(&format!("expires in {days} day(s)")),
        "{}",
        run.stdout
    );
    let run = check(&app, &gh, &["--within", &(days - 1).to_string()]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.line("Soon").contains(" valid "));
    // --within 0 reports only what has expired already.
    let run = check(&app, &gh, &["--within", "0"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[tokio::test]
async fn a_negative_within_gets_a_clear_message() {
    let (gh, app, _owner, _csrf) = start().await;
    let run = check(&app, &gh, &["--within", "-1"]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("-1 is negative") && run.stderr.contains("0 or more"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("unexpected argument"),
        "{}",
        run.stderr
    );
    gh.assert_untouched();
}

#[tokio::test]
async fn help_documents_the_limits() {
    let out = tokio::task::spawn_blocking(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_forgekeys"))
            .args(["tokens", "check", "--help"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for needle in [
        "--within",
        "--concurrency",
        "--per-host",
        &format!("[default: {}]", forgekeys::commands::CHECK_PER_HOST),
        &format!("[default: {}]", forgekeys::commands::CHECK_CONCURRENCY),
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

#[tokio::test]
async fn a_token_missing_permissions_fails_the_check() {
    let (gh, app, owner, csrf) = start().await;
    create(&app, &owner, &csrf, "Fine", "ghp_noexpiry_cli_fine").await;
    // Saved on purpose despite the missing scopes.
    owner
        .post(
            BASE,
            &[
                ("csrf_token", csrf.as_str()),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", "Narrow"),
                ("token", "ghp_repoonly_cli"),
                ("save_anyway", "1"),
            ],
        )
        .await
        .assert_redirect_to(BASE);
    assert_eq!(find(&app, "Narrow").unwrap().status, "missing_permissions");

    let run = check(&app, &gh, &[]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let line = run.line("Narrow");
    assert!(line.contains(" missing_permissions "), "{line}");
    assert!(line.contains("missing "), "{line}");
    assert!(line.contains("read:org"), "{line}");
    assert!(!run.line("Fine").contains("missing"), "{}", run.stdout);
    assert!(
        run.stdout.contains("2 token(s) checked, 1 need attention"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("ghp_repoonly_cli"));
}

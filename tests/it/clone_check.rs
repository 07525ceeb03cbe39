//! The clone-level check (issue 9) against a real `git http-backend` (fakes/git_server.rs):
//! it passes, and it fails for a token the Git server refuses or a repository not granted, on
//! whichever backend the suite runs (SQLite, or PostgreSQL with `TEST_POSTGRES_URL`); its
//! result is stored with the test result and shown; it keeps within the test's time budget; and
//! nothing the Git server says leaks the credentials.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes::git_server::{self, GitAccess, GitFlavour};
use crate::fakes::{self, FakeResponse, FakeServer};
use crate::forms::*;
use crate::helpers::*;
use forgekeys::domain::test_result::CloneResult;
use std::process::Command;
use std::time::{Duration, Instant};

/// A Git server alone, deciding with `access` (as a github.com whose Git side refuses what the
/// API accepted).
fn git_only(
    access: impl Fn(&str) -> GitAccess + Send + Sync + 'static,
    delay: Option<Duration>,
) -> FakeServer {
    FakeServer::start(move |req| {
        let resp = git_server::answer(req, "", GitFlavour::Github, |_, _, token, _| access(token))
            .unwrap_or_else(|| FakeResponse::new(404));
        match delay {
            Some(d) => resp.delayed(d),
            None => resp,
        }
    })
}

fn basic(user: &str, token: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"))
}

/// `git ls-remote` / `git clone` with the credentials in a header (never in the URL).
fn git(args: &[&str], user: &str, token: &str) -> std::process::Output {
    Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .arg("-c")
        .arg(format!(
            "http.extraHeader=Authorization: Basic {}",
            basic(user, token)
        ))
        .args(args)
        .output()
        .expect("run git")
}

#[test]
fn the_fake_git_servers_answer_a_real_git_client() {
    let gh = fakes::github::start();
    let repo = format!("{}/acme/app-01.git", gh.url);
    let ok = git(&["ls-remote", &repo], "x-access-token", "ghp_allscopes_git");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("refs/heads/main"));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("app-01");
    let clone = git(
        &["clone", "-q", &repo, dest.to_str().unwrap()],
        "x-access-token",
        "ghp_allscopes_git",
    );
    assert!(
        clone.status.success(),
        "{}",
        String::from_utf8_lossy(&clone.stderr)
    );
    assert!(dest.join("README.md").is_file());
    // Wrong token: 401; a repository the token does not read: 404, "Repository not found."
    // as git prints GitHub's answer.
    let bad = git(&["ls-remote", &repo], "x-access-token", "ghp_bad_git");
    // git answers a 401 by asking for other credentials (prompts are off here).
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("could not read Username"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let other = format!("{}/acme/app-99.git", gh.url);
    let hidden = git(
        &["ls-remote", &other],
        "x-access-token",
        "ghp_allscopes_git",
    );
    assert!(!hidden.status.success());
    assert!(String::from_utf8_lossy(&hidden.stderr).contains("remote: Repository not found."));
    // GitLab and Bitbucket the same way, with their user names.
    let gl = fakes::gitlab::start();
    let gl_repo = format!("{}/Test/test-project.git", gl.url);
    assert!(
        git(&["ls-remote", &gl_repo], "oauth2", "glpat-maintainer_git")
            .status
            .success()
    );
    assert!(
        !git(&["ls-remote", &gl_repo], "oauth2", "glpat-noreadrepo_git")
            .status
            .success()
    );
    let bb = fakes::bitbucket::start();
    let bb_repo = format!("{}/acme/web.git", bb.url);
    assert!(
        git(&["ls-remote", &bb_repo], "x-token-auth", "bb_valid_git")
            .status
            .success()
    );
    assert!(
        !git(
            &["ls-remote", &bb_repo],
            fakes::bitbucket::EMAIL,
            "ATATT3xvalid_git"
        )
        .status
        .success()
    );
    assert!(
        git(
            &["ls-remote", &bb_repo],
            "x-bitbucket-api-token-auth",
            "ATATT3xvalid_git"
        )
        .status
        .success()
    );
}

#[tokio::test]
async fn the_clone_check_fails_when_git_refuses_what_the_api_accepted() {
    let gh = fakes::github::start();
    let refusing = git_only(|_| GitAccess::Unauthorized, None);
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        github_git_url: Some(refusing.url.clone()),
        ..Default::default()
    })
    .await;
    through_forms(
        &env,
        &Form::github("ghp_allscopes_wrong"),
        &expect(
            "missing_permissions",
            &[
                "refused the token for git over HTTPS (HTTP 401)",
                "a clone of acme/app-01 would fail although the API accepted the token",
                "The Git server said: “Invalid username or token.",
                &format!("{}/acme/app-01.git", refusing.url),
            ],
            &["Git read access to acme/app-01"],
        )
        .clone_check("failed"),
    )
    .await;
    assert!(
        refusing
            .requests()
            .iter()
            .all(|r| r.basic() == Some(("x-access-token", "ghp_allscopes_wrong")))
    );
}

#[tokio::test]
async fn the_clone_check_fails_on_a_repository_not_granted_for_git() {
    let gh = fakes::github::start();
    let gl = fakes::gitlab::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        gitlab_url: Some(gl.url.clone()),
        ..Default::default()
    })
    .await;
    // A fine-grained token without Contents: the API probes pass, GitHub hides the repository
    // from git.
    through_forms(
        &env,
        &Form::github("github_pat_nocontents_c"),
        &expect(
            "missing_permissions",
            &[
                "does not show acme/web to the token over git (HTTP 404)",
                "Repository not found.",
                "Give the token Contents",
            ],
            &["Git read access to acme/web"],
        )
        .clone_check("failed"),
    )
    .await;
    // A GitLab token without `read_repository`: GitLab's Git says "HTTP Basic: Access denied".
    through_forms(
        &env,
        &Form::gitlab("glpat-noreadrepo_c"),
        &expect(
            "missing_permissions",
            &[
                "HTTP Basic: Access denied",
                "needs the “read_repository” scope",
            ],
            &["read_repository", "Git read access to Test/test-project"],
        )
        .clone_check("failed"),
    )
    .await;
}

#[tokio::test]
async fn the_clone_check_is_stored_with_the_result_and_shown() {
    let gh = fakes::github::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;
    let passed = env
        .create_ok(&Form::github("ghp_allscopes_store").name("Clones"))
        .await;
    let outcome = passed.outcome().ok().flatten().expect("stored result");
    let clone = outcome.clone_check.expect("clone check stored");
    assert_eq!(clone.result, CloneResult::Passed);
    assert_eq!(clone.repository.as_deref(), Some("acme/app-01"));
    assert_eq!(clone.username.as_deref(), Some("x-access-token"));
    assert!(
        !passed
            .last_test
            .as_deref()
            .unwrap()
            .contains("ghp_allscopes_store")
    );
    env.owner
        .get(&format!("{BASE}/{}", passed.id))
        .await
        .assert_contains(r#"data-clone="passed""#)
        .assert_contains("Clone check");

    let failed = env
        .create_ok(
            &Form::github("github_pat_nocontents_store")
                .name("Does not clone")
                .with("save_anyway", "1"),
        )
        .await;
    assert_eq!(failed.status, "missing_permissions");
    let clone = failed
        .outcome()
        .ok()
        .flatten()
        .unwrap()
        .clone_check
        .unwrap();
    assert_eq!(clone.result, CloneResult::Failed);
    env.owner
        .get(&format!("{BASE}/{}", failed.id))
        .await
        .assert_contains(r#"data-clone="failed""#)
        .assert_contains("Git read access to acme/web");

    // A result stored before the clone check existed still shows.
    let mut old = env.reload(&passed.id);
    old.last_test = Some(
        r#"{"status":"valid","account":"octocat","token_kind":null,"scopes":["repo"],"missing":[],"warnings":[],"details":[],"expires_at":null,"never_expires":false,"server_version":null,"reason":null,"tested_at":"1970-01-02T00:00:00Z"}"#
            .to_owned(),
    );
    forgekeys::db::models::token::GitToken::save(&mut db(&env.app), &old).unwrap();
    env.owner
        .get(&format!("{BASE}/{}", passed.id))
        .await
        .assert_status(200)
        .assert_contains("octocat")
        .assert_lacks("data-clone=");
    // A re-test records the clone check again.
    env.retest_row(&passed.id).await.assert_status(200);
    assert_eq!(
        env.reload(&passed.id)
            .outcome()
            .ok()
            .flatten()
            .and_then(|o| o.clone_check)
            .map(|c| c.result),
        Some(CloneResult::Passed)
    );
}

#[tokio::test]
async fn a_slow_git_server_costs_the_clone_check_not_the_verdict_or_the_budget() {
    let gh = fakes::github::start();
    let slow = git_only(|_| GitAccess::Granted, Some(Duration::from_secs(5)));
    let budget = 1_000;
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        github_git_url: Some(slow.url.clone()),
        provider_timeout_ms: Some(budget),
        ..Default::default()
    })
    .await;
    let f = Form::github("ghp_allscopes_slowgit");
    let started = Instant::now();
    let frag = env.test_htmx(&f).await;
    let took = started.elapsed();
    check_result(
        &frag,
        &f,
        &expect(
            "valid",
            &["The clone check could not reach", "timed out"],
            &[],
        )
        .clone_check("error"),
        "htmx",
    );
    assert!(took < Duration::from_millis(budget + 500), "took {took:?}");
}

#[tokio::test]
async fn what_a_git_server_says_never_carries_the_credentials() {
    let gh = fakes::github::start();
    // A Git server that echoes the Authorization header it got.
    let echo = FakeServer::start(|req| {
        let auth = req.authorization.clone().unwrap_or_default();
        FakeResponse::new(403)
            .header("content-type", "text/plain")
            .body(
                format!("denied for {auth} at https://x-access-token:secret@git.example/")
                    .into_bytes(),
            )
    });
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        github_git_url: Some(echo.url.clone()),
        ..Default::default()
    })
    .await;
    let token = "ghp_allscopes_echoed";
    let f = Form::github(token);
    let encoded = basic("x-access-token", token);
    let e = expect(
        "missing_permissions",
        &["[redacted]"],
        &["Git read access to acme/app-01"],
    )
    .clone_check("failed")
    .lacking(&[&encoded, "secret@"]);
    through_forms(&env, &f, &e).await;
    let stored = env.create_ok(&f.clone().with("save_anyway", "1")).await;
    let json = stored.last_test.unwrap();
    assert!(!json.contains(&encoded) && !json.contains(token), "{json}");
}

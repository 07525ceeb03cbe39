//! `forgekeys::providers::ProviderClient` against the fake provider servers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes::{self, FakeServer};
use chrono::{Duration as ChronoDuration, Utc};
use forgekeys::domain::provider::{Hosting, Provider};
use forgekeys::domain::test_result::{CloneResult, TestOutcome, TestStatus};
use forgekeys::providers::{ProviderClient, ProviderConfig, TokenTarget, normalize_origin};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const UNUSED: &str = "http://127.0.0.1:9";

fn config() -> ProviderConfig {
    ProviderConfig {
        github_api_url: UNUSED.parse().unwrap(),
        github_git_url: UNUSED.parse().unwrap(),
        gitlab_url: UNUSED.parse().unwrap(),
        bitbucket_api_url: UNUSED.parse().unwrap(),
        bitbucket_git_url: UNUSED.parse().unwrap(),
        outbound_allow: Vec::new(),
        outbound_deny: Vec::new(),
        ca_bundle: None,
        hosts: Vec::new(),
        timeout: Duration::from_secs(5),
        clock: forgekeys::clock::Clock::system(),
    }
}

fn loopback_allowed(mut cfg: ProviderConfig) -> ProviderConfig {
    cfg.outbound_allow = vec!["127.0.0.0/8".parse().unwrap()];
    cfg
}

fn target(provider: Provider, hosting: Hosting, url: Option<&str>) -> TokenTarget {
    TokenTarget {
        provider,
        hosting,
        url: url.map(str::to_owned),
        workspace: None,
        username: None,
    }
}

async fn run(cfg: ProviderConfig, target: &TokenTarget, token: &str) -> TestOutcome {
    run_with_expiry(cfg, target, token, None).await
}

async fn run_with_expiry(
    cfg: ProviderConfig,
    target: &TokenTarget,
    token: &str,
    known_expiry: Option<chrono::DateTime<Utc>>,
) -> TestOutcome {
    let client = ProviderClient::new(cfg).unwrap();
    let outcome = client
        .test_token(target, &SecretString::from(token.to_owned()), known_expiry)
        .await;
    let all = format!("{outcome:?}");
    assert!(!all.contains(token), "token leaked into the outcome: {all}");
    outcome
}

/// A config pointing GitHub's API and Git at `fake` (the fake serves both).
fn github_config(fake: &FakeServer) -> ProviderConfig {
    let mut cfg = config();
    cfg.github_api_url = fake.url.parse().unwrap();
    cfg.github_git_url = fake.url.parse().unwrap();
    cfg
}

async fn github(token: &str) -> (TestOutcome, FakeServer) {
    let fake = fakes::github::start();
    let cfg = github_config(&fake);
    let o = run(cfg, &target(Provider::Github, Hosting::Cloud, None), token).await;
    (o, fake)
}

async fn gitlab(token: &str) -> (TestOutcome, FakeServer) {
    let fake = fakes::gitlab::start();
    let mut cfg = config();
    cfg.gitlab_url = fake.url.parse().unwrap();
    let o = run(cfg, &target(Provider::Gitlab, Hosting::Cloud, None), token).await;
    (o, fake)
}

fn bitbucket_config(fake: &FakeServer) -> ProviderConfig {
    let mut cfg = config();
    cfg.bitbucket_api_url = fakes::bitbucket::api_url(fake).parse().unwrap();
    cfg.bitbucket_git_url = fake.url.parse().unwrap();
    cfg
}

async fn bitbucket(token: &str, workspace: &str) -> (TestOutcome, FakeServer) {
    bitbucket_as(token, workspace, None).await
}

/// Bitbucket with a username (API tokens, app passwords: HTTP Basic).
async fn bitbucket_as(
    token: &str,
    workspace: &str,
    username: Option<&str>,
) -> (TestOutcome, FakeServer) {
    let fake = fakes::bitbucket::start();
    let cfg = bitbucket_config(&fake);
    let mut t = target(Provider::Bitbucket, Hosting::Cloud, None);
    t.workspace = Some(workspace.to_owned());
    t.username = username.map(str::to_owned);
    let o = run(cfg, &t, token).await;
    (o, fake)
}

fn missing(o: &TestOutcome) -> Vec<&str> {
    o.missing.iter().map(|m| m.name.as_str()).collect()
}

fn reason(o: &TestOutcome) -> &str {
    o.reason.as_deref().unwrap_or("")
}

// ---------------------------------------------------------------- GitHub

#[tokio::test]
async fn github_classic_all_scopes_is_valid_with_expiry() {
    let token = "ghp_allscopes_0123456789";
    let (o, fake) = github(token).await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(o.account.as_deref(), Some("octocat"));
    assert_eq!(
        o.token_kind.as_deref(),
        Some("personal access token (classic)")
    );
    // The fake's token expires 90 days after it started (fakes/dates.rs).
    assert_eq!(
        o.expires_at,
        Some(fakes::dates::github_expiry(fake.anchor, token))
    );
    assert!(!o.never_expires);
    for s in [
        "repo",
        "public_repo",
        "admin:repo_hook",
        "read:repo_hook",
        "read:org",
    ] {
        assert!(o.scopes.iter().any(|x| x == s), "{s} in {:?}", o.scopes);
    }
    assert_eq!(o.server_version, None);
    let reqs = fake.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    // `read:org` present: no /user/orgs call. The repositories name the one the clone check
    // runs on (an organization's private one), then Git's smart HTTP is asked for it.
    assert_eq!(
        paths,
        vec![
            "/user",
            "/user/repos?per_page=100",
            "/acme/app-01.git/info/refs?service=git-upload-pack"
        ]
    );
    let clone = o.clone_check.as_ref().expect("clone check recorded");
    assert_eq!(clone.result, CloneResult::Passed, "{clone:?}");
    assert_eq!(clone.repository.as_deref(), Some("acme/app-01"));
    assert_eq!(clone.username.as_deref(), Some("x-access-token"));
    assert_eq!(
        reqs[2].basic(),
        Some(("x-access-token", token)),
        "git gets Basic credentials"
    );
    assert!(reqs[2].header("user-agent").unwrap().starts_with("git/"));
    let r = &reqs[0];
    assert_eq!(r.path, "/user");
    assert_eq!(
        r.authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    assert!(r.header("user-agent").unwrap().starts_with("forgekeys/"));
}

#[tokio::test]
async fn github_admin_org_satisfies_read_org() {
    let (o, _f) = github("ghp_adminorg_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert!(o.scopes.iter().any(|s| s == "read:org"));
}

#[tokio::test]
async fn github_repo_only_misses_hook_and_org_scopes() {
    let (o, _f) = github("ghp_repoonly_x").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["admin:repo_hook", "read:org"]);
    let hook_fix = &o.missing[0].fix;
    assert!(hook_fix.contains("Personal access tokens"), "{hook_fix}");
    assert!(hook_fix.contains("`repo` already covers"), "{hook_fix}");
}

#[tokio::test]
async fn github_read_org_only_recommended_without_orgs() {
    let (o, fake) = github("ghp_noorgs_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("`read:org` is recommended")),
        "{o:?}"
    );
    assert!(fake.requests().iter().any(|r| r.route() == "/user/orgs"));
}

#[tokio::test]
async fn github_read_org_required_in_orgs() {
    let (o, _f) = github("ghp_inorgs_x").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["read:org"]);
}

#[tokio::test]
async fn github_empty_scopes_header() {
    let (o, _f) = github("ghp_emptyscopes_x").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["repo", "admin:repo_hook"]);
}

#[tokio::test]
async fn github_classic_without_expiry_never_expires() {
    let (o, _f) = github("ghp_noexpiry_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert!(o.never_expires);
    assert_eq!(o.expires_at, None);
    assert!(o.warnings.iter().any(|w| w.contains("never expires")));
}

#[tokio::test]
async fn github_expiry_with_offset_and_unknown_format() {
    // `… +0800` and `… -0700` name the same instant as the UTC form would.
    for token in ["ghp_offsetexpiry_x", "ghp_westexpiry_exp+3d"] {
        let (o, f) = github(token).await;
        assert_eq!(o.status, TestStatus::Valid, "{o:?}");
        assert_eq!(
            o.expires_at,
            Some(fakes::dates::github_expiry(f.anchor, token)),
            "{token}"
        );
    }
    let (o, _f) = github("ghp_oddexpiry_x").await;
    assert_eq!(
        o.status,
        TestStatus::Valid,
        "unparseable expiry is not an error: {o:?}"
    );
    assert_eq!(o.expires_at, None);
    assert!(!o.never_expires);
    assert!(o.warnings.iter().any(|w| w.contains("expiry unknown")));
}

#[tokio::test]
async fn github_fine_grained_probes_read_permissions() {
    let (o, fake) = github("github_pat_good_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(
        o.token_kind.as_deref(),
        Some("fine-grained personal access token")
    );
    assert!(o.expires_at.is_some());
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("cannot be verified for fine-grained tokens"))
    );
    assert!(o.details.iter().any(|d| d.contains("acme/web")));
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths[..2], ["/user", "/user/repos?per_page=100"]);
    // The three probes run at once, on the granted (private) repository — not on `acme/docs`,
    // the public repository GitHub lists first.
    let mut probes = paths[2..5].to_vec();
    probes.sort();
    assert_eq!(
        probes,
        vec![
            "/repos/acme/web",
            "/repos/acme/web/hooks",
            "/repos/acme/web/pulls?per_page=1"
        ]
    );
    assert_eq!(
        paths[5..],
        ["/acme/web.git/info/refs?service=git-upload-pack"]
    );
    assert_eq!(
        o.clone_check.as_ref().map(|c| c.result),
        Some(CloneResult::Passed)
    );
}

#[tokio::test]
async fn github_fine_grained_missing_webhooks() {
    let (o, _f) = github("github_pat_nohooks_x").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["repository_hooks=read"]);
    assert!(o.missing[0].fix.contains("Webhooks"));
    assert!(o.missing[0].fix.contains("Fine-grained tokens"));
}

#[tokio::test]
async fn github_fine_grained_without_repositories() {
    let (o, _f) = github("github_pat_norepos_x").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["Repository access"]);
}

#[tokio::test]
async fn github_bad_credentials_invalid_or_expired() {
    let (o, _f) = github("ghp_bad_x").await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");

    let fake = fakes::github::start();
    let cfg = github_config(&fake);
    let past = Utc::now() - ChronoDuration::days(1);
    let t = target(Provider::Github, Hosting::Cloud, None);
    let o = run_with_expiry(cfg.clone(), &t, "ghp_bad_x", Some(past)).await;
    assert_eq!(o.status, TestStatus::Expired, "{o:?}");
    let future = Utc::now() + ChronoDuration::days(30);
    let o = run_with_expiry(cfg, &t, "ghp_bad_x", Some(future)).await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");
}

#[tokio::test]
async fn github_rate_limits_are_errors() {
    let (o, f) = github("ghp_ratelimited_x").await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
    assert!(reason(&o).contains("rate limited"), "{o:?}");
    let reset = fakes::github::rate_reset(f.anchor).format("%Y-%m-%d %H:%M:%S UTC");
    assert!(
        reason(&o).contains(&format!("retry after {reset}")),
        "{o:?}"
    );
    let (o, _f) = github("ghp_secondary_x").await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
    assert!(reason(&o).contains("retry after 60 seconds"), "{o:?}");
}

#[tokio::test]
async fn github_server_errors_and_bad_bodies_are_errors() {
    for token in ["ghp_5xx_x", "ghp_garbage_x", "ghp_huge_x"] {
        let (o, _f) = github(token).await;
        assert_eq!(o.status, TestStatus::Error, "{token}: {o:?}");
        assert!(reason(&o).len() < 400, "{o:?}");
    }
}

#[tokio::test]
async fn github_error_text_is_redacted() {
    let token = "ghp_echo_supersecret_value";
    let (o, fake) = github(token).await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
    let r = reason(&o);
    assert!(r.contains("[redacted]"), "{r}");
    assert!(!r.contains("hunter2"), "userinfo stripped: {r}");
    assert!(fake.saw_token(token));
}

#[tokio::test]
async fn github_slow_answer_times_out() {
    let fake = fakes::github::start();
    let mut cfg = github_config(&fake);
    cfg.timeout = Duration::from_millis(500);
    let started = Instant::now();
    let o = run(
        cfg,
        &target(Provider::Github, Hosting::Cloud, None),
        "ghp_slow_x",
    )
    .await;
    assert_eq!(o.status, TestStatus::Unreachable, "{o:?}");
    assert!(reason(&o).contains("timed out"), "{o:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn github_enterprise_server_reports_version() {
    let fake = fakes::github::start_ghes();
    let cfg = loopback_allowed(config());
    let t = target(Provider::Github, Hosting::SelfHosted, Some(&fake.url));
    let o = run(cfg, &t, "ghp_allscopes_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(
        o.server_version.as_deref(),
        Some(fakes::github::GHES_VERSION)
    );
    assert_eq!(fake.requests()[0].path, "/api/v3/user");
}

// ---------------------------------------------------------------- GitLab

#[tokio::test]
async fn gitlab_maintainer_is_valid() {
    let token = "glpat-maintainer_x";
    let (o, fake) = gitlab(token).await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(o.account.as_deref(), Some("project_17_bot_3f1a2b"));
    assert_eq!(
        o.token_kind.as_deref(),
        Some("project or group access token")
    );
    // Date-only, midnight UTC (fakes/dates.rs: 60 days after the fake started).
    assert_eq!(
        o.expires_at,
        Some(fakes::dates::gitlab_expiry(fake.anchor, token))
    );
    assert_eq!(o.scopes, vec!["api", "read_repository"]);
    assert!(
        o.details
            .iter()
            .any(|d| d == "project Test/test-project (Maintainer)"),
        "{o:?}"
    );
    let reqs = fake.requests();
    assert_eq!(reqs[0].path, "/api/v4/personal_access_tokens/self");
    let (api, git): (Vec<_>, Vec<_>) = reqs.iter().partition(|r| r.path.starts_with("/api/v4/"));
    assert!(
        api.iter()
            .all(|r| r.private_token.as_deref() == Some(token))
    );
    assert!(api.iter().all(|r| r.authorization.is_none()));
    // The clone check: the Maintainer project over Git, user `oauth2`, the token as password.
    assert_eq!(git.len(), 1, "{reqs:?}");
    assert_eq!(
        git[0].path,
        "/Test/test-project.git/info/refs?service=git-upload-pack"
    );
    assert_eq!(git[0].basic(), Some(("oauth2", token)));
    assert_eq!(
        o.clone_check.as_ref().map(|c| c.result),
        Some(CloneResult::Passed)
    );
    assert_eq!(o.server_version.as_deref(), Some(fakes::gitlab::VERSION));
}

#[tokio::test]
async fn gitlab_owner_never_expires() {
    let (o, _f) = gitlab("glpat-owner_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(o.account.as_deref(), Some("alice"));
    assert!(o.never_expires);
    assert!(o.details.iter().any(|d| d == "group test (Owner)"), "{o:?}");
}

#[tokio::test]
async fn gitlab_developer_lacks_role() {
    let (o, _f) = gitlab("glpat-developer_x").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["Maintainer or Owner role"]);
}

#[tokio::test]
async fn gitlab_missing_api_scope() {
    let (o, _f) = gitlab("glpat-noapi_x").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["api"]);
    assert_eq!(o.account.as_deref(), Some("alice"));
}

#[tokio::test]
async fn gitlab_expired_revoked_inactive_unknown() {
    let (o, _f) = gitlab("glpat-expired_x").await;
    assert_eq!(o.status, TestStatus::Expired, "{o:?}");
    let (o, _f) = gitlab("glpat-revoked_x").await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");
    assert!(reason(&o).contains("revoked"));
    let (o, _f) = gitlab("glpat-inactive_x").await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");
    assert!(reason(&o).contains("inactive"));
    let (o, _f) = gitlab("glpat-nonsense_x").await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");
    let (o, _f) = gitlab("glpat-oauth_x").await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");
    assert!(reason(&o).contains("not a personal"), "{o:?}");
}

#[tokio::test]
async fn gitlab_old_versions_fall_back() {
    let (o, fake) = gitlab("glpat-old_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(o.account.as_deref(), Some("alice"));
    assert!(o.warnings.iter().any(|w| w.contains("scopes")), "{o:?}");
    assert!(o.details.iter().any(|d| d.contains("group/app")), "{o:?}");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.route() == "/api/v4/projects")
    );

    let (o, _f) = gitlab("glpat-noassoc_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert!(o.details.iter().any(|d| d.contains("platform")), "{o:?}");
}

#[tokio::test]
async fn gitlab_rate_limit_and_5xx_are_errors() {
    let (o, _f) = gitlab("glpat-ratelimited_x").await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
    assert!(reason(&o).contains("rate limited"));
    let (o, _f) = gitlab("glpat-5xx_x").await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
}

#[tokio::test]
async fn gitlab_self_hosted_on_allowed_range() {
    let fake = fakes::gitlab::start();
    let t = target(Provider::Gitlab, Hosting::SelfHosted, Some(&fake.url));
    let o = run(loopback_allowed(config()), &t, "glpat-maintainer_x").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert!(!fake.requests().is_empty());
}

// ---------------------------------------------------------------- Bitbucket

#[tokio::test]
async fn bitbucket_valid() {
    let token = "bb_valid_x";
    let (o, fake) = bitbucket(token, "acme").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(
        o.account.as_deref(),
        Some("workspace acme (repository access token)")
    );
    assert_eq!(o.token_kind.as_deref(), Some("repository access token"));
    assert!(!o.never_expires);
    assert_eq!(o.expires_at, None);
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("not reported by Bitbucket"))
    );
    assert!(
        o.scopes.iter().any(|s| s == "repository:write"),
        "implied: {:?}",
        o.scopes
    );
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].path, "/2.0/repositories/acme?pagelen=10");
    assert_eq!(
        reqs[0].authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
    // An access token clones as `x-token-auth`.
    assert_eq!(
        reqs[1].path,
        "/acme/web.git/info/refs?service=git-upload-pack"
    );
    assert_eq!(reqs[1].basic(), Some(("x-token-auth", token)));
    assert_eq!(
        o.clone_check.as_ref().map(|c| c.result),
        Some(CloneResult::Passed)
    );
}

#[tokio::test]
async fn bitbucket_space_separated_scopes() {
    let (o, _f) = bitbucket("bb_spaces_x", "acme").await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    assert_eq!(o.token_kind.as_deref(), Some("workspace access token"));
}

#[tokio::test]
async fn bitbucket_missing_scopes() {
    let (o, _f) = bitbucket("bb_nowebhook_x", "acme").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["webhook"]);
    let (o, _f) = bitbucket("bb_readonly_x", "acme").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["pullrequest:write", "webhook"]);
    let (o, _f) = bitbucket("bb_403_x", "acme").await;
    assert_eq!(o.status, TestStatus::MissingPermissions, "{o:?}");
    assert_eq!(missing(&o), vec!["webhook"]);
}

#[tokio::test]
async fn bitbucket_wrong_workspace_and_bad_token() {
    let (o, _f) = bitbucket("bb_valid_x", "other").await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");
    assert!(
        reason(&o).contains("does not belong to workspace `other`"),
        "{o:?}"
    );
    let (o, _f) = bitbucket("bb_bad_x", "acme").await;
    assert_eq!(o.status, TestStatus::Invalid, "{o:?}");

    let fake = fakes::bitbucket::start();
    let mut cfg = config();
    cfg.bitbucket_api_url = fakes::bitbucket::api_url(&fake).parse().unwrap();
    let mut t = target(Provider::Bitbucket, Hosting::Cloud, None);
    t.workspace = Some("acme".to_owned());
    let past = Utc::now() - ChronoDuration::hours(1);
    let o = run_with_expiry(cfg, &t, "bb_bad_x", Some(past)).await;
    assert_eq!(o.status, TestStatus::Expired, "{o:?}");
}

#[tokio::test]
async fn bitbucket_unexpected_answers_are_errors() {
    for token in ["bb_gone_x", "bb_ratelimited_x", "bb_5xx_x"] {
        let (o, _f) = bitbucket(token, "acme").await;
        assert_eq!(o.status, TestStatus::Error, "{token}: {o:?}");
    }
}

// ---------------------------------------------------------------- outbound safety

async fn self_hosted_gitlab(cfg: ProviderConfig, url: &str) -> TestOutcome {
    let t = target(Provider::Gitlab, Hosting::SelfHosted, Some(url));
    run(cfg, &t, "glpat-maintainer_x").await
}

#[tokio::test]
async fn blocked_addresses_are_never_contacted() {
    let fake = fakes::gitlab::start();
    let p = fake.port;
    for (url, why) in [
        (format!("https://127.0.0.1:{p}"), "loopback"),
        (format!("https://[::1]:{p}"), "loopback"),
        (format!("https://[::ffff:127.0.0.1]:{p}"), "loopback"),
        (format!("https://localhost:{p}"), "loopback"),
        ("https://169.254.169.254".to_owned(), "link-local"),
        (format!("https://0.0.0.0:{p}"), "unspecified"),
        (format!("http://127.0.0.1:{p}"), "loopback"),
    ] {
        let o = self_hosted_gitlab(config(), &url).await;
        assert_eq!(o.status, TestStatus::Unreachable, "{url}: {o:?}");
        let r = reason(&o);
        assert!(r.starts_with("blocked:"), "{url}: {r}");
        assert!(r.contains(why), "{url}: {r}");
        assert!(r.contains("FORGEKEYS_OUTBOUND_ALLOW"), "{url}: {r}");
    }
    fake.assert_untouched();
}

#[tokio::test]
async fn allow_list_permits_loopback() {
    let fake = fakes::gitlab::start();
    let p = fake.port;
    // http on an allowed range reaches the fake.
    let o = self_hosted_gitlab(loopback_allowed(config()), &format!("http://127.0.0.1:{p}")).await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    // `localhost` resolves to 127.0.0.1 (allowed) and ::1 (not allowed, filtered out).
    let o = self_hosted_gitlab(loopback_allowed(config()), &format!("http://localhost:{p}")).await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
    // https on an allowed range connects (the plain-HTTP fake then fails the TLS handshake).
    let before = fake.requests().len();
    let o = self_hosted_gitlab(
        loopback_allowed(config()),
        &format!("https://127.0.0.1:{p}"),
    )
    .await;
    assert_eq!(o.status, TestStatus::Unreachable, "{o:?}");
    assert!(!reason(&o).starts_with("blocked"), "{o:?}");
    assert_eq!(
        fake.requests().len(),
        before,
        "no HTTP request over a failed TLS handshake"
    );
}

#[tokio::test]
async fn allow_list_must_cover_the_whole_address() {
    let fake = fakes::gitlab::start();
    let mut cfg = config();
    cfg.outbound_allow = vec!["10.0.0.0/8".parse().unwrap()];
    let o = self_hosted_gitlab(cfg, &format!("http://127.0.0.1:{}", fake.port)).await;
    assert_eq!(o.status, TestStatus::Unreachable, "{o:?}");
    fake.assert_untouched();
}

#[tokio::test]
async fn deny_list_applies_to_everything() {
    let fake = fakes::github::start();
    let mut cfg = github_config(&fake);
    cfg.outbound_deny = vec!["127.0.0.1/32".parse().unwrap()];
    let o = run(
        cfg,
        &target(Provider::Github, Hosting::Cloud, None),
        "ghp_allscopes_x",
    )
    .await;
    assert_eq!(o.status, TestStatus::Unreachable, "{o:?}");
    assert!(reason(&o).contains("FORGEKEYS_OUTBOUND_DENY"), "{o:?}");

    // Deny wins over allow for user-supplied URLs.
    let mut cfg = loopback_allowed(config());
    cfg.outbound_deny = vec!["127.0.0.0/8".parse().unwrap()];
    let o = self_hosted_gitlab(cfg, &format!("http://localhost:{}", fake.port)).await;
    assert_eq!(o.status, TestStatus::Unreachable, "{o:?}");
    assert!(reason(&o).contains("FORGEKEYS_OUTBOUND_DENY"), "{o:?}");
    fake.assert_untouched();
}

#[tokio::test]
async fn cross_origin_redirect_never_carries_the_token() {
    let token = "ghp_allscopes_redirect";
    let github = fakes::github::start_ghes();
    let redirector = fakes::redirecting(&github.url);

    // Self-hosted (user URL).
    let t = target(Provider::Github, Hosting::SelfHosted, Some(&redirector.url));
    let o = run(loopback_allowed(config()), &t, token).await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
    assert!(
        reason(&o).contains("redirected to another address"),
        "{o:?}"
    );

    // Cloud (operator URL).
    let mut cfg = config();
    cfg.github_api_url = redirector.at("/api/v3").parse().unwrap();
    let o = run(cfg, &target(Provider::Github, Hosting::Cloud, None), token).await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");

    assert_eq!(redirector.requests().len(), 2);
    github.assert_untouched();
    assert!(!github.saw_token(token));
}

#[tokio::test]
async fn self_hosted_url_is_validated() {
    let t = target(
        Provider::Gitlab,
        Hosting::SelfHosted,
        Some("https://user:pw@gitlab.example.com"),
    );
    let o = run(config(), &t, "glpat-maintainer_x").await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
    let t = target(Provider::Gitlab, Hosting::SelfHosted, None);
    let o = run(config(), &t, "glpat-maintainer_x").await;
    assert_eq!(o.status, TestStatus::Error, "{o:?}");
    assert_eq!(
        normalize_origin("GitLab.Example.com:8443/").as_deref(),
        Ok("https://gitlab.example.com:8443")
    );
}

/// A host name (not `localhost`) that the system resolves only to loopback addresses, if any.
fn loopback_hostname() -> Option<String> {
    use std::net::ToSocketAddrs;
    let mut candidates = vec![
        "localhost.localdomain".to_owned(),
        "ip6-localhost".to_owned(),
    ];
    if let Ok(name) = std::fs::read_to_string("/etc/hostname") {
        candidates.push(name.trim().to_owned());
    }
    if let Ok(hosts) = std::fs::read_to_string("/etc/hosts") {
        for line in hosts.lines().filter(|l| l.starts_with("127.")) {
            candidates.extend(line.split_whitespace().skip(1).map(str::to_owned));
        }
    }
    candidates.into_iter().find(|name| {
        !name.is_empty()
            && !name.eq_ignore_ascii_case("localhost")
            && (name.as_str(), 443)
                .to_socket_addrs()
                .map(|addrs| {
                    let addrs: Vec<_> = addrs.collect();
                    !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
                })
                .unwrap_or(false)
    })
}

#[tokio::test]
async fn dns_answers_are_checked_before_connecting() {
    let Some(host) = loopback_hostname() else {
        eprintln!("skipped: no host name resolving to loopback on this system");
        return;
    };
    let fake = fakes::gitlab::start();
    let o = self_hosted_gitlab(config(), &format!("https://{host}:{}", fake.port)).await;
    assert_eq!(o.status, TestStatus::Unreachable, "{o:?}");
    let r = reason(&o);
    assert!(
        r.starts_with("blocked:") && r.contains("loopback"),
        "{host}: {r}"
    );
    fake.assert_untouched();
    // Allowed range: the same name reaches the fake over http.
    let o = self_hosted_gitlab(
        loopback_allowed(config()),
        &format!("http://{host}:{}", fake.port),
    )
    .await;
    assert_eq!(o.status, TestStatus::Valid, "{o:?}");
}

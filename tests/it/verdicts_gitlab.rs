//! Issue 9 at the HTTP level, GitLab (provider-apis.md §6, provider-research.md §6), through
//! the form endpoints:
//!
//! 5. OAuth and CI job tokens say what they are and what to use instead;
//! 6. the reach: personal namespaces, group shares, the server version;
//! - a GitLab installed under a path (`https://host/gitlab`, DESIGN.md §2);
//! - an internal CA (`FORGEKEYS_CA_BUNDLE`) and the certificate error that says what to do.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::forms::*;
use crate::helpers::*;

async fn gitlab_env() -> (Env, fakes::FakeServer) {
    let gl = fakes::gitlab::start();
    let env = env(Options {
        gitlab_url: Some(gl.url.clone()),
        ..Default::default()
    })
    .await;
    (env, gl)
}

#[tokio::test]
async fn gitlab_token_kinds_that_are_not_access_tokens_say_what_to_use() {
    let (env, _gl) = gitlab_env().await;
    let cases: Vec<(&str, Expect)> = vec![
        (
            // 400 "… requires token type to be a personal access token" (research §6).
            "glpat-oauth_v5",
            expect(
                "invalid",
                &[
                    "OAuth access token",
                    "Use a personal, project or group access token",
                    "“api” and “read_repository”",
                ],
                &[],
            )
            .lacking(&["data-missing"]),
        ),
        (
            // A CI job token gets a plain 401 on this API (research §6, correcting §6).
            "glcbt-64_jobtoken_v5",
            expect(
                "invalid",
                &[
                    "this is a GitLab CI/CD job token",
                    "it works only while its job runs",
                    "Use a personal, project or group access token",
                ],
                &[],
            ),
        ),
        (
            "gldt-deploytoken_v5",
            expect("invalid", &["GitLab deploy token"], &[]),
        ),
    ];
    for (token, e) in &cases {
        through_forms(&env, &Form::gitlab(token), e).await;
    }
}

#[tokio::test]
async fn gitlab_reach_names_personal_namespaces_shares_and_the_server_version() {
    let (env, gl) = gitlab_env().await;
    let cases: Vec<(&str, Expect)> = vec![
        (
            // A human's token: Owner only of the user's own project.
            "glpat-personal_v6",
            expect(
                "valid",
                &[
                    "alice",
                    "personal access token",
                    "project alice/scratch (Owner, personal namespace)",
                    "comes only from personal namespaces (alice/scratch)",
                    "give alice the Maintainer role on them",
                    fakes::gitlab::VERSION,
                    "lists the branches of alice/scratch",
                ],
                &[],
            )
            .clone_check("passed"),
        ),
        (
            // Reached through a group share: both levels null, listed by the server.
            "glpat-shared_v6",
            expect(
                "valid",
                &["project partner/shared-app (Maintainer or higher, through a group share)"],
                &[],
            )
            .clone_check("passed")
            .lacking(&["personal namespaces"]),
        ),
        (
            // Group members, unchanged: a group project, no personal-namespace warning.
            "glpat-maintainer_v6",
            expect(
                "valid",
                &[
                    "project Test/test-project (Maintainer)",
                    fakes::gitlab::VERSION,
                ],
                &[],
            )
            .clone_check("passed")
            .lacking(&["personal namespaces"]),
        ),
        (
            // An Owner of a group only: the clone check uses the group's first project.
            "glpat-owner_v6",
            expect("valid", &["group test (Owner)", "test/infra"], &[]).clone_check("passed"),
        ),
        (
            // Associations answer any scope (research §6): the role is known without `api`.
            "glpat-noapi_v6",
            expect(
                "missing_permissions",
                &["project Test/test-project (Maintainer)", "Missing: “api”"],
                &["api"],
            )
            .lacking(&["could not be checked"]),
        ),
        (
            "glpat-old_v6",
            expect("valid", &[fakes::gitlab::OLD_VERSION, "group/app"], &[]),
        ),
    ];
    for (token, e) in &cases {
        through_forms(&env, &Form::gitlab(token), e).await;
    }
    // Associations are always asked with `min_access_level` (research §6: without it GitLab
    // lists every public project).
    assert!(
        gl.requests()
            .iter()
            .filter(|r| r.route() == "/api/v4/personal_access_tokens/self/associations")
            .all(|r| r.path.contains("min_access_level=40"))
    );
}

#[tokio::test]
async fn a_gitlab_installed_under_a_path_is_reached_there() {
    let gl = fakes::gitlab::start_under("/gitlab");
    let env = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    let url = format!("{}/gitlab", gl.url);
    let f = Form::self_hosted("gitlab", "glpat-maintainer_path", &format!("{url}/"))
        .name("Under a path");
    through_forms(
        &env,
        &f,
        &expect(
            "valid",
            &[
                "project_17_bot_3f1a2b",
                "Test/test-project",
                &format!("{url}/Test/test-project.git"),
            ],
            &[],
        )
        .clone_check("passed"),
    )
    .await;
    let reqs = gl.requests();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter().all(|r| r.path.starts_with("/gitlab/api/v4/")
            || r.path == "/gitlab/Test/test-project.git/info/refs?service=git-upload-pack"),
        "{reqs:?}"
    );
    // Saved with its path (no trailing slash), and shown so.
    let t = env.create_ok(&f).await;
    assert_eq!(t.url.as_deref(), Some(url.as_str()));
    env.owner
        .get(&format!("{BASE}/{}", t.id))
        .await
        .assert_status(200)
        .assert_contains(&url);
    // The API path itself is refused with the address to enter instead.
    let api = Form::self_hosted("gitlab", "glpat-maintainer_path", &format!("{url}/api/v4"));
    env.test_htmx(&api)
        .await
        .assert_status(422)
        .assert_contains("without /api/v4")
        .assert_contains(&url);
}

#[tokio::test]
async fn an_internal_ca_needs_the_ca_bundle_and_the_error_says_so() {
    let tls = fakes::tls::start(fakes::gitlab::handler(""));
    let f = Form::self_hosted("gitlab", "glpat-maintainer_tls", &tls.url);
    // Without the bundle: unreachable, with the certificate reason and the setting to use.
    let plain = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    through_forms(
        &plain,
        &f,
        &expect(
            "unreachable",
            &[
                "TLS: the certificate of 127.0.0.1",
                "unknown issuer",
                "FORGEKEYS_CA_BUNDLE",
            ],
            &[],
        ),
    )
    .await;
    assert!(
        tls.server.requests().is_empty(),
        "no request over an untrusted connection"
    );
    // With the test CA in FORGEKEYS_CA_BUNDLE: the API and the clone check over TLS.
    let trusted = env(Options {
        outbound_allow: loopback(),
        ca_bundle: Some(tls.ca_file()),
        ..Default::default()
    })
    .await;
    through_forms(
        &trusted,
        &f,
        &expect("valid", &["Test/test-project"], &[]).clone_check("passed"),
    )
    .await;
    assert!(tls.server.saw_token("glpat-maintainer_tls"));
}

#[test]
fn a_ca_bundle_that_is_not_a_file_stops_the_start_with_the_setting_named() {
    use forgekeys::providers::{ProviderClient, ProviderConfig};
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("bundle.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let err = ProviderClient::new(ProviderConfig {
        ca_bundle: Some(not_pem),
        ..Default::default()
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("FORGEKEYS_CA_BUNDLE"), "{err}");
    assert!(err.contains("BEGIN CERTIFICATE"), "{err}");
}

//! Issue 9 at the HTTP level, GitHub: verdicts that match the real GitHub (provider-apis.md §6,
//! provider-research.md §1–§5), through the form endpoints (`through_forms`: the HTMX fragment
//! and the no-JS page), next to the cases that passed before.
//!
//! 1. fine-grained tokens probe a repository the token was granted, named in the result;
//! 2. classic tokens without `read:org` (GitHub: 403 on `/user/orgs`);
//! 3. SAML SSO organizations and organizations that forbid classic tokens;
//! 5. tokens that are no personal access token (`ghu_`, `ghs_`);
//! 7. a GitHub Enterprise Server that reports no expiry.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::fakes::github::orgs::{FORBIDDING_ORG, SSO_ORG, SSO_URL};
use crate::forms::*;
use crate::helpers::*;

async fn github_env() -> (Env, fakes::FakeServer) {
    let gh = fakes::github::start();
    let env = env(Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    })
    .await;
    (env, gh)
}

/// HTML-escaped as askama writes it into the page.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

// ------------------------------------------------------------- 1. fine-grained: granted repo

#[tokio::test]
async fn fine_grained_tokens_are_probed_on_a_repository_they_were_granted() {
    let (env, gh) = github_env().await;
    let cases: Vec<(&str, Expect)> = vec![
        (
            // `/user/repos` lists acme/docs (public, never granted) first: the verdict rests on
            // acme/web, the private repository the token was granted.
            "github_pat_good_v1",
            expect(
                "valid",
                &[
                    "octocat",
                    "fine-grained personal access token",
                    "permissions probed on repository acme/web (private, granted to the token)",
                    "lists the branches of acme/web",
                ],
                &[],
            )
            .clone_check("passed")
            .lacking(&["acme/docs"]),
        ),
        (
            // The same token where GitHub does not list public repositories (research §2a).
            "github_pat_nopublic_v1",
            expect("valid", &["probed on repository acme/web"], &[]).clone_check("passed"),
        ),
        (
            "github_pat_nohooks_v1",
            expect(
                "missing_permissions",
                &[
                    "GitHub refused it on acme/web, a repository granted to the token",
                    "Webhooks: Read and write",
                    "Resource not accessible by personal access token",
                ],
                &["repository_hooks=read"],
            )
            .clone_check("passed"),
        ),
        (
            // Only public repositories: none proves a grant. No false "missing Webhooks", no
            // false "Pull requests granted".
            "github_pat_norepos_v1",
            expect(
                "missing_permissions",
                &[
                    "lists only public repositories (acme/docs, octocat/hello-world)",
                    "which every token may read",
                    "under Repository access choose",
                ],
                &["Repository access"],
            )
            .clone_check("skipped")
            .lacking(&["repository_hooks=read", "pull_requests=read"]),
        ),
        (
            "github_pat_empty_v1",
            expect(
                "missing_permissions",
                &["The token sees no repository at all."],
                &["Repository access"],
            ),
        ),
        (
            // A public repository whose webhooks answer is one the token was granted.
            "github_pat_publichooks_v1",
            expect(
                "valid",
                &["permissions probed on repository acme/docs (public, granted to the token)"],
                &[],
            )
            .clone_check("passed"),
        ),
        (
            // 100 public repositories on the first page: the private one comes from
            // `visibility=private`.
            "github_pat_manypublic_v1",
            expect("valid", &["probed on repository acme/web (private"], &[]),
        ),
        (
            // The organization's lifetime policy (NixOS/org#247).
            "github_pat_lifetime_v1",
            expect(
                "missing_permissions",
                &[
                    "forbids fine-grained tokens that live longer than its limit",
                    "https://github.com/settings/personal-access-tokens/12885303",
                ],
                &["Token lifetime allowed by acme"],
            ),
        ),
        (
            // go-github#3708: an expiry header holding "now" is no expiry.
            "github_pat_nowexpiry_v1",
            expect(
                "valid",
                &[
                    "a known GitHub fault: expiry unknown",
                    "not reported by the provider",
                ],
                &[],
            )
            .lacking(&["never expires"]),
        ),
    ];
    for (token, e) in &cases {
        through_forms(&env, &Form::github(token), e).await;
    }
    // The public repository was never probed for webhooks by the granted tokens.
    assert!(
        !gh.requests()
            .iter()
            .any(|r| r.token() == Some("github_pat_good_v1")
                && r.route() == "/repos/acme/docs/hooks"),
        "{:?}",
        gh.requests()
    );
    // The second listing of `github_pat_manypublic` asked for private repositories.
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.token() == Some("github_pat_manypublic_v1")
                && r.path == "/user/repos?visibility=private&per_page=100")
    );
}

// ------------------------------------------------------------- 2. classic without read:org

#[tokio::test]
async fn classic_tokens_without_read_org_are_judged_by_the_accounts_organizations() {
    let (env, gh) = github_env().await;
    let cases: Vec<(&str, Expect)> = vec![
        (
            "ghp_inorgs_v2",
            expect(
                "missing_permissions",
                &[
                    "tick “read:org”",
                    "works with repositories of “acme”",
                    "GitHub refuses to list its organizations without “read:org” (HTTP 403)",
                    "“admin:org” also satisfy this",
                ],
                &["read:org"],
            )
            .clone_check("passed"),
        ),
        (
            "ghp_repoonly_v2",
            expect(
                "missing_permissions",
                &["belongs to an organization", "tick “admin:repo_hook”"],
                &["admin:repo_hook", "read:org"],
            ),
        ),
        (
            // No organization repository: recommended only.
            "ghp_noorgs_v2",
            expect(
                "valid",
                &["“read:org” is recommended", "belongs to no organization"],
                &[],
            )
            .clone_check("passed"),
        ),
        (
            // `read:org` present: unchanged, valid.
            "ghp_allscopes_v2",
            expect("valid", &["octocat", "<code>read:org</code>"], &[]).clone_check("passed"),
        ),
    ];
    for (token, e) in &cases {
        through_forms(&env, &Form::github(token), e).await;
    }
    // The fake refused `/user/orgs` as GitHub does, and the verdicts did not take that for
    // "no organizations".
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.token() == Some("ghp_inorgs_v2") && r.route() == "/user/orgs")
    );
    assert!(
        !gh.requests()
            .iter()
            .any(|r| r.token() == Some("ghp_allscopes_v2") && r.route() == "/user/orgs")
    );
}

// ------------------------------------------------------------- 3. SSO and org policies

#[tokio::test]
async fn saml_sso_organizations_are_named_with_the_authorization_link() {
    let (env, gh) = github_env().await;
    let f = Form::github("ghp_sso_v3");
    let name = "SAML SSO authorization for acme-sso";
    let e = expect(
        "missing_permissions",
        &[
            "octocat",
            &format!("The organization “{SSO_ORG}” uses SAML single sign-on"),
            &escaped(SSO_URL),
            "Configure SSO next to the token, then Authorize",
        ],
        &[name],
    )
    .clone_check("passed");
    through_forms(&env, &f, &e).await;
    // The fix says how to authorize, and never to edit or tick the token's scopes.
    let page = env.test_htmx(&f).await;
    let fix = missing_fix(&page, name);
    assert!(!fix.contains("tick"), "{fix}");
    assert!(!fix.to_lowercase().contains("edit the token"), "{fix}");
    // The organization was named from the id in `X-GitHub-SSO: partial-results`.
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.route() == "/organizations/21955855")
    );
}

#[tokio::test]
async fn organizations_that_forbid_classic_tokens_are_named() {
    let (env, _gh) = github_env().await;
    let name = "Classic tokens allowed by forbidorg";
    let e = expect(
        "missing_permissions",
        &[
            &format!("The organization “{FORBIDDING_ORG}” forbids access with personal access tokens (classic)"),
            "Use a fine-grained personal access token instead",
            "Personal access tokens (classic) are forbidden from accessing this repository.",
            "forbidorg/app",
        ],
        &[name],
    )
    .clone_check("failed");
    let f = Form::github("ghp_forbidden_v3");
    through_forms(&env, &f, &e).await;
    let fix = missing_fix(&env.test_htmx(&f).await, name);
    assert!(!fix.contains("tick"), "{fix}");
}

// ------------------------------------------------------------- 5. not a personal access token

#[tokio::test]
async fn github_app_tokens_say_what_they_are_and_what_to_use() {
    let (env, _gh) = github_env().await;
    let cases: Vec<(&str, Expect)> = vec![
        (
            "ghu_usertoken_v5",
            expect(
                "invalid",
                &[
                    "octocat",
                    "GitHub App user access token",
                    "expires after 8 hours",
                    "Create a personal access token instead",
                ],
                &[],
            )
            .lacking(&["data-missing=\"repo\""]),
        ),
        (
            "ghs_installation_v5",
            expect(
                "invalid",
                &[
                    "GitHub App installation token",
                    "expires after an hour",
                    "Create a personal access token instead",
                ],
                &[],
            ),
        ),
        (
            "ghr_refresh_v5",
            expect("invalid", &["GitHub App refresh token"], &[]),
        ),
    ];
    for (token, e) in &cases {
        through_forms(&env, &Form::github(token), e).await;
    }
}

// ------------------------------------------------------------- 7. GHES expiry not reported

#[tokio::test]
async fn an_enterprise_server_without_the_expiry_header_says_not_reported() {
    let ghes = fakes::github::start_ghes();
    let env = env(Options {
        outbound_allow: loopback(),
        ..Default::default()
    })
    .await;
    let f = Form::self_hosted("github", "ghp_noexpiry_v7", &ghes.url);
    let e = expect(
        "valid",
        &[
            "not reported by the provider",
            "did not report an expiry date",
            fakes::github::GHES_VERSION,
        ],
        &[],
    )
    .lacking(&["never expires"])
    .clone_check("passed");
    through_forms(&env, &f, &e).await;
    // github.com itself documents the missing header as "never expires".
    let (cloud, _gh) = github_env().await;
    through_forms(
        &cloud,
        &Form::github("ghp_noexpiry_v7"),
        &expect("valid", &["never expires"], &[]),
    )
    .await;
}

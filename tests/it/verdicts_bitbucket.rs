//! Issue 9 at the HTTP level, Bitbucket Cloud (provider-apis.md §6, provider-research.md §7),
//! through the form endpoints:
//!
//! 4. Atlassian API tokens and app passwords: the `username` field (DESIGN.md §8), HTTP Basic,
//!    their scope names, the account shown; access tokens unchanged;
//! 7. a 401 after the entered expiry is `expired`; Bitbucket's expiry is "not reported".

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::fakes::bitbucket::{DISPLAY_NAME, EMAIL, USERNAME};
use crate::forms::*;
use crate::helpers::*;

async fn bitbucket_env() -> (Env, fakes::FakeServer) {
    let bb = fakes::bitbucket::start();
    let env = env(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&bb)),
        ..Default::default()
    })
    .await;
    (env, bb)
}

/// The fake and the app's clock both on the day `anchor`.
async fn bitbucket_env_at(anchor: chrono::DateTime<chrono::Utc>) -> (Env, fakes::FakeServer) {
    let bb = fakes::bitbucket::start_at(anchor);
    let env = env(Options {
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&bb)),
        ..Default::default()
    })
    .await;
    env.app.clock.advance(anchor - env.app.clock.now());
    (env, bb)
}

/// Noon UTC `days` after the day Bitbucket turned app passwords off (negative: before).
fn around_app_passwords_end(days: i64) -> chrono::DateTime<chrono::Utc> {
    let day = forgekeys::providers::BITBUCKET_APP_PASSWORDS_END + chrono::Duration::days(days);
    day.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

// Both sides of the day app passwords stopped, whatever today's date is.
#[tokio::test]
async fn bitbucket_api_tokens_and_app_passwords_are_sent_with_their_username() {
    api_tokens_and_app_passwords_on(around_app_passwords_end(-30)).await;
}

#[tokio::test]
async fn bitbucket_app_passwords_are_refused_after_the_day_bitbucket_turned_them_off() {
    api_tokens_and_app_passwords_on(around_app_passwords_end(1)).await;
}

async fn api_tokens_and_app_passwords_on(anchor: chrono::DateTime<chrono::Utc>) {
    let (env, bb) = bitbucket_env_at(anchor).await;
    let api = |token: &str, user: &str| Form::bitbucket(token, "acme").username(user);
    let mut cases: Vec<(Form, Expect)> = vec![
        (
            api("ATATT3xvalid_v4", EMAIL),
            expect(
                "valid",
                &[
                    &format!("{DISPLAY_NAME} ({USERNAME})"),
                    "API token (Atlassian account)",
                    "<code>write:pullrequest:bitbucket</code>",
                    "acme/web",
                    "x-bitbucket-api-token-auth",
                    "not reported by the provider",
                ],
                &[],
            )
            .clone_check("passed")
            .lacking(&["never expires"]),
        ),
        (
            // Scopes of API tokens do not imply each other (api-token-permissions).
            api("ATATT3xwriteonly_v4", EMAIL),
            expect(
                "missing_permissions",
                &[
                    "Pull requests: Read",
                    "Webhooks: Read",
                    "do not include one another",
                ],
                &["read:pullrequest:bitbucket", "read:webhook:bitbucket"],
            ),
        ),
        (
            api("ATATT3xreadonly_v4", EMAIL),
            expect(
                "missing_permissions",
                &["Create API token with scopes"],
                &[
                    "read:pullrequest:bitbucket",
                    "write:pullrequest:bitbucket",
                    "read:webhook:bitbucket",
                    "write:webhook:bitbucket",
                ],
            ),
        ),
        (
            // Without `read:user:bitbucket` the account is the e-mail it was sent with.
            api("ATATT3xnouser_v4", EMAIL),
            expect("valid", &[EMAIL], &[]).clone_check("passed"),
        ),
        (
            // An API token pasted without the e-mail goes as Bearer: 401, and the page says
            // what to enter.
            Form::bitbucket("ATATT3xvalid_v4", "acme"),
            expect(
                "invalid",
                &[
                    "looks like an Atlassian API token",
                    "Enter that e-mail in Username",
                ],
                &[],
            ),
        ),
        (
            // The Bitbucket username instead of the e-mail: 401 (Atlassian KB).
            api("ATATT3xvalid_v4", USERNAME),
            expect(
                "invalid",
                &[
                    "Username must be the e-mail address of the Atlassian account",
                    "jdoe was sent",
                ],
                &[],
            ),
        ),
        (
            // An access token (ATCTT…) sent with a username goes as Basic: 401, and the page
            // says to leave the username empty.
            api("ATCTT3xaccess_v4", USERNAME),
            expect(
                "invalid",
                &["access token (ATCTT…)", "leave Username empty"],
                &[],
            ),
        ),
        (
            // Access tokens: unchanged, Bearer, clone as `x-token-auth`.
            Form::bitbucket("bb_valid_v4", "acme"),
            expect(
                "valid",
                &["workspace acme (repository access token)", "x-token-auth"],
                &[],
            )
            .clone_check("passed"),
        ),
    ];
    // App passwords stopped working on the day Bitbucket turned them off.
    let app = api("bbapp_password_v4", USERNAME);
    let app_expect = if fakes::dates::before_app_passwords_end(bb.anchor) {
        expect(
            "valid",
            &["app password", "App passwords stop working on 2026-06-09"],
            &[],
        )
    } else {
        expect(
            "invalid",
            &[
                "Bitbucket turned app passwords off on 2026-06-09",
                "Create an Atlassian API token",
            ],
            &[],
        )
    };
    cases.push((app, app_expect));
    for (f, e) in &cases {
        through_forms(&env, f, e).await;
    }
    // What went over the wire: Basic EMAIL:TOKEN to the API, never the e-mail to Git.
    let reqs = bb.requests();
    let api_token: Vec<_> = reqs
        .iter()
        .filter(|r| r.token() == Some("ATATT3xvalid_v4"))
        .collect();
    assert!(
        api_token
            .iter()
            .any(|r| r.basic() == Some((EMAIL, "ATATT3xvalid_v4"))
                && r.route() == "/2.0/repositories/acme")
    );
    assert!(api_token.iter().any(|r| r.route() == "/2.0/user"));
    assert!(
        api_token
            .iter()
            .filter(|r| r.route().ends_with(".git/info/refs"))
            .all(|r| r.basic().map(|(u, _)| u) == Some("x-bitbucket-api-token-auth"))
    );
}

#[tokio::test]
async fn the_username_field_is_bitbucket_only_stored_and_needs_the_token_again() {
    let (env, bb) = bitbucket_env().await;
    // Only the Bitbucket fields have it, with words for each kind of credential.
    let fields = env
        .owner
        .get_htmx(&format!("{BASE}/new?provider=bitbucket"), "provider-fields")
        .await;
    fields
        .assert_contains(r#"name="username""#)
        .assert_contains(
            "Access token</strong> (repository, project or workspace): leave this empty",
        )
        .assert_contains("Atlassian API token</strong>: your Atlassian account e-mail")
        .assert_contains("App password</strong>: your Bitbucket username");
    env.owner
        .get_htmx(&format!("{BASE}/new?provider=github"), "provider-fields")
        .await
        .assert_lacks(r#"name="username""#);
    // A bad username is refused next to the field, nothing sent.
    let before = bb.requests().len();
    env.test_htmx(&Form::bitbucket("ATATT3xvalid_u", "acme").username("jane doe"))
        .await
        .assert_status(422)
        .assert_contains("Username:");
    assert_eq!(bb.requests().len(), before);

    // Saved with the username; the detail page shows it; a re-test sends it again.
    let t = env
        .create_ok(
            &Form::bitbucket("ATATT3xvalid_u", "acme")
                .username(EMAIL)
                .name("Atlassian API token"),
        )
        .await;
    assert_eq!(t.username.as_deref(), Some(EMAIL));
    assert_eq!(t.status, "valid");
    assert_eq!(t.account.as_deref(), Some("Jane Doe (jdoe)"));
    env.owner
        .get(&format!("{BASE}/{}", t.id))
        .await
        .assert_contains("<dt>Username</dt><dd>jane@acme.test</dd>");
    let before = bb.requests().len();
    env.retest_row(&t.id)
        .await
        .assert_contains(r#"data-status="valid""#);
    assert!(
        bb.requests()[before..]
            .iter()
            .any(|r| r.basic() == Some((EMAIL, "ATATT3xvalid_u")))
    );

    // Changing the username without the token value: refused, nothing sent, nothing changed.
    let edit = Form::bitbucket("", "acme")
        .username("other@acme.test")
        .name("Atlassian API token");
    let fields = edit.fields(Some(&env.csrf));
    let before = bb.requests().len();
    env.owner
        .post(&format!("{BASE}/{}", t.id), &pairs(&fields))
        .await
        .assert_status(422)
        .assert_contains("Paste the token value again")
        .assert_contains("username");
    assert_eq!(bb.requests().len(), before);
    assert_eq!(env.reload(&t.id).username.as_deref(), Some(EMAIL));
}

#[tokio::test]
async fn a_bitbucket_401_after_the_entered_expiry_is_expired() {
    let (env, _bb) = bitbucket_env().await;
    let now = chrono::Utc::now();
    let yesterday = fakes::dates::form_date(now - chrono::Duration::days(1));
    let next_week = fakes::dates::form_date(now + chrono::Duration::days(7));
    let cases: Vec<(Form, Expect)> = vec![
        (
            Form::bitbucket("bb_bad_v7", "acme").with("expires_on", &yesterday),
            expect("expired", &["The token has expired.", &yesterday], &[]),
        ),
        (
            Form::bitbucket("bb_bad_v7", "acme").with("expires_on", &next_week),
            expect("invalid", &["The provider rejected the token."], &[]),
        ),
        (
            Form::bitbucket("bb_bad_v7", "acme"),
            expect("invalid", &["The provider rejected the token."], &[]),
        ),
        (
            // Bitbucket reports no expiry: "not reported", never "never expires".
            Form::bitbucket("bb_valid_v7", "acme"),
            expect("valid", &["not reported by the provider"], &[]).lacking(&["never expires"]),
        ),
    ];
    for (f, e) in &cases {
        through_forms(&env, f, e).await;
    }
}

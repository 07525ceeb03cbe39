//! Issue 11 item 6, lost updates: an edit form carries the version of the token it was loaded
//! at; a submission for an older version is refused with the form kept, and an edit writes
//! only the columns it changes (never the secret). Rotations of one token, by hand or at
//! GitLab, from one or several processes, hold the token's lease `rotate:<id>` one at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::helpers::*;
use crate::rotation::{Env, env, github_opts, gitlab_opts};
use forgekeys::crypto::keyfile;
use forgekeys::crypto::secret_box::SecretBox;
use forgekeys::db::models::lease::Lease;
use forgekeys::db::models::token::GitToken;
use forgekeys::domain::ids::TokenId;
use secrecy::ExposeSecret;

const BASE: &str = "/orgs/acme/settings/git-tokens";

/// The stored value of a token row, decrypted with the keys in the key file.
pub(crate) fn plain(app: &TestApp, row: &GitToken) -> String {
    let sb = SecretBox::new(keyfile::load(&app.key_file).unwrap()).unwrap();
    sb.open_token(&row.id, &row.key_id, &row.secret)
        .map(|s| s.expose_secret().to_string())
        .unwrap_or_else(|e| panic!("token {} does not decrypt: {e}", row.name))
}

/// The edit form of a GitHub cloud token as a browser submits it: the values the page showed
/// (with `name` and `description` as given) and its hidden fields.
fn edit_submission(
    page: &Page,
    csrf: &str,
    name: &str,
    description: &str,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("csrf_token".to_string(), csrf.to_string()),
        ("provider".into(), "github".into()),
        ("hosting".into(), "cloud".into()),
        ("name".into(), name.into()),
        ("token".into(), String::new()),
        ("description".into(), description.into()),
        ("expires_on".into(), String::new()),
    ];
    if let Some(v) = page.input_value("version") {
        form.push(("version".into(), v));
    }
    form
}

async fn submit(e: &Env, id: &str, form: &[(String, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    e.owner.post(&format!("{BASE}/{id}"), &pairs).await
}

#[tokio::test]
async fn an_edit_loaded_before_a_rotation_does_not_undo_it() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let t = e
        .create("github", "deploy", "ghp_allscopes_stale_before")
        .await;

    // The edit form is opened…
    let form = e.owner.get(&format!("{BASE}/{}/edit", t.id)).await;
    form.assert_status(200);
    // …then someone rotates the token to a new value…
    e.rotate(&t.id, &[("token", "ghp_allscopes_stale_after")])
        .await
        .assert_redirect_to(&format!("{BASE}/{}/rotate?done=manual", t.id));
    let rotated = e.reload(&t.id);
    assert_eq!(plain(&e.app, &rotated), "ghp_allscopes_stale_after");

    // …and the form, loaded before the rotation, is submitted with a new name.
    let p = submit(
        &e,
        &t.id,
        &edit_submission(&form, &e.csrf, "deploy (renamed)", ""),
    )
    .await;
    let after = e.reload(&t.id);
    assert_eq!(
        plain(&e.app, &after),
        "ghp_allscopes_stale_after",
        "the stale edit put the old secret back"
    );
    assert_eq!(after.rotated_at, rotated.rotated_at);
    assert_eq!(after.hint, rotated.hint);
    p.assert_status(409)
        .assert_contains("This token was changed by someone else while you were editing")
        .assert_contains("review and save again")
        // The form is kept, with what was typed, and now carries the current version.
        .assert_contains("value=\"deploy (renamed)\"");
    assert_eq!(after.name, "deploy", "the stale edit was saved");

    // Saved again from the refreshed form, the edit goes through and keeps the new value.
    let again = edit_submission(&p, &e.csrf, "deploy (renamed)", "");
    submit(&e, &t.id, &again)
        .await
        .assert_redirect_to(&format!("{BASE}/{}", t.id));
    let saved = e.reload(&t.id);
    assert_eq!(saved.name, "deploy (renamed)");
    assert_eq!(plain(&e.app, &saved), "ghp_allscopes_stale_after");
    assert_eq!(
        saved.secret, rotated.secret,
        "an edit of the name wrote the secret"
    );
}

#[tokio::test]
async fn two_edits_from_the_same_version_keep_the_first_and_refuse_the_second() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let t = e
        .create("github", "shared", "ghp_allscopes_two_editors")
        .await;
    let first = e.owner.get(&format!("{BASE}/{}/edit", t.id)).await;
    let second = e.owner.get(&format!("{BASE}/{}/edit", t.id)).await;

    submit(
        &e,
        &t.id,
        &edit_submission(&first, &e.csrf, "shared", "first editor"),
    )
    .await
    .assert_redirect_to(&format!("{BASE}/{}", t.id));
    let p = submit(
        &e,
        &t.id,
        &edit_submission(&second, &e.csrf, "renamed by second", ""),
    )
    .await;
    p.assert_status(409)
        .assert_contains("changed by someone else while you were editing")
        .assert_contains("renamed by second");
    let after = e.reload(&t.id);
    assert_eq!(after.name, "shared");
    assert_eq!(
        after.description.as_deref(),
        Some("first editor"),
        "the first edit was lost"
    );
}

/// A state of its own on the app's database: another server process.
fn second_process(app: &TestApp) -> forgekeys::app::state::AppState {
    forgekeys::startup::state(&app.config, app.clock.clone()).unwrap()
}

/// The owner of `acme` as a use case sees them.
async fn owner_member(
    state: &forgekeys::app::state::AppState,
) -> forgekeys::domain::account::Member {
    use forgekeys::db::models::user::User;
    let row = User::find_by_email(&mut state.conn().unwrap(), "owner@acme.test")
        .unwrap()
        .expect("the owner exists");
    let user = forgekeys::domain::account::User {
        id: forgekeys::domain::ids::UserId::new(row.id),
        email: row.email,
    };
    forgekeys::app::auth::member(
        state,
        &user,
        "acme",
        forgekeys::app::auth::Banner::NotNeeded,
    )
    .await
    .unwrap()
    .expect("the owner is a member")
    .member
}

#[tokio::test]
async fn two_processes_rotating_one_gitlab_token_at_once_rotate_it_once() {
    let gl = fakes::gitlab::start();
    let e = env(Options {
        provider_timeout_ms: Some(30_000),
        ..gitlab_opts(&gl)
    })
    .await;
    let t = e.create("gitlab", "gl", "glpat-owner-two-processes").await;
    let (a, b) = (second_process(&e.app), second_process(&e.app));
    let member = owner_member(&a).await;
    let id = TokenId::new(t.id.clone());

    // The first process waits at GitLab in the middle of its rotation while the other tries.
    let gate = gl.hold("/api/v4/personal_access_tokens/self/rotate");
    let first = forgekeys::app::rotation::rotate_at_provider(&a, &member, &id, None);
    let other = async {
        gate.arrived().await;
        let r = forgekeys::app::rotation::rotate_at_provider(&b, &member, &id, None).await;
        gate.release();
        r
    };
    let (first, other) = tokio::join!(first, other);
    assert!(
        matches!(
            first,
            Ok(forgekeys::app::rotation::ProviderRotated::Done { .. })
        ),
        "{first:?}"
    );
    assert!(
        matches!(
            other,
            Err(forgekeys::app::Error::Conflict(
                forgekeys::app::Conflict::RotationRunning
            ))
        ),
        "{other:?}"
    );
    let calls = gl
        .requests()
        .into_iter()
        .filter(|r| r.route() == "/api/v4/personal_access_tokens/self/rotate")
        .count();
    assert_eq!(calls, 1, "GitLab rotated the token twice");
    assert!(plain(&e.app, &e.reload(&t.id)).starts_with("glpat-owner-rotated"));
    // Done: the lease is free.
    let lease = format!("rotate:{}", t.id);
    let row = Lease::find(&mut db(&e.app), &lease).unwrap();
    assert!(
        row.is_none_or(|l| l.holder.is_none()),
        "the lease is still held"
    );
}

#[tokio::test]
async fn a_manual_rotation_waits_for_no_one_and_is_refused_while_gitlab_rotates() {
    let gl = fakes::gitlab::start();
    let e = env(gitlab_opts(&gl)).await;
    let t = e.create("gitlab", "gl", "glpat-owner-manual-lease").await;
    let lease = format!("rotate:{}", t.id);

    // Another process holds the token's rotation lease (a rotation at GitLab is running).
    assert!(
        Lease::try_acquire_named(
            &mut db(&e.app),
            &lease,
            "another-process",
            e.app.clock.naive(),
            chrono::Duration::minutes(2),
        )
        .unwrap()
    );
    let before = gl.requests().len();
    let p = e
        .rotate(&t.id, &[("token", "glpat-owner-manual-new")])
        .await;
    p.assert_status(409).assert_contains("already running");
    assert_eq!(
        gl.requests().len(),
        before,
        "the new value was tested meanwhile"
    );
    assert_eq!(plain(&e.app, &e.reload(&t.id)), "glpat-owner-manual-lease");

    // Once it is over, the manual rotation runs and gives the lease back; the lease rows of
    // other tokens nobody holds any more (a process that died) are deleted.
    Lease::release(
        &mut db(&e.app),
        &lease,
        "another-process",
        e.app.clock.naive(),
    )
    .unwrap();
    let dead = "rotate:a-token-of-a-dead-process";
    let expired = chrono::Duration::minutes(-1);
    let now = e.app.clock.naive();
    assert!(Lease::try_acquire_named(&mut db(&e.app), dead, "dead", now, expired).unwrap());
    e.rotate(&t.id, &[("token", "glpat-owner-manual-new")])
        .await
        .assert_redirect_to(&format!("{BASE}/{}/rotate?done=manual", t.id));
    assert_eq!(plain(&e.app, &e.reload(&t.id)), "glpat-owner-manual-new");
    let row = Lease::find(&mut db(&e.app), &lease)
        .unwrap()
        .expect("the token's lease row");
    assert_eq!(row.holder, None, "the manual rotation kept the lease");
    assert!(
        Lease::find(&mut db(&e.app), dead).unwrap().is_none(),
        "an expired lease row stayed"
    );
}

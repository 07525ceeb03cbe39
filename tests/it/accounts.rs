//! Operator account commands and the password-reset page: `forgekeys user remove`,
//! `user reset-password` (a one-time link, no password on the command line) and what
//! `user add` says about an existing account.

use crate::helpers::*;
use crate::members::MEMBERS;
use chrono::Duration;
use forgekeys::domain::role::Role;

type Out = crate::tokens_check::Run;

/// `forgekeys ARGS` as the CLI tests run it, with a base URL for the links it prints.
async fn run(app: &TestApp, args: &[&str], stdin: &str) -> Out {
    let env = [("FORGEKEYS_BASE_URL", "https://fk.example.com")];
    crate::cli::run_with_env(app, args, stdin, &env).await
}

fn reset_path(out: &Out) -> String {
    let re =
        regex::Regex::new(r"https://fk\.example\.com(/password-reset/[A-Za-z0-9_-]+)").unwrap();
    re.captures(&out.stdout)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no reset link in:\n{}\n{}", out.stdout, out.stderr))
}

async fn set_password(c: &Client, path: &str, pw: &str) -> Page {
    let form = c.get(path).await;
    form.assert_status(200);
    let csrf = form.csrf();
    c.post(
        path,
        &[
            ("csrf_token", &csrf),
            ("password", pw),
            ("password_confirm", pw),
        ],
    )
    .await
}

const NEW_PASSWORD: &str = "a brand new passphrase";

#[tokio::test]
async fn a_reset_link_sets_a_password_once_and_ends_every_session() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let other_device = Client::new(&app);
    other_device
        .login("owner@acme.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    let out = run(&app, &["user", "reset-password", "Owner@Acme.test"], "").await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("valid 60 minutes"), "{}", out.stdout);
    let path = reset_path(&out);
    let anon = Client::new(&app);
    anon.get(&path)
        .await
        .assert_status(200)
        .assert_contains("owner@acme.test");
    // The policy and the confirmation hold.
    let csrf = anon.get(&path).await.csrf();
    anon.post(
        &path,
        &[
            ("csrf_token", &csrf),
            ("password", "short"),
            ("password_confirm", "short"),
        ],
    )
    .await
    .assert_status(422);
    // Without the form's token: refused.
    Client::new(&app)
        .post(
            &path,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await
        .assert_status(403);
    set_password(&anon, &path, NEW_PASSWORD)
        .await
        .assert_redirect_to("/login");
    // Every session ended; the old password fails, the new one works.
    owner.get("/orgs").await.assert_redirect_to("/login");
    other_device.get("/orgs").await.assert_redirect_to("/login");
    Client::new(&app)
        .login("owner@acme.test", PASSWORD)
        .await
        .assert_status(401);
    Client::new(&app)
        .login("owner@acme.test", NEW_PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    // Single use.
    Client::new(&app).get(&path).await.assert_status(410);
    let c = Client::new(&app);
    let csrf = c.get("/login").await.csrf();
    c.post(
        &path,
        &[
            ("csrf_token", &csrf),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await
    .assert_status(410);
    // A new link replaces the previous one, and expires after an hour.
    let first = reset_path(&run(&app, &["user", "reset-password", "owner@acme.test"], "").await);
    let second = reset_path(&run(&app, &["user", "reset-password", "owner@acme.test"], "").await);
    Client::new(&app).get(&first).await.assert_status(410);
    Client::new(&app).get(&second).await.assert_status(200);
    app.clock.advance(Duration::minutes(61));
    Client::new(&app).get(&second).await.assert_status(410);
    // An unknown account: said so, exit non-zero.
    let out = run(&app, &["user", "reset-password", "nobody@acme.test"], "").await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("no account"), "{}", out.stderr);
}

#[tokio::test]
async fn user_remove_takes_a_member_out_at_once_but_never_the_last_owner() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let dev = app.member("acme", "dev@acme.test", Role::Devops).await;
    dev.get("/orgs/acme/settings/git-tokens")
        .await
        .assert_status(200);
    let out = run(
        &app,
        &["user", "remove", "dev@acme.test", "--org", "acme"],
        "",
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("removed dev@acme.test (DevOps) from acme"),
        "{}",
        out.stdout
    );
    dev.get("/orgs/acme/settings/git-tokens")
        .await
        .assert_status(404);
    owner
        .get(MEMBERS)
        .await
        .assert_status(200)
        .assert_lacks("dev@acme.test");
    let out = run(
        &app,
        &["user", "remove", "dev@acme.test", "--org", "acme"],
        "",
    )
    .await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("not a member"), "{}", out.stderr);
    let out = run(
        &app,
        &["user", "remove", "owner@acme.test", "--org", "acme"],
        "",
    )
    .await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("last Owner"), "{}", out.stderr);
    owner.get(MEMBERS).await.assert_status(200);
    let out = run(
        &app,
        &["user", "remove", "owner@acme.test", "--org", "nope"],
        "",
    )
    .await;
    assert!(out.stderr.contains("no organization"), "{}", out.stderr);
}

#[tokio::test]
async fn user_add_on_an_existing_account_says_what_it_did_and_that_the_password_is_unchanged() {
    let app = spawn_app();
    let _owner = app.owner("acme").await;
    app.member("other", "dev@other.test", Role::Owner).await;
    // An existing account: added to the organization, password untouched even when one is
    // piped in.
    let out = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "dev@other.test",
            "--org",
            "acme",
            "--role",
            "viewer",
        ],
        "some other password entirely\n",
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("added the existing account dev@other.test to acme as Viewer"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("password was not changed"),
        "{}",
        out.stdout
    );
    Client::new(&app)
        .login("dev@other.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    // Again with the same role: nothing changed, and it says so.
    let out = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "dev@other.test",
            "--org",
            "acme",
            "--role",
            "viewer",
        ],
        "",
    )
    .await;
    assert!(
        out.stdout
            .contains("already a member of acme with the role Viewer; nothing changed"),
        "{}",
        out.stdout
    );
    // Another role: from → to.
    let out = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "dev@other.test",
            "--org",
            "acme",
            "--role",
            "admin",
        ],
        "",
    )
    .await;
    assert!(
        out.stdout.contains("role changed from Viewer to Admin"),
        "{}",
        out.stdout
    );
    // The last Owner is not demoted by `user add` either.
    let out = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "owner@acme.test",
            "--org",
            "acme",
            "--role",
            "viewer",
        ],
        "",
    )
    .await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("last Owner"), "{}", out.stderr);
}

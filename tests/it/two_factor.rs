//! TOTP two-factor sign-in (DESIGN.md §3a): enroll with the secret shown on the page (the code
//! computed here from it, on the server's clock), sign in with a code, wrong and replayed codes
//! refused, recovery codes single-use, throttled like passwords, disable needs password and
//! code; an organization that requires 2FA sends members without it to enroll; the security
//! page's role and cross-organization rules.

use crate::account::audit_count;
use crate::helpers::*;
use chrono::Duration;
use forgekeys::crypto::totp;
use forgekeys::domain::role::Role;

const TWO_FA: &str = "/account/2fa";
const SECURITY: &str = "/orgs/acme/settings/security";
const TOKENS: &str = "/orgs/acme/settings/git-tokens";

fn secret_on(p: &Page) -> String {
    let re = regex::Regex::new(r"data-totp-secret>([A-Z2-7]+)<").unwrap();
    re.captures(&p.body)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no secret on the page:\n{}", p.body))
}

/// The code of `secret` now on the server's clock.
fn code_now(app: &TestApp, secret: &str) -> String {
    let key = totp::base32_decode(secret).unwrap();
    totp::code(&key, totp::step_at(app.clock.now().timestamp())).unwrap()
}

/// A code of the next time step (the clock moved on past the last used one).
fn next_code(app: &TestApp, secret: &str) -> String {
    app.clock.advance(Duration::seconds(30));
    code_now(app, secret)
}

fn recovery_codes(p: &Page) -> Vec<String> {
    let re = regex::Regex::new(r"data-recovery-code>([a-z0-9-]+)<").unwrap();
    re.captures_iter(&p.body)
        .map(|c| c[1].to_string())
        .collect()
}

/// Enroll the signed-in user: returns the secret, the recovery codes and the code that
/// confirmed the enrollment.
async fn enroll(app: &TestApp, c: &Client) -> (String, Vec<String>, String) {
    let p = c.get(TWO_FA).await;
    p.assert_status(200)
        .assert_contains(r#"<svg role="img" aria-label="QR code for your authenticator app""#)
        .assert_contains("otpauth://totp/Forgekeys:");
    let secret = secret_on(&p);
    // A reload keeps the same secret until it is confirmed.
    assert_eq!(secret_on(&c.get(TWO_FA).await), secret);
    let csrf = p.csrf();
    c.post(
        "/account/2fa/enable",
        &[("csrf_token", &csrf), ("code", "000000")],
    )
    .await
    .assert_status(422);
    let used = code_now(app, &secret);
    let p = c
        .post(
            "/account/2fa/enable",
            &[("csrf_token", &csrf), ("code", &used)],
        )
        .await;
    p.assert_status(200).assert_contains("data-recovery-codes");
    let codes = recovery_codes(&p);
    assert_eq!(codes.len(), 10);
    (secret, codes, used)
}

/// Password step of a fresh client: it lands on `/login/2fa`.
async fn password_step(app: &TestApp, email: &str) -> Client {
    let c = Client::new(app);
    let p = c.login(email, PASSWORD).await;
    p.assert_redirect_to("/login/2fa");
    c
}

async fn code_step(c: &Client, code: &str) -> Page {
    let form = c.get("/login/2fa").await;
    form.assert_status(200);
    let csrf = form.csrf();
    c.post("/login/2fa", &[("csrf_token", &csrf), ("code", code)])
        .await
}

#[tokio::test]
async fn enroll_then_sign_in_with_a_code_once_and_with_a_recovery_code_once() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let (secret, codes, used) = enroll(&app, &owner).await;
    assert_eq!(audit_count(&app, "two_factor.enable"), 1);
    owner
        .get("/orgs/acme/settings/members")
        .await
        .assert_status(200)
        .assert_contains(">On<");

    // The password alone no longer signs in.
    let c = password_step(&app, "owner@acme.test").await;
    assert_eq!(c.get("/orgs").await.status.as_u16(), 303);
    code_step(&c, "123456x").await.assert_status(401);
    // The code that confirmed the enrollment was used: replaying it is refused.
    code_step(&c, &used)
        .await
        .assert_status(401)
        .assert_contains("already used");
    let fresh = next_code(&app, &secret);
    // A well-formed code that is not the current one is refused too.
    let wrong = format!(
        "{:06}",
        (fresh.parse::<u32>().unwrap() + 500_000) % 1_000_000
    );
    code_step(&c, &wrong).await.assert_status(401);
    code_step(&c, &fresh).await.assert_redirect_to("/orgs");
    c.get("/orgs").await.assert_status(200);

    // The same code again, on another browser: refused (no replay within its window).
    let again = password_step(&app, "owner@acme.test").await;
    code_step(&again, &fresh).await.assert_status(401);

    // A recovery code works once.
    code_step(&again, &codes[0].to_uppercase())
        .await
        .assert_redirect_to("/orgs");
    let third = password_step(&app, "owner@acme.test").await;
    code_step(&third, &codes[0]).await.assert_status(401);
    code_step(&third, &codes[1])
        .await
        .assert_redirect_to("/orgs");
    third
        .get(TWO_FA)
        .await
        .assert_contains("data-recovery-left>8<");
}

#[tokio::test]
async fn the_code_step_is_throttled_and_expires() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let (secret, _, _) = enroll(&app, &owner).await;
    let c = password_step(&app, "owner@acme.test").await;
    // The code form checks its CSRF token like the sign-in form.
    let code = code_now(&app, &secret);
    c.post("/login/2fa", &[("code", code.as_str())])
        .await
        .assert_status(403);
    c.post(
        "/login/2fa",
        &[("csrf_token", "forged"), ("code", code.as_str())],
    )
    .await
    .assert_status(403);
    for _ in 0..5 {
        code_step(&c, "000000").await.assert_status(401);
    }
    let p = code_step(&c, &next_code(&app, &secret)).await;
    p.assert_status(429);
    assert!(p.headers.get("retry-after").is_some());
    // After the lock, and past the pending sign-in's 5 minutes: start over with the password.
    app.clock.advance(Duration::minutes(16));
    let p = code_step_raw(&c, &code_now(&app, &secret)).await;
    p.assert_redirect_to("/login");
    let c = password_step(&app, "owner@acme.test").await;
    code_step(&c, &code_now(&app, &secret))
        .await
        .assert_redirect_to("/orgs");
}

/// The code form posted without loading the page first (the page itself would redirect).
async fn code_step_raw(c: &Client, code: &str) -> Page {
    let login = c.get("/login").await;
    let csrf = login.csrf();
    c.post("/login/2fa", &[("csrf_token", &csrf), ("code", code)])
        .await
}

async fn off(c: &Client, password: &str, code: &str) -> Page {
    let csrf = c.session_csrf().await;
    c.post(
        "/account/2fa/disable",
        &[
            ("csrf_token", &csrf),
            ("password", password),
            ("code", code),
        ],
    )
    .await
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let (secret, _, _) = enroll(&app, &owner).await;
    off(&owner, "not the password", &next_code(&app, &secret))
        .await
        .assert_status(422);
    off(&owner, PASSWORD, "000000").await.assert_status(422);
    owner
        .get(TWO_FA)
        .await
        .assert_contains(r#"data-two-factor="on""#);
    off(&owner, PASSWORD, &next_code(&app, &secret))
        .await
        .assert_redirect_to("/account");
    owner
        .get(TWO_FA)
        .await
        .assert_contains(r#"data-two-factor="off""#);
    assert_eq!(audit_count(&app, "two_factor.disable"), 1);
    // The password alone signs in again.
    Client::new(&app)
        .login("owner@acme.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
}

#[tokio::test]
async fn an_organization_that_requires_it_sends_members_without_it_to_enroll() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let admin = member(&app, "acme", "admin@acme.test", Role::Admin).await;
    let csrf = owner.session_csrf().await;
    // Requiring it while one's own is off would lock oneself out.
    owner
        .post(SECURITY, &[("csrf_token", &csrf), ("require_2fa", "on")])
        .await
        .assert_status(409);
    enroll(&app, &owner).await;
    owner
        .post(SECURITY, &[("csrf_token", &csrf), ("require_2fa", "on")])
        .await
        .assert_redirect_to(SECURITY);
    assert_eq!(audit_count(&app, "org.security_update"), 1);
    owner.get(TOKENS).await.assert_status(200);

    // The admin without 2FA is sent to enroll, page after page; the account stays reachable.
    admin
        .get(TOKENS)
        .await
        .assert_redirect_to("/account/2fa?required=1");
    let csrf_a = admin.session_csrf().await;
    admin
        .post(SECURITY, &[("csrf_token", &csrf_a)])
        .await
        .assert_redirect_to("/account/2fa?required=1");
    admin
        .get("/account/2fa?required=1")
        .await
        .assert_status(200)
        .assert_contains("data-two-factor-required");
    enroll(&app, &admin).await;
    admin.get(TOKENS).await.assert_status(200);

    // Off again: nobody is sent anywhere.
    owner
        .post(SECURITY, &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to(SECURITY);
    let viewer = member(&app, "acme", "viewer@acme.test", Role::Viewer).await;
    viewer.get("/orgs/acme").await.assert_status(303);
    assert_ne!(
        viewer.get("/orgs/acme").await.location(),
        Some("/account/2fa?required=1")
    );
}

#[tokio::test]
async fn the_security_page_is_for_owners_and_admins_of_that_organization() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    owner
        .get(SECURITY)
        .await
        .assert_status(200)
        .assert_contains("Require two-factor sign-in");
    let admin = member(&app, "acme", "admin@acme.test", Role::Admin).await;
    admin.get(SECURITY).await.assert_status(200);
    for role in [Role::Devops, Role::Viewer] {
        let email = format!("{}@acme.test", role.as_str().to_lowercase());
        let c = member(&app, "acme", &email, role).await;
        c.get(SECURITY).await.assert_status(403);
        let csrf = c.session_csrf().await;
        c.post(SECURITY, &[("csrf_token", &csrf), ("require_2fa", "on")])
            .await
            .assert_status(403);
    }
    // Another organization's Owner: 404, also for the form.
    let stranger = member(&app, "beta", "owner@beta.test", Role::Owner).await;
    stranger.get(SECURITY).await.assert_status(404);
    let csrf = stranger.session_csrf().await;
    stranger
        .post(SECURITY, &[("csrf_token", &csrf), ("require_2fa", "on")])
        .await
        .assert_status(404);
    assert_eq!(audit_count(&app, "org.security_update"), 0);
}

#[tokio::test]
async fn keys_rotate_re_seals_the_secret_and_codes_keep_working() {
    use diesel::prelude::*;
    use forgekeys::db::schema::users;
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let (secret, _, _) = enroll(&app, &owner).await;
    let key_of = || -> Option<String> {
        users::table
            .filter(users::email.eq("owner@acme.test"))
            .select(users::totp_key_id)
            .first(&mut db(&app))
            .unwrap()
    };
    let before = key_of().expect("sealed under a key");
    let r = crate::cli::run(&app, &["keys", "rotate"], "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("and 1 two-factor secret(s)"),
        "the output counts it: {}",
        r.stdout
    );
    let after = key_of().expect("still sealed");
    assert_ne!(before, after, "the TOTP secret moved to the new key");
    // The running server (old key loaded) opens it under the new one.
    let c = password_step(&app, "owner@acme.test").await;
    code_step(&c, &next_code(&app, &secret))
        .await
        .assert_redirect_to("/orgs");
}

//! The account area in a real browser: the account page, TOTP enrollment (the secret read from
//! the page, the code computed here on the server's clock, the recovery codes shown once), the
//! second sign-in step and the organization's security page — the same quality checks as the
//! main pages (axe at 1280 and 375 px and in dark mode, nothing sticking out at 375 px, no
//! console errors, Nu Html Checker), with screenshots; then signing in with the code.

use crate::browser::{Browser, repo_root, unavailable, with_browser};
use crate::helpers::{PASSWORD, setup_owner, spawn_app};
use crate::quality::Checker;
use forgekeys::crypto::totp;

fn code_at(app: &crate::helpers::TestApp, secret: &str) -> String {
    let key = totp::base32_decode(secret).unwrap();
    totp::code(&key, totp::step_at(app.clock.now().timestamp())).unwrap()
}

#[tokio::test]
async fn account_and_two_factor_pages_meet_the_quality_bar_and_a_code_signs_in() {
    let axe_path = repo_root().join("node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&axe_path) else {
        unavailable::<()>(&format!("{} is missing (run `npm ci`)", axe_path.display()));
        return;
    };
    let app = spawn_app();
    let app = &app;
    with_browser(&app.address, async |b: &Browser| {
        let mut q = Checker::in_dir(b, axe, "pages-account");
        setup_owner(app, "acme").await;
        b.login("owner@acme.test", PASSWORD).await;

        q.visit("account", "/account", 200).await;
        assert_eq!(b.count("tr[data-current-session]").await, 1);
        q.submit(
            "account-password-errors",
            "form[action='/account/password']",
            None,
            422,
        )
        .await;

        q.visit("two-factor-enroll", "/account/2fa", 200).await;
        assert_eq!(
            b.count("svg[role='img'][aria-label]").await,
            1,
            "the QR code"
        );
        let secret = b.find("[data-totp-secret]").await.text().await.unwrap();
        b.fill("#code", "000000").await;
        q.submit(
            "two-factor-wrong-code",
            "form[action='/account/2fa/enable']",
            None,
            422,
        )
        .await;

        // The right code, typed like a person: the recovery codes come back once.
        b.fill("#code", &code_at(app, &secret)).await;
        b.click_and_load("form[action='/account/2fa/enable'] button[type='submit']")
            .await;
        assert_eq!(b.count("[data-recovery-code]").await, 10);
        let html = b
            .js("return document.documentElement.outerHTML;", vec![])
            .await;
        let html = format!("<!DOCTYPE html>\n{}", html.as_str().unwrap_or(""));
        q.check("two-factor-recovery-codes", 200, Some((200, html)))
            .await;
        q.visit("two-factor-on", "/account/2fa", 200).await;
        q.visit("security", "/orgs/acme/settings/security", 200)
            .await;

        // Sign out, sign in again: password, then the code from the app.
        b.logout().await;
        b.goto("/login").await;
        b.fill("#email", "owner@acme.test").await;
        b.fill("#password", PASSWORD).await;
        b.click_and_load("form[action='/login'] button[type='submit']")
            .await;
        assert_eq!(b.path().await, "/login/2fa");
        q.visit("login-2fa", "/login/2fa", 200).await;
        b.fill("#code", "000000").await;
        q.submit("login-2fa-wrong", "form[action='/login/2fa']", None, 401)
            .await;
        app.clock.advance(chrono::Duration::seconds(30));
        b.fill("#code", &code_at(app, &secret)).await;
        b.click_and_load("form[action='/login/2fa'] button[type='submit']")
            .await;
        assert_eq!(b.path().await, "/orgs");

        let pages = q.saved.len();
        q.validate_html();
        assert!(pages >= 9, "only {pages} pages were checked");
        assert!(
            q.problems.is_empty(),
            "{} page-quality problems:\n{}",
            q.problems.len(),
            q.problems.join("\n")
        );
    })
    .await;
}

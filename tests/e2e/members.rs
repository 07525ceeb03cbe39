//! The members area in a real browser: the members page (with a new invitation link and its
//! copy button), the removal confirmation, the invitation and password-reset pages, and the
//! sign-in page's setup hint — the same quality checks as the main pages (axe at 1280 and
//! 375 px, nothing sticking out at 375 px, no console errors, Nu Html Checker), plus
//! screenshots of the members page at both widths.

use crate::browser::{Browser, DESKTOP, NARROW, repo_root, unavailable, with_browser};
use crate::helpers::{PASSWORD, db, member, setup_owner, spawn_app};
use crate::quality::Checker;
use diesel::prelude::*;
use forgekeys::db::schema::users;
use forgekeys::domain::role::Role;

const MEMBERS: &str = "/orgs/acme/settings/members";

#[tokio::test]
async fn members_pages_meet_the_quality_bar() {
    let axe_path = repo_root().join("node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&axe_path) else {
        unavailable::<()>(&format!("{} is missing (run `npm ci`)", axe_path.display()));
        return;
    };
    let app = spawn_app();
    let app = &app;
    with_browser(&app.address, async |b: &Browser| {
        let mut q = Checker::in_dir(b, axe, "pages-members");
        q.visit("login-setup-hint", "/login", 200).await;
        assert_eq!(
            b.count("[data-setup-hint]").await,
            1,
            "the setup hint shows"
        );
        setup_owner(app, "acme").await;
        member(app, "acme", "admin@acme.test", Role::Admin).await;
        member(
            app,
            "acme",
            "a.very.long.address.for.the.narrow.screen@subsidiary.acme.test",
            Role::Viewer,
        )
        .await;
        b.login("owner@acme.test", PASSWORD).await;

        q.visit("members", MEMBERS, 200).await;
        assert_eq!(b.count("tr[data-user-id]").await, 3, "three members");
        b.screenshot_full("members-1280", DESKTOP.0).await;
        b.screenshot_full("members-375", NARROW.0).await;

        // An invitation: the link shown once, with a copy button once JavaScript runs.
        b.fill("#invite-email", "new.person@acme.test").await;
        b.select("#invite-role", "devops").await;
        q.submit("members-invite-created", "form.invite-form", None, 200)
            .await;
        let link = b
            .find("[data-invite-link]")
            .await
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        assert!(link.contains("/invites/"), "{link}");
        b.wait_until(
            "the copy button",
            "return !document.querySelector('[data-copy]').hidden;",
        )
        .await;
        b.click("[data-copy]").await;
        b.wait_until(
            "the copy status",
            "return document.querySelector('[data-copy-status]').textContent.length > 0;",
        )
        .await;
        b.screenshot_full("members-invite-1280", DESKTOP.0).await;
        b.screenshot_full("members-invite-375", NARROW.0).await;
        q.visit("members-with-invite", MEMBERS, 200).await;
        q.submit("members-invite-errors", "form.invite-form", None, 422)
            .await;

        let admin: String = users::table
            .filter(users::email.eq("admin@acme.test"))
            .select(users::id)
            .first(&mut db(app))
            .unwrap();
        q.visit("member-remove", &format!("{MEMBERS}/{admin}/remove"), 200)
            .await;

        // The invitation as the new person sees it, and its answer to a bad password.
        let path = link
            .split_once("/invites/")
            .map(|(_, t)| format!("/invites/{t}"))
            .unwrap();
        b.logout().await;
        q.visit("invite-new-account", &path, 200).await;
        b.fill("#password", "short").await;
        q.submit("invite-errors", "form[method='post']", None, 422)
            .await;
        q.visit("invite-gone", "/invites/no-such-invitation", 410)
            .await;

        // A password-reset link (as `forgekeys user reset-password` issues it).
        let state = forgekeys::startup::state(&app.config, app.clock.clone()).unwrap();
        let token =
            match forgekeys::app::members::reset::issue_password_reset(&state, "admin@acme.test")
                .await
                .unwrap()
            {
                forgekeys::app::members::reset::ResetIssued::Issued { token, .. } => token,
                other => panic!("{other:?}"),
            };
        q.visit("password-reset", &format!("/password-reset/{token}"), 200)
            .await;
        q.visit("password-reset-gone", "/password-reset/no-such-link", 410)
            .await;

        let pages = q.saved.len();
        q.validate_html();
        assert!(pages >= 11, "only {pages} pages were checked");
        assert!(
            q.problems.is_empty(),
            "{} page-quality problems:\n{}",
            q.problems.len(),
            q.problems.join("\n")
        );
    })
    .await;
}

//! The one-time setup consumed atomically (issue 11, item 5): simultaneous submissions, in one
//! server process or two on the same database, make exactly one organization and Owner; the
//! others get a page that says what happened.

use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::schema::{organizations, users};

/// A client that opened `app`'s setup link: its form's CSRF value and token.
async fn opened(app: &TestApp) -> (Client, String, String) {
    let c = Client::new(app);
    let path = app
        .setup_url
        .clone()
        .expect("setup link")
        .trim_start_matches(&app.address)
        .to_string();
    let form = c.get(&path).await;
    form.assert_status(200);
    let (csrf, token) = (form.csrf(), form.input_value("token").unwrap());
    (c, csrf, token)
}

#[tokio::test]
async fn four_simultaneous_setups_make_one_organization_and_one_owner() {
    // Two server processes on one database, each with its own setup link (no user yet).
    let first = spawn_app();
    let second = TestApp::builder().same_database_as(&first).start();
    let mut opened_forms = Vec::new();
    for app in [&first, &first, &second, &second] {
        opened_forms.push(opened(app).await);
    }
    let posts = opened_forms
        .iter()
        .enumerate()
        .map(|(i, (c, csrf, token))| async move {
            let slug = format!("org-{i}");
            let email = format!("owner{i}@acme.test");
            c.post(
                "/setup",
                &[
                    ("csrf_token", csrf.as_str()),
                    ("token", token.as_str()),
                    ("org_name", "Acme Corp"),
                    ("org_slug", slug.as_str()),
                    ("email", email.as_str()),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await
        });
    let pages = futures::future::join_all(posts).await;
    let statuses: Vec<u16> = pages.iter().map(|p| p.status.as_u16()).collect();
    let created = pages.iter().filter(|p| p.status.as_u16() == 303).count();
    assert_eq!(created, 1, "{statuses:?}");
    for p in pages.iter().filter(|p| p.status.as_u16() != 303) {
        p.assert_status(409)
            .assert_contains("This setup link has already been used")
            .assert_contains("Sign in");
    }
    let mut conn = db(&first);
    let orgs: i64 = organizations::table.count().get_result(&mut *conn).unwrap();
    let owners: i64 = users::table.count().get_result(&mut *conn).unwrap();
    assert_eq!((orgs, owners), (1, 1));
    // The winner is signed in; the setup page is gone on both servers.
    let winner = pages.iter().position(|p| p.status.as_u16() == 303).unwrap();
    let (c, _, token) = &opened_forms[winner];
    c.get(&format!("/orgs/org-{winner}/settings/git-tokens"))
        .await
        .assert_status(200);
    for app in [&first, &second] {
        Client::new(app)
            .get(&format!("/setup?token={token}"))
            .await
            .assert_status(404);
    }
}

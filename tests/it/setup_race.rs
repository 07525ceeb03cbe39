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

/// The setup form of `forms[i]`, posted with its own organization and e-mail.
async fn submit(forms: &[(Client, String, String)], i: usize) -> Page {
    let (c, csrf, token) = &forms[i];
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
}

/// Two server processes on one database, each with its own setup link (no user yet), and four
/// opened setup forms: two on each.
async fn two_servers_four_forms() -> (TestApp, TestApp, Vec<(Client, String, String)>) {
    let first = spawn_app();
    let second = TestApp::builder().same_database_as(&first).start();
    let mut forms = Vec::new();
    for app in [&first, &first, &second, &second] {
        forms.push(opened(app).await);
    }
    (first, second, forms)
}

#[tokio::test]
async fn four_simultaneous_setups_make_one_organization_and_one_owner() {
    let (first, second, opened_forms) = two_servers_four_forms().await;
    let posts = (0..opened_forms.len()).map(|i| submit(&opened_forms, i));
    let pages = futures::future::join_all(posts).await;
    one_created(&first, &second, &opened_forms, &pages).await;
}

/// PostgreSQL, the race made certain: the test holds a lock that stops every insert into
/// `organizations` until the submissions are all inside their transactions, waiting, then lets
/// go. A setup that checks "no user yet" and then inserts lets each of them create an
/// organization; the setup lock lets exactly one.
#[tokio::test]
async fn setups_released_together_on_two_processes_make_one_organization() {
    use diesel::{Connection, RunQueryDsl};
    if backend() != "postgres" {
        eprintln!(
            "setups_released_together_on_two_processes_make_one_organization: skipped \
             (PostgreSQL only: set TEST_POSTGRES_URL)"
        );
        return;
    }
    let (first, second, forms) = two_servers_four_forms().await;
    let forgekeys::db::DatabaseUrl::Postgres(url) = first.database.clone() else {
        unreachable!("a PostgreSQL run")
    };
    let mut holder = diesel::pg::PgConnection::establish(&url).unwrap();
    diesel::sql_query("BEGIN").execute(&mut holder).unwrap();
    diesel::sql_query("LOCK TABLE organizations IN EXCLUSIVE MODE")
        .execute(&mut holder)
        .unwrap();
    let posts = futures::future::join_all((0..forms.len()).map(|i| submit(&forms, i)));
    let release = async move {
        // Wait until two submissions (one per process, at least) wait on a lock in the
        // database, then let go.
        let mut watcher = diesel::pg::PgConnection::establish(&url).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            #[derive(diesel::QueryableByName)]
            struct Waiting {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let w: Waiting = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .get_result(&mut watcher)
            .unwrap();
            if w.n >= 2 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the setups never reached the lock"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        diesel::sql_query("COMMIT").execute(&mut holder).unwrap();
    };
    let (pages, ()) = tokio::join!(posts, release);
    one_created(&first, &second, &forms, &pages).await;
}

/// Exactly one submission created the organization and signed in; every other one was told the
/// link was used; the setup page is gone on both servers.
async fn one_created(
    first: &TestApp,
    second: &TestApp,
    opened_forms: &[(Client, String, String)],
    pages: &[Page],
) {
    let statuses: Vec<u16> = pages.iter().map(|p| p.status.as_u16()).collect();
    let created = pages.iter().filter(|p| p.status.as_u16() == 303).count();
    assert_eq!(created, 1, "{statuses:?}");
    for p in pages.iter().filter(|p| p.status.as_u16() != 303) {
        p.assert_status(409)
            .assert_contains("This setup link has already been used")
            .assert_contains("Sign in");
    }
    let mut conn = db(first);
    let orgs: i64 = organizations::table.count().get_result(&mut *conn).unwrap();
    let owners: i64 = users::table.count().get_result(&mut *conn).unwrap();
    assert_eq!((orgs, owners), (1, 1));
    // The winner is signed in; the setup page is gone on both servers.
    let winner = pages.iter().position(|p| p.status.as_u16() == 303).unwrap();
    let (c, _, token) = &opened_forms[winner];
    c.get(&format!("/orgs/org-{winner}/settings/git-tokens"))
        .await
        .assert_status(200);
    for app in [first, second] {
        Client::new(app)
            .get(&format!("/setup?token={token}"))
            .await
            .assert_status(404);
    }
}

//! The token list and the attention banner are served from a per-version cache (issue 10): a
//! write made outside this server — another server process on the same database, written here
//! straight into the tables — must show on the very next page, on both backends.

use crate::helpers::*;
use crate::lifecycle::{Seed, org_id, state_for};
use diesel::prelude::*;
use forgekeys::db::models::service::Service;
use forgekeys::db::new_id;
use forgekeys::db::schema::git_tokens;

const LIST: &str = "/orgs/acme/settings/git-tokens";

fn row_status<'a>(body: &'a str, id: &str) -> Option<&'a str> {
    let start = body.find(&format!("data-token-id=\"{id}\" data-status=\""))?;
    let rest = &body[start..];
    let s = rest.find("data-status=\"")? + "data-status=\"".len();
    let e = rest[s..].find('"')? + s;
    Some(&rest[s..e])
}

#[tokio::test]
async fn writes_by_another_process_show_on_the_next_list_page() {
    let app = TestApp::builder().start();
    let owner = app.owner("acme").await;
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    let first = Seed {
        status: "valid",
        ..Seed::bitbucket("first", "bb_valid_cache_1")
    }
    .insert(&state, &org);
    let page = owner.get(LIST).await;
    page.assert_status(200).assert_lacks("data-attention");
    assert_eq!(row_status(&page.body, &first), Some("valid"));
    // The same page again comes from the cache: still right.
    assert_eq!(
        row_status(&owner.get(LIST).await.body, &first),
        Some("valid")
    );

    // Another process adds a token: listed at once.
    let second = Seed::bitbucket("second", "bb_valid_cache_2").insert(&state, &org);
    let page = owner.get(LIST).await;
    assert!(row_status(&page.body, &second).is_some(), "{}", page.body);

    // …changes a status with a plain UPDATE: the row and the banner follow.
    diesel::update(git_tokens::table.find(&first))
        .set(git_tokens::status.eq("invalid"))
        .execute(&mut *db(&app))
        .unwrap();
    let page = owner.get(LIST).await;
    assert_eq!(row_status(&page.body, &first), Some("invalid"));
    page.assert_contains("data-attention=\"1\"");

    // …adds a service using the first token: its row counts it (no longer "Unused").
    let n = chrono::Utc::now().naive_utc();
    Service::insert(
        &mut db(&app),
        &Service {
            id: new_id(),
            org_id: org.clone(),
            name: "web".into(),
            kind: "application".into(),
            provider: "bitbucket".into(),
            access: "token".into(),
            token_id: Some(first.clone()),
            repository: "acme/web".into(),
            branch: "main".into(),
            created_at: n,
            updated_at: n,
            name_key: String::new(),
        },
    )
    .unwrap();
    let page = owner.get(LIST).await;
    let start = page.body.find(&format!("id=\"row-{first}\"")).unwrap();
    let row = &page.body[start..start + page.body[start..].find("</tr>").unwrap()];
    assert!(
        row.contains("data-label=\"Services\" class=\"num\">1")
            && !row.contains("data-hygiene=\"unused\""),
        "{row}"
    );

    // …deletes the second token: gone from the page.
    diesel::delete(git_tokens::table.find(&second))
        .execute(&mut *db(&app))
        .unwrap();
    let page = owner.get(LIST).await;
    assert!(row_status(&page.body, &second).is_none(), "{}", page.body);
}

#[tokio::test]
async fn the_first_token_of_a_fresh_database_shows_on_the_list() {
    // A fresh database, a list page seen empty (and cached), then the first token ever: on
    // PostgreSQL a version kept in a fresh sequence did not change on its first bump, so the
    // list kept saying "No tokens yet" (the browser test found it).
    let app = TestApp::builder().start();
    let owner = app.owner("acme").await;
    owner
        .get(LIST)
        .await
        .assert_status(200)
        .assert_contains("No tokens yet");
    let state = state_for(&app);
    let first = Seed::bitbucket("first", "bb_valid_cache_1").insert(&state, &org_id(&app, "acme"));
    let page = owner.get(LIST).await;
    assert!(row_status(&page.body, &first).is_some(), "{}", page.body);
}

#[tokio::test]
async fn a_page_read_while_a_write_is_in_flight_is_not_cached_as_the_new_version() {
    // Another process changes a token in a transaction that is still open when this server
    // reads the list: the page shows the old row (not committed yet) — and after the commit,
    // the new one. A version visible before its rows (a sequence bumped in the writer) would
    // keep the old row cached under the new version.
    let app = TestApp::builder().start();
    let owner = app.owner("acme").await;
    let state = state_for(&app);
    let first = Seed {
        status: "valid",
        ..Seed::bitbucket("first", "bb_valid_cache_1")
    }
    .insert(&state, &org_id(&app, "acme"));
    assert_eq!(
        row_status(&owner.get(LIST).await.body, &first),
        Some("valid")
    );

    let mut writer = db(&app);
    diesel::sql_query("BEGIN").execute(&mut *writer).unwrap();
    diesel::update(git_tokens::table.find(&first))
        .set(git_tokens::status.eq("invalid"))
        .execute(&mut *writer)
        .unwrap();
    let during = owner.get(LIST).await;
    assert_eq!(
        row_status(&during.body, &first),
        Some("valid"),
        "not committed yet"
    );
    diesel::sql_query("COMMIT").execute(&mut *writer).unwrap();
    let after = owner.get(LIST).await;
    assert_eq!(
        row_status(&after.body, &first),
        Some("invalid"),
        "committed: the next page shows it"
    );
}

//! Issue 13 ("a console that feels finished"), the behaviour behind the pages: Test from the
//! edit page with an empty token field tests the stored token, "Save anyway" in one submit,
//! confirmation steps, the audit trail's search, dates, renames and CSV, the "needs attention"
//! filter and sortable columns, the setup page without a link, fields kept across a swap.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::forms::{BASE, Form, env, pairs};
use crate::helpers::*;

fn gh_opts(gh: &fakes::FakeServer) -> Options {
    Options {
        github_api_url: Some(gh.url.clone()),
        ..Default::default()
    }
}

/// Names of the list rows in page order.
fn row_names(p: &Page) -> Vec<String> {
    let re = regex::Regex::new(r#"<th scope="row" data-label="Name"><a href="[^"]+">([^<]+)</a>"#)
        .unwrap();
    re.captures_iter(&p.body)
        .map(|c| c[1].to_string())
        .collect()
}

#[tokio::test]
async fn test_on_the_edit_page_without_a_value_tests_the_stored_token() {
    let gh = fakes::github::start();
    let e = env(gh_opts(&gh)).await;
    let t = e
        .create_ok(&Form::github("ghp_allscopes_stored13").name("Stored"))
        .await;
    let before = gh.requests().len();
    // The edit form's Test: same destination, empty token field, token_id set.
    let probe = Form::github("").name("Stored").with("token_id", &t.id);
    let frag = e.test_htmx(&probe).await;
    frag.assert_status(200)
        .assert_contains("data-status=\"valid\"")
        .assert_lacks("ghp_allscopes_stored13");
    assert!(gh.requests().len() > before, "the provider was asked");
    assert!(gh.saw_token("ghp_allscopes_stored13"));
    // The no-JS answer says which token it tested, with the verdict first.
    let page = e.test_nojs(&probe).await;
    page.assert_status(200)
        .assert_contains("Tested the stored token")
        .assert_contains("id=\"form-verdict\"")
        .assert_contains("data-autofocus");
    // A new token value is tested as typed, not the stored one.
    let typed = Form::github("ghp_repoonly_typed13")
        .name("Stored")
        .with("token_id", &t.id);
    e.test_htmx(&typed)
        .await
        .assert_contains("data-status=\"missing_permissions\"");
}

#[tokio::test]
async fn save_anyway_is_one_button_and_stays_offered_when_the_value_is_missing() {
    let gh = fakes::github::start();
    let e = env(gh_opts(&gh)).await;
    let f = Form::github("ghp_repoonly_anyway13").name("Anyway");
    let p = e.create(&f).await;
    p.assert_status(422)
        .assert_contains(r#"<button type="submit" id="save_anyway" name="save_anyway" value="1""#)
        .assert_contains("id=\"form-verdict\"")
        .assert_contains("paste it again to save");
    // The verdict comes before the form.
    let verdict = p.body.find("id=\"form-verdict\"").unwrap();
    let form = p.body.find("id=\"token-form\"").unwrap();
    assert!(verdict < form, "the verdict is above the form");
    // "Save anyway" without the value: asked for it, and still offered.
    let p = e
        .create(&Form::github("").name("Anyway").with("save_anyway", "1"))
        .await;
    p.assert_status(422)
        .assert_contains("Paste the token value.")
        .assert_contains("id=\"save_anyway\"");
    assert!(e.token_named("Anyway").is_none());
    // With the value: saved in that one submit.
    e.create_ok(&f.clone().with("save_anyway", "1")).await;
}

#[tokio::test]
async fn irreversible_steps_have_a_confirmation_page() {
    let gl = fakes::gitlab::start();
    let e = env(Options {
        gitlab_url: Some(gl.url.clone()),
        ..Default::default()
    })
    .await;
    let t = e
        .create_ok(&Form::gitlab("glpat-owner-confirm13").name("Runner"))
        .await;
    let rotations = gl.requests().len();
    let p = e
        .owner
        .get(&format!("{BASE}/{}/rotate-at-provider?expires_on=", t.id))
        .await;
    p.assert_status(200)
        .assert_contains("data-confirm=\"rotate-at-provider\"")
        .assert_contains(&t.hint)
        .assert_contains("revokes the current token")
        .assert_contains(&format!(
            "action=\"{BASE}/{}/rotate-at-provider\" class=\"buttons\"",
            t.id
        ));
    assert_eq!(
        gl.requests().len(),
        rotations,
        "showing the step sends nothing"
    );
    // The rotation page's form goes to that step (GET), not straight to GitLab.
    e.owner
        .get(&format!("{BASE}/{}/rotate", t.id))
        .await
        .assert_contains("<form method=\"get\"");

    let p = e
        .owner
        .get("/orgs/acme/settings/notifications/remove")
        .await;
    p.assert_status(200)
        .assert_contains("data-confirm=\"webhook-remove\"")
        .assert_contains("name=\"action\" value=\"remove\"");
    let p = e.owner.get("/orgs/acme/services/nope/delete").await;
    p.assert_status(404);
}

#[tokio::test]
async fn the_audit_trail_searches_filters_by_day_shows_renames_and_exports_csv() {
    let gh = fakes::github::start();
    let e = env(gh_opts(&gh)).await;
    let t = e
        .create_ok(&Form::github("ghp_allscopes_audit13").name("Old name"))
        .await;
    let edit = Form::github("").name("New – name");
    let fields = edit.fields(Some(&e.csrf));
    e.owner
        .post(&format!("{BASE}/{}", t.id), &pairs(&fields))
        .await
        .assert_status(303);
    let p = e.owner.get("/orgs/acme/audit").await;
    p.assert_status(200)
        .assert_contains("renamed “Old name” → “New – name”")
        .assert_contains("export.csv");
    // Search: case-insensitive, in names and details.
    let p = e.owner.get("/orgs/acme/audit?q=OLD+NAME").await;
    // The old name finds the creation and the rename (which names it as the old name).
    p.assert_contains("data-action=\"token.create\"")
        .assert_contains("data-action=\"token.update\"");
    let p = e.owner.get("/orgs/acme/audit?q=new+%E2%80%93").await;
    p.assert_contains("data-action=\"token.update\"")
        .assert_lacks("data-action=\"token.create\"");
    let p = e.owner.get("/orgs/acme/audit?q=no-such-thing-13").await;
    p.assert_contains("No entry matches these filters");
    // Days (UTC), relative to today whatever today is.
    let today = chrono::Utc::now().date_naive();
    let later = (today + chrono::Duration::days(2)).format("%Y-%m-%d");
    let earlier = (today - chrono::Duration::days(2)).format("%Y-%m-%d");
    e.owner
        .get(&format!("/orgs/acme/audit?from={later}"))
        .await
        .assert_contains("No entry matches these filters");
    e.owner
        .get(&format!("/orgs/acme/audit?to={earlier}"))
        .await
        .assert_contains("No entry matches these filters");
    e.owner
        .get(&format!("/orgs/acme/audit?from={earlier}&to={later}"))
        .await
        .assert_contains("data-action=\"token.update\"");
    e.owner
        .get("/orgs/acme/audit?from=yesterday")
        .await
        .assert_status(400);
    e.owner
        .get(&format!("/orgs/acme/audit?from={later}&to={earlier}"))
        .await
        .assert_status(400);
    // CSV: a BOM, the header, the filtered rows only.
    let raw = e
        .owner
        .http
        .get(format!(
            "{}/orgs/acme/audit/export.csv?action=token.update",
            e.owner.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 200);
    let bytes = raw.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xef\xbb\xbftime_utc,actor,"),
        "{bytes:?}"
    );
    let csv = e
        .owner
        .get("/orgs/acme/audit/export.csv?action=token.update")
        .await;
    csv.assert_status(200);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"),
        "{:?}",
        csv.headers
    );
    assert!(csv.body.contains("token.update"), "{}", csv.body);
    assert!(!csv.body.contains("token.create"), "{}", csv.body);
    assert!(
        csv.body.contains("renamed “Old name” → “New – name”"),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains("ghp_allscopes_audit13"));
}

#[tokio::test]
async fn the_list_filters_what_needs_attention_and_sorts_by_column() {
    let gh = fakes::github::start();
    let e = env(gh_opts(&gh)).await;
    e.create_ok(&Form::github("ghp_allscopes_b13").name("b fine"))
        .await;
    e.create_ok(
        &Form::github("ghp_repoonly_a13")
            .name("a lacking")
            .with("save_anyway", "1"),
    )
    .await;
    e.create_ok(&Form::github("ghp_allscopes_c13").name("c fine"))
        .await;
    let all = e.owner.get(BASE).await;
    assert_eq!(row_names(&all), ["a lacking", "b fine", "c fine"]);
    // The banner links to the filtered list, which shows only the token needing attention.
    all.assert_contains(&format!("href=\"{BASE}?status=attention\""));
    let p = e.owner.get(&format!("{BASE}?status=attention")).await;
    assert_eq!(row_names(&p), ["a lacking"]);
    p.assert_contains("<option value=\"attention\" selected>");
    // Sorting: by name descending, by status; the heading says how it is sorted.
    let p = e.owner.get(&format!("{BASE}?sort=name&order=desc")).await;
    assert_eq!(row_names(&p), ["c fine", "b fine", "a lacking"]);
    p.assert_contains("aria-sort=\"descending\"");
    let p = e.owner.get(&format!("{BASE}?sort=status&order=asc")).await;
    assert_eq!(row_names(&p), ["a lacking", "b fine", "c fine"]);
    let p = e.owner.get(&format!("{BASE}?sort=status&order=desc")).await;
    assert_eq!(row_names(&p), ["b fine", "c fine", "a lacking"]);
    e.owner
        .get(&format!("{BASE}?sort=secret"))
        .await
        .assert_status(400);
}

#[tokio::test]
async fn a_list_row_test_answers_with_a_message_for_the_page() {
    let gh = fakes::github::start();
    let e = env(gh_opts(&gh)).await;
    let t = e
        .create_ok(&Form::github("ghp_allscopes_row13").name("Row"))
        .await;
    let row = e.retest_row(&t.id).await;
    row.assert_status(200)
        .assert_contains("data-row-flash")
        .assert_contains("Tested “Row”: Valid.")
        .assert_contains("data-busy=\"Testing…\"");
}

#[tokio::test]
async fn setup_without_its_link_explains_where_the_link_comes_from() {
    let app = spawn_app();
    let c = Client::new(&app);
    let p = c.get("/setup").await;
    p.assert_status(404)
        .assert_contains("one-time link")
        .assert_contains("/setup?token=");
}

#[tokio::test]
async fn switching_hosting_keeps_the_typed_server_url() {
    let e = env(Options::default()).await;
    let p = e
        .owner
        .get_htmx(
            &format!("{BASE}/new?provider=gitlab&hosting=self_hosted&url=https%3A%2F%2Fgitlab.example.test"),
            "provider-fields",
        )
        .await;
    p.assert_status(200)
        .assert_contains("value=\"https://gitlab.example.test\"")
        .assert_contains("data-token-placeholder=\"glpat-…\"");
}

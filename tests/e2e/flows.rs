//! The add form's HTMX behaviour in a real browser: provider fields swap in place, "Test without
//! saving" shows the result in place, and re-testing a row updates that row in place.

use crate::browser::{Browser, with_browser};
use crate::fakes;
use crate::helpers::{Options, PASSWORD, db, setup_owner, spawn_app, spawn_app_with};
use serde_json::Value;

const OWNER: &str = "owner@acme.test";
const TOKENS: &str = "/orgs/acme/settings/git-tokens";

async fn field_ids(b: &Browser) -> Vec<String> {
    let v = b
        .js(
            "return Array.from(document.querySelectorAll('#token-form [id]')).map(e => e.id);",
            vec![],
        )
        .await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn provider_switch_changes_the_fields_without_a_page_load() {
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        // The way a user goes: organizations → token list → "Add token".
        b.click("a[href='/orgs/acme/settings/git-tokens']").await;
        b.wait_for("a.button[href$='/git-tokens/new']").await;
        b.click("a.button[href$='/git-tokens/new']").await;
        b.wait_for("#token-form").await;
        assert_eq!(b.path().await, format!("{TOKENS}/new"));
        // GitHub (the default): hosting select, no URL (cloud), no workspace.
        assert_eq!(b.count("select#hosting").await, 1);
        assert_eq!(b.count("#url").await, 0);
        assert_eq!(b.count("#workspace").await, 0);
        b.mark_window().await;

        // GitLab: the how-to changes; cloud first, then self-hosted shows the URL field.
        b.select("#provider", "gitlab").await;
        b.wait_for(".how-to[data-provider='gitlab']").await;
        b.assert_no_page_load("switching to GitLab").await;
        assert_eq!(b.count("select#hosting").await, 1, "GitLab offers a hosting choice");
        assert_eq!(b.count("#url").await, 0, "GitLab.com needs no URL");
        assert_eq!(b.count("#workspace").await, 0);
        b.select("#hosting", "self_hosted").await;
        let url = b.wait_for("input#url").await;
        assert_eq!(url.attr("placeholder").await.unwrap().as_deref().map(|p| p.starts_with("https://")), Some(true));
        b.assert_no_page_load("choosing self-hosted GitLab").await;
        assert_eq!(
            b.find("#hosting").await.prop("value").await.unwrap().as_deref(),
            Some("self_hosted"),
            "the hosting choice stays selected after the swap"
        );

        // Bitbucket: workspace appears, the hosting select and the URL field go away.
        b.select("#provider", "bitbucket").await;
        b.wait_for("input#workspace").await;
        b.assert_no_page_load("switching to Bitbucket").await;
        assert_eq!(b.count("select#hosting").await, 0, "Bitbucket is cloud only: no hosting select");
        assert_eq!(b.count("#url").await, 0);
        assert_eq!(b.count(".how-to[data-provider='bitbucket']").await, 1);
        let hidden = b
            .js("return document.querySelector('#token-form input[type=hidden][name=hosting]').value;", vec![])
            .await;
        assert_eq!(hidden, Value::from("cloud"));

        // And back to GitHub: workspace gone, hosting select back; one of each field id.
        b.select("#provider", "github").await;
        b.wait_for(".how-to[data-provider='github']").await;
        b.assert_no_page_load("switching back to GitHub").await;
        assert_eq!(b.count("#workspace").await, 0);
        assert_eq!(b.count("select#hosting").await, 1);
        let ids = field_ids(b).await;
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(ids.len(), unique.len(), "duplicate ids after swaps: {ids:?}");
        assert_eq!(b.path().await, format!("{TOKENS}/new"));
        assert!(b.console_problems().await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn test_buttons_show_results_in_place() {
    let github = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(github.url.clone()),
        ..Default::default()
    });
    setup_owner(&app, "acme").await;
    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        b.goto(&format!("{TOKENS}/new")).await;
        b.wait_for("#token-form").await;
        b.fill("#name", "Deploy bot").await;
        b.fill("#token", "ghp_allscopes-e2e").await;
        b.mark_window().await;

        // "Test without saving": the result panel appears in place; nothing is saved.
        b.click("#token-form .buttons button[formaction$='/git-tokens/test']")
            .await;
        let result = b
            .wait_for("#test-result .result[data-status='valid']")
            .await;
        b.assert_no_page_load("Test without saving").await;
        assert_eq!(b.path().await, format!("{TOKENS}/new"));
        let text = result.text().await.unwrap();
        assert!(
            text.contains("octocat"),
            "the result names the account: {text}"
        );
        assert!(github.saw_token("ghp_allscopes-e2e"));
        // The form keeps what was typed (name) for the real save.
        assert_eq!(
            b.find("#name")
                .await
                .prop("value")
                .await
                .unwrap()
                .as_deref(),
            Some("Deploy bot")
        );
        {
            use diesel::{QueryDsl, RunQueryDsl};
            use forgekeys::db::schema::git_tokens;
            let n: i64 = git_tokens::table
                .count()
                .get_result(&mut *db(&app))
                .unwrap();
            assert_eq!(n, 0, "testing must not save");
        }

        // Save a token that is valid once and revoked afterwards (fake `ghp_once…`; no expiry
        // date, so the failed re-test reads "invalid" rather than "expired").
        b.fill("#name", "Release bot").await;
        b.fill("#token", "ghp_oncenoexpiry-e2e").await;
        b.click_and_load("#token-form button.primary[type='submit']")
            .await;
        assert_eq!(b.path().await, TOKENS, "saved, back on the list");
        let row = b.wait_for("tr[data-token-id][data-status='valid']").await;
        let id = row.attr("data-token-id").await.unwrap().unwrap();
        assert!(
            b.find("#messages")
                .await
                .text()
                .await
                .unwrap()
                .contains("Release bot")
        );

        // Re-test the row: the row is swapped in place and shows the new status.
        let before = b
            .find(&format!("#row-{id} td[data-label='Status'] .badge"))
            .await
            .text()
            .await
            .unwrap();
        b.mark_window().await;
        b.click(&format!("#row-{id} form[action$='/test'] button"))
            .await;
        b.wait_for(&format!("#row-{id}[data-status='invalid']"))
            .await;
        b.assert_no_page_load("re-testing a row").await;
        assert_eq!(b.path().await, TOKENS);
        assert_eq!(
            b.count("tr[data-token-id]").await,
            1,
            "the row was replaced, not added"
        );
        let after = b
            .find(&format!("#row-{id} td[data-label='Status'] .badge"))
            .await
            .text()
            .await
            .unwrap();
        assert_ne!(before, after, "the status badge changed with data-status");
        let problems = b.console_problems().await;
        assert!(problems.is_empty(), "console: {problems:?}");
    })
    .await;
}

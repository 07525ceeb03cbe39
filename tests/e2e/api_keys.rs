//! The API keys page in a real browser: empty, a new key shown once with its copy button, the
//! list with it, the form's field errors, and the revoke confirmation — the same quality checks
//! as the main pages (axe at 1280 and 375 px, nothing sticking out at 375 px, no console
//! errors, Nu Html Checker), with screenshots at 1280, 375 and dark 1280 px.

use crate::browser::{Browser, repo_root, unavailable, with_browser};
use crate::helpers::{PASSWORD, setup_owner, spawn_app};
use crate::quality::Checker;

const KEYS: &str = "/orgs/acme/settings/api-keys";

#[tokio::test]
async fn api_keys_pages_meet_the_quality_bar() {
    let axe_path = repo_root().join("node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&axe_path) else {
        unavailable::<()>(&format!("{} is missing (run `npm ci`)", axe_path.display()));
        return;
    };
    let app = spawn_app();
    let app = &app;
    with_browser(&app.address, async |b: &Browser| {
        let mut q = Checker::in_dir(b, axe, "pages-api-keys");
        setup_owner(app, "acme").await;
        b.login("owner@acme.test", PASSWORD).await;
        q.visit("api-keys-empty", KEYS, 200).await;
        b.fill("#key-name", "terraform-production-pipeline").await;
        b.select("#key-role", "devops").await;
        q.submit("api-keys-created", "form.api-key-form", None, 200)
            .await;
        let value = b
            .find("[data-api-key-value]")
            .await
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        assert!(value.starts_with("fkp_") && value.len() == 68, "{value}");
        b.wait_until(
            "the copy button",
            "return !document.querySelector('[data-copy]').hidden;",
        )
        .await;
        b.fill("#key-name", "ci").await;
        q.submit("api-keys-second", "form.api-key-form", None, 200)
            .await;
        q.visit("api-keys", KEYS, 200).await;
        // (`submit` posts each form twice: once to read the answer, once as the page.)
        assert!(
            b.count("tr[data-api-key-id]").await >= 2,
            "the keys are listed"
        );
        let id = b
            .js(
                "return document.querySelector('tr[data-api-key-id]').dataset.apiKeyId;",
                vec![],
            )
            .await;
        let id = id.as_str().expect("a key row").to_string();
        b.fill("#key-name", "").await;
        b.fill("#key-days", "0").await;
        q.submit("api-keys-errors", "form.api-key-form", None, 422)
            .await;
        q.visit("api-key-revoke", &format!("{KEYS}/{id}/revoke"), 200)
            .await;

        let pages = q.saved.len();
        q.validate_html();
        assert!(pages >= 6, "only {pages} pages were checked");
        assert!(
            q.problems.is_empty(),
            "{} page-quality problems:\n{}",
            q.problems.len(),
            q.problems.join("\n")
        );
    })
    .await;
}

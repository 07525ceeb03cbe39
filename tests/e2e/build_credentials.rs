//! The pages of build credentials (issue 14) in a real browser: a service's page with its
//! "Build credentials" section (no keys, a key just made, keys listed, the Viewer's read-only
//! view), the revoke confirmation, and the token page naming the service that fetched it —
//! each through the quality checks (axe at 1280/375 px and dark, no overflow, Nu HTML checker)
//! with screenshots in `target/screenshots/`.

use crate::browser::{Browser, repo_root, unavailable, with_browser};
use crate::fakes;
use crate::helpers::{Client, Options, PASSWORD, member, setup_owner, spawn_app_with};
use crate::quality::Checker;
use forgekeys::db::models::service::Service;
use forgekeys::domain::role::Role;

const OWNER: &str = "owner@acme.test";

#[tokio::test]
async fn build_credentials_pages_meet_the_quality_bar() {
    let axe_path = repo_root().join("node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&axe_path) else {
        unavailable::<()>(&format!("{} is missing (run `npm ci`)", axe_path.display()));
        return;
    };
    let github = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(github.url.clone()),
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Default::default()
    });
    let app = &app;
    let owner: Client = setup_owner(app, "acme").await;
    let csrf = owner.session_csrf().await;
    owner
        .post(
            "/orgs/acme/settings/git-tokens",
            &[
                ("csrf_token", &csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", "Deploy bot"),
                ("token", "ghp_allscopes_e2e"),
                ("description", ""),
            ],
        )
        .await
        .assert_status(303);
    let token_id = forgekeys::db::models::token::GitToken::all(
        &mut crate::helpers::db(app),
        &org_id(app),
        &Default::default(),
    )
    .unwrap()[0]
        .id
        .clone();
    owner
        .post(
            "/orgs/acme/services",
            &[
                ("csrf_token", &csrf),
                ("name", "storefront"),
                ("kind", "application"),
                ("provider", ""),
                ("access", "token"),
                ("token_id", &token_id),
                ("repository", "acme/app-01"),
                ("branch", "main"),
            ],
        )
        .await
        .assert_status(303);
    let service = Service::list_for_org(&mut crate::helpers::db(app), &org_id(app)).unwrap()[0]
        .id
        .clone();
    let page = format!("/orgs/acme/services/{service}");

    with_browser(&app.address, async |b: &Browser| {
        let mut q = Checker::in_dir(b, axe, "pages-build-credentials");
        b.login(OWNER, PASSWORD).await;
        q.visit("service-keys-empty", &page, 200).await;
        assert_eq!(b.count("[data-no-keys]").await, 1);

        // Make a key without JavaScript's help: the page answers with it, shown once.
        b.fill("#key-name", "GitHub Actions").await;
        q.submit("service-key-created", "form[action$='/keys']", None, 200)
            .await;
        assert_eq!(b.count("[data-key-created]").await, 1);
        let key = b
            .js("return document.querySelector('[data-new-key]').value;", vec![])
            .await;
        let key = key.as_str().expect("the key is shown").to_string();
        assert!(key.starts_with("fks_"));
        // A refused form: the messages next to the fields.
        b.goto(&page).await;
        b.fill("#key-name", "").await;
        b.fill("#key-days", "0").await;
        q.submit("service-key-errors", "form[action$='/keys']", None, 422)
            .await;
        assert_eq!(b.count("#key-name-error").await, 1);

        // A build fetches the credentials: the key is "last used", the token names the service.
        let r = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/services/{service}/git-credentials",
                app.address
            ))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        q.visit("service-keys", &page, 200).await;
        assert!(b.count("tr[data-key-id]").await >= 2);
        q.visit(
            "token-fetched-by-service",
            &format!("/orgs/acme/settings/git-tokens/{token_id}"),
            200,
        )
        .await;
        assert_eq!(b.count("[data-token-fetches] tbody tr").await, 1);
        b.goto(&page).await;
        let revoke = b
            .js(
                "return document.querySelector('tr[data-key-id] a[href$=\"/revoke\"]').getAttribute('href');",
                vec![],
            )
            .await
            .as_str()
            .map(str::to_string)
            .expect("a revoke link");
        q.visit("confirm-service-key-revoke", &revoke, 200).await;

        member(app, "acme", "viewer@acme.test", Role::Viewer).await;
        b.logout().await;
        b.login("viewer@acme.test", PASSWORD).await;
        q.visit("service-keys-viewer", &page, 200).await;
        assert_eq!(b.count("form[action$='/keys']").await, 0);

        q.validate_html();
        assert!(
            q.problems.is_empty(),
            "{} page-quality problems:\n{}",
            q.problems.len(),
            q.problems.join("\n")
        );
    })
    .await;
}

fn org_id(app: &crate::helpers::TestApp) -> String {
    forgekeys::db::models::organization::Organization::find_by_slug(
        &mut crate::helpers::db(app),
        "acme",
    )
    .unwrap()
    .unwrap()
    .id
}

//! The single sign-on pages in a real browser: the sign-in page with its "Sign in with …"
//! button, and the page an SSO problem ends on (here: the provider cannot be reached) — the same
//! quality checks as the main pages (axe at 1280 and 375 px and dark, nothing sticking out at
//! 375 px, no console errors, Nu Html Checker). The flow itself is tested against the real
//! `oidc-provider` in tests/it/sso.rs.

use crate::browser::{Browser, repo_root, unavailable, with_browser};
use crate::helpers::TestApp;
use crate::quality::Checker;

#[tokio::test]
async fn sso_pages_meet_the_quality_bar() {
    let axe_path = repo_root().join("node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&axe_path) else {
        unavailable::<()>(&format!("{} is missing (run `npm ci`)", axe_path.display()));
        return;
    };
    // A port nothing listens on: discovery fails, and the start ends on the problem page.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = forgekeys::config::OidcArgs {
        issuer: format!("http://127.0.0.1:{port}"),
        client_id: "forgekeys".into(),
        client_secret: "secret".into(),
        name: "Acme SSO".into(),
    };
    let app = TestApp::builder()
        .with(move |o| o.oidc = Some(settings))
        .start();
    let app = &app;
    with_browser(&app.address, async |b: &Browser| {
        let mut q = Checker::in_dir(b, axe, "pages-sso");
        q.visit("login-with-sso", "/login", 200).await;
        assert_eq!(b.count("a[data-sso]").await, 1, "the SSO button shows");
        q.visit("sso-unreachable", "/auth/oidc/start", 400).await;
        q.validate_html();
        assert!(
            q.saved.len() >= 2,
            "only {} pages were checked",
            q.saved.len()
        );
        assert!(
            q.problems.is_empty(),
            "{} page-quality problems:\n{}",
            q.problems.len(),
            q.problems.join("\n")
        );
    })
    .await;
}

//! NUL characters never reach the database (PostgreSQL refuses them with an error, which used to
//! surface as a 500): every route answers 400 with a message.

use crate::helpers::*;

#[tokio::test]
async fn nul_characters_get_a_400_with_a_message_never_a_500() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    let gets = [
        "/orgs/acme/settings/git-tokens?q=%00",
        "/orgs/acme/settings/git-tokens?q=a%00b&provider=github",
        "/orgs/acme/settings/git-tokens/inventory?q=a%00",
        "/orgs/acme/settings/git-tokens/%00",
        "/orgs/acme/services/%00",
        "/orgs/acme/audit?actor=%00",
        "/orgs/a%00b/settings/git-tokens",
        "/login?next=%00",
    ];
    for path in gets {
        let page = owner.get(path).await;
        assert_eq!(page.status.as_u16(), 400, "GET {path}: {}", page.body);
        page.assert_contains("NUL character");
    }
    let posts: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/orgs/acme/settings/git-tokens",
            vec![
                ("csrf_token", &csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", "deploy"),
                ("token", "ghp_abcdefghijklmnop"),
                ("description", "bad\0value"),
            ],
        ),
        (
            "/orgs/acme/settings/git-tokens/test",
            vec![("csrf_token", &csrf), ("provider", "git\0hub")],
        ),
        ("/logout", vec![("csrf_token", &csrf), ("x", "\0")]),
    ];
    for (path, form) in &posts {
        let page = owner.post(path, form).await;
        assert_eq!(page.status.as_u16(), 400, "POST {path}: {}", page.body);
        page.assert_contains("NUL character");
    }
    // Sign-in form too (before any session exists).
    let anon = Client::new(&app);
    let login = anon.get("/login").await;
    let pre = login.csrf();
    let page = anon
        .post(
            "/login",
            &[
                ("csrf_token", &pre),
                ("email", "a\0b@x.test"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(page.status.as_u16(), 400, "{}", page.body);
    // Nothing was saved, and the session still works.
    let mut conn = db(&app);
    let (_, total) = forgekeys::db::models::token::GitToken::list(
        &mut conn,
        &org_id(&app, "acme"),
        &Default::default(),
        0,
        10,
    )
    .unwrap();
    assert_eq!(total, 0);
    owner
        .get("/orgs/acme/settings/git-tokens")
        .await
        .assert_status(200);
}

fn org_id(app: &TestApp, slug: &str) -> String {
    let mut conn = db(app);
    forgekeys::db::models::organization::Organization::find_by_slug(&mut conn, slug)
        .unwrap()
        .unwrap()
        .id
}

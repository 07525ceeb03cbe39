use crate::helpers::*;

#[tokio::test]
async fn setup_creates_org_and_owner_then_disappears() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let page = owner.get("/orgs/acme/settings/git-tokens").await;
    page.assert_status(200)
        .assert_contains("Git Repository Access")
        .assert_contains("No tokens yet");
    // The setup link is single-use: gone once a user exists.
    let path = app
        .setup_url
        .clone()
        .unwrap()
        .trim_start_matches(&app.address)
        .to_string();
    Client::new(&app).get(&path).await.assert_status(404);
}

#[tokio::test]
async fn setup_rejects_bad_input_with_messages() {
    let app = spawn_app();
    let c = Client::new(&app);
    let path = app
        .setup_url
        .clone()
        .unwrap()
        .trim_start_matches(&app.address)
        .to_string();
    let form = c.get(&path).await;
    let csrf = form.csrf();
    let token = form.input_value("token").unwrap();
    let resp = c
        .post(
            "/setup",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("org_name", ""),
                ("org_slug", "Bad Slug!"),
                ("email", "nope"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    resp.assert_status(422)
        .assert_contains("Enter the organization")
        .assert_contains("lower-case letters")
        .assert_contains("e-mail address like")
        .assert_contains("at least 12 characters");
    // A wrong setup token is a 404, not a form.
    c.get("/setup?token=wrong").await.assert_status(404);
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app();
    let p = Client::new(&app).get("/healthz").await;
    p.assert_status(200);
    assert_eq!(p.body, "ok");
}

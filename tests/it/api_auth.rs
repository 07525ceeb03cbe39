//! Bearer authentication of the JSON API: keys only (a session cookie is never accepted),
//! revoked, expired, malformed and unknown keys 401, service keys 403, another organization's
//! key 404, problem+json everywhere, and a rate limit per key (429 with Retry-After).

use crate::api_support::*;
use crate::helpers::*;
use forgekeys::domain::role::Role;

#[tokio::test]
async fn a_session_cookie_alone_gets_401_with_a_bearer_challenge() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    // The signed-in browser client (its cookie jar holds the session).
    let p = owner.get(&format!("{API}/git-tokens")).await;
    assert_eq!(p.status.as_u16(), 401, "{}", p.body);
    assert_eq!(
        p.headers.get("content-type").unwrap(),
        "application/problem+json"
    );
    assert!(
        p.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let doc: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(doc["status"], 401);
    assert!(
        doc["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer")
    );
    // A POST with the cookie and no key: 401 too (no CSRF/Origin page in the way).
    let csrf = owner.session_csrf().await;
    let p = owner
        .post(&format!("{API}/git-tokens"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(p.status.as_u16(), 401, "{}", p.body);
}

#[tokio::test]
async fn malformed_unknown_revoked_and_expired_keys_get_401() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let path = format!("{API}/git-tokens");
    for bad in [
        "fkp_short".to_string(),
        format!("fkp_{}", "A".repeat(64)),
        "ghp_allscopes0001".to_string(),
        format!("fkp_{}", "0".repeat(64)),
    ] {
        let a = Api::new(&app, &bad).get(&path).await;
        a.problem(401);
        assert!(
            a.headers
                .get("www-authenticate")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }
    let short = make_key(&owner, "short-lived", "viewer", "1").await;
    let api = Api::new(&app, &short);
    api.get(&path).await.assert_status(200);
    app.clock.advance(chrono::Duration::hours(25));
    api.get(&path).await.problem(401);
    // (The owner's session has ended meanwhile: sign in again.)
    owner.login("owner@acme.test", PASSWORD).await;
    owner
        .get(KEYS)
        .await
        .assert_contains(r#"data-state="expired""#);
}

#[tokio::test]
async fn another_organizations_key_gets_404_and_a_service_key_403() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let other = member(&app, "other", "o@other.test", Role::Owner).await;
    let theirs = make_key_in(&other, "other", "theirs").await;
    let a = Api::new(&app, &theirs)
        .get(&format!("{API}/git-tokens"))
        .await;
    a.problem(404);
    Api::new(&app, &theirs)
        .get("/api/v1/orgs/other/git-tokens")
        .await
        .assert_status(200);
    Api::new(&app, &theirs)
        .get("/api/v1/orgs/nosuch/git-tokens")
        .await
        .problem(404);
    let service_key = format!("fks_{}", "ab".repeat(32));
    Api::new(&app, &service_key)
        .get(&format!("{API}/git-tokens"))
        .await
        .problem(403);
    let _ = owner;
}

async fn make_key_in(owner: &Client, slug: &str, name: &str) -> String {
    let path = format!("/orgs/{slug}/settings/api-keys");
    let csrf = owner.session_csrf().await;
    let page = owner
        .post(
            &path,
            &[("csrf_token", &csrf), ("name", name), ("role", "admin")],
        )
        .await;
    page.assert_status(200);
    let re = regex::Regex::new(r#"value="(fkp_[0-9a-f]{64})""#).unwrap();
    re.captures(&page.body).unwrap()[1].to_string()
}

#[tokio::test]
async fn past_its_rate_a_key_gets_429_with_retry_after_and_other_keys_go_on() {
    let app = spawn_app_with(Options {
        api_rate_limit: Some(5),
        ..Default::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let key = make_key(&owner, "busy", "viewer", "").await;
    let other = make_key(&owner, "calm", "viewer", "").await;
    let api = Api::new(&app, &key);
    let path = format!("{API}/git-tokens");
    for _ in 0..5 {
        api.get(&path).await.assert_status(200);
    }
    let a = api.get(&path).await;
    a.problem(429);
    let retry: u64 = a
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&retry), "{retry}");
    Api::new(&app, &other).get(&path).await.assert_status(200);
}

#[tokio::test]
async fn last_use_is_recorded_and_the_audit_trail_names_the_key() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let key = make_key(&owner, "terraform", "admin", "").await;
    let last_used = || {
        use diesel::prelude::*;
        use forgekeys::db::schema::api_keys;
        let mut conn = db(&app);
        api_keys::table
            .select(api_keys::last_used_at)
            .first::<Option<chrono::NaiveDateTime>>(&mut *conn)
            .unwrap()
    };
    assert_eq!(last_used(), None);
    let api = Api::new(&app, &key);
    // An action that writes an audit record: an inventory export.
    api.get(&format!("{API}/inventory"))
        .await
        .assert_status(200);
    assert!(last_used().is_some());
    let trail = api
        .get(&format!("{API}/audit?action=inventory.export"))
        .await;
    let doc = trail.assert_status(200).json();
    let actor = doc["items"][0]["actor"].as_str().unwrap().to_string();
    assert_eq!(
        actor,
        format!(
            "API key ‘terraform’ ({}) created by owner@acme.test",
            &key[..10]
        )
    );
}

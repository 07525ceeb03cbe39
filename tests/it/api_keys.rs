//! The API keys page (DESIGN.md §9): made with name, role and lifetime, shown once, stored as a
//! hash, listed with hint, creator and last use, revoked after a confirmation; Owners and Admins
//! only; audited without the value.

use crate::api_support::*;
use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::schema::{api_keys, audit_events};
use forgekeys::domain::role::Role;

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_listed_and_audited_without_its_value() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let key = make_key(&owner, "terraform", "devops", "30").await;
    let page = owner.get(KEYS).await;
    page.assert_status(200).assert_lacks(&key);
    let hint = &key[..10];
    page.assert_contains(&format!("<code>{hint}…</code>"))
        .assert_contains("terraform")
        .assert_contains("DevOps")
        .assert_contains("owner@acme.test");
    // Stored: the SHA-256 only.
    let mut conn = db(&app);
    let (hash, stored_hint): (String, String) = api_keys::table
        .select((api_keys::key_hash, api_keys::hint))
        .first(&mut *conn)
        .unwrap();
    assert_eq!(stored_hint, hint);
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains(&key[4..]));
    let details: Vec<(String, String)> = audit_events::table
        .filter(audit_events::action.eq("api_key.create"))
        .select((audit_events::action, audit_events::details))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(details.len(), 1);
    assert!(details[0].1.contains(hint) && !details[0].1.contains(&key[10..]));
    // The trail says it in words.
    owner
        .get("/orgs/acme/audit")
        .await
        .assert_contains("API key created")
        .assert_lacks(&key[10..]);
}

#[tokio::test]
async fn revoking_asks_first_and_the_key_stops_working_at_once() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let key = make_key(&owner, "ci", "viewer", "").await;
    let api = Api::new(&app, &key);
    api.get(&format!("{API}/git-tokens"))
        .await
        .assert_status(200);
    let id = key_id(&owner, "ci").await;
    let confirm = owner.get(&format!("{KEYS}/{id}/revoke")).await;
    confirm
        .assert_status(200)
        .assert_contains(r#"data-confirm="api-key-revoke""#)
        .assert_contains("This cannot be undone");
    let csrf = confirm.csrf();
    // Without the CSRF token nothing happens.
    owner
        .post(&format!("{KEYS}/{id}/revoke"), &[])
        .await
        .assert_status(403);
    api.get(&format!("{API}/git-tokens"))
        .await
        .assert_status(200);
    owner
        .post(&format!("{KEYS}/{id}/revoke"), &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to(KEYS);
    api.get(&format!("{API}/git-tokens")).await.problem(401);
    let list = owner.get(KEYS).await;
    list.assert_contains(r#"data-state="revoked""#);
    let mut conn = db(&app);
    let n: i64 = audit_events::table
        .filter(audit_events::action.eq("api_key.revoke"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn owners_and_admins_manage_keys_others_get_403_and_strangers_404() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let admin = member(&app, "acme", "admin@acme.test", Role::Admin).await;
    admin.get(KEYS).await.assert_status(200);
    make_key(&admin, "by-admin", "admin", "7").await;
    for (email, role) in [
        ("devops@acme.test", Role::Devops),
        ("viewer@acme.test", Role::Viewer),
        ("billing@acme.test", Role::Billing),
    ] {
        let c = member(&app, "acme", email, role).await;
        c.get(KEYS).await.assert_status(403);
        let csrf = c.session_csrf().await;
        c.post(
            KEYS,
            &[("csrf_token", &csrf), ("name", "x"), ("role", "viewer")],
        )
        .await
        .assert_status(403);
        c.get("/orgs/acme/settings/git-tokens")
            .await
            .assert_lacks(KEYS);
    }
    let stranger = member(&app, "other", "x@other.test", Role::Owner).await;
    stranger.get(KEYS).await.assert_status(404);
    // The settings navigation links the page for Owners and Admins.
    owner
        .get("/orgs/acme/settings/git-tokens")
        .await
        .assert_contains(&format!(r#"href="{KEYS}""#));
}

#[tokio::test]
async fn wrong_fields_are_named_and_no_key_is_made() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    let page = owner
        .post(
            KEYS,
            &[
                ("csrf_token", &csrf),
                ("name", ""),
                ("role", "owner"),
                ("expires_in_days", "0"),
            ],
        )
        .await;
    page.assert_status(422)
        .assert_contains("Enter a name")
        .assert_contains("Choose Admin, DevOps or Viewer: an API key is never an Owner.")
        .assert_contains("Enter a whole number of days from 1 to 3650");
    let mut conn = db(&app);
    let n: i64 = api_keys::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(n, 0);
}

//! Issue 4, audit trail: `GET /orgs/{org}/audit?actor=&action=&token_id=&page=` and the history on
//! the token detail page; every action recorded, no secret in any audit row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes;
use crate::helpers::*;
use crate::rotation::{Env, env, github_opts};
use diesel::prelude::*;
use forgekeys::db::models::audit::{Audit, AuditEvent, AuditFilter};
use forgekeys::db::models::organization::Organization;
use forgekeys::db::schema::audit_events;
use forgekeys::domain::role::Role;

const BASE: &str = "/orgs/acme/settings/git-tokens";
const AUDIT: &str = "/orgs/acme/audit";

fn rows(p: &Page) -> Vec<String> {
    let re = regex::Regex::new(r#"<tr data-action="([^"]+)">"#).unwrap();
    re.captures_iter(&p.body)
        .map(|c| c[1].to_string())
        .collect()
}

fn org_id(e: &Env, slug: &str) -> String {
    Organization::find_by_slug(&mut db(&e.app), slug)
        .unwrap()
        .unwrap()
        .id
}

async fn retest(e: &Env, id: &str) {
    e.owner
        .post(
            &format!("{BASE}/{id}/test"),
            &[("csrf_token", &e.csrf), ("return_to", "detail")],
        )
        .await
        .assert_status(303);
}

#[tokio::test]
async fn audit_page_filters_paginates_and_links_tokens() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let alpha = e.create("github", "alpha", "ghp_allscopes_a1").await;
    let beta = e.create("github", "beta", "ghp_allscopes_b1").await;
    retest(&e, &alpha.id).await;
    retest(&e, &alpha.id).await;
    let org = org_id(&e, "acme");
    {
        let mut conn = db(&e.app);
        for _ in 0..55 {
            let mut a = Audit::new("token.test");
            a.org_id = Some(org.clone());
            a.actor_email = Some("bot@acme.test".into());
            a.token_id = Some(beta.id.clone());
            a.token_name = Some("beta".into());
            a.details = serde_json::json!({"status": "valid", "missing": []});
            a.write(&mut conn).unwrap();
        }
    }
    let total = AuditEvent::search(&mut db(&e.app), &org, &AuditFilter::default(), 0, 0)
        .unwrap()
        .1;
    assert!(total >= 60, "{total}");

    // Page 1: 50 rows, newest first, a link to older entries.
    let p1 = e.owner.get(AUDIT).await;
    p1.assert_status(200);
    p1.assert_contains(r#"aria-current="page">Audit trail"#);
    assert_eq!(rows(&p1).len(), 50);
    p1.assert_contains("Older entries");
    p1.assert_lacks("Newer entries");
    p1.assert_contains(&format!("{total} entries"));
    let p2 = e.owner.get(&format!("{AUDIT}?page=2")).await;
    p2.assert_status(200);
    assert_eq!(rows(&p2).len() as i64, total - 50);
    p2.assert_contains("Newer entries");
    // The oldest entry is the organization's setup.
    assert_eq!(rows(&p2).last().map(String::as_str), Some("setup"));

    // Actor filter (with pagination keeping the filter).
    let bot = e.owner.get(&format!("{AUDIT}?actor=bot%40acme.test")).await;
    assert_eq!(rows(&bot).len(), 50);
    bot.assert_contains("55 entries");
    bot.assert_contains("actor=bot%40acme.test&#38;page=2");
    bot.assert_lacks("<td>owner@acme.test</td>");
    let bot2 = e
        .owner
        .get(&format!("{AUDIT}?actor=bot%40acme.test&page=2"))
        .await;
    assert_eq!(rows(&bot2).len(), 5);

    // Action filter.
    let created = e.owner.get(&format!("{AUDIT}?action=token.create")).await;
    assert_eq!(rows(&created), vec!["token.create", "token.create"]);
    created.assert_contains(r#"<option value="token.create" selected>"#);

    // Token filter, alone and combined; the token name links to the token.
    let a = e.owner.get(&format!("{AUDIT}?token_id={}", alpha.id)).await;
    assert_eq!(rows(&a), vec!["token.test", "token.test", "token.create"]);
    a.assert_contains(&format!(r#"<a href="{BASE}/{}">alpha</a>"#, alpha.id));
    let at = e
        .owner
        .get(&format!("{AUDIT}?token_id={}&action=token.test", alpha.id))
        .await;
    assert_eq!(rows(&at).len(), 2);

    // No match: an empty state with a way back.
    let none = e.owner.get(&format!("{AUDIT}?actor=nobody%40x.test")).await;
    none.assert_status(200);
    none.assert_contains("No entry matches these filters");
    assert!(rows(&none).is_empty());

    // Bad filters: a 400 with words; a bad page number falls back to page 1.
    let bad = e.owner.get(&format!("{AUDIT}?action=drop.tables")).await;
    bad.assert_status(400);
    bad.assert_contains("Unknown action filter");
    let bad = e.owner.get(&format!("{AUDIT}?token_id=%3Cscript%3E")).await;
    bad.assert_status(400);
    bad.assert_contains("not a token id");
    bad.assert_lacks("<script>");
    let odd = e.owner.get(&format!("{AUDIT}?page=abc")).await;
    odd.assert_status(200);
    assert_eq!(rows(&odd).len(), 50);

    // A deleted token keeps its entries, named but no longer linked.
    e.owner
        .post(
            &format!("{BASE}/{}/delete", beta.id),
            &[("csrf_token", &e.csrf)],
        )
        .await
        .assert_status(303);
    let after = e.owner.get(AUDIT).await;
    assert_eq!(
        rows(&after).first().map(String::as_str),
        Some("token.delete")
    );
    after.assert_contains("beta (deleted)");
    after.assert_lacks(&format!(r#"href="{BASE}/{}""#, beta.id));
    after.assert_contains(&format!(
        r#"<option value="{}">beta (deleted)</option>"#,
        beta.id
    ));
}

#[tokio::test]
async fn an_organization_without_activity_shows_an_empty_state() {
    let e = env(Options::default()).await;
    let fresh = member(&e.app, "fresh", "o@fresh.test", Role::Owner).await;
    let org = org_id(&e, "fresh");
    diesel::delete(audit_events::table.filter(audit_events::org_id.eq(&org)))
        .execute(&mut db(&e.app))
        .unwrap();
    let p = fresh.get("/orgs/fresh/audit").await;
    p.assert_status(200);
    p.assert_contains("No activity yet");
    assert!(rows(&p).is_empty());
    // Another organization's entries never show.
    p.assert_lacks("owner@acme.test");
}

#[tokio::test]
async fn every_action_is_audited_with_field_names_and_no_secret() {
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let values = [
        "ghp_allscopes_SECRET1",
        "ghp_allscopes_SECRET2",
        "ghp_allscopes_SECRET3",
    ];
    let t = e.create("github", "prod", values[0]).await;
    // Edit with a new value.
    e.owner
        .post(
            &format!("{BASE}/{}", t.id),
            &[
                ("csrf_token", &e.csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", "prod renamed"),
                ("token", values[1]),
                ("url", ""),
                ("workspace", ""),
                ("description", "deploys"),
            ],
        )
        .await
        .assert_status(303);
    retest(&e, &t.id).await;
    e.rotate(&t.id, &[("token", values[2])])
        .await
        .assert_status(303);
    // A move recorded by the services module shows in words on the history.
    {
        let mut a = Audit::new("service.move");
        a.org_id = Some(t.org_id.clone());
        a.actor_email = Some("owner@acme.test".into());
        a.token_id = Some(t.id.clone());
        a.token_name = Some("prod renamed".into());
        a.details = serde_json::json!({"direction": "out", "to_token": "staging",
            "services": ["web", "api"], "service_ids": ["1", "2"]});
        a.write(&mut db(&e.app)).unwrap();
    }
    let detail = e.owner.get(&format!("{BASE}/{}", t.id)).await;
    for words in [
        "Created",
        "Edited",
        "Tested",
        "Rotated",
        "Services moved",
        "moved 2 services to “staging”",
        "fields: name, description, token",
    ] {
        detail.assert_contains(words);
    }
    let audit_page = e.owner.get(AUDIT).await;
    audit_page.assert_contains("Rotated");
    audit_page.assert_contains("new value entered by hand");

    e.owner
        .post(
            &format!("{BASE}/{}/delete", t.id),
            &[("csrf_token", &e.csrf)],
        )
        .await
        .assert_status(303);
    // A failed and a successful sign-in.
    let c = Client::new(&e.app);
    c.login("owner@acme.test", "wrong password").await;
    c.login("owner@acme.test", PASSWORD).await;

    let all: Vec<AuditEvent> = audit_events::table
        .select(AuditEvent::as_select())
        .load(&mut db(&e.app))
        .unwrap();
    for action in [
        "setup",
        "token.create",
        "token.update",
        "token.test",
        "token.rotate",
        "token.delete",
        "login",
        "login_failed",
    ] {
        assert!(
            all.iter().any(|a| a.action == action),
            "no {action} in {:?}",
            all.iter().map(|a| &a.action).collect::<Vec<_>>()
        );
    }
    let update = all.iter().find(|a| a.action == "token.update").unwrap();
    let d: serde_json::Value = serde_json::from_str(&update.details).unwrap();
    assert_eq!(
        d["fields"],
        serde_json::json!(["name", "description", "token"])
    );
    for a in &all {
        let row = format!("{a:?}");
        for v in values {
            assert!(!row.contains(v), "secret in audit row {row}");
            assert!(
                !row.contains(&v[v.len() - 7..]),
                "secret tail in audit row {row}"
            );
        }
        assert!(
            !row.contains(PASSWORD) && !row.contains("wrong password"),
            "{row}"
        );
        assert!(!row.contains("deploys"), "a field value in {row}");
    }
}

#[tokio::test]
async fn role_rules_on_the_audit_page() {
    let e = env(Options::default()).await;
    for role in [Role::Viewer, Role::Billing] {
        let c = member(
            &e.app,
            "acme",
            &format!("{}@acme.test", role.as_str()),
            role,
        )
        .await;
        let p = c.get(AUDIT).await;
        p.assert_status(403);
        p.assert_contains("read the audit trail");
        if role == Role::Viewer {
            // The sidebar does not offer it either.
            let list = c.get(BASE).await;
            list.assert_status(200);
            list.assert_contains(r#"href="/orgs/acme/settings/git-tokens""#);
            list.assert_lacks(r#"href="/orgs/acme/audit""#);
        }
    }
    for role in [Role::Admin, Role::Devops] {
        let c = member(
            &e.app,
            "acme",
            &format!("{}@acme.test", role.as_str()),
            role,
        )
        .await;
        c.get(AUDIT).await.assert_status(200);
    }
    let outsider = member(&e.app, "other", "out@other.test", Role::Owner).await;
    outsider.get(AUDIT).await.assert_status(404);
    outsider.get("/orgs/other/audit").await.assert_status(200);
    Client::new(&e.app)
        .get(AUDIT)
        .await
        .assert_redirect_to("/login");
}

#[tokio::test]
async fn the_token_filter_offers_the_tokens_the_trail_names_by_their_current_names() {
    use forgekeys::db::models::token::GitToken;
    let gh = fakes::github::start();
    let e = env(github_opts(&gh)).await;
    let alpha = e.create("github", "alpha", "ghp_allscopes_a1").await;
    // Renamed behind the trail's back: rows and choices show the current name, linked.
    let mut renamed = e.reload(&alpha.id);
    renamed.name = "alpha prime".into();
    renamed.name_key = "alpha prime".into();
    GitToken::save(&mut db(&e.app), &renamed).unwrap();
    // A token the trail never names (stored without any record) is not offered.
    let mut silent = e.reload(&alpha.id);
    silent.id = forgekeys::db::new_id();
    silent.name = "silent".into();
    silent.name_key = "silent".into();
    silent.identity_key = None;
    GitToken::insert(&mut db(&e.app), &silent).unwrap();

    let p = e.owner.get(AUDIT).await;
    p.assert_status(200);
    p.assert_contains(&format!(
        r#"<option value="{}">alpha prime</option>"#,
        alpha.id
    ))
    .assert_contains(&format!(r#"<a href="{BASE}/{}">alpha prime</a>"#, alpha.id))
    .assert_lacks(&format!(r#"<option value="{}""#, silent.id));
    let selected = e.owner.get(&format!("{AUDIT}?token_id={}", alpha.id)).await;
    selected.assert_contains(&format!(
        r#"<option value="{}" selected>alpha prime</option>"#,
        alpha.id
    ));

    // An action Forgekeys records but this trail does not hold yet: no entries, not an error.
    let none = e.owner.get(&format!("{AUDIT}?action=service.create")).await;
    none.assert_status(200)
        .assert_contains("No entry matches these filters")
        .assert_contains(r#"<option value="service.create" selected>"#);
}

#[tokio::test]
async fn a_recorded_action_this_version_does_not_know_is_an_error_not_a_guess() {
    let e = env(Options::default()).await;
    let org = org_id(&e, "acme");
    let mut a = Audit::new("token.teleport");
    a.org_id = Some(org);
    a.actor_email = Some("owner@acme.test".into());
    a.write(&mut db(&e.app)).unwrap();
    let p = e.owner.get(AUDIT).await;
    p.assert_status(500);
    p.assert_lacks("token.teleport");
}

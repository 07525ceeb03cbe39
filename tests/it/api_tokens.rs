//! `/api/v1/orgs/{org}/git-tokens…`: list with filters and pages, create tested first (201 with
//! Location, or 422 with the verdict or the form's field messages), read, patch (only what it
//! names; a new value re-tested), delete (409 while in use), test, move; bad input is 400/422
//! problem+json, never 500; a token value is never in an answer.

use crate::api_support::*;
use crate::helpers::*;
use crate::tokens_crud::{Env, env, github};
use serde_json::json;

async fn admin_api(e: &Env) -> Api {
    let key = make_key(&e.owner, "terraform", "admin", "").await;
    Api::new(&e.app, &key)
}

#[tokio::test]
async fn create_read_list_patch_test_and_delete_a_token_without_ever_returning_its_value() {
    let e = env().await;
    let api = admin_api(&e).await;
    let value = "ghp_allscopesApi00001";
    let a = api
        .post(
            &format!("{API}/git-tokens"),
            &json!({"provider": "github", "name": "CI deploy", "token": value}),
        )
        .await;
    a.assert_status(201);
    let doc = a.json();
    let id = doc["token"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        a.headers.get("location").unwrap(),
        &format!("{API}/git-tokens/{id}")
    );
    assert_eq!(doc["token"]["status"], "valid");
    assert_eq!(doc["verdict"]["status"], "valid");
    assert_eq!(doc["token"]["hint"], "ghp_…0001");
    assert!(
        doc["token"]["created_by"]
            .as_str()
            .unwrap()
            .starts_with("API key ‘terraform’")
    );
    assert!(e.gh.saw_token(value));
    // Read, stable id.
    let got = api.get(&format!("{API}/git-tokens/{id}")).await;
    assert_eq!(got.assert_status(200).json()["id"], id.as_str());
    // List, filters, total.
    e.create_ok(&github("Other one", "ghp_allscopesApi00002"))
        .await;
    let list = api.get(&format!("{API}/git-tokens?q=deploy")).await.json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    let list = api
        .get(&format!(
            "{API}/git-tokens?provider=github&status=valid&page=1"
        ))
        .await
        .json();
    assert_eq!(list["total"], 2);
    assert_eq!(list["pages"], 1);
    let none = api
        .get(&format!("{API}/git-tokens?provider=gitlab"))
        .await
        .json();
    assert_eq!(none["total"], 0);
    // Patch changes only what it names.
    let p = api
        .patch(
            &format!("{API}/git-tokens/{id}"),
            &json!({"description": "used by terraform"}),
        )
        .await
        .assert_status(200)
        .json();
    assert_eq!(p["description"], "used by terraform");
    assert_eq!(p["name"], "CI deploy");
    assert_eq!(e.token(&id).unwrap().hint, "ghp_…0001");
    // A new value is tested first: a rejected one is not saved.
    let bad = api
        .patch(
            &format!("{API}/git-tokens/{id}"),
            &json!({"token": "ghp_bad00000000000009"}),
        )
        .await;
    let prob = bad.problem(422);
    assert_eq!(prob["verdict"]["status"], "invalid");
    assert_eq!(e.token(&id).unwrap().hint, "ghp_…0001");
    let good = api
        .patch(
            &format!("{API}/git-tokens/{id}"),
            &json!({"token": "ghp_allscopesApi00003", "name": "CI deploy 2"}),
        )
        .await
        .assert_status(200)
        .json();
    assert_eq!(good["hint"], "ghp_…0003");
    assert_eq!(good["name"], "CI deploy 2");
    // Re-test.
    let t = api
        .post(&format!("{API}/git-tokens/{id}/test"), &json!({}))
        .await
        .assert_status(200)
        .json();
    assert_eq!(t["verdict"]["status"], "valid");
    // Delete: 409 while a service uses it, 204 after.
    e.add_service("web", &id);
    let c = api
        .delete(&format!("{API}/git-tokens/{id}"))
        .await
        .problem(409);
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("Move them to another token")
    );
    {
        use diesel::prelude::*;
        use forgekeys::db::schema::services;
        let mut conn = db(&e.app);
        diesel::delete(services::table).execute(&mut *conn).unwrap();
    }
    api.delete(&format!("{API}/git-tokens/{id}"))
        .await
        .assert_status(204);
    api.get(&format!("{API}/git-tokens/{id}"))
        .await
        .problem(404);
    for v in [
        value,
        "ghp_allscopesApi00003",
        "ghp_bad00000000000009",
        "ghp_allscopesApi00002",
    ] {
        api.assert_never_returned(v);
    }
    assert_eq!(e.audit_count("token.create"), 2);
}

#[tokio::test]
async fn a_failing_test_is_a_422_with_the_verdict_and_the_form_sentence() {
    let e = env().await;
    let api = admin_api(&e).await;
    let a = api
        .post(
            &format!("{API}/git-tokens"),
            &json!({"provider": "github", "name": "Bad", "token": "ghp_bad0000000000001"}),
        )
        .await;
    let p = a.problem(422);
    assert_eq!(p["verdict"]["status"], "invalid");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("Not saved: the token test failed")
    );
    // Missing permissions: refused unless save_anyway, like the form's "Save anyway".
    let body = json!({"provider": "github", "name": "Repo only", "token": "ghp_repoonly0000001"});
    let p = api
        .post(&format!("{API}/git-tokens"), &body)
        .await
        .problem(422);
    assert_eq!(p["verdict"]["status"], "missing_permissions");
    assert!(!p["verdict"]["missing"].as_array().unwrap().is_empty());
    let mut anyway = body.clone();
    anyway["save_anyway"] = json!(true);
    let ok = api.post(&format!("{API}/git-tokens"), &anyway).await;
    assert_eq!(
        ok.assert_status(201).json()["token"]["status"],
        "missing_permissions"
    );
    assert_eq!(e.count(), 1);
    api.assert_never_returned("ghp_repoonly0000001");
    api.assert_never_returned("ghp_bad0000000000001");
}

#[tokio::test]
async fn field_errors_carry_the_forms_messages_and_bad_input_is_never_a_500() {
    let e = env().await;
    let api = admin_api(&e).await;
    let path = format!("{API}/git-tokens");
    let p = api
        .post(&path, &json!({"provider": "svn", "name": "", "token": "x"}))
        .await
        .problem(422);
    let errors = p["errors"].as_array().unwrap();
    let msg = |f: &str| {
        errors
            .iter()
            .find(|x| x["field"] == f)
            .map(|x| x["message"].as_str().unwrap().to_string())
    };
    assert_eq!(
        msg("provider").as_deref(),
        Some("Choose GitHub, GitLab or Bitbucket.")
    );
    assert_eq!(msg("name").as_deref(), Some("Enter a name."));
    // Same name as an existing token (case-insensitive): the form's sentence.
    e.create_ok(&github("Deploy", "ghp_allscopesApi00010"))
        .await;
    let p = api
        .post(
            &path,
            &json!({"provider": "github", "name": "deploy", "token": "ghp_allscopesApi00011"}),
        )
        .await
        .problem(422);
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    // A destination change without a new value.
    let id = e.id_of("Deploy");
    let p = api
        .patch(
            &format!("{path}/{id}"),
            &json!({"hosting": "self_hosted", "url": "https://ghe.example.com"}),
        )
        .await
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "token");
    // Malformed JSON, wrong types, unknown fields: 400.
    for raw in [
        "{not json",
        r#"{"provider": 3, "name": "x", "token": "y"}"#,
        r#"{"provider": "github", "name": "x", "token": "ghp_allscopesSecret99", "save_anyway": "ghp_allscopesSecret99"}"#,
        r#"{"provider": "github", "name": "x", "token": "y", "colour": "red"}"#,
        r#"["a"]"#,
        "",
        r#"{"provider": "github", "name": "a\u0000b", "token": "y"}"#,
    ] {
        let a = api.send(reqwest::Method::POST, &path, Some(raw)).await;
        a.problem(400);
    }
    api.assert_never_returned("ghp_allscopesSecret99");
    // Unknown filter values: 400 with the page's sentence.
    let p = api.get(&format!("{path}?provider=svn")).await.problem(400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("use github, gitlab or bitbucket")
    );
    api.get(&format!("{path}?status=shiny")).await.problem(400);
    api.get(&format!("{path}?q=%00")).await.problem(400);
    api.get("/api/v1/nothing/here").await.problem(404);
    api.get(&format!("{path}/no-such-id")).await.problem(404);
}

#[tokio::test]
async fn services_move_to_another_token_of_the_same_server() {
    let e = env().await;
    let api = admin_api(&e).await;
    let from = e.create_ok(&github("Old", "ghp_allscopesMove0001")).await;
    let to = e.create_ok(&github("New", "ghp_allscopesMove0002")).await;
    let sid = api
        .post(
            &format!("{API}/services"),
            &json!({"name": "web", "provider": "github", "token_id": from, "repository": "acme/app-01", "branch": "main"}),
        )
        .await
        .assert_status(201)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = api
        .post(
            &format!("{API}/git-tokens/{from}/move"),
            &json!({"target_token_id": from, "service_ids": [sid]}),
        )
        .await
        .problem(422);
    assert_eq!(refused["errors"][0]["field"], "target_token_id");
    let moved = api
        .post(
            &format!("{API}/git-tokens/{from}/move"),
            &json!({"target_token_id": to, "service_ids": [sid]}),
        )
        .await
        .assert_status(200)
        .json();
    assert_eq!(moved["moved"], 1);
    assert_eq!(moved["remaining"], 0);
    api.delete(&format!("{API}/git-tokens/{from}"))
        .await
        .assert_status(204);
}

/// What each key role may do (the members' rules, DESIGN.md §3).
#[tokio::test]
async fn each_key_role_may_do_what_the_same_member_role_may() {
    let e = env().await;
    let id = e
        .create_ok(&github("Shared", "ghp_allscopesRole0001"))
        .await;
    let create = json!({"provider": "github", "name": "New", "token": "ghp_allscopesRole0002"});
    for (role, manage, audit) in [
        ("admin", true, true),
        ("devops", true, true),
        ("viewer", false, false),
    ] {
        let key = make_key(&e.owner, &format!("k-{role}"), role, "").await;
        let api = Api::new(&e.app, &key);
        let ok_or_403 = |a: &Answer, allowed: bool, ok: u16| {
            if allowed {
                a.assert_status(ok);
            } else {
                let p = a.problem(403);
                assert!(
                    p["detail"].as_str().unwrap().contains("Roles that may"),
                    "{p}"
                );
            }
        };
        api.get(&format!("{API}/git-tokens"))
            .await
            .assert_status(200);
        api.get(&format!("{API}/git-tokens/{id}"))
            .await
            .assert_status(200);
        api.get(&format!("{API}/services")).await.assert_status(200);
        api.get(&format!("{API}/inventory"))
            .await
            .assert_status(200);
        ok_or_403(&api.get(&format!("{API}/audit")).await, audit, 200);
        let mut body = create.clone();
        body["name"] = json!(format!("New {role}"));
        ok_or_403(
            &api.post(&format!("{API}/git-tokens"), &body).await,
            manage,
            201,
        );
        ok_or_403(
            &api.patch(
                &format!("{API}/git-tokens/{id}"),
                &json!({"description": role}),
            )
            .await,
            manage,
            200,
        );
        ok_or_403(
            &api.post(&format!("{API}/git-tokens/{id}/test"), &json!({}))
                .await,
            manage,
            200,
        );
        ok_or_403(
            &api.post(&format!("{API}/services"), &json!({"name": format!("svc {role}"), "provider": "github", "token_id": id, "repository": "acme/app-01", "branch": "main"})).await,
            manage,
            201,
        );
    }
    // A Viewer key changes nothing anywhere; an Admin key may delete.
    let viewer = Api::new(
        &e.app,
        &make_key(&e.owner, "k-viewer-2", "viewer", "").await,
    );
    let admin = Api::new(&e.app, &make_key(&e.owner, "k-admin-2", "admin", "").await);
    let services = admin.get(&format!("{API}/services")).await.json();
    let sid = services["items"][0]["id"].as_str().unwrap().to_string();
    let other = e.id_of("New admin");
    for a in [
        viewer.delete(&format!("{API}/git-tokens/{other}")).await,
        viewer
            .post(
                &format!("{API}/git-tokens/{id}/move"),
                &json!({"target_token_id": other, "service_ids": [sid]}),
            )
            .await,
        viewer
            .patch(&format!("{API}/services/{sid}"), &json!({"name": "x"}))
            .await,
        viewer.delete(&format!("{API}/services/{sid}")).await,
    ] {
        a.problem(403);
    }
    admin
        .delete(&format!("{API}/services/{sid}"))
        .await
        .assert_status(204);
    admin
        .delete(&format!("{API}/git-tokens/{other}"))
        .await
        .assert_status(204);
}

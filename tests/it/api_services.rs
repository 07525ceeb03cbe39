//! `/api/v1/orgs/{org}/services…` (CRUD with the service form's rules and messages), `audit`
//! (the trail's filters, paged) and `inventory` (the export's JSON, audited).

use crate::api_support::*;
use crate::tokens_crud::{env, github};
use serde_json::json;

#[tokio::test]
async fn services_are_created_read_patched_and_deleted_with_the_forms_rules() {
    let e = env().await;
    let key = make_key(&e.owner, "svc", "devops", "").await;
    let api = Api::new(&e.app, &key);
    let tid = e
        .create_ok(&github("Deploy", "ghp_allscopesSvc00001"))
        .await;
    let path = format!("{API}/services");
    let p = api
        .post(
            &path,
            &json!({"name": "", "kind": "lamp", "access": "token"}),
        )
        .await
        .problem(422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"name") && fields.contains(&"kind"), "{p}");
    let made = api
        .post(
            &path,
            &json!({"name": "web", "provider": "github", "token_id": tid, "repository": "acme/app-01", "branch": "main"}),
        )
        .await;
    made.assert_status(201);
    let s = made.json();
    let sid = s["id"].as_str().unwrap().to_string();
    assert_eq!(
        made.headers.get("location").unwrap(),
        &format!("{path}/{sid}")
    );
    assert_eq!(s["token_name"], "Deploy");
    assert_eq!(s["kind"], "application");
    let list = api.get(&path).await.assert_status(200).json();
    assert_eq!(list["total"], 1);
    let p = api
        .patch(&format!("{path}/{sid}"), &json!({"name": "web-app"}))
        .await
        .assert_status(200)
        .json();
    assert_eq!(p["name"], "web-app");
    assert_eq!(p["repository"], "acme/app-01");
    let dup = api
        .post(
            &path,
            &json!({"name": "WEB-APP", "provider": "github", "token_id": tid, "repository": "acme/app-01", "branch": "main"}),
        )
        .await
        .problem(422);
    assert!(
        dup["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    // The token is in use now.
    api.delete(&format!("{API}/git-tokens/{tid}"))
        .await
        .problem(409);
    api.delete(&format!("{path}/{sid}"))
        .await
        .assert_status(204);
    api.get(&format!("{path}/{sid}")).await.problem(404);
    api.assert_never_returned("ghp_allscopesSvc00001");
}

#[tokio::test]
async fn the_audit_trail_and_the_inventory_answer_as_json_without_values() {
    let e = env().await;
    let key = make_key(&e.owner, "reports", "admin", "").await;
    let api = Api::new(&e.app, &key);
    e.create_ok(&github("Deploy", "ghp_allscopesRep00001"))
        .await;
    let a = api
        .get(&format!("{API}/audit?action=token.create"))
        .await
        .json();
    assert_eq!(a["total"], 1);
    assert_eq!(a["items"][0]["token_name"], "Deploy");
    assert_eq!(a["items"][0]["actor"], "owner@acme.test");
    api.get(&format!("{API}/audit?action=nope"))
        .await
        .problem(400);
    api.get(&format!("{API}/audit?from=2020-13-01"))
        .await
        .problem(400);
    let inv = api.get(&format!("{API}/inventory?provider=github")).await;
    inv.assert_status(200);
    assert!(inv.content_type().starts_with("application/json"));
    let doc = inv.json();
    assert_eq!(doc["organization"]["slug"], "acme");
    assert_eq!(doc["tokens"][0]["name"], "Deploy");
    assert_eq!(e.audit_count("inventory.export"), 1);
    api.assert_never_returned("ghp_allscopesRep00001");
}

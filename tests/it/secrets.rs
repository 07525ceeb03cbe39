//! Token values at rest and on the way out (DESIGN.md §4, §6): never in a page, the database
//! file or the audit trail; ciphertext bound to its row; audit rows with field names only.

use crate::fakes;
use crate::helpers::*;
use crate::tokens_crud::{Env, Form, LIST, bitbucket, env, github, gitlab, self_hosted, with};
use diesel::prelude::*;
use forgekeys::db::models::audit::AuditEvent;
use forgekeys::db::models::token::GitToken;
use forgekeys::db::schema::{audit_events, git_tokens};

const GH: &str = "ghp_allscopesSECRETVALUE123456";
const GL: &str = "glpat-maintainerSECRETGL98765";
const BB: &str = "bb_validSECRETBB55555";
const GHES: &str = "ghp_allscopesSECRETGHES4321";
/// Values that were typed into forms but never saved.
const REFUSED: [&str; 4] = [
    "ghp_allscopesSECRETDUPLICATE77",
    "ghp_badSECRETREFUSED0000001",
    "ghp_allscopesSECRETTESTONLY888",
    "ghp_badSECRETEDITVALUE9999",
];
/// The part every secret here shares, to catch a value cut or re-encoded.
const MARK: &str = "SECRET";

fn all_secrets() -> Vec<&'static str> {
    let mut v = vec![GH, GL, BB, GHES];
    v.extend(REFUSED);
    v
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for s in all_secrets() {
        assert!(!text.contains(s), "{what} contains the token {s}:\n{text}");
    }
    assert!(
        !text.contains(MARK),
        "{what} contains part of a token value:\n{text}"
    );
}

fn all_tokens(env: &Env) -> Vec<GitToken> {
    let mut conn = db(&env.app);
    git_tokens::table
        .select(GitToken::as_select())
        .load(&mut *conn)
        .unwrap()
}

fn all_audit(env: &Env) -> Vec<AuditEvent> {
    let mut conn = db(&env.app);
    audit_events::table
        .order(audit_events::created_at.asc())
        .select(AuditEvent::as_select())
        .load(&mut *conn)
        .unwrap()
}

fn details(e: &AuditEvent) -> serde_json::Value {
    serde_json::from_str(&e.details).unwrap_or_else(|err| panic!("{e:?}: {err}"))
}

/// Create the four tokens (and try some refused values); returns the GHES fake and the ids.
async fn populate(env: &Env) -> (fakes::FakeServer, Vec<String>) {
    let ghes = fakes::github::start_ghes();
    let ids = vec![
        env.create_ok(&with(github("GitHub prod", GH), "description", "prod"))
            .await,
        env.create_ok(&gitlab("GitLab prod", GL)).await,
        env.create_ok(&bitbucket("Bitbucket prod", "acme", BB))
            .await,
        env.create_ok(&self_hosted("github", "GHES prod", &ghes.url, GHES))
            .await,
    ];
    (ghes, ids)
}

#[tokio::test]
async fn token_values_never_appear_in_pages() {
    let env = env().await;
    let (ghes, ids) = populate(&env).await;
    assert!(env.gh.saw_token(GH) && env.gl.saw_token(GL) && env.bb.saw_token(BB));
    assert!(ghes.saw_token(GHES));

    let mut pages: Vec<(String, Page)> = Vec::new();
    // Forms re-rendered after an error, with a secret in the token field.
    let refused: Vec<(&str, Form)> = vec![
        ("duplicate name", github("github PROD", REFUSED[0])),
        ("failed test", github("Refused", REFUSED[1])),
        (
            "bad URL",
            self_hosted("gitlab", "Bad URL", "https://gitlab.example.com/api/v4", GL),
        ),
        ("bad workspace", bitbucket("Bad workspace", "no such!", BB)),
    ];
    for (what, form) in &refused {
        let p = env.create(form).await;
        p.assert_status(422);
        pages.push((format!("create refused: {what}"), p));
    }
    // Test without saving: the no-JS page and the HTMX fragment.
    let tested = github("Test only", REFUSED[2]);
    pages.push((
        "test without saving".into(),
        env.post(&format!("{LIST}/test"), &tested).await,
    ));
    let mut pairs: Vec<(&str, &str)> = tested.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.push(("csrf_token", &env.csrf));
    let frag = env
        .owner
        .post_htmx(&format!("{LIST}/test"), &env.csrf, "test-result", &pairs)
        .await;
    frag.assert_status(200)
        .assert_contains(r#"data-status="valid""#);
    pages.push(("test fragment".into(), frag));
    // An edit whose new value fails, and one that changes the destination without a value.
    let p = env
        .post(
            &format!("{LIST}/{}", ids[0]),
            &github("GitHub prod", REFUSED[3]),
        )
        .await;
    p.assert_status(422)
        .assert_contains(r#"data-status="invalid""#);
    pages.push(("edit refused: failed test".into(), p));
    let p = env
        .post(&format!("{LIST}/{}", ids[0]), &gitlab("GitHub prod", ""))
        .await;
    p.assert_status(422);
    pages.push(("edit refused: destination".into(), p));
    // Re-test each stored token (decrypts and sends it).
    for id in &ids {
        let p = env
            .owner
            .post_htmx(
                &format!("{LIST}/{id}/test"),
                &env.csrf,
                &format!("row-{id}"),
                &[("csrf_token", &env.csrf)],
            )
            .await;
        p.assert_status(200)
            .assert_contains(r#"data-status="valid""#);
        pages.push((format!("re-test row {id}"), p));
    }

    for path in [LIST.to_string(), format!("{LIST}/new"), "/orgs".into()] {
        let p = env.owner.get(&path).await;
        p.assert_status(200);
        pages.push((path, p));
    }
    for id in &ids {
        for suffix in ["", "/edit", "/delete"] {
            let path = format!("{LIST}/{id}{suffix}");
            let p = env.owner.get(&path).await;
            p.assert_status(200);
            pages.push((path, p));
        }
    }
    // Pages other issues add: checked when they exist.
    for path in [
        format!("{LIST}/inventory"),
        "/orgs/acme/audit".to_string(),
        "/orgs/acme/services".to_string(),
    ] {
        let p = env.owner.get(&path).await;
        assert_ne!(p.status.as_u16(), 500, "{path}");
        pages.push((path, p));
    }

    for (what, p) in &pages {
        assert_no_secret(what, &p.body);
        for (name, value) in &p.headers {
            assert_no_secret(
                &format!("{what} header {name}"),
                value.to_str().unwrap_or(""),
            );
        }
    }

    // The detail page shows the hint only: prefix and last four characters.
    let detail = env.owner.get(&format!("{LIST}/{}", ids[0])).await;
    detail
        .assert_contains("<code>ghp_…3456</code>")
        .assert_lacks("allscopes");
    env.owner
        .get(&format!("{LIST}/{}", ids[1]))
        .await
        .assert_contains("<code>glpat-…8765</code>");
    // A Bitbucket token has no known prefix: the last four only.
    env.owner
        .get(&format!("{LIST}/{}", ids[2]))
        .await
        .assert_contains("<code>…5555</code>")
        .assert_lacks("bb_valid");
}

#[tokio::test]
async fn token_values_are_not_stored_in_plaintext() {
    let env = env().await;
    let (_ghes, ids) = populate(&env).await;
    // Edit one with a new value, delete another: old rows and values must not linger either.
    env.post(
        &format!("{LIST}/{}", ids[0]),
        &github("GitHub prod", "ghp_allscopesSECRETROTATED4242"),
    )
    .await
    .assert_redirect_to(&format!("{LIST}/{}", ids[0]));
    env.post(&format!("{LIST}/{}/delete", ids[2]), &[])
        .await
        .assert_redirect_to(LIST);
    let values = [GH, GL, BB, GHES, "ghp_allscopesSECRETROTATED4242"];

    // Every stored column, ciphertext included, through the database (both backends).
    for t in all_tokens(&env) {
        let text = format!("{t:?}");
        for v in values {
            assert!(!text.contains(v), "row {} holds {v}", t.id);
            assert!(
                !t.secret.windows(v.len()).any(|w| w == v.as_bytes()),
                "ciphertext of {} holds {v}",
                t.id
            );
        }
        assert!(!text.contains(MARK), "row {}: {text}", t.id);
        // Random 24-byte nonce + 16-byte tag around the value.
        assert!(t.secret.len() >= 24 + 16, "ciphertext too short");
    }
    let gh = all_tokens(&env)
        .into_iter()
        .find(|t| t.id == ids[0])
        .unwrap();
    assert_eq!(gh.hint, "ghp_…4242");

    // Two rows with the same value get different ciphertexts (random nonce, row id bound).
    let again = env.create_ok(&github("Same value", GH)).await;
    let a = env.token(&ids[1]).unwrap();
    let b = env.token(&again).unwrap();
    assert_ne!(a.secret, b.secret);

    // The raw database file and its WAL (SQLite only; PostgreSQL is checked through SQL above).
    if backend() == "sqlite" {
        let mut checked = 0;
        for file in ["forgekeys.db", "forgekeys.db-wal", "forgekeys.db-journal"] {
            let path = env.app.dir.path().join(file);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            checked += 1;
            for v in values {
                assert!(
                    !bytes.windows(v.len()).any(|w| w == v.as_bytes()),
                    "{file} holds {v}"
                );
            }
            assert!(
                !bytes.windows(MARK.len()).any(|w| w == MARK.as_bytes()),
                "{file} holds part of a token value"
            );
        }
        assert!(checked >= 1, "no database file found in {:?}", env.app.dir);
    }
}

#[tokio::test]
async fn ciphertext_moved_to_another_row_does_not_decrypt() {
    let env = env().await;
    let a = env.create_ok(&github("Token A", GH)).await;
    let b = env
        .create_ok(&github("Token B", "ghp_allscopesOtherB0000001"))
        .await;
    let ta = env.token(&a).unwrap();
    {
        let mut conn = db(&env.app);
        diesel::update(git_tokens::table.find(&b))
            .set((
                git_tokens::secret.eq(&ta.secret),
                git_tokens::key_id.eq(&ta.key_id),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let sent = env.gh.requests().len();
    let seen_a = env
        .gh
        .requests()
        .iter()
        .filter(|r| r.token() == Some(GH))
        .count();

    // HTMX re-test from the detail page: the result fragment.
    let frag = env
        .owner
        .post_htmx(
            &format!("{LIST}/{b}/test"),
            &env.csrf,
            "test-result",
            &[("csrf_token", &env.csrf)],
        )
        .await;
    frag.assert_status(200)
        .assert_contains(r#"data-status="error""#)
        .assert_contains("could not be decrypted")
        .assert_lacks("<html");
    assert_no_secret("fragment", &frag.body);
    assert_eq!(env.token(&b).unwrap().status, "error");

    // Without JS: back to the detail page, which shows the stored result.
    env.post(
        &format!("{LIST}/{b}/test"),
        &[("return_to", "detail".to_string())],
    )
    .await
    .assert_redirect_to(&format!("{LIST}/{b}"));
    let detail = env.owner.get(&format!("{LIST}/{b}")).await;
    detail
        .assert_status(200)
        .assert_contains(r#"data-status="error""#)
        .assert_contains("could not be decrypted");

    // In the list, as a row.
    let row = env
        .owner
        .post_htmx(
            &format!("{LIST}/{b}/test"),
            &env.csrf,
            &format!("row-{b}"),
            &[("csrf_token", &env.csrf)],
        )
        .await;
    row.assert_status(200)
        .assert_contains(&format!(r#"data-token-id="{b}" data-status="error""#));

    assert_eq!(
        env.gh.requests().len(),
        sent,
        "B's destination was contacted"
    );
    assert_eq!(
        env.gh
            .requests()
            .iter()
            .filter(|r| r.token() == Some(GH))
            .count(),
        seen_a,
        "A's token was sent for B"
    );

    // A still works: its own row.
    let fa = env
        .owner
        .post_htmx(
            &format!("{LIST}/{a}/test"),
            &env.csrf,
            "test-result",
            &[("csrf_token", &env.csrf)],
        )
        .await;
    fa.assert_status(200)
        .assert_contains(r#"data-status="valid""#);

    // Altered ciphertext and an unknown key id: error with a reason, never a 500.
    let mut flipped = ta.secret.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    for (blob, key_id, reason) in [
        (flipped, ta.key_id.clone(), "could not be decrypted"),
        (
            ta.secret.clone(),
            "no-such-key".to_string(),
            "no master key",
        ),
    ] {
        {
            let mut conn = db(&env.app);
            diesel::update(git_tokens::table.find(&a))
                .set((git_tokens::secret.eq(&blob), git_tokens::key_id.eq(&key_id)))
                .execute(&mut *conn)
                .unwrap();
        }
        let p = env
            .owner
            .post_htmx(
                &format!("{LIST}/{a}/test"),
                &env.csrf,
                "test-result",
                &[("csrf_token", &env.csrf)],
            )
            .await;
        p.assert_status(200)
            .assert_contains(r#"data-status="error""#)
            .assert_contains(reason);
    }
}

#[tokio::test]
async fn audit_rows_name_fields_never_values() {
    let env = env().await;
    let id = env
        .create_ok(&with(github("Audited", GH), "description", "first words"))
        .await;
    // Rename only.
    env.post(
        &format!("{LIST}/{id}"),
        &with(github("Audited renamed", ""), "description", "first words"),
    )
    .await
    .assert_redirect_to(&format!("{LIST}/{id}"));
    // Description only.
    env.post(
        &format!("{LIST}/{id}"),
        &with(
            github("Audited renamed", ""),
            "description",
            "PRIVATE NOTE text",
        ),
    )
    .await
    .assert_redirect_to(&format!("{LIST}/{id}"));
    // New token value.
    env.post(
        &format!("{LIST}/{id}"),
        &with(
            github("Audited renamed", "ghp_allscopesSECRETNEWVALUE77"),
            "description",
            "PRIVATE NOTE text",
        ),
    )
    .await
    .assert_redirect_to(&format!("{LIST}/{id}"));
    env.post(&format!("{LIST}/{id}/test"), &[])
        .await
        .assert_redirect_to(&format!("{LIST}/{id}"));
    env.post(&format!("{LIST}/{id}/delete"), &[])
        .await
        .assert_redirect_to(LIST);
    // A sign-in and a failed sign-in.
    let dev = member(
        &env.app,
        "acme",
        "dev@acme.test",
        forgekeys::domain::role::Role::Devops,
    )
    .await;
    drop(dev);
    let stranger = Client::new(&env.app);
    stranger
        .login("dev@acme.test", &format!("{MARK}-wrong-password"))
        .await;

    let events = all_audit(&env);
    let org = env.org_id();
    let owner_email = "owner@acme.test";
    for e in &events {
        let text = format!("{e:?}");
        for v in [GH, "ghp_allscopesSECRETNEWVALUE77"] {
            assert!(!text.contains(v), "audit row holds a token value: {text}");
        }
        assert!(
            !text.contains("PRIVATE NOTE"),
            "audit row holds a value: {text}"
        );
        assert!(
            !text.contains("first words"),
            "audit row holds a value: {text}"
        );
        assert!(
            !text.contains(MARK),
            "audit row holds a password/token: {text}"
        );
        assert!(
            !text.contains(PASSWORD),
            "audit row holds a password: {text}"
        );
    }
    let of = |action: &str| -> Vec<&AuditEvent> {
        events
            .iter()
            .filter(|e| e.action == action && e.token_id.as_deref() == Some(id.as_str()))
            .collect()
    };

    let create = of("token.create");
    assert_eq!(create.len(), 1);
    assert_eq!(create[0].org_id.as_deref(), Some(org.as_str()));
    assert_eq!(create[0].actor_email.as_deref(), Some(owner_email));
    assert_eq!(create[0].token_name.as_deref(), Some("Audited"));
    let d = details(create[0]);
    assert_eq!(d["status"], "valid");
    let fields: Vec<&str> = d["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for f in ["name", "provider", "hosting", "token", "description"] {
        assert!(fields.contains(&f), "{fields:?}");
    }

    let updates = of("token.update");
    assert_eq!(updates.len(), 3, "{updates:?}");
    // Timestamps have second precision: compare as a set.
    let mut changed: Vec<String> = updates
        .iter()
        .map(|u| details(u)["fields"].to_string())
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        vec![
            r#"["description"]"#.to_string(),
            r#"["name"]"#.to_string(),
            r#"["token"]"#.to_string()
        ]
    );
    assert!(
        updates
            .iter()
            .all(|u| u.token_name.as_deref() == Some("Audited renamed"))
    );
    // Field names and the outcome only; a rename also names the old and the new name (the
    // token's label, which every record carries anyway — issue 13 item 7), nothing else.
    for u in &updates {
        let d = details(u);
        let rename = d["fields"] == serde_json::json!(["name"]);
        let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
        for k in &keys {
            let allowed = ["fields", "status"].contains(&k.as_str())
                || (rename && ["renamed_from", "renamed_to"].contains(&k.as_str()));
            assert!(allowed, "update details carry {k}: {}", u.details);
        }
        if rename {
            assert_eq!(d["renamed_from"], "Audited", "{}", u.details);
            assert_eq!(d["renamed_to"], "Audited renamed", "{}", u.details);
        }
    }

    let tests = of("token.test");
    assert_eq!(tests.len(), 1);
    assert_eq!(details(tests[0])["status"], "valid");
    assert_eq!(tests[0].actor_email.as_deref(), Some(owner_email));

    let deletes = of("token.delete");
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].token_name.as_deref(), Some("Audited renamed"));

    let logins: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.action == "login" && e.actor_email.as_deref() == Some("dev@acme.test"))
        .collect();
    assert_eq!(logins.len(), 1);
    assert!(logins[0].actor_user_id.is_some());
    let failed: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.action == "login_failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(details(failed[0])["reason"], "bad_password");

    // The history on a token's page shows the same, without values.
    let id2 = env.create_ok(&github("History", GH)).await;
    env.post(&format!("{LIST}/{id2}"), &github("History 2", ""))
        .await
        .assert_redirect_to(&format!("{LIST}/{id2}"));
    let page = env.owner.get(&format!("{LIST}/{id2}")).await;
    page.assert_contains("Created")
        .assert_contains("Edited")
        .assert_contains("fields: name");
    assert_no_secret("detail history", &page.body);
}

#[cfg(unix)]
#[tokio::test]
async fn key_file_is_created_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app();
    let meta = std::fs::metadata(&app.key_file).expect("key file created at start");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(meta.len() > 0);
    // The key file holds no token and the database none of the key (a sanity check on layout).
    let key = std::fs::read(&app.key_file).unwrap();
    assert!(!key.windows(MARK.len()).any(|w| w == MARK.as_bytes()));
}

//! Issue 11 item 4, `forgekeys keys rotate` beside a running server: the real binary rotates
//! while the in-process server keeps saving tokens; afterwards, and with nothing but the key
//! file (a restart), every secret decrypts. An interrupted rotation loses nothing and is
//! finished by the next one. The webhook URL is sealed like a token and moves with the keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::cli::run;
use crate::edits::plain;
use crate::helpers::*;
use crate::lifecycle::{Receiver, org_id, save_webhook, state_for};
use crate::tokens_check::{create, find, start};
use forgekeys::app::keys::Rotation;
use forgekeys::crypto::keyfile;
use forgekeys::crypto::secret_box::MasterKey;
use forgekeys::db::models::master_key::MasterKeyRow;
use forgekeys::db::models::notification::NotificationSettings;

fn key_ids(app: &TestApp) -> Vec<String> {
    keyfile::load(&app.key_file)
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect()
}

#[tokio::test]
async fn a_token_the_running_server_saves_after_keys_rotate_decrypts_after_a_restart() {
    let (_gh, app, owner, csrf) = start().await;
    let before = create(&app, &owner, &csrf, "Before", "ghp_noexpiry_keys_before").await;
    let old = key_ids(&app);

    let r = run(&app, &["keys", "rotate"], "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // The server has been running all along, with the old key loaded.
    let after = create(&app, &owner, &csrf, "After", "ghp_noexpiry_keys_after").await;
    assert!(
        !old.contains(&after.key_id),
        "the running server sealed a new token under the retired key {}",
        after.key_id
    );
    // A restart has only the key file.
    assert_eq!(
        plain(&app, &find(&app, "Before").unwrap()),
        "ghp_noexpiry_keys_before"
    );
    assert_eq!(plain(&app, &after), "ghp_noexpiry_keys_after");
    assert_ne!(before.key_id, find(&app, "Before").unwrap().key_id);
}

/// The key ids the database records, with their state.
fn recorded(app: &TestApp) -> Vec<(String, String)> {
    MasterKeyRow::all(&mut db(app))
        .unwrap()
        .into_iter()
        .map(|k| (k.id, k.state))
        .collect()
}

#[tokio::test]
async fn an_interrupted_rotation_loses_nothing_and_running_it_again_finishes_the_job() {
    let (_gh, app, owner, csrf) = start().await;
    let a = create(&app, &owner, &csrf, "A", "ghp_noexpiry_keys_a").await;
    let first = key_ids(&app);

    // `keys rotate` killed right after phase 1: its key is in the file and primary, nothing is
    // re-sealed yet (the lock on `<key file>.lock` dies with the process).
    let cli = state_for(&app);
    let rotation = Rotation::begin(&cli).await.unwrap();
    let second = rotation.key_id.clone();
    drop(rotation);
    // The server keeps working: a new token is sealed under the new key, the old one still
    // opens with the file.
    let b = create(&app, &owner, &csrf, "B", "ghp_noexpiry_keys_b").await;
    assert_eq!(b.key_id, second);
    assert_eq!(
        plain(&app, &find(&app, "A").unwrap()),
        "ghp_noexpiry_keys_a"
    );

    // Then one killed after writing its key to the file, before the database heard of it.
    let mut keys = keyfile::load(&app.key_file).unwrap();
    keys.push(MasterKey::generate());
    let orphan = keys.last().unwrap().id.clone();
    keyfile::save(&app.key_file, &keys).unwrap();
    let c = create(&app, &owner, &csrf, "C", "ghp_noexpiry_keys_c").await;
    assert_eq!(
        c.key_id, second,
        "sealed under a key the database does not name"
    );

    // Run again: it finishes the job.
    let r = run(&app, &["keys", "rotate"], "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let last = key_ids(&app);
    assert_eq!(last.len(), 1, "old keys left in the file: {last:?}");
    assert!(!first.contains(&last[0]) && last[0] != second && last[0] != orphan);
    assert_eq!(
        recorded(&app),
        vec![(last[0].clone(), "primary".to_string())]
    );
    for (name, value) in [
        ("A", "ghp_noexpiry_keys_a"),
        ("B", "ghp_noexpiry_keys_b"),
        ("C", "ghp_noexpiry_keys_c"),
    ] {
        let row = find(&app, name).unwrap();
        assert_eq!(row.key_id, last[0], "{name} is still under an old key");
        assert_eq!(plain(&app, &row), value);
    }
    assert_ne!(a.secret, find(&app, "A").unwrap().secret);
    // And the server, still running, seals under the newest key.
    let d = create(&app, &owner, &csrf, "D", "ghp_noexpiry_keys_d").await;
    assert_eq!(d.key_id, last[0]);
}

#[tokio::test]
async fn a_rotation_killed_before_dropping_the_old_key_is_finished_by_the_next_one() {
    let (_gh, app, owner, csrf) = start().await;
    create(&app, &owner, &csrf, "A", "ghp_noexpiry_keys_a2").await;
    let first = key_ids(&app);
    let cli = state_for(&app);
    let rotation = Rotation::begin(&cli).await.unwrap();
    let resealed = rotation.reseal().await.unwrap();
    assert_eq!(resealed.tokens, 1);
    drop(rotation);
    // The old key is still in the file (and retiring), though nothing uses it.
    assert!(key_ids(&app).contains(&first[0]));
    assert!(recorded(&app).contains(&(first[0].clone(), "retiring".to_string())));

    let r = run(&app, &["keys", "rotate"], "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&first[0]),
        "the old key is not reported dropped: {}",
        r.stdout
    );
    let last = key_ids(&app);
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(
        plain(&app, &find(&app, "A").unwrap()),
        "ghp_noexpiry_keys_a2"
    );
}

#[tokio::test]
async fn the_webhook_url_is_sealed_shown_as_a_hint_and_re_sealed_by_keys_rotate() {
    let hook = Receiver::start(&[]);
    let app = spawn_app_with(Options {
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    // `…/hooks/T000/B000/s3cr3tpath`
    save_webhook(&owner, &hook.url).await.assert_status(303);
    let org = org_id(&app, "acme");
    let row = NotificationSettings::find(&mut db(&app), &org)
        .unwrap()
        .unwrap();
    assert!(row.legacy_webhook_url.is_none());
    let sealed = row.webhook_secret.clone().expect("sealed");
    assert!(!String::from_utf8_lossy(&sealed).contains("s3cr3tpath"));
    let page = owner.get("/orgs/acme/settings/notifications").await;
    page.assert_contains("http://127.0.0.1:")
        .assert_contains("/…")
        .assert_lacks("s3cr3tpath");

    let r = run(&app, &["keys", "rotate"], "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 webhook URL(s)"), "{}", r.stdout);
    let after = NotificationSettings::find(&mut db(&app), &org)
        .unwrap()
        .unwrap();
    assert_eq!(
        after.webhook_key_id.as_deref(),
        Some(key_ids(&app)[0].as_str())
    );
    assert_ne!(after.webhook_key_id, row.webhook_key_id);
    // The running server opens it with the new key: the test message arrives.
    let csrf = page.csrf();
    owner
        .post(
            "/orgs/acme/settings/notifications",
            &[("csrf_token", csrf.as_str()), ("action", "test")],
        )
        .await;
    assert_eq!(hook.bodies().len(), 1, "the test message did not arrive");
}

#[tokio::test]
async fn one_rotation_at_a_time() {
    let (_gh, app, owner, csrf) = start().await;
    create(&app, &owner, &csrf, "A", "ghp_noexpiry_keys_one").await;
    let cli = state_for(&app);
    let running = Rotation::begin(&cli).await.unwrap();
    let r = run(&app, &["keys", "rotate"], "").await;
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("another rotation holds"), "{}", r.stderr);
    let resealed = running.reseal().await.unwrap();
    running.finish(resealed).await.unwrap();
    assert_eq!(key_ids(&app).len(), 1);
    assert_eq!(
        plain(&app, &find(&app, "A").unwrap()),
        "ghp_noexpiry_keys_one"
    );
}

//! `forgekeys backup DIR` beside a running server, and a server started on the copy; the modes
//! of the database files and of the key file.

use crate::helpers::*;
use crate::lifecycle::{Seed, org_id, state_for};
use crate::tokens_check::{BASE, database_url};
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::token::{GitToken, TokenFilter};
use forgekeys::domain::role::Role;
use secrecy::ExposeSecret;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn run(app: &TestApp, args: &[&str]) -> std::process::Output {
    forgekeys_command()
        .current_dir(app.dir.path())
        .env("DATABASE_URL", database_url(app))
        .env("FORGEKEYS_KEY_FILE", &app.key_file)
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("run forgekeys")
}

const SECRETS: [&str; 3] = [
    "bb_valid_backup_1",
    "bb_valid_backup_2",
    "bb_valid_backup_3",
];

/// The secrets of every token of `acme`, decrypted with the app's key file.
fn decrypted(app: &TestApp) -> Vec<String> {
    let state = state_for(app);
    let mut conn = db(app);
    let org = Organization::find_by_slug(&mut conn, "acme")
        .unwrap()
        .unwrap();
    let mut secrets: Vec<String> = GitToken::all(&mut conn, &org.id, &TokenFilter::default())
        .unwrap()
        .iter()
        .map(|t| {
            state
                .open(&t.id, &t.key_id, &t.secret)
                .unwrap()
                .expose_secret()
                .to_string()
        })
        .collect();
    secrets.sort();
    secrets
}

#[tokio::test]
async fn backup_while_serving_then_a_server_on_the_copy_reads_every_token() {
    let app = spawn_app();
    let owner = app.member("acme", "ops@acme.test", Role::Owner).await;
    let state = state_for(&app);
    let org = org_id(&app, "acme");
    for (i, s) in SECRETS.iter().enumerate() {
        Seed::bitbucket(&format!("t{i}"), s).insert(&state, &org);
    }
    let dir = app.dir.path().join("backups/today");
    let dir_arg = dir.to_string_lossy().into_owned();
    // The server keeps serving (and writing) while the copy is taken.
    let out = run(&app, &["backup", &dir_arg]);
    owner.get(BASE).await.assert_status(200);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let key = dir.join("forgekeys.key");
    assert_eq!(mode(&key), 0o600);
    // Never overwrites: a second run into the same directory is refused.
    let again = run(&app, &["backup", &dir_arg]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    if backend() == "postgres" {
        assert!(stdout.contains("pg_dump"), "{stdout}");
        assert!(!dir.join("forgekeys.db").exists());
        let ids = |p: &Path| -> Vec<String> {
            forgekeys::crypto::keyfile::load(p)
                .unwrap()
                .into_iter()
                .map(|k| k.id)
                .collect()
        };
        assert_eq!(ids(&key), ids(&app.key_file));
        return;
    }
    let copy = dir.join("forgekeys.db");
    assert_eq!(mode(&copy), 0o600);
    assert!(stdout.contains("backed up"), "{stdout}");
    // Restore: a server started on the copy and its key file.
    let restored = TestApp::builder()
        .with(|o| {
            o.existing = Some((format!("sqlite://{}", copy.display()), key.clone()));
        })
        .start();
    assert_eq!(decrypted(&restored), SECRETS);
    let c = Client::new(&restored);
    c.login("ops@acme.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    let list = c.get(BASE).await;
    list.assert_status(200);
    for i in 0..SECRETS.len() {
        list.assert_contains(&format!("t{i}"));
    }
}

#[tokio::test]
async fn database_files_are_0600_and_a_key_file_open_to_others_is_refused() {
    let app = spawn_app();
    app.member("acme", "ops@acme.test", Role::Owner).await;
    if backend() == "sqlite" {
        let database = app.dir.path().join("forgekeys.db");
        assert_eq!(mode(&database), 0o600, "database");
        for suffix in ["-wal", "-shm"] {
            let f = app.dir.path().join(format!("forgekeys.db{suffix}"));
            assert_eq!(mode(&f), 0o600, "{suffix}");
        }
        // A database left 0644 by an older version is tightened at start.
        let old = tempfile::tempdir().unwrap();
        let path = old.path().join("old.db");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let key = old.path().join("forgekeys.key");
        let _upgraded = TestApp::builder()
            .with(|o| o.existing = Some((format!("sqlite://{}", path.display()), key)))
            .start();
        assert_eq!(mode(&path), 0o600);
    }
    std::fs::set_permissions(&app.key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(&app, &["migrate"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("chmod 600 {}", app.key_file.display())),
        "{stderr}"
    );
    std::fs::set_permissions(&app.key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(run(&app, &["migrate"]).status.success());
}

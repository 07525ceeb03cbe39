//! The operator subcommands through the built binary: `keys rotate`, `org add`, `user add`,
//! `migrate` and `serve`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fakes::FakeServer;
use crate::helpers::*;
use crate::tokens_check::{BASE, Run, create, database_url, find, start};
use diesel::prelude::*;
use forgekeys::crypto::keyfile;
use forgekeys::db::schema::{audit_events, git_tokens};
use std::io::{BufRead, Write};
use std::process::Stdio;

/// `forgekeys ARGS` with the app's database and key file, `stdin` written to its standard input.
pub(crate) async fn run(app: &TestApp, args: &[&str], stdin: &str) -> Run {
    run_with_env(app, args, stdin, &[]).await
}

/// [`run`] with extra environment variables.
pub(crate) async fn run_with_env(
    app: &TestApp,
    args: &[&str],
    stdin: &str,
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = forgekeys_command();
    cmd.current_dir(app.dir.path())
        .env("DATABASE_URL", database_url(app))
        .env("FORGEKEYS_KEY_FILE", &app.key_file)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let input = stdin.to_string();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("run forgekeys");
        let mut pipe = child.stdin.take().unwrap();
        // The command may exit before reading (e.g. an unknown --org): ignore a broken pipe.
        let _ = pipe.write_all(input.as_bytes());
        drop(pipe);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn key_ids(app: &TestApp) -> Vec<String> {
    keyfile::load(&app.key_file)
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect()
}

/// How many requests the fake received carrying `token`.
fn seen(gh: &FakeServer, token: &str) -> usize {
    gh.requests()
        .iter()
        .filter(|r| r.headers.iter().any(|(_, v)| v.contains(token)))
        .count()
}

/// Re-tests a stored token through the web app (no-JS form) and checks the fake got its
/// original value again, i.e. the app decrypted it.
async fn retest_decrypts(gh: &FakeServer, owner: &Client, csrf: &str, id: &str, token: &str) {
    let before = seen(gh, token);
    owner
        .post(
            &format!("{BASE}/{id}/test"),
            &[("csrf_token", csrf), ("return_to", "list")],
        )
        .await
        .assert_redirect_to(BASE);
    assert!(gh.saw_token(token));
    assert!(
        seen(gh, token) > before,
        "the re-test did not send {token} to the provider"
    );
}

fn rotate_audits(app: &TestApp) -> Vec<String> {
    let mut conn = db(app);
    audit_events::table
        .filter(audit_events::action.eq("keys.rotate"))
        .select(audit_events::details)
        .load::<String>(&mut *conn)
        .unwrap()
}

#[tokio::test]
async fn keys_rotate_reencrypts_every_token_under_one_new_key() {
    let (gh, app, owner, csrf) = start().await;
    let one = create(&app, &owner, &csrf, "One", "ghp_noexpiry_rot_one").await;
    let two = create(&app, &owner, &csrf, "Two", "ghp_noexpiry_rot_two").await;
    let before = key_ids(&app);
    assert_eq!(before.len(), 1);
    assert_eq!(one.key_id, before[0]);

    let r = run(&app, &["keys", "rotate"], "").await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("re-encrypted 2 token(s)"), "{}", r.stdout);

    let after = key_ids(&app);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after[0], before[0]);
    for name in ["One", "Two"] {
        assert_eq!(find(&app, name).unwrap().key_id, after[0], "{name}");
    }
    // Both still decrypt (the running app re-reads the key file for the unknown key id).
    retest_decrypts(&gh, &owner, &csrf, &one.id, "ghp_noexpiry_rot_one").await;
    retest_decrypts(&gh, &owner, &csrf, &two.id, "ghp_noexpiry_rot_two").await;
    for name in ["One", "Two"] {
        assert_eq!(find(&app, name).unwrap().status, "valid", "{name}");
    }
    let audits = rotate_audits(&app);
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert!(audits[0].contains(&after[0]), "{audits:?}");
}

#[tokio::test]
async fn keys_rotate_skips_a_row_it_cannot_decrypt_and_keeps_its_key() {
    let (gh, app, owner, csrf) = start().await;
    let good = create(&app, &owner, &csrf, "Good", "ghp_noexpiry_rot_good").await;
    let bad = create(&app, &owner, &csrf, "Damaged", "ghp_noexpiry_rot_bad").await;
    let old = key_ids(&app)[0].clone();
    // Damage the ciphertext of one row.
    let mut blob = bad.secret.clone();
    let last = blob.len() - 1;
    blob[last] ^= 0xff;
    {
        let mut conn = db(&app);
        diesel::update(git_tokens::table.filter(git_tokens::id.eq(&bad.id)))
            .set(git_tokens::secret.eq(&blob))
            .execute(&mut *conn)
            .unwrap();
    }

    let r = run(&app, &["keys", "rotate"], "").await;
    // Documented: the other rows are moved and the command exits 0, naming the skipped row.
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(&bad.id), "{}", r.stderr);
    assert!(r.stderr.contains("left as is"), "{}", r.stderr);
    assert!(r.stdout.contains("re-encrypted 1 token(s)"), "{}", r.stdout);

    let keys = key_ids(&app);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&old), "the damaged row's key was dropped");
    let new = keys.iter().find(|k| **k != old).unwrap();
    assert_eq!(&find(&app, "Good").unwrap().key_id, new);
    let damaged = find(&app, "Damaged").unwrap();
    assert_eq!(damaged.key_id, old);
    assert_eq!(damaged.secret, blob, "the damaged row was rewritten");
    retest_decrypts(&gh, &owner, &csrf, &good.id, "ghp_noexpiry_rot_good").await;
    let audits = rotate_audits(&app);
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert!(audits[0].contains("\"skipped\":1"), "{audits:?}");
}

#[tokio::test]
async fn org_add_and_user_add_create_a_member_who_can_sign_in() {
    let app = spawn_app();
    let r = run(
        &app,
        &["org", "add", "--slug", "beta", "--name", "Beta Inc"],
        "",
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    let r = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "ops@beta.test",
            "--org",
            "beta",
            "--role",
            "admin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains(PASSWORD) && !r.stderr.contains(PASSWORD));

    let c = Client::new(&app);
    c.login("ops@beta.test", PASSWORD)
        .await
        .assert_redirect_to("/orgs");
    c.get("/orgs/beta/settings/git-tokens")
        .await
        .assert_status(200)
        .assert_contains("/orgs/beta/settings/git-tokens/new");

    // Too short a password: refused with the policy message, no user.
    let r = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "short@beta.test",
            "--org",
            "beta",
            "--role",
            "admin",
        ],
        "short\n",
    )
    .await;
    assert_ne!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "Use at least {} characters",
            forgekeys::crypto::password::MIN_PASSWORD_LEN
        )),
        "{}",
        r.stderr
    );
    Client::new(&app)
        .login("short@beta.test", "short")
        .await
        .assert_status(401);

    // Unknown organization.
    let r = run(
        &app,
        &[
            "user",
            "add",
            "--email",
            "x@beta.test",
            "--org",
            "nope",
            "--role",
            "viewer",
        ],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert_ne!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("--org"), "{}", r.stderr);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
}

#[tokio::test]
async fn migrate_on_a_fresh_sqlite_path_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("fresh.db");
    let key = dir.path().join("fresh.key");
    let mut cmd = forgekeys_command();
    cmd.current_dir(dir.path())
        .env("DATABASE_URL", format!("sqlite://{}", db_path.display()))
        .env("FORGEKEYS_KEY_FILE", &key)
        .env("RUST_LOG", "warn")
        .arg("migrate");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("database is up to date"));
    assert!(db_path.exists());
}

#[tokio::test]
async fn serve_on_port_0_prints_a_usable_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = forgekeys_command()
        .current_dir(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("serve.db").display()),
        )
        .env("FORGEKEYS_KEY_FILE", dir.path().join("serve.key"))
        .env("FORGEKEYS_BIND", "127.0.0.1:0")
        .env("FORGEKEYS_RECHECK_INTERVAL", "0")
        .env("RUST_LOG", "warn")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("/setup?token=") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    let line =
        tokio::task::spawn_blocking(move || rx.recv_timeout(std::time::Duration::from_secs(10)))
            .await
            .unwrap();
    let result = async {
        let line = line.map_err(|_| "no setup link printed within 10 s".to_string())?;
        let url = line.trim().to_string();
        if url.contains(":0/") {
            return Err(format!("port 0 in the link: {url}"));
        }
        let resp = reqwest::get(&url).await.map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(format!("{url}: {}", resp.status()));
        }
        Ok(url)
    }
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let url = result.unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
}

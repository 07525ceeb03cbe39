//! Issue 11 item 4, `forgekeys keys rotate` beside a running server: the real binary rotates
//! while the in-process server keeps saving tokens; afterwards, and with nothing but the key
//! file (a restart), every secret decrypts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::cli::run;
use crate::edits::plain;
use crate::helpers::*;
use crate::tokens_check::{create, find, start};
use forgekeys::crypto::keyfile;

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
    assert_eq!(plain(&app, &find(&app, "Before").unwrap()), "ghp_noexpiry_keys_before");
    assert_eq!(plain(&app, &after), "ghp_noexpiry_keys_after");
    assert_ne!(before.key_id, find(&app, "Before").unwrap().key_id);
}

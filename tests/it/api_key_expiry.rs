//! Expiring API keys are announced like tokens: one webhook message per threshold of
//! `FORGEKEYS_EXPIRY_WARN_DAYS` as the server's (movable) clock reaches it; never for a revoked
//! key, never the key's value.

use crate::api_support::*;
use crate::helpers::*;
use crate::lifecycle::{Receiver, save_webhook, state_for};
use chrono::Duration;
use forgekeys::app::checks::scheduler;

#[tokio::test]
async fn an_expiring_key_gets_one_warning_per_threshold_and_a_revoked_one_none() {
    let hook = Receiver::start(&[]);
    let app = spawn_app_with(Options {
        outbound_allow: Some("127.0.0.0/8".into()),
        ..Options::default()
    });
    let owner = setup_owner(&app, "acme").await;
    save_webhook(&owner, &hook.url).await.assert_status(303);
    let key = make_key(&owner, "terraform", "devops", "40").await;
    make_key(&owner, "revoked-soon", "viewer", "40").await;
    let id = key_id(&owner, "revoked-soon").await;
    let csrf = owner.session_csrf().await;
    owner
        .post(&format!("{KEYS}/{id}/revoke"), &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to(KEYS);
    let state = state_for(&app);
    let warnings = |name: &str| {
        hook.bodies()
            .into_iter()
            .filter(|b| b.contains(&format!("API key “{name}”")))
            .collect::<Vec<_>>()
    };
    scheduler::run_once(&state).await.unwrap();
    assert!(warnings("terraform").is_empty(), "{:?}", hook.bodies());
    for (advance, left, sent) in [(11, 29, 1), (0, 29, 1), (16, 13, 2), (6, 7, 3)] {
        app.clock.advance(Duration::days(advance));
        scheduler::run_once(&state).await.unwrap();
        let msgs = warnings("terraform");
        assert_eq!(msgs.len(), sent, "after {advance} more days: {msgs:?}");
        let last = msgs.last().unwrap();
        // Whole days left, counted down from 40 days less the moments the test took.
        assert!(
            last.contains(&format!("expires in {left} days"))
                || last.contains(&format!("expires in {} days", left - 1)),
            "{last}"
        );
        assert!(
            last.contains(&key[..10]) && !last.contains(&key[10..]),
            "{last}"
        );
        assert!(last.contains("/orgs/acme/settings/api-keys"), "{last}");
    }
    assert!(warnings("revoked-soon").is_empty());
}

//! Re-testing stored tokens: the one re-test used by the Test button, the scheduler and
//! `forgekeys tokens check`, and recording its result (token row, status history, audit).
//!
//! [`scheduler`] runs it periodically in the server (and hands the results to
//! `app::notifications`); [`all`] is `tokens check`; [`stored`] reads every stored token a
//! chunk at a time for both.

pub mod all;
pub mod scheduler;
pub mod stored;

use super::audit::{Record, Who};
use super::{Conflict, Error};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::service::Service;
use crate::db::models::status_history::{StatusHistory, TestSource};
use crate::db::models::token::GitToken;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{OrgId, TokenId};
use crate::domain::status::TestStatus;
use crate::domain::test_result::TestOutcome;
use crate::providers::TokenTarget;

/// Where a stored token is sent: the destination it was tested with, never another.
pub fn target_of(t: &GitToken) -> Result<TokenTarget, Error> {
    let token = crate::domain::token::Token::try_from(t)?;
    Ok(super::tokens::test::target(&token.destination))
}

/// What [`record`] stored.
#[derive(Debug, Clone)]
pub struct RecordedTest {
    pub token: GitToken,
    /// The status before this test.
    pub previous_status: String,
    /// The `token_status_history` row written.
    pub history_id: String,
}

/// Test a stored token against its stored destination without recording anything, including
/// the repository coverage of its services. A token that cannot be decrypted is `error`.
pub async fn test_stored(state: &AppState, token: &GitToken) -> TestOutcome {
    let target = match target_of(token) {
        Ok(t) => t,
        Err(e) => {
            let mut o =
                TestOutcome::failed(TestStatus::Error, format!("stored token unreadable: {e}"));
            o.tested_at = state.clock.now();
            return o;
        }
    };
    let secret = match state.open(&token.id, &token.key_id, &token.secret) {
        Ok(s) => s,
        Err(e) => {
            let mut o = TestOutcome::failed(
                TestStatus::Error,
                format!("{e}. Edit the token and paste its value again."),
            );
            o.tested_at = state.clock.now();
            return o;
        }
    };
    let known_expiry = token.expires_at.map(|e| e.and_utc());
    let mut outcome = state
        .providers
        .test_token(&target, &secret, known_expiry)
        .await;
    // Repository coverage (issue 4): the token must read every repository its services use;
    // each one it cannot is named in `missing`.
    let tid = token.id.clone();
    match state
        .db(move |conn| Ok(Service::repositories_of(conn, &tid)?))
        .await
    {
        Ok(uses) => {
            crate::providers::repos::check_coverage(
                &state.providers,
                &target,
                &secret,
                &uses,
                &mut outcome,
            )
            .await
        }
        Err(_) => outcome
            .warnings
            .push("Could not load the services of this token to check their repositories.".into()),
    }
    outcome
}

/// Test a stored token and record the result.
pub async fn retest_stored(
    state: &AppState,
    token: &GitToken,
    who: Who,
    source: TestSource,
) -> Result<(RecordedTest, TestOutcome), Error> {
    let outcome = test_stored(state, token).await;
    let (t, o) = (token.clone(), outcome.clone());
    let recorded = state
        .tx(move |conn| record(conn, &t, &o, who, source))
        .await?;
    Ok((recorded, outcome))
}

/// Store a test result: status on the token row, a status-history row and an audit entry (in
/// the caller's transaction). The row is re-read first: a result is only applied if the token
/// still has the secret and destination it was tested with (a rotation or edit during a slow
/// test must not be overwritten with a stale copy); otherwise a conflict.
pub fn record(
    conn: &mut DbConn,
    token: &GitToken,
    outcome: &TestOutcome,
    who: Who,
    source: TestSource,
) -> Result<RecordedTest, Error> {
    // Write first: on SQLite (WAL) a transaction that reads and then writes fails at once with
    // SQLITE_BUSY when another connection committed in between; starting with a write takes
    // the write lock (waiting up to busy_timeout). On PostgreSQL it locks the row.
    GitToken::lock(conn, &token.id)?;
    let Some(mut t) = GitToken::find(conn, &token.id)? else {
        return Err(Error::Conflict(Conflict::TokenGone));
    };
    if t.secret != token.secret
        || t.provider != token.provider
        || t.hosting != token.hosting
        || t.url != token.url
        || t.workspace != token.workspace
        || t.username != token.username
    {
        return Err(Error::Conflict(Conflict::TokenChanged));
    }
    let previous_status = t.status.clone();
    let at = outcome.tested_at.naive_utc();
    t.apply_outcome(outcome);
    t.updated_at = at;
    // Only the result's columns, on the row as just read (never the secret).
    if !GitToken::write_result(conn, &t, t.version)? {
        return Err(Error::Conflict(Conflict::TokenChanged));
    }
    let reason = match outcome.status {
        TestStatus::MissingPermissions => Some(format!(
            "missing {}",
            outcome
                .missing
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => outcome.reason.clone(),
    };
    let history = StatusHistory::record(
        conn,
        &t.id,
        &t.org_id,
        outcome.status.as_str(),
        at,
        reason.as_deref(),
        source,
    )?;
    Record {
        client_ip: None,
        action: AuditAction::TokenTest,
        who,
        org: Some(OrgId::new(t.org_id.clone())),
        token: Some((TokenId::new(t.id.clone()), t.name.clone())),
        details: AuditDetails {
            status: Some(outcome.status.as_str().into()),
            missing: outcome.missing.iter().map(|m| m.name.clone()).collect(),
            source: Some(source.as_str().into()),
            ..AuditDetails::default()
        },
    }
    .write(conn, at)?;
    Ok(RecordedTest {
        token: t,
        previous_status,
        history_id: history.id,
    })
}

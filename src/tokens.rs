//! Token operations that combine storage, encryption and audit. Each runs inside one database
//! transaction on a blocking thread; handlers call them through `web::block`.

use crate::db::models::audit::Audit;
use crate::db::models::service::Service;
use crate::db::models::status_history::{StatusHistory, TestSource};
use crate::db::models::token::{GitToken, name_key};
use crate::db::models::user::User;
use crate::db::{DbConn, StoreError, new_id};
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::domain::token_form::{TokenInput, token_hint};
use crate::state::AppState;
use chrono::NaiveTime;
use diesel::Connection;
use secrecy::{ExposeSecret, SecretString};

/// Why a token operation did not happen, in words for the page.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("A token named {0:?} already exists in this organization. Choose another name.")]
    DuplicateName(String),
    #[error("This token is used by {0} service(s). Move them to another token first.")]
    InUse(usize),
    #[error("{0}")]
    Crypto(#[from] crate::crypto::secret_box::CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for TokenError {
    fn from(e: diesel::result::Error) -> TokenError {
        TokenError::Store(StoreError::Query(e))
    }
}

fn is_unique_violation(e: &TokenError) -> bool {
    matches!(
        e,
        TokenError::Store(StoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        )))
    )
}

fn audit_for(action: &'static str, t: &GitToken, actor: &User) -> Audit {
    let mut a = Audit::new(action);
    a.org_id = Some(t.org_id.clone());
    a.actor_user_id = Some(actor.id.clone());
    a.actor_email = Some(actor.email.clone());
    a.token_id = Some(t.id.clone());
    a.token_name = Some(t.name.clone());
    a
}

fn admin_expiry(input: &TokenInput) -> Option<chrono::NaiveDateTime> {
    input.expires_on.map(|d| d.and_time(NaiveTime::MIN))
}

/// Save a new token (already tested, or untested when `outcome` is `None`).
pub fn create(
    state: &AppState,
    conn: &mut DbConn,
    org_id: &str,
    input: &TokenInput,
    secret: &SecretString,
    outcome: Option<&TestOutcome>,
    actor: &User,
) -> Result<GitToken, TokenError> {
    let result = conn.transaction(|conn| {
        if GitToken::name_taken(conn, org_id, &input.name, None)? {
            return Err(TokenError::DuplicateName(input.name.clone()));
        }
        let id = new_id();
        let (blob, key_id) = state.seal(&id, secret)?;
        let n = state.clock.naive();
        let mut t = GitToken {
            id,
            org_id: org_id.to_string(),
            name: input.name.clone(),
            name_key: name_key(&input.name),
            provider: input.provider.as_str().to_string(),
            hosting: input.hosting.as_str().to_string(),
            url: input.url.clone(),
            workspace: input.workspace.clone(),
            description: input.description.clone(),
            secret: blob,
            key_id,
            hint: token_hint(secret.expose_secret()),
            status: TestStatus::NotTested.as_str().to_string(),
            last_tested_at: None,
            account: None,
            expires_at: admin_expiry(input),
            expiry_source: input.expires_on.map(|_| "admin".to_string()),
            last_test: None,
            created_by: Some(actor.email.clone()),
            created_at: n,
            updated_by: Some(actor.email.clone()),
            updated_at: n,
            rotated_at: None,
            username: input.username.clone(),
        };
        if let Some(o) = outcome {
            t.apply_outcome(o);
        }
        GitToken::insert(conn, &t)?;
        let mut a = audit_for("token.create", &t, actor);
        a.details = serde_json::json!({
            "fields": changed_fields_new(input),
            "status": t.status,
        });
        a.write(conn)?;
        Ok(t)
    });
    match result {
        Err(e) if is_unique_violation(&e) => Err(TokenError::DuplicateName(input.name.clone())),
        other => other,
    }
}

fn changed_fields_new(input: &TokenInput) -> Vec<&'static str> {
    let mut f = vec!["name", "provider", "hosting", "token"];
    if input.url.is_some() {
        f.push("url");
    }
    if input.workspace.is_some() {
        f.push("workspace");
    }
    if input.username.is_some() {
        f.push("username");
    }
    if input.description.is_some() {
        f.push("description");
    }
    if input.expires_on.is_some() {
        f.push("expires_on");
    }
    f
}

/// The current non-secret fields of a stored token, as a form input.
pub fn input_of(t: &GitToken) -> TokenInput {
    TokenInput {
        provider: t.provider(),
        hosting: t.hosting(),
        name: t.name.clone(),
        url: t.url.clone(),
        workspace: t.workspace.clone(),
        username: t.username.clone(),
        description: t.description.clone(),
        expires_on: match t.expiry_source.as_deref() {
            Some("admin") => t.expires_at.map(|d| d.date()),
            _ => None,
        },
    }
}

/// Apply an edit. `new_secret` carries a new token value with its (passing) test result.
/// Returns the names of the fields that changed.
pub fn update(
    state: &AppState,
    conn: &mut DbConn,
    existing: &GitToken,
    input: &TokenInput,
    new_secret: Option<(&SecretString, &TestOutcome)>,
    actor: &User,
) -> Result<Vec<&'static str>, TokenError> {
    let before = input_of(existing);
    let mut changed = Vec::new();
    if before.name != input.name {
        changed.push("name");
    }
    if before.provider != input.provider {
        changed.push("provider");
    }
    if before.hosting != input.hosting {
        changed.push("hosting");
    }
    if before.url != input.url {
        changed.push("url");
    }
    if before.workspace != input.workspace {
        changed.push("workspace");
    }
    if before.username != input.username {
        changed.push("username");
    }
    if before.description != input.description {
        changed.push("description");
    }
    if before.expires_on != input.expires_on {
        changed.push("expires_on");
    }
    if new_secret.is_some() {
        changed.push("token");
    }
    let result = conn.transaction(|conn| {
        if GitToken::name_taken(conn, &existing.org_id, &input.name, Some(&existing.id))? {
            return Err(TokenError::DuplicateName(input.name.clone()));
        }
        let mut t = existing.clone();
        t.name = input.name.clone();
        t.name_key = name_key(&input.name);
        t.provider = input.provider.as_str().to_string();
        t.hosting = input.hosting.as_str().to_string();
        t.url = input.url.clone();
        t.workspace = input.workspace.clone();
        t.username = input.username.clone();
        t.description = input.description.clone();
        if before.expires_on != input.expires_on || t.expiry_source.as_deref() != Some("provider") {
            if let Some(exp) = admin_expiry(input) {
                t.expires_at = Some(exp);
                t.expiry_source = Some("admin".into());
            } else if t.expiry_source.as_deref() == Some("admin") {
                t.expires_at = None;
                t.expiry_source = None;
            }
        }
        if let Some((secret, outcome)) = new_secret {
            let (blob, key_id) = state.seal(&t.id, secret)?;
            t.secret = blob;
            t.key_id = key_id;
            t.hint = token_hint(secret.expose_secret());
            t.account = None;
            t.expires_at = admin_expiry(input);
            t.expiry_source = input.expires_on.map(|_| "admin".to_string());
            t.apply_outcome(outcome);
        }
        t.updated_at = state.clock.naive();
        t.updated_by = Some(actor.email.clone());
        GitToken::save(conn, &t)?;
        if !changed.is_empty() {
            let mut a = audit_for("token.update", &t, actor);
            // Field names only, never values (DESIGN.md §6); earlier rows keep the old name.
            a.details = serde_json::json!({ "fields": changed, "status": t.status });
            a.write(conn)?;
        }
        Ok(())
    });
    match result {
        Err(e) if is_unique_violation(&e) => Err(TokenError::DuplicateName(input.name.clone())),
        Err(e) => Err(e),
        Ok(()) => Ok(changed),
    }
}

/// How a rotation got its new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationMethod {
    /// An admin pasted a new token created at the provider.
    Manual,
    /// GitLab issued it through its self-rotate API (the old one is already revoked there).
    Provider,
}

impl RotationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            RotationMethod::Manual => "manual",
            RotationMethod::Provider => "provider",
        }
    }
}

/// Swap in a rotated token value in one transaction: ciphertext, hint, test result, expiry and
/// `rotated_at` change together, so readers see either the old token or the new one.
///
/// For a manual rotation the stored value must still be the one the checks ran against (an
/// edit or rotation in between is refused as a conflict); a provider rotation is stored
/// regardless, since the provider has already revoked the old value. `expires_on` is an
/// admin-entered expiry, used when the provider reports none.
#[allow(clippy::too_many_arguments)]
pub fn rotate(
    state: &AppState,
    conn: &mut DbConn,
    existing: &GitToken,
    secret: &SecretString,
    outcome: &TestOutcome,
    method: RotationMethod,
    account_changed: bool,
    expires_on: Option<chrono::NaiveDate>,
    actor: &User,
) -> Result<GitToken, TokenError> {
    conn.transaction(|conn| {
        let Some(mut t) = GitToken::find(conn, &existing.id)? else {
            return Err(TokenError::Store(StoreError::Conflict(
                "This token was deleted meanwhile; nothing was rotated.".into(),
            )));
        };
        if method == RotationMethod::Manual
            && (t.secret != existing.secret || t.key_id != existing.key_id)
        {
            return Err(TokenError::Store(StoreError::Conflict(
                "This token was changed by someone else while you rotated it. Nothing was \
                 changed: open the rotation again and retry."
                    .into(),
            )));
        }
        let (blob, key_id) = state.seal(&t.id, secret)?;
        t.secret = blob;
        t.key_id = key_id;
        t.hint = token_hint(secret.expose_secret());
        t.account = None;
        t.expires_at = expires_on.map(|d| d.and_time(NaiveTime::MIN));
        t.expiry_source = expires_on.map(|_| "admin".to_string());
        t.apply_outcome(outcome);
        let n = state.clock.naive();
        t.rotated_at = Some(n);
        t.updated_at = n;
        t.updated_by = Some(actor.email.clone());
        GitToken::save(conn, &t)?;
        let mut a = audit_for("token.rotate", &t, actor);
        let mut fields = vec!["token"];
        if expires_on.is_some() {
            fields.push("expires_on");
        }
        a.details = serde_json::json!({
            "fields": fields,
            "status": t.status,
            "method": method.as_str(),
            "account_changed": account_changed,
        });
        a.write(conn)?;
        Ok(t)
    })
}

/// Store a re-test result of a stored token (a manual test when `actor` is set, else the CLI).
pub fn record_test(
    conn: &mut DbConn,
    token: &GitToken,
    outcome: &TestOutcome,
    actor: Option<&User>,
) -> Result<GitToken, TokenError> {
    let source = if actor.is_some() {
        TestSource::Manual
    } else {
        TestSource::Cli
    };
    Ok(record_test_from(conn, token, outcome, actor, source)?.token)
}

/// What [`record_test_from`] stored.
#[derive(Debug, Clone)]
pub struct RecordedTest {
    pub token: GitToken,
    /// The status before this test.
    pub previous_status: String,
    /// The `token_status_history` row written.
    pub history_id: String,
}

/// Store a test result: status on the token row, a status-history row and an audit entry, in
/// one transaction. The row is re-read first: a result is only applied if the token still has
/// the secret and destination it was tested with (a rotation or edit during a slow test must
/// not be overwritten with a stale copy); otherwise `Conflict`.
pub fn record_test_from(
    conn: &mut DbConn,
    token: &GitToken,
    outcome: &TestOutcome,
    actor: Option<&User>,
    source: TestSource,
) -> Result<RecordedTest, TokenError> {
    conn.transaction(|conn| {
        // Write first: on SQLite (WAL) a transaction that reads and then writes fails at once
        // with SQLITE_BUSY when another connection committed in between; starting with a write
        // takes the write lock (waiting up to busy_timeout). On PostgreSQL it locks the row.
        {
            use crate::db::schema::git_tokens::dsl as g;
            use diesel::prelude::*;
            diesel::update(g::git_tokens.find(&token.id))
                .set(g::updated_at.eq(g::updated_at))
                .execute(conn)?;
        }
        let Some(mut t) = GitToken::find(conn, &token.id)? else {
            return Err(TokenError::Store(StoreError::Conflict(
                "The token was deleted while it was being tested.".into(),
            )));
        };
        if t.secret != token.secret
            || t.provider != token.provider
            || t.hosting != token.hosting
            || t.url != token.url
            || t.workspace != token.workspace
            || t.username != token.username
        {
            return Err(TokenError::Store(StoreError::Conflict(
                "The token was changed while it was being tested; test it again.".into(),
            )));
        }
        let previous_status = t.status.clone();
        t.apply_outcome(outcome);
        GitToken::save(conn, &t)?;
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
            outcome.tested_at.naive_utc(),
            reason.as_deref(),
            source,
        )?;
        let mut a = match actor {
            Some(u) => audit_for("token.test", &t, u),
            None => {
                let mut a = Audit::new("token.test");
                a.org_id = Some(t.org_id.clone());
                a.token_id = Some(t.id.clone());
                a.token_name = Some(t.name.clone());
                a.actor_email = Some(match source {
                    TestSource::Cli => "forgekeys tokens check".into(),
                    _ => "forgekeys (scheduled check)".into(),
                });
                a
            }
        };
        a.details = serde_json::json!({
            "status": outcome.status.as_str(),
            "missing": outcome.missing.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            "source": source.as_str(),
        });
        a.write(conn)?;
        Ok(RecordedTest {
            token: t,
            previous_status,
            history_id: history.id,
        })
    })
}

/// Test a stored token against its stored destination (never another one) and record the
/// result. The one re-test used by the Test button, the scheduler and `tokens check`. A token
/// that cannot be decrypted is recorded as `error` with the reason.
pub async fn retest_stored(
    state: &AppState,
    token: &GitToken,
    actor: Option<&User>,
    source: TestSource,
) -> Result<(RecordedTest, TestOutcome), TokenError> {
    let outcome = test_stored(state, token).await;
    let st = state.clone();
    let t = token.clone();
    let o = outcome.clone();
    let actor = actor.cloned();
    let recorded = tokio::task::spawn_blocking(move || -> Result<RecordedTest, TokenError> {
        let mut conn = st.conn().map_err(TokenError::Store)?;
        record_test_from(&mut conn, &t, &o, actor.as_ref(), source)
    })
    .await
    .map_err(|e| TokenError::Store(StoreError::Corrupt(format!("test task failed: {e}"))))??;
    Ok((recorded, outcome))
}

/// Where a stored token is sent: its provider, server, workspace and username as stored.
pub fn target_of(token: &GitToken) -> crate::providers::TokenTarget {
    crate::providers::TokenTarget {
        provider: token.provider(),
        hosting: token.hosting(),
        url: token.url.clone(),
        workspace: token.workspace.clone(),
        username: token.username.clone(),
    }
}

/// Test a stored token without recording anything.
pub async fn test_stored(state: &AppState, token: &GitToken) -> TestOutcome {
    match state.open(&token.id, &token.key_id, &token.secret) {
        Ok(secret) => {
            let target = target_of(token);
            let known_expiry = token
                .expires_at
                .map(|e| chrono::TimeZone::from_utc_datetime(&chrono::Utc, &e));
            let mut outcome = state
                .providers
                .test_token(&target, &secret, known_expiry)
                .await;
            // Repository coverage (issue 4): the token must read every repository its
            // services use; each one it cannot is named in `missing`.
            let (st, tid) = (state.clone(), token.id.clone());
            let uses = tokio::task::spawn_blocking(move || {
                let mut conn = st.conn()?;
                Service::repositories_of(&mut conn, &tid)
            })
            .await;
            match uses {
                Ok(Ok(uses)) => {
                    crate::providers::repos::check_coverage(
                        &state.providers,
                        &target,
                        &secret,
                        &uses,
                        &mut outcome,
                    )
                    .await
                }
                _ => outcome.warnings.push(
                    "Could not load the services of this token to check their repositories.".into(),
                ),
            }
            outcome
        }
        Err(e) => TestOutcome::failed(
            TestStatus::Error,
            format!("{e}. Edit the token and paste its value again."),
        ),
    }
}

/// Delete a token no service uses.
pub fn delete(conn: &mut DbConn, token: &GitToken, actor: &User) -> Result<(), TokenError> {
    conn.transaction(|conn| {
        let users = Service::using_token(conn, &token.id)?;
        if !users.is_empty() {
            return Err(TokenError::InUse(users.len()));
        }
        GitToken::delete(conn, &token.id)?;
        let mut a = audit_for("token.delete", token, actor);
        a.details = serde_json::json!({"provider": token.provider});
        a.write(conn)?;
        Ok(())
    })
}

//! Adding, editing and deleting tokens (DESIGN.md §4).
//!
//! Create, and an edit with a new token value, test the token first and save only a passing one
//! (`valid`, or `missing_permissions` when the admin confirms "save anyway"). An edit that
//! changes provider, hosting, URL or workspace requires the token value again, so a stored token
//! is never sent to a destination other than the one it was tested with.

use super::super::audit::Record;
use super::super::error::is_unique_violation;
use super::super::{Conflict, Error, require};
use super::row_in_org;
use super::test::target;
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::service::Service;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::expiry::ExpirySource;
use crate::domain::ids::TokenId;
use crate::domain::role::Permission;
use crate::domain::status::TestStatus;
use crate::domain::test_result::TestOutcome;
use crate::domain::token::{Token, TokenInput, name_key, token_hint};
use chrono::{NaiveDateTime, NaiveTime};
use secrecy::{ExposeSecret, SecretString};

pub use super::edit::{Edit, Updated, update};

/// What became of a create.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per request, moved once"
)]
pub enum Created {
    Saved {
        token: Token,
        outcome: TestOutcome,
    },
    /// Another token of the organization has this name (case-insensitive).
    NameTaken,
    /// The test did not pass (or missing permissions without "save anyway"): nothing saved.
    NotSaved(TestOutcome),
}

/// Whether a test outcome lets the token be saved.
pub fn may_save(outcome: &TestOutcome, save_anyway: bool) -> bool {
    outcome.passes() || (outcome.status == TestStatus::MissingPermissions && save_anyway)
}

pub(super) fn admin_expiry(input: &TokenInput) -> Option<NaiveDateTime> {
    input.expires_on.map(|d| d.and_time(NaiveTime::MIN))
}

pub(super) fn name_taken(
    conn: &mut DbConn,
    member: &Member,
    name: &str,
    except: Option<&str>,
) -> Result<bool, Error> {
    Ok(GitToken::name_taken(
        conn,
        member.org.id.as_str(),
        name,
        except,
    )?)
}

/// Add a token: test it, save it only if the test passes.
pub async fn create(
    state: &AppState,
    member: &Member,
    input: TokenInput,
    secret: SecretString,
    save_anyway: bool,
) -> Result<Created, Error> {
    require(member, Permission::ManageTokens)?;
    // Name clash first: no need to call the provider for a form that cannot be saved.
    let (m, name) = (member.clone(), input.name.clone());
    if state.db(move |c| name_taken(c, &m, &name, None)).await? {
        return Ok(Created::NameTaken);
    }
    let outcome = state
        .providers
        .test_token(&target(&input.destination()), &secret, input.known_expiry())
        .await;
    if !may_save(&outcome, save_anyway) {
        return Ok(Created::NotSaved(outcome));
    }
    let (st, m, o) = (state.clone(), member.clone(), outcome.clone());
    let saved = state
        .tx(move |conn| {
            if name_taken(conn, &m, &input.name, None)? {
                return Ok(None);
            }
            insert(&st, conn, &m, &input, &secret, &o).map(Some)
        })
        .await;
    match saved {
        Ok(Some(token)) => {
            tracing::info!(org = %member.org.slug, token = %token.id, status = %token.status, "token created");
            Ok(Created::Saved { token, outcome })
        }
        Ok(None) => Ok(Created::NameTaken),
        Err(e) if is_unique_violation(&e) => Ok(Created::NameTaken),
        Err(e) => Err(e),
    }
}

fn insert(
    state: &AppState,
    conn: &mut DbConn,
    member: &Member,
    input: &TokenInput,
    secret: &SecretString,
    outcome: &TestOutcome,
) -> Result<Token, Error> {
    let id = TokenId::random();
    let (blob, key_id) = state.seal_token(conn, id.as_str(), secret)?;
    let n = state.clock.naive();
    let who = Some(member.user.email.clone());
    let mut t = GitToken {
        id: id.as_str().to_string(),
        org_id: member.org.id.as_str().to_string(),
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
        expiry_source: input
            .expires_on
            .map(|_| ExpirySource::Admin.as_str().to_string()),
        last_test: None,
        created_by: who.clone(),
        created_at: n,
        updated_by: who,
        updated_at: n,
        rotated_at: None,
        username: input.username.clone(),
        identity_key: None,
        version: 1,
        previous_hint: None,
        previous_kind: None,
    };
    t.apply_outcome(outcome);
    t.updated_at = n;
    GitToken::insert(conn, &t)?;
    let token = Token::try_from(&t)?;
    let mut fields = vec!["name", "provider", "hosting", "token"];
    for (set, f) in [
        (input.url.is_some(), "url"),
        (input.workspace.is_some(), "workspace"),
        (input.username.is_some(), "username"),
        (input.description.is_some(), "description"),
        (input.expires_on.is_some(), "expires_on"),
    ] {
        if set {
            fields.push(f);
        }
    }
    Record::by(member, AuditAction::TokenCreate)
        .token(&token.id, &token.name)
        .details(AuditDetails {
            status: Some(t.status.clone()),
            ..AuditDetails::fields(fields)
        })
        .write(conn, n)?;
    Ok(token)
}

/// Delete a token no service uses.
pub async fn delete(state: &AppState, member: &Member, id: &TokenId) -> Result<Token, Error> {
    require(member, Permission::ManageTokens)?;
    let (m, id, n) = (member.clone(), id.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let row = row_in_org(conn, &m, &id)?;
            let users = Service::using_token(conn, &row.id)?;
            if !users.is_empty() {
                return Err(Error::Conflict(Conflict::TokenInUse {
                    name: row.name.clone(),
                    services: users.len(),
                }));
            }
            GitToken::delete(conn, &row.id)?;
            let token = Token::try_from(&row)?;
            Record::by(&m, AuditAction::TokenDelete)
                .token(&token.id, &token.name)
                .details(AuditDetails {
                    provider: Some(row.provider.clone()),
                    ..AuditDetails::default()
                })
                .write(conn, n)?;
            Ok(token)
        })
        .await
}

//! Editing a token (DESIGN.md §4; issue 11 item 6, lost updates).
//!
//! An edit is decided on the version of the row the form was loaded at: the write is
//! `UPDATE … WHERE id = ? AND version = ?` and bumps the version, so an edit from a page loaded
//! before another change (an edit, a rotation, a new value) is refused with
//! [`Conflict::EditedMeanwhile`] instead of writing old values back. It writes only the columns
//! an edit changes: never the stored secret, unless the edit brings a new value.

use super::super::audit::Record;
use super::super::error::is_unique_violation;
use super::super::{Conflict, Error, require};
use super::row_in_org;
use super::test::target;
use super::write::{admin_expiry, may_save, name_taken};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::service::Service;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::expiry::ExpirySource;
use crate::domain::ids::TokenId;
use crate::domain::role::Permission;
use crate::domain::test_result::TestOutcome;
use crate::domain::token::{Token, TokenInput, name_key, token_hint};
use secrecy::{ExposeSecret, SecretString};

/// What became of an edit.
#[derive(Debug)]
pub enum Updated {
    Saved {
        token: Token,
        /// Names of the fields that changed (empty: nothing changed).
        changed: Vec<&'static str>,
        /// Services that use the token.
        services: i64,
    },
    NameTaken,
    /// The destination changed without a new token value.
    NeedsToken,
    NotSaved(TestOutcome),
}

/// The names of the fields an edit changes.
fn changed_fields(before: &TokenInput, input: &TokenInput, new_secret: bool) -> Vec<&'static str> {
    let mut changed = Vec::new();
    for (differs, f) in [
        (before.name != input.name, "name"),
        (before.provider != input.provider, "provider"),
        (before.hosting != input.hosting, "hosting"),
        (before.url != input.url, "url"),
        (before.workspace != input.workspace, "workspace"),
        (before.username != input.username, "username"),
        (before.description != input.description, "description"),
        (before.expires_on != input.expires_on, "expires_on"),
        (new_secret, "token"),
    ] {
        if differs {
            changed.push(f);
        }
    }
    changed
}

/// An edit as submitted.
#[derive(Debug)]
pub struct Edit {
    pub input: TokenInput,
    pub new_secret: Option<SecretString>,
    pub save_anyway: bool,
    /// The version of the token the form was loaded at (`None`: a client that does not send
    /// it; the edit then applies to the version read now).
    pub version: Option<i64>,
}

/// Edit a token; a new value is tested first. An edit made on an older version of the token
/// is [`Conflict::EditedMeanwhile`] (nothing written).
pub async fn update(
    state: &AppState,
    member: &Member,
    id: &TokenId,
    edit: Edit,
) -> Result<Updated, Error> {
    require(member, Permission::ManageTokens)?;
    let Edit {
        input,
        new_secret,
        save_anyway,
        version,
    } = edit;
    let (m, tid, name) = (member.clone(), id.clone(), input.name.clone());
    let (existing, services, taken) = state
        .db(move |conn| {
            let row = row_in_org(conn, &m, &tid)?;
            let services = Service::using_token(conn, &row.id)?.len() as i64;
            let taken = name_taken(conn, &m, &name, Some(&row.id))?;
            Ok((row, services, taken))
        })
        .await?;
    let version = version.unwrap_or(existing.version);
    if version != existing.version {
        return Err(Error::Conflict(Conflict::EditedMeanwhile));
    }
    let before = TokenInput::of(&Token::try_from(&existing)?);
    if new_secret.is_none() && input.destination_differs(&before) {
        return Ok(Updated::NeedsToken);
    }
    if taken {
        return Ok(Updated::NameTaken);
    }
    let tested = match &new_secret {
        Some(secret) => {
            let o = state
                .providers
                .test_token(&target(&input.destination()), secret, input.known_expiry())
                .await;
            if !may_save(&o, save_anyway) {
                return Ok(Updated::NotSaved(o));
            }
            Some(o)
        }
        None => None,
    };
    let changed = changed_fields(&before, &input, new_secret.is_some());
    let (st, m, ch) = (state.clone(), member.clone(), changed.clone());
    let saved = state
        .tx(move |conn| {
            let value = match (&new_secret, &tested) {
                (Some(s), Some(o)) => Some((s, o)),
                _ => None,
            };
            let e = Decided {
                before: &before,
                input: &input,
                value,
                changed: &ch,
                version,
            };
            save_edit(&st, conn, &m, &existing, e)
        })
        .await;
    match saved {
        Ok(Some(token)) => Ok(Updated::Saved {
            token,
            changed,
            services,
        }),
        Ok(None) => Ok(Updated::NameTaken),
        Err(e) if is_unique_violation(&e) => Ok(Updated::NameTaken),
        Err(e) => Err(e),
    }
}

/// An edit after its checks and test.
struct Decided<'a> {
    before: &'a TokenInput,
    input: &'a TokenInput,
    value: Option<(&'a SecretString, &'a TestOutcome)>,
    changed: &'a [&'static str],
    version: i64,
}

fn save_edit(
    state: &AppState,
    conn: &mut DbConn,
    member: &Member,
    existing: &GitToken,
    e: Decided<'_>,
) -> Result<Option<Token>, Error> {
    let input = e.input;
    // Checked again inside the transaction: a concurrent edit may have taken the name.
    if name_taken(conn, member, &input.name, Some(&existing.id))? {
        return Ok(None);
    }
    // The edit applies to the row as it is now (a test result recorded meanwhile is kept),
    // only if it is still at the version the form was loaded at.
    GitToken::lock(conn, &existing.id)?;
    let Some(mut t) = GitToken::find(conn, &existing.id)? else {
        return Err(Error::Conflict(Conflict::TokenGone));
    };
    if t.version != e.version {
        return Err(Error::Conflict(Conflict::EditedMeanwhile));
    }
    let admin = Some(ExpirySource::Admin.as_str());
    // The name as it is now (not as the form was loaded: a rename meanwhile is refused above).
    let old_name = std::mem::replace(&mut t.name, input.name.clone());
    t.name_key = name_key(&input.name);
    t.provider = input.provider.as_str().to_string();
    t.hosting = input.hosting.as_str().to_string();
    t.url = input.url.clone();
    t.workspace = input.workspace.clone();
    t.username = input.username.clone();
    t.description = input.description.clone();
    if e.before.expires_on != input.expires_on || t.expiry_source.as_deref() != Some("provider") {
        if let Some(exp) = admin_expiry(input) {
            t.expires_at = Some(exp);
            t.expiry_source = admin.map(str::to_string);
        } else if t.expiry_source.as_deref() == admin {
            t.expires_at = None;
            t.expiry_source = None;
        }
    }
    if let Some((secret, outcome)) = e.value {
        let (blob, key_id) = state.seal_token(conn, &t.id, secret)?;
        t.secret = blob;
        t.key_id = key_id;
        t.hint = token_hint(secret.expose_secret());
        t.account = None;
        t.expires_at = admin_expiry(input);
        t.expiry_source = input
            .expires_on
            .map(|_| ExpirySource::Admin.as_str().to_string());
        t.apply_outcome(outcome);
    }
    let n = state.clock.naive();
    t.updated_at = n;
    t.updated_by = Some(member.user.email.clone());
    if !GitToken::write_edit(conn, &t, e.version, e.value.is_some())? {
        return Err(Error::Conflict(Conflict::EditedMeanwhile));
    }
    t.version = e.version + 1;
    let token = Token::try_from(&t)?;
    if !e.changed.is_empty() {
        // Field names, never values (DESIGN.md §6). A rename also names the old and the new
        // name: the name is the token's label (every record carries it), not a secret, and an
        // admin reading "fields: name" cannot tell which token it was before.
        let renamed = old_name != token.name;
        Record::by(member, AuditAction::TokenUpdate)
            .token(&token.id, &token.name)
            .details(AuditDetails {
                status: Some(t.status.clone()),
                renamed_from: renamed.then(|| old_name.clone()),
                renamed_to: renamed.then(|| token.name.clone()),
                ..AuditDetails::fields(e.changed.iter().copied())
            })
            .write(conn, n)?;
    }
    Ok(Some(token))
}

//! Swapping a rotated value in: ciphertext, hint, test result, expiry and `rotated_at` change in
//! one transaction, with its audit record, so readers see either the old token or the new one.

use super::super::audit::Record;
use super::super::{Conflict, Error};
use crate::app::state::AppState;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::expiry::ExpirySource;
use crate::domain::test_result::TestOutcome;
use crate::domain::token::{Token, token_hint};
use chrono::{NaiveDate, NaiveTime};
use secrecy::{ExposeSecret, SecretString};

/// How a rotation got its new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationMethod {
    /// An admin pasted a new token created at the provider.
    Manual,
    /// GitLab issued it through its self-rotate API (the old one is already revoked there).
    Provider,
}

impl RotationMethod {
    /// The value stored in the audit record's `method`.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationMethod::Manual => "manual",
            RotationMethod::Provider => "provider",
        }
    }
}

/// A tested new value and what to record with it.
pub(super) struct Swap {
    pub secret: SecretString,
    pub outcome: TestOutcome,
    pub method: RotationMethod,
    /// The new value belongs to another account (confirmed by the admin for a manual rotation).
    pub account_changed: bool,
    /// Admin-entered expiry, for providers that report none.
    pub expires_on: Option<NaiveDate>,
}

/// Store `swap` on the token `checked` was read from, in one transaction.
///
/// The row is locked and read again first. A manual rotation is refused
/// ([`Conflict::TokenChanged`]) if the token is no longer at the version its checks ran
/// against (an edit or another rotation in between); a provider rotation is stored regardless,
/// since the provider has already revoked the old value. A deleted token is
/// [`Conflict::TokenGone`].
pub(super) async fn store(
    state: &AppState,
    member: &Member,
    checked: GitToken,
    swap: Swap,
) -> Result<Token, Error> {
    let (st, m) = (state.clone(), member.clone());
    state
        .tx(move |conn| {
            // A write first: it takes the row lock (PostgreSQL) or the write lock (SQLite)
            // before the read, so concurrent rotations of one token run one after the other.
            GitToken::lock(conn, &checked.id)?;
            let Some(mut t) = GitToken::find(conn, &checked.id)? else {
                return Err(Error::Conflict(Conflict::TokenGone));
            };
            // The version counts edits, rotations and new values; a ciphertext that changed
            // under the same key is another value too. (A re-sealing under a new master key
            // keeps the value: not a change.)
            let changed = t.version != checked.version
                || (t.key_id == checked.key_id && t.secret != checked.secret);
            if swap.method == RotationMethod::Manual && changed {
                return Err(Error::Conflict(Conflict::TokenChanged));
            }
            let version = t.version;
            let (blob, key_id) = st.seal_token(conn, &t.id, &swap.secret)?;
            t.secret = blob;
            t.key_id = key_id;
            let old_hint = std::mem::replace(&mut t.hint, token_hint(swap.secret.expose_secret()));
            t.previous_hint = Some(old_hint);
            // Read before the new test result replaces it.
            t.previous_kind = t.outcome()?.and_then(|o| o.token_kind);
            t.account = None;
            t.expires_at = swap.expires_on.map(|d| d.and_time(NaiveTime::MIN));
            t.expiry_source = swap
                .expires_on
                .map(|_| ExpirySource::Admin.as_str().to_string());
            t.apply_outcome(&swap.outcome);
            let n = st.clock.naive();
            t.rotated_at = Some(n);
            t.updated_at = n;
            t.updated_by = Some(m.user.email.clone());
            // Only the rotation's columns, on the version just read (the row is locked).
            if !GitToken::write_rotation(conn, &t, version)? {
                return Err(Error::Conflict(Conflict::TokenChanged));
            }
            t.version = version + 1;
            let token = Token::try_from(&t)?;
            let mut fields = vec!["token"];
            if swap.expires_on.is_some() {
                fields.push("expires_on");
            }
            Record::by(&m, AuditAction::TokenRotate)
                .token(&token.id, &token.name)
                .details(AuditDetails {
                    status: Some(t.status.clone()),
                    method: Some(swap.method.as_str().to_string()),
                    account_changed: Some(swap.account_changed),
                    ..AuditDetails::fields(fields)
                })
                .write(conn, n)?;
            Ok(token)
        })
        .await
}

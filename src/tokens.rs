//! Storing a rotated token value (transitional: moves into `app::rotation`).

use crate::db::models::audit::Audit;
use crate::db::models::token::GitToken;
use crate::db::models::user::User;
use crate::db::{DbConn, StoreError};
use crate::domain::test_result::TestOutcome;
use crate::domain::token::token_hint;
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

fn audit_for(action: &'static str, t: &GitToken, actor: &User) -> Audit {
    let mut a = Audit::new(action);
    a.org_id = Some(t.org_id.clone());
    a.actor_user_id = Some(actor.id.clone());
    a.actor_email = Some(actor.email.clone());
    a.token_id = Some(t.id.clone());
    a.token_name = Some(t.name.clone());
    a
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

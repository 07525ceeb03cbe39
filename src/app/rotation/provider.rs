//! GitLab self-rotation (provider-apis.md §2.6): GitLab issues a new value in exchange for the
//! stored one and revokes the old one at once; the new value is stored, tested and never shown.
//!
//! Sending an already revoked token to the rotate endpoint makes GitLab revoke the whole token
//! family, so one rotation at a time per token, across every server process on the database: a
//! lease `rotate:<token id>` in `scheduler_leases` is taken before the stored value is read and
//! released when the rotation is over (it expires after [`LEASE_TTL`] should the process die).

use super::super::tokens::row_in_org;
use super::super::tokens::test::target;
use super::super::{BadRequest, Conflict, Error, require};
use super::store::{RotationMethod, Swap, store};
use super::{AtProvider, Subject, at_provider, subject_of};
use crate::app::state::AppState;
use crate::crypto::secret_box::CryptoError;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::ids::TokenId;
use crate::domain::role::Permission;
use crate::domain::status::TestStatus;
use crate::domain::test_result::TestOutcome;
use crate::domain::token::Token;
use crate::providers::rotate::RotateError;
use chrono::NaiveDate;

pub use super::lease::{LEASE_TTL, lease_name};

/// What became of a rotation at the provider.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per request, moved once"
)]
pub enum ProviderRotated {
    /// GitLab issued a new value; it is stored and was tested (`outcome`).
    Done { token: Token, outcome: TestOutcome },
    /// The stored token's last test says revoked or expired: not sent to GitLab.
    Blocked {
        subject: Subject,
        status: TestStatus,
    },
    /// The stored value could not be decrypted: nothing sent.
    Unreadable {
        subject: Subject,
        error: CryptoError,
    },
    /// GitLab did not rotate the token; nothing changed.
    Refused {
        subject: Subject,
        error: RotateError,
    },
}

fn unsupported(t: &Token) -> Error {
    Error::BadRequest(BadRequest::ProviderRotationUnsupported {
        name: t.name.clone(),
        provider: t.provider(),
    })
}

/// The rotation page of a token, for a rotation at the provider: a token of another provider
/// is a bad request.
pub async fn prepare_at_provider(
    state: &AppState,
    member: &Member,
    id: &TokenId,
) -> Result<Subject, Error> {
    let subject = super::prepare(state, member, id).await?;
    match subject.at_provider() {
        AtProvider::Unsupported => Err(unsupported(&subject.token)),
        _ => Ok(subject),
    }
}

/// Have GitLab rotate a token of the member's organization. `expires_on` is sent to GitLab
/// (its default is a week from today). A rotation of the same token already running, in this
/// process or another, is [`Conflict::RotationRunning`].
pub async fn rotate_at_provider(
    state: &AppState,
    member: &Member,
    id: &TokenId,
    expires_on: Option<NaiveDate>,
) -> Result<ProviderRotated, Error> {
    require(member, Permission::ManageTokens)?;
    let (m, tid) = (member.clone(), id.clone());
    let token = state
        .db(move |conn| Ok(Token::try_from(&row_in_org(conn, &m, &tid)?)?))
        .await?;
    if at_provider(&token) == AtProvider::Unsupported {
        return Err(unsupported(&token));
    }

    let Some(held) = super::lease::take(state, &token.id).await? else {
        return Err(Error::Conflict(Conflict::RotationRunning));
    };
    // Read under the lease: a rotation that finished just before is seen, so its revoked old
    // value is never sent again.
    let tid = token.id.clone();
    let taken = state
        .db(move |conn| {
            Ok(match GitToken::find(conn, tid.as_str())? {
                Some(row) => {
                    let subject = subject_of(conn, &row)?;
                    Taken::Held(row, subject)
                }
                None => Taken::Gone,
            })
        })
        .await;
    let result = match taken {
        Ok(Taken::Gone) => Err(Error::Conflict(Conflict::TokenGone)),
        Ok(Taken::Held(row, subject)) => leased(state, member, row, subject, expires_on).await,
        Err(e) => Err(e),
    };
    held.release(state).await;
    result
}

/// The token's lease, as a rotation found it.
#[expect(
    clippy::large_enum_variant,
    reason = "one value per request, moved once"
)]
enum Taken {
    /// This rotation holds it; the token as stored now.
    Held(GitToken, Subject),
    /// This rotation holds it, but the token was deleted meanwhile.
    Gone,
}

/// The rotation itself, while this request holds the token's lease.
async fn leased(
    state: &AppState,
    member: &Member,
    row: GitToken,
    subject: Subject,
    expires_on: Option<NaiveDate>,
) -> Result<ProviderRotated, Error> {
    match subject.at_provider() {
        AtProvider::Unsupported => return Err(unsupported(&subject.token)),
        AtProvider::Blocked(status) => return Ok(ProviderRotated::Blocked { subject, status }),
        AtProvider::Available => {}
    }
    let secret = match state.open(&row.id, &row.key_id, &row.secret) {
        Ok(s) => s,
        Err(error) => return Ok(ProviderRotated::Unreadable { subject, error }),
    };
    let target = target(&subject.token.destination);
    let rotated = match state
        .providers
        .gitlab_self_rotate(&target, &secret, expires_on)
        .await
    {
        Ok(r) => r,
        Err(error) => return Ok(ProviderRotated::Refused { subject, error }),
    };
    drop(secret);
    let mut outcome = state
        .providers
        .test_token(&target, &rotated.token, rotated.expires_at)
        .await;
    if outcome.expires_at.is_none() && !outcome.never_expires {
        outcome.expires_at = rotated.expires_at;
    }
    let account_changed = subject
        .token
        .account
        .as_ref()
        .is_some_and(|a| outcome.account.as_ref().is_some_and(|b| a != b));
    let token_id = row.id.clone();
    let swap = Swap {
        secret: rotated.token,
        outcome: outcome.clone(),
        method: RotationMethod::Provider,
        account_changed,
        expires_on: None,
    };
    match store(state, member, row, swap).await {
        Ok(token) => {
            tracing::info!(org = %member.org.slug, token = %token.id, "token rotated at GitLab");
            Ok(ProviderRotated::Done { token, outcome })
        }
        Err(e) => {
            let incident = crate::db::new_id();
            tracing::error!(incident = %incident, error = %e, token_id = %token_id,
                "GitLab rotated a token but storing the new value failed");
            Err(Error::Conflict(Conflict::RotationNotStored { incident }))
        }
    }
}

//! What a use case refuses or fails with. Typed, without page sentences: `web::error` turns
//! each variant into words (a page, a fragment or a status), in one place.

use crate::crypto::secret_box::CryptoError;
use crate::db::StoreError;
use crate::domain::provider::Provider;
use crate::domain::role::Permission;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown object, another organization's object, or not a member (404, never 403).
    #[error("not found")]
    NotFound,
    /// A member whose role does not allow this.
    #[error("forbidden: {0:?}")]
    Forbidden(Permission),
    /// The request conflicts with the current state; nothing was changed.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// A request that no form field explains (an unknown filter value, a wrong kind of token).
    #[error("bad request: {0:?}")]
    BadRequest(BadRequest),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("encryption: {0}")]
    Crypto(#[from] CryptoError),
    /// A blocking task (database, password hashing) did not finish.
    #[error("background task failed: {0}")]
    Task(String),
}

/// Why a change was refused because of the state it met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Services use the token: move them first.
    TokenInUse { name: String, services: usize },
    /// The token was edited, rotated or deleted while it was being tested or rotated.
    TokenChanged,
    /// The token was deleted meanwhile.
    TokenGone,
    /// A service named in a move is gone, or no longer what was checked.
    ServiceChanged { name: Option<String> },
    /// A provider rotation already runs for this token.
    RotationRunning,
    /// GitLab rotated the token but the new value could not be stored (incident id logged).
    RotationNotStored { incident: String },
    /// An edit made on an older version of the token (its form was loaded before another
    /// change was saved): nothing written.
    EditedMeanwhile,
    /// The change would leave the organization without an Owner.
    LastOwner,
}

/// A malformed request no form field explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadRequest {
    /// Rotation at the provider exists for GitLab tokens only.
    ProviderRotationUnsupported { name: String, provider: Provider },
    /// A new API key's fields are wrong (a caller that did not check them first).
    ApiKeyFields,
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Error {
        Error::Store(StoreError::Query(e))
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Error {
        Error::Task(e.to_string())
    }
}

/// Whether a storage error is a violated UNIQUE constraint (a name taken by a concurrent
/// request between the check and the insert).
pub fn is_unique_violation(e: &Error) -> bool {
    matches!(
        e,
        Error::Store(StoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        )))
    )
}

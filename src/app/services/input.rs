//! What a service form gives the use cases, and why it may not be saved as it is.

use crate::crypto::secret_box::CryptoError;
use crate::domain::ids::TokenId;
use crate::domain::provider::Provider;
use crate::domain::service::{Access, ServiceKind};
use crate::domain::token::Unusable;
use crate::providers::repos::ListError;

/// A service as the form gives it: the fields parsed; the rules against the token and the
/// provider are checked here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInput {
    pub name: String,
    pub kind: ServiceKind,
    pub access: Access,
    /// The provider chosen; `None`: the token's.
    pub provider: Option<Provider>,
    pub token_id: Option<TokenId>,
    pub repository: String,
    pub branch: String,
}

/// Why the input cannot be saved as it is (each names one field of the form).
#[derive(Debug, PartialEq)]
pub enum Problem {
    /// Token access without a token.
    TokenMissing,
    /// Not one of this organization's tokens.
    TokenNotFound,
    TokenUnusable {
        name: String,
        why: Unusable,
    },
    /// The token is for another provider than the one chosen.
    TokenOtherProvider,
    /// No provider chosen and no token to take it from.
    ProviderMissing,
    /// GitHub App access for a repository that is not on GitHub.
    GithubAppNotGithub,
    /// The repository path is not one the provider accepts (the provider layer's words).
    RepositoryInvalid(String),
    BranchInvalid(String),
    /// The stored token could not be decrypted.
    TokenUndecryptable(CryptoError),
    /// The token cannot read the repository.
    RepositoryUnreadable {
        token: String,
        repository: String,
    },
    /// The provider refused the repository (no access, or not a path it accepts).
    RepositoryRefused(ListError),
    /// The read check could not be made (network, provider error, token rejected).
    RepositoryCheckFailed {
        token: String,
        error: ListError,
    },
}

//! The choices of the step-by-step service form: the organization's tokens of the chosen
//! provider, and the repositories and branches a chosen token reaches (fetched from the
//! provider with it). Each step (a GET without JavaScript, or an HTMX fragment) asks again.

use super::super::{Error, require};
use super::{TokenChoice, choices, open, service_in_org, token_row};
use crate::app::state::AppState;
use crate::crypto::secret_box::CryptoError;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::service::{Access, Service};
use crate::domain::token::{Token, Unusable};
use crate::providers::repos::{self, BranchPage, ListError, RepoPage, validate_repository};

/// What a step of the form has chosen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// `None`: not chosen yet (the token's, else GitHub).
    pub provider: Option<Provider>,
    /// `None`: not a known access (the form says so; typed repository and branch).
    pub access: Option<Access>,
    pub token_id: Option<TokenId>,
    /// Repository search.
    pub q: Option<String>,
    /// Listing page (from 1).
    pub page: u32,
    pub repository: String,
    pub branch: String,
}

impl Draft {
    /// The choices of a saved service (an edit form's first step).
    pub fn of(s: &Service) -> Draft {
        Draft {
            provider: Some(s.provider),
            access: Some(s.access),
            token_id: s.token_id.clone(),
            q: None,
            page: 1,
            repository: s.repository.clone(),
            branch: s.branch.clone(),
        }
    }
}

/// The token the draft names.
#[derive(Debug, Clone)]
pub enum TokenPick {
    /// None named (or not token access).
    None,
    /// Not a token of this organization for this provider.
    NotFound,
    Unusable {
        name: String,
        why: Unusable,
    },
    Chosen(Box<Token>),
}

/// What asking the provider with a token gave.
#[derive(Debug)]
pub enum Listing<T> {
    Listed(T),
    /// The token may not be used now: nothing was sent.
    Unusable {
        name: String,
        why: Unusable,
    },
    /// The repository path is not one the provider accepts (the provider layer's words).
    BadRepository(String),
    /// The stored value could not be decrypted.
    Undecryptable(CryptoError),
    /// The provider refused or could not be asked.
    Failed(ListError),
}

/// Everything a step of the form shows.
#[derive(Debug)]
pub struct Pickers {
    /// The draft after the rules: the provider resolved (from the token when none was chosen,
    /// else GitHub); a token of another provider than the chosen one dropped, with the
    /// repository and branch picked with it.
    pub draft: Draft,
    pub provider: Provider,
    /// The organization's tokens of that provider.
    pub tokens: Vec<TokenChoice>,
    pub token: TokenPick,
    /// With a usable token: its repositories.
    pub repositories: Option<Listing<RepoPage>>,
    /// With a usable token that listed, and a repository chosen: its branches.
    pub branches: Option<Listing<BranchPage>>,
}

/// A step of the add form.
pub async fn form(state: &AppState, member: &Member, draft: Draft) -> Result<Pickers, Error> {
    require(member, Permission::ManageServices)?;
    pickers(state, member, draft).await
}

/// A step of the edit form: the service, and the choices of `draft` (`None`: the service's own).
pub async fn edit_form(
    state: &AppState,
    member: &Member,
    id: &ServiceId,
    draft: Option<Draft>,
) -> Result<(Service, Pickers), Error> {
    require(member, Permission::ManageServices)?;
    let (m, sid) = (member.clone(), id.clone());
    let s = state.db(move |c| service_in_org(c, &m, &sid)).await?;
    let draft = draft.unwrap_or_else(|| Draft::of(&s));
    Ok((s, pickers(state, member, draft).await?))
}

async fn pickers(state: &AppState, member: &Member, mut d: Draft) -> Result<Pickers, Error> {
    let token_mode = d.access == Some(Access::Token);
    let now = state.clock.naive();
    let (m, tid, chosen_provider) = (
        member.clone(),
        d.token_id.clone().filter(|_| token_mode),
        d.provider,
    );
    let (row, keep, provider, tokens) = state
        .db(move |conn| {
            let row = match &tid {
                Some(id) => token_row(conn, &m, id)?,
                None => None,
            };
            // The token decides the provider when none is chosen; a provider change drops it.
            let mut provider = chosen_provider;
            let mut keep = true;
            if let Some(r) = &row {
                let p = Token::try_from(r)?.provider();
                match provider {
                    None => provider = Some(p),
                    Some(c) if c != p => keep = false,
                    Some(_) => {}
                }
            }
            let provider = provider.unwrap_or(Provider::Github);
            let tokens = choices(conn, &m, provider, now)?;
            Ok((row, keep, provider, tokens))
        })
        .await?;
    if !keep {
        d.token_id = None;
        d.repository.clear();
        d.branch.clear();
    }
    d.provider = Some(provider);
    let (token, usable) = match (token_mode, &d.token_id, row.filter(|_| keep)) {
        (false, _, _) | (true, None, _) => (TokenPick::None, None),
        (true, Some(_), None) => (TokenPick::NotFound, None),
        (true, Some(_), Some(row)) => {
            let t = Token::try_from(&row)?;
            match t.unusable(now) {
                Some(why) => (TokenPick::Unusable { name: t.name, why }, None),
                None => (TokenPick::Chosen(Box::new(t)), Some(row)),
            }
        }
    };
    let (mut repositories, mut branches) = (None, None);
    if let Some(row) = &usable {
        let listed = list_repositories(state, row, d.q.as_deref(), d.page).await?;
        if !d.repository.is_empty() && matches!(listed, Listing::Listed(_)) {
            branches = Some(list_branches(state, row, &d.repository).await?);
        }
        repositories = Some(listed);
    }
    Ok(Pickers {
        draft: d,
        provider,
        tokens,
        token,
        repositories,
        branches,
    })
}

/// A usable token of the organization for a fragment (`NotFound` for another organization's),
/// or its name and why it may not be used.
async fn fragment_token(
    state: &AppState,
    member: &Member,
    id: &TokenId,
) -> Result<Result<(GitToken, Token), (String, Unusable)>, Error> {
    require(member, Permission::ManageServices)?;
    let (m, id) = (member.clone(), id.clone());
    let row = state
        .db(move |c| token_row(c, &m, &id))
        .await?
        .ok_or(Error::NotFound)?;
    let t = Token::try_from(&row)?;
    Ok(match t.unusable(state.clock.naive()) {
        Some(why) => Err((t.name, why)),
        None => Ok((row, t)),
    })
}

/// The repository choices of a token (`…/services/new/repositories`).
pub async fn repositories(
    state: &AppState,
    member: &Member,
    token_id: &TokenId,
    q: Option<String>,
    page: u32,
) -> Result<Listing<RepoPage>, Error> {
    match fragment_token(state, member, token_id).await? {
        Ok((row, _)) => list_repositories(state, &row, q.as_deref(), page).await,
        Err((name, why)) => Ok(Listing::Unusable { name, why }),
    }
}

/// The branch choices of a repository with a token (`…/services/new/branches`).
pub async fn branches(
    state: &AppState,
    member: &Member,
    token_id: &TokenId,
    repository: &str,
) -> Result<Listing<BranchPage>, Error> {
    match fragment_token(state, member, token_id).await? {
        Ok((row, t)) => match validate_repository(t.provider(), repository) {
            Ok(_) => list_branches(state, &row, repository).await,
            Err(m) => Ok(Listing::BadRepository(m)),
        },
        Err((name, why)) => Ok(Listing::Unusable { name, why }),
    }
}

async fn list_repositories(
    state: &AppState,
    row: &GitToken,
    q: Option<&str>,
    page: u32,
) -> Result<Listing<RepoPage>, Error> {
    let target = super::super::checks::target_of(row)?;
    let secret = match open(state, row) {
        Ok(s) => s,
        Err(e) => return Ok(Listing::Undecryptable(e)),
    };
    Ok(
        match repos::list_repositories(&state.providers, &target, &secret, q, page.max(1)).await {
            Ok(p) => Listing::Listed(p),
            Err(e) => Listing::Failed(e),
        },
    )
}

async fn list_branches(
    state: &AppState,
    row: &GitToken,
    repository: &str,
) -> Result<Listing<BranchPage>, Error> {
    let target = super::super::checks::target_of(row)?;
    let secret = match open(state, row) {
        Ok(s) => s,
        Err(e) => return Ok(Listing::Undecryptable(e)),
    };
    Ok(
        match repos::list_branches(&state.providers, &target, &secret, repository).await {
            Ok(p) => Listing::Listed(p),
            Err(e) => Listing::Failed(e),
        },
    )
}

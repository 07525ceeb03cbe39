//! Services (DESIGN.md §7): the paged list and a service's page here; the step-by-step form's
//! choices (tokens, repositories and branches fetched from the provider) in [`pickers`];
//! create, edit and delete in [`write`]. Moving services between tokens: [`super::moves`].
//!
//! Roles: `ViewServices` reads; `ManageServices` changes and uses the pickers. Another
//! organization's service or token is `NotFound` (or a refusal in a form), never used.

mod check;
mod input;
pub mod pickers;
pub mod write;

use super::checks::target_of;
use super::{Error, require};
use crate::app::state::AppState;
use crate::crypto::secret_box::CryptoError;
use crate::db::models::service::{Service as Row, ServiceWithToken};
use crate::db::models::token::GitToken;
use crate::db::{DbConn, StoreError};
use crate::domain::account::Member;
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::service::Service;
use crate::domain::status::TestStatus;
use crate::domain::token::{Token, Unusable};
use crate::providers::repos::{self, ListError};
use chrono::NaiveDateTime;
use secrecy::SecretString;

/// The token a service uses, as the services pages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRef {
    pub id: TokenId,
    pub name: String,
    pub status: TestStatus,
}

/// A service with the token it uses (none for legacy access).
#[derive(Debug, Clone)]
pub struct Listed {
    pub service: Service,
    pub token: Option<TokenRef>,
}

/// One page of the services list.
#[derive(Debug, Clone)]
pub struct ServiceList {
    pub items: Vec<Listed>,
    /// Services of the organization.
    pub total: i64,
    /// Of those, still on the legacy GitHub App or a personal account.
    pub legacy: i64,
    /// The page shown (a page beyond the end shows the last one).
    pub page: i64,
    pub pages: i64,
}

/// A token offered in a picker, and why it may not be chosen now (if it may not).
#[derive(Debug, Clone)]
pub struct TokenChoice {
    pub token: Token,
    pub unusable: Option<Unusable>,
}

fn listed(row: ServiceWithToken) -> Result<Listed, Error> {
    let (s, name, status) = row;
    let service = Service::try_from(&s)?;
    let token = match (service.token_id.clone(), name, status) {
        (Some(id), Some(name), Some(status)) => Some(TokenRef {
            id,
            name,
            status: TestStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown status {status:?}")))?,
        }),
        _ => None,
    };
    Ok(Listed { service, token })
}

/// One page of the organization's services by name, `page_size` a page (pages count from 1;
/// past the end is the last page). Shaped for the page: a COUNT, the legacy COUNT, and this
/// page's rows joined with their tokens' names and statuses.
pub async fn list(
    state: &AppState,
    member: &Member,
    page: i64,
    page_size: i64,
) -> Result<ServiceList, Error> {
    require(member, Permission::ViewServices)?;
    let org = member.org.id.clone();
    let size = page_size.max(1);
    state
        .db(move |conn| {
            let org = org.as_str();
            let total = Row::count_for_org(conn, org)?;
            let pages = ((total + size - 1) / size).max(1);
            let page = page.clamp(1, pages);
            let items = Row::list_page(conn, org, (page - 1) * size, size)?
                .into_iter()
                .map(listed)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ServiceList {
                items,
                total,
                legacy: Row::count_legacy(conn, org)?,
                page,
                pages,
            })
        })
        .await
}

/// A service's page: the service and its token.
pub async fn detail(state: &AppState, member: &Member, id: &ServiceId) -> Result<Listed, Error> {
    require(member, Permission::ViewServices)?;
    let (org, id) = (member.org.id.clone(), id.clone());
    state.db(move |conn| detail_in(conn, &org, &id)).await
}

/// A service of the organization with its token, or `NotFound` (inside a use case's
/// connection).
pub(crate) fn detail_in(
    conn: &mut DbConn,
    org: &crate::domain::ids::OrgId,
    id: &ServiceId,
) -> Result<Listed, Error> {
    listed(Row::find_with_token(conn, org.as_str(), id.as_str())?.ok_or(Error::NotFound)?)
}

/// A service of the member's organization, or `NotFound`.
pub(crate) fn service_in_org(
    conn: &mut DbConn,
    member: &Member,
    id: &ServiceId,
) -> Result<Service, Error> {
    let row =
        Row::find_in_org(conn, member.org.id.as_str(), id.as_str())?.ok_or(Error::NotFound)?;
    Ok(Service::try_from(&row)?)
}

/// The stored row (with its ciphertext, to use it) of a token of the member's organization.
pub(crate) fn token_row(
    conn: &mut DbConn,
    member: &Member,
    id: &TokenId,
) -> Result<Option<GitToken>, Error> {
    Ok(GitToken::find_in_org(
        conn,
        member.org.id.as_str(),
        id.as_str(),
    )?)
}

/// The organization's tokens of one provider, by name, as pickers list them (a projection: no
/// ciphertext).
pub(crate) fn choices(
    conn: &mut DbConn,
    member: &Member,
    provider: Provider,
    now: NaiveDateTime,
) -> Result<Vec<TokenChoice>, Error> {
    GitToken::list_all(conn, member.org.id.as_str(), Some(provider))?
        .into_iter()
        .map(|row| {
            let token = Token::try_from(row)?;
            Ok(TokenChoice {
                unusable: token.unusable(now),
                token,
            })
        })
        .collect()
}

/// The decrypted value of a stored token (only in memory, for this call).
pub(crate) fn open(state: &AppState, row: &GitToken) -> Result<SecretString, CryptoError> {
    state.open(&row.id, &row.key_id, &row.secret)
}

/// Whether the stored token can read `repository` (`Err`: the check could not be made, or the
/// provider refused the path).
pub(crate) async fn can_read(
    state: &AppState,
    row: &GitToken,
    secret: &SecretString,
    repository: &str,
) -> Result<Result<bool, ListError>, Error> {
    let target = target_of(row)?;
    Ok(repos::can_read_repository(&state.providers, &target, secret, repository).await)
}

//! The legacy GitHub App migration: the services still on the GitHub App or on personal
//! accounts, a preview of which of their repositories a chosen GitHub token reaches, and a bulk
//! move of the selected ones — checked, all or nothing, audited.

use super::super::services::{TokenChoice, can_read, choices, open, token_row};
use super::super::{Error, require};
use super::{Expect, MoveRequest, Refusal, apply, check_readable};
use crate::app::state::AppState;
use crate::crypto::secret_box::CryptoError;
use crate::db::models::service::Service as Row;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::service::Service;
use crate::domain::token::{Token, Unusable};
use crate::providers::repos::ListError;

/// Whether the chosen token reaches a legacy service's repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Not a GitHub service: it moves to a token of its own provider (by editing it).
    OtherProvider,
    /// No usable token chosen.
    Unknown,
    Reachable,
    Unreachable,
    /// The check could not be made.
    CheckFailed(ListError),
}

#[derive(Debug, Clone)]
pub struct LegacyRow {
    pub service: Service,
    pub reach: Reach,
}

/// Why the chosen token was not used for the preview.
#[derive(Debug, PartialEq)]
pub enum PreviewProblem {
    /// Not a GitHub token of this organization.
    TokenNotFound,
    TokenUnusable {
        name: String,
        why: Unusable,
    },
    Undecryptable(CryptoError),
}

/// The migration page.
#[derive(Debug)]
pub struct Preview {
    /// The organization's GitHub tokens.
    pub tokens: Vec<TokenChoice>,
    /// The usable token the preview was checked with.
    pub token: Option<Token>,
    pub problem: Option<PreviewProblem>,
    /// Every service on legacy access, by name.
    pub rows: Vec<LegacyRow>,
}

impl Preview {
    /// Services still on legacy access.
    pub fn remaining(&self) -> usize {
        self.rows.len()
    }
}

/// What became of a migration.
#[derive(Debug)]
pub enum Migrated {
    Done {
        target: Token,
        moved: usize,
        /// Services still on legacy access.
        remaining: i64,
    },
    Refused {
        preview: Preview,
        refusal: Refusal,
    },
}

/// The migration page, checked with `token` when one is chosen.
pub async fn preview(
    state: &AppState,
    member: &Member,
    token: Option<&TokenId>,
) -> Result<Preview, Error> {
    require(member, Permission::ManageServices)?;
    build(state, member, token).await
}

async fn build(
    state: &AppState,
    member: &Member,
    token: Option<&TokenId>,
) -> Result<Preview, Error> {
    let (m, tid, now) = (member.clone(), token.cloned(), state.clock.naive());
    let (services, tokens, row) = state
        .db(move |conn| {
            let services = Row::legacy(conn, m.org.id.as_str())?
                .iter()
                .map(Service::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            let tokens = choices(conn, &m, Provider::Github, now)?;
            let row = match &tid {
                Some(id) => github_row(conn, &m, id)?,
                None => None,
            };
            Ok((services, tokens, row))
        })
        .await?;
    let mut problem = None;
    let mut chosen: Option<(GitToken, Token)> = None;
    match (token, row) {
        (None, _) => {}
        (Some(_), None) => problem = Some(PreviewProblem::TokenNotFound),
        (Some(_), Some(row)) => {
            let t = Token::try_from(&row)?;
            match t.unusable(now) {
                Some(why) => problem = Some(PreviewProblem::TokenUnusable { name: t.name, why }),
                None => chosen = Some((row, t)),
            }
        }
    }
    let secret = match &chosen {
        Some((row, _)) => match open(state, row) {
            Ok(s) => Some(s),
            Err(e) => {
                problem = Some(PreviewProblem::Undecryptable(e));
                None
            }
        },
        None => None,
    };
    let mut checked: Vec<(String, Reach)> = Vec::new();
    let mut rows = Vec::with_capacity(services.len());
    for s in services {
        let reach = match (&chosen, &secret) {
            _ if s.provider != Provider::Github => Reach::OtherProvider,
            (Some((row, _)), Some(secret)) => {
                match checked.iter().find(|(r, _)| *r == s.repository) {
                    Some((_, reach)) => reach.clone(),
                    None => {
                        let reach = match can_read(state, row, secret, &s.repository).await? {
                            Ok(true) => Reach::Reachable,
                            Ok(false)
                            | Err(ListError::NoAccess(_))
                            | Err(ListError::Invalid(_)) => Reach::Unreachable,
                            Err(e) => Reach::CheckFailed(e),
                        };
                        checked.push((s.repository.clone(), reach.clone()));
                        reach
                    }
                }
            }
            _ => Reach::Unknown,
        };
        rows.push(LegacyRow { service: s, reach });
    }
    Ok(Preview {
        tokens,
        token: chosen.map(|(_, t)| t),
        problem,
        rows,
    })
}

/// A refusal, with the page checked with the chosen token again.
async fn refused(
    state: &AppState,
    member: &Member,
    target: &TokenId,
    refusal: Refusal,
) -> Result<Migrated, Error> {
    Ok(Migrated::Refused {
        preview: build(state, member, Some(target)).await?,
        refusal,
    })
}

/// A GitHub token of the organization.
fn github_row(
    conn: &mut crate::db::DbConn,
    member: &Member,
    id: &TokenId,
) -> Result<Option<GitToken>, Error> {
    Ok(token_row(conn, member, id)?.filter(|r| r.provider == Provider::Github.as_str()))
}

/// Move the selected legacy GitHub services to a GitHub token.
pub async fn migrate(
    state: &AppState,
    member: &Member,
    request: MoveRequest,
) -> Result<Migrated, Error> {
    require(member, Permission::ManageServices)?;
    let ids = request.ids();
    let now = state.clock.naive();
    let (m, tid) = (member.clone(), request.target.clone());
    let (row, legacy) = state
        .db(move |conn| {
            let row = match &tid {
                Some(id) => github_row(conn, &m, id)?,
                None => None,
            };
            let legacy = Row::legacy(conn, m.org.id.as_str())?
                .iter()
                .map(Service::try_from)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((row, legacy))
        })
        .await?;
    let target = match row {
        Some(row) => {
            let t = Token::try_from(&row)?;
            t.unusable(now).is_none().then_some((row, t))
        }
        None => None,
    };
    let Some((row, target)) = target else {
        return Ok(Migrated::Refused {
            preview: build(state, member, None).await?,
            refusal: Refusal::NoGithubToken,
        });
    };
    let refuse = |refusal: Refusal| refused(state, member, &target.id, refusal);
    if ids.is_empty() {
        return refuse(Refusal::NoServices).await;
    }
    let uses: Vec<(String, String)> = legacy
        .iter()
        .filter(|s| ids.contains(&s.id) && s.provider == Provider::Github)
        .map(|s| (s.repository.clone(), s.name.clone()))
        .collect();
    if uses.len() != ids.len() {
        return refuse(Refusal::NotLegacy).await;
    }
    if let Some(r) = check_readable(state, &row, &target, &uses).await? {
        return refuse(r).await;
    }
    let m = member.clone();
    let move_ids: Vec<ServiceId> = ids.clone();
    let (moved, target, remaining) = state
        .tx(move |conn| {
            let (moved, target) = apply(conn, &m, &move_ids, Expect::Legacy, &row.id, now)?;
            Ok((moved, target, Row::count_legacy(conn, m.org.id.as_str())?))
        })
        .await?;
    Ok(Migrated::Done {
        target,
        moved,
        remaining,
    })
}

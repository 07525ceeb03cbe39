//! The checks of a service before it is saved: the fields against the token and the provider,
//! the name, and whether the token can read the repository (asked of the provider).

use super::super::Error;
use super::input::{Problem, ServiceInput};
use super::{can_read, open, token_row};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::service::Service as Row;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::provider::Provider;
use crate::domain::service::Access;
use crate::domain::token::Token;
use crate::providers::repos::{ListError, validate_branch, validate_repository};

/// The input after the checks.
pub(super) struct Checked {
    pub provider: Provider,
    pub token: Option<TokenId>,
    pub repository: String,
    pub branch: String,
}

pub(super) enum Verdict {
    Ok(Checked),
    NameTaken,
    Refused(Vec<Problem>),
}

/// Check the input: fields against the token and the provider, the name (before asking the
/// provider anything), then whether the token can read the repository.
pub(super) async fn check(
    state: &AppState,
    member: &Member,
    input: &ServiceInput,
    except: Option<&ServiceId>,
) -> Result<Verdict, Error> {
    let now = state.clock.naive();
    let row = match (input.access, &input.token_id) {
        (Access::Token, Some(id)) => {
            let (m, id) = (member.clone(), id.clone());
            state.db(move |c| token_row(c, &m, &id)).await?
        }
        _ => None,
    };
    let mut problems = Vec::new();
    let mut provider = input.provider;
    let mut token: Option<(GitToken, Token)> = None;
    if input.access == Access::Token {
        match (&input.token_id, row) {
            (None, _) => problems.push(Problem::TokenMissing),
            (Some(_), None) => problems.push(Problem::TokenNotFound),
            (Some(_), Some(row)) => {
                let t = Token::try_from(&row)?;
                if let Some(why) = t.unusable(now) {
                    problems.push(Problem::TokenUnusable { name: t.name, why });
                } else if provider.is_some_and(|p| p != t.provider()) {
                    problems.push(Problem::TokenOtherProvider);
                } else {
                    provider = Some(t.provider());
                    token = Some((row, t));
                }
            }
        }
    }
    let Some(provider) = provider else {
        problems.push(Problem::ProviderMissing);
        return Ok(Verdict::Refused(problems));
    };
    if input.access == Access::GithubApp && provider != Provider::Github {
        problems.push(Problem::GithubAppNotGithub);
    }
    let repository = match validate_repository(provider, &input.repository) {
        Ok(r) => r,
        Err(m) => {
            problems.push(Problem::RepositoryInvalid(m));
            String::new()
        }
    };
    let branch = match validate_branch(&input.branch) {
        Ok(b) => b,
        Err(m) => {
            problems.push(Problem::BranchInvalid(m));
            String::new()
        }
    };
    if !problems.is_empty() {
        return Ok(Verdict::Refused(problems));
    }
    let (m, name, except_id) = (member.clone(), input.name.clone(), except.cloned());
    let taken = state
        .db(move |c| name_taken(c, &m, &name, except_id.as_ref()))
        .await?;
    if taken {
        return Ok(Verdict::NameTaken);
    }
    if let Some((row, t)) = &token {
        let problem = match open(state, row) {
            Err(e) => Some(Problem::TokenUndecryptable(e)),
            Ok(secret) => match can_read(state, row, &secret, &repository).await? {
                Ok(true) => None,
                Ok(false) => Some(Problem::RepositoryUnreadable {
                    token: t.name.clone(),
                    repository: repository.clone(),
                }),
                Err(e @ (ListError::NoAccess(_) | ListError::Invalid(_))) => {
                    Some(Problem::RepositoryRefused(e))
                }
                Err(error) => Some(Problem::RepositoryCheckFailed {
                    token: t.name.clone(),
                    error,
                }),
            },
        };
        if let Some(p) = problem {
            return Ok(Verdict::Refused(vec![p]));
        }
    }
    Ok(Verdict::Ok(Checked {
        provider,
        token: token.map(|(_, t)| t.id),
        repository,
        branch,
    }))
}

fn name_taken(
    conn: &mut DbConn,
    member: &Member,
    name: &str,
    except: Option<&ServiceId>,
) -> Result<bool, Error> {
    Ok(Row::name_taken(
        conn,
        member.org.id.as_str(),
        name,
        except.map(ServiceId::as_str),
    )?)
}

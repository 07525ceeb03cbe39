//! Moving services to another token: from a token in use (offered by its delete confirmation)
//! here, and off the legacy GitHub App / personal accounts in [`migrate`]. Each repository is
//! checked with the target token first; the move is one transaction — all or nothing, refused
//! if a service changed meanwhile — and audited on both tokens.

pub mod migrate;

use super::audit::Record;
use super::services::{TokenChoice, can_read, choices, open, token_row};
use super::tokens::ServiceRef;
use super::{Conflict, Error, require};
use crate::app::state::AppState;
use crate::crypto::secret_box::CryptoError;
use crate::db::DbConn;
use crate::db::models::service::Service as Row;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails, MoveDirection};
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::role::Permission;
use crate::domain::service::{Access, Service};
use crate::domain::token::{Token, Unusable};
use crate::providers::repos::ListError;
use chrono::NaiveDateTime;

/// Which services to move where (the posted form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveRequest {
    pub target: Option<TokenId>,
    pub services: Vec<ServiceId>,
}

impl MoveRequest {
    /// The selected ids, each once.
    fn ids(&self) -> Vec<ServiceId> {
        let mut ids: Vec<ServiceId> = Vec::new();
        for id in &self.services {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids
    }
}

/// The move offer of a token's delete confirmation.
#[derive(Debug, Clone, Default)]
pub struct MovePanel {
    /// The services that use the token.
    pub services: Vec<ServiceRef>,
    /// The organization's other tokens of the same provider and server.
    pub targets: Vec<TokenChoice>,
}

/// A repository the target cannot read, with the service that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub repository: String,
    pub service: String,
}

/// Why nothing was moved.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    NoTarget,
    /// Not a token of this organization.
    TargetNotFound,
    /// The target is the token the services use now.
    SameToken,
    /// The target is for another provider or server.
    OtherServer {
        target: String,
    },
    TargetUnusable {
        target: String,
        why: Unusable,
    },
    /// The migration: no usable GitHub token of the organization chosen.
    NoGithubToken,
    NoServices,
    /// A selected service does not use the token (any more).
    NotUsingToken,
    /// The migration: a selected service is not a GitHub service on legacy access (any more).
    NotLegacy,
    Undecryptable {
        target: String,
        error: CryptoError,
    },
    /// A repository could not be checked.
    CheckFailed {
        target: String,
        repository: String,
        error: ListError,
    },
    /// The target cannot read these repositories.
    Unreadable {
        target: String,
        repositories: Vec<Unreadable>,
    },
}

/// What became of a move.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per request, moved once"
)]
pub enum Moved {
    Done {
        source: Token,
        target: Token,
        moved: usize,
        /// Services that still use the source token.
        remaining: i64,
    },
    Refused {
        source: Token,
        panel: MovePanel,
        refusal: Refusal,
    },
}

fn panel_of(
    conn: &mut DbConn,
    member: &Member,
    source: &Token,
    now: NaiveDateTime,
) -> Result<MovePanel, Error> {
    let services = Row::using_token(conn, source.id.as_str())?
        .into_iter()
        .map(ServiceRef::from)
        .collect();
    let targets = choices(conn, member, source.provider(), now)?
        .into_iter()
        .filter(|c| c.token.id != source.id && c.token.destination.same_server(&source.destination))
        .collect();
    Ok(MovePanel { services, targets })
}

/// The move offer for the services of a token of the organization.
pub async fn panel(state: &AppState, member: &Member, token: &TokenId) -> Result<MovePanel, Error> {
    require(member, Permission::ManageServices)?;
    let (m, id, now) = (member.clone(), token.clone(), state.clock.naive());
    state
        .db(move |conn| {
            let row = token_row(conn, &m, &id)?.ok_or(Error::NotFound)?;
            panel_of(conn, &m, &Token::try_from(&row)?, now)
        })
        .await
}

/// Move services of the token `from` to another token of the same provider and server.
pub async fn move_services(
    state: &AppState,
    member: &Member,
    from: &TokenId,
    request: MoveRequest,
) -> Result<Moved, Error> {
    require(member, Permission::ManageServices)?;
    let ids = request.ids();
    let (m, id, target_id, now) = (
        member.clone(),
        from.clone(),
        request.target.clone(),
        state.clock.naive(),
    );
    let (source, panel, target) = state
        .db(move |conn| {
            let row = token_row(conn, &m, &id)?.ok_or(Error::NotFound)?;
            let source = Token::try_from(&row)?;
            let panel = panel_of(conn, &m, &source, now)?;
            let target = match &target_id {
                Some(t) => token_row(conn, &m, t)?,
                None => None,
            };
            Ok((source, panel, target))
        })
        .await?;
    let refused = |panel: MovePanel, source: Token, refusal: Refusal| {
        Ok(Moved::Refused {
            source,
            panel,
            refusal,
        })
    };
    let Some(row) = target else {
        let r = match request.target {
            None => Refusal::NoTarget,
            Some(_) => Refusal::TargetNotFound,
        };
        return refused(panel, source, r);
    };
    let target = Token::try_from(&row)?;
    let refusal = if target.id == source.id {
        Some(Refusal::SameToken)
    } else if !target.destination.same_server(&source.destination) {
        Some(Refusal::OtherServer {
            target: target.name.clone(),
        })
    } else if let Some(why) = target.unusable(now) {
        Some(Refusal::TargetUnusable {
            target: target.name.clone(),
            why,
        })
    } else if ids.is_empty() {
        Some(Refusal::NoServices)
    } else {
        None
    };
    if let Some(r) = refusal {
        return refused(panel, source, r);
    }
    let chosen: Vec<&ServiceRef> = panel
        .services
        .iter()
        .filter(|s| ids.contains(&s.id))
        .collect();
    if chosen.len() != ids.len() {
        return refused(panel, source, Refusal::NotUsingToken);
    }
    let uses: Vec<(String, String)> = chosen
        .iter()
        .map(|s| (s.repository.clone(), s.name.clone()))
        .collect();
    if let Some(r) = check_readable(state, &row, &target, &uses).await? {
        return refused(panel, source, r);
    }
    let (m, src) = (member.clone(), source.clone());
    let (moved, target, remaining) = state
        .tx(move |conn| {
            let (moved, target) = apply(conn, &m, &ids, Expect::Token(&src), &row.id, now)?;
            let remaining = Row::usage_of(conn, &[src.id.as_str()])?
                .get(src.id.as_str())
                .copied()
                .unwrap_or(0);
            Ok((moved, target, remaining))
        })
        .await?;
    Ok(Moved::Done {
        source,
        target,
        moved,
        remaining,
    })
}

/// Check every repository of `uses` (repository, service name) with the target token: `None`
/// when it reads them all.
pub(crate) async fn check_readable(
    state: &AppState,
    row: &GitToken,
    target: &Token,
    uses: &[(String, String)],
) -> Result<Option<Refusal>, Error> {
    let secret = match open(state, row) {
        Ok(s) => s,
        Err(error) => {
            return Ok(Some(Refusal::Undecryptable {
                target: target.name.clone(),
                error,
            }));
        }
    };
    let mut checked: Vec<(String, bool)> = Vec::new();
    let mut unreadable = Vec::new();
    for (repository, service) in uses {
        let ok = match checked.iter().find(|(r, _)| r == repository) {
            Some((_, ok)) => *ok,
            None => {
                let ok = match can_read(state, row, &secret, repository).await? {
                    Ok(ok) => ok,
                    Err(ListError::NoAccess(_) | ListError::Invalid(_)) => false,
                    Err(error) => {
                        return Ok(Some(Refusal::CheckFailed {
                            target: target.name.clone(),
                            repository: repository.clone(),
                            error,
                        }));
                    }
                };
                checked.push((repository.clone(), ok));
                ok
            }
        };
        if !ok {
            unreadable.push(Unreadable {
                repository: repository.clone(),
                service: service.clone(),
            });
        }
    }
    Ok((!unreadable.is_empty()).then(|| Refusal::Unreadable {
        target: target.name.clone(),
        repositories: unreadable,
    }))
}

/// What each moved service must still be.
#[derive(Clone, Copy)]
pub(crate) enum Expect<'a> {
    /// It uses this token.
    Token(&'a Token),
    /// It is on legacy access (the GitHub App or a personal account).
    Legacy,
}

/// Point `ids` at the target token in the caller's transaction: all or nothing. The target is
/// locked and read again first (deleted, changed or no longer usable: nothing moves), then each
/// service must still be what was checked. Audited on the source token (if any) and on the
/// target. Returns how many moved and the target.
pub(crate) fn apply(
    conn: &mut DbConn,
    member: &Member,
    ids: &[ServiceId],
    expect: Expect<'_>,
    target_id: &str,
    now: NaiveDateTime,
) -> Result<(usize, Token), Error> {
    GitToken::lock(conn, target_id)?;
    let row = token_row(conn, member, &TokenId::new(target_id))?
        .ok_or(Error::Conflict(Conflict::TokenGone))?;
    let target = Token::try_from(&row)?;
    let same = match expect {
        Expect::Token(src) => src.destination.same_server(&target.destination),
        Expect::Legacy => true,
    };
    if !same || target.unusable(now).is_some() {
        return Err(Error::Conflict(Conflict::TokenChanged));
    }
    let keys: Vec<&str> = ids.iter().map(ServiceId::as_str).collect();
    let rows = Row::find_many_in_org(conn, member.org.id.as_str(), &keys)?;
    if rows.len() != ids.len() {
        return Err(Error::Conflict(Conflict::ServiceChanged { name: None }));
    }
    let mut moved: Vec<Service> = Vec::new();
    for r in &rows {
        let s = Service::try_from(r)?;
        let still = match expect {
            Expect::Token(src) => s.token_id.as_ref() == Some(&src.id),
            Expect::Legacy => s.access.is_legacy() && s.provider == target.provider(),
        };
        if !still {
            return Err(Error::Conflict(Conflict::ServiceChanged {
                name: Some(s.name),
            }));
        }
        let next = Service {
            access: Access::Token,
            token_id: Some(target.id.clone()),
            provider: target.provider(),
            updated_at: now,
            ..s.clone()
        };
        Row::save(conn, &Row::of(&next))?;
        moved.push(s);
    }
    let names: Vec<String> = moved.iter().map(|s| s.name.clone()).collect();
    let moved_ids: Vec<String> = moved.iter().map(|s| s.id.as_str().to_string()).collect();
    let (action, source) = match expect {
        Expect::Token(src) => (AuditAction::ServiceMove, Some(src)),
        Expect::Legacy => (AuditAction::ServiceMigrate, None),
    };
    let listed = AuditDetails {
        services: Some(names),
        service_ids: Some(moved_ids),
        ..AuditDetails::default()
    };
    if let Some(src) = source {
        Record::by(member, action)
            .token(&src.id, &src.name)
            .details(AuditDetails {
                direction: Some(MoveDirection::Out),
                to_token_id: Some(target.id.as_str().to_string()),
                to_token: Some(target.name.clone()),
                ..listed.clone()
            })
            .write(conn, now)?;
    }
    Record::by(member, action)
        .token(&target.id, &target.name)
        .details(AuditDetails {
            direction: Some(MoveDirection::In),
            from_token_id: source.map(|s| s.id.as_str().to_string()),
            from_token: source.map(|s| s.name.clone()),
            ..listed
        })
        .write(conn, now)?;
    Ok((moved.len(), target))
}

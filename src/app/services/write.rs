//! Adding, editing and deleting services (DESIGN.md §7).
//!
//! A service on token access must name a usable token of the organization, of the service's
//! provider, that can read the repository (asked of the provider before saving). Names are
//! unique per organization by the database's `(org_id, name_key)` key: a create or edit that
//! loses a race for a name gets [`Created::NameTaken`] / [`Updated::NameTaken`], never an error.

use super::super::audit::Record;
use super::super::error::is_unique_violation;
use super::super::{Conflict, Error, require};
use super::check::{Verdict, check};
use super::{service_in_org, token_row};
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::service::Service as Row;
use crate::db::models::token::GitToken;
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{ServiceId, TokenId};
use crate::domain::role::Permission;
use crate::domain::service::Service;

pub use super::input::{Problem, ServiceInput};

/// What became of a create.
#[derive(Debug)]
pub enum Created {
    Saved(Service),
    /// Another service of the organization has this name (case-insensitive).
    NameTaken,
    Refused(Vec<Problem>),
}

/// What became of an edit.
#[derive(Debug)]
pub enum Updated {
    Saved {
        service: Service,
        /// Names of the fields that changed (empty: nothing changed, nothing written).
        changed: Vec<&'static str>,
    },
    NameTaken,
    Refused(Vec<Problem>),
}

/// Take the write lock of the token a service is saved with and read its name; a token
/// deleted meanwhile refuses the save. First in every transaction that writes a service with
/// a token (tokens before services: one lock order).
fn lock_token(conn: &mut DbConn, member: &Member, id: &TokenId) -> Result<String, Error> {
    GitToken::lock(conn, id.as_str())?;
    token_row(conn, member, id)?
        .map(|t| t.name)
        .ok_or(Error::Conflict(Conflict::TokenGone))
}

/// An audit record about `s`, on its token (if any).
fn record(member: &Member, action: AuditAction, s: &Service, token: Option<&str>) -> Record {
    let r = Record::by(member, action);
    match (&s.token_id, token) {
        (Some(id), Some(name)) => r.token(id, name),
        _ => r,
    }
}

/// Add a service.
pub async fn create(
    state: &AppState,
    member: &Member,
    input: ServiceInput,
) -> Result<Created, Error> {
    require(member, Permission::ManageServices)?;
    let checked = match check(state, member, &input, None).await? {
        Verdict::Ok(c) => c,
        Verdict::NameTaken => return Ok(Created::NameTaken),
        Verdict::Refused(p) => return Ok(Created::Refused(p)),
    };
    let n = state.clock.naive();
    let service = Service {
        id: ServiceId::random(),
        org_id: member.org.id.clone(),
        name: input.name,
        kind: input.kind,
        provider: checked.provider,
        access: input.access,
        token_id: checked.token,
        repository: checked.repository,
        branch: checked.branch,
        created_at: n,
        updated_at: n,
    };
    let (m, s) = (member.clone(), service.clone());
    let saved = state
        .tx(move |conn| {
            let token = match &s.token_id {
                Some(id) => Some(lock_token(conn, &m, id)?),
                None => None,
            };
            // The unique name key decides a race with a concurrent create.
            Row::insert(conn, &Row::of(&s))?;
            record(&m, AuditAction::ServiceCreate, &s, token.as_deref())
                .details(AuditDetails {
                    service_id: Some(s.id.as_str().to_string()),
                    service: Some(s.name.clone()),
                    access: Some(s.access.as_str().to_string()),
                    ..AuditDetails::fields(FIELDS)
                })
                .write(conn, n)
        })
        .await;
    match saved {
        Ok(()) => Ok(Created::Saved(service)),
        Err(e) if is_unique_violation(&e) => Ok(Created::NameTaken),
        Err(e) => Err(e),
    }
}

/// The form's fields, in audit records.
const FIELDS: [&str; 7] = [
    "name",
    "kind",
    "provider",
    "access",
    "token_id",
    "repository",
    "branch",
];

/// Field names that differ between two versions of a service.
fn changed_fields(old: &Service, new: &Service) -> Vec<&'static str> {
    [
        (old.name != new.name, "name"),
        (old.kind != new.kind, "kind"),
        (old.provider != new.provider, "provider"),
        (old.access != new.access, "access"),
        (old.repository != new.repository, "repository"),
        (old.branch != new.branch, "branch"),
        (old.token_id != new.token_id, "token_id"),
    ]
    .into_iter()
    .filter_map(|(differs, f)| differs.then_some(f))
    .collect()
}

/// Edit a service.
pub async fn update(
    state: &AppState,
    member: &Member,
    id: &ServiceId,
    input: ServiceInput,
) -> Result<Updated, Error> {
    require(member, Permission::ManageServices)?;
    // Another organization's service is a 404 before anything is checked or sent.
    let (m, sid) = (member.clone(), id.clone());
    state.db(move |c| service_in_org(c, &m, &sid)).await?;
    let checked = match check(state, member, &input, Some(id)).await? {
        Verdict::Ok(c) => c,
        Verdict::NameTaken => return Ok(Updated::NameTaken),
        Verdict::Refused(p) => return Ok(Updated::Refused(p)),
    };
    let (m, sid, n) = (member.clone(), id.clone(), state.clock.naive());
    let saved = state
        .tx(move |conn| {
            let token = match &checked.token {
                Some(t) => Some(lock_token(conn, &m, t)?),
                None => None,
            };
            Row::lock(conn, sid.as_str())?;
            let current = service_in_org(conn, &m, &sid)?;
            let next = Service {
                name: input.name,
                kind: input.kind,
                provider: checked.provider,
                access: input.access,
                token_id: checked.token,
                repository: checked.repository,
                branch: checked.branch,
                updated_at: n,
                ..current.clone()
            };
            let changed = changed_fields(&current, &next);
            if changed.is_empty() {
                return Ok((current, changed));
            }
            Row::save(conn, &Row::of(&next))?;
            record(&m, AuditAction::ServiceUpdate, &next, token.as_deref())
                .details(AuditDetails {
                    service_id: Some(next.id.as_str().to_string()),
                    service: Some(next.name.clone()),
                    renamed_from: (current.name != next.name).then(|| current.name.clone()),
                    renamed_to: (current.name != next.name).then(|| next.name.clone()),
                    ..AuditDetails::fields(changed.iter().copied())
                })
                .write(conn, n)?;
            Ok((next, changed))
        })
        .await;
    match saved {
        Ok((service, changed)) => Ok(Updated::Saved { service, changed }),
        Err(e) if is_unique_violation(&e) => Ok(Updated::NameTaken),
        Err(e) => Err(e),
    }
}

/// Delete a service.
pub async fn delete(state: &AppState, member: &Member, id: &ServiceId) -> Result<Service, Error> {
    require(member, Permission::ManageServices)?;
    let (m, id, n) = (member.clone(), id.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            Row::lock(conn, id.as_str())?;
            let s = service_in_org(conn, &m, &id)?;
            let token = match &s.token_id {
                Some(t) => token_row(conn, &m, t)?.map(|t| t.name),
                None => None,
            };
            Row::delete(conn, s.id.as_str())?;
            record(&m, AuditAction::ServiceDelete, &s, token.as_deref())
                .details(AuditDetails {
                    service_id: Some(s.id.as_str().to_string()),
                    service: Some(s.name.clone()),
                    ..AuditDetails::default()
                })
                .write(conn, n)?;
            Ok(s)
        })
        .await
}

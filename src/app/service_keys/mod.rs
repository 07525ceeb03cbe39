//! Build credentials (DESIGN.md §9): service keys (`fks_…`) on a service's page. A key is bound
//! to one service and may do one thing: fetch that service's Git credentials ([`release`]).
//!
//! Roles: `ViewServices` sees a service's keys (name, hint, creator, dates); `ManageServices`
//! (Owner, Admin, DevOps — those who manage the service itself) makes and revokes them. Another
//! organization's service or key is `NotFound`. The key's value is returned once, by
//! [`create`]; only its SHA-256 is stored, and audit records carry its hint, never the value.

pub mod expiry;
pub mod release;

use super::audit::Record;
use super::services::{Listed, detail_in, service_in_org};
use super::{Error, require};
use crate::app::checks::target_of;
use crate::app::state::AppState;
use crate::db::models::service_key::ServiceKey as Row;
use crate::domain::access_key::{AccessKey, KeyKind};
use crate::domain::account::Member;
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{ServiceId, ServiceKeyId};
use crate::domain::role::Permission;
use crate::domain::service_key::{GitRemote, NewServiceKey};
use crate::providers::TokenTarget;
use chrono::NaiveDateTime;

/// A service key as the service's page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub id: ServiceKeyId,
    pub service_id: ServiceId,
    pub name: String,
    pub hint: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl From<Row> for KeyEntry {
    fn from(r: Row) -> KeyEntry {
        KeyEntry {
            id: ServiceKeyId::new(r.id),
            service_id: ServiceId::new(r.service_id),
            name: r.name,
            hint: r.hint,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A service's page: the service with its token, and its keys that are not revoked (newest
/// first).
#[derive(Debug, Clone)]
pub struct ServicePage {
    pub service: Listed,
    pub keys: Vec<KeyEntry>,
    /// Where git clones the service's repository from (none without a token).
    pub remote: Option<GitRemote>,
    /// `FORGEKEYS_URL` for a build: this server's public URL.
    pub forgekeys_url: String,
}

/// A key just made: its value (shown once, never stored), its entry, and the service's page
/// with it listed.
#[derive(Debug, Clone)]
pub struct Created {
    pub key: AccessKey,
    pub entry: KeyEntry,
    pub page: ServicePage,
}

/// What became of a revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    Revoked(KeyEntry),
    /// It was revoked before: nothing changed.
    AlreadyRevoked(KeyEntry),
}

fn details(service_id: &ServiceId, service: &str, key: &KeyEntry) -> AuditDetails {
    AuditDetails {
        service_id: Some(service_id.as_str().to_string()),
        service: Some(service.to_string()),
        service_key: Some(key.name.clone()),
        hint: Some(key.hint.clone()),
        ..AuditDetails::default()
    }
}

/// The page's rows, and the target of the service's token (for its remote).
fn page_in(
    conn: &mut crate::db::DbConn,
    m: &Member,
    id: &ServiceId,
) -> Result<(Listed, Vec<KeyEntry>, Option<TokenTarget>), Error> {
    let service = detail_in(conn, &m.org.id, id)?;
    let keys = Row::list_for_service(conn, m.org.id.as_str(), service.service.id.as_str())?
        .into_iter()
        .map(KeyEntry::from)
        .collect();
    let target = match &service.token {
        Some(t) => match crate::db::models::token::GitToken::find_in_org(
            conn,
            m.org.id.as_str(),
            t.id.as_str(),
        )? {
            Some(row) => Some(target_of(&row)?),
            None => None,
        },
        None => None,
    };
    Ok((service, keys, target))
}

fn page_of(
    state: &AppState,
    (service, keys, target): (Listed, Vec<KeyEntry>, Option<TokenTarget>),
) -> ServicePage {
    let remote = target
        .and_then(|t| state.providers.git_base(&t))
        .and_then(|base| GitRemote::new(&base, &service.service.repository).ok());
    ServicePage {
        service,
        keys,
        remote,
        forgekeys_url: state.config.base_url.clone(),
    }
}

/// A service's page: the service, its token and its keys (two queries).
pub async fn service_page(
    state: &AppState,
    member: &Member,
    service: &ServiceId,
) -> Result<ServicePage, Error> {
    require(member, Permission::ViewServices)?;
    let (m, id) = (member.clone(), service.clone());
    let rows = state.db(move |conn| page_in(conn, &m, &id)).await?;
    Ok(page_of(state, rows))
}

/// One key of the service (the revoke confirmation), revoked or not.
pub async fn find(
    state: &AppState,
    member: &Member,
    service: &ServiceId,
    key: &ServiceKeyId,
) -> Result<KeyEntry, Error> {
    require(member, Permission::ViewServices)?;
    let (m, id, key) = (member.clone(), service.clone(), key.clone());
    state
        .db(move |conn| {
            let s = service_in_org(conn, &m, &id)?;
            let row = Row::find_for_service(conn, m.org.id.as_str(), s.id.as_str(), key.as_str())?
                .ok_or(Error::NotFound)?;
            Ok(KeyEntry::from(row))
        })
        .await
}

/// Make a key for the service. Audited (`service_key.create`: service, key name and hint).
pub async fn create(
    state: &AppState,
    member: &Member,
    service: &ServiceId,
    input: NewServiceKey,
) -> Result<Created, Error> {
    require(member, Permission::ManageServices)?;
    let (m, id) = (member.clone(), service.clone());
    let at = state.clock.naive();
    let key = AccessKey::generate(KeyKind::Service);
    let (hash, hint) = (key.hash(), key.hint());
    let entry = state
        .tx(move |conn| {
            let s = service_in_org(conn, &m, &id)?;
            let row = Row {
                id: crate::db::new_id(),
                org_id: m.org.id.as_str().to_string(),
                service_id: s.id.as_str().to_string(),
                name: input.name.clone(),
                key_hash: hash,
                hint,
                created_by: Some(m.user.email.clone()),
                created_at: at,
                expires_at: input.expires_at(at),
                last_used_at: None,
                revoked_at: None,
            };
            Row::insert(conn, &row)?;
            let entry = KeyEntry::from(row);
            Record::by(&m, AuditAction::ServiceKeyCreate)
                .details(AuditDetails {
                    expires_at: entry
                        .expires_at
                        .map(|e| e.format("%Y-%m-%d %H:%M").to_string()),
                    ..details(&s.id, &s.name, &entry)
                })
                .write(conn, at)?;
            let rows = page_in(conn, &m, &id)?;
            Ok((entry, rows))
        })
        .await?;
    let (entry, rows) = entry;
    Ok(Created {
        key,
        entry,
        page: page_of(state, rows),
    })
}

/// Revoke a key of the service: it stops working at once. Audited (`service_key.revoke`).
pub async fn revoke(
    state: &AppState,
    member: &Member,
    service: &ServiceId,
    key: &ServiceKeyId,
) -> Result<Revoked, Error> {
    require(member, Permission::ManageServices)?;
    let (m, id, key) = (member.clone(), service.clone(), key.clone());
    let at = state.clock.naive();
    state
        .tx(move |conn| {
            let s = service_in_org(conn, &m, &id)?;
            let row = Row::find_for_service(conn, m.org.id.as_str(), s.id.as_str(), key.as_str())?
                .ok_or(Error::NotFound)?;
            if !Row::revoke(conn, &row.id, at)? {
                return Ok(Revoked::AlreadyRevoked(KeyEntry::from(row)));
            }
            let entry = KeyEntry {
                revoked_at: Some(at),
                ..KeyEntry::from(row)
            };
            Record::by(&m, AuditAction::ServiceKeyRevoke)
                .details(details(&s.id, &s.name, &entry))
                .write(conn, at)?;
            Ok(Revoked::Revoked(entry))
        })
        .await
}

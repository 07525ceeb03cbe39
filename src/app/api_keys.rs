//! Organization API keys (DESIGN.md §9): made with a name, a role (Admin, DevOps or Viewer) and
//! an optional lifetime, shown once, stored as a SHA-256, revocable; Owners and Admins manage
//! them. [`authenticate`] turns a presented key into the [`Member`] every use case takes, so the
//! JSON API reuses the members' role rules unchanged.

use super::audit::Record;
use super::{Error, require};
use crate::app::state::AppState;
use crate::db::StoreError;
use crate::db::models::api_key::ApiKeyRow;
use crate::db::models::organization::Organization as OrgRow;
use crate::domain::access_key::{
    AccessKey, ApiKey, KEY_DAYS_MAX, KEY_NAME_MAX, KEY_ROLES, KeyKind,
};
use crate::domain::account::{Member, User};
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{ApiKeyId, OrgId, UserId};
use crate::domain::role::{Permission, Role};
use chrono::{Duration, NaiveDateTime};
use std::net::IpAddr;

/// A key is marked used at most this often (one write a minute per key, not one a request).
pub const TOUCH_EVERY_SECS: i64 = 60;

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<ApiKey, StoreError> {
        let role = Role::parse(&r.role)
            .filter(|r| KEY_ROLES.contains(r))
            .ok_or_else(|| StoreError::Corrupt(format!("api key role {:?}", r.role)))?;
        Ok(ApiKey {
            id: ApiKeyId::new(r.id),
            org_id: OrgId::new(r.org_id),
            name: r.name,
            role,
            hint: r.hint,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

/// A new key as asked for (checked by [`NewKey::check`]).
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub role: Role,
    /// `None`: never expires.
    pub expires_in_days: Option<i64>,
}

/// Why a new key's fields are refused (the page words each next to its field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFieldError {
    NameEmpty,
    NameTooLong,
    NameControl,
    /// Owner or Billing: an API key is Admin, DevOps or Viewer.
    RoleNotAllowed,
    DaysOutOfRange,
}

impl NewKey {
    /// The field errors of this request, by field name.
    pub fn check(&self) -> Vec<(&'static str, KeyFieldError)> {
        let mut errors = Vec::new();
        let n = self.name.trim().chars().count();
        if n == 0 {
            errors.push(("name", KeyFieldError::NameEmpty));
        } else if n > KEY_NAME_MAX {
            errors.push(("name", KeyFieldError::NameTooLong));
        } else if self.name.chars().any(char::is_control) {
            errors.push(("name", KeyFieldError::NameControl));
        }
        if !KEY_ROLES.contains(&self.role) {
            errors.push(("role", KeyFieldError::RoleNotAllowed));
        }
        if self
            .expires_in_days
            .is_some_and(|d| !(1..=KEY_DAYS_MAX).contains(&d))
        {
            errors.push(("expires_in_days", KeyFieldError::DaysOutOfRange));
        }
        errors
    }
}

/// A key just made: its value is in `value`, shown once (only its hash is stored).
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub value: AccessKey,
}

/// The organization's keys, newest first (revoked ones included).
pub async fn list(state: &AppState, member: &Member) -> Result<Vec<ApiKey>, Error> {
    require(member, Permission::ManageApiKeys)?;
    let org = member.org.id.clone();
    state
        .db(move |conn| {
            ApiKeyRow::list(conn, org.as_str())?
                .into_iter()
                .map(|r| Ok(ApiKey::try_from(r)?))
                .collect()
        })
        .await
}

/// Make a key. The caller checked the fields ([`NewKey::check`]); they are checked again here
/// and refused as a whole if wrong.
pub async fn create(state: &AppState, member: &Member, new: NewKey) -> Result<CreatedKey, Error> {
    require(member, Permission::ManageApiKeys)?;
    if !new.check().is_empty() {
        return Err(Error::BadRequest(super::BadRequest::ApiKeyFields));
    }
    let value = AccessKey::generate(KeyKind::Org);
    let now = state.clock.naive();
    let row = ApiKeyRow {
        id: ApiKeyId::random().into_string(),
        org_id: member.org.id.as_str().to_string(),
        name: new.name.trim().to_string(),
        role: new.role.as_str().to_string(),
        key_hash: value.hash(),
        hint: value.hint(),
        created_by: member.user.email.clone(),
        created_at: now,
        expires_at: new.expires_in_days.map(|d| now + Duration::days(d)),
        last_used_at: None,
        revoked_at: None,
    };
    let m = member.clone();
    let key = state
        .tx(move |conn| {
            ApiKeyRow::insert(conn, &row)?;
            let key = ApiKey::try_from(row)?;
            Record::by(&m, AuditAction::ApiKeyCreate)
                .details(details(&key))
                .write(conn, now)?;
            Ok(key)
        })
        .await?;
    tracing::info!(org = %member.org.slug, key = %key.id, hint = %key.hint, "API key created");
    Ok(CreatedKey { key, value })
}

fn details(k: &ApiKey) -> AuditDetails {
    AuditDetails {
        api_key: Some(k.name.clone()),
        hint: Some(k.hint.clone()),
        role: Some(k.role.as_str().to_string()),
        expires_at: k.expires_at.map(|e| e.format("%Y-%m-%d %H:%M").to_string()),
        key_id: Some(k.id.as_str().to_string()),
        ..AuditDetails::default()
    }
}

/// A key of the member's organization (the revoke confirmation); another organization's key is
/// `NotFound`.
pub async fn find(state: &AppState, member: &Member, id: &ApiKeyId) -> Result<ApiKey, Error> {
    require(member, Permission::ManageApiKeys)?;
    let (org, id) = (member.org.id.clone(), id.clone());
    state
        .db(move |conn| {
            let row =
                ApiKeyRow::list_one(conn, org.as_str(), id.as_str())?.ok_or(Error::NotFound)?;
            Ok(ApiKey::try_from(row)?)
        })
        .await
}

/// Revoke a key: it stops working at once. An unknown, another organization's or an already
/// revoked key is `NotFound`.
pub async fn revoke(state: &AppState, member: &Member, id: &ApiKeyId) -> Result<ApiKey, Error> {
    require(member, Permission::ManageApiKeys)?;
    let (m, id, now) = (member.clone(), id.clone(), state.clock.naive());
    state
        .tx(move |conn| {
            let row = ApiKeyRow::revoke(conn, m.org.id.as_str(), id.as_str(), now)?
                .ok_or(Error::NotFound)?;
            let key = ApiKey::try_from(row)?;
            Record::by(&m, AuditAction::ApiKeyRevoke)
                .details(details(&key))
                .write(conn, now)?;
            Ok(key)
        })
        .await
}

/// Why a presented key does not act in the organization asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Unknown, revoked or expired (401).
    Unauthenticated,
    /// A valid key of another organization, or no such organization (404, like a non-member).
    OtherOrganization,
}

/// The member a presented organization key acts as in the organization `slug`: the key's role,
/// the key as actor. Marks the key used (at most once a minute).
pub async fn authenticate(
    state: &AppState,
    key: &AccessKey,
    slug: &str,
    client_ip: Option<IpAddr>,
) -> Result<Result<Member, Refused>, Error> {
    if key.kind() != KeyKind::Org {
        return Ok(Err(Refused::Unauthenticated));
    }
    let (hash, slug, now) = (key.hash(), slug.to_string(), state.clock.naive());
    state
        .db(move |conn| {
            let Some(row) = ApiKeyRow::find_by_hash(conn, &hash)? else {
                return Ok(Err(Refused::Unauthenticated));
            };
            let key = ApiKey::try_from(row)?;
            if !key.active(now) {
                return Ok(Err(Refused::Unauthenticated));
            }
            let org = match OrgRow::find_by_slug(conn, &slug)? {
                Some(o) if o.id == key.org_id.as_str() => o,
                _ => return Ok(Err(Refused::OtherOrganization)),
            };
            if key
                .last_used_at
                .is_none_or(|t| t < now - Duration::seconds(TOUCH_EVERY_SECS))
            {
                ApiKeyRow::touch(
                    conn,
                    key.id.as_str(),
                    now,
                    now - Duration::seconds(TOUCH_EVERY_SECS),
                )?;
            }
            let actor = key.actor();
            Ok(Ok(Member {
                user: User {
                    id: UserId::new(format!("api-key:{}", key.id)),
                    email: actor.actor_name(),
                },
                org: org.into(),
                role: key.role,
                client_ip,
                via_key: Some(actor),
            }))
        })
        .await
}

/// Keys of every organization still active at `now` that expire before `horizon` (the expiry
/// notifications), at most `limit`.
pub fn expiring(
    conn: &mut crate::db::DbConn,
    now: NaiveDateTime,
    horizon: NaiveDateTime,
    limit: i64,
) -> Result<Vec<ApiKey>, Error> {
    ApiKeyRow::expiring(conn, now, horizon, limit)?
        .into_iter()
        .map(|r| Ok(ApiKey::try_from(r)?))
        .collect()
}

//! The inventory's reads (issue 5): its rows ([`InventoryRow`], read a chunk at a time by
//! `GitToken::inventory_chunk`) as typed [`InventoryToken`]s, and the names of the services
//! using a chunk's tokens.

use crate::db::models::token::InventoryRow;
use crate::db::schema::services;
use crate::db::{DbConn, StoreError};
use crate::domain::expiry::ExpirySource;
use crate::domain::ids::TokenId;
use crate::domain::inventory::InventoryToken;
use crate::domain::provider::{Hosting, Provider};
use crate::domain::status::TestStatus;
use crate::domain::token::Destination;
use diesel::prelude::*;
use std::collections::HashMap;

/// The part of a stored `TestOutcome` the inventory shows; the rest of the JSON (details,
/// warnings, fixes) is skipped, not allocated.
#[derive(Debug, Default, serde::Deserialize)]
struct LastTestScopes {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    missing: Vec<MissingName>,
}

#[derive(Debug, serde::Deserialize)]
struct MissingName {
    name: String,
}

fn corrupt(id: &str, what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("token {id}: unknown {what} {value:?}"))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// A stored row as the inventory's typed token, without services (the caller adds them). A
/// provider, hosting, status or expiry source the domain does not know, or an unreadable last
/// test, is an error — never a silent default.
impl TryFrom<InventoryRow> for InventoryToken {
    type Error = StoreError;

    fn try_from(r: InventoryRow) -> Result<InventoryToken, StoreError> {
        let provider =
            Provider::parse(&r.provider).ok_or_else(|| corrupt(&r.id, "provider", &r.provider))?;
        let hosting =
            Hosting::parse(&r.hosting).ok_or_else(|| corrupt(&r.id, "hosting", &r.hosting))?;
        let status =
            TestStatus::parse(&r.status).ok_or_else(|| corrupt(&r.id, "status", &r.status))?;
        let expiry_source = match r.expiry_source.as_deref() {
            None => None,
            Some(s) => {
                Some(ExpirySource::parse(s).ok_or_else(|| corrupt(&r.id, "expiry source", s))?)
            }
        };
        let last = match r.last_test.as_deref() {
            None => LastTestScopes::default(),
            Some(j) => serde_json::from_str::<LastTestScopes>(j)
                .map_err(|e| StoreError::Corrupt(format!("last test of {}: {e}", r.id)))?,
        };
        Ok(InventoryToken {
            id: TokenId::new(r.id),
            name: r.name,
            hint: r.hint,
            description: non_empty(r.description),
            // The inventory shows where tokens go, not the username sent with them.
            destination: Destination {
                username: None,
                provider,
                hosting,
                url: non_empty(r.url),
                workspace: non_empty(r.workspace),
            },
            account: non_empty(r.account),
            scopes: last.scopes,
            missing_permissions: last.missing.into_iter().map(|m| m.name).collect(),
            status,
            last_tested_at: r.last_tested_at,
            expires_at: r.expires_at,
            expiry_source,
            services: Vec::new(),
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
            rotated_at: r.rotated_at,
        })
    }
}

/// Token id → names of the services of the organization using it (by name), for the tokens
/// `ids` (one chunk of the inventory): one query, answered by the `services_token` index. (The
/// organization is checked on the rows: a condition on `org_id` in the query would make SQLite
/// scan the organization's services by `services_org` for every chunk.)
pub fn service_names_of(
    conn: &mut DbConn,
    org_id: &str,
    ids: &[&str],
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<String>, String, String)> = services::table
        .filter(services::token_id.eq_any(ids))
        .order((services::name.asc(), services::id.asc()))
        .select((services::token_id, services::name, services::org_id))
        .load(conn)?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (id, name, org) in rows {
        if let Some(id) = id.filter(|_| org == org_id) {
            map.entry(id).or_default().push(name);
        }
    }
    Ok(map)
}

/// Token id → names of the services using it (by name), for every token of the organization:
/// one query, for an inventory that lists every token.
pub fn service_names_in_org(
    conn: &mut DbConn,
    org_id: &str,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let rows: Vec<(Option<String>, String)> = services::table
        .filter(services::org_id.eq(org_id))
        .filter(services::token_id.is_not_null())
        .order((services::name.asc(), services::id.asc()))
        .select((services::token_id, services::name))
        .load(conn)?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (id, name) in rows {
        if let Some(id) = id {
            map.entry(id).or_default().push(name);
        }
    }
    Ok(map)
}

//! Service keys (`fks_…`, one service each; only the SHA-256 of a key is stored) and the record
//! of which services fetched a token's value: storage only. The rules are
//! `app::service_keys`'.

use crate::db::schema::{organizations, service_keys, services, token_fetches};
use crate::db::{DbConn, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_keys)]
pub struct ServiceKey {
    pub id: String,
    pub org_id: String,
    pub service_id: String,
    pub name: String,
    /// Lowercase hex SHA-256 of the whole key.
    pub key_hash: String,
    /// `fks_` and the first characters: tells keys apart, not usable.
    pub hint: String,
    /// E-mail of who made it (kept if that account goes).
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A key that is about to expire, with what a notification names.
#[derive(Debug, Clone)]
pub struct ExpiringKey {
    pub key: ServiceKey,
    pub service_name: String,
    pub org_slug: String,
    pub org_name: String,
}

impl ServiceKey {
    pub fn insert(conn: &mut DbConn, k: &ServiceKey) -> Result<(), StoreError> {
        diesel::insert_into(service_keys::table)
            .values(k)
            .execute(conn)?;
        Ok(())
    }

    /// The service's keys that are not revoked, newest first (a service has a handful).
    pub fn list_for_service(
        conn: &mut DbConn,
        org_id: &str,
        service_id: &str,
    ) -> Result<Vec<ServiceKey>, StoreError> {
        Ok(service_keys::table
            .filter(service_keys::org_id.eq(org_id))
            .filter(service_keys::service_id.eq(service_id))
            .filter(service_keys::revoked_at.is_null())
            .order((service_keys::created_at.desc(), service_keys::id.desc()))
            .select(ServiceKey::as_select())
            .load(conn)?)
    }

    /// One key of the service (revoked ones too).
    pub fn find_for_service(
        conn: &mut DbConn,
        org_id: &str,
        service_id: &str,
        id: &str,
    ) -> Result<Option<ServiceKey>, StoreError> {
        Ok(service_keys::table
            .filter(service_keys::org_id.eq(org_id))
            .filter(service_keys::service_id.eq(service_id))
            .filter(service_keys::id.eq(id))
            .select(ServiceKey::as_select())
            .first(conn)
            .optional()?)
    }

    /// The key whose value hashes to `key_hash`, whatever its state (the unique index).
    pub fn find_by_hash(
        conn: &mut DbConn,
        key_hash: &str,
    ) -> Result<Option<ServiceKey>, StoreError> {
        Ok(service_keys::table
            .filter(service_keys::key_hash.eq(key_hash))
            .select(ServiceKey::as_select())
            .first(conn)
            .optional()?)
    }

    /// Revoke it now; false when it already was.
    pub fn revoke(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<bool, StoreError> {
        let n = diesel::update(
            service_keys::table
                .filter(service_keys::id.eq(id))
                .filter(service_keys::revoked_at.is_null()),
        )
        .set(service_keys::revoked_at.eq(Some(at)))
        .execute(conn)?;
        Ok(n > 0)
    }

    /// Record a use.
    pub fn touch(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<(), StoreError> {
        diesel::update(service_keys::table.find(id))
            .set(service_keys::last_used_at.eq(Some(at)))
            .execute(conn)?;
        Ok(())
    }

    /// Keys not revoked whose expiry falls in `(now, until]`, with their service and
    /// organization (one join; the expiry index).
    pub fn expiring(
        conn: &mut DbConn,
        now: NaiveDateTime,
        until: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<ExpiringKey>, StoreError> {
        let rows: Vec<(ServiceKey, String, String, String)> = service_keys::table
            .inner_join(services::table)
            .inner_join(organizations::table.on(organizations::id.eq(service_keys::org_id)))
            .filter(service_keys::revoked_at.is_null())
            .filter(service_keys::expires_at.gt(now))
            .filter(service_keys::expires_at.le(until))
            .order((service_keys::expires_at.asc(), service_keys::id.asc()))
            .limit(limit)
            .select((
                ServiceKey::as_select(),
                services::name,
                organizations::slug,
                organizations::name,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(key, service_name, org_slug, org_name)| ExpiringKey {
                key,
                service_name,
                org_slug,
                org_name,
            })
            .collect())
    }
}

/// A service that fetched a token's value: when last, how often.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = token_fetches)]
pub struct TokenFetch {
    pub token_id: String,
    pub service_id: String,
    pub last_at: NaiveDateTime,
    pub fetches: i64,
}

impl TokenFetch {
    /// Count one fetch of the token by the service at `at` (an update, or the first row). Two
    /// first fetches at once: the loser's insert fails on the primary key inside a savepoint
    /// and it counts with an update instead.
    pub fn record(
        conn: &mut DbConn,
        token_id: &str,
        service_id: &str,
        at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let bump = |conn: &mut DbConn| -> Result<usize, diesel::result::Error> {
            diesel::update(
                token_fetches::table
                    .filter(token_fetches::token_id.eq(token_id))
                    .filter(token_fetches::service_id.eq(service_id)),
            )
            .set((
                token_fetches::last_at.eq(at),
                token_fetches::fetches.eq(token_fetches::fetches + 1),
            ))
            .execute(conn)
        };
        if bump(conn)? > 0 {
            return Ok(());
        }
        let row = TokenFetch {
            token_id: token_id.to_string(),
            service_id: service_id.to_string(),
            last_at: at,
            fetches: 1,
        };
        let inserted = conn.transaction(|c| {
            diesel::insert_into(token_fetches::table)
                .values(&row)
                .execute(c)
        });
        match inserted {
            Ok(_) => Ok(()),
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {
                bump(conn)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The services that fetched the token, most recent first, with their names: (service id,
    /// name, last fetch, fetches).
    pub fn for_token(
        conn: &mut DbConn,
        token_id: &str,
        limit: i64,
    ) -> Result<Vec<(String, String, NaiveDateTime, i64)>, StoreError> {
        Ok(token_fetches::table
            .inner_join(services::table)
            .filter(token_fetches::token_id.eq(token_id))
            .order((token_fetches::last_at.desc(), services::name.asc()))
            .limit(limit)
            .select((
                token_fetches::service_id,
                services::name,
                token_fetches::last_at,
                token_fetches::fetches,
            ))
            .load(conn)?)
    }
}

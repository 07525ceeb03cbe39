//! Services (applications) that deploy with an organization token: storage only. The rules
//! (validation against the token, unique names, moves) are `app::services` / `app::moves`'.

use crate::db::schema::{git_tokens, services};
use crate::db::{DbConn, StoreError};
use crate::domain::ids::{OrgId, ServiceId, TokenId};
use crate::domain::provider::Provider;
use crate::domain::service::{Access, Service as ServiceEntity, ServiceKind};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub kind: String,
    pub provider: String,
    pub access: String,
    pub token_id: Option<String>,
    pub repository: String,
    pub branch: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The unique, case-insensitive key of `name` (set by [`Service::insert`] and on save).
    pub name_key: String,
}

/// A service row with the name and status of the token it uses (NULL without one): one row of
/// the services list, read with one join.
pub type ServiceWithToken = (Service, Option<String>, Option<String>);

/// The values [`Service::legacy`] and [`Service::count_legacy`] look for.
const LEGACY: [&str; 2] = ["github_app", "personal"];

impl Service {
    pub fn insert(conn: &mut DbConn, s: &Service) -> Result<(), StoreError> {
        let mut row = s.clone();
        row.name_key = crate::domain::token::name_key(&s.name);
        diesel::insert_into(services::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    }

    /// Save every column of an existing row (the name key from the name).
    pub fn save(conn: &mut DbConn, s: &Service) -> Result<(), StoreError> {
        diesel::update(services::table.find(&s.id))
            .set((
                services::name.eq(&s.name),
                services::name_key.eq(crate::domain::token::name_key(&s.name)),
                services::kind.eq(&s.kind),
                services::provider.eq(&s.provider),
                services::access.eq(&s.access),
                services::token_id.eq(&s.token_id),
                services::repository.eq(&s.repository),
                services::branch.eq(&s.branch),
                services::updated_at.eq(s.updated_at),
            ))
            .execute(conn)?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
        diesel::delete(services::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// Take the row's write lock at the start of a transaction (a no-op update; see
    /// `GitToken::lock`).
    pub fn lock(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
        diesel::update(services::table.find(id))
            .set(services::updated_at.eq(services::updated_at))
            .execute(conn)?;
        Ok(())
    }

    pub fn using_token(conn: &mut DbConn, token_id: &str) -> Result<Vec<Service>, StoreError> {
        Ok(services::table
            .filter(services::token_id.eq(token_id))
            .order(services::name.asc())
            .select(Service::as_select())
            .load(conn)?)
    }

    /// The repositories the token's services use, each with the names of those services
    /// (repository coverage of a re-test).
    pub fn repositories_of(
        conn: &mut DbConn,
        token_id: &str,
    ) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for s in Service::using_token(conn, token_id)? {
            match out
                .iter_mut()
                .find(|(r, _)| r.eq_ignore_ascii_case(&s.repository))
            {
                Some((_, names)) => names.push(s.name),
                None => out.push((s.repository, vec![s.name])),
            }
        }
        Ok(out)
    }

    /// token id → number of services using it, for the given tokens only (one GROUP BY).
    pub fn usage_of(
        conn: &mut DbConn,
        token_ids: &[&str],
    ) -> Result<HashMap<String, i64>, StoreError> {
        if token_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(Option<String>, i64)> = services::table
            .filter(services::token_id.eq_any(token_ids))
            .group_by(services::token_id)
            .select((services::token_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, n)))
            .collect())
    }

    /// token id → number of services using it, for one organization (one GROUP BY).
    pub fn usage_counts(
        conn: &mut DbConn,
        org_id: &str,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let rows: Vec<(Option<String>, i64)> = services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::token_id.is_not_null())
            .group_by(services::token_id)
            .select((services::token_id, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, n)| id.map(|id| (id, n)))
            .collect())
    }

    /// Every service of the organization, by name (tests and tools; pages read a page).
    pub fn list_for_org(conn: &mut DbConn, org_id: &str) -> Result<Vec<Service>, StoreError> {
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .order((services::name.asc(), services::id.asc()))
            .select(Service::as_select())
            .load(conn)?)
    }

    /// One page of the organization's services by name (the unique name-key index), each with
    /// the name and status of its token: one query.
    pub fn list_page(
        conn: &mut DbConn,
        org_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ServiceWithToken>, StoreError> {
        Ok(services::table
            .left_join(git_tokens::table)
            .filter(services::org_id.eq(org_id))
            .order((services::name_key.asc(), services::id.asc()))
            .offset(offset)
            .limit(limit)
            .select((
                Service::as_select(),
                git_tokens::name.nullable(),
                git_tokens::status.nullable(),
            ))
            .load(conn)?)
    }

    /// One service of the organization with the name and status of its token.
    pub fn find_with_token(
        conn: &mut DbConn,
        org_id: &str,
        id: &str,
    ) -> Result<Option<ServiceWithToken>, StoreError> {
        Ok(services::table
            .left_join(git_tokens::table)
            .filter(services::org_id.eq(org_id))
            .filter(services::id.eq(id))
            .select((
                Service::as_select(),
                git_tokens::name.nullable(),
                git_tokens::status.nullable(),
            ))
            .first(conn)
            .optional()?)
    }

    /// Services of the organization, counted by the database.
    pub fn count_for_org(conn: &mut DbConn, org_id: &str) -> Result<i64, StoreError> {
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .count()
            .get_result(conn)?)
    }

    /// Services still on the legacy GitHub App or on personal accounts, counted by the
    /// database (index on `(org_id, access)`).
    pub fn count_legacy(conn: &mut DbConn, org_id: &str) -> Result<i64, StoreError> {
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::access.eq_any(LEGACY))
            .count()
            .get_result(conn)?)
    }

    pub fn find_in_org(
        conn: &mut DbConn,
        org_id: &str,
        id: &str,
    ) -> Result<Option<Service>, StoreError> {
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::id.eq(id))
            .select(Service::as_select())
            .first(conn)
            .optional()?)
    }

    /// Those of `ids` that are services of the organization.
    pub fn find_many_in_org(
        conn: &mut DbConn,
        org_id: &str,
        ids: &[&str],
    ) -> Result<Vec<Service>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::id.eq_any(ids))
            .order((services::name_key.asc(), services::id.asc()))
            .select(Service::as_select())
            .load(conn)?)
    }

    /// Services still on the legacy GitHub App or on personal accounts.
    pub fn legacy(conn: &mut DbConn, org_id: &str) -> Result<Vec<Service>, StoreError> {
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::access.eq_any(LEGACY))
            .order((services::name.asc(), services::id.asc()))
            .select(Service::as_select())
            .load(conn)?)
    }

    /// Whether another service of the organization has this name (case-insensitive): one
    /// lookup on the unique `(org_id, name_key)` index.
    pub fn name_taken(
        conn: &mut DbConn,
        org_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut q = services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::name_key.eq(crate::domain::token::name_key(name)))
            .into_boxed();
        if let Some(id) = except {
            q = q.filter(services::id.ne(id));
        }
        Ok(q.count().get_result::<i64>(conn)? > 0)
    }

    /// The row of a domain service (a new one: its name key is set on insert).
    pub fn of(s: &ServiceEntity) -> Service {
        Service {
            id: s.id.as_str().to_string(),
            org_id: s.org_id.as_str().to_string(),
            name: s.name.clone(),
            kind: s.kind.as_str().to_string(),
            provider: s.provider.as_str().to_string(),
            access: s.access.as_str().to_string(),
            token_id: s.token_id.as_ref().map(|t| t.as_str().to_string()),
            repository: s.repository.clone(),
            branch: s.branch.clone(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            name_key: crate::domain::token::name_key(&s.name),
        }
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown service {what} {value:?}"))
}

/// The domain service of a row; a kind, provider or access the domain does not know is an
/// error, never a silent default.
impl TryFrom<&Service> for ServiceEntity {
    type Error = StoreError;

    fn try_from(r: &Service) -> Result<ServiceEntity, StoreError> {
        Ok(ServiceEntity {
            id: ServiceId::new(r.id.clone()),
            org_id: OrgId::new(r.org_id.clone()),
            name: r.name.clone(),
            kind: ServiceKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
            provider: Provider::parse(&r.provider)
                .ok_or_else(|| corrupt("provider", &r.provider))?,
            access: Access::parse(&r.access).ok_or_else(|| corrupt("access", &r.access))?,
            token_id: r.token_id.clone().map(TokenId::new),
            repository: r.repository.clone(),
            branch: r.branch.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl TryFrom<Service> for ServiceEntity {
    type Error = StoreError;

    fn try_from(r: Service) -> Result<ServiceEntity, StoreError> {
        ServiceEntity::try_from(&r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, access: &str) -> Service {
        Service {
            id: "s1".into(),
            org_id: "o1".into(),
            name: "Api".into(),
            kind: kind.into(),
            provider: "github".into(),
            access: access.into(),
            token_id: Some("t1".into()),
            repository: "acme/api".into(),
            branch: "main".into(),
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
            name_key: "api".into(),
        }
    }

    #[test]
    fn rows_convert_to_typed_services_and_refuse_unknown_values() {
        let s = ServiceEntity::try_from(&row("cron", "token")).ok();
        assert_eq!(s.as_ref().map(|s| s.kind), Some(ServiceKind::Cron));
        assert_eq!(s.as_ref().map(|s| s.access), Some(Access::Token));
        assert!(matches!(
            ServiceEntity::try_from(&row("daemon", "token")),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            ServiceEntity::try_from(&row("cron", "ssh")),
            Err(StoreError::Corrupt(_))
        ));
        let back = s.map(|s| Service::of(&s));
        assert_eq!(back.map(|b| b.name_key), Some("api".to_string()));
    }
}

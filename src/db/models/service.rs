//! Services (applications) that deploy with an organization token. Issue 4 builds their pages;
//! the core needs them to show usage and to refuse deleting a token in use.

use crate::db::models::audit::Audit;
use crate::db::models::token::GitToken;
use crate::db::schema::services;
use crate::db::{DbConn, StoreError, now};
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

impl Service {
    pub fn insert(conn: &mut DbConn, s: &Service) -> Result<(), StoreError> {
        let mut row = s.clone();
        row.name_key = crate::domain::token::name_key(&s.name);
        diesel::insert_into(services::table)
            .values(&row)
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

    /// token id → number of services using it, for one organization.
    pub fn usage_counts(
        conn: &mut DbConn,
        org_id: &str,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let ids: Vec<Option<String>> = services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::token_id.is_not_null())
            .select(services::token_id)
            .load(conn)?;
        let mut counts = HashMap::new();
        for id in ids.into_iter().flatten() {
            *counts.entry(id).or_insert(0) += 1;
        }
        Ok(counts)
    }
}

/// What a service is (`kind`).
pub const KINDS: [(&str, &str); 3] = [
    ("application", "Application"),
    ("cron", "Cron job"),
    ("helm", "Helm chart"),
];

/// How a service reaches Git (`access`).
pub const ACCESS: [(&str, &str); 3] = [
    ("token", "Organization token"),
    ("github_app", "GitHub App (legacy)"),
    ("personal", "Personal account"),
];

pub fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, l)| *l)
        .unwrap_or(kind)
}

pub fn access_label(access: &str) -> &str {
    ACCESS
        .iter()
        .find(|(k, _)| *k == access)
        .map(|(_, l)| *l)
        .unwrap_or(access)
}

/// Why a service operation did not happen, in words for the page.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("A service named {0:?} already exists in this organization. Choose another name.")]
    DuplicateName(String),
    #[error("{0}")]
    Stale(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> ServiceError {
        ServiceError::Store(StoreError::Query(e))
    }
}

/// Who did it, for the audit trail.
pub struct Actor<'a> {
    pub id: &'a str,
    pub email: &'a str,
}

fn audit(action: &'static str, s: &Service, token_name: Option<&str>, actor: &Actor<'_>) -> Audit {
    let mut a = Audit::new(action);
    a.org_id = Some(s.org_id.clone());
    a.actor_user_id = Some(actor.id.to_string());
    a.actor_email = Some(actor.email.to_string());
    a.token_id = s.token_id.clone();
    a.token_name = token_name.map(str::to_string);
    a
}

/// Field names that differ between two versions of a service.
pub fn changed_fields(old: &Service, new: &Service) -> Vec<&'static str> {
    let mut f = Vec::new();
    for (name, a, b) in [
        ("name", &old.name, &new.name),
        ("kind", &old.kind, &new.kind),
        ("provider", &old.provider, &new.provider),
        ("access", &old.access, &new.access),
        ("repository", &old.repository, &new.repository),
        ("branch", &old.branch, &new.branch),
    ] {
        if a != b {
            f.push(name);
        }
    }
    if old.token_id != new.token_id {
        f.push("token_id");
    }
    f
}

impl Service {
    /// Every service of the organization, by name.
    pub fn list_for_org(conn: &mut DbConn, org_id: &str) -> Result<Vec<Service>, StoreError> {
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .order((services::name.asc(), services::id.asc()))
            .select(Service::as_select())
            .load(conn)?)
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

    /// Services still on the legacy GitHub App or on personal accounts.
    pub fn legacy(conn: &mut DbConn, org_id: &str) -> Result<Vec<Service>, StoreError> {
        Ok(services::table
            .filter(services::org_id.eq(org_id))
            .filter(services::access.eq_any(["github_app", "personal"]))
            .order((services::name.asc(), services::id.asc()))
            .select(Service::as_select())
            .load(conn)?)
    }

    /// Whether another service of the organization has this name (case-insensitive).
    pub fn name_taken(
        conn: &mut DbConn,
        org_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> Result<bool, StoreError> {
        let key = name.trim().to_lowercase();
        let rows: Vec<(String, String)> = services::table
            .filter(services::org_id.eq(org_id))
            .select((services::id, services::name))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .any(|(id, n)| n.trim().to_lowercase() == key && Some(id.as_str()) != except))
    }

    fn save(conn: &mut DbConn, s: &Service) -> Result<(), StoreError> {
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

    /// Create a service (audited), refusing a duplicate name.
    pub fn create(
        conn: &mut DbConn,
        s: &Service,
        token_name: Option<&str>,
        actor: &Actor<'_>,
    ) -> Result<(), ServiceError> {
        conn.transaction(|conn| {
            if Service::name_taken(conn, &s.org_id, &s.name, None)? {
                return Err(ServiceError::DuplicateName(s.name.clone()));
            }
            Service::insert(conn, s)?;
            let mut a = audit("service.create", s, token_name, actor);
            a.details = serde_json::json!({
                "service_id": s.id, "service": s.name, "access": s.access,
                "fields": ["name", "kind", "provider", "access", "token_id", "repository", "branch"],
            });
            a.write(conn)?;
            Ok(())
        })
    }

    /// Save an edited service (audited with the changed field names).
    pub fn update(
        conn: &mut DbConn,
        old: &Service,
        new: &Service,
        token_name: Option<&str>,
        actor: &Actor<'_>,
    ) -> Result<Vec<&'static str>, ServiceError> {
        conn.transaction(|conn| {
            if Service::name_taken(conn, &new.org_id, &new.name, Some(&new.id))? {
                return Err(ServiceError::DuplicateName(new.name.clone()));
            }
            let fields = changed_fields(old, new);
            if fields.is_empty() {
                return Ok(fields);
            }
            Service::save(conn, new)?;
            let mut a = audit("service.update", new, token_name, actor);
            a.details = serde_json::json!({
                "service_id": new.id, "service": new.name, "fields": fields,
            });
            a.write(conn)?;
            Ok(fields)
        })
    }

    /// Delete a service (audited).
    pub fn delete(
        conn: &mut DbConn,
        s: &Service,
        token_name: Option<&str>,
        actor: &Actor<'_>,
    ) -> Result<(), ServiceError> {
        conn.transaction(|conn| {
            diesel::delete(services::table.find(&s.id)).execute(conn)?;
            let mut a = audit("service.delete", s, token_name, actor);
            a.details = serde_json::json!({"service_id": s.id, "service": s.name});
            a.write(conn)?;
            Ok(())
        })
    }

    /// Point `ids` at `target` in one transaction: all or nothing. Each service must still
    /// be what the caller checked (`expect`: its token id, or `None` = legacy access), else
    /// nothing moves. Audited on the source token (if any) and on the target token.
    pub fn move_to_token(
        conn: &mut DbConn,
        org_id: &str,
        ids: &[String],
        expect: Option<&GitToken>,
        target: &GitToken,
        actor: &Actor<'_>,
    ) -> Result<usize, ServiceError> {
        conn.transaction(|conn| {
            let mut moved = Vec::new();
            for id in ids {
                let Some(s) = Service::find_in_org(conn, org_id, id)? else {
                    return Err(ServiceError::Stale(
                        "A selected service no longer exists. Nothing was moved; reload the page."
                            .into(),
                    ));
                };
                let still = match expect {
                    Some(t) => s.token_id.as_deref() == Some(t.id.as_str()),
                    None => s.access == "github_app" || s.access == "personal",
                };
                if !still {
                    return Err(ServiceError::Stale(format!(
                        "“{}” changed in the meantime. Nothing was moved; reload the page.",
                        s.name
                    )));
                }
                let mut n = s.clone();
                n.access = "token".into();
                n.token_id = Some(target.id.clone());
                n.provider = target.provider.clone();
                n.updated_at = now();
                Service::save(conn, &n)?;
                moved.push(s);
            }
            let names: Vec<&str> = moved.iter().map(|s| s.name.as_str()).collect();
            let ids: Vec<&str> = moved.iter().map(|s| s.id.as_str()).collect();
            let action = if expect.is_some() {
                "service.move"
            } else {
                "service.migrate"
            };
            if let Some(src) = expect {
                let mut a = Audit::new(action);
                a.org_id = Some(org_id.to_string());
                a.actor_user_id = Some(actor.id.to_string());
                a.actor_email = Some(actor.email.to_string());
                a.token_id = Some(src.id.clone());
                a.token_name = Some(src.name.clone());
                a.details = serde_json::json!({
                    "direction": "out", "to_token_id": target.id, "to_token": target.name,
                    "services": names, "service_ids": ids,
                });
                a.write(conn)?;
            }
            let mut a = Audit::new(action);
            a.org_id = Some(org_id.to_string());
            a.actor_user_id = Some(actor.id.to_string());
            a.actor_email = Some(actor.email.to_string());
            a.token_id = Some(target.id.clone());
            a.token_name = Some(target.name.clone());
            a.details = serde_json::json!({
                "direction": "in",
                "from_token_id": expect.map(|t| t.id.clone()),
                "from_token": expect.map(|t| t.name.clone()),
                "services": names, "service_ids": ids,
            });
            a.write(conn)?;
            Ok(moved.len())
        })
    }
}

//! Stored Git provider tokens. The `secret` column holds only ciphertext (see `crypto::secret_box`).

use crate::db::schema::git_tokens;
use crate::db::{DbConn, StoreError, now};
use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::{TestOutcome, TestStatus};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = git_tokens, treat_none_as_null = true)]
pub struct GitToken {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub name_key: String,
    pub provider: String,
    pub hosting: String,
    pub url: Option<String>,
    pub workspace: Option<String>,
    pub description: Option<String>,
    pub secret: Vec<u8>,
    pub key_id: String,
    pub hint: String,
    pub status: String,
    pub last_tested_at: Option<NaiveDateTime>,
    pub account: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    /// `provider`, `admin` or NULL (unknown).
    pub expiry_source: Option<String>,
    /// JSON of the last [`TestOutcome`].
    pub last_test: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    /// Bitbucket API tokens and app passwords: the username sent with the token (HTTP Basic).
    pub username: Option<String>,
}

/// The columns of a token the inventory reads (`GitToken::inventory_chunk`): no `secret`,
/// `hint`, `key_id` or `org_id`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = git_tokens)]
pub struct InventoryRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub provider: String,
    pub hosting: String,
    pub url: Option<String>,
    pub workspace: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub last_tested_at: Option<NaiveDateTime>,
    pub account: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub expiry_source: Option<String>,
    /// JSON of the last [`TestOutcome`]; the inventory reads only its scopes and missing
    /// permissions.
    pub last_test: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
}

/// List filters (DESIGN.md §2: `q`, `provider`, `status`).
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    pub q: Option<String>,
    pub provider: Option<Provider>,
    pub status: Option<TestStatus>,
}

/// The case-insensitive key a name is unique by.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl GitToken {
    pub fn provider(&self) -> Provider {
        Provider::parse(&self.provider).unwrap_or(Provider::Github)
    }
    pub fn hosting(&self) -> Hosting {
        Hosting::parse(&self.hosting).unwrap_or(Hosting::Cloud)
    }
    pub fn status(&self) -> TestStatus {
        TestStatus::parse(&self.status).unwrap_or(TestStatus::NotTested)
    }
    pub fn last_outcome(&self) -> Option<TestOutcome> {
        self.last_test
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
    }

    pub fn insert(conn: &mut DbConn, t: &GitToken) -> Result<(), StoreError> {
        diesel::insert_into(git_tokens::table)
            .values(t)
            .execute(conn)?;
        Ok(())
    }

    /// Save all columns of an existing row.
    pub fn save(conn: &mut DbConn, t: &GitToken) -> Result<(), StoreError> {
        diesel::update(git_tokens::table.find(&t.id))
            .set(t)
            .execute(conn)?;
        Ok(())
    }

    /// A token of this organization. A token of another organization is `None` (→ 404).
    pub fn find_in_org(
        conn: &mut DbConn,
        org_id: &str,
        id: &str,
    ) -> Result<Option<GitToken>, StoreError> {
        Ok(git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .filter(git_tokens::id.eq(id))
            .select(GitToken::as_select())
            .first(conn)
            .optional()?)
    }

    /// Whether another token of the organization already has this name (case-insensitive).
    pub fn name_taken(
        conn: &mut DbConn,
        org_id: &str,
        name: &str,
        except_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut q = git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .filter(git_tokens::name_key.eq(name_key(name)))
            .into_boxed();
        if let Some(id) = except_id {
            q = q.filter(git_tokens::id.ne(id));
        }
        Ok(q.count().get_result::<i64>(conn)? > 0)
    }

    fn filtered<'a>(
        org_id: &'a str,
        f: &'a TokenFilter,
    ) -> git_tokens::BoxedQuery<'a, crate::db::MultiBackend> {
        let mut q = git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .into_boxed();
        if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let escaped = name_key(text)
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.filter(
                git_tokens::name_key
                    .like(format!("%{escaped}%"))
                    .escape('\\'),
            );
        }
        if let Some(p) = f.provider {
            q = q.filter(git_tokens::provider.eq(p.as_str()));
        }
        if let Some(s) = f.status {
            q = q.filter(git_tokens::status.eq(s.as_str()));
        }
        q
    }

    /// One page of tokens by name, and the total matching.
    pub fn list(
        conn: &mut DbConn,
        org_id: &str,
        filter: &TokenFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<GitToken>, i64), StoreError> {
        let total: i64 = GitToken::filtered(org_id, filter)
            .count()
            .get_result(conn)?;
        let rows = GitToken::filtered(org_id, filter)
            .order((git_tokens::name_key.asc(), git_tokens::id.asc()))
            .offset(offset)
            .limit(limit)
            .select(GitToken::as_select())
            .load(conn)?;
        Ok((rows, total))
    }

    /// Every token of the organization matching the filter (inventory, exports).
    pub fn all(
        conn: &mut DbConn,
        org_id: &str,
        filter: &TokenFilter,
    ) -> Result<Vec<GitToken>, StoreError> {
        Ok(GitToken::filtered(org_id, filter)
            .order((git_tokens::name_key.asc(), git_tokens::id.asc()))
            .select(GitToken::as_select())
            .load(conn)?)
    }

    /// One chunk of the inventory: up to `limit` tokens matching the filter, by name, after the
    /// `(name_key, id)` of the previous chunk's last row (keyset paging, so a large organization
    /// is read a chunk at a time). Only the columns the inventory shows: never `secret` or `hint`.
    pub fn inventory_chunk(
        conn: &mut DbConn,
        org_id: &str,
        filter: &TokenFilter,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<InventoryRow>, StoreError> {
        let mut q = GitToken::filtered(org_id, filter);
        if let Some((key, id)) = after {
            q = q.filter(
                git_tokens::name_key
                    .gt(key.to_string())
                    .or(git_tokens::name_key
                        .eq(key.to_string())
                        .and(git_tokens::id.gt(id.to_string()))),
            );
        }
        Ok(q.order((git_tokens::name_key.asc(), git_tokens::id.asc()))
            .limit(limit)
            .select(InventoryRow::as_select())
            .load(conn)?)
    }

    /// How many tokens need attention: a failing status, expired, or expiring within 30 days.
    pub fn needing_attention(
        conn: &mut DbConn,
        org_id: &str,
        now: NaiveDateTime,
    ) -> Result<i64, StoreError> {
        let bad = [
            TestStatus::Invalid.as_str(),
            TestStatus::Expired.as_str(),
            TestStatus::Unreachable.as_str(),
            TestStatus::Error.as_str(),
            TestStatus::MissingPermissions.as_str(),
        ];
        Ok(git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .filter(
                git_tokens::status
                    .eq_any(bad)
                    .or(git_tokens::expires_at.le(now + chrono::Duration::days(30))),
            )
            .count()
            .get_result(conn)?)
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
        diesel::delete(git_tokens::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// Every token id with its key id (for `keys rotate`).
    pub fn all_ids(conn: &mut DbConn) -> Result<Vec<(String, String)>, StoreError> {
        Ok(git_tokens::table
            .select((git_tokens::id, git_tokens::key_id))
            .load(conn)?)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<GitToken>, StoreError> {
        Ok(git_tokens::table
            .find(id)
            .select(GitToken::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn set_secret(
        conn: &mut DbConn,
        id: &str,
        secret: &[u8],
        key_id: &str,
    ) -> Result<(), StoreError> {
        diesel::update(git_tokens::table.find(id))
            .set((git_tokens::secret.eq(secret), git_tokens::key_id.eq(key_id)))
            .execute(conn)?;
        Ok(())
    }

    /// Record a test result on the row.
    pub fn apply_outcome(&mut self, outcome: &TestOutcome) {
        self.status = outcome.status.as_str().to_string();
        self.last_tested_at = Some(outcome.tested_at.naive_utc());
        if outcome.account.is_some() {
            self.account.clone_from(&outcome.account);
        }
        if let Some(exp) = outcome.expires_at {
            self.expires_at = Some(exp.naive_utc());
            self.expiry_source = Some("provider".into());
        } else if outcome.never_expires {
            self.expires_at = None;
            self.expiry_source = Some("provider".into());
        }
        self.last_test = serde_json::to_string(outcome).ok();
        self.updated_at = now();
    }
}

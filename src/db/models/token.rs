//! Stored Git provider tokens. The `secret` column holds only ciphertext (see `crypto::secret_box`).

use crate::db::schema::git_tokens;
use crate::db::{DbConn, StoreError, now};
use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::TestOutcome;
use crate::domain::token::{Destination, identity_key};
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
    /// Duplicate detection key (`domain::token::identity_key`); set by [`GitToken::insert`] and
    /// [`GitToken::save`] from the other columns.
    pub identity_key: Option<String>,
}

pub use super::token_queries::{InventoryRow, TokenListRow};
pub use crate::domain::token::{TokenFilter, name_key};

impl GitToken {
    /// The duplicate-detection key of this row's destination and account.
    fn computed_identity(&self) -> Option<String> {
        let d = Destination {
            provider: Provider::parse(&self.provider)?,
            hosting: Hosting::parse(&self.hosting)?,
            url: self.url.clone(),
            workspace: self.workspace.clone(),
            username: self.username.clone(),
        };
        identity_key(&d, self.account.as_deref())
    }

    pub fn insert(conn: &mut DbConn, t: &GitToken) -> Result<(), StoreError> {
        let mut row = t.clone();
        row.identity_key = t.computed_identity();
        diesel::insert_into(git_tokens::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    }

    /// Save all columns of an existing row.
    pub fn save(conn: &mut DbConn, t: &GitToken) -> Result<(), StoreError> {
        let mut row = t.clone();
        row.identity_key = t.computed_identity();
        diesel::update(git_tokens::table.find(&t.id))
            .set(&row)
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

    /// Take the row's write lock at the start of a transaction (a no-op update): see
    /// `app::checks::record`.
    pub fn lock(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
        diesel::update(git_tokens::table.find(id))
            .set(git_tokens::updated_at.eq(git_tokens::updated_at))
            .execute(conn)?;
        Ok(())
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

impl GitToken {
    /// The stored last test result; an unreadable one is an error.
    pub fn outcome(&self) -> Result<Option<TestOutcome>, StoreError> {
        match self.last_test.as_deref() {
            None => Ok(None),
            Some(j) => serde_json::from_str(j)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("last test of {}: {e}", self.id))),
        }
    }
}

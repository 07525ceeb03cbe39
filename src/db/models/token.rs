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
    /// the writes below from the other columns.
    pub identity_key: Option<String>,
    /// Bumped by every change an admin makes (edit, rotation, new value); the writes of those
    /// are conditional on the version the change was decided on (optimistic concurrency).
    /// Test results and re-sealing under a new master key leave it alone.
    pub version: i64,
    /// The hint of the value the last rotation replaced (to name the old token to revoke).
    pub previous_hint: Option<String>,
    /// The kind of that replaced value, as its last test detected it.
    pub previous_kind: Option<String>,
}

/// Name, description and destination: what an edit changes.
#[derive(AsChangeset)]
#[diesel(table_name = git_tokens, treat_none_as_null = true)]
struct Fields<'a> {
    name: &'a str,
    name_key: &'a str,
    provider: &'a str,
    hosting: &'a str,
    url: Option<&'a str>,
    workspace: Option<&'a str>,
    username: Option<&'a str>,
    description: Option<&'a str>,
}

/// The sealed value.
#[derive(AsChangeset)]
#[diesel(table_name = git_tokens)]
struct Sealed<'a> {
    secret: &'a [u8],
    key_id: &'a str,
    hint: &'a str,
}

/// A test result.
#[derive(AsChangeset)]
#[diesel(table_name = git_tokens, treat_none_as_null = true)]
struct Tested<'a> {
    status: &'a str,
    last_tested_at: Option<NaiveDateTime>,
    account: Option<&'a str>,
    last_test: Option<&'a str>,
}

/// Expiry, duplicate key and time of the change: every write sets them.
#[derive(AsChangeset)]
#[diesel(table_name = git_tokens, treat_none_as_null = true)]
struct Stamp<'a> {
    expires_at: Option<NaiveDateTime>,
    expiry_source: Option<&'a str>,
    identity_key: Option<String>,
    updated_at: NaiveDateTime,
}

impl GitToken {
    fn fields(&self) -> Fields<'_> {
        Fields {
            name: &self.name,
            name_key: &self.name_key,
            provider: &self.provider,
            hosting: &self.hosting,
            url: self.url.as_deref(),
            workspace: self.workspace.as_deref(),
            username: self.username.as_deref(),
            description: self.description.as_deref(),
        }
    }

    fn sealed(&self) -> Sealed<'_> {
        Sealed {
            secret: &self.secret,
            key_id: &self.key_id,
            hint: &self.hint,
        }
    }

    fn tested(&self) -> Tested<'_> {
        Tested {
            status: &self.status,
            last_tested_at: self.last_tested_at,
            account: self.account.as_deref(),
            last_test: self.last_test.as_deref(),
        }
    }

    fn stamp(&self) -> Stamp<'_> {
        Stamp {
            expires_at: self.expires_at,
            expiry_source: self.expiry_source.as_deref(),
            identity_key: self.computed_identity(),
            updated_at: self.updated_at,
        }
    }
}

pub use super::token_queries::{InventoryRow, TokenListRow};

/// A row's sealed value, for re-sealing under a new master key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = git_tokens)]
pub struct SealedRow {
    pub id: String,
    pub name: String,
    pub key_id: String,
    pub secret: Vec<u8>,
}
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

    /// Save an edit of `t` made on the row at `version`: name, description, destination and
    /// expiry — and, with `new_value`, the sealed value and its test — never the secret
    /// otherwise; version + 1. False (nothing written) if the row is no longer at `version`.
    pub fn write_edit(
        conn: &mut DbConn,
        t: &GitToken,
        version: i64,
        new_value: bool,
    ) -> Result<bool, StoreError> {
        let row = git_tokens::table
            .filter(git_tokens::id.eq(&t.id))
            .filter(git_tokens::version.eq(version));
        let bump = git_tokens::version.eq(git_tokens::version + 1);
        let by = git_tokens::updated_by.eq(t.updated_by.as_deref());
        let n = if new_value {
            diesel::update(row)
                .set((t.fields(), t.sealed(), t.tested(), t.stamp(), by, bump))
                .execute(conn)?
        } else {
            diesel::update(row)
                .set((t.fields(), t.stamp(), by, bump))
                .execute(conn)?
        };
        Ok(n == 1)
    }

    /// Save a rotation of `t` decided on the row at `version`: the sealed value, its test,
    /// expiry and `rotated_at`; version + 1. False if the row is no longer at `version`.
    pub fn write_rotation(
        conn: &mut DbConn,
        t: &GitToken,
        version: i64,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            git_tokens::table
                .filter(git_tokens::id.eq(&t.id))
                .filter(git_tokens::version.eq(version)),
        )
        .set((
            t.sealed(),
            t.tested(),
            t.stamp(),
            git_tokens::rotated_at.eq(t.rotated_at),
            git_tokens::previous_hint.eq(t.previous_hint.as_deref()),
            git_tokens::previous_kind.eq(t.previous_kind.as_deref()),
            git_tokens::updated_by.eq(t.updated_by.as_deref()),
            git_tokens::version.eq(git_tokens::version + 1),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Save a test result on `t` (status, account, expiry, the result JSON) if the row is
    /// still at `version`; the version stays (a result changes nothing an admin edits).
    pub fn write_result(conn: &mut DbConn, t: &GitToken, version: i64) -> Result<bool, StoreError> {
        let n = diesel::update(
            git_tokens::table
                .filter(git_tokens::id.eq(&t.id))
                .filter(git_tokens::version.eq(version)),
        )
        .set((t.tested(), t.stamp()))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Re-sealed under another master key (`keys rotate`): the same value, so the version and
    /// the time of the last change stay. Only if the row still holds the ciphertext `old`.
    pub fn reseal(
        conn: &mut DbConn,
        id: &str,
        old: &[u8],
        secret: &[u8],
        key_id: &str,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            git_tokens::table
                .filter(git_tokens::id.eq(id))
                .filter(git_tokens::secret.eq(old)),
        )
        .set((git_tokens::secret.eq(secret), git_tokens::key_id.eq(key_id)))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Up to `limit` rows sealed under another key than `key_id`, by id after `after`.
    pub fn sealed_chunk(
        conn: &mut DbConn,
        key_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SealedRow>, StoreError> {
        let mut q = git_tokens::table
            .filter(git_tokens::key_id.ne(key_id))
            .into_boxed();
        if let Some(a) = after {
            q = q.filter(git_tokens::id.gt(a));
        }
        Ok(q.order(git_tokens::id.asc())
            .limit(limit)
            .select(SealedRow::as_select())
            .load(conn)?)
    }

    /// Save all columns of an existing row, unconditionally: for seeding and tests only (the
    /// use cases write the columns they change, on the version they read).
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

    pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<GitToken>, StoreError> {
        Ok(git_tokens::table
            .find(id)
            .select(GitToken::as_select())
            .first(conn)
            .optional()?)
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

//! Stored Git provider tokens. The `secret` column holds only ciphertext (see `crypto::secret_box`).

use crate::db::schema::git_tokens;
use crate::db::{DbConn, StoreError, now};
use crate::domain::expiry::ExpirySource;
use crate::domain::ids::{OrgId, TokenId};
use crate::domain::provider::{Hosting, Provider};
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::domain::token::{Destination, Token, identity_key};
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
    /// Duplicate detection key (`domain::token::identity_key`); set by [`GitToken::insert`] and
    /// [`GitToken::save`] from the other columns.
    pub identity_key: Option<String>,
}

/// The columns of a token the list pages show (no ciphertext, no last-test JSON).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = git_tokens)]
pub struct TokenListRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub provider: String,
    pub hosting: String,
    pub url: Option<String>,
    pub workspace: Option<String>,
    pub description: Option<String>,
    pub hint: String,
    pub status: String,
    pub last_tested_at: Option<NaiveDateTime>,
    pub account: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub expiry_source: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub identity_key: Option<String>,
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

pub use crate::domain::token::{TokenFilter, name_key};

impl GitToken {
    /// The duplicate-detection key of this row's destination and account.
    fn computed_identity(&self) -> Option<String> {
        let d = Destination {
            provider: Provider::parse(&self.provider)?,
            hosting: Hosting::parse(&self.hosting)?,
            url: self.url.clone(),
            workspace: self.workspace.clone(),
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

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {value:?}"))
}

/// Build the domain token from its columns; a value the domain does not know is an error,
/// never a silent default.
#[allow(clippy::too_many_arguments)]
fn domain_token(
    id: &str,
    org_id: &str,
    name: &str,
    provider: &str,
    hosting: &str,
    url: &Option<String>,
    workspace: &Option<String>,
    status: &str,
    expiry_source: &Option<String>,
) -> Result<(Token, TestStatus), StoreError> {
    let status = TestStatus::parse(status).ok_or_else(|| corrupt("status", status))?;
    let source = match expiry_source.as_deref() {
        None => None,
        Some(s) => Some(ExpirySource::parse(s).ok_or_else(|| corrupt("expiry source", s))?),
    };
    let destination = Destination {
        provider: Provider::parse(provider).ok_or_else(|| corrupt("provider", provider))?,
        hosting: Hosting::parse(hosting).ok_or_else(|| corrupt("hosting", hosting))?,
        url: url.clone(),
        workspace: workspace.clone(),
    };
    let t = Token {
        id: TokenId::new(id),
        org_id: OrgId::new(org_id),
        name: name.to_string(),
        destination,
        description: None,
        hint: String::new(),
        status,
        last_tested_at: None,
        account: None,
        expires_at: None,
        expiry_source: source,
        created_by: None,
        created_at: NaiveDateTime::default(),
        updated_by: None,
        updated_at: NaiveDateTime::default(),
        rotated_at: None,
    };
    Ok((t, status))
}

impl TryFrom<&GitToken> for Token {
    type Error = StoreError;

    fn try_from(r: &GitToken) -> Result<Token, StoreError> {
        let (t, _) = domain_token(
            &r.id,
            &r.org_id,
            &r.name,
            &r.provider,
            &r.hosting,
            &r.url,
            &r.workspace,
            &r.status,
            &r.expiry_source,
        )?;
        Ok(Token {
            description: r.description.clone(),
            hint: r.hint.clone(),
            last_tested_at: r.last_tested_at,
            account: r.account.clone(),
            expires_at: r.expires_at,
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            updated_by: r.updated_by.clone(),
            updated_at: r.updated_at,
            rotated_at: r.rotated_at,
            ..t
        })
    }
}

impl TryFrom<TokenListRow> for Token {
    type Error = StoreError;

    fn try_from(r: TokenListRow) -> Result<Token, StoreError> {
        let (t, _) = domain_token(
            &r.id,
            &r.org_id,
            &r.name,
            &r.provider,
            &r.hosting,
            &r.url,
            &r.workspace,
            &r.status,
            &r.expiry_source,
        )?;
        Ok(Token {
            description: r.description,
            hint: r.hint,
            last_tested_at: r.last_tested_at,
            account: r.account,
            expires_at: r.expires_at,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
            rotated_at: r.rotated_at,
            ..t
        })
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

    /// Page-shaped queries: one page of the list, by name, without ciphertext or test JSON.
    pub fn list_page(
        conn: &mut DbConn,
        org_id: &str,
        filter: &TokenFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<TokenListRow>, StoreError> {
        Ok(GitToken::filtered(org_id, filter)
            .order((git_tokens::name_key.asc(), git_tokens::id.asc()))
            .offset(offset)
            .limit(limit)
            .select(TokenListRow::as_select())
            .load(conn)?)
    }

    /// Tokens matching the filter, counted by the database.
    pub fn count(conn: &mut DbConn, org_id: &str, filter: &TokenFilter) -> Result<i64, StoreError> {
        Ok(GitToken::filtered(org_id, filter)
            .count()
            .get_result(conn)?)
    }

    /// Every token of the organization as listed (names, statuses, accounts): for pickers.
    pub fn list_all(
        conn: &mut DbConn,
        org_id: &str,
        provider: Option<Provider>,
    ) -> Result<Vec<TokenListRow>, StoreError> {
        let filter = TokenFilter {
            provider,
            ..TokenFilter::default()
        };
        GitToken::list_page(conn, org_id, &filter, 0, i64::MAX)
    }

    /// Of `keys`, those that more than one token of the organization shares (saved twice).
    pub fn shared_identities(
        conn: &mut DbConn,
        org_id: &str,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        if keys.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(Option<String>, i64)> = git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .filter(git_tokens::identity_key.eq_any(keys))
            .group_by(git_tokens::identity_key)
            .select((git_tokens::identity_key, diesel::dsl::count_star()))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .filter_map(|(k, _)| k)
            .collect())
    }

    /// How many tokens need attention: a failing status, or an expiry within the attention
    /// horizon. Two counts the indexes answer (failing statuses; then expiries of the others).
    pub fn attention_count(
        conn: &mut DbConn,
        org_id: &str,
        horizon: NaiveDateTime,
    ) -> Result<i64, StoreError> {
        let bad = TestStatus::FAILING.map(TestStatus::as_str);
        let failing: i64 = git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .filter(git_tokens::status.eq_any(bad))
            .count()
            .get_result(conn)?;
        let expiring: i64 = git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .filter(git_tokens::expires_at.le(horizon))
            .filter(git_tokens::status.ne_all(bad))
            .count()
            .get_result(conn)?;
        Ok(failing + expiring)
    }
}

impl GitToken {
    /// One chunk of every stored token of every organization, with its organization's slug,
    /// by id after the previous chunk's last id (keyset paging on the primary key): the
    /// scheduler and `tokens check` re-test a large installation a chunk at a time.
    pub fn check_chunk(
        conn: &mut DbConn,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(GitToken, String)>, StoreError> {
        use crate::db::schema::organizations;
        let mut q = git_tokens::table
            .inner_join(organizations::table)
            .select((GitToken::as_select(), organizations::slug))
            .into_boxed();
        if let Some(id) = after {
            q = q.filter(git_tokens::id.gt(id.to_string()));
        }
        Ok(q.order(git_tokens::id.asc()).limit(limit).load(conn)?)
    }
}

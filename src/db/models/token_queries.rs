//! The token queries shaped for pages: projections without ciphertext, counts and groups done
//! by the database, keyset chunks for the jobs that read every token.

use super::token::{GitToken, TokenFilter, name_key};
use crate::db::schema::git_tokens;
use crate::db::{DbConn, StoreError};
use crate::domain::provider::Provider;
use crate::domain::status::TestStatus;
use chrono::NaiveDateTime;
use diesel::prelude::*;

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
    pub username: Option<String>,
    pub identity_key: Option<String>,
}

/// The columns of a token the inventory reads (`GitToken::inventory_chunk`): no `secret`,
/// `key_id` or `org_id`; the `hint` (shown on the token list too) is what an auditor matches
/// against the provider's own token list.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = git_tokens)]
pub struct InventoryRow {
    pub id: String,
    pub name: String,
    pub hint: String,
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

impl GitToken {
    pub(crate) fn filtered<'a>(
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
        if f.attention {
            // As `attention_count` counts them: failing, or expiring by the horizon.
            let bad = TestStatus::FAILING.map(TestStatus::as_str);
            q = match f.horizon {
                Some(h) => q.filter(
                    git_tokens::status
                        .eq_any(bad)
                        .or(git_tokens::expires_at.assume_not_null().le(h)),
                ),
                None => q.filter(git_tokens::status.eq_any(bad)),
            };
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
    /// One page of the unfiltered list with, per row, the number of services using the token
    /// and of the organization's tokens sharing its identity key (more than one: saved twice).
    /// One statement of a fixed shape, so the connection keeps it prepared.
    pub fn list_page_with_counts(
        conn: &mut DbConn,
        org_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<(TokenListRow, i64, i64)>, StoreError> {
        use crate::db::schema::services;
        let same = diesel::alias!(git_tokens as same_identity);
        let uses = services::table
            .filter(services::token_id.eq(git_tokens::id.nullable()))
            .count()
            .single_value();
        let twins = same
            .filter(same.field(git_tokens::org_id).eq(git_tokens::org_id))
            .filter(
                same.field(git_tokens::identity_key)
                    .eq(git_tokens::identity_key),
            )
            .count()
            .single_value();
        let rows: Vec<(TokenListRow, Option<i64>, Option<i64>)> = git_tokens::table
            .filter(git_tokens::org_id.eq(org_id))
            .order((git_tokens::name_key.asc(), git_tokens::id.asc()))
            .offset(offset)
            .limit(limit)
            .select((TokenListRow::as_select(), uses, twins))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(r, u, t)| (r, u.unwrap_or(0), t.unwrap_or(0)))
            .collect())
    }

    /// Page-shaped queries: one page of the list, by name, without ciphertext or test JSON.
    pub fn list_page(
        conn: &mut DbConn,
        org_id: &str,
        filter: &TokenFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<TokenListRow>, StoreError> {
        use crate::domain::token::SortKey;
        let q = GitToken::filtered(org_id, filter);
        // Ties (and missing dates) fall back to the name, then the id: a stable page order.
        let q = match filter.sort {
            None => q.order(git_tokens::name_key.asc()),
            Some(s) => match (s.key, s.desc) {
                (SortKey::Name, false) => q.order(git_tokens::name_key.asc()),
                (SortKey::Name, true) => q.order(git_tokens::name_key.desc()),
                (SortKey::Status, false) => q.order(git_tokens::status.asc()),
                (SortKey::Status, true) => q.order(git_tokens::status.desc()),
                (SortKey::Expiry, false) => q.order(git_tokens::expires_at.asc()),
                (SortKey::Expiry, true) => q.order(git_tokens::expires_at.desc()),
                (SortKey::LastTest, false) => q.order(git_tokens::last_tested_at.asc()),
                (SortKey::LastTest, true) => q.order(git_tokens::last_tested_at.desc()),
            },
        };
        Ok(q.then_order_by(git_tokens::name_key.asc())
            .then_order_by(git_tokens::id.asc())
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

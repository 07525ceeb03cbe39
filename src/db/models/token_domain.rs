//! Stored token rows as domain tokens: every column value checked, an unknown one an error.

use super::token::GitToken;
use super::token_queries::TokenListRow;
use crate::db::StoreError;
use crate::domain::expiry::ExpirySource;
use crate::domain::ids::{OrgId, TokenId};
use crate::domain::provider::{Hosting, Provider};
use crate::domain::status::TestStatus;
use crate::domain::token::{Destination, Token};
use chrono::NaiveDateTime;

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
    username: &Option<String>,
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
        username: username.clone(),
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
        version: 0,
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
            &r.username,
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
            version: r.version,
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
            &r.username,
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

//! The one path by which a token value leaves Forgekeys (DESIGN.md §9): a service key asks for
//! its service's Git credentials. The caller is the key itself (no member, no role): it is
//! accepted only while it is neither revoked nor expired, only for its own service, and only
//! for that service's repository — the protocol, host and path git asks for must be the
//! remote's, so a token is never handed out for another host. Every release is audited
//! (`credentials.release`: the service, the token, the key's hint and the client IP) and
//! counted in the token's "last used by a service".
//!
//! [`describe`] answers the same key with its service's remote and nothing secret: the
//! credential helper knows only `FORGEKEYS_URL` and `FORGEKEYS_SERVICE_KEY` (DESIGN.md §9), so
//! the key alone must tell it which repository it may answer git for, before it asks for a
//! token.

use super::super::Error;
use super::super::audit::{Record, Who};
use crate::app::checks::target_of;
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::service::Service as ServiceRow;
use crate::db::models::service_key::{ServiceKey, TokenFetch};
use crate::db::models::token::GitToken;
use crate::domain::access_key::{AccessKey, KeyKind};
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{OrgId, ServiceId, TokenId};
use crate::domain::service::Service;
use crate::domain::service_key::{GitRemote, key_alive};
use chrono::NaiveDateTime;
use secrecy::SecretString;
use std::net::IpAddr;

/// Why a key gets no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A malformed, unknown, revoked or expired key.
    Unauthenticated,
    /// Not a service key (an organization API key `fkp_…`).
    NotAServiceKey,
    /// A key of another service.
    OtherService,
    /// git asked for another protocol, host or path than the service's repository.
    OtherRepository,
    /// The service has no organization token (legacy access).
    NoToken,
    /// The token's provider gives no Git server to clone from.
    NoRemote,
    /// Too many requests with this key: wait this many seconds.
    Limited { retry_after_secs: u64 },
}

/// What git asked for (`protocol`, `host`, `path` of its credential request), each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitRequest {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
}

/// A key's service and the remote it may answer for.
#[derive(Debug, Clone)]
pub struct KeyService {
    pub service_id: ServiceId,
    pub service_name: String,
    pub remote: GitRemote,
}

/// The credentials git needs.
#[derive(Debug, Clone)]
pub struct Released {
    pub username: String,
    pub password: SecretString,
    /// The token's expiry, when known.
    pub expires_at: Option<NaiveDateTime>,
}

/// A live key with its service and token, as stored.
struct Resolved {
    key: ServiceKey,
    service: Service,
    token: Option<GitToken>,
}

/// The key's row, service and token; `Unauthenticated` unless it is a live service key.
fn resolve(
    conn: &mut DbConn,
    key: &AccessKey,
    now: NaiveDateTime,
) -> Result<Result<Resolved, Refused>, Error> {
    let Some(row) = ServiceKey::find_by_hash(conn, &key.hash())? else {
        return Ok(Err(Refused::Unauthenticated));
    };
    if row.revoked_at.is_some() || !key_alive(row.expires_at, now) {
        return Ok(Err(Refused::Unauthenticated));
    }
    // The key is deleted with its service; a key without one is as good as unknown.
    let Some(s) = ServiceRow::find_in_org(conn, &row.org_id, &row.service_id)? else {
        return Ok(Err(Refused::Unauthenticated));
    };
    let service = Service::try_from(&s)?;
    let token = match &service.token_id {
        Some(t) => GitToken::find_in_org(conn, &row.org_id, t.as_str())?,
        None => None,
    };
    Ok(Ok(Resolved {
        key: row,
        service,
        token,
    }))
}

/// Look the key up and count the request against its limit.
async fn authenticate(
    state: &AppState,
    key: &AccessKey,
) -> Result<Result<Resolved, Refused>, Error> {
    if key.kind() != KeyKind::Service {
        return Ok(Err(Refused::NotAServiceKey));
    }
    let (k, now) = (key.clone(), state.clock.naive());
    let r = match state.db(move |conn| resolve(conn, &k, now)).await? {
        Ok(r) => r,
        Err(refused) => return Ok(Err(refused)),
    };
    if let Err(l) = state.api_limiter.check(&format!("svc:{}", r.key.id)) {
        return Ok(Err(Refused::Limited {
            retry_after_secs: l.retry_after_secs,
        }));
    }
    Ok(Ok(r))
}

/// The remote of the service's repository under its token's Git server.
fn remote_of(state: &AppState, r: &Resolved) -> Result<Result<GitRemote, Refused>, Error> {
    let Some(token) = &r.token else {
        return Ok(Err(Refused::NoToken));
    };
    let target = target_of(token)?;
    let Some(base) = state.providers.git_base(&target) else {
        return Ok(Err(Refused::NoRemote));
    };
    Ok(GitRemote::new(&base, &r.service.repository).map_err(|_| Refused::NoRemote))
}

/// The key's service and its remote (nothing secret; not audited).
pub async fn describe(
    state: &AppState,
    key: &AccessKey,
) -> Result<Result<KeyService, Refused>, Error> {
    let r = match authenticate(state, key).await? {
        Ok(r) => r,
        Err(refused) => return Ok(Err(refused)),
    };
    let remote = match remote_of(state, &r)? {
        Ok(remote) => remote,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(Ok(KeyService {
        service_id: r.service.id,
        service_name: r.service.name,
        remote,
    }))
}

/// The Git credentials of `service` for `key`, when it is that service's live key and git asks
/// for the service's repository. Audited, and recorded as the token's last use by a service.
pub async fn release(
    state: &AppState,
    key: &AccessKey,
    service: &ServiceId,
    asked: &GitRequest,
    client_ip: Option<IpAddr>,
) -> Result<Result<Released, Refused>, Error> {
    let r = match authenticate(state, key).await? {
        Ok(r) => r,
        Err(refused) => return Ok(Err(refused)),
    };
    if r.service.id != *service {
        return Ok(Err(Refused::OtherService));
    }
    let remote = match remote_of(state, &r)? {
        Ok(remote) => remote,
        Err(refused) => return Ok(Err(refused)),
    };
    if !remote.matches(
        asked.protocol.as_deref(),
        asked.host.as_deref(),
        asked.path.as_deref(),
    ) {
        return Ok(Err(Refused::OtherRepository));
    }
    let Some(token) = r.token else {
        return Ok(Err(Refused::NoToken));
    };
    let password = state.open(&token.id, &token.key_id, &token.secret)?;
    let username = {
        use secrecy::ExposeSecret;
        crate::providers::git_username(&target_of(&token)?, password.expose_secret())
    };
    let at = state.clock.naive();
    let (k, s) = (r.key, r.service);
    let (token_id, token_name, expires_at) = (
        TokenId::new(token.id.clone()),
        token.name.clone(),
        token.expires_at,
    );
    state
        .tx(move |conn| {
            ServiceKey::touch(conn, &k.id, at)?;
            TokenFetch::record(conn, token_id.as_str(), s.id.as_str(), at)?;
            Record {
                action: AuditAction::CredentialsRelease,
                who: Who::ServiceKey {
                    name: k.name.clone(),
                    hint: k.hint.clone(),
                },
                org: Some(OrgId::new(k.org_id.clone())),
                token: Some((token_id, token_name)),
                details: AuditDetails {
                    service_id: Some(s.id.as_str().to_string()),
                    service: Some(s.name.clone()),
                    service_key: Some(k.name.clone()),
                    hint: Some(k.hint.clone()),
                    ..AuditDetails::default()
                },
                client_ip,
            }
            .write(conn, at)
        })
        .await?;
    Ok(Ok(Released {
        username,
        password,
        expires_at,
    }))
}

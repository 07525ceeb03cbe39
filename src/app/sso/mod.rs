//! OpenID Connect single sign-on (DESIGN.md §3a): authorization code with PKCE (S256),
//! `state` and `nonce` ([`pending`]), the ID token verified with the issuer's JWKS
//! ([`id_token`]), the e-mail address used only when the provider says it verified it.
//!
//! SSO signs in the existing account with that address, or accepts the pending invitation
//! the sign-in was started from (creating the invited account when there is none); it never
//! makes anyone a member on its own. An SSO sign-in counts as the provider's authentication:
//! see [`second_factor_after_sso`]. Every refusal is a [`Failure`] (worded by `web`), audited
//! as a failed sign-in where it names an address.

pub mod cache;
pub mod id_token;
mod invite;
pub mod pending;

use super::Error;
use crate::app::auth::{Origin, random_token, start_session_from};
use crate::app::state::AppState;
use crate::config::OidcConfig;
use crate::db::models::user::User as UserRow;
use crate::domain::account::Organization;
use crate::domain::audit::AuditAction;
use crate::domain::ids::UserId;
use crate::providers::oidc::{OidcHttpError, safe_code};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use id_token::{Expected, IdTokenProblem, Identity};
use jsonwebtoken::jwk::JwkSet;
use pending::Pending;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use url::Url;

/// Why an SSO sign-in did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `FORGEKEYS_OIDC_*` is not set.
    Off,
    /// The discovery document could not be read.
    Discovery(OidcHttpError),
    /// The discovery document lacks an endpoint, or names another issuer.
    BadDiscovery,
    /// The provider sent the browser back with an OAuth error (`access_denied`, …).
    Denied(Option<String>),
    /// No sign-in was started in this browser, it expired, or `state` is not its own.
    State,
    /// The callback has no `code`.
    NoCode,
    /// The token endpoint refused the code, or answered without an ID token.
    Token(OidcHttpError),
    NoIdToken,
    /// The JWKS could not be read.
    Keys(OidcHttpError),
    IdToken(IdTokenProblem),
    /// The ID token has no e-mail address.
    NoEmail,
    /// The provider does not say that it verified the address.
    EmailNotVerified,
    /// No account has the address and no invitation was being accepted.
    NoAccount,
    /// The invitation is unknown, used, revoked or expired.
    InviteGone,
    /// The invitation is for another address.
    InviteForOther,
}

/// The provider's endpoints.
#[derive(Debug, Clone)]
struct Discovery {
    authorization_endpoint: Url,
    token_endpoint: Url,
    jwks_uri: Url,
}

fn settings(state: &AppState) -> Result<&OidcConfig, Failure> {
    state.config.oidc.as_ref().ok_or(Failure::Off)
}

/// The provider's endpoints: the kept ones ([`cache`]), or fetched.
async fn discover(state: &AppState, cfg: &OidcConfig) -> Result<Discovery, Failure> {
    let now = std::time::Instant::now();
    if let Some(d) = state.sso.discovery.get(now) {
        return Ok(d);
    }
    let d = fetch_discovery(state, cfg).await?;
    state.sso.discovery.put(d.clone(), now);
    Ok(d)
}

async fn fetch_discovery(state: &AppState, cfg: &OidcConfig) -> Result<Discovery, Failure> {
    let url = Url::parse(&format!("{}/.well-known/openid-configuration", cfg.issuer))
        .map_err(|_| Failure::BadDiscovery)?;
    let doc = state
        .providers
        .oidc_get(&url)
        .await
        .map_err(Failure::Discovery)?;
    let field = |name: &str| {
        doc.get(name)
            .and_then(|v| v.as_str())
            .and_then(|s| Url::parse(s).ok())
            .filter(|u| matches!(u.scheme(), "https" | "http"))
            .ok_or(Failure::BadDiscovery)
    };
    // OpenID Connect Discovery §4.3: the document's issuer is the configured one.
    let issuer = doc.get("issuer").and_then(|v| v.as_str()).unwrap_or("");
    if issuer.trim_end_matches('/') != cfg.issuer {
        return Err(Failure::BadDiscovery);
    }
    Ok(Discovery {
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
        jwks_uri: field("jwks_uri")?,
    })
}

/// A started sign-in: send the browser to `to`, with `cookie` set (see [`pending`]).
#[derive(Debug, Clone)]
pub struct Started {
    pub to: Url,
    pub cookie: String,
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Start a sign-in at the provider. `redirect_uri` is this server's callback URL; `invite`
/// the invitation token to accept; `next` the checked same-origin path to land on.
pub async fn start(
    state: &AppState,
    redirect_uri: &str,
    invite: Option<String>,
    next: Option<String>,
) -> Result<Result<Started, Failure>, Error> {
    let cfg = match settings(state) {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    let d = match discover(state, cfg).await {
        Ok(d) => d,
        Err(f) => return Ok(Err(f)),
    };
    let p = Pending {
        state: random_token(),
        nonce: random_token(),
        verifier: random_token(),
        invite,
        next,
        expires: (state.clock.now() + pending::LIFETIME).timestamp(),
    };
    let mut to = d.authorization_endpoint;
    to.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &cfg.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email")
        .append_pair("state", &p.state)
        .append_pair("nonce", &p.nonce)
        .append_pair("code_challenge", &challenge(&p.verifier))
        .append_pair("code_challenge_method", "S256");
    let cookie = pending::seal(state, &p)?;
    Ok(Ok(Started { to, cookie }))
}

/// What the provider sent the browser back with.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// RFC 9207's `iss` parameter, when the provider sends it: must be the issuer.
    pub iss: Option<String>,
}

/// A finished sign-in: the session cookie's id.
#[derive(Debug, Clone)]
pub enum Finished {
    SignedIn {
        session: String,
        next: Option<String>,
    },
    /// Signed in and joined (or already in) the organization of the invitation.
    Joined { session: String, org: Organization },
}

/// Finish a sign-in: check the callback against the `cookie` this browser holds, redeem the
/// code, verify the ID token, then sign in or accept the invitation.
pub async fn finish(
    state: &AppState,
    redirect_uri: &str,
    cookie: Option<&str>,
    cb: Callback,
    origin: Origin,
) -> Result<Result<Finished, Failure>, Error> {
    let client_ip = origin.client_ip;
    let identity = match identify(state, redirect_uri, cookie, cb).await? {
        Ok(found) => found,
        Err(f) => return Ok(Err(f)),
    };
    let (who, p) = identity;
    let Some(email) = who.email else {
        return Ok(Err(Failure::NoEmail));
    };
    if !who.email_verified {
        refused(state, &email, client_ip, "sso_unverified_email").await?;
        return Ok(Err(Failure::EmailNotVerified));
    }
    match p.invite {
        Some(token) => invite::accept(state, &token, &email, &origin).await,
        None => match sign_in_verified(state, &email, &origin).await? {
            Some(session) => Ok(Ok(Finished::SignedIn {
                session,
                next: p.next,
            })),
            None => {
                refused(state, &email, client_ip, "sso_unknown_email").await?;
                Ok(Err(Failure::NoAccount))
            }
        },
    }
}

/// The verified identity of the callback, with the pending sign-in it belongs to.
async fn identify(
    state: &AppState,
    redirect_uri: &str,
    cookie: Option<&str>,
    cb: Callback,
) -> Result<Result<(Identity, Pending), Failure>, Error> {
    let cfg = match settings(state) {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    let p = match cookie {
        Some(c) => pending::open(state, c)?,
        None => None,
    };
    let Some(p) = p.filter(|p| {
        cb.state
            .as_deref()
            .is_some_and(|s| pending::same(s, &p.state))
    }) else {
        return Ok(Err(Failure::State));
    };
    if cb
        .iss
        .as_deref()
        .is_some_and(|i| i.trim_end_matches('/') != cfg.issuer)
    {
        return Ok(Err(Failure::IdToken(IdTokenProblem::Issuer)));
    }
    if let Some(e) = cb.error {
        return Ok(Err(Failure::Denied(safe_code(&e))));
    }
    let Some(code) = cb.code.filter(|c| !c.is_empty()) else {
        return Ok(Err(Failure::NoCode));
    };
    Ok(redeem(state, cfg, redirect_uri, &code, &p)
        .await
        .map(|who| (who, p)))
}

async fn redeem(
    state: &AppState,
    cfg: &OidcConfig,
    redirect_uri: &str,
    code: &str,
    p: &Pending,
) -> Result<Identity, Failure> {
    let d = discover(state, cfg).await?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", p.verifier.as_str()),
    ];
    let secret = cfg.client_secret.expose_secret();
    let reply = state
        .providers
        .oidc_post_form(&d.token_endpoint, &form, &cfg.client_id, secret)
        .await
        .map_err(|e| {
            // The kept endpoints may be stale: the next sign-in reads the document again.
            state.sso.discovery.forget();
            Failure::Token(e)
        })?;
    let token = reply
        .get("id_token")
        .and_then(|v| v.as_str())
        .ok_or(Failure::NoIdToken)?;
    let want = Expected {
        issuer: &cfg.issuer,
        client_id: &cfg.client_id,
        nonce: &p.nonce,
        now: state.clock.now().timestamp(),
    };
    let now = std::time::Instant::now();
    if let Some(jwks) = state.sso.keys.get(now) {
        match id_token::verify(token, &jwks, &want) {
            // Signed with a key the kept set lacks: the provider rotated its keys; fetch them.
            Err(IdTokenProblem::UnknownKey) => state.sso.keys.forget(),
            verdict => return verdict.map_err(Failure::IdToken),
        }
    }
    let jwks = fetch_keys(state, &d).await?;
    state.sso.keys.put(jwks.clone(), now);
    id_token::verify(token, &jwks, &want).map_err(Failure::IdToken)
}

async fn fetch_keys(state: &AppState, d: &Discovery) -> Result<JwkSet, Failure> {
    let keys = state
        .providers
        .oidc_get(&d.jwks_uri)
        .await
        .map_err(Failure::Keys)?;
    serde_json::from_value(keys).map_err(|_| Failure::Keys(OidcHttpError::NotJson))
}

/// Whether a second factor is asked after an SSO sign-in. HOOK for the TOTP part of issue
/// 12: an SSO sign-in counts as the provider's authentication (the provider runs its own
/// multi-factor policy), so Forgekeys asks for no TOTP code after it; an organization that
/// requires 2FA still sends members without it to enroll. Change this one function (and its
/// callers in [`finish`]) if a Forgekeys code must follow SSO too.
pub fn second_factor_after_sso(_user: &UserId) -> bool {
    false
}

/// Start a session for the account with the verified address `email`, audited as a sign-in
/// through SSO. `None`: no account has it.
pub(super) async fn sign_in_verified(
    state: &AppState,
    email: &str,
    origin: &Origin,
) -> Result<Option<String>, Error> {
    let (email, now, origin) = (email.to_string(), state.clock.naive(), origin.clone());
    let ip = origin.client_ip;
    state
        .tx(move |conn| {
            let Some(user) = UserRow::find_by_email(conn, &email)? else {
                return Ok(None);
            };
            let id = UserId::new(user.id.clone());
            let _ask_code = second_factor_after_sso(&id);
            // The session records the browser and address the callback came from.
            let session = start_session_from(conn, &id, &origin, now)?;
            let action = AuditAction::Login;
            crate::app::auth::audit_sign_in(conn, &email, ip, Some(&user), action, SSO, now)?;
            Ok(Some(session))
        })
        .await
}

/// The audit reason of a sign-in through SSO.
pub(super) const SSO: Option<&str> = Some("via_sso");

async fn refused(
    state: &AppState,
    email: &str,
    ip: Option<IpAddr>,
    reason: &'static str,
) -> Result<(), Error> {
    let (email, now) = (email.to_string(), state.clock.naive());
    state
        .tx(move |conn| {
            let user = UserRow::find_by_email(conn, &email)?;
            let action = AuditAction::LoginFailed;
            crate::app::auth::audit_sign_in(
                conn,
                &email,
                ip,
                user.as_ref(),
                action,
                Some(reason),
                now,
            )
        })
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_challenge_is_the_base64url_sha256_of_the_verifier() {
        assert_eq!(
            super::challenge("forgekeys-verifier"),
            "8JMZ3xv-Dy0Hhb5l41SdpoWvMn63ClofarCcFjwyrmY"
        );
    }
}

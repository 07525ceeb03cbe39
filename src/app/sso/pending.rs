//! The sign-in in progress between `/auth/oidc/start` and the callback: `state`, `nonce`, the
//! PKCE verifier, the invitation and the page to land on, kept in the browser that started it
//! as a short-lived cookie signed with a key derived from the master key (so every process
//! with the key file accepts it, and nobody can forge or alter one). The `state` in the
//! callback must equal the cookie's: a callback that did not start in this browser fails.

use super::super::Error;
use crate::app::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;

/// How long a started sign-in may take at the provider.
pub const LIFETIME: Duration = Duration::minutes(10);
/// What the cookie's signature is keyed for.
const PURPOSE: &str = "forgekeys/sso/pending-cookie/v1";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// The invitation link's token this sign-in accepts.
    pub invite: Option<String>,
    /// The same-origin path to land on.
    pub next: Option<String>,
    /// Unix time after which the cookie is refused.
    pub expires: i64,
}

fn mac(state: &AppState, payload: &str) -> Result<String, Error> {
    let sb = state
        .secrets
        .read()
        .map_err(|_| Error::Task("the key store is poisoned".into()))?;
    Ok(hex::encode(sb.keyed_hash(PURPOSE, payload.as_bytes())))
}

/// The cookie value: `<base64url JSON>.<HMAC-SHA256>`.
pub fn seal(state: &AppState, p: &Pending) -> Result<String, Error> {
    let json = serde_json::to_vec(p).map_err(|e| Error::Task(e.to_string()))?;
    let payload = URL_SAFE_NO_PAD.encode(json);
    Ok(format!("{payload}.{}", mac(state, &payload)?))
}

/// The pending sign-in of a cookie whose signature is valid and that has not expired.
pub fn open(state: &AppState, cookie: &str) -> Result<Option<Pending>, Error> {
    use subtle::ConstantTimeEq;
    let Some((payload, sig)) = cookie.rsplit_once('.') else {
        return Ok(None);
    };
    let expected = mac(state, payload)?;
    if !bool::from(expected.as_bytes().ct_eq(sig.as_bytes())) {
        return Ok(None);
    }
    let Ok(json) = URL_SAFE_NO_PAD.decode(payload) else {
        return Ok(None);
    };
    let Ok(p) = serde_json::from_slice::<Pending>(&json) else {
        return Ok(None);
    };
    Ok((p.expires > state.clock.now().timestamp()).then_some(p))
}

/// Equal strings, compared in constant time.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

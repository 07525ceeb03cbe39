//! ID token checks (OpenID Connect Core §3.1.3.7): the signature with a key of the issuer's
//! JWKS (asymmetric algorithms only: never `none`, never an HMAC keyed with something public),
//! `iss`, `aud` (and `azp` when there are several audiences), `exp` and `iat` against the
//! server's clock, and the `nonce` of this sign-in.

use super::pending::same;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

/// Clock skew tolerated between the provider and this server.
const LEEWAY_SECS: i64 = 120;

/// Why an ID token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenProblem {
    /// Not a JWS compact token, or its claims are not JSON of the expected shape.
    Malformed,
    /// An algorithm other than RS/PS/ES/EdDSA.
    Algorithm,
    /// No key of the JWKS matches the token's `kid` (or the key is unusable).
    UnknownKey,
    Signature,
    Issuer,
    Audience,
    /// Expired, or issued in the future.
    Time,
    Nonce,
}

/// The claims Forgekeys reads.
#[derive(Debug, Clone, serde::Deserialize)]
struct Claims {
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    aud: serde_json::Value,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

/// What a valid ID token says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The e-mail address, lower-cased, when the token has one.
    pub email: Option<String>,
    /// The provider says it verified the address (`email_verified` true, or "true" as some
    /// providers send it).
    pub email_verified: bool,
}

/// What the token is checked against.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Unix time now (the server's clock).
    pub now: i64,
}

const ALLOWED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Verify `token` with `jwks` and return who it names.
pub fn verify(token: &str, jwks: &JwkSet, want: &Expected<'_>) -> Result<Identity, IdTokenProblem> {
    let header = decode_header(token).map_err(|_| IdTokenProblem::Malformed)?;
    if !ALLOWED.contains(&header.alg) {
        return Err(IdTokenProblem::Algorithm);
    }
    let jwk = match &header.kid {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or(IdTokenProblem::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| IdTokenProblem::UnknownKey)?;
    let mut v = Validation::new(header.alg);
    v.set_issuer(&[want.issuer]);
    v.set_audience(&[want.client_id]);
    v.set_required_spec_claims(&["iss", "aud", "exp"]);
    // Times are checked below against the server's clock, not the system's.
    v.validate_exp = false;
    v.validate_nbf = false;
    let data = decode::<Claims>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::InvalidSignature => IdTokenProblem::Signature,
            K::InvalidIssuer => IdTokenProblem::Issuer,
            K::InvalidAudience => IdTokenProblem::Audience,
            K::InvalidAlgorithm | K::InvalidAlgorithmName => IdTokenProblem::Algorithm,
            K::InvalidKeyFormat | K::InvalidRsaKey(_) | K::InvalidEcdsaKey => {
                IdTokenProblem::UnknownKey
            }
            _ => IdTokenProblem::Malformed,
        }
    })?;
    let c = data.claims;
    if let Some(list) = c.aud.as_array() {
        if list.len() > 1 && c.azp.as_deref() != Some(want.client_id) {
            return Err(IdTokenProblem::Audience);
        }
    }
    if c.exp + LEEWAY_SECS < want.now || c.iat.is_some_and(|iat| iat > want.now + LEEWAY_SECS) {
        return Err(IdTokenProblem::Time);
    }
    if !c.nonce.as_deref().is_some_and(|n| same(n, want.nonce)) {
        return Err(IdTokenProblem::Nonce);
    }
    let email_verified = match &c.email_verified {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    Ok(Identity {
        email: c
            .email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty()),
        email_verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want() -> Expected<'static> {
        Expected {
            issuer: "https://id.example",
            client_id: "c",
            nonce: "n",
            now: 1_000,
        }
    }

    #[test]
    fn refuses_unsigned_and_hmac_tokens() {
        let empty = JwkSet { keys: Vec::new() };
        // {"alg":"none"} and {"alg":"HS256"} headers.
        let none = "eyJhbGciOiJub25lIn0.e30.";
        let hs = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln";
        assert!(verify(none, &empty, &want()).is_err());
        assert_eq!(verify(hs, &empty, &want()), Err(IdTokenProblem::Algorithm));
        assert_eq!(
            verify("nope", &empty, &want()),
            Err(IdTokenProblem::Malformed)
        );
    }
}

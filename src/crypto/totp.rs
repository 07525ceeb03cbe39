//! TOTP (RFC 6238 over RFC 4226): HMAC-SHA-1, 6 digits, 30-second steps; secrets in base32
//! (RFC 4648, no padding) as authenticator apps read them from an `otpauth://` URI.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

pub const DIGITS: u32 = 6;
pub const STEP_SECS: i64 = 30;
/// Steps accepted either side of the current one (clock drift of the phone).
pub const DRIFT_STEPS: i64 = 1;
/// Secret length in bytes (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret, base32.
pub fn new_secret() -> String {
    let mut b = [0u8; SECRET_LEN];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base32_encode(&b)
}

pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &byte in data {
        buf = (buf << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decode base32 (case-insensitive, spaces and `=` ignored); `None` on another character.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase();
        let v = ALPHABET.iter().position(|&a| char::from(a) == c)? as u32;
        buf = ((buf << 5) | v) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xFF) as u8);
        }
    }
    Some(out)
}

/// The time step of a Unix time.
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS)
}

/// The code of `key` at time step `step` (HOTP with the step as counter).
pub fn code(key: &[u8], step: i64) -> Option<String> {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).ok()?;
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin = (u32::from(h[offset] & 0x7f) << 24)
        | (u32::from(h[offset + 1]) << 16)
        | (u32::from(h[offset + 2]) << 8)
        | u32::from(h[offset + 3]);
    Some(format!(
        "{:0width$}",
        bin % 10u32.pow(DIGITS),
        width = DIGITS as usize
    ))
}

/// The step whose code `typed` is, within [`DRIFT_STEPS`] of `unix` and later than
/// `last_used` (a code already accepted is refused: no replay within its window).
pub fn verify(secret_b32: &str, typed: &str, unix: i64, last_used: Option<i64>) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = base32_decode(secret_b32)?;
    let now = step_at(unix);
    let mut found = None;
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        if last_used.is_some_and(|l| step <= l) {
            continue;
        }
        let c = code(&key, step)?;
        let same: bool = subtle::ConstantTimeEq::ct_eq(c.as_bytes(), typed.as_bytes()).into();
        if same && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app reads (from the QR code or typed in).
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    let label = format!("{}:{}", enc(issuer), enc(account)).replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer).replace('+', "%20")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, the 8-digit values' last 6 digits.
        let key = b"12345678901234567890";
        for (t, want) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code(key, step_at(t)).as_deref(), Some(want), "t={t}");
        }
    }

    #[test]
    fn base32_round_trip_and_rfc4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(
            base32_decode("mzxw 6ytb oi======").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(base32_decode("M1"), None);
        let s = new_secret();
        assert_eq!(base32_decode(&s).map(|k| k.len()), Some(SECRET_LEN));
    }

    #[test]
    fn a_code_counts_once_and_within_its_window() {
        let secret = base32_encode(b"12345678901234567890");
        let now = 1_111_111_111;
        assert_eq!(verify(&secret, "050471", now, None), Some(step_at(now)));
        assert_eq!(
            verify(&secret, "050 471", now + 30, None),
            Some(step_at(now))
        );
        assert_eq!(verify(&secret, "050471", now + 90, None), None);
        assert_eq!(verify(&secret, "050471", now, Some(step_at(now))), None);
        assert_eq!(verify(&secret, "05047", now, None), None);
        assert_eq!(verify(&secret, "abcdef", now, None), None);
    }
}

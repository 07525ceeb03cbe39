//! Who is throttled, and how much: the keys and limits of the sign-in throttle (stored in the
//! database, `login_throttles`, so that every server process on one PostgreSQL counts the same
//! attempts).
//!
//! - **Per client IP** first: [`IP`] — 30 failed passwords in 15 minutes from one address (an
//!   IPv6 client counts by its /64, what one machine or home usually gets), then 15 minutes of
//!   429. This is what stops one attacker trying many accounts.
//! - **Per e-mail**: [`EMAIL`] — 5 failed passwords in 15 minutes, then 15 minutes of 429. The
//!   key is a keyed hash of the normalized e-mail, whether an account has it or not: an unknown
//!   e-mail is counted and answered exactly like a real one, and no user row is created.
//! - **Known devices pass**: a browser that signed in to the account before (the `fk_device`
//!   cookie, signed with a key derived from the master key, [`sign_device`]) is not subject to the IP or e-mail throttle of that account, only to its own
//!   [`DEVICE`] limit (a stolen device cookie gets 5 guesses per 15 minutes, like anyone). An
//!   attacker who locks an e-mail therefore does not lock out its owner on their usual device.
//!
//! Only attempts that tested a password count: one answered "throttled" or "busy" gives its
//! claims back.

use crate::app::state::AppState;
use crate::db::models::login_throttle::Limit;
use chrono::Duration;
use std::net::IpAddr;

pub const IP: Limit = Limit {
    attempts: 30,
    window: Duration::minutes(15),
    lock: Duration::minutes(15),
};

pub const EMAIL: Limit = Limit {
    attempts: 5,
    window: Duration::minutes(15),
    lock: Duration::minutes(15),
};

pub const DEVICE: Limit = EMAIL;

/// What the e-mail key's hash is keyed for (see `SecretBox::keyed_hash`).
const EMAIL_PURPOSE: &str = "forgekeys/sign-in-throttle/email/v1";

/// The e-mail as the throttle and the account lookup see it.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The throttle key of an e-mail: never the address itself (what people type there is
/// sometimes their password).
pub fn email_key(state: &AppState, normalized: &str) -> Result<String, crate::app::Error> {
    let sb = state
        .secrets
        .read()
        .map_err(|_| crate::app::Error::Task("the key store is poisoned".into()))?;
    Ok(format!(
        "email:{}",
        hex::encode(sb.keyed_hash(EMAIL_PURPOSE, normalized.as_bytes()))
    ))
}

/// The throttle key of a client address: IPv4 (also IPv4-mapped IPv6) by address, IPv6 by /64.
pub fn ip_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "ip:unknown".into(),
    }
}

/// What the device cookie's signature is keyed for.
const DEVICE_PURPOSE: &str = "forgekeys/sign-in/device-cookie/v1";

fn device_mac(state: &AppState, id: &str) -> Result<String, crate::app::Error> {
    let sb = state
        .secrets
        .read()
        .map_err(|_| crate::app::Error::Task("the key store is poisoned".into()))?;
    Ok(hex::encode(sb.keyed_hash(DEVICE_PURPOSE, id.as_bytes())))
}

/// The `fk_device` cookie value of a device id: `<id>.<HMAC-SHA256 of the id>`, under a key
/// derived from the master key (the same in every process with the key file). A rotation of
/// the master key makes earlier device cookies invalid: those browsers sign in as new devices
/// once.
pub fn sign_device(state: &AppState, id: &str) -> Result<String, crate::app::Error> {
    Ok(format!("{id}.{}", device_mac(state, id)?))
}

/// The device id in a `fk_device` cookie, if its signature is valid (compared in constant
/// time); a forged or altered cookie is no device at all.
pub fn verified_device(
    state: &AppState,
    cookie: &str,
) -> Result<Option<String>, crate::app::Error> {
    use subtle::ConstantTimeEq;
    let Some((id, mac)) = cookie.rsplit_once('.') else {
        return Ok(None);
    };
    if id.is_empty() {
        return Ok(None);
    }
    let expected = device_mac(state, id)?;
    let valid: bool = expected.as_bytes().ct_eq(mac.as_bytes()).into();
    Ok(valid.then(|| id.to_string()))
}

/// The throttle key of a known device (its id's hash).
pub fn device_key(id_hash: &str) -> String {
    format!("device:{id_hash}")
}

/// What `unlock` lifted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unlocked {
    pub email: bool,
    pub ip: bool,
}

/// Forget the failed sign-ins of an e-mail address and/or a client address (`forgekeys user
/// unlock`): the next attempt starts from nothing, in every process on the database.
pub async fn unlock(
    state: &AppState,
    email: Option<String>,
    ip: Option<IpAddr>,
) -> Result<Unlocked, crate::app::Error> {
    let email_key = match email {
        Some(e) => Some(email_key(state, &normalize_email(&e))?),
        None => None,
    };
    let ip_key = ip.map(|ip| ip_key(Some(ip)));
    state
        .db(move |conn| {
            use crate::db::models::login_throttle::Throttle;
            let mut r = Unlocked::default();
            if let Some(k) = &email_key {
                r.email = Throttle::clear(conn, k)?;
            }
            if let Some(k) = &ip_key {
                r.ip = Throttle::clear(conn, k)?;
            }
            Ok(r)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(ip_key(Some(a)), ip_key(Some(b)));
        assert_eq!(ip_key(Some(a)), "ip:2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or(IpAddr::from([0u8; 4]));
        assert_eq!(ip_key(Some(mapped)), "ip:192.0.2.7");
        assert_eq!(ip_key(None), "ip:unknown");
    }
}

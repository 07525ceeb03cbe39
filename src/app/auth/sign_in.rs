//! Signing in with e-mail and password, in steps so that Argon2 never holds a database
//! connection:
//! 1. a **place in the hashing pool** ([`crate::app::hashing`]), taken before anything else: a
//!    pool still full after [`crate::app::hashing::WAIT_FOR_A_PLACE`] answers [`SignIn::Busy`],
//!    with no database work (a storm costs the database nothing past the pool's bound);
//! 2. the **gate** (one database round trip): find the account, recognise a known device, and
//!    claim one attempt of each throttle key that applies ([`super::throttle`]); a throttled
//!    attempt is audited and answered here;
//! 3. the **password check** on the reserved place;
//! 4. the **outcome** (one transaction): a session (and the device remembered) or the failure
//!    counted, and the audit entry.
//!
//! Existing and unknown e-mails take the same path: an unknown one is checked against a dummy
//! hash and counted under its own e-mail key, so status, page, headers and timing match.

use super::throttle::{self, DEVICE, EMAIL, IP};
use super::{Origin, hash_id, random_token, start_session_from};
use crate::app::Error;
use crate::app::audit::{Record, Who};
use crate::app::state::AppState;
use crate::crypto::password;
use crate::db::DbConn;
use crate::db::models::known_device::KnownDevice;
use crate::db::models::login_throttle::{Claim, Limit, Throttle};
use crate::db::models::membership::Membership;
use crate::db::models::session::Session as SessionRow;
use crate::db::models::two_factor::TotpRow;
use crate::db::models::user::User as UserRow;
use crate::domain::account::{User, parse_email};
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::ids::{OrgId, UserId};
use chrono::NaiveDateTime;
use secrecy::SecretString;
use std::net::IpAddr;

/// One sign-in attempt as the browser sent it.
pub struct Attempt {
    pub email: String,
    pub password: SecretString,
    /// The client's address (`web::client::client_ip`: trusted proxies only).
    pub client_ip: Option<IpAddr>,
    /// The `fk_device` cookie, if the browser has one.
    pub device: Option<String>,
    /// The session cookie the browser still had (ended at sign-in: the id is renewed).
    pub previous_session: Option<String>,
    /// The browser's `User-Agent` (the account page names the device from it).
    pub user_agent: Option<String>,
}

/// What became of a sign-in.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the new session's cookie id, and the (signed) device cookie to (re)set.
    SignedIn { session: String, device: String },
    /// The password is right and the account has two-factor sign-in on: the pending
    /// half-session's cookie id (the code goes to `/login/2fa`, [`super::second_factor`]), and
    /// the device cookie.
    SecondFactor { pending: String, device: String },
    /// Wrong e-mail or password (the same answer for both).
    Refused,
    /// Too many failed attempts for this e-mail, this device or this client address (the same
    /// answer for all, and for existing and unknown e-mails): try again after `retry_after`.
    Throttled { retry_after: chrono::Duration },
    /// The hashing pool is full: try again in a moment.
    Busy,
}

/// A throttle key claimed for this attempt, with its limit.
#[derive(Debug, Clone)]
struct Claimed {
    key: String,
    limit: Limit,
}

/// What the gate decided.
enum Gate {
    Check {
        user: Option<UserRow>,
        claimed: Vec<Claimed>,
        via_device: bool,
    },
    Throttled(NaiveDateTime),
}

/// Claim one attempt of each key in order; on a locked one, give the earlier claims back.
fn claim_all(
    conn: &mut DbConn,
    keys: Vec<Claimed>,
    now: NaiveDateTime,
) -> Result<Result<Vec<Claimed>, NaiveDateTime>, Error> {
    let mut taken: Vec<Claimed> = Vec::new();
    for c in keys {
        match Throttle::claim(conn, &c.key, c.limit, now)? {
            Claim::Taken => taken.push(c),
            Claim::Locked(until) => {
                for t in &taken {
                    Throttle::release(conn, &t.key)?;
                }
                return Ok(Err(until));
            }
        }
    }
    Ok(Ok(taken))
}

fn gate(
    conn: &mut DbConn,
    email: &str,
    ip: Option<IpAddr>,
    email_key: String,
    ip_key: String,
    device_hash: Option<&str>,
    now: NaiveDateTime,
) -> Result<Gate, Error> {
    let user = UserRow::find_by_email(conn, email)?;
    let via_device = match (&user, device_hash) {
        (Some(u), Some(h)) => KnownDevice::is_known(conn, h, &u.id, now)?,
        _ => false,
    };
    let keys = match device_hash {
        Some(h) if via_device => vec![Claimed {
            key: throttle::device_key(h),
            limit: DEVICE,
        }],
        _ => vec![
            Claimed {
                key: ip_key,
                limit: IP,
            },
            Claimed {
                key: email_key,
                limit: EMAIL,
            },
        ],
    };
    match claim_all(conn, keys, now)? {
        Ok(claimed) => Ok(Gate::Check {
            user,
            claimed,
            via_device,
        }),
        Err(until) => {
            let action = AuditAction::LoginFailed;
            audit(conn, email, ip, user.as_ref(), action, Some("locked"), now)?;
            Ok(Gate::Throttled(until))
        }
    }
}

/// The audit entries of an attempt: in every organization the account belongs to, or one
/// global entry (never the password; an e-mail field holding something else is not recorded
/// as typed).
pub(crate) fn audit(
    conn: &mut DbConn,
    email: &str,
    ip: Option<IpAddr>,
    user: Option<&UserRow>,
    action: AuditAction,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let recorded_email = parse_email(email).unwrap_or_else(|_| "(not an e-mail address)".into());
    let who = match user {
        Some(u) => Who::User(User {
            id: UserId::new(u.id.clone()),
            email: recorded_email,
        }),
        None => Who::Anonymous(recorded_email),
    };
    let details = AuditDetails {
        reason: reason.map(str::to_string),
        ..AuditDetails::default()
    };
    let orgs = match user {
        Some(u) => Membership::orgs_of_user(conn, &u.id)?,
        None => Vec::new(),
    };
    let record = |org: Option<OrgId>| Record {
        action,
        who: who.clone(),
        org,
        token: None,
        details: details.clone(),
        client_ip: ip,
    };
    if orgs.is_empty() {
        record(None).write(conn, now)?;
    }
    for (org, _) in orgs {
        record(Some(OrgId::new(org.id))).write(conn, now)?;
    }
    Ok(())
}

/// Sign in. See the module documentation for the steps.
pub async fn sign_in(state: &AppState, attempt: Attempt) -> Result<SignIn, Error> {
    let email = throttle::normalize_email(&attempt.email);
    let now = state.clock.naive();
    let email_key = throttle::email_key(state, &email)?;
    let ip = attempt.client_ip;
    let ip_key = throttle::ip_key(ip);
    // A device cookie counts only with a valid signature (then only if the database knows it).
    let device_id = match attempt.device.as_deref() {
        Some(cookie) => throttle::verified_device(state, cookie)?,
        None => None,
    };
    let device_hash = device_id.as_deref().map(hash_id);

    // A place in the hashing pool first, before any database work: a full pool (a storm)
    // answers at once and writes nothing.
    let wait = crate::app::hashing::WAIT_FOR_A_PLACE;
    let Ok(slot) = state.hasher.reserve_within(wait).await else {
        busy_warning(state);
        return Ok(SignIn::Busy);
    };

    let (e, dh) = (email.clone(), device_hash.clone());
    let gate = state
        .db(move |conn| gate(conn, &e, ip, email_key, ip_key, dh.as_deref(), now))
        .await?;
    let (user, claimed, via_device) = match gate {
        Gate::Throttled(until) => {
            let retry_after = (until - now).max(chrono::Duration::seconds(1));
            return Ok(SignIn::Throttled { retry_after });
        }
        Gate::Check {
            user,
            claimed,
            via_device,
        } => (user, claimed, via_device),
    };

    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let pw = attempt.password;
    let checked = state
        .hasher
        .run_in(slot, move || password::verify(&pw, stored.as_deref()))
        .await;
    let Ok(ok) = checked else {
        busy_warning(state);
        state
            .db(move |conn| {
                for c in &claimed {
                    Throttle::release(conn, &c.key)?;
                }
                Ok(())
            })
            .await?;
        return Ok(SignIn::Busy);
    };

    let previous = attempt.previous_session;
    let origin = Origin {
        user_agent: attempt.user_agent,
        client_ip: ip,
    };
    let device = device_id.filter(|_| via_device);
    let outcome = state
        .tx(move |conn| match (user, ok) {
            (Some(u), true) => {
                for c in &claimed {
                    // The address's attempt was not a failure; the e-mail or device key starts
                    // from nothing again.
                    if c.limit == IP {
                        Throttle::release(conn, &c.key)?;
                    } else {
                        Throttle::clear(conn, &c.key)?;
                    }
                }
                if let Some(old) = &previous {
                    SessionRow::delete(conn, &hash_id(old))?;
                }
                let device = device.unwrap_or_else(random_token);
                KnownDevice::remember(conn, &hash_id(&device), &u.id, now)?;
                if TotpRow::is_on(conn, &u.id)? {
                    let pending = super::second_factor::start(conn, &u.id, &origin, now)?;
                    return Ok(SignIn::SecondFactor { pending, device });
                }
                let session = start_session_from(conn, &UserId::new(u.id.clone()), &origin, now)?;
                audit(conn, &email, ip, Some(&u), AuditAction::Login, None, now)?;
                Ok(SignIn::SignedIn { session, device })
            }
            (user, _) => {
                for c in &claimed {
                    Throttle::lock_if_exhausted(conn, &c.key, c.limit, now)?;
                }
                let reason = if user.is_some() {
                    "bad_password"
                } else {
                    "unknown_email"
                };
                let action = AuditAction::LoginFailed;
                audit(conn, &email, ip, user.as_ref(), action, Some(reason), now)?;
                Ok(SignIn::Refused)
            }
        })
        .await?;
    Ok(match outcome {
        SignIn::SignedIn { session, device } => SignIn::SignedIn {
            session,
            device: throttle::sign_device(state, &device)?,
        },
        SignIn::SecondFactor { pending, device } => SignIn::SecondFactor {
            pending,
            device: throttle::sign_device(state, &device)?,
        },
        other => other,
    })
}

fn busy_warning(state: &AppState) {
    if state
        .hasher
        .first_busy_in_a_minute(state.clock.now().timestamp())
    {
        tracing::warn!(
            workers = state.hasher.workers(),
            bound = state.hasher.bound(),
            "sign-in: the password-hashing pool is full; answering 429 (busy) until it drains"
        );
    }
}

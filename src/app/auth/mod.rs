//! Signing in and out, sessions, and who may act in which organization.
//!
//! Sessions are server-side: the browser holds a random id, the database its SHA-256, so a
//! leaked database hands out no live session. A session ends after [`IDLE_TIMEOUT`] idle or
//! [`ABSOLUTE_TIMEOUT`] after sign-in; its id is renewed at sign-in. Signing in itself (the
//! hashing pool, the throttles, known devices) is [`sign_in`]'s.

use super::Error;
use super::tokens::attention;
use super::tokens::stats::StatsCache;
use crate::app::state::AppState;
use crate::db::DbConn;
use crate::db::models::membership::Membership;
use crate::db::models::session::Session as SessionRow;
use crate::db::models::two_factor::{OrgSecurity, TotpRow};
use crate::db::models::user::User as UserRow;
use crate::domain::account::{Member, Organization, User};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::role::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub mod second_factor;
mod sign_in;
pub mod throttle;

pub(crate) use sign_in::audit as audit_sign_in;
pub use sign_in::{Attempt, SignIn, sign_in};

pub const IDLE_TIMEOUT: Duration = Duration::hours(12);
pub const ABSOLUTE_TIMEOUT: Duration = Duration::days(7);

/// A random URL-safe token (session ids, CSRF tokens, setup links).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// What the database keeps of a session id.
pub fn hash_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// SHA-256 of the cookie's id.
    pub id_hash: String,
    /// The token every state-changing request of this session must carry.
    pub csrf_token: String,
}

impl From<UserRow> for User {
    fn from(u: UserRow) -> User {
        User {
            id: UserId::new(u.id),
            email: u.email,
        }
    }
}

impl From<crate::db::models::organization::Organization> for Organization {
    fn from(o: crate::db::models::organization::Organization) -> Organization {
        Organization {
            id: OrgId::new(o.id),
            slug: o.slug,
            name: o.name,
        }
    }
}

fn live_session(
    conn: &mut DbConn,
    id_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<Session>, Error> {
    let Some(s) = SessionRow::find_live(conn, id_hash, IDLE_TIMEOUT, now)? else {
        return Ok(None);
    };
    let Some(user) = UserRow::find(conn, &s.user_id)? else {
        return Ok(None);
    };
    SessionRow::touch(conn, &s, now)?;
    Ok(Some(Session {
        user: user.into(),
        id_hash: s.id_hash,
        csrf_token: s.csrf_token,
    }))
}

/// The live session whose cookie id hashes to `id_hash` (its last use recorded at most once
/// a minute), or `None`.
pub async fn session(state: &AppState, id_hash: String) -> Result<Option<Session>, Error> {
    let now = state.clock.naive();
    state
        .db(move |conn| live_session(conn, &id_hash, now))
        .await
}

/// Whether the caller wants the attention count (a page with the layout's banner) or not (a
/// form post that redirects, an HTMX fragment): writes then cost the same at any organization
/// size, since a write changes the token version and the count would be recomputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Banner {
    Wanted,
    NotNeeded,
}

/// A member's visit to an organization page.
#[derive(Debug, Clone)]
pub struct OrgVisit {
    pub member: Member,
    /// Tokens needing attention (0 when the banner is not wanted).
    pub attention: i64,
    /// The organization requires two-factor sign-in and the member has it off.
    pub must_enroll: bool,
}

fn member_in(
    conn: &mut DbConn,
    cache: &StatsCache,
    user: User,
    slug: &str,
    now: NaiveDateTime,
    banner: Banner,
) -> Result<Option<OrgVisit>, Error> {
    let Some((org, role)) = Membership::find_for_user(conn, slug, user.id.as_str())? else {
        return Ok(None);
    };
    let member = Member {
        client_ip: None,
        via_key: None,
        user,
        org: org.into(),
        role,
    };
    // The organization requires two-factor sign-in and this member has it off: they enroll
    // before they reach it.
    let must_enroll = OrgSecurity::requires_2fa(conn, member.org.id.as_str())?
        && !TotpRow::is_on(conn, member.user.id.as_str())?;
    let attention = match (banner, must_enroll) {
        (Banner::Wanted, false) => attention(conn, cache, &member, now)?,
        _ => 0,
    };
    Ok(Some(OrgVisit {
        member,
        attention,
        must_enroll,
    }))
}

/// A session and, when it is live, the user as a member of the organization `slug` (with the
/// attention count): what every organization page needs about its visitor, in one database
/// round trip.
pub async fn session_in_org(
    state: &AppState,
    id_hash: String,
    slug: &str,
    banner: Banner,
) -> Result<Option<(Session, Option<OrgVisit>)>, Error> {
    let (slug, now, cache) = (slug.to_string(), state.clock.naive(), state.stats.clone());
    state
        .db(move |conn| {
            let Some(session) = live_session(conn, &id_hash, now)? else {
                return Ok(None);
            };
            let member = member_in(conn, &cache, session.user.clone(), &slug, now, banner)?;
            Ok(Some((session, member)))
        })
        .await
}

/// The user as a member of the organization with this slug, and the number of its tokens that
/// need attention; `None` when the organization does not exist or the user is not a member
/// (both answer 404).
pub async fn member(
    state: &AppState,
    user: &User,
    slug: &str,
    banner: Banner,
) -> Result<Option<OrgVisit>, Error> {
    let (user, slug, now) = (user.clone(), slug.to_string(), state.clock.naive());
    let cache = state.stats.clone();
    state
        .db(move |conn| member_in(conn, &cache, user, &slug, now, banner))
        .await
}

/// The user's organizations, by name, with their role in each.
pub async fn organizations(
    state: &AppState,
    user: &User,
) -> Result<Vec<(Organization, Role)>, Error> {
    let id = user.id.clone();
    state
        .db(move |conn| {
            Ok(Membership::orgs_of_user(conn, id.as_str())?
                .into_iter()
                .map(|(o, r)| (o.into(), r))
                .collect())
        })
        .await
}

/// Where a session is started from: shown on the account page.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub user_agent: Option<String>,
    pub client_ip: Option<std::net::IpAddr>,
}

impl Origin {
    fn user_agent(&self) -> Option<String> {
        use crate::db::models::session::USER_AGENT_MAX;
        self.user_agent
            .as_deref()
            .map(|ua| ua.chars().take(USER_AGENT_MAX).collect::<String>())
            .filter(|ua| !ua.trim().is_empty())
    }
}

/// Start a session for a user (a fresh id: sign-in renews it), recording the browser and
/// address it comes from. Returns the cookie's id.
pub fn start_session_from(
    conn: &mut DbConn,
    user_id: &UserId,
    origin: &Origin,
    now: NaiveDateTime,
) -> Result<String, Error> {
    let id = random_token();
    SessionRow::insert(
        conn,
        &SessionRow {
            id_hash: hash_id(&id),
            user_id: user_id.as_str().to_string(),
            csrf_token: random_token(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + ABSOLUTE_TIMEOUT,
            user_agent: origin.user_agent(),
            client_ip: origin.client_ip.map(|ip| ip.to_canonical().to_string()),
        },
    )?;
    crate::db::models::members::Members::record_sign_in(conn, user_id.as_str(), now)?;
    let _ = SessionRow::delete_expired(conn, now);
    Ok(id)
}

/// End a session.
pub async fn sign_out(state: &AppState, session: &Session) -> Result<(), Error> {
    let id_hash = session.id_hash.clone();
    state
        .db(move |conn| Ok(SessionRow::delete(conn, &id_hash)?))
        .await
}

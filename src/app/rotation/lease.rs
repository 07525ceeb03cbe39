//! One rotation of a token at a time, across every server process on the database: the lease
//! `rotate:<token id>` in `scheduler_leases`, taken by a rotation at GitLab and by a manual
//! rotation alike. A rotation gives it back when it is over; one left by a process that died
//! expires after [`LEASE_TTL`]. Rows of free leases are deleted by the next rotation of any
//! other token, so they do not pile up (one per token ever rotated).

use super::super::Error;
use crate::app::state::AppState;
use crate::db::models::lease::Lease;
use crate::domain::ids::TokenId;

/// How long a rotation may hold its token's lease (a rotation takes seconds: a call to GitLab
/// or not, the tests of the new value, one transaction).
pub const LEASE_TTL: chrono::Duration = chrono::Duration::minutes(2);

/// Names of the per-token rotation leases start with this.
pub const PREFIX: &str = "rotate:";

/// The lease of a token's rotation.
pub fn lease_name(id: &TokenId) -> String {
    format!("{PREFIX}{id}")
}

/// A rotation lease this process holds.
#[derive(Debug)]
pub struct Held {
    name: String,
    holder: String,
}

/// Take the token's rotation lease; `None` if another rotation holds it.
pub async fn take(state: &AppState, id: &TokenId) -> Result<Option<Held>, Error> {
    let held = Held {
        name: lease_name(id),
        holder: crate::db::new_id(),
    };
    let (n, h) = (held.name.clone(), held.holder.clone());
    let now = state.clock.naive();
    let taken = state
        .db(move |conn| Ok(Lease::try_acquire_named(conn, &n, &h, now, LEASE_TTL)?))
        .await?;
    Ok(taken.then_some(held))
}

impl Held {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Give the lease back (its row stays, free, for the next rotation of this token) and
    /// delete the rotation leases of other tokens that are free or expired (released, or their
    /// holders died): at most the latest rotation's row is left. A failure is logged: the
    /// lease expires by itself.
    pub async fn release(self, state: &AppState) {
        let now = state.clock.naive();
        let name = self.name.clone();
        let done = state
            .db(move |conn| {
                Lease::release(conn, &self.name, &self.holder, now)?;
                Ok(Lease::remove_expired(conn, PREFIX, &self.name, now)?)
            })
            .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, lease = %name, "could not release a rotation lease");
        }
    }
}

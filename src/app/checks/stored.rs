//! Every stored token of every organization, read a chunk at a time: the scheduler and
//! `tokens check` re-test a large installation without holding all its rows (ciphertext
//! included) in memory.

use super::super::Error;
use crate::app::state::AppState;
use crate::db::models::token::GitToken;
use futures::Stream;

/// Tokens read from the database at once.
pub const CHUNK: i64 = 256;

/// The stored tokens with their organization's slug, `chunk` rows at a time (keyset paging on
/// the id). The next chunk is read only when the consumer asks for it, so memory holds one
/// chunk plus what the consumer keeps.
pub fn chunks(
    state: AppState,
    chunk: i64,
) -> impl Stream<Item = Result<Vec<(GitToken, String)>, Error>> {
    let chunk = chunk.max(1);
    // `None`: done; `Some(None)`: from the start; `Some(Some(id))`: after that id.
    futures::stream::try_unfold(
        (state, Some(None::<String>)),
        move |(state, cursor)| async move {
            let Some(after) = cursor else {
                return Ok(None);
            };
            let rows = state
                .db(move |conn| Ok(GitToken::check_chunk(conn, after.as_deref(), chunk)?))
                .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            let next = if i64::try_from(rows.len()).unwrap_or(i64::MAX) < chunk {
                None
            } else {
                rows.last().map(|(t, _)| Some(t.id.clone()))
            };
            Ok(Some((rows, (state, next))))
        },
    )
}

//! The health check: does the database answer?

use crate::app::state::AppState;

/// Whether the database answers a trivial query.
pub async fn database_answers(state: &AppState) -> bool {
    state
        .db(|conn| {
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .is_ok()
}

use crate::state::AppState;
use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

/// `GET /healthz`: 200 `ok` when the database answers, 503 otherwise.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = web::block(move || {
        let mut conn = state.conn().ok()?;
        diesel::sql_query("SELECT 1").execute(&mut *conn).ok()
    })
    .await
    .ok()
    .flatten()
    .is_some();
    if ok {
        HttpResponse::Ok().content_type("text/plain").body("ok")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable")
    }
}

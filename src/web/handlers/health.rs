use crate::app;
use crate::app::state::AppState;
use actix_web::{HttpResponse, web};

/// `GET /healthz`: 200 `ok` when the database answers, 503 otherwise.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    if app::health::database_answers(&state).await {
        HttpResponse::Ok().content_type("text/plain").body("ok")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable")
    }
}

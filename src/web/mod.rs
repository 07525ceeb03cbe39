//! HTTP layer: routes, extractors, middleware and handlers.

pub mod api;
pub mod assets;
pub mod client;
pub mod csrf;
pub mod drain;
pub mod error;
pub mod extractors;
pub mod forms;
pub mod guard;
pub mod handlers;
pub mod headers;
pub mod htmx;
pub mod next;
pub mod paging;
pub mod render;
pub mod request_log;
pub mod session;
pub mod urls;
pub mod view;

use actix_web::{HttpResponse, web};
use handlers::{
    account, api_keys, audit, auth, health, inventory, members, migrate, notifications, orgs,
    password_reset, rotate, security, services, setup, sso, tokens, two_factor,
};

/// The whole route table: the public routes, then each area's organization routes (fixed paths
/// such as `…/git-tokens/inventory` before the token routes' `…/git-tokens/{id}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(urls::HOME, web::get().to(orgs::root))
        .route(urls::HEALTH, web::get().to(health::healthz))
        .route(urls::FAVICON, web::get().to(assets::favicon))
        .route(urls::STATIC, web::get().to(assets::serve))
        .configure(auth::routes)
        .configure(setup::routes)
        .configure(members::public_routes)
        .configure(password_reset::routes)
        .configure(account::routes)
        .configure(two_factor::routes)
        .configure(sso::routes)
        .configure(api::routes)
        .route(urls::ORGS, web::get().to(orgs::list_orgs))
        .service(
            web::scope(urls::ORG_SCOPE)
                .configure(orgs::routes)
                .configure(inventory::routes)
                .configure(audit::routes)
                .configure(migrate::routes)
                .configure(services::routes)
                .configure(notifications::routes)
                .configure(members::routes)
                .configure(security::routes)
                .configure(api_keys::routes)
                .configure(rotate::routes)
                .configure(tokens::routes),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, error::AppError> {
    Err(error::AppError::NotFound)
}

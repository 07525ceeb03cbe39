//! HTTP layer: routes, extractors, middleware and handlers.

pub mod assets;
pub mod csrf;
pub mod error;
pub mod extractors;
pub mod guard;
pub mod handlers;
pub mod headers;
pub mod htmx;
pub mod paging;
pub mod render;
pub mod session;

use actix_web::{HttpResponse, web};
use handlers::{audit, auth, health, inventory, orgs, rotate, setup, tokens};

/// The whole route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(orgs::root))
        .route("/healthz", web::get().to(health::healthz))
        .route("/favicon.ico", web::get().to(assets::favicon))
        .route("/static/{path:.*}", web::get().to(assets::serve))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/setup", web::get().to(setup::setup_form))
        .route("/setup", web::post().to(setup::setup))
        .route("/orgs", web::get().to(orgs::list_orgs))
        .service(
            web::scope("/orgs/{org}")
                .route("", web::get().to(orgs::org_home))
                .route("/settings/git-tokens", web::get().to(tokens::list_tokens))
                .route(
                    "/settings/git-tokens",
                    web::post().to(tokens::form::create_token),
                )
                .route(
                    "/settings/git-tokens/new",
                    web::get().to(tokens::form::new_token_form),
                )
                .route(
                    "/settings/git-tokens/test",
                    web::post().to(tokens::form::test_new),
                )
                // Before `{id}`, which would otherwise capture "inventory".
                .route(
                    "/settings/git-tokens/inventory",
                    web::get().to(inventory::show_inventory),
                )
                .route("/audit", web::get().to(audit::audit_trail))
                // Issue 4: the GitHub App migration (before `{id}`), token moves, services.
                .route(
                    "/settings/git-tokens/migrate-github-app",
                    web::get().to(handlers::migrate::migrate_page),
                )
                .route(
                    "/settings/git-tokens/migrate-github-app",
                    web::post().to(handlers::migrate::migrate_services),
                )
                .route(
                    "/settings/git-tokens/{id}/move",
                    web::post().to(handlers::services::moves::move_services),
                )
                .route(
                    "/services",
                    web::get().to(handlers::services::list_services),
                )
                .route(
                    "/services",
                    web::post().to(handlers::services::form::create_service),
                )
                .route(
                    "/services/new",
                    web::get().to(handlers::services::form::new_service),
                )
                .route(
                    "/services/new/repositories",
                    web::get().to(handlers::services::form::repositories),
                )
                .route(
                    "/services/new/branches",
                    web::get().to(handlers::services::form::branches),
                )
                .route(
                    "/services/{id}",
                    web::get().to(handlers::services::show_service),
                )
                .route(
                    "/services/{id}/edit",
                    web::get().to(handlers::services::form::edit_service_form),
                )
                .route(
                    "/services/{id}/edit",
                    web::post().to(handlers::services::form::update_service),
                )
                .route(
                    "/services/{id}/delete",
                    web::post().to(handlers::services::delete_service),
                )
                .route(
                    "/settings/notifications",
                    web::get().to(handlers::notifications::show_notifications),
                )
                .route(
                    "/settings/notifications",
                    web::post().to(handlers::notifications::update_notifications),
                )
                .route(
                    "/settings/git-tokens/{id}/rotate",
                    web::get().to(rotate::rotate_form),
                )
                .route(
                    "/settings/git-tokens/{id}/rotate",
                    web::post().to(rotate::rotate_token),
                )
                .route(
                    "/settings/git-tokens/{id}/rotate-at-provider",
                    web::post().to(rotate::rotate_at_provider),
                )
                .route(
                    "/settings/git-tokens/{id}",
                    web::get().to(tokens::show_token),
                )
                .route(
                    "/settings/git-tokens/{id}",
                    web::post().to(tokens::form::update_token),
                )
                .route(
                    "/settings/git-tokens/{id}/edit",
                    web::get().to(tokens::form::edit_token_form),
                )
                .route(
                    "/settings/git-tokens/{id}/test",
                    web::post().to(tokens::actions::retest_token),
                )
                .route(
                    "/settings/git-tokens/{id}/delete",
                    web::get().to(tokens::actions::delete_confirm),
                )
                .route(
                    "/settings/git-tokens/{id}/delete",
                    web::post().to(tokens::actions::delete_token),
                ),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, error::AppError> {
    Err(error::AppError::NotFound)
}

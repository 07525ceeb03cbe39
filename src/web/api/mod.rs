//! The JSON API (DESIGN.md §9) under `/api`: organization API keys as bearer tokens
//! ([`auth`]), errors as problem+json ([`problem`]), and handlers that parse, call the same
//! `app::…` use cases as the pages, and answer JSON. Cookies are never read here, so the CSRF
//! checks of the pages do not apply (`web::csrf::check_origin` lets `/api` through).

pub mod auth;
pub mod input;
pub mod openapi;
pub mod problem;
pub mod reports;
pub mod services;
pub mod tokens;
pub mod types;

use crate::web::urls;
use actix_web::web;

/// Whether a request path is the API's (no cookies, no CSRF, problem+json errors).
pub fn is_api_path(path: &str) -> bool {
    path == urls::API_SCOPE || path.starts_with("/api/")
}

/// The API's route table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use urls::api;
    cfg.service(
        web::scope(urls::API_SCOPE)
            .route(
                urls::API_OPENAPI.trim_start_matches(urls::API_SCOPE),
                web::get().to(openapi::openapi_json),
            )
            .service(
                web::scope(urls::API_ORG_SCOPE)
                    .route(api::TOKENS, web::get().to(tokens::list_tokens))
                    .route(api::TOKENS, web::post().to(tokens::create_token))
                    .route(api::TOKEN, web::get().to(tokens::show_token))
                    .route(api::TOKEN, web::patch().to(tokens::patch_token))
                    .route(api::TOKEN, web::delete().to(tokens::delete_token))
                    .route(api::TOKEN_TEST, web::post().to(tokens::test_token))
                    .route(api::TOKEN_MOVE, web::post().to(tokens::move_services))
                    .route(api::SERVICES, web::get().to(services::list_services))
                    .route(api::SERVICES, web::post().to(services::create_service))
                    .route(api::SERVICE, web::get().to(services::show_service))
                    .route(api::SERVICE, web::patch().to(services::patch_service))
                    .route(api::SERVICE, web::delete().to(services::delete_service))
                    .route(api::AUDIT, web::get().to(reports::audit))
                    .route(api::INVENTORY, web::get().to(reports::inventory)),
            )
            .default_service(web::to(problem::not_found)),
    );
}

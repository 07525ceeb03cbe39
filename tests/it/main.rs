//! One integration test binary (see STYLE.md): every module below links into it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;
pub(crate) use support::{fakes, helpers};

mod account;
mod accounts;
mod api_auth;
mod api_key_expiry;
mod api_keys;
mod api_openapi;
mod api_services;
mod api_support;
mod api_tokens;
mod audit;
mod auth;
mod backup;
mod checks;
mod cli;
mod clone_check;
mod edits;
mod forms;
mod git_credentials;
mod input_guard;
mod inventory;
mod keys;
mod lifecycle;
mod members;
mod metrics;
mod outbound_defaults;
mod page_cache;
mod polish;
mod providers;
mod proxies;
mod roles;
mod rotation;
mod secrets;
mod services;
mod serving;
mod setup_flow;
mod setup_race;
mod sign_in_protection;
mod sso;
mod times_and_headers;
mod token_testing;
mod tokens_check;
mod tokens_crud;
mod two_factor;
mod two_processes;
mod verdicts_bitbucket;
mod verdicts_github;
mod verdicts_gitlab;

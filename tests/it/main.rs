//! One integration test binary (see STYLE.md): every module below links into it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fakes;
mod helpers;
mod providers;
mod setup_flow;
mod auth;
mod roles;
mod token_testing;
mod tokens_crud;
mod secrets;
mod inventory;
mod tokens_check;
mod rotation;
mod audit;
mod lifecycle;
mod services;

//! Forgekeys: a self-hostable console for an organization's Git provider access tokens.

pub mod app;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod metrics;
pub mod providers;
pub mod startup;
pub mod telemetry;
pub mod web;

//! Browser tests (headless Chromium through chromedriver); see `browser.rs` for the harness.
//! Run with `FORGEKEYS_E2E_REQUIRED=1` to fail (instead of skipping) when Chromium,
//! chromedriver, java or the npm tools (`npm ci`: axe-core, vnu-jar) are missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;
pub(crate) use support::{fakes, helpers};

mod account;
mod api_keys;
mod browser;
mod build_credentials;
mod flows;
mod inventory;
mod inventory_layout;
mod inventory_print;
mod members;
mod polish;
mod quality;
mod screens;
mod sso;

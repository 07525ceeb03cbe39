//! One integration test binary (see STYLE.md): every module below links into it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fakes;
mod helpers;
mod providers;
mod setup_flow;

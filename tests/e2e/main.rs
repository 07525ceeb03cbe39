//! Browser tests (headless Chromium through chromedriver).

#![allow(clippy::unwrap_used, clippy::expect_used)]

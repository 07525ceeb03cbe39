//! What the integration suite (`tests/it`) and the browser suite (`tests/e2e`) share: the app
//! under test with its builder and cookie-keeping client (`helpers`), and the fake providers,
//! as strict as the real ones (`fakes`). Each suite includes this folder as its `support`
//! module.

pub mod fakes;
pub mod helpers;
pub mod oidc;

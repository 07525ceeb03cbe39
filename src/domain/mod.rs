//! Domain rules: validated values and business decisions. No actix or diesel here.

pub mod provider;
pub mod role;
pub mod test_result;
pub mod token_form;

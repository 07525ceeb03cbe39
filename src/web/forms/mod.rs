//! Parsing and validation of posted forms, with the messages shown next to the fields.

pub mod account;
pub mod api_key;
pub mod rotation;
pub mod service;
pub mod token;

use std::collections::BTreeMap;

/// Field → message.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FormErrors(pub BTreeMap<&'static str, String>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, msg: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| msg.into());
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

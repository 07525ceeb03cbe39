//! The new-API-key form (DESIGN.md §9): `name`, `role`, `expires_in_days`, with the messages
//! shown next to the fields.

use super::FormErrors;
use crate::app::api_keys::{KeyFieldError, NewKey};
use crate::domain::access_key::{KEY_DAYS_MAX, KEY_NAME_MAX, KEY_ROLES};
use crate::domain::role::Role;

/// Lifetime offered by default (days).
pub const DEFAULT_DAYS: i64 = 90;

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ApiKeyFormData {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    /// Empty: the key never expires.
    #[serde(default)]
    pub expires_in_days: String,
}

/// The message for a field error.
pub fn key_field_message(e: KeyFieldError) -> String {
    match e {
        KeyFieldError::NameEmpty => "Enter a name, e.g. terraform or ci-deploy.".into(),
        KeyFieldError::NameTooLong => format!("Use at most {KEY_NAME_MAX} characters."),
        KeyFieldError::NameControl => "The name cannot contain control characters.".into(),
        KeyFieldError::RoleNotAllowed => role_message(),
        KeyFieldError::DaysOutOfRange => days_message(),
    }
}

fn role_message() -> String {
    let roles: Vec<&str> = KEY_ROLES.iter().map(|r| r.label()).collect();
    format!(
        "Choose {}: an API key is never an Owner.",
        roles.join(", ").replacen(", Viewer", " or Viewer", 1)
    )
}

fn days_message() -> String {
    format!(
        "Enter a whole number of days from 1 to {KEY_DAYS_MAX}, or leave it empty for a key that never expires."
    )
}

/// Parse and check the form.
pub fn parse_api_key(form: &ApiKeyFormData) -> Result<NewKey, FormErrors> {
    let mut errors = FormErrors::default();
    let role = Role::parse(&form.role).filter(|r| KEY_ROLES.contains(r));
    if role.is_none() {
        errors.add("role", role_message());
    }
    let days = match form.expires_in_days.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add("expires_in_days", days_message());
                None
            }
        },
    };
    let new = NewKey {
        name: form.name.trim().to_string(),
        role: role.unwrap_or(Role::Viewer),
        expires_in_days: days,
    };
    for (field, e) in new.check() {
        errors.add(field, key_field_message(e));
    }
    if errors.is_empty() {
        Ok(new)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_with_their_messages() {
        let ok = parse_api_key(&ApiKeyFormData {
            name: " terraform ".into(),
            role: "devops".into(),
            expires_in_days: "30".into(),
        });
        let ok = ok.map_err(|e| format!("{e:?}"));
        assert!(
            matches!(ok, Ok(NewKey { ref name, role: Role::Devops, expires_in_days: Some(30) }) if name == "terraform")
        );
        let Err(e) = parse_api_key(&ApiKeyFormData {
            name: String::new(),
            role: "owner".into(),
            expires_in_days: "0".into(),
        }) else {
            panic!("accepted")
        };
        assert!(e.has("name") && e.has("role") && e.has("expires_in_days"));
        assert_eq!(
            e.get("role"),
            Some("Choose Admin, DevOps or Viewer: an API key is never an Owner.")
        );
    }
}

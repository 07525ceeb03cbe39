//! Services as pages show them: the words for a service's kind and access, why a token cannot
//! be chosen, token options of the pickers, and a service's row.

use super::time::fmt_time;
use crate::app::services::{Listed, TokenChoice};
use crate::domain::service::{Access, ServiceKind};
use crate::domain::token::Unusable;

/// What a service is (`kind`), in the form's order.
pub const KINDS: [(ServiceKind, &str); 3] = [
    (ServiceKind::Application, "Application"),
    (ServiceKind::Cron, "Cron job"),
    (ServiceKind::Helm, "Helm chart"),
];

/// How a service reaches Git (`access`), in the form's order.
pub const ACCESS: [(Access, &str); 3] = [
    (Access::Token, "Organization token"),
    (Access::GithubApp, "GitHub App (legacy)"),
    (Access::Personal, "Personal account"),
];

pub fn kind_label(kind: ServiceKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("", |(_, l)| *l)
}

pub fn access_label(access: Access) -> &'static str {
    ACCESS
        .iter()
        .find(|(a, _)| *a == access)
        .map_or("", |(_, l)| *l)
}

/// Why a token cannot be chosen for a service or as a move target.
pub fn unusable_text(why: Unusable) -> &'static str {
    match why {
        Unusable::Rejected => "rejected by the provider at its last test",
        Unusable::Expired => "expired",
    }
}

/// An `<option>`.
#[derive(Debug, Clone, Default)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
    pub disabled: bool,
}

/// Options of a fixed table, `selected` chosen.
pub fn table_options<T: Copy + PartialEq>(
    table: &[(T, &str)],
    value: impl Fn(T) -> &'static str,
    selected: &str,
) -> Vec<Opt> {
    table
        .iter()
        .map(|(v, l)| Opt {
            value: value(*v).to_string(),
            label: (*l).to_string(),
            selected: value(*v) == selected,
            disabled: false,
        })
        .collect()
}

/// Token choices: expired or rejected ones are shown but disabled, with the reason. `server`
/// adds the server URL to the label (the service form lists every server of a provider).
pub fn token_options(choices: &[TokenChoice], selected: &str, server: bool) -> Vec<Opt> {
    choices
        .iter()
        .map(|c| {
            let t = &c.token;
            let mut label = t.name.clone();
            if let Some(a) = t.account.as_deref().filter(|a| !a.is_empty()) {
                label.push_str(&format!(" · {a}"));
            }
            if server {
                if let Some(u) = t.destination.url.as_deref().filter(|u| !u.is_empty()) {
                    label.push_str(&format!(" · {u}"));
                }
            }
            match c.unusable {
                Some(why) => label.push_str(&format!(" — not selectable: {}", unusable_text(why))),
                None => label.push_str(&format!(" — {}", t.status.label())),
            }
            Opt {
                value: t.id.as_str().to_string(),
                label,
                selected: t.id.as_str() == selected && c.unusable.is_none(),
                disabled: c.unusable.is_some(),
            }
        })
        .collect()
}

/// A service as listed and shown.
#[derive(Debug, Clone)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub provider: &'static str,
    pub access: &'static str,
    pub access_key: &'static str,
    pub repository: String,
    pub branch: String,
    pub token_id: String,
    pub token_name: String,
    pub token_status: &'static str,
    pub token_status_label: &'static str,
    pub created: String,
    pub updated: String,
}

impl ServiceView {
    pub fn new(l: &Listed) -> ServiceView {
        let s = &l.service;
        let t = l.token.as_ref();
        ServiceView {
            id: s.id.as_str().to_string(),
            name: s.name.clone(),
            kind: kind_label(s.kind),
            provider: s.provider.label(),
            access: access_label(s.access),
            access_key: s.access.as_str(),
            repository: s.repository.clone(),
            branch: s.branch.clone(),
            token_id: t.map(|t| t.id.as_str().to_string()).unwrap_or_default(),
            token_name: t.map(|t| t.name.clone()).unwrap_or_default(),
            token_status: t.map_or("", |t| t.status.as_str()),
            token_status_label: t.map_or("", |t| t.status.label()),
            created: fmt_time(s.created_at),
            updated: fmt_time(s.updated_at),
        }
    }
}

/// The decrypted-value failure in words.
pub fn undecryptable(e: &crate::crypto::secret_box::CryptoError) -> String {
    format!(
        "The stored token could not be decrypted ({e}). Edit the token and paste its value again."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_access_has_words() {
        for k in ServiceKind::ALL {
            assert!(!kind_label(k).is_empty());
        }
        for a in Access::ALL {
            assert!(!access_label(a).is_empty());
        }
        let opts = table_options(&ACCESS, Access::as_str, "personal");
        assert_eq!(opts.iter().filter(|o| o.selected).count(), 1);
        assert_eq!(opts[2].value, "personal");
    }
}

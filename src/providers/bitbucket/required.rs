//! The scopes Forgekeys requires of each kind of Bitbucket credential, with the Bitbucket UI
//! words and the fix text.
//!
//! - Access tokens (repository / project / workspace) and app passwords use the OAuth scope
//!   names (`repository`, `pullrequest:write`, `webhook`), expanded by their documented
//!   implications (`pullrequest:write` ⇒ `pullrequest` + `repository:write` ⇒ `repository`).
//! - Atlassian API tokens use `read:repository:bitbucket`-style names that do **not** imply each
//!   other ("This scope does not imply the read:repository:bitbucket scope, so you need to
//!   request it separately", https://support.atlassian.com/bitbucket-cloud/docs/api-token-permissions),
//!   so reading and writing pull requests and webhooks are required one by one.

use crate::domain::test_result::MissingPermission;
use crate::providers::scopes::expand_bitbucket;

/// Which scope vocabulary a credential uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Vocabulary {
    /// Access tokens and app passwords.
    OAuth,
    /// Atlassian API tokens.
    ApiToken,
}

const OAUTH: &[(&str, &str)] = &[
    ("repository", "Repositories: Read"),
    ("pullrequest:write", "Pull requests: Write"),
    ("webhook", "Webhooks: Read and write"),
];

const API_TOKEN: &[(&str, &str)] = &[
    ("read:repository:bitbucket", "Repositories: Read"),
    ("read:pullrequest:bitbucket", "Pull requests: Read"),
    ("write:pullrequest:bitbucket", "Pull requests: Write"),
    ("read:webhook:bitbucket", "Webhooks: Read"),
    ("write:webhook:bitbucket", "Webhooks: Write"),
];

impl Vocabulary {
    /// API-token scope names end in `:bitbucket`.
    pub fn of(scopes: &[String], fallback: Vocabulary) -> Vocabulary {
        if scopes.iter().any(|s| s.ends_with(":bitbucket")) {
            Vocabulary::ApiToken
        } else if scopes.is_empty() {
            fallback
        } else {
            Vocabulary::OAuth
        }
    }

    fn table(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Vocabulary::OAuth => OAUTH,
            Vocabulary::ApiToken => API_TOKEN,
        }
    }

    /// Every scope the granted ones give (API-token scopes imply nothing).
    pub fn expand(self, granted: &[String]) -> Vec<String> {
        match self {
            Vocabulary::OAuth => expand_bitbucket(granted),
            Vocabulary::ApiToken => {
                let mut v: Vec<String> = granted.to_vec();
                v.sort();
                v.dedup();
                v
            }
        }
    }

    /// The required scopes absent from `expanded`.
    pub fn missing(self, expanded: &[String], how: &str) -> Vec<MissingPermission> {
        self.table()
            .iter()
            .filter(|(scope, _)| !expanded.iter().any(|s| s == scope))
            .map(|(scope, _)| MissingPermission {
                name: (*scope).to_owned(),
                fix: self.fix(scope, how),
            })
            .collect()
    }

    /// Fix text for a missing `scope`; `how` says where this kind of credential is made.
    pub fn fix(self, scope: &str, how: &str) -> String {
        let ui = self
            .table()
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, ui)| *ui)
            .unwrap_or(scope);
        match self {
            Vocabulary::OAuth => format!(
                "Bitbucket cannot change the scopes of {how}: create a new one with {ui} ticked, \
                 and enter it here. Missing scope: `{scope}`."
            ),
            Vocabulary::ApiToken => format!(
                "An Atlassian API token cannot change its scopes: create a new one (Atlassian \
                 account settings → Security → Create and manage API tokens → Create API token \
                 with scopes → Bitbucket) with {ui} (`{scope}`) — API token scopes do not \
                 include one another, so tick read and write separately — and enter it here. \
                 Missing scope: `{scope}`."
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn api_token_scopes_imply_nothing() {
        let granted = v(&["write:pullrequest:bitbucket", "write:webhook:bitbucket"]);
        let voc = Vocabulary::of(&granted, Vocabulary::OAuth);
        assert_eq!(voc, Vocabulary::ApiToken);
        let names: Vec<String> = voc
            .missing(&voc.expand(&granted), "")
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(
            names,
            v(&[
                "read:repository:bitbucket",
                "read:pullrequest:bitbucket",
                "read:webhook:bitbucket"
            ])
        );
        let oauth = v(&["pullrequest:write", "webhook"]);
        let voc = Vocabulary::of(&oauth, Vocabulary::ApiToken);
        assert!(voc.missing(&voc.expand(&oauth), "").is_empty());
    }
}

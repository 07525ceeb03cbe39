//! Typed ids. Every id is an opaque string (a UUID for rows Forgekeys creates); the type says
//! which table it belongs to, so a service id can never be passed where a token id is meant.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }
            /// A fresh random id.
            pub fn random() -> $name {
                $name(uuid::Uuid::new_v4().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

id_type!(
    /// An organization.
    OrgId
);
id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A stored Git provider token.
    TokenId
);
id_type!(
    /// A service (application, cron job, Helm chart) that deploys with a token.
    ServiceId
);
id_type!(
    /// An invitation to an organization.
    InviteId
);
id_type!(
    /// An organization API key (`fkp_…`).
    ApiKeyId
);

//! `FORGEKEYS_OIDC_*`: OpenID Connect single sign-on (DESIGN.md §1, §3a). All three of issuer,
//! client id and client secret, or none (SSO off).

use super::{ConfigError, err, parse_url};
use clap::Args;
use secrecy::SecretString;

/// The SSO flags and variables.
#[derive(Debug, Clone, Default, Args)]
pub struct OidcArgs {
    /// OpenID Connect issuer URL (its `/.well-known/openid-configuration` is read); empty: SSO off.
    #[arg(
        id = "oidc_issuer",
        value_name = "URL",
        long = "oidc-issuer",
        env = "FORGEKEYS_OIDC_ISSUER",
        default_value = ""
    )]
    pub issuer: String,
    /// The client id registered at the provider.
    #[arg(
        id = "oidc_client_id",
        value_name = "ID",
        long = "oidc-client-id",
        env = "FORGEKEYS_OIDC_CLIENT_ID",
        default_value = ""
    )]
    pub client_id: String,
    /// The client secret (sent with HTTP Basic to the token endpoint).
    #[arg(
        id = "oidc_client_secret",
        value_name = "SECRET",
        long = "oidc-client-secret",
        env = "FORGEKEYS_OIDC_CLIENT_SECRET",
        default_value = "",
        hide_env_values = true
    )]
    pub client_secret: String,
    /// The provider's name on the "Sign in with …" button.
    #[arg(
        id = "oidc_name",
        value_name = "NAME",
        long = "oidc-name",
        env = "FORGEKEYS_OIDC_NAME",
        default_value = ""
    )]
    pub name: String,
}

/// Validated SSO settings.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer exactly as configured (trailing slash removed), compared with the `iss` claim
    /// and the discovery document's `issuer`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// The button's label ("Single sign-on" when `FORGEKEYS_OIDC_NAME` is empty).
    pub name: String,
}

const DEFAULT_NAME: &str = "single sign-on";

impl OidcConfig {
    /// `None` when SSO is off; an error when only some of the three settings are given.
    pub fn from_args(a: &OidcArgs) -> Result<Option<OidcConfig>, ConfigError> {
        let issuer = a.issuer.trim();
        let client_id = a.client_id.trim();
        let secret = a.client_secret.trim();
        if issuer.is_empty() && client_id.is_empty() && secret.is_empty() {
            return Ok(None);
        }
        if issuer.is_empty() {
            return Err(err("FORGEKEYS_OIDC_ISSUER", "required for single sign-on"));
        }
        if client_id.is_empty() {
            return Err(err(
                "FORGEKEYS_OIDC_CLIENT_ID",
                "required for single sign-on",
            ));
        }
        if secret.is_empty() {
            return Err(err(
                "FORGEKEYS_OIDC_CLIENT_SECRET",
                "required for single sign-on",
            ));
        }
        let url = parse_url("FORGEKEYS_OIDC_ISSUER", issuer)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(err(
                "FORGEKEYS_OIDC_ISSUER",
                "must not contain ? or # parts",
            ));
        }
        let name = match a.name.trim() {
            "" => DEFAULT_NAME.to_string(),
            n => n.to_string(),
        };
        Ok(Some(OidcConfig {
            issuer: issuer.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            client_secret: SecretString::from(secret.to_string()),
            name,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(issuer: &str, id: &str, secret: &str) -> OidcArgs {
        OidcArgs {
            issuer: issuer.into(),
            client_id: id.into(),
            client_secret: secret.into(),
            name: String::new(),
        }
    }

    #[test]
    fn all_or_nothing() {
        assert!(matches!(OidcConfig::from_args(&args("", "", "")), Ok(None)));
        assert!(OidcConfig::from_args(&args("https://id.example", "", "")).is_err());
        assert!(OidcConfig::from_args(&args("", "c", "s")).is_err());
        assert!(OidcConfig::from_args(&args("not a url", "c", "s")).is_err());
        let ok = OidcConfig::from_args(&args("https://id.example/", "c", "s"));
        let ok = ok.ok().flatten().map(|c| (c.issuer, c.name));
        assert_eq!(ok, Some(("https://id.example".into(), DEFAULT_NAME.into())));
    }
}

//! The token add/edit form (DESIGN.md §2 and §4): parsing and validation, with the messages
//! shown next to the fields.
//!
//! Parsing returns either a validated [`TokenInput`] or [`FormErrors`] keyed by field name, with
//! messages meant to be shown next to the fields. The token value itself is never echoed back.

use super::FormErrors;
use crate::domain::provider::{Hosting, Provider};
use crate::domain::token::{
    DESCRIPTION_MAX, NAME_MAX, PathPrefixError, TOKEN_MAX, TokenInput, USERNAME_MAX, WORKSPACE_MAX,
    check_path_prefix as domain_check_path_prefix,
};
use chrono::NaiveDate;
use secrecy::SecretString;

/// The raw form as posted. Every field is optional so that a missing field becomes a message,
/// not a 400 from the extractor.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct TokenFormData {
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub hosting: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub workspace: String,
    /// Bitbucket: the Atlassian account e-mail (API token) or Bitbucket username (app
    /// password); empty for access tokens (DESIGN.md §8).
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub description: String,
    /// Admin-entered expiry (`YYYY-MM-DD`) for providers that do not report one.
    #[serde(default)]
    pub expires_on: String,
    /// Set when the admin confirms saving a token whose test reported missing permissions.
    #[serde(default)]
    pub save_anyway: String,
    /// Edit form: the version of the token it was loaded at (optimistic concurrency).
    #[serde(default)]
    pub version: String,
}

impl TokenFormData {
    /// The edit form's version; `None` if absent or not a number.
    pub fn version(&self) -> Option<i64> {
        self.version.trim().parse().ok()
    }

    pub fn save_anyway(&self) -> bool {
        matches!(self.save_anyway.as_str(), "1" | "true" | "on" | "yes")
    }
}

/// Options that change validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidationOptions {
    /// Plain `http://` URLs are accepted (the operator allowed some address ranges; the outbound
    /// layer still refuses http to any address outside them).
    pub allow_http: bool,
    /// The token value is required (create, or an edit that changes the destination).
    pub token_required: bool,
}

/// Validate the non-secret fields. The token value is validated by [`parse_token_value`].
pub fn parse_fields(
    form: &TokenFormData,
    opts: ValidationOptions,
) -> Result<TokenInput, FormErrors> {
    let mut errors = FormErrors::default();

    let provider = match Provider::parse(&form.provider) {
        Some(p) => Some(p),
        None => {
            errors.add("provider", "Choose GitHub, GitLab or Bitbucket.");
            None
        }
    };
    let hosting = if form.hosting.trim().is_empty() {
        Some(Hosting::Cloud)
    } else {
        match Hosting::parse(&form.hosting) {
            Some(h) => Some(h),
            None => {
                errors.add("hosting", "Choose cloud or self-hosted.");
                None
            }
        }
    };
    if let (Some(p), Some(Hosting::SelfHosted)) = (provider, hosting) {
        if !p.supports_self_hosted() {
            errors.add(
                "hosting",
                "Bitbucket Cloud only: Bitbucket Data Center is not supported yet.",
            );
        }
    }

    let name = form.name.trim().to_string();
    let name_len = name.chars().count();
    if name_len == 0 {
        errors.add("name", "Enter a name.");
    } else if name_len > NAME_MAX {
        errors.add(
            "name",
            format!("Use at most {NAME_MAX} characters (this one has {name_len})."),
        );
    } else if name.chars().any(char::is_control) {
        errors.add("name", "The name cannot contain control characters.");
    }

    // Bitbucket + self-hosted is already an error on `hosting`: no second one for a URL field
    // that form does not show.
    let url = if hosting == Some(Hosting::SelfHosted)
        && provider.is_none_or(|p| p.supports_self_hosted())
    {
        match parse_origin_for(
            &form.url,
            opts.allow_http,
            provider == Some(Provider::Gitlab),
        ) {
            Ok(u) => Some(u),
            Err(msg) => {
                errors.add("url", msg);
                None
            }
        }
    } else {
        None
    };

    let workspace = if provider == Some(Provider::Bitbucket) {
        match parse_workspace(&form.workspace) {
            Ok(w) => Some(w),
            Err(msg) => {
                errors.add("workspace", msg);
                None
            }
        }
    } else {
        None
    };

    let username = if provider == Some(Provider::Bitbucket) {
        match parse_username(&form.username) {
            Ok(u) => u,
            Err(msg) => {
                errors.add("username", msg);
                None
            }
        }
    } else {
        None
    };

    let description = form.description.trim();
    let description = if description.is_empty() {
        None
    } else if description.chars().count() > DESCRIPTION_MAX {
        errors.add(
            "description",
            format!("Use at most {DESCRIPTION_MAX} characters."),
        );
        None
    } else {
        Some(description.to_string())
    };

    let expires_on = match form.expires_on.trim() {
        "" => None,
        s => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add(
                    "expires_on",
                    "Enter the date as YYYY-MM-DD, e.g. 2027-03-31.",
                );
                None
            }
        },
    };

    if opts.token_required && form.token.trim().is_empty() {
        errors.add("token", "Paste the token value.");
    } else if !form.token.trim().is_empty() {
        if let Err(msg) = parse_token_value(&form.token) {
            errors.add("token", msg);
        }
    }

    match (provider, hosting) {
        (Some(provider), Some(hosting)) if errors.is_empty() => Ok(TokenInput {
            provider,
            hosting,
            name,
            url,
            workspace,
            username,
            description,
            expires_on,
        }),
        _ => Err(errors),
    }
}

/// Trim and check a token value: 1–4096 printable ASCII characters. The message never quotes it.
pub fn parse_token_value(raw: &str) -> Result<SecretString, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("Paste the token value.".into());
    }
    if t.len() > TOKEN_MAX {
        return Err(format!(
            "A token has at most {TOKEN_MAX} characters; this value is longer. Check that you pasted only the token."
        ));
    }
    if !t.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(
            "A token contains only printable ASCII characters; this value has other characters (line breaks, tabs or non-ASCII)."
                .into(),
        );
    }
    Ok(SecretString::from(t.to_string()))
}

/// Validate a server URL and reduce it to its origin, `https://host[:port]`.
pub fn parse_origin(raw: &str, allow_http: bool) -> Result<String, String> {
    parse_origin_for(raw, allow_http, false)
}

/// [`parse_origin`]; with `allow_path` (GitLab) also an origin with the path prefix GitLab is
/// installed under, `https://dev.company.com/gitlab` (DESIGN.md §2), without trailing slash.
pub fn parse_origin_for(raw: &str, allow_http: bool, allow_path: bool) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter the server URL, e.g. https://gitlab.company.com.".into());
    }
    let parsed = url::Url::parse(raw).map_err(|_| {
        "Enter a full URL starting with https://, e.g. https://gitlab.company.com.".to_string()
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err("Use https://: Forgekeys never sends tokens over plain http.".into()),
        _ => {
            return Err(
                "Enter a URL starting with https://, e.g. https://gitlab.company.com.".into(),
            );
        }
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("Remove the user name or password from the URL.".into());
    }
    let Some(host) = parsed.host_str() else {
        return Err("The URL has no host name.".into());
    };
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("Enter only the server address, without ?query or #fragment.".into());
    }
    let path = parsed.path().trim_end_matches('/');
    let mut origin = format!("{}://{}", parsed.scheme(), host.to_ascii_lowercase());
    if let Some(port) = parsed.port() {
        origin.push_str(&format!(":{port}"));
    }
    if !path.is_empty() {
        if path.ends_with("/api/v3") || path.ends_with("/api/v4") {
            let prefix = &path[..path.len() - 7];
            return Err(format!(
                "Enter the server address without /api/{}: Forgekeys adds the API path itself{}.",
                &path[path.len() - 2..],
                if prefix.is_empty() {
                    String::new()
                } else {
                    format!(" (here: {origin}{prefix})")
                }
            ));
        }
        if !allow_path {
            return Err("Enter only the server address (scheme and host), without a path.".into());
        }
        check_path_prefix(path)?;
        origin.push_str(path);
    }
    Ok(origin)
}

/// Bitbucket workspace slug (ID): letters, digits, `-` and `_`; stored lower-case.
pub fn parse_workspace(raw: &str) -> Result<String, String> {
    let w = raw.trim().trim_matches('/');
    if w.is_empty() {
        return Err(
            "Enter the Bitbucket workspace ID, e.g. acme (from bitbucket.org/acme).".into(),
        );
    }
    if w.len() > WORKSPACE_MAX
        || !w
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(
            "A workspace ID has only letters, digits, - and _ (the part after bitbucket.org/)."
                .into(),
        );
    }
    Ok(w.to_ascii_lowercase())
}

/// A path prefix such as `/gitlab` or `/tools/gitlab` (the rule is `domain::token`'s).
pub fn check_path_prefix(path: &str) -> Result<(), String> {
    domain_check_path_prefix(path).map_err(|e| match e {
        PathPrefixError::Characters => {
            "The path after the server name may hold only letters, digits, - _ . ~ and /, like \
             https://dev.company.com/gitlab."
                .to_owned()
        }
        PathPrefixError::ApiPath => {
            "Enter the address GitLab is installed under, without /api/v4: Forgekeys adds the \
             API path itself."
                .to_owned()
        }
    })
}

/// Bitbucket username: empty (an access token), an Atlassian account e-mail (API token) or a
/// Bitbucket username (app password). Sent as HTTP Basic user name, so no `:` and no spaces.
pub fn parse_username(raw: &str) -> Result<Option<String>, String> {
    let u = raw.trim();
    if u.is_empty() {
        return Ok(None);
    }
    if u.chars().count() > USERNAME_MAX {
        return Err(format!("Use at most {USERNAME_MAX} characters."));
    }
    if u.contains(':') || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "Enter only the e-mail address (API token) or the Bitbucket username (app password): \
             no spaces and no “:”."
                .into(),
        );
    }
    if !u.is_ascii() && !u.contains('@') {
        return Err("A Bitbucket username has only letters, digits, - and _.".into());
    }
    Ok(Some(u.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(provider: &str, hosting: &str) -> TokenFormData {
        TokenFormData {
            provider: provider.into(),
            hosting: hosting.into(),
            name: "Deploy".into(),
            token: "ghp_abcdefghijklmnop".into(),
            ..Default::default()
        }
    }

    const REQ: ValidationOptions = ValidationOptions {
        allow_http: false,
        token_required: true,
    };

    #[test]
    fn github_cloud_ok() {
        let input = parse_fields(&form("github", "cloud"), REQ);
        assert_eq!(input.map(|i| i.provider), Ok(Provider::Github));
    }

    #[test]
    fn self_hosted_needs_https_origin() {
        let mut f = form("gitlab", "self_hosted");
        let errs = parse_fields(&f, REQ).err().unwrap_or_default();
        assert!(errs.has("url"));
        f.url = "http://gitlab.example.com".into();
        assert!(parse_fields(&f, REQ).is_err());
        f.url = "https://GitLab.Example.com:8443/".into();
        let ok = parse_fields(&f, REQ).ok().and_then(|i| i.url);
        assert_eq!(ok.as_deref(), Some("https://gitlab.example.com:8443"));
        f.url = "https://user:pw@gitlab.example.com".into();
        assert!(parse_fields(&f, REQ).is_err());
        f.url = "https://ghe.example.com/api/v3".into();
        let e = parse_fields(&f, REQ).err().unwrap_or_default();
        assert!(e.get("url").unwrap_or("").contains("/api/v3"));
    }

    #[test]
    fn bitbucket_needs_workspace_and_cloud() {
        let mut f = form("bitbucket", "cloud");
        assert!(
            parse_fields(&f, REQ)
                .err()
                .unwrap_or_default()
                .has("workspace")
        );
        f.workspace = "Acme".into();
        assert_eq!(
            parse_fields(&f, REQ)
                .ok()
                .and_then(|i| i.workspace)
                .as_deref(),
            Some("acme")
        );
        f.hosting = "self_hosted".into();
        f.url = "https://bb.example.com".into();
        assert!(
            parse_fields(&f, REQ)
                .err()
                .unwrap_or_default()
                .has("hosting")
        );
    }

    #[test]
    fn bitbucket_username_is_optional_and_checked() {
        let mut f = form("bitbucket", "cloud");
        f.workspace = "acme".into();
        assert_eq!(parse_fields(&f, REQ).ok().and_then(|i| i.username), None);
        f.username = " jane@acme.test ".into();
        assert_eq!(
            parse_fields(&f, REQ)
                .ok()
                .and_then(|i| i.username)
                .as_deref(),
            Some("jane@acme.test")
        );
        f.username = "jane:doe".into();
        assert!(
            parse_fields(&f, REQ)
                .err()
                .unwrap_or_default()
                .has("username")
        );
        // Other providers ignore the field.
        let mut g = form("github", "cloud");
        g.username = "whoever".into();
        assert_eq!(parse_fields(&g, REQ).ok().and_then(|i| i.username), None);
    }

    #[test]
    fn gitlab_url_may_carry_a_path() {
        let mut f = form("gitlab", "self_hosted");
        f.url = "https://Dev.Company.com/gitlab/".into();
        assert_eq!(
            parse_fields(&f, REQ).ok().and_then(|i| i.url).as_deref(),
            Some("https://dev.company.com/gitlab")
        );
        f.url = "https://dev.company.com/gitlab/api/v4".into();
        let e = parse_fields(&f, REQ).err().unwrap_or_default();
        assert!(
            e.get("url")
                .unwrap_or("")
                .contains("https://dev.company.com/gitlab"),
            "{e:?}"
        );
        let mut g = form("github", "self_hosted");
        g.url = "https://ghe.example.com/github".into();
        assert!(parse_fields(&g, REQ).err().unwrap_or_default().has("url"));
    }

    #[test]
    fn name_and_token_rules() {
        let mut f = form("github", "cloud");
        f.name = " ".into();
        assert!(parse_fields(&f, REQ).err().unwrap_or_default().has("name"));
        f.name = "x".repeat(101);
        assert!(parse_fields(&f, REQ).err().unwrap_or_default().has("name"));
        f.name = "é".repeat(100);
        assert!(parse_fields(&f, REQ).is_ok());
        f.token = "a\u{e9}b".into();
        assert!(parse_fields(&f, REQ).err().unwrap_or_default().has("token"));
        f.token = "x".repeat(4097);
        assert!(parse_fields(&f, REQ).err().unwrap_or_default().has("token"));
        f.token = format!("  {}  ", "x".repeat(4096));
        assert!(parse_fields(&f, REQ).is_ok());
        f.token = String::new();
        assert!(parse_fields(&f, REQ).err().unwrap_or_default().has("token"));
        let opt = ValidationOptions {
            token_required: false,
            ..REQ
        };
        assert!(parse_fields(&f, opt).is_ok());
    }
}

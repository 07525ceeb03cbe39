//! Every path of the web console, in one place: the route table registers the patterns, and
//! handlers, templates and notification links build paths from the same patterns.
//!
//! Organization pages live under [`ORG_SCOPE`]; their patterns here are relative to it.
//! Builders take the organization slug (and an id) and fill the pattern in.

pub const HOME: &str = "/";
pub const HEALTH: &str = "/healthz";
pub const FAVICON: &str = "/favicon.ico";
pub const STATIC: &str = "/static/{path:.*}";
pub const LOGIN: &str = "/login";
pub const LOGOUT: &str = "/logout";
pub const SETUP: &str = "/setup";
pub const ORGS: &str = "/orgs";
/// Accepting an invitation (the token is the one-time link's secret).
pub const INVITE: &str = "/invites/{token}";
/// A one-time password reset from `forgekeys user reset-password`.
pub const PASSWORD_RESET: &str = "/password-reset/{token}";
/// Single sign-on: where the browser is sent to the provider, and where it comes back.
pub const OIDC_START: &str = "/auth/oidc/start";
pub const OIDC_CALLBACK: &str = "/auth/oidc/callback";

/// The signed-in user's own account.
pub const ACCOUNT: &str = "/account";
pub const ACCOUNT_PASSWORD: &str = "/account/password";
pub const ACCOUNT_SESSION_REVOKE: &str = "/account/sessions/{id}/revoke";
pub const ACCOUNT_SESSIONS_REVOKE_OTHERS: &str = "/account/sessions/revoke-others";
pub const ACCOUNT_2FA: &str = "/account/2fa";
/// Where a member of an organization that requires 2FA is sent while theirs is off.
pub const ACCOUNT_2FA_REQUIRED: &str = "/account/2fa?required=1";
pub const ACCOUNT_2FA_ENABLE: &str = "/account/2fa/enable";
pub const ACCOUNT_2FA_DISABLE: &str = "/account/2fa/disable";
/// The second sign-in step (TOTP or recovery code).
pub const LOGIN_2FA: &str = "/login/2fa";

pub fn account_session_revoke(id: &str) -> String {
    ACCOUNT_SESSION_REVOKE.replace("{id}", id)
}

/// The scope of an organization's pages.
pub const ORG_SCOPE: &str = "/orgs/{org}";

/// Patterns inside [`ORG_SCOPE`].
pub mod org {
    pub const HOME: &str = "";
    pub const TOKENS: &str = "/settings/git-tokens";
    pub const TOKEN_NEW: &str = "/settings/git-tokens/new";
    pub const TOKEN_TEST_UNSAVED: &str = "/settings/git-tokens/test";
    pub const INVENTORY: &str = "/settings/git-tokens/inventory";
    pub const MIGRATE: &str = "/settings/git-tokens/migrate-github-app";
    pub const TOKEN: &str = "/settings/git-tokens/{id}";
    pub const TOKEN_EDIT: &str = "/settings/git-tokens/{id}/edit";
    pub const TOKEN_TEST: &str = "/settings/git-tokens/{id}/test";
    pub const TOKEN_DELETE: &str = "/settings/git-tokens/{id}/delete";
    pub const TOKEN_MOVE: &str = "/settings/git-tokens/{id}/move";
    pub const TOKEN_ROTATE: &str = "/settings/git-tokens/{id}/rotate";
    pub const TOKEN_ROTATE_AT_PROVIDER: &str = "/settings/git-tokens/{id}/rotate-at-provider";
    pub const SERVICES: &str = "/services";
    pub const SERVICE_NEW: &str = "/services/new";
    pub const SERVICE_REPOSITORIES: &str = "/services/new/repositories";
    pub const SERVICE_BRANCHES: &str = "/services/new/branches";
    pub const SERVICE: &str = "/services/{id}";
    pub const SERVICE_EDIT: &str = "/services/{id}/edit";
    pub const SERVICE_DELETE: &str = "/services/{id}/delete";
    pub const NOTIFICATIONS: &str = "/settings/notifications";
    pub const NOTIFICATIONS_REMOVE: &str = "/settings/notifications/remove";
    pub const AUDIT: &str = "/audit";
    pub const AUDIT_CSV: &str = "/audit/export.csv";
    pub const MEMBERS: &str = "/settings/members";
    pub const MEMBER_INVITES: &str = "/settings/members/invites";
    pub const INVITE_REVOKE: &str = "/settings/members/invites/{id}/revoke";
    pub const MEMBER_ROLE: &str = "/settings/members/{id}/role";
    pub const MEMBER_REMOVE: &str = "/settings/members/{id}/remove";
    pub const SECURITY: &str = "/settings/security";
    pub const API_KEYS: &str = "/settings/api-keys";
    pub const API_KEY_REVOKE: &str = "/settings/api-keys/{id}/revoke";
}

/// The JSON API (DESIGN.md §9): bearer keys only, never cookies.
pub const API_SCOPE: &str = "/api";
/// The OpenAPI 3.1 document.
pub const API_OPENAPI: &str = "/api/v1/openapi.json";
/// An organization's resources, inside [`API_SCOPE`].
pub const API_ORG_SCOPE: &str = "/v1/orgs/{org}";

/// Patterns inside [`API_ORG_SCOPE`].
pub mod api {
    pub const TOKENS: &str = "/git-tokens";
    pub const TOKEN: &str = "/git-tokens/{id}";
    pub const TOKEN_TEST: &str = "/git-tokens/{id}/test";
    pub const TOKEN_MOVE: &str = "/git-tokens/{id}/move";
    pub const SERVICES: &str = "/services";
    pub const SERVICE: &str = "/services/{id}";
    pub const AUDIT: &str = "/audit";
    pub const INVENTORY: &str = "/inventory";
}

/// `/api/v1/orgs/{slug}` followed by `pattern` with `{id}` filled in.
fn api_path(slug: &str, pattern: &str, id: &str) -> String {
    format!("/api/v1/orgs/{slug}{}", pattern.replace("{id}", id))
}
pub fn api_token(slug: &str, id: &str) -> String {
    api_path(slug, api::TOKEN, id)
}
pub fn api_service(slug: &str, id: &str) -> String {
    api_path(slug, api::SERVICE, id)
}
/// The `type` URI of a problem+json answer (RFC 9457): a page of the docs naming `kind`.
pub fn api_problem_type(kind: &str) -> String {
    format!("/api/v1/problems/{kind}")
}

pub fn api_keys(slug: &str) -> String {
    in_org(slug, org::API_KEYS)
}
pub fn api_key_revoke(slug: &str, id: &str) -> String {
    with_id(slug, org::API_KEY_REVOKE, id)
}

pub fn security(slug: &str) -> String {
    in_org(slug, org::SECURITY)
}

fn in_org(slug: &str, pattern: &str) -> String {
    let mut out = String::with_capacity(6 + slug.len() + pattern.len());
    out.push_str("/orgs/");
    out.push_str(slug);
    out.push_str(pattern);
    out
}

/// `pattern` with its `{id}` filled in (a list page builds a hundred of these: one allocation
/// each).
fn with_id(slug: &str, pattern: &str, id: &str) -> String {
    let (before, after) = pattern.split_once("{id}").unwrap_or((pattern, ""));
    let mut out = String::with_capacity(6 + slug.len() + pattern.len() + id.len());
    out.push_str("/orgs/");
    out.push_str(slug);
    out.push_str(before);
    out.push_str(id);
    out.push_str(after);
    out
}

pub fn org_home(slug: &str) -> String {
    in_org(slug, org::HOME)
}
pub fn tokens(slug: &str) -> String {
    in_org(slug, org::TOKENS)
}
pub fn token_new(slug: &str) -> String {
    in_org(slug, org::TOKEN_NEW)
}
pub fn token_test_unsaved(slug: &str) -> String {
    in_org(slug, org::TOKEN_TEST_UNSAVED)
}
pub fn inventory(slug: &str) -> String {
    in_org(slug, org::INVENTORY)
}
pub fn migrate(slug: &str) -> String {
    in_org(slug, org::MIGRATE)
}
pub fn token(slug: &str, id: &str) -> String {
    with_id(slug, org::TOKEN, id)
}
pub fn token_edit(slug: &str, id: &str) -> String {
    with_id(slug, org::TOKEN_EDIT, id)
}
pub fn token_test(slug: &str, id: &str) -> String {
    with_id(slug, org::TOKEN_TEST, id)
}
pub fn token_delete(slug: &str, id: &str) -> String {
    with_id(slug, org::TOKEN_DELETE, id)
}
pub fn token_move(slug: &str, id: &str) -> String {
    with_id(slug, org::TOKEN_MOVE, id)
}
pub fn token_rotate(slug: &str, id: &str) -> String {
    with_id(slug, org::TOKEN_ROTATE, id)
}
pub fn token_rotate_at_provider(slug: &str, id: &str) -> String {
    with_id(slug, org::TOKEN_ROTATE_AT_PROVIDER, id)
}
pub fn services(slug: &str) -> String {
    in_org(slug, org::SERVICES)
}
pub fn service_new(slug: &str) -> String {
    in_org(slug, org::SERVICE_NEW)
}
pub fn service_repositories(slug: &str) -> String {
    in_org(slug, org::SERVICE_REPOSITORIES)
}
pub fn service_branches(slug: &str) -> String {
    in_org(slug, org::SERVICE_BRANCHES)
}
pub fn service(slug: &str, id: &str) -> String {
    with_id(slug, org::SERVICE, id)
}
pub fn service_edit(slug: &str, id: &str) -> String {
    with_id(slug, org::SERVICE_EDIT, id)
}
pub fn service_delete(slug: &str, id: &str) -> String {
    with_id(slug, org::SERVICE_DELETE, id)
}
pub fn notifications(slug: &str) -> String {
    in_org(slug, org::NOTIFICATIONS)
}
/// The token list filtered to the tokens the attention banner counts.
pub fn tokens_attention(slug: &str) -> String {
    format!("{}?status=attention", tokens(slug))
}
pub fn notifications_remove(slug: &str) -> String {
    in_org(slug, org::NOTIFICATIONS_REMOVE)
}
pub fn audit(slug: &str) -> String {
    in_org(slug, org::AUDIT)
}
pub fn audit_csv(slug: &str) -> String {
    in_org(slug, org::AUDIT_CSV)
}

pub fn members(slug: &str) -> String {
    in_org(slug, org::MEMBERS)
}
pub fn member_invites(slug: &str) -> String {
    in_org(slug, org::MEMBER_INVITES)
}
pub fn invite_revoke(slug: &str, id: &str) -> String {
    with_id(slug, org::INVITE_REVOKE, id)
}
pub fn member_role(slug: &str, user_id: &str) -> String {
    with_id(slug, org::MEMBER_ROLE, user_id)
}
pub fn member_remove(slug: &str, user_id: &str) -> String {
    with_id(slug, org::MEMBER_REMOVE, user_id)
}
pub fn invite(token: &str) -> String {
    INVITE.replace("{token}", token)
}
pub fn password_reset(token: &str) -> String {
    PASSWORD_RESET.replace("{token}", token)
}
/// The sign-in page, returning to `next` (a same-origin path) afterwards.
/// `/auth/oidc/start`, accepting the invitation `invite` or landing on `next` afterwards.
pub fn oidc_start(invite: Option<&str>, next: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(t) = invite {
        q.append_pair("invite", t);
    }
    if let Some(n) = next {
        q.append_pair("next", n);
    }
    let q = q.finish();
    if q.is_empty() {
        OIDC_START.to_string()
    } else {
        format!("{OIDC_START}?{q}")
    }
}

pub fn login_then(next: &str) -> String {
    let q: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("{LOGIN}?next={q}")
}

/// An absolute link (for messages that leave the browser: webhooks).
pub fn absolute(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_the_route_patterns() {
        assert_eq!(tokens("acme"), "/orgs/acme/settings/git-tokens");
        assert_eq!(token("acme", "t1"), "/orgs/acme/settings/git-tokens/t1");
        assert_eq!(
            token_rotate_at_provider("acme", "t1"),
            "/orgs/acme/settings/git-tokens/t1/rotate-at-provider"
        );
        assert_eq!(service_edit("a-b", "s9"), "/orgs/a-b/services/s9/edit");
        assert_eq!(org_home("acme"), "/orgs/acme");
        assert_eq!(
            absolute("https://fk.example.com/", &audit("acme")),
            "https://fk.example.com/orgs/acme/audit"
        );
        assert_eq!(
            member_role("acme", "u1"),
            "/orgs/acme/settings/members/u1/role"
        );
        assert_eq!(
            invite_revoke("acme", "i1"),
            "/orgs/acme/settings/members/invites/i1/revoke"
        );
        assert_eq!(invite("abc"), "/invites/abc");
        assert_eq!(password_reset("abc"), "/password-reset/abc");
        assert_eq!(login_then("/orgs/a?x=1"), "/login?next=%2Forgs%2Fa%3Fx%3D1");
        // Every builder's path matches the pattern the route table registers.
        assert_eq!(
            ORG_SCOPE.replace("{org}", "acme") + org::AUDIT,
            audit("acme")
        );
    }
}

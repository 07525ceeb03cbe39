//! The fake GitHub's organizations as the real one shows them to classic tokens: memberships,
//! SAML SSO (`ghp_sso`), an organization that forbids classic tokens (`ghp_forbidden`), and the
//! tokens that are no personal access token (`ghu_`, `ghs_`), plus the error tokens.

use super::super::git_server::GitAccess;
use super::super::{FakeResponse, RecordedRequest};
use super::{Account, USER_BODY, bad_credentials, rate_headers, repos_answer};

/// The SAML SSO organization and its numeric id.
pub const SSO_ORG: &str = "acme-sso";
pub const SSO_ORG_ID: &str = "21955855";
/// GitHub's authorization link for the `ghp_sso` token (valid an hour at GitHub).
pub const SSO_URL: &str = "https://github.com/orgs/acme-sso/sso?authorization_request=AZSCKtL4U8yX1H3sCQIVnVgmjmon5fWxks5YrqhJgah0b2tlbl9pZM4EuMz4";
/// The organization that forbids classic tokens.
pub const FORBIDDING_ORG: &str = "forbidorg";

/// `X-GitHub-SSO: partial-results; organizations=<ids>` on listings that leave the SSO
/// organization's items out (github/docs authenticating-to-the-rest-api, SAML SSO section;
/// provider-research.md §3: the value is numeric ids, not logins).
fn partial(resp: FakeResponse) -> FakeResponse {
    resp.header(
        "x-github-sso",
        &format!("partial-results; organizations={SSO_ORG_ID}"),
    )
}

/// 403 on an SSO organization's resource: `X-GitHub-SSO: required; url=…` and the current
/// body (jhu-bids/TermHub#935; header example from the old GitHub docs; provider-research.md §3).
fn sso_required() -> FakeResponse {
    FakeResponse::json(
        403,
        r#"{"message":"Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.","documentation_url":"https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/","status":"403"}"#,
    )
    .header("x-github-sso", &format!("required; url={SSO_URL}"))
}

/// 403 of an organization that forbids classic tokens: the login in backticks
/// (refined-github#6951, Renovate docs; provider-research.md §4).
fn classic_forbidden() -> FakeResponse {
    FakeResponse::json(
        403,
        r#"{"message":"`forbidorg` forbids access via a personal access token (classic). Please use a GitHub App, OAuth App, or a personal access token with fine-grained permissions.","documentation_url":"https://docs.github.com/rest/repos/repos#get-a-repository","status":"403"}"#,
    )
}

/// `GET /user/orgs` for a token that may list them.
pub fn user_orgs(
    req: &RecordedRequest,
    account: Account,
    scopes: &str,
    orgs: &str,
) -> FakeResponse {
    let body = match account {
        Account::Org => orgs.to_owned(),
        Account::Forbidden => format!(r#"[{{"login":"{FORBIDDING_ORG}","id":7}}]"#),
        Account::NoOrg | Account::PublicOnly | Account::Sso => "[]".to_owned(),
    };
    let resp =
        rate_headers(req, FakeResponse::json(200, body), "4998").header("x-oauth-scopes", scopes);
    if account == Account::Sso {
        partial(resp)
    } else {
        resp
    }
}

/// `GET /user/repos` of a classic token (sorted by `full_name`, GitHub's default).
pub fn user_repos(req: &RecordedRequest, account: Account, scopes: &str) -> FakeResponse {
    let repos: &[(&str, bool)] = match account {
        Account::Org => &[("acme/web", true), ("octocat/hello-world", false)],
        Account::Forbidden => &[("forbidorg/app", true), ("octocat/hello-world", false)],
        Account::NoOrg | Account::PublicOnly | Account::Sso => &[("octocat/hello-world", false)],
    };
    let resp = repos_answer(req, repos, scopes);
    if account == Account::Sso {
        partial(resp)
    } else {
        resp
    }
}

/// Organization resources refused by a rule (`/organizations/{id}`, `/orgs/…`, `/repos/…`).
pub fn org_resource(_req: &RecordedRequest, account: Account, route: &str) -> Option<FakeResponse> {
    match account {
        Account::Sso
            if route == format!("/organizations/{SSO_ORG_ID}")
                || route.starts_with(&format!("/orgs/{SSO_ORG}"))
                || route.starts_with(&format!("/repos/{SSO_ORG}/")) =>
        {
            Some(sso_required())
        }
        Account::Forbidden
            if route.starts_with(&format!("/orgs/{FORBIDDING_ORG}"))
                || route.starts_with(&format!("/repos/{FORBIDDING_ORG}/")) =>
        {
            Some(classic_forbidden())
        }
        _ => None,
    }
}

/// Git for a classic token's account (public repositories are handled by the caller).
pub fn git_access(account: Account, repo: &str) -> GitAccess {
    match account {
        Account::Org if repo == "acme/web" => GitAccess::Granted,
        // UNCONFIRMED wording of the git-side SAML refusal; status 403 as for other org rules.
        Account::Sso if repo.starts_with(&format!("{SSO_ORG}/")) => GitAccess::Forbidden(format!(
            "The '{SSO_ORG}' organization has enabled or enforced SAML SSO. To access this repository, you must use the HTTPS remote with a personal access token or SSH key that has been authorized for this organization."
        )),
        // `remote: Personal access tokens (classic) are forbidden from accessing this
        // repository.` with HTTP 403 (os-climate/os_c_data_commons#366; research §4).
        Account::Forbidden if repo.starts_with(&format!("{FORBIDDING_ORG}/")) => {
            GitAccess::Forbidden(
                "Personal access tokens (classic) are forbidden from accessing this repository."
                    .to_owned(),
            )
        }
        _ => GitAccess::NotFound,
    }
}

/// GitHub App tokens on `/user` (provider-research.md §5).
pub fn app_tokens(req: &RecordedRequest, t: &str, route: &str) -> Option<FakeResponse> {
    if t.starts_with("ghu_") {
        // PyGithub `Authentication.testAppUserAuthentication.txt`: `X-OAuth-Scopes` present and
        // empty, an `x-oauth-client-id` (`Iv1.` = GitHub App), an 8-hour expiry header.
        let at = req.anchor + chrono::Duration::hours(8);
        let resp = match route {
            "/user" => rate_headers(req, FakeResponse::json(200, USER_BODY), "4997")
                .header("x-oauth-scopes", "")
                .header("x-accepted-oauth-scopes", "")
                .header("x-oauth-client-id", "Iv1.a0facee5139c0213")
                .header(
                    "github-authentication-token-expiration",
                    &super::super::dates::github_utc(at),
                ),
            _ => FakeResponse::json(200, "[]"),
        };
        return Some(resp);
    }
    if t.starts_with("ghs_") {
        // actions/create-github-app-token#258 (2025-06): installation token on `/user`.
        return Some(FakeResponse::json(
            403,
            r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user","status":"403"}"#,
        ));
    }
    if t.starts_with("ghr_") {
        return Some(bad_credentials());
    }
    None
}

/// Tokens that answer the same error on every path.
pub fn errors(req: &RecordedRequest, t: &str) -> Option<FakeResponse> {
    if t.starts_with("ghp_ratelimited") {
        return Some(rate_headers(
            req,
            FakeResponse::json(
                403,
                r#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting","status":"403"}"#,
            ),
            "0",
        ));
    }
    if t.starts_with("ghp_secondary") {
        return Some(
            FakeResponse::json(
                403,
                r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}"#,
            )
            .header("retry-after", "60"),
        );
    }
    if t.starts_with("ghp_5xx") {
        return Some(FakeResponse::json(500, r#"{"message":"Server Error"}"#));
    }
    if t.starts_with("ghp_echo") {
        let auth = req.authorization.clone().unwrap_or_default();
        return Some(FakeResponse::json(
            500,
            format!(
                r#"{{"message":"internal error while checking {auth} for https://admin:hunter2@internal.example/x"}}"#
            ),
        ));
    }
    if t.starts_with("ghp_huge") {
        let mut body = br#"{"login":"octocat","pad":""#.to_vec();
        body.resize(2 * 1024 * 1024, b'x');
        body.extend_from_slice(br#""}"#);
        return Some(FakeResponse::json(200, "").body(body));
    }
    if t.starts_with("ghp_garbage") {
        return Some(
            FakeResponse::new(200)
                .header("content-type", "text/html")
                .body(b"<html>Service temporarily moved</html>".to_vec()),
        );
    }
    None
}

//! Token rotation (DESIGN.md §7): `GET/POST …/git-tokens/{id}/rotate` takes a new value, tests it
//! against the stored destination and swaps it in atomically; `POST …/{id}/rotate-at-provider`
//! has GitLab issue the new value through its self-rotate API.
//!
//! A manual rotation is refused, with nothing changed, unless the new token:
//! - passes its test (`valid`, or `missing_permissions` missing nothing the stored one had),
//! - has at least the scopes the stored token's last test saw (after the providers' expansion),
//! - belongs to the same account, unless the admin ticks `confirm_account_change`.
//!
//! The destination (provider, hosting, URL, workspace) is the stored one: the form cannot change
//! it, so the new value is only ever sent where the old one was tested.

use super::tokens::views::{ResultView, TokenView, fmt_time};
use super::tokens::{load_token, token_url};
use crate::db::StoreError;
use crate::db::models::service::Service;
use crate::db::models::token::GitToken;
use crate::domain::provider::{Hosting, Provider};
use crate::domain::role::Permission;
use crate::domain::test_result::{TestOutcome, TestStatus};
use crate::domain::token_form::{FormErrors, parse_token_value};
use crate::providers::{TokenTarget, repos};
use crate::state::AppState;
use crate::tokens::{self, RotationMethod, TokenError};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

pub fn rotate_url(slug: &str, id: &str) -> String {
    format!("{}/rotate", token_url(slug, id))
}

/// `POST …/rotate` fields (DESIGN.md §7: `token`, `confirm_account_change`; `expires_on` for
/// providers that do not report an expiry).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    confirm_account_change: String,
    #[serde(default)]
    expires_on: String,
}

/// `POST …/rotate-at-provider` fields.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ProviderRotateForm {
    #[serde(default)]
    expires_on: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// The success panel after a rotation.
pub struct DoneView {
    pub at_provider: bool,
    pub revoke_url: String,
    pub revoke_label: String,
    pub revoke_note: String,
    pub rotated_at: String,
}

#[derive(Template)]
#[template(path = "pages/rotate/rotate.html")]
pub struct RotatePage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub t: TokenView,
    pub services: i64,
    pub destination: String,
    /// The provider reports expiry dates (GitLab, GitHub): no expiry field on the manual form.
    pub expiry_reported: bool,
    pub is_gitlab: bool,
    /// Why GitLab self-rotation is not offered right now.
    pub gitlab_blocked: Option<String>,
    pub errors: FormErrors,
    /// Reasons the rotation was refused (nothing changed).
    pub problems: Vec<String>,
    pub offer_confirm: bool,
    pub old_account: String,
    pub new_account: String,
    pub expires_on: String,
    pub provider_expires_on: String,
    /// The new token's test result, when it was refused.
    pub result: Option<ResultView>,
    pub done: Option<DoneView>,
}

/// Where to revoke the old token, as (URL, link text, extra note).
pub fn revoke_link(t: &GitToken, gitlab_url: &url::Url) -> (String, String, String) {
    let fine_grained = t.hint.starts_with("github_pat_");
    match t.provider() {
        Provider::Github => {
            let origin = match (t.hosting(), t.url.as_deref()) {
                (Hosting::SelfHosted, Some(u)) => u.trim_end_matches('/').to_string(),
                _ => "https://github.com".to_string(),
            };
            if fine_grained {
                (
                    format!("{origin}/settings/personal-access-tokens"),
                    "GitHub → Settings → Developer settings → Fine-grained tokens".into(),
                    String::new(),
                )
            } else {
                (
                    format!("{origin}/settings/tokens"),
                    "GitHub → Settings → Developer settings → Personal access tokens".into(),
                    "Sign in as the token's account to see it.".into(),
                )
            }
        }
        Provider::Gitlab => {
            let base = match (t.hosting(), t.url.as_deref()) {
                (Hosting::SelfHosted, Some(u)) => u.trim_end_matches('/').to_string(),
                _ => gitlab_url.as_str().trim_end_matches('/').to_string(),
            };
            (
                format!("{base}/-/user_settings/personal_access_tokens"),
                "GitLab → User settings → Personal access tokens".into(),
                "A project or group access token is revoked in that project's or group's \
                 Settings → Access tokens."
                    .into(),
            )
        }
        Provider::Bitbucket => {
            let ws = t.workspace.as_deref().unwrap_or_default();
            let ws: String = url::form_urlencoded::byte_serialize(ws.as_bytes()).collect();
            (
                format!("https://bitbucket.org/{ws}/workspace/settings/access-tokens"),
                "Bitbucket → Workspace settings → Access tokens".into(),
                "A repository access token is revoked in the repository's Settings → Access \
                 tokens."
                    .into(),
            )
        }
    }
}

fn destination_words(t: &GitToken) -> String {
    let p = t.provider();
    match (p, t.hosting(), &t.url, &t.workspace) {
        (Provider::Bitbucket, _, _, Some(w)) => format!("{} workspace {w}", p.label()),
        (_, Hosting::SelfHosted, Some(u), _) => format!("{} at {u}", p.label()),
        _ => p.hosting_label(t.hosting()).to_string(),
    }
}

fn target_of(t: &GitToken) -> TokenTarget {
    crate::tokens::target_of(t)
}

/// Whether the provider reports token expiry itself (GitLab always, GitHub classic/fine-grained
/// through a header); Bitbucket does not.
fn expiry_reported(t: &GitToken) -> bool {
    t.provider() != Provider::Bitbucket
}

fn gitlab_blocked(t: &GitToken) -> Option<String> {
    match t.status() {
        TestStatus::Invalid | TestStatus::Expired => Some(format!(
            "The stored token's last test says “{}”: GitLab cannot rotate a token that is revoked \
             or expired (rotating a revoked token revokes its whole token family). Re-test it, or \
             create a new token at GitLab and enter it above.",
            t.status().label()
        )),
        _ => None,
    }
}

/// Parse an optional `YYYY-MM-DD` date that must lie in the future.
fn parse_future_date(raw: &str, today: NaiveDate) -> Result<Option<NaiveDate>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| "Enter the date as YYYY-MM-DD, e.g. 2027-01-31.".to_string())?;
    if d <= today {
        return Err("The expiry date must be after today.".into());
    }
    if d > today + chrono::Duration::days(3660) {
        return Err("The expiry date is more than ten years away; check the year.".into());
    }
    Ok(Some(d))
}

/// A posted date to show again in a `type=date` input: only a well-formed one (anything else
/// would make the page invalid HTML; the field's message says what was wrong).
fn date_echo(raw: &str) -> String {
    let s = raw.trim();
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => d.format("%Y-%m-%d").to_string(),
        Err(_) => String::new(),
    }
}

fn checked(v: &str) -> bool {
    matches!(v.trim(), "1" | "true" | "on" | "yes")
}

async fn services_count(state: &web::Data<AppState>, id: &str) -> Result<i64, AppError> {
    let st = state.clone();
    let id = id.to_string();
    let n = web::block(move || -> Result<usize, StoreError> {
        let mut conn = st.conn()?;
        Ok(Service::using_token(&mut conn, &id)?.len())
    })
    .await??;
    Ok(n as i64)
}

/// (service name, repository) of every service using the token.
async fn service_repos(
    state: &web::Data<AppState>,
    id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let st = state.clone();
    let id = id.to_string();
    let rows = web::block(move || -> Result<Vec<Service>, StoreError> {
        let mut conn = st.conn()?;
        Service::using_token(&mut conn, &id)
    })
    .await??;
    Ok(rows.into_iter().map(|s| (s.name, s.repository)).collect())
}

/// Repository coverage: the new token must read every repository the token's services use.
async fn coverage_problems(
    state: &web::Data<AppState>,
    token: &GitToken,
    secret: &SecretString,
) -> Result<Vec<String>, AppError> {
    let target = target_of(token);
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (service, repo) in service_repos(state, &token.id).await? {
        if !seen.insert(repo.clone()) {
            continue;
        }
        match repos::can_read_repository(&state.providers, &target, secret, &repo).await {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "The new token cannot read {repo}, which the service “{service}” deploys from. \
                 Give it access to that repository first."
            )),
            Err(e) => problems.push(format!(
                "Could not check that the new token can read {repo} (service “{service}”): {e}."
            )),
        }
    }
    Ok(problems)
}

async fn page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    token: &GitToken,
) -> Result<RotatePage, AppError> {
    let services = services_count(state, &token.id).await?;
    Ok(RotatePage {
        layout: Layout::for_org(req, ctx, format!("Rotate {}", token.name), "tokens"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        t: TokenView::new(token, services, state.clock.naive()),
        services,
        destination: destination_words(token),
        expiry_reported: expiry_reported(token),
        is_gitlab: token.provider() == Provider::Gitlab,
        gitlab_blocked: gitlab_blocked(token),
        errors: FormErrors::default(),
        problems: Vec::new(),
        offer_confirm: false,
        old_account: token.account.clone().unwrap_or_default(),
        new_account: String::new(),
        expires_on: String::new(),
        provider_expires_on: String::new(),
        result: None,
        done: None,
    })
}

fn refused(p: RotatePage, status: StatusCode) -> Result<HttpResponse, AppError> {
    Ok(html_status(status, p.render()?))
}

/// `GET …/{id}/rotate` (`?done=manual|provider` after a rotation).
pub async fn rotate_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    let mut p = page(&req, &state, &ctx, &token).await?;
    let done = query.done.trim();
    if let (Some(at), "manual" | "provider") = (token.rotated_at, done) {
        let (revoke_url, revoke_label, revoke_note) = revoke_link(&token, &state.config.gitlab_url);
        p.done = Some(DoneView {
            at_provider: done == "provider",
            revoke_url,
            revoke_label,
            revoke_note,
            rotated_at: fmt_time(at),
        });
    }
    Ok(html(&req, p.render()?))
}

/// What the checks found about a new token compared with the stored one.
struct Comparison {
    problems: Vec<String>,
    account_mismatch: bool,
}

/// Compare a new token's test with the stored token's last known state.
fn compare(token: &GitToken, old: Option<&TestOutcome>, new: &TestOutcome) -> Comparison {
    let mut problems = Vec::new();
    match new.status {
        TestStatus::Valid => {}
        TestStatus::MissingPermissions => {
            let old_missing: HashSet<&str> = match old {
                Some(o) if o.status == TestStatus::MissingPermissions => {
                    o.missing.iter().map(|m| m.name.as_str()).collect()
                }
                _ => HashSet::new(),
            };
            let worse: Vec<&str> = new
                .missing
                .iter()
                .map(|m| m.name.as_str())
                .filter(|m| !old_missing.contains(m))
                .collect();
            if !worse.is_empty() {
                problems.push(format!(
                    "The new token lacks required permissions the stored token had: {}. Create \
                     it with at least the same permissions.",
                    worse.join(", ")
                ));
            }
        }
        other => problems.push(format!(
            "The new token did not pass its test ({}){}.",
            other.label(),
            new.reason
                .as_deref()
                .filter(|r| !r.is_empty())
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )),
    }
    if let Some(old) = old
        && new.status.is_usable()
    {
        let have: HashSet<&str> = new.scopes.iter().map(String::as_str).collect();
        let lost: Vec<&str> = old
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !have.contains(s))
            .collect();
        if !lost.is_empty() {
            problems.push(format!(
                "The new token has fewer permissions than the stored one: it lacks {}. Create it \
                 with at least the same scopes.",
                lost.join(", ")
            ));
        }
    }
    let old_account = token
        .account
        .clone()
        .or_else(|| old.and_then(|o| o.account.clone()));
    let account_mismatch = match (&old_account, &new.account) {
        (Some(a), Some(b)) => a != b,
        (Some(_), None) => new.status.is_usable(),
        (None, _) => false,
    };
    Comparison {
        problems,
        account_mismatch,
    }
}

/// `POST …/{id}/rotate`: test a new value and swap it in.
pub async fn rotate_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<RotateForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    let f = form.0;
    let confirm = checked(&f.confirm_account_change);
    let mut p = page(&req, &state, &ctx, &token).await?;
    p.expires_on = date_echo(&f.expires_on);

    let secret = match parse_token_value(&f.token) {
        Ok(s) => Some(s),
        Err(m) => {
            p.errors.add("token", m);
            None
        }
    };
    let expires_on = if p.expiry_reported {
        None
    } else {
        match parse_future_date(&f.expires_on, state.clock.now().date_naive()) {
            Ok(d) => d,
            Err(m) => {
                p.errors.add("expires_on", m);
                None
            }
        }
    };
    let Some(secret) = secret.filter(|_| p.errors.is_empty()) else {
        return refused(p, StatusCode::UNPROCESSABLE_ENTITY);
    };
    if let Ok(current) = state.open(&token.id, &token.key_id, &token.secret)
        && current.expose_secret() == secret.expose_secret()
    {
        p.problems.push(
            "This is the token that is already stored. Create a new token at the provider first, \
             then enter its value here."
                .into(),
        );
        return refused(p, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let known_expiry = expires_on
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| Utc.from_utc_datetime(&n));
    let outcome = state
        .providers
        .test_token(&target_of(&token), &secret, known_expiry)
        .await;
    let old = token.last_outcome();
    let cmp = compare(&token, old.as_ref(), &outcome);
    let mut problems = cmp.problems;
    if cmp.account_mismatch && !confirm {
        let new_account = outcome
            .account
            .clone()
            .unwrap_or_else(|| "an account the provider did not name".into());
        problems.push(format!(
            "The new token belongs to {new_account}, but the stored one to {}. If that is \
             intended, tick “The account changes” and submit again.",
            p.old_account
        ));
        p.offer_confirm = true;
        p.new_account = new_account;
    }
    if problems.is_empty() {
        problems = coverage_problems(&state, &token, &secret).await?;
    }
    if !problems.is_empty() {
        p.problems = problems;
        p.result = Some(ResultView::new(&outcome, outcome.tested_at));
        return refused(p, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let stored = store_rotation(
        &state,
        &token,
        secret,
        &outcome,
        RotationMethod::Manual,
        cmp.account_mismatch,
        expires_on,
        &ctx.user,
    )
    .await?;
    match stored {
        Ok(t) => Ok(see_other_with_flash(
            &req,
            &format!("{}?done=manual", rotate_url(&ctx.org.slug, &t.id)),
            &format!(
                "Token “{}” rotated: services use the new value now ({}). Revoke the old token at \
                 the provider.",
                t.name,
                outcome.status.label()
            ),
        )),
        Err(TokenError::Store(StoreError::Conflict(m))) => Err(AppError::Conflict(m)),
        Err(e) => Err(AppError::Internal(anyhow::Error::new(e))),
    }
}

/// Token ids with a provider rotation running in this process: a second click must not send the
/// (by then revoked) old value to GitLab, which would revoke the whole token family.
static ROTATING: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

struct RotationGuard(String);

impl RotationGuard {
    fn claim(id: &str) -> Option<RotationGuard> {
        let mut set = ROTATING.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(id.to_string())
            .then(|| RotationGuard(id.to_string()))
    }
}

impl Drop for RotationGuard {
    fn drop(&mut self) {
        let mut set = ROTATING.lock().unwrap_or_else(|e| e.into_inner());
        set.remove(&self.0);
    }
}

/// `POST …/{id}/rotate-at-provider`: GitLab self-rotation; the new value is stored, tested and
/// never shown.
pub async fn rotate_at_provider(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<ProviderRotateForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    if token.provider() != Provider::Gitlab {
        return Err(AppError::BadRequest(format!(
            "Rotation at the provider is available for GitLab tokens only; “{}” is a {} token. \
             Create a new token at {} and use Rotate with the new value.",
            token.name,
            token.provider().label(),
            token.provider().label()
        )));
    }
    let mut p = page(&req, &state, &ctx, &token).await?;
    p.provider_expires_on = date_echo(&form.0.expires_on);
    if let Some(why) = p.gitlab_blocked.clone() {
        p.problems.push(why);
        return refused(p, StatusCode::CONFLICT);
    }
    let expires_on = match parse_future_date(&form.0.expires_on, state.clock.now().date_naive()) {
        Ok(d) => d,
        Err(m) => {
            p.errors.add("provider_expires_on", m);
            return refused(p, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let Some(_guard) = RotationGuard::claim(&token.id) else {
        p.problems
            .push("A rotation of this token is already running. Wait a moment and reload.".into());
        return refused(p, StatusCode::CONFLICT);
    };
    let secret: SecretString = match state.open(&token.id, &token.key_id, &token.secret) {
        Ok(s) => s,
        Err(e) => {
            p.problems.push(format!(
                "{e}. Edit the token and paste its value again, or use Rotate with a new value."
            ));
            return refused(p, StatusCode::CONFLICT);
        }
    };
    let target = target_of(&token);
    let rotated = match state
        .providers
        .gitlab_self_rotate(&target, &secret, expires_on)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            p.problems.push(e.to_string());
            return refused(p, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    drop(secret);
    let mut outcome = state
        .providers
        .test_token(&target, &rotated.token, rotated.expires_at)
        .await;
    if outcome.expires_at.is_none() && !outcome.never_expires {
        outcome.expires_at = rotated.expires_at;
    }
    let account_changed = token
        .account
        .as_ref()
        .is_some_and(|a| outcome.account.as_ref().is_some_and(|b| a != b));
    let stored = store_rotation(
        &state,
        &token,
        rotated.token,
        &outcome,
        RotationMethod::Provider,
        account_changed,
        None,
        &ctx.user,
    )
    .await;
    match stored {
        Ok(Ok(t)) => Ok(see_other_with_flash(
            &req,
            &format!("{}?done=provider", rotate_url(&ctx.org.slug, &t.id)),
            &format!(
                "Token “{}” rotated at GitLab and re-tested: {}. The old value no longer works.",
                t.name,
                outcome.status.label()
            ),
        )),
        Ok(Err(e)) => {
            let id = crate::db::new_id();
            tracing::error!(incident = %id, error = %e, token_id = %token.id,
                "GitLab rotated a token but storing the new value failed");
            Err(AppError::Conflict(format!(
                "GitLab issued a new token and revoked the old one, but Forgekeys could not store \
                 the new value (incident {id}). Create a new token at GitLab and use Rotate with \
                 its value."
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// Swap a tested new value in (one transaction, `tokens::rotate`) on a blocking thread.
#[allow(clippy::too_many_arguments)]
async fn store_rotation(
    state: &web::Data<AppState>,
    token: &GitToken,
    secret: SecretString,
    outcome: &TestOutcome,
    method: RotationMethod,
    account_changed: bool,
    expires_on: Option<chrono::NaiveDate>,
    actor: &crate::db::models::user::User,
) -> Result<Result<GitToken, TokenError>, actix_web::error::BlockingError> {
    let st = state.clone();
    let existing = token.clone();
    let outcome = outcome.clone();
    let actor = actor.clone();
    web::block(move || {
        let mut conn = st.conn().map_err(TokenError::Store)?;
        tokens::rotate(
            &st,
            &mut conn,
            &existing,
            &secret,
            &outcome,
            method,
            account_changed,
            expires_on,
            &actor,
        )
    })
    .await
}

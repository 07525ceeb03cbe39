//! Create and edit a service: the step-by-step form (each step a GET that renders the next one
//! with the earlier choices kept) and its HTMX fragments (repository and branch choices fetched
//! from the provider with the chosen organization token).
//!
//! The form's POST button carries the CSRF token as its own value (`name="csrf_token"`), so the
//! GET "Continue" steps never put the token in a URL.

use super::{
    Opt, list_url, load_service, org_tokens, service_error, service_url, token_options,
    unusable_reason,
};
use crate::db::models::service::{ACCESS, Actor, KINDS, Service, ServiceError};
use crate::db::models::token::GitToken;
use crate::db::new_id;
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::token_form::FormErrors;
use crate::providers::TokenTarget;
use crate::providers::repos::{
    self, ListError, MAX_PAGES, PER_PAGE, validate_branch, validate_repository,
};
use crate::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::htmx;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

/// The form's fields (query string of a step, or the POST body).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub access: String,
    #[serde(default)]
    pub token_id: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub branch: String,
}

impl ServiceForm {
    fn of(s: &Service) -> ServiceForm {
        ServiceForm {
            name: s.name.clone(),
            kind: s.kind.clone(),
            provider: s.provider.clone(),
            access: s.access.clone(),
            token_id: s.token_id.clone().unwrap_or_default(),
            repository: s.repository.clone(),
            branch: s.branch.clone(),
            ..ServiceForm::default()
        }
    }

    fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.kind,
            &self.provider,
            &self.access,
            &self.token_id,
            &self.repository,
            &self.branch,
            &self.q,
        ]
        .iter()
        .all(|v| v.trim().is_empty())
    }

    fn page(&self) -> u32 {
        self.page
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=1000).contains(p))
            .unwrap_or(1)
    }

    /// Defaults for a new form, and trimmed values.
    fn normalized(mut self) -> ServiceForm {
        for v in [
            &mut self.name,
            &mut self.kind,
            &mut self.provider,
            &mut self.access,
            &mut self.token_id,
            &mut self.q,
            &mut self.repository,
            &mut self.branch,
        ] {
            *v = v.trim().to_string();
        }
        if self.kind.is_empty() {
            self.kind = "application".into();
        }
        if self.access.is_empty() {
            self.access = "token".into();
        }
        self.q = self.q.chars().take(100).collect();
        self
    }
}

/// Repository choices (`#repository-choices`).
#[derive(Debug, Clone, Default)]
pub struct RepoBlock {
    /// `idle` (nothing to list yet), `error`, `ok` (a select), `manual` (a text input).
    pub state: &'static str,
    pub message: String,
    pub options: Vec<Opt>,
    pub selected: String,
    pub count: usize,
    pub capped: bool,
    pub more_url: Option<String>,
    pub q: String,
    pub error: Option<String>,
}

/// Branch choices (`#branch-choices`).
#[derive(Debug, Clone, Default)]
pub struct BranchBlock {
    pub state: &'static str,
    pub message: String,
    pub options: Vec<Opt>,
    pub selected: String,
    pub count: usize,
    pub capped: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/services/form.html")]
pub struct ServiceFormPage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub editing: Option<(String, String)>,
    pub action_url: String,
    pub step_url: String,
    pub f: ServiceForm,
    pub kinds: Vec<Opt>,
    pub providers: Vec<Opt>,
    pub access_opts: Vec<Opt>,
    pub tokens: Vec<Opt>,
    pub token_mode: bool,
    pub no_tokens: bool,
    pub rb: RepoBlock,
    pub bb: BranchBlock,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "pages/services/repo_fragment.html")]
pub struct RepoFragment {
    pub slug: String,
    pub rb: RepoBlock,
    pub bb: BranchBlock,
}

#[derive(Template)]
#[template(path = "pages/services/branch_choices.html")]
pub struct BranchFragment {
    pub slug: String,
    pub bb: BranchBlock,
}

fn opts(list: &[(&str, &str)], selected: &str) -> Vec<Opt> {
    list.iter()
        .map(|(v, l)| Opt {
            value: (*v).to_string(),
            label: (*l).to_string(),
            selected: *v == selected,
            disabled: false,
        })
        .collect()
}

fn provider_opts(selected: &str) -> Vec<Opt> {
    Provider::ALL
        .into_iter()
        .map(|p| Opt {
            value: p.as_str().to_string(),
            label: p.label().to_string(),
            selected: p.as_str() == selected,
            disabled: false,
        })
        .collect()
}

pub fn target_of(t: &GitToken) -> TokenTarget {
    crate::tokens::target_of(t)
}

/// The decrypted value of a stored token (only in memory, for this request).
pub fn open_token(state: &AppState, t: &GitToken) -> Result<SecretString, String> {
    state
        .open(&t.id, &t.key_id, &t.secret)
        .map_err(|e| format!("The stored token could not be decrypted ({e}). Edit the token and paste its value again."))
}

/// Find the token a form names among the organization's tokens.
fn pick_token<'a>(tokens: &'a [GitToken], id: &str) -> Option<&'a GitToken> {
    tokens.iter().find(|t| t.id == id)
}

fn base(slug: &str) -> String {
    list_url(slug)
}

/// Repository choices for `token` (already checked to be usable).
async fn repo_block(state: &AppState, slug: &str, token: &GitToken, f: &ServiceForm) -> RepoBlock {
    let mut rb = RepoBlock {
        state: "ok",
        selected: f.repository.clone(),
        q: f.q.clone(),
        ..RepoBlock::default()
    };
    let secret = match open_token(state, token) {
        Ok(s) => s,
        Err(m) => {
            rb.state = "error";
            rb.message = m;
            return rb;
        }
    };
    let q = (!f.q.is_empty()).then_some(f.q.as_str());
    match repos::list_repositories(&state.providers, &target_of(token), &secret, q, f.page()).await
    {
        Ok(page) => {
            rb.count = page.items.len();
            rb.capped = page.capped;
            rb.more_url = page.next_page.map(|n| {
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                s.append_pair("token_id", &token.id);
                if !f.q.is_empty() {
                    s.append_pair("q", &f.q);
                }
                s.append_pair("page", &n.to_string());
                format!("{}/new?{}", base(slug), s.finish())
            });
            let names = page.items.into_iter().map(|r| r.full_name).collect();
            rb.options = choice_options(names, Some(&f.repository), &f.repository);
            if rb.options.is_empty() {
                rb.state = "error";
                rb.message = if f.q.is_empty() {
                    "This token reaches no repository. Check its access at the provider, or choose another token.".into()
                } else {
                    format!("No repository matches “{}”.", f.q)
                };
            }
        }
        Err(e) => {
            rb.state = "error";
            rb.message = format!("Could not list repositories: {e}");
        }
    }
    rb
}

/// Options for `names` with `chosen` selected. An earlier choice (`earlier`) that this page or
/// search does not list is kept, on top, so an edit never silently loses it.
fn choice_options(names: Vec<String>, chosen: Option<&str>, earlier: &str) -> Vec<Opt> {
    let mut found = false;
    let mut options: Vec<Opt> = names
        .into_iter()
        .map(|name| {
            let selected = !name.is_empty() && chosen == Some(name.as_str());
            found |= selected;
            Opt {
                label: name.clone(),
                value: name,
                selected,
                disabled: false,
            }
        })
        .collect();
    if !found && !earlier.is_empty() {
        options.insert(
            0,
            Opt {
                value: earlier.to_string(),
                label: format!("{earlier} (current choice)"),
                selected: true,
                disabled: false,
            },
        );
    }
    options
}

/// Branch choices of `f.repository` with `token`.
async fn branch_block(state: &AppState, token: &GitToken, f: &ServiceForm) -> BranchBlock {
    let mut bb = BranchBlock {
        state: "ok",
        selected: f.branch.clone(),
        ..BranchBlock::default()
    };
    let secret = match open_token(state, token) {
        Ok(s) => s,
        Err(m) => {
            bb.state = "error";
            bb.message = m;
            return bb;
        }
    };
    match repos::list_branches(&state.providers, &target_of(token), &secret, &f.repository).await {
        Ok(page) => {
            bb.count = page.items.len();
            bb.capped = page.capped;
            let chosen = if f.branch.is_empty() {
                page.default_branch.clone().or_else(|| {
                    page.items
                        .iter()
                        .find(|b| *b == "main" || *b == "master")
                        .cloned()
                })
            } else {
                Some(f.branch.clone())
            };
            bb.options = choice_options(page.items, chosen.as_deref(), &f.branch);
            if bb.options.is_empty() {
                bb.state = "error";
                bb.message = "This repository has no branch yet.".into();
            }
        }
        Err(e) => {
            bb.state = "error";
            bb.message = format!("Could not list branches: {e}");
        }
    }
    bb
}

fn idle_repo(message: &str, f: &ServiceForm) -> RepoBlock {
    RepoBlock {
        state: "idle",
        message: message.into(),
        selected: f.repository.clone(),
        q: f.q.clone(),
        ..RepoBlock::default()
    }
}

fn idle_branch(message: &str, f: &ServiceForm) -> BranchBlock {
    BranchBlock {
        state: "idle",
        message: message.into(),
        selected: f.branch.clone(),
        ..BranchBlock::default()
    }
}

/// Everything the form page shows for the choices in `f` (fetching lists from the provider when
/// a usable token is chosen). Field problems found on the way go into `errors`.
#[allow(clippy::too_many_arguments)]
async fn build_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    f: ServiceForm,
    editing: Option<&Service>,
    mut errors: FormErrors,
) -> Result<ServiceFormPage, AppError> {
    let slug = ctx.org.slug.clone();
    let mut f = f.normalized();
    let all_tokens = org_tokens(state, ctx, None).await?;
    // The token decides the provider when none is given; a provider change drops a token of
    // another provider (and the repository and branch picked with it).
    if f.access == "token" {
        if let Some(t) = pick_token(&all_tokens, &f.token_id) {
            if f.provider.is_empty() {
                f.provider = t.provider.clone();
            } else if f.provider != t.provider {
                f.token_id.clear();
                f.repository.clear();
                f.branch.clear();
            }
        }
    }
    if f.provider.is_empty() {
        f.provider = "github".into();
    }
    let provider = Provider::parse(&f.provider);
    if provider.is_none() {
        errors.add("provider", "Choose GitHub, GitLab or Bitbucket.");
    }
    let n = state.clock.naive();
    let tokens: Vec<GitToken> = all_tokens
        .iter()
        .filter(|t| Some(t.provider()) == provider)
        .cloned()
        .collect();
    let token_mode = f.access == "token";
    let (mut rb, mut bb) = (RepoBlock::default(), BranchBlock::default());
    if !ACCESS.iter().any(|(a, _)| *a == f.access) {
        errors.add("access", "Choose how the service reaches Git.");
    }
    if token_mode {
        let chosen = if f.token_id.is_empty() {
            None
        } else {
            match pick_token(&tokens, &f.token_id) {
                Some(t) => match unusable_reason(t, n) {
                    Some(r) => {
                        errors.add(
                            "token_id",
                            format!("“{}” cannot be used: {r}. Choose another token.", t.name),
                        );
                        None
                    }
                    None => Some(t.clone()),
                },
                None => {
                    errors.add(
                        "token_id",
                        "Choose one of this organization's tokens for this provider.",
                    );
                    None
                }
            }
        };
        match chosen {
            Some(t) => {
                rb = repo_block(state, &slug, &t, &f).await;
                bb = if f.repository.is_empty() || rb.state == "error" {
                    idle_branch("Choose a repository to see its branches.", &f)
                } else {
                    branch_block(state, &t, &f).await
                };
            }
            None => {
                rb = idle_repo("Choose a token to see the repositories it can reach.", &f);
                bb = idle_branch("Choose a repository to see its branches.", &f);
            }
        }
    } else {
        rb.state = "manual";
        rb.selected = f.repository.clone();
        bb.state = "manual";
        bb.selected = f.branch.clone();
    }
    rb.error = errors.get("repository").map(str::to_string);
    bb.error = errors.get("branch").map(str::to_string);
    let (action_url, step_url) = match editing {
        Some(s) => (
            format!("{}/edit", service_url(&slug, &s.id)),
            format!("{}/edit", service_url(&slug, &s.id)),
        ),
        None => (base(&slug), format!("{}/new", base(&slug))),
    };
    let title = match editing {
        Some(s) => format!("Edit {}", s.name),
        None => "Add a service".to_string(),
    };
    Ok(ServiceFormPage {
        layout: Layout::for_org(req, ctx, title, "services"),
        csrf: ctx.session.csrf_token.clone(),
        editing: editing.map(|s| (s.id.clone(), s.name.clone())),
        action_url,
        step_url,
        kinds: opts(&KINDS, &f.kind),
        providers: provider_opts(&f.provider),
        access_opts: opts(&ACCESS, &f.access),
        no_tokens: tokens.is_empty(),
        tokens: token_options(&tokens, &f.token_id, n),
        token_mode,
        rb,
        bb,
        errors,
        f,
        slug,
    })
}

/// `GET /orgs/{org}/services/new`: the form, or its next step.
pub async fn new_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let page = build_page(
        &req,
        &state,
        &ctx,
        query.into_inner(),
        None,
        FormErrors::default(),
    )
    .await?;
    Ok(html(&req, page.render()?))
}

/// Token of a fragment request: must be the organization's and usable, else 404 / a message.
async fn fragment_token(
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    token_id: &str,
) -> Result<Result<GitToken, String>, AppError> {
    if token_id.trim().is_empty() {
        return Ok(Err(
            "Choose a token to see the repositories it can reach.".into()
        ));
    }
    let tokens = org_tokens(state, ctx, None).await?;
    let t = pick_token(&tokens, token_id.trim())
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok(match unusable_reason(&t, state.clock.naive()) {
        Some(r) => Err(format!(
            "“{}” cannot be used: {r}. Choose another token.",
            t.name
        )),
        None => Ok(t),
    })
}

/// `GET /orgs/{org}/services/new/repositories?token_id=&q=&page=`.
pub async fn repositories(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let f = query.into_inner().normalized();
    if !htmx::is_htmx(&req) {
        let page = build_page(&req, &state, &ctx, f, None, FormErrors::default()).await?;
        return Ok(html(&req, page.render()?));
    }
    let rb = match fragment_token(&state, &ctx, &f.token_id).await? {
        Ok(t) => repo_block(&state, &ctx.org.slug, &t, &f).await,
        Err(m) => RepoBlock {
            state: if f.token_id.is_empty() {
                "idle"
            } else {
                "error"
            },
            message: m,
            ..RepoBlock::default()
        },
    };
    let frag = RepoFragment {
        slug: ctx.org.slug.clone(),
        rb,
        bb: idle_branch("Choose a repository to see its branches.", &f),
    };
    Ok(html(&req, frag.render()?))
}

/// `GET /orgs/{org}/services/new/branches?token_id=&repository=`.
pub async fn branches(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let f = query.into_inner().normalized();
    if !htmx::is_htmx(&req) {
        let page = build_page(&req, &state, &ctx, f, None, FormErrors::default()).await?;
        return Ok(html(&req, page.render()?));
    }
    let bb = match fragment_token(&state, &ctx, &f.token_id).await? {
        Ok(_) if f.repository.is_empty() => {
            idle_branch("Choose a repository to see its branches.", &f)
        }
        Ok(t) => match validate_repository(t.provider(), &f.repository) {
            Ok(_) => branch_block(&state, &t, &f).await,
            Err(m) => BranchBlock {
                state: "error",
                message: m,
                ..BranchBlock::default()
            },
        },
        Err(m) => BranchBlock {
            state: "error",
            message: m,
            ..BranchBlock::default()
        },
    };
    let frag = BranchFragment {
        slug: ctx.org.slug.clone(),
        bb,
    };
    Ok(html(&req, frag.render()?))
}

/// A validated service (without id/timestamps) and the token it uses.
struct Valid {
    name: String,
    kind: String,
    provider: Provider,
    access: String,
    token: Option<GitToken>,
    repository: String,
    branch: String,
}

/// Check every field; for token access also that the token can read the repository.
async fn validate(
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    f: &ServiceForm,
) -> Result<Valid, FormErrors> {
    let mut e = FormErrors::default();
    let name = f.name.trim().to_string();
    if name.is_empty() {
        e.add("name", "Enter a name for the service.");
    } else if name.chars().count() > 100 {
        e.add("name", "The name is too long (at most 100 characters).");
    } else if name.chars().any(char::is_control) {
        e.add("name", "The name must not contain control characters.");
    }
    let kind = f.kind.trim();
    if !KINDS.iter().any(|(k, _)| *k == kind) {
        e.add("kind", "Choose application, cron job or Helm chart.");
    }
    let access = f.access.trim();
    if !ACCESS.iter().any(|(a, _)| *a == access) {
        e.add("access", "Choose how the service reaches Git.");
    }
    let tokens = match org_tokens(state, ctx, None).await {
        Ok(t) => t,
        Err(_) => {
            e.add("token_id", "The tokens could not be loaded. Try again.");
            return Err(e);
        }
    };
    let mut token = None;
    let mut provider = Provider::parse(f.provider.trim());
    if access == "token" {
        match pick_token(&tokens, f.token_id.trim()) {
            None if f.token_id.trim().is_empty() => e.add(
                "token_id",
                "Choose the organization token the service deploys with.",
            ),
            None => e.add("token_id", "Choose one of this organization's tokens."),
            Some(t) => {
                if let Some(r) = unusable_reason(t, state.clock.naive()) {
                    e.add(
                        "token_id",
                        format!("“{}” cannot be used: {r}. Choose another token.", t.name),
                    );
                } else if provider.is_some_and(|p| p != t.provider()) {
                    e.add(
                        "token_id",
                        "This token is for another provider than the one chosen.",
                    );
                } else {
                    provider = Some(t.provider());
                    token = Some(t.clone());
                }
            }
        }
    }
    let Some(provider) = provider else {
        e.add("provider", "Choose GitHub, GitLab or Bitbucket.");
        return Err(e);
    };
    if access == "github_app" && provider != Provider::Github {
        e.add("access", "The GitHub App only reaches GitHub repositories.");
    }
    let repository = match validate_repository(provider, &f.repository) {
        Ok(r) => r,
        Err(m) => {
            e.add("repository", m);
            String::new()
        }
    };
    let branch = match validate_branch(&f.branch) {
        Ok(b) => b,
        Err(m) => {
            e.add("branch", m);
            String::new()
        }
    };
    if !e.is_empty() {
        return Err(e);
    }
    if let Some(t) = &token {
        match open_token(state, t) {
            Err(m) => e.add("token_id", m),
            Ok(secret) => {
                match repos::can_read_repository(
                    &state.providers,
                    &target_of(t),
                    &secret,
                    &repository,
                )
                .await
                {
                    Ok(true) => {}
                    Ok(false) => e.add(
                        "repository",
                        format!(
                            "“{}” cannot read {repository}. Choose a repository from the list.",
                            t.name
                        ),
                    ),
                    Err(ListError::NoAccess(m)) | Err(ListError::Invalid(m)) => {
                        e.add("repository", m)
                    }
                    Err(err) => e.add(
                        "repository",
                        format!("Could not check the repository with “{}”: {err}", t.name),
                    ),
                }
            }
        }
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(Valid {
        name,
        kind: kind.to_string(),
        provider,
        access: access.to_string(),
        token,
        repository,
        branch,
    })
}

async fn invalid(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    f: ServiceForm,
    editing: Option<&Service>,
    errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let page = build_page(req, state, ctx, f, editing, errors).await?;
    Ok(html_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        page.render()?,
    ))
}

/// `POST /orgs/{org}/services`.
pub async fn create_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let f = form.0.normalized();
    let v = match validate(&state, &ctx, &f).await {
        Ok(v) => v,
        Err(errors) => return invalid(&req, &state, &ctx, f, None, errors).await,
    };
    let n = state.clock.naive();
    let s = Service {
        id: new_id(),
        org_id: ctx.org.id.clone(),
        name: v.name,
        kind: v.kind,
        provider: v.provider.as_str().to_string(),
        access: v.access,
        token_id: v.token.as_ref().map(|t| t.id.clone()),
        repository: v.repository,
        branch: v.branch,
        created_at: n,
        updated_at: n,
    };
    let st = state.clone();
    let (uid, email) = (ctx.user.id.clone(), ctx.user.email.clone());
    let token_name = v.token.as_ref().map(|t| t.name.clone());
    let svc = s.clone();
    let result = web::block(move || -> Result<(), ServiceError> {
        let mut conn = st.conn()?;
        Service::create(
            &mut conn,
            &svc,
            token_name.as_deref(),
            &Actor {
                id: &uid,
                email: &email,
            },
        )
    })
    .await?;
    match result {
        Ok(()) => Ok(see_other_with_flash(
            &req,
            &service_url(&ctx.org.slug, &s.id),
            &format!("Service “{}” added.", s.name),
        )),
        Err(ServiceError::DuplicateName(_)) => {
            let mut errors = FormErrors::default();
            errors.add("name", "A service with this name already exists in this organization. Choose another name.");
            invalid(&req, &state, &ctx, f, None, errors).await
        }
        Err(e) => Err(service_error(e)),
    }
}

/// `GET /orgs/{org}/services/{id}/edit` (with a query: the next step of the edit).
pub async fn edit_service_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    query: web::Query<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let s = load_service(&state, &ctx, &path.1).await?;
    let q = query.into_inner();
    let f = if q.is_blank() { ServiceForm::of(&s) } else { q };
    let page = build_page(&req, &state, &ctx, f, Some(&s), FormErrors::default()).await?;
    Ok(html(&req, page.render()?))
}

/// `POST /orgs/{org}/services/{id}/edit`.
pub async fn update_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageServices)?;
    let old = load_service(&state, &ctx, &path.1).await?;
    let f = form.0.normalized();
    let v = match validate(&state, &ctx, &f).await {
        Ok(v) => v,
        Err(errors) => return invalid(&req, &state, &ctx, f, Some(&old), errors).await,
    };
    let mut new = old.clone();
    new.name = v.name;
    new.kind = v.kind;
    new.provider = v.provider.as_str().to_string();
    new.access = v.access;
    new.token_id = v.token.as_ref().map(|t| t.id.clone());
    new.repository = v.repository;
    new.branch = v.branch;
    new.updated_at = state.clock.naive();
    let st = state.clone();
    let (uid, email) = (ctx.user.id.clone(), ctx.user.email.clone());
    let token_name = v.token.as_ref().map(|t| t.name.clone());
    let (o, nw) = (old.clone(), new.clone());
    let result = web::block(move || {
        let mut conn = st.conn()?;
        Service::update(
            &mut conn,
            &o,
            &nw,
            token_name.as_deref(),
            &Actor {
                id: &uid,
                email: &email,
            },
        )
    })
    .await?;
    match result {
        Ok(fields) => Ok(see_other_with_flash(
            &req,
            &service_url(&ctx.org.slug, &new.id),
            &if fields.is_empty() {
                "Nothing changed.".to_string()
            } else {
                format!("Service “{}” saved.", new.name)
            },
        )),
        Err(ServiceError::DuplicateName(_)) => {
            let mut errors = FormErrors::default();
            errors.add("name", "A service with this name already exists in this organization. Choose another name.");
            invalid(&req, &state, &ctx, f, Some(&old), errors).await
        }
        Err(e) => Err(service_error(e)),
    }
}

/// The listing limits, for page text.
pub const LISTING_LIMIT: u32 = MAX_PAGES * PER_PAGE;

//! The service form's page and its HTMX fragments: token, repository and branch choices
//! (fetched from the provider by `app::services::pickers`), in words.

use super::choices::{
    BranchBlock, CHOOSE_REPOSITORY, CHOOSE_TOKEN, RepoBlock, branch_block, cannot_use, idle_branch,
    idle_repo, repo_block,
};
use crate::app;
use crate::app::services::pickers::{Pickers, TokenPick, branches as list_branches};
use crate::app::state::AppState;
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::service::{Access, Service, ServiceKind};
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::forms::service::ServiceForm;
use crate::web::htmx;
use crate::web::render::{Layout, html};
use crate::web::urls;
use crate::web::view::service::{ACCESS, KINDS, Opt, table_options, token_options};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// The service an edit form is for.
pub struct Editing {
    pub id: String,
    pub name: String,
}

impl Editing {
    pub fn of(s: &Service) -> Editing {
        Editing {
            id: s.id.as_str().to_string(),
            name: s.name.clone(),
        }
    }
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
    pub cancel_url: String,
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

/// The form page for the choices `p` made of `f` (the provider resolved, a dropped token
/// cleared), with `errors` and the messages of the token choice.
pub fn build_page(
    req: &HttpRequest,
    ctx: &OrgContext,
    mut f: ServiceForm,
    p: Pickers,
    editing: Option<Editing>,
    mut errors: FormErrors,
) -> ServiceFormPage {
    let slug = ctx.org.slug.clone();
    f.provider = p.provider.as_str().to_string();
    f.token_id = p
        .draft
        .token_id
        .as_ref()
        .map(|t| t.to_string())
        .unwrap_or_default();
    f.repository = p.draft.repository.clone();
    f.branch = p.draft.branch.clone();
    let token_mode = p.draft.access == Some(Access::Token);
    let (mut rb, mut bb) = if !token_mode {
        let rb = RepoBlock {
            state: "manual",
            selected: f.repository.clone(),
            ..RepoBlock::default()
        };
        let bb = BranchBlock {
            state: "manual",
            selected: f.branch.clone(),
            ..BranchBlock::default()
        };
        (rb, bb)
    } else {
        match &p.token {
            TokenPick::NotFound => errors.add(
                "token_id",
                "Choose one of this organization's tokens for this provider.",
            ),
            TokenPick::Unusable { name, why } => errors.add("token_id", cannot_use(name, *why)),
            TokenPick::None | TokenPick::Chosen(_) => {}
        }
        match p.repositories {
            Some(listing) => {
                let rb = repo_block(&slug, &f.token_id, &f, listing);
                let bb = match p.branches {
                    Some(l) => branch_block(&f, l),
                    None => idle_branch(CHOOSE_REPOSITORY, &f),
                };
                (rb, bb)
            }
            None => (
                idle_repo(CHOOSE_TOKEN, &f),
                idle_branch(CHOOSE_REPOSITORY, &f),
            ),
        }
    };
    rb.error = errors.get("repository").map(str::to_string);
    bb.error = errors.get("branch").map(str::to_string);
    let (title, action_url, step_url, cancel_url) = match &editing {
        Some(e) => (
            format!("Edit {}", e.name),
            urls::service_edit(&slug, &e.id),
            urls::service_edit(&slug, &e.id),
            urls::service(&slug, &e.id),
        ),
        None => (
            "Add a service".to_string(),
            urls::services(&slug),
            urls::service_new(&slug),
            urls::services(&slug),
        ),
    };
    ServiceFormPage {
        layout: Layout::for_org(req, ctx, title, "services"),
        csrf: ctx.session.csrf_token.clone(),
        editing: editing.map(|e| (e.id, e.name)),
        action_url,
        step_url,
        cancel_url,
        kinds: table_options(&KINDS, ServiceKind::as_str, &f.kind),
        providers: Provider::ALL
            .into_iter()
            .map(|pr| Opt {
                value: pr.as_str().to_string(),
                label: pr.label().to_string(),
                selected: pr == p.provider,
                disabled: false,
            })
            .collect(),
        access_opts: table_options(&ACCESS, Access::as_str, &f.access),
        no_tokens: p.tokens.is_empty(),
        tokens: token_options(&p.tokens, &f.token_id, true),
        token_mode,
        rb,
        bb,
        errors,
        f,
        slug,
    }
}

/// A fragment URL opened without JavaScript: the whole step page.
async fn step_page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    f: ServiceForm,
) -> Result<HttpResponse, AppError> {
    let (draft, errors) = f.draft();
    let p = app::services::pickers::form(state, &ctx.member, draft).await?;
    Ok(html(
        req,
        build_page(req, ctx, f, p, None, errors).render()?,
    ))
}

/// `GET /orgs/{org}/services/new/repositories?token_id=&q=&page=`.
pub async fn repositories(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ServiceForm>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageServices)?;
    let f = query.into_inner().normalized();
    if !htmx::is_htmx(&req) {
        return step_page(&req, &state, &ctx, f).await;
    }
    let rb = match f.token() {
        None => RepoBlock {
            state: "idle",
            message: CHOOSE_TOKEN.into(),
            ..RepoBlock::default()
        },
        Some(id) => {
            let q = (!f.q.is_empty()).then(|| f.q.clone());
            let listing =
                app::services::pickers::repositories(&state, &ctx.member, &id, q, f.page()).await?;
            repo_block(&ctx.org.slug, id.as_str(), &f, listing)
        }
    };
    let frag = RepoFragment {
        slug: ctx.org.slug.clone(),
        rb,
        bb: idle_branch(CHOOSE_REPOSITORY, &f),
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
    app::require(&ctx.member, Permission::ManageServices)?;
    let f = query.into_inner().normalized();
    if !htmx::is_htmx(&req) {
        return step_page(&req, &state, &ctx, f).await;
    }
    let bb = match f.token() {
        None => BranchBlock {
            state: "error",
            message: CHOOSE_TOKEN.into(),
            ..BranchBlock::default()
        },
        Some(_) if f.repository.is_empty() => idle_branch(CHOOSE_REPOSITORY, &f),
        Some(id) => branch_block(
            &f,
            list_branches(&state, &ctx.member, &id, &f.repository).await?,
        ),
    };
    let frag = BranchFragment {
        slug: ctx.org.slug.clone(),
        bb,
    };
    Ok(html(&req, frag.render()?))
}

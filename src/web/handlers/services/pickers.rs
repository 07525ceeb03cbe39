//! The service form's page and its HTMX fragments: token, repository and branch choices
//! (fetched from the provider by `app::services::pickers`), in words.

use super::form::{ServiceForm, undecryptable};
use crate::app;
use crate::app::services::pickers::{Listing, Pickers, TokenPick, branches as list_branches};
use crate::domain::provider::Provider;
use crate::domain::role::Permission;
use crate::domain::service::{Access, Service, ServiceKind};
use crate::providers::repos::{BranchPage, RepoPage};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::htmx;
use crate::web::render::{Layout, html};
use crate::web::urls;
use crate::web::view::service::{ACCESS, KINDS, Opt, table_options, token_options, unusable_text};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

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

const CHOOSE_TOKEN: &str = "Choose a token to see the repositories it can reach.";
const CHOOSE_REPOSITORY: &str = "Choose a repository to see its branches.";

fn cannot_use(name: &str, why: crate::domain::token::Unusable) -> String {
    format!(
        "“{name}” cannot be used: {}. Choose another token.",
        unusable_text(why)
    )
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

fn failed_block<T>(listing: &Listing<T>, what: &str) -> Option<String> {
    match listing {
        Listing::Listed(_) => None,
        Listing::Unusable { name, why } => Some(cannot_use(name, *why)),
        Listing::BadRepository(m) => Some(m.clone()),
        Listing::Undecryptable(e) => Some(undecryptable(e)),
        Listing::Failed(e) => Some(format!("Could not list {what}: {e}")),
    }
}

/// Repository choices from a listing with token `token_id`.
fn repo_block(
    slug: &str,
    token_id: &str,
    f: &ServiceForm,
    listing: Listing<RepoPage>,
) -> RepoBlock {
    let mut rb = RepoBlock {
        state: "ok",
        selected: f.repository.clone(),
        q: f.q.clone(),
        ..RepoBlock::default()
    };
    if let Some(m) = failed_block(&listing, "repositories") {
        rb.state = "error";
        rb.message = m;
        return rb;
    }
    let Listing::Listed(page) = listing else {
        return rb;
    };
    rb.count = page.items.len();
    rb.capped = page.capped;
    rb.more_url = page.next_page.map(|n| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("token_id", token_id);
        if !f.q.is_empty() {
            s.append_pair("q", &f.q);
        }
        s.append_pair("page", &n.to_string());
        format!("{}?{}", urls::service_new(slug), s.finish())
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
    rb
}

/// Branch choices from a listing.
fn branch_block(f: &ServiceForm, listing: Listing<BranchPage>) -> BranchBlock {
    let mut bb = BranchBlock {
        state: "ok",
        selected: f.branch.clone(),
        ..BranchBlock::default()
    };
    if let Some(m) = failed_block(&listing, "branches") {
        bb.state = "error";
        bb.message = m;
        return bb;
    }
    let Listing::Listed(page) = listing else {
        return bb;
    };
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

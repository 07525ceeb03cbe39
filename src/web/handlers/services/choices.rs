//! The repository and branch choices of the service form (`#repository-choices`,
//! `#branch-choices`) from what the provider listed, in words.

use crate::app::services::pickers::Listing;
use crate::domain::token::Unusable;
use crate::providers::repos::{BranchPage, RepoPage};
use crate::web::forms::service::ServiceForm;
use crate::web::urls;
use crate::web::view::service::undecryptable;
use crate::web::view::service::{Opt, unusable_text};

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

pub const CHOOSE_TOKEN: &str = "Choose a token to see the repositories it can reach.";
pub const CHOOSE_REPOSITORY: &str = "Choose a repository to see its branches.";

pub fn cannot_use(name: &str, why: Unusable) -> String {
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
pub fn repo_block(
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
pub fn branch_block(f: &ServiceForm, listing: Listing<BranchPage>) -> BranchBlock {
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

pub fn idle_repo(message: &str, f: &ServiceForm) -> RepoBlock {
    RepoBlock {
        state: "idle",
        message: message.into(),
        selected: f.repository.clone(),
        q: f.q.clone(),
        ..RepoBlock::default()
    }
}

pub fn idle_branch(message: &str, f: &ServiceForm) -> BranchBlock {
    BranchBlock {
        state: "idle",
        message: message.into(),
        selected: f.branch.clone(),
        ..BranchBlock::default()
    }
}

//! Git Repository Access pages (DESIGN.md §2): list, detail, add/edit with test-before-save,
//! re-test and delete. Handlers parse, call `app::tokens`, render.

pub mod actions;
pub mod fields;
pub mod form;
pub mod list;
pub mod save;
pub mod show;

use crate::domain::ids::TokenId;
use crate::domain::provider::Provider;
use crate::domain::test_result::TestStatus;
use crate::domain::token::{ListSort, SortKey, TokenFilter};
use crate::web::error::AppError;
use crate::web::urls;
use actix_web::web;

pub use crate::web::view::audit::{action_label, details_text};
pub use list::list_tokens;
pub use show::show_token;

pub const PAGE_SIZE: i64 = 25;

/// `?status=attention`: the tokens the banner counts.
pub const ATTENTION: &str = "attention";

/// The Git Repository Access routes (`…/git-tokens`, `…/git-tokens/{id}…`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::TOKENS, web::get().to(list_tokens))
        .route(org::TOKENS, web::post().to(save::create_token))
        .route(org::TOKEN_NEW, web::get().to(form::new_token_form))
        .route(org::TOKEN_TEST_UNSAVED, web::post().to(form::test_new))
        .route(org::TOKEN, web::get().to(show_token))
        .route(org::TOKEN, web::post().to(save::update_token))
        .route(org::TOKEN_EDIT, web::get().to(form::edit_token_form))
        .route(org::TOKEN_TEST, web::post().to(actions::retest_token))
        .route(org::TOKEN_DELETE, web::get().to(actions::delete_confirm))
        .route(org::TOKEN_DELETE, web::post().to(actions::delete_token));
}

/// The `{id}` of a token path.
pub fn token_id(path: &web::Path<(String, String)>) -> TokenId {
    TokenId::new(path.1.clone())
}

pub fn list_url(slug: &str) -> String {
    urls::tokens(slug)
}

pub fn token_url(slug: &str, id: &str) -> String {
    urls::token(slug, id)
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub page: String,
    /// Column sort: `name`, `status`, `expiry`, `last_test`; `order` = `asc` / `desc`.
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub order: String,
}

/// A sortable column heading of the list: its link and `aria-sort`.
pub struct SortLink {
    pub url: String,
    /// `ascending`, `descending` or `none`.
    pub aria: &'static str,
}

impl ListQuery {
    /// Parse the filters; an unknown provider or status is a 400 with a message.
    pub fn filter(&self) -> Result<TokenFilter, AppError> {
        let provider = match self.provider.trim() {
            "" => None,
            p => Some(Provider::parse(p).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "Unknown provider filter {p:?}: use github, gitlab or bitbucket."
                ))
            })?),
        };
        let attention = self.status.trim() == ATTENTION;
        let status = match self.status.trim() {
            "" | ATTENTION => None,
            s => Some(TestStatus::parse(s).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "Unknown status filter {s:?}: use valid, missing_permissions, invalid, expired, unreachable, error or not_tested."
                ))
            })?),
        };
        let q = self.q.trim();
        Ok(TokenFilter {
            q: (!q.is_empty()).then(|| q.chars().take(100).collect()),
            provider,
            status,
            attention,
            horizon: None,
            sort: self.sort()?,
        })
    }

    fn sort(&self) -> Result<Option<ListSort>, AppError> {
        let desc = match self.order.trim() {
            "" | "asc" => false,
            "desc" => true,
            o => {
                return Err(AppError::BadRequest(format!(
                    "Unknown order {:?}: use asc or desc.",
                    o.chars().take(20).collect::<String>()
                )));
            }
        };
        match self.sort.trim() {
            "" => Ok(None),
            s => SortKey::parse(s)
                .map(|key| Some(ListSort { key, desc }))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "Unknown sort {:?}: use name, status, expiry or last_test.",
                        s.chars().take(40).collect::<String>()
                    ))
                }),
        }
    }

    /// The heading links of the sortable columns, keeping the filters: a click sorts by that
    /// column, a second click reverses it.
    pub fn sort_links(&self, slug: &str) -> [SortLink; 4] {
        let current = self.sort().ok().flatten();
        SortKey::ALL.map(|key| {
            let (aria, next_desc) = match current {
                Some(s) if s.key == key && !s.desc => ("ascending", true),
                Some(s) if s.key == key => ("descending", false),
                None if key == SortKey::Name => ("ascending", true),
                _ => ("none", false),
            };
            let q = crate::web::paging::query_string(&[
                ("q", &self.q),
                ("provider", &self.provider),
                ("status", &self.status),
                ("sort", key.as_str()),
                ("order", if next_desc { "desc" } else { "asc" }),
            ]);
            SortLink {
                url: format!("{}?{q}", urls::tokens(slug)),
                aria,
            }
        })
    }

    pub fn page(&self) -> i64 {
        crate::web::paging::page_number(&self.page)
    }

    /// Query string of the filters, for pagination links.
    pub fn filter_query(&self) -> String {
        crate::web::paging::query_string(&[
            ("q", &self.q),
            ("provider", &self.provider),
            ("status", &self.status),
            ("sort", &self.sort),
            ("order", &self.order),
        ])
    }
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub fn provider_choices(selected: &str) -> Vec<Choice> {
    Provider::ALL
        .into_iter()
        .map(|p| Choice {
            value: p.as_str(),
            label: p.label(),
            selected: p.as_str() == selected,
        })
        .collect()
}

pub fn status_choices(selected: &str) -> Vec<Choice> {
    std::iter::once(Choice {
        value: ATTENTION,
        label: "Needs attention",
        selected: selected == ATTENTION,
    })
    .chain(TestStatus::ALL.into_iter().map(|s| Choice {
        value: s.as_str(),
        label: s.label(),
        selected: s.as_str() == selected,
    }))
    .collect()
}

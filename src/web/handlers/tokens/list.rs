//! `GET …/git-tokens`: the list, with search, filters and pages.

use super::{Choice, ListQuery, PAGE_SIZE, provider_choices, status_choices};
use crate::app;
use crate::app::state::AppState;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::paging::Pager;
use crate::web::render::{Layout, html};
use crate::web::urls;
use crate::web::view::token::TokenView;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/tokens/list.html")]
pub struct TokenListPage {
    pub layout: Layout,
    pub slug: String,
    pub can_manage: bool,
    pub csrf: String,
    pub tokens: Vec<TokenView>,
    pub total: i64,
    pub org_total: i64,
    pub q: String,
    pub providers: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub pager: Pager,
    /// Only a re-tested row carries its flash (see [`TokenRowFragment`]).
    pub row_flash: Option<String>,
    /// Name, Status, Expiry, Last test headings.
    pub sorts: [super::SortLink; 4],
}

/// One list row, for in-place HTMX updates after a re-test.
#[derive(Template)]
#[template(path = "pages/tokens/row.html")]
pub struct TokenRowFragment {
    pub slug: String,
    pub can_manage: bool,
    pub csrf: String,
    pub t: TokenView,
    /// "Tested “name”: Valid.", copied into the page's message area by app.js.
    pub row_flash: Option<String>,
}

pub async fn list_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.filter()?;
    let page = query.page();
    let list = app::tokens::list(&state, &ctx.member, filter, page, PAGE_SIZE).await?;
    let now = state.clock.naive();
    let tokens = list
        .items
        .iter()
        .map(|l| TokenView::new(&l.token, l.services, l.duplicate, now))
        .collect();
    let pager = Pager::new(
        &urls::tokens(&ctx.org.slug),
        &query.filter_query(),
        page,
        list.total,
        PAGE_SIZE,
    );
    let page_view = TokenListPage {
        layout: Layout::for_org(&req, &ctx, "Git Repository Access", "tokens"),
        slug: ctx.org.slug.clone(),
        can_manage: ctx.can(crate::domain::role::Permission::ManageTokens),
        csrf: ctx.session.csrf_token.clone(),
        tokens,
        total: list.total,
        org_total: list.org_total,
        q: query.q.trim().to_string(),
        providers: provider_choices(query.provider.trim()),
        statuses: status_choices(query.status.trim()),
        pager,
        row_flash: None,
        sorts: query.sort_links(&ctx.org.slug),
    };
    Ok(html(&req, page_view.render()?))
}

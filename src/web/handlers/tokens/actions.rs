//! Re-test a stored token, and delete with confirmation.

use super::list::TokenRowFragment;
use super::show::ServiceLine;
use super::token_id;
use crate::app;
use crate::app::Conflict;
use crate::app::state::AppState;
use crate::domain::role::Permission;
use crate::domain::token::Token;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::htmx;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::token::{ResultView, TokenView};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReturnTo {
    /// `list` or `detail`: where a no-JS request goes back to.
    #[serde(default)]
    return_to: String,
}

/// `POST …/git-tokens/{id}/test`.
pub async fn retest_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<ReturnTo>,
) -> Result<HttpResponse, AppError> {
    let r = app::tokens::test::retest(&state, &ctx.member, &token_id(&path)).await?;
    let (l, outcome) = (&r.listed, &r.outcome);
    let slug = &ctx.org.slug;
    if htmx::is_htmx(&req) {
        if htmx::target(&req).is_some_and(|t| t.starts_with("row-")) {
            let frag = TokenRowFragment {
                slug: slug.clone(),
                can_manage: true,
                csrf: ctx.session.csrf_token.clone(),
                t: TokenView::new(&l.token, l.services, l.duplicate, state.clock.naive()),
                row_flash: Some(tested_flash(&l.token.name, outcome)),
            };
            return Ok(html(&req, frag.render()?));
        }
        let frag = super::form::ResultFragment {
            result: ResultView::new(outcome, outcome.tested_at),
        };
        return Ok(html(&req, frag.render()?));
    }
    let back = if form.0.return_to == "list" {
        urls::tokens(slug)
    } else {
        urls::token(slug, l.token.id.as_str())
    };
    Ok(see_other_with_flash(
        &req,
        &back,
        &tested_flash(&l.token.name, outcome),
    ))
}

fn tested_flash(name: &str, outcome: &crate::domain::test_result::TestOutcome) -> String {
    format!("Tested “{name}”: {}.", outcome.status.label())
}

#[derive(Template)]
#[template(path = "pages/tokens/delete.html")]
pub struct DeleteTokenPage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub t: TokenView,
    pub services: Vec<ServiceLine>,
    /// The offer to move the services to another token (issue 4).
    pub moves: crate::web::handlers::services::moves::MovePanel,
}

async fn delete_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    token: &Token,
    services: Vec<app::tokens::ServiceRef>,
) -> Result<DeleteTokenPage, AppError> {
    let moves = crate::web::handlers::services::moves::MovePanel::load(
        state,
        &ctx.member,
        &token.id,
        "",
        None,
    )
    .await?;
    Ok(DeleteTokenPage {
        moves,
        layout: Layout::for_org(req, ctx, format!("Delete {}", token.name), "tokens"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        t: TokenView::new(token, services.len() as i64, false, state.clock.naive()),
        services: services.into_iter().map(ServiceLine::from).collect(),
    })
}

/// `GET …/git-tokens/{id}/delete`: the confirmation, listing the services that use the token.
pub async fn delete_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageTokens)?;
    let (token, services) =
        app::tokens::with_services(&state, &ctx.member, &token_id(&path)).await?;
    let page = delete_page(&req, &state, &ctx, &token, services).await?;
    Ok(html(&req, page.render()?))
}

/// `POST …/git-tokens/{id}/delete`: refused while services use the token.
pub async fn delete_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    _form: Posted<ReturnTo>,
) -> Result<HttpResponse, AppError> {
    let id = token_id(&path);
    match app::tokens::write::delete(&state, &ctx.member, &id).await {
        Ok(t) => Ok(see_other_with_flash(
            &req,
            &urls::tokens(&ctx.org.slug),
            &format!("Token “{}” deleted.", t.name),
        )),
        // No JS: the confirmation page again, naming the services, with 409.
        Err(app::Error::Conflict(Conflict::TokenInUse { .. })) if !htmx::is_htmx(&req) => {
            let (token, services) = app::tokens::with_services(&state, &ctx.member, &id).await?;
            let page = delete_page(&req, &state, &ctx, &token, services).await?;
            Ok(html_status(StatusCode::CONFLICT, page.render()?))
        }
        Err(e) => Err(e.into()),
    }
}

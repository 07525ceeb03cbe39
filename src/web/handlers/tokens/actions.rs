//! Re-test a stored token, and delete with confirmation.

use super::views::{ResultView, TokenView};
use super::{TokenRowFragment, list_url, load_token, token_url};
use crate::db::StoreError;
use crate::db::models::service::Service;
use crate::db::models::status_history::TestSource;
use crate::db::models::token::GitToken;
use crate::domain::role::Permission;
use crate::domain::test_result::TestOutcome;
use crate::state::AppState;
use crate::tokens::{self, TokenError};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::htmx;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReturnTo {
    /// `list` or `detail`: where a no-JS request goes back to.
    #[serde(default)]
    return_to: String,
}

/// Test a stored token with its stored destination and record the result (the shared
/// [`tokens::retest_stored`], as the scheduler and `tokens check` use).
pub async fn retest(
    state: &web::Data<AppState>,
    token: &GitToken,
    actor: Option<&crate::db::models::user::User>,
) -> Result<(GitToken, TestOutcome), AppError> {
    let source = if actor.is_some() {
        TestSource::Manual
    } else {
        TestSource::Scheduler
    };
    match tokens::retest_stored(state, token, actor, source).await {
        Ok((recorded, outcome)) => Ok((recorded.token, outcome)),
        Err(TokenError::Store(StoreError::Conflict(m))) => Err(AppError::Conflict(m)),
        Err(e) => Err(AppError::Internal(anyhow::Error::new(e))),
    }
}

/// `POST …/git-tokens/{id}/test`.
pub async fn retest_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<ReturnTo>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    let (saved, outcome) = retest(&state, &token, Some(&ctx.user)).await?;
    if htmx::is_htmx(&req) {
        if htmx::target(&req).is_some_and(|t| t.starts_with("row-")) {
            let st = state.clone();
            let tid = saved.id.clone();
            let uses = web::block(move || {
                let mut conn = st.conn()?;
                Service::using_token(&mut conn, &tid)
            })
            .await??
            .len() as i64;
            let frag = TokenRowFragment {
                slug: ctx.org.slug.clone(),
                can_manage: true,
                csrf: ctx.session.csrf_token.clone(),
                t: {
                    let mut t = TokenView::new(&saved, uses, state.clock.naive());
                    t.duplicate = crate::web::handlers::services::duplicate_tokens(&state, &ctx)
                        .await?
                        .contains(&saved.id);
                    t
                },
            };
            return Ok(html(&req, frag.render()?));
        }
        let frag = super::form::ResultFragment {
            result: ResultView::new(&outcome, outcome.tested_at),
        };
        return Ok(html(&req, frag.render()?));
    }
    let back = if form.0.return_to == "list" {
        list_url(&ctx.org.slug)
    } else {
        token_url(&ctx.org.slug, &saved.id)
    };
    Ok(see_other_with_flash(
        &req,
        &back,
        &format!("Tested “{}”: {}.", saved.name, outcome.status.label()),
    ))
}

#[derive(Template)]
#[template(path = "pages/tokens/delete.html")]
pub struct DeleteTokenPage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub t: TokenView,
    pub services: Vec<super::ServiceLine>,
    /// The offer to move the services to another token (issue 4).
    pub moves: crate::web::handlers::services::moves::MovePanel,
}

async fn delete_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    token: &GitToken,
) -> Result<DeleteTokenPage, AppError> {
    let st = state.clone();
    let tid = token.id.clone();
    let services = web::block(move || {
        let mut conn = st.conn()?;
        Service::using_token(&mut conn, &tid)
    })
    .await??;
    let moves =
        crate::web::handlers::services::moves::MovePanel::load(state, ctx, token, "", None).await?;
    Ok(DeleteTokenPage {
        moves,
        layout: Layout::for_org(req, ctx, format!("Delete {}", token.name), "tokens"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        t: TokenView::new(token, services.len() as i64, state.clock.naive()),
        services: services
            .into_iter()
            .map(|s| super::ServiceLine {
                name: s.name,
                repository: s.repository,
                branch: s.branch,
            })
            .collect(),
    })
}

/// `GET …/git-tokens/{id}/delete`: the confirmation, listing the services that use the token.
pub async fn delete_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    Ok(html(
        &req,
        delete_page(&req, &state, &ctx, &token).await?.render()?,
    ))
}

/// `POST …/git-tokens/{id}/delete`: refused while services use the token.
pub async fn delete_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    _form: Posted<ReturnTo>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageTokens)?;
    let token = load_token(&state, &ctx, &path.1).await?;
    let st = state.clone();
    let actor = ctx.user.clone();
    let t = token.clone();
    let result = web::block(move || -> Result<(), TokenError> {
        let mut conn = st.conn().map_err(TokenError::Store)?;
        tokens::delete(&mut conn, &t, &actor)
    })
    .await?;
    match result {
        Ok(()) => Ok(see_other_with_flash(
            &req,
            &list_url(&ctx.org.slug),
            &format!("Token “{}” deleted.", token.name),
        )),
        Err(TokenError::InUse(n)) if htmx::is_htmx(&req) => Err(AppError::Conflict(format!(
            "“{}” is used by {n} service(s). Move them to another token before deleting it.",
            token.name
        ))),
        // No JS: the confirmation page again, naming the services, with 409.
        Err(TokenError::InUse(_)) => Ok(html_status(
            StatusCode::CONFLICT,
            delete_page(&req, &state, &ctx, &token).await?.render()?,
        )),
        Err(e) => Err(AppError::Internal(anyhow::Error::new(e))),
    }
}

//! Token rotation pages (DESIGN.md §7): `GET …/git-tokens/{id}/rotate` (the forms, and the
//! success panel after a rotation), `POST …/rotate` ([`manual`]) and `POST …/rotate-at-provider`
//! ([`provider`]). The rules are `app::rotation`'s; these handlers parse, call and render.

pub mod manual;
pub mod provider;

use super::tokens::token_id;
use crate::app;
use crate::app::rotation::{AtProvider, Subject, expiry_reported};
use crate::app::state::AppState;
use crate::domain::provider::Provider;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::render::{Layout, html, html_status};
use crate::web::view::rotation::{blocked_text, destination_words, revoke_link};
use crate::web::view::time::fmt_time;
use crate::web::view::token::{ResultView, TokenView};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Debug, Default, serde::Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// The success panel after a rotation.
pub struct DoneView {
    pub at_provider: bool,
    /// The replaced value's hint (empty for a rotation before hints were kept).
    pub old_hint: String,
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

/// The rotation page of `s`, without messages.
fn page(req: &HttpRequest, state: &AppState, ctx: &OrgContext, s: &Subject) -> RotatePage {
    let token = &s.token;
    RotatePage {
        layout: Layout::for_org(req, ctx, format!("Rotate {}", token.name), "tokens"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        t: TokenView::new(token, s.services, false, state.clock.naive()),
        services: s.services,
        destination: destination_words(token),
        expiry_reported: expiry_reported(token.provider()),
        is_gitlab: token.provider() == Provider::Gitlab,
        gitlab_blocked: match s.at_provider() {
            AtProvider::Blocked(status) => Some(blocked_text(status)),
            _ => None,
        },
        errors: FormErrors::default(),
        problems: Vec::new(),
        offer_confirm: false,
        old_account: token.account.clone().unwrap_or_default(),
        new_account: String::new(),
        expires_on: String::new(),
        provider_expires_on: String::new(),
        result: None,
        done: None,
    }
}

/// The page again with its messages: nothing was rotated.
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
    let s = app::rotation::prepare(&state, &ctx.member, &token_id(&path)).await?;
    let mut p = page(&req, &state, &ctx, &s);
    let done = query.done.trim();
    if let (Some(at), "manual" | "provider") = (s.token.rotated_at, done) {
        let old_hint = s.previous_hint.as_deref().unwrap_or_default();
        let link = revoke_link(
            &s.token,
            old_hint,
            s.previous_kind.as_deref(),
            &state.config.gitlab_url,
        );
        p.done = Some(DoneView {
            old_hint: old_hint.to_string(),
            at_provider: done == "provider",
            revoke_url: link.url,
            revoke_label: link.label,
            revoke_note: link.note,
            rotated_at: fmt_time(at),
        });
    }
    Ok(html(&req, p.render()?))
}

/// `…/git-tokens/{id}/rotate` and `…/rotate-at-provider`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::TOKEN_ROTATE, web::get().to(rotate_form))
        .route(org::TOKEN_ROTATE, web::post().to(manual::rotate_token))
        .route(
            org::TOKEN_ROTATE_AT_PROVIDER,
            web::post().to(provider::rotate_at_provider),
        )
        .route(
            org::TOKEN_ROTATE_AT_PROVIDER,
            web::get().to(super::confirm::confirm_rotate_at_provider),
        );
}

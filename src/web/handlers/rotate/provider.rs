//! `POST …/git-tokens/{id}/rotate-at-provider`: GitLab self-rotation
//! (`app::rotation::rotate_at_provider`); the new value is stored, tested and never shown.

use super::{page, refused};
use crate::app;
use crate::app::rotation::{AtProvider, ProviderRotated};
use crate::app::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::rotation::{ProviderRotateForm, date_echo, parse_future_date};
use crate::web::handlers::tokens::token_id;
use crate::web::render::see_other_with_flash;
use crate::web::urls;
use crate::web::view::rotation::{blocked_text, unreadable_text};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn rotate_at_provider(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<ProviderRotateForm>,
) -> Result<HttpResponse, AppError> {
    let id = token_id(&path);
    let raw_date = form.0.expires_on;
    let expires_on = match parse_future_date(&raw_date, state.clock.now().date_naive()) {
        Ok(d) => d,
        Err(m) => {
            // Nothing is sent; the page says what is wrong (another provider: 400, a token
            // GitLab cannot rotate: 409, before the date).
            let s = app::rotation::prepare_at_provider(&state, &ctx.member, &id).await?;
            let mut p = page(&req, &state, &ctx, &s);
            p.provider_expires_on = date_echo(&raw_date);
            if let AtProvider::Blocked(status) = s.at_provider() {
                p.problems.push(blocked_text(status));
                return refused(p, StatusCode::CONFLICT);
            }
            p.errors.add("provider_expires_on", m);
            return refused(p, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let (subject, problem, status) =
        match app::rotation::rotate_at_provider(&state, &ctx.member, &id, expires_on).await? {
            ProviderRotated::Done { token, outcome } => {
                return Ok(see_other_with_flash(
                    &req,
                    &format!(
                        "{}?done=provider",
                        urls::token_rotate(&ctx.org.slug, token.id.as_str())
                    ),
                    &format!(
                        "Token “{}” rotated at GitLab and re-tested: {}. The old value no longer \
                         works.",
                        token.name,
                        outcome.status.label()
                    ),
                ));
            }
            ProviderRotated::Blocked { subject, status } => {
                (subject, blocked_text(status), StatusCode::CONFLICT)
            }
            ProviderRotated::Unreadable { subject, error } => {
                (subject, unreadable_text(&error), StatusCode::CONFLICT)
            }
            ProviderRotated::Refused { subject, error } => {
                (subject, error.to_string(), StatusCode::UNPROCESSABLE_ENTITY)
            }
        };
    let mut p = page(&req, &state, &ctx, &subject);
    p.provider_expires_on = date_echo(&raw_date);
    p.problems.push(problem);
    refused(p, status)
}

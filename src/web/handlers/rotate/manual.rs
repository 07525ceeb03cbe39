//! `POST …/git-tokens/{id}/rotate`: a new value entered by hand, tested against the stored
//! destination and swapped in only if nothing would be lost (`app::rotation::rotate`).

use super::{page, refused};
use crate::app;
use crate::app::rotation::{NewValue, Rotated, RotationProblem};
use crate::app::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::forms::rotation::{RotateForm, checked, date_echo, parse_future_date};
use crate::web::forms::token::parse_token_value;
use crate::web::handlers::tokens::token_id;
use crate::web::render::see_other_with_flash;
use crate::web::urls;
use crate::web::view::rotation::{UNNAMED_ACCOUNT, problem_texts};
use crate::web::view::token::ResultView;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn rotate_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<RotateForm>,
) -> Result<HttpResponse, AppError> {
    let id = token_id(&path);
    let f = form.0;
    let mut errors = FormErrors::default();
    let secret = parse_token_value(&f.token)
        .map_err(|m| errors.add("token", m))
        .ok();
    // The field is offered only for providers that report no expiry; the use case ignores a
    // date for the others.
    let expires_on = parse_future_date(&f.expires_on, state.clock.now().date_naive())
        .map_err(|m| errors.add("expires_on", m))
        .ok()
        .flatten();
    let Some(secret) = secret.filter(|_| errors.is_empty()) else {
        let s = app::rotation::prepare(&state, &ctx.member, &id).await?;
        let mut p = page(&req, &state, &ctx, &s);
        p.errors = errors;
        p.expires_on = date_echo(&f.expires_on);
        return refused(p, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let input = NewValue {
        secret,
        confirm_account_change: checked(&f.confirm_account_change),
        expires_on,
    };
    match app::rotation::rotate(&state, &ctx.member, &id, input).await? {
        Rotated::Done { token, outcome } => Ok(see_other_with_flash(
            &req,
            &format!(
                "{}?done=manual",
                urls::token_rotate(&ctx.org.slug, token.id.as_str())
            ),
            &format!(
                // The page below says which old value to revoke, and where: not twice.
                "Token “{}” rotated: services use the new value now ({}).",
                token.name,
                outcome.status.label()
            ),
        )),
        Rotated::Refused {
            subject,
            problems,
            outcome,
        } => {
            let mut p = page(&req, &state, &ctx, &subject);
            p.expires_on = date_echo(&f.expires_on);
            for problem in &problems {
                if let RotationProblem::AccountChanged { new, .. } = problem {
                    p.offer_confirm = true;
                    p.new_account = new.as_deref().unwrap_or(UNNAMED_ACCOUNT).to_string();
                }
            }
            p.problems = problem_texts(&problems, outcome.is_some());
            p.result = outcome.map(|o| ResultView::new(&o, o.tested_at));
            refused(p, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

//! Confirmation steps for irreversible actions (issue 13): a page of its own, so it works
//! without JavaScript. The button that used to act at once is now a link here; the POST route
//! it confirms is unchanged.

use crate::app;
use crate::app::state::AppState;
use crate::domain::ids::ServiceId;
use crate::domain::role::Permission;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::handlers::tokens::token_id;
use crate::web::render::{Layout, html};
use crate::web::urls;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/confirm/confirm.html")]
pub struct ConfirmPage {
    pub layout: Layout,
    /// `data-confirm`: `service-delete`, `rotate-at-provider`, `webhook-remove`.
    pub kind: &'static str,
    pub lead: String,
    pub consequences: Vec<String>,
    pub action_url: String,
    pub csrf: String,
    pub hidden: Vec<(&'static str, String)>,
    pub confirm_label: String,
    pub busy_label: &'static str,
    pub back_url: String,
    pub back_label: String,
}

/// `GET /orgs/{org}/services/{id}/delete`.
pub async fn confirm_service_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageServices)?;
    let id = ServiceId::new(path.1.clone());
    let l = app::services::detail(&state, &ctx.member, &id).await?;
    let s = &l.service;
    let slug = &ctx.org.slug;
    let page = ConfirmPage {
        layout: Layout::for_org(&req, &ctx, format!("Delete {}?", s.name), "services"),
        kind: "service-delete",
        lead: format!(
            "Delete the service “{}” ({})? This cannot be undone.",
            s.name, s.repository
        ),
        consequences: vec![
            "Its service keys stop working at once: builds that fetch Git credentials with them fail.".into(),
            "The Git token it uses stays; only the link to this service goes.".into(),
        ],
        action_url: urls::service_delete(slug, s.id.as_str()),
        csrf: ctx.session.csrf_token.clone(),
        hidden: Vec::new(),
        confirm_label: format!("Delete “{}”", s.name),
        busy_label: "Deleting…",
        back_url: urls::service(slug, s.id.as_str()),
        back_label: s.name.clone(),
    };
    Ok(html(&req, page.render()?))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct RotateQuery {
    #[serde(default)]
    expires_on: String,
}

/// `GET …/git-tokens/{id}/rotate-at-provider?expires_on=`: GitLab revokes the current value
/// at once, so the rotation page's button leads here first.
pub async fn confirm_rotate_at_provider(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    q: web::Query<RotateQuery>,
) -> Result<HttpResponse, AppError> {
    let s = app::rotation::prepare_at_provider(&state, &ctx.member, &token_id(&path)).await?;
    let t = &s.token;
    let slug = &ctx.org.slug;
    let expires_on: String = q.expires_on.trim().chars().take(10).collect();
    let mut consequences = vec![format!(
        "GitLab revokes the current token ({}) immediately: anything outside Forgekeys that still uses it stops working.",
        t.hint
    )];
    if s.services > 0 {
        consequences.push(format!(
            "The {} service(s) using it get the new value in the same step.",
            s.services
        ));
    }
    consequences.push(if expires_on.is_empty() {
        "The new token expires on GitLab's default date: one week from today.".into()
    } else {
        format!("The new token expires on {expires_on}.")
    });
    let page = ConfirmPage {
        layout: Layout::for_org(
            &req,
            &ctx,
            format!("Rotate {} at GitLab?", t.name),
            "tokens",
        ),
        kind: "rotate-at-provider",
        lead: format!("Have GitLab replace “{}” with a new token now?", t.name),
        consequences,
        action_url: urls::token_rotate_at_provider(slug, t.id.as_str()),
        csrf: ctx.session.csrf_token.clone(),
        hidden: vec![("expires_on", expires_on)],
        confirm_label: "Revoke and rotate at GitLab".into(),
        busy_label: "Rotating…",
        back_url: urls::token_rotate(slug, t.id.as_str()),
        back_label: format!("Rotate {}", t.name),
    };
    Ok(html(&req, page.render()?))
}

/// `GET /orgs/{org}/settings/notifications/remove`.
pub async fn confirm_webhook_remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    let o = app::notifications::settings(&state, &ctx.member).await?;
    app::require(&ctx.member, Permission::ManageNotifications)?;
    let slug = &ctx.org.slug;
    let current = o
        .webhook
        .as_ref()
        .map(|w| w.masked.clone())
        .unwrap_or_default();
    let page = ConfirmPage {
        layout: Layout::for_org(&req, &ctx, "Remove the webhook?", "notifications"),
        kind: "webhook-remove",
        lead: if current.is_empty() {
            "No webhook is set; there is nothing to remove.".into()
        } else {
            format!("Remove the webhook {current}?")
        },
        consequences: vec![
            "No expiry warnings or status messages are sent until a new webhook is saved.".into(),
        ],
        action_url: urls::notifications(slug),
        csrf: ctx.session.csrf_token.clone(),
        hidden: vec![("action", "remove".into())],
        confirm_label: "Remove webhook".into(),
        busy_label: "Removing…",
        back_url: urls::notifications(slug),
        back_label: "Notifications".into(),
    };
    Ok(html(&req, page.render()?))
}

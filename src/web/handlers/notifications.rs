//! `GET/POST /orgs/{org}/settings/notifications`: the organization's webhook for expiry warnings
//! and status changes (Slack-compatible JSON), a test message, and the recent deliveries.

use crate::app;
use crate::app::notifications::{Overview, Removed, Saved, TestSent};
use crate::app::state::AppState;
use crate::domain::notification::{DeliveryEntry, DeliveryState, NotificationKind};
use crate::domain::role::Permission;
use crate::providers::webhook::WebhookError;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::time::fmt_time;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use std::time::Duration;

/// Longest input kept from the form (the use case refuses anything over the URL limit).
const INPUT_MAX: usize = 2100;

pub struct DeliveryLine {
    pub when: String,
    pub kind: &'static str,
    pub state: &'static str,
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub attempts: i64,
    pub error: String,
}

impl From<DeliveryEntry> for DeliveryLine {
    fn from(d: DeliveryEntry) -> DeliveryLine {
        let (state_label, state_class) = state_view(d.state);
        DeliveryLine {
            when: fmt_time(d.sent_at.unwrap_or(d.created_at)),
            kind: kind_label(d.kind),
            state: d.state.as_str(),
            state_label,
            state_class,
            attempts: d.attempts,
            error: d.last_error.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/notifications/settings.html")]
pub struct NotificationsPage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    /// Masked current webhook (`https://hooks.slack.com/…`), if one is set.
    pub current: Option<String>,
    pub updated: String,
    /// What the user typed (re-shown after a validation error).
    pub value: String,
    pub error: Option<String>,
    pub interval: String,
    pub thresholds: String,
    pub deliveries: Vec<DeliveryLine>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct NotificationsForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub webhook_url: String,
}

fn interval_words(interval: Option<Duration>) -> String {
    match interval {
        None => "The scheduler is off (FORGEKEYS_RECHECK_INTERVAL=0): tokens are only tested by \
                 hand or with forgekeys tokens check, and no notification is sent."
            .into(),
        Some(d) => {
            let s = d.as_secs();
            let words = if s % 86_400 == 0 {
                format!("{} day(s)", s / 86_400)
            } else if s % 3600 == 0 {
                format!("{} hour(s)", s / 3600)
            } else if s % 60 == 0 {
                format!("{} minute(s)", s / 60)
            } else {
                format!("{s} second(s)")
            };
            format!("Every token is re-tested every {words}.")
        }
    }
}

fn kind_label(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::Expiry => "Expiry warning",
        NotificationKind::Status => "Status change",
        NotificationKind::Test => "Test message",
    }
}

fn state_view(s: DeliveryState) -> (&'static str, &'static str) {
    match s {
        DeliveryState::Sent => ("Sent", "ok"),
        DeliveryState::Pending => ("Waiting", "muted"),
        DeliveryState::Retrying => ("Will retry", "warn"),
        DeliveryState::Failed => ("Failed", "danger"),
    }
}

/// Why a webhook URL was refused, in words.
fn refusal_text(e: &WebhookError) -> String {
    match e {
        WebhookError::Blocked(m) => format!("This address may not be used for webhooks ({m})."),
        other => other.to_string(),
    }
}

fn page(
    req: &HttpRequest,
    ctx: &OrgContext,
    o: Overview,
    value: String,
    error: Option<String>,
) -> NotificationsPage {
    let thresholds: Vec<String> = o.warn_days.iter().map(|d| d.to_string()).collect();
    NotificationsPage {
        layout: Layout::for_org(req, ctx, "Notifications", "notifications"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        current: o.webhook.as_ref().map(|w| w.masked.clone()),
        updated: o
            .webhook
            .as_ref()
            .map(|w| {
                format!(
                    "{}{}",
                    fmt_time(w.updated_at),
                    w.updated_by
                        .as_deref()
                        .map(|b| format!(" by {b}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        value,
        error,
        interval: interval_words(o.recheck_interval),
        thresholds: if thresholds.is_empty() {
            "none".into()
        } else {
            thresholds.join(", ")
        },
        deliveries: o.recent.into_iter().map(DeliveryLine::from).collect(),
    }
}

/// The page again with a message at the field, as 422.
async fn refused(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    value: String,
    message: String,
) -> Result<HttpResponse, AppError> {
    let o = app::notifications::settings(state, &ctx.member).await?;
    let p = page(req, ctx, o, value, Some(message));
    Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?))
}

/// `GET …/settings/notifications`.
pub async fn show_notifications(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    let o = app::notifications::settings(&state, &ctx.member).await?;
    Ok(html(
        &req,
        page(&req, &ctx, o, String::new(), None).render()?,
    ))
}

/// `POST …/settings/notifications`: `action` = `save` (default), `test` or `remove`.
pub async fn update_notifications(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<NotificationsForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.0;
    let back = urls::notifications(&ctx.org.slug);
    match form.action.trim() {
        "" | "save" => {
            let typed: String = form.webhook_url.trim().chars().take(INPUT_MAX).collect();
            match app::notifications::save_webhook(&state, &ctx.member, &typed).await? {
                Saved::Saved => Ok(see_other_with_flash(
                    &req,
                    &back,
                    "Webhook saved. Use “Send test message” to check that messages arrive.",
                )),
                Saved::Refused(e) => refused(&req, &state, &ctx, typed, refusal_text(&e)).await,
            }
        }
        "remove" => {
            let msg = match app::notifications::remove_webhook(&state, &ctx.member).await? {
                Removed::Removed => "Webhook removed. No notifications will be sent.",
                Removed::NoneSet => "No webhook was set.",
            };
            Ok(see_other_with_flash(&req, &back, msg))
        }
        "test" => {
            let msg = match app::notifications::send_test(&state, &ctx.member).await? {
                TestSent::Delivered { status } => {
                    format!("Test message delivered (the webhook answered HTTP {status}).")
                }
                TestSent::NotDelivered(e) => format!("The test message was not delivered: {e}"),
                TestSent::NoWebhook => {
                    let msg = "Save a webhook URL first, then send a test message.".to_string();
                    return refused(&req, &state, &ctx, String::new(), msg).await;
                }
            };
            Ok(see_other_with_flash(&req, &back, &msg))
        }
        other => {
            // The role decides first: a member who may not change the settings gets 403.
            app::require(&ctx.member, Permission::ManageNotifications)?;
            Err(AppError::BadRequest(format!(
                "Unknown action {:?}: use save, test or remove.",
                other.chars().take(40).collect::<String>()
            )))
        }
    }
}

/// `…/settings/notifications`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::NOTIFICATIONS, web::get().to(show_notifications))
        .route(org::NOTIFICATIONS, web::post().to(update_notifications))
        .route(
            org::NOTIFICATIONS_REMOVE,
            web::get().to(super::confirm::confirm_webhook_remove),
        );
}

//! `GET/POST /orgs/{org}/settings/notifications`: the organization's webhook for expiry warnings
//! and status changes (Slack-compatible JSON), a test message, and the recent deliveries.

use crate::db::StoreError;
use crate::db::models::audit::Audit;
use crate::db::models::notification::{Delivery, NotificationSettings, state as dstate};
use crate::domain::role::Permission;
use crate::notify;
use crate::providers::webhook::{WebhookError, describe_url};
use crate::state::AppState;
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::handlers::tokens::views::fmt_time;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::Connection;

pub fn settings_url(slug: &str) -> String {
    format!("/orgs/{slug}/settings/notifications")
}

pub struct DeliveryLine {
    pub when: String,
    pub kind: &'static str,
    pub state: String,
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub attempts: i64,
    pub error: String,
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

fn interval_words(state: &AppState) -> String {
    match state.config.recheck_interval {
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

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "expiry" => "Expiry warning",
        "status" => "Status change",
        "test" => "Test message",
        _ => "Notification",
    }
}

fn state_view(s: &str) -> (&'static str, &'static str) {
    match s {
        dstate::SENT => ("Sent", "ok"),
        dstate::PENDING => ("Waiting", "muted"),
        dstate::RETRYING => ("Will retry", "warn"),
        _ => ("Failed", "danger"),
    }
}

async fn page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    ctx: &OrgContext,
    value: String,
    error: Option<String>,
) -> Result<NotificationsPage, AppError> {
    let st = state.clone();
    let org_id = ctx.org.id.clone();
    let (settings, recent) = web::block(move || -> Result<_, StoreError> {
        let mut conn = st.conn()?;
        Ok((
            NotificationSettings::find(&mut conn, &org_id)?,
            Delivery::recent(&mut conn, &org_id, 20)?,
        ))
    })
    .await??;
    let thresholds: Vec<String> = state
        .config
        .expiry_warn_days
        .iter()
        .map(|d| d.to_string())
        .collect();
    Ok(NotificationsPage {
        layout: Layout::for_org(req, ctx, "Notifications", "notifications"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        current: settings.as_ref().map(|s| describe_url(&s.webhook_url)),
        updated: settings
            .as_ref()
            .map(|s| {
                format!(
                    "{}{}",
                    fmt_time(s.updated_at),
                    s.updated_by
                        .as_deref()
                        .map(|b| format!(" by {b}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        value,
        error,
        interval: interval_words(state),
        thresholds: if thresholds.is_empty() {
            "none".into()
        } else {
            thresholds.join(", ")
        },
        deliveries: recent
            .into_iter()
            .map(|d| {
                let (state_label, state_class) = state_view(&d.state);
                DeliveryLine {
                    when: fmt_time(d.sent_at.unwrap_or(d.created_at)),
                    kind: kind_label(&d.kind),
                    state: d.state,
                    state_label,
                    state_class,
                    attempts: d.attempts,
                    error: d.last_error.unwrap_or_default(),
                }
            })
            .collect(),
    })
}

/// `GET …/settings/notifications`.
pub async fn show_notifications(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageNotifications)?;
    let p = page(&req, &state, &ctx, String::new(), None).await?;
    Ok(html(&req, p.render()?))
}

fn audit(ctx: &OrgContext, action: &'static str, details: serde_json::Value) -> Audit {
    let mut a = Audit::new(action);
    a.org_id = Some(ctx.org.id.clone());
    a.actor_user_id = Some(ctx.user.id.clone());
    a.actor_email = Some(ctx.user.email.clone());
    a.details = details;
    a
}

/// `POST …/settings/notifications`: `action` = `save` (default), `test` or `remove`.
pub async fn update_notifications(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<NotificationsForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Permission::ManageNotifications)?;
    let form = form.0;
    let back = settings_url(&ctx.org.slug);
    match form.action.trim() {
        "" | "save" => {
            let typed: String = form.webhook_url.trim().chars().take(2100).collect();
            let url = match state.providers.check_webhook_url(&typed).await {
                Ok(u) => u,
                Err(e) => {
                    let msg = match e {
                        WebhookError::Blocked(m) => {
                            format!("This address may not be used for webhooks ({m}).")
                        }
                        other => other.to_string(),
                    };
                    let p = page(&req, &state, &ctx, typed, Some(msg)).await?;
                    return Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?));
                }
            };
            let st = state.clone();
            let org_id = ctx.org.id.clone();
            let by = ctx.user.email.clone();
            let a = audit(
                &ctx,
                "notifications.update",
                serde_json::json!({ "fields": ["webhook_url"] }),
            );
            web::block(move || -> Result<(), StoreError> {
                let mut conn = st.conn()?;
                conn.transaction(|conn| {
                    NotificationSettings::save(
                        conn,
                        &NotificationSettings {
                            org_id,
                            webhook_url: url.to_string(),
                            updated_by: Some(by),
                            updated_at: state.clock.naive(),
                        },
                    )?;
                    a.write(conn)
                })
            })
            .await??;
            Ok(see_other_with_flash(
                &req,
                &back,
                "Webhook saved. Use “Send test message” to check that messages arrive.",
            ))
        }
        "remove" => {
            let st = state.clone();
            let org_id = ctx.org.id.clone();
            let a = audit(
                &ctx,
                "notifications.remove",
                serde_json::json!({ "fields": ["webhook_url"] }),
            );
            let removed = web::block(move || -> Result<bool, StoreError> {
                let mut conn = st.conn()?;
                conn.transaction(|conn| {
                    let removed = NotificationSettings::delete(conn, &org_id)?;
                    if removed {
                        a.write(conn)?;
                    }
                    Ok(removed)
                })
            })
            .await??;
            Ok(see_other_with_flash(
                &req,
                &back,
                if removed {
                    "Webhook removed. No notifications will be sent."
                } else {
                    "No webhook was set."
                },
            ))
        }
        "test" => {
            let st = state.clone();
            let org_id = ctx.org.id.clone();
            let settings = web::block(move || {
                let mut conn = st.conn()?;
                NotificationSettings::find(&mut conn, &org_id)
            })
            .await??;
            let Some(settings) = settings else {
                let p = page(
                    &req,
                    &state,
                    &ctx,
                    String::new(),
                    Some("Save a webhook URL first, then send a test message.".into()),
                )
                .await?;
                return Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?));
            };
            let result =
                notify::send_test(&state, &ctx.org, &settings.webhook_url, &ctx.user.email).await?;
            let a = audit(
                &ctx,
                "notifications.test",
                serde_json::json!({ "result": if result.is_ok() { "sent" } else { "failed" } }),
            );
            let st = state.clone();
            web::block(move || -> Result<(), StoreError> {
                let mut conn = st.conn()?;
                a.write(&mut conn)
            })
            .await??;
            let msg = match result {
                Ok(code) => format!("Test message delivered (the webhook answered HTTP {code})."),
                Err(e) => format!("The test message was not delivered: {e}"),
            };
            Ok(see_other_with_flash(&req, &back, &msg))
        }
        other => Err(AppError::BadRequest(format!(
            "Unknown action {:?}: use save, test or remove.",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// `…/settings/notifications`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::NOTIFICATIONS, web::get().to(show_notifications))
        .route(org::NOTIFICATIONS, web::post().to(update_notifications));
}

//! A service's page with its "Build credentials" (DESIGN.md §9): the service keys, making one
//! (`POST …/services/{id}/keys`: shown once, with the lines a build pastes) and revoking one
//! after a confirmation page (`GET/POST …/services/{id}/keys/{key_id}/revoke`). Handlers
//! parse, call `app::service_keys`, render.

use super::service_id;
use crate::app;
use crate::app::service_keys::{Revoked, ServicePage};
use crate::app::state::AppState;
use crate::domain::ids::ServiceKeyId;
use crate::domain::role::Permission;
use crate::domain::service_key::{KEY_MAX_DAYS, KEY_NAME_MAX, KeyInputError, NewServiceKey};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::handlers::confirm::ConfirmPage;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::service::ServiceView;
use crate::web::view::service_key::{KeyLine, NewKeyView, clone_command};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "pages/services/show.html")]
pub struct ServiceDetailPage {
    pub layout: Layout,
    pub slug: String,
    pub can_manage: bool,
    pub csrf: String,
    pub s: ServiceView,
    pub keys: Vec<KeyLine>,
    /// The key just made (shown this once).
    pub new_key: Option<NewKeyView>,
    /// The clone command of the service's repository.
    pub clone_command: String,
    pub keys_url: String,
    /// The key form: values and messages after a refused submit.
    pub key_name: String,
    pub key_days: String,
    pub key_errors: FormErrors,
    pub key_name_max: usize,
    pub key_max_days: u32,
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    p: &ServicePage,
    new_key: Option<NewKeyView>,
) -> ServiceDetailPage {
    let slug = &ctx.org.slug;
    let now = state.clock.naive();
    let s = &p.service.service;
    ServiceDetailPage {
        layout: Layout::for_org(req, ctx, format!("{} · Service", s.name), "services"),
        slug: slug.clone(),
        can_manage: ctx.can(Permission::ManageServices),
        csrf: ctx.session.csrf_token.clone(),
        s: ServiceView::new(&p.service),
        keys: p.keys.iter().map(|k| KeyLine::new(slug, k, now)).collect(),
        new_key,
        clone_command: clone_command(p.remote.as_ref()),
        keys_url: urls::service_keys(slug, s.id.as_str()),
        key_name: String::new(),
        key_days: "90".into(),
        key_errors: FormErrors::default(),
        key_name_max: KEY_NAME_MAX,
        key_max_days: KEY_MAX_DAYS,
    }
}

/// `GET /orgs/{org}/services/{id}`.
pub async fn show_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let p = app::service_keys::service_page(&state, &ctx.member, &service_id(&path)).await?;
    Ok(html(&req, page(&req, &state, &ctx, &p, None).render()?))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub expires_in_days: String,
}

fn message(e: KeyInputError) -> (&'static str, String) {
    match e {
        KeyInputError::NameEmpty => (
            "name",
            "Enter a name that says where the key is used, e.g. “GitHub Actions”.".into(),
        ),
        KeyInputError::NameTooLong => ("name", format!("Use at most {KEY_NAME_MAX} characters.")),
        KeyInputError::Lifetime => (
            "expires_in_days",
            format!(
                "Enter a whole number of days from 1 to {KEY_MAX_DAYS}, or leave it empty for a key that never expires."
            ),
        ),
    }
}

/// `POST /orgs/{org}/services/{id}/keys`: make a key; the answer is the service's page with the
/// key shown once (never a redirect: the value must not travel in a cookie or a URL).
pub async fn create_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    form: Posted<KeyForm>,
) -> Result<HttpResponse, AppError> {
    let id = service_id(&path);
    let f = form.0;
    match NewServiceKey::parse(&f.name, &f.expires_in_days) {
        Ok(input) => {
            let c = app::service_keys::create(&state, &ctx.member, &id, input).await?;
            let shown = NewKeyView::new(
                &c.entry.name,
                &c.key,
                c.entry.expires_at,
                &c.page.forgekeys_url,
                c.page.remote.as_ref(),
            );
            let body = page(&req, &state, &ctx, &c.page, Some(shown)).render()?;
            Ok(html(&req, body))
        }
        Err(errors) => {
            app::require(&ctx.member, Permission::ManageServices)?;
            let p = app::service_keys::service_page(&state, &ctx.member, &id).await?;
            let mut view = page(&req, &state, &ctx, &p, None);
            for e in errors {
                let (field, text) = message(e);
                view.key_errors.add(field, text);
            }
            view.key_name = f.name.trim().chars().take(KEY_NAME_MAX * 2).collect();
            view.key_days = f.expires_in_days.trim().chars().take(12).collect();
            Ok(html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                view.render()?,
            ))
        }
    }
}

/// The `{id}` and `{key_id}` of a key path.
fn key_path(
    path: &web::Path<(String, String, String)>,
) -> (crate::domain::ids::ServiceId, ServiceKeyId) {
    (
        crate::domain::ids::ServiceId::new(path.1.clone()),
        ServiceKeyId::new(path.2.clone()),
    )
}

/// `GET /orgs/{org}/services/{id}/keys/{key_id}/revoke`: the confirmation.
pub async fn confirm_revoke_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    app::require(&ctx.member, Permission::ManageServices)?;
    let (sid, kid) = key_path(&path);
    let k = app::service_keys::find(&state, &ctx.member, &sid, &kid).await?;
    let slug = &ctx.org.slug;
    let page = ConfirmPage {
        layout: Layout::for_org(&req, &ctx, format!("Revoke the key {}?", k.name), "services"),
        kind: "service-key-revoke",
        lead: format!(
            "Revoke the service key “{}” ({})? This cannot be undone.",
            k.name, k.hint
        ),
        consequences: vec![
            "Builds that fetch Git credentials with it fail from now on.".into(),
            "Make a new key first if a build still needs one, and put it in its FORGEKEYS_SERVICE_KEY.".into(),
        ],
        action_url: urls::service_key_revoke(slug, sid.as_str(), kid.as_str()),
        csrf: ctx.session.csrf_token.clone(),
        hidden: Vec::new(),
        confirm_label: format!("Revoke “{}”", k.name),
        busy_label: "Revoking…",
        back_url: urls::service(slug, sid.as_str()),
        back_label: "Back to the service".into(),
    };
    Ok(html(&req, page.render()?))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Empty {}

/// `POST /orgs/{org}/services/{id}/keys/{key_id}/revoke`.
pub async fn revoke_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String, String)>,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let (sid, kid) = key_path(&path);
    let r = app::service_keys::revoke(&state, &ctx.member, &sid, &kid).await?;
    let text = match r {
        Revoked::Revoked(k) => format!("Service key “{}” ({}) revoked.", k.name, k.hint),
        Revoked::AlreadyRevoked(k) => {
            format!(
                "The service key “{}” ({}) was already revoked.",
                k.name, k.hint
            )
        }
    };
    Ok(see_other_with_flash(
        &req,
        &urls::service(&ctx.org.slug, sid.as_str()),
        &text,
    ))
}

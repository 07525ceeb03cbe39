//! The API keys page (DESIGN.md §9): the organization's `fkp_…` keys (name, role, hint,
//! creator, created, expires, last used), the form for a new one (its value shown once, with a
//! copy button), and revoking one after a confirmation step. Owners and Admins only.

use crate::app;
use crate::app::state::AppState;
use crate::domain::access_key::{ApiKey, KEY_DAYS_MAX, KEY_NAME_MAX, KEY_ROLES};
use crate::domain::ids::ApiKeyId;
use crate::domain::role::{Permission, Role};
use crate::web::csrf::Posted;
use crate::web::error::AppError;
use crate::web::extractors::OrgContext;
use crate::web::forms::FormErrors;
use crate::web::forms::api_key::{ApiKeyFormData, DEFAULT_DAYS, parse_api_key};
use crate::web::handlers::confirm::ConfirmPage;
use crate::web::render::{Layout, html, html_status, see_other_with_flash};
use crate::web::urls;
use crate::web::view::time::fmt_time;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// A key as a row of the list.
pub struct KeyLine {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub hint: String,
    pub created_by: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub revoke_url: Option<String>,
}

impl KeyLine {
    fn new(slug: &str, k: &ApiKey, now: chrono::NaiveDateTime) -> KeyLine {
        let (state, state_label, state_class) = if k.revoked_at.is_some() {
            ("revoked", "Revoked", "muted")
        } else if !k.active(now) {
            ("expired", "Expired", "danger")
        } else {
            ("active", "Active", "ok")
        };
        KeyLine {
            id: k.id.as_str().to_string(),
            name: k.name.clone(),
            role: k.role.label(),
            hint: format!("{}…", k.hint),
            created_by: k.created_by.clone(),
            created: fmt_time(k.created_at),
            expires: k.expires_at.map_or_else(|| "Never".into(), fmt_time),
            last_used: k.last_used_at.map_or_else(|| "Never".into(), fmt_time),
            state,
            state_label,
            state_class,
            revoke_url: (state == "active").then(|| urls::api_key_revoke(slug, k.id.as_str())),
        }
    }
}

/// A key just made, shown once.
pub struct NewKeyShown {
    pub name: String,
    pub role: &'static str,
    pub value: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "pages/api_keys/list.html")]
pub struct ApiKeysPage {
    pub layout: Layout,
    pub slug: String,
    pub csrf: String,
    pub org_name: String,
    pub keys: Vec<KeyLine>,
    pub roles: Vec<(&'static str, &'static str, bool, &'static str)>,
    pub form: ApiKeyFormData,
    pub errors: FormErrors,
    pub created: Option<NewKeyShown>,
    pub name_max: usize,
    pub days_max: i64,
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    ctx: &OrgContext,
    keys: &[ApiKey],
    form: ApiKeyFormData,
    errors: FormErrors,
    created: Option<NewKeyShown>,
) -> ApiKeysPage {
    let now = state.clock.naive();
    let chosen = Role::parse(&form.role).unwrap_or(Role::Viewer);
    ApiKeysPage {
        layout: Layout::for_org(req, ctx, "API keys", "api-keys"),
        slug: ctx.org.slug.clone(),
        csrf: ctx.session.csrf_token.clone(),
        org_name: ctx.org.name.clone(),
        keys: keys
            .iter()
            .map(|k| KeyLine::new(&ctx.org.slug, k, now))
            .collect(),
        roles: KEY_ROLES
            .iter()
            .map(|r| (r.as_str(), r.label(), *r == chosen, key_role_summary(*r)))
            .collect(),
        form,
        errors,
        created,
        name_max: KEY_NAME_MAX,
        days_max: KEY_DAYS_MAX,
    }
}

/// What a key of each role may do through the API (the members' rules, for what the API has).
fn key_role_summary(r: Role) -> &'static str {
    match r {
        Role::Admin | Role::Devops => {
            "reads and changes tokens and services, reads the audit trail"
        }
        _ => "reads tokens, services and the inventory",
    }
}

fn empty_form() -> ApiKeyFormData {
    ApiKeyFormData {
        name: String::new(),
        role: Role::Viewer.as_str().into(),
        expires_in_days: DEFAULT_DAYS.to_string(),
    }
}

/// `GET …/settings/api-keys`.
pub async fn list_api_keys(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
) -> Result<HttpResponse, AppError> {
    let keys = app::api_keys::list(&state, &ctx.member).await?;
    let p = page(
        &req,
        &state,
        &ctx,
        &keys,
        empty_form(),
        FormErrors::default(),
        None,
    );
    Ok(html(&req, p.render()?))
}

/// `POST …/settings/api-keys`: the page again with the new key shown once.
pub async fn create_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    form: Posted<ApiKeyFormData>,
) -> Result<HttpResponse, AppError> {
    // The role decides first: a member who may not manage keys gets 403, not field errors.
    app::require(&ctx.member, Permission::ManageApiKeys)?;
    let mut f = form.0;
    f.name = f.name.trim().chars().take(KEY_NAME_MAX + 20).collect();
    let new = match parse_api_key(&f) {
        Ok(n) => n,
        Err(errors) => {
            let keys = app::api_keys::list(&state, &ctx.member).await?;
            let p = page(&req, &state, &ctx, &keys, f, errors, None);
            return Ok(html_status(StatusCode::UNPROCESSABLE_ENTITY, p.render()?));
        }
    };
    let made = app::api_keys::create(&state, &ctx.member, new).await?;
    let keys = app::api_keys::list(&state, &ctx.member).await?;
    let shown = NewKeyShown {
        name: made.key.name.clone(),
        role: made.key.role.label(),
        value: made.value.reveal().to_string(),
        expires: made.key.expires_at.map_or_else(|| "never".into(), fmt_time),
    };
    let p = page(
        &req,
        &state,
        &ctx,
        &keys,
        empty_form(),
        FormErrors::default(),
        Some(shown),
    );
    Ok(html(&req, p.render()?))
}

/// `GET …/settings/api-keys/{id}/revoke`: the confirmation step.
pub async fn confirm_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let k = app::api_keys::find(&state, &ctx.member, &ApiKeyId::new(path.1.clone())).await?;
    if k.revoked_at.is_some() {
        return Err(AppError::NotFound);
    }
    let slug = &ctx.org.slug;
    let page = ConfirmPage {
        layout: Layout::for_org(
            &req,
            &ctx,
            format!("Revoke the API key “{}”?", k.name),
            "api-keys",
        ),
        kind: "api-key-revoke",
        lead: format!(
            "Revoke the API key “{}” ({}…, {})? This cannot be undone.",
            k.name,
            k.hint,
            k.role.label()
        ),
        consequences: vec![
            "Scripts and pipelines that use it get 401 from their very next request.".into(),
            "The key stays in the list as revoked; its actions stay in the audit trail.".into(),
        ],
        action_url: urls::api_key_revoke(slug, k.id.as_str()),
        csrf: ctx.session.csrf_token.clone(),
        hidden: Vec::new(),
        confirm_label: format!("Revoke “{}”", k.name),
        busy_label: "Revoking…",
        back_url: urls::api_keys(slug),
        back_label: "API keys".into(),
    };
    Ok(html(&req, page.render()?))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Empty {}

/// `POST …/settings/api-keys/{id}/revoke`.
pub async fn revoke_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    ctx: OrgContext,
    path: web::Path<(String, String)>,
    _form: Posted<Empty>,
) -> Result<HttpResponse, AppError> {
    let k = app::api_keys::revoke(&state, &ctx.member, &ApiKeyId::new(path.1.clone())).await?;
    Ok(see_other_with_flash(
        &req,
        &urls::api_keys(&ctx.org.slug),
        &format!(
            "The API key “{}” ({}…) was revoked; it no longer works.",
            k.name, k.hint
        ),
    ))
}

/// `…/settings/api-keys…`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::web::urls::org;
    cfg.route(org::API_KEYS, web::get().to(list_api_keys))
        .route(org::API_KEYS, web::post().to(create_api_key))
        .route(org::API_KEY_REVOKE, web::get().to(confirm_revoke))
        .route(org::API_KEY_REVOKE, web::post().to(revoke_api_key));
}

//! Response helpers and the page layout shared by every template.

use super::assets::{AssetUrls, urls};
use super::extractors::OrgContext;
use super::session::{FLASH_COOKIE, cookie, removal};
use crate::domain::role::Permission;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

/// The organization part of the navigation.
#[derive(Debug, Clone)]
pub struct OrgNav {
    pub slug: String,
    pub name: String,
    pub role: &'static str,
    pub can_view_tokens: bool,
    pub can_manage: bool,
    /// Owner and Admin: the members page.
    pub can_manage_members: bool,
    /// Tokens needing attention (banner on every organization page).
    pub attention: i64,
}

/// Data every page's layout needs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub assets: &'static AssetUrls,
    pub csrf: Option<String>,
    pub user_email: Option<String>,
    pub org: Option<OrgNav>,
    pub flash: Option<String>,
    /// Which navigation entry is current: `orgs`, `tokens`, `inventory`, …
    pub active: &'static str,
    /// Sign-in and setup pages opened over plain http while cookies are `Secure`: the browser
    /// will drop the form's cookie, so the page says so before anyone types a password.
    pub cookie_warning: bool,
}

impl Layout {
    pub fn anonymous(req: &HttpRequest, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            assets: urls(),
            csrf: None,
            user_email: None,
            org: None,
            flash: read_flash(req),
            active: "",
            cookie_warning: super::csrf::cookie_refused(req),
        }
    }

    /// A signed-in page outside any organization (the organizations list, the account).
    pub fn for_user(
        req: &HttpRequest,
        cu: &crate::web::extractors::CurrentUser,
        title: impl Into<String>,
        active: &'static str,
    ) -> Layout {
        let mut layout = Layout::anonymous(req, title);
        layout.csrf = Some(cu.session.csrf_token.clone());
        layout.user_email = Some(cu.user.email.clone());
        layout.active = active;
        layout.cookie_warning = false;
        layout
    }

    pub fn for_org(
        req: &HttpRequest,
        ctx: &OrgContext,
        title: impl Into<String>,
        active: &'static str,
    ) -> Layout {
        Layout {
            title: title.into(),
            assets: urls(),
            csrf: Some(ctx.session.csrf_token.clone()),
            user_email: Some(ctx.member.user.email.clone()),
            org: Some(OrgNav {
                slug: ctx.org.slug.clone(),
                name: ctx.org.name.clone(),
                role: ctx.role.label(),
                can_view_tokens: ctx.can(Permission::ViewTokens),
                can_manage: ctx.can(Permission::ManageTokens),
                can_manage_members: ctx.can(Permission::ManageMembers),
                attention: ctx.attention,
            }),
            flash: read_flash(req),
            active,
            cookie_warning: false,
        }
    }

    pub fn is(&self, name: &str) -> bool {
        self.active == name
    }
}

fn read_flash(req: &HttpRequest) -> Option<String> {
    let c = req.cookie(FLASH_COOKIE)?;
    let decoded: String = url::form_urlencoded::parse(format!("m={}", c.value()).as_bytes())
        .find(|(k, _)| k == "m")
        .map(|(_, v)| v.into_owned())?;
    let decoded: String = decoded.chars().take(300).collect();
    (!decoded.is_empty()).then_some(decoded)
}

/// A full HTML page (or fragment); clears a flash message the page has shown.
pub fn html(req: &HttpRequest, body: String) -> HttpResponse {
    let mut r = HttpResponse::Ok();
    r.content_type("text/html; charset=utf-8");
    r.insert_header((header::CACHE_CONTROL, "no-store"));
    if req.cookie(FLASH_COOKIE).is_some() {
        r.cookie(removal(FLASH_COOKIE, false));
    }
    r.body(body)
}

/// A page with a non-200 status (validation errors: 422).
pub fn html_status(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// 303 to `location`. For HTMX requests, `HX-Redirect` so the whole page navigates.
pub fn see_other(req: &HttpRequest, location: &str) -> HttpResponse {
    if super::htmx::is_htmx(req) {
        return HttpResponse::Ok()
            .insert_header(("HX-Redirect", location.to_string()))
            .finish();
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// 303 with a flash message shown once on the next page.
pub fn see_other_with_flash(req: &HttpRequest, location: &str, message: &str) -> HttpResponse {
    let mut resp = see_other(req, location);
    let value: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    let _ = resp.add_cookie(&cookie(FLASH_COOKIE, value, false, None));
    resp
}

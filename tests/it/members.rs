//! Members and invitations (DESIGN.md §3a): invite → accept → role enforced; role changes and
//! removal effective on the next request; the Owner rules and the last-Owner guard; single-use
//! and expiring links; the role and cross-organization rules of every route; CSRF on every form.

use crate::helpers::*;
use chrono::Duration;
use diesel::prelude::*;
use forgekeys::db::schema::{audit_events, users};
use forgekeys::domain::role::Role;

pub(crate) const MEMBERS: &str = "/orgs/acme/settings/members";
const TOKENS: &str = "/orgs/acme/settings/git-tokens";

pub(crate) fn user_id(app: &TestApp, email: &str) -> String {
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(&mut db(app))
        .unwrap()
}

/// The invitation link on the page that answered the invite form (path only).
#[track_caller]
pub(crate) fn invite_path(p: &Page) -> String {
    let re = regex::Regex::new(r#"value="https?://[^"/]+(/invites/[A-Za-z0-9_-]+)""#).unwrap();
    re.captures(&p.body)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no invitation link on the page:\n{}", p.body))
}

/// Invite `email` as `role` through the form; returns the link's path.
pub(crate) async fn invite(c: &Client, email: &str, role: &str) -> String {
    let csrf = c.session_csrf().await;
    let p = c
        .post(
            &format!("{MEMBERS}/invites"),
            &[("csrf_token", &csrf), ("email", email), ("role", role)],
        )
        .await;
    p.assert_status(200).assert_contains("data-invite-created");
    invite_path(&p)
}

/// Accept as a new person (a fresh client): the password form, then its answer.
async fn accept_new(app: &TestApp, path: &str) -> (Client, Page) {
    accept_new_with(Client::new(app), path).await
}

/// [`accept_new`] with a client of one's own (e.g. one that sends a `User-Agent`).
async fn accept_new_with(c: Client, path: &str) -> (Client, Page) {
    let form = c.get(path).await;
    form.assert_status(200)
        .assert_contains("Create account and join");
    let csrf = form.csrf();
    let p = c
        .post(
            path,
            &[
                ("csrf_token", &csrf),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    (c, p)
}

async fn set_role(c: &Client, user: &str, role: &str) -> Page {
    let csrf = c.session_csrf().await;
    c.post(
        &format!("{MEMBERS}/{user}/role"),
        &[("csrf_token", &csrf), ("role", role)],
    )
    .await
}

async fn remove(c: &Client, user: &str) -> Page {
    let csrf = c.session_csrf().await;
    c.post(
        &format!("{MEMBERS}/{user}/remove"),
        &[("csrf_token", &csrf)],
    )
    .await
}

fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .order(audit_events::created_at.asc())
        .select(audit_events::details)
        .load(&mut db(app))
        .unwrap()
}

#[tokio::test]
async fn an_invited_person_sets_a_password_joins_and_gets_exactly_their_role() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let page = owner.get(MEMBERS).await;
    page.assert_status(200)
        .assert_contains("owner@acme.test")
        .assert_contains(&format!(
            "data-user-id=\"{}\"",
            user_id(&app, "owner@acme.test")
        ))
        .assert_contains("data-two-factor=\"Off\"")
        .assert_contains("No invitation is waiting");
    let path = invite(&owner, "New.Person@Acme.test", "viewer").await;
    // Pending, with who invited; the link itself is never shown again.
    let list = owner.get(MEMBERS).await;
    list.assert_contains("new.person@acme.test")
        .assert_contains("data-invite-id=")
        .assert_lacks(&path);
    let (viewer, joined) = accept_new(&app, &path).await;
    joined.assert_redirect_to("/orgs");
    // Signed in, a Viewer: reads tokens, may not manage them nor the members.
    viewer.get(TOKENS).await.assert_status(200);
    viewer
        .get(&format!("{TOKENS}/new"))
        .await
        .assert_status(403);
    viewer.get(MEMBERS).await.assert_status(403);
    // The members page shows the new member with a last sign-in, and no pending invitation.
    let list = owner.get(MEMBERS).await;
    list.assert_contains("new.person@acme.test")
        .assert_contains("No invitation is waiting");
    let d = audit_details(&app, "member.invite");
    assert!(
        d[0].contains("new.person@acme.test") && d[0].contains("viewer"),
        "{d:?}"
    );
    let d = audit_details(&app, "member.join");
    assert!(d[0].contains("new.person@acme.test"), "{d:?}");
    // The trail names the member and the role, never the link.
    owner
        .get("/orgs/acme/audit")
        .await
        .assert_contains("Member invited")
        .assert_contains("Joined by invitation")
        .assert_lacks(path.trim_start_matches("/invites/"));
}

#[tokio::test]
async fn an_existing_account_signs_in_and_joins_and_another_account_is_refused() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let dev = app.member("other", "dev@other.test", Role::Owner).await;
    let path = invite(&owner, "dev@other.test", "devops").await;
    // Someone signed in with another address is told, and refused.
    let stranger = app.member("third", "x@third.test", Role::Owner).await;
    stranger
        .get(&path)
        .await
        .assert_status(200)
        .assert_contains("data-wrong-account");
    let csrf = stranger.session_csrf().await;
    stranger
        .post(&path, &[("csrf_token", &csrf)])
        .await
        .assert_status(403);
    stranger.get(TOKENS).await.assert_status(404);
    // Not signed in: the link sends an existing account to sign in, and back.
    let anon = Client::new(&app);
    let offer = anon.get(&path).await;
    offer
        .assert_status(200)
        .assert_contains("Sign in as dev@other.test");
    let login = anon.get(&forgekeys::web::urls::login_then(&path)).await;
    let csrf = login.csrf();
    anon.post(
        "/login",
        &[
            ("csrf_token", &csrf),
            ("email", "dev@other.test"),
            ("password", PASSWORD),
            ("next", &path),
        ],
    )
    .await
    .assert_redirect_to(&path);
    // Signed in with the invited address: one button.
    dev.get(&path).await.assert_contains("Join Acme Corp");
    let csrf = dev.session_csrf().await;
    dev.post(&path, &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to("/orgs");
    dev.get(TOKENS).await.assert_status(200);
    dev.get(&format!("{TOKENS}/new")).await.assert_status(200);
    dev.get(MEMBERS).await.assert_status(403);
    // The same link again: used up.
    anon.get(&path).await.assert_status(410);
}

#[tokio::test]
async fn role_changes_and_removal_count_from_the_very_next_request() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let admin = app.member("acme", "admin@acme.test", Role::Admin).await;
    let id = user_id(&app, "admin@acme.test");
    admin.get(MEMBERS).await.assert_status(200);
    set_role(&owner, &id, "viewer")
        .await
        .assert_redirect_to(MEMBERS);
    // Same session, next request: a Viewer now.
    admin.get(MEMBERS).await.assert_status(403);
    admin.get(TOKENS).await.assert_status(200);
    let d = audit_details(&app, "member.role_change");
    assert!(
        d[0].contains("admin@acme.test")
            && d[0].contains(r#""old_role":"admin""#)
            && d[0].contains(r#""role":"viewer""#),
        "{d:?}"
    );
    // The confirmation step (no JavaScript needed), then the removal.
    owner
        .get(&format!("{MEMBERS}/{id}/remove"))
        .await
        .assert_status(200)
        .assert_contains("Remove admin@acme.test?");
    remove(&owner, &id).await.assert_redirect_to(MEMBERS);
    admin.get(TOKENS).await.assert_status(404);
    admin.get(MEMBERS).await.assert_status(404);
    // Still signed in (the account stays).
    admin.get("/orgs").await.assert_status(200);
    let d = audit_details(&app, "member.remove");
    assert!(
        d[0].contains("admin@acme.test") && d[0].contains("viewer"),
        "{d:?}"
    );
    owner
        .get(MEMBERS)
        .await
        .assert_lacks(&format!("data-user-id=\"{id}\""));
}

#[tokio::test]
async fn the_last_owner_can_be_neither_demoted_nor_removed() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let me = user_id(&app, "owner@acme.test");
    set_role(&owner, &me, "admin")
        .await
        .assert_status(409)
        .assert_contains("last Owner");
    remove(&owner, &me).await.assert_status(409);
    owner
        .get(&format!("{MEMBERS}/{me}/remove"))
        .await
        .assert_status(409);
    // The page offers no control that would be refused.
    owner
        .get(MEMBERS)
        .await
        .assert_status(200)
        .assert_contains("data-last-owner")
        .assert_lacks(&format!("{MEMBERS}/{me}/remove"));
    // With a second Owner, one may step down.
    let second = app.member("acme", "second@acme.test", Role::Owner).await;
    set_role(&owner, &me, "admin")
        .await
        .assert_redirect_to(MEMBERS);
    // Now `second` is the last one.
    let second_id = user_id(&app, "second@acme.test");
    set_role(&second, &second_id, "devops")
        .await
        .assert_status(409);
    remove(&second, &second_id).await.assert_status(409);
}

#[tokio::test]
async fn an_admin_manages_members_but_never_the_owner_role() {
    let app = spawn_app();
    let _owner = app.owner("acme").await;
    let admin = app.member("acme", "admin@acme.test", Role::Admin).await;
    let _viewer = app.member("acme", "viewer@acme.test", Role::Viewer).await;
    let (owner_id, viewer_id) = (
        user_id(&app, "owner@acme.test"),
        user_id(&app, "viewer@acme.test"),
    );
    // The page offers an Admin no Owner choice and no control over the Owner's row.
    let page = admin.get(MEMBERS).await;
    page.assert_status(200)
        .assert_lacks(r#"<option value="owner""#)
        .assert_lacks(&format!("{MEMBERS}/{owner_id}/remove"));
    set_role(&admin, &viewer_id, "owner")
        .await
        .assert_status(403);
    set_role(&admin, &owner_id, "admin")
        .await
        .assert_status(403);
    remove(&admin, &owner_id).await.assert_status(403);
    admin
        .get(&format!("{MEMBERS}/{owner_id}/remove"))
        .await
        .assert_status(403);
    let csrf = admin.session_csrf().await;
    admin
        .post(
            &format!("{MEMBERS}/invites"),
            &[
                ("csrf_token", &csrf),
                ("email", "boss@acme.test"),
                ("role", "owner"),
            ],
        )
        .await
        .assert_status(403);
    // Everything below Owner is the Admin's to manage.
    set_role(&admin, &viewer_id, "devops")
        .await
        .assert_redirect_to(MEMBERS);
    invite(&admin, "new@acme.test", "admin").await;
    remove(&admin, &viewer_id).await.assert_redirect_to(MEMBERS);
}

#[tokio::test]
async fn an_invitation_link_works_once_expires_after_seven_days_and_can_be_revoked() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let path = invite(&owner, "once@acme.test", "viewer").await;
    let (_c, p) = accept_new(&app, &path).await;
    p.assert_redirect_to("/orgs");
    // Used: both the page and a replayed form are refused.
    let again = Client::new(&app);
    let form = again.get(&path).await;
    form.assert_status(410).assert_contains("does not work");
    let csrf = again.get("/login").await.csrf();
    again
        .post(
            &path,
            &[
                ("csrf_token", &csrf),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await
        .assert_status(410);
    // Expiry: still open just before seven days, closed after.
    let late = invite(&owner, "late@acme.test", "viewer").await;
    app.clock.advance(Duration::days(7) - Duration::minutes(1));
    Client::new(&app).get(&late).await.assert_status(200);
    app.clock.advance(Duration::minutes(2));
    Client::new(&app).get(&late).await.assert_status(410);
    let (_c, p) = accept_new_refused(&app, &late).await;
    p.assert_status(410);
    // Revoked: closed at once, and gone from the list.
    let owner = Client::new(&app);
    owner.login("owner@acme.test", PASSWORD).await;
    let revoked = invite(&owner, "rev@acme.test", "devops").await;
    let list = owner.get(MEMBERS).await;
    let re = regex::Regex::new(r#"action="([^"]*/invites/[^"/]+/revoke)""#).unwrap();
    let revoke_url = re.captures(&list.body).unwrap()[1].to_string();
    let csrf = list.csrf();
    owner
        .post(&revoke_url, &[("csrf_token", &csrf)])
        .await
        .assert_redirect_to(MEMBERS);
    Client::new(&app).get(&revoked).await.assert_status(410);
    owner
        .get(MEMBERS)
        .await
        .assert_contains("No invitation is waiting");
    // Revoking twice: nothing there any more.
    owner
        .post(&revoke_url, &[("csrf_token", &csrf)])
        .await
        .assert_status(404);
    // A new invitation for the same address replaces the open one.
    let first = invite(&owner, "twice@acme.test", "viewer").await;
    let second = invite(&owner, "twice@acme.test", "admin").await;
    Client::new(&app).get(&first).await.assert_status(410);
    Client::new(&app)
        .get(&second)
        .await
        .assert_status(200)
        .assert_contains("Admin");
}

/// The password form of a link that closed after it was shown.
async fn accept_new_refused(app: &TestApp, path: &str) -> (Client, Page) {
    let c = Client::new(app);
    let csrf = c.get("/login").await.csrf();
    let p = c
        .post(
            path,
            &[
                ("csrf_token", &csrf),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    (c, p)
}

#[tokio::test]
async fn inviting_a_member_says_they_are_one_and_a_bad_form_says_why() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    app.member("acme", "dev@acme.test", Role::Devops).await;
    let csrf = owner.session_csrf().await;
    owner
        .post(
            &format!("{MEMBERS}/invites"),
            &[
                ("csrf_token", &csrf),
                ("email", "DEV@acme.test"),
                ("role", "admin"),
            ],
        )
        .await
        .assert_status(409)
        .assert_contains("dev@acme.test is already a member of Acme Corp (role DevOps)")
        .assert_lacks("data-invite-created");
    owner
        .post(
            &format!("{MEMBERS}/invites"),
            &[
                ("csrf_token", &csrf),
                ("email", "not-an-address"),
                ("role", "boss"),
            ],
        )
        .await
        .assert_status(422)
        .assert_contains("Enter an e-mail address")
        .assert_contains("Choose a role.");
    // A new person's password must meet the policy and match.
    let path = invite(&owner, "p@acme.test", "viewer").await;
    let c = Client::new(&app);
    let csrf = c.get(&path).await.csrf();
    c.post(
        &path,
        &[
            ("csrf_token", &csrf),
            ("password", "short"),
            ("password_confirm", "short"),
        ],
    )
    .await
    .assert_status(422)
    .assert_contains("at least 12 characters");
    c.post(
        &path,
        &[
            ("csrf_token", &csrf),
            ("password", PASSWORD),
            ("password_confirm", "something else entirely"),
        ],
    )
    .await
    .assert_status(422)
    .assert_contains("The two passwords differ.");
    c.get(&path).await.assert_status(200);
}

#[tokio::test]
async fn only_owners_and_admins_reach_member_management_and_other_orgs_get_404() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let target = user_id(&app, "owner@acme.test");
    let path = invite(&owner, "pending@acme.test", "viewer").await;
    let list = owner.get(MEMBERS).await;
    let re = regex::Regex::new(r#"action="([^"]*/invites/[^"/]+/revoke)""#).unwrap();
    let revoke_url = re.captures(&list.body).unwrap()[1].to_string();
    let outsider = app.member("other", "out@other.test", Role::Owner).await;
    let outsider_target = user_id(&app, "out@other.test");
    for (role, want) in [
        (Role::Devops, 403),
        (Role::Viewer, 403),
        (Role::Billing, 403),
    ] {
        let email = format!("{}@acme.test", role.as_str());
        let c = app.member("acme", &email, role).await;
        let csrf = c.session_csrf().await;
        c.get(MEMBERS).await.assert_status(want);
        c.post(
            &format!("{MEMBERS}/invites"),
            &[
                ("csrf_token", &csrf),
                ("email", "x@acme.test"),
                ("role", "viewer"),
            ],
        )
        .await
        .assert_status(want);
        c.post(&revoke_url, &[("csrf_token", &csrf)])
            .await
            .assert_status(want);
        set_role(&c, &target, "viewer").await.assert_status(want);
        c.get(&format!("{MEMBERS}/{target}/remove"))
            .await
            .assert_status(want);
        remove(&c, &target).await.assert_status(want);
        // The nav offers no Members entry.
        c.get("/orgs/acme/settings/git-tokens")
            .await
            .assert_lacks(&format!("href=\"{MEMBERS}\""));
    }
    // Another organization's Owner: 404 for every route, whatever the ids.
    let csrf = outsider.session_csrf().await;
    outsider.get(MEMBERS).await.assert_status(404);
    outsider
        .post(
            &format!("{MEMBERS}/invites"),
            &[
                ("csrf_token", &csrf),
                ("email", "x@acme.test"),
                ("role", "viewer"),
            ],
        )
        .await
        .assert_status(404);
    outsider
        .post(&revoke_url, &[("csrf_token", &csrf)])
        .await
        .assert_status(404);
    set_role(&outsider, &target, "viewer")
        .await
        .assert_status(404);
    remove(&outsider, &target).await.assert_status(404);
    outsider
        .get(&format!("{MEMBERS}/{target}/remove"))
        .await
        .assert_status(404);
    // Their own organization's ids through acme, and acme's ids through theirs: 404.
    set_role(&owner, &outsider_target, "viewer")
        .await
        .assert_status(404);
    remove(&owner, &outsider_target).await.assert_status(404);
    let other_revoke = revoke_url.replace("/orgs/acme/", "/orgs/other/");
    outsider
        .post(&other_revoke, &[("csrf_token", &csrf)])
        .await
        .assert_status(404);
    // Nothing changed: the invitation is still open, the owner still Owner.
    Client::new(&app).get(&path).await.assert_status(200);
    owner.get(MEMBERS).await.assert_status(200);
    // The Owner's nav has the entry.
    owner
        .get(TOKENS)
        .await
        .assert_contains(&format!("href=\"{MEMBERS}\""));
}

#[tokio::test]
async fn every_member_form_needs_its_csrf_token() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let admin = app.member("acme", "admin@acme.test", Role::Admin).await;
    let id = user_id(&app, "admin@acme.test");
    let path = invite(&owner, "csrf@acme.test", "viewer").await;
    let list = owner.get(MEMBERS).await;
    let re = regex::Regex::new(r#"action="([^"]*/invites/[^"/]+/revoke)""#).unwrap();
    let revoke_url = re.captures(&list.body).unwrap()[1].to_string();
    let invites = format!("{MEMBERS}/invites");
    let role = format!("{MEMBERS}/{id}/role");
    let rm = format!("{MEMBERS}/{id}/remove");
    for (url, form) in [
        (
            invites.as_str(),
            vec![("email", "y@acme.test"), ("role", "viewer")],
        ),
        (revoke_url.as_str(), vec![]),
        (role.as_str(), vec![("role", "viewer")]),
        (rm.as_str(), vec![]),
    ] {
        owner.post(url, &form).await.assert_status(403);
        let mut wrong = form.clone();
        wrong.push(("csrf_token", "not-the-token"));
        owner.post(url, &wrong).await.assert_status(403);
    }
    // Nothing happened.
    admin.get(MEMBERS).await.assert_status(200);
    Client::new(&app).get(&path).await.assert_status(200);
    // The acceptance form: without the pre-session token (new person) or the session token.
    let anon = Client::new(&app);
    anon.get(&path).await.assert_status(200);
    anon.post(
        &path,
        &[("password", PASSWORD), ("password_confirm", PASSWORD)],
    )
    .await
    .assert_status(403);
    let signed_in = app.member("other", "csrf@acme.test", Role::Owner).await;
    signed_in.post(&path, &[]).await.assert_status(403);
    Client::new(&app).get(&path).await.assert_status(200);
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_and_never_to_another_site() {
    let app = spawn_app();
    let _owner = app.owner("acme").await;
    // Asked for a page while signed out: back there after signing in.
    let c = Client::new(&app);
    c.get(MEMBERS).await.assert_redirect_to("/login");
    c.login("owner@acme.test", PASSWORD)
        .await
        .assert_redirect_to(MEMBERS);
    // An explicit same-origin next.
    let c = Client::new(&app);
    let form = c
        .get(&format!("/login?next={}", "%2Forgs%2Facme%2Faudit"))
        .await;
    assert_eq!(
        form.input_value("next").as_deref(),
        Some("/orgs/acme/audit")
    );
    let csrf = form.csrf();
    c.post(
        "/login",
        &[
            ("csrf_token", &csrf),
            ("email", "owner@acme.test"),
            ("password", PASSWORD),
            ("next", "/orgs/acme/audit"),
        ],
    )
    .await
    .assert_redirect_to("/orgs/acme/audit");
    // Open-redirect attempts land on the organizations.
    for evil in [
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil.example",
        "",
    ] {
        let c = Client::new(&app);
        let form = c
            .get(&format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
            ))
            .await;
        assert_eq!(form.input_value("next"), None, "{evil:?}");
        let csrf = form.csrf();
        c.post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "owner@acme.test"),
                ("password", PASSWORD),
                ("next", evil),
            ],
        )
        .await
        .assert_redirect_to("/orgs");
    }
}

#[tokio::test]
async fn the_login_page_points_to_the_setup_link_while_nobody_exists() {
    let app = spawn_app();
    Client::new(&app)
        .get("/login")
        .await
        .assert_status(200)
        .assert_contains("data-setup-hint")
        .assert_contains("server log");
    let _owner = app.owner("acme").await;
    Client::new(&app)
        .get("/login")
        .await
        .assert_lacks("data-setup-hint");
}

/// What the SSO sign-in will call once the provider has verified the address.
#[tokio::test]
async fn sso_acceptance_joins_only_for_the_invited_verified_address() {
    use forgekeys::app::members::invites::{Accepted, AcceptedNew};
    use forgekeys::domain::ids::UserId;
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let state = forgekeys::startup::state(&app.config, app.clock.clone()).unwrap();
    let token = |p: String| p.trim_start_matches("/invites/").to_string();
    // A new person: another verified address is refused; the invited one joins, signed in,
    // with no password that works.
    let t = token(invite(&owner, "sso.new@acme.test", "devops").await);
    let r = forgekeys::app::members::accept_invite_verified(
        &state,
        &t,
        "other@acme.test",
        Default::default(),
    )
    .await
    .unwrap();
    assert!(matches!(r, AcceptedNew::Gone), "{r:?}");
    let r = forgekeys::app::members::accept_invite_verified(
        &state,
        &t,
        "SSO.New@acme.test",
        Default::default(),
    )
    .await
    .unwrap();
    assert!(
        matches!(
            r,
            AcceptedNew::Joined {
                role: Role::Devops,
                ..
            }
        ),
        "{r:?}"
    );
    Client::new(&app)
        .login("sso.new@acme.test", "!no-password")
        .await
        .assert_status(401);
    // An existing account: joins through accept_invite_as; the link is then used up.
    app.member("other", "sso.old@other.test", Role::Owner).await;
    let t = token(invite(&owner, "sso.old@other.test", "viewer").await);
    let r = forgekeys::app::members::accept_invite_verified(
        &state,
        &t,
        "sso.old@other.test",
        Default::default(),
    )
    .await
    .unwrap();
    assert!(matches!(r, AcceptedNew::AccountExists), "{r:?}");
    let id = UserId::new(user_id(&app, "sso.old@other.test"));
    let r = forgekeys::app::members::accept_invite_as(&state, &t, &id, None)
        .await
        .unwrap();
    assert!(
        matches!(
            r,
            Accepted::Joined {
                role: Role::Viewer,
                ..
            }
        ),
        "{r:?}"
    );
    let r = forgekeys::app::members::accept_invite_as(&state, &t, &id, None)
        .await
        .unwrap();
    assert!(matches!(r, Accepted::Gone), "{r:?}");
}

#[tokio::test]
async fn a_session_started_by_accepting_an_invitation_records_the_browser() {
    let app = spawn_app();
    let owner = app.owner("acme").await;
    let path = invite(&owner, "new@example.test", "viewer").await;
    let c = crate::account::client_with_agent(&app, crate::account::FIREFOX);
    let (_, p) = accept_new_with(c, &path).await;
    p.assert_status(303);
    assert!(
        crate::account::session_agents(&app).contains(&Some(crate::account::FIREFOX.to_string())),
        "{:?}",
        crate::account::session_agents(&app)
    );
}

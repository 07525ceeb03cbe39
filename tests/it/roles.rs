//! The role matrix on every Git token route (DESIGN.md §2, §3): Owner, Admin and DevOps manage;
//! Viewer reads without controls; Billing sees nothing (403); a non-member gets 404 for
//! everything, including another organization's token ids requested through their own org.

use crate::fakes;
use crate::helpers::*;
use diesel::prelude::*;
use forgekeys::db::models::token::GitToken;
use forgekeys::db::schema::git_tokens;
use forgekeys::domain::role::Role;

const BASE: &str = "/orgs/acme/settings/git-tokens";

/// Every token route, in an order that lets a managing role walk its own token from creation to
/// deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    List,
    New,
    TestNew,
    CreateInvalid,
    Create,
    Show,
    Edit,
    Update,
    Retest,
    DeleteConfirm,
    Delete,
}

use Route::*;

const ROUTES: [Route; 11] = [
    List,
    New,
    TestNew,
    CreateInvalid,
    Create,
    Show,
    Edit,
    Update,
    Retest,
    DeleteConfirm,
    Delete,
];

impl Route {
    fn is_post(self) -> bool {
        matches!(
            self,
            TestNew | CreateInvalid | Create | Update | Retest | Delete
        )
    }

    /// Read-only routes (a Viewer may use them).
    fn is_read(self) -> bool {
        matches!(self, List | Show)
    }

    fn takes_id(self) -> bool {
        matches!(self, Show | Edit | Update | Retest | DeleteConfirm | Delete)
    }

    fn path(self, slug: &str, id: &str) -> String {
        let base = format!("/orgs/{slug}/settings/git-tokens");
        match self {
            List => base,
            New => format!("{base}/new"),
            TestNew => format!("{base}/test"),
            CreateInvalid | Create => base,
            Show | Update => format!("{base}/{id}"),
            Edit => format!("{base}/{id}/edit"),
            Retest => format!("{base}/{id}/test"),
            DeleteConfirm | Delete => format!("{base}/{id}/delete"),
        }
    }

    /// The form a browser would post (without `csrf_token`). `tag` makes names unique per user.
    fn form(self, tag: &str) -> Vec<(String, String)> {
        let pairs: Vec<(&str, String)> = match self {
            TestNew | Create => vec![
                ("provider", "github".into()),
                ("hosting", "cloud".into()),
                ("name", format!("Token of {tag}")),
                ("token", format!("ghp_allscopes_{tag}_0001")),
            ],
            // Intentionally invalid: no name, no token.
            CreateInvalid => vec![
                ("provider", "github".into()),
                ("hosting", "cloud".into()),
                ("name", String::new()),
                ("token", String::new()),
            ],
            // Edit only the description: no new token value, no provider call needed.
            Update => vec![
                ("provider", "github".into()),
                ("hosting", "cloud".into()),
                ("name", format!("Token of {tag}")),
                ("token", String::new()),
                ("description", format!("edited by {tag}")),
            ],
            Retest | Delete => vec![("return_to", "detail".into())],
            List | New | Show | Edit | DeleteConfirm => vec![],
        };
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

/// What a user may do with tokens of `acme`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Owner, Admin, DevOps.
    Manage,
    /// Viewer.
    ReadOnly,
    /// Billing.
    Nothing,
    /// Member of another organization only.
    NotMember,
}

struct Who {
    label: &'static str,
    email: &'static str,
    /// Organization the membership is in, and the role there.
    org: &'static str,
    role: Role,
    access: Access,
}

const PEOPLE: [Who; 6] = [
    Who {
        label: "owner",
        email: "owner@acme.test",
        org: "acme",
        role: Role::Owner,
        access: Access::Manage,
    },
    Who {
        label: "admin",
        email: "admin@acme.test",
        org: "acme",
        role: Role::Admin,
        access: Access::Manage,
    },
    Who {
        label: "devops",
        email: "devops@acme.test",
        org: "acme",
        role: Role::Devops,
        access: Access::Manage,
    },
    Who {
        label: "viewer",
        email: "viewer@acme.test",
        org: "acme",
        role: Role::Viewer,
        access: Access::ReadOnly,
    },
    Who {
        label: "billing",
        email: "billing@acme.test",
        org: "acme",
        role: Role::Billing,
        access: Access::Nothing,
    },
    Who {
        label: "outsider",
        email: "outsider@other.test",
        org: "other",
        role: Role::Owner,
        access: Access::NotMember,
    },
];

const SHARED_NAME: &str = "Shared deploy token";

/// Markup that only managing roles may get on the list and detail pages.
const MANAGE_CONTROLS: [&str; 10] = [
    "Add token",
    "Test now",
    ">Edit",
    ">Delete",
    ">Test<",
    "/new\"",
    "/edit\"",
    "/delete\"",
    "/test\"",
    "hx-post",
];

async fn send(c: &Client, route: Route, path: &str, csrf: &str, tag: &str) -> Page {
    if route.is_post() {
        let mut form = route.form(tag);
        form.push(("csrf_token".into(), csrf.into()));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        c.post(path, &pairs).await
    } else {
        c.get(path).await
    }
}

fn token_by_name(app: &TestApp, name: &str) -> Option<GitToken> {
    let mut conn = db(app);
    git_tokens::table
        .filter(git_tokens::name.eq(name))
        .select(GitToken::as_select())
        .first(&mut *conn)
        .optional()
        .unwrap()
}

fn token_by_id(app: &TestApp, id: &str) -> Option<GitToken> {
    let mut conn = db(app);
    git_tokens::table
        .find(id)
        .select(GitToken::as_select())
        .first(&mut *conn)
        .optional()
        .unwrap()
}

#[track_caller]
fn assert_no_manage_controls(p: &Page, what: &str) {
    for control in MANAGE_CONTROLS {
        assert!(
            !p.body.contains(control),
            "{what}: a read-only page contains {control:?}:\n{}",
            p.body
        );
    }
    // The only POST form on the page is "Sign out".
    assert_eq!(
        p.body.matches("method=\"post\"").count(),
        1,
        "{what}: unexpected forms:\n{}",
        p.body
    );
    p.assert_contains("action=\"/logout\"");
}

/// A 403 page naming the roles that may do it.
#[track_caller]
fn assert_forbidden(p: &Page, what: &str, read: bool) {
    assert_eq!(p.status.as_u16(), 403, "{what}: {}", p.body);
    p.assert_contains("Not allowed")
        .assert_contains("Allowed roles")
        .assert_contains("<strong>Owner</strong>")
        .assert_contains("<strong>Admin</strong>")
        .assert_contains("<strong>DevOps</strong>")
        .assert_lacks("<strong>Billing</strong>")
        .assert_lacks(SHARED_NAME);
    if read {
        p.assert_contains("<strong>Viewer</strong>");
    } else {
        p.assert_lacks("<strong>Viewer</strong>");
    }
}

#[track_caller]
fn assert_not_found(p: &Page, what: &str, leak: &str) {
    assert_eq!(p.status.as_u16(), 404, "{what}: {}", p.body);
    p.assert_contains("Page not found")
        .assert_lacks(leak)
        .assert_lacks("Allowed roles");
}

/// What a managing role gets on each route (`id` = its own token once created).
#[track_caller]
fn assert_allowed(app: &TestApp, p: &Page, route: Route, who: &Who, id: &str) {
    let what = format!("{} {:?}", who.label, route);
    let name = format!("Token of {}", who.label);
    let status = p.status.as_u16();
    match route {
        List => {
            assert_eq!(status, 200, "{what}: {}", p.body);
            p.assert_contains("Add token").assert_contains(SHARED_NAME);
        }
        New => {
            assert_eq!(status, 200, "{what}: {}", p.body);
            p.assert_contains(&format!("action=\"{BASE}\""))
                .assert_contains("name=\"token\"")
                .assert_contains("name=\"csrf_token\"");
        }
        TestNew => {
            assert_eq!(status, 200, "{what}: {}", p.body);
            p.assert_contains("data-status=\"valid\"");
            assert!(
                token_by_name(app, &name).is_none(),
                "{what}: test must not save"
            );
        }
        CreateInvalid => {
            // Authorization passed; the form is refused with messages.
            assert_eq!(status, 422, "{what}: {}", p.body);
            p.assert_contains("name=\"token\"")
                .assert_lacks("Not allowed");
        }
        Create => {
            p.assert_redirect_to(BASE);
            let t = token_by_name(app, &name).expect("created token stored");
            assert_eq!(t.status, "valid", "{what}");
        }
        Show => {
            assert_eq!(status, 200, "{what}: {}", p.body);
            p.assert_contains(&name)
                .assert_contains("Test now")
                .assert_contains(&format!("{BASE}/{id}/edit"));
        }
        Edit => {
            assert_eq!(status, 200, "{what}: {}", p.body);
            p.assert_contains(&format!("action=\"{BASE}/{id}\""))
                .assert_contains(&name);
        }
        Update => {
            assert_eq!(status, 303, "{what}: {}", p.body);
            assert!(
                p.location().is_some_and(|l| l.starts_with(BASE)),
                "{what}: {:?}",
                p.location()
            );
            let t = token_by_id(app, id).unwrap();
            assert_eq!(
                t.description.as_deref(),
                Some(format!("edited by {}", who.label).as_str()),
                "{what}"
            );
        }
        Retest => {
            p.assert_redirect_to(&format!("{BASE}/{id}"));
            assert!(token_by_id(app, id).unwrap().last_tested_at.is_some());
        }
        DeleteConfirm => {
            assert_eq!(status, 200, "{what}: {}", p.body);
            p.assert_contains(&format!("action=\"{BASE}/{id}/delete\""))
                .assert_contains(&name);
        }
        Delete => {
            p.assert_redirect_to(BASE);
            assert!(token_by_id(app, id).is_none(), "{what}: token still stored");
        }
    }
}

#[tokio::test]
async fn role_matrix_on_every_token_route() {
    let fake = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(fake.url.clone()),
        ..Default::default()
    });
    let owner = setup_owner(&app, "acme").await;

    // A token of acme that non-managing roles aim at.
    let csrf = owner.session_csrf().await;
    owner
        .post(
            BASE,
            &[
                ("csrf_token", &csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", SHARED_NAME),
                ("token", "ghp_allscopes_shared_0001"),
                ("description", "original"),
            ],
        )
        .await
        .assert_redirect_to(BASE);
    let shared = token_by_name(&app, SHARED_NAME).unwrap();

    let mut checked = 0;
    for who in &PEOPLE {
        let c = if who.label == "owner" {
            // Same account as `owner`, a second session.
            let c = Client::new(&app);
            c.login(who.email, PASSWORD)
                .await
                .assert_redirect_to("/orgs");
            c
        } else {
            member(&app, who.org, who.email, who.role).await
        };
        let csrf = c.session_csrf().await;
        // A managing role works on its own token (created in the Create step); the others aim
        // at the shared one.
        let mut id = shared.id.clone();
        for route in ROUTES {
            let path = route.path("acme", &id);
            let what = format!("{} {:?} {path}", who.label, route);
            let p = send(&c, route, &path, &csrf, who.label).await;
            match who.access {
                Access::Manage => {
                    assert_allowed(&app, &p, route, who, &id);
                    if route == Create {
                        id = token_by_name(&app, &format!("Token of {}", who.label))
                            .unwrap()
                            .id;
                    }
                }
                Access::ReadOnly if route.is_read() => {
                    assert_eq!(p.status.as_u16(), 200, "{what}: {}", p.body);
                    p.assert_contains(SHARED_NAME);
                    if route == Show {
                        p.assert_contains(&shared.hint);
                    }
                    assert_no_manage_controls(&p, &what);
                }
                Access::ReadOnly => assert_forbidden(&p, &what, false),
                Access::Nothing => assert_forbidden(&p, &what, route.is_read()),
                Access::NotMember => assert_not_found(&p, &what, SHARED_NAME),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, PEOPLE.len() * ROUTES.len());

    // Nothing the refused users sent changed the shared token; the managers' tokens are gone.
    let after = token_by_id(&app, &shared.id).expect("shared token survives");
    assert_eq!(after.description.as_deref(), Some("original"));
    assert_eq!(after.name, SHARED_NAME);
    assert_eq!(after.updated_at, shared.updated_at);
    let mut conn = db(&app);
    let left: i64 = git_tokens::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(left, 1, "only the shared token remains");
}

#[tokio::test]
async fn other_organizations_tokens_are_404_through_any_slug() {
    let fake = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(fake.url.clone()),
        ..Default::default()
    });
    let owner = setup_owner(&app, "acme").await;
    let csrf = owner.session_csrf().await;
    owner
        .post(
            BASE,
            &[
                ("csrf_token", &csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", SHARED_NAME),
                ("token", "ghp_allscopes_acme_0001"),
            ],
        )
        .await
        .assert_redirect_to(BASE);
    let acme_token = token_by_name(&app, SHARED_NAME).unwrap();

    // The outsider owns "other" and has a token there.
    let outsider = member(&app, "other", "outsider@other.test", Role::Owner).await;
    let other_csrf = outsider.session_csrf().await;
    outsider
        .post(
            "/orgs/other/settings/git-tokens",
            &[
                ("csrf_token", &other_csrf),
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", "Other org token"),
                ("token", "ghp_allscopes_other_0001"),
            ],
        )
        .await
        .assert_redirect_to("/orgs/other/settings/git-tokens");
    let other_token = token_by_name(&app, "Other org token").unwrap();
    let requests_before = fake.requests().len();

    // Each side asks for the other side's token through its own slug (where it is Owner):
    // the id does not belong to that organization → 404, never the token.
    let sides = [
        (&outsider, "other", &other_csrf, &acme_token, SHARED_NAME),
        (&owner, "acme", &csrf, &other_token, "Other org token"),
    ];
    let mut checked = 0;
    for (c, slug, csrf, foreign, foreign_name) in sides {
        for route in ROUTES.into_iter().filter(|r| r.takes_id()) {
            let path = route.path(slug, &foreign.id);
            let what = format!("{slug} {:?} {path}", route);
            let p = send(c, route, &path, csrf, "intruder").await;
            assert_not_found(&p, &what, foreign_name);
            checked += 1;
        }
        // The "test without saving" form may name a token to edit: a foreign id is 404 too.
        let path = TestNew.path(slug, "");
        let p = c
            .post(
                &path,
                &[
                    ("csrf_token", csrf.as_str()),
                    ("token_id", foreign.id.as_str()),
                    ("provider", "github"),
                    ("hosting", "cloud"),
                    ("name", "x"),
                    ("token", ""),
                ],
            )
            .await;
        assert_not_found(
            &p,
            &format!("{slug} TestNew with foreign token_id"),
            foreign_name,
        );
        checked += 1;
    }
    assert_eq!(checked, 14);

    // And the acme URLs themselves are 404 for the outsider.
    for route in ROUTES {
        let path = route.path("acme", &acme_token.id);
        let p = send(&outsider, route, &path, &other_csrf, "intruder").await;
        assert_not_found(&p, &format!("outsider {route:?} {path}"), SHARED_NAME);
    }
    // An organization that does not exist looks the same as one you are not in.
    let p = outsider.get("/orgs/nope/settings/git-tokens").await;
    assert_not_found(&p, "unknown org", SHARED_NAME);

    // Nothing was tested, changed or deleted by the intruders.
    assert_eq!(fake.requests().len(), requests_before);
    for t in [&acme_token, &other_token] {
        let now = token_by_id(&app, &t.id).expect("token survives");
        assert_eq!(now.updated_at, t.updated_at);
        assert_eq!(now.last_tested_at, t.last_tested_at);
    }
}

#[tokio::test]
async fn htmx_requests_get_the_same_answers() {
    let app = spawn_app();
    let _owner = setup_owner(&app, "acme").await;
    let viewer = member(&app, "acme", "viewer@acme.test", Role::Viewer).await;
    let billing = member(&app, "acme", "billing@acme.test", Role::Billing).await;
    let outsider = member(&app, "other", "outsider@other.test", Role::Owner).await;

    // The provider-fields fragment is a manage route: a Viewer gets a 403 message fragment.
    let p = viewer
        .get_htmx(&format!("{BASE}/new?provider=gitlab"), "provider-fields")
        .await;
    p.assert_status(403)
        .assert_contains("Owner")
        .assert_lacks("<html");
    let p = billing.get_htmx(BASE, "main").await;
    p.assert_status(403).assert_lacks("<html");
    let p = outsider
        .get_htmx(&format!("{BASE}/new?provider=gitlab"), "provider-fields")
        .await;
    p.assert_status(404).assert_lacks("name=\"url\"");

    let csrf = viewer.session_csrf().await;
    let p = viewer
        .post_htmx(
            &format!("{BASE}/test"),
            &csrf,
            "test-result",
            &[
                ("provider", "github"),
                ("hosting", "cloud"),
                ("name", "x"),
                ("token", "ghp_allscopes_0001"),
            ],
        )
        .await;
    p.assert_status(403).assert_contains("Owner");
    assert!(p.headers.get("hx-retarget").is_some(), "{:?}", p.headers);
}

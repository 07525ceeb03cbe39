//! The inventory on screen with realistic long data (issue 13 item 10): at 1280 and 1440 px
//! every status and expiry badge is one whole pill, nothing sticks out of its cell, e-mails
//! never break inside a word (only descriptions and URLs break anywhere), and nothing scrolls
//! sideways. The same page, a token page with counted expiry badges and a 403 page with the
//! signed-in header pass the quality bar (axe, Nu checker, console; light and dark) and are
//! photographed into `target/screenshots/`.

use crate::browser::{Browser, repo_root, unavailable, with_browser};
use crate::helpers::{PASSWORD, TestApp, db, member, setup_owner, spawn_app};
use crate::quality::Checker;
use chrono::Duration;
use forgekeys::crypto::keyfile;
use forgekeys::crypto::secret_box::SecretBox;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::service::Service;
use forgekeys::db::models::token::{GitToken, name_key};
use forgekeys::db::{new_id, now};
use forgekeys::domain::role::Role;
use forgekeys::domain::test_result::{MissingPermission, TestOutcome, TestStatus};
use forgekeys::domain::token::token_hint;
use secrecy::SecretString;
use serde_json::json;

pub(crate) const OWNER: &str = "owner@acme.test";
pub(crate) const INVENTORY: &str = "/orgs/acme/settings/git-tokens/inventory";

/// (name, provider, hosting, url, workspace, description, status, days to expiry)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    TestStatus,
    Option<i64>,
);

const ROWS: [Row; 6] = [
    (
        "Deploy bot – production (eu-central-1, blue/green)",
        "github",
        "cloud",
        None,
        None,
        Some(
            "Used by the Helm release pipeline of every customer-facing service in the production clusters; rotate together with the ArgoCD repository credentials.",
        ),
        TestStatus::Valid,
        Some(200),
    ),
    (
        "GitHub Enterprise mirror",
        "github",
        "self_hosted",
        Some("https://github.enterprise-mirror.platform-engineering.example-corporation.com"),
        None,
        Some("Mirrors the monorepo for the air-gapped build farm."),
        TestStatus::MissingPermissions,
        Some(12),
    ),
    (
        "GitLab self-managed runners",
        "gitlab",
        "self_hosted",
        Some("https://gitlab.internal.build-infrastructure.example-corporation.com/gitlab"),
        None,
        Some("Group token for the shared runners; Maintainer on platform/* and infra/*."),
        TestStatus::Invalid,
        Some(400),
    ),
    (
        "GitLab.com docs site",
        "gitlab",
        "cloud",
        None,
        None,
        None,
        TestStatus::Expired,
        Some(-3),
    ),
    (
        "Bitbucket pipelines – legacy monolith",
        "bitbucket",
        "cloud",
        None,
        Some("acme-legacy-monolith-workspace"),
        Some(
            "Old Jenkins job; replace before the migration to GitHub Actions is finished, see PLAT-1234 and PLAT-1301.",
        ),
        TestStatus::Unreachable,
        None,
    ),
    (
        "Renovate bot",
        "github",
        "cloud",
        None,
        None,
        Some("Dependency updates for all repositories."),
        TestStatus::NotTested,
        Some(5),
    ),
];

fn scopes(provider: &str) -> Vec<String> {
    let s: &[&str] = match provider {
        "github" => &["repo", "admin:repo_hook", "read:org", "workflow"],
        "gitlab" => &["api", "read_repository", "write_repository"],
        _ => &["repository:write", "pullrequest:write", "webhook"],
    };
    s.iter().map(|s| s.to_string()).collect()
}

/// `n` tokens cycling through six realistic kinds (long names, descriptions, self-hosted
/// URLs, e-mail accounts and authors, scopes, services), straight into the database; the
/// secrets sealed as the app seals them. Returns the stored rows.
pub(crate) fn seed_long(app: &TestApp, n: usize) -> Vec<GitToken> {
    let mut conn = db(app);
    let org = Organization::find_by_slug(&mut conn, "acme")
        .unwrap()
        .unwrap();
    let sb = SecretBox::new(keyfile::load(&app.key_file).unwrap()).unwrap();
    let at = now();
    (0..n)
        .map(|i| {
            let (name, provider, hosting, url, ws, desc, status, days) = ROWS[i % ROWS.len()];
            let name = if i < ROWS.len() {
                name.to_string()
            } else {
                format!("{name} #{}", i / ROWS.len() + 1)
            };
            let id = new_id();
            let secret = format!("ghp_LayoutSeedValue{i:04}");
            let (blob, key_id) = sb
                .seal_token(&id, &SecretString::from(secret.clone()))
                .unwrap();
            let account = format!("platform-automation-account-{i}@example-corporation.com");
            let tested = (status != TestStatus::NotTested).then(|| at - Duration::hours(3));
            let last_test = tested.map(|t| {
                let mut o = TestOutcome::failed(status, "seeded");
                o.reason = None;
                o.account = Some(account.clone());
                o.scopes = scopes(provider);
                if status == TestStatus::MissingPermissions {
                    o.missing = vec![MissingPermission {
                        name: "admin:repo_hook".into(),
                        fix: "Add the admin:repo_hook scope".into(),
                    }];
                }
                o.tested_at = t.and_utc();
                serde_json::to_string(&o).unwrap()
            });
            let t = GitToken {
                id,
                org_id: org.id.clone(),
                name_key: name_key(&name),
                name,
                provider: provider.into(),
                hosting: hosting.into(),
                url: url.map(Into::into),
                workspace: ws.map(Into::into),
                description: desc.map(Into::into),
                secret: blob,
                key_id,
                hint: token_hint(&secret),
                status: status.as_str().into(),
                last_tested_at: tested,
                account: Some(account),
                expires_at: days.map(|d| at + Duration::days(d) + Duration::hours(2)),
                expiry_source: Some("admin".into()),
                last_test,
                created_by: Some("platform-engineering-lead@example-corporation.com".into()),
                created_at: at - Duration::days(40),
                updated_by: Some("site-reliability-oncall@example-corporation.com".into()),
                updated_at: at - Duration::days(2),
                rotated_at: (i % 4 == 1).then(|| at - Duration::days(20)),
                username: None,
                identity_key: None,
                version: 1,
                previous_hint: None,
                previous_kind: None,
            };
            GitToken::insert(&mut conn, &t).unwrap();
            if i % 3 != 2 {
                for s in ["billing-api-production-eu", "customer-portal-frontend"] {
                    Service::insert(
                        &mut conn,
                        &Service {
                            id: new_id(),
                            org_id: org.id.clone(),
                            name: format!("{s}-{i}"),
                            kind: "application".into(),
                            provider: provider.into(),
                            access: "token".into(),
                            token_id: Some(t.id.clone()),
                            repository: "acme/app".into(),
                            branch: "main".into(),
                            created_at: at,
                            updated_at: at,
                            name_key: String::new(),
                        },
                    )
                    .unwrap();
                }
            }
            t
        })
        .collect()
}

/// Problems of the inventory table's layout (empty = fits): the document or the table frame
/// scrolls sideways; a badge is not one pill on one line; an element sticks out of its cell; a
/// text outside `.anywhere` (descriptions, URLs) breaks a line between two letters of a word
/// (e-mail addresses: letters, digits, `@ . _ :`). Runs on screen and under print emulation.
pub(crate) const TABLE_FITS: &str = r#"
const out = [];
const W = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > W) out.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${W}`);
const table = document.querySelector('table.inventory-table');
if (!table) return ['no inventory table'];
const wrap = table.closest('.table-wrap');
if (wrap.scrollWidth > wrap.clientWidth + 1) {
  const cols = Array.from(table.querySelectorAll('thead th')).map(th => `${th.textContent.trim()}=${Math.round(th.getBoundingClientRect().width)}`);
  out.push(`table frame scrolls: ${wrap.scrollWidth} > ${wrap.clientWidth} (${cols.join(', ')})`);
}
const lines = el => {
  const r = document.createRange();
  r.selectNodeContents(el);
  const tops = new Set();
  for (const b of r.getClientRects()) if (b.width > 0) tops.add(Math.round(b.top));
  return tops.size;
};
let badges = 0;
for (const b of table.querySelectorAll('.badge')) {
  badges++;
  const pieces = b.getClientRects().length;
  if (pieces !== 1) out.push(`badge "${b.textContent}" in ${pieces} pieces`);
  if (lines(b) !== 1) out.push(`badge "${b.textContent}" wraps onto ${lines(b)} lines`);
  if (b.scrollWidth > b.clientWidth + 1) out.push(`badge "${b.textContent}" cut`);
}
if (badges === 0) out.push('no badges');
for (const cell of table.querySelectorAll('th, td')) {
  const c = cell.getBoundingClientRect();
  if (cell.scrollWidth > cell.clientWidth + 1) out.push(`cell "${cell.textContent.slice(0, 40)}" overflows (${cell.scrollWidth} > ${cell.clientWidth})`);
  for (const el of cell.querySelectorAll('*')) {
    for (const r of el.getClientRects()) {
      if (r.width === 0) continue;
      if (r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5) {
        out.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent.slice(0, 40)}" sticks out of its cell (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(c.left)}..${Math.round(c.right)})`);
      }
    }
  }
}
const word = /[\p{L}\p{N}@._:]/u;
const walker = document.createTreeWalker(table.tBodies[0], NodeFilter.SHOW_TEXT);
const range = document.createRange();
let emails = 0;
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (n.parentElement.closest('.anywhere')) continue;
  const s = n.textContent;
  if (s.includes('@')) emails++;
  let prevTop = null;
  for (let i = 0; i < s.length; i++) {
    range.setStart(n, i); range.setEnd(n, i + 1);
    const r = range.getClientRects()[0];
    if (!r || r.width === 0) continue;
    const top = Math.round(r.top);
    if (prevTop !== null && top > prevTop + 2 && i > 0 && word.test(s[i - 1]) && word.test(s[i])) {
      out.push(`"${s}" breaks inside a word: "${s.slice(Math.max(0, i - 12), i)}|${s.slice(i, i + 12)}"`);
      break;
    }
    prevTop = top;
  }
}
if (emails === 0) out.push('no e-mail addresses checked');
return out.slice(0, 12);
"#;

fn axe_source() -> Option<String> {
    let path = repo_root().join("node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .ok()
        .or_else(|| unavailable(&format!("{} is missing (run `npm ci`)", path.display())))
}

#[tokio::test]
async fn inventory_fits_with_whole_pills_and_unbroken_emails_at_desktop_widths() {
    let Some(axe) = axe_source() else { return };
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let tokens = seed_long(&app, 6);
    member(&app, "acme", "viewer@acme.test", Role::Viewer).await;
    let expiring = tokens[1].id.clone(); // 12 days left
    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        for width in [1280u32, 1440] {
            b.set_width((width, 900)).await;
            b.goto(INVENTORY).await;
            b.wait_for("table.inventory-table tr[data-token-id]").await;
            let problems = b.js(TABLE_FITS, vec![]).await;
            assert_eq!(problems, json!([]), "at {width} px");
            b.screenshot(&format!("inventory-long-{width}")).await;
        }
        b.set_width(crate::browser::NARROW).await;
        b.js(
            "document.querySelector('tr[data-token-id]').scrollIntoView(); return 1;",
            vec![],
        )
        .await;
        b.screenshot("inventory-long-375-rows").await;
        b.set_width(crate::browser::DESKTOP).await;
        // The counted expiry: relative words, the exact UTC time on hover, the date for paper.
        let t = b
            .js(
                "const t = document.querySelector(`tr[data-token-id='${arguments[0]}'] .badge time`); return [t.textContent, t.title, t.getAttribute('datetime')];",
                vec![json!(expiring)],
            )
            .await;
        assert_eq!(t[0], json!("Expires in 12 days"), "{t}");
        assert!(t[1].as_str().unwrap().ends_with(" UTC"), "{t}");
        assert!(t[2].as_str().unwrap().ends_with('Z'), "{t}");

        let mut q = Checker::in_dir(b, axe, "inventory-layout");
        q.visit("inventory-long", INVENTORY, 200).await;
        q.visit(
            "token-expiring",
            &format!("/orgs/acme/settings/git-tokens/{expiring}"),
            200,
        )
        .await;
        b.logout().await;
        b.login("viewer@acme.test", PASSWORD).await;
        q.visit(
            "forbidden-signed-in",
            "/orgs/acme/settings/git-tokens/new",
            403,
        )
        .await;
        assert_eq!(
            b.count("header form[action='/logout'] input[name='csrf_token']")
                .await,
            1,
            "the 403 page has the sign-out form"
        );
        q.validate_html();
        assert!(
            q.problems.is_empty(),
            "{} page-quality problems:\n{}",
            q.problems.len(),
            q.problems.join("\n")
        );
        // Signing out from the 403 page works: the session is gone.
        b.click_and_load("header form[action='/logout'] button").await;
        assert_eq!(b.path().await, "/login");
        b.goto(INVENTORY).await;
        assert_eq!(b.path().await, "/login", "signed out");
    })
    .await;
}

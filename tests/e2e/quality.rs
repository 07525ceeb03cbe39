//! Page quality over the main pages, in a real browser:
//! - no console errors or warnings (CSP violations, failed loads, script errors);
//! - nothing sticks out or scrolls sideways at 375 px;
//! - axe-core (WCAG 2.0/2.1/2.2 A and AA rules) finds no `serious` or `critical` violation, at
//!   desktop width and at 375 px;
//! - the HTML the server sent is valid HTML5 (Nu Html Checker, `vnu.jar`).
//!
//! Every problem is collected and reported at the end, so one run shows all of them. The server's
//! HTML, the vnu report and screenshots land in `FORGEKEYS_E2E_OUT` (default `/tmp/forgekeys-e2e`).

use crate::browser::{Browser, DESKTOP, NARROW, out_dir, repo_root, unavailable, with_browser};
use crate::fakes;
use crate::helpers::{Options, PASSWORD, member, setup_owner, spawn_app_with};
use forgekeys::domain::role::Role;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

const OWNER: &str = "owner@acme.test";
const TOKENS: &str = "/orgs/acme/settings/git-tokens";
const AXE_TAGS: [&str; 6] = [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa",
];

const AXE_RUN: &str = r#"
const [tags] = arguments;
const done = arguments[arguments.length - 1];
axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then(r => done(r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + '  ' + n.html.slice(0, 160)
      + (n.failureSummary ? '\n        ' + n.failureSummary.replace(/\n/g, ' ') : ''))
  }))))
  .catch(e => done({ error: String(e) }));
"#;

/// Everything that sticks out of, or scrolls inside, a narrow viewport.
const OVERFLOW: &str = r#"
const W = document.documentElement.clientWidth;
const out = [];
const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
  + (el.classList.length ? '.' + Array.from(el.classList).join('.') : '');
if (document.documentElement.scrollWidth > W) {
  out.push(`the document is ${document.documentElement.scrollWidth}px wide (viewport ${W}px)`);
}
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('.visually-hidden, .skip-link')) continue;
  const cs = getComputedStyle(el);
  if (cs.display === 'none' || cs.visibility === 'hidden') continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if ((cs.overflowX === 'auto' || cs.overflowX === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
    out.push(`${name(el)} scrolls sideways (${el.scrollWidth}px of content in ${el.clientWidth}px)`);
  }
  if (r.right > W + 1 || r.left < -1) {
    // Report the outermost offender only, and nothing inside a frame that clips or scrolls
    // (the frame is reported above when it scrolls).
    let clipped = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
    }
    const p = el.parentElement;
    const pr = p ? p.getBoundingClientRect() : null;
    if (!clipped && (!pr || (pr.right <= W + 1 && pr.left >= -1))) {
      out.push(`${name(el)} sticks out (${Math.round(r.left)}..${Math.round(r.right)}px): ${el.outerHTML.slice(0, 120)}`);
    }
  }
}
return out.slice(0, 8);
"#;

/// The raw HTML the server sends for the current URL (GET), as `[status, text]`.
const FETCH_CURRENT: &str = r#"
const done = arguments[arguments.length - 1];
fetch(location.href, { credentials: 'same-origin' })
  .then(r => r.text().then(t => done([r.status, t])))
  .catch(e => done([0, String(e)]));
"#;

/// POST a form as the browser would (its fields plus the submitter's), returning
/// `[status, text]` of the raw answer; then give the form the submitter's action, so a plain
/// `form.submit()` afterwards sends the same request as a page load.
const FETCH_FORM: &str = r#"
const [formSel, btnSel] = arguments;
const done = arguments[arguments.length - 1];
const form = document.querySelector(formSel);
const btn = btnSel ? document.querySelector(btnSel) : null;
const data = new FormData(form, btn);
const action = (btn && btn.getAttribute('formaction')) || form.getAttribute('action');
form.setAttribute('action', action);
fetch(action, { method: 'POST', body: new URLSearchParams(data), credentials: 'same-origin' })
  .then(r => r.text().then(t => done([r.status, t])))
  .catch(e => done([0, String(e)]));
"#;

pub(crate) struct Checker<'a> {
    b: &'a Browser,
    axe: String,
    pub(crate) problems: Vec<String>,
    pub(crate) saved: Vec<PathBuf>,
    pages_dir: PathBuf,
}

impl<'a> Checker<'a> {
    fn new(b: &'a Browser, axe: String) -> Checker<'a> {
        Checker::in_dir(b, axe, "pages")
    }

    /// A checker saving the server's HTML under `FORGEKEYS_E2E_OUT/<dir>` (one folder per test,
    /// so tests running at once do not clear each other's pages).
    pub(crate) fn in_dir(b: &'a Browser, axe: String, dir: &str) -> Checker<'a> {
        let pages_dir = out_dir().join(dir);
        let _ = std::fs::remove_dir_all(&pages_dir);
        std::fs::create_dir_all(&pages_dir).unwrap();
        Checker {
            b,
            axe,
            problems: Vec::new(),
            saved: Vec::new(),
            pages_dir,
        }
    }

    fn problem(&mut self, page: &str, what: String) {
        self.problems.push(format!("[{page}] {what}"));
    }

    async fn loaded(&self) {
        self.b
            .wait_until(
                "the page to load",
                "return document.readyState === 'complete';",
            )
            .await;
    }

    /// Console problems, minus the one expected for the document itself (a 4xx status).
    async fn console(&mut self, page: &str, status: u16) {
        let expected = format!("the server responded with a status of {status}");
        for msg in self.b.console_problems().await {
            if status >= 400 && msg.contains(&expected) {
                continue;
            }
            self.problem(page, format!("console: {msg}"));
        }
    }

    async fn axe(&mut self, page: &str, width: &str) {
        let loaded = self
            .b
            .js(&format!("{}\n;return typeof window.axe;", self.axe), vec![])
            .await;
        assert_eq!(loaded, json!("object"), "axe-core did not load");
        let res = self
            .b
            .client
            .execute_async(AXE_RUN, vec![json!(AXE_TAGS)])
            .await
            .unwrap_or_else(|e| panic!("axe on {page}: {e}"));
        if let Some(err) = res.get("error") {
            panic!("axe failed on {page}: {err}");
        }
        for v in res.as_array().cloned().unwrap_or_default() {
            let impact = v["impact"].as_str().unwrap_or("");
            let line = format!(
                "axe {impact} {} at {width}: {}\n      {}",
                v["id"].as_str().unwrap_or(""),
                v["help"].as_str().unwrap_or(""),
                v["nodes"]
                    .as_array()
                    .map(|n| n
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("\n      "))
                    .unwrap_or_default()
            );
            if impact == "serious" || impact == "critical" {
                self.problem(page, line);
            } else {
                eprintln!("note [{page}] {line}");
            }
        }
    }

    async fn overflow(&mut self, page: &str, width: &str) {
        let overflow = self.b.js(OVERFLOW, vec![]).await;
        for o in overflow.as_array().cloned().unwrap_or_default() {
            self.problem(page, format!("at {width}: {}", o.as_str().unwrap_or("")));
        }
    }

    /// Check the page the browser shows now; `raw` is the HTML the server sent for it (fetched
    /// again with GET when `None`).
    pub(crate) async fn check(&mut self, page: &str, status: u16, raw: Option<(u16, String)>) {
        self.loaded().await;
        self.console(page, status).await;
        self.axe(page, "1280px").await;
        self.overflow(page, "1280px").await;
        self.b.set_width(NARROW).await;
        self.overflow(page, "375px").await;
        self.axe(page, "375px").await;
        self.b.set_width(DESKTOP).await;
        // Dark mode (the system setting, emulated): the same rules, contrast above all.
        crate::screens::set_dark(self.b, true).await;
        self.axe(page, "1280px dark").await;
        crate::screens::set_dark(self.b, false).await;
        crate::screens::shoot(self.b, page).await;
        self.console(page, status).await;
        let (got, html) = match raw {
            Some(r) => r,
            None => {
                let r = self
                    .b
                    .client
                    .execute_async(FETCH_CURRENT, vec![])
                    .await
                    .expect("fetch the page's HTML");
                (
                    r[0].as_u64().unwrap_or(0) as u16,
                    r[1].as_str().unwrap_or("").to_string(),
                )
            }
        };
        self.b.console().await; // the re-fetch of a 4xx page logs it again
        assert_eq!(got, status, "[{page}] unexpected status; body:\n{html}");
        assert!(
            html.starts_with("<!DOCTYPE html>"),
            "[{page}] not a whole page:\n{html}"
        );
        let path = self.pages_dir.join(format!("{page}.html"));
        std::fs::write(&path, html).unwrap();
        self.saved.push(path);
    }

    /// Open a page and check it. The server's HTML is fetched first and the page loaded again
    /// afterwards, so the form the browser shows matches the latest cookies (the setup page
    /// issues a new CSRF cookie on every load).
    pub(crate) async fn visit(&mut self, page: &str, path: &str, status: u16) {
        self.b.goto(path).await;
        let r = self
            .b
            .client
            .execute_async(FETCH_CURRENT, vec![])
            .await
            .expect("fetch the page's HTML");
        let raw = (
            r[0].as_u64().unwrap_or(0) as u16,
            r[1].as_str().unwrap_or("").to_string(),
        );
        self.b.goto(path).await;
        self.check(page, status, Some(raw)).await;
    }

    /// Submit a form without JavaScript's help (a real page load), then check the answer.
    pub(crate) async fn submit(
        &mut self,
        page: &str,
        form: &str,
        button: Option<&str>,
        status: u16,
    ) {
        let raw = self
            .b
            .client
            .execute_async(FETCH_FORM, vec![json!(form), json!(button)])
            .await
            .expect("post the form");
        let raw = (
            raw[0].as_u64().unwrap_or(0) as u16,
            raw[1].as_str().unwrap_or("").to_string(),
        );
        self.b.console().await;
        self.b.mark_window().await;
        self.b
            .js(
                "HTMLFormElement.prototype.submit.call(document.querySelector(arguments[0])); return true;",
                vec![json!(form)],
            )
            .await;
        self.b
            .wait_until(
                "the submitted form's answer",
                "return window.__fk === undefined && document.readyState === 'complete';",
            )
            .await;
        self.check(page, status, Some(raw)).await;
    }

    /// Run the Nu Html Checker over every saved page and the stylesheets.
    pub(crate) fn validate_html(&mut self) {
        let jar = repo_root().join("node_modules/vnu-jar/build/dist/vnu.jar");
        let java = crate::browser::find_program("JAVA", &["java"]);
        let (Some(java), true) = (java, jar.is_file()) else {
            unavailable::<()>(
                "the HTML checker needs java and node_modules/vnu-jar (run `npm ci`)",
            );
            return;
        };
        let out = Command::new(java)
            .arg("-jar")
            .arg(&jar)
            .args([
                "--errors-only",
                "--also-check-css",
                "--format",
                "json",
                "--stdout",
            ])
            .args(&self.saved)
            .arg(repo_root().join("static/app.css"))
            .arg(repo_root().join("static/print.css"))
            .output()
            .expect("run vnu.jar");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "vnu.jar output is not JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        std::fs::write(
            out_dir().join("vnu.json"),
            serde_json::to_vec_pretty(&report).unwrap(),
        )
        .unwrap();
        for m in report["messages"].as_array().cloned().unwrap_or_default() {
            let file = m["url"].as_str().unwrap_or("");
            let page = file
                .rsplit('/')
                .next()
                .unwrap_or(file)
                .trim_end_matches(".html")
                .to_string();
            self.problem(
                &page,
                format!(
                    "vnu {} line {}: {}  «{}»",
                    m["type"].as_str().unwrap_or(""),
                    m["lastLine"],
                    m["message"].as_str().unwrap_or(""),
                    m["extract"].as_str().unwrap_or("").trim()
                ),
            );
        }
        assert!(
            out.status.success() || !self.problems.is_empty(),
            "vnu.jar failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Fill and save a token through the add form (with JavaScript, as a user would).
async fn add_token(b: &Browser, provider: &str, name: &str, token: &str, extra: &[(&str, &str)]) {
    b.goto(&format!("{TOKENS}/new?provider={provider}")).await;
    b.wait_for(&format!(".how-to[data-provider='{provider}']"))
        .await;
    b.fill("#name", name).await;
    b.fill("#token", token).await;
    for (field, value) in extra {
        b.fill(&format!("#{field}"), value).await;
    }
    b.click_and_load("#token-form .buttons button.primary")
        .await;
    assert_eq!(b.path().await, TOKENS, "{name} was saved");
}

#[tokio::test]
async fn main_pages_meet_the_quality_bar() {
    let axe_path = repo_root().join("node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&axe_path) else {
        unavailable::<()>(&format!("{} is missing (run `npm ci`)", axe_path.display()));
        return;
    };
    let github = fakes::github::start();
    let gitlab = fakes::gitlab::start();
    let bitbucket = fakes::bitbucket::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(github.url.clone()),
        gitlab_url: Some(gitlab.url.clone()),
        bitbucket_api_url: Some(fakes::bitbucket::api_url(&bitbucket)),
        ..Default::default()
    });
    let setup_path = app
        .setup_url
        .clone()
        .expect("setup url")
        .trim_start_matches(&app.address)
        .to_string();
    let app = &app;
    with_browser(&app.address, async |b: &Browser| {
        let mut q = Checker::new(b, axe);

        // Before anyone exists: the setup page, and its answer to an empty form.
        q.visit("setup", &setup_path, 200).await;
        q.submit("setup-errors", "form[action='/setup']", None, 422)
            .await;
        setup_owner(app, "acme").await;

        q.visit("login", "/login", 200).await;
        b.fill("#email", OWNER).await;
        b.fill("#password", "not the password").await;
        b.console().await;
        q.submit("login-failed", "form[action='/login']", None, 401)
            .await;
        assert_eq!(b.count("#login-error").await, 1, "a failed login says so");

        b.login(OWNER, PASSWORD).await;
        q.check("orgs", 200, None).await;
        q.visit("tokens-empty", TOKENS, 200).await;
        q.visit("inventory-empty", &format!("{TOKENS}/inventory"), 200)
            .await;
        q.visit("new-github", &format!("{TOKENS}/new"), 200).await;
        b.screenshot_full("add-form-desktop", DESKTOP.0).await;
        b.screenshot_full("add-form-375", NARROW.0).await;
        q.visit(
            "new-github-enterprise",
            &format!("{TOKENS}/new?provider=github&hosting=self_hosted"),
            200,
        )
        .await;
        q.visit("new-gitlab", &format!("{TOKENS}/new?provider=gitlab"), 200)
            .await;
        q.visit(
            "new-gitlab-self-managed",
            &format!("{TOKENS}/new?provider=gitlab&hosting=self_hosted"),
            200,
        )
        .await;
        q.visit(
            "new-bitbucket",
            &format!("{TOKENS}/new?provider=bitbucket"),
            200,
        )
        .await;

        // The form with every error shown, and the no-JS "Test without saving" answer.
        q.submit("new-errors", "#token-form", None, 422).await;
        b.screenshot_full("add-form-errors-desktop", DESKTOP.0)
            .await;
        b.goto(&format!("{TOKENS}/new")).await;
        b.fill("#name", "Repo only").await;
        b.fill("#token", "ghp_repoonly-e2e").await;
        q.submit(
            "new-tested-missing-permissions",
            "#token-form",
            Some("#token-form .buttons button[formaction]"),
            200,
        )
        .await;
        // The same test through HTMX: the result panel appears in place.
        b.goto(&format!("{TOKENS}/new")).await;
        b.fill("#name", "Repo only").await;
        b.fill("#token", "ghp_repoonly-e2e").await;
        b.click("#token-form .buttons button[formaction]").await;
        b.wait_for("#test-result .result[data-status='missing_permissions']")
            .await;
        q.check("new-tested-htmx", 200, None).await;
        b.screenshot_full("add-form-result-desktop", DESKTOP.0)
            .await;
        b.screenshot_full("add-form-result-375", NARROW.0).await;

        // Fill the list: one token per provider, and one saved despite missing permissions.
        add_token(
            b,
            "github",
            "Deploy bot – production",
            "ghp_allscopes-e2e",
            &[],
        )
        .await;
        add_token(b, "gitlab", "GitLab group runner", "glpat-owner-e2e", &[]).await;
        add_token(
            b,
            "bitbucket",
            "Bitbucket pipelines",
            "bb_valid-e2e",
            &[("workspace", "acme")],
        )
        .await;
        b.goto(&format!("{TOKENS}/new")).await;
        b.fill("#name", "Legacy CI (repo only)").await;
        b.fill("#token", "ghp_repoonly-e2e").await;
        b.fill(
            "#description",
            "Old Jenkins job; replace before the migration",
        )
        .await;
        q.submit("new-save-anyway-offered", "#token-form", None, 422)
            .await;
        assert_eq!(b.count("#save_anyway").await, 1, "saving anyway is offered");
        b.fill("#token", "ghp_repoonly-e2e").await;
        b.click_and_load("#save_anyway").await;
        assert_eq!(b.count("tr[data-token-id]").await, 4, "four tokens saved");

        q.check("tokens-filled", 200, None).await;
        b.screenshot_full("token-list-desktop", DESKTOP.0).await;
        b.screenshot_full("token-list-375", NARROW.0).await;
        b.set_width(NARROW).await;
        b.js(
            "document.querySelector('table').scrollIntoView(); return 1;",
            vec![],
        )
        .await;
        b.screenshot("token-list-375-viewport").await;
        b.set_width(DESKTOP).await;
        q.visit("inventory", &format!("{TOKENS}/inventory"), 200)
            .await;
        b.screenshot_full("inventory-desktop", DESKTOP.0).await;
        b.screenshot_full("inventory-375", NARROW.0).await;
        q.visit(
            "inventory-filtered-none",
            &format!("{TOKENS}/inventory?q=nothing-matches&status=invalid"),
            200,
        )
        .await;
        q.visit(
            "tokens-filtered-none",
            &format!("{TOKENS}?q=nothing-matches&provider=gitlab&status=invalid"),
            200,
        )
        .await;

        b.goto(TOKENS).await;
        let id = b
            .find("tr[data-status='missing_permissions']")
            .await
            .attr("data-token-id")
            .await
            .unwrap()
            .unwrap();
        q.visit("detail", &format!("{TOKENS}/{id}"), 200).await;
        b.screenshot_full("detail-desktop", DESKTOP.0).await;
        q.visit("edit", &format!("{TOKENS}/{id}/edit"), 200).await;
        b.fill("#name", " ").await;
        q.submit("edit-errors", "#token-form", None, 422).await;
        q.visit("delete", &format!("{TOKENS}/{id}/delete"), 200)
            .await;
        // The pages around a token, and the confirmation steps of issue 13.
        b.goto(TOKENS).await;
        let gl = b
            .js(
                "return Array.from(document.querySelectorAll('tr[data-token-id]')).find(r => r.textContent.includes('GitLab group runner')).dataset.tokenId;",
                vec![],
            )
            .await;
        let gl = gl.as_str().expect("the GitLab token's row").to_string();
        q.visit("rotate-gitlab", &format!("{TOKENS}/{gl}/rotate"), 200)
            .await;
        q.visit(
            "confirm-rotate-at-provider",
            &format!("{TOKENS}/{gl}/rotate-at-provider?expires_on="),
            200,
        )
        .await;
        // A rotation by hand, and its success page (the reminder names the old value's hint).
        b.goto(&format!("{TOKENS}/{gl}/rotate")).await;
        b.fill("#token", "glpat-owner-e2e-rotated").await;
        b.click_and_load("#rotate-form button[type=submit]").await;
        q.check("rotate-done", 200, None).await;
        assert_eq!(b.count("#rotation-done #revoke-reminder code").await, 1);
        q.visit("services-empty", "/orgs/acme/services", 200).await;
        q.visit("notifications", "/orgs/acme/settings/notifications", 200)
            .await;
        q.visit(
            "confirm-webhook-remove",
            "/orgs/acme/settings/notifications/remove",
            200,
        )
        .await;
        q.visit("audit", "/orgs/acme/audit", 200).await;
        q.visit("api-keys", "/orgs/acme/settings/api-keys", 200)
            .await;
        q.visit("not-found", "/no-such-page", 404).await;
        q.visit(
            "not-found-token",
            &format!("{TOKENS}/00000000-0000-0000-0000-000000000000"),
            404,
        )
        .await;
        q.visit("not-found-org", "/orgs/nope/settings/git-tokens", 404)
            .await;

        // Other roles: the read-only list, and the 403 page that names the allowed roles.
        member(app, "acme", "viewer@acme.test", Role::Viewer).await;
        member(app, "acme", "billing@acme.test", Role::Billing).await;
        b.logout().await;
        b.login("viewer@acme.test", PASSWORD).await;
        q.visit("tokens-viewer", TOKENS, 200).await;
        b.logout().await;
        b.login("billing@acme.test", PASSWORD).await;
        q.visit("forbidden", TOKENS, 403).await;

        let pages = q.saved.len();
        q.validate_html();
        eprintln!(
            "checked {pages} pages; HTML, vnu.json and screenshots in {}",
            out_dir().display()
        );
        assert!(pages >= 29, "only {pages} pages were checked");
        assert!(
            q.problems.is_empty(),
            "{} page-quality problems:\n{}",
            q.problems.len(),
            q.problems.join("\n")
        );
    })
    .await;
}

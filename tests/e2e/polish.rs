//! Issue 13 in a real browser: the token list fits its frame at desktop widths with realistic
//! rows, a refused save shows its verdict in the first screen with focus on it and saves
//! anyway in one more submit, and the Test buttons show a busy state.

use crate::browser::{Browser, with_browser};
use crate::fakes;
use crate::helpers::{Options, PASSWORD, TestApp, db, setup_owner, spawn_app_with};
use forgekeys::crypto::keyfile;
use forgekeys::crypto::secret_box::SecretBox;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::token::{GitToken, name_key};
use forgekeys::db::{new_id, now};
use forgekeys::domain::token::token_hint;
use secrecy::SecretString;
use serde_json::{Value, json};

const OWNER: &str = "owner@acme.test";
pub const TOKENS: &str = "/orgs/acme/settings/git-tokens";

/// (name, provider, hosting, url, workspace, description, status, days to expiry)
type Seed = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    Option<i64>,
);

const SIX: [Seed; 6] = [
    (
        "Deploy bot – production (eu-central-1, blue/green)",
        "github",
        "cloud",
        None,
        None,
        Some(
            "Used by the Helm release pipeline of every customer-facing service in the production clusters; rotate together with the ArgoCD repository credentials and tell #platform-oncall.",
        ),
        "valid",
        Some(200),
    ),
    (
        "GitHub Enterprise mirror",
        "github",
        "self_hosted",
        Some("https://github.enterprise-mirror.platform-engineering.example-corporation.com"),
        None,
        Some("Mirrors the monorepo for the air-gapped build farm."),
        "missing_permissions",
        Some(12),
    ),
    (
        "GitLab self-managed runners",
        "gitlab",
        "self_hosted",
        Some("https://gitlab.internal.build-infrastructure.example-corporation.com/gitlab"),
        None,
        Some("Group token for the shared runners; Maintainer on platform/* and infra/*."),
        "invalid",
        Some(400),
    ),
    (
        "GitLab.com docs site",
        "gitlab",
        "cloud",
        None,
        None,
        None,
        "expired",
        Some(-3),
    ),
    (
        "Bitbucket pipelines – legacy monolith",
        "bitbucket",
        "cloud",
        None,
        Some("acme-legacy-monolith-workspace"),
        Some(
            "Old Jenkins job; replace before the migration to GitHub Actions is finished next quarter, see PLAT-1234, PLAT-1240 and PLAT-1301.",
        ),
        "unreachable",
        None,
    ),
    (
        "Renovate bot",
        "github",
        "cloud",
        None,
        None,
        Some("Dependency updates for all repositories."),
        "not_tested",
        Some(5),
    ),
];

/// Six realistic tokens straight into the database (sealed as the app seals them).
pub fn seed_six(app: &TestApp) {
    let mut conn = db(app);
    let org = Organization::find_by_slug(&mut conn, "acme")
        .unwrap()
        .unwrap();
    let sb = SecretBox::new(keyfile::load(&app.key_file).unwrap()).unwrap();
    for (i, (name, provider, hosting, url, ws, desc, status, days)) in SIX.into_iter().enumerate() {
        let id = new_id();
        let secret = format!("ghp_PolishSeed{i:04}abcd");
        let (blob, key_id) = sb
            .seal_token(&id, &SecretString::from(secret.clone()))
            .unwrap();
        let n = now();
        let t = GitToken {
            id,
            org_id: org.id.clone(),
            name_key: name_key(name),
            name: name.into(),
            provider: provider.into(),
            hosting: hosting.into(),
            url: url.map(Into::into),
            workspace: ws.map(Into::into),
            description: desc.map(Into::into),
            secret: blob,
            key_id,
            hint: token_hint(&secret),
            status: status.into(),
            last_tested_at: (status != "not_tested").then(|| n - chrono::Duration::hours(3)),
            account: Some(format!(
                "platform-automation-account-{i}@example-corporation.com"
            )),
            expires_at: days.map(|d| n + chrono::Duration::days(d)),
            expiry_source: Some("admin".into()),
            last_test: None,
            created_by: Some(OWNER.into()),
            created_at: n - chrono::Duration::days(30),
            updated_by: Some(OWNER.into()),
            updated_at: n,
            rotated_at: None,
            username: None,
            identity_key: None,
            version: 1,
            previous_hint: None,
            previous_kind: None,
        };
        GitToken::insert(&mut conn, &t).unwrap();
    }
}

/// Every control of every list row inside the table frame and the viewport, nothing scrolling
/// sideways, and the last test on one line.
const FITS: &str = r#"
const out = [];
const W = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > W) out.push(`document scrollWidth ${document.documentElement.scrollWidth} > ${W}`);
const wrap = document.querySelector('.table-wrap');
if (!wrap) return ['no table'];
if (wrap.scrollWidth > wrap.clientWidth + 1) {
  const cols = Array.from(wrap.querySelectorAll('thead th')).map(th => `${th.textContent.trim() || 'actions'}=${Math.round(th.getBoundingClientRect().width)}`);
  out.push(`table frame scrolls: ${wrap.scrollWidth} > ${wrap.clientWidth} (${cols.join(', ')})`);
}
const f = wrap.getBoundingClientRect();
const rows = document.querySelectorAll('tr[data-token-id]');
if (rows.length < 6) out.push(`only ${rows.length} rows`);
for (const row of rows) {
  for (const c of row.querySelectorAll('a, button')) {
    const r = c.getBoundingClientRect();
    if (r.width === 0) { out.push(`hidden control ${c.textContent}`); continue; }
    if (r.left < f.left - 0.5 || r.right > f.right + 0.5 || r.right > W) {
      out.push(`clipped: "${c.textContent.trim()}" ${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(f.left)}..${Math.round(f.right)}`);
    }
    if (c.scrollWidth > c.clientWidth + 1 && c.tagName === 'BUTTON') out.push(`text cut in ${c.textContent.trim()}`);
  }
  const when = row.querySelector("td[data-label='Last test'] time");
  if (when) {
    const lh = parseFloat(getComputedStyle(when).lineHeight) || 20;
    if (when.getBoundingClientRect().height > lh * 1.5) out.push(`last test wraps: ${when.textContent}`);
  }
}
return out;
"#;

#[tokio::test]
async fn token_list_fits_at_desktop_widths() {
    let app = spawn_app_with(Options::default());
    setup_owner(&app, "acme").await;
    seed_six(&app);
    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        for width in [1280u32, 1440, 1920] {
            b.set_width((width, 900)).await;
            b.goto(TOKENS).await;
            b.wait_for("tr[data-token-id]").await;
            let problems = b.js(FITS, vec![]).await;
            assert_eq!(problems, json!([]), "at {width} px");
            // Relative last test with the exact UTC time on hover.
            let title = b
                .js(
                    "const t = document.querySelector(\"td[data-label='Last test'] time\"); return [t.getAttribute('datetime'), t.title, t.textContent];",
                    vec![],
                )
                .await;
            assert!(title[0].as_str().unwrap().ends_with('Z'), "{title}");
            assert!(title[1].as_str().unwrap().ends_with("UTC"), "{title}");
            assert_eq!(title[2], json!("3 hours ago"));
            b.screenshot(&format!("token-list-six-{width}")).await;
        }
    })
    .await;
}

async fn focused_id(b: &Browser) -> Value {
    b.js(
        "return document.activeElement && document.activeElement.id;",
        vec![],
    )
    .await
}

#[tokio::test]
async fn a_refused_save_shows_its_verdict_first_and_saves_anyway_in_one_submit() {
    let github = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(github.url.clone()),
        ..Default::default()
    });
    setup_owner(&app, "acme").await;
    seed_six(&app); // the attention banner is on: the verdict must still come first
    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        b.set_width((1280, 800)).await;
        b.goto(&format!("{TOKENS}/new")).await;
        b.fill("#name", "Repo only").await;
        b.fill("#token", "ghp_repoonly-e2e").await;
        b.fill(
            "#description",
            "A long description so that the form is as tall as a real one.",
        )
        .await;
        b.click_and_load("#token-form .buttons button.primary").await;
        b.wait_for("#form-verdict .result[data-status='missing_permissions']")
            .await;
        assert_eq!(focused_id(b).await, json!("form-verdict"), "focus on the verdict");
        let place = b
            .js(
                "const r = document.getElementById('form-verdict').getBoundingClientRect(); return [r.top + window.scrollY, window.innerHeight];",
                vec![],
            )
            .await;
        let (top, h) = (place[0].as_f64().unwrap(), place[1].as_f64().unwrap());
        assert!(top < h - 100.0, "verdict starts at {top}px of a {h}px screen");
        // The emptied token field says why.
        let hint = b.find("#token-hint").await.text().await.unwrap();
        assert!(hint.contains("paste it again"), "{hint}");
        // One submit: paste again, "Save anyway".
        b.fill("#token", "ghp_repoonly-e2e").await;
        b.click_and_load("#save_anyway").await;
        assert_eq!(b.path().await, TOKENS);
        assert_eq!(
            b.count("tr[data-status='missing_permissions']").await,
            2,
            "saved anyway (plus the seeded one)"
        );
    })
    .await;
}

#[tokio::test]
async fn test_buttons_show_a_busy_state() {
    let github = fakes::github::start();
    let app = spawn_app_with(Options {
        github_api_url: Some(github.url.clone()),
        ..Default::default()
    });
    setup_owner(&app, "acme").await;
    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        b.goto(&format!("{TOKENS}/new")).await;
        b.fill("#name", "Slow").await;
        b.fill("#token", "ghp_slow-e2e").await; // the fake answers after 3 s
        let test = "#token-form .buttons button[formaction$='/git-tokens/test']";
        b.click(test).await;
        b.wait_until(
            "the Test button to be busy",
            &format!(
                "const b = document.querySelector(\"{test}\"); return b.disabled && b.getAttribute('aria-busy') === 'true' && b.textContent === 'Testing…';"
            ),
        )
        .await;
        // The fake answers after 3 s; the test app's time budget may be shorter: any verdict.
        b.wait_for("#test-result .result[data-status]").await;
        let after = b
            .js(
                &format!(
                    "const b = document.querySelector(\"{test}\"); return [b.disabled, b.hasAttribute('aria-busy'), b.textContent];"
                ),
                vec![],
            )
            .await;
        assert_eq!(after, json!([false, false, "Test without saving"]));
        let on_result = b
            .js(
                "return !!document.activeElement.closest('#test-result [data-status]');",
                vec![],
            )
            .await;
        assert_eq!(on_result, json!(true), "focus moved to the result");
    })
    .await;
}

#[tokio::test]
async fn the_token_field_follows_the_provider_and_a_typed_url_survives_hosting_toggles() {
    let app = spawn_app_with(Options::default());
    setup_owner(&app, "acme").await;
    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        b.goto(&format!("{TOKENS}/new")).await;
        b.wait_for(".how-to[data-provider='github']").await;
        let placeholder = async || {
            b.find("#token")
                .await
                .attr("placeholder")
                .await
                .unwrap()
                .unwrap_or_default()
        };
        assert!(placeholder().await.starts_with("ghp_"));
        // After a swap, wait until htmx has wired the new selects (a change before that is lost).
        let settled = async || {
            b.wait_until(
                "htmx to process the swapped-in fields",
                "const h = document.getElementById('hosting'); \
                 return !!h && !!h['htmx-internal-data'] && h['htmx-internal-data'].initHash !== undefined \
                   && !document.querySelector('.htmx-settling, .htmx-request, .htmx-swapping');",
            )
            .await
        };
        b.select("#provider", "gitlab").await;
        b.wait_for(".how-to[data-provider='gitlab']").await;
        settled().await;
        b.wait_until(
            "the GitLab placeholder",
            "return document.getElementById('token').placeholder === 'glpat-…';",
        )
        .await;
        b.select("#hosting", "self_hosted").await;
        b.wait_for("input#url").await;
        settled().await;
        b.fill("#url", "https://gitlab.internal.example.test").await;
        b.select("#hosting", "cloud").await;
        b.wait_until(
            "the cloud fields",
            "return !document.querySelector('input#url');",
        )
        .await;
        settled().await;
        b.select("#hosting", "self_hosted").await;
        b.wait_for("input#url").await;
        settled().await;
        let url = b.find("#url").await.prop("value").await.unwrap();
        assert_eq!(url.as_deref(), Some("https://gitlab.internal.example.test"));
        // The help link is the typed server's token page, pre-filled (issue 13 item 11), and
        // follows the field as it is typed.
        let help = "return [...document.querySelectorAll('.how-to .links a:not([hidden])')].map(a => a.href);";
        assert_eq!(
            b.js(help, vec![]).await,
            json!(["https://gitlab.internal.example.test/-/user_settings/personal_access_tokens?name=Forgekeys&scopes=api,read_repository"])
        );
        b.fill("#url", "https://dev.example.test/gitlab/").await;
        assert_eq!(
            b.js(help, vec![]).await,
            json!(["https://dev.example.test/gitlab/-/user_settings/personal_access_tokens?name=Forgekeys&scopes=api,read_repository"])
        );
        b.fill("#url", "not a url").await;
        assert_eq!(b.js(help, vec![]).await, json!([]));
        assert_eq!(
            b.count(".how-to [data-link-missing]:not([hidden])").await,
            1,
            "says to enter the server URL"
        );
        // Scopes as code.
        assert!(b.count(".how-to li code").await >= 2);
        b.select("#provider", "bitbucket").await;
        b.wait_for(".how-to[data-provider='bitbucket']").await;
        b.fill("#workspace", "acme-co").await;
        let links = b.js(help, vec![]).await;
        assert_eq!(
            links[0],
            json!("https://bitbucket.org/acme-co/workspace/settings/access-tokens"),
            "{links}"
        );
        b.wait_until(
            "the Bitbucket placeholder",
            "return document.getElementById('token').placeholder.startsWith('Access token');",
        )
        .await;
    })
    .await;
}

//! Token inventory (issue 5): `GET /orgs/{org}/settings/git-tokens/inventory`, its CSV and JSON
//! exports, filters, roles, CSV formula neutralisation, and never a secret.

use crate::helpers::*;
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

const PATH: &str = "/orgs/acme/settings/git-tokens/inventory";

/// Secrets stored in the seeded rows: none of them, nor their hints or last four characters,
/// may appear in any output.
const SECRET_GH: &str = "ghp_InvSecretGithubValue00000Q7Zk";
const SECRET_GL: &str = "glpat-InvSecretGitlabValue111Xr9w";
const SECRET_BB: &str = "ATCTTInvSecretBitbucketValue22Jm4v";

fn org_id(app: &TestApp, slug: &str) -> String {
    let mut conn = db(app);
    Organization::find_by_slug(&mut conn, slug)
        .unwrap()
        .expect("org exists")
        .id
}

/// A stored token row with a real sealed secret (as `tokens::create` stores it).
fn token_row(
    app: &TestApp,
    org_id: &str,
    name: &str,
    provider: &str,
    hosting: &str,
    secret: &str,
) -> GitToken {
    let keys = keyfile::load(&app.key_file).unwrap();
    let sb = SecretBox::new(keys).unwrap();
    let id = new_id();
    let (blob, key_id) = sb
        .seal_token(&id, &SecretString::from(secret.to_string()))
        .unwrap();
    let n = now();
    GitToken {
        id,
        org_id: org_id.to_string(),
        name: name.to_string(),
        name_key: name_key(name),
        provider: provider.to_string(),
        hosting: hosting.to_string(),
        url: None,
        workspace: None,
        description: None,
        secret: blob,
        key_id,
        hint: token_hint(secret),
        status: TestStatus::NotTested.as_str().to_string(),
        last_tested_at: None,
        account: None,
        expires_at: None,
        expiry_source: None,
        last_test: None,
        created_by: Some("owner@acme.test".into()),
        created_at: n,
        updated_by: Some("owner@acme.test".into()),
        updated_at: n,
        rotated_at: None,
        username: None,
        identity_key: None,
        version: 1,
        previous_hint: None,
        previous_kind: None,
    }
}

fn insert(app: &TestApp, t: &GitToken) {
    let mut conn = db(app);
    GitToken::insert(&mut conn, t).unwrap();
}

fn service(app: &TestApp, org_id: &str, name: &str, token_id: Option<&str>) {
    let mut conn = db(app);
    let n = now();
    Service::insert(
        &mut conn,
        &Service {
            id: new_id(),
            org_id: org_id.to_string(),
            name: name.to_string(),
            kind: "application".into(),
            provider: "github".into(),
            access: "token".into(),
            token_id: token_id.map(str::to_string),
            repository: "acme/app".into(),
            branch: "main".into(),
            created_at: n,
            updated_at: n,
            name_key: String::new(),
        },
    )
    .unwrap();
}

fn outcome(status: TestStatus, account: &str, scopes: &[&str]) -> TestOutcome {
    let mut o = TestOutcome::failed(status, "seeded");
    o.reason = None;
    o.account = Some(account.to_string());
    o.scopes = scopes.iter().map(|s| s.to_string()).collect();
    o
}

struct Seeded {
    gh: GitToken,
    gl: GitToken,
    bb: GitToken,
}

/// Three tokens, one per provider, with every inventory field filled somewhere.
fn seed_three(app: &TestApp) -> Seeded {
    let org = org_id(app, "acme");
    let mut gh = token_row(app, &org, "Deploy bot", "github", "cloud", SECRET_GH);
    gh.description = Some("Production deployments".into());
    let mut o = outcome(
        TestStatus::Valid,
        "acme-deployer",
        &["repo", "admin:repo_hook", "read:org"],
    );
    o.expires_at =
        Some(chrono::Utc::now() + chrono::Duration::days(12) + chrono::Duration::hours(2));
    gh.apply_outcome(&o);
    gh.rotated_at = Some(now() - chrono::Duration::days(3));
    insert(app, &gh);

    let mut gl = token_row(
        app,
        &org,
        "GitLab mirror",
        "gitlab",
        "self_hosted",
        SECRET_GL,
    );
    gl.url = Some("https://gitlab.acme.example".into());
    let mut o = outcome(
        TestStatus::MissingPermissions,
        "mirror-user",
        &["read_repository"],
    );
    o.missing = vec![MissingPermission {
        name: "api".into(),
        fix: "Add the api scope".into(),
    }];
    o.expires_at = Some(chrono::Utc::now() + chrono::Duration::days(200));
    gl.apply_outcome(&o);
    gl.created_by = Some("devops@acme.test".into());
    insert(app, &gl);

    let mut bb = token_row(app, &org, "Bitbucket CI", "bitbucket", "cloud", SECRET_BB);
    bb.workspace = Some("acme-ws".into());
    insert(app, &bb);

    service(app, &org, "billing-api", Some(&gh.id));
    service(app, &org, "web-frontend", Some(&gh.id));
    service(app, &org, "docs-site", Some(&gl.id));
    Seeded { gh, gl, bb }
}

/// No secret and no ciphertext (the hint, known prefix and last 4 characters, may be there).
#[track_caller]
fn assert_no_secret(what: &str, body: &str, rows: &[&GitToken]) {
    for (secret, row) in [SECRET_GH, SECRET_GL, SECRET_BB].iter().zip(rows) {
        let middle = &secret[secret.len() / 3..secret.len() - 4];
        for needle in [*secret, middle] {
            assert!(
                !body.contains(needle),
                "{what} contains secret material {needle:?}:\n{body}"
            );
        }
        assert!(
            !body.contains(&hex::encode(&row.secret)),
            "{what} has ciphertext"
        );
    }
    let lower = body.to_lowercase();
    assert!(!lower.contains("\"secret\":"), "{what} has a secret field");
}

/// Each token's hint (as on the token list) is there, to match it against the provider's own
/// list (issue 13).
#[track_caller]
fn assert_hints(what: &str, body: &str, rows: &[&GitToken]) {
    for row in rows {
        assert!(
            body.contains(&row.hint),
            "{what} lacks the hint {:?}",
            row.hint
        );
    }
}

fn header<'a>(p: &'a Page, name: &str) -> &'a str {
    p.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A small RFC 4180 reader (quoted fields, doubled quotes, CRLF).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn csv_records(body: &str) -> Vec<std::collections::HashMap<String, String>> {
    // A byte order mark first, so that spreadsheets read UTF-8 ("–", "…") as such.
    let body = body
        .strip_prefix('\u{feff}')
        .expect("the CSV starts with a byte order mark");
    let rows = parse_csv(body);
    let head = rows[0].clone();
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), head.len(), "ragged CSV row {r:?}");
            head.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn inventory_page_shows_every_field_and_no_secret() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let s = seed_three(&app);

    let p = owner.get(PATH).await;
    p.assert_status(200);
    assert!(header(&p, "content-type").starts_with("text/html"));
    // Header: organization, generation time (UTC) and who.
    p.assert_contains("Token inventory")
        .assert_contains("Acme Corp (acme)")
        .assert_contains("Generated by</dt><dd>owner@acme.test")
        .assert_contains(&format!("{} ", today()))
        .assert_contains(" UTC</time>");
    // Print button, export links, print stylesheet.
    // The Print button needs JavaScript, so it is hidden without (`js-only`); the <noscript>
    // hint names the browser's own command instead.
    p.assert_contains(
        r#"<button type="button" class="button primary js-only" data-print>Print</button>"#,
    )
    .assert_contains("<noscript><p class=\"hint\">To print, use your browser's Print command")
    .assert_contains(&format!("{PATH}?format=csv"))
    .assert_contains(&format!("{PATH}?format=json"))
    .assert_contains("print.css")
    .assert_contains(r#"aria-current="page""#);
    // Summary.
    p.assert_contains(r#"<tr data-provider="github"><th scope="row">GitHub</th><td class="num">1</td>"#)
        .assert_contains(r#"<tr data-status="valid"><th scope="row">Valid</th><td class="num">1</td>"#)
        .assert_contains(r#"<tr data-status="not_tested"><th scope="row">Not tested</th><td class="num">1</td>"#)
        .assert_contains(r#"<tr data-summary="expiring"><th scope="row">Expiring within 30 days</th><td class="num">1</td>"#)
        .assert_contains(r#"<tr data-summary="unused"><th scope="row">Unused (no service uses it)</th><td class="num">1</td>"#);
    // One row per token, with every column.
    for t in [&s.gh, &s.gl, &s.bb] {
        p.assert_contains(&format!(r#"data-token-id="{}""#, t.id));
    }
    p.assert_contains("Deploy bot")
        .assert_contains("Production deployments")
        .assert_contains("github.com")
        .assert_contains("https://gitlab.acme.example")
        .assert_contains("workspace acme-ws")
        .assert_contains("acme-deployer")
        .assert_contains("repo admin:repo_hook read:org")
        .assert_contains("Missing: api")
        .assert_contains(r#"data-status="missing_permissions""#)
        .assert_contains(">Missing permissions</span>")
        .assert_contains(">Not tested</span>")
        .assert_contains("never tested")
        .assert_contains("Expires in 12 days")
        .assert_contains("billing-api, web-frontend")
        .assert_contains("docs-site")
        // E-mails in two parts, so a narrow cell breaks them at the `@`, not inside a word.
        .assert_contains(
            r#"by <span class="email"><span>devops</span><wbr><span>@acme.test</span></span>"#,
        )
        .assert_contains("rotated ");
    assert_no_secret("inventory HTML", &p.body, &[&s.gh, &s.gl, &s.bb]);
    assert_hints("inventory HTML", &p.body, &[&s.gh, &s.gl, &s.bb]);
}

#[tokio::test]
async fn csv_and_json_exports_carry_the_same_data_and_no_secret() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let s = seed_three(&app);

    let csv = owner.get(&format!("{PATH}?format=csv")).await;
    csv.assert_status(200);
    assert_eq!(header(&csv, "content-type"), "text/csv; charset=utf-8");
    assert_eq!(
        header(&csv, "content-disposition"),
        format!(
            "attachment; filename=\"forgekeys-inventory-acme-{}.csv\"",
            today()
        )
    );
    assert_eq!(header(&csv, "cache-control"), "no-store");
    assert_no_secret("CSV", &csv.body, &[&s.gh, &s.gl, &s.bb]);
    assert_hints("CSV", &csv.body, &[&s.gh, &s.gl, &s.bb]);
    let recs = csv_records(&csv.body);
    assert_eq!(recs.len(), 3);
    let gh = recs.iter().find(|r| r["name"] == "Deploy bot").unwrap();
    assert_eq!(gh["provider"], "github");
    assert_eq!(gh["account"], "acme-deployer");
    assert_eq!(gh["scopes"], "repo admin:repo_hook read:org");
    assert_eq!(gh["status"], "valid");
    assert_eq!(gh["days_left"], "12");
    assert_eq!(gh["services_count"], "2");
    assert_eq!(gh["services"], "billing-api; web-frontend");
    assert_eq!(gh["organization"], "acme");
    assert!(!gh["last_tested_at"].is_empty());
    assert!(!gh["rotated_at"].is_empty());
    let gl = recs.iter().find(|r| r["name"] == "GitLab mirror").unwrap();
    assert_eq!(gl["url"], "https://gitlab.acme.example");
    assert_eq!(gl["missing_permissions"], "api");
    assert_eq!(gl["created_by"], "devops@acme.test");
    let bb = recs.iter().find(|r| r["name"] == "Bitbucket CI").unwrap();
    assert_eq!(bb["workspace"], "acme-ws");
    assert_eq!(bb["status"], "not_tested");
    assert_eq!(bb["services_count"], "0");
    assert!(!recs[0].contains_key("secret"));
    assert_eq!(
        gl["hint"], s.gl.hint,
        "the CSV names each token by its hint"
    );

    let json = owner.get(&format!("{PATH}?format=json")).await;
    json.assert_status(200);
    assert_eq!(header(&json, "content-type"), "application/json");
    assert_eq!(
        header(&json, "content-disposition"),
        format!(
            "attachment; filename=\"forgekeys-inventory-acme-{}.json\"",
            today()
        )
    );
    assert_no_secret("JSON", &json.body, &[&s.gh, &s.gl, &s.bb]);
    assert_hints("JSON", &json.body, &[&s.gh, &s.gl, &s.bb]);
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["organization"]["slug"], "acme");
    assert_eq!(v["organization"]["name"], "Acme Corp");
    assert_eq!(v["generated_by"], "owner@acme.test");
    assert!(v["generated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["summary"]["total"], 3);
    assert_eq!(v["summary"]["by_provider"]["gitlab"], 1);
    assert_eq!(v["summary"]["by_status"]["missing_permissions"], 1);
    assert_eq!(v["summary"]["expiring_within_30_days"], 1);
    assert_eq!(v["summary"]["unused"], 1);
    let tokens = v["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 3);
    let names: Vec<&str> = tokens.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bitbucket CI", "Deploy bot", "GitLab mirror"]);
    let gh = &tokens[1];
    assert_eq!(
        gh["scopes"],
        serde_json::json!(["repo", "admin:repo_hook", "read:org"])
    );
    assert_eq!(
        gh["services"],
        serde_json::json!(["billing-api", "web-frontend"])
    );
    assert_eq!(gh["services_count"], 2);
    assert_eq!(gh["account"], "acme-deployer");
    assert_eq!(gh["days_left"], 12);
    for t in tokens {
        let keys: Vec<&String> = t.as_object().unwrap().keys().collect();
        for k in keys {
            assert!(
                !["secret", "token", "key_id", "last_test"].contains(&k.as_str()),
                "JSON token has field {k}"
            );
        }
    }
}

#[tokio::test]
async fn filters_and_sort_apply_to_page_and_exports() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let s = seed_three(&app);

    // q (case-insensitive substring of the name)
    let p = owner.get(&format!("{PATH}?q=MIRROR")).await;
    p.assert_status(200)
        .assert_contains(&s.gl.id)
        .assert_lacks(&s.gh.id)
        .assert_lacks(&s.bb.id)
        .assert_contains("name contains");
    // provider
    let p = owner.get(&format!("{PATH}?provider=bitbucket")).await;
    p.assert_status(200)
        .assert_contains(&s.bb.id)
        .assert_lacks(&s.gh.id)
        .assert_lacks(&s.gl.id)
        .assert_contains("provider Bitbucket");
    // status, in the exports too (export links keep the filters)
    let p = owner.get(&format!("{PATH}?status=valid")).await;
    p.assert_status(200)
        .assert_contains(&s.gh.id)
        .assert_lacks(&s.gl.id)
        .assert_contains(&format!("{PATH}?status=valid&#38;format=csv"));
    let csv = owner.get(&format!("{PATH}?status=valid&format=csv")).await;
    let recs = csv_records(&csv.body);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["name"], "Deploy bot");
    let json = owner
        .get(&format!("{PATH}?provider=gitlab&format=json"))
        .await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["tokens"].as_array().unwrap().len(), 1);
    assert_eq!(v["filters"]["provider"], "gitlab");
    assert_eq!(v["summary"]["total"], 1);
    // No match: a message, not an error.
    let p = owner.get(&format!("{PATH}?q=nothing-like-this")).await;
    p.assert_status(200)
        .assert_contains("No token matches these filters")
        .assert_lacks("data-token-id");

    // Sort: expiry soonest first (no expiry last); descending name; status worst first.
    let order = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let j = owner.get(&format!("{PATH}?sort=expiry&format=json")).await;
    assert_eq!(
        order(&j.body),
        ["Deploy bot", "GitLab mirror", "Bitbucket CI"]
    );
    let j = owner
        .get(&format!("{PATH}?sort=name&order=desc&format=json"))
        .await;
    assert_eq!(
        order(&j.body),
        ["GitLab mirror", "Deploy bot", "Bitbucket CI"]
    );
    let j = owner.get(&format!("{PATH}?sort=status&format=json")).await;
    assert_eq!(
        order(&j.body),
        ["GitLab mirror", "Bitbucket CI", "Deploy bot"]
    );
    let j = owner
        .get(&format!("{PATH}?sort=services&order=desc&format=json"))
        .await;
    assert_eq!(
        order(&j.body),
        ["Deploy bot", "GitLab mirror", "Bitbucket CI"]
    );
    let p = owner.get(&format!("{PATH}?sort=expiry")).await;
    let first = p.body.find(&s.gh.id).unwrap();
    let last = p.body.find(&s.bb.id).unwrap();
    assert!(first < last, "HTML not sorted by expiry");

    // Bad parameters are 400s with a message, never 500s.
    for (q, msg) in [
        ("provider=sourceforge", "Unknown provider filter"),
        ("status=great", "Unknown status filter"),
        ("sort=colour", "Unknown sort"),
        ("order=sideways", "Unknown order"),
        ("format=xlsx", "Unknown format"),
    ] {
        owner
            .get(&format!("{PATH}?{q}"))
            .await
            .assert_status(400)
            .assert_contains(msg);
    }
}

#[tokio::test]
async fn viewer_may_open_it_billing_and_strangers_may_not() {
    let app = spawn_app();
    let _owner = setup_owner(&app, "acme").await;
    let s = seed_three(&app);

    let viewer = member(&app, "acme", "viewer@acme.test", Role::Viewer).await;
    for path in [
        PATH.to_string(),
        format!("{PATH}?format=csv"),
        format!("{PATH}?format=json"),
    ] {
        viewer
            .get(&path)
            .await
            .assert_status(200)
            .assert_contains("Deploy bot");
    }
    let vp = viewer.get(PATH).await;
    vp.assert_contains(&s.gh.id)
        .assert_lacks(r#"method="post" action="/orgs/acme/settings"#)
        .assert_lacks("csrf_token\" value=\"\"");
    assert_no_secret("viewer page", &vp.body, &[&s.gh, &s.gl, &s.bb]);
    assert_hints("viewer page", &vp.body, &[&s.gh, &s.gl, &s.bb]);

    let billing = member(&app, "acme", "billing@acme.test", Role::Billing).await;
    for path in [
        PATH.to_string(),
        format!("{PATH}?format=csv"),
        format!("{PATH}?format=json"),
    ] {
        let p = billing.get(&path).await;
        p.assert_status(403).assert_lacks("Deploy bot");
        p.assert_contains("Viewer");
    }

    // A member of another organization only: 404, as if it did not exist.
    let stranger = member(&app, "other", "stranger@other.test", Role::Owner).await;
    for path in [PATH.to_string(), format!("{PATH}?format=csv")] {
        stranger
            .get(&path)
            .await
            .assert_status(404)
            .assert_lacks("Deploy bot");
    }
    // Not signed in: to the login page.
    let anon = Client::new(&app);
    anon.get(PATH).await.assert_redirect_to("/login");
    anon.get(&format!("{PATH}?format=csv"))
        .await
        .assert_redirect_to("/login");
}

#[tokio::test]
async fn csv_cells_that_look_like_formulas_are_neutralised() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let org = org_id(&app, "acme");
    let evil = [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
    ];
    let mut ids = Vec::new();
    for (i, name) in evil.iter().enumerate() {
        let mut t = token_row(&app, &org, name, "github", "cloud", SECRET_GH);
        t.description = Some(format!("=cmd{i}"));
        t.account = Some("@attacker".into());
        insert(&app, &t);
        ids.push(t.id);
    }
    service(&app, &org, "=IMPORTXML(\"x\")", Some(&ids[0]));

    let csv = owner.get(&format!("{PATH}?format=csv")).await;
    csv.assert_status(200);
    let rows = parse_csv(&csv.body);
    assert_eq!(rows.len(), 1 + evil.len());
    for row in &rows[1..] {
        for cell in row {
            let is_int = cell
                .strip_prefix('-')
                .unwrap_or(cell)
                .chars()
                .all(|c| c.is_ascii_digit())
                && !cell.is_empty()
                && cell != "-";
            assert!(
                is_int || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "dangerous CSV cell {cell:?} in {row:?}"
            );
        }
    }
    let recs = csv_records(&csv.body);
    for name in evil {
        assert!(
            recs.iter().any(|r| r["name"] == format!("'{name}")),
            "{name} not kept with a leading quote"
        );
    }
    assert!(recs.iter().all(|r| r["account"] == "'@attacker"));
    assert!(recs.iter().any(|r| r["services"] == "'=IMPORTXML(\"x\")"));
    // JSON and HTML keep the names as they are (escaped for HTML).
    let json = owner.get(&format!("{PATH}?format=json")).await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert!(
        v["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "-2+3")
    );
    owner
        .get(PATH)
        .await
        .assert_contains("=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)")
        .assert_lacks("=HYPERLINK(\"http");
}

#[tokio::test]
async fn an_org_without_tokens_gets_a_sensible_inventory() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    // A token in another organization must not show up.
    let _other = member(&app, "other", "o@other.test", Role::Owner).await;
    let other_id = org_id(&app, "other");
    insert(
        &app,
        &token_row(
            &app,
            &other_id,
            "Other org token",
            "github",
            "cloud",
            SECRET_GH,
        ),
    );

    let p = owner.get(PATH).await;
    p.assert_status(200)
        .assert_contains("No tokens yet")
        .assert_contains("Acme Corp (acme)")
        .assert_contains("Tokens listed</dt><dd>0</dd>")
        .assert_lacks("Other org token")
        .assert_lacks("<table class=\"inventory-table\"");

    let csv = owner.get(&format!("{PATH}?format=csv")).await;
    csv.assert_status(200);
    let rows = parse_csv(&csv.body);
    assert_eq!(rows.len(), 1, "only the header row: {:?}", rows);
    assert_eq!(
        rows[0][0], "\u{feff}name",
        "a byte order mark, then the header"
    );
    assert_eq!(rows[0][1], "hint");

    let json = owner.get(&format!("{PATH}?format=json")).await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["tokens"], serde_json::json!([]));
    assert_eq!(v["summary"]["total"], 0);
    assert_eq!(v["summary"]["by_provider"]["github"], 0);
}

#[tokio::test]
async fn detail_routes_still_work_next_to_inventory() {
    // `inventory` is matched before `{id}`, and a token id still reaches the detail page.
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let s = seed_three(&app);
    owner
        .get(&format!("/orgs/acme/settings/git-tokens/{}", s.gh.id))
        .await
        .assert_status(200)
        .assert_contains("Deploy bot");
    owner
        .get("/orgs/acme/settings/git-tokens/inventory")
        .await
        .assert_status(200)
        .assert_contains("Token inventory");
}

/// The `inventory.export` rows of the organization, oldest first.
fn export_audits(app: &TestApp, org: &str) -> Vec<forgekeys::db::models::audit::AuditEvent> {
    use diesel::prelude::*;
    use forgekeys::db::models::audit::AuditEvent;
    use forgekeys::db::schema::audit_events;
    audit_events::table
        .filter(audit_events::org_id.eq(org))
        .filter(audit_events::action.eq("inventory.export"))
        .order(audit_events::id.asc())
        .select(AuditEvent::as_select())
        .load(&mut db(app))
        .unwrap()
}

#[tokio::test]
async fn exports_are_audited_with_format_filters_and_count_but_the_page_is_not() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let s = seed_three(&app);
    let org = org_id(&app, "acme");
    let viewer = member(&app, "acme", "viewer@acme.test", Role::Viewer).await;

    // Viewing (and printing) the page is not an export.
    owner.get(PATH).await.assert_status(200);
    owner
        .get(&format!("{PATH}?provider=github"))
        .await
        .assert_status(200);
    assert!(
        export_audits(&app, &org).is_empty(),
        "the page is not an export"
    );

    owner
        .get(&format!("{PATH}?provider=github&q=deploy&format=csv"))
        .await
        .assert_status(200);
    viewer
        .get(&format!("{PATH}?sort=expiry&format=json"))
        .await
        .assert_status(200);
    // A rejected request exports nothing and records nothing.
    owner
        .get(&format!("{PATH}?status=great&format=csv"))
        .await
        .assert_status(400);

    let rows = export_audits(&app, &org);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let csv = &rows[0];
    assert_eq!(csv.actor_email.as_deref(), Some("owner@acme.test"));
    assert!(csv.actor_user_id.is_some());
    assert_eq!(csv.token_id, None);
    let d: serde_json::Value = serde_json::from_str(&csv.details).unwrap();
    assert_eq!(d["format"], "csv");
    assert_eq!(d["count"], 1);
    assert_eq!(d["filters"]["provider"], "github");
    assert_eq!(d["filters"]["q"], "deploy");
    assert_eq!(d["filters"]["status"], serde_json::Value::Null);
    let json = &rows[1];
    assert_eq!(json.actor_email.as_deref(), Some("viewer@acme.test"));
    let d: serde_json::Value = serde_json::from_str(&json.details).unwrap();
    assert_eq!(d["format"], "json");
    assert_eq!(d["count"], 3);
    assert_eq!(d["filters"]["sort"], "expiry");
    assert_eq!(d["filters"]["provider"], serde_json::Value::Null);
    // Names and counts only: no secret, hint or last four characters.
    for r in &rows {
        assert_no_secret(
            "inventory.export audit row",
            &format!("{r:?}"),
            &[&s.gh, &s.gl, &s.bb],
        );
        let text = format!("{r:?}");
        for (t, secret) in [(&s.gh, SECRET_GH), (&s.gl, SECRET_GL), (&s.bb, SECRET_BB)] {
            assert!(!text.contains(&t.hint), "the audit row names a hint");
            assert!(
                !text.contains(&secret[secret.len() - 4..]),
                "last four in audit"
            );
        }
    }

    // The audit trail shows it in words.
    let trail = owner.get("/orgs/acme/audit").await;
    trail
        .assert_status(200)
        .assert_contains("Inventory exported")
        .assert_contains("CSV with 1 token; name contains deploy; provider github")
        .assert_contains("JSON with 3 tokens");
}

#[tokio::test]
async fn a_large_inventory_is_read_in_chunks_without_losing_or_repeating_a_token() {
    use diesel::Connection;
    use forgekeys::app::inventory::LOAD_CHUNK_ROWS;
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let org = org_id(&app, "acme");
    // Two full chunks and a few more; every fifth row tested with scopes.
    let count = 2 * LOAD_CHUNK_ROWS as usize + 7;
    let template = token_row(&app, &org, "template", "github", "cloud", SECRET_GH);
    let mut conn = db(&app);
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for i in 0..count {
            let mut t = template.clone();
            t.id = new_id();
            t.name = format!("Bulk token {i:04}");
            t.name_key = name_key(&t.name);
            if i % 5 == 0 {
                t.apply_outcome(&outcome(
                    TestStatus::Valid,
                    "bulk-bot",
                    &["repo", "workflow"],
                ));
            }
            GitToken::insert(conn, &t).map_err(|_| diesel::result::Error::RollbackTransaction)?;
        }
        Ok(())
    })
    .unwrap();
    drop(conn);

    let csv = owner.get(&format!("{PATH}?format=csv")).await;
    csv.assert_status(200);
    let recs = csv_records(&csv.body);
    assert_eq!(recs.len(), count);
    let names: Vec<&str> = recs.iter().map(|r| r["name"].as_str()).collect();
    let expected: Vec<String> = (0..count).map(|i| format!("Bulk token {i:04}")).collect();
    assert_eq!(names, expected, "every token once, by name");
    let scoped = recs
        .iter()
        .filter(|r| r["scopes"] == "repo workflow")
        .count();
    assert_eq!(scoped, count.div_ceil(5), "scopes come from the last test");
    assert!(
        recs.iter().all(|r| r["hint"] == template.hint),
        "every CSV row has its hint"
    );

    let page = owner.get(&format!("{PATH}?sort=name&order=desc")).await;
    page.assert_status(200);
    assert_eq!(page.body.matches("data-token-id=").count(), count);
    let last = format!("Bulk token {:04}", count - 1);
    assert!(
        page.body.find(&last).unwrap() < page.body.find("Bulk token 0000").unwrap(),
        "descending by name"
    );
}

#[tokio::test]
async fn a_stored_value_the_domain_does_not_know_fails_instead_of_being_guessed() {
    let app = spawn_app();
    let owner = setup_owner(&app, "acme").await;
    let org = org_id(&app, "acme");
    let mut t = token_row(&app, &org, "Gitea token", "gitea", "cloud", SECRET_GH);
    t.status = "valid".into();
    insert(&app, &t);

    // Not listed as a GitHub token: the page and the exports fail, and nothing is exported.
    for path in [
        PATH.to_string(),
        format!("{PATH}?format=csv"),
        format!("{PATH}?format=json"),
    ] {
        owner
            .get(&path)
            .await
            .assert_status(500)
            .assert_lacks("Gitea token");
    }
    assert!(
        export_audits(&app, &org).is_empty(),
        "no export was recorded"
    );
}

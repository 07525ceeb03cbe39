//! The token inventory on paper: headless Chromium prints it to PDF (WebDriver `print`), and
//! `pdftotext` (Debian `poppler-utils`) reads the PDF back. Checks: every token name is there,
//! the navigation and buttons are not, a 300-token inventory spans several pages, each page
//! starts with the table header and carries its page number; no secret, not even the hint.

use crate::browser::*;
use crate::helpers::*;
use fantoccini::wd::{PrintConfiguration, PrintOrientation, PrintSize};
use forgekeys::crypto::keyfile;
use forgekeys::crypto::secret_box::SecretBox;
use forgekeys::db::models::organization::Organization;
use forgekeys::db::models::token::{GitToken, name_key};
use forgekeys::db::{new_id, now};
use forgekeys::domain::test_result::TestStatus;
use forgekeys::domain::token::token_hint;
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOKENS: usize = 300;
const SECRET_PREFIX: &str = "ghp_PrintSecretValue";

fn secret_of(i: usize) -> String {
    format!("{SECRET_PREFIX}{i:05}Zq{:02}", i % 97)
}

/// Insert `n` tokens straight into the database, secrets sealed as the app seals them.
fn seed(app: &TestApp, slug: &str, n: usize) -> Vec<GitToken> {
    let mut conn = db(app);
    let org = Organization::find_by_slug(&mut conn, slug)
        .unwrap()
        .unwrap();
    let sb = SecretBox::new(keyfile::load(&app.key_file).unwrap()).unwrap();
    let statuses = [
        TestStatus::Valid,
        TestStatus::MissingPermissions,
        TestStatus::Invalid,
        TestStatus::Expired,
        TestStatus::NotTested,
    ];
    (0..n)
        .map(|i| {
            let id = new_id();
            let secret = secret_of(i);
            let (blob, key_id) = sb
                .seal_token(&id, &SecretString::from(secret.clone()))
                .unwrap();
            let name = format!("printtok-{i:03}");
            let status = statuses[i % statuses.len()];
            let n = now();
            let t = GitToken {
                id,
                org_id: org.id.clone(),
                name_key: name_key(&name),
                name,
                provider: ["github", "gitlab", "bitbucket"][i % 3].into(),
                hosting: "cloud".into(),
                url: None,
                workspace: (i % 3 == 2).then(|| format!("ws-{i}")),
                description: None,
                secret: blob,
                key_id,
                hint: token_hint(&secret),
                status: status.as_str().into(),
                last_tested_at: (status != TestStatus::NotTested).then_some(n),
                account: Some(format!("acct-{i}")),
                expires_at: Some(n + chrono::Duration::days((i % 120) as i64 - 10)),
                expiry_source: Some("admin".into()),
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
            };
            GitToken::insert(&mut conn, &t).unwrap();
            t
        })
        .collect()
}

pub(crate) fn pdftotext() -> Option<PathBuf> {
    find_program("PDFTOTEXT", &["pdftotext"])
}

/// Pages of text (`pdftotext -layout`, split on form feeds), empty trailing page dropped.
pub(crate) fn pdf_pages(pdftotext: &Path, pdf: &Path) -> Vec<String> {
    let out = Command::new(pdftotext)
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("pdftotext gives UTF-8");
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    while pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

pub(crate) fn first_lines(page: &str, n: usize) -> String {
    page.lines()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect::<Vec<_>>()
        .join("\n")
}

async fn login(b: &Browser, email: &str) {
    b.goto("/login").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;
    b.wait_until(
        "the sign-in to finish",
        "return !location.pathname.startsWith('/login');",
    )
    .await;
}

pub(crate) async fn print_pdf(
    b: &Browser,
    size: PrintSize,
    orientation: PrintOrientation,
    name: &str,
) -> PathBuf {
    let cfg = PrintConfiguration::builder()
        .size(size)
        .orientation(orientation)
        .build()
        .expect("print configuration");
    let pdf = b.client.print(cfg).await.expect("WebDriver print");
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    let path = out_dir().join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write PDF");
    path
}

#[tokio::test]
async fn inventory_prints_on_several_pages_with_headers_and_no_navigation() {
    let Some(pdftotext) = pdftotext()
        .or_else(|| unavailable("pdftotext is not installed (apt-get install poppler-utils)"))
    else {
        return;
    };
    let app = spawn_app();
    let _owner = setup_owner(&app, "acme").await;
    let tokens = seed(&app, "acme", TOKENS);

    with_browser(&app.address, async |b: &Browser| {
        login(b, "owner@acme.test").await;
        b.goto("/orgs/acme/settings/git-tokens/inventory").await;
        b.wait_for("table.inventory-table").await;
        assert_eq!(b.count("table.inventory-table tbody tr").await, TOKENS);
        // The Print button is there on screen, and the page logs no problems.
        b.find("button[data-print]").await;
        assert_eq!(b.console_problems().await, Vec::<String>::new());

        for (size, orientation, label) in [
            (PrintSize::A4, PrintOrientation::Portrait, "a4-portrait"),
            (
                PrintSize::US_LETTER,
                PrintOrientation::Landscape,
                "letter-landscape",
            ),
        ] {
            let pdf = print_pdf(b, size, orientation, &format!("inventory-{label}")).await;
            let pages = pdf_pages(&pdftotext, &pdf);
            let all = pages.join("\n");
            assert!(
                pages.len() >= 3,
                "{label}: {TOKENS} tokens fit on {} page(s)?\n{all}",
                pages.len()
            );
            // Every token name, on paper.
            for t in &tokens {
                assert!(
                    all.contains(&t.name),
                    "{label}: {} missing from the PDF",
                    t.name
                );
            }
            // Header facts are printed.
            assert!(all.contains("Token inventory"), "{label}: no title");
            assert!(all.contains("owner@acme.test"), "{label}: no author");
            assert!(all.contains("UTC"), "{label}: no time");
            // No navigation, buttons, filters or footer.
            for absent in [
                "Skip to content",
                "Sign out",
                "Organizations",
                "Git Repository Access",
                "Download CSV",
                "Download JSON",
                "Sort by",
                "tested and encrypted",
            ] {
                assert!(!all.contains(absent), "{label}: the PDF shows {absent:?}");
            }
            // Whole lines: "Filters" (the header fact) is printed, the Filter button is not.
            for button in ["Print", "Filter"] {
                assert!(
                    !all.lines().any(|l| l.trim() == button),
                    "{label}: the {button} button is printed"
                );
            }
            // No secret; the hint column (to match the provider's token list) is printed.
            assert!(!all.contains(SECRET_PREFIX), "{label}: a secret is printed");
            for t in tokens.iter().take(20) {
                assert!(
                    all.contains(&t.hint),
                    "{label}: the hint {} is not printed",
                    t.hint
                );
            }
            // Pages 2..n start with the repeated table header; every page is numbered.
            let n = pages.len();
            for (i, page) in pages.iter().enumerate() {
                let head = first_lines(page, 3);
                if i > 0 {
                    let first = head.lines().next().unwrap_or_default().trim_start();
                    assert!(
                        first.starts_with("Name")
                            && head.contains("Provider")
                            && head.contains("Status")
                            && head.contains("Expiry"),
                        "{label}: page {} does not start with the table header:\n{head}",
                        i + 1
                    );
                }
                assert!(
                    page.contains(&format!("Page {} of {n}", i + 1)),
                    "{label}: page {} has no page number:\n{page}",
                    i + 1
                );
                // Words, not only colour: each row's status is printed as a word.
                assert!(
                    [
                        "Valid",
                        "Missing permissions",
                        "Invalid",
                        "Expired",
                        "Not tested"
                    ]
                    .iter()
                    .any(|w| page.contains(w)),
                    "{label}: page {} has no status words",
                    i + 1
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn empty_inventory_prints_one_sensible_page() {
    let Some(pdftotext) = pdftotext()
        .or_else(|| unavailable("pdftotext is not installed (apt-get install poppler-utils)"))
    else {
        return;
    };
    let app = spawn_app();
    let _owner = setup_owner(&app, "acme").await;
    with_browser(&app.address, async |b: &Browser| {
        login(b, "owner@acme.test").await;
        b.goto("/orgs/acme/settings/git-tokens/inventory").await;
        b.wait_for("article.inventory").await;
        let pdf = print_pdf(
            b,
            PrintSize::A4,
            PrintOrientation::Portrait,
            "inventory-empty",
        )
        .await;
        let pages = pdf_pages(&pdftotext, &pdf);
        assert_eq!(pages.len(), 1, "{pages:?}");
        assert!(pages[0].contains("No tokens yet"), "{}", pages[0]);
        assert!(pages[0].contains("Acme Corp"), "{}", pages[0]);
        assert!(pages[0].contains("Page 1 of 1"), "{}", pages[0]);
        assert!(!pages[0].contains("Sign out"));
    })
    .await;
}

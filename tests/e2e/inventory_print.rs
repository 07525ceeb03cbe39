//! The printed inventory with realistic long data over several pages (issue 13 item 10),
//! printed to PDF by Chromium and read back with `pdftotext` and `pdftoppm` (poppler-utils):
//! the table header repeats on every page, rows are never split across pages, the last row of
//! every page has its bottom border (the lowest ink of a page, above its footer, is a
//! table-wide horizontal line), page 1 has no blank band, badges are whole pills inside their
//! cells (checked in the print layout at each paper's width), and the hint column is printed.
//! The pages are kept as PNGs in `target/screenshots/` to look at.

use crate::browser::{Browser, find_program, unavailable, with_browser};
use crate::helpers::{PASSWORD, setup_owner, spawn_app};
use crate::inventory::{first_lines, pdf_pages, pdftotext, print_pdf};
use crate::inventory_layout::{INVENTORY, OWNER, TABLE_FITS, seed_long};
use fantoccini::wd::{PrintOrientation, PrintSize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOKENS: usize = 42;
/// Rendering resolution of the page images (dots per inch).
const DPI: f64 = 100.0;

/// A grey page image (PGM) as `pdftoppm -gray` writes it.
struct Gray {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Gray {
    fn read(path: &Path) -> Gray {
        let data = std::fs::read(path).expect("read PGM");
        // "P5", width, height, maxval, each followed by whitespace, then the pixels.
        let mut fields = Vec::new();
        let mut i = 0;
        while fields.len() < 4 {
            while data[i].is_ascii_whitespace() {
                i += 1;
            }
            let start = i;
            while !data[i].is_ascii_whitespace() {
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&data[start..i]).to_string());
        }
        assert_eq!(fields[0], "P5", "not a binary PGM: {}", path.display());
        let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        let px = data[i + 1..].to_vec();
        assert_eq!(px.len(), w * h, "PGM size");
        Gray { w, h, px }
    }

    fn dark_in_row(&self, y: usize) -> usize {
        self.px[y * self.w..(y + 1) * self.w]
            .iter()
            .filter(|p| **p < 128)
            .count()
    }
}

fn mm(v: f64) -> usize {
    (v / 25.4 * DPI).round() as usize
}

/// Page images of `pdf`: grey PGMs to measure, PNGs (in `target/screenshots/`) to look at.
fn page_images(pdftoppm: &Path, pdf: &Path, name: &str) -> Vec<Gray> {
    let dir = pdf.parent().expect("PDF folder");
    let prefix = dir.join(format!("{name}-page"));
    let run = |extra: &[&str], to: &Path| {
        let out = Command::new(pdftoppm)
            .args(["-r", &DPI.to_string(), "-aa", "no", "-aaVector", "no"])
            .args(extra)
            .arg(pdf)
            .arg(to)
            .output()
            .expect("run pdftoppm");
        assert!(
            out.status.success(),
            "pdftoppm failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["-gray"], &prefix);
    // The PNGs of an earlier, longer print would be mistaken for pages of this one.
    let shots = crate::screens::shots_dir();
    for e in std::fs::read_dir(&shots)
        .expect("list screenshots")
        .flatten()
    {
        let f = e.file_name().to_string_lossy().to_string();
        if f.starts_with(&format!("{name}-")) && f.ends_with(".png") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    run(&["-png"], &shots.join(name));
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list PDF folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "pgm")
                && p.file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with(&format!("{name}-page-")))
        })
        .collect();
    // `-page-1.pgm` … `-page-10.pgm` (or zero-padded): by page number.
    pages.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit('-').next())
            .and_then(|n| n.parse::<usize>().ok())
    });
    let images: Vec<Gray> = pages.iter().map(|p| Gray::read(p)).collect();
    for p in pages {
        let _ = std::fs::remove_file(p);
    }
    images
}

/// What is wrong with a page image: its lowest ink above the footer is not a table-wide line
/// (the last row lost its bottom border, or a row was split), or, on a page the table goes on
/// from, a blank band of a fifth of the page or more.
fn page_problems(img: &Gray, page: usize, last: bool) -> Vec<String> {
    // @page margins in print.css: 15 mm top, 18 mm bottom; the footer sits in the bottom margin.
    let (top, bottom) = (mm(15.0), img.h - mm(18.0));
    let above_footer = img.h - mm(12.0);
    let long = |y: usize| img.dark_in_row(y) * 10 >= img.w * 6;
    let inked: Vec<usize> = (0..above_footer)
        .filter(|y| img.dark_in_row(*y) > 0)
        .collect();
    let mut out = Vec::new();
    let Some(&lowest) = inked.last() else {
        return vec![format!("page {page} is blank")];
    };
    if !(lowest.saturating_sub(2)..=lowest).any(long) {
        out.push(format!(
            "page {page}: the lowest ink (y={lowest} px of {}) is not a table-wide line: the last row has no bottom border",
            img.h
        ));
    }
    if lowest > bottom + 2 {
        out.push(format!(
            "page {page}: ink at y={lowest} below the page's content area (ends at {bottom})"
        ));
    }
    if !last {
        let content = bottom - top;
        let mut band = bottom.saturating_sub(lowest);
        for w in inked.windows(2) {
            band = band.max(w[1] - w[0]);
        }
        if band * 5 >= content {
            out.push(format!(
                "page {page}: a blank band of {band} px in a content area of {content} px"
            ));
        }
    }
    out
}

/// How often `re` matches in `text`.
fn count(re: &str, text: &str) -> usize {
    regex::Regex::new(re).unwrap().find_iter(text).count()
}

#[tokio::test]
async fn printed_inventory_keeps_headers_whole_rows_borders_and_pills() {
    let Some(pdftotext) = pdftotext()
        .or_else(|| unavailable("pdftotext is not installed (apt-get install poppler-utils)"))
    else {
        return;
    };
    let Some(pdftoppm) = find_program("PDFTOPPM", &["pdftoppm"])
        .or_else(|| unavailable("pdftoppm is not installed (apt-get install poppler-utils)"))
    else {
        return;
    };
    let app = spawn_app();
    setup_owner(&app, "acme").await;
    let tokens = seed_long(&app, TOKENS);
    let with_status = |s: &str| tokens.iter().filter(|t| t.status == s).count();

    with_browser(&app.address, async |b: &Browser| {
        b.login(OWNER, PASSWORD).await;
        b.goto(INVENTORY).await;
        b.wait_for("table.inventory-table tr[data-token-id]").await;
        // The print layout at each paper's content width (CSS px): whole pills inside cells,
        // words unbroken, nothing wider than the paper.
        crate::screens::set_print(b, true).await;
        // (The inventory asks for landscape pages; 703 px is A4 portrait, for a browser that
        // does not honour that.)
        for (width, paper) in [
            (703u32, "A4 portrait"),
            (965, "Letter landscape"),
            (1032, "A4 landscape"),
        ] {
            b.set_width((width, 900)).await;
            let problems = b.js(TABLE_FITS, vec![]).await;
            assert_eq!(problems, json!([]), "print layout, {paper} ({width} px)");
        }
        crate::screens::set_print(b, false).await;
        b.set_width(crate::browser::DESKTOP).await;

        for (size, orientation, label) in [
            (PrintSize::A4, PrintOrientation::Portrait, "a4-portrait"),
            (
                PrintSize::US_LETTER,
                PrintOrientation::Landscape,
                "letter-landscape",
            ),
        ] {
            let name = format!("inventory-print-{label}");
            let pdf = print_pdf(b, size, orientation, &name).await;
            let pages = pdf_pages(&pdftotext, &pdf);
            let all = pages.join("\n");
            assert!(pages.len() >= 3, "{label}: {} page(s)?\n{all}", pages.len());
            for (i, page) in pages.iter().enumerate().skip(1) {
                let head = first_lines(page, 3);
                assert!(
                    head.trim_start().starts_with("Name")
                        && head.contains("Provider")
                        && head.contains("Status")
                        && head.contains("Created"),
                    "{label}: page {} does not start with the table header:\n{head}",
                    i + 1
                );
            }
            // Whole rows: on each page, as many rows start (the hint under the name) as end
            // (the status cell's last line, "tested …" or "never tested").
            for (i, page) in pages.iter().enumerate() {
                let starts = count(r"ghp_…\d{4}", page);
                let ends = count(r"tested \d{4}-\d\d-\d\d|never tested", page);
                assert_eq!(
                    starts,
                    ends,
                    "{label}: page {} splits a row:\n{page}",
                    i + 1
                );
            }
            // The hint column, every token's.
            for t in &tokens {
                assert!(all.contains(&t.hint), "{label}: hint {} not printed", t.hint);
            }
            // Whole pills: each badge's words on one line.
            let expiry = r"Expires in \d+ days?|Expired \d+ days? ago|Expires \d{4}-\d\d-\d\d|Expired \d{4}-\d\d-\d\d|No expiry set|Expiry unknown";
            assert_eq!(count(expiry, &all), TOKENS, "{label}: expiry pills\n{all}");
            for (label_text, status) in [
                ("Missing permissions", "missing_permissions"),
                ("Not tested", "not_tested"),
            ] {
                // The rows' pills and the summary's line.
                assert_eq!(
                    count(label_text, &all),
                    with_status(status) + 1,
                    "{label}: {label_text:?} pills\n{all}"
                );
            }
            // Borders and blank space, measured on the page images.
            let images = page_images(&pdftoppm, &pdf, &name);
            assert_eq!(images.len(), pages.len(), "{label}: page images");
            let n = images.len();
            let problems: Vec<String> = images
                .iter()
                .enumerate()
                .flat_map(|(i, img)| page_problems(img, i + 1, i + 1 == n))
                .collect();
            assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
        }
    })
    .await;
}

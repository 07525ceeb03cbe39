//! A QR code as inline SVG, drawn on the server (no script): what the two-factor page shows
//! for the `otpauth://` URI.

use qrcode::QrCode;
use qrcode::render::svg;

/// The SVG element (no XML declaration) of a QR code of `data`, with `role="img"` and the
/// label `label`; `None` if the data does not fit a QR code.
pub fn svg(data: &str, label: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let drawn = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = drawn.find("<svg")?;
    let label = askama_escape(label);
    let svg = drawn[start..].replacen(" version=\"1.1\"", "", 1).replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"qr\" focusable=\"false\""),
        1,
    );
    Some(svg)
}

fn askama_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_accessible_svg_without_declaration() {
        let s = super::svg(
            "otpauth://totp/Forgekeys:a%40b.test?secret=ABC",
            "QR \"code\"",
        )
        .unwrap_or_default();
        assert!(
            s.starts_with("<svg role=\"img\" aria-label=\"QR &quot;code&quot;\""),
            "{s}"
        );
        assert!(!s.contains("<?xml"));
        assert!(s.ends_with("</svg>"));
    }
}

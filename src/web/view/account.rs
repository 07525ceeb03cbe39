//! The account page in words: a session's device named from its user agent, and its times.

use super::time::relative;
use crate::app::account::SessionEntry;
use crate::web::urls;
use chrono::NaiveDateTime;

/// "Firefox on Linux" from a `User-Agent` header: the browser, then the system (a small parser
/// for the common browsers; anything else is "Unknown browser" / "unknown system").
pub fn device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.trim().is_empty()) else {
        return "Unknown device".into();
    };
    format!("{} on {}", browser(ua), system(ua))
}

fn browser(ua: &str) -> &'static str {
    // Order matters: Edge and Opera also say Chrome; Chrome also says Safari.
    const BROWSERS: [(&str, &str); 9] = [
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    if let Some((_, name)) = BROWSERS.iter().find(|(needle, _)| ua.contains(needle)) {
        return name;
    }
    for (needle, name) in [("curl/", "curl"), ("git/", "Git"), ("reqwest", "a script")] {
        if ua.contains(needle) {
            return name;
        }
    }
    "Unknown browser"
}

fn system(ua: &str) -> &'static str {
    const SYSTEMS: [(&str, &str); 8] = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ];
    SYSTEMS
        .iter()
        .find(|(needle, _)| ua.contains(needle))
        .map_or("unknown system", |(_, name)| name)
}

/// One row of the sessions table.
pub struct SessionView {
    pub device: String,
    pub ip: String,
    pub last_seen: String,
    pub signed_in: String,
    pub current: bool,
    pub revoke_url: String,
}

impl SessionView {
    pub fn new(e: &SessionEntry, now: NaiveDateTime) -> SessionView {
        SessionView {
            device: device(e.user_agent.as_deref()),
            ip: e.client_ip.clone().unwrap_or_else(|| "unknown".into()),
            last_seen: if e.current {
                "now".into()
            } else {
                relative(e.last_seen_at, now)
            },
            signed_in: relative(e.signed_in_at, now),
            current: e.current,
            revoke_url: urls::account_session_revoke(&e.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::device;

    #[test]
    fn common_user_agents_are_named() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
                "Chrome on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
        ];
        for (ua, want) in cases {
            assert_eq!(device(Some(ua)), want, "{ua}");
        }
        assert_eq!(device(None), "Unknown device");
        assert_eq!(device(Some("curl/8.5")), "curl on unknown system");
    }
}

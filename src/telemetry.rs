//! Logging. Token values never reach a log line: they live in `SecretString`s whose `Debug`
//! prints `[REDACTED]`, and no handler logs request bodies. The request log line
//! (`web::request_log`) carries the route *pattern*, never the path or query string, so the
//! one-time setup and reset links stay out of the log too.
//!
//! `FORGEKEYS_LOG_FORMAT=json` writes one JSON object a line to standard error: `timestamp`,
//! `level`, `target`, `message` and the event's fields at the top level (for a request:
//! `method`, `route`, `status`, `duration_ms`, `client_ip`).

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_target(true)
            .try_init(),
    };
}

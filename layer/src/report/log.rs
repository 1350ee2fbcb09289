//! `tracing` output of the layer: target `handoff`, filtered by `RUST_LOG`, to stderr or
//! the `log_file` setting.
//!
//! The subscriber is global to this library's own copy of `tracing` (a cdylib links its
//! own), so it never replaces a subscriber the application installed for itself.

use handoff_rules::{Rule, Severity};
use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Mutex, Once};
use tracing_subscriber::EnvFilter;

static INIT: Once = Once::new();

/// Without `RUST_LOG`, findings (warn and error) still reach stderr.
const DEFAULT_FILTER: &str = "handoff=warn";

/// Installs the subscriber on first use; later instances share it (the first instance's
/// `log_file` wins, since there is one log per process).
pub fn init(log_file: Option<&Path>) {
    INIT.call_once(|| {
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(true);
        let file = log_file.and_then(|p| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| eprintln!("handoff: cannot open log_file {}: {e}", p.display()))
                .ok()
        });
        let _ = match file {
            Some(f) => builder
                .with_ansi(false)
                .with_writer(Mutex::new(f))
                .try_init(),
            None => builder
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .try_init(),
        };
    });
}

/// A finding as a log event.
pub fn finding(rule: &Rule, message: &str) {
    match rule.severity {
        Severity::Error => tracing::error!(target: "handoff", id = rule.id, "{message}"),
        Severity::Warning => tracing::warn!(target: "handoff", id = rule.id, "{message}"),
    }
}

/// The terminal summary, verbatim (a table reads badly with a log prefix on every line):
/// appended to `log_file` when set, else to stderr.
pub fn summary(log_file: Option<&Path>, table: &str) {
    use std::io::Write;
    let written = log_file.is_some_and(|p| {
        OpenOptions::new()
            .append(true)
            .open(p)
            .and_then(|mut f| f.write_all(table.as_bytes()))
            .is_ok()
    });
    if !written {
        let _ = std::io::stderr().write_all(table.as_bytes());
    }
}

/// Called before `abort()`: writers here are unbuffered, stderr needs nothing more.
pub fn flush() {
    use std::io::Write;
    let _ = std::io::stderr().flush();
}

//! `tracing` output of the layer: target `handoff`, filtered by `RUST_LOG`, to stderr or
//! the `log_file` setting.
//!
//! The subscriber is global to this library's own copy of `tracing` (a cdylib links its
//! own), so it never replaces a subscriber the application installed for itself.

use handoff_rules::{Rule, Severity};
use std::fs::File;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use tracing_subscriber::EnvFilter;

static INIT: Once = Once::new();

/// Whether the filter lets `trace` events of the layer through: the hot paths test this
/// flag, which sits beside the statics they touch anyway, instead of `tracing`'s own
/// maximum level on a page of its own (every page a call touches costs a TLB walk after
/// the driver's system calls).
#[link_section = ".data.handoff_hot"]
static TRACE: AtomicBool = AtomicBool::new(false);

/// Whether a `trace` event may be logged (see [`TRACE`]).
#[inline(always)]
pub fn trace_on() -> bool {
    TRACE.load(Ordering::Relaxed)
}

/// Runs `f` in a function of its own, out of the caller's text: an event's expansion is a
/// few hundred bytes that would otherwise sit among the hot path's instructions.
#[cold]
#[inline(never)]
pub fn cold(f: impl FnOnce()) {
    f()
}

/// `tracing::trace!` with target `handoff`, for the hot paths: asks [`trace_on`] first, and
/// keeps the event's code out of line (see [`cold`]).
macro_rules! hot_trace {
    ($($arg:tt)+) => {
        if $crate::report::log::trace_on() {
            $crate::report::log::cold(|| tracing::trace!(target: "handoff", $($arg)+));
        }
    };
}

pub(crate) use hot_trace;

/// The open `log_file`, shared by the subscriber and the terminal summary, so the path is
/// opened (and checked) once: a second open could be raced by a symlink planted after the
/// first.
static LOG_FILE: OnceLock<Option<Arc<File>>> = OnceLock::new();

/// Why `log_file` was refused, until the first reporter takes it to report it as
/// `HANDOFF-Settings-invalid`.
static PROBLEM: Mutex<Option<String>> = Mutex::new(None);
/// For fork.rs, which holds it across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 1] {
    [&PROBLEM]
}

/// Without `RUST_LOG`, findings (warn and error) still reach stderr.
const DEFAULT_FILTER: &str = "handoff=warn";

/// Installs the subscriber on first use; later instances share it (the first instance's
/// `log_file` wins, since there is one log per process). A `log_file` that cannot be opened
/// safely (a symlink, a FIFO, no permission: `super::jsonl::open_private_append`) is not
/// used: the log goes to stderr, which says why at once, and [`take_problem`] hands the
/// reason to the reporter.
pub fn init(log_file: Option<&Path>) {
    INIT.call_once(|| {
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
        // No hint: the filter cannot tell, so the events go to it.
        let trace = !matches!(filter.max_level_hint(), Some(l) if l < tracing::level_filters::LevelFilter::TRACE);
        TRACE.store(trace, Ordering::Relaxed);
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(true);
        let file = log_file.and_then(|p| {
            super::jsonl::open_private_append(p, "log file")
                .map_err(|e| {
                    let msg = format!("log_file {}: {e}; the log goes to stderr", p.display());
                    eprintln!("handoff: {msg}");
                    *PROBLEM.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
                })
                .ok()
                .map(Arc::new)
        });
        let _ = LOG_FILE.set(file.clone());
        let _ = match file {
            Some(f) => builder.with_ansi(false).with_writer(f).try_init(),
            None => builder
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .try_init(),
        };
    });
}

/// Why `log_file` was refused, once (for the first instance's reporter).
pub fn take_problem() -> Option<String> {
    PROBLEM.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A finding as a log event.
pub fn finding(rule: &Rule, message: &str) {
    match rule.severity {
        Severity::Error => tracing::error!(target: "handoff", id = rule.id, "{message}"),
        Severity::Warning => tracing::warn!(target: "handoff", id = rule.id, "{message}"),
    }
}

/// The terminal summary, verbatim (a table reads badly with a log prefix on every line):
/// appended to the open `log_file` when there is one, else to stderr.
pub fn summary(_log_file: Option<&Path>, table: &str) {
    use std::io::Write;
    let written = match LOG_FILE.get() {
        Some(Some(f)) => (&**f).write_all(table.as_bytes()).is_ok(),
        _ => false,
    };
    if !written {
        let _ = std::io::stderr().write_all(table.as_bytes());
    }
}

/// Called before `abort()`: writers here are unbuffered, stderr needs nothing more.
pub fn flush() {
    use std::io::Write;
    let _ = std::io::stderr().flush();
}

//! The short table of counts the layer prints itself when the process ends its instance
//! without `handoff run` around it, so a plain `VK_INSTANCE_LAYERS=… app` run still ends
//! with a verdict-sized overview rather than only a scrolling log.
//!
//! When: only when findings went to the log (the app's own messenger already showed them
//! otherwise, and a silent run stays silent), and then
//! - never under `handoff run` (`HANDOFF_RUN=1`), which prints the fuller summary of every
//!   process itself;
//! - always with `HANDOFF_SUMMARY=1`, never with `HANDOFF_SUMMARY=0`;
//! - otherwise only when it would go to a terminal (stderr is a TTY and no `log_file`): a
//!   piped stderr is usually a log that tools scrape line by line, where an unasked-for
//!   table would add lines naming every id a second time.

use handoff_rules::Severity;

/// Set by `handoff run` for the app it runs: the wrapper summarises, the layer keeps quiet.
pub const WRAPPER_ENV: &str = "HANDOFF_RUN";

/// `1` forces the summary (also into `log_file` or a piped stderr), `0` turns it off.
pub const SUMMARY_ENV: &str = "HANDOFF_SUMMARY";

/// A variable counts as set when it is neither absent, empty nor `0`.
fn set(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0")
}

/// Whether to print the summary, given `HANDOFF_RUN`, `HANDOFF_SUMMARY`, and whether it
/// would go to a terminal.
pub fn wanted(run: Option<&str>, force: Option<&str>, to_terminal: bool) -> bool {
    if set(run) {
        return false;
    }
    match force {
        Some("0") => false,
        f if set(f) => true,
        _ => to_terminal,
    }
}

/// The table for `counts` (id, number of findings), most frequent first, or `None` when
/// there is nothing to show.
pub fn render(counts: &[(&str, u64)]) -> Option<String> {
    let mut rows: Vec<(&str, &'static str, u64)> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|&(id, n)| {
            let severity = match handoff_rules::lookup(id).map(|r| r.severity) {
                Some(Severity::Error) => "error",
                Some(Severity::Warning) => "warning",
                None => "?",
            };
            (id, severity, n)
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let total: u64 = rows.iter().map(|r| r.2).sum();
    let errors: u64 = rows.iter().filter(|r| r.1 == "error").map(|r| r.2).sum();
    let width = rows
        .iter()
        .map(|r| r.2.to_string().len())
        .max()
        .unwrap_or(1)
        .max(5);
    let plural = |n: u64, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut out = format!(
        "handoff: {} ({}, {}) from {}\n",
        plural(total, "finding"),
        plural(errors, "error"),
        plural(total - errors, "warning"),
        plural(rows.len() as u64, "rule"),
    );
    out.push_str(&format!("  {:>width$}  {:<8} id\n", "count", "severity"));
    for (id, severity, n) in rows {
        out.push_str(&format!("  {n:>width$}  {severity:<8} {id}\n"));
    }
    out.push_str(&format!(
        "  (`handoff run` gives a verdict and a JUnit report; {SUMMARY_ENV}=0 hides this table)\n"
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_frequent_first_and_aligned() {
        let t = render(&[
            ("HANDOFF-Sync-release-without-signal", 2),
            ("HANDOFF-Import-fd-reused", 12),
            ("HANDOFF-Chain-malformed", 2),
        ])
        .unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "handoff: 16 findings (14 errors, 2 warnings) from 3 rules"
        );
        assert_eq!(lines[1], "  count  severity id");
        assert_eq!(lines[2], "     12  error    HANDOFF-Import-fd-reused");
        assert_eq!(lines[3], "      2  error    HANDOFF-Chain-malformed");
        assert_eq!(
            lines[4],
            "      2  warning  HANDOFF-Sync-release-without-signal"
        );
        assert!(lines[5].contains("HANDOFF_SUMMARY=0"));
    }

    #[test]
    fn nothing_to_show() {
        assert_eq!(render(&[]), None);
        assert_eq!(render(&[("HANDOFF-Import-fd-reused", 0)]), None);
    }

    #[test]
    fn when_it_is_printed() {
        assert!(wanted(None, None, true));
        assert!(!wanted(None, None, false));
        assert!(wanted(None, Some("1"), false));
        assert!(!wanted(None, Some("0"), true));
        assert!(!wanted(Some("1"), Some("1"), true));
        assert!(wanted(Some("0"), None, true));
        assert!(wanted(Some(""), None, true));
    }
}

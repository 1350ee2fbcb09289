//! The counts table the layer prints itself at vkDestroyInstance (layer/src/report/summary.rs):
//! forced here with HANDOFF_SUMMARY=1, since the harness's stderr is a pipe, not a terminal.

mod common;
use common::*;

/// Lines of the summary table (its header line and the rows after it).
fn summary(stderr: &str) -> Option<Vec<String>> {
    let start = stderr
        .lines()
        .position(|l| l.starts_with("handoff: ") && l.contains(" finding"))?;
    Some(
        stderr
            .lines()
            .skip(start)
            .take(4)
            .map(str::to_owned)
            .collect(),
    )
}

on_both_drivers! {
    /// Findings logged, no wrapper: a table naming the id with its count and severity.
    fn summary_printed_when_findings_were_logged(d: Driver) {
        let out = scenario("get-fd", d)
            .arg("--no-messenger")
            .env("HANDOFF_SUMMARY", "1")
            .run();
        let table = summary(&out.stderr).unwrap_or_else(|| panic!("no summary\n{}", out.context()));
        assert_eq!(table[0], "handoff: 1 finding (1 error, 0 warnings) from 1 rule", "{}", out.context());
        assert_eq!(table[1], "  count  severity id");
        assert_eq!(table[2], format!("      1  error    {NOT_EXPORTED}"));
    }
}

on_both_drivers! {
    /// Under `handoff run` (HANDOFF_RUN=1) the wrapper summarises: the layer stays quiet.
    fn summary_suppressed_under_handoff_run(d: Driver) {
        let out = scenario("get-fd", d)
            .arg("--no-messenger")
            .env("HANDOFF_SUMMARY", "1")
            .env("HANDOFF_RUN", "1")
            .run();
        assert!(summary(&out.stderr).is_none(), "{}", out.context());
    }
}

on_both_drivers! {
    /// The app's messenger received the findings: nothing was logged, no table; and a piped
    /// stderr without HANDOFF_SUMMARY gets none either.
    fn summary_absent_with_a_messenger_or_a_pipe(d: Driver) {
        let out = scenario("get-fd", d).env("HANDOFF_SUMMARY", "1").run();
        out.assert_ids(&[NOT_EXPORTED]);
        assert!(summary(&out.stderr).is_none(), "{}", out.context());
        let out = scenario("get-fd", d).arg("--no-messenger").run();
        assert!(summary(&out.stderr).is_none(), "{}", out.context());
    }
}

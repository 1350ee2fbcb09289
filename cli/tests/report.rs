//! `handoff report` on hand-written JSON Lines reports: table, exit policy, JUnit XML.

mod common;

use common::*;

const ERROR_LINE: &str = r#"{"type":"finding","time":"2026-01-01T00:00:00Z","pid":11,"process":"a<b>","id":"VUID-X-1","id_number":1,"severity":"error","message":"memory <0x1> & \"quotes\" broke","objects":[{"type":"VkDeviceMemory","handle":"0x1"}],"spec":"https://docs.vulkan.org/x","suppressed":0}"#;
const WARNING_LINE: &str = r#"{"type":"finding","time":"2026-01-01T00:00:01Z","pid":12,"process":"b","id":"HANDOFF-W","id_number":2,"severity":"warning","message":"a warning","objects":[],"spec":"","suppressed":0}"#;
const SUMMARY_LINE: &str = r#"{"type":"summary","time":"2026-01-01T00:00:02Z","pid":13,"process":"c","counts":{},"live_objects":{},"state_bytes":0}"#;

#[test]
fn several_reports_merge_into_one_table_and_suite() {
    let scratch = Scratch::new("report-merge");
    let first = scratch.file("one.jsonl");
    let second = scratch.file("two.jsonl");
    std::fs::write(&first, format!("{ERROR_LINE}\n{ERROR_LINE}\n")).unwrap();
    std::fs::write(&second, format!("{WARNING_LINE}\n\n{SUMMARY_LINE}\n")).unwrap();
    let junit = scratch.file("out.xml");
    let (out, text) = handoff(&[
        "report",
        first.to_str().unwrap(),
        second.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains('\x1b'), "no colour off a TTY: {stdout}");
    let error_row = stdout.lines().position(|l| l.starts_with("VUID-X-1"));
    let warning_row = stdout.lines().position(|l| l.starts_with("HANDOFF-W"));
    assert!(error_row < warning_row, "the most frequent first: {stdout}");
    assert!(
        stdout.contains("3 findings of 2 rules in 3 processes"),
        "{stdout}"
    );

    let cases = junit_cases(&junit);
    let x = cases
        .iter()
        .find(|c| c.name == "VUID-X-1")
        .expect("a case per rule");
    let failure = x.failure.as_deref().expect("an error fails");
    assert!(
        failure.contains("memory <0x1> & \"quotes\" broke"),
        "escaped and read back: {failure}"
    );
    assert!(failure.contains("VkDeviceMemory 0x1"));
    let w = cases.iter().find(|c| c.name == "HANDOFF-W").unwrap();
    assert!(
        w.failure.is_none(),
        "a warning passes under --fail-on error"
    );
    assert!(
        cases.iter().any(|c| c.name == "a<b> (pid 11)"),
        "{cases:#?}"
    );
    assert!(
        cases.iter().any(|c| c.name.contains("pid 13")),
        "{cases:#?}"
    );
}

#[test]
fn clean_report_passes() {
    let scratch = Scratch::new("report-clean");
    let file = scratch.file("clean.jsonl");
    std::fs::write(&file, format!("{SUMMARY_LINE}\n")).unwrap();
    let junit = scratch.file("out.xml");
    let (out, text) = handoff(&[
        "report",
        file.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let cases = junit_cases(&junit);
    assert!(
        !cases.is_empty() && cases.iter().all(|c| c.failure.is_none()),
        "{cases:#?}"
    );
}

#[test]
fn fail_on_levels() {
    let scratch = Scratch::new("report-levels");
    let file = scratch.file("w.jsonl");
    std::fs::write(&file, format!("{WARNING_LINE}\n")).unwrap();
    let path = file.to_str().unwrap();
    assert_eq!(handoff(&["report", path]).0.status.code(), Some(0));
    assert_eq!(
        handoff(&["report", path, "--fail-on", "warning"])
            .0
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        handoff(&["report", "--fail-on=never", path])
            .0
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn unreadable_reports_exit_two() {
    let scratch = Scratch::new("report-bad");
    let bad = scratch.file("bad.jsonl");
    std::fs::write(&bad, "{not json\n").unwrap();
    assert_eq!(
        handoff(&["report", bad.to_str().unwrap()]).0.status.code(),
        Some(2)
    );
    assert_eq!(
        handoff(&["report", "/nonexistent.jsonl"]).0.status.code(),
        Some(2)
    );
    assert_eq!(handoff(&["report"]).0.status.code(), Some(2));
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    // `script` gives the command a pseudo-terminal.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to provide a terminal");
        return;
    }
    let scratch = Scratch::new("report-colour");
    let file = scratch.file("e.jsonl");
    std::fs::write(&file, format!("{ERROR_LINE}\n")).unwrap();
    let command = format!("{} report {}", handoff_bin(), file.display());
    let on_tty = |no_color: bool| {
        let mut script = std::process::Command::new("script");
        script.args(["-qec", &command, "/dev/null"]);
        if no_color {
            script.env("NO_COLOR", "1");
        } else {
            script.env_remove("NO_COLOR");
        }
        String::from_utf8_lossy(&script.output().unwrap().stdout).into_owned()
    };
    let coloured = on_tty(false);
    assert!(coloured.contains("\x1b[1;31m"), "{coloured:?}");
    let plain = on_tty(true);
    assert!(
        plain.contains("VUID-X-1") && !plain.contains('\x1b'),
        "{plain:?}"
    );
}

//! `handoff run` on the bundled examples through the real loader and layer (mock ICD `full`):
//! exit status, the JSON Lines copy, the JUnit XML, `--fail-on` and muted ids.

mod common;

use common::*;

const SEMAPHORE: &str = "HANDOFF-Sync-release-without-signal";
const LAYOUT: &str = "HANDOFF-Handoff-layout-not-general";
const EXPORT: &str = "VUID-VkMemoryGetFdInfoKHR-handleType-00671";

#[test]
fn clean_app_exits_zero() {
    let (out, text) = run_example(&[], "roundtrip", &[]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("handoff: no findings"), "{text}");
}

#[test]
fn buggy_app_exits_one_and_names_the_rule() {
    let (out, text) = run_example(&[], "roundtrip", &["--bug"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = stdout
        .lines()
        .find(|l| l.starts_with(EXPORT))
        .unwrap_or_else(|| panic!("no row for {EXPORT}: {text}"));
    assert!(row.contains("error"), "{row}");
    assert!(stdout.contains("spec: https://"), "{text}");
}

#[test]
fn crashing_app_is_reported_with_its_signal() {
    let (out, text) = handoff(&["run", "--", "sh", "-c", "kill -SEGV $$"]);
    assert_eq!(out.status.code(), Some(128 + 11), "{text}");
    assert!(text.contains("killed by signal 11"), "{text}");
}

#[test]
fn failing_app_passes_its_own_status() {
    let (out, text) = handoff(&["run", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{text}");
    let (out, text) = handoff(&["run", "--", "/nonexistent/app"]);
    assert_eq!(out.status.code(), Some(2), "{text}");
}

#[test]
fn two_processes_in_json_lines_and_junit() {
    let scratch = Scratch::new("two-processes");
    let report = scratch.file("report.jsonl");
    let junit = scratch.file("junit.xml");
    let (out, text) = run_example(
        &[
            "--setting",
            "best_practices=true",
            "--fail-on",
            "warning",
            "--report",
            report.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        "image_handoff",
        &["--bug-semaphore"],
    );
    assert_eq!(out.status.code(), Some(1), "{text}");

    let records = json_lines(&report);
    let found = findings(&records);
    let mut pids: Vec<u64> = found.iter().map(|f| f["pid"].as_u64().unwrap()).collect();
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 2, "one finding per process: {records:#?}");
    assert!(found.iter().all(|f| f["id"] == SEMAPHORE), "{found:#?}");
    let summaries = records.iter().filter(|r| r["type"] == "summary").count();
    assert!(summaries >= 2, "a summary per process: {records:#?}");

    let cases = junit_cases(&junit);
    let rules: Vec<_> = cases
        .iter()
        .filter(|c| c.suite == "handoff.rules")
        .collect();
    assert_eq!(rules.len(), 1, "{cases:#?}");
    assert_eq!(rules[0].name, SEMAPHORE);
    let failure = rules[0].failure.as_deref().expect("the rule fails");
    for pid in &pids {
        assert!(failure.contains(&format!("pid {pid}")), "{failure}");
    }
    let processes: Vec<_> = cases
        .iter()
        .filter(|c| c.suite == "handoff.processes" && c.name.contains("(pid "))
        .collect();
    assert_eq!(processes.len(), 2, "{cases:#?}");
    assert!(processes.iter().all(|c| c.failure.is_some()));

    // The same report through `handoff report` gives the same verdict and cases.
    let junit2 = scratch.file("again.xml");
    let (out, text) = handoff(&[
        "report",
        report.to_str().unwrap(),
        "--fail-on",
        "warning",
        "--junit",
        junit2.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let again = junit_cases(&junit2);
    assert_eq!(again.iter().filter(|c| c.failure.is_some()).count(), 3);
}

#[test]
fn fail_on_warning() {
    let (out, text) = run_example(&[], "image_handoff", &["--bug-layout"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning passes by default: {text}"
    );
    assert!(text.contains(LAYOUT), "{text}");
    let (out, text) = run_example(
        &["--fail-on", "warning"],
        "image_handoff",
        &["--bug-layout"],
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    let (out, text) = run_example(&["--fail-on", "never"], "roundtrip", &["--bug"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
}

#[test]
fn muted_id_disappears_everywhere() {
    let scratch = Scratch::new("muted");
    let report = scratch.file("report.jsonl");
    let junit = scratch.file("junit.xml");
    let (out, text) = run_example(
        &[
            "--setting",
            "best_practices=true",
            "--setting",
            &format!("message_id_filter={SEMAPHORE}"),
            "--fail-on",
            "warning",
            "--report",
            report.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        "image_handoff",
        &["--bug-semaphore"],
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains(SEMAPHORE), "{text}");
    let records = json_lines(&report);
    assert!(!records.is_empty(), "the layer still wrote its summaries");
    assert!(!std::fs::read_to_string(&report)
        .unwrap()
        .contains(SEMAPHORE));
    assert!(findings(&records).is_empty(), "{records:#?}");
    assert!(!std::fs::read_to_string(&junit).unwrap().contains(SEMAPHORE));
    let cases = junit_cases(&junit);
    assert!(cases.iter().all(|c| c.failure.is_none()), "{cases:#?}");
}

#[test]
fn bad_usage_exits_two() {
    for args in [
        &["run"][..],
        &["run", "--driver", "gpu", "--", "true"],
        &["run", "--setting", "report_file=x", "--", "true"],
    ] {
        let (out, text) = handoff(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
    }
}

/// A real driver, clean and buggy: lavapipe (`--driver lavapipe`) where it is installed,
/// else the driver named by `HANDOFF_TEST_ICD` (`--driver system` with `VK_DRIVER_FILES`,
/// the NVIDIA driver on the GPU machine). Neither: the test fails, it never skips.
#[test]
fn real_driver_clean_and_buggy() {
    let has_lavapipe = std::fs::read_dir("/usr/share/vulkan/icd.d")
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("lvp_icd."))
        })
        .unwrap_or(false);
    let test_icd = std::env::var_os("HANDOFF_TEST_ICD");
    let (driver, env): (&str, Vec<(&str, &std::ffi::OsStr)>) = match &test_icd {
        _ if has_lavapipe => ("lavapipe", vec![]),
        Some(icd) => ("system", vec![("VK_DRIVER_FILES", icd.as_os_str())]),
        None => panic!(
            "no real driver: install lavapipe (`apt-get install mesa-vulkan-drivers`) or point \
             HANDOFF_TEST_ICD at an ICD manifest"
        ),
    };
    let bin = handoff_bin();
    for (bug, code) in [(None, 0), (Some("--bug"), 1)] {
        let mut args = vec![
            "run",
            "--driver",
            driver,
            "--",
            &bin,
            "example",
            "roundtrip",
        ];
        args.extend(bug);
        let (out, text) = handoff_env(&args, &env);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {text}");
        if bug.is_none() {
            assert!(text.contains("bytes matched"), "{args:?}: {text}");
        }
    }
}

//! Where findings go: messengers (also chained on VkInstanceCreateInfo), debug-report
//! callbacks, the JSON Lines report file, tracing logs; and the leak check.

mod common;
use common::*;

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

on_both_drivers! {
    /// A messenger chained on VkInstanceCreateInfo gets HANDOFF-Settings-invalid, raised
    /// while vkCreateInstance reads a bad VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT; the default
    /// limit (10) is used; and the chained messenger hears nothing after vkCreateInstance.
    fn chained_messenger_gets_settings_invalid(d: Driver) {
        let out = scenario("get-fd", d)
            .args(["--chain-messenger", "--repeat", "15"])
            .env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "abc")
            .run();
        assert_eq!(out.handoff_ids_via("create_info"), [SETTINGS_INVALID], "{}", out.context());
        assert_eq!(out.handoff_ids_via("messenger"), times(NOT_EXPORTED, 10), "{}", out.context());
        let f = out.with_id(SETTINGS_INVALID);
        assert!(f[0].message.contains("duplicate_limit"), "the message names the key\n{}", out.context());
        assert_eq!(f[0].severity, "warning", "{}", out.context());
        assert_eq!(f[0].number, handoff_rules::id_number(SETTINGS_INVALID));
    }
}

on_both_drivers! {
    /// A VK_EXT_debug_report callback receives the finding too: one message naming the VUID,
    /// ERROR flag, messageCode = the id number, object = the memory.
    fn debug_report_callback_gets_findings(d: Driver) {
        let out = scenario("get-fd", d).arg("--report-callback").run();
        out.assert_ids(&[NOT_EXPORTED]);
        let reports: Vec<&Value> = out.results()["report_callback"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["message"].as_str().unwrap().contains(NOT_EXPORTED))
            .collect();
        assert_eq!(reports.len(), 1, "{}", out.context());
        let r = reports[0];
        assert_eq!(r["message_code"].as_i64(), Some(i64::from(handoff_rules::id_number(NOT_EXPORTED))), "{}", out.context());
        assert_ne!(r["flags"].as_i64().unwrap() & i64::from(ash::vk::DebugReportFlagsEXT::ERROR.as_raw()), 0, "{}", out.context());
        assert_eq!(r["object"].as_str().unwrap(), out.result_str("memory"), "{}", out.context());
        assert_eq!(r["object_type"].as_i64(), Some(i64::from(ash::vk::DebugReportObjectTypeEXT::DEVICE_MEMORY.as_raw())), "{}", out.context());
    }
}

on_both_drivers! {
    /// A messenger callback returning VK_TRUE for the finding makes the layer return
    /// VK_ERROR_VALIDATION_FAILED_EXT without calling down (*pFd untouched; without the
    /// layer the driver answers VK_SUCCESS and writes -1).
    fn callback_returning_true_aborts_the_call(d: Driver) {
        let out = scenario("get-fd", d).arg("--callback-returns-true").run();
        out.assert_ids(&[NOT_EXPORTED]);
        assert_eq!(first_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
        assert!(!first_fd_written(&out), "the driver was called\n{}", out.context());

        let baseline = scenario("get-fd", d).layer(Layer::Off).arg("--callback-returns-true").run();
        baseline.assert_ids(&[]);
        assert_ne!(first_result(&baseline), VK_ERROR_VALIDATION_FAILED_EXT, "{}", baseline.context());
        if lavapipe_like(d) {
            assert_eq!(first_result(&baseline), VK_SUCCESS, "{}", baseline.context());
            assert!(first_fd_written(&baseline), "{}", baseline.context());
        }
    }
}

on_both_drivers! {
    /// vkDestroyDevice with a live VkDeviceMemory: HANDOFF-Leak-live-objects once, naming
    /// the device and the memory.
    fn destroy_device_with_live_memory_reports_leak(d: Driver) {
        let out = scenario("get-fd", d).args(["--export", "opaque", "--leak"]).run();
        out.assert_ids(&[LEAK]);
        let f = out.with_id(LEAK);
        assert!(f[0].names(&out.result_str("memory")), "{}", out.context());
        assert!(f[0].names(&out.result_str("device")), "{}", out.context());
        assert_eq!(f[0].severity, "error");
    }
}

fn report_lines(path: &std::path::Path, out: &Outcome) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}\n{}", path.display(), out.context()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s.ends_with('Z')
}

on_both_drivers! {
    /// VK_HANDOFF_VALIDATION_REPORT_FILE: one finding line with the documented keys, then a
    /// summary at vkDestroyInstance (counts, live_objects.memory = 0 after the free,
    /// state_bytes); the file is created 0600.
    fn report_file_records_findings_and_summary(d: Driver) {
        let s = scenario("get-fd", d);
        let path = s.dir().join("report.jsonl");
        let out = s.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &path).run();
        out.assert_ids(&[NOT_EXPORTED]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "report file mode {mode:o}");
        let lines = report_lines(&path, &out);

        let findings: Vec<&Value> = lines.iter().filter(|l| l["type"] == "finding").collect();
        assert_eq!(findings.len(), 1, "{lines:#?}");
        let f = findings[0];
        let mut keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["id", "id_number", "message", "objects", "pid", "process", "severity", "spec", "suppressed", "time", "type"],
            "{f:#}"
        );
        assert_eq!(f["id"], NOT_EXPORTED);
        assert_eq!(f["id_number"].as_i64(), Some(i64::from(handoff_rules::id_number(NOT_EXPORTED))), "{f:#}");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["pid"].as_u64(), Some(u64::from(out.pid)), "{f:#}");
        assert_eq!(f["suppressed"].as_u64(), Some(0), "{f:#}");
        assert!(is_rfc3339_utc(f["time"].as_str().unwrap()), "{f:#}");
        assert!(f["spec"].as_str().unwrap().starts_with("https://"), "{f:#}");
        assert!(!f["message"].as_str().unwrap().is_empty());
        let memory = out.result_str("memory");
        assert!(
            f["objects"].as_array().unwrap().iter().any(|o| o["type"] == "VkDeviceMemory" && o["handle"] == memory.as_str()),
            "memory {memory} missing: {f:#}"
        );

        // Findings first, then the summary written at vkDestroyInstance (and possibly one
        // more at process exit): the first summary is the instance's.
        let first_summary = lines.iter().position(|l| l["type"] == "summary").expect("a summary line");
        assert!(lines[..first_summary].iter().all(|l| l["type"] == "finding"), "{lines:#?}");
        assert!(lines.iter().all(|l| l["type"] == "finding" || l["type"] == "summary"), "{lines:#?}");
        let s = &lines[first_summary];
        assert_eq!(s["counts"][NOT_EXPORTED].as_u64(), Some(1), "{s:#}");
        assert_eq!(s["counts"].as_object().unwrap().len(), 1, "{s:#}");
        assert_eq!(s["live_objects"]["memory"].as_u64(), Some(0), "{s:#}");
        assert!(s["state_bytes"].as_u64().is_some(), "{s:#}");
        assert_eq!(s["pid"].as_u64(), Some(u64::from(out.pid)), "{s:#}");
        // The process name is the executable's, in full (not /proc/self/comm, which the
        // kernel cuts to 15 bytes).
        assert_eq!(f["process"], "handoff-scenario", "{f:#}");
    }
}

on_both_drivers! {
    /// A report_file that is a symlink is refused: nothing is written through it (the target
    /// keeps its content), the link stays, and the bad value is reported as
    /// HANDOFF-Settings-invalid.
    fn report_file_symlink_is_refused(d: Driver) {
        let s = scenario("get-fd", d).arg("--chain-messenger");
        let target = s.dir().join("target.jsonl");
        let link = s.dir().join("report.jsonl");
        std::fs::write(&target, "keep\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = s.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &link).run();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n", "{}", out.context());
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        out.assert_ids(&[NOT_EXPORTED, SETTINGS_INVALID]);
        let f = out.with_id(SETTINGS_INVALID);
        assert!(f[0].message.contains("report_file"), "{}", out.context());
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn debug_lines(stderr: &str) -> Vec<String> {
    strip_ansi(stderr)
        .lines()
        .filter(|l| l.contains("DEBUG") && l.contains("handoff"))
        .map(str::to_owned)
        .collect()
}

on_both_drivers! {
    /// RUST_LOG=handoff=debug: debug lines on stderr naming the intercepted vkCreateInstance.
    fn rust_log_debug_traces_calls(d: Driver) {
        let out = scenario("get-fd", d)
            .args(["--export", "opaque", "--no-messenger"])
            .env("RUST_LOG", "handoff=debug")
            .run();
        let lines = debug_lines(&out.stderr);
        assert!(lines.iter().any(|l| l.contains("vkCreateInstance")), "{}", out.context());
    }
}

on_both_drivers! {
    /// Without RUST_LOG: no debug lines.
    fn no_rust_log_no_debug_lines(d: Driver) {
        let out = scenario("get-fd", d).args(["--export", "opaque", "--no-messenger"]).run();
        assert_eq!(debug_lines(&out.stderr), Vec::<String>::new(), "{}", out.context());
        assert!(!out.stderr.contains("vkCreateInstance"), "{}", out.context());
    }
}

fn state_bytes_after(d: Driver, cycles: u32) -> u64 {
    let s = scenario("get-fd", d).args(["--export", "opaque", "--cycles", &cycles.to_string()]);
    let path = s.dir().join("report.jsonl");
    let out = s.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &path).run();
    out.assert_ids(&[]);
    let lines = report_lines(&path, &out);
    let summary = lines
        .iter()
        .find(|l| l["type"] == "summary")
        .unwrap_or_else(|| panic!("no summary: {lines:#?}"));
    assert_eq!(
        summary["live_objects"]["memory"].as_u64(),
        Some(0),
        "{summary:#}"
    );
    summary["state_bytes"]
        .as_u64()
        .unwrap_or_else(|| panic!("no state_bytes: {summary:#}"))
}

on_both_drivers! {
    /// The layer forgets what is freed: after 300 allocate/export/free cycles (one memory
    /// object alive at a time) it holds as many state bytes as after one.
    fn state_bytes_do_not_grow_with_freed_objects(d: Driver) {
        let one = state_bytes_after(d, 1);
        let many = state_bytes_after(d, 300);
        assert_eq!(one, many, "state_bytes after 1 cycle: {one}, after 300: {many}");
    }
}

fn lines_naming(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

on_both_drivers! {
    /// No messenger and no RUST_LOG: the finding is logged to stderr, once.
    fn finding_logged_to_stderr_without_a_messenger(d: Driver) {
        let out = scenario("get-fd", d).arg("--no-messenger").run();
        assert_eq!(lines_naming(&out.stderr, NOT_EXPORTED), 1, "{}", out.context());
    }
}

on_both_drivers! {
    /// With the app's own messenger, the log is muted: the finding goes to the messenger only.
    fn log_muted_when_the_app_has_a_messenger(d: Driver) {
        let out = scenario("get-fd", d).run();
        out.assert_ids(&[NOT_EXPORTED]);
        assert_eq!(lines_naming(&out.stderr, NOT_EXPORTED), 0, "{}", out.context());
    }
}

on_both_drivers! {
    /// log_file: the trace and the finding go to the file (plain text), not to stderr.
    fn log_file_receives_the_log(d: Driver) {
        let s = scenario("get-fd", d).arg("--no-messenger");
        let path = s.dir().join("handoff.log");
        let out = s
            .env("VK_HANDOFF_VALIDATION_LOG_FILE", &path)
            .env("RUST_LOG", "handoff=debug")
            .run();
        let log = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("no log file: {e}\n{}", out.context()));
        assert!(log.contains("vkCreateInstance"), "{log}");
        assert_eq!(lines_naming(&log, NOT_EXPORTED), 1, "{log}");
        assert!(!log.contains('\u{1b}'), "escape codes in the log file: {log:?}");
        assert!(!out.stderr.contains("vkCreateInstance"), "{}", out.context());
        assert_eq!(lines_naming(&out.stderr, NOT_EXPORTED), 0, "{}", out.context());
    }
}

on_both_drivers! {
    /// debug_action=log (no `callback`): the app's messenger is not called, so the finding
    /// must be logged (stderr) even though the app has a messenger; it must not vanish.
    fn debug_action_log_logs_instead_of_calling_back(d: Driver) {
        let out = scenario("get-fd", d)
            .env("VK_HANDOFF_VALIDATION_DEBUG_ACTION", "log")
            .run();
        out.assert_ids(&[]);
        assert_eq!(lines_naming(&out.stderr, NOT_EXPORTED), 1, "{}", out.context());
    }
}

on_both_drivers! {
    /// debug_action=abort: the first ERROR flushes the report file (finding and summary) and
    /// aborts the process (SIGABRT) before the scenario can print anything.
    fn debug_action_abort_flushes_and_aborts(d: Driver) {
        use std::os::unix::process::ExitStatusExt;
        let s = scenario("get-fd", d);
        let path = s.dir().join("report.jsonl");
        let out = s
            .env("VK_HANDOFF_VALIDATION_DEBUG_ACTION", "abort")
            .env("VK_HANDOFF_VALIDATION_REPORT_FILE", &path)
            .run_any();
        assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{}", out.context());
        assert!(out.json.is_null(), "{}", out.context());
        let lines = report_lines(&path, &out);
        let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["finding", "summary"], "{lines:#?}");
        assert_eq!(lines[0]["id"], NOT_EXPORTED);
        assert_eq!(lines[1]["live_objects"]["memory"].as_u64(), Some(1), "{lines:#?}");
    }
}

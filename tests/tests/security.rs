//! Security of the layer's outputs (issue 7): it writes only the documented files (report,
//! log, ledger entries), creates them 0600, never writes through a symlink, refuses a ledger
//! directory that is a symlink, not the user's or not 0700, and treats what other processes
//! left in the ledger as untrusted. A refused setting is `HANDOFF-Settings-invalid` and a
//! line on stderr; the app keeps running and its findings still arrive.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FULL: Driver = Driver::Mock("full");

/// Every path under `dir` (files, links, directories), relative.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            out.insert(p.strip_prefix(dir).unwrap().to_path_buf());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            }
        }
    }
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// A private ledger directory (0700) inside the scenario's directory.
fn ledger_dir(s: &Scenario) -> PathBuf {
    let p = s.dir().join("ledger");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    p
}

fn chown(p: &Path, uid: u32) -> bool {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path of a file this test created.
    unsafe { libc::lchown(c.as_ptr(), uid, uid) == 0 }
}

/// The settings finding, which must name `key` and say why.
#[track_caller]
fn assert_refused(out: &Outcome, key: &str, why: &str) {
    let f = out.with_id(SETTINGS_INVALID);
    assert_eq!(f.len(), 1, "{}", out.context());
    assert!(
        f[0].message.contains(key) && f[0].message.contains(why),
        "{:?} should name {key} and say {why:?}\n{}",
        f[0].message,
        out.context()
    );
}

on_both_drivers! {
    /// report_file, log_file and ledger_dir all set, one finding: afterwards the scenario's
    /// directories (its cwd, HOME, XDG dirs, the ledger) hold exactly what was there plus
    /// the report and the log, both 0600; the ledger entry of the exported memory was
    /// withdrawn at free.
    fn only_the_documented_outputs_are_written(d: Driver) {
        let s = scenario("get-fd", d).arg("--no-messenger");
        let report = s.dir().join("report.jsonl");
        let log = s.dir().join("handoff.log");
        let ledger = ledger_dir(&s);
        // The harness writes its manifests while starting the child: take the snapshot of
        // a dry run's layout, then compare the real run's against it.
        let before = {
            let o = scenario("env", d).run();
            tree(o.dir())
        };
        let out = s
            .env("VK_HANDOFF_VALIDATION_REPORT_FILE", &report)
            .env("VK_HANDOFF_VALIDATION_LOG_FILE", &log)
            .env("VK_HANDOFF_VALIDATION_LEDGER_DIR", &ledger)
            .run();
        // No messenger: the finding goes to the log and the report, nowhere else.
        out.assert_ids(&[]);
        let after = tree(out.dir());
        let new: Vec<&PathBuf> = after.difference(&before).collect();
        assert_eq!(
            new,
            [&PathBuf::from("handoff.log"), &PathBuf::from("ledger"), &PathBuf::from("report.jsonl")],
            "{}",
            out.context()
        );
        assert_eq!(mode(&report), 0o600);
        assert_eq!(mode(&log), 0o600);
        assert!(std::fs::read_to_string(&report).unwrap().contains(NOT_EXPORTED));
        assert!(std::fs::read_to_string(&log).unwrap().contains(NOT_EXPORTED));
    }
}

on_both_drivers! {
    /// A log_file that is a symlink is refused: nothing is written through it, the link
    /// stays, stderr says why at once (the log goes there instead), the app gets
    /// HANDOFF-Settings-invalid naming log_file, and its own finding still arrives.
    fn log_file_symlink_is_refused(d: Driver) {
        let s = scenario("get-fd", d).arg("--chain-messenger");
        let target = s.dir().join("target.log");
        let link = s.dir().join("handoff.log");
        std::fs::write(&target, "keep\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let out = s.env("VK_HANDOFF_VALIDATION_LOG_FILE", &link).run();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n", "{}", out.context());
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        out.assert_ids(&[NOT_EXPORTED, SETTINGS_INVALID]);
        assert_refused(&out, "log_file", "symbolic link");
        assert!(
            out.stderr.contains("log_file") && out.stderr.contains("symbolic link"),
            "{}",
            out.context()
        );
    }
}

on_both_drivers! {
    /// A dangling symlink is not a way to create a file elsewhere either: the report and the
    /// log are refused and the link's target is never created.
    fn dangling_symlinks_create_nothing(d: Driver) {
        let s = scenario("get-fd", d).arg("--chain-messenger");
        let report_target = s.dir().join("made-by-report");
        let log_target = s.dir().join("made-by-log");
        let report = s.dir().join("report.jsonl");
        let log = s.dir().join("handoff.log");
        std::os::unix::fs::symlink(&report_target, &report).unwrap();
        std::os::unix::fs::symlink(&log_target, &log).unwrap();
        let out = s
            .env("VK_HANDOFF_VALIDATION_REPORT_FILE", &report)
            .env("VK_HANDOFF_VALIDATION_LOG_FILE", &log)
            .run();
        assert!(!report_target.exists() && !log_target.exists(), "{}", out.context());
        out.assert_ids(&[NOT_EXPORTED, SETTINGS_INVALID]);
        let f = out.with_id(SETTINGS_INVALID);
        assert!(f[0].message.contains("report_file") && f[0].message.contains("log_file"), "{}", out.context());
    }
}

/// An existing log file keeps its mode (the user chose it); a new one is 0600.
#[test]
fn log_file_mode() {
    let s = scenario("get-fd", MOCK).arg("--no-messenger");
    let fresh = s.dir().join("fresh.log");
    let out = s.env("VK_HANDOFF_VALIDATION_LOG_FILE", &fresh).run();
    assert_eq!(mode(&fresh), 0o600, "{}", out.context());

    let s = scenario("get-fd", MOCK).arg("--no-messenger");
    let kept = s.dir().join("kept.log");
    std::fs::write(&kept, "").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = s.env("VK_HANDOFF_VALIDATION_LOG_FILE", &kept).run();
    assert_eq!(mode(&kept), 0o640, "{}", out.context());
    assert!(std::fs::read_to_string(&kept)
        .unwrap()
        .contains(NOT_EXPORTED));
}

/// A FIFO as log_file does not block the app (it would, opened without O_NONBLOCK and with
/// no reader): refused as "a FIFO".
#[test]
fn log_file_fifo_does_not_hang() {
    let s = scenario("get-fd", MOCK).arg("--chain-messenger");
    let fifo = s.dir().join("handoff.log");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path in the scenario's private directory.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = s
        .env("VK_HANDOFF_VALIDATION_LOG_FILE", &fifo)
        .timeout(std::time::Duration::from_secs(30))
        .run();
    out.assert_ids(&[NOT_EXPORTED, SETTINGS_INVALID]);
    assert_refused(&out, "log_file", "a FIFO");
}

/// ledger_dir refused when it is a symlink (to a good directory), not 0700, or owned by
/// another user: HANDOFF-Settings-invalid naming ledger_dir and why; nothing is written
/// into it; the two-process handoff still runs (without the ledger). The valid twin is
/// silent and uses the ledger.
#[test]
fn ledger_dir_refusals() {
    #[allow(clippy::type_complexity)]
    let cases: [(&str, &str, fn(&Path) -> PathBuf); 4] = [
        ("good", "", |d| d.to_path_buf()),
        ("symlink", "symbolic link", |d| {
            let link = d.with_file_name("ledger-link");
            std::os::unix::fs::symlink(d, &link).unwrap();
            link
        }),
        ("mode", "0750", |d| {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o750)).unwrap();
            d.to_path_buf()
        }),
        ("owner", "owned by uid 65534", |d| {
            assert!(chown(d, 65534), "chown needs root (CI runs as root)");
            d.to_path_buf()
        }),
    ];
    for (name, why, prepare) in cases {
        let s = scenario("share-process", FULL).args([
            "--size",
            "4096",
            "--child-size",
            "8192",
            "--chain-messenger",
        ]);
        let real = ledger_dir(&s);
        let given = prepare(&real);
        let out = s.env("VK_HANDOFF_VALIDATION_LEDGER_DIR", &given).run_any();
        let child: Vec<String> = out.results()["child"]["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if why.is_empty() {
            out.assert_ids(&[]);
            assert!(
                child
                    .iter()
                    .any(|id| id == "VUID-VkMemoryAllocateInfo-allocationSize-01742"),
                "the ledger works: {child:?}\n{}",
                out.context()
            );
        } else {
            out.assert_ids(&[SETTINGS_INVALID]);
            assert_refused(&out, "ledger_dir", why);
            assert_eq!(
                std::fs::read_dir(&real).unwrap().count(),
                0,
                "{name}: {}",
                out.context()
            );
            assert!(
                !child.iter().any(|id| id.contains("01742")),
                "{name}: {child:?}"
            );
        }
        assert!(out.status.success(), "{name}: {}", out.context());
    }
}

/// Files other processes left in the ledger (garbage, oversized, a FIFO, a directory, a
/// symlink out of it, another user's file) do not disturb a correct two-process handoff:
/// silent, nothing hangs, every one of them is left as it was, the symlink's target unread
/// and unchanged. (The unit test `ledger::tests::hostile_entries_are_ignored_and_left_alone`
/// puts the same files under the very name a lookup reads.)
#[test]
fn hostile_ledger_files_are_left_alone() {
    let s = scenario("share-process", FULL).args(["--size", "4096"]);
    let dir = ledger_dir(&s);
    let outside = s.dir().join("outside");
    std::fs::write(&outside, "pid 1\n").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("1-1-1-1.ledger")).unwrap();
    std::fs::write(dir.join("2-2-2-2.ledger"), vec![b'z'; 1 << 20]).unwrap();
    std::fs::write(dir.join("3-3-3-3.ledger"), b"\xff\xfe garbage\npid\n").unwrap();
    let fifo = std::ffi::CString::new(dir.join("4-4-4-4.ledger").as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path in the test's private directory.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(dir.join("5-5-5-5.ledger")).unwrap();
    std::fs::write(dir.join("6-6-6-6.ledger"), "pid 1\n").unwrap();
    assert!(chown(&dir.join("6-6-6-6.ledger"), 65534));
    let before = tree(&dir);

    let out = s
        .env("VK_HANDOFF_VALIDATION_LEDGER_DIR", &dir)
        .timeout(std::time::Duration::from_secs(60))
        .run();
    out.assert_ids(&[]);
    assert_eq!(tree(&dir), before, "{}", out.context());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "pid 1\n");
}

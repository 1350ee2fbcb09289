//! Two processes and the cross-process ledger (`ledger_dir`): an image released by one
//! process and acquired by another (the `image_handoff` example: fork+exec of the consumer,
//! memory and semaphore fds over SCM_RIGHTS), and memory passed over SCM_RIGHTS
//! (`share-process`). With the ledger the importer checks what the exporter
//! published (01742, the release layout); without it, nothing can be known and nothing is
//! reported. Correct handoffs stay silent either way.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const FULL: Driver = Driver::Mock("full");
const MISMATCH: &str = "HANDOFF-Ownership-acquire-layout-mismatch";
const SIZE_TYPE: &str = "VUID-VkMemoryAllocateInfo-allocationSize-01742";

/// A private ledger directory (0700) inside the scenario's own directory.
fn ledger_dir(s: &Scenario) -> PathBuf {
    let p = s.dir().join("ledger");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
    p
}

/// `(pid, id)` of every finding in a JSON Lines report (both processes write to it).
fn report(path: &Path) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "finding")
        .map(|v| {
            (
                v["pid"].as_u64().unwrap_or(0),
                v["id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Runs the image_handoff example (producer and its consumer process) with `args`, the peer
/// setting `vulkan` (both sides are Vulkan), optionally a ledger; returns the findings of both
/// processes and the producer's pid.
fn handoff(d: Driver, args: &[&str], with_ledger: bool) -> (Vec<(u64, String)>, u64) {
    handoff_with(d, args, with_ledger, &[])
}

fn handoff_with(
    d: Driver,
    args: &[&str],
    with_ledger: bool,
    env: &[(&str, &str)],
) -> (Vec<(u64, String)>, u64) {
    let mut s = scenario("image-handoff", d)
        .args(args.iter().copied())
        .env("VK_HANDOFF_VALIDATION_PEER", "vulkan");
    let path = s.dir().join("report.jsonl");
    s = s.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &path);
    for (k, v) in env {
        s = s.env(k, v);
    }
    if with_ledger {
        let dir = ledger_dir(&s);
        s = s.env("VK_HANDOFF_VALIDATION_LEDGER_DIR", dir);
    }
    let out = s.run();
    (report(&path), u64::from(out.pid))
}

on_both_drivers! {
    /// Released in GENERAL, acquired from GENERAL in the other process and back: silent with
    /// and without the ledger.
    fn correct_handoff_between_processes_is_silent(d: Driver) {
        for ledger in [false, true] {
            let (found, _) = handoff(d, &[], ledger);
            assert_eq!(found, vec![], "ledger {ledger}");
        }
    }
}

on_both_drivers! {
    /// Released in TRANSFER_SRC_OPTIMAL, acquired from GENERAL by the consumer process: with
    /// the ledger the consumer reports the mismatch (once, in the consumer); without it the
    /// consumer cannot know, and with peer = vulkan the producer has nothing to say either.
    fn wrong_release_layout_is_caught_across_processes_with_the_ledger(d: Driver) {
        let (found, _) = handoff(d, &["--bug-layout"], false);
        assert_eq!(found, vec![]);
        let (found, producer) = handoff(d, &["--bug-layout"], true);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, MISMATCH);
        assert_ne!(found[0].0, producer, "the consumer process reports it");
    }
}

/// The same on mock `full`, where the handoff is guarded by exported OPAQUE_FD semaphores.
#[test]
fn with_semaphores_on_mock_full() {
    assert_eq!(handoff(FULL, &[], true).0, vec![]);
    let (found, producer) = handoff(FULL, &["--bug-layout"], true);
    let ids: Vec<&str> = found.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, vec![MISMATCH]);
    assert_ne!(found[0].0, producer);
}

/// The handoff moves real bytes on the real driver (lavapipe, or `HANDOFF_TEST_ICD`): the
/// consumer reads the producer's colour (`--verify` fails the run otherwise), through the
/// layer, with the ledger.
#[test]
fn the_consumer_reads_the_producers_pixels_on_the_real_driver() {
    assert_eq!(handoff(Driver::Real, &["--verify"], true).0, vec![]);
}

/// A release guarded by no semaphore and no fence, on a device that could export one:
/// `HANDOFF-Sync-release-without-signal` in each process with `best_practices` on, nothing
/// with it off or with the semaphores.
#[test]
fn release_without_semaphore_with_best_practices() {
    assert_eq!(handoff(FULL, &["--bug-semaphore"], false).0, vec![]);
    let on = [("VK_HANDOFF_VALIDATION_BEST_PRACTICES", "true")];
    let (found, producer) = handoff_with(FULL, &["--bug-semaphore"], false, &on);
    // The producer's release, and the consumer's release back (it got no semaphore either).
    let ids: Vec<&str> = found.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids, vec!["HANDOFF-Sync-release-without-signal"; 2]);
    assert_eq!(found.iter().filter(|(pid, _)| *pid == producer).count(), 1);
    assert_eq!(handoff_with(FULL, &[], false, &on).0, vec![]);
}

on_both_drivers! {
    /// Memory passed over SCM_RIGHTS and imported with another allocationSize: 01742 in the
    /// importing process with the ledger, nothing without it; the right size is silent.
    fn wrong_import_size_in_another_process(d: Driver) {
        for (ledger, child_size, want) in [
            (true, 4096, vec![]),
            (false, 8192, vec![]),
            (true, 8192, vec![SIZE_TYPE]),
        ] {
            let mut s = scenario("share-process", d)
                .args(["--size", "4096", "--child-size", &child_size.to_string()]);
            if ledger {
                let dir = ledger_dir(&s);
                s = s.env("VK_HANDOFF_VALIDATION_LEDGER_DIR", dir);
            }
            let out = s.run_any();
            out.assert_ids(&[]);
            let child: Vec<&str> = out.results()["child"]["findings"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f["id"].as_str()).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .filter(|id| id.starts_with("VUID-") || id.starts_with("HANDOFF-"))
                .collect();
            assert_eq!(child, want, "ledger {ledger}, size {child_size}\n{}", out.context());
        }
    }
}

/// The exporter's entry is withdrawn when it frees the memory: nothing is left behind.
#[test]
fn entries_are_withdrawn_when_the_memory_is_freed() {
    let s = scenario("share-process", FULL).args(["--size", "4096"]);
    let dir = ledger_dir(&s);
    let out = s.env("VK_HANDOFF_VALIDATION_LEDGER_DIR", &dir).run();
    out.assert_ids(&[]);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(left.len(), 0, "{left:?}");
}

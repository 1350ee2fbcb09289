//! Threads: 8 threads × 10k mixed operations (allocate, bind, export, import, barriers that
//! release to and acquire from VK_QUEUE_FAMILY_EXTERNAL, submit, free) on two devices at once,
//! the `stress` scenario. The layer must neither deadlock (the harness kills the child after
//! the time limit and prints every thread's stack, and the child logs per-thread progress to
//! stderr) nor lose count: the summary record written while the app holds a known set of
//! objects lists exactly those.

mod common;
use common::*;

use std::time::Duration;

use handoff_rules::catalogue as cat;
use serde_json::Value;

const THREADS: u64 = 8;
const OPS: u64 = 10_000;
/// Far above the few seconds a run takes on 2 cores, so only a hang reaches it.
const LIMIT: Duration = Duration::from_secs(120);
const USE_WHILE_RELEASED: &str = cat::OWNERSHIP_USE_WHILE_RELEASED.id;

fn summaries(path: &std::path::Path, out: &Outcome) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}\n{}", path.display(), out.context()));
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|l| l["type"] == "summary")
        .collect()
}

/// Runs `stress` with a report file; returns the outcome and its summary records.
fn stress(d: Driver, extra: &[&str]) -> (Outcome, Vec<Value>) {
    let s = scenario("stress", d)
        .args(["--threads", &THREADS.to_string(), "--ops", &OPS.to_string()])
        .args(extra)
        .timeout(LIMIT);
    let path = s.dir().join("report.jsonl");
    let out = s.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &path).run();
    let sums = summaries(&path, &out);
    (out, sums)
}

#[track_caller]
fn live(summary: &Value) -> (u64, u64, u64) {
    let l = &summary["live_objects"];
    let n = |k: &str| {
        l[k].as_u64()
            .unwrap_or_else(|| panic!("no live_objects.{k}: {summary:#}"))
    };
    (n("memory"), n("buffer"), n("image"))
}

/// The first summary (the probe instance, while each thread's kept set is alive) and the
/// second (the main instance, after everything was freed).
#[track_caller]
fn assert_live_counts(out: &Outcome, sums: &[Value]) {
    assert!(
        sums.len() >= 2,
        "two summaries expected: {sums:#?}\n{}",
        out.context()
    );
    let kept = &out.results()["kept"];
    assert_eq!(
        kept["memory"].as_u64(),
        Some(2 * THREADS),
        "{}",
        out.context()
    );
    assert_eq!(
        live(&sums[0]),
        (2 * THREADS, THREADS, THREADS),
        "{:#}",
        sums[0]
    );
    assert_eq!(live(&sums[1]), (0, 0, 0), "{:#}", sums[1]);
    assert!(
        out.result_i64("ops") as u64 >= THREADS * OPS,
        "fewer operations than asked\n{}",
        out.context()
    );
    eprintln!(
        "stress on {}: {} operations, {} completed cycles, {:.2} s",
        out.driver.label(),
        out.result_i64("ops"),
        out.result_i64("cycles"),
        out.results()["seconds"].as_f64().unwrap_or(0.0)
    );
}

on_both_drivers! {
    /// The valid workload: no Handoff finding at all, nothing counted in either summary, the
    /// live objects exactly the kept ones (16 memory, 8 buffers, 8 images), then none.
    fn valid_stress_is_silent_and_counts_exactly(d: Driver) {
        let (out, sums) = stress(d, &[]);
        out.assert_ids(&[]);
        assert_live_counts(&out, &sums);
        for s in &sums {
            assert_eq!(s["counts"].as_object().map(|c| c.len()), Some(0), "{s:#}");
        }
    }
}

on_both_drivers! {
    /// Each thread once fills its buffer after releasing it to EXTERNAL: exactly one
    /// HANDOFF-Ownership-use-while-released per thread, each naming a different buffer, and
    /// nothing else; the live counts are as in the valid run.
    fn one_use_while_released_per_thread(d: Driver) {
        let (out, sums) = stress(d, &["--misuse"]);
        out.assert_ids(&times(USE_WHILE_RELEASED, THREADS as usize));
        let mut buffers: Vec<String> = out
            .with_id(USE_WHILE_RELEASED)
            .iter()
            .map(|f| {
                f.objects
                    .iter()
                    .find(|o| o.ty == ash::vk::ObjectType::BUFFER.as_raw())
                    .unwrap_or_else(|| panic!("no buffer named: {f:?}"))
                    .handle
                    .clone()
            })
            .collect();
        buffers.sort();
        buffers.dedup();
        assert_eq!(buffers.len(), THREADS as usize, "{}", out.context());
        assert_live_counts(&out, &sums);
        assert_eq!(
            sums[1]["counts"][USE_WHILE_RELEASED].as_u64(),
            Some(THREADS),
            "{:#}",
            sums[1]
        );
    }
}

/// The hang report itself: a child that does not finish in time is killed, and the failure
/// names where each of its threads was (gdb's backtraces), here the `sleep` scenario's
/// nanosleep.
#[test]
fn a_hung_child_is_killed_with_its_stacks() {
    let err = std::panic::catch_unwind(|| {
        scenario("sleep", MOCK)
            .args(["--seconds", "120"])
            .timeout(Duration::from_secs(2))
            .run()
    })
    .err()
    .expect("the scenario must time out");
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_else(|| "non-string panic".to_owned());
    assert!(msg.contains("timed out after"), "{msg}");
    assert!(msg.contains("--- thread stacks (gdb) ---"), "{msg}");
    assert!(
        msg.contains("handoff_scenario::main"),
        "no stack of the child: {msg}"
    );
    assert!(msg.contains("sleep"), "{msg}");
}

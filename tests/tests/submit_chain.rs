//! `vkQueueSubmit` reads `VkTimelineSemaphoreSubmitInfo` from each batch's `pNext` chain
//! before the driver sees it: a chain that loops or runs past the walker's limit gives one
//! `HANDOFF-Chain-malformed` per batch, as the other entry points report theirs, whether or
//! not the submission uses a semaphore; a well-formed chain (unknown structs, the timeline
//! info) gives nothing.
//!
//! Mock ICD only: lavapipe (Mesa) walks the chain itself and would loop forever on a cycle.
//! The cases go through the `hostile` scenario, whose submit sends two batches (one
//! signaling the semaphores, one waiting on them), both carrying the chain.

mod common;
use common::*;

use handoff_rules::catalogue as cat;
use handoff_tests::app::hostile::{Case, CaseOutcome, Link, Target, LAYER_MAX_CHAIN_LINKS};

/// Runs `cases` in one `hostile` child on the mock ICD.
fn run_cases(cases: &[Case]) -> Vec<CaseOutcome> {
    let s = scenario("hostile", MOCK).env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "0");
    let file = s.dir().join("cases.json");
    std::fs::write(&file, serde_json::to_string(cases).unwrap()).unwrap();
    let out = s.arg("--cases").arg(&file).run();
    let got: Vec<CaseOutcome> = serde_json::from_value(out.results()["cases"].clone())
        .unwrap_or_else(|e| panic!("{e}\n{}", out.context()));
    assert_eq!(got.len(), cases.len(), "{}", out.context());
    got
}

/// A submit case: `counts` are (waits, wait values, signals, signal values).
fn submit(tail: u32, loop_to: Option<u32>, counts: [u8; 4]) -> Case {
    Case {
        target: Target::Submit,
        links: vec![Link::Unknown(1), Link::Unknown(2)],
        tail,
        loop_to,
        counts,
    }
}

#[test]
fn malformed_submit_chains_are_reported_once_per_batch() {
    let malformed = cat::CHAIN_MALFORMED.id;
    let too_long = LAYER_MAX_CHAIN_LINKS as u32 + 10;
    // Both batches carry the chain and the submission signals and waits: two walks.
    let cases = vec![
        submit(0, Some(0), [1, 1, 1, 1]),
        submit(3000, Some(1000), [1, 0, 2, 0]),
        submit(too_long, None, [1, 1, 1, 1]),
        // Only a signal: both batches are still walked.
        submit(0, Some(1), [0, 0, 1, 0]),
        // No semaphore and no fence: walked all the same, before the driver.
        submit(0, Some(0), [0, 0, 0, 0]),
    ];
    let got = run_cases(&cases);
    for (c, o) in cases.iter().zip(&got) {
        assert_eq!(o.result, 0, "{c:?}: {o:?}");
        assert_eq!(o.ids, [malformed, malformed], "{c:?}: {o:?}");
    }
}

#[test]
fn well_formed_submit_chains_stay_silent() {
    let cases = vec![
        // Well formed: unknown structs behind the timeline info, values for every semaphore.
        submit(0, None, [1, 1, 1, 1]),
        submit(LAYER_MAX_CHAIN_LINKS as u32 - 10, None, [1, 1, 2, 2]),
        submit(0, None, [0, 0, 0, 0]),
    ];
    let got = run_cases(&cases);
    for (c, o) in cases.iter().zip(&got) {
        assert_eq!(o.result, 0, "{c:?}: {o:?}");
        assert!(o.ids.is_empty(), "{c:?}: {o:?}");
    }
}

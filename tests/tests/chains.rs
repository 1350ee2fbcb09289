//! Hostile `pNext` chains through the real loader and the real entry points (issue 7):
//! unknown `sType`s, cycles, 100k links, counts that do not match arrays, duplicated structs.
//! Every child must exit normally; a malformed chain gives exactly one
//! `HANDOFF-Chain-malformed` per walk that reports it, a benign one nothing of Handoff's.
//!
//! Proptest generates the cases; each test runs its whole batch in one child process
//! (`hostile --cases FILE`), so the file stays fast on two cores.

mod common;
use common::*;

use handoff_rules::catalogue as cat;
use handoff_tests::app::hostile::{
    loader_safe_tail, Case, CaseOutcome, Link, Target, LAYER_MAX_CHAIN_LINKS,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

const MALFORMED: &str = cat::CHAIN_MALFORMED.id;

/// Runs `cases` in one `hostile` child on `d` and returns each case's outcome.
fn run_cases(d: Driver, cases: &[Case]) -> Vec<CaseOutcome> {
    // Every case reports against the same device: no muting after the tenth.
    let s = scenario("hostile", d).env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "0");
    let file = s.dir().join("cases.json");
    let json = serde_json::to_string(cases).unwrap();
    std::fs::write(&file, &json).unwrap();
    // To rerun a batch by hand: `handoff-scenario hostile --cases FILE`.
    if let Some(keep) = std::env::var_os("HANDOFF_HOSTILE_KEEP") {
        std::fs::write(keep, &json).unwrap();
    }
    let out = s.arg("--cases").arg(&file).run();
    let got: Vec<CaseOutcome> = serde_json::from_value(out.results()["cases"].clone())
        .unwrap_or_else(|e| panic!("{e}\n{}", out.context()));
    assert_eq!(got.len(), cases.len(), "{}", out.context());
    got
}

/// What the layer must report for `case`: one malformed-chain finding per walk that ends
/// early and reports it (`Case::malformed_reports`), else nothing.
fn expected_ids(case: &Case) -> Vec<String> {
    vec![MALFORMED.to_owned(); case.malformed_reports()]
}

#[track_caller]
fn assert_outcomes(cases: &[Case], got: &[CaseOutcome]) {
    let wrong: Vec<String> = cases
        .iter()
        .zip(got)
        .filter(|(c, o)| o.ids != expected_ids(c) || o.result != 0)
        .map(|(c, o)| format!("{c:?}\n    got {o:?}, want ids {:?}", expected_ids(c)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

fn links(target: Target) -> impl Strategy<Value = Vec<Link>> {
    let link = prop_oneof![
        (0u16..2000).prop_map(Link::Unknown),
        (0u8..8, 0u8..4).prop_map(|(kind, count)| Link::Known { kind, count }),
    ];
    // Known structs stay unique (the spec allows one of each); unknown ones repeat freely.
    proptest::collection::vec(link, 0..10).prop_map(move |mut v| {
        let mut seen = std::collections::HashSet::new();
        v.retain(|l| match l {
            Link::Known { kind, .. } => known_slot(target, *kind).is_none_or(|k| seen.insert(k)),
            Link::Unknown(_) => true,
        });
        v
    })
}

/// Which known struct `kind` picks for `target` (as hostile.rs maps it); none where it picks
/// an unknown struct.
fn known_slot(target: Target, kind: u8) -> Option<u8> {
    let kinds = match target {
        Target::Instance | Target::BufferQuery | Target::Submit | Target::Barrier => return None,
        Target::Submit2 | Target::ImportSemaphore | Target::ImportFence => return None,
        Target::Device | Target::Buffer | Target::Fence | Target::Barrier2 => 1,
        Target::Allocate => 3,
        Target::Image | Target::ImageQuery | Target::Semaphore => 2,
    };
    Some(kind % kinds)
}

/// Any case for `targets`: short chains, loops anywhere (not for the calls the loader walks),
/// tails just under, at and over the walker's limit, and 100k links.
fn cases(targets: Vec<Target>) -> impl Strategy<Value = Case> {
    let max = LAYER_MAX_CHAIN_LINKS as u32;
    proptest::sample::select(targets).prop_flat_map(move |target| {
        (
            links(target),
            prop_oneof![
                6 => Just(0u32),
                2 => 1u32..40,
                1 => max - 12..max + 4,
                1 => Just(100_000u32),
            ],
            proptest::option::weighted(0.5, 0u32..200),
            proptest::array::uniform4(0u8..4),
        )
            .prop_map(move |(links, tail, loop_to, counts)| Case {
                target,
                // The loader puts links of its own in front of the instance and device chains:
                // their exact length near the limit is the loader's, not the case's.
                tail: if target.loader_walks() {
                    loader_safe_tail(tail)
                } else {
                    tail
                },
                links,
                loop_to: loop_to.filter(|_| !target.loader_walks()),
                counts,
            })
    })
}

/// `n` cases drawn with a fixed seed (one batch, one child), so a failure names its case and
/// reproduces.
fn draw(targets: Vec<Target>, n: usize, seed: u8) -> Vec<Case> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[seed; 32],
        ),
    );
    let strategy = cases(targets);
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// The mock's profile with VK_KHR_external_semaphore_fd and VK_KHR_external_fence_fd, for
/// the import targets.
const FULL: Driver = Driver::Mock("full");

/// The targets `d` offers the extensions of: the import calls only where the driver has
/// the sync fd extensions (not lavapipe 22.3, not the mock's lavapipe profile).
fn targets(d: Driver) -> Vec<Target> {
    Target::ALL
        .into_iter()
        .filter(|t| d == FULL || !t.needs_sync_fd())
        .collect()
}

/// Every target, the loops included: the mock ICD cuts looping chains, so it survives them.
#[test]
fn generated_chains_on_the_mock() {
    let cases = draw(targets(MOCK), 300, 7);
    assert!(cases.iter().any(|c| c.cyclic()));
    assert!(cases
        .iter()
        .any(|c| c.len() > LAYER_MAX_CHAIN_LINKS && !c.cyclic()));
    let got = run_cases(MOCK, &cases);
    assert_outcomes(&cases, &got);
}

/// Value counts Mesa survives: 0, or at least the semaphore count. Mesa's common
/// vkQueueSubmit reads `pWaitSemaphoreValues[j]` for every wait semaphore once the value count
/// is not 0, past a shorter array (valid with binary semaphores: VUID-VkSubmitInfo-pNext-03240
/// and -03241 bind the counts only for timeline semaphores); see
/// `short_value_arrays_crash_lavapipe_without_handoff`.
fn mesa_safe(mut c: Case) -> Case {
    let [w, wv, s, sv] = c.counts;
    let fix = |sems: u8, values: u8| {
        if values != 0 && values < sems {
            sems
        } else {
            values
        }
    };
    if c.target == Target::Submit {
        c.counts = [w, fix(w.min(s), wv), s, fix(s, sv)];
    }
    c
}

/// The submit2, barrier2 and semaphore/fence import and export calls on the mock's `full`
/// profile (the one with the sync fd extensions), loops included.
#[test]
fn generated_sync_chains_on_the_full_mock() {
    let mut all = Target::SUBMIT.to_vec();
    all.extend(Target::BARRIER);
    all.extend(Target::SYNC);
    let cases = draw(all, 200, 13);
    for t in Target::SYNC
        .into_iter()
        .chain([Target::Submit2, Target::Barrier2])
    {
        assert!(
            cases.iter().any(|c| c.target == t && c.malformed()),
            "{t:?}"
        );
    }
    let got = run_cases(FULL, &cases);
    assert_outcomes(&cases, &got);
}

/// lavapipe walks every chain itself (a loop would hang Mesa, not Handoff): loop-free chains
/// only, 100k links included.
#[test]
fn generated_chains_on_the_real_driver() {
    let cases: Vec<Case> = draw(targets(Driver::Real), 200, 11)
        .into_iter()
        .map(|mut c| {
            c.loop_to = None;
            mesa_safe(c)
        })
        .collect();
    let got = run_cases(Driver::Real, &cases);
    assert_outcomes(&cases, &got);
}

fn case(target: Target, links: Vec<Link>, tail: u32, loop_to: Option<u32>) -> Case {
    Case {
        target,
        links,
        tail,
        loop_to,
        counts: [1, 0, 1, 3],
    }
}

on_both_drivers! {
    /// The named shapes, loop-free: unknown sTypes only, duplicated unknown structs, exactly
    /// the limit (silent) and one past it, 100k links, and a timeline info whose value counts
    /// are 0 and 3 for one wait and one signal (valid with binary semaphores).
    fn named_loop_free_shapes(d: Driver) {
        named_loop_free_shapes_on(d);
    }
}

/// The import targets' named shapes (the mock's `full` profile has their extensions).
#[test]
fn named_loop_free_shapes_on_the_full_mock() {
    named_loop_free_shapes_on(FULL);
}

fn named_loop_free_shapes_on(d: Driver) {
    let u = Link::Unknown;
    let max = LAYER_MAX_CHAIN_LINKS as u32;
    let mut cases = vec![];
    for t in targets(d) {
        cases.push(case(t, vec![u(1), u(1), u(2)], 0, None));
        // The loader's own links go in front of the instance and device chains, the timeline
        // info in front of vkQueueSubmit's.
        let at_limit = match t {
            _ if t.loader_walks() => max - 24,
            Target::Submit => max - 1,
            _ => max,
        };
        cases.push(case(t, vec![], at_limit, None));
        cases.push(case(t, vec![], max + 1, None));
        cases.push(case(t, vec![u(3)], 100_000, None));
    }
    let got = run_cases(d, &cases);
    assert_outcomes(&cases, &got);
    // Every known struct twice (VUID-*-sType-unique is the Khronos layer's to report,
    // not Handoff's): read, silent. The driver's answer is its own (lavapipe fails
    // vkCreateDevice with two VkPhysicalDeviceSynchronization2Features).
    let k = |kind| Link::Known { kind, count: 2 };
    let dups: Vec<Case> = targets(d)
        .into_iter()
        .map(|t| case(t, vec![k(0), u(9), k(0), k(1), k(2), k(1), k(2)], 0, None))
        .collect();
    for (c, o) in dups.iter().zip(run_cases(d, &dups)) {
        assert_eq!(o.ids, Vec::<String>::new(), "{c:?}");
    }
    // Exactly at the limit is a valid chain; one more is not (vkQueueSubmit's walk counts
    // the timeline info ahead of the chain too: `Case::malformed`).
    assert!(!cases[1].malformed() && cases[2].malformed());
}

/// Self loops and long loops behind tails, on every target the loader does not walk
/// (mock ICD: lavapipe would loop forever in Mesa).
#[test]
fn named_loops_on_the_mock() {
    for d in [MOCK, FULL] {
        named_loops(d);
    }
}

fn named_loops(d: Driver) {
    let u = Link::Unknown;
    let mut cases = vec![];
    for t in targets(d).into_iter().filter(|t| !t.loader_walks()) {
        cases.push(case(t, vec![u(1)], 0, Some(0)));
        cases.push(case(t, vec![u(1), u(2), u(3)], 0, Some(1)));
        cases.push(case(t, vec![u(1)], 3000, Some(2000)));
        cases.push(case(t, vec![u(1)], 5000, Some(0)));
    }
    let got = run_cases(d, &cases);
    assert_outcomes(&cases, &got);
}

/// A self loop, a loop behind a 3000-link tail and a 100k-link chain, each on `target` with
/// `counts`, on the mock ICD (the loops would hang lavapipe).
fn malformed_cases(target: Target, counts: [u8; 4]) -> Vec<Case> {
    let u = Link::Unknown;
    [(0, Some(0)), (3000, Some(1000)), (100_000, None)]
        .into_iter()
        .map(|(tail, loop_to)| Case {
            counts,
            ..case(target, vec![u(1), u(2)], tail, loop_to)
        })
        .collect()
}

/// Runs `cases` on the mock and asserts `want` malformed-chain findings for each.
#[track_caller]
fn assert_malformed(cases: &[Case], want: usize) {
    let got = run_cases(MOCK, cases);
    let wrong: Vec<String> = cases
        .iter()
        .zip(&got)
        .filter(|(_, o)| o.ids != vec![MALFORMED.to_owned(); want] || o.result != 0)
        .map(|(c, o)| format!("{:?} tail {} loop {:?}: {o:?}", c.target, c.tail, c.loop_to))
        .collect();
    assert!(
        wrong.is_empty(),
        "want {want} {MALFORMED} each:\n{}",
        wrong.join("\n")
    );
}

/// vkQueueSubmit with one binary signal: both batches carry the malformed chain behind
/// their `VkTimelineSemaphoreSubmitInfo`, and each walk reports it (pSubmits[0] and [1]).
/// The valid twins are the loop-free short chains of `named_loop_free_shapes`.
#[test]
fn malformed_submit_chain_is_reported_per_batch() {
    assert_malformed(&malformed_cases(Target::Submit, [0, 0, 1, 0]), 2);
}

/// The same submission without any semaphore or fence: the chains are walked before the
/// driver sees them all the same, one finding per batch.
#[test]
fn malformed_submit_chain_without_semaphores_is_reported() {
    assert_malformed(&malformed_cases(Target::Submit, [0, 0, 0, 0]), 2);
}

/// vkCmdPipelineBarrier2KHR with one image barrier on the external image: the layer walks
/// its chain for `VkExternalMemoryAcquireUnmodifiedEXT`, so a walk that ends early should
/// be reported once, as vkCreateSemaphore does.
#[test]
fn malformed_barrier2_chain_is_reported() {
    assert_malformed(&malformed_cases(Target::Barrier2, [0, 1, 0, 0]), 1);
}

/// Not Handoff's: with the layer off, lavapipe's vkQueueSubmit reads the timeline value
/// array past its count (1 value for 2 binary wait semaphores, valid per VUID-VkSubmitInfo-
/// pNext-03240) and faults on the guard page behind it. Kept to show the crash is Mesa's.
#[test]
#[ignore = "Mesa (lavapipe) reads pWaitSemaphoreValues past waitSemaphoreValueCount"]
fn short_value_arrays_crash_lavapipe_without_handoff() {
    let c = Case {
        counts: [2, 1, 2, 0],
        ..case(Target::Submit, vec![], 0, None)
    };
    let s = scenario("hostile", Driver::Real).layer(Layer::Off);
    let file = s.dir().join("cases.json");
    std::fs::write(&file, serde_json::to_string(&[c]).unwrap()).unwrap();
    let out = s.arg("--cases").arg(&file).run_any();
    assert!(out.status.success(), "{}", out.context());
}

//! Ownership and layout of external resources at submit: acquire without release, use while
//! released, release of memory that is not external, acquire layout mismatch (paired across
//! devices and instances), GENERAL-layout handoff (peer setting, FOREIGN, D3D11 textures) and
//! acquireUnmodifiedMemory (08922), each with its valid twin; correct handoffs stay silent.
//!
//! Each test runs on lavapipe (VK_QUEUE_FAMILY_EXTERNAL, synchronization2, one family) and on
//! the mock ICD's `full` profile (VK_QUEUE_FAMILY_FOREIGN_EXT, sync1, queue family 1 of
//! several).

mod common;
use common::*;

use handoff_rules::catalogue as cat;

const WITHOUT_RELEASE: &str = cat::OWNERSHIP_ACQUIRE_WITHOUT_RELEASE.id;
const USE_WHILE_RELEASED: &str = cat::OWNERSHIP_USE_WHILE_RELEASED.id;
const NOT_EXTERNAL: &str = cat::OWNERSHIP_NOT_EXTERNAL_MEMORY.id;
const LAYOUT_MISMATCH: &str = cat::OWNERSHIP_ACQUIRE_LAYOUT_MISMATCH.id;
const NOT_GENERAL: &str = cat::HANDOFF_LAYOUT_NOT_GENERAL.id;
const UNMODIFIED: &str = cat::ACQUIRE_UNMODIFIED_BUT_MODIFIED.id;

/// A driver and the arguments that make the scenario fit it.
#[derive(Clone, Copy)]
struct Setup {
    driver: Driver,
    args: &'static [&'static str],
    foreign: bool,
}

const LAVAPIPE: Setup = Setup {
    driver: Driver::Real,
    args: &["--sync2"],
    foreign: false,
};

const FULL: Setup = Setup {
    driver: Driver::Mock("full"),
    args: &["--special", "foreign", "--family", "1"],
    foreign: true,
};

/// Runs one test body on lavapipe and on the mock `full` profile.
macro_rules! on_both_setups {
    ($(#[$m:meta])* fn $name:ident($s:ident: Setup) $body:block) => {
        $(#[$m])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($s: Setup) $body
            #[test]
            fn lavapipe() {
                body(LAVAPIPE)
            }
            #[test]
            fn mock_full() {
                body(FULL)
            }
        }
    };
}

fn ownership(s: Setup) -> Scenario {
    scenario("ownership", s.driver).args(s.args.iter().copied())
}

/// Runs the steps on a `resource` and checks every submit succeeded.
#[track_caller]
fn run_steps(sc: Scenario, resource: &str, steps: &str) -> Outcome {
    let out = sc.args(["--resource", resource, "--steps", steps]).run();
    let done = out.results()["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps\n{}", out.context()));
    assert_eq!(done.len(), steps.split(',').count(), "{}", out.context());
    for st in done {
        assert_eq!(
            st["submit"]["code"].as_i64(),
            Some(VK_SUCCESS),
            "{}",
            out.context()
        );
    }
    out
}

fn side(out: &Outcome, side: &str, key: &str) -> String {
    out.results()[side][key]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The one finding of `id` names the side's resource, the command buffer that recorded step
/// `step`, the side's queue (and its memory with `memory`), with `severity`.
#[track_caller]
fn names(out: &Outcome, id: &str, on: &str, step: usize, memory: bool, severity: &str) {
    let found = out.with_id(id);
    assert_eq!(found.len(), 1, "{}", out.context());
    let f = found[0];
    assert_eq!(
        f.objects[0].handle,
        side(out, on, "resource"),
        "{}",
        out.context()
    );
    let recorded = out.results()["steps"][step]["recorded"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        f.names(&recorded),
        "{id} lacks the command buffer\n{}",
        out.context()
    );
    assert!(f.names(&side(out, on, "queue")), "{id} lacks the queue");
    if memory {
        assert!(f.names(&side(out, on, "memory")), "{id} lacks the memory");
    }
    assert_eq!(f.severity, severity, "{}", out.context());
}

on_both_setups! {
    /// Release then acquire by the same resource, handoffs between two instances and two
    /// devices of one process, imported memory acquired first, and ops in secondary command
    /// buffers: zero findings.
    fn correct_handoffs_are_silent(s: Setup) {
        for res in ["buffer", "image"] {
            let same = "a:use,a:release:general,a:acquire:general,a:use";
            run_steps(ownership(s), res, same).assert_ids(&[]);
            run_steps(ownership(s).arg("--secondary"), res, same).assert_ids(&[]);
            let across = "a:use,a:release:general,b:acquire:general,b:use,\
                          b:release:general,a:acquire:general,a:use";
            run_steps(ownership(s), res, across).assert_ids(&[]);
            run_steps(ownership(s).args(["--second", "device"]), res, across).assert_ids(&[]);
            let imported = "a:acquire:undefined,a:use,a:release:general";
            run_steps(ownership(s).args(["--memory", "import"]), res, imported)
                .assert_ids(&[]);
        }
    }
}

on_both_setups! {
    /// A second acquire with no release since, after a use or after a first acquire of
    /// imported memory.
    fn acquire_without_release_fires(s: Setup) {
        let out = run_steps(ownership(s), "buffer", "a:use,a:acquire:general");
        out.assert_ids(&[WITHOUT_RELEASE]);
        names(&out, WITHOUT_RELEASE, "a", 1, false, "error");
        let out = run_steps(
            ownership(s).args(["--memory", "import"]),
            "image",
            "a:acquire:undefined,a:acquire:general",
        );
        out.assert_ids(&[WITHOUT_RELEASE]);
        names(&out, WITHOUT_RELEASE, "a", 1, false, "error");
        // Twin: a release in between.
        run_steps(ownership(s), "buffer", "a:use,a:release:general,a:acquire:general")
            .assert_ids(&[]);
    }
}

on_both_setups! {
    /// A transfer command, or a barrier other than the acquire, on a released resource (also
    /// when recorded in a secondary command buffer).
    fn use_while_released_fires(s: Setup) {
        for res in ["buffer", "image"] {
            let out = run_steps(ownership(s), res, "a:use,a:release:general,a:use");
            out.assert_ids(&[USE_WHILE_RELEASED]);
            names(&out, USE_WHILE_RELEASED, "a", 2, false, "error");
            let out = run_steps(
                ownership(s).arg("--secondary"),
                res,
                "a:release:general,a:transition:general",
            );
            out.assert_ids(&[USE_WHILE_RELEASED]);
            names(&out, USE_WHILE_RELEASED, "a", 1, false, "error");
            // Twin: acquired again first.
            run_steps(
                ownership(s),
                res,
                "a:use,a:release:general,a:acquire:general,a:use",
            )
            .assert_ids(&[]);
        }
    }
}

on_both_setups! {
    /// A release of memory that is neither exported nor imported.
    fn not_external_memory_fires(s: Setup) {
        for res in ["buffer", "image"] {
            let out = run_steps(ownership(s).args(["--memory", "plain"]), res, "a:release:general");
            out.assert_ids(&[NOT_EXTERNAL]);
            names(&out, NOT_EXTERNAL, "a", 0, true, "error");
            // Twin: exported memory.
            run_steps(ownership(s), res, "a:release:general").assert_ids(&[]);
        }
    }
}

on_both_setups! {
    /// An image released by one instance (or device) and acquired by another with a
    /// different oldLayout.
    fn acquire_layout_mismatch_fires(s: Setup) {
        for second in ["instance", "device"] {
            let sc = || ownership(s).args(["--second", second]);
            let out = run_steps(sc(), "image", "a:release:general,b:acquire:transfer-src");
            out.assert_ids(&[LAYOUT_MISMATCH]);
            names(&out, LAYOUT_MISMATCH, "b", 1, false, "error");
            let out = run_steps(
                sc(),
                "image",
                "a:release:general,b:acquire:general,b:release:transfer-dst,a:acquire:general",
            );
            let mut want = vec![LAYOUT_MISMATCH];
            // The release in TRANSFER_DST is itself a non-GENERAL handoff.
            want.push(NOT_GENERAL);
            out.assert_ids(&want);
            names(&out, LAYOUT_MISMATCH, "a", 3, false, "error");
            // Twins: the same layout, or UNDEFINED (contents discarded).
            run_steps(sc(), "image", "a:release:general,b:acquire:general").assert_ids(&[]);
            run_steps(sc(), "image", "a:release:general,b:acquire:undefined").assert_ids(&[]);
        }
    }
}

on_both_setups! {
    /// The same handoffs when the exporting device had exported before (`--warm`), so that
    /// the layer records the payload's export without its inode and files it only at the
    /// import: the release and the acquire still meet in one payload.
    fn handoff_of_a_lazy_export_pairs(s: Setup) {
        for second in ["instance", "device"] {
            let sc = || ownership(s).args(["--second", second, "--warm"]);
            let out = run_steps(sc(), "image", "a:release:general,b:acquire:transfer-src");
            out.assert_ids(&[LAYOUT_MISMATCH]);
            names(&out, LAYOUT_MISMATCH, "b", 1, false, "error");
            let across = "a:use,a:release:general,b:acquire:general,b:use,\
                          b:release:general,a:acquire:general,a:use";
            for res in ["buffer", "image"] {
                run_steps(sc(), res, across).assert_ids(&[]);
            }
        }
    }
}

on_both_setups! {
    /// A non-GENERAL release: a WARNING with peer = unknown, an ERROR with peer = other-api,
    /// silent with peer = vulkan; always an ERROR for FOREIGN.
    fn layout_not_general_follows_peer(s: Setup) {
        let steps = "a:release:transfer-src";
        for (peer, severity) in [
            ("unknown", if s.foreign { "error" } else { "warning" }),
            ("other-api", "error"),
            ("vulkan", "error"),
        ] {
            let sc = ownership(s).env("VK_HANDOFF_VALIDATION_PEER", peer);
            let out = run_steps(sc, "image", steps);
            if peer == "vulkan" && !s.foreign {
                out.assert_ids(&[]);
                continue;
            }
            out.assert_ids(&[NOT_GENERAL]);
            names(&out, NOT_GENERAL, "a", 0, false, severity);
            // Twin: GENERAL.
            let sc = ownership(s).env("VK_HANDOFF_VALIDATION_PEER", peer);
            run_steps(sc, "image", "a:release:general").assert_ids(&[]);
        }
    }
}

on_both_setups! {
    /// acquireUnmodifiedMemory after the other side used the memory (08922), and its twin
    /// with the memory untouched since the release.
    fn acquire_unmodified_after_use_fires_08922(s: Setup) {
        for res in ["buffer", "image"] {
            let out = run_steps(
                ownership(s),
                res,
                "a:use,a:release:general,b:acquire:general,b:use,b:release:general,\
                 a:acquire-unmodified:general",
            );
            out.assert_ids(&[UNMODIFIED]);
            names(&out, UNMODIFIED, "a", 5, true, "error");
            run_steps(
                ownership(s),
                res,
                "a:use,a:release:general,a:acquire-unmodified:general",
            )
            .assert_ids(&[]);
        }
    }
}

/// D3D11 texture images need GENERAL on both sides of an EXTERNAL transfer (12331/12332),
/// whatever the peer setting; only the mock can create such an image on Linux, and it does
/// not support the handle type, hence 00990 at creation.
#[test]
fn d3d11_texture_needs_general_12331_12332() {
    let unsupported = "VUID-VkImageCreateInfo-pNext-00990";
    let sc = || {
        scenario("ownership", Driver::Mock("full"))
            .args(["--d3d11", "--family", "1"])
            .env("VK_HANDOFF_VALIDATION_PEER", "vulkan")
    };
    let out = run_steps(
        sc(),
        "image",
        "a:release:transfer-src,a:acquire:transfer-src",
    );
    out.assert_ids(&[
        unsupported,
        "VUID-VkImageMemoryBarrier-dstQueueFamilyIndex-12331",
        "VUID-VkImageMemoryBarrier-srcQueueFamilyIndex-12332",
    ]);
    names(
        &out,
        "VUID-VkImageMemoryBarrier-dstQueueFamilyIndex-12331",
        "a",
        0,
        false,
        "error",
    );
    let out = run_steps(
        sc().arg("--sync2"),
        "image",
        "a:release:transfer-src,a:acquire:undefined",
    );
    out.assert_ids(&[
        unsupported,
        "VUID-VkImageMemoryBarrier2-dstQueueFamilyIndex-12331",
    ]);
    // Twin: GENERAL both ways.
    run_steps(sc(), "image", "a:release:general,a:acquire:general").assert_ids(&[unsupported]);
}

/// External transfers are needed whatever the sharing mode (G10): a CONCURRENT buffer used
/// after its release (sync1: IGNORED on this device's side), and its twin. The mock `full`
/// profile has several queue families; lavapipe has one, so no CONCURRENT resource.
#[test]
fn concurrent_resources_need_the_transfer_too() {
    let sc = || scenario("ownership", Driver::Mock("full")).args(["--concurrent", "--family", "1"]);
    for res in ["buffer", "image"] {
        let out = run_steps(sc(), res, "a:use,a:release:general,a:use");
        out.assert_ids(&[USE_WHILE_RELEASED]);
        names(&out, USE_WHILE_RELEASED, "a", 2, false, "error");
        let out = run_steps(sc(), res, "a:use,a:acquire:general");
        out.assert_ids(&[WITHOUT_RELEASE]);
        run_steps(sc(), res, "a:use,a:release:general,a:acquire:general,a:use").assert_ids(&[]);
    }
}

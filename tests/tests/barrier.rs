//! Queue family ownership transfers in vkCmdPipelineBarrier and vkCmdPipelineBarrier2KHR:
//! both sides special (04087/04070), FOREIGN without VK_EXT_queue_family_foreign
//! (09099/09100/09121/09122), an EXCLUSIVE resource's invalid family (09095/09096/09117/
//! 09118), the HOST stage (09633/09634/03851/03854), the command pool's family
//! (10387/10388), the sync1 CONCURRENT rules (09049 to 09054) and transfers in
//! vkCmdWaitEvents (02803), each with its valid twin.

mod common;
use common::*;

/// The synthetic mock profile: 3 queue families, VK_EXT_queue_family_foreign.
const FULL: Driver = Driver::Mock("full");

fn barrier(d: Driver) -> Scenario {
    scenario("barrier", d)
}

/// The recording ended with VK_SUCCESS (findings never block a barrier), and the one finding
/// of `id`, if any, names the resource, the command buffer and the device.
#[track_caller]
fn recorded(out: &Outcome, id: Option<&str>) {
    assert_eq!(
        out.results()["end"]["code"].as_i64(),
        Some(VK_SUCCESS),
        "{}",
        out.context()
    );
    if let Some(id) = id {
        let found = out.with_id(id);
        assert_eq!(found.len(), 1, "{}", out.context());
        for n in ["resource", "command_buffer", "device"] {
            assert!(found[0].names(&out.result_str(n)), "{id} lacks {n}");
        }
        assert_eq!(found[0].severity, "error");
    }
}

on_both_drivers! {
    /// Release to EXTERNAL, acquire from EXTERNAL, EXTERNAL→EXTERNAL: silent, sync1 and sync2.
    fn external_transfers_are_silent(d: Driver) {
        for res in ["buffer", "image"] {
            for (s, t) in [("0", "external"), ("external", "0"), ("external", "external")] {
                for sync2 in [false, true] {
                    let mut sc = barrier(d).args(["--resource", res, "--src", s, "--dst", t]);
                    if sync2 {
                        sc = sc.args(["--sync2"]);
                    }
                    let out = sc.run();
                    out.assert_ids(&[]);
                    recorded(&out, None);
                }
            }
        }
    }
}

on_both_drivers! {
    /// EXTERNAL→FOREIGN names two special families: 04087 (buffer) and 04070 (image), plus
    /// the missing foreign extension.
    fn external_to_foreign_fires_04087_and_04070(d: Driver) {
        let out = barrier(d).args(["--src", "external", "--dst", "foreign"]).run();
        out.assert_ids(&[
            "VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-04087",
            "VUID-VkBufferMemoryBarrier-dstQueueFamilyIndex-09100",
        ]);
        recorded(&out, Some("VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-04087"));
        let out = barrier(d)
            .args(["--resource", "image", "--src", "foreign", "--dst", "external", "--sync2"])
            .run();
        out.assert_ids(&[
            "VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-04070",
            "VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-09121",
        ]);
        recorded(&out, Some("VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-04070"));
    }
}

on_both_drivers! {
    /// An EXCLUSIVE resource transferred from a family the device does not have: 09095
    /// (sync1 buffer) and 09118 (sync2 image); a CONCURRENT one is not checked here.
    fn exclusive_invalid_family_fires_09095_and_09118(d: Driver) {
        // Neither side is the pool's family 0 either: 10388 / 10387 as well.
        let out = barrier(d).args(["--src", "7", "--dst", "external"]).run();
        out.assert_ids(&["VUID-VkBufferMemoryBarrier-buffer-09095", POOL1]);
        recorded(&out, Some("VUID-VkBufferMemoryBarrier-buffer-09095"));
        let out = barrier(d)
            .args(["--resource", "image", "--src", "external", "--dst", "9", "--sync2"])
            .run();
        out.assert_ids(&["VUID-VkImageMemoryBarrier2-image-09118", POOL2]);
        recorded(&out, Some("VUID-VkImageMemoryBarrier2-image-09118"));
    }
}

on_both_drivers! {
    /// The HOST stage with an ownership transfer: 09634 (sync1 buffer), 03854 (sync2 image);
    /// HOST without a transfer is silent.
    fn host_stage_transfer_fires_09634_and_03854(d: Driver) {
        let out = barrier(d).args(["--src", "0", "--dst", "external", "--host"]).run();
        out.assert_ids(&["VUID-vkCmdPipelineBarrier-srcStageMask-09634"]);
        recorded(&out, Some("VUID-vkCmdPipelineBarrier-srcStageMask-09634"));
        let out = barrier(d)
            .args(["--resource", "image", "--src", "external", "--dst", "0", "--host", "--sync2"])
            .run();
        out.assert_ids(&["VUID-VkImageMemoryBarrier2-srcStageMask-03854"]);
        let out = barrier(d)
            .args(["--resource", "image", "--src", "0", "--dst", "0", "--host"])
            .run();
        out.assert_ids(&[]);
    }
}

/// FOREIGN with VK_EXT_queue_family_foreign on mock `full`: release and acquire are silent.
#[test]
fn foreign_with_extension_is_silent() {
    for res in ["buffer", "image"] {
        for (s, t, pool) in [
            ("0", "foreign", "0"),
            ("foreign", "2", "2"),
            ("foreign", "foreign", "1"),
        ] {
            for sync2 in [false, true] {
                let mut sc = barrier(FULL).args([
                    "--foreign",
                    "--resource",
                    res,
                    "--src",
                    s,
                    "--dst",
                    t,
                    "--pool-family",
                    pool,
                ]);
                if sync2 {
                    sc = sc.args(["--sync2"]);
                }
                let out = sc.run();
                out.assert_ids(&[]);
                recorded(&out, None);
            }
        }
    }
}

/// FOREIGN without the extension on mock `full`: 09099 (sync1 buffer src), 09122 (sync2
/// image dst); EXTERNAL→FOREIGN with it enabled leaves only 04087.
#[test]
fn foreign_without_extension_fires_09099_and_09122() {
    let out = barrier(FULL)
        .args(["--src", "foreign", "--dst", "1", "--pool-family", "1"])
        .run();
    out.assert_ids(&["VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-09099"]);
    recorded(
        &out,
        Some("VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-09099"),
    );
    let out = barrier(FULL)
        .args([
            "--resource",
            "image",
            "--src",
            "1",
            "--dst",
            "foreign",
            "--sync2",
            "--pool-family",
            "1",
        ])
        .run();
    out.assert_ids(&["VUID-VkImageMemoryBarrier2-dstQueueFamilyIndex-09122"]);
    let out = barrier(FULL)
        .args([
            "--foreign",
            "--src",
            "external",
            "--dst",
            "foreign",
            "--sync2",
        ])
        .run();
    out.assert_ids(&["VUID-VkBufferMemoryBarrier2-srcQueueFamilyIndex-04087"]);
}

/// Mock `full` has 3 families: 2 is valid, 3 fires 09096 / 09117 (and, naming no family of
/// the pool, 10387 / 10388); CONCURRENT over all three is not checked by the EXCLUSIVE rules
/// (with synchronization2: the sync1 CONCURRENT rules are below).
#[test]
fn exclusive_family_range_on_full() {
    let out = barrier(FULL)
        .args(["--src", "2", "--dst", "external", "--pool-family", "2"])
        .run();
    out.assert_ids(&[]);
    let out = barrier(FULL)
        .args(["--src", "external", "--dst", "3", "--sync2"])
        .run();
    out.assert_ids(&["VUID-VkBufferMemoryBarrier2-buffer-09096", POOL2]);
    let out = barrier(FULL)
        .args(["--resource", "image", "--src", "3", "--dst", "external"])
        .run();
    out.assert_ids(&["VUID-VkImageMemoryBarrier-image-09117", POOL1]);
    let out = barrier(FULL)
        .args([
            "--resource",
            "image",
            "--concurrent",
            "--sync2",
            "--src",
            "3",
            "--dst",
            "external",
        ])
        .run();
    out.assert_ids(&[]);
}

const POOL1: &str = "VUID-vkCmdPipelineBarrier-srcQueueFamilyIndex-10388";
const POOL2: &str = "VUID-vkCmdPipelineBarrier2-srcQueueFamilyIndex-10387";

/// A transfer recorded in a command buffer of a third family (mock `full`): 10388 (sync1)
/// and 10387 (sync2); the same transfer from the source's or the destination's pool, and a
/// release/acquire with the pool's family, are silent.
#[test]
fn pool_family_fires_10388_and_10387_on_full() {
    for res in ["buffer", "image"] {
        let out = barrier(FULL)
            .args([
                "--resource",
                res,
                "--src",
                "0",
                "--dst",
                "1",
                "--pool-family",
                "2",
            ])
            .run();
        out.assert_ids(&[POOL1]);
        recorded(&out, Some(POOL1));
        let out = barrier(FULL)
            .args([
                "--resource",
                res,
                "--src",
                "external",
                "--dst",
                "1",
                "--pool-family",
                "2",
            ])
            .args(["--sync2"])
            .run();
        out.assert_ids(&[POOL2]);
        recorded(&out, Some(POOL2));
        let found = out.with_id(POOL2);
        assert!(
            found[0].message.contains("queue family 2"),
            "{}",
            out.context()
        );
        for (s, t, pool) in [
            ("0", "1", "0"),
            ("0", "1", "1"),
            ("external", "1", "1"),
            ("2", "external", "2"),
        ] {
            for sync2 in [false, true] {
                let mut sc = barrier(FULL).args([
                    "--resource",
                    res,
                    "--src",
                    s,
                    "--dst",
                    t,
                    "--pool-family",
                    pool,
                ]);
                if sync2 {
                    sc = sc.args(["--sync2"]);
                }
                sc.run().assert_ids(&[]);
            }
        }
        // CONCURRENT resources have no owner to transfer (with synchronization2).
        let out = barrier(FULL)
            .args([
                "--resource",
                res,
                "--concurrent",
                "--sync2",
                "--src",
                "0",
                "--dst",
                "1",
            ])
            .args(["--pool-family", "2"])
            .run();
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// A transfer that names neither family 0 (the pool's family) is 10388 / 10387, next to
    /// the invalid-family rule it also breaks (`count`: the family count, invalid on any
    /// driver, however many families it has); EXTERNAL→0 is silent.
    fn pool_family_fires_on_one_family(d: Driver) {
        let out = barrier(d).args(["--src", "ignored", "--dst", "external"]).run();
        out.assert_ids(&["VUID-VkBufferMemoryBarrier-buffer-09095", POOL1]);
        let out = barrier(d)
            .args(["--resource", "image", "--src", "external", "--dst", "count", "--sync2"])
            .run();
        out.assert_ids(&["VUID-VkImageMemoryBarrier2-image-09118", POOL2]);
        let out = barrier(d)
            .args(["--resource", "image", "--src", "external", "--dst", "0", "--sync2"])
            .run();
        out.assert_ids(&[]);
    }
}

/// Without synchronization2, a CONCURRENT resource (mock `full`, over its 3 families) may
/// only name IGNORED, or EXTERNAL with IGNORED on the other side: 09049 to 09054.
#[test]
fn sync1_concurrent_fires_09049_to_09054() {
    let run = |res: &str, s: &str, t: &str| {
        barrier(FULL)
            .args(["--resource", res, "--concurrent", "--src", s, "--dst", t])
            .run()
    };
    let out = run("buffer", "0", "ignored");
    out.assert_ids(&["VUID-VkBufferMemoryBarrier-None-09050"]);
    recorded(&out, Some("VUID-VkBufferMemoryBarrier-None-09050"));
    run("buffer", "ignored", "2").assert_ids(&["VUID-VkBufferMemoryBarrier-None-09051"]);
    run("buffer", "external", "external").assert_ids(&["VUID-VkBufferMemoryBarrier-None-09049"]);
    let out = run("image", "0", "1");
    out.assert_ids(&[
        "VUID-VkImageMemoryBarrier-None-09052",
        "VUID-VkImageMemoryBarrier-None-09053",
        "VUID-VkImageMemoryBarrier-None-09054",
    ]);
    recorded(&out, Some("VUID-VkImageMemoryBarrier-None-09052"));
    run("image", "foreign", "ignored").assert_ids(&[
        "VUID-VkImageMemoryBarrier-None-09053",
        // FOREIGN without VK_EXT_queue_family_foreign.
        "VUID-VkImageMemoryBarrier-srcQueueFamilyIndex-09121",
    ]);
    run("image", "ignored", "0").assert_ids(&["VUID-VkImageMemoryBarrier-None-09054"]);
}

/// The valid twins: IGNORED on both sides, EXTERNAL with IGNORED; any families with the
/// synchronization2 feature (sync1 or sync2 commands alike); EXCLUSIVE resources.
#[test]
fn sync1_concurrent_valid_twins() {
    for res in ["buffer", "image"] {
        for (s, t) in [
            ("ignored", "ignored"),
            ("external", "ignored"),
            ("ignored", "external"),
        ] {
            barrier(FULL)
                .args(["--resource", res, "--concurrent", "--src", s, "--dst", t])
                .run()
                .assert_ids(&[]);
        }
        barrier(FULL)
            .args([
                "--resource",
                res,
                "--concurrent",
                "--sync2",
                "--src",
                "0",
                "--dst",
                "0",
            ])
            .run()
            .assert_ids(&[]);
        barrier(FULL)
            .args(["--resource", res, "--src", "0", "--dst", "0"])
            .run()
            .assert_ids(&[]);
    }
}

on_both_drivers! {
    /// vkCmdWaitEvents cannot transfer ownership (02803); equal families are silent, and
    /// vkCmdWaitEvents2KHR is not bound by it.
    fn wait_events_transfer_fires_02803(d: Driver) {
        for res in ["buffer", "image"] {
            let out = barrier(d)
                .args(["--wait-events", "--resource", res, "--src", "0", "--dst", "external"])
                .run();
            out.assert_ids(&["VUID-vkCmdWaitEvents-srcQueueFamilyIndex-02803"]);
            recorded(&out, Some("VUID-vkCmdWaitEvents-srcQueueFamilyIndex-02803"));
            barrier(d)
                .args(["--wait-events", "--resource", res, "--src", "0", "--dst", "0"])
                .run()
                .assert_ids(&[]);
            barrier(d)
                .args(["--wait-events", "--sync2", "--resource", res])
                .args(["--src", "0", "--dst", "external"])
                .run()
                .assert_ids(&[]);
        }
        // The struct rules apply to vkCmdWaitEvents2's barriers too.
        let out = barrier(d)
            .args(["--wait-events", "--sync2", "--src", "external", "--dst", "7"])
            .run();
        out.assert_ids(&["VUID-VkBufferMemoryBarrier2-buffer-09096"]);
    }
}

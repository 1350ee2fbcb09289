//! Queue family ownership transfers in vkCmdPipelineBarrier and vkCmdPipelineBarrier2KHR:
//! both sides special (04087/04070), FOREIGN without VK_EXT_queue_family_foreign
//! (09099/09100/09121/09122), an EXCLUSIVE resource's invalid family (09095/09096/09117/
//! 09118) and the HOST stage (09633/09634/03851/03854), each with its valid twin.

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
        let out = barrier(d).args(["--src", "7", "--dst", "external"]).run();
        out.assert_ids(&["VUID-VkBufferMemoryBarrier-buffer-09095"]);
        recorded(&out, Some("VUID-VkBufferMemoryBarrier-buffer-09095"));
        let out = barrier(d)
            .args(["--resource", "image", "--src", "external", "--dst", "9", "--sync2"])
            .run();
        out.assert_ids(&["VUID-VkImageMemoryBarrier2-image-09118"]);
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
        for (s, t) in [("0", "foreign"), ("foreign", "2"), ("foreign", "foreign")] {
            for sync2 in [false, true] {
                let mut sc =
                    barrier(FULL).args(["--foreign", "--resource", res, "--src", s, "--dst", t]);
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
    let out = barrier(FULL).args(["--src", "foreign", "--dst", "1"]).run();
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

/// Mock `full` has 3 families: 2 is valid, 3 fires 09096 / 09117; CONCURRENT over all three
/// is not checked by the EXCLUSIVE rules.
#[test]
fn exclusive_family_range_on_full() {
    let out = barrier(FULL)
        .args(["--src", "2", "--dst", "external"])
        .run();
    out.assert_ids(&[]);
    let out = barrier(FULL)
        .args(["--src", "external", "--dst", "3", "--sync2"])
        .run();
    out.assert_ids(&["VUID-VkBufferMemoryBarrier2-buffer-09096"]);
    let out = barrier(FULL)
        .args(["--resource", "image", "--src", "3", "--dst", "external"])
        .run();
    out.assert_ids(&["VUID-VkImageMemoryBarrier-image-09117"]);
    let out = barrier(FULL)
        .args([
            "--resource",
            "image",
            "--concurrent",
            "--src",
            "3",
            "--dst",
            "external",
        ])
        .run();
    out.assert_ids(&[]);
}

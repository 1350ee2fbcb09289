//! Command pools, command buffers and the commands the layer records for the ownership
//! rules: a correct app that copies, clears, fills, blits, renders into an external image
//! (render pass and dynamic rendering), runs a secondary command buffer and releases
//! everything to VK_QUEUE_FAMILY_EXTERNAL produces no finding. (The record-time barrier
//! rules are in barrier.rs; what the recorded operations mean at submit is tested end to end
//! in ownership.rs.)

mod common;
use common::*;

/// The synthetic mock profile: 3 queue families, VK_EXT_queue_family_foreign.
const FULL: Driver = Driver::Mock("full");

#[track_caller]
fn silent(out: &Outcome) {
    out.assert_ids(&[]);
    assert_eq!(
        out.results()["submit"]["code"].as_i64(),
        Some(VK_SUCCESS),
        "{}",
        out.context()
    );
}

on_both_drivers! {
    /// Render pass 1 and 2, sync2 and sync1 releases, and no release at all: silent.
    fn correct_app_is_silent(d: Driver) {
        for args in [
            &[][..],
            &["--rp2"][..],
            &["--sync1-release"][..],
            &["--no-release", "--rp2"][..],
        ] {
            silent(&scenario("commands", d).args(args.iter().copied()).run());
        }
    }
}

/// The same on the mock's `full` profile (several queue families).
#[test]
fn correct_app_is_silent_on_full() {
    for args in [&[][..], &["--rp2", "--sync1-release"][..]] {
        silent(&scenario("commands", FULL).args(args.iter().copied()).run());
    }
}

const USE_WHILE_RELEASED: &str = "HANDOFF-Ownership-use-while-released";

/// What the layer recorded, seen through the submit-time rule it feeds: each command that
/// touches the buffer or the image after their release to EXTERNAL (in the same command
/// buffer, or in a secondary run after it) is a use while released, named by the command.
/// `n` is the number of findings: one per resource the command touches; a render pass adds
/// its attachment's layout change (recorded as a barrier) to its use.
#[test]
fn recorded_commands_touch_released_resources() {
    for d in [Driver::Real, MOCK, FULL] {
        for (op, command, n) in [
            ("fill", "vkCmdFillBuffer", 1),
            ("update", "vkCmdUpdateBuffer", 1),
            ("clear", "vkCmdClearColorImage", 1),
            ("copy-buffer-to-image", "vkCmdCopyBufferToImage", 2),
            ("copy-image-to-buffer2", "vkCmdCopyImageToBuffer2KHR", 2),
            ("copy-image", "vkCmdCopyImage", 1),
            ("blit", "vkCmdBlitImage", 1),
            ("render-pass", "vkCmdBeginRenderPass", 2),
            ("rendering", "vkCmdBeginRenderingKHR", 1),
            ("secondary", "vkCmdFillBuffer", 1),
        ] {
            let out = scenario("commands", d).args(["--after-release", op]).run();
            out.assert_ids(&times(USE_WHILE_RELEASED, n));
            assert_eq!(
                out.results()["submit"]["code"].as_i64(),
                Some(VK_SUCCESS),
                "{}",
                out.context()
            );
            let found = out.with_id(USE_WHILE_RELEASED);
            assert!(
                found[0].message.starts_with(command),
                "{op} on {d:?}: {}",
                found[0].message
            );
            // The secondary's fill is reported in the secondary (run by the primary).
            let cb = if op == "secondary" {
                "secondary"
            } else {
                "command_buffer"
            };
            assert!(
                found[0].names(&out.result_str(cb)),
                "{op}: {}",
                out.context()
            );
        }
    }
}

/// With the render pass of vkCmdBeginRenderPass2KHR: the same two findings.
#[test]
fn render_pass2_attachment_is_recorded() {
    for d in [Driver::Real, FULL] {
        let out = scenario("commands", d)
            .args(["--after-release", "render-pass", "--rp2"])
            .run();
        out.assert_ids(&times(USE_WHILE_RELEASED, 2));
        let found = out.with_id(USE_WHILE_RELEASED);
        assert!(found[0].message.starts_with("vkCmdBeginRenderPass2KHR"));
    }
}

/// Imageless framebuffers (lavapipe; the mock has no VK_KHR_imageless_framebuffer): the
/// attachment comes from VkRenderPassAttachmentBeginInfo. Correct use is silent; after the
/// release, the render pass is a use of the image.
#[test]
fn imageless_framebuffer_attachment_is_recorded() {
    let d = Driver::Real;
    for rp2 in [false, true] {
        let extra: &[&str] = if rp2 { &["--rp2"] } else { &[] };
        let out = scenario("commands", d)
            .args(["--imageless"])
            .args(extra.iter().copied())
            .run();
        silent(&out);
        let out = scenario("commands", d)
            .args(["--imageless", "--after-release", "render-pass"])
            .args(extra.iter().copied())
            .run();
        out.assert_ids(&times(USE_WHILE_RELEASED, 2));
    }
}

//! A device that enables no extension able to share a payload gets the next layer's commands
//! (issue 6, "with no external memory in use the layer costs next to nothing"): nothing it
//! does can leave Vulkan, so Handoff tracks nothing on it and costs it nothing per call. The
//! twin enables `VK_KHR_external_memory_fd` and is tracked as before.

mod common;
use common::*;
use handoff_rules::catalogue as cat;

/// (vkDestroyDevice is missing: the loader answers it with its own trampoline.)
const TRACKED: [&str; 7] = [
    "vkCreateBuffer",
    "vkAllocateMemory",
    "vkBindBufferMemory",
    "vkCmdPipelineBarrier",
    "vkQueueSubmit",
    "vkFreeMemory",
    "vkDestroyBuffer",
];

fn in_layer(out: &Outcome) -> Vec<String> {
    out.results()["in_layer"]
        .as_array()
        .unwrap_or_else(|| panic!("no in_layer\n{}", out.context()))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

on_both_drivers! {
    /// None of the commands resolve into Handoff (it keeps only vkGetDeviceProcAddr and
    /// vkDestroyDevice, to forget the device); a buffer's life and a submit run silently and
    /// succeed.
    fn plain_device_gets_the_next_layers_commands(d: Driver) {
        let out = scenario("plain-device", d).run();
        out.assert_ids(&[]);
        assert!(in_layer(&out).is_empty(), "{}", out.context());
        assert_eq!(first_code(&out, "submit"), 0, "{}", out.context());
    }
}

on_both_drivers! {
    /// The twin that can share: every command above goes through Handoff.
    fn sharing_device_is_tracked(d: Driver) {
        let out = scenario("plain-device", d).args(["--share"]).run();
        out.assert_ids(&[]);
        assert_eq!(in_layer(&out), TRACKED, "{}", out.context());
        assert_eq!(first_code(&out, "submit"), 0, "{}", out.context());
    }
}

on_both_drivers! {
    /// A release to VK_QUEUE_FAMILY_EXTERNAL of a buffer whose memory is not external: the
    /// sharing device reports it at submit; the device that cannot share is not checked
    /// (its commands bypass Handoff; the release cannot hand anything over, since the device
    /// has no way to export the memory). rules/README.md lists this under "unchecked".
    fn release_of_plain_memory_is_checked_only_where_it_can_be_shared(d: Driver) {
        let out = scenario("plain-device", d).args(["--share", "--release"]).run();
        out.assert_ids(&[cat::OWNERSHIP_NOT_EXTERNAL_MEMORY.id]);
        let out = scenario("plain-device", d).args(["--release"]).run();
        out.assert_ids(&[]);
        assert_eq!(first_code(&out, "submit"), 0, "{}", out.context());
    }
}

#[track_caller]
fn first_code(out: &Outcome, key: &str) -> i64 {
    out.results()[key]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no {key}\n{}", out.context()))
}

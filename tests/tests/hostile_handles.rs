//! Bad handles and fds through the real loader with the layer on (issue 7): handles never
//! created or already freed, fds of the wrong kind, absurd sizes. Each case: the right id,
//! the call stopped before the driver (unless `forward_invalid_calls`), no crash; each has a
//! valid twin that stays silent.
//!
//! What may go to the real driver: only calls the layer itself recognises and stops. A
//! made-up or freed non-dispatchable handle that reached lavapipe would be dereferenced
//! there, so the cases the layer does not (yet) stop run on the mock ICD only, which looks
//! its handles up. Unknown dispatchable handles (queue, command buffer, device) cannot be
//! tested at all: the loader's trampoline dereferences them before any layer runs.
//!
//! Already covered elsewhere, not repeated: unknown and freed memory in vkGetMemoryFdKHR
//! (memory_export.rs), unknown and destroyed dedicated images and buffers (dedicated.rs),
//! closed, negative, pipe, socket, eventfd and directory fds imported as memory
//! (memory_import.rs), destroyed semaphores and fences and closed, pipe, directory and
//! memory fds imported into them (sync.rs).

mod common;
use common::*;
use handoff_rules::catalogue as cat;

const FULL: Driver = Driver::Mock("full");
const PROPS_FD_INVALID: &str = "VUID-vkGetMemoryFdPropertiesKHR-fd-00673";
const SIZE_TYPE: &str = "VUID-VkMemoryAllocateInfo-allocationSize-01742";

fn hostile(d: Driver, args: &[&str]) -> Scenario {
    scenario("hostile-handles", d).args(args.iter().copied())
}

#[track_caller]
fn code(out: &Outcome, key: &str) -> i64 {
    out.results()[key]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no {key}\n{}", out.context()))
}

// ---- semaphores and fences (the mock's `full` profile: lavapipe exports neither) --------

/// A semaphore or fence handle no one created: the -parameter id, stopped (export:
/// VALIDATION_FAILED and no fd written; import: INVALID_EXTERNAL_HANDLE and the fd left
/// open, since a refused import consumes nothing).
#[test]
fn garbage_sync_handles_are_blocked_mock_full() {
    for (kind, get_id, import_id) in [
        (
            "semaphore",
            cat::SEM_GET_FD_UNKNOWN.id,
            cat::SEM_IMPORT_UNKNOWN.id,
        ),
        (
            "fence",
            cat::FENCE_GET_FD_UNKNOWN.id,
            cat::FENCE_IMPORT_UNKNOWN.id,
        ),
    ] {
        let out = hostile(
            FULL,
            &["--case", "sync-garbage", "--kind", kind, "--op", "get"],
        )
        .run();
        out.assert_ids(&[get_id]);
        assert_eq!(
            code(&out, "result"),
            VK_ERROR_VALIDATION_FAILED_EXT,
            "{}",
            out.context()
        );
        assert_eq!(out.results()["fd_written"], false, "{}", out.context());

        let out = hostile(
            FULL,
            &["--case", "sync-garbage", "--kind", kind, "--op", "import"],
        )
        .run();
        out.assert_ids(&[import_id]);
        assert_eq!(
            code(&out, "result"),
            VK_ERROR_INVALID_EXTERNAL_HANDLE,
            "{}",
            out.context()
        );
        assert_eq!(out.results()["fd_open_after"], true, "{}", out.context());
    }
}

/// forward_invalid_calls=true: the finding is still reported and the call reaches the
/// driver (the mock answers for itself: not the layer's VALIDATION_FAILED).
#[test]
fn garbage_sync_handle_forwarded_when_asked_mock_full() {
    let out = hostile(
        FULL,
        &[
            "--case",
            "sync-garbage",
            "--kind",
            "semaphore",
            "--op",
            "get",
        ],
    )
    .env("VK_HANDOFF_VALIDATION_FORWARD_INVALID_CALLS", "true")
    .run();
    out.assert_ids(&[cat::SEM_GET_FD_UNKNOWN.id]);
    assert_ne!(
        code(&out, "result"),
        VK_ERROR_VALIDATION_FAILED_EXT,
        "{}",
        out.context()
    );
    assert!(out.with_id(cat::SEM_GET_FD_UNKNOWN.id)[0]
        .message
        .contains("forward_invalid_calls is on"));
}

/// OPAQUE_FD imports of a socket, a memory fd (a semaphore expected, memory given) and a
/// negative fd: 01544 / 01541, stopped, a real fd left open. The exported fd of the same kind
/// is the silent twin. (An eventfd or a bare memfd is not refused: either may be a driver's
/// opaque semaphore payload, the mock's among them, so nothing proves it wrong.)
#[test]
fn wrong_fds_for_semaphores_and_fences_mock_full() {
    for (kind, id) in [
        ("semaphore", cat::SEM_IMPORT_FD_INCOMPATIBLE.id),
        ("fence", cat::FENCE_IMPORT_FD_INCOMPATIBLE.id),
    ] {
        let out = hostile(
            FULL,
            &["--case", "sync-import-fd", "--kind", kind, "--fd", "valid"],
        )
        .run();
        out.assert_ids(&[]);
        assert_eq!(code(&out, "result"), VK_SUCCESS, "{}", out.context());
        for (fd, open_after) in [("socket", true), ("memory", true), ("negative", false)] {
            let out = hostile(
                FULL,
                &["--case", "sync-import-fd", "--kind", kind, "--fd", fd],
            )
            .run();
            out.assert_ids(&[id]);
            assert_eq!(
                code(&out, "result"),
                VK_ERROR_INVALID_EXTERNAL_HANDLE,
                "{kind} {fd}: {}",
                out.context()
            );
            assert_eq!(
                out.results()["fd_open_after"],
                open_after,
                "{kind} {fd}: {}",
                out.context()
            );
        }
    }
}

// ---- memory ------------------------------------------------------------------------------

on_both_drivers! {
    /// vkGetMemoryFdPropertiesKHR (DMA_BUF) on a closed, negative, socket, eventfd and
    /// directory fd: 00673, stopped with INVALID_EXTERNAL_HANDLE, nothing written back.
    /// (The pipe and the valid dma-buf twin: memory_import.rs.)
    fn fd_properties_of_non_memory_fds_are_blocked(d: Driver) {
        for fd in ["closed", "negative", "socket", "eventfd", "dir"] {
            let out = scenario("fd-props", d).args(["--fd", fd, "--handle-type", "dmabuf"]).run();
            out.assert_ids(&[PROPS_FD_INVALID]);
            assert_eq!(code(&out, "result"), VK_ERROR_INVALID_EXTERNAL_HANDLE, "{fd}: {}", out.context());
            assert!(out.results()["memory_type_bits"].is_null(), "{fd}: {}", out.context());
        }
    }
}

on_both_drivers! {
    /// allocationSize = u64::MAX, plain and exportable: the driver's out-of-memory answer
    /// comes back, Handoff has nothing to say and does not overflow or crash on it.
    fn absurd_allocation_size_is_the_drivers_business(d: Driver) {
        for export in ["none", "opaque"] {
            let out = hostile(d, &["--case", "alloc-huge", "--export", export]).run();
            out.assert_ids(&[]);
            let r = code(&out, "result");
            assert!(r == -1 || r == -2, "{export}: {r}\n{}", out.context());
        }
    }
}

/// An import of a 4096-byte export with allocationSize = u64::MAX: 01742 (the size does not
/// repeat the exporter's); the driver refuses it. Mock ICD only: 01742 does not stop the
/// call, and lavapipe would mmap the fd with that size. The right size is the silent twin.
#[test]
fn absurd_import_size_reports_01742_mock_icd() {
    let out = hostile(MOCK, &["--case", "import-huge"]).run();
    out.assert_ids(&[SIZE_TYPE]);
    assert_ne!(code(&out, "result"), VK_SUCCESS, "{}", out.context());
    let out = hostile(MOCK, &["--case", "import-huge", "--size", "4096"]).run();
    out.assert_ids(&[]);
    assert_eq!(code(&out, "result"), VK_SUCCESS, "{}", out.context());
}

on_both_drivers! {
    /// Exportable memory of device A exported through device B: a handle B never allocated,
    /// so memory-parameter and stopped before lavapipe sees it; B's own memory is the twin.
    fn memory_of_another_device_is_unknown(d: Driver) {
        let out = hostile(d, &["--case", "other-device", "--memory", "own"]).run();
        out.assert_ids(&[]);
        assert_eq!(code(&out, "result"), VK_SUCCESS, "{}", out.context());
        let out = hostile(d, &["--case", "other-device", "--memory", "other"]).run();
        out.assert_ids(&[MEMORY_UNKNOWN]);
        assert_eq!(code(&out, "result"), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
        assert!(out.with_id(MEMORY_UNKNOWN)[0].names(&out.result_str("memory")), "{}", out.context());
    }
}

// ---- freed handles (issue 7) --------------------------------------------------------------

const FREE_TWICE: &str = "VUID-vkFreeMemory-memory-parameter";

fn freed(d: Driver, what: &str, extra: &[&str]) -> Scenario {
    let mut args = vec!["--case", "freed-use", "--what", what];
    args.extend_from_slice(extra);
    hostile(d, &args)
}

/// Every freed-handle case: `--what`, extra arguments, the ids it must report. The
/// double free exports the handle afterwards too: still unknown, still refused.
const FREED_CASES: &[(&str, &[&str], &[&str])] = &[
    (
        "bind-memory",
        &[],
        &["VUID-vkBindBufferMemory-memory-parameter"],
    ),
    (
        "bind-buffer",
        &[],
        &["VUID-vkBindBufferMemory-buffer-parameter"],
    ),
    (
        "bind-image",
        &[],
        &["VUID-vkBindImageMemory-image-parameter"],
    ),
    (
        "bind-image-memory",
        &[],
        &["VUID-vkBindImageMemory-memory-parameter"],
    ),
    (
        "bind-memory",
        &["--bind2"],
        &["VUID-VkBindBufferMemoryInfo-memory-parameter"],
    ),
    (
        "bind-buffer",
        &["--bind2"],
        &["VUID-VkBindBufferMemoryInfo-buffer-parameter"],
    ),
    (
        "bind-image",
        &["--bind2"],
        &["VUID-VkBindImageMemoryInfo-image-parameter"],
    ),
    (
        "bind-image-memory",
        &["--bind2"],
        &["VUID-VkBindImageMemoryInfo-pNext-01632"],
    ),
    ("free-memory", &[], &[FREE_TWICE, MEMORY_UNKNOWN]),
    (
        "destroy-buffer",
        &[],
        &["VUID-vkDestroyBuffer-buffer-parameter"],
    ),
    (
        "destroy-image",
        &[],
        &["VUID-vkDestroyImage-image-parameter"],
    ),
    (
        "barrier-image",
        &[],
        &["VUID-VkImageMemoryBarrier-image-parameter"],
    ),
    (
        "barrier-image",
        &["--sync2"],
        &["VUID-VkImageMemoryBarrier2-image-parameter"],
    ),
    // Released while alive on the same thread first: nothing the layer keeps of the live
    // image (its per-thread facts) may hide that it is gone.
    (
        "barrier-image",
        &["--used-before"],
        &["VUID-VkImageMemoryBarrier-image-parameter"],
    ),
    (
        "barrier-image",
        &["--sync2", "--used-before"],
        &["VUID-VkImageMemoryBarrier2-image-parameter"],
    ),
    (
        "submit-cb",
        &[],
        &["VUID-VkSubmitInfo-pCommandBuffers-parameter"],
    ),
    (
        "submit-pool",
        &[],
        &["VUID-VkSubmitInfo-pCommandBuffers-parameter"],
    ),
    (
        "submit-cb",
        &["--sync2"],
        &["VUID-VkCommandBufferSubmitInfo-commandBuffer-parameter"],
    ),
];

/// What the layer says and does for a freed handle (DESIGN.md: "forward calls the layer
/// proves undefined (freed or unknown handle …)"): the ids, and VALIDATION_FAILED where the
/// command returns a result (a void command is simply not forwarded). Safe on lavapipe
/// too: the freed handle never reaches the driver.
#[track_caller]
fn freed_handle_is_blocked(d: Driver, what: &str, extra: &[&str]) {
    let (_, _, ids) = FREED_CASES
        .iter()
        .find(|(w, e, _)| *w == what && *e == extra)
        .expect("a listed case");
    let out = freed(d, what, extra).run();
    out.assert_ids(ids);
    if !out.results()["result"].is_null() {
        assert_eq!(
            code(&out, "result"),
            VK_ERROR_VALIDATION_FAILED_EXT,
            "{what} {extra:?}: {}",
            out.context()
        );
    }
    if what == "free-memory" {
        // The second free left the handle freed: the layer still refuses to export it.
        assert_eq!(
            code(&out, "after"),
            VK_ERROR_VALIDATION_FAILED_EXT,
            "{}",
            out.context()
        );
    }
    if what == "barrier-image" {
        // The barrier was dropped, so the command buffer holds nothing wrong.
        assert_eq!(code(&out, "submit"), VK_SUCCESS, "{}", out.context());
    }
    for id in *ids {
        assert!(
            out.with_id(id)[0]
                .message
                .contains("was not passed to the driver"),
            "{what} {extra:?}: {}",
            out.context()
        );
    }
}

on_both_drivers! {
    /// The valid twins: the same calls on live objects, silent and successful. The null
    /// handles the spec allows (vkFreeMemory, vkDestroyBuffer, vkDestroyImage of
    /// VK_NULL_HANDLE, run by the free and destroy cases) are silent too.
    fn live_handles_are_silent(d: Driver) {
        for (what, extra, _) in FREED_CASES {
            let mut args = extra.to_vec();
            args.push("--live");
            let out = freed(d, what, &args).run();
            out.assert_ids(&[]);
            for key in ["result", "submit"] {
                if !out.results()[key].is_null() {
                    assert_eq!(code(&out, key), VK_SUCCESS, "{what} {extra:?}: {}", out.context());
                }
            }
        }
    }
}

on_both_drivers! {
    /// vkBindBufferMemory(2) with freed memory.
    fn bind_to_freed_memory_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "bind-memory", &[]);
        freed_handle_is_blocked(d, "bind-memory", &["--bind2"]);
    }
}

on_both_drivers! {
    /// vkBindImageMemory(2) with freed memory.
    fn bind_image_to_freed_memory_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "bind-image-memory", &[]);
        freed_handle_is_blocked(d, "bind-image-memory", &["--bind2"]);
    }
}

on_both_drivers! {
    /// vkBindBufferMemory(2) of a destroyed buffer.
    fn bind_of_destroyed_buffer_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "bind-buffer", &[]);
        freed_handle_is_blocked(d, "bind-buffer", &["--bind2"]);
    }
}

on_both_drivers! {
    /// vkBindImageMemory(2) of a destroyed image.
    fn bind_of_destroyed_image_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "bind-image", &[]);
        freed_handle_is_blocked(d, "bind-image", &["--bind2"]);
    }
}

on_both_drivers! {
    /// vkFreeMemory twice.
    fn double_free_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "free-memory", &[]);
    }
}

on_both_drivers! {
    /// vkDestroyBuffer twice.
    fn double_destroy_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "destroy-buffer", &[]);
    }
}

on_both_drivers! {
    /// vkDestroyImage twice.
    fn double_destroy_image_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "destroy-image", &[]);
    }
}

on_both_drivers! {
    /// A queue-family release of a destroyed image, vkCmdPipelineBarrier and
    /// vkCmdPipelineBarrier2KHR.
    fn barrier_on_destroyed_image_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "barrier-image", &[]);
        freed_handle_is_blocked(d, "barrier-image", &["--sync2"]);
        freed_handle_is_blocked(d, "barrier-image", &["--used-before"]);
        freed_handle_is_blocked(d, "barrier-image", &["--sync2", "--used-before"]);
    }
}

on_both_drivers! {
    /// vkQueueSubmit(2KHR) of a command buffer freed by vkFreeCommandBuffers or by
    /// vkDestroyCommandPool.
    fn submit_of_freed_command_buffer_is_blocked(d: Driver) {
        freed_handle_is_blocked(d, "submit-cb", &[]);
        freed_handle_is_blocked(d, "submit-pool", &[]);
        freed_handle_is_blocked(d, "submit-cb", &["--sync2"]);
    }
}

on_both_drivers! {
    /// An image destroyed and a new one created, which lavapipe usually gives the same
    /// handle value: bound, released to VK_QUEUE_FAMILY_EXTERNAL, submitted and destroyed
    /// without a finding (a handle created again is live again).
    fn recreated_image_handle_is_live(d: Driver) {
        let out = freed(d, "recreate-image", &[]).run();
        out.assert_ids(&[]);
        assert_eq!(code(&out, "result"), VK_SUCCESS, "{}", out.context());
        assert_eq!(code(&out, "submit"), VK_SUCCESS, "{}", out.context());
        assert!(out.results()["same_handle"].is_boolean(), "{}", out.context());
    }
}

/// forward_invalid_calls=true: the same findings, and every call reaches the driver (the
/// mock ICD, which looks handles up instead of dereferencing them): a command with a result
/// gets the mock's answer, not the layer's VALIDATION_FAILED; the message says it was passed.
#[test]
fn freed_handles_forwarded_when_asked_mock_icd() {
    for (what, extra, ids) in FREED_CASES {
        let out = freed(MOCK, what, extra)
            .env("VK_HANDOFF_VALIDATION_FORWARD_INVALID_CALLS", "true")
            .run();
        out.assert_ids(ids);
        assert!(out.status.success(), "{what} {extra:?}: {}", out.context());
        if !out.results()["result"].is_null() {
            assert_ne!(
                code(&out, "result"),
                VK_ERROR_VALIDATION_FAILED_EXT,
                "{what} {extra:?}: {}",
                out.context()
            );
        }
        let id = ids[0];
        assert!(
            out.with_id(id)[0]
                .message
                .contains("forward_invalid_calls is on"),
            "{what} {extra:?}: {}",
            out.context()
        );
    }
}

/// Images the layer never saw created (swapchain images, for one) prove nothing: a made-up
/// image destroyed, bound, and released to VK_QUEUE_FAMILY_EXTERNAL gets no -parameter
/// finding and reaches the driver (the mock ICD, which answers for itself).
#[test]
fn unknown_images_are_not_called_freed_mock_icd() {
    let out = hostile(MOCK, &["--case", "freed-use", "--what", "unknown-image"]).run();
    out.assert_ids(&[]);
    assert!(out.status.success(), "{}", out.context());
    assert_ne!(
        code(&out, "result"),
        VK_ERROR_VALIDATION_FAILED_EXT,
        "{}",
        out.context()
    );
    assert_eq!(code(&out, "submit"), VK_SUCCESS, "{}", out.context());
}

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

// ---- freed handles the layer passes on (mock ICD only) ---------------------------------

/// Freed memory, destroyed buffers and images, a destroyed image in a barrier, a freed
/// command buffer in a submit, double free and double destroy: no crash, no finding, the
/// driver's answer comes back. The live twins succeed silently.
#[test]
fn freed_handles_do_not_crash_the_layer_mock_icd() {
    for what in [
        "bind-memory",
        "bind-buffer",
        "bind-image",
        "free-memory",
        "destroy-buffer",
        "barrier-image",
        "submit-cb",
    ] {
        let live = hostile(MOCK, &["--case", "freed-use", "--what", what, "--live"]).run();
        live.assert_ids(&[]);
        if !live.results()["result"].is_null() {
            assert_eq!(
                code(&live, "result"),
                VK_SUCCESS,
                "{what}: {}",
                live.context()
            );
        }
        let out = hostile(MOCK, &["--case", "freed-use", "--what", what]).run();
        assert!(out.status.success(), "{what}: {}", out.context());
    }
    // The second free leaves the handle freed: the layer still refuses to export it.
    let out = hostile(MOCK, &["--case", "freed-use", "--what", "free-memory"]).run();
    assert_eq!(
        code(&out, "after"),
        VK_ERROR_VALIDATION_FAILED_EXT,
        "{}",
        out.context()
    );
}

/// What the layer should say and do for each freed handle it tracked (DESIGN.md:
/// "forward calls the layer proves undefined (freed or unknown handle …)"), one case each.
fn freed_handle_is_blocked(what: &str, id: &str) {
    let out = hostile(MOCK, &["--case", "freed-use", "--what", what]).run();
    out.assert_ids(&[id]);
    if !out.results()["result"].is_null() {
        assert_eq!(
            code(&out, "result"),
            VK_ERROR_VALIDATION_FAILED_EXT,
            "{what}: {}",
            out.context()
        );
    }
}

#[test]
#[ignore = "lead: bind.rs forwards vkBindBufferMemory with freed memory to the driver, no finding (needs VUID-vkBindBufferMemory-memory-parameter in the catalogue)"]
fn bind_to_freed_memory_is_blocked_mock_icd() {
    freed_handle_is_blocked("bind-memory", "VUID-vkBindBufferMemory-memory-parameter");
}

#[test]
#[ignore = "lead: bind.rs forwards vkBindBufferMemory of a destroyed buffer, no finding (VUID-vkBindBufferMemory-buffer-parameter)"]
fn bind_of_destroyed_buffer_is_blocked_mock_icd() {
    freed_handle_is_blocked("bind-buffer", "VUID-vkBindBufferMemory-buffer-parameter");
}

#[test]
#[ignore = "lead: bind.rs forwards vkBindImageMemory of a destroyed image, no finding (VUID-vkBindImageMemory-image-parameter)"]
fn bind_of_destroyed_image_is_blocked_mock_icd() {
    freed_handle_is_blocked("bind-image", "VUID-vkBindImageMemory-image-parameter");
}

#[test]
#[ignore = "lead: memory.rs forwards a second vkFreeMemory of the same handle, no finding (VUID-vkFreeMemory-memory-parameter)"]
fn double_free_is_blocked_mock_icd() {
    freed_handle_is_blocked("free-memory", "VUID-vkFreeMemory-memory-parameter");
}

#[test]
#[ignore = "lead: resources.rs forwards a second vkDestroyBuffer of the same handle, no finding (VUID-vkDestroyBuffer-buffer-parameter)"]
fn double_destroy_is_blocked_mock_icd() {
    freed_handle_is_blocked("destroy-buffer", "VUID-vkDestroyBuffer-buffer-parameter");
}

#[test]
#[ignore = "lead: barrier.rs records a queue-family release of a destroyed image silently (VUID-VkImageMemoryBarrier-image-parameter)"]
fn barrier_on_destroyed_image_is_reported_mock_icd() {
    freed_handle_is_blocked("barrier-image", "VUID-VkImageMemoryBarrier-image-parameter");
}

#[test]
#[ignore = "lead: submit.rs forwards a vkQueueSubmit naming a freed command buffer, no finding (VUID-VkSubmitInfo-pCommandBuffers-parameter)"]
fn submit_of_freed_command_buffer_is_blocked_mock_icd() {
    freed_handle_is_blocked("submit-cb", "VUID-VkSubmitInfo-pCommandBuffers-parameter");
}

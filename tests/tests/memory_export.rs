//! vkGetMemoryFdKHR: 00671, 00672 and memory-parameter, with their valid twins.

mod common;
use common::*;

on_both_drivers! {
    /// Exported as requested at allocation: nothing to report, the driver hands out an fd.
    fn valid_export_is_silent(d: Driver) {
        let out = scenario("get-fd", d).args(["--export", "opaque", "--handle-type", "opaque"]).run();
        out.assert_ids(&[]);
        assert_eq!(first_result(&out), VK_SUCCESS, "{}", out.context());
        assert_eq!(out.results()["result"]["fd_valid"], true, "{}", out.context());
    }
}

on_both_drivers! {
    /// No VkExportMemoryAllocateInfo at all, then vkGetMemoryFdKHR(OPAQUE_FD): 00671 once,
    /// naming the memory, with the Khronos-style id number. (lavapipe can export nothing but
    /// OPAQUE_FD, so "not exportable at all" is the form both drivers can show.)
    fn not_exported_type_reports_00671(d: Driver) {
        let out = scenario("get-fd", d).args(["--export", "none", "--handle-type", "opaque"]).run();
        out.assert_ids(&[NOT_EXPORTED]);
        let f = out.with_id(NOT_EXPORTED);
        let memory = out.result_str("memory");
        assert!(f[0].names(&memory), "memory {memory} not among the objects\n{}", out.context());
        let mem_obj = f[0].objects.iter().find(|o| o.handle == memory).unwrap();
        assert_eq!(mem_obj.ty, ash::vk::ObjectType::DEVICE_MEMORY.as_raw(), "{}", out.context());
        assert_eq!(f[0].number, handoff_rules::id_number(NOT_EXPORTED), "{}", out.context());
        assert_eq!(f[0].severity, "error", "{}", out.context());
        assert_eq!(f[0].via, "messenger");
        // 00671 does not block the call: the driver answers. lavapipe (RULES-TARGET §3.1) and
        // the mock's lavapipe profile return VK_SUCCESS with fd = -1 for memory that is not
        // exportable; another driver (HANDOFF_TEST_ICD) answers what it answers.
        if lavapipe_like(d) {
            assert_eq!(first_result(&out), VK_SUCCESS, "{}", out.context());
            assert_eq!(out.results()["result"]["fd_valid"], false, "{}", out.context());
        } else {
            assert_ne!(first_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
        }
    }
}

on_both_drivers! {
    /// HOST_ALLOCATION_EXT is not an fd handle type: 00672 only (not 00671 as well).
    fn host_allocation_type_reports_00672(d: Driver) {
        let out = scenario("get-fd", d).args(["--export", "opaque", "--handle-type", "host"]).run();
        out.assert_ids(&[NOT_FD_TYPE]);
        let f = out.with_id(NOT_FD_TYPE);
        assert!(f[0].names(&out.result_str("memory")), "{}", out.context());
        assert_eq!(f[0].number, handoff_rules::id_number(NOT_FD_TYPE));
        assert_eq!(f[0].severity, "error");
        // 00672 does not block the call, so the result is the driver's own answer.
        match d {
            // lavapipe exports HOST_ALLOCATION through vkGetMemoryFdKHR anyway: VK_SUCCESS
            // and a real fd (RULES-TARGET §3.1).
            Driver::Real if d.is_lavapipe() => {
                assert_eq!(first_result(&out), VK_SUCCESS, "{}", out.context());
                assert_eq!(out.results()["result"]["fd_valid"], true, "{}", out.context());
            }
            Driver::Real => {
                assert_ne!(first_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
            }
            // The mock refuses it with VK_ERROR_INVALID_EXTERNAL_HANDLE and leaves *pFd alone
            // (its lavapipe profile differs from lavapipe here).
            Driver::Mock(_) => {
                assert_eq!(first_result(&out), VK_ERROR_INVALID_EXTERNAL_HANDLE, "{}", out.context());
                assert!(!first_fd_written(&out), "{}", out.context());
            }
        }
    }
}

on_both_drivers! {
    /// A made-up non-null handle: memory-parameter, and the call never reaches the driver
    /// (VK_ERROR_VALIDATION_FAILED_EXT, *pFd untouched).
    fn unknown_memory_is_blocked(d: Driver) {
        let out = scenario("get-fd", d).args(["--memory", "unknown"]).run();
        out.assert_ids(&[MEMORY_UNKNOWN]);
        assert!(out.with_id(MEMORY_UNKNOWN)[0].names(&out.result_str("memory")), "{}", out.context());
        assert_eq!(first_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
        assert!(!first_fd_written(&out), "the driver wrote *pFd\n{}", out.context());
    }
}

on_both_drivers! {
    /// Memory freed before vkGetMemoryFdKHR: memory-parameter, blocked.
    fn freed_memory_is_blocked(d: Driver) {
        let out = scenario("get-fd", d).args(["--export", "opaque", "--memory", "freed"]).run();
        out.assert_ids(&[MEMORY_UNKNOWN]);
        assert!(out.with_id(MEMORY_UNKNOWN)[0].names(&out.result_str("memory")), "{}", out.context());
        assert_eq!(first_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
        assert!(!first_fd_written(&out), "{}", out.context());
    }
}

/// forward_invalid_calls=true passes the freed handle down: the finding is still reported,
/// and the result is the driver's, not the layer's.
///
/// Mock ICD only: forwarding a freed or made-up handle to lavapipe makes it dereference
/// freed memory (a crash or garbage), which is exactly the undefined behaviour the setting
/// lets through; the mock ICD checks its handles and answers safely.
#[test]
fn freed_memory_forwarded_when_asked_mock_icd() {
    let out = scenario("get-fd", MOCK)
        .args(["--export", "opaque", "--memory", "freed"])
        .env("VK_HANDOFF_VALIDATION_FORWARD_INVALID_CALLS", "true")
        .run();
    out.assert_ids(&[MEMORY_UNKNOWN]);
    // The mock checks its handles: a freed one is VK_ERROR_INVALID_EXTERNAL_HANDLE.
    assert_eq!(
        first_result(&out),
        VK_ERROR_INVALID_EXTERNAL_HANDLE,
        "the call was not forwarded\n{}",
        out.context()
    );
    // The message must not claim the call was held back when it was passed on.
    let msg = &out.with_id(MEMORY_UNKNOWN)[0].message;
    assert!(
        !msg.contains("not passed to the driver"),
        "the finding says the call was blocked, but it was forwarded: {msg}"
    );
}

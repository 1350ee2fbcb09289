//! vkAllocateMemory import clauses (00669, 00670, 06657, 00640, 03333) and
//! vkGetMemoryFdPropertiesKHR (00673, 00674), with their valid twins.

mod common;
use common::*;

use handoff_rules::catalogue as cat;

const NOT_FD_IMPORT: &str = cat::IMPORT_FD_HANDLE_TYPE_NOT_FD.id;
const FD_INVALID: &str = cat::IMPORT_FD_INVALID.id;
const MULTIPLE_IMPORTS: &str = cat::ALLOC_MULTIPLE_IMPORTS.id;
const KHR_AND_NV: &str = cat::ALLOC_EXPORT_KHR_AND_NV.id;
const CAPTURE_ADDRESS: &str = cat::ALLOC_IMPORT_CAPTURE_ADDRESS.id;
const PROPS_OPAQUE: &str = cat::FD_PROPERTIES_OPAQUE_FD.id;
const PROPS_FD_INVALID: &str = cat::FD_PROPERTIES_FD_INVALID.id;

const FULL: Driver = Driver::Mock("full");

#[track_caller]
fn result(out: &Outcome) -> i64 {
    out.results()["result"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no result\n{}", out.context()))
}

#[track_caller]
fn fd_open_after(out: &Outcome) -> bool {
    out.results()["fd_open_after"]
        .as_bool()
        .unwrap_or_else(|| panic!("no fd_open_after\n{}", out.context()))
}

on_both_drivers! {
    /// OPAQUE_FD exported and imported on the same device: silent, imported.
    fn valid_import_same_device_is_silent(d: Driver) {
        let out = scenario("import", d).args(["--fd", "export"]).run();
        out.assert_ids(&[]);
        assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
    }
}

on_both_drivers! {
    /// OPAQUE_FD exported on one device and imported on another: silent, imported.
    fn valid_import_other_device_is_silent(d: Driver) {
        let out = scenario("import", d).args(["--fd", "export-other"]).run();
        out.assert_ids(&[]);
        assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
    }
}

on_both_drivers! {
    /// A host pointer import alone: one import, silent.
    fn host_pointer_import_alone_is_silent(d: Driver) {
        let out = scenario("import", d)
            .args(["--fd", "none", "--host-pointer"])
            .run();
        out.assert_ids(&[]);
        assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
    }
}

/// DMA_BUF export and import on the mock's `full` profile: silent, imported.
#[test]
fn valid_dma_buf_import_is_silent_mock_full() {
    let out = scenario("import", FULL)
        .args([
            "--fd",
            "export",
            "--export-type",
            "dmabuf",
            "--handle-type",
            "dmabuf",
        ])
        .run();
    out.assert_ids(&[]);
    assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
}

on_both_drivers! {
    /// An fd import declaring HOST_ALLOCATION: 00669 only; not blocked.
    fn host_allocation_fd_import_reports_00669(d: Driver) {
        let out = scenario("import", d).args(["--fd", "export", "--handle-type", "host"]).run();
        out.assert_ids(&[NOT_FD_IMPORT]);
        let f = &out.with_id(NOT_FD_IMPORT)[0];
        assert!(f.message.contains("HOST_ALLOCATION_BIT_EXT"), "{}", f.message);
        assert!(f.names(&out.result_str("device")), "{}", out.context());
        // Not blocked: the driver answers. lavapipe imports the fd anyway; the mock refuses
        // the handle type.
        let expected = if d.is_mock() { VK_ERROR_INVALID_EXTERNAL_HANDLE } else { VK_SUCCESS };
        assert_eq!(result(&out), expected, "{}", out.context());
    }
}

/// 00670: each fd that cannot be a memory handle is reported once, the call is blocked
/// (VK_ERROR_INVALID_EXTERNAL_HANDLE, not VALIDATION_FAILED) and the fd stays open.
fn bad_fd(d: Driver, kind: &str, words: &str, open_after: bool) {
    let out = scenario("import", d).args(["--fd", kind]).run();
    out.assert_ids(&[FD_INVALID]);
    let f = &out.with_id(FD_INVALID)[0];
    let fd = out.results()["fd"].as_i64().unwrap();
    assert!(f.message.contains(&format!("fd {fd} ")), "{}", f.message);
    assert!(f.message.contains(words), "{}", f.message);
    assert!(
        f.message.contains("not passed to the driver"),
        "{}",
        f.message
    );
    assert_eq!(
        result(&out),
        VK_ERROR_INVALID_EXTERNAL_HANDLE,
        "{}",
        out.context()
    );
    assert_eq!(fd_open_after(&out), open_after, "{}", out.context());
}

on_both_drivers! {
    fn closed_fd_import_is_blocked_00670(d: Driver) {
        bad_fd(d, "closed", "not an open file descriptor", false)
    }
}

on_both_drivers! {
    fn negative_fd_import_is_blocked_00670(d: Driver) {
        bad_fd(d, "negative", "is negative", false)
    }
}

on_both_drivers! {
    fn pipe_import_is_blocked_00670(d: Driver) {
        bad_fd(d, "pipe", "is a pipe", true)
    }
}

on_both_drivers! {
    fn socket_import_is_blocked_00670(d: Driver) {
        bad_fd(d, "socket", "is a socket", true)
    }
}

on_both_drivers! {
    fn eventfd_import_is_blocked_00670(d: Driver) {
        bad_fd(d, "eventfd", "is an eventfd", true)
    }
}

on_both_drivers! {
    fn directory_import_is_blocked_00670(d: Driver) {
        bad_fd(d, "dir", "is a directory", true)
    }
}

/// forward_invalid_calls=true passes the pipe down: still reported, the message says so,
/// and the mock answers itself (it refuses a non-memfd with VK_ERROR_INVALID_EXTERNAL_HANDLE
/// and leaves the fd open). Mock ICD only: what lavapipe does with a pipe is its business.
#[test]
fn pipe_import_forwarded_when_asked_mock_icd() {
    let out = scenario("import", MOCK)
        .args(["--fd", "pipe"])
        .env("VK_HANDOFF_VALIDATION_FORWARD_INVALID_CALLS", "true")
        .run();
    out.assert_ids(&[FD_INVALID]);
    let msg = &out.with_id(FD_INVALID)[0].message;
    assert!(msg.contains("was passed to the driver"), "{msg}");
    assert_eq!(
        result(&out),
        VK_ERROR_INVALID_EXTERNAL_HANDLE,
        "{}",
        out.context()
    );
    assert!(fd_open_after(&out), "{}", out.context());
}

on_both_drivers! {
    /// An fd import and a host pointer import in one allocation: 06657 once, not blocked.
    fn fd_and_host_pointer_import_reports_06657(d: Driver) {
        let out = scenario("import", d).args(["--fd", "export", "--host-pointer"]).run();
        out.assert_ids(&[MULTIPLE_IMPORTS]);
        let f = &out.with_id(MULTIPLE_IMPORTS)[0];
        assert!(f.message.contains("VkImportMemoryHostPointerInfoEXT"), "{}", f.message);
        // Not blocked: lavapipe takes one of the two (and the fd with it); the mock refuses
        // two imports at once and leaves the fd open.
        if d.is_mock() {
            assert_eq!(result(&out), VK_ERROR_INVALID_EXTERNAL_HANDLE, "{}", out.context());
            assert!(fd_open_after(&out), "{}", out.context());
        } else {
            assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
        }
    }
}

/// KHR and NV export info together: 00640 (mock `full`, the only driver with
/// VK_NV_external_memory). KHR export alone is silent.
#[test]
fn khr_and_nv_export_reports_00640_mock_full() {
    let out = scenario("import", FULL)
        .args(["--fd", "none", "--export-khr", "--export-nv"])
        .run();
    out.assert_ids(&[KHR_AND_NV]);
    assert!(out.with_id(KHR_AND_NV)[0]
        .message
        .contains("VkExportMemoryAllocateInfoNV"));
    // Not blocked: the mock allocates.
    assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());

    let out = scenario("import", FULL)
        .args(["--fd", "none", "--export-khr"])
        .run();
    out.assert_ids(&[]);
    assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
}

on_both_drivers! {
    /// An import asking for opaque capture address 0x1000: 03333; 0 is silent.
    fn capture_address_on_import_reports_03333(d: Driver) {
        let out = scenario("import", d).args(["--fd", "export", "--capture-address", "0x1000"]).run();
        out.assert_ids(&[CAPTURE_ADDRESS]);
        assert!(out.with_id(CAPTURE_ADDRESS)[0].message.contains("0x1000"));
        // Not blocked: both drivers import (lavapipe has no capture replay, the mock ignores
        // the address).
        assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());

        let out = scenario("import", d).args(["--fd", "export", "--capture-address", "0"]).run();
        out.assert_ids(&[]);
        assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
    }
}

on_both_drivers! {
    /// vkGetMemoryFdPropertiesKHR asked about OPAQUE_FD: 00674 only, not blocked.
    fn fd_properties_of_opaque_fd_reports_00674(d: Driver) {
        let out = scenario("fd-props", d).args(["--fd", "export", "--handle-type", "opaque"]).run();
        out.assert_ids(&[PROPS_OPAQUE]);
        assert!(out.with_id(PROPS_OPAQUE)[0].names(&out.result_str("device")));
        // Not blocked: the driver's own answer comes back, whatever it is (lavapipe
        // VK_SUCCESS per RULES-TARGET §3.1, NVIDIA 580 VK_ERROR_UNKNOWN, the mock refuses), so
        // the same call without the layer is the reference.
        let bare = scenario("fd-props", d)
            .args(["--fd", "export", "--handle-type", "opaque"])
            .layer(Layer::Off)
            .run();
        bare.assert_ids(&[]);
        assert_eq!(result(&out), result(&bare), "{}\n{}", out.context(), bare.context());
        if d.is_mock() {
            assert_eq!(result(&out), VK_ERROR_INVALID_EXTERNAL_HANDLE, "{}", out.context());
        } else if d.is_lavapipe() {
            assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
        }
        assert!(fd_open_after(&out), "{}", out.context());
    }
}

on_both_drivers! {
    /// vkGetMemoryFdPropertiesKHR on a pipe: 00673, blocked with
    /// VK_ERROR_INVALID_EXTERNAL_HANDLE, the fd untouched and the out struct unwritten.
    fn fd_properties_of_pipe_is_blocked_00673(d: Driver) {
        let out = scenario("fd-props", d).args(["--fd", "pipe", "--handle-type", "dmabuf"]).run();
        out.assert_ids(&[PROPS_FD_INVALID]);
        assert!(out.with_id(PROPS_FD_INVALID)[0].message.contains("is a pipe"));
        assert_eq!(result(&out), VK_ERROR_INVALID_EXTERNAL_HANDLE, "{}", out.context());
        assert!(out.results()["memory_type_bits"].is_null(), "{}", out.context());
        assert!(fd_open_after(&out), "{}", out.context());
    }
}

/// vkGetMemoryFdPropertiesKHR on an exported dma-buf (mock `full`): silent, the profile's
/// memoryTypeBits 0x3.
#[test]
fn fd_properties_of_dma_buf_is_silent_mock_full() {
    let out = scenario("fd-props", FULL)
        .args([
            "--fd",
            "export",
            "--export-type",
            "dmabuf",
            "--handle-type",
            "dmabuf",
        ])
        .run();
    out.assert_ids(&[]);
    assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
    assert_eq!(out.results()["memory_type_bits"], 3, "{}", out.context());
}

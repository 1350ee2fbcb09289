//! vkCreateBuffer / vkCreateImage with external-memory create infos: 00920, 00990, 00988,
//! 00991 and 01443, with their valid twins, and buffers/images in the leak list.

mod common;
use common::*;

use handoff_rules::catalogue as cat;

const BUFFER_TYPES: &str = cat::BUFFER_EXTERNAL_TYPES_INCOMPATIBLE.id;
const IMAGE_TYPES: &str = cat::IMAGE_EXTERNAL_TYPES_INCOMPATIBLE.id;
const NV_AND_KHR: &str = cat::IMAGE_EXTERNAL_NV_AND_KHR.id;
const NV_TYPES: &str = cat::IMAGE_EXTERNAL_NV_TYPES_INCOMPATIBLE.id;
const LAYOUT: &str = cat::IMAGE_EXTERNAL_LAYOUT_NOT_UNDEFINED.id;

/// The synthetic mock profile with VK_NV_external_memory(_capabilities).
const FULL: Driver = Driver::Mock("full");

/// The create call's result code.
#[track_caller]
fn create_result(out: &Outcome) -> i64 {
    out.results()["result"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no result\n{}", out.context()))
}

/// `create-resource` with the NV capability query's instance extension enabled.
fn nv_scenario(d: Driver) -> Scenario {
    scenario("create-resource", d).args([
        "--kind",
        "image",
        "--instance-ext",
        "VK_NV_external_memory_capabilities",
    ])
}

on_both_drivers! {
    /// OPAQUE_FD alone on a buffer: supported and compatible with itself, nothing to say.
    fn valid_external_buffer_is_silent(d: Driver) {
        let out = scenario("create-resource", d).args(["--kind", "buffer", "--types", "opaque"]).run();
        out.assert_ids(&[]);
        assert_eq!(create_result(&out), VK_SUCCESS, "{}", out.context());
    }
}

on_both_drivers! {
    /// OPAQUE_FD alone on an image created UNDEFINED, with a format list chained (the
    /// layer's query repeats it): silent.
    fn valid_external_image_is_silent(d: Driver) {
        let out = scenario("create-resource", d)
            .args(["--kind", "image", "--types", "opaque", "--format-list"])
            .run();
        out.assert_ids(&[]);
        assert_eq!(create_result(&out), VK_SUCCESS, "{}", out.context());
    }
}

on_both_drivers! {
    /// OPAQUE_FD|HOST_ALLOCATION_EXT on a buffer: each query lists only its own type as
    /// compatible (RULES-TARGET §3.1), so 00920, once for the call, naming the device.
    fn incompatible_buffer_types_report_00920(d: Driver) {
        let out = scenario("create-resource", d)
            .args(["--kind", "buffer", "--types", "opaque,host"])
            .run();
        out.assert_ids(&[BUFFER_TYPES]);
        let f = &out.with_id(BUFFER_TYPES)[0];
        assert!(f.names(&out.result_str("device")), "{}", out.context());
        assert_eq!(f.severity, "error");
        assert_eq!(f.number, handoff_rules::id_number(BUFFER_TYPES));
        assert!(f.message.contains("OPAQUE_FD | HOST_ALLOCATION_EXT"), "{}", f.message);
        assert!(f.message.contains("vkGetPhysicalDeviceExternalBufferProperties"), "{}", f.message);
        // Not blocking: the driver answered the call itself.
        assert_ne!(create_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
    }
}

on_both_drivers! {
    /// The same pair on an image: 00990 (and nothing else: the layout is UNDEFINED).
    fn incompatible_image_types_report_00990(d: Driver) {
        let out = scenario("create-resource", d)
            .args(["--kind", "image", "--types", "opaque,host"])
            .run();
        out.assert_ids(&[IMAGE_TYPES]);
        let f = &out.with_id(IMAGE_TYPES)[0];
        assert!(f.names(&out.result_str("device")), "{}", out.context());
        assert!(f.message.contains("R8G8B8A8_UNORM"), "{}", f.message);
        assert_ne!(create_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
    }
}

on_both_drivers! {
    /// An OPAQUE_FD image (LINEAR) created PREINITIALIZED: 01443 only.
    fn preinitialized_external_image_reports_01443(d: Driver) {
        let out = scenario("create-resource", d)
            .args(["--kind", "image", "--types", "opaque", "--tiling", "linear", "--layout", "preinitialized"])
            .run();
        out.assert_ids(&[LAYOUT]);
        assert!(out.with_id(LAYOUT)[0].message.contains("PREINITIALIZED"), "{}", out.context());
    }
}

on_both_drivers! {
    /// The valid twin of 01443: PREINITIALIZED LINEAR without external handle types
    /// (the create info chained with handleTypes 0) is fine.
    fn preinitialized_plain_image_is_silent(d: Driver) {
        let out = scenario("create-resource", d)
            .args(["--kind", "image", "--types", "empty", "--tiling", "linear", "--layout", "preinitialized"])
            .run();
        out.assert_ids(&[]);
        assert_eq!(create_result(&out), VK_SUCCESS, "{}", out.context());
    }
}

on_both_drivers! {
    /// A buffer and an image left alive at vkDestroyDevice are in the leak finding.
    fn live_resources_are_leaks(d: Driver) {
        for kind in ["buffer", "image"] {
            let out = scenario("create-resource", d).args(["--kind", kind, "--leak"]).run();
            out.assert_ids(&[LEAK]);
            let resource = out.result_str("resource");
            assert!(out.with_id(LEAK)[0].names(&resource), "{kind} {resource} not named\n{}", out.context());
        }
    }
}

/// Both the KHR and the NV external image create infos: 00988 (each on its own is valid).
#[test]
fn nv_and_khr_both_chained_report_00988_mock_icd() {
    let out = nv_scenario(FULL)
        .args(["--types", "opaque", "--nv", "win32"])
        .run();
    out.assert_ids(&[NV_AND_KHR]);
    assert!(
        out.with_id(NV_AND_KHR)[0].names(&out.result_str("device")),
        "{}",
        out.context()
    );
}

/// NV OPAQUE_WIN32 with D3D11_IMAGE, which the profile does not support: 00991.
#[test]
fn nv_incompatible_types_report_00991_mock_icd() {
    let out = nv_scenario(FULL)
        .args(["--types", "none", "--nv", "win32,d3d11"])
        .run();
    out.assert_ids(&[NV_TYPES]);
    let msg = &out.with_id(NV_TYPES)[0].message;
    assert!(msg.contains("D3D11_IMAGE"), "{msg}");
    assert!(
        msg.contains("vkGetPhysicalDeviceExternalImageFormatPropertiesNV"),
        "{msg}"
    );
}

/// The valid twin: OPAQUE_WIN32 and OPAQUE_WIN32_KMT, compatible with each other.
#[test]
fn nv_compatible_types_are_silent_mock_icd() {
    let out = nv_scenario(FULL)
        .args(["--types", "none", "--nv", "win32,kmt"])
        .run();
    out.assert_ids(&[]);
    assert_eq!(create_result(&out), VK_SUCCESS, "{}", out.context());
}

/// NV handle types count for 01443 too.
#[test]
fn nv_preinitialized_reports_01443_mock_icd() {
    let out = nv_scenario(FULL)
        .args([
            "--types",
            "none",
            "--nv",
            "win32",
            "--tiling",
            "linear",
            "--layout",
            "preinitialized",
        ])
        .run();
    out.assert_ids(&[LAYOUT]);
}

/// The `full` profile's DMA_BUF images are supported too: OPAQUE_FD|DMA_BUF on an image is
/// still two types that the driver lists only as compatible with themselves: 00990.
#[test]
fn full_profile_opaque_and_dmabuf_image_reports_00990_mock_icd() {
    let out = scenario("create-resource", FULL)
        .args(["--kind", "image", "--types", "opaque,dmabuf"])
        .run();
    out.assert_ids(&[IMAGE_TYPES]);
}

//! The app's own capability queries (RULES-TARGET §1.14, implicit VUIDs of §1.17):
//! vkGetPhysicalDeviceExternalBufferProperties(KHR), vkGetPhysicalDeviceImageFormatProperties2(KHR)
//! with VkPhysicalDeviceExternalImageFormatInfo, vkGetPhysicalDeviceExternalImageFormatPropertiesNV.
//! Each rule fires with its exact id, valid twins stay silent, findings never block and the
//! driver's answer reaches the app unchanged.

mod common;
use common::*;

use handoff_rules::catalogue as cat;

const BUFFER_TYPE: &str = cat::QUERY_BUFFER_HANDLE_TYPE_INVALID.id;
const BUFFER_USAGE: &str = cat::QUERY_BUFFER_USAGE_ZERO.id;
const IMAGE_TYPE: &str = cat::QUERY_IMAGE_HANDLE_TYPE_INVALID.id;
const NV_MULTIPLE: &str = cat::QUERY_NV_HANDLE_TYPE_MULTIPLE.id;
const NV_TYPE: &str = cat::QUERY_NV_HANDLE_TYPE_INVALID.id;
const NV_USAGE: &str = cat::QUERY_NV_USAGE_ZERO.id;

/// The synthetic mock profile with VK_NV_external_memory_capabilities.
const FULL: Driver = Driver::Mock("full");

fn query(d: Driver, kind: &str, handle_type: u32, usage: u32) -> Scenario {
    scenario("query", d).args([
        "--kind".to_owned(),
        kind.to_owned(),
        "--handle-type".to_owned(),
        handle_type.to_string(),
        "--usage".to_owned(),
        usage.to_string(),
    ])
}

fn nv_query(d: Driver, handle_type: u32, usage: u32) -> Scenario {
    query(d, "nv", handle_type, usage)
        .args(["--instance-ext", "VK_NV_external_memory_capabilities"])
}

on_both_drivers! {
    /// OPAQUE_FD with a usage: silent, and the driver's answer arrives (exportable+importable).
    fn valid_buffer_query_is_silent(d: Driver) {
        let out = query(d, "buffer", 0x1, 0x1).run();
        out.assert_ids(&[]);
        assert_eq!(out.results()["props"]["features"], 6, "{}", out.context());
    }
}

on_both_drivers! {
    /// Two bits, and no bit at all: handleType-parameter, once per query.
    fn buffer_handle_type_not_one_bit(d: Driver) {
        let out = query(d, "buffer", 0x81, 0x1).run();
        out.assert_ids(&[BUFFER_TYPE]);
        let f = &out.with_id(BUFFER_TYPE)[0];
        assert_eq!(f.severity, "error");
        assert!(f.message.contains("0x81"), "{}", f.message);
        let out = query(d, "buffer", 0, 0x1).run();
        out.assert_ids(&[BUFFER_TYPE]);
    }
}

on_both_drivers! {
    /// usage 0: the current spec's None-09500 (1.3.239: usage-requiredbitmask, an alias).
    fn buffer_usage_zero_reports_09500(d: Driver) {
        let out = query(d, "buffer", 0x1, 0).run();
        out.assert_ids(&[BUFFER_USAGE]);
        assert_eq!(BUFFER_USAGE, "VUID-VkPhysicalDeviceExternalBufferInfo-None-09500");
    }
}

on_both_drivers! {
    /// The KHR command name is intercepted too.
    fn buffer_query_khr_name(d: Driver) {
        let out = query(d, "buffer", 0x3, 0)
            .args(["--khr", "--instance-ext", "VK_KHR_external_memory_capabilities"])
            .run();
        out.assert_ids(&[BUFFER_TYPE, BUFFER_USAGE]);
    }
}

on_both_drivers! {
    /// Image query with OPAQUE_FD, with handleType 0, and without the external info: silent.
    fn valid_image_queries_are_silent(d: Driver) {
        query(d, "image", 0x1, 0x4).run().assert_ids(&[]);
        query(d, "image", 0, 0x4).run().assert_ids(&[]);
        query(d, "image", 0x3, 0x4).arg("--no-external").run().assert_ids(&[]);
    }
}

on_both_drivers! {
    /// Several bits in VkPhysicalDeviceExternalImageFormatInfo::handleType, core and KHR names.
    fn image_handle_type_not_one_bit(d: Driver) {
        let out = query(d, "image", 0x81, 0x4).run();
        out.assert_ids(&[IMAGE_TYPE]);
        let out = query(d, "image", 0x10_0000, 0x4)
            .args(["--khr", "--instance-ext", "VK_KHR_get_physical_device_properties2"])
            .run();
        out.assert_ids(&[IMAGE_TYPE]);
    }
}

/// One NV bit with a usage: silent, and the profile's answer arrives.
#[test]
fn valid_nv_query_is_silent() {
    let out = nv_query(FULL, 0x1, 0x4).run();
    out.assert_ids(&[]);
    assert_eq!(
        out.results()["result"]["code"],
        VK_SUCCESS,
        "{}",
        out.context()
    );
    assert_eq!(out.results()["props"]["compatible"], 3, "{}", out.context());
}

/// OPAQUE_WIN32|OPAQUE_WIN32_KMT in one NV query: 07721, not blocking.
#[test]
fn nv_query_with_two_bits_reports_07721() {
    let out = nv_query(FULL, 0x3, 0x4).run();
    out.assert_ids(&[NV_MULTIPLE]);
    let f = &out.with_id(NV_MULTIPLE)[0];
    assert!(f.message.contains("0x3"), "{}", f.message);
    assert_ne!(
        out.results()["result"]["code"],
        VK_ERROR_VALIDATION_FAILED_EXT,
        "{}",
        out.context()
    );
}

/// An undefined NV bit, and usage 0.
#[test]
fn nv_query_parameters() {
    nv_query(FULL, 0x10, 0x4).run().assert_ids(&[NV_TYPE]);
    nv_query(FULL, 0x1, 0).run().assert_ids(&[NV_USAGE]);
}

/// The layer forwards every query and hands the driver's answer back untouched: the same
/// results with the layer enabled and without it.
#[test]
fn answers_pass_through_unchanged() {
    let cases: Vec<(Driver, Scenario, Scenario)> = vec![
        (
            Driver::Real,
            query(Driver::Real, "image", 0x1, 0x4),
            query(Driver::Real, "image", 0x1, 0x4),
        ),
        (
            FULL,
            query(FULL, "image", 0x200, 0x4),
            query(FULL, "image", 0x200, 0x4),
        ),
        (
            FULL,
            query(FULL, "buffer", 0x200, 0x1),
            query(FULL, "buffer", 0x200, 0x1),
        ),
        (FULL, nv_query(FULL, 0x2, 0x4), nv_query(FULL, 0x2, 0x4)),
        // Invalid queries too.
        (FULL, nv_query(FULL, 0x3, 0x4), nv_query(FULL, 0x3, 0x4)),
    ];
    for (d, with, without) in cases {
        let with = with.run();
        let without = without.layer(Layer::Off).run();
        assert_eq!(
            with.results(),
            without.results(),
            "{d:?}\nwith the layer:\n{}\nwithout:\n{}",
            with.context(),
            without.context()
        );
    }
}

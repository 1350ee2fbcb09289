//! vkAllocateMemory with VkMemoryDedicatedAllocateInfo, export and import against the
//! resource's own capabilities: 01432, 01434, 01436, 01797, 02964/02965 (">=", the current
//! spec), the dedicated -parameter ids, 09860, 09862, 00639 and HANDOFF-Import-dedicated-only
//! (at bind for memory that named no resource), and the pNext / handle-type-bit ids of
//! structures used without their extension. Each with its valid twin.

mod common;
use common::*;

use handoff_rules::catalogue as cat;

const BOTH: &str = cat::DEDICATED_BOTH_IMAGE_AND_BUFFER.id;
const IMAGE_SIZE: &str = cat::DEDICATED_IMAGE_SIZE.id;
const BUFFER_SIZE: &str = cat::DEDICATED_BUFFER_SIZE.id;
const IMAGE_SPARSE: &str = cat::DEDICATED_IMAGE_SPARSE.id;
const BUFFER_SPARSE: &str = cat::DEDICATED_BUFFER_SPARSE.id;
const DISJOINT: &str = cat::DEDICATED_IMAGE_DISJOINT.id;
const IMAGE_UNKNOWN: &str = cat::DEDICATED_IMAGE_UNKNOWN.id;
const BUFFER_UNKNOWN: &str = cat::DEDICATED_BUFFER_UNKNOWN.id;
const EXPORT_SUPPORT: &str = cat::EXPORT_TYPES_NOT_SUPPORTED_FOR_RESOURCE.id;
const IMPORT_SUPPORT: &str = cat::IMPORT_TYPE_NOT_SUPPORTED_FOR_RESOURCE.id;
const EXPORT_DEDICATED_ONLY: &str = cat::ALLOC_DEDICATED_ONLY_NOT_DEDICATED.id;
const IMPORT_DEDICATED_ONLY: &str = cat::IMPORT_DEDICATED_ONLY_NOT_DEDICATED.id;
const ALLOC_PNEXT: &str = cat::MEMORY_ALLOCATE_PNEXT_UNSUPPORTED.id;
const IMAGE_PNEXT: &str = cat::IMAGE_CREATE_PNEXT_UNSUPPORTED.id;
const EXPORT_BITS: &str = cat::EXPORT_ALLOC_HANDLE_TYPES_INVALID.id;
const IMAGE_BITS: &str = cat::EXTERNAL_IMAGE_HANDLE_TYPES_INVALID.id;
const IMAGE_TYPES: &str = cat::IMAGE_EXTERNAL_TYPES_INCOMPATIBLE.id;
const REQUIRES_DEDICATED: &str = cat::BIND_IMAGE_REQUIRES_DEDICATED.id;

/// The synthetic mock profile: sparse, DISJOINT formats, DMA_BUF (DEDICATED_ONLY on images).
const FULL: Driver = Driver::Mock("full");

#[track_caller]
fn result(out: &Outcome) -> i64 {
    out.results()["result"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no result\n{}", out.context()))
}

fn dedicated(d: Driver) -> Scenario {
    scenario("dedicated", d)
}

on_both_drivers! {
    /// Dedicated OPAQUE_FD export of an image and of a buffer, exact and larger sizes: silent.
    fn valid_dedicated_exports_are_silent(d: Driver) {
        for kind in ["image", "buffer"] {
            for size in ["exact", "larger"] {
                let out = dedicated(d)
                    .args(["--kind", kind, "--size", size, "--export", "opaque"])
                    .run();
                out.assert_ids(&[]);
                assert_eq!(result(&out), VK_SUCCESS, "{kind} {size}\n{}", out.context());
            }
        }
    }
}

on_both_drivers! {
    /// A non-dedicated buffer export, bound afterwards: silent.
    fn valid_non_dedicated_buffer_export_is_silent(d: Driver) {
        let out = dedicated(d)
            .args(["--kind", "buffer", "--dedicated", "none", "--export", "opaque", "--bind"])
            .run();
        out.assert_ids(&[]);
        assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
    }
}

on_both_drivers! {
    /// Smaller than the requirement: 02964 for the image, 02965 for the buffer, naming it.
    fn smaller_dedicated_reports_02964_02965(d: Driver) {
        for (kind, id) in [("image", IMAGE_SIZE), ("buffer", BUFFER_SIZE)] {
            let out = dedicated(d).args(["--kind", kind, "--size", "smaller"]).run();
            out.assert_ids(&[id]);
            let f = &out.with_id(id)[0];
            assert!(f.names(&out.result_str("resource")), "{}", out.context());
            let required = out.results()["required"].as_u64().unwrap();
            assert!(f.message.contains(&required.to_string()), "{}", f.message);
        }
    }
}

on_both_drivers! {
    /// Both an image and a buffer named: 01432.
    fn image_and_buffer_report_01432(d: Driver) {
        let out = dedicated(d).args(["--dedicated", "both"]).run();
        out.assert_ids(&[BOTH]);
    }
}

on_both_drivers! {
    /// A never-created and a destroyed image or buffer: the -parameter id, blocked with the
    /// import convention of vkAllocateMemory (VK_ERROR_INVALID_EXTERNAL_HANDLE).
    fn unknown_dedicated_handle_is_blocked(d: Driver) {
        for (kind, id) in [("image", IMAGE_UNKNOWN), ("buffer", BUFFER_UNKNOWN)] {
            for which in ["unknown", "destroyed"] {
                let out = dedicated(d).args(["--kind", kind, "--dedicated", which]).run();
                out.assert_ids(&[id]);
                assert_eq!(result(&out), VK_ERROR_INVALID_EXTERNAL_HANDLE, "{}", out.context());
            }
        }
    }
}

on_both_drivers! {
    /// OPAQUE_FD|HOST_ALLOCATION exported from memory dedicated to an image: HOST_ALLOCATION
    /// is not exportable (and OPAQUE_FD compatible only with itself): 09860.
    fn unsupported_export_types_report_09860(d: Driver) {
        for kind in ["image", "buffer"] {
            let out = dedicated(d).args(["--kind", kind, "--export", "opaque,host"]).run();
            out.assert_ids(&[EXPORT_SUPPORT]);
            let f = &out.with_id(EXPORT_SUPPORT)[0];
            assert!(f.message.contains("at vkAllocateMemory"), "{}", f.message);
            assert!(f.names(&out.result_str("resource")), "{}", out.context());
        }
    }
}

on_both_drivers! {
    /// VkImportMemoryFdInfoKHR chained (empty) without VK_KHR_external_memory_fd, and
    /// VkExportMemoryAllocateInfoNV without VK_NV_external_memory: pNext-pNext each.
    fn structs_without_extension_report_pnext(d: Driver) {
        let out = dedicated(d)
            .args(["--dedicated", "none", "--chain", "fd-import-empty"])
            .args(["--skip-ext", "VK_KHR_external_memory_fd"])
            .run();
        out.assert_ids(&[ALLOC_PNEXT]);
        assert!(out.with_id(ALLOC_PNEXT)[0].message.contains("VkImportMemoryFdInfoKHR"));
        let out = dedicated(d).args(["--dedicated", "none", "--chain", "export-nv"]).run();
        out.assert_ids(&[ALLOC_PNEXT]);
        // The valid twin: the empty fd import with its extension.
        let out = dedicated(d).args(["--dedicated", "none", "--chain", "fd-import-empty"]).run();
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// DMA_BUF exported without VK_EXT_external_memory_dma_buf: handleTypes-parameter.
    fn dma_buf_export_without_extension_reports_parameter(d: Driver) {
        let out = dedicated(d).args(["--dedicated", "none", "--export", "dmabuf"]).run();
        out.assert_ids(&[EXPORT_BITS]);
    }
}

on_both_drivers! {
    /// VkExternalMemoryImageCreateInfoNV without VK_NV_external_memory: VkImageCreateInfo
    /// pNext-pNext; DMA_BUF image handle types without the dma_buf extension: the
    /// handleTypes-parameter id (beside 00990, the driver supports no DMA_BUF there).
    fn image_create_without_extension(d: Driver) {
        let out = scenario("create-resource", d)
            .args(["--kind", "image", "--types", "none", "--nv", "win32"])
            .run();
        out.assert_ids(&[IMAGE_PNEXT]);
        let out = scenario("create-resource", d)
            .args(["--kind", "image", "--types", "dmabuf"])
            .run();
        out.assert_ids(&[IMAGE_TYPES, IMAGE_BITS]);
    }
}

/// Sparse-binding image and buffer named as dedicated: 01434 / 01436.
#[test]
fn sparse_dedicated_reports_01434_01436_mock_full() {
    for (kind, id) in [("image", IMAGE_SPARSE), ("buffer", BUFFER_SPARSE)] {
        let out = dedicated(FULL)
            .args([
                "--kind",
                kind,
                "--flags",
                "sparse",
                "--resource-types",
                "none",
            ])
            .run();
        out.assert_ids(&[id]);
    }
}

/// A DISJOINT multi-planar image named as dedicated: 01797 (and no size finding: the layer
/// does not ask a plane-less requirement).
#[test]
fn disjoint_dedicated_reports_01797_mock_full() {
    let out = dedicated(FULL)
        .args([
            "--format",
            "nv12",
            "--flags",
            "disjoint",
            "--resource-types",
            "none",
        ])
        .run();
    out.assert_ids(&[DISJOINT]);
}

/// DMA_BUF imported into memory dedicated to a D32_SFLOAT image, for which the profile
/// supports no dma-buf: 09862. The RGBA8 twin is silent.
#[test]
fn unsupported_import_reports_09862_mock_full() {
    let out = dedicated(FULL)
        .args([
            "--format",
            "d32",
            "--resource-types",
            "none",
            "--import",
            "dmabuf",
        ])
        .run();
    out.assert_ids(&[IMPORT_SUPPORT]);
    let out = dedicated(FULL)
        .args(["--resource-types", "dmabuf", "--import", "dmabuf"])
        .run();
    out.assert_ids(&[]);
    assert_eq!(result(&out), VK_SUCCESS, "{}", out.context());
}

/// DMA_BUF export from a D32_SFLOAT image's dedicated memory: 09860 on the full profile.
#[test]
fn unsupported_dma_buf_export_reports_09860_mock_full() {
    let out = dedicated(FULL)
        .args([
            "--format",
            "d32",
            "--resource-types",
            "none",
            "--export",
            "dmabuf",
        ])
        .run();
    out.assert_ids(&[EXPORT_SUPPORT]);
}

/// DMA_BUF is DEDICATED_ONLY for images on the full profile. Exported or imported without a
/// dedicated allocation, the resource is known only at bind: 00639 / Import-dedicated-only
/// there (beside the bind rule 01445, the image requires a dedicated allocation). Dedicated:
/// silent.
#[test]
fn dedicated_only_at_bind_mock_full() {
    let out = dedicated(FULL)
        .args([
            "--resource-types",
            "dmabuf",
            "--dedicated",
            "none",
            "--export",
            "dmabuf",
            "--bind",
        ])
        .run();
    out.assert_ids(&[EXPORT_DEDICATED_ONLY, REQUIRES_DEDICATED]);
    let f = &out.with_id(EXPORT_DEDICATED_ONLY)[0];
    assert!(
        f.message.contains("when bound by vkBindImageMemory"),
        "{}",
        f.message
    );
    assert!(f.names(&out.result_str("memory")), "{}", out.context());

    let out = dedicated(FULL)
        .args([
            "--resource-types",
            "dmabuf",
            "--dedicated",
            "none",
            "--import",
            "dmabuf",
            "--bind",
        ])
        .run();
    out.assert_ids(&[IMPORT_DEDICATED_ONLY, REQUIRES_DEDICATED]);

    for how in [["--export", "dmabuf"], ["--import", "dmabuf"]] {
        let out = dedicated(FULL)
            .args(["--resource-types", "dmabuf"])
            .args(how)
            .arg("--bind")
            .run();
        out.assert_ids(&[]);
    }
}

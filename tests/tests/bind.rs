//! Binding memory: vkBind{Buffer,Image}Memory, their `2`/`2KHR` forms and
//! vkQueueBindSparse against the memory's export/import/dedicated facts (01444, 01445, 01508,
//! 02628/01509, 02629, 10925, 10926, 02726, 02728, 02985/02727, 02989/02729, 02730-02733),
//! each with its valid twin.

mod common;
use common::*;

use handoff_rules::catalogue as cat;

/// The synthetic mock profile: sparse binding, dma-buf images that require a dedicated
/// allocation, VK_NV_dedicated_allocation_image_aliasing.
const FULL: Driver = Driver::Mock("full");
/// `full`, with buffers created with DMA_BUF requiring a dedicated allocation too.
const FULL_DEDICATED_BUFFERS: Driver = Driver::Mock(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/bind-dedicated-buffers.json"
));

fn bind(d: Driver) -> Scenario {
    scenario("bind", d)
}

/// Every bind call of the scenario returned VK_SUCCESS (findings never block a bind).
#[track_caller]
fn all_succeeded(out: &Outcome) {
    let binds = out.results()["binds"]
        .as_array()
        .unwrap_or_else(|| panic!("no binds\n{}", out.context()));
    assert!(!binds.is_empty(), "{}", out.context());
    for b in binds {
        assert_eq!(b["code"].as_i64(), Some(VK_SUCCESS), "{}", out.context());
    }
}

/// The one finding with `id` lists the memory and the resource (the first two of `names`,
/// scenario names) and the device among its objects, its message names every handle of
/// `names`, and it contains `text`.
#[track_caller]
fn finding_names(out: &Outcome, id: &str, names: &[&str], text: &str) {
    let found = out.with_id(id);
    assert_eq!(found.len(), 1, "{}", out.context());
    let f = found[0];
    for (k, n) in names.iter().copied().chain(["device"]).enumerate() {
        let h = out.result_str(n);
        if k < 2 || n == "device" {
            assert!(
                f.names(&h),
                "{id} does not name {n} ({h})\n{}",
                out.context()
            );
        }
        if n != "device" {
            assert!(
                f.message.contains(&h),
                "{id} message lacks {n} ({h}): {}",
                f.message
            );
        }
    }
    assert!(
        f.message.contains(text),
        "{id} message lacks {text:?}: {}",
        f.message
    );
    assert_eq!(f.severity, "error");
}

on_both_drivers! {
    /// Plain memory bound to plain resources through every entry point: silent.
    fn plain_binds_are_silent(d: Driver) {
        let out = bind(d)
            .args(["--buffer", "b0:none", "--buffer", "b1:none", "--image", "i0:none", "--image", "i1:none"])
            .args(["--memory", "m0", "--memory", "m1", "--memory", "m2", "--memory", "m3"])
            .args(["--bind", "b0:m0", "--bind", "i0:m1", "--bind2", "b1:m2:4096", "--bind2", "i1:m3:4096"])
            .run();
        out.assert_ids(&[]);
        all_succeeded(&out);
    }
}

on_both_drivers! {
    /// Exportable memory dedicated to an external image (and to an external buffer), bound to
    /// exactly that resource at offset 0: silent.
    fn export_dedicated_bound_correctly_is_silent(d: Driver) {
        let out = bind(d)
            .args(["--image", "i0:opaque", "--buffer", "b0:opaque"])
            .args(["--memory", "m0:export=opaque:dedicated=i0", "--memory", "m1:export=opaque:dedicated=b0"])
            .args(["--bind", "i0:m0", "--bind2", "b0:m1"])
            .run();
        out.assert_ids(&[]);
        all_succeeded(&out);
    }
}

on_both_drivers! {
    /// An OPAQUE_FD export and its import, each bound to a buffer declared with OPAQUE_FD:
    /// silent.
    fn import_bound_to_compatible_buffer_is_silent(d: Driver) {
        let out = bind(d)
            .args(["--buffer", "b0:opaque", "--buffer", "b1:opaque", "--image", "i0:opaque"])
            .args(["--memory", "m0:export=opaque", "--memory", "m1:import=m0", "--memory", "m2:import=m0"])
            .args(["--bind", "b0:m0", "--bind", "b1:m1", "--bind", "i0:m2"])
            .run();
        out.assert_ids(&[]);
        all_succeeded(&out);
    }
}

on_both_drivers! {
    /// Exportable memory bound to a buffer without external handle types: 02726, naming the
    /// memory, the buffer and the device; not blocking.
    fn export_to_plain_buffer_reports_02726(d: Driver) {
        let out = bind(d)
            .args(["--buffer", "b0:none", "--memory", "m0:export=opaque", "--bind", "b0:m0"])
            .run();
        let id = cat::BIND_BUFFER_EXPORT_TYPES.id;
        out.assert_ids(&[id]);
        finding_names(&out, id, &["m0", "b0"], "OPAQUE_FD");
        all_succeeded(&out);
    }
}

on_both_drivers! {
    /// Exportable memory bound through vkBindImageMemory2 to an image without external
    /// handle types: the Info form, 02728.
    fn export_to_plain_image_reports_02728(d: Driver) {
        let out = bind(d)
            .args(["--image", "i0:none", "--memory", "m0:export=opaque", "--bind2", "i0:m0"])
            .run();
        let id = cat::BIND_IMAGE_INFO_EXPORT_TYPES.id;
        out.assert_ids(&[id]);
        finding_names(&out, id, &["m0", "i0"], "vkBindImageMemory2 pBindInfos[0]");
        // The single form names the command's own id.
        let out = bind(d)
            .args(["--image", "i0:none", "--memory", "m0:export=opaque", "--bind", "i0:m0"])
            .run();
        out.assert_ids(&[cat::BIND_IMAGE_EXPORT_TYPES.id]);
    }
}

on_both_drivers! {
    /// An OPAQUE_FD import bound to a buffer declared only for host allocations: 02985
    /// (02727 in 1.3.239).
    fn import_to_wrong_buffer_reports_02985(d: Driver) {
        let out = bind(d)
            .args(["--buffer", "b0:opaque", "--buffer", "b1:host"])
            .args(["--memory", "m0:export=opaque", "--memory", "m1:import=m0"])
            .args(["--bind", "b0:m0", "--bind", "b1:m1"])
            .run();
        let id = cat::BIND_BUFFER_IMPORT_TYPE.id;
        assert_eq!(id, "VUID-vkBindBufferMemory-memory-02985");
        out.assert_ids(&[id]);
        finding_names(&out, id, &["m1", "b1"], "HOST_ALLOCATION_EXT");
        all_succeeded(&out);
    }
}

on_both_drivers! {
    /// An OPAQUE_FD import bound with vkBindImageMemory2 to an image without external handle
    /// types: 02989 (02729 in 1.3.239), Info form.
    fn import_to_wrong_image_reports_02989(d: Driver) {
        let out = bind(d)
            .args(["--image", "i0:opaque", "--image", "i1:none"])
            .args(["--memory", "m0:export=opaque", "--memory", "m1:import=m0"])
            .args(["--bind", "i0:m0", "--bind2", "i1:m1"])
            .run();
        let id = cat::BIND_IMAGE_INFO_IMPORT_TYPE.id;
        assert_eq!(id, "VUID-VkBindImageMemoryInfo-memory-02989");
        out.assert_ids(&[id]);
        finding_names(&out, id, &["m1", "i1"], "imported as OPAQUE_FD");
    }
}

on_both_drivers! {
    /// Memory dedicated to one buffer bound to another: 01508; bound to its own buffer at a
    /// non-zero offset: 01508 again, in one vkBindBufferMemory2 call whose valid first
    /// element is not blamed.
    fn dedicated_buffer_memory_elsewhere_reports_01508(d: Driver) {
        let out = bind(d)
            .args(["--buffer", "b0:none", "--buffer", "b1:none", "--buffer", "b2:none", "--buffer", "b3:none"])
            .args(["--memory", "m0:dedicated=b0", "--memory", "m1", "--memory", "m2:dedicated=b2"])
            .args(["--bind", "b1:m0"])
            .args(["--bind2", "b3:m1,b2:m2:4096"])
            .run();
        let single = cat::BIND_BUFFER_DEDICATED_OTHER.id;
        let info = cat::BIND_BUFFER_INFO_DEDICATED_OTHER.id;
        out.assert_ids(&[single, info]);
        finding_names(&out, single, &["m0", "b1"], &out.result_str("b0"));
        finding_names(&out, info, &["m2", "b2"], "vkBindBufferMemory2 pBindInfos[1]");
        assert!(out.with_id(info)[0].message.contains("offset 4096"), "{}", out.context());
        all_succeeded(&out);
    }
}

on_both_drivers! {
    /// Memory dedicated to one image bound to another (no aliasing feature): 02628 (01509
    /// in 1.3.239); at a non-zero offset to its own image through vkBindImageMemory2: the
    /// Info form.
    fn dedicated_image_memory_elsewhere_reports_02628(d: Driver) {
        let out = bind(d)
            .args(["--image", "i0:none", "--image", "i1:none", "--image", "i2:none"])
            .args(["--memory", "m0:dedicated=i0", "--memory", "m1:dedicated=i2"])
            .args(["--bind", "i1:m0", "--bind2", "i2:m1:4096"])
            .run();
        let single = cat::BIND_IMAGE_DEDICATED_OTHER.id;
        let info = cat::BIND_IMAGE_INFO_DEDICATED_OTHER.id;
        assert_eq!(single, "VUID-vkBindImageMemory-memory-02628");
        out.assert_ids(&[single, info]);
        finding_names(&out, single, &["m0", "i1"], &out.result_str("i0"));
        finding_names(&out, info, &["m1", "i2"], "offset 4096");
    }
}

on_both_drivers! {
    /// Memory dedicated to an image bound to a buffer (10925) and memory dedicated to a
    /// buffer bound to an image (10926).
    fn dedicated_cross_kind_reports_10925_and_10926(d: Driver) {
        let out = bind(d)
            .args(["--buffer", "b0:none", "--image", "i0:none", "--buffer", "b1:none", "--image", "i1:none"])
            .args(["--memory", "m0:dedicated=i0", "--memory", "m1:dedicated=b0"])
            .args(["--memory", "m2:dedicated=i1", "--memory", "m3:dedicated=b1"])
            .args(["--bind", "b0:m0", "--bind", "i0:m1", "--bind2", "b1:m2", "--bind2", "i1:m3"])
            .run();
        out.assert_ids(&[
            cat::BIND_BUFFER_DEDICATED_TO_IMAGE.id,
            cat::BIND_IMAGE_DEDICATED_TO_BUFFER.id,
            cat::BIND_BUFFER_INFO_DEDICATED_TO_IMAGE.id,
            cat::BIND_IMAGE_INFO_DEDICATED_TO_BUFFER.id,
        ]);
        finding_names(&out, cat::BIND_BUFFER_DEDICATED_TO_IMAGE.id, &["m0", "b0", "i0"], "dedicated to image");
        finding_names(&out, cat::BIND_IMAGE_DEDICATED_TO_BUFFER.id, &["m1", "i0", "b0"], "dedicated to buffer");
    }
}

on_both_drivers! {
    /// vkBindBufferMemory2KHR binding three buffers, the middle one to exportable memory
    /// it does not declare: one 02726 (Info form) naming pBindInfos[1] and the KHR name.
    fn bind2_khr_names_the_element(d: Driver) {
        let out = bind(d)
            .args(["--khr", "--buffer", "b0:none", "--buffer", "b1:none", "--buffer", "b2:opaque"])
            .args(["--memory", "m0", "--memory", "m1:export=opaque", "--memory", "m2:export=opaque"])
            .args(["--bind2", "b0:m0,b1:m1,b2:m2"])
            .run();
        let id = cat::BIND_BUFFER_INFO_EXPORT_TYPES.id;
        out.assert_ids(&[id]);
        finding_names(&out, id, &["m1", "b1"], "vkBindBufferMemory2KHR pBindInfos[1]");
        all_succeeded(&out);
    }
}

/// A DMA_BUF image (which `full` says requires a dedicated allocation) bound to plain
/// memory: 01445; through vkBindImageMemory2: the Info form.
#[test]
fn requires_dedicated_image_reports_01445_mock_icd() {
    let out = bind(FULL)
        .args(["--image", "i0:dmabuf", "--image", "i1:dmabuf"])
        .args(["--memory", "m0", "--memory", "m1"])
        .args(["--bind", "i0:m0", "--bind2", "i1:m1"])
        .run();
    out.assert_ids(&[
        cat::BIND_IMAGE_REQUIRES_DEDICATED.id,
        cat::BIND_IMAGE_INFO_REQUIRES_DEDICATED.id,
    ]);
    finding_names(
        &out,
        cat::BIND_IMAGE_REQUIRES_DEDICATED.id,
        &["m0", "i0"],
        "requiresDedicatedAllocation",
    );
    all_succeeded(&out);
}

/// The valid twin: the same images with memory dedicated to them (one exportable as
/// DMA_BUF): silent.
#[test]
fn requires_dedicated_image_with_dedicated_memory_is_silent_mock_icd() {
    let out = bind(FULL)
        .args(["--image", "i0:dmabuf", "--image", "i1:dmabuf"])
        .args([
            "--memory",
            "m0:dedicated=i0",
            "--memory",
            "m1:export=dmabuf:dedicated=i1",
        ])
        .args(["--bind", "i0:m0", "--bind2", "i1:m1"])
        .run();
    out.assert_ids(&[]);
    all_succeeded(&out);
}

/// A profile where DMA_BUF buffers require a dedicated allocation: plain memory gives
/// 01444 (both forms); dedicated memory is silent.
#[test]
fn requires_dedicated_buffer_reports_01444_mock_icd() {
    let out = bind(FULL_DEDICATED_BUFFERS)
        .args([
            "--buffer",
            "b0:dmabuf",
            "--buffer",
            "b1:dmabuf",
            "--buffer",
            "b2:dmabuf",
        ])
        .args([
            "--memory",
            "m0",
            "--memory",
            "m1",
            "--memory",
            "m2:dedicated=b2",
        ])
        .args(["--bind", "b0:m0", "--bind2", "b1:m1", "--bind", "b2:m2"])
        .run();
    out.assert_ids(&[
        cat::BIND_BUFFER_REQUIRES_DEDICATED.id,
        cat::BIND_BUFFER_INFO_REQUIRES_DEDICATED.id,
    ]);
    finding_names(
        &out,
        cat::BIND_BUFFER_INFO_REQUIRES_DEDICATED.id,
        &["m1", "b1"],
        "DMA_BUF",
    );
    all_succeeded(&out);
}

/// dedicatedAllocationImageAliasing on: memory dedicated to a 64×64, 2-layer image may
/// back a smaller identical image at offset 0 (silent); a larger one, one of another
/// format, or any at a non-zero offset give 02629.
#[test]
fn aliasing_feature_allows_smaller_images_02629_mock_icd() {
    let images = [
        "--image",
        "i0:none:layers=2",
        "--image",
        "i1:none:size=32",
        "--image",
        "i2:none:size=128",
        "--image",
        "i3:none:format=bgra",
    ];
    let out = bind(FULL)
        .args(["--aliasing"])
        .args(images)
        .args(["--memory", "m0:dedicated=i0"])
        .args(["--bind", "i1:m0"])
        .run();
    out.assert_ids(&[]);
    all_succeeded(&out);

    let out = bind(FULL)
        .args(["--aliasing"])
        .args(images)
        .args(["--memory", "m0:dedicated=i0"])
        .args(["--bind", "i2:m0", "--bind2", "i3:m0"])
        .run();
    let single = cat::BIND_IMAGE_DEDICATED_ALIAS.id;
    let info = cat::BIND_IMAGE_INFO_DEDICATED_ALIAS.id;
    out.assert_ids(&[single, info]);
    finding_names(&out, single, &["m0", "i2"], "128x128x1");
    finding_names(&out, info, &["m0", "i3"], "B8G8R8A8_UNORM");

    let out = bind(FULL)
        .args(["--aliasing"])
        .args(images)
        .args(["--memory", "m0:dedicated=i0"])
        .args(["--bind", "i0:m0:4096"])
        .run();
    out.assert_ids(&[single]);
    finding_names(&out, single, &["m0", "i0"], "offset is 4096");
}

/// The same smaller image without the aliasing feature: 02628.
#[test]
fn without_aliasing_feature_smaller_image_reports_02628_mock_icd() {
    let out = bind(FULL)
        .args(["--image", "i0:none:layers=2", "--image", "i1:none:size=32"])
        .args(["--memory", "m0:dedicated=i0", "--bind", "i1:m0"])
        .run();
    out.assert_ids(&[cat::BIND_IMAGE_DEDICATED_OTHER.id]);
}

/// Sparse buffer and opaque image binds of exportable memory into resources that do not
/// declare its type: 02730; of imported memory: 02731. Declared types: silent.
#[test]
fn sparse_memory_binds_report_02730_02731_mock_icd() {
    let out = bind(FULL)
        .args(["--buffer", "b0:none:sparse", "--image", "i0:none:sparse"])
        .args(["--buffer", "b1:host:sparse", "--buffer", "b2:opaque:sparse"])
        .args(["--memory", "m0:export=opaque", "--memory", "m1:import=m0"])
        .args([
            "--sparse", "b0:m0", "--sparse", "i0:m0", "--sparse", "b1:m1", "--sparse", "b2:m1",
        ])
        .run();
    let export = cat::SPARSE_BIND_EXPORT_TYPES.id;
    let import = cat::SPARSE_BIND_IMPORT_TYPE.id;
    out.assert_ids(&[export, export, import]);
    let exports = out.with_id(export);
    let b0 = out.result_str("b0");
    let i0 = out.result_str("i0");
    assert!(
        exports
            .iter()
            .any(|f| f.names(&b0) && f.message.contains("pBufferBinds[0].pBinds[0]")),
        "{}",
        out.context()
    );
    assert!(
        exports
            .iter()
            .any(|f| f.names(&i0) && f.message.contains("pImageOpaqueBinds[0]")),
        "{}",
        out.context()
    );
    finding_names(&out, import, &["m1", "b1"], "imported as OPAQUE_FD");
    all_succeeded(&out);
}

/// Sparse image binds (VkSparseImageMemoryBind): exportable memory into an image without
/// external types: 02732; imported memory: 02733; an image declaring OPAQUE_FD: silent.
#[test]
fn sparse_image_binds_report_02732_02733_mock_icd() {
    let out = bind(FULL)
        .args([
            "--image",
            "i0:none:resident",
            "--image",
            "i1:opaque:resident",
        ])
        .args(["--memory", "m0:export=opaque", "--memory", "m1:import=m0"])
        .args([
            "--sparse-image",
            "i0:m0",
            "--sparse-image",
            "i0:m1",
            "--sparse-image",
            "i1:m0",
            "--sparse-image",
            "i1:m1",
        ])
        .run();
    out.assert_ids(&[
        cat::SPARSE_IMAGE_BIND_EXPORT_TYPES.id,
        cat::SPARSE_IMAGE_BIND_IMPORT_TYPE.id,
    ]);
    finding_names(
        &out,
        cat::SPARSE_IMAGE_BIND_IMPORT_TYPE.id,
        &["m1", "i0"],
        "pImageBinds[0].pBinds[0]",
    );
    all_succeeded(&out);
}

//! `lavapipe`: Mesa 22.3.6 llvmpipe (Vulkan 1.3.230) as captured in
//! `/work/shared/drivers/lavapipe-22.3.6` and described in RULES-TARGET §3.1.

use super::{
    captured, extensions, DedicatedAllocation, DeviceType, ExportUndeclared, ExternalEntry,
    ExternalMemory, MemoryHeap, MemoryImportProperties, MemoryRequirements, MemoryType, Profile,
    QueueFamily, Quirks, UnsupportedImageHandleType, Uuid, Version,
};

const OPAQUE_FD: u32 = 0x1;
const HOST_ALLOCATION: u32 = 0x80;
const EXPORTABLE: u32 = 0x2;
const IMPORTABLE: u32 = 0x4;

/// Instance extensions (the loader adds debug_report/debug_utils; surfaces and displays
/// are left out because the mock has no WSI).
pub const INSTANCE_EXTENSIONS: &[(&str, u32)] = &[
    ("VK_KHR_device_group_creation", 1),
    ("VK_KHR_external_fence_capabilities", 1),
    ("VK_KHR_external_memory_capabilities", 1),
    ("VK_KHR_external_semaphore_capabilities", 1),
    ("VK_KHR_get_physical_device_properties2", 2),
];

/// The captured device extensions that matter for external memory and synchronization,
/// and those whose commands the mock implements.
const DEVICE_EXTENSIONS: &[(&str, u32)] = &[
    ("VK_EXT_external_memory_host", 1),
    ("VK_KHR_bind_memory2", 1),
    ("VK_KHR_buffer_device_address", 1),
    ("VK_KHR_copy_commands2", 1),
    ("VK_KHR_create_renderpass2", 1),
    ("VK_KHR_dedicated_allocation", 3),
    ("VK_KHR_driver_properties", 1),
    ("VK_KHR_dynamic_rendering", 1),
    ("VK_KHR_external_fence", 1),
    ("VK_KHR_external_memory", 1),
    ("VK_KHR_external_memory_fd", 1),
    ("VK_KHR_external_semaphore", 1),
    ("VK_KHR_format_feature_flags2", 2),
    ("VK_KHR_get_memory_requirements2", 1),
    ("VK_KHR_image_format_list", 1),
    ("VK_KHR_maintenance1", 2),
    ("VK_KHR_maintenance2", 1),
    ("VK_KHR_maintenance4", 2),
    ("VK_KHR_separate_depth_stencil_layouts", 1),
    ("VK_KHR_synchronization2", 1),
    ("VK_KHR_timeline_semaphore", 2),
];

/// OPAQUE_FD exportable and importable, compatible only with itself; HOST_ALLOCATION
/// importable only. The same for buffers and for every image format/tiling.
pub fn external_memory() -> ExternalMemory {
    let table = vec![
        ExternalEntry::new(OPAQUE_FD, EXPORTABLE | IMPORTABLE, OPAQUE_FD, OPAQUE_FD),
        ExternalEntry::new(HOST_ALLOCATION, IMPORTABLE, 0, HOST_ALLOCATION),
    ];
    ExternalMemory {
        buffer: table.clone(),
        image: table,
        image_overrides: Vec::new(),
    }
}

/// Lavapipe answers an unsupported image handle type with success and zero features,
/// and exports an undeclared handle type as fd -1.
pub fn quirks() -> Quirks {
    Quirks {
        unsupported_image_handle_type: UnsupportedImageHandleType::SuccessZero,
        export_undeclared_handle_type: ExportUndeclared::MinusOne,
    }
}

/// One memory type; alignments as lavapipe reports them.
pub fn memory_requirements() -> MemoryRequirements {
    MemoryRequirements {
        buffer_alignment: 64,
        image_alignment: 64,
        buffer_memory_type_bits: 0x1,
        image_optimal_memory_type_bits: 0x1,
        image_linear_memory_type_bits: 0x1,
        max_memory_allocation_size: 2147483648,
        max_buffer_size: 4294967295,
    }
}

/// The one memory type for dma-bufs (lavapipe has none) and host pointers.
pub fn memory_import_properties() -> MemoryImportProperties {
    MemoryImportProperties {
        dma_buf_memory_type_bits: 0x1,
        host_pointer_memory_type_bits: 0x1,
        min_imported_host_pointer_alignment: 4096,
    }
}

/// The `lavapipe` profile.
pub fn profile() -> Profile {
    Profile {
        base: None,
        device_name: "llvmpipe (LLVM 15.0.6, 256 bits)".into(),
        vendor_id: 0x10005,
        device_id: 0,
        api_version: Version::new(1, 3, 230),
        driver_version: 1,
        device_type: DeviceType::Cpu,
        pipeline_cache_uuid: Uuid::from_ascii("val-%s"),
        device_uuid: Uuid::from_ascii("mesa22.3.6"),
        driver_uuid: Uuid::from_ascii("llvmpipeUUID"),
        device_node_mask: 0,
        driver_id: 13, // VK_DRIVER_ID_MESA_LLVMPIPE
        driver_name: "llvmpipe".into(),
        driver_info: "Mesa 22.3.6 (LLVM 15.0.6)".into(),
        conformance_version: [1, 3, 1, 1],
        instance_extensions: extensions(INSTANCE_EXTENSIONS),
        device_extensions: extensions(DEVICE_EXTENSIONS),
        queue_families: vec![QueueFamily::new(0x7, 1, 64)],
        memory_heaps: vec![MemoryHeap {
            size: 2_147_483_648,
            flags: 0x1,
        }],
        memory_types: vec![MemoryType {
            property_flags: 0xf,
            heap_index: 0,
        }],
        features: captured::lavapipe_features(),
        limits: captured::lavapipe_limits(),
        sparse_properties: captured::lavapipe_sparse(),
        formats: captured::lavapipe_formats(),
        external_memory: external_memory(),
        external_semaphore: Vec::new(),
        external_fence: Vec::new(),
        nv_external_memory: Vec::new(),
        dedicated_allocation: DedicatedAllocation::default(),
        memory_requirements: memory_requirements(),
        memory_import: memory_import_properties(),
        quirks: quirks(),
        extra_physical_devices: Vec::new(),
        device_groups: Vec::new(),
    }
}

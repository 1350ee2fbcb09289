//! `nvidia`: the NVIDIA H200 with driver 580.159.04 (Vulkan 1.4.312) as captured in
//! `/work/shared/drivers/nvidia-h200-580` and described in RULES-TARGET §3.4.

use super::{
    captured, extensions, DedicatedAllocation, DeviceType, ExportUndeclared, ExternalEntry,
    ExternalMemory, ExternalSyncEntry, MemoryHeap, MemoryImportProperties, MemoryRequirements,
    MemoryType, Profile, QueueFamily, Quirks, UnsupportedImageHandleType, Uuid, Version,
};

const OPAQUE_FD: u32 = 0x1;
const HOST_ALLOCATION: u32 = 0x80;
const EXPORTABLE: u32 = 0x2;
const IMPORTABLE: u32 = 0x4;

/// Instance extensions of the capture, without the loader's and without WSI.
const INSTANCE_EXTENSIONS: &[(&str, u32)] = &[
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
    ("VK_EXT_image_drm_format_modifier", 2),
    ("VK_EXT_queue_family_foreign", 1),
    ("VK_KHR_bind_memory2", 1),
    ("VK_KHR_buffer_device_address", 1),
    ("VK_KHR_copy_commands2", 1),
    ("VK_KHR_create_renderpass2", 1),
    ("VK_KHR_dedicated_allocation", 3),
    ("VK_KHR_driver_properties", 1),
    ("VK_KHR_dynamic_rendering", 1),
    ("VK_KHR_external_fence", 1),
    ("VK_KHR_external_fence_fd", 1),
    ("VK_KHR_external_memory", 1),
    ("VK_KHR_external_memory_fd", 1),
    ("VK_KHR_external_semaphore", 1),
    ("VK_KHR_external_semaphore_fd", 1),
    ("VK_KHR_format_feature_flags2", 2),
    ("VK_KHR_get_memory_requirements2", 1),
    ("VK_KHR_image_format_list", 1),
    ("VK_KHR_maintenance1", 2),
    ("VK_KHR_maintenance2", 1),
    ("VK_KHR_maintenance4", 2),
    ("VK_KHR_separate_depth_stencil_layouts", 1),
    ("VK_KHR_synchronization2", 1),
    ("VK_KHR_timeline_semaphore", 2),
    ("VK_NV_dedicated_allocation", 1),
    ("VK_NV_dedicated_allocation_image_aliasing", 1),
];

/// The `nvidia` profile.
pub fn profile() -> Profile {
    let memory = vec![
        ExternalEntry::new(OPAQUE_FD, EXPORTABLE | IMPORTABLE, OPAQUE_FD, OPAQUE_FD),
        ExternalEntry::new(
            HOST_ALLOCATION,
            EXPORTABLE | IMPORTABLE,
            HOST_ALLOCATION,
            HOST_ALLOCATION,
        ),
    ];
    // Semaphores and fences: OPAQUE_FD exportable (0x1) and importable (0x2).
    let sync = vec![ExternalSyncEntry::new(OPAQUE_FD, 0x3, OPAQUE_FD, OPAQUE_FD)];
    Profile {
        base: None,
        device_name: "NVIDIA H200".into(),
        vendor_id: 0x10de,
        device_id: 0x2335,
        api_version: Version::new(1, 4, 312),
        driver_version: 2_435_301_632,
        device_type: DeviceType::DiscreteGpu,
        pipeline_cache_uuid: Uuid([
            221, 65, 126, 75, 17, 177, 171, 169, 73, 181, 119, 238, 212, 251, 227, 141,
        ]),
        device_uuid: Uuid([
            15, 6, 61, 35, 153, 57, 72, 84, 172, 113, 143, 235, 67, 99, 57, 239,
        ]),
        driver_uuid: Uuid([
            199, 216, 160, 94, 190, 22, 88, 131, 168, 24, 109, 97, 191, 8, 18, 182,
        ]),
        device_node_mask: 1,
        driver_id: 4, // VK_DRIVER_ID_NVIDIA_PROPRIETARY
        driver_name: "NVIDIA".into(),
        driver_info: "580.159.04".into(),
        conformance_version: [1, 4, 1, 3],
        instance_extensions: extensions(INSTANCE_EXTENSIONS),
        device_extensions: extensions(DEVICE_EXTENSIONS),
        queue_families: vec![
            QueueFamily::new(0xf, 16, 64),  // graphics, compute, transfer, sparse
            QueueFamily::new(0xc, 2, 64),   // transfer, sparse
            QueueFamily::new(0xe, 8, 64),   // compute, transfer, sparse
            QueueFamily::new(0x2c, 7, 32),  // transfer, sparse, video decode
            QueueFamily::new(0x10c, 1, 64), // transfer, sparse, optical flow
        ],
        memory_heaps: vec![
            MemoryHeap {
                size: 150_754_820_096,
                flags: 0x1,
            },
            MemoryHeap {
                size: 101_361_423_360,
                flags: 0x0,
            },
        ],
        memory_types: vec![
            MemoryType {
                property_flags: 0x0,
                heap_index: 1,
            },
            MemoryType {
                property_flags: 0x1,
                heap_index: 0,
            },
            MemoryType {
                property_flags: 0x6,
                heap_index: 1,
            },
            MemoryType {
                property_flags: 0xe,
                heap_index: 1,
            },
            MemoryType {
                property_flags: 0x7,
                heap_index: 0,
            },
        ],
        features: captured::nvidia_features(),
        limits: captured::nvidia_limits(),
        sparse_properties: captured::nvidia_sparse(),
        formats: captured::nvidia_formats(),
        external_memory: ExternalMemory {
            buffer: memory.clone(),
            image: memory,
            image_overrides: Vec::new(),
        },
        external_semaphore: sync.clone(),
        external_fence: sync,
        nv_external_memory: Vec::new(),
        dedicated_allocation: DedicatedAllocation::default(),
        // Not in the captures: alignments are typical NVIDIA values; the image type bits
        // follow vulkaninfo's "usable for" lists (optimal: types 0 and 1).
        memory_requirements: MemoryRequirements {
            buffer_alignment: 256,
            image_alignment: 1024,
            buffer_memory_type_bits: 0x1f,
            image_optimal_memory_type_bits: 0x3,
            image_linear_memory_type_bits: 0x1f,
            max_memory_allocation_size: 4292870144,
            max_buffer_size: 1099511627776,
        },
        memory_import: MemoryImportProperties {
            dma_buf_memory_type_bits: 0,
            host_pointer_memory_type_bits: 0x1c,
            min_imported_host_pointer_alignment: 4096,
        },
        quirks: Quirks {
            unsupported_image_handle_type: UnsupportedImageHandleType::FormatNotSupported,
            export_undeclared_handle_type: ExportUndeclared::Error,
        },
        extra_physical_devices: Vec::new(),
        device_groups: Vec::new(),
    }
}

//! `full`: a synthetic device with every condition no local driver produces — several
//! queue families, sparse binding, dma-buf (dedicated-only for images), external
//! semaphores and fences (OPAQUE_FD and SYNC_FD), NV external memory, DRM format
//! modifiers, dedicated-allocation requirements, and UUIDs unlike any real driver's.

use super::DeviceGroup;
use super::{
    captured, extensions, DedicatedAllocation, DedicatedRule, DeviceType, ExportUndeclared,
    ExternalEntry, ExternalMemory, ExternalSyncEntry, ImageOverride, MemoryHeap,
    MemoryImportProperties, MemoryRequirements, MemoryType, Profile, QueueFamily, Quirks,
    UnsupportedImageHandleType, Uuid, Version,
};

const OPAQUE_FD: u32 = 0x1;
const HOST_ALLOCATION: u32 = 0x80;
const DMA_BUF: u32 = 0x200;
const DEDICATED_ONLY: u32 = 0x1;
const EXPORTABLE: u32 = 0x2;
const IMPORTABLE: u32 = 0x4;
const SEMAPHORE_SYNC_FD: u32 = 0x10;
const FENCE_SYNC_FD: u32 = 0x8;
const NV_OPAQUE_WIN32: u32 = 0x1;
const NV_OPAQUE_WIN32_KMT: u32 = 0x2;
const D32_SFLOAT: i32 = 126;
const TILING_OPTIMAL: i32 = 0;

const INSTANCE_EXTENSIONS: &[(&str, u32)] = &[
    ("VK_KHR_device_group_creation", 1),
    ("VK_KHR_external_fence_capabilities", 1),
    ("VK_KHR_external_memory_capabilities", 1),
    ("VK_KHR_external_semaphore_capabilities", 1),
    ("VK_KHR_get_physical_device_properties2", 2),
    ("VK_NV_external_memory_capabilities", 1),
];

const DEVICE_EXTENSIONS: &[(&str, u32)] = &[
    ("VK_EXT_external_memory_dma_buf", 1),
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
    ("VK_NV_external_memory", 1),
];

/// The `full` profile.
pub fn profile() -> Profile {
    let opaque = ExternalEntry::new(OPAQUE_FD, EXPORTABLE | IMPORTABLE, OPAQUE_FD, OPAQUE_FD);
    let host = ExternalEntry::new(HOST_ALLOCATION, IMPORTABLE, 0, HOST_ALLOCATION);
    let mut features = captured::nvidia_features();
    features.sparse_binding = true;
    features.sparse_residency_buffer = true;
    features.sparse_residency_image2_d = true;
    features.synchronization2 = true;
    features.timeline_semaphore = true;
    features.buffer_device_address = true;
    features.buffer_device_address_capture_replay = true;
    features.dedicated_allocation_image_aliasing = true;
    let mut sync_fd_semaphore =
        ExternalSyncEntry::new(SEMAPHORE_SYNC_FD, 0x3, SEMAPHORE_SYNC_FD, SEMAPHORE_SYNC_FD);
    sync_fd_semaphore.timeline = false; // the spec allows SYNC_FD for binary semaphores only
    Profile {
        base: None,
        device_name: "Handoff mock device (full)".into(),
        vendor_id: 0x10fff, // in the Khronos range, above every registered VkVendorId
        device_id: 0x0f11,
        api_version: Version::new(1, 3, 239),
        driver_version: 1,
        device_type: DeviceType::VirtualGpu,
        pipeline_cache_uuid: Uuid::from_ascii("handoff-mock-pc"),
        device_uuid: Uuid::from_ascii("handoff-full-dev"),
        driver_uuid: Uuid::from_ascii("handoff-full-drv"),
        device_node_mask: 1,
        driver_id: 0x4d4f, // not a registered VkDriverId
        driver_name: "handoff-mock".into(),
        driver_info: "Handoff mock ICD, profile full".into(),
        conformance_version: [0, 0, 0, 0],
        instance_extensions: extensions(INSTANCE_EXTENSIONS),
        device_extensions: extensions(DEVICE_EXTENSIONS),
        queue_families: vec![
            QueueFamily::new(0xf, 4, 64), // graphics, compute, transfer, sparse
            QueueFamily::new(0x6, 2, 64), // compute, transfer
            QueueFamily::new(0x4, 2, 64), // transfer only
        ],
        memory_heaps: vec![
            MemoryHeap {
                size: 8 << 30,
                flags: 0x1,
            },
            MemoryHeap {
                size: 16 << 30,
                flags: 0x0,
            },
        ],
        memory_types: vec![
            MemoryType {
                property_flags: 0x1,
                heap_index: 0,
            }, // device local
            MemoryType {
                property_flags: 0xe,
                heap_index: 1,
            }, // host visible, coherent, cached
            MemoryType {
                property_flags: 0x7,
                heap_index: 0,
            }, // device local, host visible, coherent
        ],
        features,
        limits: captured::nvidia_limits(),
        sparse_properties: captured::nvidia_sparse(),
        formats: captured::nvidia_formats(),
        external_memory: ExternalMemory {
            buffer: vec![
                opaque.clone(),
                ExternalEntry::new(DMA_BUF, EXPORTABLE | IMPORTABLE, DMA_BUF, DMA_BUF),
                host.clone(),
            ],
            image: vec![
                opaque,
                ExternalEntry::new(
                    DMA_BUF,
                    DEDICATED_ONLY | EXPORTABLE | IMPORTABLE,
                    DMA_BUF,
                    DMA_BUF,
                ),
                host,
            ],
            // Depth images cannot be shared as dma-bufs.
            image_overrides: vec![ImageOverride {
                format: Some(D32_SFLOAT),
                tiling: Some(TILING_OPTIMAL),
                handle_type: DMA_BUF,
                supported: false,
                ..ImageOverride::default()
            }],
        },
        external_semaphore: vec![
            ExternalSyncEntry::new(OPAQUE_FD, 0x3, OPAQUE_FD, OPAQUE_FD),
            sync_fd_semaphore,
        ],
        external_fence: vec![
            ExternalSyncEntry::new(OPAQUE_FD, 0x3, OPAQUE_FD, OPAQUE_FD),
            ExternalSyncEntry::new(FENCE_SYNC_FD, 0x3, FENCE_SYNC_FD, FENCE_SYNC_FD),
        ],
        nv_external_memory: vec![
            ExternalEntry::new(
                NV_OPAQUE_WIN32,
                EXPORTABLE | IMPORTABLE,
                NV_OPAQUE_WIN32,
                NV_OPAQUE_WIN32 | NV_OPAQUE_WIN32_KMT,
            ),
            ExternalEntry::new(
                NV_OPAQUE_WIN32_KMT,
                EXPORTABLE | IMPORTABLE,
                NV_OPAQUE_WIN32_KMT,
                NV_OPAQUE_WIN32 | NV_OPAQUE_WIN32_KMT,
            ),
        ],
        dedicated_allocation: DedicatedAllocation {
            buffer: DedicatedRule {
                prefers_for_handle_types: DMA_BUF,
                ..DedicatedRule::default()
            },
            image: DedicatedRule {
                requires_for_handle_types: DMA_BUF,
                prefers_for_handle_types: OPAQUE_FD,
                ..DedicatedRule::default()
            },
        },
        memory_requirements: MemoryRequirements {
            buffer_alignment: 256,
            image_alignment: 4096,
            buffer_memory_type_bits: 0x7,
            image_optimal_memory_type_bits: 0x7,
            image_linear_memory_type_bits: 0x7,
            max_memory_allocation_size: 4294967296,
            max_buffer_size: 1099511627776,
        },
        // dma-bufs import into types 0 and 1 only, so type 2 is a real 00648 mismatch.
        memory_import: MemoryImportProperties {
            dma_buf_memory_type_bits: 0x3,
            host_pointer_memory_type_bits: 0x2,
            min_imported_host_pointer_alignment: 4096,
        },
        quirks: Quirks {
            unsupported_image_handle_type: UnsupportedImageHandleType::FormatNotSupported,
            export_undeclared_handle_type: ExportUndeclared::Error,
        },
        extra_physical_devices: vec![second_device()],
        // Both devices form one group, so device masks and physical-device sets
        // (VkMemoryAllocateInfo-None-00643/00644) can differ between allocations.
        device_groups: vec![DeviceGroup {
            physical_devices: vec![0, 1],
            subset_allocation: Some(true),
        }],
    }
}

/// The second physical device of `full`: the same device with its own name, UUIDs and
/// node mask, so OPAQUE_FD payloads cross a UUID boundary (00668, 01544, ...).
fn second_device() -> serde_json::Map<String, serde_json::Value> {
    let uuid = |s: &str| serde_json::to_value(Uuid::from_ascii(s)).unwrap_or_default();
    let mut m = serde_json::Map::new();
    m.insert(
        "deviceName".into(),
        "Handoff mock device (full, second)".into(),
    );
    m.insert("deviceUUID".into(), uuid("handoff-full-dv2"));
    m.insert("driverUUID".into(), uuid("handoff-full-dr2"));
    m.insert("deviceNodeMask".into(), 2.into());
    m
}

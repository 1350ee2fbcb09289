//! Physical-device queries that simply report the profile: properties, features, memory,
//! queue families, format properties, device extensions.

use crate::ffi;
use crate::profile::Profile;
use crate::state;
use ash::vk;
use std::ffi::c_char;
use std::sync::Arc;

/// The profile of a physical device handle.
fn profile_of(physical: vk::PhysicalDevice) -> Option<Arc<Profile>> {
    state::with(|r| r.physical_profile(physical))
}

/// `VkPhysicalDeviceProperties` from the profile.
pub fn base_properties(p: &Profile) -> vk::PhysicalDeviceProperties {
    let mut props = vk::PhysicalDeviceProperties {
        api_version: p.api_version(),
        driver_version: p.driver_version,
        vendor_id: p.vendor_id,
        device_id: p.device_id,
        device_type: p.device_type.to_vk(),
        pipeline_cache_uuid: p.pipeline_cache_uuid.0,
        limits: p.limits.to_vk(),
        sparse_properties: p.sparse_properties.to_vk(),
        ..Default::default()
    };
    ffi::copy_cstr(&mut props.device_name, &p.device_name);
    props
}

/// Fills the property structures of a `VkPhysicalDeviceProperties2` chain that the mock
/// knows; others are left as the app initialized them.
fn fill_property_chain(p: &Profile, s_type: vk::StructureType, node: *mut std::ffi::c_void) {
    let max_alloc = p.memory_requirements.max_memory_allocation_size;
    let max_buffer = p.memory_requirements.max_buffer_size;
    match s_type {
        vk::StructureType::PHYSICAL_DEVICE_ID_PROPERTIES => {
            // SAFETY: the sType identifies the node; the app made the chain writable.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceIDProperties<'_>>(node) };
            s.device_uuid = p.device_uuid.0;
            s.driver_uuid = p.driver_uuid.0;
            s.device_luid = [0; vk::LUID_SIZE];
            s.device_node_mask = p.device_node_mask;
            s.device_luid_valid = vk::FALSE;
        }
        vk::StructureType::PHYSICAL_DEVICE_DRIVER_PROPERTIES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceDriverProperties<'_>>(node) };
            s.driver_id = vk::DriverId::from_raw(p.driver_id);
            ffi::copy_cstr(&mut s.driver_name, &p.driver_name);
            ffi::copy_cstr(&mut s.driver_info, &p.driver_info);
            s.conformance_version = conformance(p);
        }
        vk::StructureType::PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceVulkan11Properties<'_>>(node) };
            s.device_uuid = p.device_uuid.0;
            s.driver_uuid = p.driver_uuid.0;
            s.device_luid = [0; vk::LUID_SIZE];
            s.device_node_mask = p.device_node_mask;
            s.device_luid_valid = vk::FALSE;
            s.subgroup_size = 32;
            s.subgroup_supported_stages = vk::ShaderStageFlags::COMPUTE;
            s.subgroup_supported_operations = vk::SubgroupFeatureFlags::BASIC;
            s.point_clipping_behavior = vk::PointClippingBehavior::ALL_CLIP_PLANES;
            s.max_multiview_view_count = 6;
            s.max_multiview_instance_index = 134_217_727;
            s.max_per_set_descriptors = 1024;
            s.max_memory_allocation_size = max_alloc;
        }
        vk::StructureType::PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceVulkan12Properties<'_>>(node) };
            s.driver_id = vk::DriverId::from_raw(p.driver_id);
            ffi::copy_cstr(&mut s.driver_name, &p.driver_name);
            ffi::copy_cstr(&mut s.driver_info, &p.driver_info);
            s.conformance_version = conformance(p);
            s.max_timeline_semaphore_value_difference = u64::MAX;
        }
        vk::StructureType::PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceVulkan13Properties<'_>>(node) };
            s.max_buffer_size = max_buffer;
        }
        vk::StructureType::PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceMaintenance3Properties<'_>>(node) };
            s.max_per_set_descriptors = 1024;
            s.max_memory_allocation_size = max_alloc;
        }
        vk::StructureType::PHYSICAL_DEVICE_MAINTENANCE_4_PROPERTIES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceMaintenance4Properties<'_>>(node) };
            s.max_buffer_size = max_buffer;
        }
        vk::StructureType::PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_PROPERTIES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceTimelineSemaphoreProperties<'_>>(node) };
            s.max_timeline_semaphore_value_difference = u64::MAX;
        }
        vk::StructureType::PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT => {
            // SAFETY: as above.
            let s =
                unsafe { ffi::out::<vk::PhysicalDeviceExternalMemoryHostPropertiesEXT<'_>>(node) };
            s.min_imported_host_pointer_alignment =
                p.memory_import.min_imported_host_pointer_alignment;
        }
        _ => {}
    }
}

fn conformance(p: &Profile) -> vk::ConformanceVersion {
    let [major, minor, subminor, patch] = p.conformance_version;
    vk::ConformanceVersion {
        major,
        minor,
        subminor,
        patch,
    }
}

/// Fills the feature structures of a `VkPhysicalDeviceFeatures2` chain.
fn fill_feature_chain(p: &Profile, s_type: vk::StructureType, node: *mut std::ffi::c_void) {
    let f = &p.features;
    let b = vk::Bool32::from;
    match s_type {
        vk::StructureType::PHYSICAL_DEVICE_VULKAN_1_2_FEATURES => {
            // SAFETY: the sType identifies the node; the app made the chain writable.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceVulkan12Features<'_>>(node) };
            s.timeline_semaphore = b(f.timeline_semaphore);
            s.buffer_device_address = b(f.buffer_device_address);
            s.buffer_device_address_capture_replay = b(f.buffer_device_address_capture_replay);
            s.buffer_device_address_multi_device = b(f.buffer_device_address_multi_device);
            s.separate_depth_stencil_layouts =
                b(p.has_device_ext("VK_KHR_separate_depth_stencil_layouts"));
        }
        vk::StructureType::PHYSICAL_DEVICE_VULKAN_1_3_FEATURES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceVulkan13Features<'_>>(node) };
            s.synchronization2 = b(f.synchronization2);
            s.dynamic_rendering = b(p.has_device_ext("VK_KHR_dynamic_rendering"));
            s.maintenance4 = b(p.has_device_ext("VK_KHR_maintenance4"));
        }
        vk::StructureType::PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceTimelineSemaphoreFeatures<'_>>(node) };
            s.timeline_semaphore = b(f.timeline_semaphore);
        }
        vk::StructureType::PHYSICAL_DEVICE_SYNCHRONIZATION_2_FEATURES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceSynchronization2Features<'_>>(node) };
            s.synchronization2 = b(f.synchronization2);
        }
        vk::StructureType::PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceBufferDeviceAddressFeatures<'_>>(node) };
            s.buffer_device_address = b(f.buffer_device_address);
            s.buffer_device_address_capture_replay = b(f.buffer_device_address_capture_replay);
            s.buffer_device_address_multi_device = b(f.buffer_device_address_multi_device);
        }
        vk::StructureType::PHYSICAL_DEVICE_DEDICATED_ALLOCATION_IMAGE_ALIASING_FEATURES_NV => {
            // SAFETY: as above.
            let s = unsafe {
                ffi::out::<vk::PhysicalDeviceDedicatedAllocationImageAliasingFeaturesNV<'_>>(node)
            };
            s.dedicated_allocation_image_aliasing = b(f.dedicated_allocation_image_aliasing);
        }
        vk::StructureType::PHYSICAL_DEVICE_MAINTENANCE_4_FEATURES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceMaintenance4Features<'_>>(node) };
            s.maintenance4 = b(p.has_device_ext("VK_KHR_maintenance4"));
        }
        vk::StructureType::PHYSICAL_DEVICE_DYNAMIC_RENDERING_FEATURES => {
            // SAFETY: as above.
            let s = unsafe { ffi::out::<vk::PhysicalDeviceDynamicRenderingFeatures<'_>>(node) };
            s.dynamic_rendering = b(p.has_device_ext("VK_KHR_dynamic_rendering"));
        }
        vk::StructureType::PHYSICAL_DEVICE_SEPARATE_DEPTH_STENCIL_LAYOUTS_FEATURES => {
            // SAFETY: as above.
            let s = unsafe {
                ffi::out::<vk::PhysicalDeviceSeparateDepthStencilLayoutsFeatures<'_>>(node)
            };
            s.separate_depth_stencil_layouts =
                b(p.has_device_ext("VK_KHR_separate_depth_stencil_layouts"));
        }
        _ => {}
    }
}

/// `VkPhysicalDeviceMemoryProperties` from the profile.
pub fn memory_properties(p: &Profile) -> vk::PhysicalDeviceMemoryProperties {
    let mut m = vk::PhysicalDeviceMemoryProperties::default();
    for (dst, t) in m.memory_types.iter_mut().zip(&p.memory_types) {
        *dst = vk::MemoryType {
            property_flags: vk::MemoryPropertyFlags::from_raw(t.property_flags),
            heap_index: t.heap_index,
        };
    }
    for (dst, h) in m.memory_heaps.iter_mut().zip(&p.memory_heaps) {
        *dst = vk::MemoryHeap {
            size: h.size,
            flags: vk::MemoryHeapFlags::from_raw(h.flags),
        };
    }
    m.memory_type_count = p.memory_types.len().min(vk::MAX_MEMORY_TYPES) as u32;
    m.memory_heap_count = p.memory_heaps.len().min(vk::MAX_MEMORY_HEAPS) as u32;
    m
}

/// `VkQueueFamilyProperties` of every family.
fn queue_families(p: &Profile) -> Vec<vk::QueueFamilyProperties> {
    p.queue_families
        .iter()
        .map(|q| vk::QueueFamilyProperties {
            queue_flags: vk::QueueFlags::from_raw(q.queue_flags),
            queue_count: q.queue_count,
            timestamp_valid_bits: q.timestamp_valid_bits,
            min_image_transfer_granularity: vk::Extent3D {
                width: q.min_image_transfer_granularity[0],
                height: q.min_image_transfer_granularity[1],
                depth: q.min_image_transfer_granularity[2],
            },
        })
        .collect()
}

/// `VkFormatProperties` of a format (all 0 when unsupported).
pub fn format_properties(p: &Profile, format: vk::Format) -> vk::FormatProperties {
    p.format(format)
        .map(|f| vk::FormatProperties {
            linear_tiling_features: vk::FormatFeatureFlags::from_raw(f.linear_tiling_features),
            optimal_tiling_features: vk::FormatFeatureFlags::from_raw(f.optimal_tiling_features),
            buffer_features: vk::FormatFeatureFlags::from_raw(f.buffer_features),
        })
        .unwrap_or_default()
}

/// The DRM format modifiers of a format: only `DRM_FORMAT_MOD_LINEAR` (0), with the
/// format's linear features, when the profile has `VK_EXT_image_drm_format_modifier`.
pub fn drm_modifiers(p: &Profile, format: vk::Format) -> Vec<(u64, u32, u32)> {
    if !p.has_device_ext("VK_EXT_image_drm_format_modifier") {
        return Vec::new();
    }
    match p.format(format) {
        Some(f) if f.linear_tiling_features != 0 => {
            vec![(
                0,
                crate::formats::plane_count(format),
                f.linear_tiling_features,
            )]
        }
        _ => Vec::new(),
    }
}

/// Fills a `VkDrmFormatModifierPropertiesList(2)EXT`-style count/array pair.
///
/// # Safety
/// `count` is valid; `array` is null or valid for `*count` writes.
unsafe fn fill_modifier_list<T>(count: &mut u32, array: *mut T, items: &[T]) -> Option<()>
where
    T: Copy,
{
    let total = u32::try_from(items.len()).ok()?;
    if array.is_null() {
        *count = total;
        return Some(());
    }
    let n = (*count).min(total);
    for (i, item) in items.iter().take(n as usize).enumerate() {
        // SAFETY: `i < *count`, and the app sized the array for `*count` elements.
        unsafe { array.add(i).write(*item) };
    }
    *count = n;
    Some(())
}

/// `vkGetPhysicalDeviceProperties`.
///
/// # Safety
/// `p_properties` is null or valid for a write.
pub unsafe extern "system" fn get_physical_device_properties(
    physical: vk::PhysicalDevice,
    p_properties: *mut vk::PhysicalDeviceProperties,
) {
    ffi::guard_void(|| {
        if let Some(p) = profile_of(physical) {
            // SAFETY: valid or null per the caller.
            unsafe { ffi::write(p_properties, base_properties(&p)) };
        }
    })
}

/// `vkGetPhysicalDeviceProperties2`.
///
/// # Safety
/// `p_properties` is null or a valid, writable structure chain.
pub unsafe extern "system" fn get_physical_device_properties2(
    physical: vk::PhysicalDevice,
    p_properties: *mut vk::PhysicalDeviceProperties2<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        if p_properties.is_null() {
            return;
        }
        // SAFETY: non-null and writable per the caller.
        let out = unsafe { &mut *p_properties };
        out.properties = base_properties(&p);
        // SAFETY: the chain is valid and writable per the caller.
        unsafe { ffi::for_each_out(out.p_next, |t, node| fill_property_chain(&p, t, node)) };
    })
}

/// `vkGetPhysicalDeviceFeatures`.
///
/// # Safety
/// `p_features` is null or valid for a write.
pub unsafe extern "system" fn get_physical_device_features(
    physical: vk::PhysicalDevice,
    p_features: *mut vk::PhysicalDeviceFeatures,
) {
    ffi::guard_void(|| {
        if let Some(p) = profile_of(physical) {
            // SAFETY: valid or null per the caller.
            unsafe { ffi::write(p_features, p.features.to_vk()) };
        }
    })
}

/// `vkGetPhysicalDeviceFeatures2`.
///
/// # Safety
/// `p_features` is null or a valid, writable structure chain.
pub unsafe extern "system" fn get_physical_device_features2(
    physical: vk::PhysicalDevice,
    p_features: *mut vk::PhysicalDeviceFeatures2<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        if p_features.is_null() {
            return;
        }
        // SAFETY: non-null and writable per the caller.
        let out = unsafe { &mut *p_features };
        out.features = p.features.to_vk();
        // SAFETY: the chain is valid and writable per the caller.
        unsafe { ffi::for_each_out(out.p_next, |t, node| fill_feature_chain(&p, t, node)) };
    })
}

/// `vkGetPhysicalDeviceMemoryProperties`.
///
/// # Safety
/// `p_props` is null or valid for a write.
pub unsafe extern "system" fn get_physical_device_memory_properties(
    physical: vk::PhysicalDevice,
    p_props: *mut vk::PhysicalDeviceMemoryProperties,
) {
    ffi::guard_void(|| {
        if let Some(p) = profile_of(physical) {
            // SAFETY: valid or null per the caller.
            unsafe { ffi::write(p_props, memory_properties(&p)) };
        }
    })
}

/// `vkGetPhysicalDeviceMemoryProperties2`.
///
/// # Safety
/// `p_props` is null or a valid, writable structure chain.
pub unsafe extern "system" fn get_physical_device_memory_properties2(
    physical: vk::PhysicalDevice,
    p_props: *mut vk::PhysicalDeviceMemoryProperties2<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        if p_props.is_null() {
            return;
        }
        // SAFETY: non-null and writable per the caller.
        unsafe { (*p_props).memory_properties = memory_properties(&p) };
    })
}

/// `vkGetPhysicalDeviceQueueFamilyProperties`.
///
/// # Safety
/// `p_count` is null or valid; `p_props` is null or valid for `*p_count` writes.
pub unsafe extern "system" fn get_physical_device_queue_family_properties(
    physical: vk::PhysicalDevice,
    p_count: *mut u32,
    p_props: *mut vk::QueueFamilyProperties,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        // SAFETY: forwarded from the caller.
        let _ = unsafe { ffi::enumerate(&queue_families(&p), p_count, p_props) };
    })
}

/// `vkGetPhysicalDeviceQueueFamilyProperties2`.
///
/// # Safety
/// `p_count` is null or valid; `p_props` is null or valid for `*p_count` structures.
pub unsafe extern "system" fn get_physical_device_queue_family_properties2(
    physical: vk::PhysicalDevice,
    p_count: *mut u32,
    p_props: *mut vk::QueueFamilyProperties2<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        let families = queue_families(&p);
        let put = |i: usize| {
            // SAFETY: `i < *p_count` and the app provided that many structures.
            unsafe { (*p_props.add(i)).queue_family_properties = families[i] };
            true
        };
        // SAFETY: forwarded from the caller.
        let _ = unsafe { ffi::enumerate_with(families.len(), p_count, put, p_props.is_null()) };
    })
}

/// `vkGetPhysicalDeviceFormatProperties`.
///
/// # Safety
/// `p_props` is null or valid for a write.
pub unsafe extern "system" fn get_physical_device_format_properties(
    physical: vk::PhysicalDevice,
    format: vk::Format,
    p_props: *mut vk::FormatProperties,
) {
    ffi::guard_void(|| {
        if let Some(p) = profile_of(physical) {
            // SAFETY: valid or null per the caller.
            unsafe { ffi::write(p_props, format_properties(&p, format)) };
        }
    })
}

/// `vkGetPhysicalDeviceFormatProperties2`, with `VkFormatProperties3` and the DRM
/// format modifier lists.
///
/// # Safety
/// `p_props` is null or a valid, writable structure chain.
pub unsafe extern "system" fn get_physical_device_format_properties2(
    physical: vk::PhysicalDevice,
    format: vk::Format,
    p_props: *mut vk::FormatProperties2<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        if p_props.is_null() {
            return;
        }
        let props = format_properties(&p, format);
        // SAFETY: non-null and writable per the caller.
        let out = unsafe { &mut *p_props };
        out.format_properties = props;
        let modifiers = drm_modifiers(&p, format);
        let fill = |t: vk::StructureType, node: *mut std::ffi::c_void| match t {
            vk::StructureType::FORMAT_PROPERTIES_3 => {
                // SAFETY: the sType identifies the node; the chain is writable.
                let s = unsafe { ffi::out::<vk::FormatProperties3<'_>>(node) };
                s.linear_tiling_features =
                    vk::FormatFeatureFlags2::from_raw(props.linear_tiling_features.as_raw().into());
                s.optimal_tiling_features = vk::FormatFeatureFlags2::from_raw(
                    props.optimal_tiling_features.as_raw().into(),
                );
                s.buffer_features =
                    vk::FormatFeatureFlags2::from_raw(props.buffer_features.as_raw().into());
            }
            vk::StructureType::DRM_FORMAT_MODIFIER_PROPERTIES_LIST_EXT => {
                // SAFETY: as above.
                let s = unsafe { ffi::out::<vk::DrmFormatModifierPropertiesListEXT<'_>>(node) };
                let items: Vec<vk::DrmFormatModifierPropertiesEXT> = modifiers
                    .iter()
                    .map(|&(m, planes, feats)| vk::DrmFormatModifierPropertiesEXT {
                        drm_format_modifier: m,
                        drm_format_modifier_plane_count: planes,
                        drm_format_modifier_tiling_features: vk::FormatFeatureFlags::from_raw(
                            feats,
                        ),
                    })
                    .collect();
                // SAFETY: the app sized the array for the count it passed.
                unsafe {
                    fill_modifier_list(
                        &mut s.drm_format_modifier_count,
                        s.p_drm_format_modifier_properties,
                        &items,
                    )
                };
            }
            vk::StructureType::DRM_FORMAT_MODIFIER_PROPERTIES_LIST_2_EXT => {
                // SAFETY: as above.
                let s = unsafe { ffi::out::<vk::DrmFormatModifierPropertiesList2EXT<'_>>(node) };
                let items: Vec<vk::DrmFormatModifierProperties2EXT> = modifiers
                    .iter()
                    .map(|&(m, planes, feats)| vk::DrmFormatModifierProperties2EXT {
                        drm_format_modifier: m,
                        drm_format_modifier_plane_count: planes,
                        drm_format_modifier_tiling_features: vk::FormatFeatureFlags2::from_raw(
                            feats.into(),
                        ),
                    })
                    .collect();
                // SAFETY: the app sized the array for the count it passed.
                unsafe {
                    fill_modifier_list(
                        &mut s.drm_format_modifier_count,
                        s.p_drm_format_modifier_properties,
                        &items,
                    )
                };
            }
            _ => {}
        };
        // SAFETY: the chain is valid and writable per the caller.
        unsafe { ffi::for_each_out(out.p_next, fill) };
    })
}

/// `vkGetPhysicalDeviceSparseImageFormatProperties`: no sparse image formats.
///
/// # Safety
/// `p_count` is null or valid.
pub unsafe extern "system" fn get_physical_device_sparse_image_format_properties(
    _physical: vk::PhysicalDevice,
    _format: vk::Format,
    _ty: vk::ImageType,
    _samples: vk::SampleCountFlags,
    _usage: vk::ImageUsageFlags,
    _tiling: vk::ImageTiling,
    p_count: *mut u32,
    _p_props: *mut vk::SparseImageFormatProperties,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_count, 0) };
    })
}

/// `vkGetPhysicalDeviceSparseImageFormatProperties2`: no sparse image formats.
///
/// # Safety
/// `p_count` is null or valid.
pub unsafe extern "system" fn get_physical_device_sparse_image_format_properties2(
    _physical: vk::PhysicalDevice,
    _p_info: *const vk::PhysicalDeviceSparseImageFormatInfo2<'_>,
    p_count: *mut u32,
    _p_props: *mut vk::SparseImageFormatProperties2<'_>,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_count, 0) };
    })
}

/// `vkEnumerateDeviceExtensionProperties`.
///
/// # Safety
/// `p_layer_name` is null or a C string; `p_count` is valid; `p_props` is null or valid for
/// `*p_count` writes.
pub unsafe extern "system" fn enumerate_device_extension_properties(
    physical: vk::PhysicalDevice,
    p_layer_name: *const c_char,
    p_count: *mut u32,
    p_props: *mut vk::ExtensionProperties,
) -> vk::Result {
    ffi::guard(|| {
        if !p_layer_name.is_null() {
            return vk::Result::ERROR_LAYER_NOT_PRESENT;
        }
        let Some(p) = profile_of(physical) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        let props = crate::instance::extension_properties(&p.device_extensions);
        // SAFETY: forwarded from the caller.
        unsafe { ffi::enumerate(&props, p_count, p_props) }
    })
}

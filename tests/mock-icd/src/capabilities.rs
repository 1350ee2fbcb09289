//! Capability queries that need logic on top of the profile: image format properties
//! (with the external-memory answer per handle type) and the external buffer, semaphore,
//! fence and NV queries.

use crate::ffi;
use crate::formats;
use crate::profile::{ExternalEntry, Profile, UnsupportedImageHandleType};
use crate::state;
use ash::vk;
use std::sync::Arc;

fn profile_of(physical: vk::PhysicalDevice) -> Option<Arc<Profile>> {
    state::with(|r| r.physical_profile(physical))
}

/// What an image needs: format, type, tiling (and DRM modifier), usage, flags.
#[derive(Debug, Clone, Copy)]
pub struct ImageQuery {
    pub format: vk::Format,
    pub ty: vk::ImageType,
    pub tiling: vk::ImageTiling,
    pub usage: vk::ImageUsageFlags,
    pub flags: vk::ImageCreateFlags,
    /// For `VK_IMAGE_TILING_DRM_FORMAT_MODIFIER_EXT`.
    pub drm_modifier: Option<u64>,
}

/// The format features an image of this tiling gets (0 when unsupported).
fn tiling_features(p: &Profile, q: &ImageQuery) -> vk::FormatFeatureFlags {
    let Some(f) = p.format(q.format) else {
        return vk::FormatFeatureFlags::empty();
    };
    let raw = match q.tiling {
        vk::ImageTiling::OPTIMAL => f.optimal_tiling_features,
        vk::ImageTiling::LINEAR => f.linear_tiling_features,
        vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT
            if p.has_device_ext("VK_EXT_image_drm_format_modifier")
                && q.drm_modifier == Some(0) =>
        {
            f.linear_tiling_features
        }
        _ => 0,
    };
    vk::FormatFeatureFlags::from_raw(raw)
}

/// Whether every usage bit has the format feature it needs.
fn usage_supported(usage: vk::ImageUsageFlags, feats: vk::FormatFeatureFlags) -> bool {
    use vk::FormatFeatureFlags as F;
    use vk::ImageUsageFlags as U;
    let attachment = F::COLOR_ATTACHMENT | F::DEPTH_STENCIL_ATTACHMENT;
    let needs = [
        (U::SAMPLED, F::SAMPLED_IMAGE),
        (U::STORAGE, F::STORAGE_IMAGE),
        (U::COLOR_ATTACHMENT, F::COLOR_ATTACHMENT),
        (U::DEPTH_STENCIL_ATTACHMENT, F::DEPTH_STENCIL_ATTACHMENT),
        (U::TRANSFER_SRC, F::TRANSFER_SRC),
        (U::TRANSFER_DST, F::TRANSFER_DST),
        (U::INPUT_ATTACHMENT, attachment),
        (U::TRANSIENT_ATTACHMENT, attachment),
    ];
    needs
        .iter()
        .all(|(u, f)| !usage.intersects(*u) || feats.intersects(*f))
}

/// `VkImageFormatProperties` for an image, or `VK_ERROR_FORMAT_NOT_SUPPORTED`.
pub fn image_format_properties(
    p: &Profile,
    q: &ImageQuery,
) -> Result<vk::ImageFormatProperties, vk::Result> {
    use vk::ImageCreateFlags as C;
    let unsupported = Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED);
    let feats = tiling_features(p, q);
    if feats.is_empty() {
        return unsupported;
    }
    if !q.flags.contains(C::EXTENDED_USAGE) && !usage_supported(q.usage, feats) {
        return unsupported;
    }
    let f = &p.features;
    let sparse = q
        .flags
        .intersects(C::SPARSE_BINDING | C::SPARSE_RESIDENCY | C::SPARSE_ALIASED);
    if sparse && (!f.sparse_binding || q.tiling != vk::ImageTiling::OPTIMAL) {
        return unsupported;
    }
    if q.flags.contains(C::SPARSE_RESIDENCY) {
        let ok = match q.ty {
            vk::ImageType::TYPE_2D => f.sparse_residency_image2_d,
            vk::ImageType::TYPE_3D => f.sparse_residency_image3_d,
            _ => false,
        };
        if !ok {
            return unsupported;
        }
    }
    if q.flags.contains(C::SPARSE_ALIASED) && !f.sparse_residency_aliased {
        return unsupported;
    }
    let planes = formats::plane_count(q.format);
    if q.flags.contains(C::DISJOINT)
        && (planes == 1 || !feats.contains(vk::FormatFeatureFlags::DISJOINT))
    {
        return unsupported;
    }
    if q.flags.contains(C::CUBE_COMPATIBLE) && q.ty != vk::ImageType::TYPE_2D {
        return unsupported;
    }
    if (planes > 1 || formats::is_depth_stencil(q.format)) && q.ty != vk::ImageType::TYPE_2D {
        return unsupported;
    }
    let l = &p.limits;
    let max_extent = match q.ty {
        vk::ImageType::TYPE_1D => vk::Extent3D {
            width: l.max_image_dimension1_d,
            height: 1,
            depth: 1,
        },
        vk::ImageType::TYPE_2D => vk::Extent3D {
            width: l.max_image_dimension2_d,
            height: l.max_image_dimension2_d,
            depth: 1,
        },
        vk::ImageType::TYPE_3D => vk::Extent3D {
            width: l.max_image_dimension3_d,
            height: l.max_image_dimension3_d,
            depth: l.max_image_dimension3_d,
        },
        _ => return unsupported,
    };
    let largest = max_extent
        .width
        .max(max_extent.height)
        .max(max_extent.depth)
        .max(1);
    let full_mips = 32 - largest.leading_zeros();
    let single = planes > 1;
    let attachment = q.usage.intersects(
        vk::ImageUsageFlags::COLOR_ATTACHMENT | vk::ImageUsageFlags::DEPTH_STENCIL_ATTACHMENT,
    );
    let sample_counts = if q.tiling == vk::ImageTiling::OPTIMAL
        && q.ty == vk::ImageType::TYPE_2D
        && !single
        && !q.flags.contains(C::CUBE_COMPATIBLE)
        && attachment
    {
        let counts = if formats::is_depth_stencil(q.format) {
            l.framebuffer_depth_sample_counts
        } else {
            l.framebuffer_color_sample_counts
        };
        vk::SampleCountFlags::from_raw(counts | 1)
    } else {
        vk::SampleCountFlags::TYPE_1
    };
    let heap = p.memory_heaps.iter().map(|h| h.size).max().unwrap_or(0);
    Ok(vk::ImageFormatProperties {
        max_extent,
        max_mip_levels: if single { 1 } else { full_mips },
        max_array_layers: if single || q.ty == vk::ImageType::TYPE_3D {
            1
        } else {
            l.max_image_array_layers
        },
        sample_counts,
        max_resource_size: heap.max(1 << 31),
    })
}

fn memory_properties(e: &ExternalEntry) -> vk::ExternalMemoryProperties {
    vk::ExternalMemoryProperties {
        external_memory_features: vk::ExternalMemoryFeatureFlags::from_raw(e.features),
        export_from_imported_handle_types: vk::ExternalMemoryHandleTypeFlags::from_raw(
            e.export_from_imported_handle_types,
        ),
        compatible_handle_types: vk::ExternalMemoryHandleTypeFlags::from_raw(
            e.compatible_handle_types,
        ),
    }
}

/// The external-memory answer for an image and one handle type: `Ok(None)` for handle
/// type 0, `Err` when the query must fail.
pub fn image_external(
    p: &Profile,
    q: &ImageQuery,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
) -> Result<Option<vk::ExternalMemoryProperties>, vk::Result> {
    let ht = handle_type.as_raw();
    if ht == 0 {
        return Ok(None);
    }
    let entry = if ht.count_ones() == 1 {
        p.image_external(q.format, q.tiling, ht)
    } else {
        None
    };
    match (entry, p.quirks.unsupported_image_handle_type) {
        (Some(e), _) => Ok(Some(memory_properties(&e))),
        (None, UnsupportedImageHandleType::SuccessZero) => {
            Ok(Some(vk::ExternalMemoryProperties::default()))
        }
        (None, UnsupportedImageHandleType::FormatNotSupported) => {
            Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED)
        }
    }
}

/// `vkGetPhysicalDeviceImageFormatProperties`.
///
/// # Safety
/// `p_props` is null or valid for a write.
#[allow(clippy::too_many_arguments)] // the Vulkan signature
pub unsafe extern "system" fn get_physical_device_image_format_properties(
    physical: vk::PhysicalDevice,
    format: vk::Format,
    ty: vk::ImageType,
    tiling: vk::ImageTiling,
    usage: vk::ImageUsageFlags,
    flags: vk::ImageCreateFlags,
    p_props: *mut vk::ImageFormatProperties,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = profile_of(physical) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        let q = ImageQuery {
            format,
            ty,
            tiling,
            usage,
            flags,
            drm_modifier: None,
        };
        let (result, props) = match image_format_properties(&p, &q) {
            Ok(props) => (vk::Result::SUCCESS, props),
            Err(e) => (e, vk::ImageFormatProperties::default()),
        };
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_props, props) };
        result
    })
}

/// `vkGetPhysicalDeviceImageFormatProperties2`, with `VkExternalImageFormatProperties`
/// for `VkPhysicalDeviceExternalImageFormatInfo`.
///
/// # Safety
/// `p_info` is null or a valid structure chain; `p_props` is null or a valid, writable
/// structure chain.
pub unsafe extern "system" fn get_physical_device_image_format_properties2(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceImageFormatInfo2<'_>,
    p_props: *mut vk::ImageFormatProperties2<'_>,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = profile_of(physical) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_FORMAT_NOT_SUPPORTED;
        };
        if p_props.is_null() {
            return vk::Result::ERROR_FORMAT_NOT_SUPPORTED;
        }
        // SAFETY: the input chain is valid per the caller.
        let ext =
            unsafe { ffi::find::<vk::PhysicalDeviceExternalImageFormatInfo<'_>>(info.p_next) };
        // SAFETY: as above.
        let drm = unsafe {
            ffi::find::<vk::PhysicalDeviceImageDrmFormatModifierInfoEXT<'_>>(info.p_next)
        };
        let q = ImageQuery {
            format: info.format,
            ty: info.ty,
            tiling: info.tiling,
            usage: info.usage,
            flags: info.flags,
            drm_modifier: drm.map(|d| d.drm_format_modifier),
        };
        let answer = image_format_properties(&p, &q).and_then(|props| {
            let external = match ext {
                Some(e) => image_external(&p, &q, e.handle_type)?,
                None => None,
            };
            Ok((props, external))
        });
        let (result, props, external) = match answer {
            Ok((props, external)) => (vk::Result::SUCCESS, props, external),
            Err(e) => (e, vk::ImageFormatProperties::default(), None),
        };
        // SAFETY: non-null and writable per the caller.
        let out = unsafe { &mut *p_props };
        out.image_format_properties = props;
        let planes = formats::plane_count(q.format);
        let fill = |t: vk::StructureType, node: *mut std::ffi::c_void| match t {
            vk::StructureType::EXTERNAL_IMAGE_FORMAT_PROPERTIES => {
                // SAFETY: the sType identifies the node; the chain is writable.
                let s = unsafe { ffi::out::<vk::ExternalImageFormatProperties<'_>>(node) };
                s.external_memory_properties = external.unwrap_or_default();
            }
            vk::StructureType::SAMPLER_YCBCR_CONVERSION_IMAGE_FORMAT_PROPERTIES => {
                // SAFETY: as above.
                let s = unsafe {
                    ffi::out::<vk::SamplerYcbcrConversionImageFormatProperties<'_>>(node)
                };
                s.combined_image_sampler_descriptor_count = planes;
            }
            _ => {}
        };
        // SAFETY: the output chain is valid and writable per the caller.
        unsafe { ffi::for_each_out(out.p_next, fill) };
        result
    })
}

/// `vkGetPhysicalDeviceExternalBufferProperties`.
///
/// # Safety
/// `p_info` is null or valid; `p_props` is null or valid and writable.
pub unsafe extern "system" fn get_physical_device_external_buffer_properties(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceExternalBufferInfo<'_>,
    p_props: *mut vk::ExternalBufferProperties<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return;
        };
        if p_props.is_null() {
            return;
        }
        let props = p
            .buffer_external(info.handle_type.as_raw())
            .map(memory_properties)
            .unwrap_or_default();
        // SAFETY: non-null and writable per the caller.
        unsafe { (*p_props).external_memory_properties = props };
    })
}

/// `vkGetPhysicalDeviceExternalSemaphoreProperties`.
///
/// # Safety
/// `p_info` is null or a valid chain; `p_props` is null or valid and writable.
pub unsafe extern "system" fn get_physical_device_external_semaphore_properties(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceExternalSemaphoreInfo<'_>,
    p_props: *mut vk::ExternalSemaphoreProperties<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return;
        };
        if p_props.is_null() {
            return;
        }
        // SAFETY: the input chain is valid per the caller.
        let ty = unsafe { ffi::find::<vk::SemaphoreTypeCreateInfo<'_>>(info.p_next) };
        let timeline = ty.is_some_and(|t| t.semaphore_type == vk::SemaphoreType::TIMELINE);
        let e = p.semaphore_external(info.handle_type.as_raw(), timeline);
        // SAFETY: non-null and writable per the caller.
        let out = unsafe { &mut *p_props };
        out.external_semaphore_features =
            vk::ExternalSemaphoreFeatureFlags::from_raw(e.map_or(0, |e| e.features));
        out.export_from_imported_handle_types = vk::ExternalSemaphoreHandleTypeFlags::from_raw(
            e.map_or(0, |e| e.export_from_imported_handle_types),
        );
        out.compatible_handle_types = vk::ExternalSemaphoreHandleTypeFlags::from_raw(
            e.map_or(0, |e| e.compatible_handle_types),
        );
    })
}

/// `vkGetPhysicalDeviceExternalFenceProperties`.
///
/// # Safety
/// `p_info` is null or valid; `p_props` is null or valid and writable.
pub unsafe extern "system" fn get_physical_device_external_fence_properties(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceExternalFenceInfo<'_>,
    p_props: *mut vk::ExternalFenceProperties<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = profile_of(physical) else {
            return;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return;
        };
        if p_props.is_null() {
            return;
        }
        let e = p.fence_external(info.handle_type.as_raw());
        // SAFETY: non-null and writable per the caller.
        let out = unsafe { &mut *p_props };
        out.external_fence_features =
            vk::ExternalFenceFeatureFlags::from_raw(e.map_or(0, |e| e.features));
        out.export_from_imported_handle_types = vk::ExternalFenceHandleTypeFlags::from_raw(
            e.map_or(0, |e| e.export_from_imported_handle_types),
        );
        out.compatible_handle_types =
            vk::ExternalFenceHandleTypeFlags::from_raw(e.map_or(0, |e| e.compatible_handle_types));
    })
}

/// `vkGetPhysicalDeviceExternalImageFormatPropertiesNV`.
///
/// # Safety
/// `p_props` is null or valid for a write.
#[allow(clippy::too_many_arguments)] // the Vulkan signature
pub unsafe extern "system" fn get_physical_device_external_image_format_properties_nv(
    physical: vk::PhysicalDevice,
    format: vk::Format,
    ty: vk::ImageType,
    tiling: vk::ImageTiling,
    usage: vk::ImageUsageFlags,
    flags: vk::ImageCreateFlags,
    external_handle_type: vk::ExternalMemoryHandleTypeFlagsNV,
    p_props: *mut vk::ExternalImageFormatPropertiesNV,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = profile_of(physical) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        let q = ImageQuery {
            format,
            ty,
            tiling,
            usage,
            flags,
            drm_modifier: None,
        };
        let (result, image_format_properties) = match image_format_properties(&p, &q) {
            Ok(props) => (vk::Result::SUCCESS, props),
            Err(e) => (e, vk::ImageFormatProperties::default()),
        };
        let ht = external_handle_type.as_raw();
        let e = if ht == 0 || result != vk::Result::SUCCESS {
            None
        } else {
            p.nv_external_memory.iter().find(|e| e.handle_type == ht)
        };
        let props = vk::ExternalImageFormatPropertiesNV {
            image_format_properties,
            external_memory_features: vk::ExternalMemoryFeatureFlagsNV::from_raw(
                e.map_or(0, |e| e.features),
            ),
            export_from_imported_handle_types: vk::ExternalMemoryHandleTypeFlagsNV::from_raw(
                e.map_or(0, |e| e.export_from_imported_handle_types),
            ),
            compatible_handle_types: vk::ExternalMemoryHandleTypeFlagsNV::from_raw(
                e.map_or(0, |e| e.compatible_handle_types),
            ),
        };
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_props, props) };
        result
    })
}

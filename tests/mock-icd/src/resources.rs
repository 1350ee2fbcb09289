//! Buffers and images: creation with their external-memory create info, memory
//! requirements (with the profile's dedicated-allocation rules), binding, subresource
//! layouts, device addresses and DRM format modifiers.

use crate::ffi;
use crate::formats;
use crate::profile::Profile;
use crate::state::{self, Object};
use ash::vk;
use ash::vk::Handle;
use std::ffi::c_void;

/// Alignment of sparse resources.
const SPARSE_PAGE: u64 = 65536;
/// Row pitch alignment of image layouts.
const ROW_ALIGN: u64 = 64;

/// A `VkBuffer`.
#[derive(Debug, Clone)]
pub struct Buffer {
    pub size: u64,
    pub flags: vk::BufferCreateFlags,
    /// `VkExternalMemoryBufferCreateInfo::handleTypes`.
    pub external: u32,
    /// `(memory, offset)` once bound.
    pub bound: Option<(u64, u64)>,
}

/// A `VkImage`.
#[derive(Debug, Clone)]
pub struct Image {
    pub format: vk::Format,
    pub extent: vk::Extent3D,
    pub mip_levels: u32,
    pub array_layers: u32,
    pub samples: u32,
    pub tiling: vk::ImageTiling,
    pub flags: vk::ImageCreateFlags,
    /// `VkExternalMemoryImageCreateInfo::handleTypes`.
    pub external: u32,
    /// The DRM format modifier of a `DRM_FORMAT_MODIFIER_EXT` image.
    pub drm_modifier: Option<u64>,
    /// `(memory, offset)` once bound.
    pub bound: Option<(u64, u64)>,
}

fn round_up(v: u64, align: u64) -> u64 {
    let align = align.max(1);
    v.div_ceil(align).saturating_mul(align)
}

/// Where each mip level of an image lives (plane 0 layout for multi-planar formats).
struct Layout {
    /// Per mip: `(offset, row pitch, depth pitch, size of one layer)`.
    mips: Vec<(u64, u64, u64, u64)>,
    total: u64,
}

fn layout(img: &Image) -> Layout {
    let (bytes, bw, bh) = formats::block(img.format);
    let layers = u64::from(img.array_layers.max(1));
    let samples = u64::from(img.samples.max(1));
    let mut offset = 0u64;
    let mut mips = Vec::new();
    for level in 0..img.mip_levels.clamp(1, 32) {
        let w = (img.extent.width >> level).max(1);
        let h = (img.extent.height >> level).max(1);
        let d = u64::from((img.extent.depth >> level).max(1));
        let row = round_up(u64::from(w.div_ceil(bw)).saturating_mul(bytes), ROW_ALIGN);
        let slice = row.saturating_mul(u64::from(h.div_ceil(bh)));
        let layer = slice.saturating_mul(d).saturating_mul(samples);
        mips.push((offset, row, slice, layer));
        offset = offset.saturating_add(layer.saturating_mul(layers));
    }
    Layout {
        mips,
        total: offset,
    }
}

/// `(requirements, prefers dedicated, requires dedicated)` of a buffer.
fn buffer_requirements(p: &Profile, b: &Buffer) -> (vk::MemoryRequirements, bool, bool) {
    let rules = &p.memory_requirements;
    let sparse = b.flags.contains(vk::BufferCreateFlags::SPARSE_BINDING);
    let alignment = if sparse {
        rules.buffer_alignment.max(SPARSE_PAGE)
    } else {
        rules.buffer_alignment.max(1)
    };
    let (prefers, requires) = p.dedicated_allocation.buffer.answer(b.external);
    let reqs = vk::MemoryRequirements {
        size: round_up(b.size.max(1), alignment),
        alignment,
        memory_type_bits: rules.buffer_memory_type_bits & p.memory_type_mask(),
    };
    (reqs, prefers, requires)
}

/// `(requirements, prefers dedicated, requires dedicated)` of an image.
fn image_requirements(p: &Profile, img: &Image) -> (vk::MemoryRequirements, bool, bool) {
    let rules = &p.memory_requirements;
    let sparse = img.flags.contains(vk::ImageCreateFlags::SPARSE_BINDING);
    let alignment = if sparse {
        rules.image_alignment.max(SPARSE_PAGE)
    } else {
        rules.image_alignment.max(1)
    };
    let bits = if img.tiling == vk::ImageTiling::OPTIMAL {
        rules.image_optimal_memory_type_bits
    } else {
        rules.image_linear_memory_type_bits
    };
    let (prefers, requires) = p.dedicated_allocation.image.answer(img.external);
    let reqs = vk::MemoryRequirements {
        size: round_up(layout(img).total.max(1), alignment),
        alignment,
        memory_type_bits: bits & p.memory_type_mask(),
    };
    (reqs, prefers, requires)
}

/// Writes `VkMemoryRequirements2` and its `VkMemoryDedicatedRequirements`.
///
/// # Safety
/// `out` is null or a valid, writable structure chain.
unsafe fn write_requirements2(
    out: *mut vk::MemoryRequirements2<'_>,
    (reqs, prefers, requires): (vk::MemoryRequirements, bool, bool),
) {
    if out.is_null() {
        return;
    }
    // SAFETY: non-null and writable per the caller.
    let out = unsafe { &mut *out };
    out.memory_requirements = reqs;
    let fill = |t: vk::StructureType, node: *mut c_void| {
        if t == vk::StructureType::MEMORY_DEDICATED_REQUIREMENTS {
            // SAFETY: the sType identifies the node; the chain is writable.
            let s = unsafe { ffi::out::<vk::MemoryDedicatedRequirements<'_>>(node) };
            s.prefers_dedicated_allocation = vk::Bool32::from(prefers);
            s.requires_dedicated_allocation = vk::Bool32::from(requires);
        }
    };
    // SAFETY: the chain is valid and writable per the caller.
    unsafe { ffi::for_each_out(out.p_next, fill) };
}

/// A buffer described by a create info.
///
/// # Safety
/// `info`'s chain is valid.
unsafe fn buffer_from_info(info: &vk::BufferCreateInfo<'_>) -> Buffer {
    // SAFETY: forwarded from the caller.
    let ext = unsafe { ffi::find::<vk::ExternalMemoryBufferCreateInfo<'_>>(info.p_next) };
    Buffer {
        size: info.size,
        flags: info.flags,
        external: ext.map_or(0, |e| e.handle_types.as_raw()),
        bound: None,
    }
}

/// An image described by a create info.
///
/// # Safety
/// `info`'s chain is valid, and so are the arrays it points to.
unsafe fn image_from_info(info: &vk::ImageCreateInfo<'_>) -> Image {
    // SAFETY: forwarded from the caller (all lookups below).
    let ext = unsafe { ffi::find::<vk::ExternalMemoryImageCreateInfo<'_>>(info.p_next) };
    // The only modifier the mock offers is DRM_FORMAT_MOD_LINEAR (0); an explicit one is
    // recorded as given.
    let drm_modifier = if info.tiling == vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT {
        type Explicit<'a> = vk::ImageDrmFormatModifierExplicitCreateInfoEXT<'a>;
        // SAFETY: as above.
        let explicit = unsafe { ffi::find::<Explicit<'_>>(info.p_next) };
        Some(explicit.map_or(0, |e| e.drm_format_modifier))
    } else {
        None
    };
    Image {
        format: info.format,
        extent: info.extent,
        mip_levels: info.mip_levels,
        array_layers: info.array_layers,
        samples: info.samples.as_raw(),
        tiling: info.tiling,
        flags: info.flags,
        external: ext.map_or(0, |e| e.handle_types.as_raw()),
        drm_modifier,
        bound: None,
    }
}

/// `vkCreateBuffer`.
///
/// # Safety
/// `p_info` is null or a valid create info with a valid chain; `p_buffer` is null or
/// writable.
pub unsafe extern "system" fn create_buffer(
    device: vk::Device,
    p_info: *const vk::BufferCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_buffer: *mut vk::Buffer,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = state::with(|r| r.device_profile(device)) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        if p_buffer.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        if info.size > p.memory_requirements.max_buffer_size {
            return vk::Result::ERROR_OUT_OF_DEVICE_MEMORY;
        }
        // SAFETY: the chain is valid per the caller.
        let buffer = unsafe { buffer_from_info(info) };
        let id = state::with(|r| r.insert(device, Object::Buffer(buffer)));
        // SAFETY: checked non-null; writable per the caller.
        unsafe { ffi::write(p_buffer, vk::Buffer::from_raw(id)) };
        vk::Result::SUCCESS
    })
}

/// `vkDestroyBuffer`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_buffer(
    _device: vk::Device,
    buffer: vk::Buffer,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        state::with(|r| r.remove_if(buffer.as_raw(), |o| matches!(o, Object::Buffer(_))));
    })
}

/// `vkCreateImage`.
///
/// # Safety
/// `p_info` is null or a valid create info with a valid chain; `p_image` is null or
/// writable.
pub unsafe extern "system" fn create_image(
    device: vk::Device,
    p_info: *const vk::ImageCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_image: *mut vk::Image,
) -> vk::Result {
    ffi::guard(|| {
        if state::with(|r| r.device_profile(device)).is_none() {
            return vk::Result::ERROR_UNKNOWN;
        }
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        if p_image.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        // SAFETY: the chain is valid per the caller.
        let image = unsafe { image_from_info(info) };
        let id = state::with(|r| r.insert(device, Object::Image(image)));
        // SAFETY: checked non-null; writable per the caller.
        unsafe { ffi::write(p_image, vk::Image::from_raw(id)) };
        vk::Result::SUCCESS
    })
}

/// `vkDestroyImage`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_image(
    _device: vk::Device,
    image: vk::Image,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        state::with(|r| r.remove_if(image.as_raw(), |o| matches!(o, Object::Image(_))));
    })
}

/// The requirements of a live buffer.
fn live_buffer_requirements(
    device: vk::Device,
    buffer: vk::Buffer,
) -> Option<(vk::MemoryRequirements, bool, bool)> {
    state::with(|r| {
        let p = r.device_profile(device)?;
        let b = r.buffer_mut(buffer)?.clone();
        Some(buffer_requirements(&p, &b))
    })
}

/// The requirements of a live image.
fn live_image_requirements(
    device: vk::Device,
    image: vk::Image,
) -> Option<(vk::MemoryRequirements, bool, bool)> {
    state::with(|r| {
        let p = r.device_profile(device)?;
        let i = r.image_mut(image)?.clone();
        Some(image_requirements(&p, &i))
    })
}

/// `vkGetBufferMemoryRequirements`.
///
/// # Safety
/// `p_reqs` is null or writable.
pub unsafe extern "system" fn get_buffer_memory_requirements(
    device: vk::Device,
    buffer: vk::Buffer,
    p_reqs: *mut vk::MemoryRequirements,
) {
    ffi::guard_void(|| {
        let reqs = live_buffer_requirements(device, buffer)
            .map(|r| r.0)
            .unwrap_or_default();
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_reqs, reqs) };
    })
}

/// `vkGetBufferMemoryRequirements2`, with `VkMemoryDedicatedRequirements`.
///
/// # Safety
/// `p_info` is null or valid; `p_reqs` is null or a valid, writable chain.
pub unsafe extern "system" fn get_buffer_memory_requirements2(
    device: vk::Device,
    p_info: *const vk::BufferMemoryRequirementsInfo2<'_>,
    p_reqs: *mut vk::MemoryRequirements2<'_>,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return;
        };
        let answer = live_buffer_requirements(device, info.buffer).unwrap_or_default();
        // SAFETY: forwarded from the caller.
        unsafe { write_requirements2(p_reqs, answer) };
    })
}

/// `vkGetImageMemoryRequirements`.
///
/// # Safety
/// `p_reqs` is null or writable.
pub unsafe extern "system" fn get_image_memory_requirements(
    device: vk::Device,
    image: vk::Image,
    p_reqs: *mut vk::MemoryRequirements,
) {
    ffi::guard_void(|| {
        let reqs = live_image_requirements(device, image)
            .map(|r| r.0)
            .unwrap_or_default();
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_reqs, reqs) };
    })
}

/// `vkGetImageMemoryRequirements2`, with `VkMemoryDedicatedRequirements`.
///
/// # Safety
/// `p_info` is null or valid; `p_reqs` is null or a valid, writable chain.
pub unsafe extern "system" fn get_image_memory_requirements2(
    device: vk::Device,
    p_info: *const vk::ImageMemoryRequirementsInfo2<'_>,
    p_reqs: *mut vk::MemoryRequirements2<'_>,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return;
        };
        let answer = live_image_requirements(device, info.image).unwrap_or_default();
        // SAFETY: forwarded from the caller.
        unsafe { write_requirements2(p_reqs, answer) };
    })
}

/// `vkGetDeviceBufferMemoryRequirements` (maintenance4): requirements from a create info.
///
/// # Safety
/// `p_info` is null or valid with a valid create info; `p_reqs` is null or a valid,
/// writable chain.
pub unsafe extern "system" fn get_device_buffer_memory_requirements(
    device: vk::Device,
    p_info: *const vk::DeviceBufferMemoryRequirements<'_>,
    p_reqs: *mut vk::MemoryRequirements2<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = state::with(|r| r.device_profile(device)) else {
            return;
        };
        // SAFETY: valid or null per the caller (both levels).
        let Some(create) =
            (unsafe { ffi::opt(p_info) }).and_then(|i| unsafe { ffi::opt(i.p_create_info) })
        else {
            return;
        };
        // SAFETY: the create info's chain is valid per the caller.
        let buffer = unsafe { buffer_from_info(create) };
        // SAFETY: forwarded from the caller.
        unsafe { write_requirements2(p_reqs, buffer_requirements(&p, &buffer)) };
    })
}

/// `vkGetDeviceImageMemoryRequirements` (maintenance4): requirements from a create info.
///
/// # Safety
/// `p_info` is null or valid with a valid create info; `p_reqs` is null or a valid,
/// writable chain.
pub unsafe extern "system" fn get_device_image_memory_requirements(
    device: vk::Device,
    p_info: *const vk::DeviceImageMemoryRequirements<'_>,
    p_reqs: *mut vk::MemoryRequirements2<'_>,
) {
    ffi::guard_void(|| {
        let Some(p) = state::with(|r| r.device_profile(device)) else {
            return;
        };
        // SAFETY: valid or null per the caller (both levels).
        let Some(create) =
            (unsafe { ffi::opt(p_info) }).and_then(|i| unsafe { ffi::opt(i.p_create_info) })
        else {
            return;
        };
        // SAFETY: the create info's chain is valid per the caller.
        let image = unsafe { image_from_info(create) };
        // SAFETY: forwarded from the caller.
        unsafe { write_requirements2(p_reqs, image_requirements(&p, &image)) };
    })
}

/// `vkGetImageSparseMemoryRequirements`: none.
///
/// # Safety
/// `p_count` is null or writable.
pub unsafe extern "system" fn get_image_sparse_memory_requirements(
    _device: vk::Device,
    _image: vk::Image,
    p_count: *mut u32,
    _p_reqs: *mut vk::SparseImageMemoryRequirements,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_count, 0) };
    })
}

/// `vkGetImageSparseMemoryRequirements2` and `vkGetDeviceImageSparseMemoryRequirements`
/// (same shape): none.
///
/// # Safety
/// `p_count` is null or writable.
pub unsafe extern "system" fn get_image_sparse_memory_requirements2(
    _device: vk::Device,
    _p_info: *const c_void,
    p_count: *mut u32,
    _p_reqs: *mut vk::SparseImageMemoryRequirements2<'_>,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_count, 0) };
    })
}

/// Records a buffer binding.
fn bind_buffer(buffer: vk::Buffer, memory: vk::DeviceMemory, offset: u64) -> vk::Result {
    state::with(|r| {
        if r.memory_mut(memory).is_none() {
            return vk::Result::ERROR_UNKNOWN;
        }
        match r.buffer_mut(buffer) {
            Some(b) => {
                b.bound = Some((memory.as_raw(), offset));
                vk::Result::SUCCESS
            }
            None => vk::Result::ERROR_UNKNOWN,
        }
    })
}

/// Records an image binding.
fn bind_image(image: vk::Image, memory: vk::DeviceMemory, offset: u64) -> vk::Result {
    state::with(|r| {
        if r.memory_mut(memory).is_none() {
            return vk::Result::ERROR_UNKNOWN;
        }
        match r.image_mut(image) {
            Some(i) => {
                i.bound = Some((memory.as_raw(), offset));
                vk::Result::SUCCESS
            }
            None => vk::Result::ERROR_UNKNOWN,
        }
    })
}

/// `vkBindBufferMemory`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn bind_buffer_memory(
    _device: vk::Device,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    offset: vk::DeviceSize,
) -> vk::Result {
    ffi::guard(|| bind_buffer(buffer, memory, offset))
}

/// `vkBindBufferMemory2`.
///
/// # Safety
/// `p_infos` is null or points to `count` valid structures.
pub unsafe extern "system" fn bind_buffer_memory2(
    _device: vk::Device,
    count: u32,
    p_infos: *const vk::BindBufferMemoryInfo<'_>,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: forwarded from the caller.
        let infos = unsafe { ffi::slice(p_infos, count) };
        infos
            .iter()
            .map(|i| bind_buffer(i.buffer, i.memory, i.memory_offset))
            .find(|r| *r != vk::Result::SUCCESS)
            .unwrap_or(vk::Result::SUCCESS)
    })
}

/// `vkBindImageMemory`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn bind_image_memory(
    _device: vk::Device,
    image: vk::Image,
    memory: vk::DeviceMemory,
    offset: vk::DeviceSize,
) -> vk::Result {
    ffi::guard(|| bind_image(image, memory, offset))
}

/// `vkBindImageMemory2`.
///
/// # Safety
/// `p_infos` is null or points to `count` valid structures.
pub unsafe extern "system" fn bind_image_memory2(
    _device: vk::Device,
    count: u32,
    p_infos: *const vk::BindImageMemoryInfo<'_>,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: forwarded from the caller.
        let infos = unsafe { ffi::slice(p_infos, count) };
        infos
            .iter()
            .map(|i| bind_image(i.image, i.memory, i.memory_offset))
            .find(|r| *r != vk::Result::SUCCESS)
            .unwrap_or(vk::Result::SUCCESS)
    })
}

/// `vkGetImageSubresourceLayout`.
///
/// # Safety
/// `p_sub` is null or valid; `p_layout` is null or writable.
pub unsafe extern "system" fn get_image_subresource_layout(
    _device: vk::Device,
    image: vk::Image,
    p_sub: *const vk::ImageSubresource,
    p_layout: *mut vk::SubresourceLayout,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        let Some(sub) = (unsafe { ffi::opt(p_sub) }) else {
            return;
        };
        let Some(img) = state::with(|r| r.image_mut(image).map(|i| i.clone())) else {
            return;
        };
        let l = layout(&img);
        let result = match l.mips.get(sub.mip_level as usize) {
            Some(&(offset, row, slice, layer)) if sub.array_layer < img.array_layers.max(1) => {
                vk::SubresourceLayout {
                    offset: offset.saturating_add(layer.saturating_mul(u64::from(sub.array_layer))),
                    size: layer,
                    row_pitch: row,
                    array_pitch: layer,
                    depth_pitch: slice,
                }
            }
            _ => vk::SubresourceLayout::default(),
        };
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_layout, result) };
    })
}

/// `vkGetImageDrmFormatModifierPropertiesEXT`.
///
/// # Safety
/// `p_props` is null or writable.
pub unsafe extern "system" fn get_image_drm_format_modifier_properties(
    _device: vk::Device,
    image: vk::Image,
    p_props: *mut vk::ImageDrmFormatModifierPropertiesEXT<'_>,
) -> vk::Result {
    ffi::guard(|| {
        let Some(modifier) = state::with(|r| r.image_mut(image).and_then(|i| i.drm_modifier))
        else {
            return vk::Result::ERROR_UNKNOWN;
        };
        if p_props.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        // SAFETY: checked non-null; writable per the caller.
        unsafe { (*p_props).drm_format_modifier = modifier };
        vk::Result::SUCCESS
    })
}

/// `vkGetBufferDeviceAddress`: a made-up, stable, non-zero address per buffer.
///
/// # Safety
/// `p_info` is null or valid.
pub unsafe extern "system" fn get_buffer_device_address(
    _device: vk::Device,
    p_info: *const vk::BufferDeviceAddressInfo<'_>,
) -> vk::DeviceAddress {
    ffi::guard_or(0, || {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return 0;
        };
        let id = info.buffer.as_raw();
        if state::with(|r| r.buffer_mut(info.buffer).is_none()) {
            return 0;
        }
        0x0000_1000_0000_0000 | ((id & 0x0fff_ffff) << 16)
    })
}

/// `vkGetBufferOpaqueCaptureAddress`: no replay support, 0.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn get_buffer_opaque_capture_address(
    _device: vk::Device,
    _p_info: *const vk::BufferDeviceAddressInfo<'_>,
) -> u64 {
    0
}

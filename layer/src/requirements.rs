//! Memory requirements of buffers and images, asked by the layer itself.
//!
//! The dedicated-allocation rules need the size the driver wants (02964/02965) and whether
//! it requires a dedicated allocation (01444/01445). The app may never have asked, so the
//! layer asks with `vkGet*MemoryRequirements2` and `VkMemoryDedicatedRequirements` where the
//! device has them (Vulkan 1.1, or `VK_KHR_get_memory_requirements2` +
//! `VK_KHR_dedicated_allocation`), else with the 1.0 query (no dedicated answer).
//! The queries have no side effects. Buffers are asked through [`buffer_cached`]: the spec
//! makes the answer identical for buffers created with identical parameters, and an app binds
//! thousands of buffers of a few shapes, so a bind costs a lookup rather than a driver call.

use crate::dispatch::DeviceData;
use crate::state::resources::BufferRecord;
use crate::state::{fast_map, FastMap};
use ash::vk;
use std::ffi::CStr;

/// Buffer shapes whose requirements are kept per device, at most.
const MAX_CACHED: usize = 256;

/// The create parameters a buffer's requirements depend on, for buffers created with no
/// extending structure but `VkExternalMemoryBufferCreateInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct BufferShape {
    size: u64,
    flags: vk::BufferCreateFlags,
    usage: vk::BufferUsageFlags,
    sharing_mode: vk::SharingMode,
    external_types: vk::ExternalMemoryHandleTypeFlags,
}

/// One device's answers by buffer shape (bounded by [`MAX_CACHED`]).
pub struct Cache {
    buffers: FastMap<BufferShape, Requirements>,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            buffers: fast_map(),
        }
    }
}

/// What the driver answered for one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirements {
    pub size: u64,
    pub alignment: u64,
    pub memory_type_bits: u32,
    /// `VkMemoryDedicatedRequirements`, `None` when the device cannot answer it.
    pub dedicated: Option<DedicatedAnswer>,
}

/// `VkMemoryDedicatedRequirements`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DedicatedAnswer {
    pub prefers: bool,
    pub requires: bool,
}

/// The `*2` queries of one device, resolved once at `vkCreateDevice`.
#[derive(Clone, Copy, Default)]
pub struct RequirementFns {
    buffer2: Option<vk::PFN_vkGetBufferMemoryRequirements2>,
    image2: Option<vk::PFN_vkGetImageMemoryRequirements2>,
}

impl RequirementFns {
    /// Resolves the core names at Vulkan 1.1, the KHR names when both extensions are
    /// enabled, and nothing otherwise.
    ///
    /// # Safety
    /// `gdpa` resolves device commands of the live `device`.
    pub unsafe fn load(
        gdpa: vk::PFN_vkGetDeviceProcAddr,
        device: vk::Device,
        api_version: u32,
        has_extension: impl Fn(&CStr) -> bool,
    ) -> RequirementFns {
        let (buffer_name, image_name) = if api_version >= vk::API_VERSION_1_1 {
            (
                c"vkGetBufferMemoryRequirements2",
                c"vkGetImageMemoryRequirements2",
            )
        } else if has_extension(vk::KHR_GET_MEMORY_REQUIREMENTS2_NAME)
            && has_extension(vk::KHR_DEDICATED_ALLOCATION_NAME)
        {
            (
                c"vkGetBufferMemoryRequirements2KHR",
                c"vkGetImageMemoryRequirements2KHR",
            )
        } else {
            return RequirementFns::default();
        };
        // SAFETY: the caller guarantees `gdpa` and `device`.
        let buffer = unsafe { gdpa(device, buffer_name.as_ptr()) };
        // SAFETY: as above.
        let image = unsafe { gdpa(device, image_name.as_ptr()) };
        RequirementFns {
            // SAFETY: the loader returned this name's command, of this signature.
            buffer2: buffer.map(|f| unsafe {
                std::mem::transmute::<
                    unsafe extern "system" fn(),
                    vk::PFN_vkGetBufferMemoryRequirements2,
                >(f)
            }),
            // SAFETY: as above.
            image2: image.map(|f| unsafe {
                std::mem::transmute::<
                    unsafe extern "system" fn(),
                    vk::PFN_vkGetImageMemoryRequirements2,
                >(f)
            }),
        }
    }
}

/// Runs a `*2` query with `VkMemoryDedicatedRequirements` chained and reads both answers.
fn with_dedicated(query: impl FnOnce(&mut vk::MemoryRequirements2<'_>)) -> Requirements {
    let mut dedicated = vk::MemoryDedicatedRequirements::default();
    let mut out = vk::MemoryRequirements2::default().push_next(&mut dedicated);
    query(&mut out);
    let r = out.memory_requirements;
    Requirements {
        dedicated: Some(DedicatedAnswer {
            prefers: dedicated.prefers_dedicated_allocation == vk::TRUE,
            requires: dedicated.requires_dedicated_allocation == vk::TRUE,
        }),
        ..plain(r)
    }
}

/// A 1.0 answer: no dedicated facts.
fn plain(r: vk::MemoryRequirements) -> Requirements {
    Requirements {
        size: r.size,
        alignment: r.alignment,
        memory_type_bits: r.memory_type_bits,
        dedicated: None,
    }
}

/// The requirements of a live buffer of `data`'s device.
///
/// # Safety
/// `buffer` is a live buffer of the device (the layer has a record of it).
pub unsafe fn buffer(data: &DeviceData, buffer: vk::Buffer) -> Requirements {
    if let Some(fp) = data.requirements.buffer2 {
        let info = vk::BufferMemoryRequirementsInfo2::default().buffer(buffer);
        // SAFETY: a live buffer; the output chain is made of locals alive for the call.
        return with_dedicated(|out| unsafe { fp(data.handle, &info, out) });
    }
    let mut r = vk::MemoryRequirements::default();
    // SAFETY: a live buffer and a writable local.
    unsafe { (data.fns.fp_v1_0().get_buffer_memory_requirements)(data.handle, buffer, &mut r) };
    plain(r)
}

/// The requirements of a live buffer described by `rec`, from the device's cache when a
/// buffer of the same shape was asked before.
///
/// # Safety
/// `buffer` is a live buffer of the device and `rec` its record.
pub unsafe fn buffer_cached(
    data: &DeviceData,
    buffer: vk::Buffer,
    rec: &BufferRecord,
) -> Requirements {
    if !rec.plain_chain {
        // SAFETY: the caller's guarantee.
        return unsafe { self::buffer(data, buffer) };
    }
    let shape = BufferShape {
        size: rec.size,
        flags: rec.flags,
        usage: rec.usage,
        sharing_mode: rec.sharing_mode,
        external_types: rec.external_types,
    };
    if let Some(r) = data.requirement_cache.buffers.get(&shape) {
        return *r;
    }
    // SAFETY: the caller's guarantee.
    let r = unsafe { self::buffer(data, buffer) };
    if data.requirement_cache.buffers.len() < MAX_CACHED {
        data.requirement_cache.buffers.insert(shape, r);
    }
    r
}

/// The requirements of a live, non-disjoint image of `data`'s device. A disjoint image has
/// one answer per plane and a plane-less query is invalid, so the caller must not ask.
///
/// # Safety
/// `image` is a live image of the device created without `VK_IMAGE_CREATE_DISJOINT_BIT`.
pub unsafe fn image(data: &DeviceData, image: vk::Image) -> Requirements {
    if let Some(fp) = data.requirements.image2 {
        let info = vk::ImageMemoryRequirementsInfo2::default().image(image);
        // SAFETY: a live image; the output chain is made of locals alive for the call.
        return with_dedicated(|out| unsafe { fp(data.handle, &info, out) });
    }
    let mut r = vk::MemoryRequirements::default();
    // SAFETY: a live image and a writable local.
    unsafe { (data.fns.fp_v1_0().get_image_memory_requirements)(data.handle, image, &mut r) };
    plain(r)
}

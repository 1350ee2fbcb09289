//! What the driver says it can do with external memory, asked by the layer itself.
//!
//! One query per handle-type bit, with the resource's exact parameters; answers are cached
//! per full query key (physical device, every parameter, handle type). The answers are
//! turned into the rules' [`Answer`] / [`NvAnswer`]: `VK_ERROR_FORMAT_NOT_SUPPORTED` is
//! "unsupported", and so (in the check) is `VK_SUCCESS` with no features, which is how
//! lavapipe answers for images (RULES-TARGET §3.1).

use crate::state::{fast_map, FastMap};
use ash::vk::{self, Handle};
use handoff_rules::checks::resource_create::{bits, Answer, NvAnswer};
use std::ffi::CStr;
use std::sync::LazyLock;

/// The query entry points of the next layer, resolved once per device.
#[derive(Clone, Copy, Default)]
pub struct CapabilityFns {
    external_buffer: Option<vk::PFN_vkGetPhysicalDeviceExternalBufferProperties>,
    image_format2: Option<vk::PFN_vkGetPhysicalDeviceImageFormatProperties2>,
    external_image_nv: Option<vk::PFN_vkGetPhysicalDeviceExternalImageFormatPropertiesNV>,
}

impl CapabilityFns {
    /// Core 1.1 names when the app asked for Vulkan 1.1 or later, otherwise the KHR names of
    /// the enabled instance extensions; the NV query when
    /// `VK_NV_external_memory_capabilities` is enabled. Missing ones stay `None` and their
    /// rules are not checked.
    ///
    /// Called during `vkCreateInstance`, the only time `next_gipa` is sure to resolve down
    /// the chain: asked later, the loader may hand back its own trampoline, which leads
    /// into this layer's interception of the same query (`queries.rs`).
    ///
    /// # Safety
    /// `next_gipa` resolves commands of the live `instance`.
    pub unsafe fn load(
        next_gipa: vk::PFN_vkGetInstanceProcAddr,
        instance: vk::Instance,
        api_version: u32,
        has_extension: impl Fn(&CStr) -> bool,
    ) -> CapabilityFns {
        let core11 = api_version >= vk::API_VERSION_1_1;
        let resolve = |name: &CStr| {
            // SAFETY: the caller guarantees `next_gipa` and `instance`.
            unsafe { next_gipa(instance, name.as_ptr()) }
        };
        let buffer_name = if core11 {
            Some(c"vkGetPhysicalDeviceExternalBufferProperties")
        } else if has_extension(vk::KHR_EXTERNAL_MEMORY_CAPABILITIES_NAME) {
            Some(c"vkGetPhysicalDeviceExternalBufferPropertiesKHR")
        } else {
            None
        };
        let image_name = if core11 {
            Some(c"vkGetPhysicalDeviceImageFormatProperties2")
        } else if has_extension(vk::KHR_GET_PHYSICAL_DEVICE_PROPERTIES2_NAME)
            && has_extension(vk::KHR_EXTERNAL_MEMORY_CAPABILITIES_NAME)
        {
            Some(c"vkGetPhysicalDeviceImageFormatProperties2KHR")
        } else {
            None
        };
        let nv_name = has_extension(vk::NV_EXTERNAL_MEMORY_CAPABILITIES_NAME)
            .then_some(c"vkGetPhysicalDeviceExternalImageFormatPropertiesNV");
        CapabilityFns {
            external_buffer: buffer_name.and_then(resolve).map(|f| {
                // SAFETY: the loader returned this name's command, of this signature.
                unsafe {
                    std::mem::transmute::<
                        unsafe extern "system" fn(),
                        vk::PFN_vkGetPhysicalDeviceExternalBufferProperties,
                    >(f)
                }
            }),
            image_format2: image_name.and_then(resolve).map(|f| {
                // SAFETY: as above.
                unsafe {
                    std::mem::transmute::<
                        unsafe extern "system" fn(),
                        vk::PFN_vkGetPhysicalDeviceImageFormatProperties2,
                    >(f)
                }
            }),
            external_image_nv: nv_name.and_then(resolve).map(|f| {
                // SAFETY: as above.
                unsafe {
                    std::mem::transmute::<
                        unsafe extern "system" fn(),
                        vk::PFN_vkGetPhysicalDeviceExternalImageFormatPropertiesNV,
                    >(f)
                }
            }),
        }
    }

    /// The next `vkGetPhysicalDeviceExternalImageFormatPropertiesNV`, when enabled.
    pub fn external_image_nv(
        &self,
    ) -> Option<vk::PFN_vkGetPhysicalDeviceExternalImageFormatPropertiesNV> {
        self.external_image_nv
    }
}

/// The image parameters every image query repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageParams {
    pub format: vk::Format,
    pub image_type: vk::ImageType,
    pub tiling: vk::ImageTiling,
    pub usage: vk::ImageUsageFlags,
    pub flags: vk::ImageCreateFlags,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum QueryKey {
    Buffer {
        physical: u64,
        flags: vk::BufferCreateFlags,
        usage: vk::BufferUsageFlags,
        handle_type: vk::ExternalMemoryHandleTypeFlags,
    },
    Image {
        physical: u64,
        params: ImageParams,
        view_formats: Box<[vk::Format]>,
        handle_type: vk::ExternalMemoryHandleTypeFlags,
    },
    Nv {
        physical: u64,
        params: ImageParams,
        handle_type: vk::ExternalMemoryHandleTypeFlagsNV,
    },
}

impl QueryKey {
    fn physical(&self) -> u64 {
        match self {
            QueryKey::Buffer { physical, .. }
            | QueryKey::Image { physical, .. }
            | QueryKey::Nv { physical, .. } => *physical,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Cached {
    Khr(Answer),
    Nv(NvAnswer),
}

static CACHE: LazyLock<FastMap<QueryKey, Cached>> = LazyLock::new(fast_map);
/// For fork.rs, which holds it across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 1] {
    [&*CACHE]
}

fn cached(key: &QueryKey) -> Option<Cached> {
    CACHE.get(key).map(|c| *c)
}

fn remember(key: QueryKey, answer: Cached) {
    CACHE.insert(key, answer);
}

/// Drops the cached answers of `physical` (its last device is gone; the answers are
/// cheap to ask again, and the cache must not outlive the driver that gave them).
pub fn forget(physical: vk::PhysicalDevice) {
    let p = physical.as_raw();
    {
        CACHE.retain(|k, _| k.physical() != p);
        CACHE.shrink_to_fit();
    };
}

fn khr_answer(result: vk::Result, props: vk::ExternalMemoryProperties) -> Answer {
    match result {
        vk::Result::SUCCESS => Answer::Props {
            features: props.external_memory_features,
            compatible: props.compatible_handle_types,
            export_from_imported: props.export_from_imported_handle_types,
        },
        vk::Result::ERROR_FORMAT_NOT_SUPPORTED => Answer::Unsupported(result),
        _ => Answer::Unknown,
    }
}

/// `vkGetPhysicalDeviceExternalBufferProperties`, once per bit of `types`.
pub fn buffer_answers(
    fns: &CapabilityFns,
    physical: vk::PhysicalDevice,
    flags: vk::BufferCreateFlags,
    usage: vk::BufferUsageFlags,
    types: vk::ExternalMemoryHandleTypeFlags,
) -> Vec<(vk::ExternalMemoryHandleTypeFlags, Answer)> {
    bits(types.as_raw())
        .map(vk::ExternalMemoryHandleTypeFlags::from_raw)
        .map(|bit| {
            let key = QueryKey::Buffer {
                physical: physical.as_raw(),
                flags,
                usage,
                handle_type: bit,
            };
            if let Some(Cached::Khr(a)) = cached(&key) {
                return (bit, a);
            }
            let Some(fp) = fns.external_buffer else {
                return (bit, Answer::Unknown);
            };
            let info = vk::PhysicalDeviceExternalBufferInfo::default()
                .flags(flags)
                .usage(usage)
                .handle_type(bit);
            let mut props = vk::ExternalBufferProperties::default();
            // SAFETY: a live physical device, a valid info and a writable output struct.
            unsafe { fp(physical, &info, &mut props) };
            let answer = khr_answer(vk::Result::SUCCESS, props.external_memory_properties);
            remember(key, Cached::Khr(answer));
            (bit, answer)
        })
        .collect()
}

/// `vkGetPhysicalDeviceImageFormatProperties2` with `VkPhysicalDeviceExternalImageFormatInfo`
/// (and the image's `VkImageFormatListCreateInfo`, when it had one), once per bit of `types`.
pub fn image_answers(
    fns: &CapabilityFns,
    physical: vk::PhysicalDevice,
    params: ImageParams,
    view_formats: Option<&[vk::Format]>,
    types: vk::ExternalMemoryHandleTypeFlags,
) -> Vec<(vk::ExternalMemoryHandleTypeFlags, Answer)> {
    bits(types.as_raw())
        .map(vk::ExternalMemoryHandleTypeFlags::from_raw)
        .map(|bit| {
            // A DRM-modifier image needs the modifier in the query; that belongs to
            // VK_EXT_image_drm_format_modifier rules, outside this catalogue.
            if params.tiling == vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT {
                return (bit, Answer::Unknown);
            }
            let key = QueryKey::Image {
                physical: physical.as_raw(),
                params,
                view_formats: view_formats.unwrap_or_default().into(),
                handle_type: bit,
            };
            if let Some(Cached::Khr(a)) = cached(&key) {
                return (bit, a);
            }
            let Some(fp) = fns.image_format2 else {
                return (bit, Answer::Unknown);
            };
            let mut external =
                vk::PhysicalDeviceExternalImageFormatInfo::default().handle_type(bit);
            let mut list = vk::ImageFormatListCreateInfo::default()
                .view_formats(view_formats.unwrap_or_default());
            let mut info = vk::PhysicalDeviceImageFormatInfo2::default()
                .format(params.format)
                .ty(params.image_type)
                .tiling(params.tiling)
                .usage(params.usage)
                .flags(params.flags)
                .push_next(&mut external);
            if view_formats.is_some() {
                info = info.push_next(&mut list);
            }
            let mut external_props = vk::ExternalImageFormatProperties::default();
            let mut props = vk::ImageFormatProperties2::default().push_next(&mut external_props);
            // SAFETY: a live physical device; both chains point at locals alive for the call.
            let result = unsafe { fp(physical, &info, &mut props) };
            let answer = khr_answer(result, external_props.external_memory_properties);
            if answer != Answer::Unknown {
                remember(key, Cached::Khr(answer));
            }
            (bit, answer)
        })
        .collect()
}

/// `vkGetPhysicalDeviceExternalImageFormatPropertiesNV`, once per bit of `types`.
pub fn image_answers_nv(
    fns: &CapabilityFns,
    physical: vk::PhysicalDevice,
    params: ImageParams,
    types: vk::ExternalMemoryHandleTypeFlagsNV,
) -> Vec<(vk::ExternalMemoryHandleTypeFlagsNV, NvAnswer)> {
    bits(types.as_raw())
        .map(vk::ExternalMemoryHandleTypeFlagsNV::from_raw)
        .map(|bit| {
            let key = QueryKey::Nv {
                physical: physical.as_raw(),
                params,
                handle_type: bit,
            };
            if let Some(Cached::Nv(a)) = cached(&key) {
                return (bit, a);
            }
            let Some(fp) = fns.external_image_nv else {
                return (bit, NvAnswer::Unknown);
            };
            let mut props = vk::ExternalImageFormatPropertiesNV::default();
            // SAFETY: a live physical device and a writable output struct.
            let result = unsafe {
                fp(
                    physical,
                    params.format,
                    params.image_type,
                    params.tiling,
                    params.usage,
                    params.flags,
                    bit,
                    &mut props,
                )
            };
            let answer = match result {
                vk::Result::SUCCESS => NvAnswer::Props {
                    features: props.external_memory_features,
                    compatible: props.compatible_handle_types,
                },
                vk::Result::ERROR_FORMAT_NOT_SUPPORTED => NvAnswer::Unsupported(result),
                _ => NvAnswer::Unknown,
            };
            if answer != NvAnswer::Unknown {
                remember(key, Cached::Nv(answer));
            }
            (bit, answer)
        })
        .collect()
}

/// Stores the app's own `vkGetPhysicalDeviceExternalBufferProperties` answer (see
/// `queries.rs`), so the layer does not ask the same question again.
pub fn remember_buffer(
    physical: vk::PhysicalDevice,
    flags: vk::BufferCreateFlags,
    usage: vk::BufferUsageFlags,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    props: vk::ExternalMemoryProperties,
) {
    let key = QueryKey::Buffer {
        physical: physical.as_raw(),
        flags,
        usage,
        handle_type,
    };
    remember(key, Cached::Khr(khr_answer(vk::Result::SUCCESS, props)));
}

/// Stores the app's own `vkGetPhysicalDeviceImageFormatProperties2` answer for one
/// external handle type (success or `VK_ERROR_FORMAT_NOT_SUPPORTED`; others are ignored).
pub fn remember_image(
    physical: vk::PhysicalDevice,
    params: ImageParams,
    view_formats: &[vk::Format],
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    result: vk::Result,
    props: vk::ExternalMemoryProperties,
) {
    let answer = khr_answer(result, props);
    if params.tiling == vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT || answer == Answer::Unknown {
        return;
    }
    let key = QueryKey::Image {
        physical: physical.as_raw(),
        params,
        view_formats: view_formats.into(),
        handle_type,
    };
    remember(key, Cached::Khr(answer));
}

/// Stores the app's own `vkGetPhysicalDeviceExternalImageFormatPropertiesNV` answer for one
/// NV handle type (success or `VK_ERROR_FORMAT_NOT_SUPPORTED`; others are ignored).
pub fn remember_nv(
    physical: vk::PhysicalDevice,
    params: ImageParams,
    handle_type: vk::ExternalMemoryHandleTypeFlagsNV,
    result: vk::Result,
    props: &vk::ExternalImageFormatPropertiesNV,
) {
    let answer = match result {
        vk::Result::SUCCESS => NvAnswer::Props {
            features: props.external_memory_features,
            compatible: props.compatible_handle_types,
        },
        vk::Result::ERROR_FORMAT_NOT_SUPPORTED => NvAnswer::Unsupported(result),
        _ => return,
    };
    let key = QueryKey::Nv {
        physical: physical.as_raw(),
        params,
        handle_type,
    };
    remember(key, Cached::Nv(answer));
}

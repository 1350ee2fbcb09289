//! The app's own capability queries: `vkGetPhysicalDeviceExternalBufferProperties`,
//! `vkGetPhysicalDeviceImageFormatProperties2` with `VkPhysicalDeviceExternalImageFormatInfo`,
//! `vkGetPhysicalDeviceExternalImageFormatPropertiesNV` (RULES-TARGET §1.14 and the
//! memory-related implicit VUIDs of §1.17).
//!
//! Only the call's own arguments are read; none of these findings blocks the call.

use crate::catalogue::{
    QUERY_BUFFER_HANDLE_TYPE_INVALID, QUERY_BUFFER_USAGE_ZERO, QUERY_IMAGE_HANDLE_TYPE_INVALID,
    QUERY_NV_HANDLE_TYPE_INVALID, QUERY_NV_HANDLE_TYPE_MULTIPLE, QUERY_NV_USAGE_ZERO,
};
use crate::finding::{Finding, Object};
use ash::vk;

/// Every `VkExternalMemoryHandleTypeFlagBits` bit the current registry defines (OPAQUE_FD
/// 0x1 up to MTLHEAP_EXT 0x40000, including the Vulkan SC and OHOS ones), so an app using
/// a newer handle type is never told it is invalid.
pub const KNOWN_MEMORY_HANDLE_TYPES: u32 = 0x7_ffff;

/// Every `VkExternalMemoryHandleTypeFlagBitsNV` bit (OPAQUE_WIN32, OPAQUE_WIN32_KMT,
/// D3D11_IMAGE, D3D11_IMAGE_KMT).
pub const KNOWN_NV_HANDLE_TYPES: u32 = 0xf;

/// Whether `handle_type` is exactly one defined `VkExternalMemoryHandleTypeFlagBits` value.
pub fn is_single_known_memory_type(handle_type: vk::ExternalMemoryHandleTypeFlags) -> bool {
    let raw = handle_type.as_raw();
    raw.count_ones() == 1 && raw & !KNOWN_MEMORY_HANDLE_TYPES == 0
}

/// The parts of a `vkGetPhysicalDeviceExternalBufferProperties` call the rules read.
#[derive(Clone, Copy, Debug)]
pub struct BufferQuery {
    pub physical_device: u64,
    pub flags: vk::BufferCreateFlags,
    pub usage: vk::BufferUsageFlags,
    pub handle_type: vk::ExternalMemoryHandleTypeFlags,
    /// A `VkBufferUsageFlags2CreateInfo` is chained (then `usage` is ignored).
    pub usage2_chained: bool,
}

/// The parts of a `vkGetPhysicalDeviceExternalImageFormatPropertiesNV` call the rules read.
#[derive(Clone, Copy, Debug)]
pub struct NvImageQuery {
    pub physical_device: u64,
    pub usage: vk::ImageUsageFlags,
    pub handle_types: vk::ExternalMemoryHandleTypeFlagsNV,
}

fn physical(handle: u64) -> Vec<Object> {
    vec![Object::new(vk::ObjectType::PHYSICAL_DEVICE, handle)]
}

/// `vkGetPhysicalDeviceExternalBufferProperties(KHR)`: handleType one valid bit, usage
/// not 0 (unless `VkBufferUsageFlags2CreateInfo` gives it).
pub fn external_buffer(q: &BufferQuery) -> Vec<Finding> {
    let mut out = Vec::new();
    if !is_single_known_memory_type(q.handle_type) {
        out.push(Finding::new(
            &QUERY_BUFFER_HANDLE_TYPE_INVALID,
            format!(
                "vkGetPhysicalDeviceExternalBufferProperties: VkPhysicalDeviceExternalBufferInfo::handleType is {:#x}, which is not exactly one VkExternalMemoryHandleTypeFlagBits value; the query answers for one handle type at a time",
                q.handle_type.as_raw()
            ),
            physical(q.physical_device),
        ));
    }
    if q.usage.is_empty() && !q.usage2_chained {
        out.push(Finding::new(
            &QUERY_BUFFER_USAGE_ZERO,
            "vkGetPhysicalDeviceExternalBufferProperties: VkPhysicalDeviceExternalBufferInfo::usage is 0 and no VkBufferUsageFlags2CreateInfo is chained; pass the usage the buffer will be created with",
            physical(q.physical_device),
        ));
    }
    out
}

/// `vkGetPhysicalDeviceImageFormatProperties2(KHR)`: `handle_type` is the chained
/// `VkPhysicalDeviceExternalImageFormatInfo::handleType` (`None`: not chained). 0 is allowed.
pub fn image_format(
    physical_device: u64,
    handle_type: Option<vk::ExternalMemoryHandleTypeFlags>,
) -> Vec<Finding> {
    match handle_type {
        Some(t) if !t.is_empty() && !is_single_known_memory_type(t) => vec![Finding::new(
            &QUERY_IMAGE_HANDLE_TYPE_INVALID,
            format!(
                "vkGetPhysicalDeviceImageFormatProperties2: VkPhysicalDeviceExternalImageFormatInfo::handleType is {:#x}, which is not 0 and not exactly one VkExternalMemoryHandleTypeFlagBits value",
                t.as_raw()
            ),
            physical(physical_device),
        )],
        _ => Vec::new(),
    }
}

/// `vkGetPhysicalDeviceExternalImageFormatPropertiesNV`: at most one defined NV handle-type
/// bit, usage not 0.
pub fn external_image_nv(q: &NvImageQuery) -> Vec<Finding> {
    let mut out = Vec::new();
    let raw = q.handle_types.as_raw();
    if raw.count_ones() > 1 {
        out.push(Finding::new(
            &QUERY_NV_HANDLE_TYPE_MULTIPLE,
            format!(
                "vkGetPhysicalDeviceExternalImageFormatPropertiesNV: externalHandleType is {raw:#x} ({} bits set); query one handle type per call",
                raw.count_ones()
            ),
            physical(q.physical_device),
        ));
    }
    if raw & !KNOWN_NV_HANDLE_TYPES != 0 {
        out.push(Finding::new(
            &QUERY_NV_HANDLE_TYPE_INVALID,
            format!(
                "vkGetPhysicalDeviceExternalImageFormatPropertiesNV: externalHandleType {raw:#x} has bits {:#x} that are not VkExternalMemoryHandleTypeFlagBitsNV values",
                raw & !KNOWN_NV_HANDLE_TYPES
            ),
            physical(q.physical_device),
        ));
    }
    if q.usage.is_empty() {
        out.push(Finding::new(
            &QUERY_NV_USAGE_ZERO,
            "vkGetPhysicalDeviceExternalImageFormatPropertiesNV: usage is 0; pass the usage the image will be created with",
            physical(q.physical_device),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    fn buffer(usage: u32, handle_type: u32, usage2_chained: bool) -> BufferQuery {
        BufferQuery {
            physical_device: 0x10,
            flags: vk::BufferCreateFlags::empty(),
            usage: vk::BufferUsageFlags::from_raw(usage),
            handle_type: vk::ExternalMemoryHandleTypeFlags::from_raw(handle_type),
            usage2_chained,
        }
    }

    fn nv(usage: u32, handle_types: u32) -> NvImageQuery {
        NvImageQuery {
            physical_device: 0x10,
            usage: vk::ImageUsageFlags::from_raw(usage),
            handle_types: vk::ExternalMemoryHandleTypeFlagsNV::from_raw(handle_types),
        }
    }

    #[test]
    fn valid_buffer_queries_are_silent() {
        for ht in [0x1, 0x80, 0x200, 0x4_0000] {
            assert!(
                external_buffer(&buffer(0x1, ht, false)).is_empty(),
                "{ht:#x}"
            );
        }
        assert!(
            external_buffer(&buffer(0, 0x1, true)).is_empty(),
            "usage2 gives the usage"
        );
    }

    #[test]
    fn buffer_handle_type_must_be_one_known_bit() {
        for ht in [0, 0x81, 0x8_0000, 0x8000_0000] {
            let f = external_buffer(&buffer(0x1, ht, false));
            assert_eq!(ids(&f), [QUERY_BUFFER_HANDLE_TYPE_INVALID.id], "{ht:#x}");
            assert_eq!(f[0].objects[0].ty, vk::ObjectType::PHYSICAL_DEVICE);
        }
    }

    #[test]
    fn buffer_usage_zero() {
        let f = external_buffer(&buffer(0, 0x1, false));
        assert_eq!(ids(&f), [QUERY_BUFFER_USAGE_ZERO.id]);
        assert_eq!(
            f[0].id(),
            "VUID-VkPhysicalDeviceExternalBufferInfo-None-09500"
        );
        assert!(QUERY_BUFFER_USAGE_ZERO
            .aliases
            .contains(&"VUID-VkPhysicalDeviceExternalBufferInfo-usage-requiredbitmask"));
        let both = external_buffer(&buffer(0, 0x3, false));
        assert_eq!(
            ids(&both),
            [
                QUERY_BUFFER_HANDLE_TYPE_INVALID.id,
                QUERY_BUFFER_USAGE_ZERO.id
            ]
        );
    }

    #[test]
    fn image_handle_type_zero_or_one_known_bit() {
        let t = vk::ExternalMemoryHandleTypeFlags::from_raw;
        assert!(image_format(1, None).is_empty());
        assert!(image_format(1, Some(t(0))).is_empty(), "0 is allowed");
        assert!(image_format(1, Some(t(0x200))).is_empty());
        for bad in [0x201, 0x10_0000] {
            assert_eq!(
                ids(&image_format(1, Some(t(bad)))),
                [QUERY_IMAGE_HANDLE_TYPE_INVALID.id],
                "{bad:#x}"
            );
        }
    }

    #[test]
    fn nv_queries() {
        assert!(external_image_nv(&nv(0x1, 0x1)).is_empty());
        assert!(external_image_nv(&nv(0x1, 0x8)).is_empty());
        assert!(
            external_image_nv(&nv(0x1, 0)).is_empty(),
            "no bit is a valid combination"
        );
        assert_eq!(
            ids(&external_image_nv(&nv(0x1, 0x3))),
            [QUERY_NV_HANDLE_TYPE_MULTIPLE.id]
        );
        assert_eq!(
            ids(&external_image_nv(&nv(0x1, 0x10))),
            [QUERY_NV_HANDLE_TYPE_INVALID.id]
        );
        assert_eq!(
            ids(&external_image_nv(&nv(0x1, 0x11))),
            [
                QUERY_NV_HANDLE_TYPE_MULTIPLE.id,
                QUERY_NV_HANDLE_TYPE_INVALID.id
            ]
        );
        assert_eq!(
            ids(&external_image_nv(&nv(0, 0x2))),
            [QUERY_NV_USAGE_ZERO.id]
        );
    }
}

//! The loader–layer interface structs of `vk_layer.h`, which `ash` does not carry.
//!
//! Layouts are asserted at compile time against the C header's on 64-bit targets, because
//! a mismatch here would make the link walk read garbage from the loader.

use ash::vk;
use std::ffi::{c_char, c_void};

/// `VkNegotiateLayerStructType::LAYER_NEGOTIATE_INTERFACE_STRUCT`.
pub const LAYER_NEGOTIATE_INTERFACE_STRUCT: u32 = 1;
/// The layer interface version Handoff speaks.
pub const LAYER_INTERFACE_VERSION: u32 = 2;

/// `VkLayerFunction::VK_LAYER_LINK_INFO`.
pub const VK_LAYER_LINK_INFO: u32 = 0;

/// `PFN_GetPhysicalDeviceProcAddr` (not a Vulkan command, so not in `ash`).
pub type PfnGetPhysicalDeviceProcAddr =
    unsafe extern "system" fn(vk::Instance, *const c_char) -> vk::PFN_vkVoidFunction;

#[repr(C)]
pub struct VkNegotiateLayerInterface {
    pub s_type: u32,
    pub p_next: *mut c_void,
    pub loader_layer_interface_version: u32,
    pub pfn_get_instance_proc_addr: Option<vk::PFN_vkGetInstanceProcAddr>,
    pub pfn_get_device_proc_addr: Option<vk::PFN_vkGetDeviceProcAddr>,
    pub pfn_get_physical_device_proc_addr: Option<PfnGetPhysicalDeviceProcAddr>,
}

#[repr(C)]
pub struct VkLayerInstanceLink {
    pub p_next: *mut VkLayerInstanceLink,
    pub pfn_next_get_instance_proc_addr: Option<vk::PFN_vkGetInstanceProcAddr>,
    pub pfn_next_get_physical_device_proc_addr: Option<PfnGetPhysicalDeviceProcAddr>,
}

/// `VkLayerInstanceCreateInfo`. The C union is two pointers wide (its largest member is
/// the `layerDevice` pair of callbacks); Handoff reads only the link pointer.
#[repr(C)]
pub struct VkLayerInstanceCreateInfo {
    pub s_type: vk::StructureType,
    pub p_next: *const c_void,
    pub function: u32,
    pub p_layer_info: *mut VkLayerInstanceLink,
    _union_rest: *const c_void,
}

#[repr(C)]
pub struct VkLayerDeviceLink {
    pub p_next: *mut VkLayerDeviceLink,
    pub pfn_next_get_instance_proc_addr: Option<vk::PFN_vkGetInstanceProcAddr>,
    pub pfn_next_get_device_proc_addr: Option<vk::PFN_vkGetDeviceProcAddr>,
}

/// `VkLayerDeviceCreateInfo`; its union is one pointer wide.
#[repr(C)]
pub struct VkLayerDeviceCreateInfo {
    pub s_type: vk::StructureType,
    pub p_next: *const c_void,
    pub function: u32,
    pub p_layer_info: *mut VkLayerDeviceLink,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<VkNegotiateLayerInterface>() == 48);
    assert!(offset_of!(VkNegotiateLayerInterface, loader_layer_interface_version) == 16);
    assert!(offset_of!(VkNegotiateLayerInterface, pfn_get_instance_proc_addr) == 24);
    assert!(offset_of!(VkNegotiateLayerInterface, pfn_get_physical_device_proc_addr) == 40);
    assert!(size_of::<VkLayerInstanceLink>() == 24);
    assert!(size_of::<VkLayerInstanceCreateInfo>() == 40);
    assert!(offset_of!(VkLayerInstanceCreateInfo, function) == 16);
    assert!(offset_of!(VkLayerInstanceCreateInfo, p_layer_info) == 24);
    assert!(size_of::<VkLayerDeviceLink>() == 24);
    assert!(size_of::<VkLayerDeviceCreateInfo>() == 32);
    assert!(offset_of!(VkLayerDeviceCreateInfo, p_layer_info) == 24);
};

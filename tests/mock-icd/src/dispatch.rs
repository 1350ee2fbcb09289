//! The command table: every Vulkan command name the mock implements (core names and the
//! KHR/EXT aliases the loader or an app may ask for), its level, and the extension it
//! needs in the profile.

use crate::profile::Profile;
use crate::{
    capabilities as caps, commands as cmd, device, icd, instance, memory, objects,
    physical_device as pd,
};
use crate::{pfn, queue, resources as res, sync};
use ash::vk;

/// Which `vkGet*ProcAddr` hands a command out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Needs no instance (`vkCreateInstance`, ...).
    Global,
    /// Dispatched on an instance.
    Instance,
    /// Dispatched on a physical device.
    Physical,
    /// Dispatched on a device, queue or command buffer.
    Device,
}

/// What the profile must report for the command to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Core,
    DeviceExt(&'static str),
    InstanceExt(&'static str),
}

/// One command.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub f: vk::PFN_vkVoidFunction,
    pub scope: Scope,
    pub needs: Needs,
}

impl Entry {
    /// Whether the command exists with this profile.
    pub fn available(&self, p: &Profile) -> bool {
        match self.needs {
            Needs::Core => true,
            Needs::DeviceExt(e) => p.has_device_ext(e),
            Needs::InstanceExt(e) => p.has_instance_ext(e),
        }
    }
}

const MEMORY_FD: Needs = Needs::DeviceExt("VK_KHR_external_memory_fd");
const MEMORY_HOST: Needs = Needs::DeviceExt("VK_EXT_external_memory_host");
const SEMAPHORE_FD: Needs = Needs::DeviceExt("VK_KHR_external_semaphore_fd");
const FENCE_FD: Needs = Needs::DeviceExt("VK_KHR_external_fence_fd");
const DRM_MODIFIER: Needs = Needs::DeviceExt("VK_EXT_image_drm_format_modifier");
const NV_CAPS: Needs = Needs::InstanceExt("VK_NV_external_memory_capabilities");

/// The command called `name`, if the mock implements it.
pub fn lookup(name: &str) -> Option<Entry> {
    use Needs::Core;
    use Scope::{Device as D, Global as G, Instance as I, Physical as P};
    let name = name
        .strip_suffix("KHR")
        .or_else(|| name.strip_suffix("EXT"))
        .filter(|n| is_promoted(n))
        .unwrap_or(name);
    let (f, scope, needs) = match name {
        // global
        "vkCreateInstance" => (pfn!(instance::create_instance), G, Core),
        "vkEnumerateInstanceExtensionProperties" => (
            pfn!(instance::enumerate_instance_extension_properties),
            G,
            Core,
        ),
        "vkEnumerateInstanceVersion" => (pfn!(instance::enumerate_instance_version), G, Core),
        "vkGetInstanceProcAddr" => (pfn!(icd::vk_icdGetInstanceProcAddr), G, Core),
        // instance
        "vkDestroyInstance" => (pfn!(instance::destroy_instance), I, Core),
        "vkEnumeratePhysicalDevices" => (pfn!(instance::enumerate_physical_devices), I, Core),
        "vkEnumeratePhysicalDeviceGroups" => {
            (pfn!(instance::enumerate_physical_device_groups), I, Core)
        }
        // physical device
        "vkGetPhysicalDeviceProperties" => (pfn!(pd::get_physical_device_properties), P, Core),
        "vkGetPhysicalDeviceProperties2" => (pfn!(pd::get_physical_device_properties2), P, Core),
        "vkGetPhysicalDeviceFeatures" => (pfn!(pd::get_physical_device_features), P, Core),
        "vkGetPhysicalDeviceFeatures2" => (pfn!(pd::get_physical_device_features2), P, Core),
        "vkGetPhysicalDeviceMemoryProperties" => {
            (pfn!(pd::get_physical_device_memory_properties), P, Core)
        }
        "vkGetPhysicalDeviceMemoryProperties2" => {
            (pfn!(pd::get_physical_device_memory_properties2), P, Core)
        }
        "vkGetPhysicalDeviceQueueFamilyProperties" => (
            pfn!(pd::get_physical_device_queue_family_properties),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceQueueFamilyProperties2" => (
            pfn!(pd::get_physical_device_queue_family_properties2),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceFormatProperties" => {
            (pfn!(pd::get_physical_device_format_properties), P, Core)
        }
        "vkGetPhysicalDeviceFormatProperties2" => {
            (pfn!(pd::get_physical_device_format_properties2), P, Core)
        }
        "vkGetPhysicalDeviceSparseImageFormatProperties" => (
            pfn!(pd::get_physical_device_sparse_image_format_properties),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceSparseImageFormatProperties2" => (
            pfn!(pd::get_physical_device_sparse_image_format_properties2),
            P,
            Core,
        ),
        "vkEnumerateDeviceExtensionProperties" => {
            (pfn!(pd::enumerate_device_extension_properties), P, Core)
        }
        "vkGetPhysicalDeviceImageFormatProperties" => (
            pfn!(caps::get_physical_device_image_format_properties),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceImageFormatProperties2" => (
            pfn!(caps::get_physical_device_image_format_properties2),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceExternalBufferProperties" => (
            pfn!(caps::get_physical_device_external_buffer_properties),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceExternalSemaphoreProperties" => (
            pfn!(caps::get_physical_device_external_semaphore_properties),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceExternalFenceProperties" => (
            pfn!(caps::get_physical_device_external_fence_properties),
            P,
            Core,
        ),
        "vkGetPhysicalDeviceExternalImageFormatPropertiesNV" => (
            pfn!(caps::get_physical_device_external_image_format_properties_nv),
            P,
            NV_CAPS,
        ),
        "vkCreateDevice" => (pfn!(device::create_device), P, Core),
        // device
        "vkGetDeviceProcAddr" => (pfn!(icd::get_device_proc_addr), D, Core),
        "vkDestroyDevice" => (pfn!(device::destroy_device), D, Core),
        "vkGetDeviceQueue" => (pfn!(device::get_device_queue), D, Core),
        "vkGetDeviceQueue2" => (pfn!(device::get_device_queue2), D, Core),
        "vkDeviceWaitIdle" => (pfn!(device::device_wait_idle), D, Core),
        "vkQueueSubmit" => (pfn!(queue::queue_submit), D, Core),
        "vkQueueSubmit2" => (pfn!(queue::queue_submit2), D, Core),
        "vkQueueBindSparse" => (pfn!(queue::queue_bind_sparse), D, Core),
        "vkQueueWaitIdle" => (pfn!(queue::queue_wait_idle), D, Core),
        // mock-only (README.md): holds or releases a queue's worker
        "vkHandoffMockHoldQueueEXT" => (pfn!(queue::hold_queue), D, Core),
        // memory
        "vkAllocateMemory" => (pfn!(memory::allocate_memory), D, Core),
        "vkFreeMemory" => (pfn!(memory::free_memory), D, Core),
        "vkMapMemory" => (pfn!(memory::map_memory), D, Core),
        "vkUnmapMemory" => (pfn!(memory::unmap_memory), D, Core),
        "vkFlushMappedMemoryRanges" | "vkInvalidateMappedMemoryRanges" => {
            (pfn!(memory::flush_mapped_memory_ranges), D, Core)
        }
        "vkGetDeviceMemoryCommitment" => (pfn!(memory::get_device_memory_commitment), D, Core),
        "vkGetDeviceMemoryOpaqueCaptureAddress" => (
            pfn!(memory::get_device_memory_opaque_capture_address),
            D,
            Core,
        ),
        "vkGetMemoryFdKHR" => (pfn!(memory::get_memory_fd), D, MEMORY_FD),
        "vkGetMemoryFdPropertiesKHR" => (pfn!(memory::get_memory_fd_properties), D, MEMORY_FD),
        "vkGetMemoryHostPointerPropertiesEXT" => (
            pfn!(memory::get_memory_host_pointer_properties),
            D,
            MEMORY_HOST,
        ),
        // buffers and images
        "vkCreateBuffer" => (pfn!(res::create_buffer), D, Core),
        "vkDestroyBuffer" => (pfn!(res::destroy_buffer), D, Core),
        "vkCreateImage" => (pfn!(res::create_image), D, Core),
        "vkDestroyImage" => (pfn!(res::destroy_image), D, Core),
        "vkGetBufferMemoryRequirements" => (pfn!(res::get_buffer_memory_requirements), D, Core),
        "vkGetBufferMemoryRequirements2" => (pfn!(res::get_buffer_memory_requirements2), D, Core),
        "vkGetImageMemoryRequirements" => (pfn!(res::get_image_memory_requirements), D, Core),
        "vkGetImageMemoryRequirements2" => (pfn!(res::get_image_memory_requirements2), D, Core),
        "vkGetDeviceBufferMemoryRequirements" => {
            (pfn!(res::get_device_buffer_memory_requirements), D, Core)
        }
        "vkGetDeviceImageMemoryRequirements" => {
            (pfn!(res::get_device_image_memory_requirements), D, Core)
        }
        "vkGetImageSparseMemoryRequirements" => {
            (pfn!(res::get_image_sparse_memory_requirements), D, Core)
        }
        "vkGetImageSparseMemoryRequirements2" | "vkGetDeviceImageSparseMemoryRequirements" => {
            (pfn!(res::get_image_sparse_memory_requirements2), D, Core)
        }
        "vkBindBufferMemory" => (pfn!(res::bind_buffer_memory), D, Core),
        "vkBindBufferMemory2" => (pfn!(res::bind_buffer_memory2), D, Core),
        "vkBindImageMemory" => (pfn!(res::bind_image_memory), D, Core),
        "vkBindImageMemory2" => (pfn!(res::bind_image_memory2), D, Core),
        "vkGetImageSubresourceLayout" => (pfn!(res::get_image_subresource_layout), D, Core),
        "vkGetImageDrmFormatModifierPropertiesEXT" => (
            pfn!(res::get_image_drm_format_modifier_properties),
            D,
            DRM_MODIFIER,
        ),
        "vkGetBufferDeviceAddress" => (pfn!(res::get_buffer_device_address), D, Core),
        "vkGetBufferOpaqueCaptureAddress" => {
            (pfn!(res::get_buffer_opaque_capture_address), D, Core)
        }
        // plain objects
        "vkCreateImageView" => (pfn!(objects::create_image_view), D, Core),
        "vkDestroyImageView" => (pfn!(objects::destroy_image_view), D, Core),
        "vkCreateRenderPass" | "vkCreateRenderPass2" => {
            (pfn!(objects::create_render_pass), D, Core)
        }
        "vkDestroyRenderPass" => (pfn!(objects::destroy_render_pass), D, Core),
        "vkCreateFramebuffer" => (pfn!(objects::create_framebuffer), D, Core),
        "vkDestroyFramebuffer" => (pfn!(objects::destroy_framebuffer), D, Core),
        "vkCreateEvent" => (pfn!(objects::create_event), D, Core),
        "vkDestroyEvent" => (pfn!(objects::destroy_event), D, Core),
        "vkGetEventStatus" => (pfn!(objects::get_event_status), D, Core),
        "vkSetEvent" => (pfn!(objects::set_event), D, Core),
        "vkResetEvent" => (pfn!(objects::reset_event), D, Core),
        // command pools and buffers
        "vkCreateCommandPool" => (pfn!(cmd::create_command_pool), D, Core),
        "vkDestroyCommandPool" => (pfn!(cmd::destroy_command_pool), D, Core),
        "vkResetCommandPool" => (pfn!(cmd::reset_command_pool), D, Core),
        "vkTrimCommandPool" => (pfn!(cmd::trim_command_pool), D, Core),
        "vkAllocateCommandBuffers" => (pfn!(cmd::allocate_command_buffers), D, Core),
        "vkFreeCommandBuffers" => (pfn!(cmd::free_command_buffers), D, Core),
        "vkBeginCommandBuffer" => (pfn!(cmd::begin_command_buffer), D, Core),
        "vkEndCommandBuffer" => (pfn!(cmd::end_command_buffer), D, Core),
        "vkResetCommandBuffer" => (pfn!(cmd::reset_command_buffer), D, Core),
        // recording
        "vkCmdPipelineBarrier" => (pfn!(cmd::cmd_pipeline_barrier), D, Core),
        "vkCmdPipelineBarrier2"
        | "vkCmdCopyBuffer2"
        | "vkCmdCopyImage2"
        | "vkCmdCopyBufferToImage2"
        | "vkCmdCopyImageToBuffer2"
        | "vkCmdBlitImage2"
        | "vkCmdBeginRendering"
        | "vkCmdEndRenderPass2" => (pfn!(cmd::cmd_one_pointer), D, Core),
        "vkCmdEndRenderPass" | "vkCmdEndRendering" => (pfn!(cmd::cmd_no_args), D, Core),
        "vkCmdCopyBuffer" => (pfn!(cmd::cmd_copy_buffer), D, Core),
        "vkCmdFillBuffer" => (pfn!(cmd::cmd_fill_buffer), D, Core),
        "vkCmdUpdateBuffer" => (pfn!(cmd::cmd_update_buffer), D, Core),
        "vkCmdCopyBufferToImage" => (pfn!(cmd::cmd_copy_buffer_to_image), D, Core),
        "vkCmdCopyImageToBuffer" => (pfn!(cmd::cmd_copy_image_to_buffer), D, Core),
        "vkCmdCopyImage" => (pfn!(cmd::cmd_copy_image), D, Core),
        "vkCmdBlitImage" => (pfn!(cmd::cmd_blit_image), D, Core),
        "vkCmdClearColorImage" | "vkCmdClearDepthStencilImage" => {
            (pfn!(cmd::cmd_clear_image), D, Core)
        }
        "vkCmdExecuteCommands" => (pfn!(cmd::cmd_execute_commands), D, Core),
        "vkCmdWaitEvents" => (pfn!(cmd::cmd_wait_events), D, Core),
        "vkCmdWaitEvents2" => (pfn!(cmd::cmd_wait_events2), D, Core),
        "vkCmdSetEvent" | "vkCmdResetEvent" => (pfn!(cmd::cmd_set_event), D, Core),
        "vkCmdSetEvent2" => (pfn!(cmd::cmd_set_event2), D, Core),
        "vkCmdResetEvent2" => (pfn!(cmd::cmd_reset_event2), D, Core),
        "vkCmdBeginRenderPass" => (pfn!(cmd::cmd_begin_render_pass), D, Core),
        "vkCmdNextSubpass" => (pfn!(cmd::cmd_next_subpass), D, Core),
        "vkCmdBeginRenderPass2" | "vkCmdNextSubpass2" => (pfn!(cmd::cmd_two_pointers), D, Core),
        // synchronization
        "vkCreateFence" => (pfn!(sync::create_fence), D, Core),
        "vkDestroyFence" => (pfn!(sync::destroy_fence), D, Core),
        "vkResetFences" => (pfn!(sync::reset_fences), D, Core),
        "vkGetFenceStatus" => (pfn!(sync::get_fence_status), D, Core),
        "vkWaitForFences" => (pfn!(sync::wait_for_fences), D, Core),
        "vkCreateSemaphore" => (pfn!(sync::create_semaphore), D, Core),
        "vkDestroySemaphore" => (pfn!(sync::destroy_semaphore), D, Core),
        "vkGetSemaphoreCounterValue" => (pfn!(sync::get_semaphore_counter_value), D, Core),
        "vkSignalSemaphore" => (pfn!(sync::signal_semaphore_host), D, Core),
        "vkWaitSemaphores" => (pfn!(sync::wait_semaphores), D, Core),
        "vkGetSemaphoreFdKHR" => (pfn!(sync::get_semaphore_fd), D, SEMAPHORE_FD),
        "vkImportSemaphoreFdKHR" => (pfn!(sync::import_semaphore_fd), D, SEMAPHORE_FD),
        "vkGetFenceFdKHR" => (pfn!(sync::get_fence_fd), D, FENCE_FD),
        "vkImportFenceFdKHR" => (pfn!(sync::import_fence_fd), D, FENCE_FD),
        _ => return None,
    };
    Some(Entry { f, scope, needs })
}

/// Core commands that also exist with a KHR or EXT suffix (the extension's name for the
/// same command); the suffixed name resolves to the core one.
fn is_promoted(core: &str) -> bool {
    const PROMOTED: &[&str] = &[
        "vkEnumeratePhysicalDeviceGroups",
        "vkGetPhysicalDeviceProperties2",
        "vkGetPhysicalDeviceFeatures2",
        "vkGetPhysicalDeviceMemoryProperties2",
        "vkGetPhysicalDeviceQueueFamilyProperties2",
        "vkGetPhysicalDeviceFormatProperties2",
        "vkGetPhysicalDeviceImageFormatProperties2",
        "vkGetPhysicalDeviceSparseImageFormatProperties2",
        "vkGetPhysicalDeviceExternalBufferProperties",
        "vkGetPhysicalDeviceExternalSemaphoreProperties",
        "vkGetPhysicalDeviceExternalFenceProperties",
        "vkQueueSubmit2",
        "vkGetDeviceMemoryOpaqueCaptureAddress",
        "vkGetBufferMemoryRequirements2",
        "vkGetImageMemoryRequirements2",
        "vkGetDeviceBufferMemoryRequirements",
        "vkGetDeviceImageMemoryRequirements",
        "vkGetImageSparseMemoryRequirements2",
        "vkGetDeviceImageSparseMemoryRequirements",
        "vkBindBufferMemory2",
        "vkBindImageMemory2",
        "vkGetBufferDeviceAddress",
        "vkGetBufferOpaqueCaptureAddress",
        "vkCreateRenderPass2",
        "vkTrimCommandPool",
        "vkCmdPipelineBarrier2",
        "vkCmdCopyBuffer2",
        "vkCmdCopyImage2",
        "vkCmdCopyBufferToImage2",
        "vkCmdCopyImageToBuffer2",
        "vkCmdBlitImage2",
        "vkCmdBeginRendering",
        "vkCmdEndRendering",
        "vkCmdBeginRenderPass2",
        "vkCmdNextSubpass2",
        "vkCmdEndRenderPass2",
        "vkCmdWaitEvents2",
        "vkCmdSetEvent2",
        "vkCmdResetEvent2",
        "vkGetSemaphoreCounterValue",
        "vkSignalSemaphore",
        "vkWaitSemaphores",
    ];
    PROMOTED.contains(&core)
}

//! The library's exported symbols: interface negotiation, `vkGet*ProcAddr` and the
//! enumerate functions the loader calls on layers.

use crate::dispatch;
use crate::guard::guarded;
use crate::loader_abi::{
    VkNegotiateLayerInterface, LAYER_INTERFACE_VERSION, LAYER_NEGOTIATE_INTERFACE_STRUCT,
};
use crate::{barrier, bind, device, instance, memory, resources, settings};
use ash::vk::{self, Handle};
use std::ffi::{c_char, CStr};

/// Extensions the layer implements, as its manifest lists them.
const INSTANCE_EXTENSIONS: &[(&CStr, u32)] = &[
    (vk::EXT_DEBUG_UTILS_NAME, 2),
    (vk::EXT_LAYER_SETTINGS_NAME, 2),
];

/// Which object's extension list gates a command.
#[derive(Clone, Copy)]
enum Gate {
    /// Always available.
    Core,
    /// Needs this instance extension.
    Instance(&'static CStr),
    /// Needs this device extension.
    Device(&'static CStr),
}

struct Command {
    name: &'static CStr,
    pfn: unsafe extern "system" fn(),
    gate: Gate,
}

macro_rules! cmd {
    ($name:literal, $f:path, $gate:expr) => {
        Command {
            name: $name,
            // SAFETY: a function pointer cast to the generic PFN_vkVoidFunction shape; the
            // loader casts it back to the command's real signature.
            pfn: unsafe {
                std::mem::transmute::<*const (), unsafe extern "system" fn()>($f as *const ())
            },
            gate: $gate,
        }
    };
}

/// Commands answered for any instance handle, even null.
fn global_command(name: &CStr) -> Option<vk::PFN_vkVoidFunction> {
    let pfn: unsafe extern "system" fn() = match name.to_bytes() {
        b"vkGetInstanceProcAddr" => cast(vkGetInstanceProcAddr as *const ()),
        b"vkCreateInstance" => cast(instance::create_instance as *const ()),
        b"vkEnumerateInstanceLayerProperties" => {
            cast(vkEnumerateInstanceLayerProperties as *const ())
        }
        b"vkEnumerateInstanceExtensionProperties" => {
            cast(vkEnumerateInstanceExtensionProperties as *const ())
        }
        _ => return None,
    };
    Some(Some(pfn))
}

fn cast(p: *const ()) -> unsafe extern "system" fn() {
    // SAFETY: `p` is one of this module's `extern "system"` functions.
    unsafe { std::mem::transmute::<*const (), unsafe extern "system" fn()>(p) }
}

fn instance_commands() -> &'static [Command] {
    use std::sync::LazyLock;
    static TABLE: LazyLock<Vec<Command>> = LazyLock::new(|| {
        vec![
            cmd!(c"vkDestroyInstance", instance::destroy_instance, Gate::Core),
            cmd!(c"vkCreateDevice", device::create_device, Gate::Core),
            cmd!(c"vkGetDeviceProcAddr", vkGetDeviceProcAddr, Gate::Core),
            cmd!(
                c"vkEnumerateDeviceLayerProperties",
                vkEnumerateDeviceLayerProperties,
                Gate::Core
            ),
            cmd!(
                c"vkEnumerateDeviceExtensionProperties",
                vkEnumerateDeviceExtensionProperties,
                Gate::Core
            ),
            cmd!(
                c"vkCreateDebugUtilsMessengerEXT",
                instance::create_debug_utils_messenger,
                Gate::Instance(vk::EXT_DEBUG_UTILS_NAME)
            ),
            cmd!(
                c"vkDestroyDebugUtilsMessengerEXT",
                instance::destroy_debug_utils_messenger,
                Gate::Instance(vk::EXT_DEBUG_UTILS_NAME)
            ),
            cmd!(
                c"vkCreateDebugReportCallbackEXT",
                instance::create_debug_report_callback,
                Gate::Instance(vk::EXT_DEBUG_REPORT_NAME)
            ),
            cmd!(
                c"vkDestroyDebugReportCallbackEXT",
                instance::destroy_debug_report_callback,
                Gate::Instance(vk::EXT_DEBUG_REPORT_NAME)
            ),
            // The app's own capability queries (queries.rs).
            cmd!(
                c"vkGetPhysicalDeviceExternalBufferProperties",
                crate::queries::get_physical_device_external_buffer_properties,
                Gate::Core
            ),
            cmd!(
                c"vkGetPhysicalDeviceExternalBufferPropertiesKHR",
                crate::queries::get_physical_device_external_buffer_properties_khr,
                Gate::Instance(vk::KHR_EXTERNAL_MEMORY_CAPABILITIES_NAME)
            ),
            cmd!(
                c"vkGetPhysicalDeviceImageFormatProperties2",
                crate::queries::get_physical_device_image_format_properties2,
                Gate::Core
            ),
            cmd!(
                c"vkGetPhysicalDeviceImageFormatProperties2KHR",
                crate::queries::get_physical_device_image_format_properties2_khr,
                Gate::Instance(vk::KHR_GET_PHYSICAL_DEVICE_PROPERTIES2_NAME)
            ),
            cmd!(
                c"vkGetPhysicalDeviceExternalImageFormatPropertiesNV",
                crate::queries::get_physical_device_external_image_format_properties_nv,
                Gate::Instance(vk::NV_EXTERNAL_MEMORY_CAPABILITIES_NAME)
            ),
        ]
    });
    &TABLE
}

fn device_commands() -> &'static [Command] {
    use std::sync::LazyLock;
    static TABLE: LazyLock<Vec<Command>> = LazyLock::new(|| {
        vec![
            cmd!(c"vkGetDeviceProcAddr", vkGetDeviceProcAddr, Gate::Core),
            cmd!(c"vkDestroyDevice", device::destroy_device, Gate::Core),
            cmd!(c"vkAllocateMemory", memory::allocate_memory, Gate::Core),
            cmd!(c"vkFreeMemory", memory::free_memory, Gate::Core),
            cmd!(c"vkCreateBuffer", resources::create_buffer, Gate::Core),
            cmd!(c"vkDestroyBuffer", resources::destroy_buffer, Gate::Core),
            cmd!(c"vkCreateImage", resources::create_image, Gate::Core),
            cmd!(c"vkDestroyImage", resources::destroy_image, Gate::Core),
            cmd!(c"vkBindBufferMemory", bind::bind_buffer_memory, Gate::Core),
            cmd!(
                c"vkBindBufferMemory2",
                bind::bind_buffer_memory2,
                Gate::Core
            ),
            cmd!(
                c"vkBindBufferMemory2KHR",
                bind::bind_buffer_memory2_khr,
                Gate::Device(vk::KHR_BIND_MEMORY2_NAME)
            ),
            cmd!(c"vkBindImageMemory", bind::bind_image_memory, Gate::Core),
            cmd!(c"vkBindImageMemory2", bind::bind_image_memory2, Gate::Core),
            cmd!(
                c"vkBindImageMemory2KHR",
                bind::bind_image_memory2_khr,
                Gate::Device(vk::KHR_BIND_MEMORY2_NAME)
            ),
            cmd!(c"vkQueueBindSparse", bind::queue_bind_sparse, Gate::Core),
            cmd!(
                c"vkCmdPipelineBarrier",
                barrier::cmd_pipeline_barrier,
                Gate::Core
            ),
            cmd!(
                c"vkCmdPipelineBarrier2",
                barrier::cmd_pipeline_barrier2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdPipelineBarrier2KHR",
                barrier::cmd_pipeline_barrier2_khr,
                Gate::Device(vk::KHR_SYNCHRONIZATION2_NAME)
            ),
            cmd!(
                c"vkGetMemoryFdKHR",
                memory::get_memory_fd,
                Gate::Device(vk::KHR_EXTERNAL_MEMORY_FD_NAME)
            ),
            cmd!(
                c"vkGetMemoryFdPropertiesKHR",
                memory::get_memory_fd_properties,
                Gate::Device(vk::KHR_EXTERNAL_MEMORY_FD_NAME)
            ),
            // Command pools, command buffers and recorded commands (commands.rs).
            cmd!(
                c"vkCreateCommandPool",
                crate::commands::create_command_pool,
                Gate::Core
            ),
            cmd!(
                c"vkDestroyCommandPool",
                crate::commands::destroy_command_pool,
                Gate::Core
            ),
            cmd!(
                c"vkResetCommandPool",
                crate::commands::reset_command_pool,
                Gate::Core
            ),
            cmd!(
                c"vkAllocateCommandBuffers",
                crate::commands::allocate_command_buffers,
                Gate::Core
            ),
            cmd!(
                c"vkFreeCommandBuffers",
                crate::commands::free_command_buffers,
                Gate::Core
            ),
            cmd!(
                c"vkBeginCommandBuffer",
                crate::commands::begin_command_buffer,
                Gate::Core
            ),
            cmd!(
                c"vkResetCommandBuffer",
                crate::commands::reset_command_buffer,
                Gate::Core
            ),
            cmd!(
                c"vkCmdExecuteCommands",
                crate::commands::cmd_execute_commands,
                Gate::Core
            ),
            cmd!(
                c"vkCmdWaitEvents",
                crate::barrier::cmd_wait_events,
                Gate::Core
            ),
            cmd!(
                c"vkCmdWaitEvents2",
                crate::barrier::cmd_wait_events2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdWaitEvents2KHR",
                crate::barrier::cmd_wait_events2_khr,
                Gate::Device(vk::KHR_SYNCHRONIZATION2_NAME)
            ),
            cmd!(
                c"vkCmdCopyBuffer",
                crate::commands::cmd_copy_buffer,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyImage",
                crate::commands::cmd_copy_image,
                Gate::Core
            ),
            cmd!(
                c"vkCmdBlitImage",
                crate::commands::cmd_blit_image,
                Gate::Core
            ),
            cmd!(
                c"vkCmdResolveImage",
                crate::commands::cmd_resolve_image,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyBufferToImage",
                crate::commands::cmd_copy_buffer_to_image,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyImageToBuffer",
                crate::commands::cmd_copy_image_to_buffer,
                Gate::Core
            ),
            cmd!(
                c"vkCmdClearColorImage",
                crate::commands::cmd_clear_color_image,
                Gate::Core
            ),
            cmd!(
                c"vkCmdClearDepthStencilImage",
                crate::commands::cmd_clear_depth_stencil_image,
                Gate::Core
            ),
            cmd!(
                c"vkCmdFillBuffer",
                crate::commands::cmd_fill_buffer,
                Gate::Core
            ),
            cmd!(
                c"vkCmdUpdateBuffer",
                crate::commands::cmd_update_buffer,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyBuffer2",
                crate::commands::cmd_copy_buffer2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyBuffer2KHR",
                crate::commands::cmd_copy_buffer2_khr,
                Gate::Device(vk::KHR_COPY_COMMANDS2_NAME)
            ),
            cmd!(
                c"vkCmdCopyImage2",
                crate::commands::cmd_copy_image2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyImage2KHR",
                crate::commands::cmd_copy_image2_khr,
                Gate::Device(vk::KHR_COPY_COMMANDS2_NAME)
            ),
            cmd!(
                c"vkCmdCopyBufferToImage2",
                crate::commands::cmd_copy_buffer_to_image2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyBufferToImage2KHR",
                crate::commands::cmd_copy_buffer_to_image2_khr,
                Gate::Device(vk::KHR_COPY_COMMANDS2_NAME)
            ),
            cmd!(
                c"vkCmdCopyImageToBuffer2",
                crate::commands::cmd_copy_image_to_buffer2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdCopyImageToBuffer2KHR",
                crate::commands::cmd_copy_image_to_buffer2_khr,
                Gate::Device(vk::KHR_COPY_COMMANDS2_NAME)
            ),
            cmd!(
                c"vkCmdBlitImage2",
                crate::commands::cmd_blit_image2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdBlitImage2KHR",
                crate::commands::cmd_blit_image2_khr,
                Gate::Device(vk::KHR_COPY_COMMANDS2_NAME)
            ),
            cmd!(
                c"vkCmdResolveImage2",
                crate::commands::cmd_resolve_image2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdResolveImage2KHR",
                crate::commands::cmd_resolve_image2_khr,
                Gate::Device(vk::KHR_COPY_COMMANDS2_NAME)
            ),
            cmd!(
                c"vkCreateImageView",
                crate::commands::create_image_view,
                Gate::Core
            ),
            cmd!(
                c"vkDestroyImageView",
                crate::commands::destroy_image_view,
                Gate::Core
            ),
            cmd!(
                c"vkCreateFramebuffer",
                crate::commands::create_framebuffer,
                Gate::Core
            ),
            cmd!(
                c"vkDestroyFramebuffer",
                crate::commands::destroy_framebuffer,
                Gate::Core
            ),
            cmd!(
                c"vkCreateRenderPass",
                crate::commands::create_render_pass,
                Gate::Core
            ),
            cmd!(
                c"vkCreateRenderPass2",
                crate::commands::create_render_pass2,
                Gate::Core
            ),
            cmd!(
                c"vkCreateRenderPass2KHR",
                crate::commands::create_render_pass2_khr,
                Gate::Device(vk::KHR_CREATE_RENDERPASS2_NAME)
            ),
            cmd!(
                c"vkDestroyRenderPass",
                crate::commands::destroy_render_pass,
                Gate::Core
            ),
            cmd!(
                c"vkCmdBeginRenderPass",
                crate::commands::cmd_begin_render_pass,
                Gate::Core
            ),
            cmd!(
                c"vkCmdBeginRenderPass2",
                crate::commands::cmd_begin_render_pass2,
                Gate::Core
            ),
            cmd!(
                c"vkCmdBeginRenderPass2KHR",
                crate::commands::cmd_begin_render_pass2_khr,
                Gate::Device(vk::KHR_CREATE_RENDERPASS2_NAME)
            ),
            cmd!(
                c"vkCmdBeginRendering",
                crate::commands::cmd_begin_rendering,
                Gate::Core
            ),
            cmd!(
                c"vkCmdBeginRenderingKHR",
                crate::commands::cmd_begin_rendering_khr,
                Gate::Device(vk::KHR_DYNAMIC_RENDERING_NAME)
            ),
            // Queues and submissions (submit.rs).
            cmd!(
                c"vkGetDeviceQueue",
                crate::submit::get_device_queue,
                Gate::Core
            ),
            cmd!(
                c"vkGetDeviceQueue2",
                crate::submit::get_device_queue2,
                Gate::Core
            ),
            cmd!(c"vkQueueSubmit", crate::submit::queue_submit, Gate::Core),
            cmd!(c"vkQueueSubmit2", crate::submit::queue_submit2, Gate::Core),
            cmd!(
                c"vkQueueSubmit2KHR",
                crate::submit::queue_submit2_khr,
                Gate::Device(vk::KHR_SYNCHRONIZATION2_NAME)
            ),
            cmd!(
                c"vkQueueWaitIdle",
                crate::submit::queue_wait_idle,
                Gate::Core
            ),
            cmd!(
                c"vkDeviceWaitIdle",
                crate::submit::device_wait_idle,
                Gate::Core
            ),
            cmd!(
                c"vkWaitForFences",
                crate::submit::wait_for_fences,
                Gate::Core
            ),
            cmd!(
                c"vkGetFenceStatus",
                crate::submit::get_fence_status,
                Gate::Core
            ),
            cmd!(c"vkResetFences", crate::submit::reset_fences, Gate::Core),
            cmd!(
                c"vkWaitSemaphores",
                crate::submit::wait_semaphores,
                Gate::Core
            ),
            cmd!(
                c"vkWaitSemaphoresKHR",
                crate::submit::wait_semaphores_khr,
                Gate::Device(vk::KHR_TIMELINE_SEMAPHORE_NAME)
            ),
            cmd!(
                c"vkGetSemaphoreCounterValue",
                crate::submit::get_semaphore_counter_value,
                Gate::Core
            ),
            cmd!(
                c"vkGetSemaphoreCounterValueKHR",
                crate::submit::get_semaphore_counter_value_khr,
                Gate::Device(vk::KHR_TIMELINE_SEMAPHORE_NAME)
            ),
            cmd!(
                c"vkSignalSemaphore",
                crate::submit::signal_semaphore,
                Gate::Core
            ),
            cmd!(
                c"vkSignalSemaphoreKHR",
                crate::submit::signal_semaphore_khr,
                Gate::Device(vk::KHR_TIMELINE_SEMAPHORE_NAME)
            ),
            // Semaphores and fences (sync.rs).
            cmd!(
                c"vkCreateSemaphore",
                crate::sync::create_semaphore,
                Gate::Core
            ),
            cmd!(
                c"vkDestroySemaphore",
                crate::sync::destroy_semaphore,
                Gate::Core
            ),
            cmd!(c"vkCreateFence", crate::sync::create_fence, Gate::Core),
            cmd!(c"vkDestroyFence", crate::sync::destroy_fence, Gate::Core),
            cmd!(
                c"vkGetSemaphoreFdKHR",
                crate::sync::get_semaphore_fd,
                Gate::Device(vk::KHR_EXTERNAL_SEMAPHORE_FD_NAME)
            ),
            cmd!(
                c"vkImportSemaphoreFdKHR",
                crate::sync::import_semaphore_fd,
                Gate::Device(vk::KHR_EXTERNAL_SEMAPHORE_FD_NAME)
            ),
            cmd!(
                c"vkGetFenceFdKHR",
                crate::sync::get_fence_fd,
                Gate::Device(vk::KHR_EXTERNAL_FENCE_FD_NAME)
            ),
            cmd!(
                c"vkImportFenceFdKHR",
                crate::sync::import_fence_fd,
                Gate::Device(vk::KHR_EXTERNAL_FENCE_FD_NAME)
            ),
        ]
    });
    &TABLE
}

fn find(table: &'static [Command], name: &CStr) -> Option<&'static Command> {
    table.iter().find(|c| c.name == name)
}

/// Layer interface negotiation (loader interface 2).
///
/// # Safety
/// `p_version_struct` is null or a valid `VkNegotiateLayerInterface` from the loader.
#[no_mangle]
pub unsafe extern "system" fn vkNegotiateLoaderLayerInterfaceVersion(
    p_version_struct: *mut VkNegotiateLayerInterface,
) -> vk::Result {
    guarded(
        "vkNegotiateLoaderLayerInterfaceVersion",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: the loader passes a valid struct or null.
            let Some(v) = (unsafe { p_version_struct.as_mut() }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            if v.s_type != LAYER_NEGOTIATE_INTERFACE_STRUCT || v.loader_layer_interface_version < 2
            {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            }
            // Fork safety: pthread_atfork handlers, once per load of the library (fork.rs).
            crate::fork::register();
            v.loader_layer_interface_version = LAYER_INTERFACE_VERSION;
            v.pfn_get_instance_proc_addr = Some(vkGetInstanceProcAddr);
            v.pfn_get_device_proc_addr = Some(vkGetDeviceProcAddr);
            v.pfn_get_physical_device_proc_addr = Some(vk_layerGetPhysicalDeviceProcAddr);
            vk::Result::SUCCESS
        },
    )
}

/// # Safety
/// `p_name` is a NUL-terminated string; `instance` is null or live.
#[no_mangle]
pub unsafe extern "system" fn vkGetInstanceProcAddr(
    instance: vk::Instance,
    p_name: *const c_char,
) -> vk::PFN_vkVoidFunction {
    guarded("vkGetInstanceProcAddr", None, || {
        if p_name.is_null() {
            return None;
        }
        // SAFETY: non-null names are NUL-terminated per the spec.
        let name = unsafe { CStr::from_ptr(p_name) };
        if let Some(pfn) = global_command(name) {
            return pfn;
        }
        if instance.is_null() {
            return None;
        }
        // SAFETY: a non-null instance handed to vkGetInstanceProcAddr is live.
        let data = dispatch::instance(unsafe { dispatch::key(instance) })?;
        if let Some(cmd) = find(instance_commands(), name) {
            return match cmd.gate {
                Gate::Instance(ext) if !data.has_extension(ext) => None,
                _ => Some(cmd.pfn),
            };
        }
        // Device commands asked of the instance still pass through Handoff.
        if let Some(cmd) = find(device_commands(), name) {
            return Some(cmd.pfn);
        }
        // SAFETY: forwarding to the next layer with the app's arguments.
        unsafe { (data.next_gipa)(instance, p_name) }
    })
}

/// # Safety
/// `p_name` is a NUL-terminated string; `device` is live.
#[no_mangle]
pub unsafe extern "system" fn vkGetDeviceProcAddr(
    device: vk::Device,
    p_name: *const c_char,
) -> vk::PFN_vkVoidFunction {
    guarded("vkGetDeviceProcAddr", None, || {
        if p_name.is_null() || device.is_null() {
            return None;
        }
        // SAFETY: non-null names are NUL-terminated per the spec.
        let name = unsafe { CStr::from_ptr(p_name) };
        // SAFETY: a non-null device handed to vkGetDeviceProcAddr is live.
        let data = dispatch::device(unsafe { dispatch::key(device) })?;
        // A device that cannot share a payload gets the next layer's commands: nothing it
        // does can reach a rule, and an app that shares nothing pays nothing.
        let wanted =
            data.enabled.shares || name == c"vkGetDeviceProcAddr" || name == c"vkDestroyDevice";
        if let Some(cmd) = find(device_commands(), name).filter(|_| wanted) {
            return match cmd.gate {
                Gate::Device(ext) if !data.has_extension(ext) => None,
                _ => Some(cmd.pfn),
            };
        }
        // SAFETY: forwarding to the next layer.
        unsafe { (data.next_gdpa)(device, p_name) }
    })
}

/// Physical-device commands the loader does not know by name pass straight down.
///
/// # Safety
/// As [`vkGetInstanceProcAddr`].
#[no_mangle]
pub unsafe extern "system" fn vk_layerGetPhysicalDeviceProcAddr(
    instance: vk::Instance,
    p_name: *const c_char,
) -> vk::PFN_vkVoidFunction {
    guarded("vk_layerGetPhysicalDeviceProcAddr", None, || {
        if instance.is_null() || p_name.is_null() {
            return None;
        }
        // SAFETY: a non-null instance is live.
        let data = dispatch::instance(unsafe { dispatch::key(instance) })?;
        // SAFETY: non-null names are NUL-terminated per the spec.
        let name = unsafe { CStr::from_ptr(p_name) };
        // Physical-device commands Handoff intercepts, gated as in vkGetInstanceProcAddr.
        if let Some(cmd) = find(instance_commands(), name)
            .filter(|c| c.name.to_bytes().starts_with(b"vkGetPhysicalDevice"))
        {
            return match cmd.gate {
                Gate::Instance(ext) if !data.has_extension(ext) => None,
                _ => Some(cmd.pfn),
            };
        }
        // SAFETY: forwarding to the next layer.
        data.next_gpdpa.and_then(|f| unsafe { f(instance, p_name) })
    })
}

/// The standard two-call enumeration: count with a null array, then fill.
///
/// # Safety
/// `p_count` is valid; `p_out` is null or holds `*p_count` elements.
unsafe fn enumerate<T: Copy>(items: &[T], p_count: *mut u32, p_out: *mut T) -> vk::Result {
    // SAFETY: the caller guarantees `p_count` (null is rejected here).
    let Some(count) = (unsafe { p_count.as_mut() }) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    if p_out.is_null() {
        *count = items.len() as u32;
        return vk::Result::SUCCESS;
    }
    let n = (*count as usize).min(items.len());
    // SAFETY: `p_out` holds at least `*count >= n` elements.
    unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), p_out, n) };
    *count = n as u32;
    if n < items.len() {
        vk::Result::INCOMPLETE
    } else {
        vk::Result::SUCCESS
    }
}

fn fixed<const N: usize>(s: &CStr) -> [c_char; N] {
    let mut out = [0 as c_char; N];
    for (o, b) in out.iter_mut().zip(s.to_bytes().iter().take(N - 1)) {
        *o = *b as c_char;
    }
    out
}

fn layer_properties() -> vk::LayerProperties {
    vk::LayerProperties {
        layer_name: fixed(c"VK_LAYER_HANDOFF_validation"),
        spec_version: vk::make_api_version(0, 1, 3, 239),
        implementation_version: 1,
        description: fixed(c"Handoff: validates external-memory interop across APIs and processes"),
    }
}

fn is_this_layer(p_layer_name: *const c_char) -> bool {
    // SAFETY: a non-null layer name is NUL-terminated.
    !p_layer_name.is_null()
        && unsafe { CStr::from_ptr(p_layer_name) }.to_bytes() == settings::LAYER_NAME.as_bytes()
}

/// # Safety
/// Standard enumeration pointers.
#[no_mangle]
pub unsafe extern "system" fn vkEnumerateInstanceLayerProperties(
    p_count: *mut u32,
    p_props: *mut vk::LayerProperties,
) -> vk::Result {
    guarded(
        "vkEnumerateInstanceLayerProperties",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: forwarded contract.
            unsafe { enumerate(&[layer_properties()], p_count, p_props) }
        },
    )
}

/// # Safety
/// Standard enumeration pointers; `p_layer_name` null or NUL-terminated.
#[no_mangle]
pub unsafe extern "system" fn vkEnumerateInstanceExtensionProperties(
    p_layer_name: *const c_char,
    p_count: *mut u32,
    p_props: *mut vk::ExtensionProperties,
) -> vk::Result {
    guarded(
        "vkEnumerateInstanceExtensionProperties",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            if !is_this_layer(p_layer_name) {
                return vk::Result::ERROR_LAYER_NOT_PRESENT;
            }
            let exts: Vec<vk::ExtensionProperties> = INSTANCE_EXTENSIONS
                .iter()
                .map(|(name, v)| vk::ExtensionProperties {
                    extension_name: fixed(name),
                    spec_version: *v,
                })
                .collect();
            // SAFETY: forwarded contract.
            unsafe { enumerate(&exts, p_count, p_props) }
        },
    )
}

/// # Safety
/// Standard enumeration pointers.
#[no_mangle]
pub unsafe extern "system" fn vkEnumerateDeviceLayerProperties(
    _physical_device: vk::PhysicalDevice,
    p_count: *mut u32,
    p_props: *mut vk::LayerProperties,
) -> vk::Result {
    guarded(
        "vkEnumerateDeviceLayerProperties",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: forwarded contract.
            unsafe { enumerate(&[layer_properties()], p_count, p_props) }
        },
    )
}

/// # Safety
/// Standard enumeration pointers; `physical_device` null or live.
#[no_mangle]
pub unsafe extern "system" fn vkEnumerateDeviceExtensionProperties(
    physical_device: vk::PhysicalDevice,
    p_layer_name: *const c_char,
    p_count: *mut u32,
    p_props: *mut vk::ExtensionProperties,
) -> vk::Result {
    guarded(
        "vkEnumerateDeviceExtensionProperties",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            if is_this_layer(p_layer_name) {
                // SAFETY: forwarded contract.
                return unsafe { enumerate::<vk::ExtensionProperties>(&[], p_count, p_props) };
            }
            if physical_device.is_null() {
                return vk::Result::ERROR_LAYER_NOT_PRESENT;
            }
            // SAFETY: a live physical device shares its instance's dispatch pointer.
            let Some(data) = dispatch::instance(unsafe { dispatch::key(physical_device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            unsafe {
                (data.fns.fp_v1_0().enumerate_device_extension_properties)(
                    physical_device,
                    p_layer_name,
                    p_count,
                    p_props,
                )
            }
        },
    )
}

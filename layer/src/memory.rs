//! Memory objects: allocation, freeing and fd export.

use crate::dispatch;
use crate::guard::guarded;
use crate::instance::chain_malformed;
use crate::pnext;
use crate::state::{self, MemoryRecord};
use ash::vk::{self, Handle};
use handoff_rules::checks::memory_export::{self, ExportFacts, GetFdCall};
use handoff_rules::Object;

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn allocate_memory(
    device: vk::Device,
    p_allocate_info: *const vk::MemoryAllocateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_memory: *mut vk::DeviceMemory,
) -> vk::Result {
    guarded(
        "vkAllocateMemory",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let alloc = |info| {
                // SAFETY: forwarding the app's arguments.
                unsafe { (data.fns.fp_v1_0().allocate_memory)(device, info, p_allocator, p_memory) }
            };
            // SAFETY: a valid allocate info, or null (which only the driver may judge).
            let Some(info) = (unsafe { p_allocate_info.as_ref() }) else {
                return alloc(p_allocate_info);
            };
            let mut export_types = vk::ExternalMemoryHandleTypeFlags::empty();
            // SAFETY: the chain of a valid allocate info; the cast matches the sType.
            let walked = unsafe {
                pnext::walk(info.p_next, |st, p| {
                    if st == vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO {
                        export_types |=
                            (*(p as *const vk::ExportMemoryAllocateInfo<'_>)).handle_types;
                    }
                })
            };
            if let Err(m) = walked {
                data.reporter.report(chain_malformed(
                    "VkMemoryAllocateInfo",
                    m,
                    vec![Object::new(vk::ObjectType::DEVICE, device.as_raw())],
                ));
            }
            let res = alloc(p_allocate_info);
            if res == vk::Result::SUCCESS && !p_memory.is_null() {
                // SAFETY: written by the driver on success.
                let memory = unsafe { *p_memory };
                state::insert_memory(
                    device,
                    memory,
                    MemoryRecord {
                        size: info.allocation_size,
                        type_index: info.memory_type_index,
                        export_types,
                    },
                );
                tracing::trace!(target: "handoff", memory = memory.as_raw(), ?export_types, "vkAllocateMemory");
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn free_memory(
    device: vk::Device,
    memory: vk::DeviceMemory,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkFreeMemory", (), || {
        // SAFETY: `device` is a live device of this layer's chain.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return;
        };
        if !memory.is_null() {
            state::remove_memory(device, memory);
        }
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().free_memory)(device, memory, p_allocator) };
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn get_memory_fd(
    device: vk::Device,
    p_get_fd_info: *const vk::MemoryGetFdInfoKHR<'_>,
    p_fd: *mut i32,
) -> vk::Result {
    guarded(
        "vkGetMemoryFdKHR",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe { (data.external_memory_fd.get_memory_fd_khr)(device, p_get_fd_info, p_fd) }
            };
            // SAFETY: a valid info, or null (not ours to judge yet).
            let Some(info) = (unsafe { p_get_fd_info.as_ref() }) else {
                return forward();
            };
            let call = GetFdCall {
                device: device.as_raw(),
                memory: info.memory.as_raw(),
                handle_type: info.handle_type,
            };
            let facts = state::memory(device, info.memory).map(|m| ExportFacts {
                export_types: m.export_types,
            });
            let findings = memory_export::get_memory_fd(&call, facts.as_ref());
            let verdict = data.reporter.report_all(findings);
            if verdict.skip_call(&data.reporter.settings) {
                return vk::Result::ERROR_VALIDATION_FAILED_EXT;
            }
            forward()
        },
    )
}

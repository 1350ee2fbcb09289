//! Fences and semaphores (binary and timeline), with fd export and import. Nothing ever
//! runs, so waits return at once: a fence wait marks the fence signaled, a timeline wait
//! that would block moves the counter to the awaited value.

use crate::fd;
use crate::ffi;
use crate::profile::Profile;
use crate::state::{self, Object, Registry};
use ash::vk;
use ash::vk::Handle;
use std::ffi::{c_int, CStr};

const SEMAPHORE_EXPORTABLE: u32 = vk::ExternalSemaphoreFeatureFlags::EXPORTABLE.as_raw();
const SEMAPHORE_IMPORTABLE: u32 = vk::ExternalSemaphoreFeatureFlags::IMPORTABLE.as_raw();
const FENCE_EXPORTABLE: u32 = vk::ExternalFenceFeatureFlags::EXPORTABLE.as_raw();
const FENCE_IMPORTABLE: u32 = vk::ExternalFenceFeatureFlags::IMPORTABLE.as_raw();

/// A `VkFence`.
#[derive(Debug)]
pub struct Fence {
    pub signaled: bool,
    /// `VkExportFenceCreateInfo::handleTypes`.
    pub export_types: u32,
}

/// A `VkSemaphore`.
#[derive(Debug)]
pub struct Semaphore {
    pub timeline: bool,
    /// Timeline counter.
    pub value: u64,
    /// Binary state.
    pub signaled: bool,
    /// `VkExportSemaphoreCreateInfo::handleTypes`.
    pub export_types: u32,
}

/// Signals a semaphore: binary ones become signaled, timeline ones move to `value`.
pub fn signal_semaphore(r: &mut Registry, semaphore: vk::Semaphore, value: u64) {
    if let Some(s) = r.semaphore_mut(semaphore) {
        if s.timeline {
            s.value = s.value.max(value);
        } else {
            s.signaled = true;
        }
    }
}

/// A queue wait on a semaphore: a binary semaphore's payload is consumed.
pub fn wait_semaphore(r: &mut Registry, semaphore: vk::Semaphore) {
    if let Some(s) = r.semaphore_mut(semaphore) {
        if !s.timeline {
            s.signaled = false;
        }
    }
}

/// Signals a fence (no-op for a null or unknown handle).
pub fn signal_fence(r: &mut Registry, fence: vk::Fence) {
    if let Some(f) = r.fence_mut(fence) {
        f.signaled = true;
    }
}

/// An exported payload: OPAQUE_FD as a memfd, SYNC_FD as a signaled eventfd.
fn export_payload(sync_fd: bool, name: &CStr) -> Result<c_int, vk::Result> {
    let made = if sync_fd {
        fd::signaled_eventfd()
    } else {
        fd::memfd(name, 8)
    };
    made.map(fd::release)
        .map_err(|_| vk::Result::ERROR_TOO_MANY_OBJECTS)
}

/// Consumes an imported fd: SYNC_FD may be -1 (already signaled); anything else must be
/// open. A failed import leaves the fd with the app.
fn consume_import(sync_fd: bool, raw: c_int) -> Result<(), vk::Result> {
    if sync_fd && raw == -1 {
        return Ok(());
    }
    if !fd::is_open(raw) {
        return Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE);
    }
    // SAFETY: the fd is open and a successful import transfers it to the implementation,
    // which has no further use for it.
    drop(unsafe { fd::adopt(raw) });
    Ok(())
}

fn device_profile(device: vk::Device) -> Option<std::sync::Arc<Profile>> {
    state::with(|r| r.device_profile(device))
}

/// `vkCreateFence`.
///
/// # Safety
/// `p_info` is null or valid with a valid chain; `p_fence` is null or writable.
pub unsafe extern "system" fn create_fence(
    device: vk::Device,
    p_info: *const vk::FenceCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_fence: *mut vk::Fence,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        if p_fence.is_null() || device_profile(device).is_none() {
            return vk::Result::ERROR_UNKNOWN;
        }
        // SAFETY: the chain is valid per the caller.
        let export = unsafe { ffi::find::<vk::ExportFenceCreateInfo<'_>>(info.p_next) };
        let fence = Fence {
            signaled: info.flags.contains(vk::FenceCreateFlags::SIGNALED),
            export_types: export.map_or(0, |e| e.handle_types.as_raw()),
        };
        let id = state::with(|r| r.insert(device, Object::Fence(fence)));
        // SAFETY: checked non-null; writable per the caller.
        unsafe { ffi::write(p_fence, vk::Fence::from_raw(id)) };
        vk::Result::SUCCESS
    })
}

/// `vkDestroyFence`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_fence(
    _device: vk::Device,
    fence: vk::Fence,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        state::with(|r| r.remove_if(fence.as_raw(), |o| matches!(o, Object::Fence(_))));
    })
}

/// `vkResetFences`.
///
/// # Safety
/// `p_fences` is null or points to `count` handles.
pub unsafe extern "system" fn reset_fences(
    _device: vk::Device,
    count: u32,
    p_fences: *const vk::Fence,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: forwarded from the caller.
        let fences = unsafe { ffi::slice(p_fences, count) };
        state::with(|r| {
            for f in fences {
                if let Some(f) = r.fence_mut(*f) {
                    f.signaled = false;
                }
            }
        });
        vk::Result::SUCCESS
    })
}

/// `vkGetFenceStatus`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn get_fence_status(
    _device: vk::Device,
    fence: vk::Fence,
) -> vk::Result {
    ffi::guard(|| {
        state::with(|r| match r.fence_mut(fence) {
            Some(f) if f.signaled => vk::Result::SUCCESS,
            Some(_) => vk::Result::NOT_READY,
            None => vk::Result::ERROR_UNKNOWN,
        })
    })
}

/// `vkWaitForFences`: returns at once and marks the fences signaled.
///
/// # Safety
/// `p_fences` is null or points to `count` handles.
pub unsafe extern "system" fn wait_for_fences(
    _device: vk::Device,
    count: u32,
    p_fences: *const vk::Fence,
    _wait_all: vk::Bool32,
    _timeout: u64,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: forwarded from the caller.
        let fences = unsafe { ffi::slice(p_fences, count) };
        state::with(|r| fences.iter().for_each(|f| signal_fence(r, *f)));
        vk::Result::SUCCESS
    })
}

/// `vkCreateSemaphore`: binary or timeline (`VkSemaphoreTypeCreateInfo`).
///
/// # Safety
/// `p_info` is null or valid with a valid chain; `p_semaphore` is null or writable.
pub unsafe extern "system" fn create_semaphore(
    device: vk::Device,
    p_info: *const vk::SemaphoreCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_semaphore: *mut vk::Semaphore,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        if p_semaphore.is_null() || device_profile(device).is_none() {
            return vk::Result::ERROR_UNKNOWN;
        }
        // SAFETY: the chain is valid per the caller.
        let ty = unsafe { ffi::find::<vk::SemaphoreTypeCreateInfo<'_>>(info.p_next) };
        // SAFETY: as above.
        let export = unsafe { ffi::find::<vk::ExportSemaphoreCreateInfo<'_>>(info.p_next) };
        let timeline = ty.is_some_and(|t| t.semaphore_type == vk::SemaphoreType::TIMELINE);
        let semaphore = Semaphore {
            timeline,
            value: if timeline {
                ty.map_or(0, |t| t.initial_value)
            } else {
                0
            },
            signaled: false,
            export_types: export.map_or(0, |e| e.handle_types.as_raw()),
        };
        let id = state::with(|r| r.insert(device, Object::Semaphore(semaphore)));
        // SAFETY: checked non-null; writable per the caller.
        unsafe { ffi::write(p_semaphore, vk::Semaphore::from_raw(id)) };
        vk::Result::SUCCESS
    })
}

/// `vkDestroySemaphore`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_semaphore(
    _device: vk::Device,
    semaphore: vk::Semaphore,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        state::with(|r| r.remove_if(semaphore.as_raw(), |o| matches!(o, Object::Semaphore(_))));
    })
}

/// `vkGetSemaphoreCounterValue`.
///
/// # Safety
/// `p_value` is null or writable.
pub unsafe extern "system" fn get_semaphore_counter_value(
    _device: vk::Device,
    semaphore: vk::Semaphore,
    p_value: *mut u64,
) -> vk::Result {
    ffi::guard(|| {
        let Some(value) = state::with(|r| r.semaphore_mut(semaphore).map(|s| s.value)) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        if unsafe { ffi::write(p_value, value) } {
            vk::Result::SUCCESS
        } else {
            vk::Result::ERROR_UNKNOWN
        }
    })
}

/// `vkSignalSemaphore`.
///
/// # Safety
/// `p_info` is null or valid.
pub unsafe extern "system" fn signal_semaphore_host(
    _device: vk::Device,
    p_info: *const vk::SemaphoreSignalInfo<'_>,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        state::with(|r| signal_semaphore(r, info.semaphore, info.value));
        vk::Result::SUCCESS
    })
}

/// `vkWaitSemaphores`: `VK_TIMEOUT` for a zero timeout that is not met yet; otherwise the
/// wait "completes" at once and the counters move to the awaited values.
///
/// # Safety
/// `p_info` is null or valid with arrays of `semaphoreCount` entries.
pub unsafe extern "system" fn wait_semaphores(
    _device: vk::Device,
    p_info: *const vk::SemaphoreWaitInfo<'_>,
    timeout: u64,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: both arrays hold `semaphore_count` entries per the caller.
        let sems = unsafe { ffi::slice(info.p_semaphores, info.semaphore_count) };
        // SAFETY: as above.
        let values = unsafe { ffi::slice(info.p_values, info.semaphore_count) };
        let any = info.flags.contains(vk::SemaphoreWaitFlags::ANY);
        state::with(|r| {
            let reached: Vec<bool> = sems
                .iter()
                .zip(values)
                .map(|(s, v)| r.semaphore_mut(*s).map_or(true, |s| s.value >= *v))
                .collect();
            let met = if any {
                reached.iter().any(|b| *b) || reached.is_empty()
            } else {
                reached.iter().all(|b| *b)
            };
            if met {
                return vk::Result::SUCCESS;
            }
            if timeout == 0 {
                return vk::Result::TIMEOUT;
            }
            for (s, v) in sems.iter().zip(values) {
                signal_semaphore(r, *s, *v);
                if any {
                    break;
                }
            }
            vk::Result::SUCCESS
        })
    })
}

/// `vkGetSemaphoreFdKHR`.
///
/// # Safety
/// `p_info` is null or valid; `p_fd` is null or writable.
pub unsafe extern "system" fn get_semaphore_fd(
    device: vk::Device,
    p_info: *const vk::SemaphoreGetFdInfoKHR<'_>,
    p_fd: *mut c_int,
) -> vk::Result {
    ffi::guard(|| {
        let invalid = vk::Result::ERROR_INVALID_EXTERNAL_HANDLE;
        let Some(p) = device_profile(device) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return invalid;
        };
        if p_fd.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        let ht = info.handle_type.as_raw();
        let sync_fd = info.handle_type == vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD;
        let exported = state::with(|r| {
            let s = r.semaphore_mut(info.semaphore).ok_or(invalid)?;
            let exportable = p
                .semaphore_external(ht, s.timeline)
                .is_some_and(|e| e.features & SEMAPHORE_EXPORTABLE != 0);
            if !exportable || s.export_types & ht == 0 {
                return Err(invalid);
            }
            if sync_fd {
                // Exporting a sync file acts as a wait: the payload moves to the fd.
                s.signaled = false;
            }
            export_payload(sync_fd, c"handoff-mock-semaphore")
        });
        match exported {
            Ok(raw) => {
                // SAFETY: checked non-null; writable per the caller.
                unsafe { ffi::write(p_fd, raw) };
                vk::Result::SUCCESS
            }
            Err(e) => e,
        }
    })
}

/// `vkImportSemaphoreFdKHR`: checks the handle type against the profile, then consumes
/// (closes) the fd.
///
/// # Safety
/// `p_info` is null or valid.
pub unsafe extern "system" fn import_semaphore_fd(
    device: vk::Device,
    p_info: *const vk::ImportSemaphoreFdInfoKHR<'_>,
) -> vk::Result {
    ffi::guard(|| {
        let invalid = vk::Result::ERROR_INVALID_EXTERNAL_HANDLE;
        let Some(p) = device_profile(device) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return invalid;
        };
        let ht = info.handle_type.as_raw();
        let sync_fd = info.handle_type == vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD;
        state::with(|r| {
            let Some(s) = r.semaphore_mut(info.semaphore) else {
                return invalid;
            };
            let importable = p
                .semaphore_external(ht, s.timeline)
                .is_some_and(|e| e.features & SEMAPHORE_IMPORTABLE != 0);
            if !importable || (sync_fd && s.timeline) {
                return invalid;
            }
            match consume_import(sync_fd, info.fd) {
                Ok(()) => {
                    if sync_fd {
                        s.signaled = true;
                    }
                    vk::Result::SUCCESS
                }
                Err(e) => e,
            }
        })
    })
}

/// `vkGetFenceFdKHR`.
///
/// # Safety
/// `p_info` is null or valid; `p_fd` is null or writable.
pub unsafe extern "system" fn get_fence_fd(
    device: vk::Device,
    p_info: *const vk::FenceGetFdInfoKHR<'_>,
    p_fd: *mut c_int,
) -> vk::Result {
    ffi::guard(|| {
        let invalid = vk::Result::ERROR_INVALID_EXTERNAL_HANDLE;
        let Some(p) = device_profile(device) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return invalid;
        };
        if p_fd.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        let ht = info.handle_type.as_raw();
        let sync_fd = info.handle_type == vk::ExternalFenceHandleTypeFlags::SYNC_FD;
        let exportable = p
            .fence_external(ht)
            .is_some_and(|e| e.features & FENCE_EXPORTABLE != 0);
        let exported = state::with(|r| {
            let f = r.fence_mut(info.fence).ok_or(invalid)?;
            if !exportable || f.export_types & ht == 0 {
                return Err(invalid);
            }
            if sync_fd {
                // Copy transference: exporting resets the fence.
                f.signaled = false;
            }
            export_payload(sync_fd, c"handoff-mock-fence")
        });
        match exported {
            Ok(raw) => {
                // SAFETY: checked non-null; writable per the caller.
                unsafe { ffi::write(p_fd, raw) };
                vk::Result::SUCCESS
            }
            Err(e) => e,
        }
    })
}

/// `vkImportFenceFdKHR`: checks the handle type against the profile, then consumes
/// (closes) the fd.
///
/// # Safety
/// `p_info` is null or valid.
pub unsafe extern "system" fn import_fence_fd(
    device: vk::Device,
    p_info: *const vk::ImportFenceFdInfoKHR<'_>,
) -> vk::Result {
    ffi::guard(|| {
        let invalid = vk::Result::ERROR_INVALID_EXTERNAL_HANDLE;
        let Some(p) = device_profile(device) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return invalid;
        };
        let ht = info.handle_type.as_raw();
        let sync_fd = info.handle_type == vk::ExternalFenceHandleTypeFlags::SYNC_FD;
        if !p
            .fence_external(ht)
            .is_some_and(|e| e.features & FENCE_IMPORTABLE != 0)
        {
            return invalid;
        }
        state::with(|r| {
            let Some(f) = r.fence_mut(info.fence) else {
                return invalid;
            };
            match consume_import(sync_fd, info.fd) {
                Ok(()) => {
                    if sync_fd {
                        f.signaled = true;
                    }
                    vk::Result::SUCCESS
                }
                Err(e) => e,
            }
        })
    })
}

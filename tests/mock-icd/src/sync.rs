//! Fences and semaphores (binary and timeline), with fd export and import. Queue workers
//! (`queue`) complete signals; host waits block until then, honouring their timeout.

use crate::fd;
use crate::ffi;
use crate::profile::Profile;
use crate::queue;
use crate::state::{self, Object, Registry};
use ash::vk;
use ash::vk::Handle;
use std::ffi::{c_int, CStr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

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
    /// Submissions queued with this fence and not executed yet.
    pub pending: u32,
    /// Sync files exported while a signal was pending: written when it completes.
    pub sync_fds: Vec<OwnedFd>,
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
    /// Queued signal operations not executed yet.
    pub pending_signals: u32,
    /// Sync files exported while a signal was pending, each with the number of queued
    /// signals still to execute before its own (the last one queued at the export): the
    /// export took that signal's payload, so it goes to the fd instead of the semaphore.
    pub sync_fds: Vec<(u32, OwnedFd)>,
}

/// An eventfd with count 0: a sync file whose fence has not signaled yet.
fn unsignaled_eventfd() -> Result<OwnedFd, vk::Result> {
    // SAFETY: plain syscall with valid flags.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if raw < 0 {
        return Err(vk::Result::ERROR_TOO_MANY_OBJECTS);
    }
    // SAFETY: `raw` was just created and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Makes an exported sync file readable (its eventfd counter becomes non-zero).
fn signal_sync_fd(fd: &OwnedFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live u64 to an eventfd the mock owns.
    let _ = unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

/// Executes a queued semaphore signal (queue worker).
pub fn complete_semaphore_signal(r: &mut Registry, semaphore: vk::Semaphore, value: u64) {
    if let Some(s) = r.semaphore_mut(semaphore) {
        s.pending_signals = s.pending_signals.saturating_sub(1);
        let mut taken = false;
        s.sync_fds.retain_mut(|(left, fd)| {
            *left = left.saturating_sub(1);
            if *left == 0 {
                signal_sync_fd(fd);
                taken = true;
            }
            *left > 0
        });
        if taken {
            return;
        }
    }
    signal_semaphore(r, semaphore, value);
}

/// Executes a queued fence signal (queue worker); no-op for a null or unknown fence.
pub fn complete_fence(r: &mut Registry, fence: vk::Fence) {
    if let Some(f) = r.fence_mut(fence) {
        f.pending = f.pending.saturating_sub(1);
        f.signaled = true;
        for fd in f.sync_fds.drain(..) {
            signal_sync_fd(&fd);
        }
    }
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
            pending: 0,
            sync_fds: Vec::new(),
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
        queue::changing(|| {
            state::with(|r| {
                for f in fences {
                    if let Some(f) = r.fence_mut(*f) {
                        f.signaled = false;
                    }
                }
            })
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

/// `vkWaitForFences`: blocks until the fences are signaled (all, or any with
/// `waitAll` false) or the timeout passes.
///
/// # Safety
/// `p_fences` is null or points to `count` handles.
pub unsafe extern "system" fn wait_for_fences(
    _device: vk::Device,
    count: u32,
    p_fences: *const vk::Fence,
    wait_all: vk::Bool32,
    timeout: u64,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: forwarded from the caller.
        let fences = unsafe { ffi::slice(p_fences, count) };
        let all = wait_all != vk::FALSE;
        let waited = queue::wait_until(timeout, |_, r| {
            let mut states = fences
                .iter()
                .map(|f| r.fence_mut(*f).map_or(true, |f| f.signaled));
            if all {
                states.all(|b| b)
            } else {
                states.any(|b| b) || fences.is_empty()
            }
        });
        waited.result()
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
            pending_signals: 0,
            sync_fds: Vec::new(),
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
        queue::changing(|| state::with(|r| signal_semaphore(r, info.semaphore, info.value)));
        vk::Result::SUCCESS
    })
}

/// `vkWaitSemaphores`: blocks until the timeline values are reached (all, or any with
/// `VK_SEMAPHORE_WAIT_ANY_BIT`) or the timeout passes.
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
        let waited = queue::wait_until(timeout, |_, r| {
            let mut reached = sems
                .iter()
                .zip(values)
                .map(|(s, v)| r.semaphore_mut(*s).map_or(true, |s| s.value >= *v));
            if any {
                reached.any(|b| b) || sems.is_empty()
            } else {
                reached.all(|b| b)
            }
        });
        waited.result()
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
            let last = s.pending_signals;
            if sync_fd && last > 0 && !s.sync_fds.iter().any(|(left, _)| *left == last) {
                // The last queued signal is the payload: the fd becomes readable when it
                // executes.
                let fd = unsignaled_eventfd()?;
                let mine = fd::dup(&fd).map_err(|_| vk::Result::ERROR_TOO_MANY_OBJECTS)?;
                s.sync_fds.push((last, mine));
                return Ok(fd::release(fd));
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
        queue::changing(|| {
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
            if sync_fd && !f.signaled && f.pending > 0 {
                // The signal is still queued: the fd becomes readable when it executes.
                let fd = unsignaled_eventfd()?;
                let mine = fd::dup(&fd).map_err(|_| vk::Result::ERROR_TOO_MANY_OBJECTS)?;
                f.sync_fds.push(mine);
                return Ok(fd::release(fd));
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
        queue::changing(|| {
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
    })
}

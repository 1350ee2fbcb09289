//! Queues and submissions: `vkGetDeviceQueue(2)`, `vkQueueSubmit(2)(KHR)`, the waits that
//! show the app saw work complete, and the pending-work model (`state::queues`) that the
//! semaphore and fence fd rules of `sync.rs` ask through the `pub fn`s at the end.
//!
//! A submission of one command buffer (the common case; `submit_one` when it also chains
//! nothing) is applied in place by `ownership::apply_single`, its one lookup also showing it
//! live. Otherwise the ops of every batch are copied out of the command buffer records
//! first, one lookup per command buffer that also shows it live (`ownership::Gathered`;
//! only a command buffer the lookup missed goes to `liveness`). Then each batch goes
//! through `ownership::apply_batch` in order, then `HANDOFF-Sync-release-without-signal` (best_practices). The submission's
//! fence counts as a signal for every batch: it signals after all of them, so the other side
//! can wait on it for any release of the submission. Findings at submit are reported and never block.
//!
//! Not seen: `vkQueueBindSparse` semaphores and fences (bind.rs forwards them) and
//! semaphores signaled outside submissions (swapchain acquires). The export rules stay
//! silent where that could matter: they claim an unsignaled semaphore only after a wait or
//! export the layer saw.

use crate::c_arrays::slice;
use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::instance::chain_malformed;
use crate::state::queues::{self as pending, Batch, FenceLast, SemaphoreLast};
use crate::state::sync as sync_state;
use ash::vk::{self, Handle};
use handoff_rules::checks::queue::{self as rules, FenceState, ReleaseBatch, SemaphoreState};
use handoff_rules::checks::sync::Kind;
use handoff_rules::{Finding, Object};
use smallvec::SmallVec;
use std::ffi::c_void;

fn report(data: &DeviceData, findings: Vec<Finding>) {
    if !findings.is_empty() {
        // Reported, never blocking: the call always goes down.
        let _ = data.reporter.report_all(findings);
    }
}

// ---------------------------------------------------------------------------------------
// vkGetDeviceQueue(2)

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn get_device_queue(
    device: vk::Device,
    family: u32,
    index: u32,
    p_queue: *mut vk::Queue,
) {
    guarded("vkGetDeviceQueue", (), || {
        // SAFETY: a live device.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return;
        };
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().get_device_queue)(device, family, index, p_queue) };
        // SAFETY: `p_queue` was valid for the call, which wrote it.
        if let Some(q) = unsafe { p_queue.as_ref() }.filter(|q| !q.is_null()) {
            pending::set_family(device, *q, family);
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn get_device_queue2(
    device: vk::Device,
    p_info: *const vk::DeviceQueueInfo2<'_>,
    p_queue: *mut vk::Queue,
) {
    guarded("vkGetDeviceQueue2", (), || {
        // SAFETY: a live device.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return;
        };
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_1().get_device_queue2)(device, p_info, p_queue) };
        // SAFETY: both pointers were valid for the call.
        let (info, queue) = unsafe { (p_info.as_ref(), p_queue.as_ref()) };
        if let (Some(info), Some(q)) = (info, queue.filter(|q| !q.is_null())) {
            pending::set_family(device, *q, info.queue_family_index);
        }
    })
}

// ---------------------------------------------------------------------------------------
// Submissions

/// Applies each batch's ops (gathered before anything was forwarded) to the ownership state
/// and checks the submit-level rules. `batch(i)` gives a batch's command buffers and
/// whether it signals a semaphore; it is asked only for a finding's details.
fn check_batches(
    data: &DeviceData,
    queue: vk::Queue,
    command: &'static str,
    gathered: &crate::ownership::Gathered,
    count: usize,
    batch: impl Fn(usize) -> (SmallVec<[vk::CommandBuffer; 4]>, bool),
    fence: vk::Fence,
) {
    if gathered.is_empty() {
        return;
    }
    // Looked up by the first op that needs it.
    let mut family = None;
    let mut findings = Vec::new();
    let best_practices = data.reporter.settings.best_practices;
    for i in 0..count {
        let applied =
            crate::ownership::apply_batch(data, queue, &mut family, gathered, i, &mut findings);
        if applied.released && best_practices {
            let (command_buffers, signals_semaphore) = batch(i);
            findings.extend(rules::release_without_signal(&ReleaseBatch {
                command,
                queue: queue.as_raw(),
                batch: i,
                command_buffers: &command_buffers,
                released: applied.released,
                signals_semaphore,
                fence: !fence.is_null(),
                can_export_sync: data.enabled.external_semaphore_fd
                    || data.enabled.external_fence_fd,
                best_practices,
            }));
        }
    }
    report(data, findings);
}

/// [`check_batches`] for a submission whose only command buffer, in batch `batch`,
/// `ownership::apply_single` applied (with `findings`).
fn check_single(
    data: &DeviceData,
    queue: vk::Queue,
    command: &'static str,
    (batch, command_buffer, signals_semaphore): (usize, vk::CommandBuffer, bool),
    applied: crate::ownership::Applied,
    mut findings: Vec<Finding>,
    fence: vk::Fence,
) {
    let best_practices = data.reporter.settings.best_practices;
    if applied.released && best_practices {
        findings.extend(rules::release_without_signal(&ReleaseBatch {
            command,
            queue: queue.as_raw(),
            batch,
            command_buffers: &[command_buffer],
            released: applied.released,
            signals_semaphore,
            fence: !fence.is_null(),
            can_export_sync: data.enabled.external_semaphore_fd || data.enabled.external_fence_fd,
            best_practices,
        }));
    }
    report(data, findings);
}

/// The only command buffer of a submission, as `(batch, command buffer, whether its batch
/// signals a semaphore)`; `None` when it has none or several.
fn only_command_buffer<S>(
    submits: &[S],
    count: impl Fn(&S) -> u32,
    first: impl Fn(&S) -> (vk::CommandBuffer, bool),
) -> Option<(usize, vk::CommandBuffer, bool)> {
    if let [s] = submits {
        return (count(s) == 1).then(|| {
            let (cb, signals) = first(s);
            (0, cb, signals)
        });
    }
    let mut only = None;
    for (i, s) in submits.iter().enumerate() {
        match (count(s), only) {
            (0, _) => {}
            (1, None) => only = Some(i),
            _ => return None,
        }
    }
    only.map(|i| {
        let (cb, signals) = first(&submits[i]);
        (i, cb, signals)
    })
}

/// Records a successful submission in the pending model. Submissions that use no semaphore
/// and no fence leave nothing to track: only the order of tracked batches matters to it.
fn record(
    data: &DeviceData,
    queue: vk::Queue,
    count: usize,
    fence: vk::Fence,
    batch: impl Fn(usize) -> Batch,
    uses_sync: bool,
) {
    let device = data.handle;
    if !uses_sync {
        // At most a fence: one batch stands for the submission (serials only order the
        // tracked batches of a queue).
        if !fence.is_null() {
            let only_fence = Batch {
                fence: fence.as_raw(),
                ..Batch::default()
            };
            pending::record_submission(device, queue, std::iter::once(only_fence));
        }
        return;
    }
    let mut batches: SmallVec<[Batch; 2]> = (0..count).map(batch).collect();
    if !fence.is_null() {
        match batches.last_mut() {
            Some(last) => last.fence = fence.as_raw(),
            None => batches.push(Batch {
                fence: fence.as_raw(),
                ..Batch::default()
            }),
        }
    }
    for b in &batches {
        for (s, _) in &b.waits {
            // A wait ends a temporary import (sync.rs keeps the payload record).
            sync_state::end_temporary(Kind::Semaphore, device, *s);
        }
    }
    pending::record_submission(device, queue, batches);
}

/// `VkTimelineSemaphoreSubmitInfo` of `pSubmits[index]` of `vkQueueSubmit`, as (wait
/// values, signal values). A malformed chain is reported; what was read of it counts.
///
/// # Safety
/// `p_next` is a valid chain.
unsafe fn timeline_values<'a>(
    data: &DeviceData,
    queue: vk::Queue,
    index: usize,
    p_next: *const c_void,
) -> (&'a [u64], &'a [u64]) {
    // SAFETY: forwarded contract; the sType names the struct.
    let (found, walked) = unsafe {
        crate::pnext::find::<vk::TimelineSemaphoreSubmitInfo<'_>>(
            p_next,
            vk::StructureType::TIMELINE_SEMAPHORE_SUBMIT_INFO,
        )
    };
    if let Err(m) = walked {
        data.reporter.report(chain_malformed(
            &format!("vkQueueSubmit pSubmits[{index}]"),
            m,
            vec![Object::new(vk::ObjectType::QUEUE, queue.as_raw())],
        ));
    }
    // SAFETY: a chained struct of the right type, valid for the call.
    match found.and_then(|p| unsafe { p.as_ref() }) {
        Some(t) => {
            // SAFETY: the arrays hold the counts the struct names.
            unsafe {
                (
                    slice(t.p_wait_semaphore_values, t.wait_semaphore_value_count),
                    slice(t.p_signal_semaphore_values, t.signal_semaphore_value_count),
                )
            }
        }
        None => (&[], &[]),
    }
}

fn paired(sems: &[vk::Semaphore], values: &[u64]) -> Vec<(u64, u64)> {
    sems.iter()
        .enumerate()
        .map(|(i, s)| (s.as_raw(), values.get(i).copied().unwrap_or(0)))
        .collect()
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn queue_submit(
    queue: vk::Queue,
    count: u32,
    p_submits: *const vk::SubmitInfo<'_>,
    fence: vk::Fence,
) -> vk::Result {
    guarded("vkQueueSubmit", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: queues share their device's dispatch pointer.
        let Some(data) = dispatch::device(unsafe { dispatch::key(queue) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: valid array per the caller.
        let submits = unsafe { slice(p_submits, count) };
        if let [s] = submits {
            if s.p_next.is_null() && s.command_buffer_count == 1 && !s.p_command_buffers.is_null() {
                // SAFETY: `s` is `p_submits[0]`, with valid arrays per the caller.
                if let Some(r) = unsafe { submit_one(&data, queue, p_submits, fence) } {
                    return r;
                }
            }
        }
        // SAFETY: forwarded contract.
        unsafe { submit_general(&data, queue, count, p_submits, fence) }
    })
}

/// `vkQueueSubmit` of any kind (see `submit_one` for the most common one), kept out of
/// line so that the common path stays small.
///
/// # Safety
/// Arguments valid for the Vulkan command.
#[inline(never)]
unsafe fn submit_general(
    data: &DeviceData,
    queue: vk::Queue,
    count: u32,
    p_submits: *const vk::SubmitInfo<'_>,
    fence: vk::Fence,
) -> vk::Result {
    // SAFETY: valid array per the caller.
    let submits = unsafe { slice(p_submits, count) };
    // The common submission of one command buffer is applied in place; its lookup is
    // also its liveness check.
    let only = only_command_buffer(
        submits,
        |s| {
            if s.p_command_buffers.is_null() {
                0
            } else {
                s.command_buffer_count
            }
        },
        // SAFETY: one command buffer in a valid array per the caller.
        |s| {
            (
                unsafe { *s.p_command_buffers },
                s.signal_semaphore_count > 0,
            )
        },
    );
    let mut findings = Vec::new();
    let single = only.and_then(|o| {
        match crate::ownership::apply_single_call(data, queue, o.1, &mut findings) {
            crate::ownership::Single::Applied(a) => Some((o, a)),
            crate::ownership::Single::Gather => None,
        }
    });
    // Filled in place (it is large) when the submission is not applied above.
    let mut gathered = None;
    if single.is_none() {
        let gathered = gathered.insert(crate::ownership::Gathered::default());
        for s in submits {
            // SAFETY: valid arrays per the caller.
            let cbs = unsafe { slice(s.p_command_buffers, s.command_buffer_count) };
            gathered.batch(data.handle, cbs.iter().map(|c| c.as_raw()));
        }
        // liveness: only a command buffer the lookups above missed can be dead.
        if gathered.missing {
            // SAFETY: valid submit infos per the caller.
            if let Some(r) = unsafe { crate::liveness::queue_submit(data, queue, submits) } {
                return r;
            }
        }
    }
    // Each batch's chain is walked before the driver sees it: a looping chain is
    // reported even when the driver then hangs on it, or refuses the submission. Most
    // submissions chain nothing, and then nothing is collected.
    // One pass for what the rest asks of every batch: a chain, a semaphore.
    let (chained, uses_sync) = submits.iter().fold((false, false), |(c, u), s| {
        (
            c | !s.p_next.is_null(),
            u | (s.wait_semaphore_count > 0) | (s.signal_semaphore_count > 0),
        )
    });
    let timeline: SmallVec<[(&[u64], &[u64]); 4]> = if !chained {
        SmallVec::new()
    } else {
        submits
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if s.p_next.is_null() {
                    (&[][..], &[][..])
                } else {
                    // SAFETY: valid chain and arrays per the caller.
                    unsafe { timeline_values(data, queue, i, s.p_next) }
                }
            })
            .collect()
    };
    match (single, &gathered) {
        (Some((o, applied)), _) => {
            if (applied.released && data.reporter.settings.best_practices) || !findings.is_empty() {
                check_single(data, queue, "vkQueueSubmit", o, applied, findings, fence)
            }
        }
        (None, Some(gathered)) => check_batches(
            data,
            queue,
            "vkQueueSubmit",
            gathered,
            submits.len(),
            |i| {
                let s = &submits[i];
                // SAFETY: valid arrays per the caller.
                let cbs = unsafe { slice(s.p_command_buffers, s.command_buffer_count) };
                (cbs.into(), s.signal_semaphore_count > 0)
            },
            fence,
        ),
        (None, None) => {}
    }
    // SAFETY: forwarding the app's arguments.
    let r = unsafe { (data.fns.fp_v1_0().queue_submit)(queue, count, p_submits, fence) };
    // Most submissions use no semaphore and no fence: nothing to record.
    if r == vk::Result::SUCCESS && (!fence.is_null() || uses_sync) {
        record(
            data,
            queue,
            submits.len(),
            fence,
            |i| {
                let s = &submits[i];
                let (wv, sv) = timeline.get(i).copied().unwrap_or((&[], &[]));
                // SAFETY: as above.
                let waits = unsafe { slice(s.p_wait_semaphores, s.wait_semaphore_count) };
                // SAFETY: as above.
                let signals = unsafe { slice(s.p_signal_semaphores, s.signal_semaphore_count) };
                Batch {
                    waits: paired(waits, wv),
                    signals: paired(signals, sv),
                    fence: 0,
                }
            },
            uses_sync,
        );
    }
    r
}

/// `vkQueueSubmit` of the most common kind: one batch, one command buffer, no chained
/// struct. What `queue_submit` does for it, without what only other submissions need;
/// `None` (nothing done) when `ownership::apply_single` leaves it to the general path.
///
/// # Safety
/// `p_submits` points to one valid `VkSubmitInfo` with one command buffer and no `pNext`.
unsafe fn submit_one(
    data: &DeviceData,
    queue: vk::Queue,
    p_submits: *const vk::SubmitInfo<'_>,
    fence: vk::Fence,
) -> Option<vk::Result> {
    // SAFETY: per the caller.
    let s = unsafe { &*p_submits };
    // SAFETY: one command buffer, per the caller.
    let cb = unsafe { *s.p_command_buffers };
    let mut findings = Vec::new();
    let applied = match crate::ownership::apply_single(data, queue, cb, &mut findings) {
        crate::ownership::Single::Applied(a) => a,
        crate::ownership::Single::Gather => return None,
    };
    let signals_semaphore = s.signal_semaphore_count > 0;
    if (applied.released && data.reporter.settings.best_practices) || !findings.is_empty() {
        let batch = (0, cb, signals_semaphore);
        check_single(
            data,
            queue,
            "vkQueueSubmit",
            batch,
            applied,
            findings,
            fence,
        );
    }
    // SAFETY: forwarding the app's arguments.
    let r = unsafe { (data.fns.fp_v1_0().queue_submit)(queue, 1, p_submits, fence) };
    let uses_sync = s.wait_semaphore_count > 0 || signals_semaphore;
    // Most submissions use no semaphore and no fence: nothing to record.
    if r == vk::Result::SUCCESS && (!fence.is_null() || uses_sync) {
        let batch = |_| {
            // SAFETY: valid arrays per the caller.
            let waits = unsafe { slice(s.p_wait_semaphores, s.wait_semaphore_count) };
            // SAFETY: as above.
            let signals = unsafe { slice(s.p_signal_semaphores, s.signal_semaphore_count) };
            // No chain: no timeline values (binary semaphores read 0, as in `queue_submit`).
            Batch {
                waits: paired(waits, &[]),
                signals: paired(signals, &[]),
                fence: 0,
            }
        };
        record(data, queue, 1, fence, batch, uses_sync);
    }
    Some(r)
}

/// Shared body of `vkQueueSubmit2` and `vkQueueSubmit2KHR`.
///
/// # Safety
/// Arguments valid for the Vulkan command.
unsafe fn submit2(
    command: &'static str,
    queue: vk::Queue,
    count: u32,
    p_submits: *const vk::SubmitInfo2<'_>,
    fence: vk::Fence,
    khr: bool,
) -> vk::Result {
    // SAFETY: queues share their device's dispatch pointer.
    let Some(data) = dispatch::device(unsafe { dispatch::key(queue) }) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    // SAFETY: valid array per the caller.
    let submits = unsafe { slice(p_submits, count) };
    // As in `queue_submit`: one command buffer is applied in place.
    let only = only_command_buffer(
        submits,
        |s| {
            if s.p_command_buffer_infos.is_null() {
                0
            } else {
                s.command_buffer_info_count
            }
        },
        // SAFETY: one command buffer info in a valid array per the caller.
        |s| {
            let info = unsafe { &*s.p_command_buffer_infos };
            (info.command_buffer, s.signal_semaphore_info_count > 0)
        },
    );
    let mut findings = Vec::new();
    let single = only.and_then(|o| {
        match crate::ownership::apply_single_call(&data, queue, o.1, &mut findings) {
            crate::ownership::Single::Applied(a) => Some((o, a)),
            crate::ownership::Single::Gather => None,
        }
    });
    match single {
        Some((o, applied)) => {
            if (applied.released && data.reporter.settings.best_practices) || !findings.is_empty() {
                check_single(&data, queue, command, o, applied, findings, fence)
            }
        }
        None => {
            let mut gathered = crate::ownership::Gathered::default();
            for s in submits {
                // SAFETY: valid arrays per the caller.
                let infos = unsafe { slice(s.p_command_buffer_infos, s.command_buffer_info_count) };
                gathered.batch(data.handle, infos.iter().map(|c| c.command_buffer.as_raw()));
            }
            // liveness: only a command buffer the lookups above missed can be dead.
            if gathered.missing {
                // SAFETY: valid submit infos per the caller.
                if let Some(r) =
                    unsafe { crate::liveness::queue_submit2(&data, queue, command, submits) }
                {
                    return r;
                }
            }
            check_batches(
                &data,
                queue,
                command,
                &gathered,
                submits.len(),
                |i| {
                    let s = &submits[i];
                    // SAFETY: valid arrays per the caller.
                    let infos =
                        unsafe { slice(s.p_command_buffer_infos, s.command_buffer_info_count) };
                    let cbs = infos.iter().map(|c| c.command_buffer).collect();
                    (cbs, s.signal_semaphore_info_count > 0)
                },
                fence,
            );
        }
    }
    let r = if khr {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.synchronization2.queue_submit2_khr)(queue, count, p_submits, fence) }
    } else {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_3().queue_submit2)(queue, count, p_submits, fence) }
    };
    let uses_sync = || {
        submits
            .iter()
            .any(|s| s.wait_semaphore_info_count > 0 || s.signal_semaphore_info_count > 0)
    };
    // Most submissions use no semaphore and no fence: nothing to record.
    if r == vk::Result::SUCCESS && (!fence.is_null() || uses_sync()) {
        let uses_sync = uses_sync();
        record(
            &data,
            queue,
            submits.len(),
            fence,
            |i| {
                let s = &submits[i];
                // SAFETY: valid arrays per the caller.
                let waits = unsafe { slice(s.p_wait_semaphore_infos, s.wait_semaphore_info_count) };
                // SAFETY: as above.
                let signals =
                    unsafe { slice(s.p_signal_semaphore_infos, s.signal_semaphore_info_count) };
                Batch {
                    waits: waits
                        .iter()
                        .map(|w| (w.semaphore.as_raw(), w.value))
                        .collect(),
                    signals: signals
                        .iter()
                        .map(|w| (w.semaphore.as_raw(), w.value))
                        .collect(),
                    fence: 0,
                }
            },
            uses_sync,
        );
    }
    r
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn queue_submit2(
    queue: vk::Queue,
    count: u32,
    p_submits: *const vk::SubmitInfo2<'_>,
    fence: vk::Fence,
) -> vk::Result {
    guarded("vkQueueSubmit2", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: forwarded contract.
        unsafe { submit2("vkQueueSubmit2", queue, count, p_submits, fence, false) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn queue_submit2_khr(
    queue: vk::Queue,
    count: u32,
    p_submits: *const vk::SubmitInfo2<'_>,
    fence: vk::Fence,
) -> vk::Result {
    guarded("vkQueueSubmit2KHR", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: forwarded contract.
        unsafe { submit2("vkQueueSubmit2KHR", queue, count, p_submits, fence, true) }
    })
}

// ---------------------------------------------------------------------------------------
// Waits: where the app sees work complete

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn queue_wait_idle(queue: vk::Queue) -> vk::Result {
    guarded("vkQueueWaitIdle", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: queues share their device's dispatch pointer.
        let Some(data) = dispatch::device(unsafe { dispatch::key(queue) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: forwarding the app's arguments.
        let r = unsafe { (data.fns.fp_v1_0().queue_wait_idle)(queue) };
        if r == vk::Result::SUCCESS {
            pending::queue_idle(data.handle, queue);
        }
        r
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn device_wait_idle(device: vk::Device) -> vk::Result {
    guarded("vkDeviceWaitIdle", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: a live device.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: forwarding the app's arguments.
        let r = unsafe { (data.fns.fp_v1_0().device_wait_idle)(device) };
        if r == vk::Result::SUCCESS {
            pending::device_idle(device);
        }
        r
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn wait_for_fences(
    device: vk::Device,
    count: u32,
    p_fences: *const vk::Fence,
    wait_all: vk::Bool32,
    timeout: u64,
) -> vk::Result {
    guarded("vkWaitForFences", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: a live device.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: forwarding the app's arguments.
        let r = unsafe {
            (data.fns.fp_v1_0().wait_for_fences)(device, count, p_fences, wait_all, timeout)
        };
        if r == vk::Result::SUCCESS {
            // SAFETY: valid array per the caller.
            let fences = unsafe { slice(p_fences, count) };
            if wait_all != vk::FALSE || fences.len() == 1 {
                fences
                    .iter()
                    .for_each(|f| pending::fence_signaled(device, *f));
            } else {
                // Any one of them: ask which (a cheap status query each).
                for f in fences {
                    // SAFETY: a fence of the app's wait, valid for the call.
                    let s = unsafe { (data.fns.fp_v1_0().get_fence_status)(device, *f) };
                    if s == vk::Result::SUCCESS {
                        pending::fence_signaled(device, *f);
                    }
                }
            }
        }
        r
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn get_fence_status(device: vk::Device, fence: vk::Fence) -> vk::Result {
    guarded("vkGetFenceStatus", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: a live device.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: forwarding the app's arguments.
        let r = unsafe { (data.fns.fp_v1_0().get_fence_status)(device, fence) };
        if r == vk::Result::SUCCESS {
            pending::fence_signaled(device, fence);
        }
        r
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn reset_fences(
    device: vk::Device,
    count: u32,
    p_fences: *const vk::Fence,
) -> vk::Result {
    guarded("vkResetFences", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: a live device.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: forwarding the app's arguments.
        let r = unsafe { (data.fns.fp_v1_0().reset_fences)(device, count, p_fences) };
        if r == vk::Result::SUCCESS {
            // SAFETY: valid array per the caller.
            for f in unsafe { slice(p_fences, count) } {
                pending::fence_reset(device, *f);
                // A reset ends a temporary import (sync.rs keeps the payload record).
                sync_state::end_temporary(Kind::Fence, device, f.as_raw());
            }
        }
        r
    })
}

/// Shared body of `vkWaitSemaphores(KHR)`.
///
/// # Safety
/// Arguments valid for the Vulkan command.
unsafe fn wait_semaphores_impl(
    device: vk::Device,
    p_info: *const vk::SemaphoreWaitInfo<'_>,
    timeout: u64,
    khr: bool,
) -> vk::Result {
    // SAFETY: a live device.
    let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    let r = if khr {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.timeline_semaphore.wait_semaphores_khr)(device, p_info, timeout) }
    } else {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_2().wait_semaphores)(device, p_info, timeout) }
    };
    if r == vk::Result::SUCCESS {
        // SAFETY: valid or null per the caller.
        if let Some(info) = unsafe { p_info.as_ref() } {
            // SAFETY: both arrays hold `semaphore_count` entries.
            let sems = unsafe { slice(info.p_semaphores, info.semaphore_count) };
            // SAFETY: as above.
            let values = unsafe { slice(info.p_values, info.semaphore_count) };
            if !info.flags.contains(vk::SemaphoreWaitFlags::ANY) || sems.len() == 1 {
                for (s, v) in sems.iter().zip(values) {
                    pending::timeline_reached(device, *s, *v);
                }
            }
        }
    }
    r
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn wait_semaphores(
    device: vk::Device,
    p_info: *const vk::SemaphoreWaitInfo<'_>,
    timeout: u64,
) -> vk::Result {
    guarded("vkWaitSemaphores", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: forwarded contract.
        unsafe { wait_semaphores_impl(device, p_info, timeout, false) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn wait_semaphores_khr(
    device: vk::Device,
    p_info: *const vk::SemaphoreWaitInfo<'_>,
    timeout: u64,
) -> vk::Result {
    guarded("vkWaitSemaphoresKHR", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: forwarded contract.
        unsafe { wait_semaphores_impl(device, p_info, timeout, true) }
    })
}

/// Shared body of `vkGetSemaphoreCounterValue(KHR)`.
///
/// # Safety
/// Arguments valid for the Vulkan command.
unsafe fn counter_value_impl(
    device: vk::Device,
    semaphore: vk::Semaphore,
    p_value: *mut u64,
    khr: bool,
) -> vk::Result {
    // SAFETY: a live device.
    let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    let r = if khr {
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.timeline_semaphore.get_semaphore_counter_value_khr)(device, semaphore, p_value)
        }
    } else {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_2().get_semaphore_counter_value)(device, semaphore, p_value) }
    };
    if r == vk::Result::SUCCESS {
        // SAFETY: the call wrote the value.
        if let Some(v) = unsafe { p_value.as_ref() } {
            pending::timeline_reached(device, semaphore, *v);
        }
    }
    r
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn get_semaphore_counter_value(
    device: vk::Device,
    semaphore: vk::Semaphore,
    p_value: *mut u64,
) -> vk::Result {
    guarded(
        "vkGetSemaphoreCounterValue",
        vk::Result::ERROR_UNKNOWN,
        || {
            // SAFETY: forwarded contract.
            unsafe { counter_value_impl(device, semaphore, p_value, false) }
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn get_semaphore_counter_value_khr(
    device: vk::Device,
    semaphore: vk::Semaphore,
    p_value: *mut u64,
) -> vk::Result {
    guarded(
        "vkGetSemaphoreCounterValueKHR",
        vk::Result::ERROR_UNKNOWN,
        || {
            // SAFETY: forwarded contract.
            unsafe { counter_value_impl(device, semaphore, p_value, true) }
        },
    )
}

/// Shared body of `vkSignalSemaphore(KHR)`.
///
/// # Safety
/// Arguments valid for the Vulkan command.
unsafe fn signal_impl(
    device: vk::Device,
    p_info: *const vk::SemaphoreSignalInfo<'_>,
    khr: bool,
) -> vk::Result {
    // SAFETY: a live device.
    let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    let r = if khr {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.timeline_semaphore.signal_semaphore_khr)(device, p_info) }
    } else {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_2().signal_semaphore)(device, p_info) }
    };
    if r == vk::Result::SUCCESS {
        // SAFETY: valid or null per the caller.
        if let Some(info) = unsafe { p_info.as_ref() } {
            pending::timeline_reached(device, info.semaphore, info.value);
        }
    }
    r
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn signal_semaphore(
    device: vk::Device,
    p_info: *const vk::SemaphoreSignalInfo<'_>,
) -> vk::Result {
    guarded("vkSignalSemaphore", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: forwarded contract.
        unsafe { signal_impl(device, p_info, false) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn signal_semaphore_khr(
    device: vk::Device,
    p_info: *const vk::SemaphoreSignalInfo<'_>,
) -> vk::Result {
    guarded("vkSignalSemaphoreKHR", vk::Result::ERROR_UNKNOWN, || {
        // SAFETY: forwarded contract.
        unsafe { signal_impl(device, p_info, true) }
    })
}

// ---------------------------------------------------------------------------------------
// For sync.rs: the fd rules that depend on pending work

/// VUID-vkImportSemaphoreFdKHR-semaphore-01142: called before an import into `semaphore`.
/// The import replaces the payload, so what the layer knew of it is dropped.
pub fn semaphore_import_pending(
    data: &DeviceData,
    semaphore: vk::Semaphore,
    out: &mut Vec<Finding>,
) {
    let queue = pending::semaphore_pending_queue(data.handle, semaphore);
    out.extend(rules::semaphore_import_pending(semaphore.as_raw(), queue));
    pending::forget_semaphore(data.handle, semaphore);
}

/// VUID-vkImportFenceFdKHR-fence-01463: called before an import into `fence`.
pub fn fence_import_pending(data: &DeviceData, fence: vk::Fence, out: &mut Vec<Finding>) {
    let queue = pending::fence_pending_queue(data.handle, fence);
    out.extend(rules::fence_import_pending(fence.as_raw(), queue));
    if queue.is_none() {
        pending::forget_fence(data.handle, fence);
    }
}

/// What the layer knows of a binary semaphore's payload (see `SemaphoreState`).
fn semaphore_state(data: &DeviceData, semaphore: vk::Semaphore) -> SemaphoreState {
    let device = data.handle;
    let rec = sync_state::get(Kind::Semaphore, device, semaphore.as_raw());
    if rec.is_some_and(|r| r.timeline || r.permanent.is_some()) {
        // Timeline: 03253 (sync.rs). Permanent import: another process shares the payload.
        return SemaphoreState::Unknown;
    }
    match pending::semaphore_last(device, semaphore) {
        Some(SemaphoreLast::Signal(at)) => {
            if pending::is_pending(device, at) {
                let unreached = pending::batch_waits(device, at).into_iter().find(|(s, v)| {
                    sync_state::get(Kind::Semaphore, device, *s).is_some_and(|r| r.timeline)
                        && pending::timeline_unreached(device, *s, *v)
                });
                if let Some((s, v)) = unreached {
                    return SemaphoreState::SignalWaitsOnUnsubmitted {
                        semaphore: s,
                        value: v,
                    };
                }
            }
            SemaphoreState::Signaled
        }
        Some(SemaphoreLast::Wait(at)) if pending::is_pending(device, at) => {
            SemaphoreState::WaitPending { queue: at.queue }
        }
        Some(SemaphoreLast::Wait(_)) | Some(SemaphoreLast::Exported) => SemaphoreState::Unsignaled,
        // Never seen in a submission: signaled by a temporary import, otherwise unknown
        // (swapchain acquires and sparse binds signal semaphores the layer does not see).
        None if rec.is_some_and(|r| r.temporary.is_some()) => SemaphoreState::Signaled,
        None => SemaphoreState::Unknown,
    }
}

/// 01134, 01135, 03254: called before a SYNC_FD export of `semaphore` (see
/// `handoff_rules::checks::queue::semaphore_sync_fd_export` for how they differ).
pub fn semaphore_sync_fd_export(
    data: &DeviceData,
    semaphore: vk::Semaphore,
    out: &mut Vec<Finding>,
) {
    let state = semaphore_state(data, semaphore);
    out.extend(rules::semaphore_sync_fd_export(semaphore.as_raw(), state));
}

/// A successful SYNC_FD export of `semaphore` acts as a wait: it is unsignaled now.
pub fn semaphore_sync_fd_exported(data: &DeviceData, semaphore: vk::Semaphore) {
    pending::semaphore_exported(data.handle, semaphore);
}

/// VUID-VkFenceGetFdInfoKHR-handleType-01454: called before a SYNC_FD export of `fence`.
/// The export resets the fence (copy transference), which is recorded here.
pub fn fence_sync_fd_export(data: &DeviceData, fence: vk::Fence, out: &mut Vec<Finding>) {
    let device = data.handle;
    let rec = sync_state::get(Kind::Fence, device, fence.as_raw());
    let state = match pending::fence_last(device, fence) {
        Some(FenceLast::Submitted(_)) => FenceState::SignaledOrPending,
        Some(FenceLast::Unsignaled) => FenceState::Unsignaled,
        None => match rec {
            None => FenceState::Unknown,
            Some(r) if r.permanent.is_some() => FenceState::Unknown,
            Some(r)
                if r.temporary.is_some()
                    || r.flags & vk::FenceCreateFlags::SIGNALED.as_raw() != 0 =>
            {
                FenceState::SignaledOrPending
            }
            // Created unsignaled and never submitted: only a sparse bind the layer does
            // not see could have signaled it.
            Some(_) => FenceState::Unsignaled,
        },
    };
    out.extend(rules::fence_sync_fd_export(fence.as_raw(), state));
    if pending::fence_pending_queue(device, fence).is_none() {
        pending::fence_reset(device, fence);
    }
}

/// `vkDestroySemaphore`: forget it (sync.rs calls this).
pub fn semaphore_destroyed(data: &DeviceData, semaphore: vk::Semaphore) {
    pending::forget_semaphore(data.handle, semaphore);
}

/// `vkDestroyFence`: forget it (sync.rs calls this).
pub fn fence_destroyed(data: &DeviceData, fence: vk::Fence) {
    pending::forget_fence(data.handle, fence);
}

/// `vkDestroyDevice`: drop the device's queues and pending work (device.rs calls this).
pub fn device_destroyed(device: vk::Device) {
    pending::remove_device(device);
}

//! Queue submission. Command buffers are not executed; a submission consumes its binary
//! waits, signals its semaphores (timeline values included) and its fence at once.

use crate::ffi;
use crate::state;
use crate::sync::{signal_fence, signal_semaphore, wait_semaphore};
use ash::vk;
use ash::vk::Handle;

/// Applies one batch's semaphore operations.
///
/// # Safety
/// The pointers hold the counts the batch names; `p_next` is a valid chain.
unsafe fn apply_batch(
    p_next: *const std::ffi::c_void,
    waits: (*const vk::Semaphore, u32),
    signals: (*const vk::Semaphore, u32),
) {
    // SAFETY: forwarded from the caller.
    let timeline = unsafe { ffi::find::<vk::TimelineSemaphoreSubmitInfo<'_>>(p_next) };
    // SAFETY: as above.
    let waits = unsafe { ffi::slice(waits.0, waits.1) };
    // SAFETY: as above.
    let signals = unsafe { ffi::slice(signals.0, signals.1) };
    // SAFETY: the value array holds `signal_semaphore_value_count` entries.
    let values = timeline.map_or(&[][..], |t| unsafe {
        ffi::slice(t.p_signal_semaphore_values, t.signal_semaphore_value_count)
    });
    state::with(|r| {
        for s in waits {
            wait_semaphore(r, *s);
        }
        for (i, s) in signals.iter().enumerate() {
            signal_semaphore(r, *s, values.get(i).copied().unwrap_or(0));
        }
    });
}

/// Whether a queue is live.
fn queue_known(queue: vk::Queue) -> bool {
    state::with(|r| r.queues.contains_key(&queue.as_raw()))
}

/// `vkQueueSubmit`.
///
/// # Safety
/// `p_submits` is null or points to `count` valid submit infos.
pub unsafe extern "system" fn queue_submit(
    queue: vk::Queue,
    count: u32,
    p_submits: *const vk::SubmitInfo<'_>,
    fence: vk::Fence,
) -> vk::Result {
    ffi::guard(|| {
        if !queue_known(queue) {
            return vk::Result::ERROR_DEVICE_LOST;
        }
        // SAFETY: forwarded from the caller.
        for s in unsafe { ffi::slice(p_submits, count) } {
            // SAFETY: the submit info's arrays and chain are valid per the caller.
            unsafe {
                apply_batch(
                    s.p_next,
                    (s.p_wait_semaphores, s.wait_semaphore_count),
                    (s.p_signal_semaphores, s.signal_semaphore_count),
                )
            };
        }
        state::with(|r| signal_fence(r, fence));
        vk::Result::SUCCESS
    })
}

/// `vkQueueSubmit2`.
///
/// # Safety
/// `p_submits` is null or points to `count` valid submit infos.
pub unsafe extern "system" fn queue_submit2(
    queue: vk::Queue,
    count: u32,
    p_submits: *const vk::SubmitInfo2<'_>,
    fence: vk::Fence,
) -> vk::Result {
    ffi::guard(|| {
        if !queue_known(queue) {
            return vk::Result::ERROR_DEVICE_LOST;
        }
        // SAFETY: forwarded from the caller.
        for s in unsafe { ffi::slice(p_submits, count) } {
            // SAFETY: the arrays hold the counts the submit info names.
            let waits =
                unsafe { ffi::slice(s.p_wait_semaphore_infos, s.wait_semaphore_info_count) };
            // SAFETY: as above.
            let signals =
                unsafe { ffi::slice(s.p_signal_semaphore_infos, s.signal_semaphore_info_count) };
            state::with(|r| {
                for w in waits {
                    wait_semaphore(r, w.semaphore);
                }
                for sig in signals {
                    signal_semaphore(r, sig.semaphore, sig.value);
                }
            });
        }
        state::with(|r| signal_fence(r, fence));
        vk::Result::SUCCESS
    })
}

/// `vkQueueBindSparse`: the binds are accepted; semaphores and fence as for a submit.
///
/// # Safety
/// `p_infos` is null or points to `count` valid bind infos.
pub unsafe extern "system" fn queue_bind_sparse(
    queue: vk::Queue,
    count: u32,
    p_infos: *const vk::BindSparseInfo<'_>,
    fence: vk::Fence,
) -> vk::Result {
    ffi::guard(|| {
        if !queue_known(queue) {
            return vk::Result::ERROR_DEVICE_LOST;
        }
        // SAFETY: forwarded from the caller.
        for b in unsafe { ffi::slice(p_infos, count) } {
            // SAFETY: the bind info's arrays and chain are valid per the caller.
            unsafe {
                apply_batch(
                    b.p_next,
                    (b.p_wait_semaphores, b.wait_semaphore_count),
                    (b.p_signal_semaphores, b.signal_semaphore_count),
                )
            };
        }
        state::with(|r| signal_fence(r, fence));
        vk::Result::SUCCESS
    })
}

/// `vkQueueWaitIdle`: nothing ever runs.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn queue_wait_idle(queue: vk::Queue) -> vk::Result {
    ffi::guard(|| {
        if queue_known(queue) {
            vk::Result::SUCCESS
        } else {
            vk::Result::ERROR_DEVICE_LOST
        }
    })
}

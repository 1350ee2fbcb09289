//! Queue submission and execution. Command buffers are not executed, but a submission's
//! semaphore waits, semaphore signals and fence take effect later, in order, on a worker
//! thread per queue, so that work can be pending. `vkHandoffMockHoldQueueEXT` (mock-only,
//! see README.md) stops a queue's worker until it is released.
//!
//! Lock order: [`WORK`] before the object registry (`state::with`). Every change that can
//! unblock a worker or a waiter happens with `WORK` held and ends with a notification of
//! [`CHANGED`], so that a waiter that checked its condition under `WORK` cannot miss it.

use crate::ffi;
use crate::state::{self, Registry};
use crate::sync::{complete_fence, complete_semaphore_signal, wait_semaphore};
use ash::vk;
use ash::vk::Handle;
use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// One batch as the worker executes it.
#[derive(Debug, Default)]
struct Batch {
    /// Semaphores waited on, with the timeline value (ignored for binary ones).
    waits: Vec<(vk::Semaphore, u64)>,
    /// Semaphores signaled, with the timeline value (ignored for binary ones).
    signals: Vec<(vk::Semaphore, u64)>,
    /// The submission's fence, on its last batch only.
    fence: vk::Fence,
}

/// A queue's work.
#[derive(Debug)]
struct QueueWork {
    device: u64,
    held: bool,
    batches: VecDeque<Batch>,
}

/// Every live queue's work.
#[derive(Debug, Default)]
pub struct Work {
    queues: HashMap<u64, QueueWork>,
}

static WORK: LazyLock<Mutex<Work>> = LazyLock::new(|| Mutex::new(Work::default()));
static CHANGED: Condvar = Condvar::new();

/// For fork.rs, which holds it across fork() (before the registry).
pub(crate) fn fork_lock() -> &'static Mutex<Work> {
    &WORK
}

/// How long an idle wait (or a wait with an unbounded timeout) may block before the mock
/// gives up with `VK_ERROR_DEVICE_LOST`, as a driver's hang detection would:
/// `HANDOFF_MOCK_WATCHDOG_MS`, 10 s by default.
fn watchdog() -> Duration {
    let ms = std::env::var("HANDOFF_MOCK_WATCHDOG_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(10_000);
    Duration::from_millis(ms)
}

fn lock() -> MutexGuard<'static, Work> {
    WORK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` with the work table locked and wakes every worker and waiter afterwards: for
/// host-side changes (host signals, fence resets, imports) that may unblock them.
pub fn changing<R>(f: impl FnOnce() -> R) -> R {
    let guard = lock();
    let r = f();
    drop(guard);
    CHANGED.notify_all();
    r
}

/// How a blocking wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    Done,
    /// The caller's timeout passed.
    Timeout,
    /// The watchdog fired on an unbounded wait.
    Lost,
}

impl Waited {
    pub fn result(self) -> vk::Result {
        match self {
            Self::Done => vk::Result::SUCCESS,
            Self::Timeout => vk::Result::TIMEOUT,
            Self::Lost => vk::Result::ERROR_DEVICE_LOST,
        }
    }
}

/// Blocks until `done` holds (checked with the work table locked), `timeout_ns` passes, or
/// the watchdog fires (only for timeouts longer than it).
pub fn wait_until(timeout_ns: u64, mut done: impl FnMut(&Work, &mut Registry) -> bool) -> Waited {
    let start = Instant::now();
    let asked = Duration::from_nanos(timeout_ns);
    let dog = watchdog();
    let (limit, on_limit) = if asked > dog {
        (dog, Waited::Lost)
    } else {
        (asked, Waited::Timeout)
    };
    let mut guard = lock();
    loop {
        if state::with(|r| done(&guard, r)) {
            return Waited::Done;
        }
        let elapsed = start.elapsed();
        if elapsed >= limit {
            return on_limit;
        }
        guard = CHANGED
            .wait_timeout(guard, limit - elapsed)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

impl Work {
    /// Whether a queue has nothing left to execute (unknown queues are idle).
    pub fn queue_idle(&self, queue: u64) -> bool {
        self.queues
            .get(&queue)
            .map_or(true, |q| q.batches.is_empty())
    }

    /// Whether every queue of a device is idle.
    pub fn device_idle(&self, device: u64) -> bool {
        self.queues
            .values()
            .all(|q| q.device != device || q.batches.is_empty())
    }
}

/// Registers a new queue and starts its worker.
pub fn start(queue: u64, device: u64) {
    lock().queues.insert(
        queue,
        QueueWork {
            device,
            held: false,
            batches: VecDeque::new(),
        },
    );
    let spawned = std::thread::Builder::new()
        .name("handoff-mock-queue".into())
        .spawn(move || worker(queue));
    if spawned.is_err() {
        // No worker: the queue executes nothing, and waits end with a lost device.
        eprintln!("handoff-mock-icd: could not start a queue worker thread");
    }
}

/// Stops the workers of a destroyed device and drops its pending work.
pub fn stop_device(device: u64) {
    let mut guard = lock();
    guard.queues.retain(|_, q| q.device != device);
    drop(guard);
    CHANGED.notify_all();
}

/// Whether every wait of `batch` can be executed now. A binary semaphore with no signal
/// pending anywhere is consumed at once (it was signaled outside the mock's view, e.g. by
/// an import); a timeline wait blocks until the value is reached (wait-before-signal).
fn ready(r: &mut Registry, batch: &Batch) -> bool {
    batch.waits.iter().all(|(s, v)| match r.semaphore_mut(*s) {
        Some(sem) if sem.timeline => sem.value >= *v,
        Some(sem) => sem.signaled || sem.pending_signals == 0,
        None => true,
    })
}

fn execute(r: &mut Registry, batch: Batch) {
    for (s, _) in &batch.waits {
        wait_semaphore(r, *s);
    }
    for (s, v) in &batch.signals {
        complete_semaphore_signal(r, *s, *v);
    }
    complete_fence(r, batch.fence);
}

fn worker(queue: u64) {
    let mut guard = lock();
    loop {
        let Some(q) = guard.queues.get_mut(&queue) else {
            return; // the device was destroyed
        };
        let runnable = !q.held
            && q.batches
                .front()
                .is_some_and(|b| state::with(|r| ready(r, b)));
        if runnable {
            if let Some(batch) = q.batches.pop_front() {
                state::with(|r| execute(r, batch));
            }
            CHANGED.notify_all();
            continue;
        }
        guard = CHANGED
            .wait_timeout(guard, Duration::from_millis(50))
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// Queues the batches of one submission; `false` for an unknown queue.
fn enqueue(queue: vk::Queue, mut batches: Vec<Batch>, fence: vk::Fence) -> bool {
    let mut guard = lock();
    let Some(q) = guard.queues.get_mut(&queue.as_raw()) else {
        return false;
    };
    if fence != vk::Fence::null() {
        match batches.last_mut() {
            Some(last) => last.fence = fence,
            None => batches.push(Batch {
                fence,
                ..Batch::default()
            }),
        }
    }
    state::with(|r| {
        for b in &batches {
            for (s, _) in &b.signals {
                if let Some(sem) = r.semaphore_mut(*s) {
                    sem.pending_signals += 1;
                }
            }
            if let Some(f) = r.fence_mut(b.fence) {
                f.pending += 1;
                f.signaled = false;
            }
        }
    });
    q.batches.extend(batches);
    drop(guard);
    CHANGED.notify_all();
    true
}

/// One batch's semaphore operations from `VkSubmitInfo` / `VkBindSparseInfo` arrays.
///
/// # Safety
/// The pointers hold the counts the batch names; `p_next` is a valid chain.
unsafe fn batch1(
    p_next: *const std::ffi::c_void,
    waits: (*const vk::Semaphore, u32),
    signals: (*const vk::Semaphore, u32),
) -> Batch {
    // SAFETY: forwarded from the caller.
    let timeline = unsafe { ffi::find::<vk::TimelineSemaphoreSubmitInfo<'_>>(p_next) };
    // SAFETY: as above.
    let waits = unsafe { ffi::slice(waits.0, waits.1) };
    // SAFETY: as above.
    let signals = unsafe { ffi::slice(signals.0, signals.1) };
    // SAFETY: the value arrays hold the counts the structure names.
    let (wait_values, signal_values) = timeline.map_or((&[][..], &[][..]), |t| unsafe {
        (
            ffi::slice(t.p_wait_semaphore_values, t.wait_semaphore_value_count),
            ffi::slice(t.p_signal_semaphore_values, t.signal_semaphore_value_count),
        )
    });
    let value = |vals: &[u64], i: usize| vals.get(i).copied().unwrap_or(0);
    Batch {
        waits: waits
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, value(wait_values, i)))
            .collect(),
        signals: signals
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, value(signal_values, i)))
            .collect(),
        fence: vk::Fence::null(),
    }
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
        // SAFETY: forwarded from the caller.
        let batches = unsafe { ffi::slice(p_submits, count) }
            .iter()
            .map(|s| {
                // SAFETY: the submit info's arrays and chain are valid per the caller.
                unsafe {
                    batch1(
                        s.p_next,
                        (s.p_wait_semaphores, s.wait_semaphore_count),
                        (s.p_signal_semaphores, s.signal_semaphore_count),
                    )
                }
            })
            .collect();
        if enqueue(queue, batches, fence) {
            vk::Result::SUCCESS
        } else {
            vk::Result::ERROR_DEVICE_LOST
        }
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
        // SAFETY: forwarded from the caller.
        let batches = unsafe { ffi::slice(p_submits, count) }
            .iter()
            .map(|s| {
                // SAFETY: the arrays hold the counts the submit info names.
                let waits =
                    unsafe { ffi::slice(s.p_wait_semaphore_infos, s.wait_semaphore_info_count) };
                // SAFETY: as above.
                let signals = unsafe {
                    ffi::slice(s.p_signal_semaphore_infos, s.signal_semaphore_info_count)
                };
                Batch {
                    waits: waits.iter().map(|w| (w.semaphore, w.value)).collect(),
                    signals: signals.iter().map(|w| (w.semaphore, w.value)).collect(),
                    fence: vk::Fence::null(),
                }
            })
            .collect();
        if enqueue(queue, batches, fence) {
            vk::Result::SUCCESS
        } else {
            vk::Result::ERROR_DEVICE_LOST
        }
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
        // SAFETY: forwarded from the caller.
        let batches = unsafe { ffi::slice(p_infos, count) }
            .iter()
            .map(|b| {
                // SAFETY: the bind info's arrays and chain are valid per the caller.
                unsafe {
                    batch1(
                        b.p_next,
                        (b.p_wait_semaphores, b.wait_semaphore_count),
                        (b.p_signal_semaphores, b.signal_semaphore_count),
                    )
                }
            })
            .collect();
        if enqueue(queue, batches, fence) {
            vk::Result::SUCCESS
        } else {
            vk::Result::ERROR_DEVICE_LOST
        }
    })
}

/// `vkQueueWaitIdle`: blocks until the queue's worker has executed everything (a held
/// queue ends in `VK_ERROR_DEVICE_LOST` when the watchdog fires).
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn queue_wait_idle(queue: vk::Queue) -> vk::Result {
    ffi::guard(|| {
        if !state::with(|r| r.queues.contains_key(&queue.as_raw())) {
            return vk::Result::ERROR_DEVICE_LOST;
        }
        wait_until(u64::MAX, |w, _| w.queue_idle(queue.as_raw())).result()
    })
}

/// `vkDeviceWaitIdle`: as `vkQueueWaitIdle` for every queue of the device.
pub fn device_wait_idle(device: vk::Device) -> vk::Result {
    wait_until(u64::MAX, |w, _| w.device_idle(device.as_raw())).result()
}

/// `vkHandoffMockHoldQueueEXT(VkQueue queue, VkBool32 hold)`: mock-only. While held, the
/// queue's worker executes nothing; releasing lets it drain.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn hold_queue(queue: vk::Queue, hold: vk::Bool32) {
    ffi::guard_void(|| {
        let mut guard = lock();
        if let Some(q) = guard.queues.get_mut(&queue.as_raw()) {
            q.held = hold != vk::FALSE;
        }
        drop(guard);
        CHANGED.notify_all();
    })
}

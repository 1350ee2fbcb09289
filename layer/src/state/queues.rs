//! Queues and their pending work: each queue's family, the submissions that use a semaphore
//! or a fence and are not known to be complete, and the last submitted operation on each
//! semaphore and fence.
//!
//! Work is complete only when the application observed it: a fence it saw signaled, an idle
//! wait, a timeline value it saw reached. Each queue numbers its submissions (serials); a
//! queue's `completed` serial moves forward on those observations, and everything up to it
//! is done (queue order: a fence or timeline signal completes after all earlier work on its
//! queue). Submissions that touch no semaphore and no fence are not recorded at all: serials
//! only order the tracked batches of a queue, so such work changes none of the answers.

use super::Key;
use super::{fast_map, FastMap};
use ash::vk::{self, Handle};
use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::LazyLock;

/// Pending submissions kept per queue; older ones are taken as complete (fewer findings,
/// never false ones), so an app that never observes completion cannot grow the state.
const MAX_PENDING: usize = 1024;

/// One tracked batch: its semaphore operations (`(semaphore, value)`, value 0 for binary
/// semaphores) and the submission's fence on its last batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub waits: Vec<(u64, u64)>,
    pub signals: Vec<(u64, u64)>,
    pub fence: u64,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.waits.is_empty() && self.signals.is_empty() && self.fence == 0
    }
}

#[derive(Debug)]
struct Submitted {
    serial: u64,
    batch: Batch,
}

#[derive(Debug, Default)]
struct QueueState {
    family: u32,
    /// Serial of the last submitted batch (0: none yet).
    last: u64,
    /// Every batch with a serial up to this is known complete.
    completed: u64,
    pending: VecDeque<Submitted>,
}

/// A semaphore or fence operation: the queue and the batch serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub queue: u64,
    pub serial: u64,
}

/// The last operation submitted on a binary semaphore, or done to it by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemaphoreLast {
    Signal(At),
    Wait(At),
    /// A SYNC_FD export took the payload.
    Exported,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SemaphoreState {
    last: SemaphoreLast,
    /// Highest timeline value signaled (submitted or by the host) or seen.
    signaled_max: u64,
    /// Whether the app has seen the counter (so `signaled_max` bounds the value).
    observed: bool,
}

/// The fence's last submission, or a reset (also by a SYNC_FD export).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FenceLast {
    Submitted(At),
    Unsignaled,
}

static QUEUES: LazyLock<FastMap<Key, QueueState>> = LazyLock::new(fast_map);
static SEMAPHORES: LazyLock<FastMap<Key, SemaphoreState>> = LazyLock::new(fast_map);
static FENCES: LazyLock<FastMap<Key, FenceLast>> = LazyLock::new(fast_map);
/// For fork.rs, which holds them across fork(), in this order.
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 3] {
    [&*QUEUES, &*SEMAPHORES, &*FENCES]
}

fn key(device: vk::Device, object: u64) -> Key {
    (device.as_raw(), object)
}

/// The family of the queue asked last: every submitted acquire asks, mostly on one queue,
/// and a hit skips [`QUEUES`]. Lock-free, so that `fork()` cannot leave it held: a writer
/// makes `seq` odd, writes, and makes it even again, and a reader accepts the slot only when
/// `seq` read the same even value around its reads. Writers never wait for each other (one
/// that finds the slot busy leaves it), so a `fork()` in the middle of a write leaves the
/// child with the slot unused, never stuck. The slot is valid only at the [`FAMILY_EPOCH`]
/// it was filled at.
struct LastFamily {
    seq: AtomicU64,
    epoch: AtomicU64,
    device: AtomicU64,
    queue: AtomicU64,
    family: AtomicU32,
}

static LAST_FAMILY: LastFamily = LastFamily {
    seq: AtomicU64::new(0),
    epoch: AtomicU64::new(0),
    device: AtomicU64::new(0),
    queue: AtomicU64::new(0),
    family: AtomicU32::new(0),
};

/// Moves after every change of a family in [`QUEUES`] (a family set, a device's queues
/// dropped), so that a slot filled before it is not used after it.
static FAMILY_EPOCH: super::CacheLine<AtomicU64> = super::CacheLine(AtomicU64::new(0));

/// Records the family of a queue returned by `vkGetDeviceQueue(2)`.
pub fn set_family(device: vk::Device, queue: vk::Queue, family: u32) {
    {
        QUEUES
            .entry(key(device, queue.as_raw()))
            .or_default()
            .family = family;
    };
    FAMILY_EPOCH.fetch_add(1, Ordering::Release);
}

/// The family of a queue the app got from `vkGetDeviceQueue(2)`.
pub fn family(device: vk::Device, queue: vk::Queue) -> Option<u32> {
    let (d, q) = (device.as_raw(), queue.as_raw());
    let slot = &LAST_FAMILY;
    let epoch = FAMILY_EPOCH.load(Ordering::Acquire);
    let seq = slot.seq.load(Ordering::Acquire);
    let free = seq & 1 == 0;
    if free {
        let hit = slot.epoch.load(Ordering::Relaxed) == epoch
            && slot.device.load(Ordering::Relaxed) == d
            && slot.queue.load(Ordering::Relaxed) == q;
        let family = slot.family.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        if hit && slot.seq.load(Ordering::Relaxed) == seq {
            return Some(family);
        }
    }
    let family = QUEUES.get(&(d, q)).map(|e| e.family)?;
    // Filled only if no writer came since `seq` was read; at `epoch`, read before the
    // lookup, so that a family set meanwhile outdates it.
    if free
        && slot
            .seq
            .compare_exchange(seq, seq + 1, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    {
        fence(Ordering::Release);
        slot.epoch.store(epoch, Ordering::Relaxed);
        slot.device.store(d, Ordering::Relaxed);
        slot.queue.store(q, Ordering::Relaxed);
        slot.family.store(family, Ordering::Relaxed);
        slot.seq.store(seq + 2, Ordering::Release);
    }
    Some(family)
}

/// Records one successful submission's batches, in order.
pub fn record_submission(
    device: vk::Device,
    queue: vk::Queue,
    batches: impl IntoIterator<Item = Batch>,
) {
    let q = queue.as_raw();
    {
        let mut state = QUEUES.entry(key(device, q)).or_default();
        for batch in batches {
            state.last += 1;
            let at = At {
                queue: q,
                serial: state.last,
            };
            for (s, _) in &batch.waits {
                semaphore_op(device, *s, SemaphoreLast::Wait(at), 0);
            }
            for (s, v) in &batch.signals {
                semaphore_op(device, *s, SemaphoreLast::Signal(at), *v);
            }
            if batch.fence != 0 {
                FENCES.insert(key(device, batch.fence), FenceLast::Submitted(at));
            }
            if !batch.is_empty() {
                state.pending.push_back(Submitted {
                    serial: at.serial,
                    batch,
                });
            }
        }
        while state.pending.len() > MAX_PENDING {
            if let Some(old) = state.pending.pop_front() {
                state.completed = state.completed.max(old.serial);
            }
        }
    };
}

fn semaphore_op(device: vk::Device, semaphore: u64, last: SemaphoreLast, value: u64) {
    let mut entry = SEMAPHORES
        .entry(key(device, semaphore))
        .or_insert(SemaphoreState {
            last,
            signaled_max: 0,
            observed: false,
        });
    entry.last = last;
    entry.signaled_max = entry.signaled_max.max(value);
}

fn complete_through(state: &mut QueueState, serial: u64) {
    state.completed = state.completed.max(serial.min(state.last));
    while state
        .pending
        .front()
        .is_some_and(|s| s.serial <= state.completed)
    {
        state.pending.pop_front();
    }
}

/// `vkQueueWaitIdle` succeeded.
pub fn queue_idle(device: vk::Device, queue: vk::Queue) {
    if let Some(mut state) = QUEUES.get_mut(&key(device, queue.as_raw())) {
        let last = state.last;
        complete_through(&mut state, last);
    }
}

/// `vkDeviceWaitIdle` succeeded.
pub fn device_idle(device: vk::Device) {
    let dev = device.as_raw();
    {
        for mut state in QUEUES.iter_mut().filter(|e| e.key().0 == dev) {
            let last = state.last;
            complete_through(&mut state, last);
        }
    };
}

/// The app saw `fence` signaled.
pub fn fence_signaled(device: vk::Device, fence: vk::Fence) {
    let Some(FenceLast::Submitted(at)) = FENCES.get(&key(device, fence.as_raw())).map(|f| *f)
    else {
        return;
    };
    if let Some(mut state) = QUEUES.get_mut(&key(device, at.queue)) {
        complete_through(&mut state, at.serial);
    }
}

/// `vkResetFences`, or a SYNC_FD export with nothing pending: the fence is unsignaled.
pub fn fence_reset(device: vk::Device, fence: vk::Fence) {
    FENCES.insert(key(device, fence.as_raw()), FenceLast::Unsignaled);
}

/// The app saw the counter of a timeline semaphore at `value` or above (a query, a wait,
/// a host signal): the submissions that signal it up to `value` are complete.
pub fn timeline_reached(device: vk::Device, semaphore: vk::Semaphore, value: u64) {
    let s = semaphore.as_raw();
    let dev = device.as_raw();
    {
        let mut entry = SEMAPHORES.entry((dev, s)).or_insert(SemaphoreState {
            last: SemaphoreLast::Exported,
            signaled_max: 0,
            observed: true,
        });
        entry.signaled_max = entry.signaled_max.max(value);
        entry.observed = true;
        drop(entry);
        for mut state in QUEUES.iter_mut().filter(|e| e.key().0 == dev) {
            let done = state
                .pending
                .iter()
                .filter(|p| p.batch.signals.iter().any(|(x, v)| *x == s && *v <= value))
                .map(|p| p.serial)
                .max();
            if let Some(serial) = done {
                complete_through(&mut state, serial);
            }
        }
    };
}

/// Whether the batch at `at` is not known to be complete.
pub fn is_pending(device: vk::Device, at: At) -> bool {
    QUEUES
        .get(&key(device, at.queue))
        .is_some_and(|q| at.serial > q.completed)
}

/// A queue with a pending batch that waits on or signals `semaphore`.
pub fn semaphore_pending_queue(device: vk::Device, semaphore: vk::Semaphore) -> Option<u64> {
    let s = semaphore.as_raw();
    let dev = device.as_raw();
    QUEUES
        .iter()
        .filter(|e| e.key().0 == dev)
        .find(|e| {
            e.pending.iter().any(|p| {
                p.batch.waits.iter().any(|(x, _)| *x == s)
                    || p.batch.signals.iter().any(|(x, _)| *x == s)
            })
        })
        .map(|e| e.key().1)
}

/// The queue of the pending submission `fence` belongs to.
pub fn fence_pending_queue(device: vk::Device, fence: vk::Fence) -> Option<u64> {
    match fence_last(device, fence)? {
        FenceLast::Submitted(at) if is_pending(device, at) => Some(at.queue),
        _ => None,
    }
}

/// The fence's last submission or reset, if the layer saw one.
pub fn fence_last(device: vk::Device, fence: vk::Fence) -> Option<FenceLast> {
    FENCES.get(&key(device, fence.as_raw())).map(|f| *f)
}

/// The semaphore's last operation, if the layer saw one.
pub fn semaphore_last(device: vk::Device, semaphore: vk::Semaphore) -> Option<SemaphoreLast> {
    SEMAPHORES
        .get(&key(device, semaphore.as_raw()))
        .map(|s| s.last)
}

/// The waits of the batch at `at`, while it is pending.
pub fn batch_waits(device: vk::Device, at: At) -> Vec<(u64, u64)> {
    QUEUES
        .get(&key(device, at.queue))
        .and_then(|q| {
            q.pending
                .iter()
                .find(|p| p.serial == at.serial)
                .map(|p| p.batch.waits.clone())
        })
        .unwrap_or_default()
}

/// Whether a timeline value is known to be out of reach: the app has seen the counter, and
/// neither that nor any submitted or host signal reaches `value`.
pub fn timeline_unreached(device: vk::Device, semaphore: u64, value: u64) -> bool {
    SEMAPHORES
        .get(&key(device, semaphore))
        .is_some_and(|s| s.observed && s.signaled_max < value)
}

/// A SYNC_FD export took the semaphore's payload (it acts as a wait).
pub fn semaphore_exported(device: vk::Device, semaphore: vk::Semaphore) {
    {
        let mut entry =
            SEMAPHORES
                .entry(key(device, semaphore.as_raw()))
                .or_insert(SemaphoreState {
                    last: SemaphoreLast::Exported,
                    signaled_max: 0,
                    observed: false,
                });
        entry.last = SemaphoreLast::Exported;
    };
}

/// An import replaced the payload: what was known of the old one no longer applies.
pub fn forget_semaphore(device: vk::Device, semaphore: vk::Semaphore) {
    SEMAPHORES.remove(&key(device, semaphore.as_raw()));
}

/// As [`forget_semaphore`], for a fence.
pub fn forget_fence(device: vk::Device, fence: vk::Fence) {
    FENCES.remove(&key(device, fence.as_raw()));
}

/// Drops everything recorded for `device`.
pub fn remove_device(device: vk::Device) {
    let dev = device.as_raw();
    {
        QUEUES.retain(|k, _| k.0 != dev);
        FAMILY_EPOCH.fetch_add(1, Ordering::Release);
        SEMAPHORES.retain(|k, _| k.0 != dev);
        FENCES.retain(|k, _| k.0 != dev);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(n: u64) -> vk::Device {
        vk::Device::from_raw(0xd000 + n)
    }

    fn sem_batch(waits: &[u64], signals: &[(u64, u64)], fence: u64) -> Batch {
        Batch {
            waits: waits.iter().map(|s| (*s, 0)).collect(),
            signals: signals.to_vec(),
            fence,
        }
    }

    #[test]
    fn a_fence_completes_its_queue_up_to_its_submission() {
        let (d, q) = (dev(1), vk::Queue::from_raw(0x10));
        set_family(d, q, 2);
        assert_eq!(family(d, q), Some(2));
        record_submission(d, q, vec![sem_batch(&[], &[(0x20, 0)], 0)]);
        record_submission(d, q, vec![sem_batch(&[0x20], &[], 0x30)]);
        record_submission(d, q, vec![sem_batch(&[], &[(0x21, 0)], 0)]);
        let s20 = vk::Semaphore::from_raw(0x20);
        assert_eq!(semaphore_pending_queue(d, s20), Some(0x10));
        assert_eq!(
            fence_pending_queue(d, vk::Fence::from_raw(0x30)),
            Some(0x10)
        );
        fence_signaled(d, vk::Fence::from_raw(0x30));
        assert_eq!(semaphore_pending_queue(d, s20), None);
        assert_eq!(fence_pending_queue(d, vk::Fence::from_raw(0x30)), None);
        let s21 = vk::Semaphore::from_raw(0x21);
        assert_eq!(semaphore_pending_queue(d, s21), Some(0x10), "later work");
        queue_idle(d, q);
        assert_eq!(semaphore_pending_queue(d, s21), None);
        remove_device(d);
        assert_eq!(family(d, q), None);
    }

    #[test]
    fn the_last_family_follows_changes() {
        let (d, q) = (dev(4), vk::Queue::from_raw(0x10));
        set_family(d, q, 3);
        assert_eq!(family(d, q), Some(3));
        assert_eq!(family(d, q), Some(3), "from the slot");
        set_family(d, q, 5);
        assert_eq!(family(d, q), Some(5));
        assert_eq!(family(dev(5), q), None, "another device");
        assert_eq!(family(d, q), Some(5));
        remove_device(d);
        assert_eq!(family(d, q), None);
    }

    #[test]
    fn a_timeline_value_completes_the_submissions_that_signal_it() {
        let (d, q) = (dev(2), vk::Queue::from_raw(0x10));
        set_family(d, q, 0);
        record_submission(d, q, vec![sem_batch(&[0x40], &[(0x41, 3)], 0)]);
        let s40 = vk::Semaphore::from_raw(0x40);
        assert!(!timeline_unreached(d, 0x41, 3), "never observed");
        timeline_reached(d, vk::Semaphore::from_raw(0x41), 2);
        assert_eq!(semaphore_pending_queue(d, s40), Some(0x10));
        assert!(
            !timeline_unreached(d, 0x41, 3),
            "a submitted signal reaches 3"
        );
        assert!(timeline_unreached(d, 0x41, 4));
        timeline_reached(d, vk::Semaphore::from_raw(0x41), 3);
        assert_eq!(semaphore_pending_queue(d, s40), None);
        remove_device(d);
    }

    #[test]
    fn last_operations_and_the_pending_cap() {
        let (d, q) = (dev(3), vk::Queue::from_raw(0x10));
        set_family(d, q, 0);
        let s = vk::Semaphore::from_raw(0x50);
        record_submission(d, q, vec![sem_batch(&[], &[(0x50, 0)], 0)]);
        assert!(matches!(
            semaphore_last(d, s),
            Some(SemaphoreLast::Signal(_))
        ));
        record_submission(d, q, vec![sem_batch(&[0x50], &[], 0)]);
        let Some(SemaphoreLast::Wait(at)) = semaphore_last(d, s) else {
            panic!("a wait is the last operation");
        };
        assert!(is_pending(d, at));
        semaphore_exported(d, s);
        assert_eq!(semaphore_last(d, s), Some(SemaphoreLast::Exported));
        for _ in 0..MAX_PENDING + 5 {
            record_submission(d, q, vec![sem_batch(&[], &[(0x51, 0)], 0)]);
        }
        assert!(!is_pending(d, at), "the oldest are taken as complete");
        forget_semaphore(d, s);
        assert_eq!(semaphore_last(d, s), None);
        remove_device(d);
    }
}

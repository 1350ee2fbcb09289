//! Command pools and command buffers: the pool's queue family and what each command buffer
//! recorded for the ownership rules (see `handoff_rules::checks::ownership`).
//!
//! Only operations that touch an external resource or name a special queue family are kept,
//! so command buffers of an app that shares nothing stay empty (an empty `Vec` allocates
//! nothing).

use super::ownership::{Entry, EntryRef};
use super::Key;
use super::{fast_map, FastMap};
use ash::vk::{self, Handle};
use handoff_rules::checks::ownership::RecordedOp;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

/// A `VkCommandBuffer` as allocated, with what it recorded since its last begin or reset.
#[derive(Clone, Debug)]
pub struct CommandBufferRecord {
    /// `VkCommandPoolCreateInfo::queueFamilyIndex` of its pool.
    pub family: u32,
    pub ops: Vec<RecordedOp>,
    /// The ownership entry of each op's resource (same index as `ops`), as resolved by a
    /// submission (`store_entries`): later submissions apply the op without looking the
    /// resource up. Shorter than `ops` until resolved; `None` where not.
    entries: Vec<Option<EntryRef>>,
    /// Counts the recordings that had ops (begins and resets clearing them), so that a
    /// resolution made for an older recording is not stored.
    recording: u64,
}

impl CommandBufferRecord {
    fn new(family: u32) -> Self {
        Self {
            family,
            ops: Vec::new(),
            entries: Vec::new(),
            recording: 0,
        }
    }
}

/// What a submission reads of a command buffer's record (see [`with_recorded`]).
pub struct Recorded<'a> {
    pub ops: &'a [RecordedOp],
    entries: &'a [Option<EntryRef>],
    /// The recording these ops belong to (for [`store_entries`]).
    pub recording: u64,
}

impl Recorded<'_> {
    /// The resolved ownership entry of op `i`, if any.
    #[inline]
    pub fn entry(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i).and_then(|e| e.as_deref())
    }
}

/// A `VkCommandPool`: its family and the command buffers allocated from it (so that
/// destroying or resetting the pool reaches them without scanning every command buffer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct PoolRecord {
    family: u32,
    command_buffers: Vec<u64>,
}

static COMMAND_BUFFERS: LazyLock<FastMap<Key, CommandBufferRecord>> = LazyLock::new(fast_map);

static POOLS: LazyLock<FastMap<Key, PoolRecord>> = LazyLock::new(fast_map);

/// Counts the changes of which command buffers [`COMMAND_BUFFERS`] holds (allocated,
/// inserted, freed, removed, their pool or device destroyed), each after it is done. A
/// record's family never changes in place, so a family read at a count still current is
/// still the record's (see [`family_memo`]).
static MEMBERSHIP: super::CacheLine<AtomicU64> = super::CacheLine(AtomicU64::new(0));

fn membership_changed() {
    MEMBERSHIP.fetch_add(1, Ordering::Release);
}

thread_local! {
    /// This thread's last [`family_memo`] answer: device, command buffer, the
    /// [`MEMBERSHIP`] count before the lookup, and the family.
    static LAST_FAMILY: Cell<(u64, u64, u64, Option<u32>)> =
        const { Cell::new((0, 0, u64::MAX, None)) };
}
/// For fork.rs, which holds them across fork(), in this order.
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 2] {
    [&*POOLS, &*COMMAND_BUFFERS]
}

fn key(device: vk::Device, cb: vk::CommandBuffer) -> Key {
    (device.as_raw(), cb.as_raw())
}

/// The queue family of the command buffer's pool.
pub fn family(device: vk::Device, cb: vk::CommandBuffer) -> Option<u32> {
    COMMAND_BUFFERS.get(&key(device, cb)).map(|r| r.family)
}

/// [`family`], remembered per thread for the last command buffer asked about: a thread
/// recording barriers asks about the same command buffer call after call.
#[inline]
pub fn family_memo(device: vk::Device, cb: vk::CommandBuffer) -> Option<u32> {
    let count = MEMBERSHIP.load(Ordering::Acquire);
    let k = key(device, cb);
    let (d, c, at, family_then) = LAST_FAMILY.with(Cell::get);
    if d == k.0 && c == k.1 && at == count {
        return family_then;
    }
    let f = family(device, cb);
    LAST_FAMILY.with(|last| last.set((k.0, k.1, count, f)));
    f
}

/// Runs `f` on the command buffer's recorded operations (no other lock of this map may be
/// taken inside `f` for the same key). Inlined: the submit path calls it once per command
/// buffer, and whether the compiler inlined it moved a submit by 30 to 90 instructions.
#[inline]
pub fn with_ops<R>(
    device: vk::Device,
    cb: vk::CommandBuffer,
    f: impl FnOnce(&[RecordedOp]) -> R,
) -> Option<R> {
    COMMAND_BUFFERS.get(&key(device, cb)).map(|r| f(&r.ops))
}

/// Runs `f` on the command buffer's record as a submission reads it, the record's shard
/// held (`f` may take the ownership entries' and shared mutexes, the queue map and nothing
/// listed before this map in fork.rs's order).
#[inline(always)]
pub fn with_recorded<R>(
    device: vk::Device,
    cb: vk::CommandBuffer,
    f: impl FnOnce(Recorded<'_>) -> R,
) -> Option<R> {
    let r = COMMAND_BUFFERS.get(&key(device, cb))?;
    Some(f(Recorded {
        ops: &r.ops,
        entries: &r.entries,
        recording: r.recording,
    }))
}

/// Stores the ownership entries resolved for ops of `recording` (`(op index, entry)`);
/// nothing when the command buffer was re-recorded since.
pub fn store_entries(
    device: vk::Device,
    cb: vk::CommandBuffer,
    recording: u64,
    resolved: impl IntoIterator<Item = (usize, EntryRef)>,
) {
    let Some(mut r) = COMMAND_BUFFERS.get_mut(&key(device, cb)) else {
        return;
    };
    if r.recording != recording {
        return;
    }
    let len = r.ops.len();
    for (i, e) in resolved {
        if i >= len {
            continue;
        }
        if r.entries.len() <= i {
            r.entries.resize(i + 1, None);
        }
        r.entries[i] = Some(e);
    }
}

/// Whether the command buffer recorded any operation since its last begin or reset.
pub fn has_ops(device: vk::Device, cb: vk::CommandBuffer) -> bool {
    COMMAND_BUFFERS
        .get(&key(device, cb))
        .is_some_and(|r| !r.ops.is_empty())
}

/// Appends operations to a tracked command buffer; an unknown one is left alone.
pub fn push_ops(
    device: vk::Device,
    cb: vk::CommandBuffer,
    ops: impl IntoIterator<Item = RecordedOp>,
) {
    if let Some(mut r) = COMMAND_BUFFERS.get_mut(&key(device, cb)) {
        r.ops.extend(ops);
    };
}

/// Forgets what the command buffer recorded (begin, reset). The capacity is kept, so a
/// command buffer re-recorded every frame does not allocate again.
pub fn clear_ops(device: vk::Device, cb: vk::CommandBuffer) {
    if let Some(mut r) = COMMAND_BUFFERS.get_mut(&key(device, cb)) {
        if !r.ops.is_empty() {
            r.ops.clear();
            r.entries.clear();
            r.recording = r.recording.wrapping_add(1);
        }
    }
}

/// Records a command pool created for `family`.
pub fn insert_pool(device: vk::Device, pool: vk::CommandPool, family: u32) {
    let k = (device.as_raw(), pool.as_raw());
    POOLS.insert(
        k,
        PoolRecord {
            family,
            command_buffers: Vec::new(),
        },
    );
}

/// The queue family a tracked pool was created for.
#[cfg(test)]
pub fn pool_family(device: vk::Device, pool: vk::CommandPool) -> Option<u32> {
    POOLS
        .get(&(device.as_raw(), pool.as_raw()))
        .map(|p| p.family)
}

/// Records command buffers allocated from a tracked pool (an unknown pool is left alone).
pub fn allocate(device: vk::Device, pool: vk::CommandPool, cbs: &[vk::CommandBuffer]) {
    let pk = (device.as_raw(), pool.as_raw());
    {
        let Some(mut p) = POOLS.get_mut(&pk) else {
            return;
        };
        let family = p.family;
        p.command_buffers.extend(cbs.iter().map(|c| c.as_raw()));
        drop(p);
        for &cb in cbs {
            COMMAND_BUFFERS.insert(key(device, cb), CommandBufferRecord::new(family));
        }
        membership_changed();
    };
}

/// Forgets freed command buffers.
pub fn free(device: vk::Device, pool: vk::CommandPool, cbs: &[vk::CommandBuffer]) {
    let pk = (device.as_raw(), pool.as_raw());
    {
        for &cb in cbs {
            COMMAND_BUFFERS.remove(&key(device, cb));
        }
        membership_changed();
        if let Some(mut p) = POOLS.get_mut(&pk) {
            p.command_buffers
                .retain(|h| !cbs.iter().any(|c| c.as_raw() == *h));
        }
    };
}

/// `vkResetCommandPool`: every command buffer of the pool back to the initial state.
pub fn reset_pool(device: vk::Device, pool: vk::CommandPool) {
    // The pool's guard is held while the command buffers are cleared (lock order: pools,
    // then command buffers, as everywhere here), so that nothing is copied.
    if let Some(p) = POOLS.get(&(device.as_raw(), pool.as_raw())) {
        for &cb in &p.command_buffers {
            clear_ops(device, vk::CommandBuffer::from_raw(cb));
        }
    }
}

/// `vkDestroyCommandPool`: forgets the pool and its command buffers.
pub fn destroy_pool(device: vk::Device, pool: vk::CommandPool) {
    let pk = (device.as_raw(), pool.as_raw());
    if let Some((_, p)) = POOLS.remove(&pk) {
        for cb in p.command_buffers {
            COMMAND_BUFFERS.remove(&(pk.0, cb));
        }
        membership_changed();
    };
}

/// Drops every pool and command buffer of `device`.
pub fn remove_device(device: vk::Device) {
    let dev = device.as_raw();
    {
        POOLS.retain(|k, _| k.0 != dev);
        COMMAND_BUFFERS.retain(|k, _| k.0 != dev);
        membership_changed();
        POOLS.shrink_to_fit();
        COMMAND_BUFFERS.shrink_to_fit();
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_rules::checks::ownership::{Resource, UseOp};

    fn use_op(h: u64) -> RecordedOp {
        RecordedOp::Use(UseOp {
            resource: Resource::Buffer(h),
            command: "vkCmdFillBuffer",
        })
    }

    #[test]
    fn pool_family_begin_reset_free_and_destroy() {
        let dev = vk::Device::from_raw(0x7e57_0001);
        let pool = vk::CommandPool::from_raw(0x10);
        let cbs = [
            vk::CommandBuffer::from_raw(0x11),
            vk::CommandBuffer::from_raw(0x12),
        ];
        insert_pool(dev, pool, 2);
        assert_eq!(pool_family(dev, pool), Some(2));
        allocate(dev, pool, &cbs);
        assert_eq!(family(dev, cbs[0]), Some(2));
        assert!(!has_ops(dev, cbs[0]));
        push_ops(dev, cbs[0], [use_op(1), use_op(2)]);
        assert!(has_ops(dev, cbs[0]));
        assert_eq!(with_ops(dev, cbs[0], |o| o.len()), Some(2));
        // Begin (or reset) forgets what was recorded.
        clear_ops(dev, cbs[0]);
        assert_eq!(with_ops(dev, cbs[0], |o| o.len()), Some(0));
        push_ops(dev, cbs[1], [use_op(3)]);
        reset_pool(dev, pool);
        assert!(!has_ops(dev, cbs[1]));
        free(dev, pool, &cbs[..1]);
        assert_eq!(family(dev, cbs[0]), None);
        assert_eq!(family(dev, cbs[1]), Some(2));
        assert_eq!(family_memo(dev, cbs[1]), Some(2));
        assert_eq!(family_memo(dev, cbs[1]), Some(2), "remembered");
        // Destroying the pool forgets its remaining command buffers.
        destroy_pool(dev, pool);
        assert_eq!(family(dev, cbs[1]), None);
        assert_eq!(family_memo(dev, cbs[1]), None, "not once destroyed");
        assert_eq!(pool_family(dev, pool), None);
        // Unknown command buffers and pools are left alone.
        push_ops(dev, cbs[1], [use_op(4)]);
        assert!(!has_ops(dev, cbs[1]));
        allocate(dev, pool, &cbs);
        assert_eq!(family(dev, cbs[0]), None);
    }

    #[test]
    fn remove_device_drops_its_pools_only() {
        let (a, b) = (
            vk::Device::from_raw(0x7e57_0002),
            vk::Device::from_raw(0x7e57_0003),
        );
        let pool = vk::CommandPool::from_raw(0x20);
        let cb = [vk::CommandBuffer::from_raw(0x21)];
        for d in [a, b] {
            insert_pool(d, pool, 0);
            allocate(d, pool, &cb);
        }
        remove_device(a);
        assert_eq!(family(a, cb[0]), None);
        assert_eq!(family(b, cb[0]), Some(0));
        remove_device(b);
    }

    #[test]
    fn resolved_entries_belong_to_one_recording() {
        let dev = vk::Device::from_raw(0x7e57_0004);
        let pool = vk::CommandPool::from_raw(0x30);
        let cb = [vk::CommandBuffer::from_raw(0x31)];
        insert_pool(dev, pool, 0);
        allocate(dev, pool, &cb);
        push_ops(dev, cb[0], [use_op(1), use_op(2)]);
        let read = |i| {
            with_recorded(dev, cb[0], |r| {
                (r.recording, r.ops.len(), r.entry(i).is_some())
            })
            .unwrap()
        };
        let (recording, len, resolved) = read(1);
        assert!(len == 2 && !resolved);
        let e = EntryRef::default();
        store_entries(dev, cb[0], recording, [(1, e.clone()), (7, e.clone())]);
        assert!(
            read(1).2 && !read(0).2,
            "stored at its index; out of range ignored"
        );
        // Re-recorded: the old resolution is dropped and a late one is not stored.
        clear_ops(dev, cb[0]);
        push_ops(dev, cb[0], [use_op(1), use_op(2)]);
        assert!(!read(1).2);
        store_entries(dev, cb[0], recording, [(1, e)]);
        assert!(!read(1).2);
        destroy_pool(dev, pool);
        assert!(with_recorded(dev, cb[0], |_| ()).is_none());
    }
}

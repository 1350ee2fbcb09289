//! The state map: what the layer knows about each tracked object, keyed by
//! `(device, handle)` so that handles of different devices never collide.
//!
//! Maps are sharded (no global lock): the memory, buffer and image records that every
//! external-memory call touches sit in [`shard_map::ShardMap`]s (one locked instruction per
//! access), the rest in `dashmap`s. Values are small `Copy` records;
//! checks receive copies, so no lock is held while a rule runs or a finding is reported.

pub mod accounting;
pub mod commands;
pub mod filter;
pub mod ownership;
pub mod queues;
pub mod resources;
pub mod shard_map;
pub mod sync;
pub mod views;

use ash::vk;
use dashmap::DashMap;

/// Key of every per-device map: the raw `VkDevice` and the object's raw handle.
pub type Key = (u64, u64);

/// The layer's concurrent map: sharded locks, hashed with FxHash. Keys are handles and
/// pointers the app or the driver chose; SipHash's resistance to chosen keys would cost more
/// than the checks themselves on every intercepted call.
pub type FastMap<K, V> = DashMap<K, V, rustc_hash::FxBuildHasher>;

/// Shards per map: fixed rather than dashmap's four per CPU, so that the layer's memory and
/// the way its tables grow are the same on a 2-core CI runner and a 16-core GPU machine;
/// 16 write locks are plenty for the 8 threads the stress test runs.
const SHARDS: usize = 16;

/// A value alone on its cache lines (two, for the adjacent-line prefetcher): for the few
/// process-wide counters that intercepted calls write, so that threads bumping one do not
/// take away the line of the read-mostly statics the linker put beside it.
#[repr(align(128))]
pub struct CacheLine<T>(pub T);

impl<T> std::ops::Deref for CacheLine<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Fibonacci hashing of a `(device, handle)` pair (handles are pointers or small
/// counters): the top bits mix every input bit. The barrier filter takes its slot from the
/// top bits; [`shard_map::ShardMap`] its shard from the top bits and its home slot from
/// bits 32 up.
#[inline(always)]
pub fn handle_hash(device: u64, handle: u64) -> u64 {
    (handle ^ device.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// An empty [`FastMap`].
pub fn fast_map<K: Eq + std::hash::Hash, V>() -> FastMap<K, V> {
    DashMap::with_hasher_and_shard_amount(rustc_hash::FxBuildHasher, SHARDS)
}

/// A `VkDeviceMemory` as allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRecord {
    pub size: u64,
    pub type_index: u32,
    /// `VkExportMemoryAllocateInfo::handleTypes`, empty when none was chained.
    pub export_types: vk::ExternalMemoryHandleTypeFlags,
    /// The handle type of the import that made it (`VkImportMemoryFdInfoKHR` or
    /// `VkImportMemoryHostPointerInfoEXT`), empty when it was no import.
    pub import_type: vk::ExternalMemoryHandleTypeFlags,
    /// The resource named by `VkMemoryDedicatedAllocateInfo`, if any.
    pub dedicated: Dedicated,
    /// `VkMemoryAllocateFlagsInfo::deviceMask` when set (device groups), else 0.
    pub device_mask: u32,
    /// The payload registry entry this memory exports or imports (see `payload`), if any.
    pub payload: Option<u64>,
    /// Where the payload registry files that payload (the inode of its first export).
    pub payload_home: (u64, u64),
    /// The fd number an fd import named (`VkImportMemoryFdInfoKHR::fd`), else -1: the
    /// payload registry forgets that number's consumption when the memory goes.
    pub import_fd: i32,
    /// `vkGetMemoryFdKHR` succeeded on it: the payload registry holds an export of it.
    pub exported: bool,
}

impl MemoryRecord {
    /// Whether an export of `handle_type` from this memory is one no export rule can fault:
    /// a type it was allocated to export, and no import (no re-export rule).
    #[inline(always)]
    pub fn exports_plainly(&self, handle_type: vk::ExternalMemoryHandleTypeFlags) -> bool {
        self.import_type.is_empty() && self.export_types.contains(handle_type)
    }
}

/// The resource a dedicated allocation was made for (raw handles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dedicated {
    #[default]
    None,
    Buffer(u64),
    Image(u64),
}

/// Live objects per kind, as the summary record lists them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveCounts {
    pub memory: u64,
    pub buffer: u64,
    pub image: u64,
}

impl LiveCounts {
    /// `(kind, count)` pairs in the summary record's order.
    pub fn pairs(&self) -> [(&'static str, u64); 3] {
        [
            ("memory", self.memory),
            ("buffer", self.buffer),
            ("image", self.image),
        ]
    }
}

#[link_section = ".data.handoff_hot"]
static MEMORY: shard_map::ShardMap<MemoryRecord> = shard_map::ShardMap::new();
/// For fork.rs, which holds it across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 1] {
    [&MEMORY]
}

fn key(device: vk::Device, handle: u64) -> Key {
    (ash::vk::Handle::as_raw(device), handle)
}

// Out of line in the hot text: the map's generic insertion inlines here, beside the entry
// points of the external-memory cycle, not on a page of its own.
#[inline(never)]
#[link_section = ".text.hot.handoff"]
pub fn insert_memory(device: vk::Device, memory: vk::DeviceMemory, rec: MemoryRecord) {
    let k = key(device, ash::vk::Handle::as_raw(memory));
    MEMORY.insert(k, rec);
}

#[inline]
pub fn remove_memory(device: vk::Device, memory: vk::DeviceMemory) -> Option<MemoryRecord> {
    let k = key(device, ash::vk::Handle::as_raw(memory));
    MEMORY.remove(&k)
}

#[inline]
pub fn memory(device: vk::Device, memory: vk::DeviceMemory) -> Option<MemoryRecord> {
    MEMORY.get(&key(device, ash::vk::Handle::as_raw(memory)))
}

/// `f` on a tracked memory object's record, read in place under its shard's lock (no copy
/// of the record); `None` for unknown memory. `f` must be short and must not touch the state
/// map. Inlined whole: `vkBindBufferMemory`'s quick path reads memory through it.
#[inline(always)]
pub fn with_memory<R>(
    device: vk::Device,
    memory: vk::DeviceMemory,
    f: impl FnOnce(&MemoryRecord) -> R,
) -> Option<R> {
    MEMORY.read(&key(device, ash::vk::Handle::as_raw(memory)), f)
}

/// Records that `memory` exported `payload` (see `payload`); no-op for unknown memory.
#[inline(always)]
pub fn set_memory_exported(
    device: vk::Device,
    memory: vk::DeviceMemory,
    payload: u64,
    home: (u64, u64),
) {
    let k = key(device, ash::vk::Handle::as_raw(memory));
    let changed = MEMORY
        .update(&k, |rec| record_export(rec, payload, home))
        .unwrap_or(false);
    if changed {
        // Facts cached by the ownership state name the payload: stale now.
        ownership::changed();
    }
}

/// Marks `rec` exported as `payload`, filed at `home`; whether its payload changed.
#[inline(always)]
fn record_export(rec: &mut MemoryRecord, payload: u64, home: (u64, u64)) -> bool {
    rec.exported = true;
    rec.payload_home = home;
    rec.payload.replace(payload) != Some(payload)
}

/// Under one lookup of `memory`'s record: when `eligible` says yes, records that it exported
/// payload `id()` filed at `home` and returns that id; otherwise a copy of the record
/// (`Err(None)` for unknown memory).
#[inline(always)]
pub fn set_memory_exported_if(
    device: vk::Device,
    memory: vk::DeviceMemory,
    eligible: impl FnOnce(&MemoryRecord) -> bool,
    id: impl FnOnce() -> u64,
    home: (u64, u64),
) -> Result<u64, Option<MemoryRecord>> {
    let k = key(device, ash::vk::Handle::as_raw(memory));
    let outcome = MEMORY.update(&k, |rec| {
        if !eligible(rec) {
            return Err(*rec);
        }
        let payload = id();
        Ok((payload, record_export(rec, payload, home)))
    });
    let (payload, changed) = match outcome {
        None => return Err(None),
        Some(Err(rec)) => return Err(Some(rec)),
        Some(Ok(done)) => done,
    };
    if changed {
        // Facts cached by the ownership state name the payload: stale now.
        ownership::changed();
    }
    Ok(payload)
}

/// `f` on `memory`'s record, changed in place under its shard's write lock; `None` for
/// unknown memory. While `f` runs the memory cannot leave the map, so `f` may call the driver
/// on it (`vkFreeMemory` removes the record before it calls down). `f` must not touch the
/// state map or any lock that comes before it (see `fork.rs`).
pub fn with_memory_mut<R>(
    device: vk::Device,
    memory: vk::DeviceMemory,
    f: impl FnOnce(&mut MemoryRecord) -> R,
) -> Option<R> {
    let k = key(device, ash::vk::Handle::as_raw(memory));
    MEMORY.update(&k, f)
}

/// What `f` picks out of every memory record, for the rare visits of all memory.
pub fn memory_find<T>(
    mut f: impl FnMut(vk::Device, vk::DeviceMemory, &MemoryRecord) -> Option<T>,
) -> Vec<T> {
    let mut found = Vec::new();
    MEMORY.for_each(|&(d, m), rec| {
        found.extend(f(
            <vk::Device as vk::Handle>::from_raw(d),
            <vk::DeviceMemory as vk::Handle>::from_raw(m),
            rec,
        ))
    });
    found
}

/// Drops everything recorded for `device`; returns the memory handles that were still live.
pub fn remove_device(device: vk::Device) -> Vec<u64> {
    let dev = ash::vk::Handle::as_raw(device);
    let mut live = Vec::new();
    MEMORY.retain(|k, _| {
        let other = k.0 != dev;
        if !other {
            live.push(k.1);
        }
        other
    });
    MEMORY.shrink_to_fit();
    live
}

pub fn live_counts() -> LiveCounts {
    let (buffer, image) = resources::counts();
    LiveCounts {
        memory: MEMORY.len() as u64,
        buffer,
        image,
    }
}

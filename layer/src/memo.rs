//! Verdict memo: parameter sets the create, allocate and bind rules judged before without a
//! finding.
//!
//! An app repeats the same few buffer create infos, allocation shapes and bind pairings
//! thousands of times. The rules those calls run are pure functions of parameters that hold
//! no handle (flags, usage, handle types, sizes) and of the device (its extensions, and the
//! driver's capability answers, which [`crate::capabilities`] caches for the instance's
//! life). A key judged clean once is clean again on the same device, so the second call costs
//! one map lookup instead of the capability lookups, the rules and their allocations.
//!
//! Only clean verdicts are kept: a call that produced a finding runs the rules again, so
//! every occurrence is reported (and counted toward `duplicate_limit`) as before. The memo is
//! per device and bounded ([`MAX_KEYS`]), so it cannot grow with the number of calls.

use crate::state::{fast_map, FastMap};
use ash::vk;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Clean keys kept per device, at most; past that, new keys are judged every time.
pub const MAX_KEYS: usize = 512;

/// The handle-free inputs of one rule group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// `vkCreateBuffer`: the create-info members and the external handle types the buffer
    /// create rules read (`None` when `VkExternalMemoryBufferCreateInfo` was not chained).
    BufferCreate {
        flags: vk::BufferCreateFlags,
        usage: vk::BufferUsageFlags,
        external: Option<vk::ExternalMemoryHandleTypeFlags>,
    },
    /// `vkAllocateMemory` without an import, a dedicated resource or an NV structure:
    /// `chained` is the set of known extending structures (each at most once).
    Allocate {
        size: u64,
        type_index: u32,
        chained: u32,
        export_khr: bool,
        export_types: vk::ExternalMemoryHandleTypeFlags,
        device_mask: Option<u32>,
        opaque_capture_address: u64,
    },
    /// The `pNext` support rule of `vkAllocateMemory`: the set of known structures chained.
    AllocateChain(u32),
    /// The per-resource support rules at a bind of non-dedicated memory to a buffer.
    BufferSupport {
        flags: vk::BufferCreateFlags,
        usage: vk::BufferUsageFlags,
        export_types: vk::ExternalMemoryHandleTypeFlags,
        import_type: vk::ExternalMemoryHandleTypeFlags,
    },
}

/// Keys of each kind kept in the lock-free front lists; the rest go to a map.
const FRONT: usize = 8;
/// The kinds of [`Key`], one front list each.
const KINDS: usize = 4;

impl Key {
    /// The front list `self` belongs to.
    fn kind(&self) -> usize {
        match self {
            Key::BufferCreate { .. } => 0,
            Key::Allocate { .. } => 1,
            Key::AllocateChain(_) => 2,
            Key::BufferSupport { .. } => 3,
        }
    }
}

/// One device's clean keys.
///
/// An app repeats a handful of shapes, so the first [`FRONT`] clean keys of each kind sit in
/// a list that is written once per slot and read without a lock: a hit costs a compare or
/// two, where a sharded map costs a hash, a shard lock and a probe (about 150 instructions a
/// lookup, four lookups per external-memory cycle). Later keys go to the map.
pub struct Memo {
    front: [[OnceLock<Key>; FRONT]; KINDS],
    /// How many slots of each front list are set; published with `Release` after the slot.
    len: [AtomicUsize; KINDS],
    /// Serialises the writers (only a first clean verdict writes).
    grow: Mutex<()>,
    rest: FastMap<Key, ()>,
}

impl Default for Memo {
    fn default() -> Self {
        Memo {
            front: Default::default(),
            len: Default::default(),
            grow: Mutex::new(()),
            rest: fast_map(),
        }
    }
}

impl Memo {
    /// Whether `key` was judged clean before.
    #[inline]
    pub fn is_clean(&self, key: &Key) -> bool {
        let kind = key.kind();
        let n = self.len[kind].load(Ordering::Acquire);
        self.front[kind][..n]
            .iter()
            .any(|slot| slot.get() == Some(key))
            || (n == FRONT && self.rest.contains_key(key))
    }

    /// Records that `key`'s rules produced no finding.
    pub fn mark_clean(&self, key: Key) {
        let _writer = self.grow.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_clean(&key) {
            return;
        }
        let kind = key.kind();
        let n = self.len[kind].load(Ordering::Relaxed);
        if n < FRONT {
            if self.front[kind][n].set(key).is_ok() {
                self.len[kind].store(n + 1, Ordering::Release);
            }
        } else if self.count() < MAX_KEYS {
            self.rest.insert(key, ());
        }
    }

    /// How many clean keys are kept.
    pub fn count(&self) -> usize {
        self.len
            .iter()
            .map(|n| n.load(Ordering::Acquire))
            .sum::<usize>()
            + self.rest.len()
    }

    /// Runs `judge` unless `key` is known clean; remembers a clean outcome. `judge` returns
    /// whether it found nothing.
    #[inline]
    pub fn judge(&self, key: Option<Key>, judge: impl FnOnce() -> bool) {
        match key {
            Some(k) if self.is_clean(&k) => {}
            Some(k) => {
                if judge() {
                    self.mark_clean(k);
                }
            }
            None => {
                judge();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_writers_keep_each_key_once() {
        let memo = Memo::default();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for u in 0..40 {
                        memo.mark_clean(key(u));
                    }
                });
            }
        });
        assert_eq!(memo.count(), 40);
        assert!((0..40).all(|u| memo.is_clean(&key(u))));
    }

    fn key(usage: u32) -> Key {
        Key::BufferCreate {
            flags: vk::BufferCreateFlags::empty(),
            usage: vk::BufferUsageFlags::from_raw(usage),
            external: None,
        }
    }

    #[test]
    fn a_clean_key_is_judged_once() {
        let memo = Memo::default();
        let mut runs = 0;
        for _ in 0..3 {
            memo.judge(Some(key(1)), || {
                runs += 1;
                true
            });
        }
        assert_eq!(runs, 1);
    }

    #[test]
    fn a_key_with_findings_is_judged_every_time() {
        let memo = Memo::default();
        let mut runs = 0;
        for _ in 0..3 {
            memo.judge(Some(key(2)), || {
                runs += 1;
                false
            });
        }
        assert_eq!(runs, 3);
    }

    #[test]
    fn the_memo_is_bounded() {
        let memo = Memo::default();
        for u in 0..(MAX_KEYS as u32 + 100) {
            memo.mark_clean(key(u));
        }
        assert_eq!(memo.count(), MAX_KEYS);
        // Every kept key answers clean, the ones past the front list included.
        assert!((0..MAX_KEYS as u32).all(|u| memo.is_clean(&key(u))));
        assert!(!memo.is_clean(&key(MAX_KEYS as u32 + 50)));
    }
}

//! Verdict memo: parameter sets the create, allocate and bind rules judged before without a
//! finding.
//!
//! An app repeats the same few buffer create infos, allocation shapes and bind pairings
//! thousands of times. The rules those calls run are pure functions of parameters that hold
//! no handle (flags, usage, handle types, sizes) and of the device (its extensions, and the
//! driver's capability answers, which [`crate::capabilities`] caches for the instance's
//! life, and its memory requirements, which the spec makes the same for buffers created
//! alike). A key judged clean once is clean again on the same device, so the second call
//! costs a few word compares (a map lookup past the front lists) instead of the capability
//! and requirement lookups, the rules and their allocations.
//!
//! Only clean verdicts are kept: a call that produced a finding runs the rules again, so
//! every occurrence is reported (and counted toward `duplicate_limit`) as before. The memo is
//! per device and bounded ([`MAX_KEYS`]), so it cannot grow with the number of calls.

use crate::state::{fast_map, FastMap};
use ash::vk;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

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
    /// A bind of memory that names no dedicated resource to a buffer whose chain held
    /// nothing but `VkExternalMemoryBufferCreateInfo`: every input of the bind rules, of the
    /// per-resource support rules ([`Key::BufferSupport`]) and of the buffer's memory
    /// requirements (cached per shape by `requirements::buffer_cached`).
    BufferBind {
        size: u64,
        flags: vk::BufferCreateFlags,
        usage: vk::BufferUsageFlags,
        sharing_mode: vk::SharingMode,
        external_types: vk::ExternalMemoryHandleTypeFlags,
        export_types: vk::ExternalMemoryHandleTypeFlags,
        import_type: vk::ExternalMemoryHandleTypeFlags,
    },
}

/// Keys of each kind kept in the lock-free front lists; the rest go to a map.
const FRONT: usize = 8;
/// The kinds of [`Key`], one front list each.
const KINDS: usize = 5;
/// Words of a key's encoding ([`Key::words`]).
const WORDS: usize = 5;

impl Key {
    /// The front list `self` belongs to.
    #[inline(always)]
    fn kind(&self) -> usize {
        match self {
            Key::BufferCreate { .. } => 0,
            Key::Allocate { .. } => 1,
            Key::AllocateChain(_) => 2,
            Key::BufferSupport { .. } => 3,
            Key::BufferBind { .. } => 4,
        }
    }

    /// The key as words, one-to-one within its kind: a front-list hit is a compare of
    /// plain words rather than of an enum field by field.
    #[inline(always)]
    fn words(&self) -> [u64; WORDS] {
        let w = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
        match *self {
            Key::BufferCreate {
                flags,
                usage,
                external,
            } => [
                w(flags.as_raw(), usage.as_raw()),
                w(
                    external.map_or(0, |e| e.as_raw()),
                    u32::from(external.is_some()),
                ),
                0,
                0,
                0,
            ],
            Key::Allocate {
                size,
                type_index,
                chained,
                export_khr,
                export_types,
                device_mask,
                opaque_capture_address,
            } => [
                size,
                w(type_index, chained),
                w(export_types.as_raw(), device_mask.unwrap_or(0)),
                opaque_capture_address,
                u64::from(export_khr) | (u64::from(device_mask.is_some()) << 1),
            ],
            Key::AllocateChain(set) => [u64::from(set), 0, 0, 0, 0],
            Key::BufferSupport {
                flags,
                usage,
                export_types,
                import_type,
            } => [
                w(flags.as_raw(), usage.as_raw()),
                w(export_types.as_raw(), import_type.as_raw()),
                0,
                0,
                0,
            ],
            Key::BufferBind {
                size,
                flags,
                usage,
                sharing_mode,
                external_types,
                export_types,
                import_type,
            } => [
                size,
                w(flags.as_raw(), usage.as_raw()),
                w(sharing_mode.as_raw() as u32, external_types.as_raw()),
                w(export_types.as_raw(), import_type.as_raw()),
                0,
            ],
        }
    }
}

/// One front-list slot: a key's words, written once before its list's length counts it.
type Slot = [AtomicU64; WORDS];

/// Whether `slot` holds the key of words `want`.
#[inline(always)]
fn matches(slot: &Slot, want: &[u64; WORDS]) -> bool {
    slot.iter()
        .zip(want)
        .all(|(s, w)| s.load(Ordering::Relaxed) == *w)
}

/// One device's clean keys.
///
/// An app repeats a handful of shapes, so the first [`FRONT`] clean keys of each kind sit in
/// a list that is written once per slot and read without a lock: a hit costs a few word
/// compares, where a sharded map costs a hash, a shard lock and a probe (about 150
/// instructions a lookup). Later keys go to the map.
pub struct Memo {
    /// Each slot's words are stored (relaxed) before its list's `len` is published with
    /// `Release`, and never again; a reader loads `len` with `Acquire` and reads only the
    /// slots below it.
    front: [[Slot; FRONT]; KINDS],
    /// How many slots of each front list are set.
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
    /// Whether `key` was judged clean before. Inlined, so that the key's encoding folds
    /// into the caller, which knows its kind. The first slot of the list (the first shape
    /// judged clean, usually the one an app repeats) is compared here; the other slots and the map out of
    /// line, so that the callers' hot code stays a few cache lines.
    #[inline(always)]
    pub fn is_clean(&self, key: &Key) -> bool {
        let kind = key.kind();
        let want = key.words();
        let n = self.len[kind].load(Ordering::Acquire);
        (n > 0 && matches(&self.front[kind][0], &want))
            || (n > 1 && self.is_clean_past_first(key, n))
    }

    /// [`Memo::is_clean`] past the first slot of a list that has `n > 1` slots set.
    #[inline(never)]
    fn is_clean_past_first(&self, key: &Key, n: usize) -> bool {
        let want = key.words();
        self.front[key.kind()][1..n.min(FRONT)]
            .iter()
            .any(|slot| matches(slot, &want))
            || (n >= FRONT && self.in_rest(key))
    }

    /// Whether `key` is among the clean keys past the front lists.
    #[inline(never)]
    fn in_rest(&self, key: &Key) -> bool {
        self.rest.contains_key(key)
    }

    /// Records that `key`'s rules produced no finding.
    #[cold]
    pub fn mark_clean(&self, key: Key) {
        let _writer = self.grow.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_clean(&key) {
            return;
        }
        let kind = key.kind();
        let n = self.len[kind].load(Ordering::Relaxed);
        if n < FRONT {
            for (s, w) in self.front[kind][n].iter().zip(key.words()) {
                s.store(w, Ordering::Relaxed);
            }
            self.len[kind].store(n + 1, Ordering::Release);
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

    /// Keys that differ in any field, `None` against `Some(0)` included, stay apart in the
    /// front lists.
    #[test]
    fn keys_differing_in_one_field_stay_apart() {
        let ext = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
        let none = vk::ExternalMemoryHandleTypeFlags::empty();
        let alloc = |chained, export_khr, device_mask, opaque_capture_address| Key::Allocate {
            size: 4096,
            type_index: 1,
            chained,
            export_khr,
            export_types: ext,
            device_mask,
            opaque_capture_address,
        };
        let bind = |size, sharing_mode, export_types, import_type| Key::BufferBind {
            size,
            flags: vk::BufferCreateFlags::empty(),
            usage: vk::BufferUsageFlags::TRANSFER_DST,
            sharing_mode,
            external_types: ext,
            export_types,
            import_type,
        };
        let (excl, conc) = (vk::SharingMode::EXCLUSIVE, vk::SharingMode::CONCURRENT);
        let variants = [
            key(1),
            Key::BufferCreate {
                flags: vk::BufferCreateFlags::empty(),
                usage: vk::BufferUsageFlags::from_raw(1),
                external: Some(none),
            },
            alloc(1, true, None, 0),
            alloc(1, true, Some(0), 0),
            alloc(1, false, None, 0),
            alloc(1, true, None, 1),
            alloc(3, true, None, 0),
            Key::AllocateChain(1),
            Key::AllocateChain(3),
            Key::BufferSupport {
                flags: vk::BufferCreateFlags::empty(),
                usage: vk::BufferUsageFlags::TRANSFER_DST,
                export_types: ext,
                import_type: none,
            },
            bind(4096, excl, ext, none),
            bind(8192, excl, ext, none),
            bind(4096, conc, ext, none),
            bind(4096, excl, ext, ext),
            bind(4096, excl, none, none),
        ];
        for (i, k) in variants.iter().enumerate() {
            let memo = Memo::default();
            memo.mark_clean(*k);
            for (j, other) in variants.iter().enumerate() {
                assert_eq!(memo.is_clean(other), i == j, "{k:?} against {other:?}");
            }
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

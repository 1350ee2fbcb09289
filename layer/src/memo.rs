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

/// One device's clean keys.
pub struct Memo {
    clean: FastMap<Key, ()>,
}

impl Default for Memo {
    fn default() -> Self {
        Memo { clean: fast_map() }
    }
}

impl Memo {
    /// Whether `key` was judged clean before.
    #[inline]
    pub fn is_clean(&self, key: &Key) -> bool {
        self.clean.contains_key(key)
    }

    /// Records that `key`'s rules produced no finding.
    pub fn mark_clean(&self, key: Key) {
        if self.clean.len() < MAX_KEYS {
            self.clean.insert(key, ());
        }
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
        assert_eq!(memo.clean.len(), MAX_KEYS);
    }
}

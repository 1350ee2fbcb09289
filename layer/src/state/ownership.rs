//! Ownership and layout of external buffers and images as the queues see them, and what
//! resources on one piece of memory share (see `handoff_rules::checks::ownership`).
//!
//! Two sharded maps, no global lock: an op locks its resource's entry, then what its memory
//! shares (always in that order, and no other code holds one while taking the other, so two
//! queues cannot deadlock). Each op is applied atomically; two queues submitting ops on one
//! payload at once without synchronization interleave op by op, which is the app's race to
//! begin with. A resource's entry keeps what its memory shares at hand, so the shared map is
//! looked up again only after a binding change or a removal from it.

use super::Key;
use super::{fast_map, FastMap};
use ash::vk::{self, Handle};
use handoff_rules::checks::ownership::{ResourceState, Shared};
use once_cell::sync::Lazy;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the resources of one piece of memory share: a payload of the registry (the same for
/// the exporting and every importing memory, in any device or instance of this process), or
/// memory that was never exported through the layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SharedKey {
    Payload(u64),
    Memory(Key),
}

/// One resource's state, with the binding it was built for: a handle reused for another
/// resource (after a destroy the layer was not told about here) starts afresh.
#[derive(Debug, Default)]
struct Tracked {
    binding: (u64, u64),
    state: ResourceState,
    /// What its memory shares, as last looked up: valid while the key is the op's and no
    /// entry left [`SHARED`] since (the [`REMOVALS`] count it was looked up at). Its mutex
    /// is only ever taken while this entry of [`RESOURCES`] is held, so whoever holds every
    /// shard of [`RESOURCES`] (fork.rs across `fork()`) knows no such mutex is held.
    shared: Option<(SharedKey, u64, Arc<Mutex<Shared>>)>,
}

static RESOURCES: Lazy<FastMap<Key, Tracked>> = Lazy::new(fast_map);
static SHARED: Lazy<FastMap<SharedKey, Arc<Mutex<Shared>>>> = Lazy::new(fast_map);
/// Counts removals from [`SHARED`], each counted after it is done.
static REMOVALS: AtomicU64 = AtomicU64::new(0);

fn removed() {
    REMOVALS.fetch_add(1, Ordering::Release);
}
/// For fork.rs, which holds them across fork(), in this order.
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 2] {
    [&*RESOURCES, &*SHARED]
}

/// Runs `f` on the state of `(device, resource)` bound at `binding` (memory, offset) and on
/// what its memory shares, both created on first use and locked for the call; what `f`
/// allocates is state. `f` must not call back into this module.
pub fn with_entry<R>(
    resource: Key,
    binding: (u64, u64),
    shared: SharedKey,
    f: impl FnOnce(&mut ResourceState, &mut Shared) -> R,
) -> R {
    // An existing entry (every op after a resource's first) is found without `entry`'s
    // insertion path.
    let mut t = match RESOURCES.get_mut(&resource) {
        Some(t) => t,
        None => RESOURCES.entry(resource).or_default(),
    };
    if t.binding != binding {
        *t = Tracked {
            binding,
            ..Tracked::default()
        };
    }
    let Tracked {
        state, shared: at, ..
    } = &mut *t;
    // Read before the lookup: a removal the lookup may miss is counted after it.
    let removals = REMOVALS.load(Ordering::Acquire);
    let current = match at {
        Some((k, n, s)) if *k == shared && *n == removals => s,
        _ => {
            let s = Arc::clone(&SHARED.entry(shared).or_default());
            &at.insert((shared, removals, s)).2
        }
    };
    let mut s = current.lock().unwrap_or_else(|e| e.into_inner());
    f(state, &mut s)
}

/// Forgets a destroyed buffer or image (raw handle).
pub fn remove_resource(device: vk::Device, handle: u64) {
    RESOURCES.remove(&(device.as_raw(), handle));
}

/// Forgets freed memory that had no payload (payload entries outlive one memory object:
/// the other side may still hold the payload).
pub fn remove_memory(device: vk::Device, memory: vk::DeviceMemory) {
    SHARED.remove(&SharedKey::Memory((device.as_raw(), memory.as_raw())));
    removed();
}

/// Forgets everything of `device` except payload entries.
pub fn remove_device(device: vk::Device) {
    let dev = device.as_raw();
    RESOURCES.retain(|k, _| k.0 != dev);
    SHARED.retain(|k, _| !matches!(k, SharedKey::Memory((d, _)) if *d == dev));
    removed();
    RESOURCES.shrink_to_fit();
    SHARED.shrink_to_fit();
}

/// Forgets a payload once no memory of this process holds it.
pub fn remove_payload(payload: u64) {
    SHARED.remove(&SharedKey::Payload(payload));
    removed();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_binding_starts_afresh_and_removal_forgets() {
        let dev = vk::Device::from_raw(0xe000);
        let key = SharedKey::Memory((0xe000, 0x10));
        with_entry((0xe000, 0x20), (0x10, 0), key, |_, s| s.uses = 3);
        with_entry((0xe000, 0x20), (0x10, 0), key, |_, s| assert_eq!(s.uses, 3));
        remove_device(dev);
        with_entry((0xe000, 0x20), (0x10, 0), key, |r, s| {
            assert!(r.is_empty());
            assert_eq!(s.uses, 0);
        });
        remove_memory(dev, vk::DeviceMemory::from_raw(0x10));
        remove_resource(dev, 0x20);
        assert!(!RESOURCES.contains_key(&(0xe000, 0x20)));
        assert!(!SHARED.contains_key(&key));
    }
}

//! Ownership and layout of external buffers and images as the queues see them, and what
//! resources on one piece of memory share (see `handoff_rules::checks::ownership`).
//!
//! Two sharded maps, no global lock: an op locks its resource's entry, then what its memory
//! shares (always in that order, and no other code holds one while taking the other, so two
//! queues cannot deadlock). Each op is applied atomically; two queues submitting ops on one
//! payload at once without synchronization interleave op by op, which is the app's race to
//! begin with. A resource's entry keeps what its memory shares and the resource's facts at
//! hand, valid until a change is counted (a removal from the shared map, memory freed or
//! linked to a payload, a resource bound or its handle reused: the state map counts the
//! last three through [`changed`]), so an op on a resource seen before costs one lookup.
//! A recorded op keeps its resource's entry once a submission resolved it ([`EntryRef`],
//! stored in the command buffer's record): later submissions of that recording reach the
//! entry with no lookup at all ([`with_resolved`]).

use super::Key;
use super::{fast_map, FastMap};
use ash::vk::{self, Handle};
use handoff_rules::checks::ownership::{Facts, ResourceState, Shared};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::LazyLock;

/// The lock of an entry and of what a memory shares: dashmap's (a compare-exchange each way
/// uncontended, no poisoning to check: a panic inside is caught at the entry point and the
/// state stays usable, as with `PoisonError::into_inner`).
type Lock<T> = dashmap::RwLock<T>;

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
    /// What its ops were last applied with.
    cached: Option<Cached>,
}

/// The entry of one resource in [`RESOURCES`]. Its lock is taken while the entry's shard
/// of [`RESOURCES`] is held (then [`SHARED`]'s shard may be taken inside it), or through an
/// [`EntryRef`] while the command buffer record that holds the reference is
/// (`state::commands`; then no lock of the fork order is taken inside it). Like the
/// per-memory lock of `Shared` it is not held across `fork()`: a child reaches only
/// entries of its own devices (keys the parent's copies cannot have).
#[derive(Debug, Default)]
pub struct Entry(Lock<Tracked>);

/// A resource's entry as resolved for a recorded op (see [`with_resolved`]): used while it
/// is the map's entry for the resource; a removal retires it, and the op goes back to the
/// map.
pub type EntryRef = Arc<Entry>;

impl Entry {
    #[inline]
    fn lock(&self) -> dashmap::RwLockWriteGuard<'_, Tracked> {
        self.0.write()
    }

    /// Frees the state of an entry taken out of the map. Without cached facts it is never
    /// used through an [`EntryRef`] again (only the map's paths fill them, and they can no
    /// longer reach it): an op that still names it goes back to the map.
    #[cold]
    fn retire(&self) {
        *self.lock() = Tracked::default();
    }
}

/// The facts of a resource and what its memory shares, as looked up at a [`CHANGES`] count:
/// valid while the count is unchanged, so that a submission of a resource seen before costs
/// one lookup of its entry rather than one of its record, its memory's and the shared map.
#[derive(Debug)]
struct Cached {
    changes: u64,
    key: SharedKey,
    shared: Arc<Lock<Shared>>,
    /// `None` when the facts must be looked up for every op (see [`with_entry`]).
    facts: Option<Facts>,
}

#[link_section = ".data.handoff_hot"]
static RESOURCES: LazyLock<FastMap<Key, EntryRef>> = LazyLock::new(fast_map);
#[link_section = ".data.handoff_hot"]
static SHARED: LazyLock<FastMap<SharedKey, Arc<Lock<Shared>>>> = LazyLock::new(fast_map);
/// Counts the changes that can make a [`Cached`] stale: an entry leaving [`SHARED`], memory
/// freed or linked to a payload, a resource bound or its handle reused. Each is counted
/// after it is done.
#[link_section = ".data.handoff_hot"]
static CHANGES: super::CacheLine<AtomicU64> = super::CacheLine(AtomicU64::new(0));
/// Entries in [`RESOURCES`], and entries of each kind in [`SHARED`]: a removal from an empty
/// kind (every freed memory and destroyed buffer of an app that never submits an op on an
/// external resource) costs one load instead of a shard lock. Counted under the shard's
/// write lock of the insertion or removal; a removal that reads 0 races only with the
/// app's own use of the object it is destroying.
#[link_section = ".data.handoff_hot"]
static RESOURCE_ENTRIES: AtomicUsize = AtomicUsize::new(0);
#[link_section = ".data.handoff_hot"]
static MEMORY_ENTRIES: AtomicUsize = AtomicUsize::new(0);
#[link_section = ".data.handoff_hot"]
static PAYLOAD_ENTRIES: AtomicUsize = AtomicUsize::new(0);

/// The counter of `SHARED` entries of `key`'s kind.
#[inline]
fn shared_count(key: &SharedKey) -> &'static AtomicUsize {
    match key {
        SharedKey::Payload(_) => &PAYLOAD_ENTRIES,
        SharedKey::Memory(_) => &MEMORY_ENTRIES,
    }
}

/// Whether a cache stamped with [`changes`] (an ownership entry's facts, a barrier's
/// per-thread facts) can exist: set by the first reader of the count, before it looks
/// anything up. Until then [`changed`] and `filter::remove` leave their counts alone, which
/// spares an app that never transfers external resources (the external-memory cycle) five
/// locked instructions per cycle.
///
/// Why a change skipped before the flag was seen is never missed: a reader sets or sees the
/// flag, then looks facts up under a map shard's lock; a change is made under the lock of the
/// record it changes, then reads the flag. If the reader's lookup took that lock first, the
/// writer's read of the flag comes after it (through the lock) and sees it set, so the count
/// moves; otherwise the reader's lookup already saw the change.
#[link_section = ".data.handoff_hot"]
static STAMPED: AtomicBool = AtomicBool::new(false);

/// Whether the counts must move (see [`STAMPED`]).
#[inline]
pub(crate) fn stamps_read() -> bool {
    STAMPED.load(Ordering::Acquire)
}

/// Counts a change (see [`CHANGES`]): the state map calls it when a binding, a memory's
/// payload or a resource record changes, after the change.
#[inline]
pub fn changed() {
    if stamps_read() {
        CHANGES.fetch_add(1, Ordering::Release);
    }
}

/// The current count of changes: read before looking facts up for [`with_entry`] or for a
/// barrier's facts.
#[inline]
pub fn changes() -> u64 {
    if !stamps_read() {
        STAMPED.store(true, Ordering::Release);
    }
    CHANGES.load(Ordering::Acquire)
}

/// For fork.rs, which holds them across fork(), in this order.
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 2] {
    [&*RESOURCES, &*SHARED]
}

/// `f` on the cached facts of a locked entry, when they are current.
#[inline]
fn apply_cached<R>(
    t: &mut Tracked,
    changes: u64,
    f: impl FnOnce(&Facts, SharedKey, &mut ResourceState, &mut Shared) -> R,
) -> Option<R> {
    let Tracked { state, cached, .. } = t;
    let c = cached.as_ref().filter(|c| c.changes == changes)?;
    let facts = c.facts.as_ref()?;
    let mut s = c.shared.write();
    Some(f(facts, c.key, state, &mut s))
}

/// Runs `f` on the state of `resource` with the facts and shared state its last op was
/// applied with, when nothing they depend on changed since; `None` otherwise (the caller
/// looks the facts up and calls [`with_entry`]). `f` must not call back into this module.
/// Also gives the entry (see [`with_resolved`]).
#[inline]
pub fn with_cached<R>(
    resource: Key,
    f: impl FnOnce(&Facts, SharedKey, &mut ResourceState, &mut Shared) -> R,
) -> Option<(R, EntryRef)> {
    let changes = changes();
    let e = RESOURCES.get(&resource)?;
    let mut t = e.lock();
    let r = apply_cached(&mut t, changes, f)?;
    drop(t);
    Some((r, Arc::clone(&e)))
}

/// [`with_cached`] through a resolved entry, without a lookup in the map: `None` also when
/// the entry left the map (the caller goes through [`with_cached`] and [`with_entry`]).
/// Called while the command buffer record holding `entry` is locked: takes no lock of the
/// maps.
#[inline]
pub fn with_resolved<R>(
    entry: &Entry,
    f: impl FnOnce(&Facts, SharedKey, &mut ResourceState, &mut Shared) -> R,
) -> Option<R> {
    let changes = changes();
    let mut t = entry.lock();
    apply_cached(&mut t, changes, f)
}

/// The entry of `resource` in the map, if any.
#[cfg(test)]
pub fn entry(resource: Key) -> Option<EntryRef> {
    RESOURCES.get(&resource).map(|e| Arc::clone(&e))
}

/// Runs `f` on the state of `(device, resource)` bound at `facts.memory` and `facts.offset`
/// and on what its memory shares (`shared`), both created on first use and locked for the
/// call; what `f` allocates is state. `changes` is the count read before `facts` and
/// `shared` were looked up; `cache`: the facts hold until the count moves (they do not
/// depend on anything read per op). `f` must not call back into this module. Also gives
/// the entry (see [`with_resolved`]).
pub fn with_entry<R>(
    resource: Key,
    facts: &Facts,
    shared: SharedKey,
    (changes, cache): (u64, bool),
    f: impl FnOnce(&mut ResourceState, &mut Shared) -> R,
) -> (R, EntryRef) {
    let binding = (facts.memory, facts.offset);
    // An existing entry (every op after a resource's first) is found without `entry`'s
    // insertion path. The shard stays held while the entry's mutex is taken.
    let e = match RESOURCES.get(&resource) {
        Some(e) => e,
        None => match RESOURCES.entry(resource) {
            dashmap::Entry::Occupied(o) => o.into_ref().downgrade(),
            dashmap::Entry::Vacant(v) => {
                RESOURCE_ENTRIES.fetch_add(1, Ordering::Relaxed);
                v.insert(EntryRef::default()).downgrade()
            }
        },
    };
    let mut t = e.lock();
    if t.binding != binding {
        *t = Tracked {
            binding,
            ..Tracked::default()
        };
    }
    let Tracked { state, cached, .. } = &mut *t;
    let facts = cache.then_some(*facts);
    let current = match cached {
        Some(c) if c.key == shared && c.changes == changes => {
            c.facts = facts;
            &c.shared
        }
        _ => {
            let s = match SHARED.entry(shared) {
                dashmap::Entry::Occupied(o) => Arc::clone(o.get()),
                dashmap::Entry::Vacant(v) => {
                    shared_count(&shared).fetch_add(1, Ordering::Relaxed);
                    Arc::clone(&v.insert(Arc::default()))
                }
            };
            &cached
                .insert(Cached {
                    changes,
                    key: shared,
                    shared: s,
                    facts,
                })
                .shared
        }
    };
    let mut s = current.write();
    let r = f(state, &mut s);
    drop(s);
    drop(t);
    (r, Arc::clone(&e))
}

/// Forgets a destroyed buffer or image (raw handle).
#[inline]
pub fn remove_resource(device: vk::Device, handle: u64) {
    if RESOURCE_ENTRIES.load(Ordering::Relaxed) != 0 {
        remove_entry(device, handle);
    }
}

#[inline(never)]
fn remove_entry(device: vk::Device, handle: u64) {
    if let Some((_, e)) = RESOURCES.remove_if(&(device.as_raw(), handle), |_, _| {
        RESOURCE_ENTRIES.fetch_sub(1, Ordering::Relaxed);
        true
    }) {
        e.retire();
    }
}

/// Removes `key` from [`SHARED`], unless no entry of its kind exists.
#[inline(always)]
fn remove_shared(key: SharedKey) {
    let count = shared_count(&key);
    if count.load(Ordering::Relaxed) != 0 {
        remove_shared_entry(key, count);
    }
}

#[inline(never)]
fn remove_shared_entry(key: SharedKey, count: &AtomicUsize) {
    SHARED.remove_if(&key, |_, _| {
        count.fetch_sub(1, Ordering::Relaxed);
        true
    });
}

/// Forgets freed memory that had no payload (payload entries outlive one memory object:
/// the other side may still hold the payload).
#[inline]
pub fn remove_memory(device: vk::Device, memory: vk::DeviceMemory) {
    remove_shared(SharedKey::Memory((device.as_raw(), memory.as_raw())));
    changed();
}

/// Forgets everything of `device` except payload entries.
pub fn remove_device(device: vk::Device) {
    let dev = device.as_raw();
    RESOURCES.retain(|k, e| {
        let keep = k.0 != dev;
        if !keep {
            RESOURCE_ENTRIES.fetch_sub(1, Ordering::Relaxed);
            e.retire();
        }
        keep
    });
    SHARED.retain(|k, _| {
        let keep = !matches!(k, SharedKey::Memory((d, _)) if *d == dev);
        if !keep {
            MEMORY_ENTRIES.fetch_sub(1, Ordering::Relaxed);
        }
        keep
    });
    changed();
    RESOURCES.shrink_to_fit();
    SHARED.shrink_to_fit();
}

/// Forgets a payload once no memory of this process holds it.
#[inline]
pub fn remove_payload(payload: u64) {
    remove_shared(SharedKey::Payload(payload));
    changed();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(resource: u64, memory: u64) -> Facts {
        Facts {
            resource: handoff_rules::checks::ownership::Resource::Buffer(resource),
            shape: handoff_rules::checks::ownership::Shape::Buffer { size: 64 },
            memory,
            offset: 0,
            external_memory: true,
            d3d11_texture: false,
            payload: false,
            remote_release: None,
        }
    }

    #[test]
    fn a_new_binding_starts_afresh_and_removal_forgets() {
        let dev = vk::Device::from_raw(0xe000);
        let key = SharedKey::Memory((0xe000, 0x10));
        let f = facts(0x20, 0x10);
        with_entry((0xe000, 0x20), &f, key, (changes(), false), |_, s| {
            s.uses = 3
        });
        with_entry((0xe000, 0x20), &f, key, (changes(), false), |_, s| {
            assert_eq!(s.uses, 3)
        });
        remove_device(dev);
        with_entry((0xe000, 0x20), &f, key, (changes(), false), |r, s| {
            assert!(r.is_empty());
            assert_eq!(s.uses, 0);
        });
        remove_memory(dev, vk::DeviceMemory::from_raw(0x10));
        remove_resource(dev, 0x20);
        assert!(!RESOURCES.contains_key(&(0xe000, 0x20)));
        assert!(!SHARED.contains_key(&key));
    }

    #[test]
    fn cached_facts_hold_until_a_change_is_counted() {
        let key = SharedKey::Memory((0xe001, 0x10));
        let f = facts(0x21, 0x10);
        let res = (0xe001, 0x21);
        assert!(with_cached(res, |_, _, _, _| ()).is_none(), "no entry yet");
        with_entry(res, &f, key, (changes(), false), |_, s| s.uses = 1);
        assert!(
            with_cached(res, |_, _, _, _| ()).is_none(),
            "facts not cacheable"
        );
        // Other tests count changes of their own meanwhile: retried until none came between.
        let seen = (0..1000).find_map(|_| {
            with_entry(res, &f, key, (changes(), true), |_, s| s.uses += 1);
            with_cached(res, |f, k, _, s| (f.memory, k, s.uses > 1)).map(|(r, _)| r)
        });
        assert_eq!(seen, Some((0x10, key, true)));
        changed();
        assert!(with_cached(res, |_, _, _, _| ()).is_none(), "stale");
        remove_device(vk::Device::from_raw(0xe001));
    }

    #[test]
    fn a_resolved_entry_holds_until_removed_or_stale() {
        let key = SharedKey::Memory((0xe002, 0x10));
        let f = facts(0x22, 0x10);
        let res = (0xe002, 0x22);
        let (_, e) = with_entry(res, &f, key, (changes(), false), |_, s| s.uses = 1);
        assert!(Arc::ptr_eq(&e, &entry(res).unwrap()), "the map's entry");
        assert!(
            with_resolved(&e, |_, _, _, _| ()).is_none(),
            "facts not cacheable"
        );
        // Other tests count changes of their own meanwhile: retried until none came between.
        let seen = (0..1000).find_map(|_| {
            with_entry(res, &f, key, (changes(), true), |_, s| s.uses += 1);
            with_resolved(&e, |f, k, _, s| (f.memory, k, s.uses > 1))
        });
        assert_eq!(seen, Some((0x10, key, true)));
        remove_resource(vk::Device::from_raw(0xe002), 0x22);
        assert!(with_resolved(&e, |_, _, _, _| ()).is_none(), "removed");
        assert!(entry(res).is_none());
        // Back through the map: a new entry, starting afresh.
        let (_, again) = with_entry(
            res,
            &f,
            key,
            (changes(), true),
            |r, _| assert!(r.is_empty()),
        );
        assert!(!Arc::ptr_eq(&e, &again));
        remove_device(vk::Device::from_raw(0xe002));
        assert!(
            with_resolved(&again, |_, _, _, _| ()).is_none(),
            "device removed"
        );
    }
}

//! The sharded map of the records the external-memory cycle touches on every call (memory,
//! buffers, images): sixteen small open-addressing tables keyed by `(device, handle)`, each
//! behind a lock of one word.
//!
//! Why not the `dashmap` the other maps use: a cycle of create, allocate, bind, export,
//! free and destroy makes seven accesses to these maps, and they were half of the
//! instructions the layer added to it.
//! - Its reader-writer lock takes two locked instructions per access (about 12 ns each on
//!   a 2-core VM). This lock takes one: a compare-exchange to lock and a plain release store
//!   to unlock, possible because nobody sleeps on the word (a waiter spins, then yields,
//!   then naps; see [`Shard::lock_contended`]). Readers exclude each other too, for the few
//!   dozen nanoseconds an access holds a shard; the rare access that holds one across a
//!   driver call (`payload::resolve_one`) makes waiters nap instead of burning a core.
//! - hashbrown's probing (SIMD group compares, control bytes, tombstones) cost 30 to 35
//!   instructions to find a key. Handles hash well and these tables stay sparse, so
//!   [`Table`] probes linearly from the key's home slot, usually finding it there, and
//!   deletes by shifting back (no tombstones).
//!
//! The locks take part in `fork.rs`'s protocol like every other map's ([`ForkLock`]).

use super::Key;
use crate::fork::{ForkLock, Held};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shards per map: the same fixed count as the `dashmap`s (see `state::SHARDS`).
const SHARDS: usize = super::SHARDS;
const SHARD_BITS: u32 = SHARDS.trailing_zeros();
const _: () = assert!(SHARDS.is_power_of_two());

/// The key's hash ([`super::handle_hash`]): the top bits pick the shard; the table indexes
/// with bits from 32 up, which the product also mixes from every input bit below them.
#[inline(always)]
fn hash(key: &Key) -> u64 {
    super::handle_hash(key.0, key.1)
}

/// A shard's table: linear probing from the slot `hash >> 32` names, at most 3/4 full, so a
/// probe always ends at an empty slot.
struct Table<V> {
    /// Empty, or a power of two of slots.
    slots: Vec<Option<(Key, V)>>,
    items: usize,
}

/// The fewest slots a table that holds anything has.
const MIN_SLOTS: usize = 4;

impl<V> Table<V> {
    const fn new() -> Self {
        Table {
            slots: Vec::new(),
            items: 0,
        }
    }

    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        (hash >> 32) as usize & self.slots.len().wrapping_sub(1)
    }

    /// The slot holding `key`.
    #[inline(always)]
    fn find(&self, hash: u64, key: &Key) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            match &self.slots[i] {
                None => return None,
                Some((k, _)) if k == key => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Puts an entry whose key is not in the table.
    #[inline(always)]
    fn insert_new(&mut self, hash: u64, key: Key, value: V) {
        if (self.items + 1) * 4 > self.slots.len() * 3 {
            self.resize((self.slots.len() * 2).max(MIN_SLOTS));
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        while self.slots[i].is_some() {
            i = (i + 1) & mask;
        }
        self.slots[i] = Some((key, value));
        self.items += 1;
    }

    /// Takes the entry out of slot `i` (a full one) and shifts the entries after it that
    /// probed past it back, so that every entry stays reachable from its home slot.
    #[inline(always)]
    fn remove_at(&mut self, mut i: usize) -> Option<V> {
        let (_, value) = self.slots[i].take()?;
        self.items -= 1;
        let mask = self.slots.len() - 1;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let Some((k, _)) = &self.slots[j] else {
                return Some(value);
            };
            let home = self.home(hash(k));
            // The entry at `j` may move to `i` unless its home lies in the cyclic range
            // (i, j]: there it would sit before its home and be lost to probes.
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(i) & mask) {
                self.slots[i] = self.slots[j].take();
                i = j;
            }
        }
    }

    /// Keeps the entries `f` says yes to, showing each entry to `f` once; the table keeps
    /// its size.
    fn retain(&mut self, mut f: impl FnMut(&Key, &mut V) -> bool) {
        // Scan from just past an empty slot: a backward shift moves entries only within a
        // run of full slots and toward its start, so in this order an entry only ever moves
        // into the slot being looked at, from one not yet looked at.
        let Some(empty) = self.slots.iter().position(Option::is_none) else {
            return;
        };
        let mask = self.slots.len() - 1;
        let mut step = 1;
        while step < self.slots.len() {
            let i = (empty + step) & mask;
            let drop = match &mut self.slots[i] {
                Some((k, v)) => !f(k, v),
                None => false,
            };
            if drop {
                // Look at slot `i` again: the entry shifted into it is unseen.
                self.remove_at(i);
            } else {
                step += 1;
            }
        }
    }

    /// Rebuilds the table with `slots` slots (0 or a power of two holding every entry).
    #[cold]
    #[inline(never)]
    fn resize(&mut self, slots: usize) {
        let old = std::mem::take(&mut self.slots);
        self.items = 0;
        self.slots = Vec::with_capacity(slots);
        self.slots.resize_with(slots, || None);
        for (key, value) in old.into_iter().flatten() {
            self.insert_new(hash(&key), key, value);
        }
    }

    /// The slots a table of `items` entries needs.
    fn slots_for(items: usize) -> usize {
        if items == 0 {
            0
        } else {
            (items * 4).div_ceil(3).next_power_of_two().max(MIN_SLOTS)
        }
    }
}

/// A hash map of [`Key`] to `V` in [`SHARDS`] independently locked tables. Built in a
/// `const` context, so that a map is a plain static: no lazy initialisation to check and no
/// pointer to follow to the shards on each access.
pub struct ShardMap<V> {
    shards: [super::CacheLine<Shard<V>>; SHARDS],
}

struct Shard<V> {
    locked: AtomicBool,
    table: UnsafeCell<Table<V>>,
}

// SAFETY: the table is only reached through a `Guard`, which exists only while `locked` is
// held by the thread that made it; entries move between threads with the map (`Send`).
unsafe impl<V: Send> Sync for Shard<V> {}

/// A shard, locked; unlocked when dropped.
struct Guard<'a, V> {
    shard: &'a Shard<V>,
}

impl<V> std::ops::Deref for Guard<'_, V> {
    type Target = Table<V>;

    fn deref(&self) -> &Self::Target {
        // SAFETY: this guard holds the shard's lock, so no other reference to the table
        // exists (see `Shard`'s `Sync`).
        unsafe { &*self.shard.table.get() }
    }
}

impl<V> std::ops::DerefMut for Guard<'_, V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        // SAFETY: as in `deref`; `&mut self` keeps this the only reference through the guard.
        unsafe { &mut *self.shard.table.get() }
    }
}

impl<V> Drop for Guard<'_, V> {
    #[inline(always)]
    fn drop(&mut self) {
        self.shard.unlock();
    }
}

impl<V> Shard<V> {
    #[inline(always)]
    fn lock(&self) -> Guard<'_, V> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        Guard { shard: self }
    }

    /// Waits for the holder: spins a while (accesses hold a shard for tens of
    /// nanoseconds), then yields the core (the holder may be preempted on it), then naps (the
    /// holder is in a driver call). Never sleeps on the word itself, so that unlocking
    /// never has to wake anyone.
    #[cold]
    #[inline(never)]
    fn lock_contended(&self) {
        let mut tries = 0u32;
        loop {
            if !self.locked.load(Ordering::Relaxed)
                && self
                    .locked
                    .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            tries = tries.saturating_add(1);
            match tries {
                0..=63 => std::hint::spin_loop(),
                64..=127 => std::thread::yield_now(),
                _ => std::thread::sleep(std::time::Duration::from_micros(50)),
            }
        }
    }

    #[inline(always)]
    fn unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }
}

impl<V> Default for ShardMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> ShardMap<V> {
    /// An empty map (no table allocated until a first insertion).
    pub const fn new() -> Self {
        Self {
            shards: [const {
                super::CacheLine(Shard {
                    locked: AtomicBool::new(false),
                    table: UnsafeCell::new(Table::new()),
                })
            }; SHARDS],
        }
    }

    /// The shard of `hash`, locked.
    #[inline(always)]
    fn shard(&self, hash: u64) -> Guard<'_, V> {
        self.shards[(hash >> (64 - SHARD_BITS)) as usize].lock()
    }

    /// Inserts `value` at `key`; the value it replaced, if any.
    #[inline(always)]
    pub fn insert(&self, key: Key, value: V) -> Option<V> {
        let h = hash(&key);
        let mut table = self.shard(h);
        if let Some(i) = table.find(h, &key) {
            if let Some((_, v)) = &mut table.slots[i] {
                return Some(std::mem::replace(v, value));
            }
        }
        table.insert_new(h, key, value);
        None
    }

    /// Removes `key`; its value, if it was there.
    #[inline(always)]
    pub fn remove(&self, key: &Key) -> Option<V> {
        self.remove_if(key, |_| true)
    }

    /// Removes `key` if `f` says so of its value; the value removed. `f` runs under the
    /// shard's lock: it must be short and must not touch this map.
    #[inline(always)]
    pub fn remove_if(&self, key: &Key, f: impl FnOnce(&V) -> bool) -> Option<V> {
        let h = hash(key);
        let mut table = self.shard(h);
        let i = table.find(h, key)?;
        match &table.slots[i] {
            Some((_, v)) if f(v) => table.remove_at(i),
            _ => None,
        }
    }

    /// `f` on `key`'s value, read in place; `None` when the key is absent. `f` runs under
    /// the shard's lock: it must be short and must not touch this map.
    #[inline(always)]
    pub fn read<R>(&self, key: &Key, f: impl FnOnce(&V) -> R) -> Option<R> {
        let h = hash(key);
        let table = self.shard(h);
        let i = table.find(h, key)?;
        table.slots[i].as_ref().map(|(_, v)| f(v))
    }

    /// `f` on `key`'s value, changed in place; `None` when the key is absent. `f` runs
    /// under the shard's lock and must not touch this map (nor any lock `fork.rs` orders
    /// before it).
    #[inline(always)]
    pub fn update<R>(&self, key: &Key, f: impl FnOnce(&mut V) -> R) -> Option<R> {
        let h = hash(key);
        let mut table = self.shard(h);
        let i = table.find(h, key)?;
        table.slots[i].as_mut().map(|(_, v)| f(v))
    }

    /// A copy of `key`'s value.
    #[inline]
    pub fn get(&self, key: &Key) -> Option<V>
    where
        V: Copy,
    {
        self.read(key, |v| *v)
    }

    /// `f` on every entry, one shard locked at a time (`f` must not touch this map).
    pub fn for_each(&self, mut f: impl FnMut(&Key, &V)) {
        for shard in self.shards.iter() {
            for (k, v) in shard.lock().slots.iter().flatten() {
                f(k, v);
            }
        }
    }

    /// Keeps the entries `f` says yes to, one shard locked at a time; each entry is shown
    /// to `f` once. The tables keep their size: [`ShardMap::shrink_to_fit`] gives memory
    /// back.
    pub fn retain(&self, mut f: impl FnMut(&Key, &mut V) -> bool) {
        for shard in self.shards.iter() {
            shard.lock().retain(&mut f);
        }
    }

    /// Gives back the table memory the entries no longer need (an empty shard frees its
    /// table).
    pub fn shrink_to_fit(&self) {
        for shard in self.shards.iter() {
            let mut table = shard.lock();
            let slots = Table::<V>::slots_for(table.items);
            if slots < table.slots.len() {
                table.resize(slots);
            }
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().items).sum()
    }
}

/// Every shard of a map, locked.
struct AllShards<V: 'static>(&'static ShardMap<V>);

impl<V: Send + 'static> ForkLock for ShardMap<V> {
    fn hold(&'static self) -> Box<dyn Held> {
        for shard in self.shards.iter() {
            // Released by `Held::release` or `Held::reset`.
            std::mem::forget(shard.lock());
        }
        Box::new(AllShards(self))
    }
}

impl<V> Held for AllShards<V> {
    fn release(self: Box<Self>) {
        for shard in self.0.shards.iter().rev() {
            shard.unlock();
        }
    }

    /// Nobody sleeps on the lock word, so the child frees it as the parent does.
    fn reset(self: Box<Self>) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn insert_read_update_remove() {
        let m: ShardMap<u32> = ShardMap::new();
        assert_eq!(m.insert((1, 2), 7), None);
        assert_eq!(m.insert((1, 2), 8), Some(7));
        assert_eq!(m.get(&(1, 2)), Some(8));
        assert_eq!(m.get(&(2, 1)), None);
        assert_eq!(m.update(&(1, 2), |v| std::mem::replace(v, 9)), Some(8));
        assert_eq!(m.read(&(1, 2), |v| *v + 1), Some(10));
        assert_eq!(m.remove_if(&(1, 2), |v| *v == 0), None);
        assert_eq!(m.len(), 1);
        assert_eq!(m.remove(&(1, 2)), Some(9));
        assert_eq!(m.remove(&(1, 2)), None);
        assert_eq!(m.len(), 0);
    }

    /// The records' empty slots cost no space: `Option` finds a niche in the record.
    #[test]
    fn empty_slots_take_no_extra_space() {
        use crate::state::{resources, MemoryRecord};
        fn same<V>() -> bool {
            std::mem::size_of::<Option<(Key, V)>>() == std::mem::size_of::<(Key, V)>()
        }
        assert!(same::<MemoryRecord>());
        assert!(same::<resources::BufferRecord>());
        assert!(same::<resources::ImageRecord>());
        assert!(same::<Box<[ash::vk::Format]>>());
    }

    /// Random operations on keys that collide a lot (few devices, handles of one shard
    /// and neighbouring home slots, including wrap-around) give what a `HashMap` gives, and
    /// every table stays at most 3/4 full with each entry reachable from its home slot.
    #[test]
    fn agrees_with_a_hash_map() {
        let m: ShardMap<u64> = ShardMap::new();
        let mut model: HashMap<Key, u64> = HashMap::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for step in 0..200_000u64 {
            let r = next();
            let key = (1 + (r & 1), (r >> 8) % 300);
            match (r >> 4) % 8 {
                0..=2 => assert_eq!(m.insert(key, step), model.insert(key, step)),
                3 | 4 => assert_eq!(m.remove(&key), model.remove(&key)),
                5 => assert_eq!(
                    m.remove_if(&key, |v| v % 2 == 0),
                    model.remove(&key).filter(|v| {
                        let even = v % 2 == 0;
                        if !even {
                            model.insert(key, *v);
                        }
                        even
                    })
                ),
                6 => assert_eq!(
                    m.update(&key, |v| {
                        *v += 1;
                        *v
                    }),
                    model.get_mut(&key).map(|v| {
                        *v += 1;
                        *v
                    })
                ),
                _ => assert_eq!(m.get(&key), model.get(&key).copied()),
            }
            if step % 5_000 == 0 {
                m.retain(|k, _| k.1 % 7 != 0);
                model.retain(|k, _| k.1 % 7 != 0);
                m.shrink_to_fit();
            }
        }
        assert_eq!(m.len(), model.len());
        let mut seen = HashMap::new();
        m.for_each(|k, v| {
            seen.insert(*k, *v);
        });
        assert_eq!(seen, model);
        for shard in m.shards.iter() {
            let t = shard.lock();
            assert!(t.items * 4 <= t.slots.len() * 3);
            for (k, _) in t.slots.iter().flatten() {
                assert_eq!(
                    t.find(hash(k), k).map(|i| t.slots[i].as_ref().unwrap().0),
                    Some(*k)
                );
            }
        }
    }

    #[test]
    fn retains_and_shrinks_across_shards() {
        let m: ShardMap<u64> = ShardMap::new();
        for i in 0..1000 {
            m.insert((i % 3, i), i);
        }
        let mut sum = 0;
        m.for_each(|_, v| sum += v);
        assert_eq!(sum, (0..1000).sum::<u64>());
        let mut shown = 0;
        m.retain(|k, _| {
            shown += 1;
            k.0 != 1
        });
        assert_eq!(shown, 1000);
        assert_eq!(m.len(), 1000 - 333);
        for i in 0..1000 {
            assert_eq!(m.get(&(i % 3, i)), (i % 3 != 1).then_some(i));
        }
        m.retain(|_, _| false);
        m.shrink_to_fit();
        assert_eq!(m.len(), 0);
        assert!(m
            .shards
            .iter()
            .all(|s| s.lock().slots.capacity() == 0 && !s.locked.load(Ordering::Relaxed)));
    }

    /// Threads racing on a few keys lose no update (the lock excludes), and contention
    /// (spins, yields, naps) ends in the lock every time.
    #[test]
    fn concurrent_updates_are_exclusive() {
        let m: ShardMap<u64> = ShardMap::new();
        for k in 0..4 {
            m.insert((1, k), 0);
        }
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let m = &m;
                s.spawn(move || {
                    for i in 0..20_000u64 {
                        m.update(&(1, (t + i) % 4), |v| *v += 1);
                    }
                });
            }
        });
        let mut total = 0;
        m.for_each(|_, v| total += v);
        assert_eq!(total, 8 * 20_000);
    }

    #[test]
    fn fork_hold_release_and_reset() {
        static MAP: ShardMap<u64> = ShardMap::new();
        for reset in [false, true] {
            let held = MAP.hold();
            assert!(MAP.shards.iter().all(|s| s.locked.load(Ordering::Relaxed)));
            if reset {
                held.reset()
            } else {
                held.release()
            }
            MAP.insert((1, 1), 2);
            assert_eq!(MAP.get(&(1, 1)), Some(2));
        }
    }
}

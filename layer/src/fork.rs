//! `fork()` without `exec`: the child gets a copy of the layer's memory but only the thread
//! that forked, so a lock another thread held at the fork would stay locked in the child
//! forever, and its first call through the layer would hang. `pthread_atfork` handlers
//! close that window: `prepare` takes every lock of the layer's process-wide state, in one
//! fixed order, so that no thread is inside a critical section when the address space is
//! copied; `parent` releases them; `child` makes them free again without waking anyone
//! (the waiters were the parent's threads, which the child does not have).
//!
//! # Lock order
//!
//! `prepare` locks in the order of [`locks`]; every thread of the layer must take these
//! locks only in that order (a lock may be taken while holding only locks listed before
//! it), or `prepare` could wait for a thread that waits for `prepare`. The nestings that
//! exist today, all compatible with it:
//!
//! 1. `payload` registry (payloads by inode, aliases, consumed fds, remote imports, sync
//!    exports: sharded maps, never two of them at once): nothing inside but `tracing` (12)
//!    and the ledger's own files.
//! 2. `state::ownership`: resources, then shared (`with_entry` holds a resource's shard
//!    while it looks up what its memory shares, then locks the entry's own lock). The
//!    per-resource entry locks and the per-memory `Shared` locks are not held here: a child
//!    reaches only entries of its own devices and payloads (keys the parent's copies cannot
//!    have), so one a parent thread held at the fork is never waited for. `payload` and
//!    these are never nested (`ownership.rs` publishes ledger releases after `with_entry`
//!    returns).
//! 3. `state::commands`: pools, then command buffers (`reset_pool` holds a pool's entry
//!    while it clears its command buffers). A submission of one command buffer holds the
//!    buffer's record (read) while it applies its ops through the entries they resolved
//!    (entry and `Shared` locks only, no map of item 2) and records the queue's work
//!    (item 5).
//! 4. `state::views`: framebuffers, render passes, then views (`with_framebuffer`'s
//!    closure in `commands.rs` looks the attachment views up).
//! 5. `state::queues`: queues, then semaphores and fences (`record_submission` holds a
//!    queue's entry while it records the batch's semaphore and fence operations).
//! 6. `state::resources` (buffers, images, view formats), 7. `state` memory,
//!    8. `state::sync` (semaphores, fences), 9. the capability and sync-query caches,
//!    10. `dispatch` (instances, devices), 11. `report::log`'s refused-`log_file` note:
//!    leaves, nothing is taken while they are held.
//! 12. this library's `stderr` lock: `tracing` writes there from inside any of the above.
//!
//! Each map's shards are taken in index order; no code holds two shards of one map.
//!
//! `prepare` holds nothing across a call into the driver or the loader (it calls neither),
//! and no thread of the layer holds one of these locks across a call down the chain, so a
//! driver's own fork handlers (which may take driver locks) cannot wait on the layer.
//!
//! Not covered, as they are not reachable from a child that uses instances of its own:
//! each instance's reporter (its callbacks' lists, its duplicate counters and its report
//! file's mutex) is only used by the child through `report::internal_error` (a caught
//! panic, reported to every instance) and the `atexit` summaries (a child that calls
//! `exit` rather than `_exit`). A fork while another thread runs the process's first
//! `vkCreateInstance` (the one-time log set-up) can still leave that set-up unfinished in
//! the child.
//!
//! # Lifetime
//!
//! The handlers are registered once per load of the library. glibc's `pthread_atfork` (the
//! one a shared object links, from `libc_nonshared.a`) records the library's
//! `__dso_handle`, and `dlclose` unregisters them (`__cxa_finalize` →
//! `__unregister_atfork`): the loader unloads the layer with the last instance, and no
//! handler may run code that is gone (tests/tests/lifecycle.rs forks after reloads).

use dashmap::DashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, Once, PoisonError};

/// A process-wide lock of the layer that [`prepare`] holds across `fork()`.
pub trait ForkLock: Sync {
    /// Takes the lock (all of it: every shard of a map) for writing.
    fn hold(&'static self) -> Box<dyn Held>;
}

/// A lock taken by [`ForkLock::hold`], released by the handler that runs after the fork.
pub trait Held {
    /// In the parent: an ordinary release that wakes the threads waiting for it.
    fn release(self: Box<Self>);
    /// In the child: free again, waking no one (the waiters were the parent's threads).
    fn reset(self: Box<Self>);
}

impl<T: Send + 'static> ForkLock for Mutex<T> {
    fn hold(&'static self) -> Box<dyn Held> {
        Box::new(self.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<T: 'static> Held for std::sync::MutexGuard<'static, T> {
    fn release(self: Box<Self>) {
        drop(self);
    }

    /// A std mutex unlocks with an atomic swap and, if it saw waiters, one futex wake of
    /// the lock word: a system call with no effect in a process without them.
    fn reset(self: Box<Self>) {
        drop(self);
    }
}

/// Every shard of a map, write-locked.
struct Shards<K: 'static, V: 'static, S: 'static>(&'static DashMap<K, V, S>);

impl<K, V, S> ForkLock for DashMap<K, V, S>
where
    K: Eq + Hash + Send + Sync + 'static,
    V: Send + Sync + 'static,
    S: BuildHasher + Clone + Send + Sync + 'static,
{
    fn hold(&'static self) -> Box<dyn Held> {
        for shard in self.shards() {
            // The guard is released by `Held::release` or `Held::reset`, on this thread.
            std::mem::forget(shard.write());
        }
        Box::new(Shards(self))
    }
}

impl<K, V, S> Held for Shards<K, V, S>
where
    K: Eq + Hash + 'static,
    S: BuildHasher + Clone + 'static,
{
    fn release(self: Box<Self>) {
        for shard in self.0.shards().iter().rev() {
            // SAFETY: `hold` write-locked every shard and leaked the guards; nothing else
            // released them.
            unsafe { shard.force_unlock_write() };
        }
    }

    /// The ordinary unlock would unpark the parent's waiting threads through
    /// parking_lot_core's table, whose bucket locks a parent thread may have held at the
    /// fork; the lock word is set back to "free" instead.
    fn reset(self: Box<Self>) {
        for shard in self.0.shards() {
            match lock_word(shard) {
                Some(word) => word.store(0, Ordering::Release),
                // SAFETY: as in `release`.
                None => unsafe { shard.force_unlock_write() },
            }
        }
    }
}

/// The lock word of a dashmap shard lock, when its layout is as this module knows it.
///
/// dashmap 6's `RawRwLock` is one `AtomicUsize`, 0 when free (`INIT`). The size and
/// alignment are checked when this builds, and what the word holds free, locked and free
/// again once per load ([`register`]); if that ever differs, `reset` falls back to the
/// ordinary unlock.
fn lock_word<T>(lock: &dashmap::RwLock<T>) -> Option<&AtomicUsize> {
    const _: () = assert!(
        std::mem::size_of::<dashmap::RawRwLock>() == std::mem::size_of::<AtomicUsize>()
            && std::mem::align_of::<dashmap::RawRwLock>() == std::mem::align_of::<AtomicUsize>()
    );
    if !WORD_KNOWN.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: `raw` only exposes the lock; it is not used to lock or unlock here.
    let raw = unsafe { lock.raw() } as *const dashmap::RawRwLock;
    // SAFETY: same size and alignment (checked above) and the single field is an atomic:
    // the word is only accessed atomically, through a shared reference, as dashmap does.
    Some(unsafe { &*raw.cast::<AtomicUsize>() })
}

static WORD_KNOWN: AtomicBool = AtomicBool::new(false);

/// Whether a dashmap lock's word reads 0 free, non-zero write-locked, 0 again released.
fn check_lock_word() -> bool {
    let lock = dashmap::RwLock::new(());
    let read = |l: &dashmap::RwLock<()>| {
        // SAFETY: as in `lock_word`.
        let raw = unsafe { l.raw() } as *const dashmap::RawRwLock;
        // SAFETY: as in `lock_word`.
        unsafe { &*raw.cast::<AtomicUsize>() }.load(Ordering::Relaxed)
    };
    let free = read(&lock) == 0;
    let guard = lock.write();
    let locked = read(&lock) != 0;
    drop(guard);
    free && locked && read(&lock) == 0
}

/// This library's own `stderr` lock (a cdylib carries its own copy of std).
struct Stderr {
    _guard: std::io::StderrLock<'static>,
}

impl Held for Stderr {
    fn release(self: Box<Self>) {
        drop(self);
    }

    /// A reentrant futex lock: its release is an atomic swap and at most one futex wake.
    fn reset(self: Box<Self>) {
        drop(self);
    }
}

/// Every lock, in the order of the module documentation.
fn locks() -> impl Iterator<Item = &'static dyn ForkLock> {
    crate::payload::fork_locks()
        .into_iter()
        .chain(crate::state::ownership::fork_locks())
        .chain(crate::state::commands::fork_locks())
        .chain(crate::state::views::fork_locks())
        .chain(crate::state::queues::fork_locks())
        .chain(crate::state::resources::fork_locks())
        .chain(crate::state::fork_locks())
        .chain(crate::state::sync::fork_locks())
        .chain(crate::capabilities::fork_locks())
        .chain(crate::sync::fork_locks())
        .chain(crate::dispatch::fork_locks())
        .chain(crate::report::log::fork_locks())
}

/// What `prepare` holds until `parent` or `child` runs, in locking order. The handlers run
/// on the forking thread, one after the other, so a plain pointer hands it over.
static HELD: AtomicPtr<Vec<Box<dyn Held>>> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn prepare() {
    // A panic here would unwind into libc; there is nothing to panic on, but a caught one
    // leaves the fork unprotected rather than aborting the app.
    let _ = std::panic::catch_unwind(|| {
        // Reached through `locks()`: every `LazyLock` map is created now, so a fork cannot
        // catch one half-built either.
        let mut held: Vec<Box<dyn Held>> = locks().map(|l| l.hold()).collect();
        held.push(Box::new(Stderr {
            _guard: std::io::stderr().lock(),
        }));
        HELD.store(Box::into_raw(Box::new(held)), Ordering::Release);
    });
}

fn take() -> Vec<Box<dyn Held>> {
    let p = HELD.swap(std::ptr::null_mut(), Ordering::Acquire);
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: a non-null pointer is the `Box` that `prepare` leaked, taken once.
    *unsafe { Box::from_raw(p) }
}

extern "C" fn parent() {
    let _ = std::panic::catch_unwind(|| {
        take().into_iter().rev().for_each(Held::release);
    });
}

extern "C" fn child() {
    let _ = std::panic::catch_unwind(|| {
        take().into_iter().rev().for_each(Held::reset);
    });
}

static REGISTER: Once = Once::new();

/// Installs the fork handlers, once per load of the library.
pub fn register() {
    REGISTER.call_once(|| {
        WORD_KNOWN.store(check_lock_word(), Ordering::Relaxed);
        // SAFETY: three functions of this library with the signature glibc expects; they
        // are unregistered when the library is unloaded (see the module documentation).
        let r = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
        if r != 0 {
            tracing::warn!(target: "handoff", error = r, "pthread_atfork failed: a forked child may hang in the layer");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map and a mutex held by `prepare`, released by `parent`, usable again; the same
    /// with `child`'s reset (in this process: no fork needed to see the lock words free).
    #[test]
    fn hold_release_and_reset() {
        static MAP: std::sync::LazyLock<crate::state::FastMap<u64, u64>> =
            std::sync::LazyLock::new(crate::state::fast_map);
        static M: Mutex<u32> = Mutex::new(0);
        // The layout `reset` relies on holds for this dashmap (otherwise it would fall back
        // to the ordinary unlock, still correct but able to hang in a child).
        assert!(check_lock_word());
        WORD_KNOWN.store(true, Ordering::Relaxed);
        for reset in [false, true] {
            let held: Vec<Box<dyn Held>> = vec![M.hold(), MAP.hold()];
            assert!(M.try_lock().is_err());
            assert!(MAP.try_get(&1).is_locked());
            for h in held.into_iter().rev() {
                if reset {
                    h.reset()
                } else {
                    h.release()
                }
            }
            MAP.insert(1, 2);
            assert_eq!(MAP.get(&1).map(|v| *v), Some(2));
            *M.lock().unwrap() += 1;
        }
    }
}

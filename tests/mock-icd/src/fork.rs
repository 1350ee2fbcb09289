//! `fork()` without `exec`: the mock's two process-wide mutexes ([`crate::queue`]'s work
//! table and [`crate::state`]'s registry) are held across the fork by a `pthread_atfork`
//! `prepare` handler, in their lock order (work, then registry), and released in the parent
//! and the child, so that a child never starts with a lock a parent thread held (the queue
//! workers take both all the time).
//!
//! The handlers are registered once per load; glibc unregisters them when the loader
//! unloads the mock (`pthread_atfork` from `libc_nonshared.a` records this library's
//! `__dso_handle`).

use std::any::Any;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Once, PoisonError};

/// The guards `prepare` holds, in locking order. The handlers run on the forking thread,
/// one after the other, so a plain pointer hands them over.
static HELD: AtomicPtr<Vec<Box<dyn Any>>> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn prepare() {
    let _ = std::panic::catch_unwind(|| {
        let work = crate::queue::fork_lock()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let registry = crate::state::fork_lock()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let held: Vec<Box<dyn Any>> = vec![Box::new(work), Box::new(registry)];
        HELD.store(Box::into_raw(Box::new(held)), Ordering::Release);
    });
}

/// Releases what `prepare` holds, newest first. In the child, a std mutex's release is an
/// atomic swap and at most a futex wake of a word nobody waits on.
extern "C" fn release() {
    let _ = std::panic::catch_unwind(|| {
        let p = HELD.swap(std::ptr::null_mut(), Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: the `Box` that `prepare` leaked, taken once.
            let held = unsafe { Box::from_raw(p) };
            held.into_iter().rev().for_each(drop);
        }
    });
}

static REGISTER: Once = Once::new();

/// Installs the fork handlers, once per load of the library.
pub fn register() {
    REGISTER.call_once(|| {
        // SAFETY: functions of this library with the signature glibc expects, unregistered
        // when the library is unloaded.
        unsafe { libc::pthread_atfork(Some(prepare), Some(release), Some(release)) };
    });
}

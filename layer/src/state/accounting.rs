//! Measured heap bytes of the state map.
//!
//! The layer's global allocator counts bytes allocated and freed while a thread is inside
//! [`measured`]. All state-map inserts and removals run inside it, so the counter is the
//! heap the state map really holds (hash tables, shards and entries), not an estimate from
//! `size_of`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

static STATE_BYTES: AtomicI64 = AtomicI64::new(0);

thread_local! {
    // `const` so reading it never allocates (this runs inside the allocator).
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with its allocations attributed to the state map.
pub fn measured<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            MEASURING.with(|m| m.set(self.0));
        }
    }
    let _reset = Reset(MEASURING.with(|m| m.replace(true)));
    f()
}

/// Bytes the state map holds now.
pub fn state_bytes() -> u64 {
    STATE_BYTES.load(Ordering::Relaxed).max(0) as u64
}

fn account(delta: i64) {
    // `try_with`: during thread teardown the slot may be gone; such frees are not ours.
    if MEASURING.try_with(Cell::get).unwrap_or(false) {
        STATE_BYTES.fetch_add(delta, Ordering::Relaxed);
    }
}

/// The system allocator plus the counter above.
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counter update has no effect on the memory returned.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        account(-(layout.size() as i64));
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

//! Measured heap bytes of the layer's state.
//!
//! The layer's global allocator counts every byte the layer's own Rust code holds on the
//! heap: the state maps (hash tables, shards, entries and what they own), the payload
//! registry, the per-instance and per-device data and the reporters. Counting everything
//! needs no per-call bookkeeping on the hot path (a thread-local flag cost a
//! `__tls_get_addr` call per map update) and cannot drift when a value is allocated in one
//! place and freed in another. The summary record reads it before building itself, so the
//! count is what the layer holds, not what reporting allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};

#[link_section = ".data.handoff_hot"]
static STATE_BYTES: super::CacheLine<AtomicI64> = super::CacheLine(AtomicI64::new(0));

/// Bytes the layer holds now.
pub fn state_bytes() -> u64 {
    STATE_BYTES.load(Ordering::Relaxed).max(0) as u64
}

fn account(delta: i64) {
    STATE_BYTES.fetch_add(delta, Ordering::Relaxed);
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

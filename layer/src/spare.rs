//! One spare heap block for a type whose values come and go in pairs on a hot path (a
//! payload is boxed at its first export and dropped when its memory is freed): the next
//! box reuses the last one freed instead of asking the allocator again.
//!
//! Lock-free (one atomic swap each way), so `fork()` cannot leave it held; at most one
//! block is kept per [`Spare`], counted in `state_bytes` like any other.

use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The spare block of `T` values, empty or holding one allocation with no live value in it.
pub struct Spare<T> {
    slot: AtomicPtr<MaybeUninit<T>>,
}

impl<T> Default for Spare<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Spare<T> {
    pub const fn new() -> Self {
        Spare {
            slot: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// `value` in a box: the spare block when there is one, else a new allocation.
    #[inline]
    pub fn boxed(&self, value: T) -> Box<T> {
        let block = self.slot.swap(ptr::null_mut(), Ordering::Acquire);
        if block.is_null() {
            return Box::new(value);
        }
        // SAFETY: the slot holds only pointers from `Box::into_raw` of a
        // `Box<MaybeUninit<T>>` (see `give_back`), and the swap above made this one ours.
        let block = unsafe { Box::from_raw(block) };
        Box::write(block, value)
    }

    /// Drops `boxed`'s value and keeps its block as the spare (freeing the block it
    /// replaces, if another thread left one).
    #[inline]
    pub fn give_back(&self, boxed: Box<T>) {
        let raw = Box::into_raw(boxed);
        // SAFETY: `raw` owns a live `T` that nothing else references; after dropping it in
        // place the allocation is a valid `MaybeUninit<T>` block of the same layout.
        let block = unsafe {
            ptr::drop_in_place(raw);
            raw as *mut MaybeUninit<T>
        };
        let old = self.slot.swap(block, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: as in `boxed`: a block from `give_back`, now ours alone.
            drop(unsafe { Box::from_raw(old) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static DROPS: AtomicUsize = AtomicUsize::new(0);

    struct Counted(u64);

    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_given_back_block_is_reused_and_values_are_dropped_once() {
        let spare = Spare::new();
        let a = spare.boxed(Counted(1));
        let at = &*a as *const Counted;
        spare.give_back(a);
        assert_eq!(DROPS.load(Ordering::Relaxed), 1);
        let b = spare.boxed(Counted(2));
        assert_eq!(&*b as *const Counted, at);
        assert_eq!(b.0, 2);
        // Two given back in a row: the first block is freed, not leaked or reused twice.
        let c = spare.boxed(Counted(3));
        spare.give_back(b);
        spare.give_back(c);
        assert_eq!(DROPS.load(Ordering::Relaxed), 3);
        let d = spare.boxed(Counted(4));
        assert_eq!(d.0, 4);
        drop(d);
        assert_eq!(DROPS.load(Ordering::Relaxed), 4);
    }
}

//! Handle values. Dispatchable handles (instance, physical device, device, queue,
//! command buffer) are heap blocks whose first word starts as `ICD_LOADER_MAGIC`; the
//! loader overwrites that word with its dispatch pointer, so the mock never reads the
//! block: it looks objects up by the block's address. Non-dispatchable handles are ids
//! from a process-wide counter.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// `ICD_LOADER_MAGIC` from `vk_icd.h`.
pub const ICD_LOADER_MAGIC: usize = 0x01CD_C0DE;

/// The block behind a dispatchable handle (`VK_LOADER_DATA`).
#[repr(C)]
struct LoaderData {
    #[allow(dead_code)] // written for the loader; the mock never reads it
    /// Magic at creation; the loader's dispatch pointer afterwards.
    loader_magic: usize,
}

/// An owned dispatchable handle; dropping it frees the block.
#[derive(Debug)]
pub struct Dispatchable(NonNull<LoaderData>);

// SAFETY: the block is only written by the loader (once, while setting up the object) and
// freed by the owner; the mock itself never reads or writes it after creation.
unsafe impl Send for Dispatchable {}
// SAFETY: as above; shared access never touches the block.
unsafe impl Sync for Dispatchable {}

impl Dispatchable {
    /// A new block carrying the loader magic.
    pub fn new() -> Self {
        let raw = Box::into_raw(Box::new(LoaderData {
            loader_magic: ICD_LOADER_MAGIC,
        }));
        // `Box::into_raw` never returns null.
        Self(NonNull::new(raw).unwrap_or(NonNull::dangling()))
    }

    /// The handle value (the block's address).
    pub fn raw(&self) -> u64 {
        self.0.as_ptr() as usize as u64
    }
}

impl Default for Dispatchable {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Dispatchable {
    fn drop(&mut self) {
        // SAFETY: the block came from `Box::into_raw` in `new` and is freed only here.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// The next non-dispatchable handle value: distinct over the whole process, never 0.
pub fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Start far from small integers and from heap addresses, step by 8 for a pointer look.
    0x0000_7d00_0000_0000 + NEXT.fetch_add(8, Ordering::Relaxed) + 8
}

//! A counting filter over the buffers and images that a barrier or a transfer command must
//! look at: external ones (declared, or bound to exported or imported memory) and
//! CONCURRENT ones.
//!
//! Most barriers in most apps name a plain EXCLUSIVE resource and no queue family transfer.
//! One relaxed load here tells them apart from the rest (zero means "certainly plain"), so
//! they leave before any map lookup. A collision only sends a plain resource down the slow
//! path, which looks the record up and finds it plain.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const BITS: u32 = 13;

static COUNTS: [AtomicU32; 1 << BITS] = [const { AtomicU32::new(0) }; 1 << BITS];

fn slot(device: u64, handle: u64) -> &'static AtomicU32 {
    let h = super::handle_hash(device, handle);
    &COUNTS[(h >> (64 - BITS)) as usize]
}

pub fn add(device: u64, handle: u64) {
    slot(device, handle).fetch_add(1, Ordering::Relaxed);
}

/// Counts the removals: every buffer or image that leaves the state map while counted
/// here (destroyed, replaced, its device destroyed) moves it on, after it left. A fact
/// about a counted resource, read from the map at a count that is still current, still
/// holds unless the resource's record changed in place, which `ownership::changes` counts
/// (see `barrier::facts`).
#[link_section = ".data.handoff_hot"]
static REMOVALS: super::CacheLine<AtomicU64> = super::CacheLine(AtomicU64::new(0));

pub fn remove(device: u64, handle: u64) {
    // Never below zero, whatever a bug elsewhere does: a stuck count is only a slow path.
    let _ = slot(device, handle)
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    // Only a barrier's cached facts read the count, and they first read
    // `ownership::changes`, which makes `stamps_read` true (see `ownership::STAMPED`).
    if super::ownership::stamps_read() {
        REMOVALS.fetch_add(1, Ordering::Release);
    }
}

/// The count of removals (see [`REMOVALS`]): read before a lookup whose answer is kept.
#[inline]
pub fn removals() -> u64 {
    REMOVALS.load(Ordering::Acquire)
}

/// False when the resource is certainly neither external nor CONCURRENT.
pub fn maybe(device: u64, handle: u64) -> bool {
    slot(device, handle).load(Ordering::Relaxed) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_and_down_and_never_below_zero() {
        let (d, h) = (0xdead_0000, 0x1234_5678);
        assert!(!maybe(d, h));
        add(d, h);
        add(d, h);
        assert!(maybe(d, h));
        remove(d, h);
        assert!(maybe(d, h));
        remove(d, h);
        assert!(!maybe(d, h));
        remove(d, h);
        assert!(!maybe(d, h));
        add(d, h);
        assert!(maybe(d, h));
        let before = removals();
        let _ = crate::state::ownership::changes();
        remove(d, h);
        assert!(removals() > before, "a removal moves the count on");
    }
}

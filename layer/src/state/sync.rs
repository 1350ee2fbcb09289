//! Semaphores and fences: what they were created with and which imported payload they hold
//! (see `handoff_rules::checks::sync`).

use super::Key;
use super::{fast_map, FastMap};
use ash::vk::{self, Handle};
use handoff_rules::checks::sync::{Imported, Kind};
use std::sync::LazyLock;

/// A `VkSemaphore` or `VkFence` as created, and its current imported payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncRecord {
    /// A timeline semaphore (never for fences).
    pub timeline: bool,
    /// `Vk{Semaphore,Fence}CreateInfo::flags` (raw).
    pub flags: u32,
    /// `VkExport{Semaphore,Fence}CreateInfo::handleTypes` (raw), 0 when none was chained.
    pub export_types: u32,
    /// Handle type of the permanently imported payload, if any.
    pub permanent: Option<u32>,
    /// Handle type of the temporarily imported payload, until the next wait (or reset).
    pub temporary: Option<u32>,
}

impl SyncRecord {
    /// The imported payload in effect: a temporary one hides the permanent one.
    pub fn imported(&self) -> Option<Imported> {
        match (self.temporary, self.permanent) {
            (Some(t), _) => Some(Imported {
                handle_type: t,
                temporary: true,
            }),
            (None, Some(p)) => Some(Imported {
                handle_type: p,
                temporary: false,
            }),
            (None, None) => None,
        }
    }
}

static SEMAPHORES: LazyLock<FastMap<Key, SyncRecord>> = LazyLock::new(fast_map);
static FENCES: LazyLock<FastMap<Key, SyncRecord>> = LazyLock::new(fast_map);
/// For fork.rs, which holds them across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 2] {
    [&*SEMAPHORES, &*FENCES]
}

fn map(kind: Kind) -> &'static FastMap<Key, SyncRecord> {
    match kind {
        Kind::Semaphore => &SEMAPHORES,
        Kind::Fence => &FENCES,
    }
}

fn key(device: vk::Device, object: u64) -> Key {
    (device.as_raw(), object)
}

pub fn insert(kind: Kind, device: vk::Device, object: u64, rec: SyncRecord) {
    map(kind).insert(key(device, object), rec);
}

pub fn remove(kind: Kind, device: vk::Device, object: u64) -> Option<SyncRecord> {
    map(kind).remove(&key(device, object)).map(|(_, v)| v)
}

pub fn get(kind: Kind, device: vk::Device, object: u64) -> Option<SyncRecord> {
    map(kind).get(&key(device, object)).map(|r| *r)
}

/// Records a successful import into a known object (no-op for unknown ones).
pub fn set_imported(kind: Kind, device: vk::Device, object: u64, imported: Imported) {
    if let Some(mut r) = map(kind).get_mut(&key(device, object)) {
        if imported.temporary {
            r.temporary = Some(imported.handle_type);
        } else {
            r.permanent = Some(imported.handle_type);
            r.temporary = None;
        }
    }
}

/// A wait (or, for fences, a reset) ends a temporary import: the permanent payload is back.
pub fn end_temporary(kind: Kind, device: vk::Device, object: u64) {
    if let Some(mut r) = map(kind).get_mut(&key(device, object)) {
        r.temporary = None;
    }
}

/// Drops everything recorded for `device`; returns how many semaphores and fences were live.
pub fn remove_device(device: vk::Device) -> (Vec<u64>, Vec<u64>) {
    let dev = device.as_raw();
    let live = |m: &FastMap<Key, SyncRecord>| -> Vec<u64> {
        m.iter()
            .filter(|e| e.key().0 == dev)
            .map(|e| e.key().1)
            .collect()
    };
    let (s, f) = (live(&SEMAPHORES), live(&FENCES));
    {
        for m in [&*SEMAPHORES, &*FENCES] {
            m.retain(|k, _| k.0 != dev);
            m.shrink_to_fit();
        }
    };
    (s, f)
}

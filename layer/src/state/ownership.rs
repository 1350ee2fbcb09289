//! Ownership and layout of external buffers and images as the queues see them, and what
//! resources on one piece of memory share (see `handoff_rules::checks::ownership`).
//!
//! One mutex over both maps: a submitted batch is applied as a whole, in order, so two
//! queues submitting at once cannot interleave their effects on one payload. It is taken only
//! for command buffers that recorded ownership operations.

use super::Key;
use ash::vk::{self, Handle};
use handoff_rules::checks::ownership::{ResourceState, Shared};
use once_cell::sync::Lazy;
use rustc_hash::FxHashMap as HashMap;
use std::sync::Mutex;

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
pub struct Tracked {
    pub binding: (u64, u64),
    pub state: ResourceState,
}

#[derive(Default)]
pub struct Maps {
    pub resources: HashMap<Key, Tracked>,
    pub shared: HashMap<SharedKey, Shared>,
}

impl Maps {
    /// The state of `(device, resource)` bound at `binding` (memory, offset), and what its
    /// memory shares, created on first use.
    pub fn entry(
        &mut self,
        resource: Key,
        binding: (u64, u64),
        shared: SharedKey,
    ) -> (&mut ResourceState, &mut Shared) {
        let t = self.resources.entry(resource).or_default();
        if t.binding != binding {
            *t = Tracked {
                binding,
                state: ResourceState::default(),
            };
        }
        (&mut t.state, self.shared.entry(shared).or_default())
    }
}

static MAPS: Lazy<Mutex<Maps>> = Lazy::new(|| Mutex::new(Maps::default()));

/// Runs `f` with both maps locked; what it allocates is state.
pub fn with<R>(f: impl FnOnce(&mut Maps) -> R) -> R {
    let mut g = MAPS.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

/// Forgets a destroyed buffer or image (raw handle).
pub fn remove_resource(device: vk::Device, handle: u64) {
    with(|m| {
        m.resources.remove(&(device.as_raw(), handle));
    });
}

/// Forgets freed memory that had no payload (payload entries outlive one memory object:
/// the other side may still hold the payload).
pub fn remove_memory(device: vk::Device, memory: vk::DeviceMemory) {
    with(|m| {
        m.shared
            .remove(&SharedKey::Memory((device.as_raw(), memory.as_raw())));
    });
}

/// Forgets everything of `device` except payload entries.
pub fn remove_device(device: vk::Device) {
    let dev = device.as_raw();
    with(|m| {
        m.resources.retain(|k, _| k.0 != dev);
        m.shared
            .retain(|k, _| !matches!(k, SharedKey::Memory((d, _)) if *d == dev));
        m.resources.shrink_to_fit();
        m.shared.shrink_to_fit();
    });
}

/// Forgets a payload once no memory of this process holds it.
pub fn remove_payload(payload: u64) {
    with(|m| {
        m.shared.remove(&SharedKey::Payload(payload));
    });
}

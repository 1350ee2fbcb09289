//! Applies what submitted command buffers recorded to the ownership and layout of external
//! resources, in submission order per queue, and reports the state rules
//! (`handoff_rules::checks::ownership`).
//!
//! Ops are copied out of the command buffer records first (the maps of `state::commands`
//! are never locked while the ownership maps are), secondaries expanded where
//! `vkCmdExecuteCommands` ran them, then applied one at a time, each under the locks of its
//! resource's and its memory's entries (`state::ownership`). A resource's entry keeps the
//! facts its last op was applied with, so that an op on a resource seen before looks up
//! only that entry, not the resource's and its memory's records too.

use crate::dispatch::DeviceData;
use crate::payload;
use crate::settings::Peer;
use crate::state::{self, commands, ownership as owned, resources as tracked};
use ash::vk::{self, Handle};
use handoff_rules::checks::ownership::{
    self as rules, BarrierOp, Facts, RecordedOp, Resource, Shape, Submit, UseOp,
};
use handoff_rules::Finding;
use smallvec::SmallVec;

/// What one submitted batch did, for the submit-level rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// A command buffer released memory to `VK_QUEUE_FAMILY_EXTERNAL` or `FOREIGN`.
    pub released: bool,
}

/// Nesting of `vkCmdExecuteCommands` followed at most (core Vulkan allows one level;
/// VK_EXT_nested_command_buffer a few more). Bounds the walk on a cycle the app created.
const MAX_NESTING: u32 = 4;

/// An op of a submitted batch, as applied: `Execute` is expanded by [`flatten`]. `Copy`, so
/// a batch's ops need no drop.
#[derive(Clone, Copy)]
enum Op {
    Barrier(BarrierOp),
    Use(UseOp),
}

/// `(recording command buffer, op)` of one submitted batch, on the stack for the common few.
type Ops = SmallVec<[(u64, Op); 4]>;

/// `(recording command buffer, op)` of `cb`, secondaries expanded in place; false when `cb`
/// is not in the state map.
fn flatten(device: vk::Device, cb: u64, depth: u32, out: &mut Ops) -> bool {
    let handle = vk::CommandBuffer::from_raw(cb);
    // Copied out without allocating unless the command buffer executes secondaries: those
    // are read after its entry is released (a nested read of one map could deadlock against
    // a waiting writer).
    let nested = commands::with_ops(device, handle, |ops| {
        let start = out.len();
        for op in ops {
            match op {
                RecordedOp::Barrier(b) => out.push((cb, Op::Barrier(*b))),
                RecordedOp::Use(u) => out.push((cb, Op::Use(*u))),
                RecordedOp::Execute(_) => {
                    out.truncate(start);
                    return Some(ops.to_vec());
                }
            }
        }
        None
    });
    let nested = match nested {
        None => return false,
        Some(None) => return true,
        Some(Some(nested)) => nested,
    };
    for op in nested {
        match op {
            RecordedOp::Barrier(b) => out.push((cb, Op::Barrier(b))),
            RecordedOp::Use(u) => out.push((cb, Op::Use(u))),
            RecordedOp::Execute(secondaries) => {
                if depth < MAX_NESTING {
                    for s in secondaries {
                        flatten(device, s, depth + 1, out);
                    }
                }
            }
        }
    }
    true
}

/// The ops of a submission's batches, copied out of the command buffer records before
/// anything is applied or forwarded. The one lookup per command buffer that copies its ops
/// also shows it live, so the liveness check of a valid submission costs nothing more.
#[derive(Default)]
pub struct Gathered {
    ops: Ops,
    /// Where each batch's ops end in `ops`.
    ends: SmallVec<[usize; 4]>,
    /// A command buffer of a batch was missing from the state map: freed, or never
    /// allocated on this device (liveness.rs says which and reports it).
    pub missing: bool,
}

impl Gathered {
    /// Appends the next batch, its command buffers in submission order.
    pub fn batch(&mut self, device: vk::Device, command_buffers: impl Iterator<Item = u64>) {
        for cb in command_buffers {
            self.missing |= !flatten(device, cb, 0, &mut self.ops);
        }
        self.ends.push(self.ops.len());
    }

    fn ops(&self, batch: usize) -> &[(u64, Op)] {
        let start = batch.checked_sub(1).map_or(0, |b| self.ends[b]);
        &self.ops[start..self.ends[batch]]
    }

    /// Whether no batch recorded anything the ownership rules replay.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

const D3D11_TEXTURES: vk::ExternalMemoryHandleTypeFlags =
    vk::ExternalMemoryHandleTypeFlags::from_raw(
        vk::ExternalMemoryHandleTypeFlags::D3D11_TEXTURE.as_raw()
            | vk::ExternalMemoryHandleTypeFlags::D3D11_TEXTURE_KMT.as_raw(),
    );

/// The facts of a tracked, bound resource, the key of what its memory shares, and whether
/// they hold until `state::ownership` counts a change (not for an image on imported memory:
/// its `remote_release` is read from the ledger for each op).
fn facts(device: vk::Device, resource: Resource) -> Option<(Facts, owned::SharedKey, bool)> {
    let (shape, bound, d3d11_texture) = match resource {
        Resource::Buffer(h) => {
            let r = tracked::buffer(device, vk::Buffer::from_raw(h))?;
            (Shape::Buffer { size: r.size }, r.bound?, false)
        }
        Resource::Image(h) => {
            let r = tracked::image(device, vk::Image::from_raw(h))?;
            let shape = Shape::Image {
                mip_levels: r.mip_levels,
                array_layers: r.array_layers,
            };
            (shape, r.bound?, r.external_types.intersects(D3D11_TEXTURES))
        }
    };
    let mem = state::memory(device, vk::DeviceMemory::from_raw(bound.memory))?;
    let key = match mem.payload {
        Some(p) => owned::SharedKey::Payload(p),
        None => owned::SharedKey::Memory((device.as_raw(), bound.memory)),
    };
    let facts = Facts {
        resource,
        shape,
        memory: bound.memory,
        offset: bound.offset,
        external_memory: !mem.export_types.is_empty() || !mem.import_type.is_empty(),
        d3d11_texture,
        payload: mem.payload.is_some(),
        // Only images pair layouts; the ledger is read only for memory imported from
        // another process's entry.
        remote_release: match resource {
            Resource::Image(_) if !mem.import_type.is_empty() && payload::has_remote_imports() => {
                payload::remote_release(device, bound.memory)
            }
            _ => None,
        },
    };
    let cacheable = !matches!(resource, Resource::Image(_)) || mem.import_type.is_empty();
    Some((facts, key, cacheable))
}

fn peer(p: Peer) -> rules::Peer {
    match p {
        Peer::Vulkan => rules::Peer::Vulkan,
        Peer::OtherApi => rules::Peer::OtherApi,
        Peer::Unknown => rules::Peer::Unknown,
    }
}

/// Applies the ops of batch `batch` of `gathered` (one batch of `vkQueueSubmit(2)`) as
/// executed on `queue`. `queue_family` is the queue's family once looked up (only for the
/// ops that read it; shared by the batches of one submission).
pub fn apply_batch(
    data: &DeviceData,
    queue: vk::Queue,
    queue_family: &mut Option<u32>,
    gathered: &Gathered,
    batch: usize,
    findings: &mut Vec<Finding>,
) -> Applied {
    let device = data.handle;
    let ops = gathered.ops(batch);
    let mut applied = Applied::default();
    if ops.is_empty() {
        return applied;
    }
    let peer = peer(data.reporter.settings.peer);
    let ledger = data.reporter.settings.ledger_dir.is_some();
    for (cb, op) in ops {
        let resource = match op {
            Op::Barrier(b) => b.resource,
            Op::Use(u) => u.resource,
        };
        let reads_family = match op {
            Op::Barrier(b) => b.reads_queue_family(),
            Op::Use(_) => true,
        };
        let queue_family = match queue_family {
            Some(f) => *f,
            None if reads_family => {
                *queue_family.insert(crate::state::queues::family(device, queue).unwrap_or(0))
            }
            // Not read by this op.
            None => 0,
        };
        let at = Submit {
            device: device.as_raw(),
            queue: queue.as_raw(),
            queue_family,
            command_buffer: *cb,
            peer,
        };
        let apply = |facts: &Facts, state: &mut _, shared: &mut _| match op {
            Op::Barrier(b) => rules::apply_barrier(&at, facts, b, state, shared),
            Op::Use(u) => rules::apply_use(&at, facts, u, state, shared),
        };
        let entry = (device.as_raw(), resource.raw());
        let cached = owned::with_cached(entry, |facts, key, state, shared| {
            (apply(facts, state, shared), key)
        });
        let (outcome, key) = match cached {
            Some(done) => done,
            None => {
                let changes = owned::changes();
                // Resource and memory records are read before the ownership entries are
                // locked.
                let Some((facts, key, cache)) = facts(device, resource) else {
                    continue;
                };
                let outcome = owned::with_entry(entry, &facts, key, (changes, cache), |s, m| {
                    apply(&facts, s, m)
                });
                (outcome, key)
            }
        };
        applied.released |= outcome.released_external;
        if !outcome.findings.is_empty() {
            findings.extend(outcome.findings);
        }
        // Releases of exported payloads go to this process's ledger entry (when
        // `ledger_dir` is set), outside the ownership entries' locks.
        if let (true, Op::Barrier(b), owned::SharedKey::Payload(p)) = (ledger, op, key) {
            if rules::is_special(b.dst) && !rules::is_special(b.src) {
                payload::ledger_release(p, b.dst, b.new_layout);
            }
        }
    }
    applied
}

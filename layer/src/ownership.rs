//! Applies what submitted command buffers recorded to the ownership and layout of external
//! resources, in submission order per queue, and reports the state rules
//! (`handoff_rules::checks::ownership`).
//!
//! Ops are copied out of the command buffer records first (the maps of `state::commands`
//! are never locked while the ownership maps are), secondaries expanded where
//! `vkCmdExecuteCommands` ran them, then applied under the ownership lock one batch at a time.

use crate::dispatch::DeviceData;
use crate::payload;
use crate::settings::Peer;
use crate::state::{self, commands, ownership as owned, resources as tracked};
use ash::vk::{self, Handle};
use handoff_rules::checks::ownership::{self as rules, Facts, RecordedOp, Resource, Shape, Submit};
use handoff_rules::Finding;

/// What one submitted batch did, for the submit-level rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// A command buffer released memory to `VK_QUEUE_FAMILY_EXTERNAL` or `FOREIGN`.
    pub released: bool,
}

/// Nesting of `vkCmdExecuteCommands` followed at most (core Vulkan allows one level;
/// VK_EXT_nested_command_buffer a few more). Bounds the walk on a cycle the app created.
const MAX_NESTING: u32 = 4;

/// `(recording command buffer, op)` of `cb`, secondaries expanded in place.
fn flatten(device: vk::Device, cb: u64, depth: u32, out: &mut Vec<(u64, RecordedOp)>) {
    let Some(ops) = commands::with_ops(device, vk::CommandBuffer::from_raw(cb), |ops| ops.to_vec())
    else {
        return;
    };
    for op in ops {
        match op {
            RecordedOp::Execute(secondaries) => {
                if depth < MAX_NESTING {
                    for s in secondaries {
                        flatten(device, s, depth + 1, out);
                    }
                }
            }
            op => out.push((cb, op)),
        }
    }
}

const D3D11_TEXTURES: vk::ExternalMemoryHandleTypeFlags =
    vk::ExternalMemoryHandleTypeFlags::from_raw(
        vk::ExternalMemoryHandleTypeFlags::D3D11_TEXTURE.as_raw()
            | vk::ExternalMemoryHandleTypeFlags::D3D11_TEXTURE_KMT.as_raw(),
    );

/// The facts of a tracked, bound resource, and the key of what its memory shares.
fn facts(device: vk::Device, resource: Resource) -> Option<(Facts, owned::SharedKey)> {
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
    Some((facts, key))
}

fn peer(p: Peer) -> rules::Peer {
    match p {
        Peer::Vulkan => rules::Peer::Vulkan,
        Peer::OtherApi => rules::Peer::OtherApi,
        Peer::Unknown => rules::Peer::Unknown,
    }
}

/// Applies the recorded operations of `command_buffers` (one batch of `vkQueueSubmit(2)`,
/// in order) as executed on `queue`, a queue of family `queue_family`.
pub fn apply_submission(
    data: &DeviceData,
    queue: vk::Queue,
    queue_family: u32,
    command_buffers: &[vk::CommandBuffer],
    findings: &mut Vec<Finding>,
) -> Applied {
    let device = data.handle;
    let mut ops = Vec::new();
    for cb in command_buffers {
        flatten(device, cb.as_raw(), 0, &mut ops);
    }
    if ops.is_empty() {
        return Applied::default();
    }
    // Resource and memory records are read before the ownership lock is taken.
    let resolved: Vec<_> = ops
        .into_iter()
        .filter_map(|(cb, op)| {
            let resource = match &op {
                RecordedOp::Barrier(b) => b.resource,
                RecordedOp::Use(u) => u.resource,
                RecordedOp::Execute(_) => return None,
            };
            facts(device, resource).map(|(f, key)| (cb, op, f, key))
        })
        .collect();
    let peer = peer(data.reporter.settings.peer);
    let mut applied = Applied::default();
    let mut out = Vec::new();
    owned::with(|maps| {
        for (cb, op, facts, key) in &resolved {
            let at = Submit {
                device: device.as_raw(),
                queue: queue.as_raw(),
                queue_family,
                command_buffer: *cb,
                peer,
            };
            let (state, shared) = maps.entry(
                (device.as_raw(), facts.resource.raw()),
                (facts.memory, facts.offset),
                *key,
            );
            let outcome = match op {
                RecordedOp::Barrier(b) => rules::apply_barrier(&at, facts, b, state, shared),
                RecordedOp::Use(u) => rules::apply_use(&at, facts, u, state, shared),
                RecordedOp::Execute(_) => continue,
            };
            applied.released |= outcome.released_external;
            out.extend(outcome.findings);
        }
    });
    // Releases of exported payloads go to this process's ledger entry (when `ledger_dir` is
    // set), outside the ownership lock.
    let ledger = data.reporter.settings.ledger_dir.is_some();
    for (_, op, _, key) in resolved.iter().filter(|_| ledger) {
        if let (RecordedOp::Barrier(b), owned::SharedKey::Payload(p)) = (op, key) {
            if rules::is_special(b.dst) && !rules::is_special(b.src) {
                payload::ledger_release(*p, b.dst, b.new_layout);
            }
        }
    }
    findings.append(&mut out);
    applied
}

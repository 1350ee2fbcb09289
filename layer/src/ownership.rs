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
//!
//! The common submission, one command buffer, is applied in place instead
//! ([`apply_single`]): its ops are read under its record's lock (taken after the ownership
//! maps' in fork.rs's order, so only the entries' own locks and the queue map, which comes
//! after it, are taken under it) through the ownership entries a previous submission
//! stored beside them; an op without a current one (or one that executes secondaries), and
//! every op after it, is copied out and applied through the maps once the record is
//! released.

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

impl Op {
    fn as_ref(&self) -> OpRef<'_> {
        match self {
            Op::Barrier(b) => OpRef::Barrier(b),
            Op::Use(u) => OpRef::Use(u),
        }
    }
}

/// An op as applied, borrowed (from a command buffer's record or from [`Gathered`]).
#[derive(Clone, Copy)]
enum OpRef<'a> {
    Barrier(&'a BarrierOp),
    Use(&'a UseOp),
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

/// Where a submission's ops run: what every op of it shares.
struct At {
    device: vk::Device,
    queue: vk::Queue,
    peer: rules::Peer,
    ledger: bool,
    /// The queue's family once looked up (only for the ops that read it).
    family: Option<u32>,
}

impl At {
    fn new(data: &DeviceData, queue: vk::Queue, family: Option<u32>) -> Self {
        Self {
            device: data.handle,
            queue,
            peer: peer(data.reporter.settings.peer),
            ledger: data.reporter.settings.ledger_dir.is_some(),
            family,
        }
    }

    #[inline]
    fn submit(&mut self, cb: u64, op: OpRef<'_>) -> Submit {
        let reads_family = match op {
            OpRef::Barrier(b) => b.reads_queue_family(),
            OpRef::Use(_) => true,
        };
        let queue_family = match self.family {
            Some(f) => f,
            None if reads_family => *self
                .family
                .insert(crate::state::queues::family(self.device, self.queue).unwrap_or(0)),
            // Not read by this op.
            None => 0,
        };
        Submit {
            device: self.device.as_raw(),
            queue: self.queue.as_raw(),
            queue_family,
            command_buffer: cb,
            peer: self.peer,
        }
    }

    /// Takes what applying `op` did; a release of an exported payload to publish in the
    /// ledger is returned (published outside every lock).
    #[inline(always)]
    fn outcome(
        &self,
        op: OpRef<'_>,
        (outcome, key): (rules::Outcome, owned::SharedKey),
        applied: &mut Applied,
        findings: &mut Vec<Finding>,
    ) -> Option<LedgerRelease> {
        applied.released |= outcome.released_external;
        if !outcome.findings.is_empty() {
            findings.extend(outcome.findings);
        }
        // Releases of exported payloads go to this process's ledger entry (when
        // `ledger_dir` is set).
        match (self.ledger, op, key) {
            (true, OpRef::Barrier(b), owned::SharedKey::Payload(p))
                if rules::is_special(b.dst) && !rules::is_special(b.src) =>
            {
                Some((p, b.dst, b.new_layout))
            }
            _ => None,
        }
    }
}

/// `(payload, queue family, newLayout)` of a release to publish in the ledger.
type LedgerRelease = (u64, u32, vk::ImageLayout);

fn apply_op(
    at: &Submit,
    op: OpRef<'_>,
    facts: &Facts,
    state: &mut rules::ResourceState,
    shared: &mut rules::Shared,
) -> rules::Outcome {
    match op {
        OpRef::Barrier(b) => rules::apply_barrier(at, facts, b, state, shared),
        OpRef::Use(u) => rules::apply_use(at, facts, u, state, shared),
    }
}

fn resource(op: OpRef<'_>) -> Resource {
    match op {
        OpRef::Barrier(b) => b.resource,
        OpRef::Use(u) => u.resource,
    }
}

/// Applies `op` through the maps: the resource's entry, or (when its cached facts are not
/// current) the resource's and its memory's records first. `None`: the resource is not
/// tracked or not bound. Also gives the entry, for a recorded op to keep.
fn apply_looked_up(
    at: &mut At,
    cb: u64,
    op: OpRef<'_>,
) -> Option<((rules::Outcome, owned::SharedKey), owned::EntryRef)> {
    let device = at.device;
    let resource = resource(op);
    let submit = at.submit(cb, op);
    let entry = (device.as_raw(), resource.raw());
    let cached = owned::with_cached(entry, |facts, key, state, shared| {
        (apply_op(&submit, op, facts, state, shared), key)
    });
    match cached {
        Some(done) => Some(done),
        None => {
            let changes = owned::changes();
            // Resource and memory records are read before the ownership entries are
            // locked.
            let (facts, key, cache) = facts(device, resource)?;
            let (outcome, entry) =
                owned::with_entry(entry, &facts, key, (changes, cache), |s, m| {
                    apply_op(&submit, op, &facts, s, m)
                });
            Some(((outcome, key), entry))
        }
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
    let ops = gathered.ops(batch);
    let mut applied = Applied::default();
    if ops.is_empty() {
        return applied;
    }
    let mut at = At::new(data, queue, *queue_family);
    for (cb, op) in ops {
        let op = op.as_ref();
        let Some((done, _)) = apply_looked_up(&mut at, *cb, op) else {
            continue;
        };
        if let Some((p, dst, layout)) = at.outcome(op, done, &mut applied, findings) {
            payload::ledger_release(p, dst, layout);
        }
    }
    *queue_family = at.family;
    applied
}

/// An op [`apply_single`] leaves for the maps: `(op index, op, the entry it holds)`, or the
/// secondaries of a `vkCmdExecuteCommands` (copied: the only case that allocates, as in
/// [`flatten`]).
enum Left {
    Op(usize, Op, *const owned::Entry),
    Execute(Vec<u64>),
}

type Rest = SmallVec<[Left; 2]>;

/// What [`apply_single`] did.
pub enum Single {
    /// The command buffer's ops were applied.
    Applied(Applied),
    /// Not applied: the command buffer is not in the state map (the caller gathers the
    /// submission with [`Gathered`], whose lookups show which command buffer is missing).
    Gather,
}

/// Applies the ops of the only command buffer of a submission, read in place in its record
/// (no copy): an op whose resource entry a submission resolved before and whose facts are
/// current is applied through that entry, without a lookup. From the first op that is not
/// (or that executes secondaries), the rest are copied out and applied through the maps
/// once the record is released, secondaries expanded in place as [`Gathered`] does, and the
/// entries they resolved are stored in the record for the next submission. Inlined into
/// the common path (`submit.rs`'s `submit_one`); other callers use [`apply_single_call`].
#[inline(always)]
pub fn apply_single(
    data: &DeviceData,
    queue: vk::Queue,
    command_buffer: vk::CommandBuffer,
    findings: &mut Vec<Finding>,
) -> Single {
    let device = data.handle;
    let cb = command_buffer.as_raw();
    let mut at = At::new(data, queue, None);
    let mut applied = Applied::default();
    // Created only when used: most submissions need neither.
    let mut ledger: Option<SmallVec<[LedgerRelease; 2]>> = None;
    let mut rest: Option<Rest> = None;
    let read = commands::with_recorded(device, command_buffer, |rec| {
        for (i, recorded) in rec.ops.iter().enumerate() {
            let op = match recorded {
                RecordedOp::Barrier(b) => Some(OpRef::Barrier(b)),
                RecordedOp::Use(u) => Some(OpRef::Use(u)),
                RecordedOp::Execute(_) => None,
            };
            let entry = rec.entry(i);
            let done = op.zip(entry).and_then(|(op, e)| {
                let submit = at.submit(cb, op);
                owned::with_resolved(e, |facts, key, state, shared| {
                    (apply_op(&submit, op, facts, state, shared), key)
                })
            });
            let (Some(op), Some(done)) = (op, done) else {
                // Everything from here on goes through the maps, in order.
                let rest = rest.insert(SmallVec::new());
                for (j, op) in rec.ops.iter().enumerate().skip(i) {
                    rest.push(match op {
                        RecordedOp::Barrier(b) => Left::Op(j, Op::Barrier(*b), entry_ptr(&rec, j)),
                        RecordedOp::Use(u) => Left::Op(j, Op::Use(*u), entry_ptr(&rec, j)),
                        RecordedOp::Execute(s) => Left::Execute(s.clone()),
                    });
                }
                break;
            };
            if let Some(l) = at.outcome(op, done, &mut applied, findings) {
                ledger.get_or_insert_with(SmallVec::new).push(l);
            }
        }
        rec.recording
    });
    let Some(recording) = read else {
        return Single::Gather;
    };
    if let Some(ledger) = ledger {
        for (p, dst, layout) in ledger {
            payload::ledger_release(p, dst, layout);
        }
    }
    let Some(rest) = rest else {
        return Single::Applied(applied);
    };
    let mut resolved: SmallVec<[(usize, owned::EntryRef); 2]> = SmallVec::new();
    let mut apply = |at: &mut At, cb: u64, op: OpRef<'_>| {
        let (done, entry) = apply_looked_up(at, cb, op)?;
        if let Some((p, dst, layout)) = at.outcome(op, done, &mut applied, findings) {
            payload::ledger_release(p, dst, layout);
        }
        Some(entry)
    };
    for left in rest {
        match left {
            Left::Op(i, op, held) => {
                let Some(entry) = apply(&mut at, cb, op.as_ref()) else {
                    continue;
                };
                if !std::ptr::eq(std::sync::Arc::as_ptr(&entry), held) {
                    resolved.push((i, entry));
                }
            }
            Left::Execute(secondaries) => {
                let mut ops = Ops::new();
                for s in secondaries {
                    flatten(device, s, 1, &mut ops);
                }
                for (scb, op) in &ops {
                    apply(&mut at, *scb, op.as_ref());
                }
            }
        }
    }
    if !resolved.is_empty() {
        commands::store_entries(device, command_buffer, recording, resolved);
    }
    Single::Applied(applied)
}

/// [`apply_single`], not inlined.
#[inline(never)]
pub fn apply_single_call(
    data: &DeviceData,
    queue: vk::Queue,
    command_buffer: vk::CommandBuffer,
    findings: &mut Vec<Finding>,
) -> Single {
    apply_single(data, queue, command_buffer, findings)
}

fn entry_ptr(rec: &commands::Recorded<'_>, i: usize) -> *const owned::Entry {
    rec.entry(i).map_or(std::ptr::null(), |e| e as *const _)
}

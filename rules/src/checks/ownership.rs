//! Ownership and layout of external buffers and images as the queues see them: the state
//! rules of RULES-TARGET G6 to G10 (plus 12331/12332 and 08922), applied in submission order
//! to what command buffers recorded.
//!
//! The layer records [`RecordedOp`]s per command buffer (`layer/src/commands.rs`) and replays
//! them here when the command buffer is submitted (`layer/src/ownership.rs`).

use ash::vk;

/// A buffer or an image, by raw handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Buffer(u64),
    Image(u64),
}

impl Resource {
    pub fn raw(self) -> u64 {
        match self {
            Resource::Buffer(h) | Resource::Image(h) => h,
        }
    }

    pub fn object_type(self) -> vk::ObjectType {
        match self {
            Resource::Buffer(_) => vk::ObjectType::BUFFER,
            Resource::Image(_) => vk::ObjectType::IMAGE,
        }
    }
}

/// The part of a resource a barrier or a command touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// `offset` and `size` (`VK_WHOLE_SIZE` allowed) of a buffer.
    Buffer { offset: u64, size: u64 },
    /// A subresource range of an image (`VK_REMAINING_*` allowed).
    Image(ImageRange),
}

/// `VkImageSubresourceRange`, copied (ash's type has no `PartialEq`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageRange {
    pub aspect_mask: vk::ImageAspectFlags,
    pub base_mip_level: u32,
    pub level_count: u32,
    pub base_array_layer: u32,
    pub layer_count: u32,
}

impl From<vk::ImageSubresourceRange> for ImageRange {
    fn from(r: vk::ImageSubresourceRange) -> Self {
        Self {
            aspect_mask: r.aspect_mask,
            base_mip_level: r.base_mip_level,
            level_count: r.level_count,
            base_array_layer: r.base_array_layer,
            layer_count: r.layer_count,
        }
    }
}

/// One buffer or image barrier, recorded because it names `VK_QUEUE_FAMILY_EXTERNAL` or
/// `VK_QUEUE_FAMILY_FOREIGN_EXT`, or because its resource is bound to external memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierOp {
    pub resource: Resource,
    pub range: Range,
    pub src: u32,
    pub dst: u32,
    /// Image barriers only; `UNDEFINED` for buffers.
    pub old_layout: vk::ImageLayout,
    pub new_layout: vk::ImageLayout,
    /// `VkExternalMemoryAcquireUnmodifiedEXT::acquireUnmodifiedMemory` on the barrier.
    pub acquire_unmodified: bool,
    /// The recording command (`vkCmdPipelineBarrier2`, ...) and the barrier's index in its
    /// array, for messages.
    pub command: &'static str,
    pub index: u32,
}

impl BarrierOp {
    /// Whether [`apply_barrier`] reads [`Submit::queue_family`]: only an acquire from
    /// `VK_QUEUE_FAMILY_EXTERNAL` or `FOREIGN` does (a [`UseOp`] always does), so the layer
    /// looks the queue's family up only then.
    pub fn reads_queue_family(&self) -> bool {
        self.src != self.dst && is_special(self.src) && !is_special(self.dst)
    }
}

/// A command other than a barrier that reads or writes an external resource: a transfer
/// command (copy, blit, clear, fill, update, resolve) or a render pass attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UseOp {
    pub resource: Resource,
    /// The recording command, for messages.
    pub command: &'static str,
}

/// What a command buffer recorded that the ownership rules replay at submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedOp {
    Barrier(BarrierOp),
    Use(UseOp),
    /// `vkCmdExecuteCommands`: the secondary command buffers' ops apply here, in order, when
    /// the primary is submitted (raw `VkCommandBuffer` handles).
    Execute(Vec<u64>),
}

// ---------------------------------------------------------------------------------------
// The state machine.
//
// Each external resource carries [`Pieces`] of [`PieceState`]: disjoint parts of the
// resource (byte ranges, or boxes of aspects × mip levels × array layers) with an owner
// and a layout. A barrier or command applies to the part it names: overlapping pieces are
// split, so whole-resource and disjoint-range handoffs are exact. What the memory shares
// across resources, devices and instances (the last release of each part, and a count of
// uses that may have written it) lives in [`Shared`], keyed by the layer by payload (or by
// memory where there is none) and the resource's binding offset.

use crate::catalogue::*;
use crate::finding::{Finding, Object};

/// Pieces beyond this many are not split further (a hostile pattern of ranges must not make
/// the state grow without bound); the coarser answer only loses precision.
pub const MAX_PIECES: usize = 256;

/// `VK_QUEUE_FAMILY_EXTERNAL` or `VK_QUEUE_FAMILY_FOREIGN_EXT`.
pub fn is_special(family: u32) -> bool {
    family == vk::QUEUE_FAMILY_EXTERNAL || family == vk::QUEUE_FAMILY_FOREIGN_EXT
}

fn family_name(f: u32) -> String {
    match f {
        vk::QUEUE_FAMILY_EXTERNAL => "VK_QUEUE_FAMILY_EXTERNAL".to_owned(),
        vk::QUEUE_FAMILY_FOREIGN_EXT => "VK_QUEUE_FAMILY_FOREIGN_EXT".to_owned(),
        vk::QUEUE_FAMILY_IGNORED => "VK_QUEUE_FAMILY_IGNORED".to_owned(),
        n => n.to_string(),
    }
}

/// The size of a resource, to resolve `VK_WHOLE_SIZE` and `VK_REMAINING_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Buffer { size: u64 },
    Image { mip_levels: u32, array_layers: u32 },
}

/// A resolved part of a resource: half-open byte range, or aspects × levels × layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extent {
    Bytes {
        start: u64,
        end: u64,
    },
    Image {
        aspects: u32,
        levels: (u32, u32),
        layers: (u32, u32),
    },
}

fn span_overlap(a: (u64, u64), b: (u64, u64)) -> Option<(u64, u64)> {
    let (s, e) = (a.0.max(b.0), a.1.min(b.1));
    (s < e).then_some((s, e))
}

/// `a` minus `b`, as at most two spans.
fn span_minus(a: (u64, u64), b: (u64, u64)) -> Vec<(u64, u64)> {
    let Some((s, e)) = span_overlap(a, b) else {
        return vec![a];
    };
    let mut out = Vec::new();
    if a.0 < s {
        out.push((a.0, s));
    }
    if e < a.1 {
        out.push((e, a.1));
    }
    out
}

fn wide(r: (u32, u32)) -> (u64, u64) {
    (u64::from(r.0), u64::from(r.1))
}

fn narrow(r: (u64, u64)) -> (u32, u32) {
    // Spans only ever shrink from u32 inputs, so they fit.
    (r.0 as u32, r.1 as u32)
}

impl Extent {
    /// All of a resource of this shape.
    pub fn whole(shape: Shape) -> Self {
        match shape {
            Shape::Buffer { size } => Extent::Bytes {
                start: 0,
                end: size,
            },
            Shape::Image {
                mip_levels,
                array_layers,
            } => Extent::Image {
                aspects: u32::MAX,
                levels: (0, mip_levels),
                layers: (0, array_layers),
            },
        }
    }

    /// The part `range` names on a resource of this shape; `None` for an empty part or a
    /// range of the other kind.
    pub fn resolve(shape: Shape, range: Range) -> Option<Self> {
        let e = match (shape, range) {
            (Shape::Buffer { size }, Range::Buffer { offset, size: len }) => {
                let end = if len == vk::WHOLE_SIZE {
                    size.max(offset)
                } else {
                    offset.saturating_add(len)
                };
                Extent::Bytes { start: offset, end }
            }
            (
                Shape::Image {
                    mip_levels,
                    array_layers,
                },
                Range::Image(r),
            ) => {
                let span = |base: u32, count: u32, total: u32| {
                    let end = if count == vk::REMAINING_MIP_LEVELS {
                        total.max(base)
                    } else {
                        base.saturating_add(count)
                    };
                    (base, end)
                };
                Extent::Image {
                    aspects: r.aspect_mask.as_raw(),
                    levels: span(r.base_mip_level, r.level_count, mip_levels),
                    layers: span(r.base_array_layer, r.layer_count, array_layers),
                }
            }
            _ => return None,
        };
        (!e.is_empty()).then_some(e)
    }

    fn is_empty(&self) -> bool {
        match *self {
            Extent::Bytes { start, end } => start >= end,
            Extent::Image {
                aspects,
                levels,
                layers,
            } => aspects == 0 || levels.0 >= levels.1 || layers.0 >= layers.1,
        }
    }

    pub fn intersect(&self, other: &Extent) -> Option<Extent> {
        match (*self, *other) {
            (Extent::Bytes { start, end }, Extent::Bytes { start: s2, end: e2 }) => {
                span_overlap((start, end), (s2, e2))
                    .map(|(start, end)| Extent::Bytes { start, end })
            }
            (
                Extent::Image {
                    aspects,
                    levels,
                    layers,
                },
                Extent::Image {
                    aspects: a2,
                    levels: l2,
                    layers: y2,
                },
            ) => {
                let aspects = aspects & a2;
                let levels = span_overlap(wide(levels), wide(l2))?;
                let layers = span_overlap(wide(layers), wide(y2))?;
                (aspects != 0).then_some(Extent::Image {
                    aspects,
                    levels: narrow(levels),
                    layers: narrow(layers),
                })
            }
            _ => None,
        }
    }

    /// `self` minus `other`, as disjoint extents.
    pub fn minus(&self, other: &Extent) -> Vec<Extent> {
        let Some(cut) = self.intersect(other) else {
            return vec![*self];
        };
        match (*self, cut) {
            (Extent::Bytes { start, end }, Extent::Bytes { start: s2, end: e2 }) => {
                span_minus((start, end), (s2, e2))
                    .into_iter()
                    .map(|(start, end)| Extent::Bytes { start, end })
                    .collect()
            }
            (
                Extent::Image {
                    aspects,
                    levels,
                    layers,
                },
                Extent::Image {
                    aspects: ca,
                    levels: cl,
                    layers: cy,
                },
            ) => {
                let mut out = Vec::new();
                if aspects & !ca != 0 {
                    out.push(Extent::Image {
                        aspects: aspects & !ca,
                        levels,
                        layers,
                    });
                }
                for l in span_minus(wide(levels), wide(cl)) {
                    out.push(Extent::Image {
                        aspects: ca,
                        levels: narrow(l),
                        layers,
                    });
                }
                for y in span_minus(wide(layers), wide(cy)) {
                    out.push(Extent::Image {
                        aspects: ca,
                        levels: cl,
                        layers: narrow(y),
                    });
                }
                out
            }
            _ => vec![*self],
        }
    }
}

/// Disjoint parts of one resource, each with a value; parts never set have none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pieces<T> {
    pieces: Vec<(Extent, T)>,
}

impl<T> Default for Pieces<T> {
    fn default() -> Self {
        Self { pieces: Vec::new() }
    }
}

impl<T: Clone + PartialEq> Pieces<T> {
    /// The values of the parts that overlap `extent`, with the overlap.
    pub fn overlapping<'a>(&'a self, extent: &'a Extent) -> impl Iterator<Item = (Extent, &'a T)> {
        self.pieces
            .iter()
            .filter_map(move |(e, v)| e.intersect(extent).map(|x| (x, v)))
    }

    /// The piece that is exactly `extent`, if any: pieces are disjoint, so then no other
    /// piece overlaps it (its value is all that `overlapping` would give).
    pub fn exact(&self, extent: &Extent) -> Option<(usize, &T)> {
        self.pieces
            .iter()
            .enumerate()
            .find_map(|(i, (e, v))| (e == extent).then_some((i, v)))
    }

    /// [`Pieces::update`] of the piece at `i`, as [`Pieces::exact`] found it.
    pub fn update_exact(&mut self, i: usize, f: impl Fn(Option<&T>) -> T) {
        let last = self.pieces.len() - 1;
        if i != last {
            self.pieces[i..].rotate_left(1);
        }
        let v = &mut self.pieces[last].1;
        *v = f(Some(v));
    }

    /// Sets every point of `extent` to `f` of its old value (`None` where never set).
    pub fn update(&mut self, extent: Extent, f: impl Fn(Option<&T>) -> T) {
        // The common case, an op on the same part as the last one (mostly the whole
        // resource), allocates nothing. Pieces are disjoint, so no other piece overlaps an
        // exact match; it moves last, as the general case below leaves it.
        if let Some((i, _)) = self.exact(&extent) {
            self.update_exact(i, f);
            return;
        }
        if self.pieces.is_empty() {
            let fresh = f(None);
            self.pieces.push((extent, fresh));
            return;
        }
        let mut out = Vec::with_capacity(self.pieces.len() + 2);
        let mut inside: Vec<(Extent, T)> = Vec::new();
        let mut uncovered = vec![extent];
        let split = self.pieces.len() < MAX_PIECES;
        let mut coarse = false;
        for (e, v) in self.pieces.drain(..) {
            match e.intersect(&extent) {
                None => out.push((e, v)),
                Some(cut) if split || cut == e => {
                    out.extend(e.minus(&cut).into_iter().map(|r| (r, v.clone())));
                    uncovered = uncovered.iter().flat_map(|u| u.minus(&cut)).collect();
                    inside.push((cut, f(Some(&v))));
                }
                // At the cap a partly covered piece takes the new value whole.
                Some(cut) => {
                    coarse = true;
                    uncovered = uncovered.iter().flat_map(|u| u.minus(&cut)).collect();
                    inside.push((e, f(Some(&v))));
                }
            }
        }
        let fresh = f(None);
        inside.extend(uncovered.into_iter().map(|u| (u, fresh.clone())));
        // Pieces inside `extent` that ended up alike become one again, so that a whole-resource
        // op after partial ones leaves one piece.
        if !coarse && inside.windows(2).all(|w| w[0].1 == w[1].1) {
            if let Some((_, v)) = inside.pop() {
                inside = vec![(extent, v)];
            }
        }
        out.extend(inside);
        self.pieces = out;
    }

    pub fn len(&self) -> usize {
        self.pieces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}

/// Who owns a part of a resource, as the queues of this device see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// Not seen used yet: created, or made from imported memory.
    Unknown,
    /// Used or acquired by a queue of this family (or `IGNORED`).
    Family(u32),
    /// Released to `VK_QUEUE_FAMILY_EXTERNAL` or `FOREIGN`.
    Released(Release),
}

/// A release to a special queue family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    pub to: u32,
    /// `newLayout` of the release (`UNDEFINED` for buffers).
    pub layout: vk::ImageLayout,
    /// [`Shared::uses`] when it was released, for 08922.
    pub uses: u64,
    /// `(device, resource)` that released it: an acquire pairs only with a release by
    /// another resource (its own release went to a peer the layer may not see).
    pub by: (u64, u64),
}

/// One part of one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PieceState {
    pub owner: Owner,
    pub layout: vk::ImageLayout,
}

/// The ownership state of one resource.
pub type ResourceState = Pieces<PieceState>;

/// What every resource bound to one piece of memory shares, across devices and instances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shared {
    /// Uses of any resource bound to this memory (counted, never decreasing): any access may
    /// write, as the spec warns even for apparently read-only ones.
    pub uses: u64,
    /// The last release of each part, per resource binding offset (ordered, not hashed: a
    /// memory has few offsets, and a release should not pay for hashing).
    pub releases: std::collections::BTreeMap<u64, Pieces<Release>>,
}

/// Who consumes what is released to `VK_QUEUE_FAMILY_EXTERNAL` (the `peer` setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Peer {
    Vulkan,
    OtherApi,
    #[default]
    Unknown,
}

/// Where the ops run.
#[derive(Clone, Copy, Debug)]
pub struct Submit {
    pub device: u64,
    pub queue: u64,
    pub queue_family: u32,
    /// The command buffer that recorded the op (a secondary for ops of `vkCmdExecuteCommands`).
    pub command_buffer: u64,
    pub peer: Peer,
}

/// What the layer knows about the resource an op names.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub resource: Resource,
    pub shape: Shape,
    /// The bound `VkDeviceMemory`, raw.
    pub memory: u64,
    /// Offset of the binding, the key of [`Shared::releases`].
    pub offset: u64,
    /// The bound memory was exported or imported.
    pub external_memory: bool,
    /// `VkExternalMemoryImageCreateInfo::handleTypes` has a D3D11 texture type.
    pub d3d11_texture: bool,
    /// The memory is a payload of the registry, whose identity outlives memory handles:
    /// only then are releases kept in [`Shared`] for other resources to pair with (a freed
    /// memory handle may come back for unrelated memory).
    pub payload: bool,
    /// The last release of the memory's payload by another process, from the `ledger_dir`
    /// ledger: `(queue family, newLayout)`. Used when no release in this process pairs.
    pub remote_release: Option<(u32, vk::ImageLayout)>,
}

/// What applying one op did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    /// It released memory that is exported or imported.
    pub released_external: bool,
}

fn is_sync2(command: &str) -> bool {
    command.contains('2')
}

fn objects(at: &Submit, facts: &Facts, memory: bool) -> Vec<Object> {
    let mut v = vec![
        Object::new(facts.resource.object_type(), facts.resource.raw()),
        Object::new(vk::ObjectType::COMMAND_BUFFER, at.command_buffer),
        Object::new(vk::ObjectType::QUEUE, at.queue),
    ];
    if memory {
        v.push(Object::new(vk::ObjectType::DEVICE_MEMORY, facts.memory));
    }
    v
}

fn noun(r: Resource) -> String {
    match r {
        Resource::Buffer(h) => format!("buffer 0x{h:x}"),
        Resource::Image(h) => format!("image 0x{h:x}"),
    }
}

/// The first release among the pieces of `state` overlapping `extent`.
fn released_in(state: &ResourceState, extent: &Extent) -> Option<Release> {
    state.overlapping(extent).find_map(|(_, p)| released(p))
}

fn released(p: &PieceState) -> Option<Release> {
    match p.owner {
        Owner::Released(r) => Some(r),
        _ => None,
    }
}

fn owned_by(p: &PieceState) -> Option<u32> {
    match p.owner {
        Owner::Family(f) => Some(f),
        _ => None,
    }
}

/// A `Use` op (transfer command or attachment): touches the whole resource.
pub fn apply_use(
    at: &Submit,
    facts: &Facts,
    op: &UseOp,
    state: &mut ResourceState,
    shared: &mut Shared,
) -> Outcome {
    let mut out = Outcome::default();
    let whole = Extent::whole(facts.shape);
    shared.uses = shared.uses.saturating_add(1);
    if let Some(r) = released_in(state, &whole) {
        out.findings.push(Finding::new(
            &OWNERSHIP_USE_WHILE_RELEASED,
            format!(
                "{} in command buffer 0x{:x} uses {} while it is released to {}: its contents \
                 and layout are undefined until it is acquired again. Record an acquire \
                 barrier (srcQueueFamilyIndex {}) before using it.",
                op.command,
                at.command_buffer,
                noun(facts.resource),
                family_name(r.to),
                family_name(r.to),
            ),
            objects(at, facts, false),
        ));
        return out;
    }
    let family = at.queue_family;
    state.update(whole, |old| match old {
        Some(p) => PieceState {
            owner: Owner::Family(family),
            layout: p.layout,
        },
        None => PieceState {
            owner: Owner::Family(family),
            layout: vk::ImageLayout::UNDEFINED,
        },
    });
    out
}

/// A buffer or image barrier.
pub fn apply_barrier(
    at: &Submit,
    facts: &Facts,
    op: &BarrierOp,
    state: &mut ResourceState,
    shared: &mut Shared,
) -> Outcome {
    let Some(extent) = Extent::resolve(facts.shape, op.range) else {
        return Outcome::default();
    };
    let transfer = op.src != op.dst;
    if transfer && is_special(op.dst) && !is_special(op.src) {
        release(at, facts, op, extent, state, shared)
    } else if transfer && is_special(op.src) && !is_special(op.dst) {
        acquire(at, facts, op, extent, state, shared)
    } else if transfer && is_special(op.src) && is_special(op.dst) {
        // Invalid at record time (10387/10388); no state to derive from it.
        Outcome::default()
    } else {
        other_barrier(at, facts, op, extent, state)
    }
}

fn at_barrier(at: &Submit, op: &BarrierOp, facts: &Facts) -> String {
    if op.command.starts_with("vkCmdBeginRenderPass") {
        // The layout change a render pass makes to an attachment (initialLayout to
        // finalLayout); `index` is the attachment's.
        return format!(
            "{} (attachment {}, initialLayout to finalLayout) in command buffer 0x{:x}",
            op.command, op.index, at.command_buffer
        );
    }
    let array = match facts.resource {
        Resource::Buffer(_) => "pBufferMemoryBarriers",
        Resource::Image(_) => "pImageMemoryBarriers",
    };
    let via = if op.command.starts_with("vkCmdPipelineBarrier2") {
        "pDependencyInfo->"
    } else if op.command.starts_with("vkCmdWaitEvents2") {
        "pDependencyInfos[]->"
    } else {
        ""
    };
    format!(
        "{} {via}{array}[{}] in command buffer 0x{:x}",
        op.command, op.index, at.command_buffer
    )
}

fn used_while_released(at: &Submit, facts: &Facts, op: &BarrierOp, r: Release) -> Finding {
    Finding::new(
        &OWNERSHIP_USE_WHILE_RELEASED,
        format!(
            "{} touches {} while it is released to {}; only the acquire (srcQueueFamilyIndex \
             {}) may come next. Acquire it before any other barrier.",
            at_barrier(at, op, facts),
            noun(facts.resource),
            family_name(r.to),
            family_name(r.to),
        ),
        objects(at, facts, false),
    )
}

/// A barrier that is no transfer to or from a special family (a layout transition, a
/// transfer between two families of this device, a plain memory dependency).
fn other_barrier(
    at: &Submit,
    facts: &Facts,
    op: &BarrierOp,
    extent: Extent,
    state: &mut ResourceState,
) -> Outcome {
    let mut out = Outcome::default();
    if let Some(r) = released_in(state, &extent) {
        out.findings.push(used_while_released(at, facts, op, r));
        return out;
    }
    let image = matches!(facts.resource, Resource::Image(_));
    let new_layout = op.new_layout;
    // A barrier alone does not show that this device owns the resource: apps commonly
    // transition imported images before the first acquire. Only the layout is taken.
    state.update(extent, |old| {
        let owner = old.map_or(Owner::Unknown, |p| p.owner);
        let layout = if image {
            new_layout
        } else {
            vk::ImageLayout::UNDEFINED
        };
        PieceState { owner, layout }
    });
    out
}

fn release(
    at: &Submit,
    facts: &Facts,
    op: &BarrierOp,
    extent: Extent,
    state: &mut ResourceState,
    shared: &mut Shared,
) -> Outcome {
    let mut out = Outcome {
        released_external: facts.external_memory,
        ..Outcome::default()
    };
    // Messages are formatted only for a finding: this runs on every submitted release.
    let here = || at_barrier(at, op, facts);
    // Mostly the same part as the last op: one compare finds it, and its update.
    let exact = state.exact(&extent).map(|(i, p)| (i, released(p)));
    let prior = match exact {
        Some((_, r)) => r,
        None => released_in(state, &extent),
    };
    if let Some(r) = prior {
        out.findings.push(used_while_released(at, facts, op, r));
    }
    if !facts.external_memory {
        out.findings.push(Finding::new(
            &OWNERSHIP_NOT_EXTERNAL_MEMORY,
            format!(
                "{} releases {} to {}, but its memory 0x{:x} was neither exported nor \
                 imported, so no other instance, process or API can reach it. Allocate it with \
                 VkExportMemoryAllocateInfo (or import it), or keep the transfer within this \
                 device.",
                here(),
                noun(facts.resource),
                family_name(op.dst),
                facts.memory,
            ),
            objects(at, facts, true),
        ));
    }
    if let Resource::Image(_) = facts.resource {
        if op.new_layout != vk::ImageLayout::GENERAL {
            if let Some(f) = layout_not_general(at, facts, op) {
                out.findings.push(f);
            }
        }
    }
    let layout = match facts.resource {
        Resource::Image(_) => op.new_layout,
        Resource::Buffer(_) => vk::ImageLayout::UNDEFINED,
    };
    let rel = Release {
        to: op.dst,
        layout,
        uses: shared.uses,
        by: (at.device, facts.resource.raw()),
    };
    let piece = |_: Option<&PieceState>| PieceState {
        owner: Owner::Released(rel),
        layout,
    };
    match exact {
        Some((i, _)) => state.update_exact(i, piece),
        None => state.update(extent, piece),
    }
    if facts.payload {
        shared
            .releases
            .entry(facts.offset)
            .or_default()
            .update(extent, |_| rel);
    }
    out
}

fn layout_not_general(at: &Submit, facts: &Facts, op: &BarrierOp) -> Option<Finding> {
    let layout = op.new_layout;
    let here = || at_barrier(at, op, facts);
    if facts.d3d11_texture && op.dst == vk::QUEUE_FAMILY_EXTERNAL {
        let rule = if is_sync2(op.command) {
            &BARRIER_IMG2_D3D11_RELEASE_NOT_GENERAL
        } else {
            &BARRIER_IMG_D3D11_RELEASE_NOT_GENERAL
        };
        return Some(Finding::new(
            rule,
            format!(
                "{} releases {} (created with a D3D11 texture handle type) to \
                 VK_QUEUE_FAMILY_EXTERNAL with newLayout {layout:?}; such images must be \
                 handed over in VK_IMAGE_LAYOUT_GENERAL.",
                here(),
                noun(facts.resource),
            ),
            objects(at, facts, false),
        ));
    }
    let (rule, why) = if op.dst == vk::QUEUE_FAMILY_FOREIGN_EXT {
        (
            &HANDOFF_LAYOUT_NOT_GENERAL,
            "a release to VK_QUEUE_FAMILY_FOREIGN_EXT hands the image to an API that is not Vulkan",
        )
    } else {
        match at.peer {
            Peer::Vulkan => return None,
            Peer::OtherApi => (
                &HANDOFF_LAYOUT_NOT_GENERAL,
                "the peer setting says the consumer is an API that is not Vulkan",
            ),
            Peer::Unknown => (
                &HANDOFF_LAYOUT_NOT_GENERAL_PEER_UNKNOWN,
                "a consumer that is not Vulkan cannot read other layouts (set peer = vulkan if \
                 the consumer is Vulkan, peer = other-api to make this an error)",
            ),
        }
    };
    Some(Finding::new(
        rule,
        format!(
            "{} releases {} to {} with newLayout {layout:?}: {why}. Release it in \
             VK_IMAGE_LAYOUT_GENERAL (VK_KHR_external_memory issue 3).",
            here(),
            noun(facts.resource),
            family_name(op.dst),
        ),
        objects(at, facts, false),
    ))
}

fn acquire(
    at: &Submit,
    facts: &Facts,
    op: &BarrierOp,
    extent: Extent,
    state: &mut ResourceState,
    shared: &mut Shared,
) -> Outcome {
    let mut out = Outcome::default();
    let here = || at_barrier(at, op, facts);
    // Mostly the same part as the last op: one compare finds it, and its update.
    let exact = state.exact(&extent).map(|(i, p)| (i, *p));
    let owned = match exact {
        Some((_, p)) => owned_by(&p),
        None => state.overlapping(&extent).find_map(|(_, p)| owned_by(p)),
    };
    if let Some(f) = owned {
        out.findings.push(Finding::new(
            &OWNERSHIP_ACQUIRE_WITHOUT_RELEASE,
            format!(
                "{} acquires {} from {}, but queue family {} of this device has owned it \
                 since its last acquire or use and never released it. Release it to {} first, \
                 or drop the second acquire.",
                here(),
                noun(facts.resource),
                family_name(op.src),
                family_name(f),
                family_name(op.src),
            ),
            objects(at, facts, false),
        ));
    }
    // The release this acquire takes over: the last one of this memory by another resource
    // (another device or instance of this process). Its own release went to a peer that
    // acquired and released in turn, unseen unless it is one of those.
    let me = (at.device, facts.resource.raw());
    // Looked up only where a layout is compared: every submitted acquire runs this.
    let paired = || {
        shared
            .releases
            .get(&facts.offset)
            .and_then(|p| p.overlapping(&extent).map(|(_, r)| *r).find(|r| r.by != me))
            .or_else(|| {
                facts.remote_release.map(|(to, layout)| Release {
                    to,
                    layout,
                    uses: 0,
                    by: (0, 0),
                })
            })
    };
    let image = matches!(facts.resource, Resource::Image(_));
    let old = op.old_layout;
    let d3d11 = image
        && facts.d3d11_texture
        && op.src == vk::QUEUE_FAMILY_EXTERNAL
        && old != vk::ImageLayout::GENERAL
        && old != vk::ImageLayout::UNDEFINED;
    if d3d11 {
        let rule = if is_sync2(op.command) {
            &BARRIER_IMG2_D3D11_ACQUIRE_NOT_GENERAL
        } else {
            &BARRIER_IMG_D3D11_ACQUIRE_NOT_GENERAL
        };
        out.findings.push(Finding::new(
            rule,
            format!(
                "{} acquires {} (created with a D3D11 texture handle type) from \
                 VK_QUEUE_FAMILY_EXTERNAL with oldLayout {old:?}; such images arrive in \
                 VK_IMAGE_LAYOUT_GENERAL (or use UNDEFINED to discard the contents).",
                here(),
                noun(facts.resource),
            ),
            objects(at, facts, false),
        ));
    } else if let Some(r) = (image && old != vk::ImageLayout::UNDEFINED)
        .then(paired)
        .flatten()
        .filter(|r| r.layout != old && r.to == op.src)
    {
        out.findings.push(Finding::new(
            &OWNERSHIP_ACQUIRE_LAYOUT_MISMATCH,
            format!(
                "{} acquires {} from {} with oldLayout {old:?}, but it was released with \
                 newLayout {:?}. The acquire must name the layout of the release.",
                here(),
                noun(facts.resource),
                family_name(op.src),
                r.layout,
            ),
            objects(at, facts, false),
        ));
    }
    // 08922 counts from this resource's own most recent release.
    if op.acquire_unmodified {
        let prior = match exact {
            Some((_, p)) => released(&p),
            None => released_in(state, &extent),
        };
        if let Some(r) = prior.filter(|r| shared.uses > r.uses) {
            out.findings.push(Finding::new(
                &ACQUIRE_UNMODIFIED_BUT_MODIFIED,
                format!(
                    "{} acquires {} with VkExternalMemoryAcquireUnmodifiedEXT::\
                     acquireUnmodifiedMemory = VK_TRUE, but memory 0x{:x} bound to it was used \
                     {} time(s) in this process since its release to {}. Drop the claim, or \
                     leave the memory untouched until the acquire.",
                    here(),
                    noun(facts.resource),
                    facts.memory,
                    shared.uses - r.uses,
                    family_name(r.to),
                ),
                objects(at, facts, true),
            ));
        }
    }
    let family = at.queue_family;
    let layout = if image {
        op.new_layout
    } else {
        vk::ImageLayout::UNDEFINED
    };
    let piece = |_: Option<&PieceState>| PieceState {
        owner: Owner::Family(family),
        layout,
    };
    match exact {
        Some((i, _)) => state.update_exact(i, piece),
        None => state.update(extent, piece),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXT: u32 = vk::QUEUE_FAMILY_EXTERNAL;
    const FOREIGN: u32 = vk::QUEUE_FAMILY_FOREIGN_EXT;
    const IGN: u32 = vk::QUEUE_FAMILY_IGNORED;
    const GENERAL: vk::ImageLayout = vk::ImageLayout::GENERAL;
    const SRC: vk::ImageLayout = vk::ImageLayout::TRANSFER_SRC_OPTIMAL;
    const UNDEF: vk::ImageLayout = vk::ImageLayout::UNDEFINED;

    fn at(device: u64) -> Submit {
        Submit {
            device,
            queue: 0x51,
            queue_family: 0,
            command_buffer: 0xcb,
            peer: Peer::Unknown,
        }
    }

    fn image(h: u64) -> Facts {
        Facts {
            resource: Resource::Image(h),
            shape: Shape::Image {
                mip_levels: 4,
                array_layers: 2,
            },
            memory: 0x3e3,
            offset: 0,
            external_memory: true,
            d3d11_texture: false,
            payload: true,
            remote_release: None,
        }
    }

    fn buffer(h: u64) -> Facts {
        Facts {
            resource: Resource::Buffer(h),
            shape: Shape::Buffer { size: 256 },
            memory: 0x3e3,
            offset: 0,
            external_memory: true,
            d3d11_texture: false,
            payload: true,
            remote_release: None,
        }
    }

    fn all_mips() -> ImageRange {
        ImageRange {
            aspect_mask: vk::ImageAspectFlags::COLOR,
            base_mip_level: 0,
            level_count: vk::REMAINING_MIP_LEVELS,
            base_array_layer: 0,
            layer_count: vk::REMAINING_ARRAY_LAYERS,
        }
    }

    fn mips(base: u32, count: u32) -> Range {
        Range::Image(ImageRange {
            base_mip_level: base,
            level_count: count,
            ..all_mips()
        })
    }

    fn barrier(
        f: &Facts,
        src: u32,
        dst: u32,
        old: vk::ImageLayout,
        new: vk::ImageLayout,
    ) -> BarrierOp {
        BarrierOp {
            resource: f.resource,
            range: match f.resource {
                Resource::Image(_) => Range::Image(all_mips()),
                Resource::Buffer(_) => Range::Buffer {
                    offset: 0,
                    size: vk::WHOLE_SIZE,
                },
            },
            src,
            dst,
            old_layout: old,
            new_layout: new,
            acquire_unmodified: false,
            command: "vkCmdPipelineBarrier2",
            index: 0,
        }
    }

    fn use_op(f: &Facts) -> UseOp {
        UseOp {
            resource: f.resource,
            command: "vkCmdFillBuffer",
        }
    }

    fn ids(o: &Outcome) -> Vec<&'static str> {
        o.findings.iter().map(|f| f.id()).collect()
    }

    struct World {
        state: ResourceState,
        shared: Shared,
    }

    impl World {
        fn new() -> Self {
            World {
                state: ResourceState::default(),
                shared: Shared::default(),
            }
        }
        fn b(&mut self, at: &Submit, f: &Facts, op: BarrierOp) -> Outcome {
            apply_barrier(at, f, &op, &mut self.state, &mut self.shared)
        }
        fn u(&mut self, at: &Submit, f: &Facts) -> Outcome {
            apply_use(at, f, &use_op(f), &mut self.state, &mut self.shared)
        }
    }

    #[test]
    fn extents_split_and_cover() {
        let shape = Shape::Image {
            mip_levels: 4,
            array_layers: 2,
        };
        let whole = Extent::resolve(shape, Range::Image(all_mips())).unwrap();
        let m1 = Extent::resolve(shape, mips(1, 1)).unwrap();
        let parts = whole.minus(&m1);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.intersect(&m1).is_none()));
        let b = Extent::resolve(
            Shape::Buffer { size: 100 },
            Range::Buffer {
                offset: 10,
                size: vk::WHOLE_SIZE,
            },
        )
        .unwrap();
        assert_eq!(
            b,
            Extent::Bytes {
                start: 10,
                end: 100
            }
        );
        assert!(Extent::resolve(
            Shape::Buffer { size: 100 },
            Range::Buffer { offset: 0, size: 0 }
        )
        .is_none());
        let mut p: Pieces<u8> = Pieces::default();
        p.update(whole, |_| 1);
        p.update(m1, |_| 2);
        assert_eq!(p.len(), 3);
        let vals: Vec<u8> = p.overlapping(&whole).map(|(_, v)| *v).collect();
        assert_eq!(vals.iter().filter(|v| **v == 2).count(), 1);
        // Two acquires of the halves leave nothing of the first value.
        p.update(Extent::resolve(shape, mips(0, 2)).unwrap(), |_| 3);
        p.update(Extent::resolve(shape, mips(2, 2)).unwrap(), |_| 3);
        assert!(p.overlapping(&whole).all(|(_, v)| *v == 3));
        p.update(whole, |_| 4);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn pieces_stay_bounded() {
        let mut p: Pieces<u32> = Pieces::default();
        for i in 0..2000u64 {
            p.update(
                Extent::Bytes {
                    start: i * 2,
                    end: i * 2 + 1,
                },
                |_| 1,
            );
            p.update(
                Extent::Bytes {
                    start: 0,
                    end: 1 << 20,
                },
                |_| 2,
            );
        }
        assert!(p.len() <= MAX_PIECES + 8);
    }

    #[test]
    fn release_then_acquire_by_another_resource_is_silent() {
        let (a, b) = (image(0xa), image(0xb));
        let mut w = World::new();
        let mut wb_state = ResourceState::default();
        let r = w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, GENERAL));
        assert!(r.findings.is_empty() && r.released_external);
        let o = apply_barrier(
            &at(2),
            &b,
            &barrier(&b, EXT, 0, GENERAL, GENERAL),
            &mut wb_state,
            &mut w.shared,
        );
        assert!(o.findings.is_empty(), "{:?}", ids(&o));
        assert!(!o.released_external);
    }

    #[test]
    fn acquire_layout_mismatch_across_instances() {
        let (a, b) = (image(0xa), image(0xb));
        let mut w = World::new();
        let mut wb = ResourceState::default();
        w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, GENERAL));
        let o = apply_barrier(
            &at(2),
            &b,
            &barrier(&b, EXT, 0, SRC, GENERAL),
            &mut wb,
            &mut w.shared,
        );
        assert_eq!(ids(&o), ["HANDOFF-Ownership-acquire-layout-mismatch"]);
        assert_eq!(
            o.findings[0].objects[0],
            Object::new(vk::ObjectType::IMAGE, 0xb)
        );
        // UNDEFINED discards and is never compared.
        let mut wb = ResourceState::default();
        let o = apply_barrier(
            &at(2),
            &b,
            &barrier(&b, EXT, 0, UNDEF, GENERAL),
            &mut wb,
            &mut w.shared,
        );
        assert!(o.findings.is_empty());
        // Memory that is no payload keeps no releases for others: its handle may be reused.
        let (mut a2, mut b2) = (image(0xa), image(0xb));
        a2.payload = false;
        b2.payload = false;
        let mut w = World::new();
        w.b(&at(1), &a2, barrier(&a2, 0, EXT, UNDEF, GENERAL));
        let mut wb = ResourceState::default();
        let o = apply_barrier(
            &at(1),
            &b2,
            &barrier(&b2, EXT, 0, SRC, GENERAL),
            &mut wb,
            &mut w.shared,
        );
        assert!(o.findings.is_empty());
    }

    #[test]
    fn own_release_is_not_the_pair_of_its_acquire() {
        let a = image(0xa);
        let mut w = World::new();
        w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, GENERAL));
        let o = w.b(&at(1), &a, barrier(&a, EXT, 0, SRC, GENERAL));
        assert!(o.findings.is_empty(), "{:?}", ids(&o));
    }

    #[test]
    fn second_acquire_without_release() {
        let a = image(0xa);
        let mut w = World::new();
        // The first acquire of fresh (imported) memory is fine.
        assert!(w
            .b(&at(1), &a, barrier(&a, EXT, 0, UNDEF, GENERAL))
            .findings
            .is_empty());
        let o = w.b(&at(1), &a, barrier(&a, EXT, 0, UNDEF, GENERAL));
        assert_eq!(ids(&o), ["HANDOFF-Ownership-acquire-without-release"]);
        // Released in between: fine again.
        let mut w = World::new();
        w.u(&at(1), &a);
        w.b(&at(1), &a, barrier(&a, 0, EXT, GENERAL, GENERAL));
        assert!(w
            .b(&at(1), &a, barrier(&a, EXT, 0, GENERAL, GENERAL))
            .findings
            .is_empty());
    }

    #[test]
    fn concurrent_transfers_name_ignored() {
        let a = buffer(0xa);
        let mut w = World::new();
        w.u(&at(1), &a);
        let r = w.b(&at(1), &a, barrier(&a, IGN, EXT, UNDEF, UNDEF));
        assert!(r.findings.is_empty() && r.released_external);
        assert_eq!(
            ids(&w.u(&at(1), &a)),
            ["HANDOFF-Ownership-use-while-released"]
        );
        assert!(w
            .b(&at(1), &a, barrier(&a, EXT, IGN, UNDEF, UNDEF))
            .findings
            .is_empty());
        assert_eq!(
            ids(&w.b(&at(1), &a, barrier(&a, EXT, IGN, UNDEF, UNDEF))),
            ["HANDOFF-Ownership-acquire-without-release"]
        );
    }

    #[test]
    fn use_makes_it_owned() {
        let a = buffer(0xa);
        let mut w = World::new();
        assert!(w.u(&at(1), &a).findings.is_empty());
        let o = w.b(&at(1), &a, barrier(&a, FOREIGN, 0, UNDEF, UNDEF));
        assert_eq!(ids(&o), ["HANDOFF-Ownership-acquire-without-release"]);
    }

    #[test]
    fn layout_transition_alone_does_not_own() {
        let a = image(0xa);
        let mut w = World::new();
        assert!(w
            .b(&at(1), &a, barrier(&a, IGN, IGN, UNDEF, GENERAL))
            .findings
            .is_empty());
        assert!(w
            .b(&at(1), &a, barrier(&a, EXT, 0, GENERAL, GENERAL))
            .findings
            .is_empty());
    }

    #[test]
    fn use_while_released() {
        let a = buffer(0xa);
        let mut w = World::new();
        w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, UNDEF));
        let o = w.u(&at(1), &a);
        assert_eq!(ids(&o), ["HANDOFF-Ownership-use-while-released"]);
        assert_eq!(
            o.findings[0].objects,
            vec![
                Object::new(vk::ObjectType::BUFFER, 0xa),
                Object::new(vk::ObjectType::COMMAND_BUFFER, 0xcb),
                Object::new(vk::ObjectType::QUEUE, 0x51),
            ]
        );
        let o = w.b(&at(1), &a, barrier(&a, IGN, IGN, UNDEF, UNDEF));
        assert_eq!(ids(&o), ["HANDOFF-Ownership-use-while-released"]);
        // A second release is a barrier other than the acquire, too.
        let o = w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, UNDEF));
        assert_eq!(ids(&o), ["HANDOFF-Ownership-use-while-released"]);
        // After the acquire, uses are fine.
        assert!(w
            .b(&at(1), &a, barrier(&a, EXT, 0, UNDEF, UNDEF))
            .findings
            .is_empty());
        assert!(w.u(&at(1), &a).findings.is_empty());
    }

    #[test]
    fn disjoint_ranges() {
        let a = image(0xa);
        let mut w = World::new();
        let mut rel = barrier(&a, 0, EXT, GENERAL, GENERAL);
        rel.range = mips(0, 1);
        w.b(&at(1), &a, rel);
        // Another mip level is still ours.
        let mut t = barrier(&a, IGN, IGN, UNDEF, SRC);
        t.range = mips(1, 3);
        assert!(w.b(&at(1), &a, t).findings.is_empty());
        // The whole resource is not.
        assert_eq!(
            ids(&w.u(&at(1), &a)),
            ["HANDOFF-Ownership-use-while-released"]
        );
        let mut acq = barrier(&a, EXT, 0, GENERAL, GENERAL);
        acq.range = mips(0, 1);
        assert!(w.b(&at(1), &a, acq).findings.is_empty());
        assert!(w.u(&at(1), &a).findings.is_empty());
    }

    #[test]
    fn not_external_memory() {
        let mut a = buffer(0xa);
        a.external_memory = false;
        let mut w = World::new();
        let o = w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, UNDEF));
        assert_eq!(ids(&o), ["HANDOFF-Ownership-not-external-memory"]);
        assert_eq!(
            o.findings[0].objects[3],
            Object::new(vk::ObjectType::DEVICE_MEMORY, 0x3e3)
        );
        assert!(!o.released_external);
        // Acquiring from EXTERNAL is not this rule's business.
        let mut w = World::new();
        assert!(w
            .b(&at(1), &a, barrier(&a, EXT, 0, UNDEF, UNDEF))
            .findings
            .is_empty());
    }

    #[test]
    fn layout_not_general_by_peer() {
        let a = image(0xa);
        for (peer, dst, want) in [
            (Peer::Unknown, EXT, Some(Severity::Warning)),
            (Peer::OtherApi, EXT, Some(Severity::Error)),
            (Peer::Vulkan, EXT, None),
            (Peer::Vulkan, FOREIGN, Some(Severity::Error)),
            (Peer::Unknown, FOREIGN, Some(Severity::Error)),
        ] {
            let mut w = World::new();
            let s = Submit { peer, ..at(1) };
            let o = w.b(&s, &a, barrier(&a, 0, dst, UNDEF, SRC));
            assert_eq!(
                o.findings.first().map(|f| f.rule.severity),
                want,
                "{peer:?}"
            );
            if want.is_some() {
                assert_eq!(ids(&o), ["HANDOFF-Handoff-layout-not-general"]);
            }
            let mut w = World::new();
            assert!(w
                .b(&s, &a, barrier(&a, 0, dst, UNDEF, GENERAL))
                .findings
                .is_empty());
        }
    }

    #[test]
    fn d3d11_textures_need_general() {
        let mut a = image(0xa);
        a.d3d11_texture = true;
        let s = Submit {
            peer: Peer::Vulkan,
            ..at(1)
        };
        let mut w = World::new();
        let o = w.b(&s, &a, barrier(&a, 0, EXT, UNDEF, SRC));
        assert_eq!(
            ids(&o),
            ["VUID-VkImageMemoryBarrier2-dstQueueFamilyIndex-12331"]
        );
        let mut sync1 = barrier(&a, EXT, 0, SRC, GENERAL);
        sync1.command = "vkCmdPipelineBarrier";
        let o = w.b(&s, &a, sync1);
        assert_eq!(
            ids(&o),
            ["VUID-VkImageMemoryBarrier-srcQueueFamilyIndex-12332"]
        );
        let mut w = World::new();
        assert!(w
            .b(&s, &a, barrier(&a, 0, EXT, UNDEF, GENERAL))
            .findings
            .is_empty());
        assert!(w
            .b(&s, &a, barrier(&a, EXT, 0, UNDEF, GENERAL))
            .findings
            .is_empty());
        // One fact, one id: with peer = other-api the D3D11 id alone.
        let s = Submit {
            peer: Peer::OtherApi,
            ..at(1)
        };
        let mut w = World::new();
        assert_eq!(
            ids(&w.b(&s, &a, barrier(&a, 0, EXT, UNDEF, SRC))),
            ["VUID-VkImageMemoryBarrier2-dstQueueFamilyIndex-12331"]
        );
    }

    #[test]
    fn acquire_unmodified() {
        let (a, other) = (buffer(0xa), buffer(0xb));
        let mut claim = barrier(&a, EXT, 0, UNDEF, UNDEF);
        claim.acquire_unmodified = true;
        // Untouched since the release: fine.
        let mut w = World::new();
        w.u(&at(1), &a);
        w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, UNDEF));
        assert!(w.b(&at(1), &a, claim).findings.is_empty());
        // Another resource on the same memory used it meanwhile.
        let mut w = World::new();
        w.b(&at(1), &a, barrier(&a, 0, EXT, UNDEF, UNDEF));
        let mut other_state = ResourceState::default();
        apply_use(
            &at(1),
            &other,
            &use_op(&other),
            &mut other_state,
            &mut w.shared,
        );
        let o = w.b(&at(1), &a, claim);
        assert_eq!(
            ids(&o),
            ["VUID-VkExternalMemoryAcquireUnmodifiedEXT-acquireUnmodifiedMemory-08922"]
        );
        // Never released here: nothing to count from.
        let mut w = World::new();
        assert!(w.b(&at(1), &a, claim).findings.is_empty());
    }
}

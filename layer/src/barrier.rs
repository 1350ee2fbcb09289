//! Buffer and image memory barriers of `vkCmdPipelineBarrier(2)(KHR)` and
//! `vkCmdWaitEvents(2)(KHR)`: the record-time parameter rules of RULES-TARGET 1.11, 1.12 and
//! 1.18 (`handoff_rules::checks::barrier` and `::commands`), and the barriers the ownership
//! rules replay at submit (`RecordedOp::Barrier`).
//!
//! One pass over the barrier arrays. Each barrier costs one lookup of its resource (sharing
//! mode and whether it is external); the pool's family is read only for a transfer between
//! two different families. A barrier is recorded only when it names a special family or
//! its resource is external, so an app that shares nothing allocates nothing here.
//! Only a destroyed image (`liveness`) blocks the command; every other finding is reported
//! and the command is forwarded.

use crate::c_arrays::slice;
use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::pnext;
use crate::state::{commands as recorded, resources as tracked};
use ash::vk::{self, Handle};
use handoff_rules::checks::barrier::{self as rules, Barrier, Context, Kind};
use handoff_rules::checks::commands as cmd_rules;
use handoff_rules::checks::ownership::{BarrierOp, Range, RecordedOp, Resource};
use handoff_rules::Finding;
use smallvec::SmallVec;
use std::ffi::c_void;

/// The command that carries the barriers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Site {
    PipelineBarrier,
    PipelineBarrier2(&'static str),
    WaitEvents,
    WaitEvents2(&'static str),
}

impl Site {
    fn command(self) -> &'static str {
        match self {
            Site::PipelineBarrier => "vkCmdPipelineBarrier",
            Site::WaitEvents => "vkCmdWaitEvents",
            Site::PipelineBarrier2(c) | Site::WaitEvents2(c) => c,
        }
    }
}

/// A buffer or image barrier structure as the app passed it. The checks read it field by
/// field, so a barrier that leaves through the fast path is never copied, and [`Pass::one`]
/// is compiled once per structure, with the structure's rules known.
trait AppBarrier {
    const KIND: Kind;
    fn families(&self) -> (u32, u32);
    fn resource(&self) -> Resource;
    /// HOST in the stage masks: the barrier's own (sync2), or the command's (sync1).
    fn host(&self, command_host: bool) -> bool;
    fn range(&self) -> Range;
    /// `UNDEFINED` twice for a buffer.
    fn layouts(&self) -> (vk::ImageLayout, vk::ImageLayout);
    fn p_next(&self) -> *const c_void;
}

impl AppBarrier for vk::BufferMemoryBarrier<'_> {
    const KIND: Kind = Kind::Buffer;
    fn families(&self) -> (u32, u32) {
        (self.src_queue_family_index, self.dst_queue_family_index)
    }
    fn resource(&self) -> Resource {
        Resource::Buffer(self.buffer.as_raw())
    }
    fn host(&self, command_host: bool) -> bool {
        command_host
    }
    fn range(&self) -> Range {
        Range::Buffer {
            offset: self.offset,
            size: self.size,
        }
    }
    fn layouts(&self) -> (vk::ImageLayout, vk::ImageLayout) {
        (vk::ImageLayout::UNDEFINED, vk::ImageLayout::UNDEFINED)
    }
    fn p_next(&self) -> *const c_void {
        self.p_next
    }
}

impl AppBarrier for vk::ImageMemoryBarrier<'_> {
    const KIND: Kind = Kind::Image;
    fn families(&self) -> (u32, u32) {
        (self.src_queue_family_index, self.dst_queue_family_index)
    }
    fn resource(&self) -> Resource {
        Resource::Image(self.image.as_raw())
    }
    fn host(&self, command_host: bool) -> bool {
        command_host
    }
    fn range(&self) -> Range {
        Range::Image(self.subresource_range.into())
    }
    fn layouts(&self) -> (vk::ImageLayout, vk::ImageLayout) {
        (self.old_layout, self.new_layout)
    }
    fn p_next(&self) -> *const c_void {
        self.p_next
    }
}

impl AppBarrier for vk::BufferMemoryBarrier2<'_> {
    const KIND: Kind = Kind::Buffer2;
    fn families(&self) -> (u32, u32) {
        (self.src_queue_family_index, self.dst_queue_family_index)
    }
    fn resource(&self) -> Resource {
        Resource::Buffer(self.buffer.as_raw())
    }
    fn host(&self, _: bool) -> bool {
        host2(self.src_stage_mask, self.dst_stage_mask)
    }
    fn range(&self) -> Range {
        Range::Buffer {
            offset: self.offset,
            size: self.size,
        }
    }
    fn layouts(&self) -> (vk::ImageLayout, vk::ImageLayout) {
        (vk::ImageLayout::UNDEFINED, vk::ImageLayout::UNDEFINED)
    }
    fn p_next(&self) -> *const c_void {
        self.p_next
    }
}

impl AppBarrier for vk::ImageMemoryBarrier2<'_> {
    const KIND: Kind = Kind::Image2;
    fn families(&self) -> (u32, u32) {
        (self.src_queue_family_index, self.dst_queue_family_index)
    }
    fn resource(&self) -> Resource {
        Resource::Image(self.image.as_raw())
    }
    fn host(&self, _: bool) -> bool {
        host2(self.src_stage_mask, self.dst_stage_mask)
    }
    fn range(&self) -> Range {
        Range::Image(self.subresource_range.into())
    }
    fn layouts(&self) -> (vk::ImageLayout, vk::ImageLayout) {
        (self.old_layout, self.new_layout)
    }
    fn p_next(&self) -> *const c_void {
        self.p_next
    }
}

fn host2(s: vk::PipelineStageFlags2, d: vk::PipelineStageFlags2) -> bool {
    (s | d).contains(vk::PipelineStageFlags2::HOST)
}

fn context(data: &DeviceData, command_buffer: vk::CommandBuffer, command: &'static str) -> Context {
    Context {
        device: data.handle.as_raw(),
        command_buffer: command_buffer.as_raw(),
        command,
        external_enabled: data.api_version >= vk::API_VERSION_1_1 || data.enabled.external_memory,
        foreign_enabled: data.enabled.queue_family_foreign,
        queue_family_count: data.queue_family_count,
    }
}

/// `VkExternalMemoryAcquireUnmodifiedEXT::acquireUnmodifiedMemory` in a barrier's chain,
/// and whether the chain could be walked to its end.
///
/// # Safety
/// `p_next` is the chain of a valid barrier structure.
unsafe fn acquire_unmodified(p_next: *const c_void) -> (bool, Result<(), pnext::Malformed>) {
    if p_next.is_null() {
        return (false, Ok(()));
    }
    // SAFETY: a valid chain per the caller; the type matches the sType searched for.
    let (found, walked) = unsafe {
        pnext::find::<vk::ExternalMemoryAcquireUnmodifiedEXT<'_>>(
            p_next,
            vk::StructureType::EXTERNAL_MEMORY_ACQUIRE_UNMODIFIED_EXT,
        )
    };
    // SAFETY: found in a valid chain.
    let unmodified = found.is_some_and(|p| unsafe { (*p).acquire_unmodified_memory } == vk::TRUE);
    (unmodified, walked)
}

/// The sharing mode and externality of the resources this thread's barriers named last: a
/// release and its acquire name the same few external images again and again, and a
/// lookup in the state map costs about four times a hit here.
///
/// Only resources counted by the filter (external or CONCURRENT) are kept: each leaves the
/// state map with a `filter::remove`, which moves `filter::removals` on, and a record
/// replaced or bound in place moves `ownership::changes` on. An entry is used only while
/// both counts are those read before its lookup, so a hit answers what the map would.
mod facts {
    use crate::state::{filter, ownership, resources as tracked};
    use ash::vk::{self, Handle};
    use handoff_rules::checks::ownership::Resource;
    use std::cell::Cell;

    /// Two ways of 128 sets: the few dozen images of a frame rarely find a set full.
    const SLOTS: usize = 256;

    #[derive(Clone, Copy)]
    struct Fact {
        /// Null for an empty slot (no device is null).
        device: u64,
        handle: u64,
        /// `filter::removals() + ownership::changes()` when it was looked up: both only
        /// grow, so the sum moves whenever either does.
        stamp: u64,
        sharing: vk::SharingMode,
        image: bool,
        external: bool,
    }

    const EMPTY: Fact = Fact {
        device: 0,
        handle: 0,
        stamp: 0,
        sharing: vk::SharingMode::EXCLUSIVE,
        image: false,
        external: false,
    };

    thread_local! {
        static FACTS: [Cell<Fact>; SLOTS] = const { [const { Cell::new(EMPTY) }; SLOTS] };
    }

    /// [`tracked::sharing_and_external`], answered from this thread's recent lookups when
    /// they are still current.
    #[inline(always)]
    pub fn sharing_and_external(
        device: vk::Device,
        resource: Resource,
    ) -> Option<(vk::SharingMode, bool)> {
        // `changes` first: it marks the counts as read before anything is looked up.
        let changes = ownership::changes();
        let stamp = filter::removals().wrapping_add(changes);
        let (handle, image) = match resource {
            Resource::Buffer(h) => (h, false),
            Resource::Image(h) => (h, true),
        };
        let dev = device.as_raw();
        // Handles are counters or pointers with a fixed stride: mixed (the first half of
        // MurmurHash3's finalizer) so that a stride does not fold onto a few slots.
        let mixed = (handle ^ (handle >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let i = (((mixed ^ (mixed >> 33)) as usize) % SLOTS) & !1;
        let hit = |f: Fact| {
            (f.device == dev && f.handle == handle && f.stamp == stamp && f.image == image)
                .then_some((f.sharing, f.external))
        };
        let (first, second) = FACTS.with(|facts| (facts[i].get(), facts[i + 1].get()));
        if let Some(found) = hit(first).or_else(|| hit(second)) {
            return Some(found);
        }
        miss(device, resource, i, stamp)
    }

    #[inline(never)]
    fn miss(
        device: vk::Device,
        resource: Resource,
        i: usize,
        stamp: u64,
    ) -> Option<(vk::SharingMode, bool)> {
        let found = tracked::sharing_and_external(device, resource);
        if let Some((sharing, external)) = found {
            if external || sharing == vk::SharingMode::CONCURRENT {
                let (handle, image) = match resource {
                    Resource::Buffer(h) => (h, false),
                    Resource::Image(h) => (h, true),
                };
                let fact = Fact {
                    device: device.as_raw(),
                    handle,
                    stamp,
                    sharing,
                    image,
                    external,
                };
                // The way whose entry is stale, or else the second.
                FACTS.with(|facts| {
                    let f = facts[i].get();
                    let way = if f.device != 0 && f.stamp == stamp {
                        i + 1
                    } else {
                        i
                    };
                    facts[way].set(fact)
                });
            }
        }
        found
    }
}

/// The structure a barrier of `kind` is, as a finding names it.
fn struct_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Buffer => "VkBufferMemoryBarrier",
        Kind::Buffer2 => "VkBufferMemoryBarrier2",
        Kind::Image => "VkImageMemoryBarrier",
        Kind::Image2 => "VkImageMemoryBarrier2",
    }
}

/// What one call's barriers found and recorded.
struct Pass<'a> {
    data: &'a DeviceData,
    command_buffer: vk::CommandBuffer,
    /// The command's name, and which of its rules apply, decided once per call.
    command: &'static str,
    pipeline: bool,
    wait_events: bool,
    ctx: Option<Context>,
    /// The pool's family, read once and only for a transfer.
    pool_family: Option<Option<u32>>,
    findings: Vec<Finding>,
    /// A call rarely records more than a few transfers: they stay on the stack, and being
    /// `Copy` they cost no drop and move into the command buffer's list in one pass.
    ops: SmallVec<[BarrierOp; 8]>,
}

/// What the fast path needs of the device, copied out once per call so that the loop over
/// plain barriers keeps it in registers across the calls into [`Pass::one`].
#[derive(Clone, Copy)]
struct Skip {
    device: vk::Device,
    synchronization2: bool,
}

impl Skip {
    /// The fast path, decided before anything is copied out of the app's struct: no
    /// transfer, no special family, and a resource the filter knows to be EXCLUSIVE and not
    /// external. No rule applies to such a barrier and nothing is recorded.
    #[inline(always)]
    fn skips(self, kind: Kind, src: u32, dst: u32, handle: u64) -> bool {
        // Both IGNORED (all bits set) is the common plain barrier: one compare answers the
        // three family conditions below.
        let plain_families = src & dst == vk::QUEUE_FAMILY_IGNORED
            || (src == dst
                && !rules::is_special(src)
                && !cmd_rules::needs_sync1_concurrent_check(kind, self.synchronization2, src, dst));
        plain_families && !tracked::maybe_interesting(self.device, handle)
    }
}

impl<'a> Pass<'a> {
    fn new(data: &'a DeviceData, command_buffer: vk::CommandBuffer, site: Site) -> Self {
        Pass {
            data,
            command_buffer,
            command: site.command(),
            pipeline: matches!(site, Site::PipelineBarrier | Site::PipelineBarrier2(_)),
            wait_events: site == Site::WaitEvents,
            ctx: None,
            pool_family: None,
            findings: Vec::new(),
            ops: SmallVec::new(),
        }
    }

    fn skip(&self) -> Skip {
        Skip {
            device: self.data.handle,
            synchronization2: self.data.synchronization2_feature,
        }
    }

    /// Every barrier of `barriers` that the fast path does not let through.
    fn all<B: AppBarrier>(&mut self, barriers: &[B], command_host: bool) {
        let skip = self.skip();
        for (i, b) in barriers.iter().enumerate() {
            let (src, dst) = b.families();
            if !skip.skips(B::KIND, src, dst, b.resource().raw()) {
                self.one(i, b, command_host);
            }
        }
    }

    /// Out of line, so that the loop over plain barriers in [`Pass::all`] keeps its
    /// registers.
    #[inline(never)]
    fn one<B: AppBarrier>(&mut self, index: usize, barrier: &B, command_host: bool) {
        let data = self.data;
        let (src, dst) = barrier.families();
        let resource = barrier.resource();
        let host = barrier.host(command_host);
        let found = facts::sharing_and_external(data.handle, resource);
        if let Some((vk::SharingMode::EXCLUSIVE, _)) = found {
            if !host && self.quiet_transfer(src, dst) {
                self.record(index, barrier, src, dst);
                return;
            }
        }
        let (sharing, external) = match found {
            Some((s, e)) => (Some(s), e),
            None => {
                // liveness (helper B): an image missing from the lookup above may be one
                // the app destroyed.
                if let Resource::Image(image) = resource {
                    let (cb, command) = (self.command_buffer, self.command);
                    let at = (B::KIND == Kind::Image2, index, image);
                    let dead = crate::liveness::barrier_image(data, cb, command, at, (src, dst));
                    self.findings.extend(dead);
                }
                (None, false)
            }
        };
        let sync1_concurrent = sharing == Some(vk::SharingMode::CONCURRENT)
            && cmd_rules::needs_sync1_concurrent_check(
                B::KIND,
                data.synchronization2_feature,
                src,
                dst,
            );
        let needs_check = rules::needs_check(src, dst, host, data.queue_family_count);
        if needs_check || src != dst || sync1_concurrent {
            let b = Barrier {
                kind: B::KIND,
                index,
                resource: resource.raw(),
                src,
                dst,
                host_stage: host,
                sharing,
            };
            self.check(&b, needs_check, sync1_concurrent);
        }
        if cmd_rules::records_barrier(src, dst, external) {
            self.record(index, barrier, src, dst);
        }
    }

    /// Whether an EXCLUSIVE barrier without a HOST stage is a transfer that no rule of
    /// [`Pass::check`] can fault, with nothing to look up but the pool's family: one side a
    /// family of the device, the other `EXTERNAL` or `FOREIGN` with its extension enabled,
    /// the pool's family named (`vkCmdPipelineBarrier(2)` only; the wait-events rules take
    /// the general path). Every release to and acquire from another API has this shape.
    /// Such a barrier is always recorded.
    #[inline(always)]
    fn quiet_transfer(&mut self, src: u32, dst: u32) -> bool {
        let data = self.data;
        let (special, device_family) = if rules::is_special(dst) {
            (dst, src)
        } else if rules::is_special(src) {
            (src, dst)
        } else {
            return false;
        };
        let enabled = if special == vk::QUEUE_FAMILY_EXTERNAL {
            data.api_version >= vk::API_VERSION_1_1 || data.enabled.external_memory
        } else {
            data.enabled.queue_family_foreign
        };
        if !(self.pipeline && enabled && device_family < data.queue_family_count) {
            return false;
        }
        let cb = self.command_buffer;
        let family = *self
            .pool_family
            .get_or_insert_with(|| recorded::family_memo(data.handle, cb));
        family.is_none_or(|f| f == device_family)
    }

    /// Keeps a barrier for the ownership rules (see `RecordedOp::Barrier`).
    #[inline(always)]
    fn record<B: AppBarrier>(&mut self, index: usize, barrier: &B, src: u32, dst: u32) {
        // SAFETY: the barrier's own chain, valid per the caller of the command.
        let (unmodified, walked) = unsafe { acquire_unmodified(barrier.p_next()) };
        if let Err(m) = walked {
            self.findings.push(crate::instance::chain_malformed(
                struct_name(B::KIND),
                m,
                vec![handoff_rules::Object::new(
                    vk::ObjectType::COMMAND_BUFFER,
                    self.command_buffer.as_raw(),
                )],
            ));
        }
        let (old_layout, new_layout) = barrier.layouts();
        self.ops.push(BarrierOp {
            resource: barrier.resource(),
            range: barrier.range(),
            src,
            dst,
            old_layout,
            new_layout,
            acquire_unmodified: unmodified,
            command: self.command,
            index: index as u32,
        });
    }

    /// The record-time rules of a barrier that names a family or a CONCURRENT resource.
    #[inline(always)]
    fn check(&mut self, b: &Barrier, needs_check: bool, sync1_concurrent: bool) {
        let data = self.data;
        let (cb, command) = (self.command_buffer, self.command);
        let ctx = self.ctx.get_or_insert_with(|| context(data, cb, command));
        if needs_check {
            rules::check_into(ctx, b, &mut self.findings);
        }
        if self.pipeline && b.src != b.dst {
            let family = *self
                .pool_family
                .get_or_insert_with(|| recorded::family_memo(data.handle, cb));
            if let Some(finding) = family.and_then(|f| cmd_rules::pool_family(ctx, b, f)) {
                self.findings.push(finding);
            }
        }
        if sync1_concurrent {
            self.findings.extend(cmd_rules::sync1_concurrent(
                ctx,
                b,
                data.synchronization2_feature,
            ));
        }
        if self.wait_events {
            self.findings
                .extend(cmd_rules::wait_events_transfer(ctx, b));
        }
    }

    /// True when the command must not be forwarded (liveness, helper B: a destroyed image;
    /// the other barrier findings never block).
    fn finish(&mut self) -> bool {
        let mut blocked = false;
        if !self.findings.is_empty() {
            let findings = std::mem::take(&mut self.findings);
            let verdict = self.data.reporter.report_all(findings);
            blocked = verdict.undefined && !self.data.reporter.settings.forward_invalid_calls;
        }
        if !blocked && !self.ops.is_empty() {
            let ops = self.ops.iter().map(|&b| RecordedOp::Barrier(b));
            recorded::push_ops(self.data.handle, self.command_buffer, ops);
        }
        blocked
    }
}

/// The sync1 arrays of `vkCmdPipelineBarrier` / `vkCmdWaitEvents`.
///
/// # Safety
/// The arrays are null or valid for their counts.
unsafe fn sync1(
    pass: &mut Pass<'_>,
    host: bool,
    buffer_count: u32,
    p_buffers: *const vk::BufferMemoryBarrier<'_>,
    image_count: u32,
    p_images: *const vk::ImageMemoryBarrier<'_>,
) {
    // SAFETY: valid arrays per the caller, or null.
    pass.all(unsafe { slice(p_buffers, buffer_count) }, host);
    // SAFETY: valid arrays per the caller, or null.
    pass.all(unsafe { slice(p_images, image_count) }, host);
}

/// The arrays of one `VkDependencyInfo`.
///
/// # Safety
/// `info` is a valid dependency info: its arrays are null or valid for their counts.
unsafe fn sync2(pass: &mut Pass<'_>, info: &vk::DependencyInfo<'_>) {
    // SAFETY: valid arrays per the caller, or null.
    let buffers = unsafe {
        slice(
            info.p_buffer_memory_barriers,
            info.buffer_memory_barrier_count,
        )
    };
    pass.all(buffers, false);
    // SAFETY: as above.
    let images = unsafe {
        slice(
            info.p_image_memory_barriers,
            info.image_memory_barrier_count,
        )
    };
    pass.all(images, false);
}

/// Whether a KHR-named or pre-1.3 call goes to the KHR entry point of the next layer.
fn use_khr(data: &DeviceData, khr: bool) -> bool {
    data.enabled.synchronization2 && (khr || data.api_version < vk::API_VERSION_1_3)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "system" fn cmd_pipeline_barrier(
    command_buffer: vk::CommandBuffer,
    src_stage_mask: vk::PipelineStageFlags,
    dst_stage_mask: vk::PipelineStageFlags,
    dependency_flags: vk::DependencyFlags,
    memory_barrier_count: u32,
    p_memory_barriers: *const vk::MemoryBarrier<'_>,
    buffer_memory_barrier_count: u32,
    p_buffer_memory_barriers: *const vk::BufferMemoryBarrier<'_>,
    image_memory_barrier_count: u32,
    p_image_memory_barriers: *const vk::ImageMemoryBarrier<'_>,
) {
    guarded("vkCmdPipelineBarrier", (), || {
        // SAFETY: command buffers share their device's dispatch pointer.
        let Some(data) = dispatch::device(unsafe { dispatch::key(command_buffer) }) else {
            return;
        };
        let host = (src_stage_mask | dst_stage_mask).contains(vk::PipelineStageFlags::HOST);
        let mut pass = Pass::new(&data, command_buffer, Site::PipelineBarrier);
        // SAFETY: the app's arrays.
        unsafe {
            sync1(
                &mut pass,
                host,
                buffer_memory_barrier_count,
                p_buffer_memory_barriers,
                image_memory_barrier_count,
                p_image_memory_barriers,
            )
        };
        if pass.finish() {
            return; // liveness (helper B)
        }
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_pipeline_barrier)(
                command_buffer,
                src_stage_mask,
                dst_stage_mask,
                dependency_flags,
                memory_barrier_count,
                p_memory_barriers,
                buffer_memory_barrier_count,
                p_buffer_memory_barriers,
                image_memory_barrier_count,
                p_image_memory_barriers,
            )
        }
    })
}

fn pipeline_barrier2_common(
    khr: bool,
    command_buffer: vk::CommandBuffer,
    p_dependency_info: *const vk::DependencyInfo<'_>,
) {
    let command = if khr {
        "vkCmdPipelineBarrier2KHR"
    } else {
        "vkCmdPipelineBarrier2"
    };
    guarded(command, (), || {
        // SAFETY: command buffers share their device's dispatch pointer.
        let Some(data) = dispatch::device(unsafe { dispatch::key(command_buffer) }) else {
            return;
        };
        // SAFETY: a valid dependency info per the caller, or null.
        if let Some(info) = unsafe { p_dependency_info.as_ref() } {
            let mut pass = Pass::new(&data, command_buffer, Site::PipelineBarrier2(command));
            // SAFETY: the app's dependency info.
            unsafe { sync2(&mut pass, info) };
            if pass.finish() {
                return; // liveness (helper B)
            }
        }
        let next = if use_khr(&data, khr) {
            data.synchronization2.cmd_pipeline_barrier2_khr
        } else {
            data.fns.fp_v1_3().cmd_pipeline_barrier2
        };
        // SAFETY: forwarding the app's arguments.
        unsafe { next(command_buffer, p_dependency_info) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_pipeline_barrier2(
    command_buffer: vk::CommandBuffer,
    p_dependency_info: *const vk::DependencyInfo<'_>,
) {
    pipeline_barrier2_common(false, command_buffer, p_dependency_info)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_pipeline_barrier2_khr(
    command_buffer: vk::CommandBuffer,
    p_dependency_info: *const vk::DependencyInfo<'_>,
) {
    pipeline_barrier2_common(true, command_buffer, p_dependency_info)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "system" fn cmd_wait_events(
    command_buffer: vk::CommandBuffer,
    event_count: u32,
    p_events: *const vk::Event,
    src_stage_mask: vk::PipelineStageFlags,
    dst_stage_mask: vk::PipelineStageFlags,
    memory_barrier_count: u32,
    p_memory_barriers: *const vk::MemoryBarrier<'_>,
    buffer_memory_barrier_count: u32,
    p_buffer_memory_barriers: *const vk::BufferMemoryBarrier<'_>,
    image_memory_barrier_count: u32,
    p_image_memory_barriers: *const vk::ImageMemoryBarrier<'_>,
) {
    guarded("vkCmdWaitEvents", (), || {
        // SAFETY: command buffers share their device's dispatch pointer.
        let Some(data) = dispatch::device(unsafe { dispatch::key(command_buffer) }) else {
            return;
        };
        let mut pass = Pass::new(&data, command_buffer, Site::WaitEvents);
        // The HOST-stage rules (09633/09634) are vkCmdPipelineBarrier's; a transfer here is
        // already 02803.
        // SAFETY: the app's arrays.
        unsafe {
            sync1(
                &mut pass,
                false,
                buffer_memory_barrier_count,
                p_buffer_memory_barriers,
                image_memory_barrier_count,
                p_image_memory_barriers,
            )
        };
        if pass.finish() {
            return; // liveness (helper B)
        }
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_wait_events)(
                command_buffer,
                event_count,
                p_events,
                src_stage_mask,
                dst_stage_mask,
                memory_barrier_count,
                p_memory_barriers,
                buffer_memory_barrier_count,
                p_buffer_memory_barriers,
                image_memory_barrier_count,
                p_image_memory_barriers,
            )
        }
    })
}

fn wait_events2_common(
    khr: bool,
    command_buffer: vk::CommandBuffer,
    event_count: u32,
    p_events: *const vk::Event,
    p_dependency_infos: *const vk::DependencyInfo<'_>,
) {
    let command = if khr {
        "vkCmdWaitEvents2KHR"
    } else {
        "vkCmdWaitEvents2"
    };
    guarded(command, (), || {
        // SAFETY: command buffers share their device's dispatch pointer.
        let Some(data) = dispatch::device(unsafe { dispatch::key(command_buffer) }) else {
            return;
        };
        let mut pass = Pass::new(&data, command_buffer, Site::WaitEvents2(command));
        // SAFETY: `eventCount` dependency infos per the caller, or null.
        for info in unsafe { slice(p_dependency_infos, event_count) } {
            // SAFETY: the app's dependency info.
            unsafe { sync2(&mut pass, info) };
        }
        if pass.finish() {
            return; // liveness (helper B)
        }
        let next = if use_khr(&data, khr) {
            data.synchronization2.cmd_wait_events2_khr
        } else {
            data.fns.fp_v1_3().cmd_wait_events2
        };
        // SAFETY: forwarding the app's arguments.
        unsafe { next(command_buffer, event_count, p_events, p_dependency_infos) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_wait_events2(
    command_buffer: vk::CommandBuffer,
    event_count: u32,
    p_events: *const vk::Event,
    p_dependency_infos: *const vk::DependencyInfo<'_>,
) {
    wait_events2_common(
        false,
        command_buffer,
        event_count,
        p_events,
        p_dependency_infos,
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_wait_events2_khr(
    command_buffer: vk::CommandBuffer,
    event_count: u32,
    p_events: *const vk::Event,
    p_dependency_infos: *const vk::DependencyInfo<'_>,
) {
    wait_events2_common(
        true,
        command_buffer,
        event_count,
        p_events,
        p_dependency_infos,
    )
}

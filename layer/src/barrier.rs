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

/// One buffer or image barrier, whatever structure it came in.
struct Raw {
    kind: Kind,
    index: usize,
    resource: Resource,
    src: u32,
    dst: u32,
    host: bool,
    range: Range,
    old_layout: vk::ImageLayout,
    new_layout: vk::ImageLayout,
    p_next: *const c_void,
}

impl Raw {
    fn buffer1(index: usize, b: &vk::BufferMemoryBarrier<'_>, host: bool) -> Self {
        Raw {
            kind: Kind::Buffer,
            index,
            resource: Resource::Buffer(b.buffer.as_raw()),
            src: b.src_queue_family_index,
            dst: b.dst_queue_family_index,
            host,
            range: Range::Buffer {
                offset: b.offset,
                size: b.size,
            },
            old_layout: vk::ImageLayout::UNDEFINED,
            new_layout: vk::ImageLayout::UNDEFINED,
            p_next: b.p_next,
        }
    }

    fn image1(index: usize, b: &vk::ImageMemoryBarrier<'_>, host: bool) -> Self {
        Raw {
            kind: Kind::Image,
            index,
            resource: Resource::Image(b.image.as_raw()),
            src: b.src_queue_family_index,
            dst: b.dst_queue_family_index,
            host,
            range: Range::Image(b.subresource_range.into()),
            old_layout: b.old_layout,
            new_layout: b.new_layout,
            p_next: b.p_next,
        }
    }

    fn buffer2(index: usize, b: &vk::BufferMemoryBarrier2<'_>) -> Self {
        Raw {
            kind: Kind::Buffer2,
            index,
            resource: Resource::Buffer(b.buffer.as_raw()),
            src: b.src_queue_family_index,
            dst: b.dst_queue_family_index,
            host: host2(b.src_stage_mask, b.dst_stage_mask),
            range: Range::Buffer {
                offset: b.offset,
                size: b.size,
            },
            old_layout: vk::ImageLayout::UNDEFINED,
            new_layout: vk::ImageLayout::UNDEFINED,
            p_next: b.p_next,
        }
    }

    fn image2(index: usize, b: &vk::ImageMemoryBarrier2<'_>) -> Self {
        Raw {
            kind: Kind::Image2,
            index,
            resource: Resource::Image(b.image.as_raw()),
            src: b.src_queue_family_index,
            dst: b.dst_queue_family_index,
            host: host2(b.src_stage_mask, b.dst_stage_mask),
            range: Range::Image(b.subresource_range.into()),
            old_layout: b.old_layout,
            new_layout: b.new_layout,
            p_next: b.p_next,
        }
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
    site: Site,
    ctx: Option<Context>,
    /// The pool's family, read once and only for a transfer.
    pool_family: Option<Option<u32>>,
    findings: Vec<Finding>,
    /// A call rarely records more than a few transfers: they stay on the stack.
    ops: SmallVec<[RecordedOp; 8]>,
}

impl<'a> Pass<'a> {
    fn new(data: &'a DeviceData, command_buffer: vk::CommandBuffer, site: Site) -> Self {
        Pass {
            data,
            command_buffer,
            site,
            ctx: None,
            pool_family: None,
            findings: Vec::new(),
            ops: SmallVec::new(),
        }
    }

    /// The fast path, decided before anything is copied out of the app's struct: no
    /// transfer, no special family, and a resource the filter knows to be EXCLUSIVE and not
    /// external. No rule applies to such a barrier and nothing is recorded.
    fn skips(&self, kind: Kind, src: u32, dst: u32, handle: u64) -> bool {
        src == dst
            && !rules::is_special(src)
            && !cmd_rules::needs_sync1_concurrent_check(
                kind,
                self.data.synchronization2_feature,
                src,
                dst,
            )
            && !tracked::maybe_interesting(self.data.handle, handle)
    }

    fn one(&mut self, raw: Raw) {
        let data = self.data;
        let device = data.handle;
        let (src, dst) = (raw.src, raw.dst);
        let sync1_names_families = cmd_rules::needs_sync1_concurrent_check(
            raw.kind,
            data.synchronization2_feature,
            src,
            dst,
        );
        let (sharing, external) = match tracked::sharing_and_external(device, raw.resource) {
            Some((s, e)) => (Some(s), e),
            None => {
                // liveness (helper B): an image missing from the lookup above may be one
                // the app destroyed.
                if let Resource::Image(image) = raw.resource {
                    let (cb, command) = (self.command_buffer, self.site.command());
                    let at = (raw.kind == Kind::Image2, raw.index, image);
                    let dead = crate::liveness::barrier_image(data, cb, command, at, (src, dst));
                    self.findings.extend(dead);
                }
                (None, false)
            }
        };
        let pipeline = matches!(self.site, Site::PipelineBarrier | Site::PipelineBarrier2(_));
        let sync1_concurrent = sync1_names_families && sharing == Some(vk::SharingMode::CONCURRENT);
        let checked = rules::needs_check(src, dst, raw.host, data.queue_family_count)
            || src != dst
            || sync1_concurrent;
        if checked {
            let (cb, command) = (self.command_buffer, self.site.command());
            let ctx = *self.ctx.get_or_insert_with(|| context(data, cb, command));
            let b = Barrier {
                kind: raw.kind,
                index: raw.index,
                resource: raw.resource.raw(),
                src,
                dst,
                host_stage: raw.host,
                sharing,
            };
            if rules::needs_check(src, dst, raw.host, data.queue_family_count) {
                self.findings.extend(rules::check(&ctx, &b));
            }
            if pipeline && src != dst {
                let family = *self
                    .pool_family
                    .get_or_insert_with(|| recorded::family(device, cb));
                if let Some(f) = family {
                    self.findings.extend(cmd_rules::pool_family(&ctx, &b, f));
                }
            }
            if sync1_concurrent {
                self.findings.extend(cmd_rules::sync1_concurrent(
                    &ctx,
                    &b,
                    data.synchronization2_feature,
                ));
            }
            if self.site == Site::WaitEvents {
                self.findings
                    .extend(cmd_rules::wait_events_transfer(&ctx, &b));
            }
        }
        if cmd_rules::records_barrier(src, dst, external) {
            // SAFETY: the barrier's own chain, valid per the caller of the command.
            let (unmodified, walked) = unsafe { acquire_unmodified(raw.p_next) };
            if let Err(m) = walked {
                self.findings.push(crate::instance::chain_malformed(
                    struct_name(raw.kind),
                    m,
                    vec![handoff_rules::Object::new(
                        vk::ObjectType::COMMAND_BUFFER,
                        self.command_buffer.as_raw(),
                    )],
                ));
            }
            self.ops.push(RecordedOp::Barrier(BarrierOp {
                resource: raw.resource,
                range: raw.range,
                src,
                dst,
                old_layout: raw.old_layout,
                new_layout: raw.new_layout,
                acquire_unmodified: unmodified,
                command: self.site.command(),
                index: raw.index as u32,
            }));
        }
    }

    /// True when the command must not be forwarded (liveness, helper B: a destroyed image;
    /// the other barrier findings never block).
    fn finish(self) -> bool {
        let mut blocked = false;
        if !self.findings.is_empty() {
            let verdict = self.data.reporter.report_all(self.findings);
            blocked = verdict.undefined && !self.data.reporter.settings.forward_invalid_calls;
        }
        if !blocked && !self.ops.is_empty() {
            recorded::push_ops(self.data.handle, self.command_buffer, self.ops);
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
    for (i, b) in unsafe { slice(p_buffers, buffer_count) }.iter().enumerate() {
        let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
        if !pass.skips(Kind::Buffer, s, d, b.buffer.as_raw()) {
            pass.one(Raw::buffer1(i, b, host));
        }
    }
    // SAFETY: valid arrays per the caller, or null.
    for (i, b) in unsafe { slice(p_images, image_count) }.iter().enumerate() {
        let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
        if !pass.skips(Kind::Image, s, d, b.image.as_raw()) {
            pass.one(Raw::image1(i, b, host));
        }
    }
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
    for (i, b) in buffers.iter().enumerate() {
        let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
        if !pass.skips(Kind::Buffer2, s, d, b.buffer.as_raw()) {
            pass.one(Raw::buffer2(i, b));
        }
    }
    // SAFETY: as above.
    let images = unsafe {
        slice(
            info.p_image_memory_barriers,
            info.image_memory_barrier_count,
        )
    };
    for (i, b) in images.iter().enumerate() {
        let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
        if !pass.skips(Kind::Image2, s, d, b.image.as_raw()) {
            pass.one(Raw::image2(i, b));
        }
    }
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

//! Queue family ownership transfers recorded with `vkCmdPipelineBarrier` and
//! `vkCmdPipelineBarrier2(KHR)`: the parameter rules of RULES-TARGET 1.11, 1.12 and 1.18.
//!
//! One pass over the buffer and image barrier arrays with a pre-filter that needs no lookup
//! and no allocation: only a barrier that names a special family, an index outside the
//! device's families, or a transfer with the HOST stage is looked at further (and only then
//! is its resource's sharing mode read). Findings never block: the command is always
//! forwarded.

use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::state::resources as tracked;
use ash::vk::{self, Handle};
use handoff_rules::checks::barrier::{self as rules, Barrier, Context, Kind};
use handoff_rules::Finding;

/// # Safety
/// `p` is null or points to `count` valid elements.
unsafe fn slice<'a, T>(p: *const T, count: u32) -> &'a [T] {
    if p.is_null() || count == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `count` readable elements.
    unsafe { std::slice::from_raw_parts(p, count as usize) }
}

fn context(data: &DeviceData, command_buffer: vk::CommandBuffer, command: &'static str) -> Context {
    Context {
        device: data.handle.as_raw(),
        command_buffer: command_buffer.as_raw(),
        command,
        external_enabled: data.api_version >= vk::API_VERSION_1_1
            || data.has_extension(vk::KHR_EXTERNAL_MEMORY_NAME),
        foreign_enabled: data.has_extension(vk::EXT_QUEUE_FAMILY_FOREIGN_NAME),
        queue_family_count: data.queue_family_count,
    }
}

/// Checks one barrier that passed the pre-filter, appending to `out`.
#[allow(clippy::too_many_arguments)]
fn check_one(
    data: &DeviceData,
    ctx: &Context,
    kind: Kind,
    index: usize,
    resource: u64,
    src: u32,
    dst: u32,
    host_stage: bool,
    out: &mut Vec<Finding>,
) {
    let device = data.handle;
    // The sharing mode matters only for a transfer between different families.
    let sharing = if src != dst {
        match kind {
            Kind::Buffer | Kind::Buffer2 => {
                tracked::buffer(device, vk::Buffer::from_raw(resource)).map(|r| r.sharing_mode)
            }
            Kind::Image | Kind::Image2 => {
                tracked::image(device, vk::Image::from_raw(resource)).map(|r| r.sharing_mode)
            }
        }
    } else {
        None
    };
    out.extend(rules::check(
        ctx,
        &Barrier {
            kind,
            index,
            resource,
            src,
            dst,
            host_stage,
            sharing,
        },
    ));
}

fn report(data: &DeviceData, findings: Vec<Finding>) {
    if !findings.is_empty() {
        // Void command: findings are reported, never block.
        let _ = data.reporter.report_all(findings);
    }
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
        let count = data.queue_family_count;
        let mut findings = Vec::new();
        let mut ctx = None;
        // SAFETY: valid arrays per the caller, or null.
        let buffers = unsafe { slice(p_buffer_memory_barriers, buffer_memory_barrier_count) };
        for (i, b) in buffers.iter().enumerate() {
            let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
            if rules::needs_check(s, d, host, count) {
                let c = ctx
                    .get_or_insert_with(|| context(&data, command_buffer, "vkCmdPipelineBarrier"));
                let raw = b.buffer.as_raw();
                check_one(&data, c, Kind::Buffer, i, raw, s, d, host, &mut findings);
            }
        }
        // SAFETY: valid arrays per the caller, or null.
        let images = unsafe { slice(p_image_memory_barriers, image_memory_barrier_count) };
        for (i, b) in images.iter().enumerate() {
            let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
            if rules::needs_check(s, d, host, count) {
                let c = ctx
                    .get_or_insert_with(|| context(&data, command_buffer, "vkCmdPipelineBarrier"));
                let raw = b.image.as_raw();
                check_one(&data, c, Kind::Image, i, raw, s, d, host, &mut findings);
            }
        }
        report(&data, findings);
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
            let count = data.queue_family_count;
            let host = |s: vk::PipelineStageFlags2, d: vk::PipelineStageFlags2| {
                (s | d).contains(vk::PipelineStageFlags2::HOST)
            };
            let mut findings = Vec::new();
            let mut ctx = None;
            // SAFETY: valid arrays per the caller, or null.
            let buffers = unsafe {
                slice(
                    info.p_buffer_memory_barriers,
                    info.buffer_memory_barrier_count,
                )
            };
            for (i, b) in buffers.iter().enumerate() {
                let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
                let h = host(b.src_stage_mask, b.dst_stage_mask);
                if rules::needs_check(s, d, h, count) {
                    let c = ctx.get_or_insert_with(|| context(&data, command_buffer, command));
                    let raw = b.buffer.as_raw();
                    check_one(&data, c, Kind::Buffer2, i, raw, s, d, h, &mut findings);
                }
            }
            // SAFETY: valid arrays per the caller, or null.
            let images = unsafe {
                slice(
                    info.p_image_memory_barriers,
                    info.image_memory_barrier_count,
                )
            };
            for (i, b) in images.iter().enumerate() {
                let (s, d) = (b.src_queue_family_index, b.dst_queue_family_index);
                let h = host(b.src_stage_mask, b.dst_stage_mask);
                if rules::needs_check(s, d, h, count) {
                    let c = ctx.get_or_insert_with(|| context(&data, command_buffer, command));
                    let raw = b.image.as_raw();
                    check_one(&data, c, Kind::Image2, i, raw, s, d, h, &mut findings);
                }
            }
            report(&data, findings);
        }
        let sync2 = data.has_extension(vk::KHR_SYNCHRONIZATION2_NAME);
        let next = if sync2 && (khr || data.api_version < vk::API_VERSION_1_3) {
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

//! A device that enables no extension able to share a payload. Handoff hands the app the
//! next layer's commands for such a device (layer/src/entry.rs), so an app that shares nothing
//! pays nothing; `--share` enables `VK_KHR_external_memory_fd` for the twin that is tracked.
//!
//! Results: `in_layer`, the commands `vkGetDeviceProcAddr` resolved into Handoff's library;
//! `submit`, what the submit returned. `--release` records a release of a plain buffer to
//! `VK_QUEUE_FAMILY_EXTERNAL` before the submit.

use super::args::Args;
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::ScenarioResult;
use ash::vk;
use serde_json::json;
use std::ffi::{c_char, c_void, CStr};

/// The commands whose resolution the scenario reports.
const NAMES: [&CStr; 7] = [
    c"vkCreateBuffer",
    c"vkAllocateMemory",
    c"vkBindBufferMemory",
    c"vkCmdPipelineBarrier",
    c"vkQueueSubmit",
    c"vkFreeMemory",
    c"vkDestroyBuffer",
];

/// Whether `f` lies in Handoff's library.
fn in_handoff(f: vk::PFN_vkVoidFunction) -> bool {
    let Some(f) = f else { return false };
    // SAFETY: all-zero is a valid Dl_info (null pointers); dladdr fills it.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the address; `info` is a valid out pointer.
    if unsafe { libc::dladdr(f as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
        return false;
    }
    // SAFETY: dladdr returned a NUL-terminated file name.
    let file = unsafe { CStr::from_ptr(info.dli_fname) };
    file.to_string_lossy().contains(crate::harness::LAYER_LIB)
}

pub fn plain_device(a: &Args) -> ScenarioResult {
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let exts: Vec<*const c_char> = if a.flag("--share") {
        vec![ash::khr::external_memory_fd::NAME.as_ptr()]
    } else {
        Vec::new()
    };
    let device = ctx.device_with(&exts, false)?;
    let gdpa = ctx.instance.fp_v1_0().get_device_proc_addr;
    let in_layer: Vec<String> = NAMES
        .iter()
        // SAFETY: a live device and NUL-terminated names.
        .filter(|n| in_handoff(unsafe { gdpa(device.handle(), n.as_ptr()) }))
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let submit = run_once(&ctx, &device, a.flag("--release"));
    // SAFETY: every child of the device was destroyed by `run_once`, which waited for it.
    unsafe { device.destroy_device(None) };
    ctx.destroy();
    Ok(json!({ "in_layer": in_layer, "submit": result_json(submit?) }))
}

/// A plain buffer's life with one submit (a fill, and the release when asked) waited for.
fn vkr(what: &'static str) -> impl Fn(vk::Result) -> String {
    move |e| format!("{what}: {e:?}")
}

fn run_once(ctx: &Ctx, d: &ash::Device, release: bool) -> Result<vk::Result, String> {
    let bci = vk::BufferCreateInfo::default()
        .size(4096)
        .usage(vk::BufferUsageFlags::TRANSFER_DST);
    // SAFETY: valid device and create infos; every object made here is destroyed below,
    // after the fence shows the submit complete.
    unsafe {
        let buffer = d.create_buffer(&bci, None).map_err(vkr("vkCreateBuffer"))?;
        let req = d.get_buffer_memory_requirements(buffer);
        let ty = (0..32)
            .find(|i| req.memory_type_bits & (1 << i) != 0)
            .ok_or("no memory type")?;
        let ai = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(ty);
        let memory = d
            .allocate_memory(&ai, None)
            .map_err(vkr("vkAllocateMemory"))?;
        d.bind_buffer_memory(buffer, memory, 0)
            .map_err(vkr("vkBindBufferMemory"))?;
        let pci = vk::CommandPoolCreateInfo::default().queue_family_index(0);
        let pool = d
            .create_command_pool(&pci, None)
            .map_err(vkr("vkCreateCommandPool"))?;
        let cai = vk::CommandBufferAllocateInfo::default()
            .command_pool(pool)
            .command_buffer_count(1);
        let cb = d
            .allocate_command_buffers(&cai)
            .map_err(vkr("vkAllocateCommandBuffers"))?[0];
        d.begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default())
            .map_err(vkr("vkBeginCommandBuffer"))?;
        d.cmd_fill_buffer(cb, buffer, 0, vk::WHOLE_SIZE, 7);
        if release {
            let b = [vk::BufferMemoryBarrier::default()
                .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
                .src_queue_family_index(0)
                .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                .buffer(buffer)
                .size(vk::WHOLE_SIZE)];
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::BOTTOM_OF_PIPE,
                vk::DependencyFlags::empty(),
                &[],
                &b,
                &[],
            );
        }
        d.end_command_buffer(cb)
            .map_err(vkr("vkEndCommandBuffer"))?;
        let fence = d
            .create_fence(&vk::FenceCreateInfo::default(), None)
            .map_err(vkr("vkCreateFence"))?;
        let cbs = [cb];
        let si = [vk::SubmitInfo::default().command_buffers(&cbs)];
        let queue = d.get_device_queue(0, 0);
        let submit = match d.queue_submit(queue, &si, fence) {
            Ok(()) => vk::Result::SUCCESS,
            Err(e) => e,
        };
        if submit == vk::Result::SUCCESS {
            d.wait_for_fences(&[fence], true, u64::MAX)
                .map_err(vkr("vkWaitForFences"))?;
        }
        d.destroy_fence(fence, None);
        d.destroy_command_pool(pool, None);
        d.destroy_buffer(buffer, None);
        d.free_memory(memory, None);
        let _ = ctx;
        Ok(submit)
    }
}

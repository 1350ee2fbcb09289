//! `hostile-handles`: handles the layer never saw or already forgot, fds of the wrong kind,
//! absurd sizes (issue 7). One `--case` per run; every case reports the result codes of the
//! calls it made so the tests can tell "blocked by the layer" from "answered by the driver".
//!
//! Cases (`--case`):
//! - `sync-garbage --kind semaphore|fence --op get|import`: vkGet{Semaphore,Fence}FdKHR or
//!   vkImport{Semaphore,Fence}FdKHR on a handle value no one created (the import offers a
//!   fresh eventfd, which must still be open afterwards: a blocked import consumes nothing).
//! - `sync-import-fd --kind semaphore|fence --fd valid|eventfd|socket|memfd|memory|negative`:
//!   an OPAQUE_FD import of that fd into a live object (`valid`: the fd of an exported one).
//! - `alloc-huge --export none|opaque`: vkAllocateMemory with allocationSize = u64::MAX.
//! - `import-huge --size N`: OPAQUE_FD memory exported with 4096 bytes, imported with N.
//! - `other-device --memory own|other`: vkGetMemoryFdKHR on device B for exportable memory
//!   of device B (`own`) or of device A (`other`: a handle B never allocated).
//! - `freed-use --what W`: `bind-memory` (bind a live buffer to freed memory), `bind-buffer`
//!   (bind a destroyed buffer), `bind-image` (bind a destroyed image), `bind-image-memory`
//!   (bind a live image to freed memory), `free-memory` (free it twice, then export it),
//!   `destroy-buffer`, `destroy-image` (destroy twice), `barrier-image` (a queue-family
//!   release of a destroyed external image, then submit: the submit's result is `submit`),
//!   `submit-cb` (submit a command buffer after freeing it), `submit-pool` (after destroying
//!   its pool), `recreate-image` (destroy an image, create another, which may get the same
//!   handle value, and use it: valid), `unknown-image` (destroy, bind and release to EXTERNAL an image handle no
//!   one created, as a swapchain image looks to the layer: mock ICD only); `--bind2`: the binds through vkBindBufferMemory2 / vkBindImageMemory2,
//!   `--used-before`: `barrier-image` records a release of the live image first,
//!   `--sync2`: the barrier and the submit through vkCmdPipelineBarrier2KHR /
//!   vkQueueSubmit2KHR; with `--live` the same calls on live objects (the valid twin). The
//!   freed handle reaches the driver only if the layer lets it through
//!   (`forward_invalid_calls`): run that on the mock ICD only, which looks handles up.

use std::os::fd::RawFd;

use ash::vk;
use ash::vk::Handle;
use serde_json::{json, Value};

use super::args::Args;
use super::ctx::{external_buffer, external_image, result_json, Ctx, InstanceOpts};
use super::ScenarioResult;

/// A handle value no driver of the test suite hands out (the mock counts up from small
/// numbers, lavapipe returns heap addresses, which are never this far up and odd).
const GARBAGE: u64 = 0x00ba_d0ba_d0ba_d001;

struct Device {
    device: ash::Device,
    queue: vk::Queue,
    memory_fd: ash::khr::external_memory_fd::Device,
    semaphore_fd: ash::khr::external_semaphore_fd::Device,
    fence_fd: ash::khr::external_fence_fd::Device,
    /// VK_KHR_synchronization2 with its feature on, where offered.
    sync2: Option<ash::khr::synchronization2::Device>,
}

fn create_device(ctx: &Ctx) -> Result<Device, String> {
    // SAFETY: valid physical device.
    let props = unsafe {
        ctx.instance
            .enumerate_device_extension_properties(ctx.physical)
    }
    .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e:?}"))?;
    let has = |name: &std::ffi::CStr| {
        props
            .iter()
            .any(|p| p.extension_name_as_c_str().is_ok_and(|n| n == name))
    };
    let exts: Vec<_> = [
        ash::khr::external_memory_fd::NAME,
        ash::khr::external_semaphore_fd::NAME,
        ash::khr::external_fence_fd::NAME,
        ash::khr::synchronization2::NAME,
    ]
    .into_iter()
    .filter(|n| has(n))
    .map(|n| n.as_ptr())
    .collect();
    let has_sync2 = has(ash::khr::synchronization2::NAME);
    let device = ctx.device_with(&exts, has_sync2)?;
    // SAFETY: family 0, index 0 was requested above.
    let queue = unsafe { device.get_device_queue(0, 0) };
    Ok(Device {
        memory_fd: ash::khr::external_memory_fd::Device::new(&ctx.instance, &device),
        semaphore_fd: ash::khr::external_semaphore_fd::Device::new(&ctx.instance, &device),
        fence_fd: ash::khr::external_fence_fd::Device::new(&ctx.instance, &device),
        sync2: has_sync2.then(|| ash::khr::synchronization2::Device::new(&ctx.instance, &device)),
        device,
        queue,
    })
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor flags.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
}

fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: an fd this scenario owns, closed once.
        unsafe { libc::close(fd) };
    }
}

/// vkAllocateMemory with an optional OPAQUE_FD export or import.
fn allocate(
    dev: &Device,
    size: u64,
    type_index: u32,
    export: bool,
    import_fd: Option<RawFd>,
) -> (vk::Result, vk::DeviceMemory) {
    let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    let mut export_info = vk::ExportMemoryAllocateInfo::default().handle_types(opaque);
    let mut import_info = vk::ImportMemoryFdInfoKHR::default().handle_type(opaque);
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(size)
        .memory_type_index(type_index);
    if export {
        ai = ai.push_next(&mut export_info);
    }
    if let Some(fd) = import_fd {
        import_info = import_info.fd(fd);
        ai = ai.push_next(&mut import_info);
    }
    let mut m = vk::DeviceMemory::null();
    // SAFETY: valid device; `ai` points at locals alive for the call.
    let r = unsafe {
        (dev.device.fp_v1_0().allocate_memory)(dev.device.handle(), &ai, std::ptr::null(), &mut m)
    };
    (r, m)
}

fn memory_get_fd(dev: &Device, memory: vk::DeviceMemory) -> (vk::Result, RawFd) {
    let info = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    let mut fd = -1;
    // SAFETY: valid device, info and out pointer; the handle may be unknown on purpose.
    let r = unsafe { (dev.memory_fd.fp().get_memory_fd_khr)(dev.device.handle(), &info, &mut fd) };
    (r, fd)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Semaphore,
    Fence,
}

const OPAQUE_SYNC: u32 = 0x1; // OPAQUE_FD for both semaphores and fences

/// An exportable (OPAQUE_FD) semaphore or fence.
fn create_sync(dev: &Device, kind: Kind) -> Result<u64, String> {
    let d = dev.device.handle();
    match kind {
        Kind::Semaphore => {
            let mut export = vk::ExportSemaphoreCreateInfo::default()
                .handle_types(vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD);
            let ci = vk::SemaphoreCreateInfo::default().push_next(&mut export);
            let mut s = vk::Semaphore::null();
            // SAFETY: valid device; `ci` points at locals alive for the call.
            let r = unsafe {
                (dev.device.fp_v1_0().create_semaphore)(d, &ci, std::ptr::null(), &mut s)
            };
            (r == vk::Result::SUCCESS)
                .then(|| s.as_raw())
                .ok_or(format!("vkCreateSemaphore: {r:?}"))
        }
        Kind::Fence => {
            let mut export = vk::ExportFenceCreateInfo::default()
                .handle_types(vk::ExternalFenceHandleTypeFlags::OPAQUE_FD);
            let ci = vk::FenceCreateInfo::default().push_next(&mut export);
            let mut f = vk::Fence::null();
            // SAFETY: valid device; `ci` points at locals alive for the call.
            let r =
                unsafe { (dev.device.fp_v1_0().create_fence)(d, &ci, std::ptr::null(), &mut f) };
            (r == vk::Result::SUCCESS)
                .then(|| f.as_raw())
                .ok_or(format!("vkCreateFence: {r:?}"))
        }
    }
}

fn destroy_sync(dev: &Device, kind: Kind, handle: u64) {
    // SAFETY: a handle this scenario created, destroyed once, not in use.
    unsafe {
        match kind {
            Kind::Semaphore => dev
                .device
                .destroy_semaphore(vk::Semaphore::from_raw(handle), None),
            Kind::Fence => dev.device.destroy_fence(vk::Fence::from_raw(handle), None),
        }
    }
}

fn sync_get_fd(dev: &Device, kind: Kind, handle: u64) -> (vk::Result, RawFd) {
    let d = dev.device.handle();
    let mut fd = -1;
    // SAFETY: valid device, info and out pointer; the handle may be unknown on purpose.
    let r = unsafe {
        match kind {
            Kind::Semaphore => {
                let info = vk::SemaphoreGetFdInfoKHR::default()
                    .semaphore(vk::Semaphore::from_raw(handle))
                    .handle_type(vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD);
                (dev.semaphore_fd.fp().get_semaphore_fd_khr)(d, &info, &mut fd)
            }
            Kind::Fence => {
                let info = vk::FenceGetFdInfoKHR::default()
                    .fence(vk::Fence::from_raw(handle))
                    .handle_type(vk::ExternalFenceHandleTypeFlags::OPAQUE_FD);
                (dev.fence_fd.fp().get_fence_fd_khr)(d, &info, &mut fd)
            }
        }
    };
    (r, fd)
}

fn sync_import(dev: &Device, kind: Kind, handle: u64, fd: RawFd) -> vk::Result {
    let d = dev.device.handle();
    // SAFETY: valid device and info; the handle and fd may be wrong on purpose.
    unsafe {
        match kind {
            Kind::Semaphore => {
                let info = vk::ImportSemaphoreFdInfoKHR::default()
                    .semaphore(vk::Semaphore::from_raw(handle))
                    .handle_type(vk::ExternalSemaphoreHandleTypeFlags::from_raw(OPAQUE_SYNC))
                    .fd(fd);
                (dev.semaphore_fd.fp().import_semaphore_fd_khr)(d, &info)
            }
            Kind::Fence => {
                let info = vk::ImportFenceFdInfoKHR::default()
                    .fence(vk::Fence::from_raw(handle))
                    .handle_type(vk::ExternalFenceHandleTypeFlags::from_raw(OPAQUE_SYNC))
                    .fd(fd);
                (dev.fence_fd.fp().import_fence_fd_khr)(d, &info)
            }
        }
    }
}

fn kind_arg(a: &Args) -> Result<Kind, String> {
    match a.value_or("--kind", "semaphore") {
        "semaphore" => Ok(Kind::Semaphore),
        "fence" => Ok(Kind::Fence),
        other => Err(format!("--kind {other:?}")),
    }
}

/// `hostile-handles`: see the module documentation.
pub fn hostile_handles(a: &Args) -> ScenarioResult {
    let case = a.value_or("--case", "").to_owned();
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = create_device(&ctx)?;
    let type_index = ctx.host_visible_type()?;
    let out = match case.as_str() {
        "sync-garbage" => sync_garbage(a, &dev),
        "sync-import-fd" => sync_import_fd(a, &dev, type_index),
        "alloc-huge" => alloc_huge(a, &dev, type_index),
        "import-huge" => import_huge(a, &dev, type_index),
        "other-device" => other_device(a, &ctx, &dev, type_index),
        "freed-use" => freed_use(a, &dev, type_index),
        other => Err(format!("--case {other:?}")),
    };
    // SAFETY: every object the cases created was destroyed by them (or deliberately
    // forgotten, which the device's destruction reports).
    unsafe { dev.device.destroy_device(None) };
    ctx.destroy();
    out
}

fn sync_garbage(a: &Args, dev: &Device) -> ScenarioResult {
    let kind = kind_arg(a)?;
    match a.value_or("--op", "get") {
        "get" => {
            let (r, fd) = sync_get_fd(dev, kind, GARBAGE);
            close(fd);
            Ok(json!({ "result": result_json(r), "fd_written": fd != -1 }))
        }
        "import" => {
            // SAFETY: plain eventfd(2).
            let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
            let r = sync_import(dev, kind, GARBAGE, fd);
            let open_after = is_open(fd);
            close(fd);
            Ok(json!({ "result": result_json(r), "fd_open_after": open_after }))
        }
        other => Err(format!("--op {other:?}")),
    }
}

fn sync_import_fd(a: &Args, dev: &Device, type_index: u32) -> ScenarioResult {
    let kind = kind_arg(a)?;
    let target = create_sync(dev, kind)?;
    let mut exporter = None;
    let mut memory = None;
    let mut pair = [-1; 2];
    let fd = match a.value_or("--fd", "valid") {
        "valid" => {
            let e = create_sync(dev, kind)?;
            exporter = Some(e);
            let (r, fd) = sync_get_fd(dev, kind, e);
            if r != vk::Result::SUCCESS {
                return Err(format!("export: {r:?}"));
            }
            fd
        }
        // SAFETY: plain eventfd(2).
        "eventfd" => unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) },
        "socket" => {
            // SAFETY: `pair` holds two ints for socketpair(2).
            if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()) }
                != 0
            {
                return Err("socketpair".into());
            }
            pair[0]
        }
        // SAFETY: a NUL-terminated name.
        "memfd" => unsafe { libc::memfd_create(c"hostile".as_ptr(), libc::MFD_CLOEXEC) },
        "memory" => {
            let (r, m) = allocate(dev, 4096, type_index, true, None);
            if r != vk::Result::SUCCESS {
                return Err(format!("vkAllocateMemory: {r:?}"));
            }
            memory = Some(m);
            let (r, fd) = memory_get_fd(dev, m);
            if r != vk::Result::SUCCESS {
                return Err(format!("vkGetMemoryFdKHR: {r:?}"));
            }
            fd
        }
        "negative" => -7,
        other => return Err(format!("--fd {other:?}")),
    };
    let r = sync_import(dev, kind, target, fd);
    let open_after = is_open(fd);
    if r != vk::Result::SUCCESS {
        close(fd);
    }
    close(pair[1]);
    destroy_sync(dev, kind, target);
    if let Some(e) = exporter {
        destroy_sync(dev, kind, e);
    }
    if let Some(m) = memory {
        // SAFETY: memory of this device, freed once.
        unsafe { dev.device.free_memory(m, None) };
    }
    Ok(json!({
        "result": result_json(r),
        "fd_open_after": (r != vk::Result::SUCCESS).then_some(open_after),
    }))
}

fn alloc_huge(a: &Args, dev: &Device, type_index: u32) -> ScenarioResult {
    let export = a.value_or("--export", "none") == "opaque";
    let (r, m) = allocate(dev, u64::MAX, type_index, export, None);
    if r == vk::Result::SUCCESS {
        // SAFETY: memory of this device, freed once.
        unsafe { dev.device.free_memory(m, None) };
    }
    Ok(json!({ "result": result_json(r) }))
}

fn import_huge(a: &Args, dev: &Device, type_index: u32) -> ScenarioResult {
    let size = a.number("--size", u64::MAX)?;
    let (r, exported) = allocate(dev, 4096, type_index, true, None);
    if r != vk::Result::SUCCESS {
        return Err(format!("vkAllocateMemory (export): {r:?}"));
    }
    let (r, fd) = memory_get_fd(dev, exported);
    if r != vk::Result::SUCCESS {
        return Err(format!("vkGetMemoryFdKHR: {r:?}"));
    }
    let (r, imported) = allocate(dev, size, type_index, false, Some(fd));
    if r == vk::Result::SUCCESS {
        // SAFETY: memory of this device, freed once.
        unsafe { dev.device.free_memory(imported, None) };
    } else {
        close(fd);
    }
    // SAFETY: memory of this device, freed once.
    unsafe { dev.device.free_memory(exported, None) };
    Ok(json!({ "result": result_json(r) }))
}

fn other_device(a: &Args, ctx: &Ctx, dev: &Device, type_index: u32) -> ScenarioResult {
    let b = create_device(ctx)?;
    let owner = if a.value_or("--memory", "own") == "own" {
        &b
    } else {
        dev
    };
    let (r, m) = allocate(owner, 4096, type_index, true, None);
    if r != vk::Result::SUCCESS {
        return Err(format!("vkAllocateMemory: {r:?}"));
    }
    let (r, fd) = memory_get_fd(&b, m);
    close(fd);
    // SAFETY: memory of `owner`, freed once; then B, which holds nothing else.
    unsafe {
        owner.device.free_memory(m, None);
        b.device.destroy_device(None);
    }
    Ok(json!({ "result": result_json(r), "memory": super::handle_hex(m.as_raw()) }))
}

fn buffer(dev: &Device) -> Result<vk::Buffer, String> {
    external_buffer(&dev.device, 4096, vk::BufferUsageFlags::TRANSFER_DST)
}

fn image(dev: &Device) -> Result<vk::Image, String> {
    external_image(&dev.device)
}

/// A command pool and one primary command buffer of family 0.
fn command_buffer(dev: &Device) -> Result<(vk::CommandPool, vk::CommandBuffer), String> {
    let pci = vk::CommandPoolCreateInfo::default().queue_family_index(0);
    // SAFETY: valid device.
    let pool = unsafe { dev.device.create_command_pool(&pci, None) }
        .map_err(|e| format!("vkCreateCommandPool: {e:?}"))?;
    let ai = vk::CommandBufferAllocateInfo::default()
        .command_pool(pool)
        .level(vk::CommandBufferLevel::PRIMARY)
        .command_buffer_count(1);
    // SAFETY: valid device and pool.
    let cbs = unsafe { dev.device.allocate_command_buffers(&ai) }
        .map_err(|e| format!("vkAllocateCommandBuffers: {e:?}"))?;
    Ok((pool, cbs[0]))
}

type Sync2 = ash::khr::synchronization2::Device;

/// Begins `cb`, records a release of `image` from family 0 to `VK_QUEUE_FAMILY_EXTERNAL`
/// with a move to GENERAL (through vkCmdPipelineBarrier2KHR given `sync2`), and ends it.
///
/// # Safety
/// `cb` is a fresh command buffer of the device; `image` may be any handle (the cases pass
/// freed and unknown ones on purpose).
unsafe fn record_release(
    dev: &Device,
    cb: vk::CommandBuffer,
    image: vk::Image,
    sync2: Option<&Sync2>,
) -> Result<(), String> {
    let d = &dev.device;
    // SAFETY: the caller's contract.
    unsafe {
        d.begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default())
            .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
        let range = vk::ImageSubresourceRange {
            aspect_mask: vk::ImageAspectFlags::COLOR,
            level_count: 1,
            layer_count: 1,
            ..Default::default()
        };
        match sync2 {
            None => {
                let barrier = vk::ImageMemoryBarrier::default()
                    .image(image)
                    .old_layout(vk::ImageLayout::UNDEFINED)
                    .new_layout(vk::ImageLayout::GENERAL)
                    .src_queue_family_index(0)
                    .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                    .subresource_range(range);
                d.cmd_pipeline_barrier(
                    cb,
                    vk::PipelineStageFlags::TOP_OF_PIPE,
                    vk::PipelineStageFlags::BOTTOM_OF_PIPE,
                    vk::DependencyFlags::empty(),
                    &[],
                    &[],
                    &[barrier],
                );
            }
            Some(s2) => {
                let barriers = [vk::ImageMemoryBarrier2::default()
                    .image(image)
                    .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
                    .old_layout(vk::ImageLayout::UNDEFINED)
                    .new_layout(vk::ImageLayout::GENERAL)
                    .src_queue_family_index(0)
                    .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                    .subresource_range(range)];
                let dep = vk::DependencyInfo::default().image_memory_barriers(&barriers);
                s2.cmd_pipeline_barrier2(cb, &dep);
            }
        }
        d.end_command_buffer(cb)
            .map_err(|e| format!("vkEndCommandBuffer: {e:?}"))
    }
}

/// Submits `cb` alone, without a fence (through vkQueueSubmit2KHR given `sync2`).
///
/// # Safety
/// `cb` may be any handle (the cases pass freed ones on purpose).
unsafe fn submit_one(dev: &Device, cb: vk::CommandBuffer, sync2: Option<&Sync2>) -> vk::Result {
    // SAFETY: the caller's contract; the infos outlive the call.
    unsafe {
        match sync2 {
            None => {
                let cbs = [cb];
                let submit = vk::SubmitInfo::default().command_buffers(&cbs);
                (dev.device.fp_v1_0().queue_submit)(dev.queue, 1, &submit, vk::Fence::null())
            }
            Some(s2) => {
                let infos = [vk::CommandBufferSubmitInfo::default().command_buffer(cb)];
                let submit = vk::SubmitInfo2::default().command_buffer_infos(&infos);
                (s2.fp().queue_submit2_khr)(dev.queue, 1, &submit, vk::Fence::null())
            }
        }
    }
}

fn freed_use(a: &Args, dev: &Device, type_index: u32) -> ScenarioResult {
    let what = a.value_or("--what", "live").to_owned();
    let live = a.flag("--live");
    let bind2 = a.flag("--bind2");
    let sync2 = match (a.flag("--sync2"), &dev.sync2) {
        (false, _) => None,
        (true, Some(s2)) => Some(s2),
        (true, None) => return Err("VK_KHR_synchronization2 not offered".into()),
    };
    let d = &dev.device;
    let mut results = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        results.insert(k.to_owned(), v);
    };
    // SAFETY (whole block): every handle is this device's; the freed ones are passed on
    // purpose (the layer stops them; the mock ICD looks its handles up when it does not).
    unsafe {
        match what.as_str() {
            "bind-memory" | "bind-buffer" | "bind-image" | "bind-image-memory" => {
                let (r, m) = allocate(dev, 1 << 20, type_index, true, None);
                if r != vk::Result::SUCCESS {
                    return Err(format!("vkAllocateMemory: {r:?}"));
                }
                let b = buffer(dev)?;
                let i = image(dev)?;
                let image_bind = what.starts_with("bind-image");
                let freed_memory = what.ends_with("-memory") && !live;
                if freed_memory {
                    d.free_memory(m, None);
                }
                if what == "bind-buffer" && !live {
                    d.destroy_buffer(b, None);
                }
                if what == "bind-image" && !live {
                    d.destroy_image(i, None);
                }
                let r = match (image_bind, bind2) {
                    (true, false) => (d.fp_v1_0().bind_image_memory)(d.handle(), i, m, 0),
                    (false, false) => (d.fp_v1_0().bind_buffer_memory)(d.handle(), b, m, 0),
                    (true, true) => {
                        let info = vk::BindImageMemoryInfo::default().image(i).memory(m);
                        (d.fp_v1_1().bind_image_memory2)(d.handle(), 1, &info)
                    }
                    (false, true) => {
                        let info = vk::BindBufferMemoryInfo::default().buffer(b).memory(m);
                        (d.fp_v1_1().bind_buffer_memory2)(d.handle(), 1, &info)
                    }
                };
                put("result", result_json(r));
                if what != "bind-buffer" || live {
                    d.destroy_buffer(b, None);
                }
                if what != "bind-image" || live {
                    d.destroy_image(i, None);
                }
                if !freed_memory {
                    d.free_memory(m, None);
                }
            }
            "free-memory" => {
                let (r, m) = allocate(dev, 4096, type_index, true, None);
                if r != vk::Result::SUCCESS {
                    return Err(format!("vkAllocateMemory: {r:?}"));
                }
                d.free_memory(m, None);
                if !live {
                    d.free_memory(m, None);
                    // The layer still knows the handle as freed after the second free.
                    put("after", result_json(memory_get_fd(dev, m).0));
                }
                // VK_NULL_HANDLE is allowed and stays silent.
                d.free_memory(vk::DeviceMemory::null(), None);
            }
            "destroy-buffer" => {
                let b = buffer(dev)?;
                d.destroy_buffer(b, None);
                if !live {
                    d.destroy_buffer(b, None);
                }
                d.destroy_buffer(vk::Buffer::null(), None);
            }
            "destroy-image" => {
                let i = image(dev)?;
                d.destroy_image(i, None);
                if !live {
                    d.destroy_image(i, None);
                }
                d.destroy_image(vk::Image::null(), None);
            }
            "barrier-image" | "submit-cb" | "submit-pool" => {
                let (pool, cb) = command_buffer(dev)?;
                let i = image(dev)?;
                let (r, m) = allocate(dev, 1 << 20, type_index, true, None);
                if r != vk::Result::SUCCESS {
                    return Err(format!("vkAllocateMemory: {r:?}"));
                }
                d.bind_image_memory(i, m, 0)
                    .map_err(|e| format!("vkBindImageMemory: {e:?}"))?;
                if what == "barrier-image" && !live {
                    if a.flag("--used-before") {
                        // The layer has seen this thread release the live image (in another
                        // command buffer): what it remembers of it must not outlive the image.
                        let (before_pool, before) = command_buffer(dev)?;
                        record_release(dev, before, i, sync2)?;
                        d.destroy_command_pool(before_pool, None);
                    }
                    d.destroy_image(i, None);
                }
                record_release(dev, cb, i, sync2)?;
                if what == "submit-cb" && !live {
                    d.free_command_buffers(pool, &[cb]);
                }
                let pool_gone = what == "submit-pool" && !live;
                if pool_gone {
                    d.destroy_command_pool(pool, None);
                }
                let r = submit_one(dev, cb, sync2);
                // vkCmdPipelineBarrier returns nothing: the test reads the submit's result
                // apart from the command under test's.
                put(
                    if what == "barrier-image" {
                        "submit"
                    } else {
                        "result"
                    },
                    result_json(r),
                );
                let _ = d.queue_wait_idle(dev.queue);
                if what != "barrier-image" || live {
                    d.destroy_image(i, None);
                }
                d.free_memory(m, None);
                if !pool_gone {
                    d.destroy_command_pool(pool, None);
                }
            }
            "recreate-image" => {
                // Destroyed, then a new image that drivers often give the same handle value:
                // live again, so every use below is valid.
                let old = image(dev)?;
                d.destroy_image(old, None);
                let i = image(dev)?;
                put("same_handle", Value::Bool(i == old));
                let (r, m) = allocate(dev, 1 << 20, type_index, true, None);
                if r != vk::Result::SUCCESS {
                    return Err(format!("vkAllocateMemory: {r:?}"));
                }
                let r = (d.fp_v1_0().bind_image_memory)(d.handle(), i, m, 0);
                put("result", result_json(r));
                let (pool, cb) = command_buffer(dev)?;
                record_release(dev, cb, i, None)?;
                let r = submit_one(dev, cb, None);
                put("submit", result_json(r));
                let _ = d.queue_wait_idle(dev.queue);
                d.destroy_image(i, None);
                d.free_memory(m, None);
                d.destroy_command_pool(pool, None);
            }
            "unknown-image" => {
                // An image handle the layer never saw created, as a swapchain image is.
                let ghost = vk::Image::from_raw(GARBAGE);
                d.destroy_image(ghost, None);
                let (r, m) = allocate(dev, 1 << 20, type_index, true, None);
                if r != vk::Result::SUCCESS {
                    return Err(format!("vkAllocateMemory: {r:?}"));
                }
                let r = (d.fp_v1_0().bind_image_memory)(d.handle(), ghost, m, 0);
                put("result", result_json(r));
                let (pool, cb) = command_buffer(dev)?;
                record_release(dev, cb, ghost, None)?;
                let r = submit_one(dev, cb, None);
                put("submit", result_json(r));
                let _ = d.queue_wait_idle(dev.queue);
                d.free_memory(m, None);
                d.destroy_command_pool(pool, None);
            }
            other => return Err(format!("--what {other:?}")),
        }
    }
    Ok(Value::Object(results))
}

//! The workloads of issue 6, each a loop of `n` operations over one `Gpu`. Every workload is
//! valid Vulkan: a layer that reports anything about it is wrong (the child counts messages).
//!
//! (a) `cycle`: external buffer, exportable memory, bind, vkGetMemoryFdKHR, close, free, destroy.
//! (b) `import`: dup an exported fd, import it, free.
//! (c) `barriers`: image barriers recorded 16 per call, a quarter of them releases to and
//!     acquires from VK_QUEUE_FAMILY_EXTERNAL on external images; one operation = one barrier.
//! (d) `submits`: one submit per operation, alternating a release of an external buffer to
//!     VK_QUEUE_FAMILY_EXTERNAL and its acquire back.
//! (e) `threads2`/`threads4`: (a) from 2 or 4 threads on one device; `n` per thread.
//! (f) `plain`: no external memory at all: a buffer's create/allocate/bind/destroy/free, a
//!     command buffer with plain barriers, a submit with a fence and its wait.

use crate::gpu::Gpu;
use ash::vk;
use std::time::Instant;

pub const ALL: [&str; 7] = [
    "cycle", "import", "barriers", "submits", "threads2", "threads4", "plain",
];

const OPAQUE_FD: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
const BUFFER_SIZE: u64 = 64 * 1024;

/// What a workload measured.
pub struct Measured {
    /// Operations done (all threads).
    pub ops: u64,
    /// Wall time of the operation loop only (set-up excluded).
    pub elapsed_ns: u128,
    /// Calls into the layer per operation (workload `plain` only; 0 elsewhere).
    pub intercepted_per_op: u32,
}

pub fn run(gpu: &Gpu, workload: &str, n: u64) -> Measured {
    match workload {
        "cycle" => timed(n, || cycle(gpu, n)),
        "import" => import(gpu, n),
        "barriers" => barriers(gpu, n),
        "submits" => submits(gpu, n),
        "threads2" => threads(gpu, n, 2),
        "threads4" => threads(gpu, n, 4),
        "plain" => plain(gpu, n),
        other => panic!("unknown workload {other:?}; known: {ALL:?}"),
    }
}

/// Every operation loop runs inside this function, on every thread that runs one: the
/// benchmark's callgrind runs collect only here (`--toggle-collect=handoff_bench_loop`), so
/// set-up and the driver's own worker threads (whose share varies with scheduling) stay out
/// of the count, and the layer's work on the calling thread stays in.
#[inline(never)]
#[no_mangle]
pub fn handoff_bench_loop(f: &mut dyn FnMut()) {
    f()
}

fn in_loop(f: impl FnOnce()) {
    let mut f = Some(f);
    handoff_bench_loop(&mut || {
        if let Some(f) = f.take() {
            f()
        }
    });
}

fn timed(ops: u64, f: impl FnOnce()) -> Measured {
    let t = Instant::now();
    in_loop(f);
    Measured {
        ops,
        elapsed_ns: t.elapsed().as_nanos(),
        intercepted_per_op: 0,
    }
}

fn ok<T>(what: &str, r: Result<T, vk::Result>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

/// An exportable OPAQUE_FD buffer bound to its own exportable memory.
fn external_buffer(
    gpu: &Gpu,
    usage: vk::BufferUsageFlags,
) -> (vk::Buffer, vk::DeviceMemory, u64, u32) {
    let d = &gpu.device;
    let mut ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(OPAQUE_FD);
    let ci = vk::BufferCreateInfo::default()
        .size(BUFFER_SIZE)
        .usage(usage)
        .push_next(&mut ext);
    // SAFETY: valid device; `ci` points at locals alive for the call.
    let buffer = ok("vkCreateBuffer", unsafe { d.create_buffer(&ci, None) });
    // SAFETY: `buffer` is live.
    let req = unsafe { d.get_buffer_memory_requirements(buffer) };
    let ty = gpu.memory_type(req.memory_type_bits, false);
    let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(OPAQUE_FD);
    let ai = vk::MemoryAllocateInfo::default()
        .allocation_size(req.size)
        .memory_type_index(ty)
        .push_next(&mut export);
    // SAFETY: as above.
    let memory = ok("vkAllocateMemory", unsafe { d.allocate_memory(&ai, None) });
    // SAFETY: both live, the memory was made for the buffer's requirements.
    ok("vkBindBufferMemory", unsafe {
        d.bind_buffer_memory(buffer, memory, 0)
    });
    (buffer, memory, req.size, ty)
}

/// (a): one external-memory cycle per operation.
fn cycle(gpu: &Gpu, n: u64) {
    let d = &gpu.device;
    for _ in 0..n {
        let (buffer, memory, _, _) = external_buffer(gpu, vk::BufferUsageFlags::TRANSFER_DST);
        let gi = vk::MemoryGetFdInfoKHR::default()
            .memory(memory)
            .handle_type(OPAQUE_FD);
        // SAFETY: live exportable memory.
        let fd = ok("vkGetMemoryFdKHR", unsafe {
            gpu.memory_fd.get_memory_fd(&gi)
        });
        // SAFETY: the fd is ours.
        unsafe { libc::close(fd) };
        // SAFETY: nothing uses them any more.
        unsafe {
            d.destroy_buffer(buffer, None);
            d.free_memory(memory, None);
        }
    }
}

/// (b): dup + import + free of one exported payload per operation.
fn import(gpu: &Gpu, n: u64) -> Measured {
    let d = &gpu.device;
    let (buffer, memory, size, ty) = external_buffer(gpu, vk::BufferUsageFlags::TRANSFER_DST);
    let gi = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(OPAQUE_FD);
    // SAFETY: live exportable memory.
    let fd0 = ok("vkGetMemoryFdKHR", unsafe {
        gpu.memory_fd.get_memory_fd(&gi)
    });
    let m = timed(n, || {
        for _ in 0..n {
            // SAFETY: fd0 is open; the import takes the duplicate.
            let fd = unsafe { libc::dup(fd0) };
            let mut imp = vk::ImportMemoryFdInfoKHR::default()
                .handle_type(OPAQUE_FD)
                .fd(fd);
            let ai = vk::MemoryAllocateInfo::default()
                .allocation_size(size)
                .memory_type_index(ty)
                .push_next(&mut imp);
            // SAFETY: valid device; `ai` points at locals alive for the call.
            let imported = ok("vkAllocateMemory (import)", unsafe {
                d.allocate_memory(&ai, None)
            });
            // SAFETY: unused.
            unsafe { d.free_memory(imported, None) };
        }
    });
    // SAFETY: ours, unused.
    unsafe {
        libc::close(fd0);
        d.destroy_buffer(buffer, None);
        d.free_memory(memory, None);
    }
    m
}

struct Images {
    external: Vec<vk::Image>,
    plain: Vec<vk::Image>,
    memories: Vec<vk::DeviceMemory>,
}

fn image(gpu: &Gpu, external: bool) -> (vk::Image, vk::DeviceMemory) {
    let d = &gpu.device;
    let mut ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(OPAQUE_FD);
    let mut ci = vk::ImageCreateInfo::default()
        .image_type(vk::ImageType::TYPE_2D)
        .format(vk::Format::R8G8B8A8_UNORM)
        .extent(vk::Extent3D {
            width: 16,
            height: 16,
            depth: 1,
        })
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(vk::ImageUsageFlags::TRANSFER_DST | vk::ImageUsageFlags::SAMPLED)
        .initial_layout(vk::ImageLayout::UNDEFINED);
    if external {
        ci = ci.push_next(&mut ext);
    }
    // SAFETY: valid device; `ci` points at locals alive for the call.
    let image = ok("vkCreateImage", unsafe { d.create_image(&ci, None) });
    // SAFETY: live image.
    let req = unsafe { d.get_image_memory_requirements(image) };
    let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(OPAQUE_FD);
    let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().image(image);
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(req.size)
        .memory_type_index(gpu.memory_type(req.memory_type_bits, false));
    if external {
        ai = ai.push_next(&mut export).push_next(&mut dedicated);
    }
    // SAFETY: as above.
    let memory = ok("vkAllocateMemory", unsafe { d.allocate_memory(&ai, None) });
    // SAFETY: both live; the memory was made for this image.
    ok("vkBindImageMemory", unsafe {
        d.bind_image_memory(image, memory, 0)
    });
    (image, memory)
}

impl Images {
    fn new(gpu: &Gpu, external: usize, plain: usize) -> Images {
        let mut s = Images {
            external: Vec::new(),
            plain: Vec::new(),
            memories: Vec::new(),
        };
        for i in 0..external + plain {
            let (img, mem) = image(gpu, i < external);
            if i < external {
                s.external.push(img);
            } else {
                s.plain.push(img);
            }
            s.memories.push(mem);
        }
        s
    }

    fn destroy(self, gpu: &Gpu) {
        for img in self.external.iter().chain(&self.plain) {
            // SAFETY: idle and unused.
            unsafe { gpu.device.destroy_image(*img, None) };
        }
        for m in self.memories {
            // SAFETY: as above.
            unsafe { gpu.device.free_memory(m, None) };
        }
    }
}

const COLOR: vk::ImageSubresourceRange = vk::ImageSubresourceRange {
    aspect_mask: vk::ImageAspectFlags::COLOR,
    base_mip_level: 0,
    level_count: 1,
    base_array_layer: 0,
    layer_count: 1,
};

fn image_barrier(image: vk::Image, src: u32, dst: u32) -> vk::ImageMemoryBarrier<'static> {
    vk::ImageMemoryBarrier::default()
        .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
        .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)
        .old_layout(vk::ImageLayout::GENERAL)
        .new_layout(vk::ImageLayout::GENERAL)
        .src_queue_family_index(src)
        .dst_queue_family_index(dst)
        .image(image)
        .subresource_range(COLOR)
}

struct Commands {
    pool: vk::CommandPool,
    buffers: Vec<vk::CommandBuffer>,
}

impl Commands {
    fn new(gpu: &Gpu, count: u32) -> Commands {
        let d = &gpu.device;
        let pi = vk::CommandPoolCreateInfo::default()
            .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER)
            .queue_family_index(gpu.family);
        // SAFETY: valid device.
        let pool = ok("vkCreateCommandPool", unsafe {
            d.create_command_pool(&pi, None)
        });
        let ai = vk::CommandBufferAllocateInfo::default()
            .command_pool(pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(count);
        // SAFETY: live pool.
        let buffers = ok("vkAllocateCommandBuffers", unsafe {
            d.allocate_command_buffers(&ai)
        });
        Commands { pool, buffers }
    }

    fn begin(gpu: &Gpu, cb: vk::CommandBuffer, flags: vk::CommandBufferUsageFlags) {
        let bi = vk::CommandBufferBeginInfo::default().flags(flags);
        // SAFETY: `cb` is not pending (callers wait before re-recording).
        ok("vkBeginCommandBuffer", unsafe {
            gpu.device.begin_command_buffer(cb, &bi)
        });
    }

    fn end(gpu: &Gpu, cb: vk::CommandBuffer) {
        // SAFETY: `cb` is recording.
        ok("vkEndCommandBuffer", unsafe {
            gpu.device.end_command_buffer(cb)
        });
    }

    fn destroy(self, gpu: &Gpu) {
        // SAFETY: idle; destroying the pool frees its command buffers.
        unsafe { gpu.device.destroy_command_pool(self.pool, None) };
    }
}

/// Barriers per command buffer: 64 external ones, a release and an acquire for each of 32
/// external images, so that no barrier repeats within one command buffer.
const PER_CB: u64 = 256;
const PER_CALL: usize = 16;

/// (c): one image barrier per operation.
fn barriers(gpu: &Gpu, n: u64) -> Measured {
    let imgs = Images::new(gpu, 32, 16);
    let cmds = Commands::new(gpu, 1);
    let cb = cmds.buffers[0];
    let family = gpu.family;
    // Every barrier of a command buffer, precomputed so that the loop only records.
    let mut plan: Vec<[vk::ImageMemoryBarrier<'static>; PER_CALL]> = Vec::new();
    let mut ext_i = 0usize;
    let mut plain_i = 0usize;
    for _ in 0..PER_CB as usize / PER_CALL {
        let mut call = [vk::ImageMemoryBarrier::default(); PER_CALL];
        for (j, b) in call.iter_mut().enumerate() {
            *b = if j % 4 == 0 {
                // Image k: release in the first half of the command buffer, acquire in the second.
                let k = ext_i % 32;
                let release = ext_i < 32;
                ext_i += 1;
                if release {
                    image_barrier(imgs.external[k], family, vk::QUEUE_FAMILY_EXTERNAL)
                } else {
                    image_barrier(imgs.external[k], vk::QUEUE_FAMILY_EXTERNAL, family)
                }
            } else {
                plain_i += 1;
                image_barrier(
                    imgs.plain[plain_i % 16],
                    vk::QUEUE_FAMILY_IGNORED,
                    vk::QUEUE_FAMILY_IGNORED,
                )
            };
        }
        plan.push(call);
    }
    let d = &gpu.device;
    let m = timed(n, || {
        let mut done = 0u64;
        while done < n {
            Commands::begin(gpu, cb, vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
            for call in &plan {
                if done >= n {
                    break;
                }
                // SAFETY: `cb` is recording; the barriers name live images.
                unsafe {
                    d.cmd_pipeline_barrier(
                        cb,
                        vk::PipelineStageFlags::TRANSFER,
                        vk::PipelineStageFlags::TRANSFER,
                        vk::DependencyFlags::empty(),
                        &[],
                        &[],
                        call,
                    )
                };
                done += PER_CALL as u64;
            }
            Commands::end(gpu, cb);
        }
    });
    cmds.destroy(gpu);
    imgs.destroy(gpu);
    Measured {
        ops: n.div_ceil(PER_CALL as u64) * PER_CALL as u64,
        ..m
    }
}

fn buffer_transfer(buffer: vk::Buffer, src: u32, dst: u32) -> vk::BufferMemoryBarrier<'static> {
    vk::BufferMemoryBarrier::default()
        .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
        .dst_access_mask(vk::AccessFlags::TRANSFER_READ)
        .src_queue_family_index(src)
        .dst_queue_family_index(dst)
        .buffer(buffer)
        .offset(0)
        .size(vk::WHOLE_SIZE)
}

/// (d): one submit per operation, each carrying one transfer of an external buffer.
fn submits(gpu: &Gpu, n: u64) -> Measured {
    let d = &gpu.device;
    let (buffer, memory, _, _) = external_buffer(gpu, vk::BufferUsageFlags::TRANSFER_DST);
    let cmds = Commands::new(gpu, 2);
    let family = gpu.family;
    for (cb, (src, dst)) in cmds.buffers.iter().zip([
        (family, vk::QUEUE_FAMILY_EXTERNAL),
        (vk::QUEUE_FAMILY_EXTERNAL, family),
    ]) {
        Commands::begin(gpu, *cb, vk::CommandBufferUsageFlags::SIMULTANEOUS_USE);
        // SAFETY: recording; the buffer is live.
        unsafe {
            d.cmd_pipeline_barrier(
                *cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::TRANSFER,
                vk::DependencyFlags::empty(),
                &[],
                &[buffer_transfer(buffer, src, dst)],
                &[],
            )
        };
        Commands::end(gpu, *cb);
    }
    let m = timed(n, || {
        for i in 0..n {
            let cb = [cmds.buffers[(i % 2) as usize]];
            let si = vk::SubmitInfo::default().command_buffers(&cb);
            // SAFETY: both command buffers are executable and SIMULTANEOUS_USE.
            ok("vkQueueSubmit", unsafe {
                d.queue_submit(gpu.queue, &[si], vk::Fence::null())
            });
            if i % 256 == 255 {
                // SAFETY: valid queue.
                ok("vkQueueWaitIdle", unsafe { d.queue_wait_idle(gpu.queue) });
            }
        }
        // An even count leaves the buffer acquired back; either way nothing is left pending.
        // SAFETY: valid queue.
        ok("vkQueueWaitIdle", unsafe { d.queue_wait_idle(gpu.queue) });
    });
    if n % 2 == 1 {
        let cb = [cmds.buffers[1]];
        let si = vk::SubmitInfo::default().command_buffers(&cb);
        // SAFETY: as above; acquires the buffer back so that teardown leaves nothing released.
        unsafe {
            ok(
                "vkQueueSubmit",
                d.queue_submit(gpu.queue, &[si], vk::Fence::null()),
            );
            ok("vkQueueWaitIdle", d.queue_wait_idle(gpu.queue));
        }
    }
    cmds.destroy(gpu);
    // SAFETY: idle and unused.
    unsafe {
        d.destroy_buffer(buffer, None);
        d.free_memory(memory, None);
    }
    m
}

/// (e): (a) from `t` threads at once, `n` cycles each; timed from the common start to the
/// last join.
fn threads(gpu: &Gpu, n: u64, t: u64) -> Measured {
    let start = std::sync::Barrier::new(t as usize + 1);
    let t0 = std::cell::Cell::new(None);
    std::thread::scope(|s| {
        for _ in 0..t {
            s.spawn(|| {
                start.wait();
                in_loop(|| cycle(gpu, n));
            });
        }
        start.wait();
        t0.set(Some(Instant::now()));
    });
    Measured {
        ops: n * t,
        elapsed_ns: t0.get().map(|t| t.elapsed().as_nanos()).unwrap_or(0),
        intercepted_per_op: 0,
    }
}

/// (f): an app that shares nothing.
fn plain(gpu: &Gpu, n: u64) -> Measured {
    let d = &gpu.device;
    let imgs = Images::new(gpu, 0, 4);
    let cmds = Commands::new(gpu, 1);
    let cb = cmds.buffers[0];
    let fi = vk::FenceCreateInfo::default();
    // SAFETY: valid device.
    let fence = ok("vkCreateFence", unsafe { d.create_fence(&fi, None) });
    let ci = vk::BufferCreateInfo::default()
        .size(BUFFER_SIZE)
        .usage(vk::BufferUsageFlags::TRANSFER_DST);
    let img_barriers: Vec<_> = imgs
        .plain
        .iter()
        .map(|i| image_barrier(*i, vk::QUEUE_FAMILY_IGNORED, vk::QUEUE_FAMILY_IGNORED))
        .collect();
    let calls: [&std::ffi::CStr; 13] = [
        c"vkCreateBuffer",
        c"vkGetBufferMemoryRequirements",
        c"vkAllocateMemory",
        c"vkBindBufferMemory",
        c"vkBeginCommandBuffer",
        c"vkCmdPipelineBarrier",
        c"vkEndCommandBuffer",
        c"vkQueueSubmit",
        c"vkWaitForFences",
        c"vkResetFences",
        c"vkDestroyBuffer",
        c"vkFreeMemory",
        c"vkCmdFillBuffer",
    ];
    let intercepted = calls.iter().filter(|c| gpu.intercepted(c)).count() as u32;
    // The images start UNDEFINED: move them to GENERAL once, so that every barrier of the
    // loop (GENERAL to GENERAL) is valid when submitted.
    let to_general: Vec<_> = img_barriers
        .iter()
        .map(|b| {
            b.old_layout(vk::ImageLayout::UNDEFINED)
                .src_access_mask(vk::AccessFlags::empty())
        })
        .collect();
    Commands::begin(gpu, cb, vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
    // SAFETY: recording; the images are live; the submit is waited for before the loop.
    unsafe {
        d.cmd_pipeline_barrier(
            cb,
            vk::PipelineStageFlags::TOP_OF_PIPE,
            vk::PipelineStageFlags::TRANSFER,
            vk::DependencyFlags::empty(),
            &[],
            &[],
            &to_general,
        );
        Commands::end(gpu, cb);
        let cbs = [cb];
        let si = vk::SubmitInfo::default().command_buffers(&cbs);
        ok("vkQueueSubmit", d.queue_submit(gpu.queue, &[si], fence));
        ok(
            "vkWaitForFences",
            d.wait_for_fences(&[fence], true, u64::MAX),
        );
        ok("vkResetFences", d.reset_fences(&[fence]));
    }
    let m = timed(n, || {
        for _ in 0..n {
            // SAFETY: valid device; every handle below is live and idle when used.
            unsafe {
                let buffer = ok("vkCreateBuffer", d.create_buffer(&ci, None));
                let req = d.get_buffer_memory_requirements(buffer);
                let ai = vk::MemoryAllocateInfo::default()
                    .allocation_size(req.size)
                    .memory_type_index(gpu.memory_type(req.memory_type_bits, false));
                let memory = ok("vkAllocateMemory", d.allocate_memory(&ai, None));
                ok(
                    "vkBindBufferMemory",
                    d.bind_buffer_memory(buffer, memory, 0),
                );
                Commands::begin(gpu, cb, vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
                d.cmd_fill_buffer(cb, buffer, 0, vk::WHOLE_SIZE, 0);
                let bb = [vk::BufferMemoryBarrier::default()
                    .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
                    .dst_access_mask(vk::AccessFlags::TRANSFER_READ)
                    .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
                    .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
                    .buffer(buffer)
                    .size(vk::WHOLE_SIZE)];
                d.cmd_pipeline_barrier(
                    cb,
                    vk::PipelineStageFlags::TRANSFER,
                    vk::PipelineStageFlags::TRANSFER,
                    vk::DependencyFlags::empty(),
                    &[],
                    &bb,
                    &img_barriers,
                );
                Commands::end(gpu, cb);
                let cbs = [cb];
                let si = vk::SubmitInfo::default().command_buffers(&cbs);
                ok("vkQueueSubmit", d.queue_submit(gpu.queue, &[si], fence));
                ok(
                    "vkWaitForFences",
                    d.wait_for_fences(&[fence], true, u64::MAX),
                );
                ok("vkResetFences", d.reset_fences(&[fence]));
                d.destroy_buffer(buffer, None);
                d.free_memory(memory, None);
            }
        }
    });
    // SAFETY: idle and unused.
    unsafe { d.destroy_fence(fence, None) };
    cmds.destroy(gpu);
    imgs.destroy(gpu);
    Measured {
        intercepted_per_op: intercepted,
        ..m
    }
}

/// The state probe: `n` external buffers with exported memory, left alive so that the
/// layer's summary record at exit measures what it holds for them.
pub fn hold(gpu: &Gpu, n: u64) -> Vec<(vk::Buffer, vk::DeviceMemory)> {
    (0..n)
        .map(|_| {
            let (b, m, _, _) = external_buffer(gpu, vk::BufferUsageFlags::TRANSFER_DST);
            (b, m)
        })
        .collect()
}

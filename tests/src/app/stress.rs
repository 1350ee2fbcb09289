//! `stress`: many threads driving the layer on two devices at once.
//!
//! Every thread owns `SLOTS` units of work and, for each of its `--ops` operations, advances a
//! randomly picked unit (seeded per thread, so a run is reproducible) by one step of the
//! cycle: allocate exportable memory on device X → create an external buffer and bind it →
//! export an OPAQUE_FD → import it on device Y → create and bind Y's buffer → X fills and
//! releases to `VK_QUEUE_FAMILY_EXTERNAL` (submit) → Y acquires from EXTERNAL and fills
//! (submit) → Y releases (submit) → X acquires (submit) → destroy and free both sides.
//! X and Y alternate per unit, so both devices export and import. The queue of each device
//! is shared by all threads behind a mutex (a `VkQueue` is externally synchronized); each
//! thread has its own command pools and fences.
//!
//! - `--threads N` (default 8), `--ops N` per thread (default 10000).
//! - `--keep N` (default 1): after the run each thread keeps N sets of one exported memory
//!   with a bound buffer on X, its import on Y and an unbound external image on X: live
//!   `memory` 2·N·threads, `buffer` and `image` N·threads.
//! - `--misuse`: each thread once fills X's buffer after the release, without acquiring it
//!   back: one `HANDOFF-Ownership-use-while-released` per thread.
//!
//! After the threads end, a second instance is created and destroyed (the layer writes a
//! summary record with the kept objects live), then everything is freed and the main
//! instance destroyed (a summary with nothing live). Progress goes to stderr every second
//! (`stress progress: …`), so a hang shows which thread stopped where.
//!
//! Results: `threads`, `ops` (operations done in total, the final drain included),
//! `cycles` (completed units), `kept` {memory, buffer, image}, `seconds`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ash::vk;
use serde_json::json;

use super::args::Args;
use super::ctx::{Ctx, Dev, InstanceOpts};
use super::ScenarioResult;

const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
/// What each unit's buffers are used for: filled on one device, read back on the other.
const STAGING: vk::BufferUsageFlags = vk::BufferUsageFlags::from_raw(
    vk::BufferUsageFlags::TRANSFER_SRC.as_raw() | vk::BufferUsageFlags::TRANSFER_DST.as_raw(),
);
const SIZE: u64 = 4096;
/// Units of work in flight per thread.
const SLOTS: usize = 4;

/// One device with its queue and the lock that serializes submissions to it.
struct Shared {
    dev: Dev,
    queue: vk::Queue,
    queue_lock: Mutex<()>,
    type_index: u32,
}

/// A thread's own pool and fence on one device.
struct Local {
    pool: vk::CommandPool,
    fence: vk::Fence,
}

/// Where a unit of work stands; each variant names the next step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Allocate,
    BindX,
    Export,
    Import,
    BindY,
    Release,
    Acquire,
    ReleaseBack,
    AcquireBack,
    Free,
}

struct Unit {
    x: usize,
    step: Step,
    mem_x: vk::DeviceMemory,
    buf_x: vk::Buffer,
    fd: i32,
    mem_y: vk::DeviceMemory,
    buf_y: vk::Buffer,
    /// Whether this unit does the deliberate use-while-released.
    misuse: bool,
}

impl Unit {
    fn new(x: usize) -> Unit {
        Unit {
            x,
            step: Step::Allocate,
            mem_x: vk::DeviceMemory::null(),
            buf_x: vk::Buffer::null(),
            fd: -1,
            mem_y: vk::DeviceMemory::null(),
            buf_y: vk::Buffer::null(),
            misuse: false,
        }
    }
}

/// xorshift64: a reproducible choice of the next unit, no dependency needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn bind(dev: &Dev, buffer: vk::Buffer, memory: vk::DeviceMemory) -> Result<(), String> {
    // SAFETY: an unbound buffer and fresh memory of at least SIZE bytes of a type it accepts.
    unsafe { dev.device.bind_buffer_memory(buffer, memory, 0) }
        .map_err(|e| format!("vkBindBufferMemory: {e:?}"))
}

/// What one submission records on `buffer`.
#[derive(Clone, Copy)]
enum Record {
    /// Fill, then release to EXTERNAL.
    FillRelease,
    /// Acquire from EXTERNAL, then fill.
    AcquireFill,
    /// Fill only (the misuse, after a release).
    Fill,
}

/// Records `what` on `buffer` in a fresh command buffer, submits it under the queue lock and
/// waits for this thread's fence outside it.
fn submit(sh: &Shared, local: &Local, buffer: vk::Buffer, what: Record) -> Result<(), String> {
    let d = &sh.dev.device;
    let alloc = vk::CommandBufferAllocateInfo::default()
        .command_pool(local.pool)
        .level(vk::CommandBufferLevel::PRIMARY)
        .command_buffer_count(1);
    // SAFETY: valid device and this thread's own pool.
    let cb = unsafe { d.allocate_command_buffers(&alloc) }
        .map_err(|e| format!("vkAllocateCommandBuffers: {e:?}"))?[0];
    let barrier = |src: u32, dst: u32| {
        let b = [vk::BufferMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .src_queue_family_index(src)
            .dst_queue_family_index(dst)
            .buffer(buffer)
            .size(vk::WHOLE_SIZE)];
        // SAFETY: a recording command buffer; the array is a local.
        unsafe {
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::PipelineStageFlags::ALL_COMMANDS,
                vk::DependencyFlags::empty(),
                &[],
                &b,
                &[],
            )
        };
    };
    // SAFETY: a bound buffer of this device.
    let fill = || unsafe { d.cmd_fill_buffer(cb, buffer, 0, vk::WHOLE_SIZE, 0x5a5a_5a5a) };
    let ext = vk::QUEUE_FAMILY_EXTERNAL;
    // SAFETY: a fresh command buffer of this device, recorded by this thread only.
    unsafe { d.begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default()) }
        .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
    match what {
        Record::FillRelease => {
            fill();
            barrier(0, ext);
        }
        Record::AcquireFill => {
            barrier(ext, 0);
            fill();
        }
        Record::Fill => fill(),
    }
    // SAFETY: the command buffer is recording.
    unsafe { d.end_command_buffer(cb) }.map_err(|e| format!("vkEndCommandBuffer: {e:?}"))?;
    let cbs = [cb];
    let info = [vk::SubmitInfo::default().command_buffers(&cbs)];
    {
        let _q = sh.queue_lock.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: an executable command buffer; the queue is used under its lock only; the
        // fence is unsignaled and this thread's.
        unsafe { d.queue_submit(sh.queue, &info, local.fence) }
            .map_err(|e| format!("vkQueueSubmit: {e:?}"))?;
    }
    // SAFETY: this thread's fence; after the wait the command buffer is no longer pending.
    unsafe {
        d.wait_for_fences(&[local.fence], true, u64::MAX)
            .map_err(|e| format!("vkWaitForFences: {e:?}"))?;
        d.reset_fences(&[local.fence])
            .map_err(|e| format!("vkResetFences: {e:?}"))?;
        d.free_command_buffers(local.pool, &cbs);
    }
    Ok(())
}

/// Advances `u` by one step.
fn advance(sh: &[Shared; 2], locals: &[Local; 2], u: &mut Unit) -> Result<(), String> {
    let (x, y) = (u.x, 1 - u.x);
    let (sx, sy) = (&sh[x], &sh[y]);
    u.step = match u.step {
        Step::Allocate => {
            u.mem_x = sx
                .dev
                .allocate(SIZE, sx.type_index, Some(OPAQUE), None)
                .map_err(|e| format!("vkAllocateMemory (export): {e:?}"))?;
            Step::BindX
        }
        Step::BindX => {
            u.buf_x = sx.dev.external_buffer(SIZE, STAGING)?;
            bind(&sx.dev, u.buf_x, u.mem_x)?;
            Step::Export
        }
        Step::Export => {
            let (r, fd) = sx.dev.get_fd(u.mem_x, OPAQUE, -1);
            if r != vk::Result::SUCCESS || fd < 0 {
                return Err(format!("vkGetMemoryFdKHR: {r:?}"));
            }
            u.fd = fd;
            Step::Import
        }
        Step::Import => {
            // A successful import takes the fd.
            u.mem_y = sy
                .dev
                .allocate(SIZE, sy.type_index, None, Some(u.fd))
                .map_err(|e| format!("vkAllocateMemory (import): {e:?}"))?;
            u.fd = -1;
            Step::BindY
        }
        Step::BindY => {
            u.buf_y = sy.dev.external_buffer(SIZE, STAGING)?;
            bind(&sy.dev, u.buf_y, u.mem_y)?;
            Step::Release
        }
        Step::Release => {
            submit(sx, &locals[x], u.buf_x, Record::FillRelease)?;
            if u.misuse {
                u.misuse = false;
                submit(sx, &locals[x], u.buf_x, Record::Fill)?;
            }
            Step::Acquire
        }
        Step::Acquire => {
            submit(sy, &locals[y], u.buf_y, Record::AcquireFill)?;
            Step::ReleaseBack
        }
        Step::ReleaseBack => {
            submit(sy, &locals[y], u.buf_y, Record::FillRelease)?;
            Step::AcquireBack
        }
        Step::AcquireBack => {
            submit(sx, &locals[x], u.buf_x, Record::AcquireFill)?;
            Step::Free
        }
        Step::Free => {
            // SAFETY: no work is pending (every submission was waited for); each handle is
            // destroyed once, buffers before their memory.
            unsafe {
                sx.dev.device.destroy_buffer(u.buf_x, None);
                sy.dev.device.destroy_buffer(u.buf_y, None);
            }
            sx.dev.free(u.mem_x);
            sy.dev.free(u.mem_y);
            *u = Unit::new(u.x);
            Step::Allocate
        }
    };
    Ok(())
}

/// What a thread keeps alive at the end, freed by the main thread later.
struct Kept {
    x: usize,
    mem_x: vk::DeviceMemory,
    buf_x: vk::Buffer,
    mem_y: vk::DeviceMemory,
    image: vk::Image,
}

fn keep_one(sh: &[Shared; 2], x: usize) -> Result<Kept, String> {
    let mut u = Unit::new(x);
    let (sx, sy) = (&sh[x], &sh[1 - x]);
    u.mem_x = sx
        .dev
        .allocate(SIZE, sx.type_index, Some(OPAQUE), None)
        .map_err(|e| format!("vkAllocateMemory (keep): {e:?}"))?;
    u.buf_x = sx.dev.external_buffer(SIZE, STAGING)?;
    bind(&sx.dev, u.buf_x, u.mem_x)?;
    let (r, fd) = sx.dev.get_fd(u.mem_x, OPAQUE, -1);
    if r != vk::Result::SUCCESS || fd < 0 {
        return Err(format!("vkGetMemoryFdKHR (keep): {r:?}"));
    }
    u.mem_y = sy
        .dev
        .allocate(SIZE, sy.type_index, None, Some(fd))
        .map_err(|e| format!("vkAllocateMemory (keep import): {e:?}"))?;
    Ok(Kept {
        x,
        mem_x: u.mem_x,
        buf_x: u.buf_x,
        mem_y: u.mem_y,
        image: sx.dev.external_image()?,
    })
}

struct ThreadOut {
    ops: u64,
    cycles: u64,
    kept: Vec<Kept>,
}

fn worker(
    t: usize,
    sh: &[Shared; 2],
    ops: u64,
    keep: u64,
    misuse: bool,
    progress: &AtomicU64,
) -> Result<ThreadOut, String> {
    let mut locals = Vec::new();
    for s in sh.iter() {
        let pool_ci = vk::CommandPoolCreateInfo::default().queue_family_index(0);
        // SAFETY: valid device; the pool is used by this thread only.
        let pool = unsafe { s.dev.device.create_command_pool(&pool_ci, None) }
            .map_err(|e| format!("vkCreateCommandPool: {e:?}"))?;
        // SAFETY: valid device.
        let fence = unsafe {
            s.dev
                .device
                .create_fence(&vk::FenceCreateInfo::default(), None)
        }
        .map_err(|e| format!("vkCreateFence: {e:?}"))?;
        locals.push(Local { pool, fence });
    }
    let locals: [Local; 2] = locals.try_into().map_err(|_| "two locals".to_owned())?;
    let mut units: Vec<Unit> = (0..SLOTS).map(|s| Unit::new((t + s) % 2)).collect();
    units[0].misuse = misuse;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((t as u64 + 1) * 0x1000_0000_01b3));
    let mut done = 0u64;
    let mut cycles = 0u64;
    let step = |u: &mut Unit, done: &mut u64, cycles: &mut u64| -> Result<(), String> {
        let was_free = u.step == Step::Free;
        advance(sh, &locals, u)?;
        *done += 1;
        if was_free {
            *cycles += 1;
        }
        progress.store(*done, Ordering::Relaxed);
        Ok(())
    };
    while done < ops {
        let i = (rng.next() % SLOTS as u64) as usize;
        step(&mut units[i], &mut done, &mut cycles)?;
    }
    // Drain: finish every started unit so nothing but the kept sets stays alive.
    for u in &mut units {
        while u.step != Step::Allocate {
            step(u, &mut done, &mut cycles)?;
        }
    }
    let kept = (0..keep)
        .map(|k| keep_one(sh, (t + k as usize) % 2))
        .collect::<Result<Vec<_>, _>>()?;
    for (s, l) in sh.iter().zip(locals.iter()) {
        // SAFETY: nothing of this pool or fence is pending; each is destroyed once.
        unsafe {
            s.dev.device.destroy_command_pool(l.pool, None);
            s.dev.device.destroy_fence(l.fence, None);
        }
    }
    Ok(ThreadOut {
        ops: done,
        cycles,
        kept,
    })
}

pub fn stress(a: &Args) -> ScenarioResult {
    let threads = a.number("--threads", 8)?.max(1) as usize;
    let ops = a.number("--ops", 10_000)?;
    let keep = a.number("--keep", 1)?;
    let misuse = a.flag("--misuse");
    let opts = InstanceOpts::from_args(a);
    let started = Instant::now();

    let ctx = Ctx::new(&opts)?;
    let mut shared = Vec::new();
    for _ in 0..2 {
        let dev = ctx.create_device()?;
        // SAFETY: the queue was requested at device creation (family 0, index 0).
        let queue = unsafe { dev.device.get_device_queue(0, 0) };
        let probe = dev.external_buffer(SIZE, STAGING)?;
        // SAFETY: the probe buffer was just created from this device and is destroyed once.
        let bits = unsafe {
            let r = dev.device.get_buffer_memory_requirements(probe);
            dev.device.destroy_buffer(probe, None);
            r.memory_type_bits
        };
        let host = ctx.host_visible_type()?;
        let type_index = if bits & (1 << host) != 0 {
            host
        } else {
            (0..32)
                .find(|i| bits & (1 << i) != 0)
                .ok_or("no memory type")?
        };
        shared.push(Shared {
            dev,
            queue,
            queue_lock: Mutex::new(()),
            type_index,
        });
    }
    let shared: Arc<[Shared; 2]> =
        Arc::new(shared.try_into().map_err(|_| "two devices".to_owned())?);

    let progress: Arc<Vec<AtomicU64>> = Arc::new((0..threads).map(|_| AtomicU64::new(0)).collect());
    let finished = Arc::new(AtomicBool::new(false));
    let monitor = {
        let (progress, finished) = (progress.clone(), finished.clone());
        std::thread::spawn(move || {
            let mut tick = 0u32;
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                tick += 1;
                if tick.is_multiple_of(10) {
                    let p: Vec<u64> = progress.iter().map(|a| a.load(Ordering::Relaxed)).collect();
                    eprintln!("stress progress (ops per thread): {p:?}");
                }
            }
        })
    };
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (sh, progress) = (shared.clone(), progress.clone());
            std::thread::Builder::new()
                .name(format!("stress-{t}"))
                .spawn(move || worker(t, &sh, ops, keep, misuse, &progress[t]))
                .map_err(|e| format!("spawn: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let mut outs = Vec::new();
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok(o)) => outs.push(o),
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert("a stress thread panicked".to_owned());
            }
        }
    }
    finished.store(true, Ordering::Relaxed);
    let _ = monitor.join();
    if let Some(e) = first_err {
        return Err(e);
    }

    // A second instance's destruction writes a summary while the kept objects are live.
    Ctx::new(&opts)?.destroy();

    let kept: Vec<&Kept> = outs.iter().flat_map(|o| o.kept.iter()).collect();
    for k in &kept {
        let (sx, sy) = (&shared[k.x], &shared[1 - k.x]);
        // SAFETY: the kept objects are idle; each is destroyed once, the buffer before its
        // memory.
        unsafe {
            sx.dev.device.destroy_buffer(k.buf_x, None);
            sx.dev.device.destroy_image(k.image, None);
        }
        sx.dev.free(k.mem_x);
        sy.dev.free(k.mem_y);
    }
    let n = kept.len() as u64;
    let total_ops: u64 = outs.iter().map(|o| o.ops).sum();
    let cycles: u64 = outs.iter().map(|o| o.cycles).sum();
    drop(outs);
    let shared = Arc::try_unwrap(shared).map_err(|_| "devices still shared".to_owned())?;
    for s in shared {
        // SAFETY: every thread has ended; waiting idle before destruction.
        let _ = unsafe { s.dev.device.device_wait_idle() };
        s.dev.destroy();
    }
    ctx.destroy();
    Ok(json!({
        "threads": threads,
        "ops": total_ops,
        "cycles": cycles,
        "kept": { "memory": 2 * n, "buffer": n, "image": n },
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

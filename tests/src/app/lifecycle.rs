//! Lifecycle scenarios: many instance and device lifetimes, the loader unloading and
//! reloading the layer, a device destroyed with live objects, and `fork()` with live state.
//!
//! - `lifecycle`: `--cycles N` (default 10) times: load the loader, create an instance and a
//!   device, allocate exportable memory, bind an external buffer to it, create an external
//!   image, export and close an fd, free everything, destroy the device and the instance.
//!   With `--hold` one more instance lives for the whole run (created first, destroyed last),
//!   so the loader and the layer stay loaded and the layer's state carries from cycle to
//!   cycle; without it every cycle drops its `ash::Entry` (dlclose of libvulkan) and the
//!   loader loads the layer afresh. `--finding` adds, per cycle, vkGetMemoryFdKHR on memory
//!   allocated without export (one VUID finding per cycle: the layer is active after each
//!   reload). Results: `cycles`, `seconds`, `layer_mapped_after` (cycles after which the
//!   layer library was still mapped: /proc/self/maps).
//! - `leak-device`: vkDestroyDevice with an exported memory, a buffer bound to it and an
//!   unbound image alive, then the instance. Results: `device`, `memory`, `buffer`, `image`.
//! - `fork`: an instance and a device with live exported memory; `--threads N` (default 4)
//!   threads allocate, export and free memory in a loop (layer calls) while the main thread
//!   forks `--forks N` (default 20) children without exec. Each child creates an instance
//!   and a device of its own, allocates, exports and frees memory, destroys both, and exits
//!   0; a child still running after `--child-seconds S` (default 20) gets its stacks taken
//!   with gdb and is killed. `--reloads N` (default 0) first runs N instance lifetimes
//!   that each end with the loader unloading the layer (and the ICD), forking a child that
//!   only exits after each while nothing is loaded: fork handlers left behind by an
//!   unloaded library would crash that fork. Results: `children` [{`status`, `hung`,
//!   `stacks`}], `loops`, `reloads`, `layer_mapped_at_reload_forks` (how many of those forks
//!   found the layer still mapped). With `--child-exit` the children end with `exit` (the
//!   process's exit handlers run, the layer's among them) instead of `_exit`. `pids`: the
//!   children's pids, in fork order.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ash::vk;
use ash::vk::Handle;
use serde_json::{json, Value};

use super::args::Args;
use super::ctx::{Ctx, Dev, InstanceOpts};
use super::{handle_hex, ScenarioResult};

const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;

/// Exportable memory with an external buffer bound to it.
fn memory_with_buffer(ctx: &Ctx, dev: &Dev) -> Result<(vk::DeviceMemory, vk::Buffer), String> {
    let buffer = dev.external_buffer(4096, vk::BufferUsageFlags::TRANSFER_DST)?;
    // SAFETY: the buffer was just created from this device.
    let req = unsafe { dev.device.get_buffer_memory_requirements(buffer) };
    let host = ctx.host_visible_type()?;
    let ty = if req.memory_type_bits & (1 << host) != 0 {
        host
    } else {
        (0..32)
            .find(|i| req.memory_type_bits & (1 << i) != 0)
            .ok_or("no memory type")?
    };
    let memory = dev
        .allocate(req.size.max(4096), ty, Some(OPAQUE), None)
        .map_err(|e| format!("vkAllocateMemory: {e:?}"))?;
    // SAFETY: an unbound buffer and fresh memory of a type it accepts, large enough.
    unsafe { dev.device.bind_buffer_memory(buffer, memory, 0) }
        .map_err(|e| format!("vkBindBufferMemory: {e:?}"))?;
    Ok((memory, buffer))
}

/// Exports an OPAQUE_FD of `memory` and closes it.
fn export_and_close(dev: &Dev, memory: vk::DeviceMemory) -> Result<(), String> {
    let (r, fd) = dev.get_fd(memory, OPAQUE, -1);
    if r != vk::Result::SUCCESS || fd < 0 {
        return Err(format!("vkGetMemoryFdKHR: {r:?}"));
    }
    // SAFETY: the fd was just returned to us and is closed once.
    unsafe { libc::close(fd) };
    Ok(())
}

/// One external buffer's life on `dev`: memory and buffer made and bound, an fd exported and
/// closed, both destroyed.
fn export_cycle(ctx: &Ctx, dev: &Dev) -> Result<(), String> {
    let (memory, buffer) = memory_with_buffer(ctx, dev)?;
    export_and_close(dev, memory)?;
    // SAFETY: idle objects of this device, destroyed once, the buffer first.
    unsafe { dev.device.destroy_buffer(buffer, None) };
    dev.free(memory);
    Ok(())
}

/// One instance and device lifetime with some external objects in it.
fn one_cycle(opts: &InstanceOpts, finding: bool) -> Result<(), String> {
    let ctx = Ctx::new(opts)?;
    let dev = ctx.create_device()?;
    let (memory, buffer) = memory_with_buffer(&ctx, &dev)?;
    let image = dev.external_image()?;
    export_and_close(&dev, memory)?;
    if finding {
        let plain = dev
            .allocate(4096, ctx.host_visible_type()?, None, None)
            .map_err(|e| format!("vkAllocateMemory (plain): {e:?}"))?;
        let (_, fd) = dev.get_fd(plain, OPAQUE, -1);
        if fd >= 0 {
            // SAFETY: an fd returned to us, closed once.
            unsafe { libc::close(fd) };
        }
        dev.free(plain);
    }
    // SAFETY: idle objects of this device, each destroyed once, the buffer before its memory.
    unsafe {
        dev.device.destroy_buffer(buffer, None);
        dev.device.destroy_image(image, None);
    }
    dev.free(memory);
    dev.destroy();
    ctx.destroy();
    Ok(())
}

fn layer_mapped() -> bool {
    std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.contains("libVkLayer_handoff.so"))
        .unwrap_or(false)
}

pub fn lifecycle(a: &Args) -> ScenarioResult {
    let cycles = a.number("--cycles", 10)?;
    let finding = a.flag("--finding");
    let opts = InstanceOpts::from_args(a);
    let started = Instant::now();
    let holder = if a.flag("--hold") {
        Some(Ctx::new(&opts)?)
    } else {
        None
    };
    let mut mapped_after = 0u64;
    for c in 0..cycles {
        one_cycle(&opts, finding).map_err(|e| format!("cycle {c}: {e}"))?;
        if layer_mapped() {
            mapped_after += 1;
        }
    }
    if let Some(h) = holder {
        h.destroy();
    }
    Ok(json!({
        "cycles": cycles,
        "seconds": started.elapsed().as_secs_f64(),
        "layer_mapped_after": mapped_after,
    }))
}

/// `thread-exit-after-unload`: `--threads` threads make their first calls into the layer at
/// once (racing to build its maps), then wait while the device and the instance are destroyed
/// and the loader unloads the layer, and only then exit. A thread-exit destructor left
/// registered by the layer would run in unmapped code and kill the process.
pub fn thread_exit_after_unload(a: &Args) -> ScenarioResult {
    let threads = a.number("--threads", 8)? as usize;
    let opts = InstanceOpts::from_args(a);
    let ctx = Arc::new(Ctx::new(&opts)?);
    let dev = Arc::new(ctx.create_device()?);
    let start = Arc::new(std::sync::Barrier::new(threads + 1));
    let called = Arc::new(std::sync::Barrier::new(threads + 1));
    let exit = Arc::new(std::sync::Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (ctx, dev) = (ctx.clone(), dev.clone());
            let (start, called, exit) = (start.clone(), called.clone(), exit.clone());
            std::thread::spawn(move || -> Result<(), String> {
                start.wait();
                let cycle = export_cycle(&ctx, &dev);
                drop((ctx, dev));
                called.wait();
                exit.wait();
                cycle
            })
        })
        .collect();
    start.wait();
    called.wait();
    let dev = Arc::try_unwrap(dev).map_err(|_| "device still shared")?;
    dev.destroy();
    let ctx = Arc::try_unwrap(ctx).map_err(|_| "instance still shared")?;
    ctx.destroy();
    let unloaded = !layer_mapped();
    exit.wait();
    for w in workers {
        w.join().map_err(|_| "a worker panicked")??;
    }
    Ok(json!({ "threads": threads, "layer_unloaded": unloaded }))
}

pub fn leak_device(a: &Args) -> ScenarioResult {
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = ctx.create_device()?;
    let (memory, buffer) = memory_with_buffer(&ctx, &dev)?;
    let image = dev.external_image()?;
    let out = json!({
        "device": handle_hex(dev.handle()),
        "memory": handle_hex(memory.as_raw()),
        "buffer": handle_hex(buffer.as_raw()),
        "image": handle_hex(image.as_raw()),
    });
    // Deliberately invalid: the device goes with its children alive.
    dev.destroy();
    ctx.destroy();
    Ok(out)
}

/// What a forked child does; returns its exit code. Nothing here may print to stdout: the
/// parent's JSON line is the only one.
fn child_work(opts: &InstanceOpts) -> i32 {
    let r = (|| -> Result<(), String> {
        let ctx = Ctx::new(opts)?;
        let dev = ctx.create_device()?;
        export_cycle(&ctx, &dev)?;
        dev.destroy();
        ctx.destroy();
        Ok(())
    })();
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("fork child {}: {e}", std::process::id());
            3
        }
    }
}

/// Waits for `pid` up to `limit`; on timeout takes its stacks and kills it.
fn reap(pid: libc::pid_t, limit: Duration) -> Value {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child; `status` is a local.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            let code = if libc::WIFEXITED(status) {
                json!({ "exit": libc::WEXITSTATUS(status) })
            } else {
                json!({ "signal": libc::WTERMSIG(status) })
            };
            return json!({ "status": code, "hung": false });
        }
        if r < 0 {
            return json!({ "status": "waitpid failed", "hung": false });
        }
        if start.elapsed() > limit {
            let stacks = crate::harness::run::thread_stacks(pid);
            // SAFETY: killing and reaping our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return json!({ "status": "killed", "hung": true, "stacks": stacks });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Forks a child that exits at once, and reaps it: the fork runs every registered fork
/// handler in this process.
fn fork_and_exit() -> Result<(), String> {
    // SAFETY: the child only calls `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(0) };
    }
    if pid < 0 {
        return Err("fork failed".to_owned());
    }
    let mut status = 0;
    // SAFETY: reaping our own child; `status` is a local.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(format!("a fork after an unload: child status {status:#x}"))
    }
}

pub fn fork(a: &Args) -> ScenarioResult {
    let threads = a.number("--threads", 4)?;
    let forks = a.number("--forks", 20)?;
    let limit = Duration::from_secs(a.number("--child-seconds", 20)?);
    let reloads = a.number("--reloads", 0)?;
    let child_exit = a.flag("--child-exit");
    let opts = InstanceOpts::from_args(a);
    let mut mapped_at_reload_forks = 0u64;
    for c in 0..reloads {
        one_cycle(&opts, false).map_err(|e| format!("reload cycle {c}: {e}"))?;
        if layer_mapped() {
            mapped_at_reload_forks += 1;
        }
        fork_and_exit().map_err(|e| format!("reload cycle {c}: {e}"))?;
    }
    let ctx = Arc::new(Ctx::new(&opts)?);
    let dev = Arc::new(ctx.create_device()?);
    let (live, live_buffer) = memory_with_buffer(&ctx, &dev)?;

    let stop = Arc::new(AtomicBool::new(false));
    let loops = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (ctx, dev, stop, loops) = (ctx.clone(), dev.clone(), stop.clone(), loops.clone());
            std::thread::spawn(move || -> Result<(), String> {
                while !stop.load(Ordering::Relaxed) {
                    export_cycle(&ctx, &dev)?;
                    loops.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();

    let mut children = Vec::new();
    let mut pids = Vec::new();
    for i in 0..forks {
        // Let the workers get going, and vary where they are when the fork comes.
        std::thread::sleep(Duration::from_micros(1000 + 700 * i));
        // SAFETY: fork in a threaded process; the child only runs `child_work` (what an app
        // that forks without exec may do: a new instance of its own) and `_exit`s.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let code = child_work(&opts);
            if child_exit {
                // SAFETY: an ordinary exit of the child: exit handlers run (what an app that
                // forks and returns from its worker code does).
                unsafe { libc::exit(code) };
            }
            // SAFETY: ends the child without running the parent's exit handlers or flushing
            // its copied stdout.
            unsafe { libc::_exit(code) };
        }
        if pid < 0 {
            return Err("fork failed".to_owned());
        }
        pids.push(pid);
        children.push(reap(pid, limit));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().map_err(|_| "a worker panicked".to_owned())??;
    }
    // SAFETY: idle objects of this device, destroyed once, the buffer first.
    unsafe { dev.device.destroy_buffer(live_buffer, None) };
    dev.free(live);
    let dev = Arc::try_unwrap(dev).map_err(|_| "device still shared")?;
    dev.destroy();
    let ctx = Arc::try_unwrap(ctx).map_err(|_| "instance still shared")?;
    ctx.destroy();
    Ok(json!({
        "children": children,
        "loops": loops.load(Ordering::Relaxed),
        "reloads": reloads,
        "layer_mapped_at_reload_forks": mapped_at_reload_forks,
        "pids": pids,
    }))
}

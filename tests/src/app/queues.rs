//! `queues`: queues, submissions and pending work (issue 4: the submit tracking, 01142,
//! 01463, 01134, 01135, 03254, 01454, `HANDOFF-Sync-release-without-signal`).
//!
//! `--case NAME` (default `flow`):
//! - `flow`: a correct flow on every queue family: semaphores between two queues, fences,
//!   a timeline (when offered), waits and idle waits, and a SYNC_FD export with a signal
//!   pending (when the extensions are offered and the driver says SYNC_FD is exportable). `--hold` keeps queue 0 held (mock ICD) until the waits.
//! - `release --signal none|semaphore|fence`: a submission that releases an exported
//!   buffer to VK_QUEUE_FAMILY_EXTERNAL.
//! - `import-semaphore`, `import-fence`: an OPAQUE_FD import into a semaphore / fence used
//!   by a submission on a held queue; `--valid` waits for the work first.
//! - `export-waiting`: SYNC_FD export while a held queue waits on the semaphore; `--valid`
//!   submits a signal after the wait.
//! - `export-unsignaled`: signal, wait, idle, then SYNC_FD export; `--valid` signals again.
//! - `export-unsubmitted`: the signal of the exported semaphore waits on a timeline value
//!   nothing signals (the counter was read first); `--valid` submits that signal before.
//! - `export-fence`: SYNC_FD export of a fence that was reset; `--valid` submits it first.
//!
//! `--sync2` (any case): submissions go through vkQueueSubmit2KHR.
//!
//! Results: `device`, `queue`, `semaphore`, `fence`, `hold_found`, `held_status` (the fence
//! status while held), `call` (the checked call's VkResult), `sync_fd_extensions` (an
//! external semaphore or fence fd extension is enabled), `sync_fd_exportable`.

use ash::vk::{self, Handle};
use serde_json::{json, Value};
use std::os::fd::RawFd;

use super::args::Args;
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::{handle_hex, ScenarioResult};

/// `vkHandoffMockHoldQueueEXT` (tests/mock-icd/README.md).
type HoldQueue = unsafe extern "system" fn(vk::Queue, vk::Bool32);

struct Dev {
    device: ash::Device,
    queues: Vec<vk::Queue>,
    sem_fd: Option<ash::khr::external_semaphore_fd::Device>,
    fence_fd: Option<ash::khr::external_fence_fd::Device>,
    timeline: Option<ash::khr::timeline_semaphore::Device>,
    /// `--sync2`: submissions go through vkQueueSubmit2KHR.
    sync2: Option<ash::khr::synchronization2::Device>,
    hold: Option<HoldQueue>,
    /// Whether the driver says a binary semaphore and a fence can export SYNC_FD (NVIDIA's
    /// headless driver offers the fd extensions but exports OPAQUE_FD only).
    sync_fd_exportable: bool,
}

impl Dev {
    fn hold(&self, queue: vk::Queue, on: bool) {
        if let Some(h) = self.hold {
            // SAFETY: the mock's command with its documented signature; a live queue.
            unsafe { h(queue, if on { vk::TRUE } else { vk::FALSE }) };
        }
    }

    fn submit(
        &self,
        queue: vk::Queue,
        waits: &[vk::Semaphore],
        signals: &[vk::Semaphore],
        values: Option<(&[u64], &[u64])>,
        fence: vk::Fence,
    ) -> Result<(), String> {
        if let Some(s2) = &self.sync2 {
            let info = |s: &vk::Semaphore, v: u64| {
                vk::SemaphoreSubmitInfo::default()
                    .semaphore(*s)
                    .value(v)
                    .stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
            };
            let (wv, sv) = values.unwrap_or((&[], &[]));
            let w: Vec<_> = waits
                .iter()
                .enumerate()
                .map(|(i, s)| info(s, wv.get(i).copied().unwrap_or(0)))
                .collect();
            let sg: Vec<_> = signals
                .iter()
                .enumerate()
                .map(|(i, s)| info(s, sv.get(i).copied().unwrap_or(0)))
                .collect();
            let submit = vk::SubmitInfo2::default()
                .wait_semaphore_infos(&w)
                .signal_semaphore_infos(&sg);
            // SAFETY: valid queue; the submit info points at locals alive for the call.
            return unsafe { s2.queue_submit2(queue, &[submit], fence) }
                .map_err(|e| format!("vkQueueSubmit2KHR: {e:?}"));
        }
        let stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; waits.len()];
        let mut tl = vk::TimelineSemaphoreSubmitInfo::default();
        if let Some((w, s)) = values {
            tl = tl.wait_semaphore_values(w).signal_semaphore_values(s);
        }
        let mut submit = vk::SubmitInfo::default()
            .wait_semaphores(waits)
            .wait_dst_stage_mask(&stages)
            .signal_semaphores(signals);
        if values.is_some() {
            submit = submit.push_next(&mut tl);
        }
        // SAFETY: valid queue; the submit info points at locals alive for the call.
        unsafe { self.device.queue_submit(queue, &[submit], fence) }
            .map_err(|e| format!("vkQueueSubmit: {e:?}"))
    }

    fn semaphore(
        &self,
        export: vk::ExternalSemaphoreHandleTypeFlags,
    ) -> Result<vk::Semaphore, String> {
        let mut ex = vk::ExportSemaphoreCreateInfo::default().handle_types(export);
        let mut ci = vk::SemaphoreCreateInfo::default();
        if !export.is_empty() {
            ci = ci.push_next(&mut ex);
        }
        // SAFETY: valid device and create info.
        unsafe { self.device.create_semaphore(&ci, None) }
            .map_err(|e| format!("vkCreateSemaphore: {e:?}"))
    }

    fn timeline_semaphore(&self) -> Result<vk::Semaphore, String> {
        let mut ty = vk::SemaphoreTypeCreateInfo::default()
            .semaphore_type(vk::SemaphoreType::TIMELINE)
            .initial_value(0);
        let ci = vk::SemaphoreCreateInfo::default().push_next(&mut ty);
        // SAFETY: valid device and create info.
        unsafe { self.device.create_semaphore(&ci, None) }
            .map_err(|e| format!("vkCreateSemaphore: {e:?}"))
    }

    fn fence(&self, export: vk::ExternalFenceHandleTypeFlags) -> Result<vk::Fence, String> {
        let mut ex = vk::ExportFenceCreateInfo::default().handle_types(export);
        let mut ci = vk::FenceCreateInfo::default();
        if !export.is_empty() {
            ci = ci.push_next(&mut ex);
        }
        // SAFETY: valid device and create info.
        unsafe { self.device.create_fence(&ci, None) }.map_err(|e| format!("vkCreateFence: {e:?}"))
    }

    fn idle(&self) -> Result<(), String> {
        // SAFETY: valid device.
        unsafe { self.device.device_wait_idle() }.map_err(|e| format!("vkDeviceWaitIdle: {e:?}"))
    }

    fn sem_fd(&self) -> Result<&ash::khr::external_semaphore_fd::Device, String> {
        self.sem_fd
            .as_ref()
            .ok_or_else(|| "VK_KHR_external_semaphore_fd not offered".to_owned())
    }

    fn fence_fd(&self) -> Result<&ash::khr::external_fence_fd::Device, String> {
        self.fence_fd
            .as_ref()
            .ok_or_else(|| "VK_KHR_external_fence_fd not offered".to_owned())
    }

    fn timeline(&self) -> Result<&ash::khr::timeline_semaphore::Device, String> {
        self.timeline
            .as_ref()
            .ok_or_else(|| "VK_KHR_timeline_semaphore not offered".to_owned())
    }

    /// SYNC_FD export of a semaphore: the call's result, the fd closed.
    fn export_sync_semaphore(&self, s: vk::Semaphore) -> Result<vk::Result, String> {
        let info = vk::SemaphoreGetFdInfoKHR::default()
            .semaphore(s)
            .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
        // SAFETY: valid info.
        Ok(match unsafe { self.sem_fd()?.get_semaphore_fd(&info) } {
            Ok(fd) => {
                close(fd);
                vk::Result::SUCCESS
            }
            Err(e) => e,
        })
    }
}

fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: an fd this scenario owns, closed once.
        unsafe { libc::close(fd) };
    }
}

fn create_device(ctx: &Ctx, want_sync2: bool) -> Result<Dev, String> {
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
    let mut exts = Vec::new();
    for name in [
        ash::khr::external_memory_fd::NAME,
        ash::khr::external_semaphore_fd::NAME,
        ash::khr::external_fence_fd::NAME,
        ash::khr::timeline_semaphore::NAME,
    ] {
        if has(name) {
            exts.push(name.as_ptr());
        }
    }
    let timeline = has(ash::khr::timeline_semaphore::NAME);
    let sync2 = want_sync2 && has(ash::khr::synchronization2::NAME);
    if want_sync2 && !sync2 {
        return Err("VK_KHR_synchronization2 not offered".into());
    }
    if sync2 {
        exts.push(ash::khr::synchronization2::NAME.as_ptr());
    }
    let mut s2_features =
        vk::PhysicalDeviceSynchronization2Features::default().synchronization2(true);
    let mut tl_features =
        vk::PhysicalDeviceTimelineSemaphoreFeatures::default().timeline_semaphore(true);
    // SAFETY: valid physical device.
    let families = unsafe {
        ctx.instance
            .get_physical_device_queue_family_properties(ctx.physical)
    }
    .len() as u32;
    let prio = [1.0f32];
    let queue_infos: Vec<vk::DeviceQueueCreateInfo<'_>> = (0..families)
        .map(|f| {
            vk::DeviceQueueCreateInfo::default()
                .queue_family_index(f)
                .queue_priorities(&prio)
        })
        .collect();
    let mut ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queue_infos)
        .enabled_extension_names(&exts);
    if timeline {
        ci = ci.push_next(&mut tl_features);
    }
    if sync2 {
        ci = ci.push_next(&mut s2_features);
    }
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(ctx.physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    let mut queues = Vec::new();
    for f in 0..families {
        let queue = if f == 0 {
            let info = vk::DeviceQueueInfo2::default()
                .queue_family_index(0)
                .queue_index(0);
            // SAFETY: family 0 index 0 was created with no flags.
            unsafe { device.get_device_queue2(&info) }
        } else {
            // SAFETY: one queue of each family was created.
            unsafe { device.get_device_queue(f, 0) }
        };
        queues.push(queue);
    }
    // SAFETY: a live device; a NUL-terminated name.
    let hold = unsafe {
        ctx.instance
            .get_device_proc_addr(device.handle(), c"vkHandoffMockHoldQueueEXT".as_ptr())
    }
    .map(|f| {
        // SAFETY: the mock's command has this signature (its README).
        unsafe { std::mem::transmute::<unsafe extern "system" fn(), HoldQueue>(f) }
    });
    let sync_fd_exportable = sync_fd_exportable(ctx);
    Ok(Dev {
        sync_fd_exportable,
        sem_fd: has(ash::khr::external_semaphore_fd::NAME)
            .then(|| ash::khr::external_semaphore_fd::Device::new(&ctx.instance, &device)),
        fence_fd: has(ash::khr::external_fence_fd::NAME)
            .then(|| ash::khr::external_fence_fd::Device::new(&ctx.instance, &device)),
        timeline: timeline
            .then(|| ash::khr::timeline_semaphore::Device::new(&ctx.instance, &device)),
        sync2: sync2.then(|| ash::khr::synchronization2::Device::new(&ctx.instance, &device)),
        device,
        queues,
        hold,
    })
}

/// What vkGetPhysicalDeviceExternal{Semaphore,Fence}Properties say about SYNC_FD export.
fn sync_fd_exportable(ctx: &Ctx) -> bool {
    let sem_info = vk::PhysicalDeviceExternalSemaphoreInfo::default()
        .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
    let mut sem = vk::ExternalSemaphoreProperties::default();
    // SAFETY: valid physical device; the structs are locals alive for the call.
    unsafe {
        ctx.instance
            .get_physical_device_external_semaphore_properties(ctx.physical, &sem_info, &mut sem)
    };
    let fence_info = vk::PhysicalDeviceExternalFenceInfo::default()
        .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
    let mut fence = vk::ExternalFenceProperties::default();
    // SAFETY: as above.
    unsafe {
        ctx.instance.get_physical_device_external_fence_properties(
            ctx.physical,
            &fence_info,
            &mut fence,
        )
    };
    sem.external_semaphore_features
        .contains(vk::ExternalSemaphoreFeatureFlags::EXPORTABLE)
        && fence
            .external_fence_features
            .contains(vk::ExternalFenceFeatureFlags::EXPORTABLE)
}

pub fn queues(a: &Args) -> ScenarioResult {
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = create_device(&ctx, a.flag("--sync2"))?;
    let valid = a.flag("--valid");
    let mut out = json!({
        "device": handle_hex(dev.device.handle().as_raw()),
        "queue": handle_hex(dev.queues[0].as_raw()),
        "hold_found": dev.hold.is_some(),
        // The layer's condition for HANDOFF-Sync-release-without-signal.
        "sync_fd_extensions": dev.sem_fd.is_some() || dev.fence_fd.is_some(),
        "sync_fd_exportable": dev.sync_fd_exportable,
    });
    let res = match a.value_or("--case", "flow") {
        "flow" => flow(&dev, a.flag("--hold"), &mut out),
        "release" => release(&ctx, &dev, a.value_or("--signal", "none"), &mut out),
        "import-semaphore" => import_semaphore(&dev, valid, &mut out),
        "import-fence" => import_fence(&dev, valid, &mut out),
        "export-waiting" => export_waiting(&dev, valid, &mut out),
        "export-unsignaled" => export_unsignaled(&dev, valid, &mut out),
        "export-unsubmitted" => export_unsubmitted(&dev, valid, &mut out),
        "export-fence" => export_fence(&dev, valid, &mut out),
        other => Err(format!("unknown case {other:?}")),
    };
    // Whatever happened, let the queues drain before the device goes.
    for q in &dev.queues {
        dev.hold(*q, false);
    }
    let _ = dev.idle();
    // SAFETY: every child object was destroyed by the case; the device is idle.
    unsafe { dev.device.destroy_device(None) };
    ctx.destroy();
    res.map(|()| out)
}

fn set(out: &mut Value, key: &str, v: impl Into<Value>) {
    out[key] = v.into();
}

/// A correct flow: zero findings.
fn flow(dev: &Dev, hold: bool, out: &mut Value) -> Result<(), String> {
    let q0 = dev.queues[0];
    let q1 = *dev.queues.last().unwrap_or(&q0);
    let s = dev.semaphore(vk::ExternalSemaphoreHandleTypeFlags::empty())?;
    let f = dev.fence(vk::ExternalFenceHandleTypeFlags::empty())?;
    let f2 = dev.fence(vk::ExternalFenceHandleTypeFlags::empty())?;
    if hold {
        dev.hold(q0, true);
    }
    dev.submit(q0, &[], &[s], None, f)?;
    dev.submit(q1, &[s], &[], None, f2)?;
    if hold {
        // SAFETY: a live fence.
        let st = match unsafe { dev.device.get_fence_status(f) } {
            Ok(true) => vk::Result::SUCCESS,
            Ok(false) => vk::Result::NOT_READY,
            Err(e) => e,
        };
        set(out, "held_status", result_json(st));
        // SAFETY: a live fence.
        let r = unsafe { dev.device.wait_for_fences(&[f], true, 1_000_000) };
        set(
            out,
            "held_wait",
            result_json(r.err().unwrap_or(vk::Result::SUCCESS)),
        );
        dev.hold(q0, false);
    }
    // SAFETY: live fences.
    unsafe { dev.device.wait_for_fences(&[f, f2], true, u64::MAX) }
        .map_err(|e| format!("vkWaitForFences: {e:?}"))?;
    // SAFETY: live fences, signaled and no longer used by pending work.
    unsafe { dev.device.reset_fences(&[f, f2]) }.map_err(|e| format!("vkResetFences: {e:?}"))?;
    // Queue wait idle after a plain submission with a fence.
    dev.submit(q0, &[], &[], None, f)?;
    // SAFETY: valid queue.
    unsafe { dev.device.queue_wait_idle(q0) }.map_err(|e| format!("vkQueueWaitIdle: {e:?}"))?;
    // SAFETY: a live fence.
    let st = unsafe { dev.device.get_fence_status(f) };
    set(out, "status_after_idle", st.is_ok_and(|b| b));
    if let Ok(tl) = dev.timeline() {
        let t = dev.timeline_semaphore()?;
        dev.submit(q1, &[], &[t], Some((&[], &[1])), vk::Fence::null())?;
        let sems = [t];
        let values = [1u64];
        let wait = vk::SemaphoreWaitInfo::default()
            .semaphores(&sems)
            .values(&values);
        // SAFETY: valid wait info.
        unsafe { tl.wait_semaphores(&wait, u64::MAX) }
            .map_err(|e| format!("vkWaitSemaphoresKHR: {e:?}"))?;
        // SAFETY: a live timeline semaphore.
        let v = unsafe { tl.get_semaphore_counter_value(t) }
            .map_err(|e| format!("vkGetSemaphoreCounterValueKHR: {e:?}"))?;
        set(out, "counter", v);
        let signal = vk::SemaphoreSignalInfo::default().semaphore(t).value(2);
        // SAFETY: valid signal info.
        unsafe { tl.signal_semaphore(&signal) }
            .map_err(|e| format!("vkSignalSemaphoreKHR: {e:?}"))?;
        dev.idle()?;
        // SAFETY: no pending work uses it.
        unsafe { dev.device.destroy_semaphore(t, None) };
    }
    if dev.sem_fd.is_some() && dev.fence_fd.is_some() && dev.sync_fd_exportable {
        // SYNC_FD exports with the signal pending (held when the mock can), then after it.
        let x = dev.semaphore(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)?;
        let xf = dev.fence(vk::ExternalFenceHandleTypeFlags::SYNC_FD)?;
        dev.hold(q0, true);
        dev.submit(q0, &[], &[x], None, xf)?;
        set(out, "call", result_json(dev.export_sync_semaphore(x)?));
        let info = vk::FenceGetFdInfoKHR::default()
            .fence(xf)
            .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
        // SAFETY: valid info.
        let fd = unsafe { dev.fence_fd()?.get_fence_fd(&info) }
            .map_err(|e| format!("vkGetFenceFdKHR: {e:?}"))?;
        close(fd);
        dev.hold(q0, false);
        dev.idle()?;
        // SAFETY: no pending work uses them.
        unsafe {
            dev.device.destroy_semaphore(x, None);
            dev.device.destroy_fence(xf, None);
        }
    }
    dev.idle()?;
    // SAFETY: no pending work uses them.
    unsafe {
        dev.device.destroy_semaphore(s, None);
        dev.device.destroy_fence(f, None);
        dev.device.destroy_fence(f2, None);
    }
    Ok(())
}

/// A release of an exported buffer to VK_QUEUE_FAMILY_EXTERNAL, submitted with `signal`.
fn release(ctx: &Ctx, dev: &Dev, signal: &str, out: &mut Value) -> Result<(), String> {
    let d = &dev.device;
    let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    let mut buf_ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(opaque);
    let bci = vk::BufferCreateInfo::default()
        .size(4096)
        .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
        .push_next(&mut buf_ext);
    // SAFETY: valid device and create info.
    let buffer =
        unsafe { d.create_buffer(&bci, None) }.map_err(|e| format!("vkCreateBuffer: {e:?}"))?;
    // SAFETY: a live buffer.
    let reqs = unsafe { d.get_buffer_memory_requirements(buffer) };
    let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(opaque);
    let ai = vk::MemoryAllocateInfo::default()
        .allocation_size(reqs.size.max(4096))
        .memory_type_index(ctx.host_visible_type()?)
        .push_next(&mut export);
    // SAFETY: valid device and allocate info.
    let memory =
        unsafe { d.allocate_memory(&ai, None) }.map_err(|e| format!("vkAllocateMemory: {e:?}"))?;
    // SAFETY: live objects; offset 0 fits.
    unsafe { d.bind_buffer_memory(buffer, memory, 0) }
        .map_err(|e| format!("vkBindBufferMemory: {e:?}"))?;
    let pool_ci = vk::CommandPoolCreateInfo::default().queue_family_index(0);
    // SAFETY: valid device.
    let pool = unsafe { d.create_command_pool(&pool_ci, None) }
        .map_err(|e| format!("vkCreateCommandPool: {e:?}"))?;
    let alloc = vk::CommandBufferAllocateInfo::default()
        .command_pool(pool)
        .command_buffer_count(1);
    // SAFETY: valid device and pool.
    let cb = unsafe { d.allocate_command_buffers(&alloc) }
        .map_err(|e| format!("vkAllocateCommandBuffers: {e:?}"))?[0];
    let barrier = vk::BufferMemoryBarrier::default()
        .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
        .src_queue_family_index(0)
        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
        .buffer(buffer)
        .size(vk::WHOLE_SIZE);
    // SAFETY: a live command buffer; recording one barrier.
    unsafe {
        d.begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default())
            .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
        d.cmd_pipeline_barrier(
            cb,
            vk::PipelineStageFlags::TRANSFER,
            vk::PipelineStageFlags::BOTTOM_OF_PIPE,
            vk::DependencyFlags::empty(),
            &[],
            &[barrier],
            &[],
        );
        d.end_command_buffer(cb)
            .map_err(|e| format!("vkEndCommandBuffer: {e:?}"))?;
    }
    let s = dev.semaphore(vk::ExternalSemaphoreHandleTypeFlags::empty())?;
    let f = dev.fence(vk::ExternalFenceHandleTypeFlags::empty())?;
    let sems = [s];
    let cbs = [cb];
    let mut submit = vk::SubmitInfo::default().command_buffers(&cbs);
    let mut fence = vk::Fence::null();
    match signal {
        "semaphore" => submit = submit.signal_semaphores(&sems),
        "fence" => fence = f,
        _ => {}
    }
    // SAFETY: valid queue; the submit info points at locals alive for the call.
    let r = unsafe { d.queue_submit(dev.queues[0], &[submit], fence) };
    set(
        out,
        "call",
        result_json(r.err().unwrap_or(vk::Result::SUCCESS)),
    );
    set(out, "command_buffer", handle_hex(cb.as_raw()));
    dev.idle()?;
    // SAFETY: the device is idle; each object destroyed once.
    unsafe {
        d.destroy_command_pool(pool, None);
        d.destroy_buffer(buffer, None);
        d.free_memory(memory, None);
        d.destroy_semaphore(s, None);
        d.destroy_fence(f, None);
    }
    Ok(())
}

/// 01142: an OPAQUE_FD import into a semaphore a held submission signals.
fn import_semaphore(dev: &Dev, valid: bool, out: &mut Value) -> Result<(), String> {
    let q = dev.queues[0];
    let opaque = vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD;
    let source = dev.semaphore(opaque)?;
    let target = dev.semaphore(opaque)?;
    let f = dev.fence(vk::ExternalFenceHandleTypeFlags::empty())?;
    set(out, "semaphore", handle_hex(target.as_raw()));
    dev.hold(q, true);
    dev.submit(q, &[], &[target], None, f)?;
    if valid {
        dev.hold(q, false);
        // SAFETY: a live fence.
        unsafe { dev.device.wait_for_fences(&[f], true, u64::MAX) }
            .map_err(|e| format!("vkWaitForFences: {e:?}"))?;
    }
    let info = vk::SemaphoreGetFdInfoKHR::default()
        .semaphore(source)
        .handle_type(opaque);
    // SAFETY: valid info.
    let fd = unsafe { dev.sem_fd()?.get_semaphore_fd(&info) }
        .map_err(|e| format!("vkGetSemaphoreFdKHR: {e:?}"))?;
    let import = vk::ImportSemaphoreFdInfoKHR::default()
        .semaphore(target)
        .handle_type(opaque)
        .fd(fd);
    // SAFETY: valid info; a successful import takes the fd.
    let r = unsafe { dev.sem_fd()?.import_semaphore_fd(&import) };
    if r.is_err() {
        close(fd);
    }
    set(
        out,
        "call",
        result_json(r.err().unwrap_or(vk::Result::SUCCESS)),
    );
    dev.hold(q, false);
    dev.idle()?;
    // SAFETY: the device is idle.
    unsafe {
        dev.device.destroy_semaphore(source, None);
        dev.device.destroy_semaphore(target, None);
        dev.device.destroy_fence(f, None);
    }
    Ok(())
}

/// 01463: an OPAQUE_FD import into a fence of a held submission.
fn import_fence(dev: &Dev, valid: bool, out: &mut Value) -> Result<(), String> {
    let q = dev.queues[0];
    let opaque = vk::ExternalFenceHandleTypeFlags::OPAQUE_FD;
    let source = dev.fence(opaque)?;
    let target = dev.fence(opaque)?;
    set(out, "fence", handle_hex(target.as_raw()));
    dev.hold(q, true);
    dev.submit(q, &[], &[], None, target)?;
    if valid {
        dev.hold(q, false);
        // SAFETY: valid queue.
        unsafe { dev.device.queue_wait_idle(q) }.map_err(|e| format!("vkQueueWaitIdle: {e:?}"))?;
    }
    let info = vk::FenceGetFdInfoKHR::default()
        .fence(source)
        .handle_type(opaque);
    // SAFETY: valid info.
    let fd = unsafe { dev.fence_fd()?.get_fence_fd(&info) }
        .map_err(|e| format!("vkGetFenceFdKHR: {e:?}"))?;
    let import = vk::ImportFenceFdInfoKHR::default()
        .fence(target)
        .handle_type(opaque)
        .fd(fd);
    // SAFETY: valid info; a successful import takes the fd.
    let r = unsafe { dev.fence_fd()?.import_fence_fd(&import) };
    if r.is_err() {
        close(fd);
    }
    set(
        out,
        "call",
        result_json(r.err().unwrap_or(vk::Result::SUCCESS)),
    );
    dev.hold(q, false);
    dev.idle()?;
    // SAFETY: the device is idle.
    unsafe {
        dev.device.destroy_fence(source, None);
        dev.device.destroy_fence(target, None);
    }
    Ok(())
}

/// 01134: SYNC_FD export while a held queue waits on the semaphore.
fn export_waiting(dev: &Dev, valid: bool, out: &mut Value) -> Result<(), String> {
    let q = dev.queues[0];
    let s = dev.semaphore(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)?;
    set(out, "semaphore", handle_hex(s.as_raw()));
    dev.hold(q, true);
    dev.submit(q, &[], &[s], None, vk::Fence::null())?;
    dev.submit(q, &[s], &[], None, vk::Fence::null())?;
    if valid {
        dev.submit(q, &[], &[s], None, vk::Fence::null())?;
    }
    set(out, "call", result_json(dev.export_sync_semaphore(s)?));
    dev.hold(q, false);
    dev.idle()?;
    // SAFETY: the device is idle.
    unsafe { dev.device.destroy_semaphore(s, None) };
    Ok(())
}

/// 01135: SYNC_FD export after the last signal was consumed by a completed wait.
fn export_unsignaled(dev: &Dev, valid: bool, out: &mut Value) -> Result<(), String> {
    let q = dev.queues[0];
    let s = dev.semaphore(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)?;
    set(out, "semaphore", handle_hex(s.as_raw()));
    dev.submit(q, &[], &[s], None, vk::Fence::null())?;
    dev.submit(q, &[s], &[], None, vk::Fence::null())?;
    dev.idle()?;
    if valid {
        dev.submit(q, &[], &[s], None, vk::Fence::null())?;
    }
    set(out, "call", result_json(dev.export_sync_semaphore(s)?));
    dev.idle()?;
    // SAFETY: the device is idle.
    unsafe { dev.device.destroy_semaphore(s, None) };
    Ok(())
}

/// 03254: the exported semaphore's signal waits on a timeline value nothing signals yet.
fn export_unsubmitted(dev: &Dev, valid: bool, out: &mut Value) -> Result<(), String> {
    let q = dev.queues[0];
    let tl = dev.timeline()?;
    let t = dev.timeline_semaphore()?;
    let s = dev.semaphore(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD)?;
    set(out, "semaphore", handle_hex(s.as_raw()));
    set(out, "timeline", handle_hex(t.as_raw()));
    // SAFETY: a live timeline semaphore.
    let v = unsafe { tl.get_semaphore_counter_value(t) }
        .map_err(|e| format!("vkGetSemaphoreCounterValueKHR: {e:?}"))?;
    set(out, "counter", v);
    if valid {
        dev.submit(q, &[], &[t], Some((&[], &[5])), vk::Fence::null())?;
    }
    dev.submit(q, &[t], &[s], Some((&[5], &[0])), vk::Fence::null())?;
    set(out, "call", result_json(dev.export_sync_semaphore(s)?));
    // Let the wait-before-signal resolve before the idle wait.
    let signal = vk::SemaphoreSignalInfo::default().semaphore(t).value(6);
    // SAFETY: valid signal info.
    unsafe { tl.signal_semaphore(&signal) }.map_err(|e| format!("vkSignalSemaphoreKHR: {e:?}"))?;
    dev.idle()?;
    // SAFETY: the device is idle.
    unsafe {
        dev.device.destroy_semaphore(s, None);
        dev.device.destroy_semaphore(t, None);
    }
    Ok(())
}

/// 01454: SYNC_FD export of a fence that was waited on and reset.
fn export_fence(dev: &Dev, valid: bool, out: &mut Value) -> Result<(), String> {
    let q = dev.queues[0];
    let f = dev.fence(vk::ExternalFenceHandleTypeFlags::SYNC_FD)?;
    set(out, "fence", handle_hex(f.as_raw()));
    dev.submit(q, &[], &[], None, f)?;
    // SAFETY: a live fence.
    unsafe { dev.device.wait_for_fences(&[f], true, u64::MAX) }
        .map_err(|e| format!("vkWaitForFences: {e:?}"))?;
    // SAFETY: a signaled fence no pending work uses.
    unsafe { dev.device.reset_fences(&[f]) }.map_err(|e| format!("vkResetFences: {e:?}"))?;
    if valid {
        dev.hold(q, true);
        dev.submit(q, &[], &[], None, f)?;
    }
    let info = vk::FenceGetFdInfoKHR::default()
        .fence(f)
        .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
    // SAFETY: valid info.
    let r = unsafe { dev.fence_fd()?.get_fence_fd(&info) };
    if let Ok(fd) = r {
        close(fd);
    }
    set(
        out,
        "call",
        result_json(r.err().unwrap_or(vk::Result::SUCCESS)),
    );
    dev.hold(q, false);
    dev.idle()?;
    // SAFETY: the device is idle.
    unsafe { dev.device.destroy_fence(f, None) };
    Ok(())
}

//! `sync`: external semaphores and fences (RULES-TARGET 1.15, 1.16): create with export
//! types, export an fd, import it into a second object (same device, another physical
//! device, or a device of a second instance), and export again from the importer.
//!
//! Arguments:
//! - `--kind semaphore|fence`; `--handle-type opaque|sync|N` (the exported type; default opaque)
//! - `--export-types N` (default: the handle type), `--export-timeline`, `--export-flags N`;
//!   `--export-types unsupported`: the first handle type the driver says it cannot export
//!   (fd types first, then the rest the spec defines), in the result `export_types`
//! - `--no-export`: create only (the exporter, as configured)
//! - `--get-type T` (ask the export for another type), `--null-fd`, `--unknown-export`
//!   (export from a destroyed object)
//! - `--import-type T` (default: the exported type), `--import-flags N`,
//!   `--import-timeline`, `--import-create-flags N`, `--import-export-types N`,
//!   `--unknown-import` (import into a destroyed object)
//! - `--fd-source export|closed|negative|minus-one|pipe|directory|memory|other-kind` (what is imported)
//! - `--import-physical I` / `--import-instance`: the importer's device elsewhere
//! - `--then-export T`: export T from the importer after the import; `--reset-first`
//!   (fences: vkResetFences between the import and that export), `--wait-first`
//!   (semaphores: a submission waits on it first)
//! - `--dup`: import a dup of the fd (the same open file, another number)
//! - `--import-as-memory`: import the exported fd with vkAllocateMemory instead
//! - `--no-signal`: no submission signals the exporter before a SYNC_FD export
//!
//! Results: `create`, `export`, `import`, `reexport`, `memory_import` (VkResult objects),
//! `exporter`, `importer` (handles).

use std::os::fd::RawFd;

use ash::vk::{self, Handle};
use serde_json::{json, Value};

use super::args::{parse_u64, Args};
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::{handle_hex, ScenarioResult};

struct Device {
    device: ash::Device,
    queue: vk::Queue,
    semaphore_fd: ash::khr::external_semaphore_fd::Device,
    fence_fd: ash::khr::external_fence_fd::Device,
    memory_fd: ash::khr::external_memory_fd::Device,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Semaphore,
    Fence,
}

/// One semaphore or fence (raw handle).
#[derive(Clone, Copy)]
struct Object {
    kind: Kind,
    handle: u64,
}

fn create_device(ctx: &Ctx, physical: vk::PhysicalDevice) -> Result<Device, String> {
    // SAFETY: valid physical device.
    let props = unsafe { ctx.instance.enumerate_device_extension_properties(physical) }
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
    let mut timeline = vk::PhysicalDeviceTimelineSemaphoreFeatures::default()
        .timeline_semaphore(has(ash::khr::timeline_semaphore::NAME));
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&prio)];
    let mut ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts);
    if has(ash::khr::timeline_semaphore::NAME) {
        ci = ci.push_next(&mut timeline);
    }
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    // SAFETY: family 0, index 0 was requested above.
    let queue = unsafe { device.get_device_queue(0, 0) };
    Ok(Device {
        semaphore_fd: ash::khr::external_semaphore_fd::Device::new(&ctx.instance, &device),
        fence_fd: ash::khr::external_fence_fd::Device::new(&ctx.instance, &device),
        memory_fd: ash::khr::external_memory_fd::Device::new(&ctx.instance, &device),
        device,
        queue,
    })
}

/// The handle-type bit of `name` for `kind`.
fn handle_type(kind: Kind, name: &str) -> Result<u32, String> {
    Ok(match name {
        "opaque" => 0x1,
        "sync" => match kind {
            Kind::Semaphore => vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD.as_raw(),
            Kind::Fence => vk::ExternalFenceHandleTypeFlags::SYNC_FD.as_raw(),
        },
        other => parse_u64(other).ok_or_else(|| format!("bad handle type {other:?}"))? as u32,
    })
}

/// The first handle type `vkGetPhysicalDeviceExternal{Semaphore,Fence}Properties` does not
/// call EXPORTABLE for a binary semaphore / a fence: an unsupported type on any driver.
fn first_unexportable(ctx: &Ctx, kind: Kind) -> Result<u32, String> {
    let candidates: &[u32] = match kind {
        Kind::Semaphore => &[0x1, 0x10, 0x2, 0x4, 0x8, 0x80],
        Kind::Fence => &[0x1, 0x8, 0x2, 0x4],
    };
    let exportable = |bit: u32| match kind {
        Kind::Semaphore => {
            let info = vk::PhysicalDeviceExternalSemaphoreInfo::default()
                .handle_type(vk::ExternalSemaphoreHandleTypeFlags::from_raw(bit));
            let mut props = vk::ExternalSemaphoreProperties::default();
            // SAFETY: valid physical device; locals alive for the call.
            unsafe {
                ctx.instance
                    .get_physical_device_external_semaphore_properties(
                        ctx.physical,
                        &info,
                        &mut props,
                    )
            };
            props
                .external_semaphore_features
                .contains(vk::ExternalSemaphoreFeatureFlags::EXPORTABLE)
        }
        Kind::Fence => {
            let info = vk::PhysicalDeviceExternalFenceInfo::default()
                .handle_type(vk::ExternalFenceHandleTypeFlags::from_raw(bit));
            let mut props = vk::ExternalFenceProperties::default();
            // SAFETY: valid physical device; locals alive for the call.
            unsafe {
                ctx.instance.get_physical_device_external_fence_properties(
                    ctx.physical,
                    &info,
                    &mut props,
                )
            };
            props
                .external_fence_features
                .contains(vk::ExternalFenceFeatureFlags::EXPORTABLE)
        }
    };
    candidates
        .iter()
        .copied()
        .find(|&bit| !exportable(bit))
        .ok_or_else(|| "the driver exports every defined handle type".to_string())
}

fn create(
    dev: &Device,
    kind: Kind,
    export_types: u32,
    timeline: bool,
    flags: u32,
) -> (vk::Result, Object) {
    let d = dev.device.handle();
    let mut handle = 0u64;
    let r = match kind {
        Kind::Semaphore => {
            let mut export = vk::ExportSemaphoreCreateInfo::default()
                .handle_types(vk::ExternalSemaphoreHandleTypeFlags::from_raw(export_types));
            let mut ty =
                vk::SemaphoreTypeCreateInfo::default().semaphore_type(vk::SemaphoreType::TIMELINE);
            let mut ci =
                vk::SemaphoreCreateInfo::default().flags(vk::SemaphoreCreateFlags::from_raw(flags));
            if export_types != 0 {
                ci = ci.push_next(&mut export);
            }
            if timeline {
                ci = ci.push_next(&mut ty);
            }
            let mut s = vk::Semaphore::null();
            // SAFETY: valid device; `ci` points at locals alive for the call.
            let r = unsafe {
                (dev.device.fp_v1_0().create_semaphore)(d, &ci, std::ptr::null(), &mut s)
            };
            handle = s.as_raw();
            r
        }
        Kind::Fence => {
            let mut export = vk::ExportFenceCreateInfo::default()
                .handle_types(vk::ExternalFenceHandleTypeFlags::from_raw(export_types));
            let mut ci =
                vk::FenceCreateInfo::default().flags(vk::FenceCreateFlags::from_raw(flags));
            if export_types != 0 {
                ci = ci.push_next(&mut export);
            }
            let mut f = vk::Fence::null();
            // SAFETY: valid device; `ci` points at locals alive for the call.
            let r =
                unsafe { (dev.device.fp_v1_0().create_fence)(d, &ci, std::ptr::null(), &mut f) };
            if r == vk::Result::SUCCESS {
                handle = f.as_raw();
            }
            r
        }
    };
    (r, Object { kind, handle })
}

fn destroy(dev: &Device, o: Object) {
    // SAFETY: a handle this scenario created (or null), destroyed once, not in use.
    unsafe {
        match o.kind {
            Kind::Semaphore => dev
                .device
                .destroy_semaphore(vk::Semaphore::from_raw(o.handle), None),
            Kind::Fence => dev
                .device
                .destroy_fence(vk::Fence::from_raw(o.handle), None),
        }
    }
}

fn get_fd(dev: &Device, o: Object, ty: u32, null_fd: bool) -> (vk::Result, RawFd) {
    let mut fd: RawFd = -1;
    let p_fd: *mut RawFd = if null_fd {
        std::ptr::null_mut()
    } else {
        &mut fd
    };
    let d = dev.device.handle();
    // SAFETY: valid device and info; a null pFd is passed on purpose (the layer stops it).
    let r = unsafe {
        match o.kind {
            Kind::Semaphore => {
                let info = vk::SemaphoreGetFdInfoKHR::default()
                    .semaphore(vk::Semaphore::from_raw(o.handle))
                    .handle_type(vk::ExternalSemaphoreHandleTypeFlags::from_raw(ty));
                (dev.semaphore_fd.fp().get_semaphore_fd_khr)(d, &info, p_fd)
            }
            Kind::Fence => {
                let info = vk::FenceGetFdInfoKHR::default()
                    .fence(vk::Fence::from_raw(o.handle))
                    .handle_type(vk::ExternalFenceHandleTypeFlags::from_raw(ty));
                (dev.fence_fd.fp().get_fence_fd_khr)(d, &info, p_fd)
            }
        }
    };
    (r, fd)
}

fn import(dev: &Device, o: Object, ty: u32, flags: u32, fd: RawFd) -> vk::Result {
    let d = dev.device.handle();
    // SAFETY: valid device and info; the fd may be wrong on purpose.
    unsafe {
        match o.kind {
            Kind::Semaphore => {
                let info = vk::ImportSemaphoreFdInfoKHR::default()
                    .semaphore(vk::Semaphore::from_raw(o.handle))
                    .flags(vk::SemaphoreImportFlags::from_raw(flags))
                    .handle_type(vk::ExternalSemaphoreHandleTypeFlags::from_raw(ty))
                    .fd(fd);
                (dev.semaphore_fd.fp().import_semaphore_fd_khr)(d, &info)
            }
            Kind::Fence => {
                let info = vk::ImportFenceFdInfoKHR::default()
                    .fence(vk::Fence::from_raw(o.handle))
                    .flags(vk::FenceImportFlags::from_raw(flags))
                    .handle_type(vk::ExternalFenceHandleTypeFlags::from_raw(ty))
                    .fd(fd);
                (dev.fence_fd.fp().import_fence_fd_khr)(d, &info)
            }
        }
    }
}

/// Submits nothing but a signal of `o` (a binary semaphore or a fence) and waits for idle.
fn signal(dev: &Device, o: Object) -> Result<(), String> {
    let sems = [vk::Semaphore::from_raw(o.handle)];
    let mut submit = vk::SubmitInfo::default();
    let mut fence = vk::Fence::null();
    match o.kind {
        Kind::Semaphore => submit = submit.signal_semaphores(&sems),
        Kind::Fence => fence = vk::Fence::from_raw(o.handle),
    }
    // SAFETY: valid queue; the submit info points at locals alive for the call.
    unsafe { dev.device.queue_submit(dev.queue, &[submit], fence) }
        .map_err(|e| format!("vkQueueSubmit: {e:?}"))?;
    // SAFETY: valid queue.
    unsafe { dev.device.queue_wait_idle(dev.queue) }.map_err(|e| format!("vkQueueWaitIdle: {e:?}"))
}

/// Submits nothing but a wait on semaphore `o` and waits for idle.
fn wait(dev: &Device, o: Object) -> Result<(), String> {
    let sems = [vk::Semaphore::from_raw(o.handle)];
    let stages = [vk::PipelineStageFlags::ALL_COMMANDS];
    let submit = vk::SubmitInfo::default()
        .wait_semaphores(&sems)
        .wait_dst_stage_mask(&stages);
    // SAFETY: valid queue; the submit info points at locals alive for the call.
    unsafe {
        dev.device
            .queue_submit(dev.queue, &[submit], vk::Fence::null())
    }
    .map_err(|e| format!("vkQueueSubmit: {e:?}"))?;
    // SAFETY: valid queue.
    unsafe { dev.device.queue_wait_idle(dev.queue) }.map_err(|e| format!("vkQueueWaitIdle: {e:?}"))
}

fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: an fd this scenario owns (not consumed by a successful import), closed once.
        unsafe { libc::close(fd) };
    }
}

/// An exportable OPAQUE_FD allocation's fd (a memory payload) on `dev`.
fn memory_fd(ctx: &Ctx, dev: &Device) -> Result<(vk::DeviceMemory, RawFd), String> {
    let mut export = vk::ExportMemoryAllocateInfo::default()
        .handle_types(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    let ai = vk::MemoryAllocateInfo::default()
        .allocation_size(4096)
        .memory_type_index(ctx.host_visible_type()?)
        .push_next(&mut export);
    // SAFETY: valid device; `ai` points at locals alive for the call.
    let memory = unsafe { dev.device.allocate_memory(&ai, None) }
        .map_err(|e| format!("vkAllocateMemory: {e:?}"))?;
    let info = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    // SAFETY: valid device and info.
    let fd = unsafe { dev.memory_fd.get_memory_fd(&info) }
        .map_err(|e| format!("vkGetMemoryFdKHR: {e:?}"))?;
    Ok((memory, fd))
}

pub fn sync(a: &Args) -> ScenarioResult {
    let kind = match a.value_or("--kind", "semaphore") {
        "semaphore" => Kind::Semaphore,
        "fence" => Kind::Fence,
        other => return Err(format!("--kind {other:?}")),
    };
    let ty = handle_type(kind, a.value_or("--handle-type", "opaque"))?;
    let num = |name: &str, default: u64| a.number(name, default).map(|n| n as u32);
    let opts = InstanceOpts::from_args(a);
    let ctx = Ctx::new(&opts)?;
    let export_types = if a.value("--export-types") == Some("unsupported") {
        first_unexportable(&ctx, kind)?
    } else {
        num("--export-types", u64::from(ty))?
    };
    // SAFETY: valid instance.
    let phys = unsafe { ctx.instance.enumerate_physical_devices() }
        .map_err(|e| format!("vkEnumeratePhysicalDevices: {e:?}"))?;
    let dev = create_device(&ctx, phys[0])?;
    let mut out = json!({});

    let (r, exporter) = create(
        &dev,
        kind,
        export_types,
        a.flag("--export-timeline"),
        num("--export-flags", 0)?,
    );
    out["create"] = result_json(r);
    out["export_types"] = json!(export_types);
    out["exporter"] = json!(handle_hex(exporter.handle));
    if a.flag("--no-export") {
        // A driver may refuse export types it does not support; that is the result.
        if r == vk::Result::SUCCESS {
            destroy(&dev, exporter);
        }
        return finish(ctx, dev, out);
    }
    if r != vk::Result::SUCCESS {
        return Err(format!("create: {r:?}"));
    }
    let get_type = match a.value("--get-type") {
        Some(t) => handle_type(kind, t)?,
        None => ty,
    };
    // A SYNC_FD export needs a signal submitted first (01135 / 01454).
    let sync_fd = get_type == handle_type(kind, "sync")?;
    if sync_fd && !a.flag("--no-signal") && !a.flag("--export-timeline") {
        signal(&dev, exporter)?;
    }
    if a.flag("--unknown-export") {
        destroy(&dev, exporter);
    }
    let (r, mut fd) = get_fd(&dev, exporter, get_type, a.flag("--null-fd"));
    out["export"] = result_json(r);
    if a.flag("--unknown-export") || r != vk::Result::SUCCESS {
        if !a.flag("--unknown-export") {
            destroy(&dev, exporter);
        }
        return finish(ctx, dev, out);
    }

    // What gets imported.
    let mut extra_memory = None;
    let mut extra_object = None;
    match a.value_or("--fd-source", "export") {
        "export" => {}
        "closed" => {
            close(fd);
            fd = 1000;
        }
        "negative" => {
            close(fd);
            fd = -5;
        }
        "minus-one" => {
            close(fd);
            fd = -1;
        }
        "pipe" => {
            close(fd);
            let mut p = [0; 2];
            // SAFETY: `p` holds two ints for pipe(2).
            if unsafe { libc::pipe(p.as_mut_ptr()) } != 0 {
                return Err("pipe failed".into());
            }
            close(p[1]);
            fd = p[0];
        }
        "directory" => {
            close(fd);
            // SAFETY: a valid path; the fd is this scenario's.
            fd = unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
        }
        "memory" => {
            close(fd);
            let (m, mfd) = memory_fd(&ctx, &dev)?;
            extra_memory = Some(m);
            fd = mfd;
        }
        "other-kind" => {
            close(fd);
            let other_kind = match kind {
                Kind::Semaphore => Kind::Fence,
                Kind::Fence => Kind::Semaphore,
            };
            let (r, o) = create(&dev, other_kind, 0x1, false, 0);
            if r != vk::Result::SUCCESS {
                return Err(format!("create other kind: {r:?}"));
            }
            let (r, ofd) = get_fd(&dev, o, 0x1, false);
            if r != vk::Result::SUCCESS {
                return Err(format!("export other kind: {r:?}"));
            }
            extra_object = Some(o);
            fd = ofd;
        }
        other => return Err(format!("--fd-source {other:?}")),
    }

    if a.flag("--dup") && fd >= 0 {
        // SAFETY: dup of an fd this scenario owns; the original is closed right after.
        let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        close(fd);
        fd = d;
    }

    if a.flag("--import-as-memory") {
        let mut import = vk::ImportMemoryFdInfoKHR::default()
            .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD)
            .fd(fd);
        let ai = vk::MemoryAllocateInfo::default()
            .allocation_size(4096)
            .memory_type_index(ctx.host_visible_type()?)
            .push_next(&mut import);
        let mut memory = vk::DeviceMemory::null();
        // SAFETY: valid device; `ai` points at locals alive for the call.
        let r = unsafe {
            (dev.device.fp_v1_0().allocate_memory)(
                dev.device.handle(),
                &ai,
                std::ptr::null(),
                &mut memory,
            )
        };
        out["memory_import"] = result_json(r);
        if r == vk::Result::SUCCESS {
            // SAFETY: allocated above, unused.
            unsafe { dev.device.free_memory(memory, None) };
        } else {
            close(fd);
        }
        destroy(&dev, exporter);
        return finish(ctx, dev, out);
    }

    // The importer's device.
    let other_ctx = if a.flag("--import-instance") {
        Some(Ctx::new(&opts)?)
    } else {
        None
    };
    let import_dev = if let Some(c) = &other_ctx {
        // SAFETY: valid instance.
        let p = unsafe { c.instance.enumerate_physical_devices() }
            .map_err(|e| format!("vkEnumeratePhysicalDevices: {e:?}"))?;
        Some(create_device(c, p[0])?)
    } else if let Some(i) = a.value("--import-physical") {
        let i = parse_u64(i).ok_or("--import-physical")? as usize;
        let p = *phys
            .get(i)
            .ok_or_else(|| format!("only {} physical devices", phys.len()))?;
        Some(create_device(&ctx, p)?)
    } else {
        None
    };
    let idev = import_dev.as_ref().unwrap_or(&dev);
    let (r, importer) = create(
        idev,
        kind,
        num("--import-export-types", 0)?,
        a.flag("--import-timeline"),
        num("--import-create-flags", 0)?,
    );
    if r != vk::Result::SUCCESS {
        return Err(format!("create importer: {r:?}"));
    }
    out["importer"] = json!(handle_hex(importer.handle));
    if a.flag("--unknown-import") {
        destroy(idev, importer);
    }
    let import_type = match a.value("--import-type") {
        Some(t) => handle_type(kind, t)?,
        None => ty,
    };
    let r = import(idev, importer, import_type, num("--import-flags", 0)?, fd);
    out["import"] = result_json(r);
    if r != vk::Result::SUCCESS {
        close(fd);
    }
    if let Some(t) = a.value("--then-export") {
        if a.flag("--wait-first") && kind == Kind::Semaphore {
            wait(idev, importer)?;
        }
        if a.flag("--reset-first") && kind == Kind::Fence {
            let fences = [vk::Fence::from_raw(importer.handle)];
            // SAFETY: valid device and fence, not in use.
            unsafe { idev.device.reset_fences(&fences) }
                .map_err(|e| format!("vkResetFences: {e:?}"))?;
        }
        let t = handle_type(kind, t)?;
        let (r, fd2) = get_fd(idev, importer, t, false);
        out["reexport"] = result_json(r);
        close(fd2);
    }
    if !a.flag("--unknown-import") {
        destroy(idev, importer);
    }
    destroy(&dev, exporter);
    if let Some(o) = extra_object {
        destroy(&dev, o);
    }
    if let Some(m) = extra_memory {
        // SAFETY: allocated above, unused.
        unsafe { dev.device.free_memory(m, None) };
    }
    if let Some(d) = import_dev {
        // SAFETY: every object of the device was destroyed above.
        unsafe { d.device.destroy_device(None) };
    }
    if let Some(c) = other_ctx {
        c.destroy();
    }
    finish(ctx, dev, out)
}

fn finish(ctx: Ctx, dev: Device, out: Value) -> ScenarioResult {
    // SAFETY: every object of the device was destroyed by the caller.
    unsafe { dev.device.destroy_device(None) };
    ctx.destroy();
    Ok(out)
}

//! `import` and `fd-props`: vkAllocateMemory import clauses and vkGetMemoryFdPropertiesKHR,
//! done right and wrong.

use std::ffi::c_void;

use ash::vk;
use ash::vk::Handle;
use serde_json::{json, Value};

use super::args::Args;
use super::ctx::{result_json, Ctx, Dev, InstanceOpts};
use super::{handle_hex, ScenarioResult};

/// An fd number no scenario opens (checked closed before use).
pub const CLOSED_FD: i32 = 987;

const HOST_PTR_SIZE: usize = 4096;

fn handle_type(name: &str) -> Result<vk::ExternalMemoryHandleTypeFlags, String> {
    Ok(match name {
        "none" => vk::ExternalMemoryHandleTypeFlags::empty(),
        "opaque" => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
        "host" => vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
        "dmabuf" => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
        other => return Err(format!("unknown handle type {other:?}")),
    })
}

/// A device with VK_KHR_external_memory_fd and, where the driver offers them,
/// VK_EXT_external_memory_host, VK_EXT_external_memory_dma_buf and VK_NV_external_memory.
fn create_device(ctx: &Ctx) -> Result<Dev, String> {
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
    let mut exts = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
    for name in [
        ash::ext::external_memory_host::NAME,
        ash::ext::external_memory_dma_buf::NAME,
        ash::nv::external_memory::NAME,
    ] {
        if has(name) {
            exts.push(name.as_ptr());
        }
    }
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&prio)];
    let ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts);
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(ctx.physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    let fd = ash::khr::external_memory_fd::Device::new(&ctx.instance, &device);
    Ok(Dev { device, fd })
}

/// Whether `fd` is an open descriptor of this process.
fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only reads the descriptor flags.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
}

/// An fd of the kind named, and the fds to close at the end (beside it).
fn make_fd(kind: &str) -> Result<(i32, Vec<i32>), String> {
    let mut pair = [-1i32; 2];
    Ok(match kind {
        "negative" => (-1, vec![]),
        "closed" => {
            if is_open(CLOSED_FD) {
                return Err(format!("fd {CLOSED_FD} is open"));
            }
            (CLOSED_FD, vec![])
        }
        "pipe" => {
            // SAFETY: `pair` holds two ints for pipe(2).
            if unsafe { libc::pipe(pair.as_mut_ptr()) } != 0 {
                return Err("pipe".into());
            }
            (pair[0], vec![pair[1]])
        }
        "socket" => {
            // SAFETY: `pair` holds two ints for socketpair(2).
            if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()) }
                != 0
            {
                return Err("socketpair".into());
            }
            (pair[0], vec![pair[1]])
        }
        "eventfd" => {
            // SAFETY: plain eventfd(2).
            let fd = unsafe { libc::eventfd(0, 0) };
            (fd, vec![])
        }
        "dir" => {
            // SAFETY: a NUL-terminated path.
            let fd = unsafe { libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
            (fd, vec![])
        }
        "memfd" => {
            // SAFETY: a NUL-terminated name; the size is set right after.
            let fd = unsafe { libc::memfd_create(c"handoff-scenario".as_ptr(), 0) };
            // SAFETY: our own memfd.
            if fd < 0 || unsafe { libc::ftruncate(fd, 4096) } != 0 {
                return Err("memfd_create".into());
            }
            (fd, vec![])
        }
        other => return Err(format!("unknown fd kind {other:?}")),
    })
}

/// Exportable memory on `dev` and an fd of it.
fn export(
    dev: &Dev,
    size: u64,
    type_index: u32,
    ty: vk::ExternalMemoryHandleTypeFlags,
) -> Result<(vk::DeviceMemory, i32), String> {
    let memory = dev
        .allocate(size, type_index, Some(ty), None)
        .map_err(|e| format!("vkAllocateMemory (export): {e:?}"))?;
    let (r, fd) = dev.get_fd(memory, ty, -1);
    if r != vk::Result::SUCCESS || fd < 0 {
        return Err(format!("vkGetMemoryFdKHR (export): {r:?}, fd {fd}"));
    }
    Ok((memory, fd))
}

/// `import`: one vkAllocateMemory with import and export structures.
///
/// `--fd none|export|export-other|closed|negative|pipe|socket|eventfd|dir|memfd` (the fd of
/// the VkImportMemoryFdInfoKHR; `export` is exported OPAQUE_FD (or `--export-type`) memory of
/// the same device, `export-other` of a second device; default export), `--handle-type
/// none|opaque|host|dmabuf` (the import's handleType; default opaque), `--export-type
/// opaque|dmabuf` (what `export` exports; default opaque), `--host-pointer` (also chain a
/// HOST_ALLOCATION VkImportMemoryHostPointerInfoEXT), `--capture-address N` (chain
/// VkMemoryOpaqueCaptureAddressAllocateInfo), `--export-khr` (VkExportMemoryAllocateInfo,
/// OPAQUE_FD), `--export-nv` (VkExportMemoryAllocateInfoNV, OPAQUE_WIN32).
///
/// Results: `device`, `result` (the vkAllocateMemory), `fd`, `fd_open_after` (whether the
/// fd was still open after a failed call; null after a success, which consumed it),
/// `memory` (on success).
pub fn import(a: &Args) -> ScenarioResult {
    let fd_kind = a.value_or("--fd", "export").to_owned();
    let ty = handle_type(a.value_or("--handle-type", "opaque"))?;
    let export_ty = handle_type(a.value_or("--export-type", "opaque"))?;
    let host_pointer = a.flag("--host-pointer");
    let capture = a.number("--capture-address", 0)?;
    let size = 4096u64;

    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = create_device(&ctx)?;
    let other = if fd_kind == "export-other" {
        Some(create_device(&ctx)?)
    } else {
        None
    };
    let type_index = ctx.host_visible_type()?;

    let mut exported = None;
    let (fd, mut to_close) = match fd_kind.as_str() {
        "none" => (-1, vec![]),
        "export" | "export-other" => {
            let src = other.as_ref().unwrap_or(&dev);
            let (m, fd) = export(src, size, type_index, export_ty)?;
            exported = Some(m);
            (fd, vec![])
        }
        k => make_fd(k)?,
    };

    let host_ptr = if host_pointer {
        let mut p: *mut c_void = std::ptr::null_mut();
        // SAFETY: posix_memalign into a local; freed at the end.
        if unsafe { libc::posix_memalign(&mut p, HOST_PTR_SIZE, HOST_PTR_SIZE) } != 0 {
            return Err("posix_memalign".into());
        }
        p
    } else {
        std::ptr::null_mut()
    };

    let mut fd_info = vk::ImportMemoryFdInfoKHR::default().handle_type(ty).fd(fd);
    let mut host_info = vk::ImportMemoryHostPointerInfoEXT::default()
        .handle_type(vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT)
        .host_pointer(host_ptr);
    let mut capture_info =
        vk::MemoryOpaqueCaptureAddressAllocateInfo::default().opaque_capture_address(capture);
    let mut export_khr = vk::ExportMemoryAllocateInfo::default()
        .handle_types(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    let mut export_nv = vk::ExportMemoryAllocateInfoNV::default()
        .handle_types(vk::ExternalMemoryHandleTypeFlagsNV::OPAQUE_WIN32);
    let alloc_size = if host_pointer && fd_kind == "none" {
        HOST_PTR_SIZE as u64
    } else {
        size
    };
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(alloc_size)
        .memory_type_index(type_index);
    if fd_kind != "none" {
        ai = ai.push_next(&mut fd_info);
    }
    if host_pointer {
        ai = ai.push_next(&mut host_info);
    }
    if a.value("--capture-address").is_some() {
        ai = ai.push_next(&mut capture_info);
    }
    if a.flag("--export-khr") {
        ai = ai.push_next(&mut export_khr);
    }
    if a.flag("--export-nv") {
        ai = ai.push_next(&mut export_nv);
    }
    let mut memory = vk::DeviceMemory::null();
    // SAFETY: valid device; `ai` points at locals alive for the call. The fd may be invalid
    // on purpose, which is what the layer is there to catch.
    let r = unsafe {
        (dev.device.fp_v1_0().allocate_memory)(
            dev.device.handle(),
            &ai,
            std::ptr::null(),
            &mut memory,
        )
    };

    let mut out = json!({
        "device": handle_hex(dev.handle()),
        "result": result_json(r),
        "fd": fd,
        "fd_open_after": Value::Null,
    });
    if r == vk::Result::SUCCESS {
        out["memory"] = json!(handle_hex(memory.as_raw()));
        dev.free(memory);
    } else {
        out["fd_open_after"] = json!(is_open(fd));
        if fd >= 0 && fd != CLOSED_FD {
            to_close.push(fd);
        }
    }
    for fd in to_close {
        // SAFETY: fds this scenario opened and still owns, closed once.
        unsafe { libc::close(fd) };
    }
    if !host_ptr.is_null() {
        // SAFETY: from posix_memalign above; the memory importing it is freed.
        unsafe { libc::free(host_ptr) };
    }
    if let Some(m) = exported {
        other.as_ref().unwrap_or(&dev).free(m);
    }
    if let Some(o) = other {
        o.destroy();
    }
    dev.destroy();
    ctx.destroy();
    Ok(out)
}

/// `fd-props`: vkGetMemoryFdPropertiesKHR.
///
/// `--fd export|pipe|memfd|…` (as `import`; `export` is exported memory of `--export-type`),
/// `--handle-type opaque|dmabuf` (default dmabuf), `--export-type opaque|dmabuf` (default
/// opaque).
///
/// Results: `result`, `memory_type_bits`, `fd`, `fd_open_after`.
pub fn fd_props(a: &Args) -> ScenarioResult {
    let fd_kind = a.value_or("--fd", "export").to_owned();
    let ty = handle_type(a.value_or("--handle-type", "dmabuf"))?;
    let export_ty = handle_type(a.value_or("--export-type", "opaque"))?;
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = create_device(&ctx)?;
    let type_index = ctx.host_visible_type()?;
    let mut exported = None;
    let (fd, mut to_close) = match fd_kind.as_str() {
        "export" => {
            let (m, fd) = export(&dev, 4096, type_index, export_ty)?;
            exported = Some(m);
            (fd, vec![])
        }
        k => make_fd(k)?,
    };
    const SENTINEL: u32 = 0xdead_beef;
    let mut props = vk::MemoryFdPropertiesKHR {
        memory_type_bits: SENTINEL,
        ..Default::default()
    };
    // SAFETY: valid device and out struct; the fd may be invalid on purpose.
    let r = unsafe {
        (dev.fd.fp().get_memory_fd_properties_khr)(dev.device.handle(), ty, fd, &mut props)
    };
    let out = json!({
        "device": handle_hex(dev.handle()),
        "result": result_json(r),
        "memory_type_bits": if props.memory_type_bits == SENTINEL { Value::Null } else { json!(props.memory_type_bits) },
        "fd": fd,
        "fd_open_after": is_open(fd),
    });
    if fd >= 0 && fd != CLOSED_FD {
        to_close.push(fd);
    }
    for fd in to_close {
        // SAFETY: fds this scenario opened and still owns (a properties query consumes
        // nothing), closed once.
        unsafe { libc::close(fd) };
    }
    if let Some(m) = exported {
        dev.free(m);
    }
    dev.destroy();
    ctx.destroy();
    Ok(out)
}

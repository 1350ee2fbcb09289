//! `payload`: an export and its imports, in one process, shaped by the arguments, for the
//! payload registry rules (01742, 01878/01879, 01746, 00643/00644, 00648, fd reuse,
//! re-export) and their valid twins.
//!
//! Arguments (all optional):
//! * `--handle-type opaque|dmabuf` — the exported and imported handle type (default opaque);
//! * `--fd export|memfd` — import an export (default) or a memfd made here (a dma-buf made
//!   outside Vulkan, as far as the mock ICD is concerned);
//! * `--size N` (export allocationSize, default 65536), `--type-index I` (export memory
//!   type, default the first HOST_VISIBLE|HOST_COHERENT one), `--import-size N`,
//!   `--import-type-index I` (default: the export's);
//! * `--export-physical I`, `--import-physical I` — physical device index (default 0);
//!   `--import-instance` — import on a device of a second instance;
//!   `--export-group`, `--import-group` — create that device from every physical device of
//!   device group 0 (VkDeviceGroupDeviceCreateInfo), `--export-group-size N`,
//!   `--import-group-size N` from its first N; `--export-mask M`, `--import-mask M` —
//!   chain VkMemoryAllocateFlagsInfo with DEVICE_MASK;
//! * `--dedicated-export image|buffer`, `--dedicated-import image|buffer`,
//!   `--import-width N` (width of the importer's dedicated image, default 64; buffer size
//!   for a buffer);
//! * `--exports N` — export N fds of the allocation (default 1); `--import-all` — import
//!   every one of them (default the first only);
//! * `--via direct|dup|socket` — import the fd itself, a dup() of it, or the fd as received
//!   through a unix socket (SCM_RIGHTS) within this process (default direct);
//! * `--rounds N` — first N complete export/import/free rounds;
//! * `--then-export opaque|dmabuf` — the allocation may export that type too, and exports it
//!   once after the other exports (the fd closed at once);
//! * `--import-again` — import the first imported fd number a second time;
//! * `--dup-imports N` — then N imports of fresh dups of the first fd (`--via dup`);
//! * `--import-last-dup-again` — then import the number of the last of those again;
//! * `--reexport opaque|dmabuf` — chain VkExportMemoryAllocateInfo of that type on the
//!   (first) import and export it again with vkGetMemoryFdKHR.
//!
//! Results: `export` (VkResult of the first export), `imports` (one VkResult per import, in
//! order; the `--import-again` one last), `reexport` (VkResult), `export_memory`,
//! `import_memory` (handles), `group_size` (physical devices in group 0).

use std::os::fd::RawFd;

use ash::vk;
use ash::vk::Handle;
use serde_json::{json, Value};

use super::args::Args;
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::{handle_hex, ScenarioResult};

fn handle_type(name: &str) -> Result<vk::ExternalMemoryHandleTypeFlags, String> {
    Ok(match name {
        "opaque" => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
        "dmabuf" => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
        other => return Err(format!("unknown handle type {other:?}")),
    })
}

/// A device with the fd extensions the driver offers, maybe over a whole device group.
struct Device {
    device: ash::Device,
    fd: ash::khr::external_memory_fd::Device,
}

fn physicals(ctx: &Ctx) -> Result<Vec<vk::PhysicalDevice>, String> {
    // SAFETY: valid instance.
    unsafe { ctx.instance.enumerate_physical_devices() }
        .map_err(|e| format!("vkEnumeratePhysicalDevices: {e:?}"))
}

fn group0(ctx: &Ctx) -> Result<Vec<vk::PhysicalDevice>, String> {
    // SAFETY: valid instance (API 1.1).
    let n = unsafe { ctx.instance.enumerate_physical_device_groups_len() }
        .map_err(|e| format!("vkEnumeratePhysicalDeviceGroups: {e:?}"))?;
    let mut groups = vec![vk::PhysicalDeviceGroupProperties::default(); n];
    // SAFETY: `groups` holds `n` structures.
    unsafe { ctx.instance.enumerate_physical_device_groups(&mut groups) }
        .map_err(|e| format!("vkEnumeratePhysicalDeviceGroups: {e:?}"))?;
    let g = groups.first().ok_or("no device group")?;
    Ok(g.physical_devices[..g.physical_device_count as usize].to_vec())
}

/// `group`: chain VkDeviceGroupDeviceCreateInfo listing the first `group` physical devices
/// of device group 0 (0: none).
fn create_device(ctx: &Ctx, physical: vk::PhysicalDevice, group: usize) -> Result<Device, String> {
    // SAFETY: valid physical device.
    let props = unsafe { ctx.instance.enumerate_device_extension_properties(physical) }
        .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e:?}"))?;
    let has = |name: &std::ffi::CStr| {
        props
            .iter()
            .any(|p| p.extension_name_as_c_str().is_ok_and(|n| n == name))
    };
    let mut exts = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
    if has(ash::ext::external_memory_dma_buf::NAME) {
        exts.push(ash::ext::external_memory_dma_buf::NAME.as_ptr());
    }
    let members = if group > 0 {
        group0(ctx)?.into_iter().take(group).collect()
    } else {
        vec![physical]
    };
    let physical = members[0];
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&prio)];
    let mut group_info = vk::DeviceGroupDeviceCreateInfo::default().physical_devices(&members);
    let mut ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts);
    if group > 0 {
        ci = ci.push_next(&mut group_info);
    }
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    let fd = ash::khr::external_memory_fd::Device::new(&ctx.instance, &device);
    Ok(Device { device, fd })
}

/// A resource for a dedicated allocation.
#[derive(Clone, Copy)]
enum Resource {
    None,
    Buffer(vk::Buffer),
    Image(vk::Image),
}

fn create_resource(
    dev: &Device,
    kind: Option<&str>,
    width: u32,
    ty: vk::ExternalMemoryHandleTypeFlags,
) -> Result<Resource, String> {
    let mut ext_buf = vk::ExternalMemoryBufferCreateInfo::default().handle_types(ty);
    let mut ext_img = vk::ExternalMemoryImageCreateInfo::default().handle_types(ty);
    Ok(match kind {
        None => Resource::None,
        Some("buffer") => {
            let ci = vk::BufferCreateInfo::default()
                .size(u64::from(width) * 64)
                .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
                .push_next(&mut ext_buf);
            // SAFETY: valid device and create info.
            Resource::Buffer(
                unsafe { dev.device.create_buffer(&ci, None) }
                    .map_err(|e| format!("vkCreateBuffer: {e:?}"))?,
            )
        }
        Some("image") => {
            let ci = vk::ImageCreateInfo::default()
                .image_type(vk::ImageType::TYPE_2D)
                .format(vk::Format::R8G8B8A8_UNORM)
                .extent(vk::Extent3D {
                    width,
                    height: 64,
                    depth: 1,
                })
                .mip_levels(1)
                .array_layers(1)
                .samples(vk::SampleCountFlags::TYPE_1)
                .tiling(vk::ImageTiling::OPTIMAL)
                .usage(vk::ImageUsageFlags::SAMPLED | vk::ImageUsageFlags::TRANSFER_DST)
                .initial_layout(vk::ImageLayout::UNDEFINED)
                .push_next(&mut ext_img);
            // SAFETY: valid device and create info.
            Resource::Image(
                unsafe { dev.device.create_image(&ci, None) }
                    .map_err(|e| format!("vkCreateImage: {e:?}"))?,
            )
        }
        Some(other) => return Err(format!("unknown resource {other:?}")),
    })
}

fn destroy_resource(dev: &Device, r: Resource) {
    // SAFETY: created on this device, destroyed once, after the memory that named it.
    unsafe {
        match r {
            Resource::None => {}
            Resource::Buffer(b) => dev.device.destroy_buffer(b, None),
            Resource::Image(i) => dev.device.destroy_image(i, None),
        }
    }
}

/// One vkAllocateMemory with the optional export, import, dedicated and mask structures.
#[allow(clippy::too_many_arguments)]
fn allocate(
    dev: &Device,
    size: u64,
    type_index: u32,
    export: Option<vk::ExternalMemoryHandleTypeFlags>,
    import: Option<(vk::ExternalMemoryHandleTypeFlags, RawFd)>,
    dedicated: Resource,
    mask: Option<u32>,
) -> (vk::Result, vk::DeviceMemory) {
    let mut export_info = vk::ExportMemoryAllocateInfo::default();
    let mut import_info = vk::ImportMemoryFdInfoKHR::default();
    let mut ded = vk::MemoryDedicatedAllocateInfo::default();
    let mut flags = vk::MemoryAllocateFlagsInfo::default();
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(size)
        .memory_type_index(type_index);
    if let Some(t) = export {
        export_info = export_info.handle_types(t);
        ai = ai.push_next(&mut export_info);
    }
    if let Some((t, fd)) = import {
        import_info = import_info.handle_type(t).fd(fd);
        ai = ai.push_next(&mut import_info);
    }
    match dedicated {
        Resource::None => {}
        Resource::Buffer(b) => {
            ded = ded.buffer(b);
            ai = ai.push_next(&mut ded);
        }
        Resource::Image(i) => {
            ded = ded.image(i);
            ai = ai.push_next(&mut ded);
        }
    }
    if let Some(m) = mask {
        flags = flags
            .flags(vk::MemoryAllocateFlags::DEVICE_MASK)
            .device_mask(m);
        ai = ai.push_next(&mut flags);
    }
    let mut memory = vk::DeviceMemory::null();
    // SAFETY: valid device; `ai` points at locals alive for the call. The import may be
    // wrong on purpose, which is what the layer is there to catch.
    let r = unsafe {
        (dev.device.fp_v1_0().allocate_memory)(
            dev.device.handle(),
            &ai,
            std::ptr::null(),
            &mut memory,
        )
    };
    (r, memory)
}

fn get_fd(
    dev: &Device,
    memory: vk::DeviceMemory,
    ty: vk::ExternalMemoryHandleTypeFlags,
) -> (vk::Result, RawFd) {
    let info = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(ty);
    let mut fd = -1;
    // SAFETY: valid device, info and out pointer.
    let r = unsafe { (dev.fd.fp().get_memory_fd_khr)(dev.device.handle(), &info, &mut fd) };
    (r, fd)
}

fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: an fd this scenario owns (not consumed by a successful import), closed once.
        unsafe { libc::close(fd) };
    }
}

/// `fd` as received through a unix socketpair of this process (SCM_RIGHTS): a new number
/// for the same open file.
fn through_socket(fd: RawFd) -> Result<RawFd, String> {
    let mut pair = [-1; 2];
    // SAFETY: `pair` holds two ints for socketpair(2).
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()) } != 0 {
        return Err("socketpair".into());
    }
    let space = {
        // SAFETY: CMSG_SPACE is pure arithmetic.
        unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize }
    };
    let mut byte = [b'x'];
    let mut cbuf = vec![0u8; space];
    // SAFETY: sendmsg/recvmsg on our own socketpair with correctly sized buffers; the
    // control data is accessed only through the CMSG macros within its length.
    let received = unsafe {
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr() as *mut libc::c_void,
            iov_len: 1,
        };
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        let sent = libc::sendmsg(pair[0], &msg, 0);
        let mut rbuf = vec![0u8; space];
        let mut riov = libc::iovec {
            iov_base: byte.as_mut_ptr() as *mut libc::c_void,
            iov_len: 1,
        };
        let mut rmsg: libc::msghdr = std::mem::zeroed();
        rmsg.msg_iov = &mut riov;
        rmsg.msg_iovlen = 1;
        rmsg.msg_control = rbuf.as_mut_ptr() as *mut libc::c_void;
        rmsg.msg_controllen = space as _;
        let got = if sent == 1 {
            libc::recvmsg(pair[1], &mut rmsg, libc::MSG_CMSG_CLOEXEC)
        } else {
            -1
        };
        let rc = libc::CMSG_FIRSTHDR(&rmsg);
        let fd = if got == 1 && !rc.is_null() && (*rc).cmsg_type == libc::SCM_RIGHTS {
            std::ptr::read_unaligned(libc::CMSG_DATA(rc) as *const RawFd)
        } else {
            -1
        };
        libc::close(pair[0]);
        libc::close(pair[1]);
        fd
    };
    if received < 0 {
        return Err("SCM_RIGHTS round trip failed".into());
    }
    Ok(received)
}

fn memfd(size: u64) -> Result<RawFd, String> {
    // SAFETY: a NUL-terminated name; the size is set right after.
    let fd = unsafe { libc::memfd_create(c"handoff-foreign-dmabuf".as_ptr(), libc::MFD_CLOEXEC) };
    // SAFETY: our own memfd.
    if fd < 0 || unsafe { libc::ftruncate(fd, size as libc::off_t) } != 0 {
        return Err("memfd_create".into());
    }
    Ok(fd)
}

/// `payload`: see the module documentation.
pub fn payload(a: &Args) -> ScenarioResult {
    let ty = handle_type(a.value_or("--handle-type", "opaque"))?;
    let size = a.number("--size", 65536)?;
    let import_size = a.number("--import-size", size)?;
    let opts = InstanceOpts::from_args(a);
    let ctx = Ctx::new(&opts)?;
    let type_index = a.number("--type-index", u64::from(ctx.host_visible_type()?))? as u32;
    let import_type_index = a.number("--import-type-index", u64::from(type_index))? as u32;
    let phys = physicals(&ctx)?;
    let pick = |name: &str| -> Result<vk::PhysicalDevice, String> {
        let i = a.number(name, 0)? as usize;
        phys.get(i)
            .copied()
            .ok_or_else(|| format!("{name} {i}: only {} physical devices", phys.len()))
    };
    let group_size = group0(&ctx).map(|g| g.len()).unwrap_or(0);
    let names: Vec<String> = phys
        .iter()
        .map(|&p| {
            // SAFETY: valid physical device.
            let props = unsafe { ctx.instance.get_physical_device_properties(p) };
            props
                .device_name_as_c_str()
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    // `--export-group` / `--import-group`: the whole group; `--import-group-size N`: its
    // first N devices.
    let group_arg = |flag: &str, size: &str| -> Result<usize, String> {
        Ok(if a.flag(flag) {
            usize::MAX
        } else {
            a.number(size, 0)? as usize
        })
    };
    let export_group = group_arg("--export-group", "--export-group-size")?;
    let import_group = group_arg("--import-group", "--import-group-size")?;
    let export_dev = create_device(&ctx, pick("--export-physical")?, export_group)?;
    let other_ctx = if a.flag("--import-instance") {
        Some(Ctx::new(&opts)?)
    } else {
        None
    };
    let import_ctx = other_ctx.as_ref().unwrap_or(&ctx);
    let separate =
        a.flag("--import-instance") || import_group > 0 || a.value("--import-physical").is_some();
    let import_own = if separate {
        let p = if other_ctx.is_some() {
            physicals(import_ctx)?[0]
        } else {
            pick("--import-physical")?
        };
        Some(create_device(import_ctx, p, import_group)?)
    } else {
        None
    };
    let import_dev = import_own.as_ref().unwrap_or(&export_dev);
    let mask = |name: &str| -> Result<Option<u32>, String> {
        Ok(match a.value(name) {
            Some(_) => Some(a.number(name, 0)? as u32),
            None => None,
        })
    };

    let mut out = json!({ "group_size": group_size, "physical_devices": names });
    let export_res = create_resource(&export_dev, a.value("--dedicated-export"), 64, ty)?;
    let import_width = a.number("--import-width", 64)? as u32;
    let import_res = create_resource(import_dev, a.value("--dedicated-import"), import_width, ty)?;

    // `--rounds N`: N complete export → import → free rounds first (for state accounting).
    for _ in 0..a.number("--rounds", 0)? {
        let (r, m) = allocate(
            &export_dev,
            size,
            type_index,
            Some(ty),
            None,
            Resource::None,
            None,
        );
        if r != vk::Result::SUCCESS {
            return Err(format!("vkAllocateMemory (round): {r:?}"));
        }
        let (r, fd) = get_fd(&export_dev, m, ty);
        if r != vk::Result::SUCCESS || fd < 0 {
            return Err(format!("vkGetMemoryFdKHR (round): {r:?}"));
        }
        let (r, i) = allocate(
            import_dev,
            size,
            type_index,
            None,
            Some((ty, fd)),
            Resource::None,
            None,
        );
        if r == vk::Result::SUCCESS {
            // SAFETY: allocated on this device, freed once.
            unsafe { import_dev.device.free_memory(i, None) };
        } else {
            close(fd);
        }
        // SAFETY: allocated on this device, freed once.
        unsafe { export_dev.device.free_memory(m, None) };
    }

    // The payload: exported memory, or a memfd made here.
    // `--then-export T`: the allocation may also export T, and does once after the others.
    let then_type = match a.value("--then-export") {
        Some(t) => Some(handle_type(t)?),
        None => None,
    };
    let mut export_memory = vk::DeviceMemory::null();
    let mut fds: Vec<RawFd> = Vec::new();
    if a.value_or("--fd", "export") == "memfd" {
        fds.push(memfd(size)?);
    } else {
        let (r, m) = allocate(
            &export_dev,
            size,
            type_index,
            Some(ty | then_type.unwrap_or(ty)),
            None,
            export_res,
            mask("--export-mask")?,
        );
        if r != vk::Result::SUCCESS {
            return Err(format!("vkAllocateMemory (export): {r:?}"));
        }
        export_memory = m;
        out["export_memory"] = json!(handle_hex(m.as_raw()));
        for i in 0..a.number("--exports", 1)? {
            let (r, fd) = get_fd(&export_dev, m, ty);
            if i == 0 {
                out["export"] = result_json(r);
            }
            if r != vk::Result::SUCCESS || fd < 0 {
                return Err(format!("vkGetMemoryFdKHR: {r:?}, fd {fd}"));
            }
            fds.push(fd);
        }
        if let Some(t) = then_type {
            let (r, fd) = get_fd(&export_dev, m, t);
            out["then_export"] = result_json(r);
            if r == vk::Result::SUCCESS && fd >= 0 {
                close(fd);
            }
        }
    }

    // What reaches the import: the fds themselves, dups, or fds through a socket. The
    // originals stay ours in the last two cases.
    let mut owned: Vec<RawFd> = Vec::new();
    let to_import: Vec<RawFd> = match a.value_or("--via", "direct") {
        "direct" => fds.clone(),
        "dup" => {
            owned.extend(&fds);
            fds.iter()
                .map(|&fd| {
                    // SAFETY: dup of an fd we own.
                    let d = unsafe { libc::dup(fd) };
                    if d < 0 {
                        Err("dup".to_owned())
                    } else {
                        Ok(d)
                    }
                })
                .collect::<Result<_, _>>()?
        }
        "socket" => {
            owned.extend(&fds);
            fds.iter()
                .map(|&fd| through_socket(fd))
                .collect::<Result<_, _>>()?
        }
        other => return Err(format!("unknown --via {other:?}")),
    };
    let count = if a.flag("--import-all") {
        to_import.len()
    } else {
        1
    };
    let reexport = match a.value("--reexport") {
        Some(t) => Some(handle_type(t)?),
        None => None,
    };
    let import_mask = mask("--import-mask")?;
    let mut results: Vec<Value> = Vec::new();
    let mut imported: Vec<vk::DeviceMemory> = Vec::new();
    for (i, &fd) in to_import.iter().enumerate() {
        if i >= count {
            owned.push(fd);
            continue;
        }
        let (r, m) = allocate(
            import_dev,
            import_size,
            import_type_index,
            if i == 0 { reexport } else { None },
            Some((ty, fd)),
            import_res,
            import_mask,
        );
        results.push(result_json(r));
        if r == vk::Result::SUCCESS {
            if imported.is_empty() {
                out["import_memory"] = json!(handle_hex(m.as_raw()));
            }
            imported.push(m);
        } else {
            owned.push(fd);
        }
    }
    // `--dup-imports N`: N more imports, each of a fresh dup() of the first fd (on a driver
    // that closes imported fds, every dup gets the number the previous import consumed).
    let mut last_dup = None;
    for _ in 0..a.number("--dup-imports", 0)? {
        // SAFETY: dup of the first fd, which this scenario still owns (`--via dup|socket`).
        let d = unsafe { libc::dup(fds[0]) };
        if d < 0 {
            return Err("dup".into());
        }
        let (r, m) = allocate(
            import_dev,
            import_size,
            import_type_index,
            None,
            Some((ty, d)),
            import_res,
            import_mask,
        );
        results.push(result_json(r));
        out["dup_fds"]
            .as_array_mut()
            .map(|v| v.push(json!(d)))
            .unwrap_or_else(|| out["dup_fds"] = json!([d]));
        if r == vk::Result::SUCCESS {
            imported.push(m);
            last_dup = Some(d);
        } else {
            close(d);
        }
    }
    // Numbers imported again: the last dup's, then the first import's.
    let again = [
        last_dup.filter(|_| a.flag("--import-last-dup-again")),
        a.flag("--import-again").then(|| to_import[0]),
    ];
    for fd in again.into_iter().flatten() {
        let (r, m) = allocate(
            import_dev,
            import_size,
            import_type_index,
            None,
            Some((ty, fd)),
            import_res,
            import_mask,
        );
        results.push(result_json(r));
        if r == vk::Result::SUCCESS {
            imported.push(m);
        }
    }
    if let (Some(t), Some(&m)) = (reexport, imported.first()) {
        let (r, fd) = get_fd(import_dev, m, t);
        out["reexport"] = result_json(r);
        if r == vk::Result::SUCCESS {
            close(fd);
        }
    }
    out["imports"] = json!(results);

    for m in imported {
        // SAFETY: allocated on this device, freed once.
        unsafe { import_dev.device.free_memory(m, None) };
    }
    owned.sort_unstable();
    owned.dedup();
    for fd in owned {
        // Only fds still open and ours: a failed import left them to us.
        // SAFETY: F_GETFD only reads the flags.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1 {
            close(fd);
        }
    }
    if export_memory != vk::DeviceMemory::null() {
        // SAFETY: allocated on this device, freed once.
        unsafe { export_dev.device.free_memory(export_memory, None) };
    }
    destroy_resource(import_dev, import_res);
    destroy_resource(&export_dev, export_res);
    if let Some(d) = import_own {
        // SAFETY: everything created from it is gone.
        unsafe { d.device.destroy_device(None) };
    }
    // SAFETY: everything created from it is gone.
    unsafe { export_dev.device.destroy_device(None) };
    if let Some(c) = other_ctx {
        c.destroy();
    }
    ctx.destroy();
    Ok(out)
}

/// `payload-params`: the implicit parameter ids of the fd getters. `--case null-pfd`
/// (vkGetMemoryFdKHR with pFd = NULL), `get-type RAW` (VkMemoryGetFdInfoKHR::handleType =
/// RAW, on OPAQUE_FD-exportable memory), `import-type RAW` (VkImportMemoryFdInfoKHR with
/// handleType RAW and an exported fd), `props-null` (vkGetMemoryFdPropertiesKHR with
/// pMemoryFdProperties = NULL, DMA_BUF, a memfd), `valid` (an export with a real pointer).
/// Results: `result` (VkResult), `memory`.
pub fn payload_params(a: &Args) -> ScenarioResult {
    let case = a.value_or("--case", "valid").to_owned();
    let raw = a.number("--raw", 0)? as u32;
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = create_device(&ctx, ctx.physical, 0)?;
    let type_index = ctx.host_visible_type()?;
    let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    let (r, memory) = allocate(
        &dev,
        65536,
        type_index,
        Some(opaque),
        None,
        Resource::None,
        None,
    );
    if r != vk::Result::SUCCESS {
        return Err(format!("vkAllocateMemory (export): {r:?}"));
    }
    let mut out = json!({ "memory": handle_hex(memory.as_raw()) });
    let result = match case.as_str() {
        "valid" => {
            let (r, fd) = get_fd(&dev, memory, opaque);
            close(fd);
            r
        }
        "null-pfd" => {
            let info = vk::MemoryGetFdInfoKHR::default()
                .memory(memory)
                .handle_type(opaque);
            // SAFETY: valid device and info; the null pFd is the point of the case (the
            // layer refuses the call before it reaches the driver).
            unsafe {
                (dev.fd.fp().get_memory_fd_khr)(dev.device.handle(), &info, std::ptr::null_mut())
            }
        }
        "get-type" => {
            let (r, fd) = get_fd(
                &dev,
                memory,
                vk::ExternalMemoryHandleTypeFlags::from_raw(raw),
            );
            if r == vk::Result::SUCCESS {
                close(fd);
            }
            r
        }
        "import-type" => {
            let (r, fd) = get_fd(&dev, memory, opaque);
            if r != vk::Result::SUCCESS || fd < 0 {
                return Err(format!("vkGetMemoryFdKHR: {r:?}"));
            }
            let (r, m) = allocate(
                &dev,
                65536,
                type_index,
                None,
                Some((vk::ExternalMemoryHandleTypeFlags::from_raw(raw), fd)),
                Resource::None,
                None,
            );
            if r == vk::Result::SUCCESS {
                // SAFETY: allocated here, freed once.
                unsafe { dev.device.free_memory(m, None) };
            } else {
                close(fd);
            }
            r
        }
        "props-null" => {
            let fd = memfd(65536)?;
            // SAFETY: valid device; the null output is the point of the case (the layer
            // refuses the call before it reaches the driver).
            let r = unsafe {
                (dev.fd.fp().get_memory_fd_properties_khr)(
                    dev.device.handle(),
                    vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
                    fd,
                    std::ptr::null_mut(),
                )
            };
            close(fd);
            r
        }
        other => return Err(format!("unknown --case {other:?}")),
    };
    out["result"] = result_json(result);
    // SAFETY: allocated here, freed once; then the device, with nothing left on it.
    unsafe {
        dev.device.free_memory(memory, None);
        dev.device.destroy_device(None);
    }
    ctx.destroy();
    Ok(out)
}

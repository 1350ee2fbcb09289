//! `dedicated`: vkAllocateMemory with VkMemoryDedicatedAllocateInfo, export and import, done
//! right and wrong, optionally followed by a bind.

use ash::vk;
use ash::vk::Handle;
use serde_json::json;

use super::args::Args;
use super::ctx::{result_json, Ctx, Dev, InstanceOpts};
use super::{handle_hex, ScenarioResult};

fn memory_types(list: &str) -> Result<vk::ExternalMemoryHandleTypeFlags, String> {
    let mut t = vk::ExternalMemoryHandleTypeFlags::empty();
    for name in list.split(',').filter(|n| !n.is_empty() && *n != "none") {
        t |= match name {
            "opaque" => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
            "host" => vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
            "dmabuf" => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
            other => return Err(format!("unknown handle type {other:?}")),
        };
    }
    Ok(t)
}

/// A device with VK_KHR_external_memory_fd, and where offered VK_EXT_external_memory_host,
/// VK_EXT_external_memory_dma_buf and VK_NV_external_memory, less the `--skip-ext` ones;
/// sparseBinding on when `sparse`.
fn create_device(ctx: &Ctx, skip: &[&str], sparse: bool) -> Result<Dev, String> {
    // SAFETY: valid physical device.
    let props = unsafe {
        ctx.instance
            .enumerate_device_extension_properties(ctx.physical)
    }
    .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e:?}"))?;
    let available: Vec<String> = props
        .iter()
        .filter_map(|p| p.extension_name_as_c_str().ok())
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let mut exts = Vec::new();
    for name in [
        ash::khr::external_memory_fd::NAME,
        ash::ext::external_memory_host::NAME,
        ash::ext::external_memory_dma_buf::NAME,
        ash::nv::external_memory::NAME,
    ] {
        let s = name.to_string_lossy();
        if available.iter().any(|a| *a == s) && !skip.contains(&s.as_ref()) {
            exts.push(name.as_ptr());
        }
    }
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&prio)];
    let features = vk::PhysicalDeviceFeatures {
        sparse_binding: sparse.into(),
        ..Default::default()
    };
    let ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts)
        .enabled_features(&features);
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(ctx.physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    let fd = ash::khr::external_memory_fd::Device::new(&ctx.instance, &device);
    Ok(Dev { device, fd })
}

/// A buffer or an image of the scenario, with what it needs.
#[derive(Clone, Copy)]
enum Res {
    Buffer(vk::Buffer),
    Image(vk::Image),
}

impl Res {
    fn raw(self) -> u64 {
        match self {
            Res::Buffer(b) => b.as_raw(),
            Res::Image(i) => i.as_raw(),
        }
    }

    fn destroy(self, dev: &Dev) {
        // SAFETY: created from this device, destroyed once.
        unsafe {
            match self {
                Res::Buffer(b) => dev.device.destroy_buffer(b, None),
                Res::Image(i) => dev.device.destroy_image(i, None),
            }
        }
    }
}

struct ResSpec {
    kind: String,
    format: vk::Format,
    types: vk::ExternalMemoryHandleTypeFlags,
    sparse: bool,
    disjoint: bool,
}

fn create_resource(dev: &Dev, s: &ResSpec) -> Result<Res, String> {
    let mut ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(s.types);
    let mut ext_i = vk::ExternalMemoryImageCreateInfo::default().handle_types(s.types);
    if s.kind == "buffer" {
        let mut ci = vk::BufferCreateInfo::default()
            .size(65536)
            .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
            .sharing_mode(vk::SharingMode::EXCLUSIVE);
        if s.sparse {
            ci = ci.flags(vk::BufferCreateFlags::SPARSE_BINDING);
        }
        if !s.types.is_empty() {
            ci = ci.push_next(&mut ext);
        }
        // SAFETY: valid device; `ci` points at locals alive for the call.
        return unsafe { dev.device.create_buffer(&ci, None) }
            .map(Res::Buffer)
            .map_err(|e| format!("vkCreateBuffer: {e:?}"));
    }
    let mut flags = vk::ImageCreateFlags::empty();
    if s.sparse {
        flags |= vk::ImageCreateFlags::SPARSE_BINDING;
    }
    if s.disjoint {
        flags |= vk::ImageCreateFlags::DISJOINT;
    }
    let usage = if s.format == vk::Format::D32_SFLOAT {
        vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::DEPTH_STENCIL_ATTACHMENT
    } else {
        vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST
    };
    let mut ci = vk::ImageCreateInfo::default()
        .flags(flags)
        .image_type(vk::ImageType::TYPE_2D)
        .format(s.format)
        .extent(vk::Extent3D {
            width: 64,
            height: 64,
            depth: 1,
        })
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(usage)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .initial_layout(vk::ImageLayout::UNDEFINED);
    if !s.types.is_empty() {
        ci = ci.push_next(&mut ext_i);
    }
    // SAFETY: valid device; `ci` points at locals alive for the call.
    unsafe { dev.device.create_image(&ci, None) }
        .map(Res::Image)
        .map_err(|e| format!("vkCreateImage: {e:?}"))
}

/// (size, memoryTypeBits); a disjoint image has no plane-less answer, so a fixed size.
fn requirements(dev: &Dev, r: Res, disjoint: bool) -> (u64, u32) {
    if disjoint {
        return (1 << 20, 1);
    }
    // SAFETY: a live resource of this device.
    let req = unsafe {
        match r {
            Res::Buffer(b) => dev.device.get_buffer_memory_requirements(b),
            Res::Image(i) => dev.device.get_image_memory_requirements(i),
        }
    };
    (req.size, req.memory_type_bits)
}

/// `dedicated`: one resource, one allocation for it, then (with `--bind`) a bind.
///
/// `--kind image|buffer` (default image), `--format rgba8|d32|nv12` (images; default rgba8),
/// `--resource-types LIST` (its VkExternalMemory*CreateInfo::handleTypes: `none` or
/// `opaque,host,dmabuf`; default opaque), `--flags sparse,disjoint`,
/// `--dedicated self|none|null|both|unknown|destroyed` (what VkMemoryDedicatedAllocateInfo
/// names: the resource, nothing chained, both members null, the resource and a buffer, a
/// handle never created, a resource already destroyed; default self), `--size
/// exact|larger|smaller` (than the resource's requirement; default exact), `--export LIST`
/// (VkExportMemoryAllocateInfo; default none), `--import none|opaque|dmabuf` (import an fd
/// exported from a separate, non-dedicated allocation of the same size and type),
/// `--chain fd-import-empty,host-pointer-empty,export-nv` (structures chained with nothing
/// in them), `--skip-ext NAME` (a device extension not to enable), `--bind` (bind the memory
/// to the resource at offset 0).
///
/// Results: `device`, `resource`, `memory` (handles), `result` of vkAllocateMemory, `bind`
/// (result of the bind, when done), `size` and `required` (bytes).
pub fn dedicated(a: &Args) -> ScenarioResult {
    let flags: Vec<&str> = a.value_or("--flags", "").split(',').collect();
    let format = match a.value_or("--format", "rgba8") {
        "rgba8" => vk::Format::R8G8B8A8_UNORM,
        "d32" => vk::Format::D32_SFLOAT,
        "nv12" => vk::Format::G8_B8R8_2PLANE_420_UNORM,
        other => return Err(format!("--format {other:?}")),
    };
    let spec = ResSpec {
        kind: a.value_or("--kind", "image").to_owned(),
        format,
        types: memory_types(a.value_or("--resource-types", "opaque"))?,
        sparse: flags.contains(&"sparse"),
        disjoint: flags.contains(&"disjoint"),
    };
    let dedicated = a.value_or("--dedicated", "self").to_owned();
    let export = memory_types(a.value_or("--export", "none"))?;
    let import = memory_types(a.value_or("--import", "none"))?;
    let chain: Vec<&str> = a.value_or("--chain", "").split(',').collect();
    let skip = a.values("--skip-ext");

    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = create_device(&ctx, &skip, spec.sparse)?;
    let res = create_resource(&dev, &spec)?;
    let (required, type_bits) = requirements(&dev, res, spec.disjoint);
    let mut type_index = type_bits.trailing_zeros();
    if type_index >= 32 {
        type_index = 0;
    }
    let size = match a.value_or("--size", "exact") {
        "exact" => required,
        "larger" => required * 2,
        "smaller" => required / 2,
        other => return Err(format!("--size {other:?}")),
    };

    // Extra resources the dedicated structure may name.
    let mut extra: Vec<Res> = Vec::new();
    let (image, buffer) = match dedicated.as_str() {
        "self" | "none" | "null" => match res {
            Res::Image(i) if dedicated == "self" => (i, vk::Buffer::null()),
            Res::Buffer(b) if dedicated == "self" => (vk::Image::null(), b),
            _ => (vk::Image::null(), vk::Buffer::null()),
        },
        "both" => {
            let other = create_resource(
                &dev,
                &ResSpec {
                    kind: "buffer".into(),
                    format,
                    types: spec.types,
                    sparse: false,
                    disjoint: false,
                },
            )?;
            extra.push(other);
            match (res, other) {
                (Res::Image(i), Res::Buffer(b)) => (i, b),
                _ => return Err("--dedicated both needs --kind image".into()),
            }
        }
        "unknown" => match res {
            Res::Image(_) => (vk::Image::from_raw(0xdead_0000), vk::Buffer::null()),
            Res::Buffer(_) => (vk::Image::null(), vk::Buffer::from_raw(0xdead_0000)),
        },
        "destroyed" => {
            let gone = create_resource(&dev, &spec)?;
            gone.destroy(&dev);
            match gone {
                Res::Image(i) => (i, vk::Buffer::null()),
                Res::Buffer(b) => (vk::Image::null(), b),
            }
        }
        other => return Err(format!("--dedicated {other:?}")),
    };

    // The fd to import, from a separate exportable allocation.
    let mut source = None;
    let mut import_fd = -1;
    if !import.is_empty() {
        let mut e = vk::ExportMemoryAllocateInfo::default().handle_types(import);
        let ai = vk::MemoryAllocateInfo::default()
            .allocation_size(size)
            .memory_type_index(type_index)
            .push_next(&mut e);
        // SAFETY: valid device; `ai` points at locals alive for the call.
        let m = unsafe { dev.device.allocate_memory(&ai, None) }
            .map_err(|e| format!("vkAllocateMemory (export): {e:?}"))?;
        let (r, fd) = dev.get_fd(m, import, -1);
        if r != vk::Result::SUCCESS || fd < 0 {
            return Err(format!("vkGetMemoryFdKHR: {r:?}"));
        }
        import_fd = fd;
        source = Some(m);
    }

    let mut ded = vk::MemoryDedicatedAllocateInfo::default()
        .image(image)
        .buffer(buffer);
    let mut exp = vk::ExportMemoryAllocateInfo::default().handle_types(export);
    let mut imp = vk::ImportMemoryFdInfoKHR::default()
        .handle_type(import)
        .fd(import_fd);
    let mut empty_imp = vk::ImportMemoryFdInfoKHR::default();
    let mut empty_host = vk::ImportMemoryHostPointerInfoEXT::default();
    let mut export_nv = vk::ExportMemoryAllocateInfoNV::default();
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(size)
        .memory_type_index(type_index);
    if dedicated != "none" {
        ai = ai.push_next(&mut ded);
    }
    if !export.is_empty() {
        ai = ai.push_next(&mut exp);
    }
    if !import.is_empty() {
        ai = ai.push_next(&mut imp);
    }
    if chain.contains(&"fd-import-empty") {
        ai = ai.push_next(&mut empty_imp);
    }
    if chain.contains(&"host-pointer-empty") {
        ai = ai.push_next(&mut empty_host);
    }
    if chain.contains(&"export-nv") {
        ai = ai.push_next(&mut export_nv);
    }
    let mut memory = vk::DeviceMemory::null();
    // SAFETY: valid device; `ai` points at locals alive for the call; the handles named may
    // be invalid on purpose, which is what the layer is there to catch.
    let result = unsafe {
        (dev.device.fp_v1_0().allocate_memory)(
            dev.device.handle(),
            &ai as *const vk::MemoryAllocateInfo<'_>,
            std::ptr::null(),
            &mut memory,
        )
    };
    if result != vk::Result::SUCCESS && !import.is_empty() {
        // SAFETY: a failed import leaves the fd with us.
        unsafe { libc::close(import_fd) };
    }
    let mut bind = None;
    if result == vk::Result::SUCCESS && a.flag("--bind") {
        // SAFETY: live resource and memory of this device.
        let r = unsafe {
            match res {
                Res::Buffer(b) => dev.device.bind_buffer_memory(b, memory, 0),
                Res::Image(i) => dev.device.bind_image_memory(i, memory, 0),
            }
        };
        bind = Some(match r {
            Ok(()) => vk::Result::SUCCESS,
            Err(e) => e,
        });
    }

    let out = json!({
        "device": handle_hex(dev.handle()),
        "resource": handle_hex(res.raw()),
        "memory": handle_hex(memory.as_raw()),
        "result": result_json(result),
        "bind": bind.map(result_json),
        "size": size,
        "required": required,
    });
    if result == vk::Result::SUCCESS {
        dev.free(memory);
    }
    if let Some(m) = source {
        dev.free(m);
    }
    res.destroy(&dev);
    for r in extra {
        r.destroy(&dev);
    }
    dev.destroy();
    ctx.destroy();
    Ok(out)
}

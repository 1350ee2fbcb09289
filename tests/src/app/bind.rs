//! `bind`: buffers, images and memory objects described on the command line, bound with
//! vkBind{Buffer,Image}Memory, their `2`/`2KHR` forms and vkQueueBindSparse.
//!
//! Objects are named on the command line so that a test can say which memory goes where:
//!
//! - `--buffer NAME:TYPES[:sparse]`: a 4096-byte buffer; `TYPES` is `none` (no
//!   VkExternalMemoryBufferCreateInfo) or `opaque`, `host`, `dmabuf` joined by `+`; `sparse`
//!   adds SPARSE_BINDING.
//! - `--image NAME:TYPES[:size=N][:layers=N][:format=bgra][:sparse|:resident]`: a 2D
//!   R8G8B8A8_UNORM (or B8G8R8A8_UNORM) N×N optimal image (default 64, 1 layer); `sparse`
//!   adds SPARSE_BINDING, `resident` SPARSE_BINDING|SPARSE_RESIDENCY.
//! - `--memory NAME[:export=TYPES][:import=SRC][:dedicated=RES][:size=N]`: 1 MiB (default)
//!   of a memory type every resource accepts; `export` chains VkExportMemoryAllocateInfo,
//!   `import=SRC` imports an OPAQUE_FD exported from memory SRC (same size and type),
//!   `dedicated=RES` chains VkMemoryDedicatedAllocateInfo naming that buffer or image.
//! - `--bind RES:MEM[:OFFSET]`: vkBindBufferMemory or vkBindImageMemory.
//! - `--bind2 RES:MEM[:OFFSET],RES:MEM[:OFFSET]…`: one vkBindBufferMemory2 or
//!   vkBindImageMemory2 call (all elements of one kind); with `--khr` the `2KHR` name,
//!   resolved with vkGetDeviceProcAddr and VK_KHR_bind_memory2 enabled.
//! - `--sparse RES:MEM` (pBufferBinds, or pImageOpaqueBinds for an image) and
//!   `--sparse-image RES:MEM` (pImageBinds): one vkQueueBindSparse call each, on queue 0.
//! - `--aliasing`: enable VK_NV_dedicated_allocation_image_aliasing and its feature.
//!
//! Memory is allocated after every resource exists; the `--bind`s run first, then the
//! `--bind2`s, then the sparse binds. Everything is destroyed at the end.
//!
//! Results: `device`, every name → its handle, `binds` (one result per call, in order).

use std::collections::BTreeMap;
use std::ffi::CStr;

use ash::vk;
use ash::vk::Handle;
use serde_json::{json, Value};

use super::args::{parse_u64, Args};
use super::ctx::{result_json, Ctx, Dev, InstanceOpts};
use super::{handle_hex, ScenarioResult};

fn types(list: &str) -> Result<Option<vk::ExternalMemoryHandleTypeFlags>, String> {
    if list == "none" {
        return Ok(None);
    }
    let mut t = vk::ExternalMemoryHandleTypeFlags::empty();
    for name in list.split('+').filter(|n| !n.is_empty()) {
        t |= match name {
            "opaque" => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
            "host" => vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
            "dmabuf" => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
            "empty" => vk::ExternalMemoryHandleTypeFlags::empty(),
            other => return Err(format!("unknown handle type {other:?}")),
        };
    }
    Ok(Some(t))
}

/// `key=value` options after `NAME:…`.
fn options(parts: &[&str]) -> BTreeMap<String, String> {
    parts
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => ((*p).to_owned(), String::new()),
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Res {
    Buffer(vk::Buffer),
    Image(vk::Image),
}

struct World {
    dev: Dev,
    resources: BTreeMap<String, Res>,
    memories: BTreeMap<String, (vk::DeviceMemory, u64, u32)>,
    names: serde_json::Map<String, Value>,
}

impl World {
    fn res(&self, name: &str) -> Result<Res, String> {
        self.resources
            .get(name)
            .copied()
            .ok_or_else(|| format!("no resource {name:?}"))
    }

    fn mem(&self, name: &str) -> Result<vk::DeviceMemory, String> {
        self.memories
            .get(name)
            .map(|m| m.0)
            .ok_or_else(|| format!("no memory {name:?}"))
    }

    fn requirements(&self, r: Res) -> vk::MemoryRequirements {
        // SAFETY: live resources of this device.
        unsafe {
            match r {
                Res::Buffer(b) => self.dev.device.get_buffer_memory_requirements(b),
                Res::Image(i) => self.dev.device.get_image_memory_requirements(i),
            }
        }
    }
}

fn create_device(ctx: &Ctx, a: &Args, sparse: bool, resident: bool) -> Result<Dev, String> {
    // SAFETY: valid physical device.
    let props = unsafe {
        ctx.instance
            .enumerate_device_extension_properties(ctx.physical)
    }
    .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e:?}"))?;
    let offered = |name: &CStr| {
        props
            .iter()
            .any(|p| p.extension_name_as_c_str().is_ok_and(|n| n == name))
    };
    let mut exts = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
    for name in [
        ash::ext::external_memory_host::NAME,
        ash::ext::external_memory_dma_buf::NAME,
    ] {
        if offered(name) {
            exts.push(name.as_ptr());
        }
    }
    if a.flag("--khr") {
        exts.push(ash::khr::bind_memory2::NAME.as_ptr());
    }
    let aliasing = a.flag("--aliasing");
    if aliasing {
        exts.push(ash::nv::dedicated_allocation_image_aliasing::NAME.as_ptr());
    }
    let mut alias_features =
        vk::PhysicalDeviceDedicatedAllocationImageAliasingFeaturesNV::default()
            .dedicated_allocation_image_aliasing(true);
    let features = vk::PhysicalDeviceFeatures::default()
        .sparse_binding(sparse)
        .sparse_residency_buffer(resident)
        .sparse_residency_image2_d(resident);
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&prio)];
    let mut ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts)
        .enabled_features(&features);
    if aliasing {
        ci = ci.push_next(&mut alias_features);
    }
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(ctx.physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    let fd = ash::khr::external_memory_fd::Device::new(&ctx.instance, &device);
    Ok(Dev { device, fd })
}

fn create_buffer(w: &mut World, spec: &str) -> Result<(), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (name, t) = match parts.as_slice() {
        [n, t, ..] => (*n, types(t)?),
        _ => return Err(format!("--buffer {spec:?}")),
    };
    let opts = options(&parts[2..]);
    let mut ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(t.unwrap_or_default());
    let mut ci = vk::BufferCreateInfo::default()
        .size(4096)
        .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
        .sharing_mode(vk::SharingMode::EXCLUSIVE);
    if opts.contains_key("sparse") {
        ci = ci.flags(vk::BufferCreateFlags::SPARSE_BINDING);
    }
    if t.is_some() {
        ci = ci.push_next(&mut ext);
    }
    // SAFETY: valid device; `ci` points at locals alive for the call.
    let b = unsafe { w.dev.device.create_buffer(&ci, None) }
        .map_err(|e| format!("vkCreateBuffer {name}: {e:?}"))?;
    w.resources.insert(name.to_owned(), Res::Buffer(b));
    w.names
        .insert(name.to_owned(), json!(handle_hex(b.as_raw())));
    Ok(())
}

fn create_image(w: &mut World, spec: &str) -> Result<(), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (name, t) = match parts.as_slice() {
        [n, t, ..] => (*n, types(t)?),
        _ => return Err(format!("--image {spec:?}")),
    };
    let opts = options(&parts[2..]);
    let num = |k: &str, d: u64| -> Result<u32, String> {
        match opts.get(k) {
            None => Ok(d as u32),
            Some(v) => parse_u64(v)
                .map(|n| n as u32)
                .ok_or_else(|| format!("--image {spec:?}: {k}")),
        }
    };
    let size = num("size", 64)?;
    let layers = num("layers", 1)?;
    let format = match opts.get("format").map(String::as_str) {
        None | Some("rgba") => vk::Format::R8G8B8A8_UNORM,
        Some("bgra") => vk::Format::B8G8R8A8_UNORM,
        Some(other) => return Err(format!("--image format {other:?}")),
    };
    let mut flags = vk::ImageCreateFlags::empty();
    if opts.contains_key("sparse") {
        flags |= vk::ImageCreateFlags::SPARSE_BINDING;
    }
    if opts.contains_key("resident") {
        flags |= vk::ImageCreateFlags::SPARSE_BINDING | vk::ImageCreateFlags::SPARSE_RESIDENCY;
    }
    let mut ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(t.unwrap_or_default());
    let mut ci = vk::ImageCreateInfo::default()
        .flags(flags)
        .image_type(vk::ImageType::TYPE_2D)
        .format(format)
        .extent(vk::Extent3D {
            width: size,
            height: size,
            depth: 1,
        })
        .mip_levels(1)
        .array_layers(layers)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .initial_layout(vk::ImageLayout::UNDEFINED);
    if t.is_some() {
        ci = ci.push_next(&mut ext);
    }
    // SAFETY: valid device; `ci` points at locals alive for the call.
    let i = unsafe { w.dev.device.create_image(&ci, None) }
        .map_err(|e| format!("vkCreateImage {name}: {e:?}"))?;
    w.resources.insert(name.to_owned(), Res::Image(i));
    w.names
        .insert(name.to_owned(), json!(handle_hex(i.as_raw())));
    Ok(())
}

fn allocate(w: &mut World, spec: &str, all_bits: u32) -> Result<(), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let name = parts[0];
    let opts = options(&parts[1..]);
    let mut size = match opts.get("size") {
        Some(v) => parse_u64(v).ok_or_else(|| format!("--memory {spec:?}: size"))?,
        None => 1 << 20,
    };
    let dedicated = opts.get("dedicated").map(|r| w.res(r)).transpose()?;
    let bits = match dedicated {
        Some(r) => w.requirements(r).memory_type_bits,
        None => all_bits,
    };
    let mut type_index = bits.trailing_zeros().min(31);
    let mut import_fd = None;
    if let Some(src) = opts.get("import") {
        let &(src_mem, src_size, src_type) = w
            .memories
            .get(src.as_str())
            .ok_or_else(|| format!("no memory {src:?}"))?;
        let (r, fd) = w
            .dev
            .get_fd(src_mem, vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD, -1);
        if r != vk::Result::SUCCESS || fd < 0 {
            return Err(format!("vkGetMemoryFdKHR of {src}: {r:?}"));
        }
        import_fd = Some(fd);
        size = src_size;
        type_index = src_type;
    }
    let export = opts.get("export").map(|t| types(t)).transpose()?.flatten();
    let mut export_info = vk::ExportMemoryAllocateInfo::default();
    let mut import_info = vk::ImportMemoryFdInfoKHR::default();
    let mut dedicated_info = vk::MemoryDedicatedAllocateInfo::default();
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(size)
        .memory_type_index(type_index);
    if let Some(t) = export {
        export_info = export_info.handle_types(t);
        ai = ai.push_next(&mut export_info);
    }
    if let Some(fd) = import_fd {
        import_info = import_info
            .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD)
            .fd(fd);
        ai = ai.push_next(&mut import_info);
    }
    if let Some(r) = dedicated {
        dedicated_info = match r {
            Res::Buffer(b) => dedicated_info.buffer(b),
            Res::Image(i) => dedicated_info.image(i),
        };
        ai = ai.push_next(&mut dedicated_info);
    }
    // SAFETY: valid device; `ai` points at locals alive for the call.
    let m = unsafe { w.dev.device.allocate_memory(&ai, None) }.map_err(|e| {
        if let Some(fd) = import_fd {
            // SAFETY: a failed import leaves the fd with the app.
            unsafe { libc::close(fd) };
        }
        format!("vkAllocateMemory {name}: {e:?}")
    })?;
    w.memories.insert(name.to_owned(), (m, size, type_index));
    w.names
        .insert(name.to_owned(), json!(handle_hex(m.as_raw())));
    Ok(())
}

/// `RES:MEM[:OFFSET]`.
fn triple(w: &World, spec: &str) -> Result<(Res, vk::DeviceMemory, u64), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (r, m) = match parts.as_slice() {
        [r, m, ..] => (w.res(r)?, w.mem(m)?),
        _ => return Err(format!("bind {spec:?}")),
    };
    let offset = match parts.get(2) {
        Some(o) => parse_u64(o).ok_or_else(|| format!("bind {spec:?}: offset"))?,
        None => 0,
    };
    Ok((r, m, offset))
}

/// `bind`: see the module documentation.
pub fn bind(a: &Args) -> ScenarioResult {
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let any = |flag: &str, word: &str| a.values(flag).iter().any(|s| s.contains(word));
    let resident = any("--image", "resident");
    let sparse = resident || any("--image", "sparse") || any("--buffer", "sparse");
    let dev = create_device(&ctx, a, sparse, resident)?;
    let mut w = World {
        dev,
        resources: BTreeMap::new(),
        memories: BTreeMap::new(),
        names: serde_json::Map::new(),
    };
    let res = run(&ctx, &mut w, a);
    // SAFETY: every object was created from this device and is destroyed once, resources
    // before the memory bound to them.
    unsafe {
        for r in w.resources.values() {
            match *r {
                Res::Buffer(b) => w.dev.device.destroy_buffer(b, None),
                Res::Image(i) => w.dev.device.destroy_image(i, None),
            }
        }
        for (m, _, _) in w.memories.values() {
            w.dev.device.free_memory(*m, None);
        }
    }
    let device = handle_hex(w.dev.handle());
    let mut out = w.names;
    w.dev.destroy();
    ctx.destroy();
    let binds = res?;
    out.insert("device".into(), json!(device));
    out.insert("binds".into(), Value::Array(binds));
    Ok(Value::Object(out))
}

fn run(ctx: &Ctx, w: &mut World, a: &Args) -> Result<Vec<Value>, String> {
    for spec in a.values("--buffer") {
        create_buffer(w, spec)?;
    }
    for spec in a.values("--image") {
        create_image(w, spec)?;
    }
    let all_bits = w
        .resources
        .values()
        .fold(u32::MAX, |acc, r| acc & w.requirements(*r).memory_type_bits);
    let all_bits = if all_bits == 0 { 1 } else { all_bits };
    for spec in a.values("--memory") {
        allocate(w, spec, all_bits)?;
    }
    let device = w.dev.device.handle();
    let mut results = Vec::new();
    for spec in a.values("--bind") {
        let (r, m, offset) = triple(w, spec)?;
        // SAFETY: valid device and handles; the binding may break the layer's rules on
        // purpose.
        let res = unsafe {
            match r {
                Res::Buffer(b) => (w.dev.device.fp_v1_0().bind_buffer_memory)(device, b, m, offset),
                Res::Image(i) => (w.dev.device.fp_v1_0().bind_image_memory)(device, i, m, offset),
            }
        };
        results.push(result_json(res));
    }
    let khr = a.flag("--khr");
    let gdpa = |name: &CStr| {
        // SAFETY: valid device and a NUL-terminated name.
        unsafe { (ctx.instance.fp_v1_0().get_device_proc_addr)(device, name.as_ptr()) }
    };
    for spec in a.values("--bind2") {
        let elems: Vec<(Res, vk::DeviceMemory, u64)> = spec
            .split(',')
            .map(|e| triple(w, e))
            .collect::<Result<_, _>>()?;
        let res = match elems.first() {
            None => return Err("--bind2 without elements".into()),
            Some((Res::Buffer(_), ..)) => {
                let infos: Vec<vk::BindBufferMemoryInfo<'_>> = elems
                    .iter()
                    .map(|(r, m, o)| match r {
                        Res::Buffer(b) => Ok(vk::BindBufferMemoryInfo::default()
                            .buffer(*b)
                            .memory(*m)
                            .memory_offset(*o)),
                        Res::Image(_) => Err("--bind2 mixes buffers and images".to_owned()),
                    })
                    .collect::<Result<_, _>>()?;
                let f: vk::PFN_vkBindBufferMemory2 = if khr {
                    let p = gdpa(c"vkBindBufferMemory2KHR")
                        .ok_or("vkGetDeviceProcAddr(vkBindBufferMemory2KHR) is NULL")?;
                    // SAFETY: the loader returned this name's command, of this signature.
                    unsafe {
                        std::mem::transmute::<
                            unsafe extern "system" fn(),
                            vk::PFN_vkBindBufferMemory2,
                        >(p)
                    }
                } else {
                    w.dev.device.fp_v1_1().bind_buffer_memory2
                };
                // SAFETY: valid device and infos alive for the call.
                unsafe { f(device, infos.len() as u32, infos.as_ptr()) }
            }
            Some((Res::Image(_), ..)) => {
                let infos: Vec<vk::BindImageMemoryInfo<'_>> = elems
                    .iter()
                    .map(|(r, m, o)| match r {
                        Res::Image(i) => Ok(vk::BindImageMemoryInfo::default()
                            .image(*i)
                            .memory(*m)
                            .memory_offset(*o)),
                        Res::Buffer(_) => Err("--bind2 mixes buffers and images".to_owned()),
                    })
                    .collect::<Result<_, _>>()?;
                let f: vk::PFN_vkBindImageMemory2 = if khr {
                    let p = gdpa(c"vkBindImageMemory2KHR")
                        .ok_or("vkGetDeviceProcAddr(vkBindImageMemory2KHR) is NULL")?;
                    // SAFETY: the loader returned this name's command, of this signature.
                    unsafe {
                        std::mem::transmute::<unsafe extern "system" fn(), vk::PFN_vkBindImageMemory2>(
                            p,
                        )
                    }
                } else {
                    w.dev.device.fp_v1_1().bind_image_memory2
                };
                // SAFETY: valid device and infos alive for the call.
                unsafe { f(device, infos.len() as u32, infos.as_ptr()) }
            }
        };
        results.push(result_json(res));
    }
    let sparse_specs: Vec<(bool, &str)> = a
        .values("--sparse")
        .into_iter()
        .map(|s| (false, s))
        .chain(a.values("--sparse-image").into_iter().map(|s| (true, s)))
        .collect();
    for (image_bind, spec) in sparse_specs {
        let (r, m, offset) = triple(w, spec)?;
        // SAFETY: valid device; queue 0 of family 0 exists.
        let queue = unsafe { w.dev.device.get_device_queue(0, 0) };
        let size = w.requirements(r).size.max(1);
        let mem_bind = [vk::SparseMemoryBind::default()
            .size(size)
            .memory(m)
            .memory_offset(offset)];
        let img_bind = [vk::SparseImageMemoryBind::default()
            .subresource(vk::ImageSubresource {
                aspect_mask: vk::ImageAspectFlags::COLOR,
                mip_level: 0,
                array_layer: 0,
            })
            .extent(vk::Extent3D {
                width: 64,
                height: 64,
                depth: 1,
            })
            .memory(m)
            .memory_offset(offset)];
        let buffer_binds;
        let opaque_binds;
        let image_binds;
        let mut info = vk::BindSparseInfo::default();
        match (r, image_bind) {
            (Res::Buffer(b), _) => {
                buffer_binds = [vk::SparseBufferMemoryBindInfo::default()
                    .buffer(b)
                    .binds(&mem_bind)];
                info = info.buffer_binds(&buffer_binds);
            }
            (Res::Image(i), false) => {
                opaque_binds = [vk::SparseImageOpaqueMemoryBindInfo::default()
                    .image(i)
                    .binds(&mem_bind)];
                info = info.image_opaque_binds(&opaque_binds);
            }
            (Res::Image(i), true) => {
                image_binds = [vk::SparseImageMemoryBindInfo::default()
                    .image(i)
                    .binds(&img_bind)];
                info = info.image_binds(&image_binds);
            }
        }
        // SAFETY: a valid queue and bind info whose arrays are alive for the call.
        let res = unsafe {
            (w.dev.device.fp_v1_0().queue_bind_sparse)(queue, 1, &info, vk::Fence::null())
        };
        results.push(result_json(res));
        // SAFETY: valid queue.
        let _ = unsafe { w.dev.device.queue_wait_idle(queue) };
    }
    Ok(results)
}

//! `ownership`: ownership transfers of an external buffer or image to and from
//! `VK_QUEUE_FAMILY_EXTERNAL` / `FOREIGN`, submitted step by step, on one side (A) or
//! between two sides sharing the memory (A and B, in two instances or two devices of one
//! process), for the submit-time ownership rules.
//!
//! - `--resource buffer|image` (default buffer): a 4096-byte buffer or a 64×64 R8G8B8A8
//!   image with one mip level and one layer, created with VkExternalMemory*CreateInfo
//!   (OPAQUE_FD; plus the D3D11 texture types with `--d3d11`; none with `--memory plain`).
//! - `--memory export|import|plain` (default export): A's memory is exported (B, if used,
//!   imports it), imported (B exports it and never touches it), or not external at all.
//! - `--second instance|device` (default instance): where B lives.
//! - `--special external|foreign` (default external): the family released to / acquired from
//!   (`foreign` enables VK_EXT_queue_family_foreign).
//! - `--family N` (default 0): the queue family of both sides' queue and command pool.
//! - `--concurrent`: CONCURRENT sharing over every queue family; transfers then name
//!   `VK_QUEUE_FAMILY_IGNORED` on this device's side (external transfers are needed whatever
//!   the sharing mode).
//! - `--sync2`: enable synchronization2 and record `vkCmdPipelineBarrier2KHR`.
//! - `--secondary`: record each step in a secondary command buffer run by
//!   `vkCmdExecuteCommands`.
//! - `--steps S,S,…`: each step is `SIDE:OP[:LAYOUT]`, recorded in its own command buffer,
//!   submitted with `vkQueueSubmit` and waited for. OPs: `use` (vkCmdFillBuffer or
//!   vkCmdClearColorImage), `release:NEW` (from the family to the special one, oldLayout the
//!   side's current layout), `acquire:OLD` (newLayout GENERAL), `acquire-unmodified:OLD`
//!   (chains VkExternalMemoryAcquireUnmodifiedEXT), `transition:NEW` (no transfer). Layouts:
//!   `general`, `undefined`, `transfer-src`, `transfer-dst`, `shader-read`.
//!
//! Results: `a` and `b` (`device`, `resource`, `memory`, `queue`), `steps` (per step: `side`,
//! `command_buffer` (the submitted one), `recorded` (the one holding the op), `submit`).

use ash::vk;
use ash::vk::Handle;
use serde_json::{json, Value};

use super::args::{parse_u64, Args};
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::{handle_hex, ScenarioResult};

const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;

#[derive(Clone, Copy)]
struct Opts {
    image: bool,
    d3d11: bool,
    external: bool,
    sync2: bool,
    foreign_ext: bool,
    secondary: bool,
    special: u32,
    family: u32,
    concurrent: bool,
}

/// One device with its queue, pool, resource and memory.
struct Side {
    device: ash::Device,
    fd: ash::khr::external_memory_fd::Device,
    s2: ash::khr::synchronization2::Device,
    queue: vk::Queue,
    pool: vk::CommandPool,
    buffer: vk::Buffer,
    image: vk::Image,
    memory: vk::DeviceMemory,
    layout: vk::ImageLayout,
}

fn layout(v: &str) -> Result<vk::ImageLayout, String> {
    Ok(match v {
        "general" => vk::ImageLayout::GENERAL,
        "undefined" => vk::ImageLayout::UNDEFINED,
        "transfer-src" => vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
        "transfer-dst" => vk::ImageLayout::TRANSFER_DST_OPTIMAL,
        "shader-read" => vk::ImageLayout::SHADER_READ_ONLY_OPTIMAL,
        _ => return Err(format!("bad layout {v:?}")),
    })
}

fn make_side(ctx: &Ctx, o: Opts) -> Result<Side, String> {
    let mut exts = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
    if o.sync2 {
        exts.push(ash::khr::synchronization2::NAME.as_ptr());
    }
    if o.foreign_ext {
        exts.push(ash::ext::queue_family_foreign::NAME.as_ptr());
    }
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(o.family)
        .queue_priorities(&prio)];
    let mut sync2_features =
        vk::PhysicalDeviceSynchronization2Features::default().synchronization2(true);
    let mut ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts);
    if o.sync2 {
        ci = ci.push_next(&mut sync2_features);
    }
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(ctx.physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    // SAFETY: the queue was requested at device creation.
    let queue = unsafe { device.get_device_queue(o.family, 0) };
    let pool_ci = vk::CommandPoolCreateInfo::default().queue_family_index(o.family);
    // SAFETY: valid device.
    let pool = unsafe { device.create_command_pool(&pool_ci, None) }
        .map_err(|e| format!("vkCreateCommandPool: {e:?}"))?;
    let mut types = OPAQUE;
    if o.d3d11 {
        types |= vk::ExternalMemoryHandleTypeFlags::D3D11_TEXTURE
            | vk::ExternalMemoryHandleTypeFlags::D3D11_TEXTURE_KMT;
    }
    let mut buf_ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(types);
    let mut img_ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(types);
    let (mut buffer, mut image) = (vk::Buffer::null(), vk::Image::null());
    // SAFETY: valid physical device.
    let family_count = unsafe {
        ctx.instance
            .get_physical_device_queue_family_properties(ctx.physical)
    }
    .len() as u32;
    let families: Vec<u32> = (0..family_count).collect();
    let sharing = if o.concurrent {
        vk::SharingMode::CONCURRENT
    } else {
        vk::SharingMode::EXCLUSIVE
    };
    if o.image {
        let mut ci = vk::ImageCreateInfo::default()
            .image_type(vk::ImageType::TYPE_2D)
            .format(vk::Format::R8G8B8A8_UNORM)
            .extent(vk::Extent3D {
                width: 64,
                height: 64,
                depth: 1,
            })
            .mip_levels(1)
            .array_layers(1)
            .samples(vk::SampleCountFlags::TYPE_1)
            .tiling(vk::ImageTiling::OPTIMAL)
            .usage(vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST)
            .sharing_mode(sharing)
            .initial_layout(vk::ImageLayout::UNDEFINED);
        if o.concurrent {
            ci = ci.queue_family_indices(&families);
        }
        if o.external {
            ci = ci.push_next(&mut img_ext);
        }
        // SAFETY: valid device; `ci` points at locals alive for the call.
        image = unsafe { device.create_image(&ci, None) }
            .map_err(|e| format!("vkCreateImage: {e:?}"))?;
    } else {
        let mut ci = vk::BufferCreateInfo::default()
            .size(4096)
            .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
            .sharing_mode(sharing);
        if o.concurrent {
            ci = ci.queue_family_indices(&families);
        }
        if o.external {
            ci = ci.push_next(&mut buf_ext);
        }
        // SAFETY: valid device; `ci` points at locals alive for the call.
        buffer = unsafe { device.create_buffer(&ci, None) }
            .map_err(|e| format!("vkCreateBuffer: {e:?}"))?;
    }
    let fd = ash::khr::external_memory_fd::Device::new(&ctx.instance, &device);
    let s2 = ash::khr::synchronization2::Device::new(&ctx.instance, &device);
    Ok(Side {
        device,
        fd,
        s2,
        queue,
        pool,
        buffer,
        image,
        memory: vk::DeviceMemory::null(),
        layout: vk::ImageLayout::UNDEFINED,
    })
}

impl Side {
    fn requirements(&self) -> vk::MemoryRequirements {
        // SAFETY: the resource was created from this device.
        unsafe {
            if self.image != vk::Image::null() {
                self.device.get_image_memory_requirements(self.image)
            } else {
                self.device.get_buffer_memory_requirements(self.buffer)
            }
        }
    }

    /// Allocates (exporting, importing `fd`, or plain) and binds at offset 0.
    fn allocate_and_bind(
        &mut self,
        size: u64,
        type_index: u32,
        export: bool,
        import_fd: Option<i32>,
    ) -> Result<(), String> {
        let mut export_info = vk::ExportMemoryAllocateInfo::default().handle_types(OPAQUE);
        let mut import_info = vk::ImportMemoryFdInfoKHR::default().handle_type(OPAQUE);
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
        // SAFETY: valid device; `ai` points at locals alive for the call.
        self.memory = unsafe { self.device.allocate_memory(&ai, None) }
            .map_err(|e| format!("vkAllocateMemory: {e:?}"))?;
        // SAFETY: an unbound resource and fresh memory large enough for it.
        unsafe {
            if self.image != vk::Image::null() {
                self.device.bind_image_memory(self.image, self.memory, 0)
            } else {
                self.device.bind_buffer_memory(self.buffer, self.memory, 0)
            }
        }
        .map_err(|e| format!("vkBind*Memory: {e:?}"))
    }

    /// One whole export of a scratch allocation (allocate, export, close, free): the layer
    /// has then seen this device's driver export, and may record the next one lazily.
    fn warm_export(&self, size: u64, type_index: u32) -> Result<(), String> {
        let mut export_info = vk::ExportMemoryAllocateInfo::default().handle_types(OPAQUE);
        let ai = vk::MemoryAllocateInfo::default()
            .allocation_size(size)
            .memory_type_index(type_index)
            .push_next(&mut export_info);
        // SAFETY: valid device; `ai` points at locals alive for the call.
        let memory = unsafe { self.device.allocate_memory(&ai, None) }
            .map_err(|e| format!("vkAllocateMemory (warm): {e:?}"))?;
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(memory)
            .handle_type(OPAQUE);
        // SAFETY: exportable memory of this device.
        let fd = unsafe { self.fd.get_memory_fd(&info) };
        if let Ok(fd) = fd {
            // SAFETY: the fd the driver just gave us.
            unsafe { libc::close(fd) };
        }
        // SAFETY: allocated above, freed once.
        unsafe { self.device.free_memory(memory, None) };
        fd.map(|_| ())
            .map_err(|e| format!("vkGetMemoryFdKHR (warm): {e:?}"))
    }

    fn export_fd(&self) -> Result<i32, String> {
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(self.memory)
            .handle_type(OPAQUE);
        // SAFETY: exportable memory of this device.
        unsafe { self.fd.get_memory_fd(&info) }.map_err(|e| format!("vkGetMemoryFdKHR: {e:?}"))
    }

    fn resource(&self) -> u64 {
        if self.image != vk::Image::null() {
            self.image.as_raw()
        } else {
            self.buffer.as_raw()
        }
    }

    fn json(&self) -> Value {
        json!({
            "device": handle_hex(self.device.handle().as_raw()),
            "resource": handle_hex(self.resource()),
            "memory": handle_hex(self.memory.as_raw()),
            "queue": handle_hex(self.queue.as_raw()),
        })
    }

    fn command_buffer(&self, level: vk::CommandBufferLevel) -> Result<vk::CommandBuffer, String> {
        let alloc = vk::CommandBufferAllocateInfo::default()
            .command_pool(self.pool)
            .level(level)
            .command_buffer_count(1);
        // SAFETY: valid device and pool.
        Ok(unsafe { self.device.allocate_command_buffers(&alloc) }
            .map_err(|e| format!("vkAllocateCommandBuffers: {e:?}"))?[0])
    }

    /// One barrier of the resource, sync1 or sync2.
    #[allow(clippy::too_many_arguments)]
    fn barrier(
        &self,
        cb: vk::CommandBuffer,
        o: Opts,
        src: u32,
        dst: u32,
        old: vk::ImageLayout,
        new: vk::ImageLayout,
        unmodified: bool,
    ) {
        let range = vk::ImageSubresourceRange {
            aspect_mask: vk::ImageAspectFlags::COLOR,
            base_mip_level: 0,
            level_count: 1,
            base_array_layer: 0,
            layer_count: 1,
        };
        let mut um =
            vk::ExternalMemoryAcquireUnmodifiedEXT::default().acquire_unmodified_memory(true);
        let mut um2 =
            vk::ExternalMemoryAcquireUnmodifiedEXT::default().acquire_unmodified_memory(true);
        if o.sync2 {
            let mut buf = vk::BufferMemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
                .dst_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
                .src_queue_family_index(src)
                .dst_queue_family_index(dst)
                .buffer(self.buffer)
                .size(vk::WHOLE_SIZE);
            let mut img = vk::ImageMemoryBarrier2::default()
                .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
                .dst_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
                .old_layout(old)
                .new_layout(new)
                .src_queue_family_index(src)
                .dst_queue_family_index(dst)
                .image(self.image)
                .subresource_range(range);
            if unmodified {
                buf = buf.push_next(&mut um);
                img = img.push_next(&mut um2);
            }
            let (bufs, imgs) = ([buf], [img]);
            let info = if self.image != vk::Image::null() {
                vk::DependencyInfo::default().image_memory_barriers(&imgs)
            } else {
                vk::DependencyInfo::default().buffer_memory_barriers(&bufs)
            };
            // SAFETY: a recording command buffer; `info` points at locals.
            unsafe { self.s2.cmd_pipeline_barrier2(cb, &info) };
        } else {
            let mut buf = vk::BufferMemoryBarrier::default()
                .src_queue_family_index(src)
                .dst_queue_family_index(dst)
                .buffer(self.buffer)
                .size(vk::WHOLE_SIZE);
            let mut img = vk::ImageMemoryBarrier::default()
                .old_layout(old)
                .new_layout(new)
                .src_queue_family_index(src)
                .dst_queue_family_index(dst)
                .image(self.image)
                .subresource_range(range);
            if unmodified {
                buf = buf.push_next(&mut um);
                img = img.push_next(&mut um2);
            }
            let (bufs, imgs) = ([buf], [img]);
            let (b, i): (&[vk::BufferMemoryBarrier], &[vk::ImageMemoryBarrier]) =
                if self.image != vk::Image::null() {
                    (&[], &imgs)
                } else {
                    (&bufs, &[])
                };
            // SAFETY: a recording command buffer; the arrays are locals.
            unsafe {
                self.device.cmd_pipeline_barrier(
                    cb,
                    vk::PipelineStageFlags::ALL_COMMANDS,
                    vk::PipelineStageFlags::ALL_COMMANDS,
                    vk::DependencyFlags::empty(),
                    &[],
                    b,
                    i,
                )
            };
        }
    }

    fn use_it(&self, cb: vk::CommandBuffer) {
        // SAFETY: a recording command buffer; the resource is bound.
        unsafe {
            if self.image != vk::Image::null() {
                let range = vk::ImageSubresourceRange {
                    aspect_mask: vk::ImageAspectFlags::COLOR,
                    base_mip_level: 0,
                    level_count: 1,
                    base_array_layer: 0,
                    layer_count: 1,
                };
                self.device.cmd_clear_color_image(
                    cb,
                    self.image,
                    vk::ImageLayout::GENERAL,
                    &vk::ClearColorValue::default(),
                    &[range],
                );
            } else {
                self.device
                    .cmd_fill_buffer(cb, self.buffer, 0, vk::WHOLE_SIZE, 0x5a5a_5a5a);
            }
        }
    }

    /// Records one step, submits it and waits.
    fn step(&mut self, o: Opts, op: &str, arg: Option<&str>) -> Result<Value, String> {
        let primary = self.command_buffer(vk::CommandBufferLevel::PRIMARY)?;
        let recorded = if o.secondary {
            self.command_buffer(vk::CommandBufferLevel::SECONDARY)?
        } else {
            primary
        };
        let inherit = vk::CommandBufferInheritanceInfo::default();
        let begin = vk::CommandBufferBeginInfo::default().inheritance_info(&inherit);
        // SAFETY: fresh command buffers of this device.
        unsafe {
            self.device
                .begin_command_buffer(primary, &vk::CommandBufferBeginInfo::default())
                .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
            if o.secondary {
                self.device
                    .begin_command_buffer(recorded, &begin)
                    .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
            }
        }
        let arg_layout = arg.map(layout).transpose()?;
        let ign = vk::QUEUE_FAMILY_IGNORED;
        let own = if o.concurrent { ign } else { o.family };
        match (op, arg_layout) {
            ("use", _) => self.use_it(recorded),
            ("release", Some(new)) => {
                self.barrier(recorded, o, own, o.special, self.layout, new, false);
                self.layout = new;
            }
            ("acquire" | "acquire-unmodified", Some(old)) => {
                let new = vk::ImageLayout::GENERAL;
                let um = op == "acquire-unmodified";
                self.barrier(recorded, o, o.special, own, old, new, um);
                self.layout = new;
            }
            ("transition", Some(new)) => {
                self.barrier(recorded, o, ign, ign, self.layout, new, false);
                self.layout = new;
            }
            _ => return Err(format!("bad step {op:?} {arg:?}")),
        }
        // SAFETY: recording command buffers of this device; the secondary is executable.
        unsafe {
            if o.secondary {
                self.device
                    .end_command_buffer(recorded)
                    .map_err(|e| format!("vkEndCommandBuffer: {e:?}"))?;
                self.device.cmd_execute_commands(primary, &[recorded]);
            }
            self.device
                .end_command_buffer(primary)
                .map_err(|e| format!("vkEndCommandBuffer: {e:?}"))?;
        }
        let cbs = [primary];
        let submit = vk::SubmitInfo::default().command_buffers(&cbs);
        // SAFETY: an executable command buffer and the device's queue.
        let r = unsafe {
            self.device
                .queue_submit(self.queue, &[submit], vk::Fence::null())
                .and_then(|()| self.device.queue_wait_idle(self.queue))
        };
        let r = match r {
            Ok(()) => vk::Result::SUCCESS,
            Err(e) => e,
        };
        Ok(json!({
            "command_buffer": handle_hex(primary.as_raw()),
            "recorded": handle_hex(recorded.as_raw()),
            "submit": result_json(r),
        }))
    }

    fn destroy(self) {
        // SAFETY: idle device; children before the device, each destroyed once.
        unsafe {
            let _ = self.device.device_wait_idle();
            self.device.destroy_command_pool(self.pool, None);
            self.device.destroy_buffer(self.buffer, None);
            self.device.destroy_image(self.image, None);
            self.device.free_memory(self.memory, None);
            self.device.destroy_device(None);
        }
    }
}

pub fn ownership(a: &Args) -> ScenarioResult {
    let memory_mode = a.value_or("--memory", "export");
    let special = match a.value_or("--special", "external") {
        "external" => vk::QUEUE_FAMILY_EXTERNAL,
        "foreign" => vk::QUEUE_FAMILY_FOREIGN_EXT,
        s => return Err(format!("bad --special {s:?}")),
    };
    let o = Opts {
        image: a.value_or("--resource", "buffer") == "image",
        d3d11: a.flag("--d3d11"),
        external: memory_mode != "plain",
        sync2: a.flag("--sync2"),
        foreign_ext: special == vk::QUEUE_FAMILY_FOREIGN_EXT,
        secondary: a.flag("--secondary"),
        special,
        family: parse_u64(a.value_or("--family", "0")).ok_or("bad --family")? as u32,
        concurrent: a.flag("--concurrent"),
    };
    let steps: Vec<&str> = a
        .value_or("--steps", "")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    let need_b = memory_mode == "import" || steps.iter().any(|s| s.starts_with("b:"));
    let separate = a.value_or("--second", "instance") == "instance";

    let ctx_a = Ctx::new(&InstanceOpts::from_args(a))?;
    let ctx_b = if need_b && separate {
        Some(Ctx::new(&InstanceOpts::from_args(a))?)
    } else {
        None
    };
    let mut side_a = make_side(&ctx_a, o)?;
    let mut side_b = if need_b {
        Some(make_side(ctx_b.as_ref().unwrap_or(&ctx_a), o)?)
    } else {
        None
    };
    let req = side_a.requirements();
    let size = side_b
        .as_ref()
        .map_or(req.size, |b| b.requirements().size.max(req.size));
    let bits = side_b.as_ref().map_or(req.memory_type_bits, |b| {
        b.requirements().memory_type_bits & req.memory_type_bits
    });
    let type_index = (0..32)
        .find(|i| bits & (1 << i) != 0)
        .ok_or("no common memory type")?;
    // `--warm`: each side exported once before, so that the handoff's export is lazy.
    if a.flag("--warm") {
        side_a.warm_export(size, type_index)?;
        if let Some(b) = &side_b {
            b.warm_export(size, type_index)?;
        }
    }
    match (memory_mode, side_b.as_mut()) {
        ("import", Some(b)) => {
            b.allocate_and_bind(size, type_index, true, None)?;
            let fd = b.export_fd()?;
            side_a.allocate_and_bind(size, type_index, false, Some(fd))?;
        }
        ("export", b) => {
            side_a.allocate_and_bind(size, type_index, true, None)?;
            if let Some(b) = b {
                let fd = side_a.export_fd()?;
                b.allocate_and_bind(size, type_index, false, Some(fd))?;
            }
        }
        ("plain", None) => side_a.allocate_and_bind(size, type_index, false, None)?,
        (m, _) => return Err(format!("bad --memory {m:?} for these steps")),
    }

    let mut done = Vec::new();
    for s in &steps {
        let mut parts = s.split(':');
        let (side, op, arg) = (parts.next(), parts.next(), parts.next());
        let target = match side {
            Some("a") => &mut side_a,
            Some("b") => side_b.as_mut().ok_or("no side b")?,
            _ => return Err(format!("bad step {s:?}")),
        };
        let mut r = target.step(o, op.unwrap_or(""), arg)?;
        r["side"] = json!(side);
        done.push(r);
    }

    let out = json!({
        "a": side_a.json(),
        "b": side_b.as_ref().map(Side::json),
        "steps": done,
    });
    side_a.destroy();
    if let Some(b) = side_b {
        b.destroy();
    }
    if let Some(c) = ctx_b {
        c.destroy();
    }
    ctx_a.destroy();
    Ok(out)
}

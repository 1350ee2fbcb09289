//! `commands`: a correct app that records, on an external (exported, OPAQUE_FD) buffer and
//! image, every kind of command whose effect the layer records for the ownership rules,
//! then releases both to `VK_QUEUE_FAMILY_EXTERNAL` and submits.
//!
//! One primary command buffer: layout transitions (`vkCmdPipelineBarrier2KHR`), fill,
//! update, copies (`vkCmdCopyBufferToImage`, `vkCmdCopyBufferToImage2KHR`,
//! `vkCmdCopyImageToBuffer2KHR`, `vkCmdCopyImage` into a plain image, `vkCmdCopyBuffer`),
//! clear, blit, a render pass whose attachment is the external image
//! (COLOR_ATTACHMENT_OPTIMAL to GENERAL, `vkCmdBeginRenderPass2KHR` with `--rp2`), dynamic
//! rendering into it (`vkCmdBeginRenderingKHR`), a secondary command buffer (fill) run with
//! `vkCmdExecuteCommands`, and the release of both resources (`vkCmdPipelineBarrier`, sync1,
//! with `--sync1-release`; `vkCmdPipelineBarrier2KHR` otherwise). `--no-release` leaves the
//! release out. `--imageless`: the framebuffer is imageless (VK_KHR_imageless_framebuffer;
//! lavapipe has it, the mock does not) and each begin chains VkRenderPassAttachmentBeginInfo.
//! `--after-release OP` replaces all of it: the image goes to GENERAL, both resources are
//! released, and one command touches them (`fill`, `update`, `clear`, `copy-buffer-to-image`,
//! `copy-image-to-buffer2`, `copy-image`, `blit`, `render-pass`, `rendering`, `secondary`).
//!
//! Results: `device`, `buffer`, `image`, `command_buffer`, `secondary`, `submit`.

use ash::vk;
use ash::vk::Handle;
use serde_json::json;

use super::args::Args;
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::{handle_hex, ScenarioResult};

const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
const EXTENT: vk::Extent3D = vk::Extent3D {
    width: 64,
    height: 64,
    depth: 1,
};
const COLOR: vk::ImageSubresourceRange = vk::ImageSubresourceRange {
    aspect_mask: vk::ImageAspectFlags::COLOR,
    base_mip_level: 0,
    level_count: 1,
    base_array_layer: 0,
    layer_count: 1,
};
const LAYERS: vk::ImageSubresourceLayers = vk::ImageSubresourceLayers {
    aspect_mask: vk::ImageAspectFlags::COLOR,
    mip_level: 0,
    base_array_layer: 0,
    layer_count: 1,
};

fn image_info(usage: vk::ImageUsageFlags) -> vk::ImageCreateInfo<'static> {
    vk::ImageCreateInfo::default()
        .image_type(vk::ImageType::TYPE_2D)
        .format(vk::Format::R8G8B8A8_UNORM)
        .extent(EXTENT)
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(usage)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .initial_layout(vk::ImageLayout::UNDEFINED)
}

/// Allocates memory for `req` (exported when `export`) and returns it.
fn memory(
    device: &ash::Device,
    req: vk::MemoryRequirements,
    export: bool,
) -> Result<vk::DeviceMemory, String> {
    let type_index = req.memory_type_bits.trailing_zeros();
    let mut export_info = vk::ExportMemoryAllocateInfo::default().handle_types(OPAQUE);
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(req.size)
        .memory_type_index(type_index);
    if export {
        ai = ai.push_next(&mut export_info);
    }
    // SAFETY: valid device; `ai` points at locals alive for the call.
    unsafe { device.allocate_memory(&ai, None) }.map_err(|e| format!("vkAllocateMemory: {e:?}"))
}

fn barrier2(
    image: vk::Image,
    old: vk::ImageLayout,
    new: vk::ImageLayout,
) -> vk::ImageMemoryBarrier2<'static> {
    vk::ImageMemoryBarrier2::default()
        .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
        .src_access_mask(vk::AccessFlags2::MEMORY_WRITE)
        .dst_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
        .dst_access_mask(vk::AccessFlags2::MEMORY_READ | vk::AccessFlags2::MEMORY_WRITE)
        .old_layout(old)
        .new_layout(new)
        .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
        .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
        .image(image)
        .subresource_range(COLOR)
}

/// What [`after_release`] records with.
struct Objs<'a> {
    device: &'a ash::Device,
    s2: &'a ash::khr::synchronization2::Device,
    c2: &'a ash::khr::copy_commands2::Device,
    r2: &'a ash::khr::create_renderpass2::Device,
    dr: &'a ash::khr::dynamic_rendering::Device,
    cb: vk::CommandBuffer,
    secondary: vk::CommandBuffer,
    buffer: vk::Buffer,
    image: vk::Image,
    plain: vk::Image,
    view: vk::ImageView,
    render_pass: vk::RenderPass,
    framebuffer: vk::Framebuffer,
    rp2: bool,
    imageless: bool,
}

/// `--after-release OP`: moves the image to GENERAL, releases the buffer and the image to
/// EXTERNAL, then records one command `OP` that touches them (all images in GENERAL).
///
/// # Safety
/// `o.cb` is recording; every handle is live and of `o.device`.
unsafe fn after_release(o: &Objs<'_>, op: &str) -> Result<(), String> {
    let (d, cb, g) = (o.device, o.cb, vk::ImageLayout::GENERAL);
    let to_general = [
        barrier2(o.image, vk::ImageLayout::UNDEFINED, g),
        barrier2(o.plain, vk::ImageLayout::UNDEFINED, g),
    ];
    let bufs = [vk::BufferMemoryBarrier2::default()
        .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
        .src_access_mask(vk::AccessFlags2::MEMORY_WRITE)
        .src_queue_family_index(0)
        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
        .buffer(o.buffer)
        .size(vk::WHOLE_SIZE)];
    let imgs = [barrier2(o.image, g, g)
        .src_queue_family_index(0)
        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)];
    let whole = [vk::BufferImageCopy::default()
        .image_subresource(LAYERS)
        .image_extent(EXTENT)];
    let whole2 = [vk::BufferImageCopy2::default()
        .image_subresource(LAYERS)
        .image_extent(EXTENT)];
    let copy = [vk::ImageCopy::default()
        .src_subresource(LAYERS)
        .dst_subresource(LAYERS)
        .extent(EXTENT)];
    let corner = [
        vk::Offset3D { x: 0, y: 0, z: 0 },
        vk::Offset3D { x: 64, y: 64, z: 1 },
    ];
    let blit = [vk::ImageBlit::default()
        .src_subresource(LAYERS)
        .src_offsets(corner)
        .dst_subresource(LAYERS)
        .dst_offsets(corner)];
    let area = vk::Rect2D {
        offset: vk::Offset2D { x: 0, y: 0 },
        extent: vk::Extent2D {
            width: 64,
            height: 64,
        },
    };
    let clear = vk::ClearColorValue {
        float32: [0.0, 0.5, 1.0, 1.0],
    };
    // SAFETY: per this function's contract; every struct points at locals.
    unsafe {
        o.s2.cmd_pipeline_barrier2(
            cb,
            &vk::DependencyInfo::default().image_memory_barriers(&to_general),
        );
        o.s2.cmd_pipeline_barrier2(
            cb,
            &vk::DependencyInfo::default()
                .buffer_memory_barriers(&bufs)
                .image_memory_barriers(&imgs),
        );
        match op {
            "fill" => d.cmd_fill_buffer(cb, o.buffer, 0, vk::WHOLE_SIZE, 0),
            "update" => d.cmd_update_buffer(cb, o.buffer, 0, &[1, 2, 3, 4]),
            "clear" => d.cmd_clear_color_image(cb, o.image, g, &clear, &[COLOR]),
            "copy-buffer-to-image" => d.cmd_copy_buffer_to_image(cb, o.buffer, o.image, g, &whole),
            "copy-image-to-buffer2" => o.c2.cmd_copy_image_to_buffer2(
                cb,
                &vk::CopyImageToBufferInfo2::default()
                    .src_image(o.image)
                    .src_image_layout(g)
                    .dst_buffer(o.buffer)
                    .regions(&whole2),
            ),
            "copy-image" => d.cmd_copy_image(cb, o.image, g, o.plain, g, &copy),
            "blit" => d.cmd_blit_image(cb, o.plain, g, o.image, g, &blit, vk::Filter::NEAREST),
            "render-pass" => {
                let views = [o.view];
                let mut at = vk::RenderPassAttachmentBeginInfo::default().attachments(&views);
                let mut rpb = vk::RenderPassBeginInfo::default()
                    .render_pass(o.render_pass)
                    .framebuffer(o.framebuffer)
                    .render_area(area);
                if o.imageless {
                    rpb = rpb.push_next(&mut at);
                }
                if o.rp2 {
                    let sbi = vk::SubpassBeginInfo::default().contents(vk::SubpassContents::INLINE);
                    o.r2.cmd_begin_render_pass2(cb, &rpb, &sbi);
                    o.r2.cmd_end_render_pass2(cb, &vk::SubpassEndInfo::default());
                } else {
                    d.cmd_begin_render_pass(cb, &rpb, vk::SubpassContents::INLINE);
                    d.cmd_end_render_pass(cb);
                }
            }
            "rendering" => {
                let color = [vk::RenderingAttachmentInfo::default()
                    .image_view(o.view)
                    .image_layout(g)
                    .load_op(vk::AttachmentLoadOp::LOAD)
                    .store_op(vk::AttachmentStoreOp::STORE)];
                let ri = vk::RenderingInfo::default()
                    .render_area(area)
                    .layer_count(1)
                    .color_attachments(&color);
                o.dr.cmd_begin_rendering(cb, &ri);
                o.dr.cmd_end_rendering(cb);
            }
            "secondary" => d.cmd_execute_commands(cb, &[o.secondary]),
            other => return Err(format!("unknown --after-release {other:?}")),
        }
    }
    Ok(())
}

pub fn commands(a: &Args) -> ScenarioResult {
    let rp2 = a.flag("--rp2");
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    // SAFETY: valid physical device.
    let offered = unsafe {
        ctx.instance
            .enumerate_device_extension_properties(ctx.physical)
    }
    .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e:?}"))?;
    let has = |n: &std::ffi::CStr| {
        offered
            .iter()
            .any(|p| p.extension_name_as_c_str().is_ok_and(|x| x == n))
    };
    let wanted = [
        ash::khr::external_memory_fd::NAME,
        ash::khr::synchronization2::NAME,
        ash::khr::copy_commands2::NAME,
        ash::khr::create_renderpass2::NAME,
        ash::khr::dynamic_rendering::NAME,
    ];
    if let Some(missing) = wanted.iter().find(|n| !has(n)) {
        return Err(format!("{missing:?} not offered"));
    }
    // Dependencies of the above on a Vulkan 1.1 instance, where the driver lists them.
    let deps = [
        ash::khr::depth_stencil_resolve::NAME,
        ash::khr::multiview::NAME,
        ash::khr::maintenance2::NAME,
    ];
    let mut exts: Vec<_> = wanted
        .iter()
        .chain(deps.iter().filter(|n| has(n)))
        .map(|n| n.as_ptr())
        .collect();
    let imageless = a.flag("--imageless");
    if imageless {
        for n in [
            ash::khr::imageless_framebuffer::NAME,
            ash::khr::image_format_list::NAME,
        ] {
            if !has(n) {
                return Err(format!("{n:?} not offered"));
            }
            exts.push(n.as_ptr());
        }
    }
    let prio = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&prio)];
    let mut sync2 = vk::PhysicalDeviceSynchronization2Features::default().synchronization2(true);
    let mut dynamic = vk::PhysicalDeviceDynamicRenderingFeatures::default().dynamic_rendering(true);
    let mut imageless_features =
        vk::PhysicalDeviceImagelessFramebufferFeatures::default().imageless_framebuffer(true);
    let mut ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts)
        .push_next(&mut sync2)
        .push_next(&mut dynamic);
    if imageless {
        ci = ci.push_next(&mut imageless_features);
    }
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(ctx.physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    let s2 = ash::khr::synchronization2::Device::new(&ctx.instance, &device);
    let c2 = ash::khr::copy_commands2::Device::new(&ctx.instance, &device);
    let r2 = ash::khr::create_renderpass2::Device::new(&ctx.instance, &device);
    let dr = ash::khr::dynamic_rendering::Device::new(&ctx.instance, &device);
    // SAFETY: the queue was requested at device creation.
    let queue = unsafe { device.get_device_queue(0, 0) };

    // The external buffer and image, and a plain image to copy into.
    let mut buf_ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(OPAQUE);
    let bci = vk::BufferCreateInfo::default()
        .size(64 * 64 * 4)
        .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .push_next(&mut buf_ext);
    // SAFETY: valid device; `bci` points at locals.
    let buffer = unsafe { device.create_buffer(&bci, None) }
        .map_err(|e| format!("vkCreateBuffer: {e:?}"))?;
    let usage = vk::ImageUsageFlags::TRANSFER_SRC
        | vk::ImageUsageFlags::TRANSFER_DST
        | vk::ImageUsageFlags::COLOR_ATTACHMENT;
    let mut img_ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(OPAQUE);
    let ici = image_info(usage).push_next(&mut img_ext);
    // SAFETY: valid device; `ici` points at locals.
    let image =
        unsafe { device.create_image(&ici, None) }.map_err(|e| format!("vkCreateImage: {e:?}"))?;
    // SAFETY: valid device.
    let plain = unsafe { device.create_image(&image_info(usage), None) }
        .map_err(|e| format!("vkCreateImage: {e:?}"))?;
    // SAFETY: resources of this device.
    let (breq, ireq, preq) = unsafe {
        (
            device.get_buffer_memory_requirements(buffer),
            device.get_image_memory_requirements(image),
            device.get_image_memory_requirements(plain),
        )
    };
    let bmem = memory(&device, breq, true)?;
    let imem = memory(&device, ireq, true)?;
    let pmem = memory(&device, preq, false)?;
    // SAFETY: unbound resources and fresh memory large enough for them.
    unsafe {
        device
            .bind_buffer_memory(buffer, bmem, 0)
            .and_then(|()| device.bind_image_memory(image, imem, 0))
            .and_then(|()| device.bind_image_memory(plain, pmem, 0))
    }
    .map_err(|e| format!("vkBind*Memory: {e:?}"))?;
    let view_ci = vk::ImageViewCreateInfo::default()
        .image(image)
        .view_type(vk::ImageViewType::TYPE_2D)
        .format(vk::Format::R8G8B8A8_UNORM)
        .subresource_range(COLOR);
    // SAFETY: a bound image of this device.
    let view = unsafe { device.create_image_view(&view_ci, None) }
        .map_err(|e| format!("vkCreateImageView: {e:?}"))?;

    // A render pass that loads the attachment in COLOR_ATTACHMENT_OPTIMAL and leaves it in
    // GENERAL.
    let render_pass = if rp2 {
        let att = [vk::AttachmentDescription2::default()
            .format(vk::Format::R8G8B8A8_UNORM)
            .samples(vk::SampleCountFlags::TYPE_1)
            .load_op(vk::AttachmentLoadOp::LOAD)
            .store_op(vk::AttachmentStoreOp::STORE)
            .stencil_load_op(vk::AttachmentLoadOp::DONT_CARE)
            .stencil_store_op(vk::AttachmentStoreOp::DONT_CARE)
            .initial_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
            .final_layout(vk::ImageLayout::GENERAL)];
        let refs = [vk::AttachmentReference2::default()
            .attachment(0)
            .layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
            .aspect_mask(vk::ImageAspectFlags::COLOR)];
        let sub = [vk::SubpassDescription2::default()
            .pipeline_bind_point(vk::PipelineBindPoint::GRAPHICS)
            .color_attachments(&refs)];
        let rci = vk::RenderPassCreateInfo2::default()
            .attachments(&att)
            .subpasses(&sub);
        // SAFETY: valid device; `rci` points at locals.
        unsafe { r2.create_render_pass2(&rci, None) }
    } else {
        let att = [vk::AttachmentDescription::default()
            .format(vk::Format::R8G8B8A8_UNORM)
            .samples(vk::SampleCountFlags::TYPE_1)
            .load_op(vk::AttachmentLoadOp::LOAD)
            .store_op(vk::AttachmentStoreOp::STORE)
            .stencil_load_op(vk::AttachmentLoadOp::DONT_CARE)
            .stencil_store_op(vk::AttachmentStoreOp::DONT_CARE)
            .initial_layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)
            .final_layout(vk::ImageLayout::GENERAL)];
        let refs = [vk::AttachmentReference::default()
            .attachment(0)
            .layout(vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL)];
        let sub = [vk::SubpassDescription::default()
            .pipeline_bind_point(vk::PipelineBindPoint::GRAPHICS)
            .color_attachments(&refs)];
        let rci = vk::RenderPassCreateInfo::default()
            .attachments(&att)
            .subpasses(&sub);
        // SAFETY: valid device; `rci` points at locals.
        unsafe { device.create_render_pass(&rci, None) }
    }
    .map_err(|e| format!("vkCreateRenderPass: {e:?}"))?;
    let views = [view];
    let formats = [vk::Format::R8G8B8A8_UNORM];
    let image_infos = [vk::FramebufferAttachmentImageInfo::default()
        .usage(usage)
        .width(64)
        .height(64)
        .layer_count(1)
        .view_formats(&formats)];
    let mut attachments_ci =
        vk::FramebufferAttachmentsCreateInfo::default().attachment_image_infos(&image_infos);
    let mut fci = vk::FramebufferCreateInfo::default()
        .render_pass(render_pass)
        .attachments(&views)
        .width(64)
        .height(64)
        .layers(1);
    if imageless {
        // The views come with each vkCmdBeginRenderPass.
        fci = fci
            .flags(vk::FramebufferCreateFlags::IMAGELESS)
            .push_next(&mut attachments_ci);
        fci.p_attachments = std::ptr::null();
    }
    // SAFETY: valid device; `fci` points at locals.
    let framebuffer = unsafe { device.create_framebuffer(&fci, None) }
        .map_err(|e| format!("vkCreateFramebuffer: {e:?}"))?;

    let pool_ci = vk::CommandPoolCreateInfo::default().queue_family_index(0);
    // SAFETY: valid device.
    let pool = unsafe { device.create_command_pool(&pool_ci, None) }
        .map_err(|e| format!("vkCreateCommandPool: {e:?}"))?;
    let alloc = |level| {
        let ai = vk::CommandBufferAllocateInfo::default()
            .command_pool(pool)
            .level(level)
            .command_buffer_count(1);
        // SAFETY: valid device and pool.
        unsafe { device.allocate_command_buffers(&ai) }
            .map(|v| v[0])
            .map_err(|e| format!("vkAllocateCommandBuffers: {e:?}"))
    };
    let cb = alloc(vk::CommandBufferLevel::PRIMARY)?;
    let secondary = alloc(vk::CommandBufferLevel::SECONDARY)?;

    // The secondary: a fill of the external buffer.
    let inheritance = vk::CommandBufferInheritanceInfo::default();
    let sbi = vk::CommandBufferBeginInfo::default().inheritance_info(&inheritance);
    // SAFETY: a fresh secondary command buffer; the begin info points at locals.
    unsafe {
        device
            .begin_command_buffer(secondary, &sbi)
            .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
        device.cmd_fill_buffer(secondary, buffer, 0, vk::WHOLE_SIZE, 0x5a5a_5a5a);
        device
            .end_command_buffer(secondary)
            .map_err(|e| format!("vkEndCommandBuffer: {e:?}"))?;
    }

    let whole = vk::BufferImageCopy::default()
        .image_subresource(LAYERS)
        .image_extent(EXTENT);
    let whole2 = [vk::BufferImageCopy2::default()
        .image_subresource(LAYERS)
        .image_extent(EXTENT)];
    let dep = |b: &[vk::ImageMemoryBarrier2]| {
        let info = vk::DependencyInfo::default().image_memory_barriers(b);
        // SAFETY: a recording command buffer; `info` points at the caller's array.
        unsafe { s2.cmd_pipeline_barrier2(cb, &info) };
    };
    // SAFETY: a fresh primary command buffer; every struct points at locals.
    unsafe {
        device
            .begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default())
            .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
        if let Some(op) = a.value("--after-release") {
            let o = Objs {
                device: &device,
                s2: &s2,
                c2: &c2,
                r2: &r2,
                dr: &dr,
                cb,
                secondary,
                buffer,
                image,
                plain,
                view,
                render_pass,
                framebuffer,
                rp2,
                imageless,
            };
            after_release(&o, op)?;
        } else {
            device.cmd_fill_buffer(cb, buffer, 0, vk::WHOLE_SIZE, 0);
            device.cmd_update_buffer(cb, buffer, 0, &[1, 2, 3, 4]);
            dep(&[
                barrier2(
                    image,
                    vk::ImageLayout::UNDEFINED,
                    vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                ),
                barrier2(
                    plain,
                    vk::ImageLayout::UNDEFINED,
                    vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                ),
            ]);
            let clear = vk::ClearColorValue {
                float32: [0.0, 0.5, 1.0, 1.0],
            };
            device.cmd_clear_color_image(
                cb,
                image,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &clear,
                &[COLOR],
            );
            device.cmd_copy_buffer_to_image(
                cb,
                buffer,
                image,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &[whole],
            );
            let b2i = vk::CopyBufferToImageInfo2::default()
                .src_buffer(buffer)
                .dst_image(image)
                .dst_image_layout(vk::ImageLayout::TRANSFER_DST_OPTIMAL)
                .regions(&whole2);
            c2.cmd_copy_buffer_to_image2(cb, &b2i);
            dep(&[barrier2(
                image,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
            )]);
            let i2b = vk::CopyImageToBufferInfo2::default()
                .src_image(image)
                .src_image_layout(vk::ImageLayout::TRANSFER_SRC_OPTIMAL)
                .dst_buffer(buffer)
                .regions(&whole2);
            c2.cmd_copy_image_to_buffer2(cb, &i2b);
            let copy = vk::ImageCopy::default()
                .src_subresource(LAYERS)
                .dst_subresource(LAYERS)
                .extent(EXTENT);
            device.cmd_copy_image(
                cb,
                image,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                plain,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &[copy],
            );
            let corner = [
                vk::Offset3D { x: 0, y: 0, z: 0 },
                vk::Offset3D { x: 64, y: 64, z: 1 },
            ];
            let blit = vk::ImageBlit::default()
                .src_subresource(LAYERS)
                .src_offsets(corner)
                .dst_subresource(LAYERS)
                .dst_offsets(corner);
            device.cmd_blit_image(
                cb,
                image,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                plain,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &[blit],
                vk::Filter::NEAREST,
            );
            dep(&[barrier2(
                image,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL,
            )]);
            let area = vk::Rect2D {
                offset: vk::Offset2D { x: 0, y: 0 },
                extent: vk::Extent2D {
                    width: 64,
                    height: 64,
                },
            };
            let mut at = vk::RenderPassAttachmentBeginInfo::default().attachments(&views);
            let mut rpb = vk::RenderPassBeginInfo::default()
                .render_pass(render_pass)
                .framebuffer(framebuffer)
                .render_area(area);
            if imageless {
                rpb = rpb.push_next(&mut at);
            }
            if rp2 {
                let sbi = vk::SubpassBeginInfo::default().contents(vk::SubpassContents::INLINE);
                r2.cmd_begin_render_pass2(cb, &rpb, &sbi);
                r2.cmd_end_render_pass2(cb, &vk::SubpassEndInfo::default());
            } else {
                device.cmd_begin_render_pass(cb, &rpb, vk::SubpassContents::INLINE);
                device.cmd_end_render_pass(cb);
            }
            // The render pass left the image in GENERAL.
            let color = [vk::RenderingAttachmentInfo::default()
                .image_view(view)
                .image_layout(vk::ImageLayout::GENERAL)
                .load_op(vk::AttachmentLoadOp::LOAD)
                .store_op(vk::AttachmentStoreOp::STORE)];
            let ri = vk::RenderingInfo::default()
                .render_area(area)
                .layer_count(1)
                .color_attachments(&color);
            dr.cmd_begin_rendering(cb, &ri);
            dr.cmd_end_rendering(cb);
            device.cmd_execute_commands(cb, &[secondary]);
            if !a.flag("--no-release") {
                if a.flag("--sync1-release") {
                    let bufs = [vk::BufferMemoryBarrier::default()
                        .src_access_mask(vk::AccessFlags::MEMORY_WRITE)
                        .src_queue_family_index(0)
                        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                        .buffer(buffer)
                        .size(vk::WHOLE_SIZE)];
                    let imgs = [vk::ImageMemoryBarrier::default()
                        .src_access_mask(vk::AccessFlags::MEMORY_WRITE)
                        .old_layout(vk::ImageLayout::GENERAL)
                        .new_layout(vk::ImageLayout::GENERAL)
                        .src_queue_family_index(0)
                        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                        .image(image)
                        .subresource_range(COLOR)];
                    device.cmd_pipeline_barrier(
                        cb,
                        vk::PipelineStageFlags::ALL_COMMANDS,
                        vk::PipelineStageFlags::BOTTOM_OF_PIPE,
                        vk::DependencyFlags::empty(),
                        &[],
                        &bufs,
                        &imgs,
                    );
                } else {
                    let bufs = [vk::BufferMemoryBarrier2::default()
                        .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
                        .src_access_mask(vk::AccessFlags2::MEMORY_WRITE)
                        .src_queue_family_index(0)
                        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                        .buffer(buffer)
                        .size(vk::WHOLE_SIZE)];
                    let mut img =
                        barrier2(image, vk::ImageLayout::GENERAL, vk::ImageLayout::GENERAL);
                    img = img
                        .src_queue_family_index(0)
                        .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
                        .dst_stage_mask(vk::PipelineStageFlags2::NONE)
                        .dst_access_mask(vk::AccessFlags2::NONE);
                    let imgs = [img];
                    let info = vk::DependencyInfo::default()
                        .buffer_memory_barriers(&bufs)
                        .image_memory_barriers(&imgs);
                    s2.cmd_pipeline_barrier2(cb, &info);
                }
            }
        }
        device
            .end_command_buffer(cb)
            .map_err(|e| format!("vkEndCommandBuffer: {e:?}"))?;
    }
    let cbs = [cb];
    let submit = vk::SubmitInfo::default().command_buffers(&cbs);
    // SAFETY: an executable command buffer; the queue of this device.
    let res = unsafe { device.queue_submit(queue, &[submit], vk::Fence::null()) };
    // SAFETY: the queue of this device.
    unsafe { device.queue_wait_idle(queue) }.map_err(|e| format!("vkQueueWaitIdle: {e:?}"))?;
    let out = json!({
        "device": handle_hex(device.handle().as_raw()),
        "buffer": handle_hex(buffer.as_raw()),
        "image": handle_hex(image.as_raw()),
        "command_buffer": handle_hex(cb.as_raw()),
        "secondary": handle_hex(secondary.as_raw()),
        "submit": result_json(match res {
            Ok(()) => vk::Result::SUCCESS,
            Err(e) => e,
        }),
    });
    // SAFETY: idle device; children before the device, each destroyed once.
    unsafe {
        device.destroy_command_pool(pool, None);
        device.destroy_framebuffer(framebuffer, None);
        device.destroy_render_pass(render_pass, None);
        device.destroy_image_view(view, None);
        device.destroy_image(plain, None);
        device.destroy_image(image, None);
        device.destroy_buffer(buffer, None);
        device.free_memory(pmem, None);
        device.free_memory(imem, None);
        device.free_memory(bmem, None);
        device.destroy_device(None);
    }
    ctx.destroy();
    Ok(out)
}

//! `barrier`: one queue family ownership transfer recorded with `vkCmdPipelineBarrier` (or
//! `vkCmdPipelineBarrier2KHR` with `--sync2`).
//!
//! - `--resource buffer|image` (default buffer): a 4096-byte buffer or a 64×64 R8G8B8A8
//!   image, created with VkExternalMemory*CreateInfo(OPAQUE_FD); `--concurrent` makes it
//!   CONCURRENT over every queue family (EXCLUSIVE otherwise, or when the device has one).
//! - `--src F`, `--dst F`: `external`, `foreign`, `ignored`, `count` (the device's queue
//!   family count: an index that is invalid on every driver) or a number (default 0).
//! - `--sync2`: enable VK_KHR_synchronization2 and its feature, record
//!   `vkCmdPipelineBarrier2KHR`.
//! - `--foreign`: enable VK_EXT_queue_family_foreign (when offered).
//! - `--host`: put the HOST stage in the source stage mask.
//! - `--pool-family F`: the command pool's queue family (default 0; the device gets a queue
//!   of that family too when it has one).
//! - `--wait-events`: record the barrier with `vkCmdSetEvent` + `vkCmdWaitEvents` (or
//!   `vkCmdSetEvent2KHR` + `vkCmdWaitEvents2KHR` with `--sync2`) instead.
//!
//! Memory is never bound (the layer checks parameters only). Results: `device`, `resource`,
//! `command_buffer`, `end` (vkEndCommandBuffer's result).

use ash::vk;
use ash::vk::Handle;
use serde_json::json;

use super::args::{parse_u64, Args};
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::{handle_hex, ScenarioResult};

/// `count` stands for the family count, known only once the physical device is.
fn family(v: &str, family_count: u32) -> Result<u32, String> {
    match v {
        "count" => Ok(family_count),
        "external" => Ok(vk::QUEUE_FAMILY_EXTERNAL),
        "foreign" => Ok(vk::QUEUE_FAMILY_FOREIGN_EXT),
        "ignored" => Ok(vk::QUEUE_FAMILY_IGNORED),
        n => parse_u64(n)
            .map(|n| n as u32)
            .ok_or_else(|| format!("bad queue family {n:?}")),
    }
}

pub fn barrier(a: &Args) -> ScenarioResult {
    let sync2 = a.flag("--sync2");
    let wait_events = a.flag("--wait-events");
    let image = a.value_or("--resource", "buffer") == "image";
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
    let mut exts = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
    if sync2 {
        exts.push(ash::khr::synchronization2::NAME.as_ptr());
    }
    if a.flag("--foreign") {
        if !has(ash::ext::queue_family_foreign::NAME) {
            return Err("VK_EXT_queue_family_foreign not offered".into());
        }
        exts.push(ash::ext::queue_family_foreign::NAME.as_ptr());
    }
    // SAFETY: valid physical device.
    let family_count = unsafe {
        ctx.instance
            .get_physical_device_queue_family_properties(ctx.physical)
    }
    .len() as u32;
    let src = family(a.value_or("--src", "0"), family_count)?;
    let dst = family(a.value_or("--dst", "0"), family_count)?;
    let pool_family = family(a.value_or("--pool-family", "0"), family_count)?;
    let prio = [1.0f32];
    let mut queues = vec![vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&prio)];
    if pool_family != 0 && pool_family < family_count {
        queues.push(
            vk::DeviceQueueCreateInfo::default()
                .queue_family_index(pool_family)
                .queue_priorities(&prio),
        );
    }
    let mut sync2_features =
        vk::PhysicalDeviceSynchronization2Features::default().synchronization2(true);
    let mut ci = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&exts);
    if sync2 {
        ci = ci.push_next(&mut sync2_features);
    }
    // SAFETY: valid physical device; `ci` points at locals alive for the call.
    let device = unsafe { ctx.instance.create_device(ctx.physical, &ci, None) }
        .map_err(|e| format!("vkCreateDevice: {e:?}"))?;
    let families: Vec<u32> = (0..family_count).collect();
    let concurrent = a.flag("--concurrent") && family_count > 1;
    let sharing = if concurrent {
        vk::SharingMode::CONCURRENT
    } else {
        vk::SharingMode::EXCLUSIVE
    };
    let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    let mut buf_ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(opaque);
    let mut img_ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(opaque);
    let (buffer, img) = if image {
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
            .initial_layout(vk::ImageLayout::UNDEFINED)
            .push_next(&mut img_ext);
        if concurrent {
            ci = ci.queue_family_indices(&families);
        }
        // SAFETY: valid device; `ci` points at locals alive for the call.
        let i = unsafe { device.create_image(&ci, None) }
            .map_err(|e| format!("vkCreateImage: {e:?}"))?;
        (vk::Buffer::null(), i)
    } else {
        let mut ci = vk::BufferCreateInfo::default()
            .size(4096)
            .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
            .sharing_mode(sharing)
            .push_next(&mut buf_ext);
        if concurrent {
            ci = ci.queue_family_indices(&families);
        }
        // SAFETY: valid device; `ci` points at locals alive for the call.
        let b = unsafe { device.create_buffer(&ci, None) }
            .map_err(|e| format!("vkCreateBuffer: {e:?}"))?;
        (b, vk::Image::null())
    };
    let pool_ci = vk::CommandPoolCreateInfo::default().queue_family_index(pool_family);
    // SAFETY: valid device.
    let pool = unsafe { device.create_command_pool(&pool_ci, None) }
        .map_err(|e| format!("vkCreateCommandPool: {e:?}"))?;
    let alloc = vk::CommandBufferAllocateInfo::default()
        .command_pool(pool)
        .level(vk::CommandBufferLevel::PRIMARY)
        .command_buffer_count(1);
    // SAFETY: valid device and pool.
    let cb = unsafe { device.allocate_command_buffers(&alloc) }
        .map_err(|e| format!("vkAllocateCommandBuffers: {e:?}"))?[0];
    // SAFETY: a fresh command buffer.
    unsafe { device.begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default()) }
        .map_err(|e| format!("vkBeginCommandBuffer: {e:?}"))?;
    let range = vk::ImageSubresourceRange {
        aspect_mask: vk::ImageAspectFlags::COLOR,
        base_mip_level: 0,
        level_count: 1,
        base_array_layer: 0,
        layer_count: 1,
    };
    let host = a.flag("--host");
    // SAFETY: valid device.
    let event = unsafe { device.create_event(&vk::EventCreateInfo::default(), None) }
        .map_err(|e| format!("vkCreateEvent: {e:?}"))?;
    if sync2 {
        let src_stage = if host {
            vk::PipelineStageFlags2::HOST
        } else {
            vk::PipelineStageFlags2::TRANSFER
        };
        let bufs = [vk::BufferMemoryBarrier2::default()
            .src_stage_mask(src_stage)
            .dst_stage_mask(vk::PipelineStageFlags2::TRANSFER)
            .src_queue_family_index(src)
            .dst_queue_family_index(dst)
            .buffer(buffer)
            .size(vk::WHOLE_SIZE)];
        let imgs = [vk::ImageMemoryBarrier2::default()
            .src_stage_mask(src_stage)
            .dst_stage_mask(vk::PipelineStageFlags2::TRANSFER)
            .old_layout(vk::ImageLayout::GENERAL)
            .new_layout(vk::ImageLayout::GENERAL)
            .src_queue_family_index(src)
            .dst_queue_family_index(dst)
            .image(img)
            .subresource_range(range)];
        let mut info = vk::DependencyInfo::default();
        info = if image {
            info.image_memory_barriers(&imgs)
        } else {
            info.buffer_memory_barriers(&bufs)
        };
        let s2 = ash::khr::synchronization2::Device::new(&ctx.instance, &device);
        if wait_events {
            // SAFETY: a recording command buffer; `info` points at locals; the wait's
            // dependency info is the one the event was set with.
            unsafe {
                s2.cmd_set_event2(cb, event, &info);
                s2.cmd_wait_events2(cb, &[event], std::slice::from_ref(&info));
            }
        } else {
            // SAFETY: a recording command buffer; `info` points at locals.
            unsafe { s2.cmd_pipeline_barrier2(cb, &info) };
        }
    } else {
        let src_stage = if host {
            vk::PipelineStageFlags::HOST
        } else {
            vk::PipelineStageFlags::TRANSFER
        };
        let bufs = [vk::BufferMemoryBarrier::default()
            .src_queue_family_index(src)
            .dst_queue_family_index(dst)
            .buffer(buffer)
            .size(vk::WHOLE_SIZE)];
        let imgs = [vk::ImageMemoryBarrier::default()
            .old_layout(vk::ImageLayout::GENERAL)
            .new_layout(vk::ImageLayout::GENERAL)
            .src_queue_family_index(src)
            .dst_queue_family_index(dst)
            .image(img)
            .subresource_range(range)];
        let (b, i): (&[vk::BufferMemoryBarrier], &[vk::ImageMemoryBarrier]) =
            if image { (&[], &imgs) } else { (&bufs, &[]) };
        if wait_events {
            // SAFETY: a recording command buffer; the arrays are locals.
            unsafe {
                device.cmd_set_event(cb, event, src_stage);
                device.cmd_wait_events(
                    cb,
                    &[event],
                    src_stage,
                    vk::PipelineStageFlags::TRANSFER,
                    &[],
                    b,
                    i,
                )
            };
        } else {
            // SAFETY: a recording command buffer; the arrays are locals.
            unsafe {
                device.cmd_pipeline_barrier(
                    cb,
                    src_stage,
                    vk::PipelineStageFlags::TRANSFER,
                    vk::DependencyFlags::empty(),
                    &[],
                    b,
                    i,
                )
            };
        }
    }
    // SAFETY: a recording command buffer.
    let end = unsafe { device.end_command_buffer(cb) };
    let end = match end {
        Ok(()) => vk::Result::SUCCESS,
        Err(e) => e,
    };
    let raw_resource = if image { img.as_raw() } else { buffer.as_raw() };
    let out = json!({
        "device": handle_hex(device.handle().as_raw()),
        "resource": handle_hex(raw_resource),
        "command_buffer": handle_hex(cb.as_raw()),
        "families": family_count,
        "end": result_json(end),
    });
    // SAFETY: children before the device, each destroyed once.
    unsafe {
        device.destroy_command_pool(pool, None);
        device.destroy_event(event, None);
        if image {
            device.destroy_image(img, None);
        } else {
            device.destroy_buffer(buffer, None);
        }
        device.destroy_device(None);
    }
    ctx.destroy();
    Ok(out)
}

//! `create-resource`: vkCreateBuffer / vkCreateImage with external-memory create infos.

use std::ffi::CStr;

use ash::vk;
use ash::vk::Handle;
use serde_json::json;

use super::args::Args;
use super::ctx::{result_json, Ctx, Dev, InstanceOpts};
use super::{handle_hex, ScenarioResult};

fn memory_types(list: &str) -> Result<Option<vk::ExternalMemoryHandleTypeFlags>, String> {
    if list == "none" {
        return Ok(None);
    }
    let mut t = vk::ExternalMemoryHandleTypeFlags::empty();
    for name in list.split(',').filter(|n| !n.is_empty() && *n != "empty") {
        t |= match name {
            "opaque" => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
            "host" => vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
            "dmabuf" => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
            other => return Err(format!("unknown handle type {other:?}")),
        };
    }
    Ok(Some(t))
}

fn nv_types(list: &str) -> Result<Option<vk::ExternalMemoryHandleTypeFlagsNV>, String> {
    if list == "none" {
        return Ok(None);
    }
    let mut t = vk::ExternalMemoryHandleTypeFlagsNV::empty();
    for name in list.split(',').filter(|n| !n.is_empty() && *n != "empty") {
        t |= match name {
            "win32" => vk::ExternalMemoryHandleTypeFlagsNV::OPAQUE_WIN32,
            "kmt" => vk::ExternalMemoryHandleTypeFlagsNV::OPAQUE_WIN32_KMT,
            "d3d11" => vk::ExternalMemoryHandleTypeFlagsNV::D3D11_IMAGE,
            other => return Err(format!("unknown NV handle type {other:?}")),
        };
    }
    Ok(Some(t))
}

/// A device with VK_KHR_external_memory_fd and, when the driver offers them,
/// VK_EXT_external_memory_host, VK_NV_external_memory, VK_KHR_image_format_list and
/// VK_EXT_external_memory_dma_buf.
fn create_device(ctx: &Ctx) -> Result<Dev, String> {
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
        ash::nv::external_memory::NAME,
        ash::khr::image_format_list::NAME,
        ash::ext::external_memory_dma_buf::NAME,
    ] {
        if offered(name) {
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

/// `create-resource`: creates one buffer or image, then destroys it (unless `--leak`).
///
/// `--kind buffer|image` (default buffer), `--types none|empty|opaque,host,dmabuf`
/// (VkExternalMemory{Buffer,Image}CreateInfo::handleTypes; `none` chains nothing, `empty`
/// chains it with 0; default opaque), `--nv none|empty|win32,kmt,d3d11`
/// (VkExternalMemoryImageCreateInfoNV; default none), `--layout undefined|preinitialized`,
/// `--tiling optimal|linear` (images; defaults undefined, optimal), `--format-list` (chain a
/// VkImageFormatListCreateInfo with the image's own format and B8G8R8A8_UNORM's sibling
/// R8G8B8A8_SRGB, and MUTABLE_FORMAT), `--leak` (vkDestroyDevice with the resource alive).
/// Instance options as `InstanceOpts` (`--instance-ext` for
/// VK_NV_external_memory_capabilities).
///
/// Results: `device`, `resource` (handles), `result` {code, name} of the create call.
pub fn create_resource(a: &Args) -> ScenarioResult {
    let kind = a.value_or("--kind", "buffer").to_owned();
    let khr = memory_types(a.value_or("--types", "opaque"))?;
    let nv = nv_types(a.value_or("--nv", "none"))?;
    let layout = match a.value_or("--layout", "undefined") {
        "undefined" => vk::ImageLayout::UNDEFINED,
        "preinitialized" => vk::ImageLayout::PREINITIALIZED,
        other => return Err(format!("--layout {other:?}")),
    };
    let tiling = match a.value_or("--tiling", "optimal") {
        "optimal" => vk::ImageTiling::OPTIMAL,
        "linear" => vk::ImageTiling::LINEAR,
        other => return Err(format!("--tiling {other:?}")),
    };
    let format_list = a.flag("--format-list");
    let leak = a.flag("--leak");

    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = create_device(&ctx)?;
    let (result, resource) = match kind.as_str() {
        "buffer" => {
            let mut ext =
                vk::ExternalMemoryBufferCreateInfo::default().handle_types(khr.unwrap_or_default());
            let mut ci = vk::BufferCreateInfo::default()
                .size(4096)
                .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
                .sharing_mode(vk::SharingMode::EXCLUSIVE);
            if khr.is_some() {
                ci = ci.push_next(&mut ext);
            }
            // SAFETY: valid device; `ci` points at locals alive for the call.
            match unsafe { dev.device.create_buffer(&ci, None) } {
                Ok(b) => (vk::Result::SUCCESS, b.as_raw()),
                Err(e) => (e, 0),
            }
        }
        "image" => {
            let format = vk::Format::R8G8B8A8_UNORM;
            let view_formats = [format, vk::Format::R8G8B8A8_SRGB];
            let mut list = vk::ImageFormatListCreateInfo::default().view_formats(&view_formats);
            let mut ext =
                vk::ExternalMemoryImageCreateInfo::default().handle_types(khr.unwrap_or_default());
            let mut ext_nv =
                vk::ExternalMemoryImageCreateInfoNV::default().handle_types(nv.unwrap_or_default());
            let mut ci = vk::ImageCreateInfo::default()
                .image_type(vk::ImageType::TYPE_2D)
                .format(format)
                .extent(vk::Extent3D {
                    width: 64,
                    height: 64,
                    depth: 1,
                })
                .mip_levels(1)
                .array_layers(1)
                .samples(vk::SampleCountFlags::TYPE_1)
                .tiling(tiling)
                .usage(vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST)
                .sharing_mode(vk::SharingMode::EXCLUSIVE)
                .initial_layout(layout);
            if khr.is_some() {
                ci = ci.push_next(&mut ext);
            }
            if nv.is_some() {
                ci = ci.push_next(&mut ext_nv);
            }
            if format_list {
                ci = ci
                    .flags(vk::ImageCreateFlags::MUTABLE_FORMAT)
                    .push_next(&mut list);
            }
            // SAFETY: valid device; `ci` points at locals alive for the call.
            match unsafe { dev.device.create_image(&ci, None) } {
                Ok(i) => (vk::Result::SUCCESS, i.as_raw()),
                Err(e) => (e, 0),
            }
        }
        other => return Err(format!("--kind {other:?}")),
    };
    if resource != 0 && !leak {
        // SAFETY: created above from this device and destroyed once.
        unsafe {
            match kind.as_str() {
                "buffer" => dev
                    .device
                    .destroy_buffer(vk::Buffer::from_raw(resource), None),
                _ => dev
                    .device
                    .destroy_image(vk::Image::from_raw(resource), None),
            }
        }
    }
    let device = handle_hex(dev.handle());
    dev.destroy();
    ctx.destroy();
    Ok(json!({
        "device": device,
        "resource": handle_hex(resource),
        "result": result_json(result),
    }))
}

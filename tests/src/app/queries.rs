//! `query`: the app's own capability queries, with raw arguments so invalid ones can be made.
//!
//! `--kind buffer|image|nv` (vkGetPhysicalDeviceExternalBufferProperties,
//! vkGetPhysicalDeviceImageFormatProperties2 with VkPhysicalDeviceExternalImageFormatInfo,
//! vkGetPhysicalDeviceExternalImageFormatPropertiesNV), `--handle-type N`, `--usage N`
//! (raw numbers), `--khr` (the KHR command names; enable their instance extensions with
//! `--instance-ext`), `--no-external` (image: no external info chained). The NV query needs
//! `--instance-ext VK_NV_external_memory_capabilities`.

use ash::vk;
use serde_json::json;

use super::args::Args;
use super::ctx::{result_json, Ctx, InstanceOpts};
use super::ScenarioResult;

fn props_json(p: vk::ExternalMemoryProperties) -> serde_json::Value {
    json!({
        "features": p.external_memory_features.as_raw(),
        "export_from_imported": p.export_from_imported_handle_types.as_raw(),
        "compatible": p.compatible_handle_types.as_raw(),
    })
}

/// `query`.
pub fn query(a: &Args) -> ScenarioResult {
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let handle_type = a.number("--handle-type", 1)? as u32;
    let usage = a.number("--usage", 1)? as u32;
    let khr = a.flag("--khr");
    let out = match a.value_or("--kind", "buffer") {
        "buffer" => {
            let info = vk::PhysicalDeviceExternalBufferInfo::default()
                .usage(vk::BufferUsageFlags::from_raw(usage))
                .handle_type(vk::ExternalMemoryHandleTypeFlags::from_raw(handle_type));
            let mut props = vk::ExternalBufferProperties::default();
            if khr {
                let f = ash::khr::external_memory_capabilities::Instance::new(
                    &ctx.entry,
                    &ctx.instance,
                );
                // SAFETY: valid physical device and structures.
                unsafe {
                    (f.fp().get_physical_device_external_buffer_properties_khr)(
                        ctx.physical,
                        &info,
                        &mut props,
                    )
                };
            } else {
                // SAFETY: as above.
                unsafe {
                    ctx.instance.get_physical_device_external_buffer_properties(
                        ctx.physical,
                        &info,
                        &mut props,
                    )
                };
            }
            json!({ "props": props_json(props.external_memory_properties) })
        }
        "image" => {
            let mut external = vk::PhysicalDeviceExternalImageFormatInfo::default()
                .handle_type(vk::ExternalMemoryHandleTypeFlags::from_raw(handle_type));
            let mut info = vk::PhysicalDeviceImageFormatInfo2::default()
                .format(vk::Format::R8G8B8A8_UNORM)
                .ty(vk::ImageType::TYPE_2D)
                .tiling(vk::ImageTiling::OPTIMAL)
                .usage(vk::ImageUsageFlags::from_raw(usage));
            if !a.flag("--no-external") {
                info = info.push_next(&mut external);
            }
            let mut external_props = vk::ExternalImageFormatProperties::default();
            let mut props = vk::ImageFormatProperties2::default().push_next(&mut external_props);
            let r = if khr {
                let f = ash::khr::get_physical_device_properties2::Instance::new(
                    &ctx.entry,
                    &ctx.instance,
                );
                // SAFETY: valid physical device; the chains point at locals.
                unsafe {
                    f.get_physical_device_image_format_properties2(ctx.physical, &info, &mut props)
                }
            } else {
                // SAFETY: as above.
                unsafe {
                    ctx.instance.get_physical_device_image_format_properties2(
                        ctx.physical,
                        &info,
                        &mut props,
                    )
                }
            };
            let r = r.err().unwrap_or(vk::Result::SUCCESS);
            let max_extent = props.image_format_properties.max_extent;
            json!({
                "result": result_json(r),
                "props": props_json(external_props.external_memory_properties),
                "max_extent": [max_extent.width, max_extent.height, max_extent.depth],
            })
        }
        "nv" => {
            let f = ash::nv::external_memory_capabilities::Instance::new(&ctx.entry, &ctx.instance);
            let mut p = vk::ExternalImageFormatPropertiesNV::default();
            // SAFETY: valid physical device; the output is a local.
            let r = unsafe {
                (f.fp()
                    .get_physical_device_external_image_format_properties_nv)(
                    ctx.physical,
                    vk::Format::R8G8B8A8_UNORM,
                    vk::ImageType::TYPE_2D,
                    vk::ImageTiling::OPTIMAL,
                    vk::ImageUsageFlags::from_raw(usage),
                    vk::ImageCreateFlags::empty(),
                    vk::ExternalMemoryHandleTypeFlagsNV::from_raw(handle_type),
                    &mut p,
                )
            };
            json!({
                "result": result_json(r),
                "props": {
                    "features": p.external_memory_features.as_raw(),
                    "export_from_imported": p.export_from_imported_handle_types.as_raw(),
                    "compatible": p.compatible_handle_types.as_raw(),
                },
            })
        }
        other => return Err(format!("unknown --kind {other:?}")),
    };
    ctx.destroy();
    Ok(out)
}

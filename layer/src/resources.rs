//! Buffers and images: creation (external-memory create infos against the driver's
//! capability answers) and destruction.

use crate::capabilities::{self, ImageParams};
use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::instance::chain_malformed;
use crate::memo::Key;
use crate::pnext;
use crate::state::resources::{self as tracked, BufferRecord, ImageRecord};
use ash::vk::{self, Handle};
use handoff_rules::checks::resource_create::{self, BufferCreateCall, ImageCreateCall};
use handoff_rules::Object;

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[link_section = ".text.hot.handoff"]
pub unsafe extern "system" fn create_buffer(
    device: vk::Device,
    p_create_info: *const vk::BufferCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_buffer: *mut vk::Buffer,
) -> vk::Result {
    guarded(
        "vkCreateBuffer",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.fns.fp_v1_0().create_buffer)(device, p_create_info, p_allocator, p_buffer)
                }
            };
            // SAFETY: a valid create info, or null (which only the driver may judge).
            let Some(info) = (unsafe { p_create_info.as_ref() }) else {
                return forward();
            };
            let mut external_chained: Option<vk::ExternalMemoryHandleTypeFlags> = None;
            let mut plain_chain = true;
            // SAFETY: the chain of a valid create info; the cast matches the sType.
            let walked = unsafe {
                pnext::walk(info.p_next, |st, p| {
                    if st == vk::StructureType::EXTERNAL_MEMORY_BUFFER_CREATE_INFO {
                        *external_chained.get_or_insert_with(Default::default) |=
                            (*(p as *const vk::ExternalMemoryBufferCreateInfo<'_>)).handle_types;
                    } else {
                        plain_chain = false;
                    }
                })
            };
            let external_types = external_chained.unwrap_or_default();
            if let Err(m) = walked {
                plain_chain = false;
                report_malformed(&data, device, "VkBufferCreateInfo", m);
            }
            // The rules read no handle: a create info judged clean before is clean again.
            let key = Key::BufferCreate {
                flags: info.flags,
                usage: info.usage,
                external: external_chained,
            };
            if !data.memo.is_clean(&key) {
                if let Some(r) = judge_buffer_create(&data, info, external_chained, key) {
                    return r;
                }
            }
            let res = forward();
            if res == vk::Result::SUCCESS && !p_buffer.is_null() {
                // SAFETY: written by the driver on success.
                let buffer = unsafe { *p_buffer };
                tracked::insert_buffer(
                    device,
                    buffer,
                    BufferRecord {
                        size: info.size,
                        flags: info.flags,
                        usage: info.usage,
                        sharing_mode: info.sharing_mode,
                        external_types,
                        bound: None,
                        plain_chain,
                    },
                );
                crate::report::log::hot_trace!(
                    buffer = buffer.as_raw(),
                    ?external_types,
                    "vkCreateBuffer"
                );
            }
            res
        },
    )
}

/// Reports a malformed `pNext` chain of a create info (`what`).
#[cold]
#[inline(never)]
fn report_malformed(data: &DeviceData, device: vk::Device, what: &str, m: pnext::Malformed) {
    data.reporter.report(chain_malformed(
        what,
        m,
        vec![Object::new(vk::ObjectType::DEVICE, device.as_raw())],
    ));
}

/// The buffer create rules of a create info the memo does not know clean (`key`): reports
/// the findings, remembers a clean verdict; `Some` result when an app callback stopped the
/// call.
#[cold]
#[inline(never)]
fn judge_buffer_create(
    data: &DeviceData,
    info: &vk::BufferCreateInfo<'_>,
    external_chained: Option<vk::ExternalMemoryHandleTypeFlags>,
    key: Key,
) -> Option<vk::Result> {
    let external_types = external_chained.unwrap_or_default();
    let call = BufferCreateCall {
        device: data.handle.as_raw(),
        flags: info.flags,
        usage: info.usage,
        external_types,
    };
    let answers = if external_types.is_empty() {
        Vec::new()
    } else {
        capabilities::buffer_answers(
            &data.capabilities,
            data.physical_device,
            info.flags,
            info.usage,
            external_types,
        )
    };
    let mut findings = resource_create::create_buffer(&call, &answers);
    findings.extend(crate::dedicated::buffer_create_findings(
        data,
        external_chained,
    ));
    if findings.is_empty() {
        data.memo.mark_clean(key);
    }
    data.reporter
        .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[link_section = ".text.hot.handoff"]
pub unsafe extern "system" fn destroy_buffer(
    device: vk::Device,
    buffer: vk::Buffer,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyBuffer", (), move || {
        // SAFETY: `device` is a live device of this layer's chain.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return;
        };
        if !buffer.is_null() {
            // liveness (helper B): the removal proves a double destroy, no new lookup.
            let known = tracked::forget_buffer(device, buffer);
            if !known && crate::liveness::destroy_buffer(&data, buffer) {
                return;
            }
            crate::state::ownership::remove_resource(device, buffer.as_raw());
        }
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().destroy_buffer)(device, buffer, p_allocator) };
    })
}

/// What `vkCreateImage`'s chain says about external memory.
#[derive(Default)]
struct ImageChain {
    external: Option<vk::ExternalMemoryHandleTypeFlags>,
    external_nv: Option<vk::ExternalMemoryHandleTypeFlagsNV>,
    view_formats: Option<Vec<vk::Format>>,
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_image(
    device: vk::Device,
    p_create_info: *const vk::ImageCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_image: *mut vk::Image,
) -> vk::Result {
    guarded(
        "vkCreateImage",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.fns.fp_v1_0().create_image)(device, p_create_info, p_allocator, p_image)
                }
            };
            // SAFETY: a valid create info, or null (which only the driver may judge).
            let Some(info) = (unsafe { p_create_info.as_ref() }) else {
                return forward();
            };
            let mut chain = ImageChain::default();
            // SAFETY: the chain of a valid create info; each cast matches its sType, and a
            // format list's pointer is valid for its count (or null with count 0).
            let walked = unsafe {
                pnext::walk(info.p_next, |st, p| match st {
                    vk::StructureType::EXTERNAL_MEMORY_IMAGE_CREATE_INFO => {
                        let t = (*(p as *const vk::ExternalMemoryImageCreateInfo<'_>)).handle_types;
                        *chain.external.get_or_insert_with(Default::default) |= t;
                    }
                    vk::StructureType::EXTERNAL_MEMORY_IMAGE_CREATE_INFO_NV => {
                        let t =
                            (*(p as *const vk::ExternalMemoryImageCreateInfoNV<'_>)).handle_types;
                        *chain.external_nv.get_or_insert_with(Default::default) |= t;
                    }
                    vk::StructureType::IMAGE_FORMAT_LIST_CREATE_INFO
                        if chain.view_formats.is_none() =>
                    {
                        let l = &*(p as *const vk::ImageFormatListCreateInfo<'_>);
                        let formats = if l.p_view_formats.is_null() || l.view_format_count == 0 {
                            Vec::new()
                        } else {
                            std::slice::from_raw_parts(
                                l.p_view_formats,
                                l.view_format_count as usize,
                            )
                            .to_vec()
                        };
                        chain.view_formats = Some(formats);
                    }
                    _ => {}
                })
            };
            if let Err(m) = walked {
                data.reporter.report(chain_malformed(
                    "VkImageCreateInfo",
                    m,
                    vec![Object::new(vk::ObjectType::DEVICE, device.as_raw())],
                ));
            }
            let params = ImageParams {
                format: info.format,
                image_type: info.image_type,
                tiling: info.tiling,
                usage: info.usage,
                flags: info.flags,
            };
            let khr = chain.external.unwrap_or_default();
            let nv = chain.external_nv.unwrap_or_default();
            let answers = if khr.is_empty() {
                Vec::new()
            } else {
                capabilities::image_answers(
                    &data.capabilities,
                    data.physical_device,
                    params,
                    chain.view_formats.as_deref(),
                    khr,
                )
            };
            let nv_answers = if nv.is_empty() {
                Vec::new()
            } else {
                capabilities::image_answers_nv(&data.capabilities, data.physical_device, params, nv)
            };
            let call = ImageCreateCall {
                device: device.as_raw(),
                flags: info.flags,
                format: info.format,
                image_type: info.image_type,
                tiling: info.tiling,
                usage: info.usage,
                initial_layout: info.initial_layout,
                external_types: chain.external,
                external_types_nv: chain.external_nv,
            };
            let mut findings = resource_create::create_image(&call, &answers, &nv_answers);
            findings.extend(crate::dedicated::image_create_findings(
                &data,
                chain.external,
                chain.external_nv,
            ));
            if let Some(r) = data
                .reporter
                .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
            {
                return r;
            }
            let res = forward();
            if res == vk::Result::SUCCESS && !p_image.is_null() {
                // SAFETY: written by the driver on success.
                let image = unsafe { *p_image };
                let has_format_list = chain.view_formats.is_some();
                tracked::insert_image(
                    device,
                    image,
                    ImageRecord {
                        flags: info.flags,
                        image_type: info.image_type,
                        format: info.format,
                        extent: [info.extent.width, info.extent.height, info.extent.depth],
                        mip_levels: info.mip_levels,
                        array_layers: info.array_layers,
                        samples: info.samples,
                        tiling: info.tiling,
                        usage: info.usage,
                        sharing_mode: info.sharing_mode,
                        initial_layout: info.initial_layout,
                        external_types: khr,
                        external_types_nv: nv,
                        has_format_list,
                        bound: None,
                    },
                    chain.view_formats,
                );
                crate::report::log::hot_trace!(image = image.as_raw(), external_types = ?khr, external_types_nv = ?nv, "vkCreateImage");
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_image(
    device: vk::Device,
    image: vk::Image,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyImage", (), move || {
        // SAFETY: `device` is a live device of this layer's chain.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return;
        };
        if !image.is_null() {
            // liveness (helper B): remembers the image, or proves a double destroy.
            let known = tracked::remove_image(device, image).is_some();
            if crate::liveness::destroy_image(&data, image, known) {
                return;
            }
            crate::state::ownership::remove_resource(device, image.as_raw());
        }
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().destroy_image)(device, image, p_allocator) };
    })
}

//! The app's own capability queries: `vkGetPhysicalDeviceExternalBufferProperties(KHR)`,
//! `vkGetPhysicalDeviceImageFormatProperties2(KHR)` (checked only with a chained
//! `VkPhysicalDeviceExternalImageFormatInfo`) and
//! `vkGetPhysicalDeviceExternalImageFormatPropertiesNV`.
//!
//! Findings go to the instance's reporter (a physical device shares its instance's dispatch
//! key) and never block: the query is always forwarded and its answer reaches the app
//! unchanged.
//!
//! The next commands are the ones resolved during `vkCreateInstance` (`data.fns`,
//! `data.capabilities`): resolved later through `next_gipa`, a name may come back as the
//! loader's trampoline, i.e. the top of the chain, i.e. these very functions (infinite
//! recursion).
//!
//! A successful answer whose question is exactly one of the layer's own
//! (`capabilities.rs`) is remembered, so the layer does not ask it again.

use crate::capabilities::{self, ImageParams};
use crate::dispatch::{self, InstanceData};
use crate::guard::guarded;
use crate::instance::chain_malformed;
use crate::pnext;
use ash::vk::{self, Handle};
use handoff_rules::checks::queries::{self as rules, BufferQuery, NvImageQuery};
use handoff_rules::Object;
use std::ffi::CStr;
use std::sync::Arc;

/// The instance data of a physical device.
///
/// # Safety
/// `physical` is a live physical device of this layer's chain.
unsafe fn instance_of(physical: vk::PhysicalDevice) -> Option<Arc<InstanceData>> {
    if physical.is_null() {
        return None;
    }
    // SAFETY: a live physical device shares its instance's dispatch pointer.
    dispatch::instance(unsafe { dispatch::key(physical) })
}

fn physical_object(physical: vk::PhysicalDevice) -> Vec<Object> {
    vec![Object::new(
        vk::ObjectType::PHYSICAL_DEVICE,
        physical.as_raw(),
    )]
}

/// `vkGetPhysicalDeviceExternalBufferProperties`.
///
/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn get_physical_device_external_buffer_properties(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceExternalBufferInfo<'_>,
    p_props: *mut vk::ExternalBufferProperties<'_>,
) {
    // SAFETY: forwarded contract.
    unsafe {
        external_buffer(
            c"vkGetPhysicalDeviceExternalBufferProperties",
            physical,
            p_info,
            p_props,
        )
    }
}

/// `vkGetPhysicalDeviceExternalBufferPropertiesKHR`.
///
/// # Safety
/// As [`get_physical_device_external_buffer_properties`].
pub unsafe extern "system" fn get_physical_device_external_buffer_properties_khr(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceExternalBufferInfo<'_>,
    p_props: *mut vk::ExternalBufferProperties<'_>,
) {
    // SAFETY: forwarded contract.
    unsafe {
        external_buffer(
            c"vkGetPhysicalDeviceExternalBufferPropertiesKHR",
            physical,
            p_info,
            p_props,
        )
    }
}

/// # Safety
/// As [`get_physical_device_external_buffer_properties`].
unsafe fn external_buffer(
    name: &'static CStr,
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceExternalBufferInfo<'_>,
    p_props: *mut vk::ExternalBufferProperties<'_>,
) {
    guarded("vkGetPhysicalDeviceExternalBufferProperties", (), || {
        // SAFETY: a live physical device per the caller.
        let Some(data) = (unsafe { instance_of(physical) }) else {
            return;
        };
        let _ = name; // core and KHR names reach the same driver command
        let fp = data
            .fns
            .fp_v1_1()
            .get_physical_device_external_buffer_properties;
        // SAFETY: a valid info, or null (which only the driver may judge).
        let info = unsafe { p_info.as_ref() };
        let mut cacheable = false;
        if let Some(info) = info {
            let mut usage2_chained = false;
            let mut links = 0usize;
            // SAFETY: the chain of a valid info.
            let walked = unsafe {
                pnext::walk(info.p_next, |st, _| {
                    links += 1;
                    usage2_chained |= st == vk::StructureType::BUFFER_USAGE_FLAGS_2_CREATE_INFO_KHR;
                })
            };
            if let Err(m) = walked {
                data.reporter.report(chain_malformed(
                    "VkPhysicalDeviceExternalBufferInfo",
                    m,
                    physical_object(physical),
                ));
            }
            let query = BufferQuery {
                physical_device: physical.as_raw(),
                flags: info.flags,
                usage: info.usage,
                handle_type: info.handle_type,
                usage2_chained,
            };
            let findings = rules::external_buffer(&query);
            // Only the layer's own question (no chain, a valid query) may fill its cache.
            cacheable = findings.is_empty() && walked.is_ok() && links == 0;
            // Not blocking: the query is forwarded whatever the verdict.
            data.reporter.report_all(findings);
        }
        // SAFETY: forwarding the app's arguments.
        unsafe { fp(physical, p_info, p_props) };
        // SAFETY: the driver filled the app's valid output struct.
        if let (true, Some(info), Some(props)) = (cacheable, info, unsafe { p_props.as_ref() }) {
            capabilities::remember_buffer(
                physical,
                info.flags,
                info.usage,
                info.handle_type,
                props.external_memory_properties,
            );
        }
    })
}

/// `vkGetPhysicalDeviceImageFormatProperties2`.
///
/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
pub unsafe extern "system" fn get_physical_device_image_format_properties2(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceImageFormatInfo2<'_>,
    p_props: *mut vk::ImageFormatProperties2<'_>,
) -> vk::Result {
    // SAFETY: forwarded contract.
    unsafe {
        image_format2(
            c"vkGetPhysicalDeviceImageFormatProperties2",
            physical,
            p_info,
            p_props,
        )
    }
}

/// `vkGetPhysicalDeviceImageFormatProperties2KHR`.
///
/// # Safety
/// As [`get_physical_device_image_format_properties2`].
pub unsafe extern "system" fn get_physical_device_image_format_properties2_khr(
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceImageFormatInfo2<'_>,
    p_props: *mut vk::ImageFormatProperties2<'_>,
) -> vk::Result {
    // SAFETY: forwarded contract.
    unsafe {
        image_format2(
            c"vkGetPhysicalDeviceImageFormatProperties2KHR",
            physical,
            p_info,
            p_props,
        )
    }
}

/// What the input chain of an image format query says.
#[derive(Default)]
struct ImageChain {
    handle_type: Option<vk::ExternalMemoryHandleTypeFlags>,
    view_formats: Option<Vec<vk::Format>>,
    /// Structs other than the external info and the format list (they change the answer).
    others: usize,
}

/// # Safety
/// As [`get_physical_device_image_format_properties2`].
unsafe fn image_format2(
    name: &'static CStr,
    physical: vk::PhysicalDevice,
    p_info: *const vk::PhysicalDeviceImageFormatInfo2<'_>,
    p_props: *mut vk::ImageFormatProperties2<'_>,
) -> vk::Result {
    guarded(
        "vkGetPhysicalDeviceImageFormatProperties2",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: a live physical device per the caller.
            let Some(data) = (unsafe { instance_of(physical) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let _ = name; // core and KHR names reach the same driver command
            let fp = data
                .fns
                .fp_v1_1()
                .get_physical_device_image_format_properties2;
            // SAFETY: a valid info, or null (which only the driver may judge).
            let info = unsafe { p_info.as_ref() };
            let mut chain = ImageChain::default();
            let mut chain_ok = false;
            if let Some(info) = info {
                // SAFETY: the chain of a valid info; each cast matches its sType, and a
                // format list holds `view_format_count` formats.
                let walked = unsafe {
                    pnext::walk(info.p_next, |st, p| match st {
                        vk::StructureType::PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO => {
                            let e = &*(p as *const vk::PhysicalDeviceExternalImageFormatInfo<'_>);
                            chain.handle_type = Some(e.handle_type);
                        }
                        vk::StructureType::IMAGE_FORMAT_LIST_CREATE_INFO => {
                            let l = &*(p as *const vk::ImageFormatListCreateInfo<'_>);
                            let formats = if l.p_view_formats.is_null() {
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
                        _ => chain.others += 1,
                    })
                };
                if let Err(m) = walked {
                    data.reporter.report(chain_malformed(
                        "VkPhysicalDeviceImageFormatInfo2",
                        m,
                        physical_object(physical),
                    ));
                }
                chain_ok = walked.is_ok();
                // Not blocking: the query is forwarded whatever the verdict.
                data.reporter
                    .report_all(rules::image_format(physical.as_raw(), chain.handle_type));
            }
            // SAFETY: forwarding the app's arguments.
            let result = unsafe { fp(physical, p_info, p_props) };
            let bit = chain
                .handle_type
                .filter(|t| rules::is_single_known_memory_type(*t));
            if let (Some(info), Some(bit), true, 0) = (info, bit, chain_ok, chain.others) {
                // SAFETY: the app's valid output struct, filled by the driver.
                if let Some(external) = unsafe { external_output(p_props) } {
                    let params = ImageParams {
                        format: info.format,
                        image_type: info.ty,
                        tiling: info.tiling,
                        usage: info.usage,
                        flags: info.flags,
                    };
                    capabilities::remember_image(
                        physical,
                        params,
                        chain.view_formats.as_deref().unwrap_or_default(),
                        bit,
                        result,
                        external,
                    );
                }
            }
            result
        },
    )
}

/// The `VkExternalImageFormatProperties` the app chained to its output, if any.
///
/// # Safety
/// `p_props` is null or a valid output struct with a valid chain.
unsafe fn external_output(
    p_props: *const vk::ImageFormatProperties2<'_>,
) -> Option<vk::ExternalMemoryProperties> {
    // SAFETY: valid or null per the caller.
    let props = unsafe { p_props.as_ref() }?;
    let mut found = None;
    // SAFETY: the app's valid chain; the cast matches the sType.
    let walked = unsafe {
        pnext::walk(props.p_next, |st, p| {
            if st == vk::StructureType::EXTERNAL_IMAGE_FORMAT_PROPERTIES {
                found = Some(
                    (*(p as *const vk::ExternalImageFormatProperties<'_>))
                        .external_memory_properties,
                );
            }
        })
    };
    walked.ok().and(found)
}

/// `vkGetPhysicalDeviceExternalImageFormatPropertiesNV`.
///
/// # Safety
/// The loader calls this with arguments valid for the Vulkan command.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "system" fn get_physical_device_external_image_format_properties_nv(
    physical: vk::PhysicalDevice,
    format: vk::Format,
    ty: vk::ImageType,
    tiling: vk::ImageTiling,
    usage: vk::ImageUsageFlags,
    flags: vk::ImageCreateFlags,
    external_handle_type: vk::ExternalMemoryHandleTypeFlagsNV,
    p_props: *mut vk::ExternalImageFormatPropertiesNV,
) -> vk::Result {
    guarded(
        "vkGetPhysicalDeviceExternalImageFormatPropertiesNV",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: a live physical device per the caller.
            let Some(data) = (unsafe { instance_of(physical) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // Resolved during vkCreateInstance, gated on the same extension as this entry.
            let Some(fp) = data.capabilities.external_image_nv() else {
                return vk::Result::ERROR_EXTENSION_NOT_PRESENT;
            };
            let query = NvImageQuery {
                physical_device: physical.as_raw(),
                usage,
                handle_types: external_handle_type,
            };
            let findings = rules::external_image_nv(&query);
            let valid = findings.is_empty();
            // Not blocking: the query is forwarded whatever the verdict.
            data.reporter.report_all(findings);
            // SAFETY: forwarding the app's arguments.
            let result = unsafe {
                fp(
                    physical,
                    format,
                    ty,
                    tiling,
                    usage,
                    flags,
                    external_handle_type,
                    p_props,
                )
            };
            // SAFETY: the app's valid output struct, filled by the driver.
            let props = unsafe { p_props.as_ref() };
            if let (true, 1, Some(props)) =
                (valid, external_handle_type.as_raw().count_ones(), props)
            {
                let params = ImageParams {
                    format,
                    image_type: ty,
                    tiling,
                    usage,
                    flags,
                };
                capabilities::remember_nv(physical, params, external_handle_type, result, props);
            }
            result
        },
    )
}

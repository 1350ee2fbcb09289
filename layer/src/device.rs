//! `vkCreateDevice` / `vkDestroyDevice`.

use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::instance::chain_malformed;
use crate::loader_abi::{VkLayerDeviceCreateInfo, VkLayerDeviceLink, VK_LAYER_LINK_INFO};
use crate::{pnext, state};
use ash::vk::{self, Handle};
use handoff_rules::{checks, Object};
use std::ffi::{c_void, CStr};
use std::sync::Arc;

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_device(
    physical_device: vk::PhysicalDevice,
    p_create_info: *const vk::DeviceCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_device: *mut vk::Device,
) -> vk::Result {
    guarded(
        "vkCreateDevice",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: the loader passes valid arguments for a live physical device.
            unsafe { create_device_inner(physical_device, p_create_info, p_allocator, p_device) }
        },
    )
}

unsafe fn create_device_inner(
    physical_device: vk::PhysicalDevice,
    p_create_info: *const vk::DeviceCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_device: *mut vk::Device,
) -> vk::Result {
    if p_create_info.is_null() || p_device.is_null() {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    }
    // Physical devices share their instance's dispatch pointer.
    // SAFETY: `physical_device` is a live dispatchable handle.
    let Some(inst) = dispatch::instance(unsafe { dispatch::key(physical_device) }) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    // SAFETY: checked non-null; valid per the loader.
    let info = unsafe { &*p_create_info };
    let mut link_info: Option<*mut VkLayerDeviceCreateInfo> = None;
    let mut group: Option<Vec<vk::PhysicalDevice>> = None;
    let mut image_aliasing = false;
    let mut sync2_feature = false;
    // SAFETY: the chain of a valid create info; each cast matches its sType, and a device
    // group's pointer is valid for its count.
    let walked = unsafe {
        pnext::walk(info.p_next, |st, p| {
            if st == vk::StructureType::LOADER_DEVICE_CREATE_INFO && link_info.is_none() {
                let li = p as *mut VkLayerDeviceCreateInfo;
                if (*li).function == VK_LAYER_LINK_INFO {
                    link_info = Some(li);
                }
            } else if st == vk::StructureType::DEVICE_GROUP_DEVICE_CREATE_INFO && group.is_none() {
                let g = &*(p as *const vk::DeviceGroupDeviceCreateInfo<'_>);
                if !g.p_physical_devices.is_null() && g.physical_device_count > 0 {
                    group = Some(
                        std::slice::from_raw_parts(
                            g.p_physical_devices,
                            g.physical_device_count as usize,
                        )
                        .to_vec(),
                    );
                }
            } else if st
                == vk::StructureType::PHYSICAL_DEVICE_DEDICATED_ALLOCATION_IMAGE_ALIASING_FEATURES_NV
            {
                let f = &*(p as *const vk::PhysicalDeviceDedicatedAllocationImageAliasingFeaturesNV<'_>);
                image_aliasing |= f.dedicated_allocation_image_aliasing == vk::TRUE;
            } else if st == vk::StructureType::PHYSICAL_DEVICE_SYNCHRONIZATION_2_FEATURES {
                let f = &*(p as *const vk::PhysicalDeviceSynchronization2Features<'_>);
                sync2_feature |= f.synchronization2 == vk::TRUE;
            } else if st == vk::StructureType::PHYSICAL_DEVICE_VULKAN_1_3_FEATURES {
                let f = &*(p as *const vk::PhysicalDeviceVulkan13Features<'_>);
                sync2_feature |= f.synchronization2 == vk::TRUE;
            }
        })
    };
    if let Err(m) = walked {
        inst.reporter.report(chain_malformed(
            "VkDeviceCreateInfo",
            m,
            vec![Object::new(
                vk::ObjectType::PHYSICAL_DEVICE,
                physical_device.as_raw(),
            )],
        ));
    }
    let Some(link_info) = link_info else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    // SAFETY: the loader's link info points at this layer's link.
    let link: &VkLayerDeviceLink = match unsafe { (*link_info).p_layer_info.as_ref() } {
        Some(l) => l,
        None => return vk::Result::ERROR_INITIALIZATION_FAILED,
    };
    let (Some(next_gipa), Some(next_gdpa)) = (
        link.pfn_next_get_instance_proc_addr,
        link.pfn_next_get_device_proc_addr,
    ) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    // SAFETY: each layer advances the link before calling down.
    unsafe { (*link_info).p_layer_info = link.p_next };
    // SAFETY: resolving vkCreateDevice for our live instance.
    let Some(next_create) = (unsafe { next_gipa(inst.handle, c"vkCreateDevice".as_ptr()) }) else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    // SAFETY: the returned pointer is vkCreateDevice.
    let next_create: vk::PFN_vkCreateDevice = unsafe { std::mem::transmute(next_create) };
    // SAFETY: forwarding the app's arguments.
    let res = unsafe { next_create(physical_device, p_create_info, p_allocator, p_device) };
    if res != vk::Result::SUCCESS {
        return res;
    }
    // SAFETY: written by the driver on success.
    let device = unsafe { *p_device };
    let load = |name: &CStr| {
        // SAFETY: resolving a command name for a live device.
        unsafe {
            std::mem::transmute::<vk::PFN_vkVoidFunction, *const c_void>(next_gdpa(
                device,
                name.as_ptr(),
            ))
        }
    };
    // SAFETY: `load` resolves device commands of `device`.
    let fns = unsafe { ash::Device::load_with(load, device) };
    let external_memory_fd = ash::khr::external_memory_fd::DeviceFn::load(load);
    // SAFETY: names of a valid create info.
    let extensions = unsafe {
        dispatch::extension_names(
            info.pp_enabled_extension_names,
            info.enabled_extension_count,
        )
    };
    tracing::debug!(target: "handoff", device = device.as_raw(), "vkCreateDevice");
    // SAFETY: a live physical device of `inst`.
    let identity = unsafe { physical_identity(&inst, physical_device) };
    // SAFETY: `next_gdpa` resolves commands of the live `device`.
    let requirements = unsafe {
        crate::requirements::RequirementFns::load(next_gdpa, device, identity.api_version, |n| {
            let n = n.to_bytes();
            extensions.iter().any(|e| e.as_bytes() == n)
        })
    };
    // SAFETY: a live physical device of `inst`.
    let queue_family_count = unsafe {
        inst.fns
            .get_physical_device_queue_family_properties(physical_device)
    }
    .len() as u32;
    let data = DeviceData {
        handle: device,
        physical_device,
        api_version: identity.api_version,
        device_uuid: identity.device_uuid,
        driver_uuid: identity.driver_uuid,
        group_raw: group
            .as_deref()
            .unwrap_or(&[physical_device])
            .iter()
            .map(|p| p.as_raw())
            .collect(),
        next_gdpa,
        fns,
        external_memory_fd,
        requirements,
        bind_memory2: ash::khr::bind_memory2::DeviceFn::load(load),
        dedicated_image_aliasing: image_aliasing,
        queue_family_count,
        synchronization2: ash::khr::synchronization2::DeviceFn::load(load),
        synchronization2_feature: sync2_feature,
        external_semaphore_fd: ash::khr::external_semaphore_fd::DeviceFn::load(load),
        external_fence_fd: ash::khr::external_fence_fd::DeviceFn::load(load),
        timeline_semaphore: ash::khr::timeline_semaphore::DeviceFn::load(load),
        create_renderpass2: ash::khr::create_renderpass2::DeviceFn::load(load),
        dynamic_rendering: ash::khr::dynamic_rendering::DeviceFn::load(load),
        copy_commands2: ash::khr::copy_commands2::DeviceFn::load(load),
        capabilities: inst.capabilities,
        enabled: dispatch::HotExtensions::new(&extensions),
        extensions,
        reporter: Arc::clone(&inst.reporter),
        lazy_fd_exports: Default::default(),
        import_fds: Default::default(),
        memo: Default::default(),
        requirement_cache: Default::default(),
    };
    if !data.enabled.shares {
        tracing::info!(
            target: "handoff",
            device = device.as_raw(),
            "no enabled extension can export or import a payload: this device gets the next \
             layer's commands and is not tracked"
        );
    }
    // SAFETY: `device` is a live dispatchable handle.
    dispatch::insert_device(unsafe { dispatch::key(device) }, Arc::new(data));
    vk::Result::SUCCESS
}

/// The API version a device of `physical` runs at, and its UUIDs when the driver can tell.
struct Identity {
    api_version: u32,
    device_uuid: Option<[u8; vk::UUID_SIZE]>,
    driver_uuid: Option<[u8; vk::UUID_SIZE]>,
}

/// Asks the driver for the physical device's API version and `VkPhysicalDeviceIDProperties`.
///
/// # Safety
/// `physical` is a live physical device of `inst`.
unsafe fn physical_identity(
    inst: &dispatch::InstanceData,
    physical: vk::PhysicalDevice,
) -> Identity {
    // SAFETY: a live physical device of this instance.
    let props = unsafe { inst.fns.get_physical_device_properties(physical) };
    let api_version = props
        .api_version
        .min(inst.api_version.max(vk::API_VERSION_1_0));
    let props2: Option<vk::PFN_vkGetPhysicalDeviceProperties2> = {
        let name = if api_version >= vk::API_VERSION_1_1 {
            Some(c"vkGetPhysicalDeviceProperties2")
        } else if inst.has_extension(vk::KHR_GET_PHYSICAL_DEVICE_PROPERTIES2_NAME)
            && inst.has_extension(vk::KHR_EXTERNAL_MEMORY_CAPABILITIES_NAME)
        {
            Some(c"vkGetPhysicalDeviceProperties2KHR")
        } else {
            None
        };
        // SAFETY: resolving a command of a live instance through the next layer; the
        // returned pointer is that command, of this signature.
        name.and_then(|n| unsafe { (inst.next_gipa)(inst.handle, n.as_ptr()) })
            .map(|f| unsafe { std::mem::transmute::<unsafe extern "system" fn(), _>(f) })
    };
    let mut ids = vk::PhysicalDeviceIDProperties::default();
    let known = match props2 {
        Some(fp) => {
            let mut p2 = vk::PhysicalDeviceProperties2::default().push_next(&mut ids);
            // SAFETY: a live physical device and an output chain of locals.
            unsafe { fp(physical, &mut p2) };
            true
        }
        None => false,
    };
    Identity {
        api_version,
        device_uuid: known.then_some(ids.device_uuid),
        driver_uuid: known.then_some(ids.driver_uuid),
    }
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_device(
    device: vk::Device,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyDevice", (), || {
        if device.is_null() {
            return;
        }
        // SAFETY: a non-null device passed to vkDestroyDevice is live.
        let Some(data) = dispatch::remove_device(unsafe { dispatch::key(device) }) else {
            return;
        };
        tracing::debug!(target: "handoff", device = device.as_raw(), "vkDestroyDevice");
        crate::payload::device_destroyed(device);
        let mut live: Vec<Object> = state::remove_device(device)
            .into_iter()
            .map(|h| Object::new(vk::ObjectType::DEVICE_MEMORY, h))
            .collect();
        live.extend(
            state::resources::remove_device(device)
                .into_iter()
                .map(|(ty, h)| Object::new(ty, h)),
        );
        state::commands::remove_device(device);
        state::ownership::remove_device(device);
        crate::submit::device_destroyed(device);
        state::views::remove_device(device);
        crate::capabilities::forget(data.physical_device);
        crate::sync::forget(data.physical_device);
        if let Some(f) = checks::lifetime::destroy_device(device.as_raw(), &live) {
            data.reporter.report(f);
        }
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().destroy_device)(device, p_allocator) };
    })
}

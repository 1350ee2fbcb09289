//! Instance-level commands: instance creation with the profile from the environment,
//! instance extensions and version, physical device enumeration.

use crate::ffi;
use crate::handles::Dispatchable;
use crate::profile::{self, Extension, Profile};
use crate::state::{self, InstanceObj, PhysicalObj};
use ash::vk;
use ash::vk::Handle;
use std::ffi::c_char;
use std::sync::Arc;

/// `VkExtensionProperties` of an extension list.
pub fn extension_properties(list: &[Extension]) -> Vec<vk::ExtensionProperties> {
    list.iter()
        .map(|e| {
            let mut p = vk::ExtensionProperties {
                spec_version: e.spec_version,
                ..Default::default()
            };
            ffi::copy_cstr(&mut p.extension_name, &e.name);
            p
        })
        .collect()
}

/// The profile that global commands (no instance yet) answer from: the environment's, or
/// lavapipe's when the environment names a bad profile (instance creation reports that).
pub fn global_profile() -> Profile {
    profile::from_env().unwrap_or_default()
}

/// `vkEnumerateInstanceExtensionProperties`.
///
/// # Safety
/// `p_layer_name` is null or a C string; `p_count` is valid; `p_props` is null or valid for
/// `*p_count` writes.
pub unsafe extern "system" fn enumerate_instance_extension_properties(
    p_layer_name: *const c_char,
    p_count: *mut u32,
    p_props: *mut vk::ExtensionProperties,
) -> vk::Result {
    ffi::guard(|| {
        if !p_layer_name.is_null() {
            return vk::Result::ERROR_LAYER_NOT_PRESENT;
        }
        let props = extension_properties(&global_profile().instance_extensions);
        // SAFETY: forwarded from the caller.
        unsafe { ffi::enumerate(&props, p_count, p_props) }
    })
}

/// `vkEnumerateInstanceVersion`: the profile's `apiVersion`.
///
/// # Safety
/// `p_version` is null or valid for a write.
pub unsafe extern "system" fn enumerate_instance_version(p_version: *mut u32) -> vk::Result {
    ffi::guard(|| {
        let version = global_profile().api_version();
        // SAFETY: valid or null per the caller.
        if unsafe { ffi::write(p_version, version) } {
            vk::Result::SUCCESS
        } else {
            vk::Result::ERROR_UNKNOWN
        }
    })
}

/// `vkCreateInstance`: loads the profile named by `HANDOFF_MOCK_PROFILE`; a bad profile
/// fails with `VK_ERROR_INITIALIZATION_FAILED` and one line on stderr.
///
/// # Safety
/// `p_create_info` is null or a valid create info; `p_instance` is null or writable.
pub unsafe extern "system" fn create_instance(
    p_create_info: *const vk::InstanceCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_instance: *mut vk::Instance,
) -> vk::Result {
    ffi::guard(|| {
        let profile = match profile::from_env() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("handoff-mock-icd: {e}");
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            }
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_create_info) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        if p_instance.is_null() {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        }
        // SAFETY: the create info holds `enabled_extension_count` C strings.
        let names = unsafe {
            ffi::slice(
                info.pp_enabled_extension_names,
                info.enabled_extension_count,
            )
        };
        for &name in names {
            // SAFETY: each entry is a C string per the caller.
            match unsafe { ffi::cstr(name) } {
                Some(n) if profile.has_instance_ext(n) => {}
                _ => return vk::Result::ERROR_EXTENSION_NOT_PRESENT,
            }
        }
        let (devices, groups) = match (profile.physical_devices(), profile.resolved_device_groups())
        {
            (Ok(d), Ok(g)) => (d, g),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("handoff-mock-icd: invalid profile: {e}");
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            }
        };
        let profile = Arc::new(profile);
        let instance = Dispatchable::new();
        let ih = instance.raw();
        let physicals: Vec<PhysicalObj> = devices
            .into_iter()
            .map(|p| PhysicalObj {
                handle: Dispatchable::new(),
                profile: Arc::new(p),
            })
            .collect();
        let handles: Vec<u64> = physicals.iter().map(|p| p.handle.raw()).collect();
        let groups = groups
            .into_iter()
            .map(|g| {
                let members = g.devices.iter().filter_map(|&i| handles.get(i).copied());
                (members.collect(), g.subset_allocation)
            })
            .collect();
        state::with(|r| {
            for p in physicals {
                r.physical_devices.insert(p.handle.raw(), p);
            }
            r.instances.insert(
                ih,
                InstanceObj {
                    handle: instance,
                    profile,
                    physicals: handles,
                    groups,
                },
            );
        });
        // SAFETY: checked non-null; writable per the caller.
        unsafe { ffi::write(p_instance, vk::Instance::from_raw(ih)) };
        vk::Result::SUCCESS
    })
}

/// `vkDestroyInstance`: also frees whatever the app left alive under it.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_instance(
    instance: vk::Instance,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        let removed = state::with(|r| r.remove_instance(instance.as_raw()));
        drop(removed);
    })
}

/// The physical devices and the groups of an instance.
fn physicals_of(instance: vk::Instance) -> Option<(Vec<u64>, Vec<state::Group>)> {
    state::with(|r| {
        r.instances
            .get(&instance.as_raw())
            .map(|i| (i.physicals.clone(), i.groups.clone()))
    })
}

/// `vkEnumeratePhysicalDevices`: the profile's device, then its `extraPhysicalDevices`.
///
/// # Safety
/// `p_count` is valid; `p_devices` is null or valid for `*p_count` writes.
pub unsafe extern "system" fn enumerate_physical_devices(
    instance: vk::Instance,
    p_count: *mut u32,
    p_devices: *mut vk::PhysicalDevice,
) -> vk::Result {
    ffi::guard(|| {
        let Some((physicals, _)) = physicals_of(instance) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        let handles: Vec<vk::PhysicalDevice> = physicals
            .iter()
            .map(|&h| vk::PhysicalDevice::from_raw(h))
            .collect();
        // SAFETY: forwarded from the caller.
        unsafe { ffi::enumerate(&handles, p_count, p_devices) }
    })
}

/// `vkEnumeratePhysicalDeviceGroups`: the profile's `deviceGroups`, every other physical
/// device in a group of its own.
///
/// # Safety
/// `p_count` is valid; `p_groups` is null or valid for `*p_count` structures.
pub unsafe extern "system" fn enumerate_physical_device_groups(
    instance: vk::Instance,
    p_count: *mut u32,
    p_groups: *mut vk::PhysicalDeviceGroupProperties<'_>,
) -> vk::Result {
    ffi::guard(|| {
        let Some((_, groups)) = physicals_of(instance) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        let put = |i: usize| {
            let Some((members, subset)) = groups.get(i) else {
                return false;
            };
            // SAFETY: `i < *p_count` and the app provided that many structures.
            let g = unsafe { &mut *p_groups.add(i) };
            g.physical_devices = [vk::PhysicalDevice::null(); vk::MAX_DEVICE_GROUP_SIZE];
            for (slot, &h) in g.physical_devices.iter_mut().zip(members) {
                *slot = vk::PhysicalDevice::from_raw(h);
            }
            g.physical_device_count = members.len().min(vk::MAX_DEVICE_GROUP_SIZE) as u32;
            g.subset_allocation = if *subset { vk::TRUE } else { vk::FALSE };
            true
        };
        // SAFETY: forwarded from the caller.
        unsafe { ffi::enumerate_with(groups.len(), p_count, put, p_groups.is_null()) }
    })
}

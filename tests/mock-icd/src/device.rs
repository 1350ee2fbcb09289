//! Logical devices and their queues: creation (checking queues, extensions and features
//! against the profile), destruction, queue retrieval, idle waits.

use crate::ffi;
use crate::handles::Dispatchable;
use crate::profile::Profile;
use crate::state::{self, DeviceObj, QueueObj};
use ash::vk;
use ash::vk::Handle;
use std::ffi::c_void;

/// The first enabled feature the profile lacks, across the structures the mock models.
///
/// # Safety
/// `info`'s `pNext` chain and `pEnabledFeatures` are valid.
unsafe fn unsupported_feature(
    p: &Profile,
    info: &vk::DeviceCreateInfo<'_>,
) -> Option<&'static str> {
    let f = &p.features;
    // SAFETY: valid or null per the caller.
    if let Some(core) = unsafe { ffi::opt(info.p_enabled_features) } {
        if let Some(name) = f.first_unsupported(core) {
            return Some(name);
        }
    }
    let chain: *const c_void = info.p_next;
    // SAFETY: the chain is valid per the caller.
    if let Some(f2) = unsafe { ffi::find::<vk::PhysicalDeviceFeatures2<'_>>(chain) } {
        if let Some(name) = f.first_unsupported(&f2.features) {
            return Some(name);
        }
    }
    let on = |b: vk::Bool32| b != vk::FALSE;
    let mut wanted: Vec<(&'static str, bool, bool)> = Vec::new();
    // SAFETY: as above.
    if let Some(v12) = unsafe { ffi::find::<vk::PhysicalDeviceVulkan12Features<'_>>(chain) } {
        wanted.push((
            "timelineSemaphore",
            on(v12.timeline_semaphore),
            f.timeline_semaphore,
        ));
        wanted.push((
            "bufferDeviceAddress",
            on(v12.buffer_device_address),
            f.buffer_device_address,
        ));
        wanted.push((
            "bufferDeviceAddressCaptureReplay",
            on(v12.buffer_device_address_capture_replay),
            f.buffer_device_address_capture_replay,
        ));
        wanted.push((
            "bufferDeviceAddressMultiDevice",
            on(v12.buffer_device_address_multi_device),
            f.buffer_device_address_multi_device,
        ));
    }
    // SAFETY: as above.
    if let Some(v13) = unsafe { ffi::find::<vk::PhysicalDeviceVulkan13Features<'_>>(chain) } {
        wanted.push((
            "synchronization2",
            on(v13.synchronization2),
            f.synchronization2,
        ));
    }
    // SAFETY: as above.
    if let Some(t) = unsafe { ffi::find::<vk::PhysicalDeviceTimelineSemaphoreFeatures<'_>>(chain) }
    {
        wanted.push((
            "timelineSemaphore",
            on(t.timeline_semaphore),
            f.timeline_semaphore,
        ));
    }
    // SAFETY: as above.
    if let Some(s) = unsafe { ffi::find::<vk::PhysicalDeviceSynchronization2Features<'_>>(chain) } {
        wanted.push((
            "synchronization2",
            on(s.synchronization2),
            f.synchronization2,
        ));
    }
    type Bda<'a> = vk::PhysicalDeviceBufferDeviceAddressFeatures<'a>;
    // SAFETY: as above.
    if let Some(b) = unsafe { ffi::find::<Bda<'_>>(chain) } {
        wanted.push((
            "bufferDeviceAddress",
            on(b.buffer_device_address),
            f.buffer_device_address,
        ));
        wanted.push((
            "bufferDeviceAddressCaptureReplay",
            on(b.buffer_device_address_capture_replay),
            f.buffer_device_address_capture_replay,
        ));
    }
    type Aliasing<'a> = vk::PhysicalDeviceDedicatedAllocationImageAliasingFeaturesNV<'a>;
    // SAFETY: as above.
    if let Some(a) = unsafe { ffi::find::<Aliasing<'_>>(chain) } {
        wanted.push((
            "dedicatedAllocationImageAliasing",
            on(a.dedicated_allocation_image_aliasing),
            f.dedicated_allocation_image_aliasing,
        ));
    }
    wanted
        .iter()
        .find(|(_, req, sup)| *req && !*sup)
        .map(|(n, _, _)| *n)
}

/// The physical devices of the device being created: those of a chained
/// `VkDeviceGroupDeviceCreateInfo` with a non-zero count, else `physical` alone. `None`
/// when the listed devices are not one group of this instance containing `physical`, or
/// name a device twice.
///
/// # Safety
/// `info`'s `pNext` chain is valid.
unsafe fn device_group(
    physical: vk::PhysicalDevice,
    info: &vk::DeviceCreateInfo<'_>,
) -> Option<Vec<u64>> {
    let own = physical.as_raw();
    // SAFETY: the chain is valid per the caller.
    let listed = match unsafe { ffi::find::<vk::DeviceGroupDeviceCreateInfo<'_>>(info.p_next) } {
        Some(g) if g.physical_device_count > 0 => {
            // SAFETY: the structure holds `physical_device_count` handles.
            unsafe { ffi::slice(g.p_physical_devices, g.physical_device_count) }
                .iter()
                .map(|d| d.as_raw())
                .collect::<Vec<u64>>()
        }
        _ => return Some(vec![own]),
    };
    let unique = listed
        .iter()
        .enumerate()
        .all(|(i, d)| !listed[..i].contains(d));
    let fits = state::with(|r| {
        r.group_of(own)
            .is_some_and(|(members, _)| listed.iter().all(|d| members.contains(d)))
    });
    (unique && fits && listed.contains(&own)).then_some(listed)
}

/// `vkCreateDevice`.
///
/// # Safety
/// `p_create_info` is null or a valid create info with a valid chain; `p_device` is null or
/// writable.
pub unsafe extern "system" fn create_device(
    physical: vk::PhysicalDevice,
    p_create_info: *const vk::DeviceCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_device: *mut vk::Device,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = state::with(|r| r.physical_profile(physical)) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_create_info) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        if p_device.is_null() {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        }
        // SAFETY: the create info holds `queue_create_info_count` structures.
        let queue_infos =
            unsafe { ffi::slice(info.p_queue_create_infos, info.queue_create_info_count) };
        let mut seen = Vec::new();
        for q in queue_infos {
            let family = p.queue_families.get(q.queue_family_index as usize);
            let fits = family.is_some_and(|f| q.queue_count >= 1 && q.queue_count <= f.queue_count);
            let key = (q.queue_family_index, q.flags);
            if !fits || seen.contains(&key) {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            }
            seen.push(key);
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
                Some(n) if p.has_device_ext(n) => {}
                _ => return vk::Result::ERROR_EXTENSION_NOT_PRESENT,
            }
        }
        // SAFETY: the create info and its chain are valid per the caller.
        if unsafe { unsupported_feature(&p, info) }.is_some() {
            return vk::Result::ERROR_FEATURE_NOT_PRESENT;
        }
        // SAFETY: the chain is valid per the caller.
        let Some(group) = (unsafe { device_group(physical, info) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        let device = Dispatchable::new();
        let dh = device.raw();
        let mut queues = Vec::new();
        let mut queue_objs = Vec::new();
        for q in queue_infos {
            for index in 0..q.queue_count {
                let handle = Dispatchable::new();
                queues.push((q.queue_family_index, index, q.flags, handle.raw()));
                queue_objs.push(QueueObj { handle, device: dh });
            }
        }
        for q in &queue_objs {
            crate::queue::start(q.handle.raw(), dh);
        }
        state::with(|r| {
            for q in queue_objs {
                r.queues.insert(q.handle.raw(), q);
            }
            r.devices.insert(
                dh,
                DeviceObj {
                    handle: device,
                    physical: physical.as_raw(),
                    group,
                    profile: p,
                    queues,
                },
            );
        });
        // SAFETY: checked non-null; writable per the caller.
        unsafe { ffi::write(p_device, vk::Device::from_raw(dh)) };
        vk::Result::SUCCESS
    })
}

/// `vkDestroyDevice`: also frees every object the app left alive on it.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_device(
    device: vk::Device,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        crate::queue::stop_device(device.as_raw());
        let removed = state::with(|r| r.remove_device(device.as_raw()));
        drop(removed);
    })
}

/// The queue created with these parameters.
fn find_queue(
    device: vk::Device,
    family: u32,
    index: u32,
    flags: vk::DeviceQueueCreateFlags,
) -> vk::Queue {
    state::with(|r| {
        r.devices
            .get(&device.as_raw())
            .and_then(|d| {
                d.queues
                    .iter()
                    .find(|q| q.0 == family && q.1 == index && q.2 == flags)
            })
            .map_or(vk::Queue::null(), |q| vk::Queue::from_raw(q.3))
    })
}

/// `vkGetDeviceQueue`: a null handle for a queue that was not created.
///
/// # Safety
/// `p_queue` is null or writable.
pub unsafe extern "system" fn get_device_queue(
    device: vk::Device,
    family: u32,
    index: u32,
    p_queue: *mut vk::Queue,
) {
    ffi::guard_void(|| {
        let queue = find_queue(device, family, index, vk::DeviceQueueCreateFlags::empty());
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_queue, queue) };
    })
}

/// `vkGetDeviceQueue2`.
///
/// # Safety
/// `p_info` is null or valid; `p_queue` is null or writable.
pub unsafe extern "system" fn get_device_queue2(
    device: vk::Device,
    p_info: *const vk::DeviceQueueInfo2<'_>,
    p_queue: *mut vk::Queue,
) {
    ffi::guard_void(|| {
        // SAFETY: valid or null per the caller.
        let queue = match unsafe { ffi::opt(p_info) } {
            Some(i) => find_queue(device, i.queue_family_index, i.queue_index, i.flags),
            None => vk::Queue::null(),
        };
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_queue, queue) };
    })
}

/// `vkDeviceWaitIdle`: blocks until every queue of the device has executed its work.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn device_wait_idle(device: vk::Device) -> vk::Result {
    ffi::guard(|| {
        if state::with(|r| r.devices.contains_key(&device.as_raw())) {
            crate::queue::device_wait_idle(device)
        } else {
            vk::Result::ERROR_DEVICE_LOST
        }
    })
}

//! External semaphores and fences: create with export, fd export and import, wait and
//! destroy (RULES-TARGET 1.15, 1.16, G15).
//!
//! Each semaphore and fence gets a record (type, flags, export types, the imported payload
//! in effect); OPAQUE_FD exports are held in the payload registry so that an import can be
//! checked against its exporter. The pending-work rules (01142, 01463, 01134, 01135, 03254,
//! 01454) are the queue tracker's (`submit.rs`); the entry points here call it.

use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::instance::chain_malformed;
use crate::pnext;
use crate::state::{fast_map, FastMap};
use crate::state::{sync as records, sync::SyncRecord};
use ash::vk::{self, Handle};
use handoff_rules::checks::resource_create::bits;
use handoff_rules::checks::sync::{
    self as rules, FdOrigin, GetFdCall, ImportCall, Imported, ImporterFacts, Kind, ObjectFacts,
    SyncAnswer, SyncExporter, IMPORT_TEMPORARY,
};
use handoff_rules::Object;
use std::sync::LazyLock;

const OPAQUE_FD: u32 = 0x1;

// ---- What the driver supports (01124, 01446, 01133, 01455) ---------------------------

/// The UUIDs are part of the key because the cache outlives instances: a physical-device
/// handle of a destroyed instance may come back as another driver's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct QueryKey {
    physical: u64,
    device_uuid: Option<[u8; vk::UUID_SIZE]>,
    driver_uuid: Option<[u8; vk::UUID_SIZE]>,
    kind: Kind,
    timeline: bool,
    handle_type: u32,
}

static ANSWERS: LazyLock<FastMap<QueryKey, SyncAnswer>> = LazyLock::new(fast_map);
/// For fork.rs, which holds it across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 1] {
    [&*ANSWERS]
}

type SemaphoreQuery = unsafe extern "system" fn(
    vk::PhysicalDevice,
    *const vk::PhysicalDeviceExternalSemaphoreInfo<'_>,
    *mut vk::ExternalSemaphoreProperties<'_>,
);
type FenceQuery = unsafe extern "system" fn(
    vk::PhysicalDevice,
    *const vk::PhysicalDeviceExternalFenceInfo<'_>,
    *mut vk::ExternalFenceProperties<'_>,
);

/// The next layer's query of `kind`: the core 1.1 name where instance and device are 1.1,
/// otherwise the KHR name of the enabled capabilities extension.
fn query_fn(data: &DeviceData, kind: Kind) -> Option<unsafe extern "system" fn()> {
    // SAFETY: the physical device of a live device is a live dispatchable handle.
    let inst = dispatch::instance(unsafe { dispatch::key(data.physical_device) })?;
    let (core, khr, ext) = match kind {
        Kind::Semaphore => (
            c"vkGetPhysicalDeviceExternalSemaphoreProperties",
            c"vkGetPhysicalDeviceExternalSemaphorePropertiesKHR",
            vk::KHR_EXTERNAL_SEMAPHORE_CAPABILITIES_NAME,
        ),
        Kind::Fence => (
            c"vkGetPhysicalDeviceExternalFenceProperties",
            c"vkGetPhysicalDeviceExternalFencePropertiesKHR",
            vk::KHR_EXTERNAL_FENCE_CAPABILITIES_NAME,
        ),
    };
    let name = if inst.api_version >= vk::API_VERSION_1_1 && data.api_version >= vk::API_VERSION_1_1
    {
        core
    } else if inst.has_extension(ext) {
        khr
    } else {
        return None;
    };
    // SAFETY: `next_gipa` resolves commands of the live instance. This layer does not
    // intercept these queries, so whatever the loader hands back leads to the driver.
    unsafe { (inst.next_gipa)(inst.handle, name.as_ptr()) }
}

/// Drops the cached answers of `physical` (its device is gone; a later instance may hand
/// out the same handle for another physical device, and the cache must not grow with them).
pub fn forget(physical: vk::PhysicalDevice) {
    let p = physical.as_raw();
    ANSWERS.retain(|k, _| k.physical != p);
    ANSWERS.shrink_to_fit();
}

/// The driver's answer for one handle-type bit, cached per physical device.
fn answer(data: &DeviceData, kind: Kind, timeline: bool, handle_type: u32) -> SyncAnswer {
    let key = QueryKey {
        physical: data.physical_device.as_raw(),
        device_uuid: data.device_uuid,
        driver_uuid: data.driver_uuid,
        kind,
        timeline: timeline && kind == Kind::Semaphore,
        handle_type,
    };
    if let Some(a) = ANSWERS.get(&key) {
        return *a;
    }
    let Some(f) = query_fn(data, kind) else {
        return SyncAnswer::Unknown;
    };
    let a = match kind {
        Kind::Semaphore => {
            // SAFETY: the loader returned this name's command, of this signature.
            let f =
                unsafe { std::mem::transmute::<unsafe extern "system" fn(), SemaphoreQuery>(f) };
            // A timeline semaphore's support is asked with its type chained (the answer
            // for binary semaphores may differ: SYNC_FD is binary-only).
            let mut ty =
                vk::SemaphoreTypeCreateInfo::default().semaphore_type(vk::SemaphoreType::TIMELINE);
            let mut info = vk::PhysicalDeviceExternalSemaphoreInfo::default()
                .handle_type(vk::ExternalSemaphoreHandleTypeFlags::from_raw(handle_type));
            if key.timeline {
                info = info.push_next(&mut ty);
            }
            let mut props = vk::ExternalSemaphoreProperties::default();
            // SAFETY: a live physical device; the chain points at locals alive for the call.
            unsafe { f(data.physical_device, &info, &mut props) };
            SyncAnswer::Props {
                features: props.external_semaphore_features.as_raw(),
                compatible: props.compatible_handle_types.as_raw(),
                export_from_imported: props.export_from_imported_handle_types.as_raw(),
            }
        }
        Kind::Fence => {
            // SAFETY: the loader returned this name's command, of this signature.
            let f = unsafe { std::mem::transmute::<unsafe extern "system" fn(), FenceQuery>(f) };
            let info = vk::PhysicalDeviceExternalFenceInfo::default()
                .handle_type(vk::ExternalFenceHandleTypeFlags::from_raw(handle_type));
            let mut props = vk::ExternalFenceProperties::default();
            // SAFETY: a live physical device, a valid info and a writable output struct.
            unsafe { f(data.physical_device, &info, &mut props) };
            SyncAnswer::Props {
                features: props.external_fence_features.as_raw(),
                compatible: props.compatible_handle_types.as_raw(),
                export_from_imported: props.export_from_imported_handle_types.as_raw(),
            }
        }
    };
    ANSWERS.insert(key, a);
    a
}

// ---- Create and destroy ---------------------------------------------------------------

/// The parts of a create info's chain the rules read.
#[derive(Default)]
struct Created {
    timeline: bool,
    export_types: u32,
}

/// Checks an export create info and records the object once the driver made it.
fn check_create(data: &DeviceData, kind: Kind, created: &Created) -> Option<vk::Result> {
    if created.export_types == 0 {
        return None;
    }
    let defined = match kind {
        Kind::Semaphore => 0x9f,
        Kind::Fence => 0xf,
    };
    let answers: Vec<(u32, SyncAnswer)> = bits(created.export_types & defined)
        .map(|bit| (bit, answer(data, kind, created.timeline, bit)))
        .collect();
    let findings = rules::export_create(
        kind,
        data.handle.as_raw(),
        created.export_types,
        created.timeline,
        &answers,
    );
    data.reporter
        .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_semaphore(
    device: vk::Device,
    p_create_info: *const vk::SemaphoreCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_semaphore: *mut vk::Semaphore,
) -> vk::Result {
    guarded(
        "vkCreateSemaphore",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: the loader calls with a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.fns.fp_v1_0().create_semaphore)(
                        device,
                        p_create_info,
                        p_allocator,
                        p_semaphore,
                    )
                }
            };
            // SAFETY: a valid create info, or null (which only the driver may judge).
            let Some(info) = (unsafe { p_create_info.as_ref() }) else {
                return forward();
            };
            let mut created = Created::default();
            // SAFETY: the chain of a valid create info; each cast matches its sType.
            let walked = unsafe {
                pnext::walk(info.p_next, |st, p| match st {
                    vk::StructureType::SEMAPHORE_TYPE_CREATE_INFO => {
                        created.timeline = (*(p as *const vk::SemaphoreTypeCreateInfo<'_>))
                            .semaphore_type
                            == vk::SemaphoreType::TIMELINE;
                    }
                    vk::StructureType::EXPORT_SEMAPHORE_CREATE_INFO => {
                        created.export_types |= (*(p as *const vk::ExportSemaphoreCreateInfo<'_>))
                            .handle_types
                            .as_raw();
                    }
                    _ => {}
                })
            };
            if let Err(m) = walked {
                data.reporter.report(chain_malformed(
                    "VkSemaphoreCreateInfo",
                    m,
                    vec![Object::new(vk::ObjectType::DEVICE, device.as_raw())],
                ));
            }
            if let Some(r) = check_create(&data, Kind::Semaphore, &created) {
                return r;
            }
            let res = forward();
            if res == vk::Result::SUCCESS && !p_semaphore.is_null() {
                // SAFETY: written by the driver on success.
                let semaphore = unsafe { *p_semaphore };
                records::insert(
                    Kind::Semaphore,
                    device,
                    semaphore.as_raw(),
                    SyncRecord {
                        timeline: created.timeline,
                        flags: info.flags.as_raw(),
                        export_types: created.export_types,
                        ..Default::default()
                    },
                );
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_semaphore(
    device: vk::Device,
    semaphore: vk::Semaphore,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroySemaphore", (), || {
        // SAFETY: the loader calls with a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return;
        };
        if !semaphore.is_null() {
            records::remove(Kind::Semaphore, device, semaphore.as_raw());
            crate::payload::sync_destroyed(device, Kind::Semaphore, semaphore.as_raw());
            crate::submit::semaphore_destroyed(&data, semaphore);
        }
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().destroy_semaphore)(device, semaphore, p_allocator) };
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_fence(
    device: vk::Device,
    p_create_info: *const vk::FenceCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_fence: *mut vk::Fence,
) -> vk::Result {
    guarded(
        "vkCreateFence",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: the loader calls with a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.fns.fp_v1_0().create_fence)(device, p_create_info, p_allocator, p_fence)
                }
            };
            // SAFETY: a valid create info, or null (which only the driver may judge).
            let Some(info) = (unsafe { p_create_info.as_ref() }) else {
                return forward();
            };
            let mut created = Created::default();
            // SAFETY: the chain of a valid create info; the cast matches its sType.
            let walked = unsafe {
                pnext::walk(info.p_next, |st, p| {
                    if st == vk::StructureType::EXPORT_FENCE_CREATE_INFO {
                        created.export_types |= (*(p as *const vk::ExportFenceCreateInfo<'_>))
                            .handle_types
                            .as_raw();
                    }
                })
            };
            if let Err(m) = walked {
                data.reporter.report(chain_malformed(
                    "VkFenceCreateInfo",
                    m,
                    vec![Object::new(vk::ObjectType::DEVICE, device.as_raw())],
                ));
            }
            if let Some(r) = check_create(&data, Kind::Fence, &created) {
                return r;
            }
            let res = forward();
            if res == vk::Result::SUCCESS && !p_fence.is_null() {
                // SAFETY: written by the driver on success.
                let fence = unsafe { *p_fence };
                records::insert(
                    Kind::Fence,
                    device,
                    fence.as_raw(),
                    SyncRecord {
                        flags: info.flags.as_raw(),
                        export_types: created.export_types,
                        ..Default::default()
                    },
                );
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_fence(
    device: vk::Device,
    fence: vk::Fence,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyFence", (), || {
        // SAFETY: the loader calls with a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return;
        };
        if !fence.is_null() {
            records::remove(Kind::Fence, device, fence.as_raw());
            crate::payload::sync_destroyed(device, Kind::Fence, fence.as_raw());
            crate::submit::fence_destroyed(&data, fence);
        }
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().destroy_fence)(device, fence, p_allocator) };
    })
}

/// A wait on `semaphore` ended its temporary import, if any (the queue tracker does the
/// same for submission waits, and `vkResetFences` for fences).
fn semaphore_waited(device: vk::Device, semaphore: vk::Semaphore) {
    records::end_temporary(Kind::Semaphore, device, semaphore.as_raw());
}

// ---- Export ---------------------------------------------------------------------------

/// The recorded facts of an object for the getters, with exportFromImportedHandleTypes of
/// its imported payload.
fn object_facts(data: &DeviceData, kind: Kind, object: u64) -> Option<(ObjectFacts, SyncRecord)> {
    let rec = records::get(kind, data.handle, object)?;
    let imported = rec.imported();
    let export_from_imported =
        imported.and_then(|i| match answer(data, kind, rec.timeline, i.handle_type) {
            SyncAnswer::Props {
                export_from_imported,
                ..
            } => Some(export_from_imported),
            SyncAnswer::Unknown => None,
        });
    let facts = ObjectFacts {
        timeline: rec.timeline,
        export_types: rec.export_types,
        imported,
        export_from_imported,
    };
    Some((facts, rec))
}

/// Checks, forwards and records one `vkGet{Semaphore,Fence}FdKHR`. `forward` calls down;
/// `pending` adds the queue tracker's findings for a SYNC_FD export.
fn get_fd(
    data: &DeviceData,
    call: GetFdCall,
    p_fd: *mut i32,
    pending: impl FnOnce(&mut Vec<handoff_rules::Finding>),
    forward: impl FnOnce() -> vk::Result,
) -> vk::Result {
    let kind = call.kind;
    let known = object_facts(data, kind, call.object);
    let facts = known.map(|(f, _)| f);
    let mut findings = rules::get_fd(&call, facts.as_ref());
    let sync_fd = call.handle_type == kind.sync_fd();
    if sync_fd && facts.is_some() {
        pending(&mut findings);
    }
    if let Some(r) = data
        .reporter
        .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
    {
        return r;
    }
    let res = forward();
    if res != vk::Result::SUCCESS || p_fd.is_null() {
        return res;
    }
    // SAFETY: written by the driver on success.
    let fd = unsafe { *p_fd };
    if call.handle_type == OPAQUE_FD && fd >= 0 {
        if let Some((f, rec)) = known {
            crate::payload::after_sync_export(
                data,
                SyncExporter {
                    kind: Some(kind),
                    object: call.object,
                    handle_type: OPAQUE_FD,
                    timeline: f.timeline,
                    flags: rec.flags,
                    ..Default::default()
                },
                fd,
            );
        }
    }
    res
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn get_semaphore_fd(
    device: vk::Device,
    p_get_fd_info: *const vk::SemaphoreGetFdInfoKHR<'_>,
    p_fd: *mut i32,
) -> vk::Result {
    guarded(
        "vkGetSemaphoreFdKHR",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: the loader calls with a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.external_semaphore_fd.get_semaphore_fd_khr)(device, p_get_fd_info, p_fd)
                }
            };
            // SAFETY: a valid info, or null (not ours to judge).
            let Some(info) = (unsafe { p_get_fd_info.as_ref() }) else {
                return forward();
            };
            let semaphore = info.semaphore;
            let call = GetFdCall {
                kind: Kind::Semaphore,
                device: device.as_raw(),
                object: semaphore.as_raw(),
                handle_type: info.handle_type.as_raw(),
                fd_pointer_null: p_fd.is_null(),
            };
            let res = get_fd(
                &data,
                call,
                p_fd,
                |out| crate::submit::semaphore_sync_fd_export(&data, semaphore, out),
                forward,
            );
            if res == vk::Result::SUCCESS && call.handle_type == Kind::Semaphore.sync_fd() {
                // Exporting a sync file acts as a wait on the semaphore.
                semaphore_waited(device, semaphore);
                crate::submit::semaphore_sync_fd_exported(&data, semaphore);
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn get_fence_fd(
    device: vk::Device,
    p_get_fd_info: *const vk::FenceGetFdInfoKHR<'_>,
    p_fd: *mut i32,
) -> vk::Result {
    guarded(
        "vkGetFenceFdKHR",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: the loader calls with a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe { (data.external_fence_fd.get_fence_fd_khr)(device, p_get_fd_info, p_fd) }
            };
            // SAFETY: a valid info, or null (not ours to judge).
            let Some(info) = (unsafe { p_get_fd_info.as_ref() }) else {
                return forward();
            };
            let fence = info.fence;
            let call = GetFdCall {
                kind: Kind::Fence,
                device: device.as_raw(),
                object: fence.as_raw(),
                handle_type: info.handle_type.as_raw(),
                fd_pointer_null: p_fd.is_null(),
            };
            get_fd(
                &data,
                call,
                p_fd,
                |out| crate::submit::fence_sync_fd_export(&data, fence, out),
                forward,
            )
        },
    )
}

// ---- Import ---------------------------------------------------------------------------

/// Checks, forwards and records one `vkImport{Semaphore,Fence}FdKHR`.
fn import(
    data: &DeviceData,
    call: ImportCall,
    pending: impl FnOnce(&mut Vec<handoff_rules::Finding>),
    forward: impl FnOnce() -> vk::Result,
) -> vk::Result {
    let kind = call.kind;
    let rec = records::get(kind, data.handle, call.object);
    let importer = rec.map(|r| ImporterFacts {
        timeline: r.timeline,
        flags: r.flags,
        side: crate::payload::device_side(data),
    });
    let fd_type = call.handle_type == OPAQUE_FD || call.handle_type == kind.sync_fd();
    let origin = if fd_type && call.fd >= 0 {
        crate::payload::sync_origin(call.fd)
    } else {
        FdOrigin::Unknown
    };
    let mut findings = rules::import(&call, importer.as_ref(), &origin);
    if rec.is_some() {
        pending(&mut findings);
    }
    if let Some(r) = data
        .reporter
        .refuse(findings, vk::Result::ERROR_INVALID_EXTERNAL_HANDLE)
    {
        return r;
    }
    let res = forward();
    if res == vk::Result::SUCCESS && fd_type {
        records::set_imported(
            kind,
            data.handle,
            call.object,
            Imported {
                handle_type: call.handle_type,
                temporary: call.flags & IMPORT_TEMPORARY != 0,
            },
        );
    }
    res
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn import_semaphore_fd(
    device: vk::Device,
    p_import_semaphore_fd_info: *const vk::ImportSemaphoreFdInfoKHR<'_>,
) -> vk::Result {
    guarded(
        "vkImportSemaphoreFdKHR",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: the loader calls with a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.external_semaphore_fd.import_semaphore_fd_khr)(
                        device,
                        p_import_semaphore_fd_info,
                    )
                }
            };
            // SAFETY: a valid info, or null (not ours to judge).
            let Some(info) = (unsafe { p_import_semaphore_fd_info.as_ref() }) else {
                return forward();
            };
            let semaphore = info.semaphore;
            let call = ImportCall {
                kind: Kind::Semaphore,
                device: device.as_raw(),
                object: semaphore.as_raw(),
                handle_type: info.handle_type.as_raw(),
                flags: info.flags.as_raw(),
                fd: info.fd,
                fd_kind: crate::fd::classify(info.fd),
            };
            import(
                &data,
                call,
                |out| crate::submit::semaphore_import_pending(&data, semaphore, out),
                forward,
            )
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn import_fence_fd(
    device: vk::Device,
    p_import_fence_fd_info: *const vk::ImportFenceFdInfoKHR<'_>,
) -> vk::Result {
    guarded(
        "vkImportFenceFdKHR",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: the loader calls with a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.external_fence_fd.import_fence_fd_khr)(device, p_import_fence_fd_info)
                }
            };
            // SAFETY: a valid info, or null (not ours to judge).
            let Some(info) = (unsafe { p_import_fence_fd_info.as_ref() }) else {
                return forward();
            };
            let fence = info.fence;
            let call = ImportCall {
                kind: Kind::Fence,
                device: device.as_raw(),
                object: fence.as_raw(),
                handle_type: info.handle_type.as_raw(),
                flags: info.flags.as_raw(),
                fd: info.fd,
                fd_kind: crate::fd::classify(info.fd),
            };
            import(
                &data,
                call,
                |out| crate::submit::fence_import_pending(&data, fence, out),
                forward,
            )
        },
    )
}

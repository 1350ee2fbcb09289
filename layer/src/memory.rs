//! Memory objects: allocation (with its import and export clauses), freeing, fd export
//! and fd properties.

use crate::dispatch;
use crate::fd;
use crate::guard::guarded;
use crate::instance::chain_malformed;
use crate::memo::Key;
use crate::pnext;
use crate::state::{self, Dedicated, MemoryRecord};
use ash::vk::{self, Handle};
use handoff_rules::checks::memory_export::{self, ExportFacts, GetFdCall};
use handoff_rules::checks::memory_import::{
    self, AllocateCall, DedicatedInfo, FdImport, FdKind, FdPropertiesCall,
};
use handoff_rules::Object;
use smallvec::SmallVec;

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[link_section = ".text.hot.handoff"]
pub unsafe extern "system" fn allocate_memory(
    device: vk::Device,
    p_allocate_info: *const vk::MemoryAllocateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_memory: *mut vk::DeviceMemory,
) -> vk::Result {
    guarded(
        "vkAllocateMemory",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let alloc = |info| {
                // SAFETY: forwarding the app's arguments.
                unsafe { (data.fns.fp_v1_0().allocate_memory)(device, info, p_allocator, p_memory) }
            };
            // SAFETY: a valid allocate info, or null (which only the driver may judge).
            let Some(info) = (unsafe { p_allocate_info.as_ref() }) else {
                return alloc(p_allocate_info);
            };
            // An allocation of the common shapes (no chain, or VkExportMemoryAllocateInfo
            // alone) the memo knows clean: nothing to walk, nothing to judge.
            // SAFETY: the chain of a valid allocate info.
            if let Some((key, export_types)) = unsafe { quick_allocate_key(info) } {
                if data.memo.is_clean(&key) {
                    let res = alloc(p_allocate_info);
                    let made = Made {
                        export_types,
                        import_type: vk::ExternalMemoryHandleTypeFlags::empty(),
                        dedicated: Dedicated::None,
                        device_mask: 0,
                        import_fd: -1,
                        payload: None,
                    };
                    // SAFETY: `p_memory` as the app passed it, written by the driver on
                    // success.
                    unsafe { allocated(device, info, p_memory, res, made) };
                    return res;
                }
            }
            // SAFETY: the caller's arguments, forwarded.
            unsafe {
                allocate_not_quick(
                    &data,
                    device,
                    info,
                    (p_allocate_info, p_allocator, p_memory),
                )
            }
        },
    )
}

/// `vkAllocateMemory` past the memo's shortcut: a repeat of an import of the common shape
/// that the rules judged clean (its fd's payload, found by one lookup, stands for the
/// checks), or else the full checks. Out of line: the external buffer's cycle never comes
/// here, and the entry point stays within fewer pages.
///
/// # Safety
/// `info` is `*args.0`, a valid allocate info; the rest as [`allocate_memory`] received it.
#[inline(never)]
unsafe fn allocate_not_quick(
    data: &crate::dispatch::DeviceData,
    device: vk::Device,
    info: &vk::MemoryAllocateInfo<'_>,
    args: AllocateArgs<'_>,
) -> vk::Result {
    let (p_allocate_info, p_allocator, p_memory) = args;
    // SAFETY: the chain of a valid allocate info.
    let quick = unsafe { quick_shape(device, info) };
    let mut classified = None;
    if let Some((shape, fd)) = quick {
        let stat = fd::stat(fd);
        let hit = stat
            .ok()
            .and_then(|st| crate::payload::quick_import(shape, fd, st));
        if let Some(hit) = hit {
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (data.fns.fp_v1_0().allocate_memory)(device, p_allocate_info, p_allocator, p_memory)
            };
            let made = Made {
                export_types: vk::ExternalMemoryHandleTypeFlags::empty(),
                import_type: shape.handle_type,
                dedicated: Dedicated::None,
                device_mask: 0,
                import_fd: fd,
                payload: Some(hit.payload()),
            };
            // SAFETY: `p_memory` as the app passed it, written by the driver on success.
            if let Some(memory) = unsafe { allocated(device, info, p_memory, res, made) } {
                crate::payload::after_quick_import(data, memory, &hit);
            }
            return res;
        }
        // The full checks classify the fd from the same answer: one fstat.
        classified = Some(fd::classify_statted(fd, stat));
    }
    // SAFETY: the caller's arguments, forwarded.
    unsafe { allocate_checked(data, device, info, args, quick, classified) }
}

/// What `vkAllocateMemory` passes down: the allocate info, the allocator and the output.
type AllocateArgs<'a> = (
    *const vk::MemoryAllocateInfo<'a>,
    *const vk::AllocationCallbacks<'a>,
    *mut vk::DeviceMemory,
);

/// The full checks of `vkAllocateMemory`, then the call and the record: out of line, so
/// that the shortcuts of [`allocate_memory`] keep a small frame. `quick` and `classified`
/// are the quick-shape import and its fd's classification when the shortcut missed.
///
/// # Safety
/// `info` is `*args.0`, a valid allocate info; the rest as [`allocate_memory`] received it.
#[inline(never)]
unsafe fn allocate_checked(
    data: &crate::dispatch::DeviceData,
    device: vk::Device,
    info: &vk::MemoryAllocateInfo<'_>,
    args: AllocateArgs<'_>,
    quick: Option<(crate::payload::QuickShape, i32)>,
    mut classified: Option<(FdKind, Option<fd::Stat>)>,
) -> vk::Result {
    let (p_allocate_info, p_allocator, p_memory) = args;
    let alloc = |info| {
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().allocate_memory)(device, info, p_allocator, p_memory) }
    };
    let mut export_types = vk::ExternalMemoryHandleTypeFlags::empty();
    // The known extending structures: names for the rules, and a set for the memo
    // (a structure chained twice is the rules' business every time).
    let mut chained: SmallVec<[&'static str; 3]> = SmallVec::new();
    let mut chained_set = 0u32;
    let mut repeated = false;
    let mut call = AllocateCall {
        device: device.as_raw(),
        allocation_size: info.allocation_size,
        memory_type_index: info.memory_type_index,
        ..Default::default()
    };
    // SAFETY: the chain of a valid allocate info; each cast matches its sType.
    let walked = unsafe {
        pnext::walk(info.p_next, |st, p| {
            if let Some((bit, name)) = crate::dedicated::allocate_struct_name(st) {
                repeated |= chained_set & bit != 0;
                chained_set |= bit;
                chained.push(name);
            }
            match st {
                vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO => {
                    call.export_khr = true;
                    export_types |= (*(p as *const vk::ExportMemoryAllocateInfo<'_>)).handle_types;
                }
                vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO_NV => {
                    call.export_nv.push("VkExportMemoryAllocateInfoNV");
                    let t = (*(p as *const vk::ExportMemoryAllocateInfoNV<'_>)).handle_types;
                    *call.export_nv_types.get_or_insert_with(Default::default) |= t;
                }
                vk::StructureType::EXPORT_MEMORY_WIN32_HANDLE_INFO_NV => {
                    call.export_nv.push("VkExportMemoryWin32HandleInfoNV");
                }
                vk::StructureType::IMPORT_MEMORY_FD_INFO_KHR => {
                    let i = &*(p as *const vk::ImportMemoryFdInfoKHR<'_>);
                    // Only the first one counts, as for any repeated struct.
                    if call.fd_import.is_none() {
                        call.fd_import = Some(FdImport {
                            handle_type: i.handle_type,
                            fd: i.fd,
                            kind: FdKind::Unknown,
                        });
                    }
                }
                vk::StructureType::IMPORT_MEMORY_HOST_POINTER_INFO_EXT => {
                    call.host_pointer_type |=
                        (*(p as *const vk::ImportMemoryHostPointerInfoEXT<'_>)).handle_type;
                }
                vk::StructureType::IMPORT_MEMORY_WIN32_HANDLE_INFO_KHR => {
                    let i = &*(p as *const vk::ImportMemoryWin32HandleInfoKHR<'_>);
                    if !i.handle_type.is_empty() {
                        call.other_imports.push("VkImportMemoryWin32HandleInfoKHR");
                    }
                }
                vk::StructureType::IMPORT_MEMORY_WIN32_HANDLE_INFO_NV => {
                    let i = &*(p as *const vk::ImportMemoryWin32HandleInfoNV<'_>);
                    if !i.handle_type.is_empty() {
                        call.other_imports.push("VkImportMemoryWin32HandleInfoNV");
                    }
                }
                vk::StructureType::IMPORT_MEMORY_ZIRCON_HANDLE_INFO_FUCHSIA => {
                    let i = &*(p as *const vk::ImportMemoryZirconHandleInfoFUCHSIA<'_>);
                    if !i.handle_type.is_empty() {
                        call.other_imports
                            .push("VkImportMemoryZirconHandleInfoFUCHSIA");
                    }
                }
                vk::StructureType::IMPORT_ANDROID_HARDWARE_BUFFER_INFO_ANDROID => {
                    let i = &*(p as *const vk::ImportAndroidHardwareBufferInfoANDROID<'_>);
                    if !i.buffer.is_null() {
                        call.other_imports
                            .push("VkImportAndroidHardwareBufferInfoANDROID");
                    }
                }
                vk::StructureType::MEMORY_DEDICATED_ALLOCATE_INFO if call.dedicated.is_none() => {
                    let d = &*(p as *const vk::MemoryDedicatedAllocateInfo<'_>);
                    call.dedicated = Some(DedicatedInfo {
                        buffer: d.buffer.as_raw(),
                        image: d.image.as_raw(),
                        nv: false,
                    });
                }
                vk::StructureType::DEDICATED_ALLOCATION_MEMORY_ALLOCATE_INFO_NV
                    if call.dedicated.is_none() =>
                {
                    let d = &*(p as *const vk::DedicatedAllocationMemoryAllocateInfoNV<'_>);
                    call.dedicated = Some(DedicatedInfo {
                        buffer: d.buffer.as_raw(),
                        image: d.image.as_raw(),
                        nv: true,
                    });
                }
                vk::StructureType::MEMORY_ALLOCATE_FLAGS_INFO => {
                    let f = &*(p as *const vk::MemoryAllocateFlagsInfo<'_>);
                    if f.flags.contains(vk::MemoryAllocateFlags::DEVICE_MASK) {
                        call.device_mask = Some(f.device_mask);
                    }
                }
                vk::StructureType::MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO => {
                    call.opaque_capture_address = (*(p
                        as *const vk::MemoryOpaqueCaptureAddressAllocateInfo<'_>))
                        .opaque_capture_address;
                }
                _ => {}
            }
        })
    };
    let memo_key = (walked.is_ok()
        && !repeated
        && call.fd_import.is_none()
        && call.host_pointer_type.is_empty()
        && call.other_imports.is_empty()
        && call.export_nv.is_empty()
        && call.export_nv_types.is_none()
        && call.dedicated.is_none())
    .then_some(Key::Allocate {
        size: info.allocation_size,
        type_index: info.memory_type_index,
        chained: chained_set,
        export_khr: call.export_khr,
        export_types,
        device_mask: call.device_mask,
        opaque_capture_address: call.opaque_capture_address,
    });
    if let Err(m) = walked {
        data.reporter.report(chain_malformed(
            "VkMemoryAllocateInfo",
            m,
            vec![Object::new(vk::ObjectType::DEVICE, device.as_raw())],
        ));
    }
    call.export_types = export_types;
    let mut import_type = call.host_pointer_type;
    if let Some(imp) = call.fd_import.as_ref() {
        import_type |= imp.handle_type;
    }
    let mut pending = crate::payload::PendingImport::none();
    let mut refusal = None;
    let mut all_clean = false;
    // Without an import or a dedicated resource the rules read no handle and no
    // state: an allocation shape judged clean before is clean again.
    data.memo.judge(memo_key, || {
        call.chained = std::mem::take(&mut chained);
        let mut stat = None;
        if let Some(imp) = call.fd_import.as_mut() {
            if !imp.handle_type.is_empty() {
                (imp.kind, stat) = classified
                    .take()
                    .unwrap_or_else(|| fd::classify_stat(imp.fd));
            }
        }
        let mut findings = memory_import::allocate_memory(&call);
        pending = crate::payload::before_import(data, &call, stat);
        pending.merge_into(&mut findings);
        findings.extend(crate::dedicated::allocation_findings(
            data,
            &call,
            chained_set,
        ));
        let clean = findings.is_empty();
        all_clean = clean;
        refusal = data
            .reporter
            .refuse(findings, vk::Result::ERROR_INVALID_EXTERNAL_HANDLE);
        clean
    });
    if let Some(r) = refusal {
        return r;
    }
    if let (Some((shape, _)), true) = (quick, all_clean) {
        crate::payload::quick_import_was_clean(shape, &pending);
    }
    let res = alloc(p_allocate_info);
    let made = Made {
        export_types,
        import_type,
        // VK_NV_dedicated_allocation memory follows that extension's own binding
        // rules, not those of VkMemoryDedicatedAllocateInfo.
        dedicated: match call.dedicated {
            Some(d) if d.nv => Dedicated::None,
            Some(d) if d.image != 0 => Dedicated::Image(d.image),
            Some(d) if d.buffer != 0 => Dedicated::Buffer(d.buffer),
            _ => Dedicated::None,
        },
        device_mask: call.device_mask.unwrap_or(0),
        import_fd: call.fd_import.as_ref().map_or(-1, |i| i.fd),
        payload: pending.payload().map(|p| (p, pending.payload_home())),
    };
    // SAFETY: `p_memory` as the app passed it, written by the driver on success.
    if let Some(memory) = unsafe { allocated(device, info, p_memory, res, made) } {
        if pending.is_import() {
            crate::payload::after_import(device, memory, &pending);
        }
    }
    res
}

/// The memo key of an allocation whose chain is empty or holds `VkExportMemoryAllocateInfo`
/// alone (what the full walk would build for it), with the export's handle types.
///
/// # Safety
/// `info` is a valid `VkMemoryAllocateInfo`: its `pNext` is null or a valid chain.
unsafe fn quick_allocate_key(
    info: &vk::MemoryAllocateInfo<'_>,
) -> Option<(Key, vk::ExternalMemoryHandleTypeFlags)> {
    let (chained, export_types) = if info.p_next.is_null() {
        (0, vk::ExternalMemoryHandleTypeFlags::empty())
    } else {
        // SAFETY: the chain of a valid allocate info.
        let (s_type, head) = unsafe { pnext::single_link(info.p_next) }?;
        if s_type != vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO {
            return None;
        }
        // SAFETY: the sType says what the struct is.
        let export = unsafe { &*(head as *const vk::ExportMemoryAllocateInfo<'_>) };
        let (bit, _) = crate::dedicated::allocate_struct_name(s_type)?;
        (bit, export.handle_types)
    };
    Some((
        Key::Allocate {
            size: info.allocation_size,
            type_index: info.memory_type_index,
            chained,
            export_khr: chained != 0,
            export_types,
            device_mask: None,
            opaque_capture_address: 0,
        },
        export_types,
    ))
}

/// The import [`crate::payload::QuickShape`] describes, with its fd: `VkImportMemoryFdInfoKHR`
/// alone in the chain, importing a non-negative fd as OPAQUE_FD or DMA_BUF.
///
/// # Safety
/// `info` is a valid `VkMemoryAllocateInfo`: its `pNext` is null or a valid chain.
unsafe fn quick_shape(
    device: vk::Device,
    info: &vk::MemoryAllocateInfo<'_>,
) -> Option<(crate::payload::QuickShape, i32)> {
    // SAFETY: the chain of a valid allocate info.
    let (s_type, head) = unsafe { pnext::single_link(info.p_next) }?;
    if s_type != vk::StructureType::IMPORT_MEMORY_FD_INFO_KHR {
        return None;
    }
    // SAFETY: the sType says what the struct is.
    let imp = unsafe { &*(head as *const vk::ImportMemoryFdInfoKHR<'_>) };
    (memory_export::is_fd_handle_type(imp.handle_type) && imp.fd >= 0).then_some((
        crate::payload::QuickShape {
            device: device.as_raw(),
            size: info.allocation_size,
            type_index: info.memory_type_index,
            handle_type: imp.handle_type,
        },
        imp.fd,
    ))
}

/// What a successful allocation records besides its size and type.
struct Made {
    export_types: vk::ExternalMemoryHandleTypeFlags,
    import_type: vk::ExternalMemoryHandleTypeFlags,
    dedicated: Dedicated,
    device_mask: u32,
    import_fd: i32,
    /// The payload it imported and where the registry files it.
    payload: Option<(u64, (u64, u64))>,
}

/// Records the memory `vkAllocateMemory` made, when it succeeded (`res`): returns it.
///
/// # Safety
/// `p_memory` is the app's output pointer: null, or written by the driver on success.
#[inline(always)]
unsafe fn allocated(
    device: vk::Device,
    info: &vk::MemoryAllocateInfo<'_>,
    p_memory: *mut vk::DeviceMemory,
    res: vk::Result,
    made: Made,
) -> Option<vk::DeviceMemory> {
    if res != vk::Result::SUCCESS || p_memory.is_null() {
        return None;
    }
    // SAFETY: written by the driver on success.
    let memory = unsafe { *p_memory };
    state::insert_memory(
        device,
        memory,
        MemoryRecord {
            size: info.allocation_size,
            type_index: info.memory_type_index,
            export_types: made.export_types,
            import_type: made.import_type,
            dedicated: made.dedicated,
            device_mask: made.device_mask,
            payload: made.payload.map(|(p, _)| p),
            payload_home: made.payload.map_or((0, 0), |(_, home)| home),
            import_fd: made.import_fd,
            exported: false,
        },
    );
    crate::report::log::hot_trace!(memory = memory.as_raw(), export_types = ?made.export_types, "vkAllocateMemory");
    Some(memory)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[link_section = ".text.hot.handoff"]
pub unsafe extern "system" fn free_memory(
    device: vk::Device,
    memory: vk::DeviceMemory,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkFreeMemory", (), move || {
        // SAFETY: `device` is a live device of this layer's chain.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return;
        };
        if !memory.is_null() {
            let rec = state::remove_memory(device, memory);
            // liveness (helper B): the removal above proves a double free, no new lookup.
            if rec.is_none() && crate::liveness::free_memory(&data, memory) {
                return;
            }
            state::ownership::remove_memory(device, memory);
            crate::payload::memory_freed(device, memory, rec.as_ref());
        }
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().free_memory)(device, memory, p_allocator) };
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[link_section = ".text.hot.handoff"]
pub unsafe extern "system" fn get_memory_fd(
    device: vk::Device,
    p_get_fd_info: *const vk::MemoryGetFdInfoKHR<'_>,
    p_fd: *mut i32,
) -> vk::Result {
    guarded(
        "vkGetMemoryFdKHR",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe { (data.external_memory_fd.get_memory_fd_khr)(device, p_get_fd_info, p_fd) }
            };
            // SAFETY: a valid info, or null (not ours to judge yet).
            let Some(info) = (unsafe { p_get_fd_info.as_ref() }) else {
                return forward();
            };
            let call = GetFdCall {
                device: device.as_raw(),
                memory: info.memory.as_raw(),
                handle_type: info.handle_type,
            };
            // The first export of memory whose driver exports memfds, where no rule can
            // fire: recorded under one lookup, its inode learnt only if an import needs it.
            let lazy =
                !p_fd.is_null() && crate::payload::may_export_lazily(&data, info.handle_type);
            let rec = if lazy {
                match crate::payload::export_lazily(&data, info.memory, info.handle_type) {
                    Ok(()) => {
                        let res = forward();
                        if res == vk::Result::SUCCESS {
                            // SAFETY: written by the driver on success.
                            crate::payload::after_lazy_export(unsafe { *p_fd });
                        }
                        return res;
                    }
                    Err(rec) => rec,
                }
            } else {
                state::memory(device, info.memory)
            };
            // SAFETY: the caller's arguments, forwarded.
            unsafe { get_fd_recorded(&data, &call, info, p_get_fd_info, p_fd, rec) }
        },
    )
}

/// `vkGetMemoryFdKHR` past the lazy export: the plain export's record, or the rules. Out of
/// line, so that the lazy export's path stays a few cache lines of the hot text.
///
/// # Safety
/// `info` is `*p_get_fd_info`, a valid info; `p_fd` as the app passed it.
#[inline(never)]
unsafe fn get_fd_recorded(
    data: &crate::dispatch::DeviceData,
    call: &GetFdCall,
    info: &vk::MemoryGetFdInfoKHR<'_>,
    p_get_fd_info: *const vk::MemoryGetFdInfoKHR<'_>,
    p_fd: *mut i32,
    rec: Option<MemoryRecord>,
) -> vk::Result {
    let forward = || {
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.external_memory_fd.get_memory_fd_khr)(
                vk::Device::from_raw(call.device),
                p_get_fd_info,
                p_fd,
            )
        }
    };
    // The common call: one fd handle type the memory was allocated to export, a pointer to
    // write it to, memory that was no import (no re-export rule). No rule of the export or
    // of the payload registry can fire: they are not run.
    let plain = !p_fd.is_null()
        && memory_export::is_fd_handle_type(info.handle_type)
        && rec
            .as_ref()
            .is_some_and(|m| m.exports_plainly(info.handle_type));
    if !plain {
        if let Some(r) = judge_get_fd(data, call, p_fd.is_null(), rec.as_ref()) {
            return r;
        }
    }
    let res = forward();
    if res == vk::Result::SUCCESS && !p_fd.is_null() {
        // SAFETY: written by the driver on success.
        let fd = unsafe { *p_fd };
        if let (true, Some(rec)) = (fd >= 0, rec.as_ref()) {
            crate::payload::after_export(data, info.memory, rec, info.handle_type, fd);
        }
    }
    res
}

/// The rules of a `vkGetMemoryFdKHR` call that is not plainly valid: reports the findings;
/// `Some` result when the call is refused.
#[cold]
#[inline(never)]
fn judge_get_fd(
    data: &crate::dispatch::DeviceData,
    call: &GetFdCall,
    fd_pointer_null: bool,
    rec: Option<&MemoryRecord>,
) -> Option<vk::Result> {
    let facts = rec.map(|m| ExportFacts {
        export_types: m.export_types,
    });
    let mut findings = memory_export::get_memory_fd(call, facts.as_ref());
    crate::payload::before_export(data, call, fd_pointer_null, rec, &mut findings);
    data.reporter
        .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn get_memory_fd_properties(
    device: vk::Device,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    fd: i32,
    p_memory_fd_properties: *mut vk::MemoryFdPropertiesKHR<'_>,
) -> vk::Result {
    guarded(
        "vkGetMemoryFdPropertiesKHR",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let call = FdPropertiesCall {
                device: device.as_raw(),
                handle_type,
                fd,
                kind: fd::classify(fd),
            };
            let mut findings = memory_import::get_memory_fd_properties(&call);
            let null_out = p_memory_fd_properties.is_null();
            if null_out {
                findings.push(handoff_rules::checks::payload::fd_properties_null_out(
                    device.as_raw(),
                    fd,
                ));
            }
            if let Some(r) = data.reporter.refuse(
                findings,
                if null_out {
                    vk::Result::ERROR_VALIDATION_FAILED_EXT
                } else {
                    vk::Result::ERROR_INVALID_EXTERNAL_HANDLE
                },
            ) {
                return r;
            }
            // SAFETY: forwarding the app's arguments.
            unsafe {
                (data.external_memory_fd.get_memory_fd_properties_khr)(
                    device,
                    handle_type,
                    fd,
                    p_memory_fd_properties,
                )
            }
        },
    )
}

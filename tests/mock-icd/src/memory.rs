//! Device memory backed by memfds: allocation, fd export and import (OPAQUE_FD and
//! DMA_BUF), host-pointer import, mapping with `MAP_SHARED` so every allocation that
//! shares a payload shares bytes.

use crate::fd;
use crate::ffi;
use crate::profile::{ExportUndeclared, Profile};
use crate::state::{self, Object, Registry};
use ash::vk;
use ash::vk::Handle;
use std::ffi::{c_int, c_void};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

const OPAQUE_FD: u32 = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD.as_raw();
const DMA_BUF: u32 = vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT.as_raw();
const HOST_ALLOCATION: u32 = vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT.as_raw();

/// Where an allocation's bytes live.
#[derive(Debug)]
pub enum Backing {
    /// A memfd (created here or imported), closed when the memory is freed.
    Memfd(OwnedFd),
    /// Host memory the app imported; the app keeps owning it.
    Host(usize),
}

/// A `VkDeviceMemory`.
#[derive(Debug)]
pub struct Memory {
    pub size: u64,
    pub type_index: u32,
    pub backing: Backing,
    /// `(base, length)` of the whole-allocation mapping while the memory is mapped.
    pub mapping: Option<(usize, usize)>,
    /// `VkExportMemoryAllocateInfo::handleTypes`.
    pub export_types: u32,
}

impl Memory {
    fn unmap(&mut self) {
        if let (Some((base, len)), Backing::Memfd(_)) = (self.mapping.take(), &self.backing) {
            // SAFETY: `base`/`len` are exactly what mmap returned for this allocation, and
            // the mapping is dropped from the bookkeeping before it goes away.
            unsafe { libc::munmap(base as *mut c_void, len) };
        }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        self.unmap();
    }
}

/// Whether the profile lets fds of this handle type in or out.
fn fd_type_supported(p: &Profile, ht: u32) -> bool {
    match ht {
        OPAQUE_FD => p.has_device_ext("VK_KHR_external_memory_fd"),
        DMA_BUF => p.has_device_ext("VK_EXT_external_memory_dma_buf"),
        _ => false,
    }
}

/// Whether a live allocation already owns this fd number.
fn fd_in_use(r: &Registry, raw: c_int) -> bool {
    r.objects.values().any(|e| matches!(&e.object, Object::Memory(m) if matches!(&m.backing, Backing::Memfd(f) if f.as_raw_fd() == raw)))
}

/// What a `VkMemoryAllocateInfo` asks for.
struct Request {
    size: u64,
    type_index: u32,
    export_types: u32,
    fd_import: Option<(u32, c_int)>,
    host_import: Option<(u32, usize)>,
}

/// Checks the request and creates the backing; the fd of a failed import stays the app's.
fn make_backing(p: &Profile, r: &Registry, req: &Request) -> Result<Backing, vk::Result> {
    let invalid = Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE);
    match (req.fd_import, req.host_import) {
        (Some(_), Some(_)) => invalid,
        (Some((ht, raw)), None) => {
            if !fd_type_supported(p, ht) || fd_in_use(r, raw) {
                return invalid;
            }
            match fd::regular_file_size(raw) {
                Some(len) if len >= req.size => {
                    // SAFETY: the fd is open (fstat succeeded) and no allocation owns it; a
                    // successful import transfers its ownership to the implementation.
                    Ok(Backing::Memfd(unsafe { fd::adopt(raw) }))
                }
                _ => invalid,
            }
        }
        (None, Some((ht, ptr))) => {
            let align = p.memory_import.min_imported_host_pointer_alignment.max(1);
            let ok = p.has_device_ext("VK_EXT_external_memory_host")
                && ht == HOST_ALLOCATION
                && ptr != 0
                && (ptr as u64) % align == 0
                && req.size % align == 0;
            if ok {
                Ok(Backing::Host(ptr))
            } else {
                invalid
            }
        }
        (None, None) => fd::memfd(c"handoff-mock-memory", req.size)
            .map(Backing::Memfd)
            .map_err(|_| vk::Result::ERROR_OUT_OF_DEVICE_MEMORY),
    }
}

/// `vkAllocateMemory`.
///
/// # Safety
/// `p_info` is null or a valid allocate info with a valid chain; `p_memory` is null or
/// writable.
pub unsafe extern "system" fn allocate_memory(
    device: vk::Device,
    p_info: *const vk::MemoryAllocateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_memory: *mut vk::DeviceMemory,
) -> vk::Result {
    ffi::guard(|| {
        let Some((p, group_size)) = state::with(|r| {
            r.devices
                .get(&device.as_raw())
                .map(|d| (d.profile.clone(), d.group.len()))
        }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: the chain is valid per the caller.
        let flags = unsafe { ffi::find::<vk::MemoryAllocateFlagsInfo<'_>>(info.p_next) };
        if let Some(f) = flags.filter(|f| f.flags.contains(vk::MemoryAllocateFlags::DEVICE_MASK)) {
            let within = if group_size >= 32 {
                u32::MAX
            } else {
                (1u32 << group_size) - 1
            };
            if f.device_mask == 0 || f.device_mask & !within != 0 {
                return vk::Result::ERROR_OUT_OF_DEVICE_MEMORY;
            }
        }
        if p_memory.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        let Some(ty) = p.memory_types.get(info.memory_type_index as usize) else {
            return vk::Result::ERROR_OUT_OF_DEVICE_MEMORY;
        };
        let heap = p
            .memory_heaps
            .get(ty.heap_index as usize)
            .map_or(0, |h| h.size);
        if info.allocation_size > heap
            || info.allocation_size > p.memory_requirements.max_memory_allocation_size
        {
            return vk::Result::ERROR_OUT_OF_DEVICE_MEMORY;
        }
        // SAFETY: the chain is valid per the caller (all three lookups).
        let export = unsafe { ffi::find::<vk::ExportMemoryAllocateInfo<'_>>(info.p_next) };
        // SAFETY: as above.
        let fd_import = unsafe { ffi::find::<vk::ImportMemoryFdInfoKHR<'_>>(info.p_next) };
        // SAFETY: as above.
        let host_import =
            unsafe { ffi::find::<vk::ImportMemoryHostPointerInfoEXT<'_>>(info.p_next) };
        let req = Request {
            size: info.allocation_size,
            type_index: info.memory_type_index,
            export_types: export.map_or(0, |e| e.handle_types.as_raw()),
            fd_import: fd_import
                .filter(|i| !i.handle_type.is_empty())
                .map(|i| (i.handle_type.as_raw(), i.fd)),
            host_import: host_import
                .filter(|i| !i.handle_type.is_empty())
                .map(|i| (i.handle_type.as_raw(), i.p_host_pointer as usize)),
        };
        let made = state::with(|r| {
            let backing = make_backing(&p, r, &req)?;
            let memory = Memory {
                size: req.size,
                type_index: req.type_index,
                backing,
                mapping: None,
                export_types: req.export_types,
            };
            Ok(r.insert(device, Object::Memory(memory)))
        });
        match made {
            Ok(id) => {
                // SAFETY: checked non-null; writable per the caller.
                unsafe { ffi::write(p_memory, vk::DeviceMemory::from_raw(id)) };
                vk::Result::SUCCESS
            }
            Err(e) => e,
        }
    })
}

/// `vkFreeMemory`: unmaps and closes the backing memfd.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn free_memory(
    _device: vk::Device,
    memory: vk::DeviceMemory,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        let removed =
            state::with(|r| r.remove_if(memory.as_raw(), |o| matches!(o, Object::Memory(_))));
        drop(removed);
    })
}

/// Whether a memory type is host visible.
fn host_visible(p: &Profile, type_index: u32) -> bool {
    p.memory_types
        .get(type_index as usize)
        .is_some_and(|t| t.property_flags & vk::MemoryPropertyFlags::HOST_VISIBLE.as_raw() != 0)
}

/// Maps a whole allocation; returns the base address.
fn map_whole(m: &mut Memory) -> Result<usize, vk::Result> {
    let failed = Err(vk::Result::ERROR_MEMORY_MAP_FAILED);
    let len = usize::try_from(m.size).map_err(|_| vk::Result::ERROR_MEMORY_MAP_FAILED)?;
    let base = match &m.backing {
        Backing::Host(ptr) => *ptr,
        Backing::Memfd(f) => {
            if len == 0 {
                return failed;
            }
            // SAFETY: a fresh shared mapping of an open memfd at least `len` bytes long;
            // the kernel picks the address.
            let addr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    f.as_raw_fd(),
                    0,
                )
            };
            if addr == libc::MAP_FAILED {
                return failed;
            }
            addr as usize
        }
    };
    m.mapping = Some((base, len));
    Ok(base)
}

/// `vkMapMemory`.
///
/// # Safety
/// `pp_data` is null or writable.
pub unsafe extern "system" fn map_memory(
    device: vk::Device,
    memory: vk::DeviceMemory,
    offset: vk::DeviceSize,
    size: vk::DeviceSize,
    _flags: vk::MemoryMapFlags,
    pp_data: *mut *mut c_void,
) -> vk::Result {
    ffi::guard(|| {
        if pp_data.is_null() {
            return vk::Result::ERROR_MEMORY_MAP_FAILED;
        }
        let p: Option<Arc<Profile>> = state::with(|r| r.device_profile(device));
        let mapped = state::with(|r| {
            let m = r
                .memory_mut(memory)
                .ok_or(vk::Result::ERROR_MEMORY_MAP_FAILED)?;
            let visible = p.as_ref().is_some_and(|p| host_visible(p, m.type_index));
            let in_range = offset < m.size
                && (size == vk::WHOLE_SIZE
                    || offset.checked_add(size).is_some_and(|e| e <= m.size));
            if !visible || !in_range || m.mapping.is_some() {
                return Err(vk::Result::ERROR_MEMORY_MAP_FAILED);
            }
            let base = map_whole(m)?;
            Ok(base + offset as usize)
        });
        match mapped {
            Ok(addr) => {
                // SAFETY: checked non-null; writable per the caller.
                unsafe { ffi::write(pp_data, addr as *mut c_void) };
                vk::Result::SUCCESS
            }
            Err(e) => e,
        }
    })
}

/// `vkUnmapMemory`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn unmap_memory(_device: vk::Device, memory: vk::DeviceMemory) {
    ffi::guard_void(|| {
        state::with(|r| {
            if let Some(m) = r.memory_mut(memory) {
                m.unmap();
            }
        })
    })
}

/// `vkFlushMappedMemoryRanges` / `vkInvalidateMappedMemoryRanges`: mappings are
/// coherent, nothing to do.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn flush_mapped_memory_ranges(
    _device: vk::Device,
    _count: u32,
    _p_ranges: *const vk::MappedMemoryRange<'_>,
) -> vk::Result {
    vk::Result::SUCCESS
}

/// `vkGetDeviceMemoryCommitment`: the whole allocation.
///
/// # Safety
/// `p_committed` is null or writable.
pub unsafe extern "system" fn get_device_memory_commitment(
    _device: vk::Device,
    memory: vk::DeviceMemory,
    p_committed: *mut vk::DeviceSize,
) {
    ffi::guard_void(|| {
        let size = state::with(|r| r.memory_mut(memory).map_or(0, |m| m.size));
        // SAFETY: valid or null per the caller.
        unsafe { ffi::write(p_committed, size) };
    })
}

/// `vkGetDeviceMemoryOpaqueCaptureAddress`: the mock has no addresses to replay.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn get_device_memory_opaque_capture_address(
    _device: vk::Device,
    _p_info: *const vk::DeviceMemoryOpaqueCaptureAddressInfo<'_>,
) -> u64 {
    0
}

/// `vkGetMemoryFdKHR`: a new fd of the same open memfd (`F_DUPFD_CLOEXEC`).
///
/// # Safety
/// `p_info` is null or valid; `p_fd` is null or writable.
pub unsafe extern "system" fn get_memory_fd(
    device: vk::Device,
    p_info: *const vk::MemoryGetFdInfoKHR<'_>,
    p_fd: *mut c_int,
) -> vk::Result {
    ffi::guard(|| {
        let invalid = vk::Result::ERROR_INVALID_EXTERNAL_HANDLE;
        let Some(p) = state::with(|r| r.device_profile(device)) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return invalid;
        };
        if p_fd.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        let ht = info.handle_type.as_raw();
        if !fd_type_supported(&p, ht) {
            return invalid;
        }
        let exported = state::with(|r| {
            let m = r.memory_mut(info.memory).ok_or(invalid)?;
            if m.export_types & ht == 0 {
                return match p.quirks.export_undeclared_handle_type {
                    ExportUndeclared::MinusOne => Ok(-1),
                    ExportUndeclared::Error => Err(invalid),
                };
            }
            match &m.backing {
                Backing::Memfd(f) => fd::dup(f)
                    .map(fd::release)
                    .map_err(|_| vk::Result::ERROR_TOO_MANY_OBJECTS),
                Backing::Host(_) => Err(invalid),
            }
        });
        match exported {
            Ok(raw) => {
                // SAFETY: checked non-null; writable per the caller.
                unsafe { ffi::write(p_fd, raw) };
                vk::Result::SUCCESS
            }
            Err(e) => e,
        }
    })
}

/// `vkGetMemoryFdPropertiesKHR`: the profile's memory types for a DMA_BUF fd; OPAQUE_FD
/// (which the spec forbids asking about) and bad fds give
/// `VK_ERROR_INVALID_EXTERNAL_HANDLE`.
///
/// # Safety
/// `p_props` is null or writable.
pub unsafe extern "system" fn get_memory_fd_properties(
    device: vk::Device,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    fd_value: c_int,
    p_props: *mut vk::MemoryFdPropertiesKHR<'_>,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = state::with(|r| r.device_profile(device)) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        let ht = handle_type.as_raw();
        if ht != DMA_BUF || !fd_type_supported(&p, ht) || fd::regular_file_size(fd_value).is_none()
        {
            return vk::Result::ERROR_INVALID_EXTERNAL_HANDLE;
        }
        if p_props.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        // SAFETY: checked non-null; writable per the caller.
        unsafe {
            (*p_props).memory_type_bits =
                p.memory_import.dma_buf_memory_type_bits & p.memory_type_mask()
        };
        vk::Result::SUCCESS
    })
}

/// `vkGetMemoryHostPointerPropertiesEXT`.
///
/// # Safety
/// `p_props` is null or writable.
pub unsafe extern "system" fn get_memory_host_pointer_properties(
    device: vk::Device,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    p_host_pointer: *const c_void,
    p_props: *mut vk::MemoryHostPointerPropertiesEXT<'_>,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = state::with(|r| r.device_profile(device)) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        let align = p.memory_import.min_imported_host_pointer_alignment.max(1);
        let ptr = p_host_pointer as u64;
        if handle_type.as_raw() != HOST_ALLOCATION || ptr == 0 || ptr % align != 0 {
            return vk::Result::ERROR_INVALID_EXTERNAL_HANDLE;
        }
        if p_props.is_null() {
            return vk::Result::ERROR_UNKNOWN;
        }
        // SAFETY: checked non-null; writable per the caller.
        unsafe {
            (*p_props).memory_type_bits =
                p.memory_import.host_pointer_memory_type_bits & p.memory_type_mask()
        };
        vk::Result::SUCCESS
    })
}

//! Per-instance and per-device data, keyed by the loader's dispatch pointer.
//!
//! The loader writes its dispatch-table pointer into the first word of every dispatchable
//! handle, and shares it between an instance and its physical devices, and between a device
//! and its queues and command buffers. Keying by that word finds the right table for any
//! of them without wrapping handles.

use crate::report::Reporter;
use crate::state::{fast_map, FastMap};
use ash::vk;
use std::ffi::{c_char, CStr};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::LazyLock;

/// The loader's dispatch pointer of a dispatchable handle.
///
/// # Safety
/// `handle` must be a live dispatchable handle created through the loader.
pub unsafe fn key<H: vk::Handle>(handle: H) -> usize {
    // SAFETY: dispatchable handles point to an object whose first word the loader sets.
    unsafe { *(handle.as_raw() as usize as *const usize) }
}

/// What Handoff keeps for one `VkInstance`.
pub struct InstanceData {
    pub handle: vk::Instance,
    pub next_gipa: vk::PFN_vkGetInstanceProcAddr,
    pub next_gpdpa: Option<crate::loader_abi::PfnGetPhysicalDeviceProcAddr>,
    pub fns: ash::Instance,
    pub debug_utils: Option<ash::ext::debug_utils::InstanceFn>,
    pub debug_report: Option<ash::ext::debug_report::InstanceFn>,
    pub api_version: u32,
    pub extensions: Vec<String>,
    /// The capability queries, resolved down the chain during `vkCreateInstance`.
    pub capabilities: crate::capabilities::CapabilityFns,
    pub reporter: Arc<Reporter>,
    /// The process that created the instance: a child forked without exec inherits the
    /// record but not the instance's report, so it writes no summary for it.
    pub pid: u32,
}

impl InstanceData {
    pub fn has_extension(&self, name: &CStr) -> bool {
        has(&self.extensions, name)
    }
}

/// What Handoff keeps for one `VkDevice`.
///
/// Aligned to a page, which it fits in (a unit test checks): every intercepted call reads
/// its next-layer pointer, memo or learnt bits here, and a second page would be one more TLB
/// walk per call after the driver's system calls.
#[repr(align(4096))]
pub struct DeviceData {
    pub handle: vk::Device,
    pub physical_device: vk::PhysicalDevice,
    /// The lower of the instance's `apiVersion` and the physical device's.
    pub api_version: u32,
    /// `VkPhysicalDeviceIDProperties`, when the driver could be asked (Vulkan 1.1 or the
    /// KHR properties2 + external-memory-capabilities extensions).
    pub device_uuid: Option<[u8; vk::UUID_SIZE]>,
    pub driver_uuid: Option<[u8; vk::UUID_SIZE]>,
    /// The physical devices the device was created from (`VkDeviceGroupDeviceCreateInfo`'s
    /// list, or just `physical_device`) as raw handles, copied into every export's recorded
    /// facts.
    pub group_raw: handoff_rules::checks::payload::DeviceGroup,
    pub next_gdpa: vk::PFN_vkGetDeviceProcAddr,
    pub fns: ash::Device,
    pub external_memory_fd: ash::khr::external_memory_fd::DeviceFn,
    /// The memory-requirement queries, for the dedicated-allocation rules.
    pub requirements: crate::requirements::RequirementFns,
    /// `vkBindBufferMemory2KHR` / `vkBindImageMemory2KHR` of the next layer (the core names
    /// are in `fns`).
    pub bind_memory2: ash::khr::bind_memory2::DeviceFn,
    /// `VkPhysicalDeviceDedicatedAllocationImageAliasingFeaturesNV::dedicatedAllocationImageAliasing`
    /// as enabled at `vkCreateDevice` (selects 02628 or 02629).
    pub dedicated_image_aliasing: bool,
    /// `vkGetPhysicalDeviceQueueFamilyProperties`' count, for the ownership-transfer rules.
    pub queue_family_count: u32,
    /// `vkCmdPipelineBarrier2KHR` of the next layer (the core name is in `fns`).
    pub synchronization2: ash::khr::synchronization2::DeviceFn,
    /// The synchronization2 feature as enabled at `vkCreateDevice`
    /// (`VkPhysicalDeviceSynchronization2Features` or `VkPhysicalDeviceVulkan13Features`); the
    /// sync1 CONCURRENT barrier rules 09049 to 09054 apply without it.
    pub synchronization2_feature: bool,
    /// The KHR entry points of the next layer for semaphores, fences, render passes and
    /// copies (the core names, where there are any, are in `fns`).
    pub external_semaphore_fd: ash::khr::external_semaphore_fd::DeviceFn,
    pub external_fence_fd: ash::khr::external_fence_fd::DeviceFn,
    pub timeline_semaphore: ash::khr::timeline_semaphore::DeviceFn,
    pub create_renderpass2: ash::khr::create_renderpass2::DeviceFn,
    pub dynamic_rendering: ash::khr::dynamic_rendering::DeviceFn,
    pub copy_commands2: ash::khr::copy_commands2::DeviceFn,
    /// The instance's capability queries, for the resource rules.
    pub capabilities: crate::capabilities::CapabilityFns,
    pub extensions: Vec<String>,
    /// The extensions the per-call paths ask about, looked up once at `vkCreateDevice`
    /// (a string search per call cost more than the checks).
    pub enabled: HotExtensions,
    pub reporter: Arc<Reporter>,
    /// The fd handle types whose exports this device's driver was seen to make as regular
    /// files (memfds): one file per memory, the same at every export, so that the payload
    /// registry can learn an export's inode later, from an export of its own
    /// (`payload::export_lazily`). Bits of `payload::lazy_bit`; never set with a
    /// `ledger_dir`, whose ledger must record every export at once.
    pub lazy_fd_exports: std::sync::atomic::AtomicU8,
    /// What this device's driver was seen doing with the fds of quick imports (see
    /// `payload::after_quick_import`): closing them (`payload::lazy_bit` of the handle type)
    /// or keeping them open (that bit shifted left by 4, for good).
    pub import_fds: std::sync::atomic::AtomicU8,
    /// Parameter sets the create, allocate and bind rules found clean on this device.
    pub memo: crate::memo::Memo,
    /// Memory requirements by resource create parameters (`requiresDedicatedAllocation` for
    /// the bind rules without a driver call per bind).
    pub requirement_cache: crate::requirements::Cache,
}

/// Whether each device extension a hot path routes or checks on was enabled.
#[derive(Clone, Copy, Debug, Default)]
pub struct HotExtensions {
    /// Some enabled extension can move a payload across the API boundary (see
    /// [`shares_payloads`]). Without one the device cannot export or import anything, so
    /// Handoff hands the app the next layer's commands and tracks nothing on it.
    pub shares: bool,
    pub external_memory: bool,
    pub queue_family_foreign: bool,
    pub synchronization2: bool,
    pub external_semaphore_fd: bool,
    pub external_fence_fd: bool,
    pub copy_commands2: bool,
    pub create_renderpass2: bool,
    pub dynamic_rendering: bool,
}

impl HotExtensions {
    pub fn new(extensions: &[String]) -> HotExtensions {
        let on = |name: &CStr| has(extensions, name);
        HotExtensions {
            shares: shares_payloads(extensions),
            external_memory: on(vk::KHR_EXTERNAL_MEMORY_NAME),
            queue_family_foreign: on(vk::EXT_QUEUE_FAMILY_FOREIGN_NAME),
            synchronization2: on(vk::KHR_SYNCHRONIZATION2_NAME),
            external_semaphore_fd: on(vk::KHR_EXTERNAL_SEMAPHORE_FD_NAME),
            external_fence_fd: on(vk::KHR_EXTERNAL_FENCE_FD_NAME),
            copy_commands2: on(vk::KHR_COPY_COMMANDS2_NAME),
            create_renderpass2: on(vk::KHR_CREATE_RENDERPASS2_NAME),
            dynamic_rendering: on(vk::KHR_DYNAMIC_RENDERING_NAME),
        }
    }
}

impl DeviceData {
    pub fn has_extension(&self, name: &CStr) -> bool {
        has(&self.extensions, name)
    }
}

/// Fragments of the device extensions through which memory, a semaphore or a fence (or the
/// queue-family handoff that guards them) can leave or enter Vulkan: the handle extensions
/// (`_fd`, `_win32`, `_dma_buf`, `_host`, `_rdma`, Fuchsia's and QNX's), the NV ones, Android
/// hardware buffers, Metal objects, keyed mutexes, SciSync/SciBuf and the FOREIGN family. Core
/// 1.1 external memory alone hands nothing out: getting a handle needs one of these.
const SHARING_FRAGMENTS: &[&str] = &[
    "external_memory",
    "external_semaphore",
    "external_fence",
    "android_hardware_buffer",
    "metal_objects",
    "keyed_mutex",
    "sci_sync",
    "sci_buf",
    "buffer_collection",
    "screen_buffer",
    "queue_family_foreign",
];

/// Whether a device with these extensions enabled can share a payload with anything
/// outside its own Vulkan objects.
pub fn shares_payloads(extensions: &[String]) -> bool {
    extensions
        .iter()
        .any(|e| SHARING_FRAGMENTS.iter().any(|f| e.contains(f)))
}

fn has(list: &[String], name: &CStr) -> bool {
    let name = name.to_bytes();
    list.iter().any(|e| e.as_bytes() == name)
}

static INSTANCES: LazyLock<FastMap<usize, Arc<InstanceData>>> = LazyLock::new(fast_map);
#[link_section = ".data.handoff_hot"]
static DEVICES: LazyLock<FastMap<usize, Arc<DeviceData>>> = LazyLock::new(fast_map);
/// For fork.rs, which holds them across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 2] {
    [&*INSTANCES, &*DEVICES]
}

pub fn insert_instance(key: usize, data: Arc<InstanceData>) {
    INSTANCES.insert(key, data);
}

pub fn remove_instance(key: usize) -> Option<Arc<InstanceData>> {
    let gone = INSTANCES.remove(&key).map(|(_, v)| v);
    // Keys are pointers the loader allocates afresh: without this, each shard keeps the
    // table its first instance made, and the layer's memory creeps up over the first
    // hundreds of instances (16 shards, 84 bytes each).
    INSTANCES.shrink_to_fit();
    gone
}

pub fn instance(key: usize) -> Option<Arc<InstanceData>> {
    INSTANCES.get(&key).map(|e| Arc::clone(e.value()))
}

/// Every live instance (for findings that belong to no particular one).
pub fn all_instances() -> Vec<Arc<InstanceData>> {
    INSTANCES.iter().map(|e| Arc::clone(e.value())).collect()
}

/// A borrowed `DeviceData` for the length of one intercepted call.
///
/// Looking a device up on every call must not bounce a reference count between threads,
/// so the hot path hands out a plain pointer into the `Arc` that [`DEVICES`] owns. It stays
/// valid until `vkDestroyDevice` removes the entry, and the spec forbids any call on the
/// device or its queues and command buffers from overlapping that destruction (host access
/// to the device is externally synchronized and every child must be gone).
#[derive(Clone, Copy)]
pub struct DeviceRef(std::ptr::NonNull<DeviceData>);

impl std::ops::Deref for DeviceRef {
    type Target = DeviceData;

    fn deref(&self) -> &DeviceData {
        // SAFETY: see the type's documentation: the `Arc` outlives every call on the device.
        unsafe { self.0.as_ref() }
    }
}

/// The lock-free front of [`DEVICES`]: apps have a device or two, so a short array of
/// (key, pointer) pairs finds them in a few loads. Devices beyond it are still found
/// through the map.
struct Slot {
    key: AtomicUsize,
    data: AtomicPtr<DeviceData>,
}

const SLOTS: usize = 16;
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    key: AtomicUsize::new(0),
    data: AtomicPtr::new(std::ptr::null_mut()),
};
#[link_section = ".data.handoff_hot"]
static FRONT: [Slot; SLOTS] = [EMPTY; SLOTS];

pub fn insert_device(key: usize, data: Arc<DeviceData>) {
    let ptr = Arc::as_ptr(&data) as *mut DeviceData;
    DEVICES.insert(key, data);
    for slot in &FRONT {
        // Claim a free slot by its pointer, then publish the key that makes it visible.
        if slot
            .data
            .compare_exchange(
                std::ptr::null_mut(),
                ptr,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            slot.key.store(key, Ordering::Release);
            break;
        }
    }
}

pub fn remove_device(key: usize) -> Option<Arc<DeviceData>> {
    for slot in &FRONT {
        if slot.key.load(Ordering::Acquire) == key {
            slot.key.store(0, Ordering::Release);
            slot.data.store(std::ptr::null_mut(), Ordering::Release);
            break;
        }
    }
    let gone = DEVICES.remove(&key).map(|(_, v)| v);
    // As in `remove_instance`: a destroyed device leaves no table behind.
    DEVICES.shrink_to_fit();
    gone
}

/// The data of the device with dispatch key `key`, kept alive by the returned `Arc` (for
/// work on a device other than the one of the current call).
pub fn device_shared(key: usize) -> Option<Arc<DeviceData>> {
    DEVICES.get(&key).map(|e| Arc::clone(e.value()))
}

#[link_section = ".text.hot.handoff"]
pub fn device(key: usize) -> Option<DeviceRef> {
    for slot in &FRONT {
        if slot.key.load(Ordering::Acquire) == key {
            if let Some(p) = std::ptr::NonNull::new(slot.data.load(Ordering::Acquire)) {
                return Some(DeviceRef(p));
            }
        }
    }
    device_past_front(key)
}

/// [`device`] for a device that has no slot in `FRONT` (more devices than slots): out of
/// line, so that the front's scan is all the hot text holds.
#[cold]
#[inline(never)]
fn device_past_front(key: usize) -> Option<DeviceRef> {
    DEVICES
        .get(&key)
        .and_then(|e| std::ptr::NonNull::new(Arc::as_ptr(e.value()) as *mut DeviceData))
        .map(DeviceRef)
}

/// The data of the device `handle` belongs to (a device, or one of its queues or command
/// buffers: they share its dispatch pointer).
///
/// # Safety
/// `handle` must be a live dispatchable handle created through the loader.
pub unsafe fn device_of<H: vk::Handle>(handle: H) -> Option<DeviceRef> {
    // SAFETY: per the caller.
    device(unsafe { key(handle) })
}

/// Copies the enabled extension names out of a create info.
///
/// # Safety
/// `names` is null or points to `count` NUL-terminated strings.
pub unsafe fn extension_names(names: *const *const c_char, count: u32) -> Vec<String> {
    if names.is_null() {
        return Vec::new();
    }
    (0..count as usize)
        .filter_map(|i| {
            // SAFETY: the caller guarantees `count` readable entries.
            let p = unsafe { *names.add(i) };
            // SAFETY: each non-null entry is a NUL-terminated string.
            (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::shares_payloads;

    #[test]
    fn device_data_fits_in_its_page() {
        assert!(std::mem::size_of::<super::DeviceData>() <= 4096);
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_handle_extension_makes_a_device_share() {
        for e in [
            "VK_KHR_external_memory_fd",
            "VK_EXT_external_memory_dma_buf",
            "VK_KHR_external_semaphore_win32",
            "VK_KHR_external_fence_fd",
            "VK_NV_external_memory",
            "VK_ANDROID_external_memory_android_hardware_buffer",
            "VK_EXT_queue_family_foreign",
            "VK_EXT_metal_objects",
        ] {
            assert!(shares_payloads(&names(&["VK_KHR_swapchain", e])), "{e}");
        }
    }

    #[test]
    fn a_device_without_one_shares_nothing() {
        assert!(!shares_payloads(&[]));
        assert!(!shares_payloads(&names(&[
            "VK_KHR_swapchain",
            "VK_KHR_synchronization2",
            "VK_KHR_timeline_semaphore",
        ])));
    }
}

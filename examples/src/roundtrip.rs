//! `roundtrip`: share memory between two Vulkan devices through an OPAQUE_FD file descriptor.
//!
//! The exporter device allocates memory that it declares exportable, writes a pattern into
//! it, and exports it as a POSIX file descriptor with `vkGetMemoryFdKHR`. The importer device
//! (a second `VkDevice` on the same GPU, standing in for another process or another API)
//! imports that descriptor with `VkImportMemoryFdInfoKHR`, maps the memory and checks that it
//! sees the same bytes.
//!
//! With `--bug` the exporter forgets `VkExportMemoryAllocateInfo` when it allocates, then
//! exports anyway: `VUID-VkMemoryGetFdInfoKHR-handleType-00671`. Some drivers fail the
//! export, some hand out a descriptor that does not share the memory, some appear to work;
//! the layer reports the mistake on every driver.
//!
//! Running it with the layer (from the repository root):
//!
//! ```text
//! cargo build --release
//! target/release/handoff manifest --out /tmp/handoff
//! VK_ADD_LAYER_PATH=/tmp/handoff VK_INSTANCE_LAYERS=VK_LAYER_HANDOFF_validation \
//!     target/release/roundtrip --bug
//! ```
//!
//! Add `VK_DRIVER_FILES=/tmp/handoff/handoff_mock_icd.json` to run on Handoff's mock driver
//! instead of the system's, or just run `target/release/handoff demo`, which does all of it.
//! Without the layer the program runs the same, minus the `[handoff] error …` line.

use crate::common::{check, messenger_create_info, run_with_bug_switch};
use ash::vk;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

const USAGE: &str = "\
usage: roundtrip [--bug]

Exports OPAQUE_FD memory from one Vulkan device and imports it on a second one, then
compares the bytes. --bug allocates the exported memory without VkExportMemoryAllocateInfo
(VUID-VkMemoryGetFdInfoKHR-handleType-00671), which VK_LAYER_HANDOFF_validation reports.";

/// How much we share: 64 KiB.
const BUFFER_SIZE: vk::DeviceSize = 64 * 1024;
/// The only handle type this example uses: an fd whose payload only Vulkan (or another
/// API's Vulkan-interop path) understands, valid only between the same device and driver.
const HANDLE_TYPE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
const USAGE_FLAGS: vk::BufferUsageFlags = vk::BufferUsageFlags::from_raw(
    vk::BufferUsageFlags::TRANSFER_SRC.as_raw() | vk::BufferUsageFlags::TRANSFER_DST.as_raw(),
);

/// Runs the example; `args` are the arguments after the program name. Returns the exit code:
/// 0 when it ran to the end (with `--bug`, whatever the driver did), 1 on a failure, 2 for a
/// bad argument or a missing Vulkan loader.
pub fn run(args: &[String]) -> i32 {
    run_with_bug_switch("roundtrip", USAGE, args, |entry, bug| {
        // Destroy everything, in reverse order of creation, before reporting the outcome.
        let mut objects = Objects::default();
        let result = roundtrip(entry, &mut objects, bug);
        drop(objects);
        result
    })
}

/// One side of the handoff: a device, its buffer and the memory bound to it.
struct Side {
    device: ash::Device,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    mapped: bool,
}

impl Side {
    fn new(device: ash::Device) -> Self {
        Side {
            device,
            buffer: vk::Buffer::null(),
            memory: vk::DeviceMemory::null(),
            mapped: false,
        }
    }

    fn destroy(self) {
        // SAFETY: every handle below was created from `self.device`, is destroyed exactly once
        // (the `Side` is consumed), and nothing was submitted to a queue, so none is in use.
        unsafe {
            if self.mapped {
                self.device.unmap_memory(self.memory);
            }
            if self.buffer != vk::Buffer::null() {
                self.device.destroy_buffer(self.buffer, None);
            }
            if self.memory != vk::DeviceMemory::null() {
                self.device.free_memory(self.memory, None);
            }
            self.device.destroy_device(None);
        }
    }
}

/// Everything the example creates; dropping it destroys what exists, on every path.
#[derive(Default)]
struct Objects {
    instance: Option<ash::Instance>,
    messenger: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    exporter: Option<Side>,
    importer: Option<Side>,
}

impl Drop for Objects {
    fn drop(&mut self) {
        // Children before parents: the importer's memory, then the exporter's (the payload
        // lives until the last reference to it is freed), then the devices, the messenger
        // and the instance.
        if let Some(side) = self.importer.take() {
            side.destroy();
        }
        if let Some(side) = self.exporter.take() {
            side.destroy();
        }
        if let Some((debug_utils, messenger)) = self.messenger.take() {
            // SAFETY: the messenger was created on this instance and is destroyed once.
            unsafe { debug_utils.destroy_debug_utils_messenger(messenger, None) };
        }
        if let Some(instance) = self.instance.take() {
            // SAFETY: every child of the instance was destroyed above.
            unsafe { instance.destroy_instance(None) };
        }
    }
}

fn roundtrip(entry: &ash::Entry, objects: &mut Objects, bug: bool) -> Result<(), String> {
    // --- Instance, with a debug-utils messenger so that layer messages reach us. ---------
    // SAFETY: plain query, no pointers kept.
    let available = check("vkEnumerateInstanceExtensionProperties", unsafe {
        entry.enumerate_instance_extension_properties(None)
    })?;
    let has_debug_utils = available
        .iter()
        .any(|e| e.extension_name_as_c_str().ok() == Some(ash::ext::debug_utils::NAME));
    let mut extensions = Vec::new();
    if has_debug_utils {
        extensions.push(ash::ext::debug_utils::NAME.as_ptr());
    } else {
        println!(
            "roundtrip: VK_EXT_debug_utils is not available; layer messages will not be shown"
        );
    }
    // External memory is core in Vulkan 1.1 (VK_KHR_external_memory and
    // VK_KHR_external_memory_capabilities were promoted), so asking for 1.1 gives us the
    // capability query below without enabling instance extensions.
    let app = vk::ApplicationInfo::default()
        .application_name(c"handoff roundtrip")
        .api_version(vk::API_VERSION_1_1);
    // A messenger chained on VkInstanceCreateInfo also sees what is reported while the
    // instance is being created or destroyed.
    let mut chained_messenger = messenger_create_info();
    let mut instance_info = vk::InstanceCreateInfo::default()
        .application_info(&app)
        .enabled_extension_names(&extensions);
    if has_debug_utils {
        instance_info = instance_info.push_next(&mut chained_messenger);
    }
    // SAFETY: `instance_info` and everything it points to live until the call returns.
    let instance = check("vkCreateInstance", unsafe {
        entry.create_instance(&instance_info, None)
    })?;
    objects.instance = Some(instance.clone());
    if has_debug_utils {
        let debug_utils = ash::ext::debug_utils::Instance::new(entry, &instance);
        // SAFETY: the create info is valid; the callback is a plain function.
        let messenger = check("vkCreateDebugUtilsMessengerEXT", unsafe {
            debug_utils.create_debug_utils_messenger(&messenger_create_info(), None)
        })?;
        objects.messenger = Some((debug_utils, messenger));
    }

    // --- A physical device that can export and import memory as a POSIX fd. -------------
    // SAFETY: plain query on a live instance.
    let physical_devices = check("vkEnumeratePhysicalDevices", unsafe {
        instance.enumerate_physical_devices()
    })?;
    let mut chosen = None;
    for &physical_device in &physical_devices {
        // SAFETY: `physical_device` came from this instance.
        let device_extensions = check("vkEnumerateDeviceExtensionProperties", unsafe {
            instance.enumerate_device_extension_properties(physical_device)
        })?;
        let has = |name: &std::ffi::CStr| {
            device_extensions
                .iter()
                .any(|e| e.extension_name_as_c_str().ok() == Some(name))
        };
        if has(ash::khr::external_memory_fd::NAME) {
            chosen = Some((physical_device, has(ash::khr::external_memory::NAME)));
            break;
        }
    }
    let Some((physical_device, has_external_memory)) = chosen else {
        return Err(format!(
            "none of the {} physical devices supports VK_KHR_external_memory_fd",
            physical_devices.len()
        ));
    };

    // deviceUUID and driverUUID identify the GPU and the driver build. OPAQUE_FD payloads
    // only make sense between devices (and processes) where both are equal, so a real
    // consumer compares them before importing. Our two devices share one physical device.
    let mut id_properties = vk::PhysicalDeviceIDProperties::default();
    let mut properties = vk::PhysicalDeviceProperties2::default().push_next(&mut id_properties);
    // SAFETY: the output structs are valid and writable; the pNext chain is well formed.
    unsafe { instance.get_physical_device_properties2(physical_device, &mut properties) };
    let name = properties
        .properties
        .device_name_as_c_str()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "(unnamed)".to_owned());
    let api = properties.properties.api_version;
    let device_uuid = hex(&id_properties.device_uuid);
    let driver_uuid = hex(&id_properties.driver_uuid);
    println!(
        "roundtrip: {name} (Vulkan {}.{}), deviceUUID {device_uuid}, driverUUID {driver_uuid}",
        vk::api_version_major(api),
        vk::api_version_minor(api),
    );

    // Ask before using: can a buffer with this usage be backed by exportable and importable
    // OPAQUE_FD memory, and must that memory be a dedicated allocation?
    let buffer_info = vk::PhysicalDeviceExternalBufferInfo::default()
        .usage(USAGE_FLAGS)
        .handle_type(HANDLE_TYPE);
    let mut external_properties = vk::ExternalBufferProperties::default();
    // SAFETY: valid input and output structs, no pNext chains.
    unsafe {
        instance.get_physical_device_external_buffer_properties(
            physical_device,
            &buffer_info,
            &mut external_properties,
        )
    };
    let features = external_properties
        .external_memory_properties
        .external_memory_features;
    let needed =
        vk::ExternalMemoryFeatureFlags::EXPORTABLE | vk::ExternalMemoryFeatureFlags::IMPORTABLE;
    if !features.contains(needed) {
        return Err(format!(
            "{name} cannot export and import OPAQUE_FD buffers (externalMemoryFeatures {features:?})"
        ));
    }
    let dedicated_only = features.contains(vk::ExternalMemoryFeatureFlags::DEDICATED_ONLY);

    // --- Two devices on that GPU: the exporter and the importer. -------------------------
    let mut device_extensions = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
    if has_external_memory {
        // Core since 1.1; enabling it as well keeps a 1.0 driver happy.
        device_extensions.push(ash::khr::external_memory::NAME.as_ptr());
    }
    let exporter = create_device(&instance, physical_device, &device_extensions)?;
    let exporter = objects.exporter.insert(Side::new(exporter));
    let importer = create_device(&instance, physical_device, &device_extensions)?;
    let importer = objects.importer.insert(Side::new(importer));

    // Both sides create the same buffer, declaring at creation that its memory may be
    // external (VkExternalMemoryBufferCreateInfo): a buffer bound to imported memory, or to
    // memory meant for export, must say so.
    exporter.buffer = create_external_buffer(&exporter.device)?;
    importer.buffer = create_external_buffer(&importer.device)?;
    // SAFETY: the buffers are live and belong to these devices.
    let (export_requirements, import_requirements) = unsafe {
        (
            exporter
                .device
                .get_buffer_memory_requirements(exporter.buffer),
            importer
                .device
                .get_buffer_memory_requirements(importer.buffer),
        )
    };
    // SAFETY: plain query.
    let memory_properties =
        unsafe { instance.get_physical_device_memory_properties(physical_device) };
    let memory_type_index = find_memory_type(
        &memory_properties,
        export_requirements.memory_type_bits & import_requirements.memory_type_bits,
        vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT,
    )
    .ok_or("no HOST_VISIBLE | HOST_COHERENT memory type fits both buffers")?;
    let allocation_size = export_requirements.size.max(import_requirements.size);

    // --- Export: allocate memory that may be exported, fill it, get an fd. --------------
    // VkExportMemoryAllocateInfo::handleTypes lists every handle type this memory may ever
    // be exported as. The driver may choose a different allocator for exportable memory, so
    // this cannot be added later.
    let mut export_info = vk::ExportMemoryAllocateInfo::default().handle_types(HANDLE_TYPE);
    let mut dedicated_export = vk::MemoryDedicatedAllocateInfo::default().buffer(exporter.buffer);
    let mut allocate_info = vk::MemoryAllocateInfo::default()
        .allocation_size(allocation_size)
        .memory_type_index(memory_type_index);
    if bug {
        // The mistake: no VkExportMemoryAllocateInfo, i.e. handleTypes = 0. The memory is
        // ordinary device memory, and exporting it below is undefined behaviour.
        println!(
            "roundtrip --bug: allocating without VkExportMemoryAllocateInfo, then exporting anyway"
        );
    } else {
        allocate_info = allocate_info.push_next(&mut export_info);
    }
    if dedicated_only {
        allocate_info = allocate_info.push_next(&mut dedicated_export);
    }
    // SAFETY: `allocate_info` and its pNext chain live until the call returns.
    exporter.memory = check("vkAllocateMemory (exporter)", unsafe {
        exporter.device.allocate_memory(&allocate_info, None)
    })?;
    // SAFETY: buffer and memory are live, of this device, and the memory type fits.
    check("vkBindBufferMemory (exporter)", unsafe {
        exporter
            .device
            .bind_buffer_memory(exporter.buffer, exporter.memory, 0)
    })?;
    // SAFETY: the memory is HOST_VISIBLE and not mapped yet.
    let written = check("vkMapMemory (exporter)", unsafe {
        exporter.device.map_memory(
            exporter.memory,
            0,
            vk::WHOLE_SIZE,
            vk::MemoryMapFlags::empty(),
        )
    })?;
    exporter.mapped = true;
    // SAFETY: the mapping covers `allocation_size >= BUFFER_SIZE` bytes, stays mapped while the
    // slice is used, and nothing else (no queue, no other thread) touches it meanwhile.
    let written =
        unsafe { std::slice::from_raw_parts_mut(written.cast::<u8>(), BUFFER_SIZE as usize) };
    for (i, byte) in written.iter_mut().enumerate() {
        *byte = pattern(i);
    }
    // HOST_COHERENT: no vkFlushMappedMemoryRanges needed for the writes to be visible.

    // vkGetMemoryFdKHR creates a new reference to the memory's payload and hands us a new
    // file descriptor for it: we own the fd until an import succeeds.
    let external_memory_fd = ash::khr::external_memory_fd::Device::new(&instance, &exporter.device);
    let get_fd_info = vk::MemoryGetFdInfoKHR::default()
        .memory(exporter.memory)
        .handle_type(HANDLE_TYPE);
    // SAFETY: the memory is live and belongs to the device the function table was loaded for.
    let exported = unsafe { external_memory_fd.get_memory_fd(&get_fd_info) };
    let fd = match exported {
        Ok(raw) if raw >= 0 => {
            // SAFETY: a successful vkGetMemoryFdKHR returns a fresh descriptor that the
            // application owns; nothing else closes it.
            unsafe { OwnedFd::from_raw_fd(raw) }
        }
        Ok(raw) => {
            let message = format!("vkGetMemoryFdKHR returned VK_SUCCESS but fd {raw}");
            if bug {
                println!("roundtrip --bug: {message}; nothing to import. Done.");
                return Ok(());
            }
            return Err(message);
        }
        Err(code) => {
            if bug {
                println!("roundtrip --bug: vkGetMemoryFdKHR failed with {code:?}; nothing to import. Done.");
                return Ok(());
            }
            return Err(format!("vkGetMemoryFdKHR failed: {code:?} ({code})"));
        }
    };
    if bug {
        // The driver went along with it, but the fd may not share our memory at all; importing
        // it would be undefined behaviour too. Dropping the OwnedFd closes it.
        println!(
            "roundtrip --bug: the driver handed out fd {} anyway; closing it without importing. Done.",
            fd.as_raw_fd()
        );
        return Ok(());
    }
    println!(
        "roundtrip: exported {allocation_size} bytes (memory type {memory_type_index}) as fd {}",
        fd.as_raw_fd()
    );

    // --- Import on the second device. -----------------------------------------------------
    // For OPAQUE_FD the import must use the same allocation size and memory type as the
    // export (vkGetMemoryFdPropertiesKHR is not allowed for OPAQUE_FD: the payload carries
    // no type information that the driver would reveal), and a dedicated export needs a
    // dedicated import.
    let mut import_info = vk::ImportMemoryFdInfoKHR::default()
        .handle_type(HANDLE_TYPE)
        .fd(fd.as_raw_fd());
    let mut dedicated_import = vk::MemoryDedicatedAllocateInfo::default().buffer(importer.buffer);
    let mut allocate_info = vk::MemoryAllocateInfo::default()
        .allocation_size(allocation_size)
        .memory_type_index(memory_type_index)
        .push_next(&mut import_info);
    if dedicated_only {
        allocate_info = allocate_info.push_next(&mut dedicated_import);
    }
    // SAFETY: `allocate_info` and its pNext chain live until the call returns; `fd` is open.
    match unsafe { importer.device.allocate_memory(&allocate_info, None) } {
        Ok(memory) => {
            importer.memory = memory;
            // A successful import takes ownership of the fd: the driver closes it when the
            // memory is freed, so we must not. Forget it without closing.
            let _ = fd.into_raw_fd();
        }
        // A failed import leaves the fd ours: `fd` is dropped, and so closed, on return.
        Err(code) => {
            return Err(format!(
                "vkAllocateMemory (import) failed: {code:?} ({code})"
            ))
        }
    }
    // SAFETY: buffer and memory are live, of this device, and the memory type fits.
    check("vkBindBufferMemory (importer)", unsafe {
        importer
            .device
            .bind_buffer_memory(importer.buffer, importer.memory, 0)
    })?;
    // SAFETY: the imported memory is HOST_VISIBLE and not mapped yet.
    let read = check("vkMapMemory (importer)", unsafe {
        importer.device.map_memory(
            importer.memory,
            0,
            vk::WHOLE_SIZE,
            vk::MemoryMapFlags::empty(),
        )
    })?;
    importer.mapped = true;
    // SAFETY: the mapping covers at least BUFFER_SIZE bytes and stays mapped while read.
    let read = unsafe { std::slice::from_raw_parts(read.cast::<u8>(), BUFFER_SIZE as usize) };

    // --- Compare: both mappings are views of one payload. ----------------------------------
    let differing = read
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b != pattern(i))
        .count();
    if differing == 0 {
        println!("roundtrip: {} bytes matched", read.len());
        Ok(())
    } else {
        let first = (0..read.len())
            .find(|&i| read[i] != pattern(i))
            .unwrap_or(0);
        Err(format!(
            "mismatch: {differing} of {} bytes differ; first at offset {first}: wrote {:#04x}, read {:#04x}",
            read.len(),
            pattern(first),
            read[first]
        ))
    }
}

/// The byte written at `offset`: varies within every 256 bytes and between them.
fn pattern(offset: usize) -> u8 {
    (offset.wrapping_mul(31) ^ (offset >> 8)) as u8
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn create_device(
    instance: &ash::Instance,
    physical_device: vk::PhysicalDevice,
    extensions: &[*const std::ffi::c_char],
) -> Result<ash::Device, String> {
    // No queue is used (mapping is enough to share bytes), but a device needs one queue.
    // SAFETY: plain query.
    let families = unsafe { instance.get_physical_device_queue_family_properties(physical_device) };
    if families.is_empty() {
        return Err("the device has no queue family".into());
    }
    let priorities = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&priorities)];
    let info = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(extensions);
    // SAFETY: `info` and the arrays it points to live until the call returns.
    check("vkCreateDevice", unsafe {
        instance.create_device(physical_device, &info, None)
    })
}

fn create_external_buffer(device: &ash::Device) -> Result<vk::Buffer, String> {
    let mut external = vk::ExternalMemoryBufferCreateInfo::default().handle_types(HANDLE_TYPE);
    let info = vk::BufferCreateInfo::default()
        .size(BUFFER_SIZE)
        .usage(USAGE_FLAGS)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .push_next(&mut external);
    // SAFETY: `info` and its pNext chain live until the call returns.
    check("vkCreateBuffer", unsafe {
        device.create_buffer(&info, None)
    })
}

fn find_memory_type(
    properties: &vk::PhysicalDeviceMemoryProperties,
    allowed: u32,
    wanted: vk::MemoryPropertyFlags,
) -> Option<u32> {
    let count = (properties.memory_type_count as usize).min(properties.memory_types.len());
    properties.memory_types[..count]
        .iter()
        .enumerate()
        .find(|&(i, t)| allowed & (1 << i) != 0 && t.property_flags.contains(wanted))
        .map(|(i, _)| i as u32)
}

//! `cuda_interop`: Vulkan hands a buffer to CUDA and takes it back, synchronised by two
//! semaphores, all through OPAQUE_FD handles.
//!
//! Vulkan allocates an exportable buffer and two exportable semaphores and exports all
//! three as OPAQUE_FD. It zero-fills the buffer, releases it to `VK_QUEUE_FAMILY_EXTERNAL`
//! and signals the first semaphore. CUDA (examples/cuda/handoff_cuda_peer.cu, loaded at run
//! time) imports the memory (`cudaImportExternalMemory`, the Vulkan allocation's size, the
//! dedicated flag when the allocation is dedicated) and the semaphores
//! (`cudaImportExternalSemaphore`), waits on the first, writes a pattern with a kernel and
//! signals the second. Vulkan waits on the second, acquires the buffer from EXTERNAL, copies
//! it into a host-visible buffer and checks every byte.
//!
//! With `--bug` the memory is allocated with a `VkExportMemoryAllocateInfo` whose
//! `handleTypes` leaves out OPAQUE_FD, then exported as OPAQUE_FD anyway:
//! `VUID-VkMemoryGetFdInfoKHR-handleType-00671`, which Handoff reports on the Vulkan side
//! (nothing is handed to CUDA: importing that fd would be undefined behaviour).
//!
//! Where CUDA is missing (no `libhandoff_cuda_peer.so`, no driver, no device with the Vulkan
//! device's UUID) the example says what it needs and exits 0. Building the CUDA side, on the
//! GPU machine:
//!
//! ```text
//! nvcc -O2 -shared -Xcompiler -fPIC -o target/release/libhandoff_cuda_peer.so \
//!     examples/cuda/handoff_cuda_peer.cu
//! VK_ADD_LAYER_PATH=/tmp/handoff VK_INSTANCE_LAYERS=VK_LAYER_HANDOFF_validation \
//!     target/release/cuda_interop
//! ```
//!
//! The library is looked up at `$HANDOFF_CUDA_PEER`, else next to the executable, else by
//! the dynamic linker.

use crate::common::{check, messenger_create_info, run_with_bug_switch};
use crate::cuda_peer::{self, Failure, Handover, Peer};
use ash::vk;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const USAGE: &str = "\
usage: cuda_interop [--bug]

Shares a Vulkan buffer and two semaphores with CUDA as OPAQUE_FD handles: CUDA waits, writes
a pattern and signals; Vulkan waits and checks every byte. --bug exports the memory as a
handle type its VkExportMemoryAllocateInfo left out (VUID-VkMemoryGetFdInfoKHR-handleType-00671),
which VK_LAYER_HANDOFF_validation reports. Needs libhandoff_cuda_peer.so (nvcc) and CUDA;
without them it says so and exits 0.";

/// How many bytes CUDA writes and Vulkan checks: 1 MiB.
const BYTES: vk::DeviceSize = 1 << 20;
const MEMORY_HANDLE: vk::ExternalMemoryHandleTypeFlags =
    vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
const SEMAPHORE_HANDLE: vk::ExternalSemaphoreHandleTypeFlags =
    vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD;

/// Runs the example; returns the exit code: 0 when it ran to the end (with `--bug`, whatever
/// the driver did; without CUDA, after saying what it needs), 1 on a failure, 2 for a bad
/// argument or a missing Vulkan loader.
pub fn run(args: &[String]) -> i32 {
    run_with_bug_switch("cuda_interop", USAGE, args, |entry, bug| {
        // Everything is destroyed before the outcome is reported.
        let mut objects = Objects::default();
        let result = interop(entry, &mut objects, bug);
        drop(objects);
        result
    })
}

/// Everything the example creates; dropping it waits for the device and destroys what
/// exists, children first, on every path.
#[derive(Default)]
struct Objects {
    instance: Option<ash::Instance>,
    messenger: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    device: Option<ash::Device>,
    buffers: Vec<vk::Buffer>,
    memories: Vec<vk::DeviceMemory>,
    semaphores: Vec<vk::Semaphore>,
    fence: vk::Fence,
    pool: vk::CommandPool,
}

impl Drop for Objects {
    fn drop(&mut self) {
        if let Some(device) = self.device.take() {
            // SAFETY: every handle below belongs to `device` and is destroyed once; the idle
            // wait first makes sure no submitted work still uses any of them.
            unsafe {
                let _ = device.device_wait_idle();
                if self.pool != vk::CommandPool::null() {
                    device.destroy_command_pool(self.pool, None);
                }
                if self.fence != vk::Fence::null() {
                    device.destroy_fence(self.fence, None);
                }
                for s in self.semaphores.drain(..) {
                    device.destroy_semaphore(s, None);
                }
                for b in self.buffers.drain(..) {
                    device.destroy_buffer(b, None);
                }
                for m in self.memories.drain(..) {
                    device.free_memory(m, None);
                }
                device.destroy_device(None);
            }
        }
        if let Some((debug_utils, messenger)) = self.messenger.take() {
            // SAFETY: created on this instance, destroyed once.
            unsafe { debug_utils.destroy_debug_utils_messenger(messenger, None) };
        }
        if let Some(instance) = self.instance.take() {
            // SAFETY: every child of the instance was destroyed above.
            unsafe { instance.destroy_instance(None) };
        }
    }
}

/// The physical device and what the example learnt about it.
struct Gpu {
    physical: vk::PhysicalDevice,
    name: String,
    device_uuid: [u8; 16],
    semaphore_fd: bool,
    memory: vk::PhysicalDeviceMemoryProperties,
}

fn create_instance(entry: &ash::Entry, objects: &mut Objects) -> Result<ash::Instance, String> {
    // SAFETY: plain query.
    let available = check("vkEnumerateInstanceExtensionProperties", unsafe {
        entry.enumerate_instance_extension_properties(None)
    })?;
    let debug_utils = available
        .iter()
        .any(|e| e.extension_name_as_c_str().ok() == Some(ash::ext::debug_utils::NAME));
    let extensions: Vec<_> = debug_utils
        .then_some(ash::ext::debug_utils::NAME.as_ptr())
        .into_iter()
        .collect();
    // External memory and semaphores (and their capability queries) are core in 1.1.
    let app = vk::ApplicationInfo::default()
        .application_name(c"handoff cuda_interop")
        .api_version(vk::API_VERSION_1_1);
    let mut chained = messenger_create_info();
    let mut info = vk::InstanceCreateInfo::default()
        .application_info(&app)
        .enabled_extension_names(&extensions);
    if debug_utils {
        info = info.push_next(&mut chained);
    }
    // SAFETY: `info` and everything it points to live until the call returns.
    let instance = check("vkCreateInstance", unsafe {
        entry.create_instance(&info, None)
    })?;
    objects.instance = Some(instance.clone());
    if debug_utils {
        let du = ash::ext::debug_utils::Instance::new(entry, &instance);
        // SAFETY: a valid create info; the callback is a plain function.
        let m = check("vkCreateDebugUtilsMessengerEXT", unsafe {
            du.create_debug_utils_messenger(&messenger_create_info(), None)
        })?;
        objects.messenger = Some((du, m));
    }
    Ok(instance)
}

/// The first physical device with VK_KHR_external_memory_fd.
fn pick_gpu(instance: &ash::Instance) -> Result<Gpu, String> {
    // SAFETY: plain query on a live instance.
    let all = check("vkEnumeratePhysicalDevices", unsafe {
        instance.enumerate_physical_devices()
    })?;
    for &physical in &all {
        // SAFETY: `physical` came from this instance.
        let exts = check("vkEnumerateDeviceExtensionProperties", unsafe {
            instance.enumerate_device_extension_properties(physical)
        })?;
        let has = |n: &std::ffi::CStr| exts.iter().any(|e| e.extension_name_as_c_str() == Ok(n));
        if !has(ash::khr::external_memory_fd::NAME) {
            continue;
        }
        let mut id = vk::PhysicalDeviceIDProperties::default();
        let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
        // SAFETY: valid, writable output structs with a well-formed chain.
        unsafe { instance.get_physical_device_properties2(physical, &mut props) };
        let name = props
            .properties
            .device_name_as_c_str()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // SAFETY: plain query.
        let memory = unsafe { instance.get_physical_device_memory_properties(physical) };
        return Ok(Gpu {
            physical,
            name,
            device_uuid: id.device_uuid,
            semaphore_fd: has(ash::khr::external_semaphore_fd::NAME),
            memory,
        });
    }
    Err(format!(
        "none of the {} physical devices supports VK_KHR_external_memory_fd",
        all.len()
    ))
}

fn memory_type(gpu: &Gpu, allowed: u32, wanted: vk::MemoryPropertyFlags) -> Option<u32> {
    let count = (gpu.memory.memory_type_count as usize).min(gpu.memory.memory_types.len());
    (0..count)
        .find(|&i| {
            allowed & (1 << i) != 0 && gpu.memory.memory_types[i].property_flags.contains(wanted)
        })
        .map(|i| i as u32)
}

fn interop(entry: &ash::Entry, objects: &mut Objects, bug: bool) -> Result<(), String> {
    let instance = create_instance(entry, objects)?;
    let gpu = pick_gpu(&instance)?;
    println!(
        "cuda_interop: {}, deviceUUID {}",
        gpu.name,
        gpu.device_uuid
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if bug {
        return bug_export(&instance, &gpu, objects);
    }
    // CUDA first: without it there is nothing to hand the buffer to.
    let peer = match Peer::load() {
        Ok(peer) => peer,
        Err(why) => {
            println!(
                "cuda_interop: needs CUDA: {} built with nvcc (examples/cuda/handoff_cuda_peer.cu; \
                 see `cuda_interop --help`) and the NVIDIA driver. Not found ({why}); nothing to do.",
                cuda_peer::LIBRARY
            );
            return Ok(());
        }
    };
    // A device CUDA could share with exports OPAQUE_FD semaphores; another one (lavapipe,
    // the mock ICD on a CUDA machine) is not a CUDA peer's device: nothing to do either.
    if let Err(why) = semaphores_exportable(&instance, &gpu) {
        println!(
            "cuda_interop: needs a Vulkan device that CUDA can share with: {why}; nothing to do."
        );
        return Ok(());
    }
    if let Err(why) = peer.has_device(&gpu.device_uuid) {
        println!(
            "cuda_interop: needs a CUDA device with the deviceUUID of {}: {why}; nothing to do.",
            gpu.name
        );
        return Ok(());
    }
    Flow::new(&instance, &gpu, objects)?.run(&peer, &gpu)
}

/// Asks before using: OPAQUE_FD semaphores must be exportable.
fn semaphores_exportable(instance: &ash::Instance, gpu: &Gpu) -> Result<(), String> {
    if !gpu.semaphore_fd {
        return Err(format!("{} lacks VK_KHR_external_semaphore_fd", gpu.name));
    }
    let info = vk::PhysicalDeviceExternalSemaphoreInfo::default().handle_type(SEMAPHORE_HANDLE);
    let mut props = vk::ExternalSemaphoreProperties::default();
    // SAFETY: valid input and output structs.
    unsafe {
        instance.get_physical_device_external_semaphore_properties(gpu.physical, &info, &mut props)
    };
    if !props
        .external_semaphore_features
        .contains(vk::ExternalSemaphoreFeatureFlags::EXPORTABLE)
    {
        return Err(format!("{} cannot export OPAQUE_FD semaphores", gpu.name));
    }
    Ok(())
}

/// Whether OPAQUE_FD memory for a buffer of `usage` must be a dedicated allocation.
fn dedicated_only(instance: &ash::Instance, gpu: &Gpu, usage: vk::BufferUsageFlags) -> bool {
    let info = vk::PhysicalDeviceExternalBufferInfo::default()
        .usage(usage)
        .handle_type(MEMORY_HANDLE);
    let mut props = vk::ExternalBufferProperties::default();
    // SAFETY: valid input and output structs.
    unsafe {
        instance.get_physical_device_external_buffer_properties(gpu.physical, &info, &mut props)
    };
    props
        .external_memory_properties
        .external_memory_features
        .contains(vk::ExternalMemoryFeatureFlags::DEDICATED_ONLY)
}

fn create_device(
    instance: &ash::Instance,
    gpu: &Gpu,
    objects: &mut Objects,
    extensions: &[*const std::ffi::c_char],
) -> Result<ash::Device, String> {
    let priorities = [1.0f32];
    // Family 0 can transfer on every conforming driver (graphics or compute implies it).
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&priorities)];
    let info = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(extensions);
    // SAFETY: `info` and its arrays live until the call returns.
    let device = check("vkCreateDevice", unsafe {
        instance.create_device(gpu.physical, &info, None)
    })?;
    objects.device = Some(device.clone());
    Ok(device)
}

fn create_buffer(
    device: &ash::Device,
    objects: &mut Objects,
    usage: vk::BufferUsageFlags,
    external: bool,
) -> Result<vk::Buffer, String> {
    let mut ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(MEMORY_HANDLE);
    let mut info = vk::BufferCreateInfo::default()
        .size(BYTES)
        .usage(usage)
        .sharing_mode(vk::SharingMode::EXCLUSIVE);
    if external {
        info = info.push_next(&mut ext);
    }
    // SAFETY: `info` and its chain live until the call returns.
    let buffer = check("vkCreateBuffer", unsafe {
        device.create_buffer(&info, None)
    })?;
    objects.buffers.push(buffer);
    Ok(buffer)
}

/// `--bug`: the export create info leaves OPAQUE_FD out, the export asks for it.
fn bug_export(instance: &ash::Instance, gpu: &Gpu, objects: &mut Objects) -> Result<(), String> {
    let device = create_device(
        instance,
        gpu,
        objects,
        &[ash::khr::external_memory_fd::NAME.as_ptr()],
    )?;
    let usage = vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST;
    let buffer = create_buffer(&device, objects, usage, true)?;
    // SAFETY: a live buffer of this device.
    let req = unsafe { device.get_buffer_memory_requirements(buffer) };
    let ty = memory_type(
        gpu,
        req.memory_type_bits,
        vk::MemoryPropertyFlags::DEVICE_LOCAL,
    )
    .or_else(|| memory_type(gpu, req.memory_type_bits, vk::MemoryPropertyFlags::empty()))
    .ok_or("no memory type fits the buffer")?;
    println!(
        "cuda_interop --bug: VkExportMemoryAllocateInfo::handleTypes is empty, then the memory \
         is exported as OPAQUE_FD anyway"
    );
    let mut export = vk::ExportMemoryAllocateInfo::default();
    let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().buffer(buffer);
    let mut info = vk::MemoryAllocateInfo::default()
        .allocation_size(req.size)
        .memory_type_index(ty)
        .push_next(&mut export);
    if dedicated_only(instance, gpu, usage) {
        info = info.push_next(&mut dedicated);
    }
    // SAFETY: `info` and its chain live until the call returns.
    let memory = check("vkAllocateMemory", unsafe {
        device.allocate_memory(&info, None)
    })?;
    objects.memories.push(memory);
    let fd_fns = ash::khr::external_memory_fd::Device::new(instance, &device);
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(MEMORY_HANDLE);
    // SAFETY: live memory of the device the table was loaded for.
    match unsafe { fd_fns.get_memory_fd(&get) } {
        Ok(raw) if raw >= 0 => {
            // SAFETY: a successful export returns a fresh fd that we own.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            println!(
                "cuda_interop --bug: the driver handed out fd {} anyway; not giving it to CUDA. Done.",
                fd.as_raw_fd()
            );
        }
        Ok(raw) => println!("cuda_interop --bug: vkGetMemoryFdKHR gave fd {raw}. Done."),
        Err(code) => println!("cuda_interop --bug: vkGetMemoryFdKHR failed with {code:?}. Done."),
    }
    Ok(())
}

/// The correct flow's Vulkan objects.
struct Flow {
    device: ash::Device,
    queue: vk::Queue,
    shared: vk::Buffer,
    shared_memory: vk::DeviceMemory,
    allocation_size: u64,
    dedicated: bool,
    readback: vk::Buffer,
    readback_memory: vk::DeviceMemory,
    /// Vulkan signals, CUDA waits; CUDA signals, Vulkan waits.
    to_cuda: vk::Semaphore,
    from_cuda: vk::Semaphore,
    fence: vk::Fence,
    cbs: Vec<vk::CommandBuffer>,
    memory_fd: ash::khr::external_memory_fd::Device,
    semaphore_fd: ash::khr::external_semaphore_fd::Device,
}

impl Flow {
    fn new(instance: &ash::Instance, gpu: &Gpu, objects: &mut Objects) -> Result<Flow, String> {
        let device = create_device(
            instance,
            gpu,
            objects,
            &[
                ash::khr::external_memory_fd::NAME.as_ptr(),
                ash::khr::external_semaphore_fd::NAME.as_ptr(),
            ],
        )?;
        // SAFETY: family 0, index 0 was created.
        let queue = unsafe { device.get_device_queue(0, 0) };
        let usage = vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST;
        let shared = create_buffer(&device, objects, usage, true)?;
        let mut ded_req = vk::MemoryDedicatedRequirements::default();
        let mut req2 = vk::MemoryRequirements2::default().push_next(&mut ded_req);
        let info = vk::BufferMemoryRequirementsInfo2::default().buffer(shared);
        // SAFETY: a live buffer; writable output chain.
        unsafe { device.get_buffer_memory_requirements2(&info, &mut req2) };
        let req = req2.memory_requirements;
        let dedicated = ded_req.requires_dedicated_allocation == vk::TRUE
            || ded_req.prefers_dedicated_allocation == vk::TRUE
            || dedicated_only(instance, gpu, usage);
        let ty = memory_type(
            gpu,
            req.memory_type_bits,
            vk::MemoryPropertyFlags::DEVICE_LOCAL,
        )
        .ok_or("no DEVICE_LOCAL memory type fits the shared buffer")?;
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(MEMORY_HANDLE);
        let mut ded = vk::MemoryDedicatedAllocateInfo::default().buffer(shared);
        let mut ai = vk::MemoryAllocateInfo::default()
            .allocation_size(req.size)
            .memory_type_index(ty)
            .push_next(&mut export);
        if dedicated {
            ai = ai.push_next(&mut ded);
        }
        // SAFETY: `ai` and its chain live until the call returns.
        let shared_memory = check("vkAllocateMemory (shared)", unsafe {
            device.allocate_memory(&ai, None)
        })?;
        objects.memories.push(shared_memory);
        // SAFETY: live objects of this device; the type fits; offset 0.
        check("vkBindBufferMemory (shared)", unsafe {
            device.bind_buffer_memory(shared, shared_memory, 0)
        })?;

        let readback = create_buffer(&device, objects, vk::BufferUsageFlags::TRANSFER_DST, false)?;
        // SAFETY: a live buffer.
        let rreq = unsafe { device.get_buffer_memory_requirements(readback) };
        let host = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
        let rty = memory_type(gpu, rreq.memory_type_bits, host)
            .ok_or("no HOST_VISIBLE | HOST_COHERENT memory type fits the readback buffer")?;
        let rai = vk::MemoryAllocateInfo::default()
            .allocation_size(rreq.size)
            .memory_type_index(rty);
        // SAFETY: a valid allocate info.
        let readback_memory = check("vkAllocateMemory (readback)", unsafe {
            device.allocate_memory(&rai, None)
        })?;
        objects.memories.push(readback_memory);
        // SAFETY: live objects; the type fits; offset 0.
        check("vkBindBufferMemory (readback)", unsafe {
            device.bind_buffer_memory(readback, readback_memory, 0)
        })?;

        let mut semaphores = Vec::new();
        for _ in 0..2 {
            let mut export =
                vk::ExportSemaphoreCreateInfo::default().handle_types(SEMAPHORE_HANDLE);
            let info = vk::SemaphoreCreateInfo::default().push_next(&mut export);
            // SAFETY: a valid create info.
            let s = check("vkCreateSemaphore", unsafe {
                device.create_semaphore(&info, None)
            })?;
            objects.semaphores.push(s);
            semaphores.push(s);
        }
        // SAFETY: a valid create info.
        let fence = check("vkCreateFence", unsafe {
            device.create_fence(&vk::FenceCreateInfo::default(), None)
        })?;
        objects.fence = fence;
        let pool_info = vk::CommandPoolCreateInfo::default().queue_family_index(0);
        // SAFETY: a valid create info.
        let pool = check("vkCreateCommandPool", unsafe {
            device.create_command_pool(&pool_info, None)
        })?;
        objects.pool = pool;
        let alloc = vk::CommandBufferAllocateInfo::default()
            .command_pool(pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(2);
        // SAFETY: a live pool of this device.
        let cbs = check("vkAllocateCommandBuffers", unsafe {
            device.allocate_command_buffers(&alloc)
        })?;
        Ok(Flow {
            memory_fd: ash::khr::external_memory_fd::Device::new(instance, &device),
            semaphore_fd: ash::khr::external_semaphore_fd::Device::new(instance, &device),
            device,
            queue,
            shared,
            shared_memory,
            allocation_size: req.size,
            dedicated,
            readback,
            readback_memory,
            to_cuda: semaphores[0],
            from_cuda: semaphores[1],
            fence,
            cbs,
        })
    }

    fn export_semaphore(&self, s: vk::Semaphore) -> Result<OwnedFd, String> {
        let info = vk::SemaphoreGetFdInfoKHR::default()
            .semaphore(s)
            .handle_type(SEMAPHORE_HANDLE);
        // SAFETY: a live exportable semaphore of this device.
        let raw = check("vkGetSemaphoreFdKHR", unsafe {
            self.semaphore_fd.get_semaphore_fd(&info)
        })?;
        // SAFETY: a successful export returns a fresh fd that we own.
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    }

    /// Zero-fills the shared buffer and releases it to EXTERNAL (submitted with the signal
    /// CUDA waits on).
    fn record_release(&self, cb: vk::CommandBuffer) -> Result<(), String> {
        let d = &self.device;
        let release = vk::BufferMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::empty())
            .src_queue_family_index(0)
            .dst_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
            .buffer(self.shared)
            .offset(0)
            .size(vk::WHOLE_SIZE);
        // SAFETY: a live command buffer of a family-0 pool, recorded once.
        unsafe {
            check(
                "vkBeginCommandBuffer",
                d.begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default()),
            )?;
            d.cmd_fill_buffer(cb, self.shared, 0, vk::WHOLE_SIZE, 0);
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::BOTTOM_OF_PIPE,
                vk::DependencyFlags::empty(),
                &[],
                &[release],
                &[],
            );
            check("vkEndCommandBuffer", d.end_command_buffer(cb))
        }
    }

    /// Acquires the shared buffer from EXTERNAL and copies it into the readback buffer.
    fn record_acquire(&self, cb: vk::CommandBuffer) -> Result<(), String> {
        let d = &self.device;
        let acquire = vk::BufferMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::empty())
            .dst_access_mask(vk::AccessFlags::TRANSFER_READ)
            .src_queue_family_index(vk::QUEUE_FAMILY_EXTERNAL)
            .dst_queue_family_index(0)
            .buffer(self.shared)
            .offset(0)
            .size(vk::WHOLE_SIZE);
        let to_host = vk::BufferMemoryBarrier::default()
            .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
            .dst_access_mask(vk::AccessFlags::HOST_READ)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .buffer(self.readback)
            .offset(0)
            .size(vk::WHOLE_SIZE);
        let region = vk::BufferCopy {
            src_offset: 0,
            dst_offset: 0,
            size: BYTES,
        };
        // SAFETY: a live command buffer of a family-0 pool, recorded once.
        unsafe {
            check(
                "vkBeginCommandBuffer",
                d.begin_command_buffer(cb, &vk::CommandBufferBeginInfo::default()),
            )?;
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TOP_OF_PIPE,
                vk::PipelineStageFlags::TRANSFER,
                vk::DependencyFlags::empty(),
                &[],
                &[acquire],
                &[],
            );
            d.cmd_copy_buffer(cb, self.shared, self.readback, &[region]);
            d.cmd_pipeline_barrier(
                cb,
                vk::PipelineStageFlags::TRANSFER,
                vk::PipelineStageFlags::HOST,
                vk::DependencyFlags::empty(),
                &[],
                &[to_host],
                &[],
            );
            check("vkEndCommandBuffer", d.end_command_buffer(cb))
        }
    }

    fn run(self, peer: &Peer, gpu: &Gpu) -> Result<(), String> {
        let get = vk::MemoryGetFdInfoKHR::default()
            .memory(self.shared_memory)
            .handle_type(MEMORY_HANDLE);
        // SAFETY: live memory allocated with OPAQUE_FD in VkExportMemoryAllocateInfo.
        let raw = check("vkGetMemoryFdKHR", unsafe {
            self.memory_fd.get_memory_fd(&get)
        })?;
        // SAFETY: a successful export returns a fresh fd that we own.
        let memory = unsafe { OwnedFd::from_raw_fd(raw) };
        let wait = self.export_semaphore(self.to_cuda)?;
        let signal = self.export_semaphore(self.from_cuda)?;
        println!(
            "cuda_interop: exported {} bytes ({}dedicated) as fd {}, semaphores as fds {} and {}; CUDA peer {}",
            self.allocation_size,
            if self.dedicated { "" } else { "not " },
            memory.as_raw_fd(),
            wait.as_raw_fd(),
            signal.as_raw_fd(),
            peer.path
        );

        self.record_release(self.cbs[0])?;
        self.record_acquire(self.cbs[1])?;
        let first = [self.cbs[0]];
        let to_cuda = [self.to_cuda];
        let submit = vk::SubmitInfo::default()
            .command_buffers(&first)
            .signal_semaphores(&to_cuda);
        // SAFETY: a live queue; the submit info points at locals alive for the call.
        check("vkQueueSubmit (release)", unsafe {
            self.device
                .queue_submit(self.queue, &[submit], vk::Fence::null())
        })?;

        let handover = Handover {
            memory,
            dedicated: self.dedicated,
            size: self.allocation_size,
            bytes: BYTES,
            wait,
            signal,
            device_uuid: gpu.device_uuid,
        };
        match peer.run(handover) {
            Ok(()) => {}
            Err(Failure::Absent(why)) => {
                println!("cuda_interop: needs a CUDA device with deviceUUID of {}: {why}; nothing to check.", gpu.name);
                return Ok(());
            }
            Err(Failure::Failed(why)) => return Err(format!("CUDA side: {why}")),
        }

        let second = [self.cbs[1]];
        let from_cuda = [self.from_cuda];
        let stages = [vk::PipelineStageFlags::TRANSFER];
        let submit = vk::SubmitInfo::default()
            .wait_semaphores(&from_cuda)
            .wait_dst_stage_mask(&stages)
            .command_buffers(&second);
        // SAFETY: as above; the fence is unsignaled and unused.
        check("vkQueueSubmit (acquire)", unsafe {
            self.device.queue_submit(self.queue, &[submit], self.fence)
        })?;
        // SAFETY: a live fence.
        check("vkWaitForFences", unsafe {
            self.device.wait_for_fences(&[self.fence], true, u64::MAX)
        })?;
        self.check_bytes()
    }

    fn check_bytes(&self) -> Result<(), String> {
        // SAFETY: HOST_VISIBLE memory, not mapped yet; the copy finished (fence).
        let p = check("vkMapMemory", unsafe {
            self.device
                .map_memory(self.readback_memory, 0, BYTES, vk::MemoryMapFlags::empty())
        })?;
        // SAFETY: the mapping covers BYTES bytes and stays mapped while read.
        let read = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), BYTES as usize) };
        let bad: Vec<usize> = (0..read.len())
            .filter(|&i| read[i] != cuda_peer::pattern(i as u64))
            .collect();
        let result = if bad.is_empty() {
            println!("cuda_interop: {} bytes matched", read.len());
            Ok(())
        } else {
            let i = bad[0];
            Err(format!(
                "{} of {} bytes differ; first at offset {i}: CUDA wrote {:#04x}, read {:#04x}",
                bad.len(),
                read.len(),
                cuda_peer::pattern(i as u64),
                read[i]
            ))
        };
        // SAFETY: mapped above.
        unsafe { self.device.unmap_memory(self.readback_memory) };
        result
    }
}

//! `image_handoff`: hand an image to a second process and take it back.
//!
//! The producer (this process) clears an image whose memory it allocated for export, then
//! releases the image to `VK_QUEUE_FAMILY_EXTERNAL` in `VK_IMAGE_LAYOUT_GENERAL` and signals a
//! semaphore. It starts a consumer (this program again, with `--child`) and sends it three
//! file descriptors over a unix socket (SCM_RIGHTS): the memory, the "ready" semaphore and
//! the "done" semaphore. The consumer imports them, waits for "ready", acquires the image
//! from `VK_QUEUE_FAMILY_EXTERNAL` (oldLayout GENERAL: that is the contract), copies it into a
//! buffer it can read, releases it back in GENERAL and signals "done". The producer then
//! acquires the image back.
//!
//! Bugs, each caught by VK_LAYER_HANDOFF_validation:
//! - `--bug-layout` (also `--bug`): the producer releases the image in
//!   `TRANSFER_SRC_OPTIMAL` instead of GENERAL. `HANDOFF-Handoff-layout-not-general`
//!   (a warning while the layer does not know who the consumer is, an error with
//!   `VK_HANDOFF_VALIDATION_PEER=other-api`); with a ledger
//!   (`VK_HANDOFF_VALIDATION_LEDGER_DIR`) the consumer's acquire is also reported as
//!   `HANDOFF-Ownership-acquire-layout-mismatch`.
//! - `--bug-semaphore`: the producer's release signals no semaphore (it waits for the queue on
//!   the CPU instead, so the program still works on most drivers):
//!   `HANDOFF-Sync-release-without-signal` with `VK_HANDOFF_VALIDATION_BEST_PRACTICES=true`.
//!
//! Drivers without external semaphores (lavapipe) run the same exchange with CPU waits only.
//! `--verify` makes the consumer fail unless it read the producer's colour (a driver that
//! executes nothing, like Handoff's mock, reads zeros).
//!
//! ```text
//! cargo build --release
//! target/release/handoff manifest --out /tmp/handoff
//! VK_ADD_LAYER_PATH=/tmp/handoff VK_INSTANCE_LAYERS=VK_LAYER_HANDOFF_validation \
//!     target/release/image_handoff --bug-layout
//! ```

use crate::common::{check, load_entry, messenger_create_info};
use ash::vk;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

const USAGE: &str = "\
usage: image_handoff [--bug | --bug-layout | --bug-semaphore] [--verify]

Hands an image (OPAQUE_FD memory) to a second process through VK_QUEUE_FAMILY_EXTERNAL and
takes it back. --bug-layout (or --bug) releases it in a layout other than GENERAL;
--bug-semaphore releases it without signalling a semaphore. --verify fails unless the
consumer reads the producer's colour.";

const HANDLE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
const SEMAPHORE_HANDLE: vk::ExternalSemaphoreHandleTypeFlags =
    vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD;
const FORMAT: vk::Format = vk::Format::R8G8B8A8_UNORM;
const SIDE: u32 = 64;
/// The colour the producer clears to, and its bytes in R8G8B8A8_UNORM. Each channel is
/// exactly byte/255: 0.5 lies halfway between two codes, and drivers round it either way
/// (lavapipe to 128, NVIDIA to 127).
const COLOUR: [f32; 4] = [1.0, 128.0 / 255.0, 64.0 / 255.0, 1.0];
const COLOUR_BYTES: [u8; 4] = [255, 128, 64, 255];
/// What the producer tells the consumer on its command line.
struct Child {
    size: u64,
    ty: u32,
    /// The "ready" and "done" semaphores come after the memory fd.
    semaphores: bool,
    /// The inherited end of the socket the fds arrive on.
    sock: RawFd,
}

#[derive(Clone, Copy, Default)]
struct Options {
    bug_layout: bool,
    bug_semaphore: bool,
    verify: bool,
}

/// Runs the example (see the module documentation); returns the exit code.
pub fn run(args: &[String]) -> i32 {
    let mut options = Options::default();
    let mut child: Option<Child> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bug" | "--bug-layout" => options.bug_layout = true,
            "--bug-semaphore" => options.bug_semaphore = true,
            "--verify" => options.verify = true,
            // Internal: the consumer side, started by the producer.
            "--child" => {
                let mut number = || it.next().and_then(|v| v.parse::<u64>().ok());
                match (number(), number(), number(), number()) {
                    (Some(size), Some(ty), Some(sems), Some(sock)) => {
                        child = Some(Child {
                            size,
                            ty: ty as u32,
                            semaphores: sems != 0,
                            sock: sock as RawFd,
                        })
                    }
                    _ => {
                        eprintln!("image_handoff: --child needs SIZE TYPE SEMAPHORES SOCKET");
                        return 2;
                    }
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return 0;
            }
            other => {
                eprintln!("image_handoff: unknown argument `{other}`\n{USAGE}");
                return 2;
            }
        }
    }
    let entry = match load_entry() {
        Ok(entry) => entry,
        Err(message) => {
            eprintln!("{message}");
            return 2;
        }
    };
    let (who, result) = match child {
        Some(c) => ("consumer", consumer(&entry, c, options)),
        None => ("producer", producer(&entry, options, args.len())),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("image_handoff ({who}): {message}");
            1
        }
    }
}

/// One process's Vulkan objects; dropping it waits for the device and destroys everything.
struct Gpu {
    instance: ash::Instance,
    messenger: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    physical_device: vk::PhysicalDevice,
    device: ash::Device,
    queue: vk::Queue,
    family: u32,
    pool: vk::CommandPool,
    memory_fd: ash::khr::external_memory_fd::Device,
    /// Present when the device can export and import OPAQUE_FD semaphores.
    semaphore_fd: Option<ash::khr::external_semaphore_fd::Device>,
    images: Vec<vk::Image>,
    buffers: Vec<vk::Buffer>,
    memories: Vec<vk::DeviceMemory>,
    semaphores: Vec<vk::Semaphore>,
}

impl Drop for Gpu {
    fn drop(&mut self) {
        // SAFETY: every handle was created from this device or instance and is destroyed
        // once, after the device is idle so none is in use.
        unsafe {
            let _ = self.device.device_wait_idle();
            self.device.destroy_command_pool(self.pool, None);
            for &s in &self.semaphores {
                self.device.destroy_semaphore(s, None);
            }
            for &b in &self.buffers {
                self.device.destroy_buffer(b, None);
            }
            for &i in &self.images {
                self.device.destroy_image(i, None);
            }
            for &m in &self.memories {
                self.device.free_memory(m, None);
            }
            self.device.destroy_device(None);
            if let Some((utils, messenger)) = self.messenger.take() {
                utils.destroy_debug_utils_messenger(messenger, None);
            }
            self.instance.destroy_instance(None);
        }
    }
}

impl Gpu {
    fn new(entry: &ash::Entry, name: &std::ffi::CStr) -> Result<Gpu, String> {
        // SAFETY: plain query.
        let available = check("vkEnumerateInstanceExtensionProperties", unsafe {
            entry.enumerate_instance_extension_properties(None)
        })?;
        let debug_utils = available
            .iter()
            .any(|e| e.extension_name_as_c_str().ok() == Some(ash::ext::debug_utils::NAME));
        let extensions: Vec<_> = if debug_utils {
            vec![ash::ext::debug_utils::NAME.as_ptr()]
        } else {
            Vec::new()
        };
        // Vulkan 1.1 has the external memory and semaphore capability queries in core.
        let app = vk::ApplicationInfo::default()
            .application_name(name)
            .api_version(vk::API_VERSION_1_1);
        let mut chained = messenger_create_info();
        let mut info = vk::InstanceCreateInfo::default()
            .application_info(&app)
            .enabled_extension_names(&extensions);
        if debug_utils {
            info = info.push_next(&mut chained);
        }
        // SAFETY: `info` and what it points to live until the call returns.
        let instance = check("vkCreateInstance", unsafe {
            entry.create_instance(&info, None)
        })?;
        let mut messenger = None;
        if debug_utils {
            let utils = ash::ext::debug_utils::Instance::new(entry, &instance);
            // SAFETY: a valid create info with a plain callback.
            match unsafe { utils.create_debug_utils_messenger(&messenger_create_info(), None) } {
                Ok(m) => messenger = Some((utils, m)),
                Err(code) => {
                    // SAFETY: nothing else was created from the instance.
                    unsafe { instance.destroy_instance(None) };
                    return Err(format!("vkCreateDebugUtilsMessengerEXT failed: {code:?}"));
                }
            }
        }
        let picked = pick_device(&instance);
        let (physical_device, semaphores) = match picked {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: the messenger and instance are ours and unused.
                unsafe {
                    if let Some((utils, m)) = messenger.take() {
                        utils.destroy_debug_utils_messenger(m, None);
                    }
                    instance.destroy_instance(None);
                }
                return Err(e);
            }
        };
        let mut names = vec![
            ash::khr::external_memory::NAME.as_ptr(),
            ash::khr::external_memory_fd::NAME.as_ptr(),
        ];
        if semaphores {
            names.push(ash::khr::external_semaphore::NAME.as_ptr());
            names.push(ash::khr::external_semaphore_fd::NAME.as_ptr());
        }
        let priorities = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(0)
            .queue_priorities(&priorities)];
        let device_info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(&names);
        // SAFETY: `device_info` and its arrays live until the call returns.
        let device = match unsafe { instance.create_device(physical_device, &device_info, None) } {
            Ok(d) => d,
            Err(code) => {
                // SAFETY: as above.
                unsafe {
                    if let Some((utils, m)) = messenger.take() {
                        utils.destroy_debug_utils_messenger(m, None);
                    }
                    instance.destroy_instance(None);
                }
                return Err(format!("vkCreateDevice failed: {code:?}"));
            }
        };
        // SAFETY: family 0, queue 0 was requested above.
        let queue = unsafe { device.get_device_queue(0, 0) };
        let pool_info = vk::CommandPoolCreateInfo::default().queue_family_index(0);
        // SAFETY: a valid create info.
        let pool = unsafe { device.create_command_pool(&pool_info, None) }.unwrap_or_default();
        let memory_fd = ash::khr::external_memory_fd::Device::new(&instance, &device);
        let semaphore_fd =
            semaphores.then(|| ash::khr::external_semaphore_fd::Device::new(&instance, &device));
        let gpu = Gpu {
            instance,
            messenger,
            physical_device,
            device,
            queue,
            family: 0,
            pool,
            memory_fd,
            semaphore_fd,
            images: Vec::new(),
            buffers: Vec::new(),
            memories: Vec::new(),
            semaphores: Vec::new(),
        };
        if pool == vk::CommandPool::null() {
            return Err("vkCreateCommandPool failed".into());
        }
        Ok(gpu)
    }

    /// The shared image, declared for OPAQUE_FD memory at creation.
    fn external_image(&mut self) -> Result<vk::Image, String> {
        let mut external = vk::ExternalMemoryImageCreateInfo::default().handle_types(HANDLE);
        let info = vk::ImageCreateInfo::default()
            .image_type(vk::ImageType::TYPE_2D)
            .format(FORMAT)
            .extent(vk::Extent3D {
                width: SIDE,
                height: SIDE,
                depth: 1,
            })
            .mip_levels(1)
            .array_layers(1)
            .samples(vk::SampleCountFlags::TYPE_1)
            .tiling(vk::ImageTiling::OPTIMAL)
            .usage(vk::ImageUsageFlags::TRANSFER_SRC | vk::ImageUsageFlags::TRANSFER_DST)
            .sharing_mode(vk::SharingMode::EXCLUSIVE)
            .initial_layout(vk::ImageLayout::UNDEFINED)
            .push_next(&mut external);
        // SAFETY: `info` and its chain live until the call returns.
        let image = check("vkCreateImage", unsafe {
            self.device.create_image(&info, None)
        })?;
        self.images.push(image);
        Ok(image)
    }

    fn memory_type(&self, allowed: u32, wanted: vk::MemoryPropertyFlags) -> Option<u32> {
        // SAFETY: plain query.
        let props = unsafe {
            self.instance
                .get_physical_device_memory_properties(self.physical_device)
        };
        let count = (props.memory_type_count as usize).min(props.memory_types.len());
        (0..count)
            .find(|&i| {
                allowed & (1 << i) != 0 && props.memory_types[i].property_flags.contains(wanted)
            })
            .map(|i| i as u32)
    }

    /// Allocates the image's dedicated memory, exported (`import` = None) or imported from
    /// `import` = (fd, size, memory type), and binds it.
    fn bind_image_memory(
        &mut self,
        image: vk::Image,
        import: Option<(OwnedFd, u64, u32)>,
    ) -> Result<(vk::DeviceMemory, u64, u32), String> {
        // SAFETY: a live image of this device.
        let req = unsafe { self.device.get_image_memory_requirements(image) };
        let mut dedicated = vk::MemoryDedicatedAllocateInfo::default().image(image);
        let mut export = vk::ExportMemoryAllocateInfo::default().handle_types(HANDLE);
        let raw_fd = import.as_ref().map_or(-1, |(fd, _, _)| fd.as_raw_fd());
        let mut import_info = vk::ImportMemoryFdInfoKHR::default()
            .handle_type(HANDLE)
            .fd(raw_fd);
        let (size, ty) = match &import {
            // An OPAQUE_FD import repeats the exporter's size and memory type.
            Some((_, size, ty)) => (*size, *ty),
            None => {
                let ty = self
                    .memory_type(req.memory_type_bits, vk::MemoryPropertyFlags::DEVICE_LOCAL)
                    .or_else(|| {
                        self.memory_type(req.memory_type_bits, vk::MemoryPropertyFlags::empty())
                    })
                    .ok_or("no memory type fits the image")?;
                (req.size, ty)
            }
        };
        let mut info = vk::MemoryAllocateInfo::default()
            .allocation_size(size)
            .memory_type_index(ty)
            .push_next(&mut dedicated);
        info = if import.is_some() {
            info.push_next(&mut import_info)
        } else {
            info.push_next(&mut export)
        };
        // SAFETY: `info` and its chain live until the call returns; the fd is open.
        let memory = check("vkAllocateMemory", unsafe {
            self.device.allocate_memory(&info, None)
        })?;
        if let Some((fd, _, _)) = import {
            // A successful import owns the fd now.
            let _ = fd.into_raw_fd();
        }
        self.memories.push(memory);
        // SAFETY: live image and memory of this device; dedicated, offset 0.
        check("vkBindImageMemory", unsafe {
            self.device.bind_image_memory(image, memory, 0)
        })?;
        Ok((memory, size, ty))
    }

    fn semaphore(&mut self, exportable: bool) -> Result<vk::Semaphore, String> {
        let mut export = vk::ExportSemaphoreCreateInfo::default().handle_types(SEMAPHORE_HANDLE);
        let mut info = vk::SemaphoreCreateInfo::default();
        if exportable {
            info = info.push_next(&mut export);
        }
        // SAFETY: `info` and its chain live until the call returns.
        let s = check("vkCreateSemaphore", unsafe {
            self.device.create_semaphore(&info, None)
        })?;
        self.semaphores.push(s);
        Ok(s)
    }

    fn record(
        &self,
        what: impl FnOnce(&ash::Device, vk::CommandBuffer),
    ) -> Result<vk::CommandBuffer, String> {
        let info = vk::CommandBufferAllocateInfo::default()
            .command_pool(self.pool)
            .level(vk::CommandBufferLevel::PRIMARY)
            .command_buffer_count(1);
        // SAFETY: a live pool of this device.
        let cb = check("vkAllocateCommandBuffers", unsafe {
            self.device.allocate_command_buffers(&info)
        })?[0];
        let begin = vk::CommandBufferBeginInfo::default()
            .flags(vk::CommandBufferUsageFlags::ONE_TIME_SUBMIT);
        // SAFETY: a new command buffer in the initial state.
        check("vkBeginCommandBuffer", unsafe {
            self.device.begin_command_buffer(cb, &begin)
        })?;
        what(&self.device, cb);
        // SAFETY: the command buffer is recording.
        check("vkEndCommandBuffer", unsafe {
            self.device.end_command_buffer(cb)
        })?;
        Ok(cb)
    }

    fn submit(
        &self,
        cb: vk::CommandBuffer,
        wait: Option<vk::Semaphore>,
        signal: Option<vk::Semaphore>,
    ) -> Result<(), String> {
        let cbs = [cb];
        let waits: Vec<_> = wait.into_iter().collect();
        let stages = vec![vk::PipelineStageFlags::TRANSFER; waits.len()];
        let signals: Vec<_> = signal.into_iter().collect();
        let submit = vk::SubmitInfo::default()
            .command_buffers(&cbs)
            .wait_semaphores(&waits)
            .wait_dst_stage_mask(&stages)
            .signal_semaphores(&signals);
        // SAFETY: the arrays live until the call returns; the command buffer is executable.
        check("vkQueueSubmit", unsafe {
            self.device
                .queue_submit(self.queue, &[submit], vk::Fence::null())
        })
    }
}

/// The first physical device that exports and imports OPAQUE_FD images, and whether it also
/// exports and imports OPAQUE_FD semaphores.
fn pick_device(instance: &ash::Instance) -> Result<(vk::PhysicalDevice, bool), String> {
    // SAFETY: plain query.
    let devices = check("vkEnumeratePhysicalDevices", unsafe {
        instance.enumerate_physical_devices()
    })?;
    for pd in devices {
        // SAFETY: a physical device of this instance.
        let exts =
            unsafe { instance.enumerate_device_extension_properties(pd) }.unwrap_or_default();
        let has = |n: &std::ffi::CStr| {
            exts.iter()
                .any(|e| e.extension_name_as_c_str().ok() == Some(n))
        };
        if !has(ash::khr::external_memory_fd::NAME) {
            continue;
        }
        let semaphores = has(ash::khr::external_semaphore_fd::NAME) && {
            let info =
                vk::PhysicalDeviceExternalSemaphoreInfo::default().handle_type(SEMAPHORE_HANDLE);
            let mut props = vk::ExternalSemaphoreProperties::default();
            // SAFETY: valid input and output structs.
            unsafe {
                instance.get_physical_device_external_semaphore_properties(pd, &info, &mut props)
            };
            props.external_semaphore_features.contains(
                vk::ExternalSemaphoreFeatureFlags::EXPORTABLE
                    | vk::ExternalSemaphoreFeatureFlags::IMPORTABLE,
            )
        };
        return Ok((pd, semaphores));
    }
    Err("no physical device supports VK_KHR_external_memory_fd".into())
}

fn whole_image() -> vk::ImageSubresourceRange {
    vk::ImageSubresourceRange::default()
        .aspect_mask(vk::ImageAspectFlags::COLOR)
        .level_count(1)
        .layer_count(1)
}

/// An image barrier between `src` and `dst` families (equal: no ownership transfer).
fn image_barrier(
    image: vk::Image,
    (src, dst): (u32, u32),
    (old, new): (vk::ImageLayout, vk::ImageLayout),
) -> vk::ImageMemoryBarrier<'static> {
    vk::ImageMemoryBarrier::default()
        .src_access_mask(vk::AccessFlags::TRANSFER_WRITE)
        .dst_access_mask(vk::AccessFlags::TRANSFER_READ)
        .src_queue_family_index(src)
        .dst_queue_family_index(dst)
        .old_layout(old)
        .new_layout(new)
        .image(image)
        .subresource_range(whole_image())
}

fn barrier(device: &ash::Device, cb: vk::CommandBuffer, b: vk::ImageMemoryBarrier<'_>) {
    // SAFETY: a recording command buffer and a barrier on a live image.
    unsafe {
        device.cmd_pipeline_barrier(
            cb,
            vk::PipelineStageFlags::TRANSFER,
            vk::PipelineStageFlags::TRANSFER,
            vk::DependencyFlags::empty(),
            &[],
            &[],
            &[b],
        )
    }
}

fn export_semaphore(gpu: &Gpu, s: vk::Semaphore) -> Result<OwnedFd, String> {
    let fns = gpu.semaphore_fd.as_ref().ok_or("no semaphore export")?;
    let info = vk::SemaphoreGetFdInfoKHR::default()
        .semaphore(s)
        .handle_type(SEMAPHORE_HANDLE);
    // SAFETY: a live exportable semaphore of this device.
    let raw = check("vkGetSemaphoreFdKHR", unsafe {
        fns.get_semaphore_fd(&info)
    })?;
    // SAFETY: a fresh fd the application owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// `own_args`: how many of this process's arguments are the example's (the rest, before
/// them, start the example: nothing for `image_handoff`, `example image_handoff` for
/// `handoff example image_handoff`), so the consumer is started the same way.
fn producer(entry: &ash::Entry, options: Options, own_args: usize) -> Result<(), String> {
    let mut gpu = Gpu::new(entry, c"handoff image_handoff producer")?;
    let family = gpu.family;
    let image = gpu.external_image()?;
    let (memory, size, ty) = gpu.bind_image_memory(image, None)?;
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(HANDLE);
    // SAFETY: live exportable memory of this device.
    let raw = check("vkGetMemoryFdKHR", unsafe {
        gpu.memory_fd.get_memory_fd(&get)
    })?;
    // SAFETY: a fresh fd the application owns.
    let memory_fd = unsafe { OwnedFd::from_raw_fd(raw) };

    let semaphores = gpu.semaphore_fd.is_some();
    let (ready, done) = if semaphores {
        (Some(gpu.semaphore(true)?), Some(gpu.semaphore(true)?))
    } else {
        println!(
            "image_handoff: the device has no OPAQUE_FD semaphores; the processes wait on the CPU"
        );
        (None, None)
    };
    let ready_fd = ready.map(|s| export_semaphore(&gpu, s)).transpose()?;
    let done_fd = done.map(|s| export_semaphore(&gpu, s)).transpose()?;

    let released_layout = if options.bug_layout {
        println!(
            "image_handoff --bug-layout: releasing the image in TRANSFER_SRC_OPTIMAL, not GENERAL"
        );
        vk::ImageLayout::TRANSFER_SRC_OPTIMAL
    } else {
        vk::ImageLayout::GENERAL
    };
    let cb = gpu.record(|d, cb| {
        let ignored = vk::QUEUE_FAMILY_IGNORED;
        barrier(
            d,
            cb,
            image_barrier(
                image,
                (ignored, ignored),
                (
                    vk::ImageLayout::UNDEFINED,
                    vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                ),
            ),
        );
        let colour = vk::ClearColorValue { float32: COLOUR };
        // SAFETY: recording; the image is in TRANSFER_DST_OPTIMAL.
        unsafe {
            d.cmd_clear_color_image(
                cb,
                image,
                vk::ImageLayout::TRANSFER_DST_OPTIMAL,
                &colour,
                &[whole_image()],
            )
        };
        // The release: ownership goes to whoever is outside this Vulkan instance, in the
        // layout a consumer that is not this device expects (GENERAL).
        barrier(
            d,
            cb,
            image_barrier(
                image,
                (family, vk::QUEUE_FAMILY_EXTERNAL),
                (vk::ImageLayout::TRANSFER_DST_OPTIMAL, released_layout),
            ),
        );
    })?;
    let signal = if options.bug_semaphore {
        println!("image_handoff --bug-semaphore: the release signals no semaphore");
        None
    } else {
        ready
    };
    gpu.submit(cb, None, signal)?;
    if signal.is_none() {
        // Without a semaphore the consumer has no way to wait on the GPU: wait here.
        // SAFETY: a live queue.
        check("vkQueueWaitIdle", unsafe {
            gpu.device.queue_wait_idle(gpu.queue)
        })?;
    }

    // The consumer: this program again. It gets the descriptors the way unrelated processes
    // pass them, over a unix socket (SCM_RIGHTS); only the socket is inherited.
    let (ours, theirs) =
        std::os::unix::net::UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    // SAFETY: fcntl on a socket we own; clearing FD_CLOEXEC lets the child inherit it.
    if unsafe { libc::fcntl(theirs.as_raw_fd(), libc::F_SETFD, 0) } != 0 {
        return Err(format!("fcntl: {}", std::io::Error::last_os_error()));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut command = std::process::Command::new(exe);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    command.args(&argv[..argv.len().saturating_sub(own_args)]);
    let send_semaphores = semaphores && !options.bug_semaphore;
    command.args([
        "--child",
        &size.to_string(),
        &ty.to_string(),
        if send_semaphores { "1" } else { "0" },
        &theirs.as_raw_fd().to_string(),
    ]);
    if options.verify {
        command.arg("--verify");
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("starting the consumer: {e}"))?;
    drop(theirs);
    let mut fds = vec![memory_fd.as_raw_fd()];
    if send_semaphores {
        fds.extend(ready_fd.as_ref().map(|f| f.as_raw_fd()));
        fds.extend(done_fd.as_ref().map(|f| f.as_raw_fd()));
    }
    let sent = send_fds(&ours, &fds);
    // The consumer has its own references now; ours are closed here.
    drop((memory_fd, ready_fd, done_fd));
    if let Err(e) = sent {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the consumer: {e}"))?;
    if !status.success() {
        return Err(format!("the consumer failed ({status})"));
    }

    // Take the image back: acquire from EXTERNAL in the layout the consumer released it in.
    let cb = gpu.record(|d, cb| {
        barrier(
            d,
            cb,
            image_barrier(
                image,
                (vk::QUEUE_FAMILY_EXTERNAL, family),
                (
                    vk::ImageLayout::GENERAL,
                    vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                ),
            ),
        );
    })?;
    let wait = if options.bug_semaphore { None } else { done };
    gpu.submit(cb, wait, None)?;
    // SAFETY: a live queue.
    check("vkQueueWaitIdle", unsafe {
        gpu.device.queue_wait_idle(gpu.queue)
    })?;
    println!("image_handoff: the image went to the consumer and came back");
    Ok(())
}

fn consumer(entry: &ash::Entry, child: Child, options: Options) -> Result<(), String> {
    let Child {
        size,
        ty,
        semaphores,
        sock,
    } = child;
    // SAFETY: the producer passed this socket to us across exec; nothing else owns it.
    let sock = unsafe { std::os::unix::net::UnixStream::from_raw_fd(sock) };
    let mut fds = recv_fds(&sock, if semaphores { 3 } else { 1 })?.into_iter();
    let memory_fd = fds.next().ok_or("no memory fd received")?;
    let (ready_fd, done_fd) = (fds.next(), fds.next());
    let mut gpu = Gpu::new(entry, c"handoff image_handoff consumer")?;
    let family = gpu.family;
    let image = gpu.external_image()?;
    gpu.bind_image_memory(image, Some((memory_fd, size, ty)))?;

    let mut import = |fd: Option<OwnedFd>| -> Result<Option<vk::Semaphore>, String> {
        let Some(fd) = fd else { return Ok(None) };
        let s = gpu.semaphore(false)?;
        let fns = gpu.semaphore_fd.as_ref().ok_or("no semaphore import")?;
        let info = vk::ImportSemaphoreFdInfoKHR::default()
            .semaphore(s)
            .handle_type(SEMAPHORE_HANDLE)
            .fd(fd.as_raw_fd());
        // SAFETY: a live semaphore of this device and an open fd.
        check("vkImportSemaphoreFdKHR", unsafe {
            fns.import_semaphore_fd(&info)
        })?;
        // The import owns the fd now.
        let _ = fd.into_raw_fd();
        Ok(Some(s))
    };
    let ready = import(ready_fd)?;
    let done = import(done_fd)?;

    // A host-visible buffer to read the pixels into.
    let bytes = u64::from(SIDE * SIDE * 4);
    let info = vk::BufferCreateInfo::default()
        .size(bytes)
        .usage(vk::BufferUsageFlags::TRANSFER_DST)
        .sharing_mode(vk::SharingMode::EXCLUSIVE);
    // SAFETY: a valid create info.
    let buffer = check("vkCreateBuffer", unsafe {
        gpu.device.create_buffer(&info, None)
    })?;
    gpu.buffers.push(buffer);
    // SAFETY: a live buffer.
    let req = unsafe { gpu.device.get_buffer_memory_requirements(buffer) };
    let host = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
    let ty = gpu
        .memory_type(req.memory_type_bits, host)
        .ok_or("no host-visible memory type")?;
    let alloc = vk::MemoryAllocateInfo::default()
        .allocation_size(req.size)
        .memory_type_index(ty);
    // SAFETY: a valid allocate info.
    let staging = check("vkAllocateMemory", unsafe {
        gpu.device.allocate_memory(&alloc, None)
    })?;
    gpu.memories.push(staging);
    // SAFETY: live buffer and memory, offset 0.
    check("vkBindBufferMemory", unsafe {
        gpu.device.bind_buffer_memory(buffer, staging, 0)
    })?;

    let cb = gpu.record(|d, cb| {
        // Acquire: the producer promised GENERAL.
        barrier(
            d,
            cb,
            image_barrier(
                image,
                (vk::QUEUE_FAMILY_EXTERNAL, family),
                (
                    vk::ImageLayout::GENERAL,
                    vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                ),
            ),
        );
        let region = vk::BufferImageCopy::default()
            .image_subresource(
                vk::ImageSubresourceLayers::default()
                    .aspect_mask(vk::ImageAspectFlags::COLOR)
                    .layer_count(1),
            )
            .image_extent(vk::Extent3D {
                width: SIDE,
                height: SIDE,
                depth: 1,
            });
        // SAFETY: recording; the image is in TRANSFER_SRC_OPTIMAL, the buffer is large enough.
        unsafe {
            d.cmd_copy_image_to_buffer(
                cb,
                image,
                vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                buffer,
                &[region],
            )
        };
        // Give it back the way we got it.
        barrier(
            d,
            cb,
            image_barrier(
                image,
                (family, vk::QUEUE_FAMILY_EXTERNAL),
                (
                    vk::ImageLayout::TRANSFER_SRC_OPTIMAL,
                    vk::ImageLayout::GENERAL,
                ),
            ),
        );
    })?;
    gpu.submit(cb, ready, done)?;
    // SAFETY: a live queue.
    check("vkQueueWaitIdle", unsafe {
        gpu.device.queue_wait_idle(gpu.queue)
    })?;
    // SAFETY: host-visible memory, not mapped yet.
    let p = check("vkMapMemory", unsafe {
        gpu.device
            .map_memory(staging, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty())
    })?;
    // SAFETY: the mapping covers at least 4 bytes; the queue is idle.
    let first: [u8; 4] = unsafe { std::ptr::read_unaligned(p.cast::<[u8; 4]>()) };
    // SAFETY: mapped above.
    unsafe { gpu.device.unmap_memory(staging) };
    if first == COLOUR_BYTES {
        println!("image_handoff: the consumer read the producer's colour {first:?}");
    } else if options.verify {
        return Err(format!("read {first:?}, expected {COLOUR_BYTES:?}"));
    } else {
        println!("image_handoff: the consumer read {first:?} (a driver that executes nothing reads zeros)");
    }
    Ok(())
}

/// Sends `fds` in one message over a unix socket (SCM_RIGHTS): the receiver gets its own
/// references to the same open files.
fn send_fds(sock: &std::os::unix::net::UnixStream, fds: &[RawFd]) -> Result<(), String> {
    let bytes = std::mem::size_of_val(fds) as u32;
    // SAFETY: sendmsg with a control buffer sized by CMSG_SPACE for `fds`; every pointer is
    // to a local that outlives the call, and the CMSG macros stay within that buffer.
    unsafe {
        let payload = [b'f'];
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        };
        let mut control = vec![0u8; libc::CMSG_SPACE(bytes) as usize];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(bytes) as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast(), fds.len());
        if libc::sendmsg(sock.as_raw_fd(), &msg, 0) < 0 {
            return Err(format!("sendmsg: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Receives up to `max` fds sent by [`send_fds`].
fn recv_fds(sock: &std::os::unix::net::UnixStream, max: usize) -> Result<Vec<OwnedFd>, String> {
    let bytes = (max * std::mem::size_of::<RawFd>()) as u32;
    // SAFETY: recvmsg into locals sized as declared; the control data is read through the
    // CMSG macros within the length the kernel reports, and each received fd is new and
    // owned by nobody else.
    unsafe {
        let mut payload = [0u8; 1];
        let mut iov = libc::iovec {
            iov_base: payload.as_mut_ptr().cast(),
            iov_len: payload.len(),
        };
        let mut control = vec![0u8; libc::CMSG_SPACE(bytes) as usize];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
        if libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) < 0 {
            return Err(format!("recvmsg: {}", std::io::Error::last_os_error()));
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null()
            || (*cmsg).cmsg_level != libc::SOL_SOCKET
            || (*cmsg).cmsg_type != libc::SCM_RIGHTS
        {
            return Err("recvmsg: no descriptors received".into());
        }
        let data_len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
        let n = (data_len / std::mem::size_of::<RawFd>()).min(max);
        let mut raw = vec![-1 as RawFd; n];
        std::ptr::copy_nonoverlapping(libc::CMSG_DATA(cmsg).cast(), raw.as_mut_ptr(), n);
        Ok(raw.into_iter().map(|fd| OwnedFd::from_raw_fd(fd)).collect())
    }
}

//! `hostile --cases FILE`: hostile `pNext` chains through the real entry points (issue 7).
//!
//! Each [`Case`] is built into a real C chain: every struct of the head is its own mapping that
//! ends at an inaccessible page, so a read past the struct (an unknown `sType` read as if it
//! were known) or past an array's count faults at once instead of going unseen. A long tail
//! of unknown structs, a link back into the chain (a cycle) and counts that do not match
//! their arrays come on top. The cases run one after another on one instance and device;
//! the result lists, per case, the call's result and the Handoff ids it produced.
//!
//! The fuzz target (`fuzz/fuzz_targets/chains.rs`) decodes its bytes with [`Case::decode`]
//! and runs them through the same [`Runner`].

use std::ffi::c_void;

use ash::vk;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::args::Args;
use super::ctx::{Ctx, Dev, InstanceOpts};
use super::{record, ScenarioResult};

/// Which entry point a case feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// vkCreateInstance (the chain follows a chained debug messenger).
    Instance,
    /// vkCreateDevice.
    Device,
    /// vkAllocateMemory.
    Allocate,
    /// vkCreateBuffer.
    Buffer,
    /// vkCreateImage.
    Image,
    /// vkCreateSemaphore.
    Semaphore,
    /// vkQueueSubmit: a timeline info whose value counts need not match (binary semaphores,
    /// so any count is valid) plus the chain.
    Submit,
    /// vkGetPhysicalDeviceExternalBufferProperties.
    BufferQuery,
    /// vkGetPhysicalDeviceImageFormatProperties2 with an external image format info.
    ImageQuery,
    /// vkCreateFence.
    Fence,
    /// vkCmdPipelineBarrier: the chain on one image and one buffer memory barrier (a layout
    /// transition on a bound image, no ownership transfer); the layer reads only the
    /// acquire-unmodified struct it finds, and stays silent.
    Barrier,
    /// vkQueueSubmit2KHR: the chain on each `VkSubmitInfo2`; `counts` are the wait and signal
    /// semaphore infos and the command buffer infos of the batches (fenced arrays of exactly
    /// that length), bit 0 of `counts[3]` puts the chain on those nested structs too.
    Submit2,
    /// vkCmdPipelineBarrier2KHR on an external image and buffer (so the layer looks for
    /// `VkExternalMemoryAcquireUnmodifiedEXT` in every barrier's chain): `counts` are the
    /// buffer, image and memory barriers; bit 0 of `counts[3]` chains the memory barriers,
    /// bit 1 the `VkDependencyInfo`.
    Barrier2,
    /// vkImportSemaphoreFdKHR of an OPAQUE_FD just exported from another semaphore, the chain
    /// on `VkImportSemaphoreFdInfoKHR`; bit 0 of `counts[0]` makes it temporary. Needs
    /// VK_KHR_external_semaphore_fd (mock profile `full`).
    ImportSemaphore,
    /// vkImportFenceFdKHR, as [`Target::ImportSemaphore`] (VK_KHR_external_fence_fd).
    ImportFence,
}

impl Target {
    /// Appended to, never reordered: the fuzz seeds name targets by index.
    pub const ALL: [Target; 15] = [
        Target::Instance,
        Target::Device,
        Target::Allocate,
        Target::Buffer,
        Target::Image,
        Target::Semaphore,
        Target::Submit,
        Target::BufferQuery,
        Target::ImageQuery,
        Target::Fence,
        Target::Barrier,
        Target::Submit2,
        Target::Barrier2,
        Target::ImportSemaphore,
        Target::ImportFence,
    ];

    /// The targets of the fuzz targets `submit`, `barrier2` and `sync`.
    pub const SUBMIT: [Target; 2] = [Target::Submit, Target::Submit2];
    pub const BARRIER: [Target; 2] = [Target::Barrier, Target::Barrier2];
    pub const SYNC: [Target; 4] = [
        Target::Semaphore,
        Target::Fence,
        Target::ImportSemaphore,
        Target::ImportFence,
    ];

    /// Whether the call needs VK_KHR_external_{semaphore,fence}_fd, which lavapipe (Mesa
    /// 22.3) and the mock's `lavapipe` profile do not offer: there the case is not called
    /// and its result is `VK_ERROR_EXTENSION_NOT_PRESENT`.
    pub fn needs_sync_fd(self) -> bool {
        matches!(self, Target::ImportSemaphore | Target::ImportFence)
    }

    /// Whether the loader itself walks the chain (vkCreateInstance, vkCreateDevice): a cycle
    /// there hangs the loader before any layer runs, so cases for these never loop.
    pub fn loader_walks(self) -> bool {
        matches!(self, Target::Instance | Target::Device)
    }

    /// How many benign known structs [`Link::Known`] picks from.
    fn known_kinds(self) -> u8 {
        match self {
            Target::Instance | Target::BufferQuery | Target::Barrier => 0,
            Target::Submit2 | Target::ImportSemaphore | Target::ImportFence => 0,
            Target::Device | Target::Buffer | Target::Fence | Target::Barrier2 => 1,
            Target::Allocate => 3,
            Target::Image | Target::ImageQuery | Target::Semaphore => 2,
            Target::Submit => 1,
        }
    }
}

/// One struct of the chain's head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Link {
    /// A struct no layer knows: only `sType` and `pNext`, `sType` = 1000999000 + n.
    Unknown(u16),
    /// A benign struct the entry point reads (index into the target's list, modulo its
    /// length; an unknown struct for targets without one). `count` sizes the arrays it has.
    Known { kind: u8, count: u8 },
}

/// One hostile chain and the call it goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub target: Target,
    pub links: Vec<Link>,
    /// Unknown structs after `links`, in one allocation (for 100k-link chains).
    pub tail: u32,
    /// The last struct's `pNext` points back to this index (modulo the length): a cycle.
    pub loop_to: Option<u32>,
    /// Submit: wait semaphores, wait values, signal semaphores, signal values (each 0..=3;
    /// the value arrays hold exactly their counts).
    pub counts: [u8; 4],
}

impl Case {
    /// Distinct structs in the chain.
    pub fn len(&self) -> usize {
        self.links.len() + self.tail as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the chain loops (for targets the loader walks, never).
    pub fn cyclic(&self) -> bool {
        self.loop_to.is_some() && !self.is_empty() && !self.target.loader_walks()
    }

    /// Whether the layer's walk ends early: a cycle or more than the walker's limit. The
    /// vkQueueSubmit walk starts at the timeline info in front of the chain.
    pub fn malformed(&self) -> bool {
        let ahead = usize::from(self.target == Target::Submit);
        self.cyclic() || self.len() + ahead > LAYER_MAX_CHAIN_LINKS
    }

    /// How many `HANDOFF-Chain-malformed` the layer reports for this case today: one per
    /// walk that ends early and reports it. vkQueueSubmit walks each batch's chain (both
    /// carry it) only when the submission uses a semaphore or a fence; the barrier path's
    /// look for the acquire-unmodified struct and the import calls report nothing. The
    /// ignored tests `malformed_*` in `tests/tests/chains.rs` name the gaps.
    pub fn malformed_reports(&self) -> usize {
        if !self.malformed() {
            return 0;
        }
        match self.target {
            // Both batches' chains are walked before the driver sees them.
            Target::Submit => 2,
            // Every buffer and image barrier is of an external resource, so the layer walks
            // each one's chain looking for VkExternalMemoryAcquireUnmodifiedEXT.
            Target::Barrier2 => usize::from(self.counts[0]) + usize::from(self.counts[1]),
            Target::Barrier | Target::Submit2 | Target::ImportSemaphore | Target::ImportFence => 0,
            _ => 1,
        }
    }

    /// A case from fuzz bytes; `None` when they run out.
    pub fn decode(data: &mut &[u8]) -> Option<Case> {
        Case::decode_with(data, |b| {
            *Target::ALL
                .get(b % 16)
                .unwrap_or(&Target::ALL[b % Target::ALL.len()])
        })
    }

    /// A case for one of `targets` (not empty) from fuzz bytes; `None` when they run out.
    pub fn decode_among(data: &mut &[u8], targets: &[Target]) -> Option<Case> {
        Case::decode_with(data, |b| targets[b % targets.len()])
    }

    fn decode_with(data: &mut &[u8], pick: impl Fn(usize) -> Target) -> Option<Case> {
        let mut byte = || -> Option<u8> {
            let (b, rest) = data.split_first()?;
            *data = rest;
            Some(*b)
        };
        let target = pick(byte()? as usize);
        let n = byte()? % 12;
        let mut links = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let b = byte()?;
            links.push(if b & 0x80 == 0 {
                Link::Known {
                    kind: b & 0x7,
                    count: (b >> 3) & 0x7,
                }
            } else {
                Link::Unknown(u16::from(b & 0x7f) << 8 | u16::from(byte()?))
            });
        }
        let shape = byte()?;
        let max = LAYER_MAX_CHAIN_LINKS as u32;
        let tail = match shape & 0x7 {
            0..=3 => 0,
            4 => u32::from(byte()?),
            5 => max - 1 - n as u32 + u32::from(byte()? % 3),
            6 => 100_000,
            _ => u32::from(byte()?) << 4,
        };
        let tail = if target.loader_walks() {
            loader_safe_tail(tail)
        } else {
            tail
        };
        let loop_to = (shape & 0x8 != 0).then_some(u32::from(shape >> 4));
        let counts = [byte()? % 4, byte()? % 4, byte()? % 4, byte()? % 4];
        Some(Case {
            target,
            links,
            tail,
            loop_to,
            counts,
        })
    }
}

/// `pnext::MAX_CHAIN_LINKS` of the layer. Repeated, not imported: the scenario binary must
/// not link the layer's rlib, whose exported `vk*` symbols would shadow the loader's.
pub const LAYER_MAX_CHAIN_LINKS: usize = 4096;

/// The loader puts links of its own in front of the instance and device chains, so whether
/// a chain near the limit is too long depends on the loader: such tails move just below.
pub fn loader_safe_tail(tail: u32) -> u32 {
    let max = LAYER_MAX_CHAIN_LINKS as u32;
    if (max - LOADER_LINKS..=max).contains(&tail) {
        max - LOADER_LINKS
    } else {
        tail
    }
}

/// More than the loader (1.3.239: the layer link and loader callbacks) and the instance
/// case's chained messenger put ahead of a chain.
const LOADER_LINKS: u32 = 24;

/// Pages mapped for one struct or array, the last one inaccessible.
struct Fenced {
    base: *mut c_void,
    len: usize,
}

impl Drop for Fenced {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly one mapping made by `Arena::fenced`.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// Owns every allocation of a built chain.
#[derive(Default)]
struct Arena {
    fenced: Vec<Fenced>,
    tail: Vec<vk::BaseInStructure<'static>>,
}

fn page() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

impl Arena {
    /// `bytes` bytes (8-aligned) ending where an inaccessible page begins; copies `init` in.
    fn fenced(&mut self, init: &[u8]) -> *mut u8 {
        let pg = page();
        let size = init.len().div_ceil(8) * 8;
        let data_pages = size.div_ceil(pg).max(1);
        let len = (data_pages + 1) * pg;
        // SAFETY: an anonymous private mapping; no file, no fixed address.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(base != libc::MAP_FAILED, "mmap failed");
        // SAFETY: the last page lies within the mapping just made.
        unsafe {
            libc::mprotect(
                (base as *mut u8).add(data_pages * pg).cast(),
                pg,
                libc::PROT_NONE,
            )
        };
        self.fenced.push(Fenced { base, len });
        // SAFETY: `size` bytes before the guard page lie within the mapping.
        let at = unsafe { (base as *mut u8).add(data_pages * pg - size) };
        // SAFETY: `init.len() <= size` writable bytes at `at`.
        unsafe { std::ptr::copy_nonoverlapping(init.as_ptr(), at, init.len()) };
        at
    }

    /// A copy of `v` in its own fenced mapping.
    fn put<T: Copy>(&mut self, v: T) -> *mut T {
        // SAFETY: `T: Copy` plain data viewed as bytes for the copy.
        let bytes = unsafe {
            std::slice::from_raw_parts(&v as *const T as *const u8, std::mem::size_of::<T>())
        };
        self.fenced(bytes).cast()
    }

    /// `values` in a fenced mapping of exactly their size (null when empty, as the spec
    /// allows for a zero count).
    fn array<T: Copy>(&mut self, values: &[T]) -> *const T {
        if values.is_empty() {
            return std::ptr::null();
        }
        // SAFETY: plain data viewed as bytes for the copy.
        let bytes = unsafe {
            std::slice::from_raw_parts(values.as_ptr() as *const u8, std::mem::size_of_val(values))
        };
        self.fenced(bytes).cast()
    }
}

/// The unknown `sType` number `n`: no extension 999 exists.
fn unknown_stype(n: u16) -> vk::StructureType {
    vk::StructureType::from_raw(1_000_999_000 + i32::from(n % 1000))
}

/// The image every image case describes.
const IMAGE_FORMAT: vk::Format = vk::Format::R8G8B8A8_UNORM;

/// The benign struct `kind` of `target`, in `arena`, as a chain link.
fn known(
    arena: &mut Arena,
    target: Target,
    kind: u8,
    count: u8,
) -> *mut vk::BaseOutStructure<'static> {
    let kinds = target.known_kinds();
    if kinds == 0 {
        return arena
            .put(vk::BaseInStructure {
                s_type: unknown_stype(u16::from(kind)),
                ..Default::default()
            })
            .cast();
    }
    let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    let formats = vec![IMAGE_FORMAT; usize::from(count)];
    match (target, kind % kinds) {
        (Target::Device, _) => arena
            .put(vk::PhysicalDeviceSynchronization2Features::default())
            .cast(),
        (Target::Allocate, 0) => arena.put(vk::MemoryAllocateFlagsInfo::default()).cast(),
        (Target::Allocate, 1) => arena
            .put(vk::ExportMemoryAllocateInfo::default().handle_types(opaque))
            .cast(),
        (Target::Allocate, _) => arena.put(vk::MemoryDedicatedAllocateInfo::default()).cast(),
        (Target::Buffer, _) => arena
            .put(vk::ExternalMemoryBufferCreateInfo::default().handle_types(opaque))
            .cast(),
        (Target::Image, 0) => arena
            .put(vk::ExternalMemoryImageCreateInfo::default().handle_types(opaque))
            .cast(),
        (Target::ImageQuery, 0) => arena
            .put(vk::PhysicalDeviceExternalImageFormatInfo::default().handle_type(opaque))
            .cast(),
        (Target::Image | Target::ImageQuery, _) => {
            let p = arena.array(&formats);
            arena
                .put(vk::ImageFormatListCreateInfo {
                    view_format_count: u32::from(count),
                    p_view_formats: p,
                    ..Default::default()
                })
                .cast()
        }
        // No handle types: valid without any external-fence support.
        (Target::Fence, _) => arena.put(vk::ExportFenceCreateInfo::default()).cast(),
        (Target::Semaphore, 0) => arena
            .put(vk::SemaphoreTypeCreateInfo::default().semaphore_type(vk::SemaphoreType::BINARY))
            .cast(),
        // No handle types: valid without any external-semaphore support.
        (Target::Semaphore, _) => arena.put(vk::ExportSemaphoreCreateInfo::default()).cast(),
        // Not set: valid for any barrier, and read by the layer on an external resource.
        (Target::Barrier2, _) => arena
            .put(vk::ExternalMemoryAcquireUnmodifiedEXT::default())
            .cast(),
        // Submit: values for the semaphores `counts` names, built by `submit`.
        _ => arena
            .put(vk::BaseInStructure {
                s_type: unknown_stype(u16::from(kind)),
                ..Default::default()
            })
            .cast(),
    }
}

/// The chain of `case` (its first struct, or null), its allocations in `arena`.
fn build(arena: &mut Arena, case: &Case) -> *const c_void {
    let mut links: Vec<*mut vk::BaseOutStructure<'static>> = case
        .links
        .iter()
        .map(|l| match *l {
            Link::Unknown(n) => arena
                .put(vk::BaseInStructure {
                    s_type: unknown_stype(n),
                    ..Default::default()
                })
                .cast(),
            Link::Known { kind, count } => known(arena, case.target, kind, count),
        })
        .collect();
    arena.tail = (0..case.tail)
        .map(|i| vk::BaseInStructure {
            s_type: unknown_stype(i as u16),
            ..Default::default()
        })
        .collect();
    let tail_base = arena.tail.as_mut_ptr();
    links.extend((0..arena.tail.len()).map(|i| {
        // SAFETY: `i` is within the tail, which is not resized while the chain lives.
        unsafe { tail_base.add(i) }.cast::<vk::BaseOutStructure<'static>>()
    }));
    for w in links.windows(2) {
        // SAFETY: every link is a live struct starting with sType/pNext.
        unsafe { (*w[0]).p_next = w[1] };
    }
    if let (Some(to), Some(last)) = (case.loop_to, links.last()) {
        if case.cyclic() {
            let to = links[to as usize % links.len()];
            // SAFETY: as above.
            unsafe { (**last).p_next = to };
        }
    }
    links
        .first()
        .map_or(std::ptr::null(), |p| *p as *const c_void)
}

/// One instance and device that every case of a run goes through.
pub struct Runner {
    ctx: Ctx,
    dev: Dev,
    queue: vk::Queue,
    memory_type: u32,
    pool: vk::CommandPool,
    cmd: vk::CommandBuffer,
    /// A bound image and a buffer for the barrier cases.
    image: vk::Image,
    buffer: vk::Buffer,
    memory: Vec<vk::DeviceMemory>,
    /// The extensions of [`create_device`] the driver offered.
    ext: Exts,
    /// An empty command buffer (simultaneous use) that submit2 batches carry.
    empty_cmd: vk::CommandBuffer,
    /// A bound external (OPAQUE_FD) image and buffer for the barrier2 cases.
    ext_image: vk::Image,
    ext_buffer: vk::Buffer,
}

/// Device-level functions of the extensions the runner's device enabled (where offered).
struct Exts {
    sync2: Option<ash::khr::synchronization2::Device>,
    semaphore_fd: Option<ash::khr::external_semaphore_fd::Device>,
    fence_fd: Option<ash::khr::external_fence_fd::Device>,
}

/// As `Ctx::create_device` (VK_KHR_external_memory_fd, VK_EXT_external_memory_host when
/// offered, one queue of family 0), plus VK_KHR_synchronization2 (its feature on),
/// VK_KHR_external_semaphore_fd and VK_KHR_external_fence_fd where the driver offers them.
fn create_device(ctx: &Ctx) -> Result<(Dev, Exts), String> {
    // SAFETY: valid physical device.
    let props = unsafe {
        ctx.instance
            .enumerate_device_extension_properties(ctx.physical)
    }
    .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e:?}"))?;
    let offered = |name: &std::ffi::CStr| {
        props
            .iter()
            .any(|p| p.extension_name_as_c_str().ok() == Some(name))
    };
    let mut exts = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
    let optional = [
        ash::ext::external_memory_host::NAME,
        ash::khr::synchronization2::NAME,
        ash::khr::external_semaphore_fd::NAME,
        ash::khr::external_fence_fd::NAME,
    ];
    exts.extend(optional.iter().filter(|n| offered(n)).map(|n| n.as_ptr()));
    let has_sync2 = offered(ash::khr::synchronization2::NAME);
    let device = ctx.device_with(&exts, has_sync2)?;
    let i = &ctx.instance;
    let ext = Exts {
        sync2: has_sync2.then(|| ash::khr::synchronization2::Device::new(i, &device)),
        semaphore_fd: offered(ash::khr::external_semaphore_fd::NAME)
            .then(|| ash::khr::external_semaphore_fd::Device::new(i, &device)),
        fence_fd: offered(ash::khr::external_fence_fd::NAME)
            .then(|| ash::khr::external_fence_fd::Device::new(i, &device)),
    };
    let fd = ash::khr::external_memory_fd::Device::new(i, &device);
    Ok((Dev { device, fd }, ext))
}

/// Memory for `req` (its first memory type); with `external`, exportable as OPAQUE_FD and
/// dedicated as `external` says (the layer then sees an external image or buffer bound to
/// external memory: silent).
fn allocate(
    d: &ash::Device,
    req: vk::MemoryRequirements,
    external: Option<vk::MemoryDedicatedAllocateInfo<'_>>,
) -> Result<vk::DeviceMemory, String> {
    let mut export = vk::ExportMemoryAllocateInfo::default()
        .handle_types(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    let mut ai = vk::MemoryAllocateInfo::default()
        .allocation_size(req.size)
        .memory_type_index(req.memory_type_bits.trailing_zeros());
    let mut dedicated = external.unwrap_or_default();
    if external.is_some() {
        ai = ai.push_next(&mut export).push_next(&mut dedicated);
    }
    // SAFETY: valid device; `ai` points at locals alive for the call.
    unsafe { d.allocate_memory(&ai, None) }.map_err(|e| format!("vkAllocateMemory: {e:?}"))
}

/// An empty command buffer of `pool`, recorded once for simultaneous use.
fn record_empty(d: &ash::Device, pool: vk::CommandPool) -> Result<vk::CommandBuffer, String> {
    // SAFETY: valid device and pool; the buffer is freed with the pool.
    unsafe {
        let cmd = d
            .allocate_command_buffers(
                &vk::CommandBufferAllocateInfo::default()
                    .command_pool(pool)
                    .command_buffer_count(1),
            )
            .map_err(|e| format!("vkAllocateCommandBuffers: {e:?}"))?[0];
        d.begin_command_buffer(
            cmd,
            &vk::CommandBufferBeginInfo::default()
                .flags(vk::CommandBufferUsageFlags::SIMULTANEOUS_USE),
        )
        .and_then(|()| d.end_command_buffer(cmd))
        .map_err(|e| format!("recording the empty command buffer: {e:?}"))?;
        Ok(cmd)
    }
}

/// What one case did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseOutcome {
    /// The call's `VkResult` (0 for commands without one).
    pub result: i32,
    /// Handoff's ids, in the order reported.
    pub ids: Vec<String>,
}

impl Runner {
    pub fn new(opts: &InstanceOpts) -> Result<Runner, String> {
        let ctx = Ctx::new(opts)?;
        let (dev, ext) = create_device(&ctx)?;
        let memory_type = ctx.host_visible_type()?;
        // SAFETY: family 0 queue 0 was requested at device creation.
        let queue = unsafe { dev.device.get_device_queue(0, 0) };
        let d = &dev.device;
        let e = |what: &'static str| move |r: vk::Result| format!("{what}: {r:?}");
        // SAFETY: valid device; every object is destroyed in `destroy`.
        let (pool, cmd, image, buffer, mut memory) = unsafe {
            let pool = d
                .create_command_pool(
                    &vk::CommandPoolCreateInfo::default()
                        .flags(vk::CommandPoolCreateFlags::RESET_COMMAND_BUFFER),
                    None,
                )
                .map_err(e("vkCreateCommandPool"))?;
            let cmd = d
                .allocate_command_buffers(
                    &vk::CommandBufferAllocateInfo::default()
                        .command_pool(pool)
                        .command_buffer_count(1),
                )
                .map_err(e("vkAllocateCommandBuffers"))?[0];
            let image = d
                .create_image(&image_info(), None)
                .map_err(e("vkCreateImage"))?;
            let buffer = d
                .create_buffer(
                    &vk::BufferCreateInfo::default()
                        .size(4096)
                        .usage(vk::BufferUsageFlags::TRANSFER_SRC),
                    None,
                )
                .map_err(e("vkCreateBuffer"))?;
            let mut memory = vec![];
            for req in [
                d.get_image_memory_requirements(image),
                d.get_buffer_memory_requirements(buffer),
            ] {
                let ty = req.memory_type_bits.trailing_zeros();
                let m = d
                    .allocate_memory(
                        &vk::MemoryAllocateInfo::default()
                            .allocation_size(req.size)
                            .memory_type_index(ty),
                        None,
                    )
                    .map_err(e("vkAllocateMemory"))?;
                memory.push(m);
            }
            d.bind_image_memory(image, memory[0], 0)
                .map_err(e("vkBindImageMemory"))?;
            d.bind_buffer_memory(buffer, memory[1], 0)
                .map_err(e("vkBindBufferMemory"))?;
            (pool, cmd, image, buffer, memory)
        };
        let empty_cmd = record_empty(d, pool)?;
        let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
        let mut image_ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(opaque);
        let mut buffer_ext = vk::ExternalMemoryBufferCreateInfo::default().handle_types(opaque);
        // SAFETY: valid device; the create infos point at locals alive for the calls; every
        // object is destroyed in `destroy`.
        let (ext_image, ext_buffer) = unsafe {
            let image = d
                .create_image(&image_info().push_next(&mut image_ext), None)
                .map_err(e("vkCreateImage (external)"))?;
            let buffer = d
                .create_buffer(
                    &vk::BufferCreateInfo::default()
                        .size(4096)
                        .usage(vk::BufferUsageFlags::TRANSFER_SRC)
                        .push_next(&mut buffer_ext),
                    None,
                )
                .map_err(e("vkCreateBuffer (external)"))?;
            let m = allocate(
                d,
                d.get_image_memory_requirements(image),
                Some(vk::MemoryDedicatedAllocateInfo::default().image(image)),
            )?;
            memory.push(m);
            d.bind_image_memory(image, m, 0)
                .map_err(e("vkBindImageMemory (external)"))?;
            let m = allocate(
                d,
                d.get_buffer_memory_requirements(buffer),
                Some(vk::MemoryDedicatedAllocateInfo::default().buffer(buffer)),
            )?;
            memory.push(m);
            d.bind_buffer_memory(buffer, m, 0)
                .map_err(e("vkBindBufferMemory (external)"))?;
            (image, buffer)
        };
        record::take_findings();
        Ok(Runner {
            ctx,
            dev,
            queue,
            memory_type,
            pool,
            cmd,
            image,
            buffer,
            memory,
            ext,
            empty_cmd,
            ext_image,
            ext_buffer,
        })
    }

    /// Runs one case and collects what it reported.
    pub fn run(&self, case: &Case) -> CaseOutcome {
        let mut arena = Arena::default();
        let chain = build(&mut arena, case);
        let result = self.call(case, chain, &mut arena);
        let ids = record::take_findings()
            .iter()
            .filter_map(|f| f["id"].as_str())
            .filter(|id| id.starts_with("HANDOFF-") || id.starts_with("VUID-"))
            .map(str::to_owned)
            .collect();
        CaseOutcome {
            result: result.as_raw(),
            ids,
        }
    }

    fn call(&self, case: &Case, chain: *const c_void, arena: &mut Arena) -> vk::Result {
        let device = &self.dev.device;
        let instance = &self.ctx.instance;
        let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
        match case.target {
            Target::Instance => self.create_instance(chain),
            Target::Device => {
                let prio = [1.0f32];
                let queues = [vk::DeviceQueueCreateInfo::default()
                    .queue_family_index(0)
                    .queue_priorities(&prio)];
                let mut ci = vk::DeviceCreateInfo::default().queue_create_infos(&queues);
                ci.p_next = chain;
                // SAFETY: valid physical device; the chain is live (and loop-free: the loader
                // walks it).
                match unsafe { instance.create_device(self.ctx.physical, &ci, None) } {
                    Ok(d) => {
                        // SAFETY: just created, nothing made from it.
                        unsafe { d.destroy_device(None) };
                        vk::Result::SUCCESS
                    }
                    Err(e) => e,
                }
            }
            Target::Allocate => {
                let mut ai = vk::MemoryAllocateInfo::default()
                    .allocation_size(4096)
                    .memory_type_index(self.memory_type);
                ai.p_next = chain;
                // SAFETY: valid device; the chain is live.
                match unsafe { device.allocate_memory(&ai, None) } {
                    Ok(m) => {
                        self.dev.free(m);
                        vk::Result::SUCCESS
                    }
                    Err(e) => e,
                }
            }
            Target::Buffer => {
                let mut ci = vk::BufferCreateInfo::default()
                    .size(4096)
                    .usage(vk::BufferUsageFlags::TRANSFER_SRC);
                ci.p_next = chain;
                // SAFETY: valid device; the chain is live.
                match unsafe { device.create_buffer(&ci, None) } {
                    // SAFETY: just created, unused.
                    Ok(b) => unsafe {
                        device.destroy_buffer(b, None);
                        vk::Result::SUCCESS
                    },
                    Err(e) => e,
                }
            }
            Target::Image => {
                let mut ci = image_info();
                ci.p_next = chain;
                // SAFETY: valid device; the chain is live.
                match unsafe { device.create_image(&ci, None) } {
                    // SAFETY: just created, unused.
                    Ok(i) => unsafe {
                        device.destroy_image(i, None);
                        vk::Result::SUCCESS
                    },
                    Err(e) => e,
                }
            }
            Target::Semaphore => {
                let ci = vk::SemaphoreCreateInfo {
                    p_next: chain,
                    ..Default::default()
                };
                // SAFETY: valid device; the chain is live.
                match unsafe { device.create_semaphore(&ci, None) } {
                    // SAFETY: just created, unused.
                    Ok(s) => unsafe {
                        device.destroy_semaphore(s, None);
                        vk::Result::SUCCESS
                    },
                    Err(e) => e,
                }
            }
            Target::Submit => self.submit(case, chain, arena),
            Target::Fence => {
                let ci = vk::FenceCreateInfo {
                    p_next: chain,
                    ..Default::default()
                };
                // SAFETY: valid device; the chain is live.
                match unsafe { device.create_fence(&ci, None) } {
                    // SAFETY: just created, unused.
                    Ok(f) => unsafe {
                        device.destroy_fence(f, None);
                        vk::Result::SUCCESS
                    },
                    Err(e) => e,
                }
            }
            Target::Barrier => self.barrier(chain),
            Target::Submit2 => self.submit2(case, chain, arena),
            Target::Barrier2 => self.barrier2(case, chain, arena),
            Target::ImportSemaphore => self.import_semaphore(case, chain),
            Target::ImportFence => self.import_fence(case, chain),
            Target::BufferQuery => {
                let mut info = vk::PhysicalDeviceExternalBufferInfo::default()
                    .usage(vk::BufferUsageFlags::TRANSFER_SRC)
                    .handle_type(opaque);
                info.p_next = chain;
                let mut props = vk::ExternalBufferProperties::default();
                // SAFETY: valid physical device; the chain is live.
                unsafe {
                    instance.get_physical_device_external_buffer_properties(
                        self.ctx.physical,
                        &info,
                        &mut props,
                    )
                };
                vk::Result::SUCCESS
            }
            Target::ImageQuery => {
                let mut info = vk::PhysicalDeviceImageFormatInfo2::default()
                    .format(IMAGE_FORMAT)
                    .ty(vk::ImageType::TYPE_2D)
                    .tiling(vk::ImageTiling::OPTIMAL)
                    .usage(vk::ImageUsageFlags::SAMPLED | vk::ImageUsageFlags::TRANSFER_DST);
                info.p_next = chain;
                let mut ext = vk::ExternalImageFormatProperties::default();
                let mut props = vk::ImageFormatProperties2::default().push_next(&mut ext);
                // SAFETY: valid physical device; the chain is live.
                match unsafe {
                    instance.get_physical_device_image_format_properties2(
                        self.ctx.physical,
                        &info,
                        &mut props,
                    )
                } {
                    Ok(()) => vk::Result::SUCCESS,
                    Err(e) => e,
                }
            }
        }
    }

    /// vkCreateInstance with a chained messenger in front of the hostile chain.
    fn create_instance(&self, chain: *const c_void) -> vk::Result {
        let exts = [ash::ext::debug_utils::NAME.as_ptr()];
        let mut messenger = vk::DebugUtilsMessengerCreateInfoEXT::default()
            .message_severity(
                vk::DebugUtilsMessageSeverityFlagsEXT::WARNING
                    | vk::DebugUtilsMessageSeverityFlagsEXT::ERROR,
            )
            .message_type(
                vk::DebugUtilsMessageTypeFlagsEXT::GENERAL
                    | vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION,
            )
            .pfn_user_callback(Some(record::messenger_callback))
            .user_data(record::VIA_CREATE_INFO as *mut c_void);
        messenger.p_next = chain;
        let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_1);
        let mut ci = vk::InstanceCreateInfo::default()
            .application_info(&app)
            .enabled_extension_names(&exts);
        ci.p_next = &messenger as *const _ as *const c_void;
        // SAFETY: every pointer refers to live locals or the case's arena.
        match unsafe { self.ctx.entry.create_instance(&ci, None) } {
            Ok(i) => {
                // SAFETY: just created, nothing made from it.
                unsafe { i.destroy_instance(None) };
                vk::Result::SUCCESS
            }
            Err(e) => e,
        }
    }

    /// Signals `counts[2]` binary semaphores with `counts[3]` values, then waits on
    /// `counts[0]` of them with `counts[1]` values; each batch carries the chain behind a
    /// timeline info. Binary semaphores ignore the values, so every count is valid.
    fn submit(&self, case: &Case, chain: *const c_void, arena: &mut Arena) -> vk::Result {
        let device = &self.dev.device;
        let [waits, wait_values, signals, signal_values] = case.counts.map(usize::from);
        let sems: Vec<vk::Semaphore> = (0..signals)
            // SAFETY: valid device.
            .filter_map(|_| unsafe {
                device
                    .create_semaphore(&vk::SemaphoreCreateInfo::default(), None)
                    .ok()
            })
            .collect();
        let waits = waits.min(sems.len());
        let timeline = |arena: &mut Arena, w: usize, s: usize| {
            let wv = arena.array(&vec![1u64; w]);
            let sv = arena.array(&vec![1u64; s]);
            let t = arena.put(vk::TimelineSemaphoreSubmitInfo {
                p_next: chain,
                wait_semaphore_value_count: w as u32,
                p_wait_semaphore_values: wv,
                signal_semaphore_value_count: s as u32,
                p_signal_semaphore_values: sv,
                ..Default::default()
            });
            t as *const c_void
        };
        let mut signal = vk::SubmitInfo::default().signal_semaphores(&sems);
        signal.p_next = timeline(arena, 0, signal_values);
        let stages = vec![vk::PipelineStageFlags::ALL_COMMANDS; waits];
        let mut wait = vk::SubmitInfo::default()
            .wait_semaphores(&sems[..waits])
            .wait_dst_stage_mask(&stages);
        wait.p_next = timeline(arena, wait_values, 0);
        // SAFETY: valid queue; every array holds the count next to it; the chain is live.
        let r = unsafe { device.queue_submit(self.queue, &[signal, wait], vk::Fence::null()) };
        // SAFETY: valid device; the semaphores are idle once the queue is.
        unsafe {
            let _ = device.queue_wait_idle(self.queue);
            for s in sems {
                device.destroy_semaphore(s, None);
            }
        }
        match r {
            Ok(()) => vk::Result::SUCCESS,
            Err(e) => e,
        }
    }

    /// Records one pipeline barrier whose image and buffer barriers carry the chain; the
    /// command buffer is never submitted.
    fn barrier(&self, chain: *const c_void) -> vk::Result {
        let d = &self.dev.device;
        let mut image = vk::ImageMemoryBarrier::default()
            .old_layout(vk::ImageLayout::UNDEFINED)
            .new_layout(vk::ImageLayout::GENERAL)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(self.image)
            .subresource_range(vk::ImageSubresourceRange {
                aspect_mask: vk::ImageAspectFlags::COLOR,
                level_count: 1,
                layer_count: 1,
                ..Default::default()
            });
        image.p_next = chain;
        let mut buffer = vk::BufferMemoryBarrier::default()
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .buffer(self.buffer)
            .size(vk::WHOLE_SIZE);
        buffer.p_next = chain;
        // SAFETY: a command buffer of this device, reset before each recording; the
        // barriers name live objects and the chain is live.
        unsafe {
            if let Err(e) = d
                .reset_command_buffer(self.cmd, vk::CommandBufferResetFlags::empty())
                .and_then(|()| {
                    d.begin_command_buffer(self.cmd, &vk::CommandBufferBeginInfo::default())
                })
            {
                return e;
            }
            d.cmd_pipeline_barrier(
                self.cmd,
                vk::PipelineStageFlags::TOP_OF_PIPE,
                vk::PipelineStageFlags::BOTTOM_OF_PIPE,
                vk::DependencyFlags::empty(),
                &[],
                &[buffer],
                &[image],
            );
            match d.end_command_buffer(self.cmd) {
                Ok(()) => vk::Result::SUCCESS,
                Err(e) => e,
            }
        }
    }

    /// Signals `counts[1]` binary semaphores in one batch of `counts[2]` command buffer
    /// infos, then waits on `counts[0]` of them (at most all) in a second batch; each
    /// `VkSubmitInfo2` carries the chain, the nested infos too when bit 0 of `counts[3]` is
    /// set.
    fn submit2(&self, case: &Case, chain: *const c_void, arena: &mut Arena) -> vk::Result {
        let Some(sync2) = &self.ext.sync2 else {
            return vk::Result::ERROR_EXTENSION_NOT_PRESENT;
        };
        let device = &self.dev.device;
        let [waits, signals, cmds, flags] = case.counts.map(usize::from);
        let nested = if flags & 1 != 0 {
            chain
        } else {
            std::ptr::null()
        };
        let sems: Vec<vk::Semaphore> = (0..signals)
            // SAFETY: valid device.
            .filter_map(|_| unsafe {
                device
                    .create_semaphore(&vk::SemaphoreCreateInfo::default(), None)
                    .ok()
            })
            .collect();
        let info = |s: &vk::Semaphore| vk::SemaphoreSubmitInfo {
            p_next: nested,
            semaphore: *s,
            stage_mask: vk::PipelineStageFlags2::ALL_COMMANDS,
            ..Default::default()
        };
        let signal_infos: Vec<_> = sems.iter().map(info).collect();
        let wait_infos: Vec<_> = sems[..waits.min(sems.len())].iter().map(info).collect();
        let cmd_infos = vec![
            vk::CommandBufferSubmitInfo {
                p_next: nested,
                command_buffer: self.empty_cmd,
                ..Default::default()
            };
            cmds
        ];
        let batches = [
            vk::SubmitInfo2 {
                p_next: chain,
                command_buffer_info_count: cmd_infos.len() as u32,
                p_command_buffer_infos: arena.array(&cmd_infos),
                signal_semaphore_info_count: signal_infos.len() as u32,
                p_signal_semaphore_infos: arena.array(&signal_infos),
                ..Default::default()
            },
            vk::SubmitInfo2 {
                p_next: chain,
                wait_semaphore_info_count: wait_infos.len() as u32,
                p_wait_semaphore_infos: arena.array(&wait_infos),
                ..Default::default()
            },
        ];
        let p = arena.array(&batches);
        // SAFETY: valid queue; every array is fenced at exactly its count; the chain is live;
        // the empty command buffer allows simultaneous use.
        let r = unsafe { (sync2.fp().queue_submit2_khr)(self.queue, 2, p, vk::Fence::null()) };
        // SAFETY: valid device; the semaphores are idle once the queue is.
        unsafe {
            let _ = device.queue_wait_idle(self.queue);
            for s in sems {
                device.destroy_semaphore(s, None);
            }
        }
        r
    }

    /// Records one vkCmdPipelineBarrier2KHR of `counts[0]` buffer, `counts[1]` image and
    /// `counts[2]` memory barriers (external buffer and image, no ownership transfer), each
    /// resource barrier with the chain; bit 0 of `counts[3]` chains the memory barriers, bit 1
    /// the dependency info. The command buffer is never submitted.
    fn barrier2(&self, case: &Case, chain: *const c_void, arena: &mut Arena) -> vk::Result {
        let Some(sync2) = &self.ext.sync2 else {
            return vk::Result::ERROR_EXTENSION_NOT_PRESENT;
        };
        let d = &self.dev.device;
        let [buffers, images, memories, flags] = case.counts.map(usize::from);
        let opt = |bit: usize| {
            if flags & bit != 0 {
                chain
            } else {
                std::ptr::null()
            }
        };
        let mut buffer = vk::BufferMemoryBarrier2::default()
            .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
            .dst_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .buffer(self.ext_buffer)
            .size(vk::WHOLE_SIZE);
        buffer.p_next = chain;
        let mut image = vk::ImageMemoryBarrier2::default()
            .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
            .dst_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
            .old_layout(vk::ImageLayout::UNDEFINED)
            .new_layout(vk::ImageLayout::GENERAL)
            .src_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .dst_queue_family_index(vk::QUEUE_FAMILY_IGNORED)
            .image(self.ext_image)
            .subresource_range(vk::ImageSubresourceRange {
                aspect_mask: vk::ImageAspectFlags::COLOR,
                level_count: 1,
                layer_count: 1,
                ..Default::default()
            });
        image.p_next = chain;
        let mut memory = vk::MemoryBarrier2::default()
            .src_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS)
            .dst_stage_mask(vk::PipelineStageFlags2::ALL_COMMANDS);
        memory.p_next = opt(1);
        let dep = vk::DependencyInfo {
            p_next: opt(2),
            buffer_memory_barrier_count: buffers as u32,
            p_buffer_memory_barriers: arena.array(&vec![buffer; buffers]),
            image_memory_barrier_count: images as u32,
            p_image_memory_barriers: arena.array(&vec![image; images]),
            memory_barrier_count: memories as u32,
            p_memory_barriers: arena.array(&vec![memory; memories]),
            ..Default::default()
        };
        let dep = arena.put(dep);
        // SAFETY: a command buffer of this device, reset before each recording; the
        // barriers name live objects; every array is fenced at its count; the chain is live.
        unsafe {
            if let Err(e) = d
                .reset_command_buffer(self.cmd, vk::CommandBufferResetFlags::empty())
                .and_then(|()| {
                    d.begin_command_buffer(self.cmd, &vk::CommandBufferBeginInfo::default())
                })
            {
                return e;
            }
            (sync2.fp().cmd_pipeline_barrier2_khr)(self.cmd, dep);
            match d.end_command_buffer(self.cmd) {
                Ok(()) => vk::Result::SUCCESS,
                Err(e) => e,
            }
        }
    }

    /// Exports an OPAQUE_FD from a fresh exportable semaphore and imports it into another
    /// with the chain on the import info (temporary when bit 0 of `counts[0]` is set).
    fn import_semaphore(&self, case: &Case, chain: *const c_void) -> vk::Result {
        let Some(fns) = &self.ext.semaphore_fd else {
            return vk::Result::ERROR_EXTENSION_NOT_PRESENT;
        };
        let d = &self.dev.device;
        let ty = vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD;
        let mut export = vk::ExportSemaphoreCreateInfo::default().handle_types(ty);
        // SAFETY: valid device; the create infos point at locals; both semaphores are
        // destroyed before returning, and a fd the import did not take is closed.
        unsafe {
            let from = match d.create_semaphore(
                &vk::SemaphoreCreateInfo::default().push_next(&mut export),
                None,
            ) {
                Ok(s) => s,
                Err(e) => return e,
            };
            let to = match d.create_semaphore(&vk::SemaphoreCreateInfo::default(), None) {
                Ok(s) => s,
                Err(e) => {
                    d.destroy_semaphore(from, None);
                    return e;
                }
            };
            let r = fns
                .get_semaphore_fd(
                    &vk::SemaphoreGetFdInfoKHR::default()
                        .semaphore(from)
                        .handle_type(ty),
                )
                .and_then(|fd| {
                    let mut info = vk::ImportSemaphoreFdInfoKHR::default()
                        .semaphore(to)
                        .handle_type(ty)
                        .fd(fd);
                    if case.counts[0] & 1 != 0 {
                        info = info.flags(vk::SemaphoreImportFlags::TEMPORARY);
                    }
                    info.p_next = chain;
                    fns.import_semaphore_fd(&info).inspect_err(|_| {
                        libc::close(fd);
                    })
                });
            d.destroy_semaphore(to, None);
            d.destroy_semaphore(from, None);
            r.err().unwrap_or(vk::Result::SUCCESS)
        }
    }

    /// As [`Runner::import_semaphore`], for fences.
    fn import_fence(&self, case: &Case, chain: *const c_void) -> vk::Result {
        let Some(fns) = &self.ext.fence_fd else {
            return vk::Result::ERROR_EXTENSION_NOT_PRESENT;
        };
        let d = &self.dev.device;
        let ty = vk::ExternalFenceHandleTypeFlags::OPAQUE_FD;
        let mut export = vk::ExportFenceCreateInfo::default().handle_types(ty);
        // SAFETY: as `import_semaphore`.
        unsafe {
            let from = match d
                .create_fence(&vk::FenceCreateInfo::default().push_next(&mut export), None)
            {
                Ok(f) => f,
                Err(e) => return e,
            };
            let to = match d.create_fence(&vk::FenceCreateInfo::default(), None) {
                Ok(f) => f,
                Err(e) => {
                    d.destroy_fence(from, None);
                    return e;
                }
            };
            let r = fns
                .get_fence_fd(&vk::FenceGetFdInfoKHR::default().fence(from).handle_type(ty))
                .and_then(|fd| {
                    let mut info = vk::ImportFenceFdInfoKHR::default()
                        .fence(to)
                        .handle_type(ty)
                        .fd(fd);
                    if case.counts[0] & 1 != 0 {
                        info = info.flags(vk::FenceImportFlags::TEMPORARY);
                    }
                    info.p_next = chain;
                    fns.import_fence_fd(&info).inspect_err(|_| {
                        libc::close(fd);
                    })
                });
            d.destroy_fence(to, None);
            d.destroy_fence(from, None);
            r.err().unwrap_or(vk::Result::SUCCESS)
        }
    }

    pub fn destroy(self) {
        let d = &self.dev.device;
        // SAFETY: idle device, nothing left of the cases; each object destroyed once.
        unsafe {
            let _ = d.device_wait_idle();
            d.destroy_command_pool(self.pool, None);
            d.destroy_image(self.image, None);
            d.destroy_buffer(self.buffer, None);
            d.destroy_image(self.ext_image, None);
            d.destroy_buffer(self.ext_buffer, None);
            for m in &self.memory {
                d.free_memory(*m, None);
            }
        }
        self.dev.destroy();
        self.ctx.destroy();
    }
}

fn image_info() -> vk::ImageCreateInfo<'static> {
    vk::ImageCreateInfo::default()
        .image_type(vk::ImageType::TYPE_2D)
        .format(IMAGE_FORMAT)
        .extent(vk::Extent3D {
            width: 16,
            height: 16,
            depth: 1,
        })
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(vk::ImageUsageFlags::SAMPLED | vk::ImageUsageFlags::TRANSFER_DST)
}

/// The scenario: `--cases FILE` holds a JSON array of [`Case`]s.
pub fn hostile(a: &Args) -> ScenarioResult {
    let path = a.value("--cases").ok_or("--cases FILE is required")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let cases: Vec<Case> = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let runner = Runner::new(&InstanceOpts::from_args(a))?;
    let outcomes: Vec<Value> = cases.iter().map(|c| json!(runner.run(c))).collect();
    runner.destroy();
    Ok(json!({ "cases": outcomes }))
}

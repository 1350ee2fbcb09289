//! The mock ICD through the real Khronos loader (`libvulkan.so.1`): the test writes an ICD
//! manifest for the freshly built `libhandoff_mock_icd.so`, points `VK_DRIVER_FILES` at it
//! and drives the driver with ash.
//!
//! The loader and the mock read the environment when an instance is created, so the tests
//! take a lock and run one at a time.

use ash::vk;
use ash::vk::Handle;
use std::ffi::CStr;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

static ENV_LOCK: Mutex<()> = Mutex::new(());

/// `libhandoff_mock_icd.so` next to the test executable (`target/<profile>/deps`) or one
/// level up, where cargo puts the cdylib of the package under test.
fn library() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir");
    let candidates = [
        deps.join("libhandoff_mock_icd.so"),
        deps.join("../libhandoff_mock_icd.so"),
    ];
    candidates
        .iter()
        .find(|p| p.exists())
        .map(|p| p.canonicalize().expect("canonical library path"))
        .unwrap_or_else(|| panic!("libhandoff_mock_icd.so not found in {}", deps.display()))
}

/// This process's temp dir.
fn temp_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("mock-icd-loader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The temp dir with an ICD manifest for the mock (call with `ENV_LOCK` held: another
/// test's loader may be reading the manifest).
fn manifest_dir() -> PathBuf {
    let dir = temp_dir();
    let manifest = format!(
        r#"{{"file_format_version":"1.0.0","ICD":{{"library_path":"{}","api_version":"1.3.239"}}}}"#,
        library().display()
    );
    std::fs::write(dir.join("mock.json"), manifest).expect("manifest");
    dir
}

/// An instance of the mock with one profile; destroyed on drop.
struct Vk {
    _lock: MutexGuard<'static, ()>,
    entry: ash::Entry,
    instance: ash::Instance,
    physical: vk::PhysicalDevice,
}

/// Points the loader at the mock, selects `profile`, and creates an instance.
fn try_instance(profile: &str) -> Result<Vk, vk::Result> {
    try_instance_with(profile, &[])
}

/// As `try_instance`, enabling instance extensions.
fn try_instance_with(profile: &str, extensions: &[&CStr]) -> Result<Vk, vk::Result> {
    let lock = ENV_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let manifest = manifest_dir().join("mock.json");
    std::env::set_var("VK_DRIVER_FILES", &manifest);
    std::env::set_var("VK_ICD_FILENAMES", &manifest);
    std::env::set_var("VK_LOADER_LAYERS_DISABLE", "~all~");
    std::env::set_var("HANDOFF_MOCK_PROFILE", profile);
    // SAFETY: loads the system loader; nothing else in the process loads it differently.
    let entry = unsafe { ash::Entry::load() }.expect("libvulkan.so.1");
    let app = vk::ApplicationInfo::default().api_version(vk::API_VERSION_1_3);
    let names: Vec<*const i8> = extensions.iter().map(|e| e.as_ptr()).collect();
    let info = vk::InstanceCreateInfo::default()
        .application_info(&app)
        .enabled_extension_names(&names);
    // SAFETY: valid create info.
    let instance = unsafe { entry.create_instance(&info, None) }?;
    // SAFETY: live instance.
    let physical = unsafe { instance.enumerate_physical_devices() }.expect("physical devices")[0];
    Ok(Vk {
        _lock: lock,
        entry,
        instance,
        physical,
    })
}

fn instance(profile: &str) -> Vk {
    try_instance(profile)
        .unwrap_or_else(|e| panic!("vkCreateInstance with profile {profile}: {e:?}"))
}

impl Drop for Vk {
    fn drop(&mut self) {
        // SAFETY: every device made from the instance is destroyed by the tests (or by the
        // mock with the instance).
        unsafe { self.instance.destroy_instance(None) };
    }
}

impl Vk {
    fn device(&self, extensions: &[&CStr]) -> ash::Device {
        let priorities = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(0)
            .queue_priorities(&priorities)];
        let names: Vec<*const i8> = extensions.iter().map(|e| e.as_ptr()).collect();
        let info = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(&names);
        // SAFETY: valid create info for the instance's physical device.
        unsafe { self.instance.create_device(self.physical, &info, None) }.expect("vkCreateDevice")
    }

    fn host_visible_type(&self) -> u32 {
        // SAFETY: live physical device.
        let props = unsafe {
            self.instance
                .get_physical_device_memory_properties(self.physical)
        };
        (0..props.memory_type_count)
            .find(|&i| {
                props.memory_types[i as usize]
                    .property_flags
                    .contains(vk::MemoryPropertyFlags::HOST_VISIBLE)
            })
            .expect("a host-visible memory type")
    }

    fn properties(&self) -> (vk::PhysicalDeviceProperties, [u8; 16], [u8; 16]) {
        let mut id = vk::PhysicalDeviceIDProperties::default();
        let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
        // SAFETY: live physical device, valid chain.
        unsafe {
            self.instance
                .get_physical_device_properties2(self.physical, &mut props)
        };
        (props.properties, id.device_uuid, id.driver_uuid)
    }
}

fn fstat(fd: RawFd) -> libc::stat {
    let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: `st` is writable storage for one stat.
    assert_eq!(
        unsafe { libc::fstat(fd, st.as_mut_ptr()) },
        0,
        "fstat({fd})"
    );
    // SAFETY: fstat succeeded.
    unsafe { st.assume_init() }
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads descriptor flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

fn close(fd: RawFd) {
    // SAFETY: the test owns `fd`.
    unsafe { libc::close(fd) };
}

/// Allocates `size` bytes of host-visible memory, exportable as `export` (if non-empty).
fn allocate(
    vk: &Vk,
    device: &ash::Device,
    size: u64,
    export: vk::ExternalMemoryHandleTypeFlags,
) -> vk::DeviceMemory {
    let mut export_info = vk::ExportMemoryAllocateInfo::default().handle_types(export);
    let mut info = vk::MemoryAllocateInfo::default()
        .allocation_size(size)
        .memory_type_index(vk.host_visible_type());
    if !export.is_empty() {
        info = info.push_next(&mut export_info);
    }
    // SAFETY: valid allocate info.
    unsafe { device.allocate_memory(&info, None) }.expect("vkAllocateMemory")
}

/// Imports an fd of `handle_type` as `size` bytes.
fn import(
    vk: &Vk,
    device: &ash::Device,
    size: u64,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
    fd: RawFd,
) -> Result<vk::DeviceMemory, vk::Result> {
    let mut import = vk::ImportMemoryFdInfoKHR::default()
        .handle_type(handle_type)
        .fd(fd);
    let info = vk::MemoryAllocateInfo::default()
        .allocation_size(size)
        .memory_type_index(vk.host_visible_type())
        .push_next(&mut import);
    // SAFETY: valid allocate info; on success the fd belongs to the driver.
    unsafe { device.allocate_memory(&info, None) }
}

fn map(device: &ash::Device, memory: vk::DeviceMemory, size: usize) -> &'static mut [u8] {
    // SAFETY: host-visible memory of at least `size` bytes, not mapped yet.
    let ptr = unsafe { device.map_memory(memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty()) }
        .expect("map");
    // SAFETY: the mapping is `size` bytes long and stays valid until unmapped.
    unsafe { std::slice::from_raw_parts_mut(ptr.cast::<u8>(), size) }
}

const OPAQUE_FD: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
const DMA_BUF: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;

fn opaque_fd_roundtrip(profile: &str) {
    const SIZE: u64 = 65536;
    let vk = instance(profile);
    let a = vk.device(&[ash::khr::external_memory_fd::NAME]);
    let b = vk.device(&[ash::khr::external_memory_fd::NAME]);
    let fd_a = ash::khr::external_memory_fd::Device::new(&vk.instance, &a);

    let exported = allocate(&vk, &a, SIZE, OPAQUE_FD);
    let bytes_a = map(&a, exported, SIZE as usize);
    for (i, byte) in bytes_a.iter_mut().enumerate() {
        *byte = (i * 7 + 3) as u8;
    }
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(exported)
        .handle_type(OPAQUE_FD);
    // SAFETY: memory allocated exportable as OPAQUE_FD.
    let fd = unsafe { fd_a.get_memory_fd(&get) }.expect("vkGetMemoryFdKHR");
    // SAFETY: as above.
    let fd2 = unsafe { fd_a.get_memory_fd(&get) }.expect("second vkGetMemoryFdKHR");
    assert_ne!(fd, fd2, "each export is a new fd");
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).expect("readlink");
    assert!(
        link.to_string_lossy().starts_with("/memfd:"),
        "exported fd is a memfd: {link:?}"
    );
    let (st1, st2) = (fstat(fd), fstat(fd2));
    assert_eq!(
        (st1.st_dev, st1.st_ino),
        (st2.st_dev, st2.st_ino),
        "two exports of one allocation share the inode"
    );
    assert_eq!(st1.st_size as u64, SIZE);
    // SAFETY: F_GETFD only reads descriptor flags.
    assert_ne!(
        unsafe { libc::fcntl(fd, libc::F_GETFD) } & libc::FD_CLOEXEC,
        0,
        "exported fd is CLOEXEC"
    );
    close(fd2);

    let other = allocate(&vk, &a, SIZE, OPAQUE_FD);
    let get_other = vk::MemoryGetFdInfoKHR::default()
        .memory(other)
        .handle_type(OPAQUE_FD);
    // SAFETY: memory allocated exportable as OPAQUE_FD.
    let fd_other = unsafe { fd_a.get_memory_fd(&get_other) }.expect("export of another allocation");
    assert_ne!(
        fstat(fd_other).st_ino,
        st1.st_ino,
        "each payload has its own inode"
    );
    close(fd_other);

    let imported = import(&vk, &b, SIZE, OPAQUE_FD, fd).expect("import on the second device");
    let bytes_b = map(&b, imported, SIZE as usize);
    assert!(
        bytes_b
            .iter()
            .enumerate()
            .all(|(i, v)| *v == (i * 7 + 3) as u8),
        "the importer reads the bytes"
    );
    bytes_b[100] = 0xAB;
    assert_eq!(
        bytes_a[100], 0xAB,
        "the exporter sees the importer's writes"
    );

    // SAFETY: the objects are live and idle.
    unsafe {
        b.unmap_memory(imported);
        b.free_memory(imported, None);
        a.unmap_memory(exported);
        a.free_memory(exported, None);
        a.free_memory(other, None);
        a.destroy_device(None);
        b.destroy_device(None);
    }
}

#[test]
fn opaque_fd_roundtrip_lavapipe() {
    opaque_fd_roundtrip("lavapipe");
}

#[test]
fn opaque_fd_roundtrip_nvidia() {
    opaque_fd_roundtrip("nvidia");
}

#[test]
fn opaque_fd_roundtrip_full() {
    opaque_fd_roundtrip("full");
}

#[test]
fn failed_imports_leave_the_fd_with_the_app() {
    let vk = instance("lavapipe");
    let device = vk.device(&[ash::khr::external_memory_fd::NAME]);
    let fds = ash::khr::external_memory_fd::Device::new(&vk.instance, &device);
    let memory = allocate(&vk, &device, 4096, OPAQUE_FD);
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(OPAQUE_FD);
    // SAFETY: exportable memory.
    let fd = unsafe { fds.get_memory_fd(&get) }.expect("export");

    let too_big = import(&vk, &device, 8192, OPAQUE_FD, fd);
    assert_eq!(too_big, Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE));
    assert!(is_open(fd), "a failed import leaves the fd open");
    let dma = import(&vk, &device, 4096, DMA_BUF, fd);
    assert_eq!(
        dma,
        Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE),
        "lavapipe has no dma-buf import"
    );
    assert!(is_open(fd));
    let bad = import(&vk, &device, 4096, OPAQUE_FD, 100_000);
    assert_eq!(
        bad,
        Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE),
        "a closed fd"
    );
    let pipe = {
        let mut p = [0; 2];
        // SAFETY: `p` has room for two fds.
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        close(p[1]);
        p[0]
    };
    assert_eq!(
        import(&vk, &device, 4096, OPAQUE_FD, pipe),
        Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE)
    );
    assert!(is_open(pipe));
    close(pipe);

    let imported = import(&vk, &device, 4096, OPAQUE_FD, fd).expect("a good import");
    let again = import(&vk, &device, 4096, OPAQUE_FD, fd);
    assert_eq!(
        again,
        Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE),
        "the fd now belongs to an allocation"
    );
    // SAFETY: live objects.
    unsafe {
        device.free_memory(imported, None);
        device.free_memory(memory, None);
    }
    assert!(
        !is_open(fd),
        "freeing the imported memory closes the fd it took"
    );

    // Lavapipe's quirk: exporting a handle type the memory was not allocated for gives -1.
    let plain = allocate(
        &vk,
        &device,
        4096,
        vk::ExternalMemoryHandleTypeFlags::empty(),
    );
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(plain)
        .handle_type(OPAQUE_FD);
    // SAFETY: live memory (the call is invalid usage on purpose).
    assert_eq!(unsafe { fds.get_memory_fd(&get) }, Ok(-1));
    // SAFETY: live objects.
    unsafe {
        device.free_memory(plain, None);
        device.destroy_device(None);
    }
}

fn image_info(
    format: vk::Format,
    tiling: vk::ImageTiling,
) -> vk::PhysicalDeviceImageFormatInfo2<'static> {
    vk::PhysicalDeviceImageFormatInfo2::default()
        .format(format)
        .ty(vk::ImageType::TYPE_2D)
        .tiling(tiling)
        .usage(
            vk::ImageUsageFlags::TRANSFER_SRC
                | vk::ImageUsageFlags::TRANSFER_DST
                | vk::ImageUsageFlags::SAMPLED,
        )
}

/// The image query with one external handle type.
fn image_external(
    vk: &Vk,
    format: vk::Format,
    tiling: vk::ImageTiling,
    handle_type: vk::ExternalMemoryHandleTypeFlags,
) -> Result<(u32, u32, u32), vk::Result> {
    let mut ext_info =
        vk::PhysicalDeviceExternalImageFormatInfo::default().handle_type(handle_type);
    let info = image_info(format, tiling).push_next(&mut ext_info);
    let mut ext = vk::ExternalImageFormatProperties::default();
    let mut props = vk::ImageFormatProperties2::default().push_next(&mut ext);
    // SAFETY: valid chains.
    unsafe {
        vk.instance
            .get_physical_device_image_format_properties2(vk.physical, &info, &mut props)
    }?;
    Ok(triple(ext.external_memory_properties))
}

/// `(features, exportFromImportedHandleTypes, compatibleHandleTypes)`.
fn triple(p: vk::ExternalMemoryProperties) -> (u32, u32, u32) {
    (
        p.external_memory_features.as_raw(),
        p.export_from_imported_handle_types.as_raw(),
        p.compatible_handle_types.as_raw(),
    )
}

fn buffer_external(vk: &Vk, handle_type: vk::ExternalMemoryHandleTypeFlags) -> (u32, u32, u32) {
    let info = vk::PhysicalDeviceExternalBufferInfo::default()
        .usage(vk::BufferUsageFlags::TRANSFER_SRC | vk::BufferUsageFlags::TRANSFER_DST)
        .handle_type(handle_type);
    let mut props = vk::ExternalBufferProperties::default();
    // SAFETY: valid structures.
    unsafe {
        vk.instance
            .get_physical_device_external_buffer_properties(vk.physical, &info, &mut props)
    };
    triple(props.external_memory_properties)
}

#[test]
fn lavapipe_capabilities_match_the_capture() {
    let vk = instance("lavapipe");
    let (props, device_uuid, driver_uuid) = vk.properties();
    assert_eq!(props.api_version, vk::make_api_version(0, 1, 3, 230));
    assert_eq!(&device_uuid[..10], b"mesa22.3.6");
    assert_eq!(&driver_uuid[..12], b"llvmpipeUUID");
    assert_eq!(buffer_external(&vk, OPAQUE_FD), (0x6, 0x1, 0x1));
    assert_eq!(
        buffer_external(&vk, vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT),
        (0x4, 0x0, 0x80)
    );
    assert_eq!(buffer_external(&vk, DMA_BUF), (0, 0, 0));
    let rgba = vk::Format::R8G8B8A8_UNORM;
    assert_eq!(
        image_external(&vk, rgba, vk::ImageTiling::LINEAR, OPAQUE_FD),
        Ok((0x6, 0x1, 0x1))
    );
    // The quirk: unsupported handle type on an image is VK_SUCCESS with zero features.
    assert_eq!(
        image_external(&vk, rgba, vk::ImageTiling::OPTIMAL, DMA_BUF),
        Ok((0, 0, 0))
    );
    assert_eq!(
        image_external(
            &vk,
            vk::Format::D32_SFLOAT,
            vk::ImageTiling::LINEAR,
            OPAQUE_FD
        ),
        Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED)
    );
    assert_eq!(
        image_external(
            &vk,
            vk::Format::G8_B8R8_2PLANE_420_UNORM,
            vk::ImageTiling::OPTIMAL,
            OPAQUE_FD
        ),
        Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED)
    );
    // No semaphore or fence fd extensions.
    let get = |name: &CStr| {
        // SAFETY: valid name.
        unsafe {
            (vk.entry.static_fn().get_instance_proc_addr)(vk.instance.handle(), name.as_ptr())
        }
    };
    assert!(get(c"vkGetPhysicalDeviceExternalImageFormatPropertiesNV").is_none());
    let device = vk.device(&[]);
    // SAFETY: valid name.
    let fd_fn = unsafe {
        vk.instance
            .get_device_proc_addr(device.handle(), c"vkGetSemaphoreFdKHR".as_ptr())
    };
    assert!(
        fd_fn.is_none(),
        "lavapipe has no VK_KHR_external_semaphore_fd"
    );
    // SAFETY: live device.
    unsafe { device.destroy_device(None) };
}

#[test]
fn nvidia_answers_unsupported_handle_types_with_an_error() {
    let vk = instance("nvidia");
    let (props, device_uuid, _) = vk.properties();
    assert_eq!(props.vendor_id, 0x10de);
    assert_eq!(device_uuid[0], 0x0f);
    let rgba = vk::Format::R8G8B8A8_UNORM;
    assert_eq!(
        image_external(&vk, rgba, vk::ImageTiling::OPTIMAL, DMA_BUF),
        Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED)
    );
    let host = buffer_external(&vk, vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT);
    assert_eq!(host, (0x6, 0x80, 0x80));
    // SAFETY: live physical device.
    let families = unsafe {
        vk.instance
            .get_physical_device_queue_family_properties(vk.physical)
    };
    assert_eq!(families.len(), 5);
    assert_eq!(families[0].queue_count, 16);
}

#[test]
fn full_reports_dedicated_only_dma_buf_and_external_sync() {
    let vk = try_instance_with("full", &[ash::nv::external_memory_capabilities::NAME])
        .expect("instance");
    let rgba = vk::Format::R8G8B8A8_UNORM;
    let dma = image_external(&vk, rgba, vk::ImageTiling::OPTIMAL, DMA_BUF);
    assert_eq!(
        dma,
        Ok((0x7, 0x200, 0x200)),
        "DEDICATED_ONLY | EXPORTABLE | IMPORTABLE"
    );
    assert_eq!(
        image_external(
            &vk,
            vk::Format::D32_SFLOAT,
            vk::ImageTiling::OPTIMAL,
            DMA_BUF
        ),
        Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED),
        "the per-format override"
    );
    assert_eq!(buffer_external(&vk, DMA_BUF), (0x6, 0x200, 0x200));

    let sem_info = vk::PhysicalDeviceExternalSemaphoreInfo::default()
        .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
    let mut sem = vk::ExternalSemaphoreProperties::default();
    // SAFETY: valid structures.
    unsafe {
        vk.instance
            .get_physical_device_external_semaphore_properties(vk.physical, &sem_info, &mut sem)
    };
    assert_eq!(sem.external_semaphore_features.as_raw(), 0x3);
    let mut timeline =
        vk::SemaphoreTypeCreateInfo::default().semaphore_type(vk::SemaphoreType::TIMELINE);
    let sem_info = sem_info.push_next(&mut timeline);
    let mut sem = vk::ExternalSemaphoreProperties::default();
    // SAFETY: valid structures.
    unsafe {
        vk.instance
            .get_physical_device_external_semaphore_properties(vk.physical, &sem_info, &mut sem)
    };
    assert_eq!(
        sem.external_semaphore_features.as_raw(),
        0,
        "no SYNC_FD timeline semaphores"
    );

    let nv = ash::nv::external_memory_capabilities::Instance::new(&vk.entry, &vk.instance);
    let mut nv_props = vk::ExternalImageFormatPropertiesNV::default();
    // SAFETY: valid arguments.
    unsafe {
        (nv.fp()
            .get_physical_device_external_image_format_properties_nv)(
            vk.physical,
            rgba,
            vk::ImageType::TYPE_2D,
            vk::ImageTiling::OPTIMAL,
            vk::ImageUsageFlags::SAMPLED,
            vk::ImageCreateFlags::empty(),
            vk::ExternalMemoryHandleTypeFlagsNV::OPAQUE_WIN32,
            &mut nv_props,
        )
    }
    .result()
    .expect("NV query");
    assert_eq!(nv_props.external_memory_features.as_raw(), 0x6);

    // A dma-buf image requires a dedicated allocation; the memory can be exported as dma-buf
    // and its fd properties follow the profile.
    let device = vk.device(&[
        ash::khr::external_memory_fd::NAME,
        ash::ext::external_memory_dma_buf::NAME,
    ]);
    let mut ext = vk::ExternalMemoryImageCreateInfo::default().handle_types(DMA_BUF);
    let info = vk::ImageCreateInfo::default()
        .image_type(vk::ImageType::TYPE_2D)
        .format(rgba)
        .extent(vk::Extent3D {
            width: 64,
            height: 64,
            depth: 1,
        })
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(vk::ImageUsageFlags::SAMPLED)
        .push_next(&mut ext);
    // SAFETY: valid create info.
    let image = unsafe { device.create_image(&info, None) }.expect("vkCreateImage");
    let mut dedicated = vk::MemoryDedicatedRequirements::default();
    let mut reqs = vk::MemoryRequirements2::default().push_next(&mut dedicated);
    let req_info = vk::ImageMemoryRequirementsInfo2::default().image(image);
    // SAFETY: live image, valid chain.
    unsafe { device.get_image_memory_requirements2(&req_info, &mut reqs) };
    let size = reqs.memory_requirements.size;
    assert!(size >= 64 * 64 * 4);
    assert_eq!(dedicated.requires_dedicated_allocation, vk::TRUE);

    let memory = allocate(&vk, &device, size, DMA_BUF);
    // SAFETY: live objects.
    unsafe { device.bind_image_memory(image, memory, 0) }.expect("bind");
    let fds = ash::khr::external_memory_fd::Device::new(&vk.instance, &device);
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(memory)
        .handle_type(DMA_BUF);
    // SAFETY: memory exportable as dma-buf.
    let fd = unsafe { fds.get_memory_fd(&get) }.expect("dma-buf export");
    let mut fd_props = vk::MemoryFdPropertiesKHR::default();
    // SAFETY: valid arguments.
    unsafe { fds.get_memory_fd_properties(DMA_BUF, fd, &mut fd_props) }
        .expect("dma-buf fd properties");
    assert_eq!(fd_props.memory_type_bits, 0x3);
    let mut fd_props = vk::MemoryFdPropertiesKHR::default();
    // SAFETY: valid arguments (OPAQUE_FD is invalid usage on purpose).
    let opaque = unsafe { fds.get_memory_fd_properties(OPAQUE_FD, fd, &mut fd_props) };
    assert_eq!(opaque, Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE));
    close(fd);
    // SAFETY: live objects.
    unsafe {
        device.destroy_image(image, None);
        device.free_memory(memory, None);
        device.destroy_device(None);
    }
}

#[test]
fn full_semaphore_and_fence_fds() {
    let vk = instance("full");
    let device = vk.device(&[
        ash::khr::external_semaphore_fd::NAME,
        ash::khr::external_fence_fd::NAME,
        ash::khr::external_memory_fd::NAME,
    ]);
    let sem_fd = ash::khr::external_semaphore_fd::Device::new(&vk.instance, &device);
    let fence_fd = ash::khr::external_fence_fd::Device::new(&vk.instance, &device);
    let types = vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD
        | vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD;
    let mut export = vk::ExportSemaphoreCreateInfo::default().handle_types(types);
    let info = vk::SemaphoreCreateInfo::default().push_next(&mut export);
    // SAFETY: valid create info.
    let sem = unsafe { device.create_semaphore(&info, None) }.expect("semaphore");
    for ht in [
        vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD,
        vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD,
    ] {
        let get = vk::SemaphoreGetFdInfoKHR::default()
            .semaphore(sem)
            .handle_type(ht);
        // SAFETY: exportable semaphore.
        let fd = unsafe { sem_fd.get_semaphore_fd(&get) }.expect("semaphore export");
        assert!(is_open(fd));
        let import = vk::ImportSemaphoreFdInfoKHR::default()
            .semaphore(sem)
            .handle_type(ht)
            .fd(fd);
        // SAFETY: valid import; the fd moves to the driver.
        unsafe { sem_fd.import_semaphore_fd(&import) }.expect("semaphore import");
        assert!(!is_open(fd), "a successful import consumes the fd");
    }
    let bad = vk::ImportSemaphoreFdInfoKHR::default()
        .semaphore(sem)
        .handle_type(vk::ExternalSemaphoreHandleTypeFlags::OPAQUE_FD)
        .fd(-1);
    // SAFETY: invalid fd on purpose.
    assert_eq!(
        unsafe { sem_fd.import_semaphore_fd(&bad) },
        Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE)
    );

    let mut export = vk::ExportFenceCreateInfo::default()
        .handle_types(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
    let info = vk::FenceCreateInfo::default()
        .flags(vk::FenceCreateFlags::SIGNALED)
        .push_next(&mut export);
    // SAFETY: valid create info.
    let fence = unsafe { device.create_fence(&info, None) }.expect("fence");
    let get = vk::FenceGetFdInfoKHR::default()
        .fence(fence)
        .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
    // SAFETY: exportable fence.
    let fd = unsafe { fence_fd.get_fence_fd(&get) }.expect("fence export");
    // SAFETY: live fence.
    assert_eq!(
        unsafe { device.get_fence_status(fence) },
        Ok(false),
        "exporting a sync file resets the fence"
    );
    let import = vk::ImportFenceFdInfoKHR::default()
        .fence(fence)
        .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD)
        .fd(fd);
    // SAFETY: valid import.
    unsafe { fence_fd.import_fence_fd(&import) }.expect("fence import");
    assert!(!is_open(fd));
    // SAFETY: live fence.
    assert_eq!(unsafe { device.get_fence_status(fence) }, Ok(true));
    // SAFETY: live objects.
    unsafe {
        device.destroy_fence(fence, None);
        device.destroy_semaphore(sem, None);
        device.destroy_device(None);
    }
}

#[test]
fn submissions_signal_fences_and_timelines() {
    let vk = instance("full");
    let device = vk.device(&[]);
    // SAFETY: the device was created with one queue of family 0.
    let queue = unsafe { device.get_device_queue(0, 0) };
    let pool_info = vk::CommandPoolCreateInfo::default().queue_family_index(0);
    // SAFETY: valid create info.
    let pool = unsafe { device.create_command_pool(&pool_info, None) }.expect("pool");
    let alloc = vk::CommandBufferAllocateInfo::default()
        .command_pool(pool)
        .command_buffer_count(2);
    // SAFETY: valid allocate info.
    let cbs = unsafe { device.allocate_command_buffers(&alloc) }.expect("command buffers");
    // SAFETY: live command buffer, recording no-ops.
    unsafe {
        device
            .begin_command_buffer(cbs[0], &vk::CommandBufferBeginInfo::default())
            .expect("begin");
        device.cmd_pipeline_barrier(
            cbs[0],
            vk::PipelineStageFlags::ALL_COMMANDS,
            vk::PipelineStageFlags::ALL_COMMANDS,
            vk::DependencyFlags::empty(),
            &[],
            &[],
            &[],
        );
        device.end_command_buffer(cbs[0]).expect("end");
    }
    let mut ty = vk::SemaphoreTypeCreateInfo::default()
        .semaphore_type(vk::SemaphoreType::TIMELINE)
        .initial_value(5);
    // SAFETY: valid create info.
    let timeline = unsafe {
        device.create_semaphore(&vk::SemaphoreCreateInfo::default().push_next(&mut ty), None)
    }
    .expect("timeline");
    // SAFETY: valid create info.
    let fence =
        unsafe { device.create_fence(&vk::FenceCreateInfo::default(), None) }.expect("fence");
    // SAFETY: live fence.
    assert_eq!(unsafe { device.get_fence_status(fence) }, Ok(false));
    let values = [9u64];
    let sems = [timeline];
    let mut tl = vk::TimelineSemaphoreSubmitInfo::default().signal_semaphore_values(&values);
    let submit = vk::SubmitInfo::default()
        .command_buffers(&cbs[..1])
        .signal_semaphores(&sems)
        .push_next(&mut tl);
    // SAFETY: valid submission.
    unsafe { device.queue_submit(queue, &[submit], fence) }.expect("submit");
    // SAFETY: live objects.
    unsafe {
        device
            .wait_for_fences(&[fence], true, u64::MAX)
            .expect("fence wait");
        assert_eq!(device.get_fence_status(fence), Ok(true));
        assert_eq!(device.get_semaphore_counter_value(timeline), Ok(9));
        let wait_values = [20u64];
        let wait = vk::SemaphoreWaitInfo::default()
            .semaphores(&sems)
            .values(&wait_values);
        assert_eq!(device.wait_semaphores(&wait, 0), Err(vk::Result::TIMEOUT));
        assert_eq!(
            device.wait_semaphores(&wait, 1_000_000),
            Err(vk::Result::TIMEOUT),
            "nothing signals 20: the timeout is honoured"
        );
        device
            .signal_semaphore(
                &vk::SemaphoreSignalInfo::default()
                    .semaphore(timeline)
                    .value(20),
            )
            .expect("signal");
        device.wait_semaphores(&wait, u64::MAX).expect("wait");
        assert_eq!(device.get_semaphore_counter_value(timeline), Ok(20));
        device
            .signal_semaphore(
                &vk::SemaphoreSignalInfo::default()
                    .semaphore(timeline)
                    .value(30),
            )
            .expect("signal");
        assert_eq!(device.get_semaphore_counter_value(timeline), Ok(30));
        device.reset_fences(&[fence]).expect("reset");
        device.queue_wait_idle(queue).expect("idle");
        device.device_wait_idle().expect("idle");
        device.free_command_buffers(pool, &cbs);
        device.destroy_command_pool(pool, None);
        device.destroy_fence(fence, None);
        device.destroy_semaphore(timeline, None);
        device.destroy_device(None);
    }
}

#[test]
fn unknown_handles_give_errors_not_crashes() {
    let vk = instance("lavapipe");
    let device = vk.device(&[ash::khr::external_memory_fd::NAME]);
    let fds = ash::khr::external_memory_fd::Device::new(&vk.instance, &device);
    let bogus_memory = vk::DeviceMemory::from_raw(0xdead_0000);
    let bogus_buffer = vk::Buffer::from_raw(0xdead_0008);
    // SAFETY: the handles are invalid on purpose; the mock must reject them.
    unsafe {
        assert_eq!(
            device.map_memory(bogus_memory, 0, vk::WHOLE_SIZE, vk::MemoryMapFlags::empty()),
            Err(vk::Result::ERROR_MEMORY_MAP_FAILED)
        );
        let get = vk::MemoryGetFdInfoKHR::default()
            .memory(bogus_memory)
            .handle_type(OPAQUE_FD);
        assert_eq!(
            fds.get_memory_fd(&get),
            Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE)
        );
        assert!(device
            .bind_buffer_memory(bogus_buffer, bogus_memory, 0)
            .is_err());
        assert!(device
            .get_fence_status(vk::Fence::from_raw(0xdead_0010))
            .is_err());
        device.free_memory(bogus_memory, None);
        device.destroy_buffer(bogus_buffer, None);
        device.unmap_memory(bogus_memory);
        let reqs = device.get_buffer_memory_requirements(bogus_buffer);
        assert_eq!(reqs.size, 0);
        // A memory type that does not exist, and a second map of mapped memory.
        let info = vk::MemoryAllocateInfo::default()
            .allocation_size(4096)
            .memory_type_index(7);
        assert_eq!(
            device.allocate_memory(&info, None),
            Err(vk::Result::ERROR_OUT_OF_DEVICE_MEMORY)
        );
    }
    let memory = allocate(
        &vk,
        &device,
        4096,
        vk::ExternalMemoryHandleTypeFlags::empty(),
    );
    let _mapped = map(&device, memory, 4096);
    // SAFETY: mapping mapped memory again is invalid on purpose.
    let again = unsafe { device.map_memory(memory, 0, 16, vk::MemoryMapFlags::empty()) };
    assert_eq!(again, Err(vk::Result::ERROR_MEMORY_MAP_FAILED));
    // SAFETY: live objects; the device frees what is left.
    unsafe { device.destroy_device(None) };
}

#[test]
fn json_profile_files_and_bad_profiles() {
    let path = temp_dir().join("profile.json");
    std::fs::write(&path, r#"{"base": "nvidia", "deviceName": "custom device", "deviceUUID": "000102030405060708090a0b0c0d0e0f"}"#)
        .expect("profile file");
    {
        let vk = instance(path.to_str().expect("utf-8 path"));
        let (props, device_uuid, _) = vk.properties();
        // SAFETY: NUL-terminated by the driver.
        let name = unsafe { CStr::from_ptr(props.device_name.as_ptr()) };
        assert_eq!(name.to_str(), Ok("custom device"));
        assert_eq!(device_uuid[15], 0x0f);
        assert_eq!(props.vendor_id, 0x10de, "the rest comes from the base");
    }
    assert!(
        try_instance("no-such-profile").is_err(),
        "an unknown name fails instance creation"
    );
    std::fs::write(&path, "{ broken").expect("profile file");
    assert!(
        try_instance(path.to_str().expect("utf-8 path")).is_err(),
        "an invalid file fails instance creation"
    );
    // Back to a good profile: the next instance works again.
    let vk = instance("lavapipe");
    let _ = vk.properties();
}

#[test]
fn cyclic_and_unknown_output_chains_do_not_hang() {
    let vk = instance("full");
    let mut id = vk::PhysicalDeviceIDProperties::default();
    let mut unknown = vk::PhysicalDeviceIDProperties {
        s_type: vk::StructureType::from_raw(0x7fff_0000),
        ..Default::default()
    };
    let mut driver = vk::PhysicalDeviceDriverProperties::default();
    // id -> unknown -> driver -> id: a cycle the driver must not follow forever.
    id.p_next = (&mut unknown as *mut vk::PhysicalDeviceIDProperties<'_>).cast();
    unknown.p_next = (&mut driver as *mut vk::PhysicalDeviceDriverProperties<'_>).cast();
    driver.p_next = (&mut id as *mut vk::PhysicalDeviceIDProperties<'_>).cast();
    let mut props = vk::PhysicalDeviceProperties2 {
        p_next: (&mut id as *mut vk::PhysicalDeviceIDProperties<'_>).cast(),
        ..Default::default()
    };
    // SAFETY: every node is a live, writable structure; the cycle is the point of the test.
    unsafe { (vk.instance.fp_v1_1().get_physical_device_properties2)(vk.physical, &mut props) };
    assert_eq!(&id.device_uuid[..12], b"handoff-full");
    assert_eq!(
        unknown.device_uuid, [0; 16],
        "an unknown sType is left alone"
    );
    // SAFETY: NUL-terminated by the driver.
    let name = unsafe { CStr::from_ptr(driver.driver_name.as_ptr()) };
    assert_eq!(name.to_str(), Ok("handoff-mock"));
}

#[test]
fn host_pointer_import_maps_the_apps_memory() {
    const SIZE: usize = 8192;
    let vk = instance("lavapipe");
    let device = vk.device(&[ash::ext::external_memory_host::NAME]);
    // SAFETY: a fresh anonymous mapping, page aligned.
    let host = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(host, libc::MAP_FAILED);
    // SAFETY: `host` is SIZE writable bytes.
    unsafe { host.cast::<u8>().add(10).write(0x5a) };
    let host_ext = ash::ext::external_memory_host::Device::new(&vk.instance, &device);
    let mut props = vk::MemoryHostPointerPropertiesEXT::default();
    let ht = vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT;
    // SAFETY: valid arguments.
    unsafe {
        (host_ext.fp().get_memory_host_pointer_properties_ext)(
            device.handle(),
            ht,
            host,
            &mut props,
        )
    }
    .result()
    .expect("host pointer properties");
    assert_eq!(props.memory_type_bits, 0x1);
    let mut import = vk::ImportMemoryHostPointerInfoEXT::default()
        .handle_type(ht)
        .host_pointer(host);
    let info = vk::MemoryAllocateInfo::default()
        .allocation_size(SIZE as u64)
        .memory_type_index(0)
        .push_next(&mut import);
    // SAFETY: valid import of live host memory.
    let memory = unsafe { device.allocate_memory(&info, None) }.expect("host pointer import");
    let mapped = map(&device, memory, SIZE);
    assert_eq!(
        mapped.as_ptr() as usize,
        host as usize,
        "the mapping is the app's memory"
    );
    assert_eq!(mapped[10], 0x5a);
    // An unaligned pointer is rejected.
    // SAFETY: `host + 1` is inside the mapping.
    let unaligned = unsafe { host.cast::<u8>().add(1) }.cast::<std::ffi::c_void>();
    let mut bad = vk::ImportMemoryHostPointerInfoEXT::default()
        .handle_type(ht)
        .host_pointer(unaligned);
    let bad_info = vk::MemoryAllocateInfo::default()
        .allocation_size(4096)
        .memory_type_index(0)
        .push_next(&mut bad);
    // SAFETY: invalid import on purpose.
    assert_eq!(
        unsafe { device.allocate_memory(&bad_info, None) },
        Err(vk::Result::ERROR_INVALID_EXTERNAL_HANDLE)
    );
    // SAFETY: live objects; the host memory outlives the allocation.
    unsafe {
        device.unmap_memory(memory);
        device.free_memory(memory, None);
        device.destroy_device(None);
        libc::munmap(host, SIZE);
    }
}

#[test]
fn drm_format_modifiers_on_full() {
    let vk = instance("full");
    let format = vk::Format::R8G8B8A8_UNORM;
    let mut list = vk::DrmFormatModifierPropertiesListEXT::default();
    let mut props = vk::FormatProperties2::default().push_next(&mut list);
    // SAFETY: valid chain (count query).
    unsafe {
        vk.instance
            .get_physical_device_format_properties2(vk.physical, format, &mut props)
    };
    let linear = props.format_properties.linear_tiling_features;
    assert_eq!(list.drm_format_modifier_count, 1);
    let mut mods = [vk::DrmFormatModifierPropertiesEXT::default(); 1];
    let mut list =
        vk::DrmFormatModifierPropertiesListEXT::default().drm_format_modifier_properties(&mut mods);
    let mut props = vk::FormatProperties2::default().push_next(&mut list);
    // SAFETY: valid chain with room for one modifier.
    unsafe {
        vk.instance
            .get_physical_device_format_properties2(vk.physical, format, &mut props)
    };
    assert_eq!(mods[0].drm_format_modifier, 0);
    assert_eq!(mods[0].drm_format_modifier_plane_count, 1);
    assert_eq!(mods[0].drm_format_modifier_tiling_features, linear);

    let mut drm_info =
        vk::PhysicalDeviceImageDrmFormatModifierInfoEXT::default().drm_format_modifier(0);
    let info =
        image_info(format, vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT).push_next(&mut drm_info);
    let mut out = vk::ImageFormatProperties2::default();
    // SAFETY: valid chains.
    unsafe {
        vk.instance
            .get_physical_device_image_format_properties2(vk.physical, &info, &mut out)
    }
    .expect("linear modifier supported");
    let mut drm_info =
        vk::PhysicalDeviceImageDrmFormatModifierInfoEXT::default().drm_format_modifier(42);
    let info =
        image_info(format, vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT).push_next(&mut drm_info);
    // SAFETY: valid chains.
    let other = unsafe {
        vk.instance
            .get_physical_device_image_format_properties2(vk.physical, &info, &mut out)
    };
    assert_eq!(other, Err(vk::Result::ERROR_FORMAT_NOT_SUPPORTED));

    let device = vk.device(&[ash::ext::image_drm_format_modifier::NAME]);
    let modifiers = [0u64];
    let mut list_info =
        vk::ImageDrmFormatModifierListCreateInfoEXT::default().drm_format_modifiers(&modifiers);
    let create = vk::ImageCreateInfo::default()
        .image_type(vk::ImageType::TYPE_2D)
        .format(format)
        .extent(vk::Extent3D {
            width: 16,
            height: 16,
            depth: 1,
        })
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::DRM_FORMAT_MODIFIER_EXT)
        .usage(vk::ImageUsageFlags::SAMPLED)
        .push_next(&mut list_info);
    // SAFETY: valid create info.
    let image = unsafe { device.create_image(&create, None) }.expect("DRM image");
    let drm = ash::ext::image_drm_format_modifier::Device::new(&vk.instance, &device);
    let mut image_props = vk::ImageDrmFormatModifierPropertiesEXT::default();
    // SAFETY: live DRM-modifier image.
    unsafe { drm.get_image_drm_format_modifier_properties(image, &mut image_props) }
        .expect("modifier");
    assert_eq!(image_props.drm_format_modifier, 0);
    // SAFETY: live objects.
    unsafe {
        device.destroy_image(image, None);
        device.destroy_device(None);
    }
}

/// `(deviceName, deviceUUID, driverUUID)` of a physical device.
fn identity(vk: &Vk, physical: vk::PhysicalDevice) -> (String, [u8; 16], [u8; 16]) {
    let mut id = vk::PhysicalDeviceIDProperties::default();
    let mut props = vk::PhysicalDeviceProperties2::default().push_next(&mut id);
    // SAFETY: live physical device, valid chain.
    unsafe {
        vk.instance
            .get_physical_device_properties2(physical, &mut props)
    };
    let name = props
        .properties
        .device_name_as_c_str()
        .expect("device name")
        .to_string_lossy()
        .into_owned();
    (name, id.device_uuid, id.driver_uuid)
}

/// The instance's device groups as `(devices, subsetAllocation)`.
fn groups(vk: &Vk) -> Vec<(Vec<vk::PhysicalDevice>, bool)> {
    // SAFETY: live instance.
    let n = unsafe { vk.instance.enumerate_physical_device_groups_len() }.expect("group count");
    let mut out = vec![vk::PhysicalDeviceGroupProperties::default(); n];
    // SAFETY: `out` has room for `n` groups.
    unsafe { vk.instance.enumerate_physical_device_groups(&mut out) }.expect("groups");
    out.iter()
        .map(|g| {
            (
                g.physical_devices[..g.physical_device_count as usize].to_vec(),
                g.subset_allocation == vk::TRUE,
            )
        })
        .collect()
}

/// A device on `physical` with one queue, the fd extension and an optional group.
fn device_on(
    vk: &Vk,
    physical: vk::PhysicalDevice,
    group: Option<&[vk::PhysicalDevice]>,
) -> Result<ash::Device, vk::Result> {
    let priorities = [1.0f32];
    let queues = [vk::DeviceQueueCreateInfo::default()
        .queue_family_index(0)
        .queue_priorities(&priorities)];
    let names = [ash::khr::external_memory_fd::NAME.as_ptr()];
    let mut group_info = vk::DeviceGroupDeviceCreateInfo::default();
    let mut info = vk::DeviceCreateInfo::default()
        .queue_create_infos(&queues)
        .enabled_extension_names(&names);
    if let Some(g) = group {
        group_info = group_info.physical_devices(g);
        info = info.push_next(&mut group_info);
    }
    // SAFETY: valid create info for a physical device of the instance.
    unsafe { vk.instance.create_device(physical, &info, None) }
}

#[test]
fn one_physical_device_in_a_group_of_one_on_lavapipe_and_nvidia() {
    for profile in ["lavapipe", "nvidia"] {
        let vk = instance(profile);
        // SAFETY: live instance.
        let all = unsafe { vk.instance.enumerate_physical_devices() }.expect("devices");
        assert_eq!(all, vec![vk.physical], "{profile}");
        assert_eq!(groups(&vk), vec![(vec![vk.physical], false)], "{profile}");
    }
}

#[test]
fn full_has_two_physical_devices_in_one_group() {
    let vk = instance("full");
    // SAFETY: live instance.
    let all = unsafe { vk.instance.enumerate_physical_devices() }.expect("devices");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], vk.physical, "the profile's own device comes first");
    let (name0, dev0, drv0) = identity(&vk, all[0]);
    let (name1, dev1, drv1) = identity(&vk, all[1]);
    assert_eq!(name0, "Handoff mock device (full)");
    assert_eq!(name1, "Handoff mock device (full, second)");
    assert_eq!(&dev0, b"handoff-full-dev");
    assert_eq!(&drv0, b"handoff-full-drv");
    assert_eq!(&dev1, b"handoff-full-dv2");
    assert_eq!(&drv1, b"handoff-full-dr2");
    assert_eq!(groups(&vk), vec![(all.clone(), true)]);
    // The second device answers the same capability queries.
    let mut fd_props = vk::ExternalBufferProperties::default();
    let info = vk::PhysicalDeviceExternalBufferInfo::default()
        .usage(vk::BufferUsageFlags::TRANSFER_SRC)
        .handle_type(DMA_BUF);
    // SAFETY: live physical device, valid structures.
    unsafe {
        vk.instance
            .get_physical_device_external_buffer_properties(all[1], &info, &mut fd_props)
    };
    assert_eq!(
        triple(fd_props.external_memory_properties),
        (0x6, 0x200, 0x200)
    );
}

#[test]
fn full_device_groups_check_members_and_device_masks() {
    const SIZE: u64 = 4096;
    let vk = instance("full");
    // SAFETY: live instance.
    let all = unsafe { vk.instance.enumerate_physical_devices() }.expect("devices");
    let group = device_on(&vk, all[0], Some(&all)).expect("device on the 2-device group");
    let alloc = |mask: Option<u32>| {
        let mut flags = vk::MemoryAllocateFlagsInfo::default()
            .flags(vk::MemoryAllocateFlags::DEVICE_MASK)
            .device_mask(mask.unwrap_or(0));
        let mut info = vk::MemoryAllocateInfo::default()
            .allocation_size(SIZE)
            .memory_type_index(vk.host_visible_type());
        if mask.is_some() {
            info = info.push_next(&mut flags);
        }
        // SAFETY: valid allocate info.
        unsafe { group.allocate_memory(&info, None) }
    };
    for mask in [None, Some(0b01), Some(0b10), Some(0b11)] {
        let memory = alloc(mask).unwrap_or_else(|e| panic!("mask {mask:?}: {e:?}"));
        // SAFETY: live memory, unused.
        unsafe { group.free_memory(memory, None) };
    }
    for mask in [0, 0b100, 0x8000_0000] {
        assert_eq!(
            alloc(Some(mask)),
            Err(vk::Result::ERROR_OUT_OF_DEVICE_MEMORY),
            "mask {mask:#x} is outside the group"
        );
    }
    // SAFETY: no objects left on the device.
    unsafe { group.destroy_device(None) };

    // The group may list the devices in any order, or only some of them...
    let reversed = [all[1], all[0]];
    let d = device_on(&vk, all[1], Some(&reversed)).expect("reversed group");
    // SAFETY: idle device.
    unsafe { d.destroy_device(None) };
    let d = device_on(&vk, all[1], Some(&all[1..])).expect("group of the second device only");
    // SAFETY: idle device.
    unsafe { d.destroy_device(None) };
    // ...but must contain the device it is created on, each device once.
    assert_eq!(
        device_on(&vk, all[0], Some(&all[1..])).err(),
        Some(vk::Result::ERROR_INITIALIZATION_FAILED)
    );
    assert_eq!(
        device_on(&vk, all[0], Some(&[all[0], all[0]])).err(),
        Some(vk::Result::ERROR_INITIALIZATION_FAILED)
    );
}

#[test]
fn full_memory_exported_on_one_physical_device_imports_on_the_other() {
    const SIZE: u64 = 65536;
    let vk = instance("full");
    // SAFETY: live instance.
    let all = unsafe { vk.instance.enumerate_physical_devices() }.expect("devices");
    let a = device_on(&vk, all[0], None).expect("device A on physical device 0");
    let b = device_on(&vk, all[1], None).expect("device B on physical device 1");
    let fd_a = ash::khr::external_memory_fd::Device::new(&vk.instance, &a);
    let exported = allocate(&vk, &a, SIZE, OPAQUE_FD);
    let bytes_a = map(&a, exported, SIZE as usize);
    bytes_a.fill(0x5A);
    let get = vk::MemoryGetFdInfoKHR::default()
        .memory(exported)
        .handle_type(OPAQUE_FD);
    // SAFETY: memory allocated exportable as OPAQUE_FD.
    let fd = unsafe { fd_a.get_memory_fd(&get) }.expect("vkGetMemoryFdKHR");
    let imported = import(&vk, &b, SIZE, OPAQUE_FD, fd).expect("import on physical device 1");
    let bytes_b = map(&b, imported, SIZE as usize);
    assert!(bytes_b.iter().all(|v| *v == 0x5A), "B reads A's bytes");
    bytes_b[7] = 0xC3;
    assert_eq!(bytes_a[7], 0xC3, "A sees B's writes");
    // SAFETY: the objects are live and idle.
    unsafe {
        b.unmap_memory(imported);
        b.free_memory(imported, None);
        a.unmap_memory(exported);
        a.free_memory(exported, None);
        a.destroy_device(None);
        b.destroy_device(None);
    }
}

/// `vkHandoffMockHoldQueueEXT` as the mock's README documents it.
type HoldQueue = unsafe extern "system" fn(vk::Queue, vk::Bool32);

fn hold_fn(vk: &Vk, device: &ash::Device) -> HoldQueue {
    // SAFETY: live device; a NUL-terminated name.
    let f = unsafe {
        vk.instance
            .get_device_proc_addr(device.handle(), c"vkHandoffMockHoldQueueEXT".as_ptr())
    }
    .expect("the mock hands out vkHandoffMockHoldQueueEXT");
    // SAFETY: the mock's function has this signature (README.md).
    unsafe { std::mem::transmute::<unsafe extern "system" fn(), HoldQueue>(f) }
}

#[test]
fn held_queues_keep_work_pending() {
    let vk = instance("full");
    let device = vk.device(&[
        ash::khr::external_semaphore_fd::NAME,
        ash::khr::external_fence_fd::NAME,
    ]);
    let hold = hold_fn(&vk, &device);
    let sem_fd = ash::khr::external_semaphore_fd::Device::new(&vk.instance, &device);
    let fence_fd = ash::khr::external_fence_fd::Device::new(&vk.instance, &device);
    // SAFETY: the device was created with one queue of family 0.
    let queue = unsafe { device.get_device_queue(0, 0) };
    let mut export = vk::ExportSemaphoreCreateInfo::default()
        .handle_types(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
    // SAFETY: valid create info.
    let sem = unsafe {
        device.create_semaphore(
            &vk::SemaphoreCreateInfo::default().push_next(&mut export),
            None,
        )
    }
    .expect("semaphore");
    let mut fexport = vk::ExportFenceCreateInfo::default()
        .handle_types(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
    // SAFETY: valid create info.
    let fence = unsafe {
        device.create_fence(
            &vk::FenceCreateInfo::default().push_next(&mut fexport),
            None,
        )
    }
    .expect("fence");
    let sems = [sem];
    let submit = vk::SubmitInfo::default().signal_semaphores(&sems);
    // SAFETY: live objects; valid submission.
    unsafe {
        hold(queue, vk::TRUE);
        device
            .queue_submit(queue, &[submit], fence)
            .expect("submit");
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(device.get_fence_status(fence), Ok(false), "held: pending");
        assert_eq!(
            device.wait_for_fences(&[fence], true, 0),
            Err(vk::Result::TIMEOUT)
        );
        assert_eq!(
            device.wait_for_fences(&[fence], true, 20_000_000),
            Err(vk::Result::TIMEOUT)
        );
    }
    let get = vk::SemaphoreGetFdInfoKHR::default()
        .semaphore(sem)
        .handle_type(vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD);
    // SAFETY: exportable semaphore with a pending signal.
    let sfd = unsafe { sem_fd.get_semaphore_fd(&get) }.expect("semaphore export");
    let fget = vk::FenceGetFdInfoKHR::default()
        .fence(fence)
        .handle_type(vk::ExternalFenceHandleTypeFlags::SYNC_FD);
    // SAFETY: exportable fence with a pending signal.
    let ffd = unsafe { fence_fd.get_fence_fd(&fget) }.expect("fence export");
    let readable = |fd: RawFd| {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    };
    assert!(!readable(sfd) && !readable(ffd), "pending sync files");
    // SAFETY: live objects.
    unsafe {
        hold(queue, vk::FALSE);
        device
            .wait_for_fences(&[fence], true, u64::MAX)
            .expect("released: the fence signals");
        device.queue_wait_idle(queue).expect("idle");
    }
    assert!(readable(sfd) && readable(ffd), "signaled sync files");
    close(sfd);
    close(ffd);
    // SAFETY: live objects, idle device.
    unsafe {
        device.device_wait_idle().expect("idle");
        device.destroy_fence(fence, None);
        device.destroy_semaphore(sem, None);
        device.destroy_device(None);
    }
}

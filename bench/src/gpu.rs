//! The child's Vulkan context: one instance, one device with one queue, and a messenger that
//! counts what every layer reports (a valid workload must stay at zero).

use ash::vk;
use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicU64, Ordering};

/// Messages of WARNING or ERROR severity received by the messenger.
pub static FINDINGS: AtomicU64 = AtomicU64::new(0);

unsafe extern "system" fn count_findings(
    severity: vk::DebugUtilsMessageSeverityFlagsEXT,
    _types: vk::DebugUtilsMessageTypeFlagsEXT,
    data: *const vk::DebugUtilsMessengerCallbackDataEXT<'_>,
    _user: *mut c_void,
) -> vk::Bool32 {
    FINDINGS.fetch_add(1, Ordering::Relaxed);
    if std::env::var_os("HANDOFF_BENCH_VERBOSE").is_some() {
        // SAFETY: the loader passes a valid callback data struct for the call.
        if let Some(d) = unsafe { data.as_ref() } {
            let msg = if d.p_message.is_null() {
                Default::default()
            } else {
                // SAFETY: a non-null message is NUL-terminated.
                unsafe { CStr::from_ptr(d.p_message) }.to_string_lossy()
            };
            eprintln!("[bench] {severity:?}: {msg}");
        }
    }
    vk::FALSE
}

pub struct Gpu {
    pub entry: ash::Entry,
    pub instance: ash::Instance,
    pub physical: vk::PhysicalDevice,
    pub device: ash::Device,
    pub queue: vk::Queue,
    pub family: u32,
    pub memory_fd: ash::khr::external_memory_fd::Device,
    debug: (ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT),
    memory_props: vk::PhysicalDeviceMemoryProperties,
}

fn check<T>(what: &str, r: Result<T, vk::Result>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

impl Gpu {
    /// Instance (Vulkan 1.1) with a counting messenger, the first physical device, a device
    /// with one queue of family 0 and, when `share`, `VK_KHR_external_memory_fd`.
    pub fn new(share: bool) -> Gpu {
        // SAFETY: loads the system's libvulkan.so.1.
        let entry =
            unsafe { ash::Entry::load() }.expect("libvulkan.so.1 (apt-get install libvulkan1)");
        let exts = [ash::ext::debug_utils::NAME.as_ptr()];
        let app = vk::ApplicationInfo::default()
            .application_name(c"handoff-bench")
            .api_version(vk::API_VERSION_1_1);
        let ci = vk::InstanceCreateInfo::default()
            .application_info(&app)
            .enabled_extension_names(&exts);
        // SAFETY: `ci` points at locals alive for the call.
        let instance = check("vkCreateInstance", unsafe {
            entry.create_instance(&ci, None)
        });
        let du = ash::ext::debug_utils::Instance::new(&entry, &instance);
        let mi = vk::DebugUtilsMessengerCreateInfoEXT::default()
            .message_severity(
                vk::DebugUtilsMessageSeverityFlagsEXT::WARNING
                    | vk::DebugUtilsMessageSeverityFlagsEXT::ERROR,
            )
            .message_type(
                vk::DebugUtilsMessageTypeFlagsEXT::GENERAL
                    | vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION
                    | vk::DebugUtilsMessageTypeFlagsEXT::PERFORMANCE,
            )
            .pfn_user_callback(Some(count_findings));
        // SAFETY: valid instance with VK_EXT_debug_utils; the callback is 'static.
        let messenger = check("vkCreateDebugUtilsMessengerEXT", unsafe {
            du.create_debug_utils_messenger(&mi, None)
        });
        // SAFETY: valid instance.
        let physical = check("vkEnumeratePhysicalDevices", unsafe {
            instance.enumerate_physical_devices()
        })[0];
        let prio = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(0)
            .queue_priorities(&prio)];
        let dexts: &[*const std::ffi::c_char] = if share {
            &[ash::khr::external_memory_fd::NAME.as_ptr()]
        } else {
            &[]
        };
        let dci = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(dexts);
        // SAFETY: valid physical device; `dci` points at locals alive for the call.
        let device = check("vkCreateDevice", unsafe {
            instance.create_device(physical, &dci, None)
        });
        // SAFETY: family 0 queue 0 was requested above.
        let queue = unsafe { device.get_device_queue(0, 0) };
        let memory_fd = ash::khr::external_memory_fd::Device::new(&instance, &device);
        // SAFETY: valid physical device.
        let memory_props = unsafe { instance.get_physical_device_memory_properties(physical) };
        Gpu {
            entry,
            instance,
            physical,
            device,
            queue,
            family: 0,
            memory_fd,
            debug: (du, messenger),
            memory_props,
        }
    }

    /// The first memory type in `bits`, preferring DEVICE_LOCAL (host-visible when `host`).
    pub fn memory_type(&self, bits: u32, host: bool) -> u32 {
        let want = if host {
            vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT
        } else {
            vk::MemoryPropertyFlags::empty()
        };
        (0..self.memory_props.memory_type_count)
            .find(|&i| {
                bits & (1 << i) != 0
                    && self.memory_props.memory_types[i as usize]
                        .property_flags
                        .contains(want)
            })
            .expect("a memory type for the resource")
    }

    /// Whether the loader resolves `name` to a function inside Handoff's library (an
    /// intercepted call), for counting the calls workload (f) makes through the layer.
    pub fn intercepted(&self, name: &CStr) -> bool {
        // SAFETY: valid device and NUL-terminated name.
        let f = unsafe {
            (self.instance.fp_v1_0().get_device_proc_addr)(self.device.handle(), name.as_ptr())
        };
        let Some(f) = f else { return false };
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        // SAFETY: dladdr only reads the address; `info` is a valid out pointer.
        if unsafe { libc::dladdr(f as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
            return false;
        }
        // SAFETY: dladdr returned a NUL-terminated file name.
        let file = unsafe { CStr::from_ptr(info.dli_fname) }.to_string_lossy();
        file.contains("libVkLayer_handoff")
    }

    /// `deviceName` and `driverVersion` (read as Mesa and the mock encode it), for the table.
    pub fn device_name(&self) -> String {
        // SAFETY: valid physical device.
        let p = unsafe { self.instance.get_physical_device_properties(self.physical) };
        let name = p
            .device_name_as_c_str()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        let v = p.driver_version;
        format!(
            "{name}, driver {}.{}.{}",
            vk::api_version_major(v),
            vk::api_version_minor(v),
            vk::api_version_patch(v)
        )
    }

    /// Destroys the device, the messenger and the instance.
    pub fn destroy(self) {
        // SAFETY: the workloads waited for their work and destroyed their objects.
        unsafe {
            let _ = self.device.device_wait_idle();
            self.device.destroy_device(None);
            self.debug
                .0
                .destroy_debug_utils_messenger(self.debug.1, None);
            self.instance.destroy_instance(None);
        }
        let _ = &self.entry;
        let _ = self.physical;
    }
}

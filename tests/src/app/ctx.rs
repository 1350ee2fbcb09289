//! Instance, messengers and devices for a scenario.

use std::ffi::{c_void, CStr, CString};

use ash::vk;

use super::args::Args;
use super::record;

/// The layer's name for `VkLayerSettingsCreateInfoEXT::pLayerName`.
pub const LAYER_NAME: &CStr = c"VK_LAYER_HANDOFF_validation";

/// How the instance is set up, from the scenario's arguments:
/// `--no-messenger`, `--chain-messenger`, `--report-callback`, `--callback-returns-true`,
/// `--setting NAME=TYPE:VALUE` (TYPE: `int`, `bool`, `string`, `list`; chains a
/// `VkLayerSettingsCreateInfoEXT` and enables `VK_EXT_layer_settings`), `--instance-ext NAME`
/// (enables one more instance extension).
pub struct InstanceOpts {
    pub messenger: bool,
    pub chain_messenger: bool,
    pub report_callback: bool,
    pub settings: Vec<String>,
    /// More instance extensions to enable.
    pub extensions: Vec<CString>,
}

impl InstanceOpts {
    pub fn from_args(a: &Args) -> InstanceOpts {
        record::set_return_true(a.flag("--callback-returns-true"));
        InstanceOpts {
            messenger: !a.flag("--no-messenger"),
            chain_messenger: a.flag("--chain-messenger"),
            report_callback: a.flag("--report-callback"),
            settings: a
                .values("--setting")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            extensions: a
                .values("--instance-ext")
                .into_iter()
                .map(|e| CString::new(e).unwrap_or_default())
                .collect(),
        }
    }
}

/// A loaded instance with its messengers.
pub struct Ctx {
    pub entry: ash::Entry,
    pub instance: ash::Instance,
    pub physical: vk::PhysicalDevice,
    debug_utils: Option<(ash::ext::debug_utils::Instance, vk::DebugUtilsMessengerEXT)>,
    report: Option<(ash::ext::debug_report::Instance, vk::DebugReportCallbackEXT)>,
}

/// One logical device with the external-memory-fd functions.
pub struct Dev {
    pub device: ash::Device,
    pub fd: ash::khr::external_memory_fd::Device,
}

fn messenger_info(via: usize) -> vk::DebugUtilsMessengerCreateInfoEXT<'static> {
    vk::DebugUtilsMessengerCreateInfoEXT::default()
        .message_severity(
            vk::DebugUtilsMessageSeverityFlagsEXT::VERBOSE
                | vk::DebugUtilsMessageSeverityFlagsEXT::INFO
                | vk::DebugUtilsMessageSeverityFlagsEXT::WARNING
                | vk::DebugUtilsMessageSeverityFlagsEXT::ERROR,
        )
        .message_type(
            vk::DebugUtilsMessageTypeFlagsEXT::GENERAL
                | vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION
                | vk::DebugUtilsMessageTypeFlagsEXT::PERFORMANCE,
        )
        .pfn_user_callback(Some(record::messenger_callback))
        .user_data(via as *mut c_void)
}

/// Values of one `--setting`, kept alive while the instance is created.
enum SettingValues {
    Int(Vec<i32>),
    Bool(Vec<vk::Bool32>),
    /// The strings (kept alive) and the pointers to them.
    Str {
        _owned: Vec<CString>,
        ptrs: Vec<*const std::ffi::c_char>,
    },
}

fn parse_setting(s: &str) -> Result<(CString, SettingValues), String> {
    let (name, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("--setting {s:?}: no '='"))?;
    let (ty, value) = rest
        .split_once(':')
        .ok_or_else(|| format!("--setting {s:?}: no TYPE:"))?;
    let name = CString::new(name).map_err(|e| e.to_string())?;
    let strings = |items: Vec<&str>| -> Result<SettingValues, String> {
        let owned: Vec<CString> = items
            .into_iter()
            .map(CString::new)
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let ptrs = owned.iter().map(|c| c.as_ptr()).collect();
        Ok(SettingValues::Str {
            _owned: owned,
            ptrs,
        })
    };
    let values = match ty {
        "int" => SettingValues::Int(vec![value
            .parse()
            .map_err(|_| format!("--setting {s:?}: bad int"))?]),
        "bool" => SettingValues::Bool(vec![match value {
            "true" => vk::TRUE,
            "false" => vk::FALSE,
            _ => return Err(format!("--setting {s:?}: bad bool")),
        }]),
        "string" => strings(vec![value])?,
        "list" => strings(value.split(',').collect())?,
        _ => return Err(format!("--setting {s:?}: unknown type {ty}")),
    };
    Ok((name, values))
}

impl Ctx {
    /// Loads the loader, creates the instance (API 1.1) and the messengers, and picks the
    /// first physical device.
    pub fn new(opts: &InstanceOpts) -> Result<Ctx, String> {
        // SAFETY: loading libvulkan.so.1 runs its initializers; it is the system loader.
        let entry = unsafe { ash::Entry::load() }.map_err(|e| {
            format!(
                "cannot load libvulkan.so.1 ({e}); install it with `apt-get install libvulkan1`"
            )
        })?;

        let mut exts: Vec<*const std::ffi::c_char> = Vec::new();
        if opts.messenger || opts.chain_messenger {
            exts.push(ash::ext::debug_utils::NAME.as_ptr());
        }
        if opts.report_callback {
            exts.push(ash::ext::debug_report::NAME.as_ptr());
        }
        let settings: Vec<(CString, SettingValues)> = opts
            .settings
            .iter()
            .map(|s| parse_setting(s))
            .collect::<Result<_, _>>()?;
        if !settings.is_empty() {
            exts.push(ash::ext::layer_settings::NAME.as_ptr());
        }
        exts.extend(opts.extensions.iter().map(|e| e.as_ptr()));
        let setting_structs: Vec<vk::LayerSettingEXT<'_>> = settings
            .iter()
            .map(|(name, values)| {
                let (ty, count, ptr) = match values {
                    SettingValues::Int(v) => (
                        vk::LayerSettingTypeEXT::INT32,
                        v.len(),
                        v.as_ptr() as *const c_void,
                    ),
                    SettingValues::Bool(v) => (
                        vk::LayerSettingTypeEXT::BOOL32,
                        v.len(),
                        v.as_ptr() as *const c_void,
                    ),
                    SettingValues::Str { ptrs: p, .. } => (
                        vk::LayerSettingTypeEXT::STRING,
                        p.len(),
                        p.as_ptr() as *const c_void,
                    ),
                };
                vk::LayerSettingEXT {
                    p_layer_name: LAYER_NAME.as_ptr(),
                    p_setting_name: name.as_ptr(),
                    ty,
                    value_count: count as u32,
                    p_values: ptr,
                    ..Default::default()
                }
            })
            .collect();
        let mut layer_settings =
            vk::LayerSettingsCreateInfoEXT::default().settings(&setting_structs);
        let mut chained = messenger_info(record::VIA_CREATE_INFO);

        let app = vk::ApplicationInfo::default()
            .application_name(c"handoff-scenario")
            .api_version(vk::API_VERSION_1_1);
        let mut ci = vk::InstanceCreateInfo::default()
            .application_info(&app)
            .enabled_extension_names(&exts);
        if opts.chain_messenger {
            ci = ci.push_next(&mut chained);
        }
        if !setting_structs.is_empty() {
            ci = ci.push_next(&mut layer_settings);
        }
        // SAFETY: every pointer in `ci` refers to locals alive for the call.
        let instance = unsafe { entry.create_instance(&ci, None) }
            .map_err(|e| format!("vkCreateInstance: {e:?}"))?;

        let mut ctx = Ctx {
            entry,
            instance,
            physical: vk::PhysicalDevice::null(),
            debug_utils: None,
            report: None,
        };
        if opts.messenger {
            let du = ash::ext::debug_utils::Instance::new(&ctx.entry, &ctx.instance);
            // SAFETY: a valid instance with VK_EXT_debug_utils enabled; the callback is 'static.
            let m = unsafe {
                du.create_debug_utils_messenger(&messenger_info(record::VIA_MESSENGER), None)
            }
            .map_err(|e| format!("vkCreateDebugUtilsMessengerEXT: {e:?}"))?;
            ctx.debug_utils = Some((du, m));
        }
        if opts.report_callback {
            let dr = ash::ext::debug_report::Instance::new(&ctx.entry, &ctx.instance);
            let info = vk::DebugReportCallbackCreateInfoEXT::default()
                .flags(
                    vk::DebugReportFlagsEXT::ERROR
                        | vk::DebugReportFlagsEXT::WARNING
                        | vk::DebugReportFlagsEXT::PERFORMANCE_WARNING
                        | vk::DebugReportFlagsEXT::INFORMATION
                        | vk::DebugReportFlagsEXT::DEBUG,
                )
                .pfn_callback(Some(record::report_callback));
            // SAFETY: a valid instance with VK_EXT_debug_report enabled; the callback is 'static.
            // debug_report is deprecated, and tested on purpose: old apps still use it.
            #[allow(deprecated)]
            let cb = unsafe { dr.create_debug_report_callback(&info, None) }
                .map_err(|e| format!("vkCreateDebugReportCallbackEXT: {e:?}"))?;
            ctx.report = Some((dr, cb));
        }
        // SAFETY: valid instance.
        let physicals = unsafe { ctx.instance.enumerate_physical_devices() }
            .map_err(|e| format!("vkEnumeratePhysicalDevices: {e:?}"))?;
        ctx.physical = *physicals
            .first()
            .ok_or_else(|| "no physical device".to_owned())?;
        Ok(ctx)
    }

    /// Device extensions the driver offers.
    fn device_extensions(&self) -> Result<Vec<String>, String> {
        // SAFETY: valid physical device.
        let props = unsafe {
            self.instance
                .enumerate_device_extension_properties(self.physical)
        }
        .map_err(|e| format!("vkEnumerateDeviceExtensionProperties: {e:?}"))?;
        Ok(props
            .iter()
            .filter_map(|p| p.extension_name_as_c_str().ok())
            .map(|c| c.to_string_lossy().into_owned())
            .collect())
    }

    /// A device with VK_KHR_external_memory_fd (and VK_EXT_external_memory_host when offered)
    /// and one queue of family 0.
    pub fn create_device(&self) -> Result<Dev, String> {
        let available = self.device_extensions()?;
        let mut exts = vec![ash::khr::external_memory_fd::NAME.as_ptr()];
        if available
            .iter()
            .any(|e| e.as_bytes() == ash::ext::external_memory_host::NAME.to_bytes())
        {
            exts.push(ash::ext::external_memory_host::NAME.as_ptr());
        }
        let device = self.device_with(&exts, false)?;
        let fd = ash::khr::external_memory_fd::Device::new(&self.instance, &device);
        Ok(Dev { device, fd })
    }

    /// A device with exactly the extensions `exts` (NUL-terminated names), one queue of
    /// family 0 and, with `sync2`, the synchronization2 feature enabled.
    pub fn device_with(
        &self,
        exts: &[*const std::ffi::c_char],
        sync2: bool,
    ) -> Result<ash::Device, String> {
        let prio = [1.0f32];
        let queues = [vk::DeviceQueueCreateInfo::default()
            .queue_family_index(0)
            .queue_priorities(&prio)];
        let mut sync2_feature =
            vk::PhysicalDeviceSynchronization2Features::default().synchronization2(true);
        let mut ci = vk::DeviceCreateInfo::default()
            .queue_create_infos(&queues)
            .enabled_extension_names(exts);
        if sync2 {
            ci = ci.push_next(&mut sync2_feature);
        }
        // SAFETY: valid physical device; `ci` points at locals and `exts` alive for the call.
        unsafe { self.instance.create_device(self.physical, &ci, None) }
            .map_err(|e| format!("vkCreateDevice: {e:?}"))
    }

    /// The first HOST_VISIBLE|HOST_COHERENT memory type.
    pub fn host_visible_type(&self) -> Result<u32, String> {
        // SAFETY: valid physical device.
        let props = unsafe {
            self.instance
                .get_physical_device_memory_properties(self.physical)
        };
        let want = vk::MemoryPropertyFlags::HOST_VISIBLE | vk::MemoryPropertyFlags::HOST_COHERENT;
        (0..props.memory_type_count)
            .find(|&i| props.memory_types[i as usize].property_flags.contains(want))
            .ok_or_else(|| "no HOST_VISIBLE|HOST_COHERENT memory type".to_owned())
    }

    /// Destroys the messengers and the instance.
    pub fn destroy(self) {
        // SAFETY: the handles were created from this instance and are destroyed once, children
        // before the instance.
        unsafe {
            if let Some((du, m)) = &self.debug_utils {
                du.destroy_debug_utils_messenger(*m, None);
            }
            if let Some((dr, cb)) = &self.report {
                #[allow(deprecated)]
                dr.destroy_debug_report_callback(*cb, None);
            }
            self.instance.destroy_instance(None);
        }
    }
}

impl Dev {
    pub fn handle(&self) -> u64 {
        use ash::vk::Handle;
        self.device.handle().as_raw()
    }

    /// vkAllocateMemory with an optional export or OPAQUE_FD import.
    pub fn allocate(
        &self,
        size: u64,
        type_index: u32,
        export: Option<vk::ExternalMemoryHandleTypeFlags>,
        import_fd: Option<i32>,
    ) -> Result<vk::DeviceMemory, vk::Result> {
        let mut export_info = vk::ExportMemoryAllocateInfo::default();
        let mut import_info = vk::ImportMemoryFdInfoKHR::default();
        let mut ai = vk::MemoryAllocateInfo::default()
            .allocation_size(size)
            .memory_type_index(type_index);
        if let Some(types) = export {
            export_info = export_info.handle_types(types);
            ai = ai.push_next(&mut export_info);
        }
        if let Some(fd) = import_fd {
            import_info = import_info
                .handle_type(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD)
                .fd(fd);
            ai = ai.push_next(&mut import_info);
        }
        // SAFETY: valid device; `ai` points at locals alive for the call.
        unsafe { self.device.allocate_memory(&ai, None) }
    }

    /// vkGetMemoryFdKHR through the raw pointer, so that the fd is seen whatever the result.
    /// `fd` starts as `sentinel`.
    pub fn get_fd(
        &self,
        memory: vk::DeviceMemory,
        handle_type: vk::ExternalMemoryHandleTypeFlags,
        sentinel: i32,
    ) -> (vk::Result, i32) {
        let info = vk::MemoryGetFdInfoKHR::default()
            .memory(memory)
            .handle_type(handle_type);
        let mut fd = sentinel;
        // SAFETY: valid device, info and out pointer; the memory handle may be invalid on
        // purpose, which is what the layer is there to catch.
        let r = unsafe { (self.fd.fp().get_memory_fd_khr)(self.device.handle(), &info, &mut fd) };
        (r, fd)
    }

    /// Maps the whole of `memory`.
    pub fn map(&self, memory: vk::DeviceMemory, size: u64) -> Result<*mut u8, String> {
        // SAFETY: valid device and host-visible memory of at least `size` bytes.
        unsafe {
            self.device
                .map_memory(memory, 0, size, vk::MemoryMapFlags::empty())
        }
        .map(|p| p as *mut u8)
        .map_err(|e| format!("vkMapMemory: {e:?}"))
    }

    /// [`external_buffer`] on this device.
    pub fn external_buffer(
        &self,
        size: u64,
        usage: vk::BufferUsageFlags,
    ) -> Result<vk::Buffer, String> {
        external_buffer(&self.device, size, usage)
    }

    /// [`external_image`] on this device.
    pub fn external_image(&self) -> Result<vk::Image, String> {
        external_image(&self.device)
    }

    pub fn free(&self, memory: vk::DeviceMemory) {
        // SAFETY: memory was allocated from this device and is freed once.
        unsafe { self.device.free_memory(memory, None) }
    }

    pub fn destroy(self) {
        // SAFETY: the caller freed (or deliberately leaked) everything created from it.
        unsafe { self.device.destroy_device(None) }
    }
}

/// A VkResult as the tests see it: the raw value and ash's name.
/// An EXCLUSIVE buffer declared exportable as OPAQUE_FD
/// (`VkExternalMemoryBufferCreateInfo`).
pub fn external_buffer(
    device: &ash::Device,
    size: u64,
    usage: vk::BufferUsageFlags,
) -> Result<vk::Buffer, String> {
    let mut ext = vk::ExternalMemoryBufferCreateInfo::default()
        .handle_types(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    let ci = vk::BufferCreateInfo::default()
        .size(size)
        .usage(usage)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .push_next(&mut ext);
    // SAFETY: valid device; `ci` points at locals alive for the call.
    unsafe { device.create_buffer(&ci, None) }.map_err(|e| format!("vkCreateBuffer: {e:?}"))
}

/// A 16x16 RGBA8 optimal-tiling TRANSFER_DST image declared exportable as OPAQUE_FD
/// (`VkExternalMemoryImageCreateInfo`).
pub fn external_image(device: &ash::Device) -> Result<vk::Image, String> {
    let mut ext = vk::ExternalMemoryImageCreateInfo::default()
        .handle_types(vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD);
    let ci = vk::ImageCreateInfo::default()
        .image_type(vk::ImageType::TYPE_2D)
        .format(vk::Format::R8G8B8A8_UNORM)
        .extent(vk::Extent3D {
            width: 16,
            height: 16,
            depth: 1,
        })
        .mip_levels(1)
        .array_layers(1)
        .samples(vk::SampleCountFlags::TYPE_1)
        .tiling(vk::ImageTiling::OPTIMAL)
        .usage(vk::ImageUsageFlags::TRANSFER_DST)
        .sharing_mode(vk::SharingMode::EXCLUSIVE)
        .initial_layout(vk::ImageLayout::UNDEFINED)
        .push_next(&mut ext);
    // SAFETY: valid device; `ci` points at locals alive for the call.
    unsafe { device.create_image(&ci, None) }.map_err(|e| format!("vkCreateImage: {e:?}"))
}

pub fn result_json(r: vk::Result) -> serde_json::Value {
    serde_json::json!({ "code": r.as_raw(), "name": format!("{r:?}") })
}

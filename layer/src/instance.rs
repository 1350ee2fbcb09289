//! `vkCreateInstance` / `vkDestroyInstance` and the app's debug callbacks.

use crate::dispatch::{self, InstanceData};
use crate::guard::guarded;
use crate::loader_abi::{VkLayerInstanceCreateInfo, VkLayerInstanceLink, VK_LAYER_LINK_INFO};
use crate::pnext;
use crate::report::callbacks::{Messenger, ReportCallback};
use crate::report::{self, Reporter};
use crate::settings;
use ash::vk::{self, Handle};
use handoff_rules::{catalogue, Finding, Object};
use std::ffi::{c_char, c_void, CStr};
use std::sync::{Arc, Once};

/// Extensions Handoff implements itself and must not pass to the next layer or driver.
const LAYER_ONLY_EXTENSIONS: &[&CStr] = &[vk::EXT_LAYER_SETTINGS_NAME];

/// What `vkCreateInstance` finds in the create info's `pNext` chain.
struct InstanceChain {
    link: Option<*mut VkLayerInstanceCreateInfo>,
    messengers: Vec<Messenger>,
    reports: Vec<ReportCallback>,
    layer_settings: Option<*const vk::LayerSettingsCreateInfoEXT<'static>>,
    malformed: Option<pnext::Malformed>,
}

/// # Safety
/// `info` is a valid `VkInstanceCreateInfo` from the loader.
unsafe fn read_chain(info: &vk::InstanceCreateInfo<'_>) -> InstanceChain {
    let mut chain = InstanceChain {
        link: None,
        messengers: Vec::new(),
        reports: Vec::new(),
        layer_settings: None,
        malformed: None,
    };
    // SAFETY: the chain belongs to a valid create info; each cast matches its sType.
    let res = unsafe {
        pnext::walk(info.p_next, |st, p| match st {
            vk::StructureType::LOADER_INSTANCE_CREATE_INFO => {
                let li = p as *mut VkLayerInstanceCreateInfo;
                if (*li).function == VK_LAYER_LINK_INFO && chain.link.is_none() {
                    chain.link = Some(li);
                }
            }
            vk::StructureType::DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT => {
                let m = &*(p as *const vk::DebugUtilsMessengerCreateInfoEXT<'_>);
                chain.messengers.push(Messenger::from_create_info(m, 0));
            }
            vk::StructureType::DEBUG_REPORT_CALLBACK_CREATE_INFO_EXT => {
                let r = &*(p as *const vk::DebugReportCallbackCreateInfoEXT<'_>);
                chain.reports.push(ReportCallback::from_create_info(r, 0));
            }
            vk::StructureType::LAYER_SETTINGS_CREATE_INFO_EXT => {
                chain.layer_settings = Some(p as *const vk::LayerSettingsCreateInfoEXT<'static>);
            }
            _ => {}
        })
    };
    chain.malformed = res.err();
    chain
}

/// Writes the summaries of instances the app never destroyed (only this process's own: a
/// child forked without exec inherits its parent's records, whose summaries are the
/// parent's to write).
extern "C" fn summaries_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let me = std::process::id();
        for inst in dispatch::all_instances()
            .into_iter()
            .filter(|i| i.pid == me)
        {
            inst.reporter.write_summary();
        }
    });
}

static AT_EXIT: Once = Once::new();

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_instance(
    p_create_info: *const vk::InstanceCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_instance: *mut vk::Instance,
) -> vk::Result {
    guarded(
        "vkCreateInstance",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: the loader passes a valid create info and output pointer.
            unsafe { create_instance_inner(p_create_info, p_allocator, p_instance) }
        },
    )
}

unsafe fn create_instance_inner(
    p_create_info: *const vk::InstanceCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_instance: *mut vk::Instance,
) -> vk::Result {
    if p_create_info.is_null() || p_instance.is_null() {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    }
    // SAFETY: checked non-null; the loader hands a valid struct.
    let info = unsafe { &*p_create_info };
    // SAFETY: `info` is valid.
    let chain = unsafe { read_chain(info) };
    let Some(link_info) = chain.link else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    // SAFETY: the loader's link info points to a valid link for this layer.
    let link: &VkLayerInstanceLink = match unsafe { (*link_info).p_layer_info.as_ref() } {
        Some(l) => l,
        None => return vk::Result::ERROR_INITIALIZATION_FAILED,
    };
    let Some(next_gipa) = link.pfn_next_get_instance_proc_addr else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    let next_gpdpa = link.pfn_next_get_physical_device_proc_addr;
    // The next layer reads the link after ours.
    // SAFETY: the loader expects each layer to advance the link it was given.
    unsafe { (*link_info).p_layer_info = link.p_next };
    // SAFETY: a null instance is allowed for vkCreateInstance.
    let Some(next_create) =
        (unsafe { next_gipa(vk::Instance::null(), c"vkCreateInstance".as_ptr()) })
    else {
        return vk::Result::ERROR_INITIALIZATION_FAILED;
    };
    // SAFETY: the loader's vkCreateInstance has this signature.
    let next_create: vk::PFN_vkCreateInstance = unsafe { std::mem::transmute(next_create) };

    // Settings and reporting exist before the driver is called, so problems with them and
    // findings about the create info reach the chained callbacks.
    // SAFETY: the struct came from a valid chain (or is absent).
    let api =
        unsafe { settings::from_create_info(chain.layer_settings.unwrap_or(std::ptr::null())) };
    let (settings, problems) = settings::load(&api);
    report::log::init(settings.log_file.as_deref());
    let (reporter, file_problem) = Reporter::new(settings, chain.messengers, chain.reports);
    let reporter = Arc::new(reporter);
    for p in problems {
        reporter.report(Finding::new(
            &catalogue::SETTINGS_INVALID,
            p.message,
            Vec::new(),
        ));
    }
    if let Some(msg) = file_problem {
        reporter.report(Finding::new(&catalogue::SETTINGS_INVALID, msg, Vec::new()));
    }
    if let Some(m) = chain.malformed {
        reporter.report(chain_malformed("VkInstanceCreateInfo", m, Vec::new()));
    }
    tracing::debug!(target: "handoff", "vkCreateInstance: layer active");

    // SAFETY: names come from the app's valid create info.
    let extensions = unsafe {
        dispatch::extension_names(
            info.pp_enabled_extension_names,
            info.enabled_extension_count,
        )
    };
    let down_names: Vec<*const c_char> = (0..info.enabled_extension_count as usize)
        // SAFETY: `extension_names` already read these entries.
        .map(|i| unsafe { *info.pp_enabled_extension_names.add(i) })
        .filter(|&p| {
            // SAFETY: non-null entries are NUL-terminated strings.
            !p.is_null() && !LAYER_ONLY_EXTENSIONS.contains(&unsafe { CStr::from_ptr(p) })
        })
        .collect();
    let mut down_info = *info;
    down_info.enabled_extension_count = down_names.len() as u32;
    down_info.pp_enabled_extension_names = down_names.as_ptr();

    // SAFETY: forwarding the app's arguments with a filtered extension list.
    let res = unsafe { next_create(&down_info, p_allocator, p_instance) };
    if res != vk::Result::SUCCESS {
        return res;
    }
    // SAFETY: on success the driver wrote a valid instance.
    let instance = unsafe { *p_instance };
    let static_fn = ash::StaticFn {
        get_instance_proc_addr: next_gipa,
    };
    // SAFETY: `next_gipa` resolves commands for this instance.
    let fns = unsafe { ash::Instance::load(&static_fn, instance) };
    let load = |name: &CStr| {
        // SAFETY: resolving a command name for a live instance.
        unsafe {
            std::mem::transmute::<vk::PFN_vkVoidFunction, *const c_void>(next_gipa(
                instance,
                name.as_ptr(),
            ))
        }
    };
    let has = |name: &CStr| extensions.iter().any(|e| e.as_bytes() == name.to_bytes());
    let debug_utils =
        has(vk::EXT_DEBUG_UTILS_NAME).then(|| ash::ext::debug_utils::InstanceFn::load(load));
    let debug_report =
        has(vk::EXT_DEBUG_REPORT_NAME).then(|| ash::ext::debug_report::InstanceFn::load(load));
    let api_version = if info.p_application_info.is_null() {
        vk::API_VERSION_1_0
    } else {
        // SAFETY: non-null application info is valid per the create info's rules.
        unsafe { (*info.p_application_info).api_version }.max(vk::API_VERSION_1_0)
    };
    // SAFETY: `next_gipa` resolves commands of the live `instance`, now, during creation.
    let capabilities =
        unsafe { crate::capabilities::CapabilityFns::load(next_gipa, instance, api_version, has) };
    let data = InstanceData {
        handle: instance,
        next_gipa,
        next_gpdpa,
        fns,
        debug_utils,
        debug_report,
        api_version,
        extensions,
        capabilities,
        reporter: Arc::clone(&reporter),
        pid: std::process::id(),
    };
    // SAFETY: `instance` is a live dispatchable handle.
    dispatch::insert_instance(unsafe { dispatch::key(instance) }, Arc::new(data));
    reporter.set_chained_active(false);
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain function; glibc runs it at exit or when this
        // library is unloaded.
        unsafe { libc::atexit(summaries_at_exit) };
    });
    vk::Result::SUCCESS
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_instance(
    instance: vk::Instance,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyInstance", (), || {
        if instance.is_null() {
            return;
        }
        // SAFETY: a non-null instance passed to vkDestroyInstance is live.
        let Some(data) = dispatch::remove_instance(unsafe { dispatch::key(instance) }) else {
            return;
        };
        data.reporter.set_chained_active(true);
        tracing::debug!(target: "handoff", "vkDestroyInstance");
        // Capability answers the app asked for without creating a device are cached per
        // physical device too: they go with the instance.
        // SAFETY: the instance is live until forwarded below.
        if let Ok(physicals) = unsafe { data.fns.enumerate_physical_devices() } {
            for p in physicals {
                crate::capabilities::forget(p);
                crate::sync::forget(p);
            }
        }
        data.reporter.write_summary();
        // SAFETY: forwarding the app's call.
        unsafe { (data.fns.fp_v1_0().destroy_instance)(instance, p_allocator) };
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_debug_utils_messenger(
    instance: vk::Instance,
    p_create_info: *const vk::DebugUtilsMessengerCreateInfoEXT<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_messenger: *mut vk::DebugUtilsMessengerEXT,
) -> vk::Result {
    guarded(
        "vkCreateDebugUtilsMessengerEXT",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: `instance` is a live instance of this layer's chain.
            let Some(data) = dispatch::instance(unsafe { dispatch::key(instance) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let Some(fns) = &data.debug_utils else {
                return vk::Result::ERROR_EXTENSION_NOT_PRESENT;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (fns.create_debug_utils_messenger_ext)(
                    instance,
                    p_create_info,
                    p_allocator,
                    p_messenger,
                )
            };
            if res == vk::Result::SUCCESS && !p_create_info.is_null() {
                // SAFETY: valid create info and, after success, a written handle.
                let m = unsafe {
                    Messenger::from_create_info(&*p_create_info, (*p_messenger).as_raw())
                };
                data.reporter.add_messenger(m);
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_debug_utils_messenger(
    instance: vk::Instance,
    messenger: vk::DebugUtilsMessengerEXT,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyDebugUtilsMessengerEXT", (), || {
        // SAFETY: `instance` is a live instance of this layer's chain.
        let Some(data) = dispatch::instance(unsafe { dispatch::key(instance) }) else {
            return;
        };
        data.reporter.remove_messenger(messenger.as_raw());
        if let Some(fns) = &data.debug_utils {
            // SAFETY: forwarding the app's call.
            unsafe { (fns.destroy_debug_utils_messenger_ext)(instance, messenger, p_allocator) };
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_debug_report_callback(
    instance: vk::Instance,
    p_create_info: *const vk::DebugReportCallbackCreateInfoEXT<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_callback: *mut vk::DebugReportCallbackEXT,
) -> vk::Result {
    guarded(
        "vkCreateDebugReportCallbackEXT",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        || {
            // SAFETY: `instance` is a live instance of this layer's chain.
            let Some(data) = dispatch::instance(unsafe { dispatch::key(instance) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let Some(fns) = &data.debug_report else {
                return vk::Result::ERROR_EXTENSION_NOT_PRESENT;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (fns.create_debug_report_callback_ext)(
                    instance,
                    p_create_info,
                    p_allocator,
                    p_callback,
                )
            };
            if res == vk::Result::SUCCESS && !p_create_info.is_null() {
                // SAFETY: valid create info and, after success, a written handle.
                let r = unsafe {
                    ReportCallback::from_create_info(&*p_create_info, (*p_callback).as_raw())
                };
                data.reporter.add_report_callback(r);
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_debug_report_callback(
    instance: vk::Instance,
    callback: vk::DebugReportCallbackEXT,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyDebugReportCallbackEXT", (), || {
        // SAFETY: `instance` is a live instance of this layer's chain.
        let Some(data) = dispatch::instance(unsafe { dispatch::key(instance) }) else {
            return;
        };
        data.reporter.remove_report_callback(callback.as_raw());
        if let Some(fns) = &data.debug_report {
            // SAFETY: forwarding the app's call.
            unsafe { (fns.destroy_debug_report_callback_ext)(instance, callback, p_allocator) };
        }
    })
}

/// `HANDOFF-Chain-malformed` for the chain of `what`.
pub fn chain_malformed(what: &str, m: pnext::Malformed, objects: Vec<Object>) -> Finding {
    let why = match m {
        pnext::Malformed::Cycle => "loops back on itself".to_owned(),
        pnext::Malformed::TooLong => format!("is longer than {} structs", pnext::MAX_CHAIN_LINKS),
    };
    Finding::new(
        &catalogue::CHAIN_MALFORMED,
        format!(
            "The pNext chain of {what} {why}. Handoff read it up to that point; the driver may \
             hang or crash on it."
        ),
        objects,
    )
}

//! Pieces every example shares: loading the Vulkan loader, and a debug-utils messenger that
//! prints what the layers say.

use ash::vk;
use std::ffi::{c_void, CStr};

/// What to tell a user whose system has no Vulkan loader (`libvulkan.so.1`).
pub const LOADER_MISSING: &str = "Handoff needs the Vulkan loader: apt-get install libvulkan1";

/// Loads `libvulkan.so.1` at run time (ash's `loaded` feature), so the examples build on a
/// machine without Vulkan and fail with a clear message when run there.
pub fn load_entry() -> Result<ash::Entry, String> {
    // SAFETY: `Entry::load` dlopens the system's Vulkan loader and resolves
    // `vkGetInstanceProcAddr`; the loader is a well-known library whose initialisers are
    // safe to run, and the returned `Entry` keeps it loaded for as long as it lives.
    match unsafe { ash::Entry::load() } {
        Ok(entry) => Ok(entry),
        Err(err) => Err(format!("{LOADER_MISSING} ({err})")),
    }
}

/// The `run` of an example that takes only `--bug`: parses the arguments, loads the loader
/// and runs `body(entry, bug)`. Returns the exit code: 0 when the body ran to the end (with
/// `--bug`, whatever the driver did), 1 when it failed (its message is printed after `name`),
/// 2 for a bad argument or a missing Vulkan loader.
pub fn run_with_bug_switch(
    name: &str,
    usage: &str,
    args: &[String],
    body: impl FnOnce(&ash::Entry, bool) -> Result<(), String>,
) -> i32 {
    let mut bug = false;
    for arg in args {
        match arg.as_str() {
            "--bug" => bug = true,
            "-h" | "--help" => {
                println!("{usage}");
                return 0;
            }
            other => {
                eprintln!("{name}: unknown argument `{other}`\n{usage}");
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
    match body(&entry, bug) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("{name}: {message}");
            1
        }
    }
}

/// `Err("vkCall failed: VK_ERROR_…")` for a failed Vulkan call, so `?` carries the
/// name of the call that failed.
pub fn check<T>(what: &str, result: ash::prelude::VkResult<T>) -> Result<T, String> {
    result.map_err(|code| format!("{what} failed: {code:?} ({code})"))
}

/// The messenger every example installs: every message it receives (warnings and errors
/// from the loader and from every enabled layer, Handoff included) is printed to stdout as
/// `[handoff] <severity> <pMessageIdName>: <pMessage>`.
pub fn messenger_create_info() -> vk::DebugUtilsMessengerCreateInfoEXT<'static> {
    vk::DebugUtilsMessengerCreateInfoEXT::default()
        .message_severity(
            vk::DebugUtilsMessageSeverityFlagsEXT::WARNING
                | vk::DebugUtilsMessageSeverityFlagsEXT::ERROR,
        )
        .message_type(
            vk::DebugUtilsMessageTypeFlagsEXT::GENERAL
                | vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION
                | vk::DebugUtilsMessageTypeFlagsEXT::PERFORMANCE,
        )
        .pfn_user_callback(Some(print_message))
}

fn severity_word(severity: vk::DebugUtilsMessageSeverityFlagsEXT) -> &'static str {
    if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::ERROR) {
        "error"
    } else if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::WARNING) {
        "warning"
    } else if severity.contains(vk::DebugUtilsMessageSeverityFlagsEXT::INFO) {
        "info"
    } else {
        "verbose"
    }
}

/// Turns a possibly-null C string from the callback data into text.
///
/// # Safety
/// `ptr` is null or points to a NUL-terminated string that stays valid for `'a`.
unsafe fn text<'a>(ptr: *const std::ffi::c_char) -> std::borrow::Cow<'a, str> {
    if ptr.is_null() {
        std::borrow::Cow::Borrowed("(none)")
    } else {
        // SAFETY: non-null, and the caller promises a NUL-terminated string valid for 'a.
        unsafe { CStr::from_ptr(ptr) }.to_string_lossy()
    }
}

/// The debug-utils callback. It returns `VK_FALSE`: returning `VK_TRUE` asks a validation
/// layer to skip the call, which is not what an example wants.
unsafe extern "system" fn print_message(
    severity: vk::DebugUtilsMessageSeverityFlagsEXT,
    _types: vk::DebugUtilsMessageTypeFlagsEXT,
    data: *const vk::DebugUtilsMessengerCallbackDataEXT<'_>,
    _user: *mut c_void,
) -> vk::Bool32 {
    // Never let a panic unwind into the caller (the loader or a layer, C code).
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the loader passes a valid callback-data pointer (or null, checked here)
        // that stays valid for the duration of this call.
        let Some(data) = (unsafe { data.as_ref() }) else {
            return;
        };
        // SAFETY: `pMessageIdName` and `pMessage` are null or NUL-terminated strings owned
        // by the caller for the duration of this call.
        let (id, message) = unsafe { (text(data.p_message_id_name), text(data.p_message)) };
        println!("[handoff] {} {id}: {message}", severity_word(severity));
    });
    vk::FALSE
}

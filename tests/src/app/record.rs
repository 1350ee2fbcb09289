//! The callbacks: every debug-utils message and debug-report message is recorded here.

use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use ash::vk;
use serde_json::{json, Value};

use super::handle_hex;

static FINDINGS: Mutex<Vec<Value>> = Mutex::new(Vec::new());
static REPORTS: Mutex<Vec<Value>> = Mutex::new(Vec::new());
/// When set, the messenger returns VK_TRUE for Handoff's own ids (asking the layer to abort
/// the call).
static RETURN_TRUE: AtomicBool = AtomicBool::new(false);

/// `pUserData` of the messenger created with vkCreateDebugUtilsMessengerEXT.
pub const VIA_MESSENGER: usize = 1;
/// `pUserData` of the messenger chained on VkInstanceCreateInfo.
pub const VIA_CREATE_INFO: usize = 2;

pub fn set_return_true(on: bool) {
    RETURN_TRUE.store(on, Ordering::SeqCst);
}

/// The recorded debug-utils messages, as JSON.
pub fn take_findings() -> Vec<Value> {
    std::mem::take(&mut *FINDINGS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The recorded debug-report messages, as JSON.
pub fn take_reports() -> Vec<Value> {
    std::mem::take(&mut *REPORTS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// # Safety
/// `p` is null or a valid NUL-terminated string.
unsafe fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: non-null and NUL-terminated per the caller.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

fn severity_name(s: vk::DebugUtilsMessageSeverityFlagsEXT) -> &'static str {
    if s.contains(vk::DebugUtilsMessageSeverityFlagsEXT::ERROR) {
        "error"
    } else if s.contains(vk::DebugUtilsMessageSeverityFlagsEXT::WARNING) {
        "warning"
    } else if s.contains(vk::DebugUtilsMessageSeverityFlagsEXT::INFO) {
        "info"
    } else {
        "verbose"
    }
}

/// The debug-utils callback for every messenger of a scenario.
///
/// # Safety
/// Called by the loader or a layer with a valid callback data pointer.
pub unsafe extern "system" fn messenger_callback(
    severity: vk::DebugUtilsMessageSeverityFlagsEXT,
    _types: vk::DebugUtilsMessageTypeFlagsEXT,
    data: *const vk::DebugUtilsMessengerCallbackDataEXT<'_>,
    user_data: *mut c_void,
) -> vk::Bool32 {
    if data.is_null() {
        return vk::FALSE;
    }
    // SAFETY: non-null; the caller passes a valid struct for the duration of the call.
    let d = unsafe { &*data };
    // SAFETY: the spec requires NUL-terminated strings or null.
    let (id, message) = unsafe { (cstr(d.p_message_id_name), cstr(d.p_message)) };
    let mut objects = Vec::new();
    if !d.p_objects.is_null() {
        // SAFETY: p_objects points at object_count elements per the spec.
        let objs = unsafe { std::slice::from_raw_parts(d.p_objects, d.object_count as usize) };
        for o in objs {
            objects.push(
                json!({ "type": o.object_type.as_raw(), "handle": handle_hex(o.object_handle) }),
            );
        }
    }
    let via = if user_data as usize == VIA_CREATE_INFO {
        "create_info"
    } else {
        "messenger"
    };
    let handoff = id.starts_with("VUID-") || id.starts_with("HANDOFF-");
    let entry = json!({
        "id": id,
        "number": d.message_id_number,
        "severity": severity_name(severity),
        "objects": objects,
        "message": message,
        "via": via,
    });
    FINDINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(entry);
    if handoff && RETURN_TRUE.load(Ordering::SeqCst) {
        vk::TRUE
    } else {
        vk::FALSE
    }
}

/// The VK_EXT_debug_report callback.
///
/// # Safety
/// Called by the loader or a layer with valid (or null) string pointers.
pub unsafe extern "system" fn report_callback(
    flags: vk::DebugReportFlagsEXT,
    object_type: vk::DebugReportObjectTypeEXT,
    object: u64,
    _location: usize,
    message_code: i32,
    layer_prefix: *const c_char,
    message: *const c_char,
    _user_data: *mut c_void,
) -> vk::Bool32 {
    // SAFETY: NUL-terminated or null per the spec.
    let (prefix, message) = unsafe { (cstr(layer_prefix), cstr(message)) };
    REPORTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(json!({
            "flags": flags.as_raw(),
            "object_type": object_type.as_raw(),
            "object": handle_hex(object),
            "message_code": message_code,
            "layer_prefix": prefix,
            "message": message,
        }));
    vk::FALSE
}

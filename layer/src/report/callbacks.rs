//! The app's debug callbacks: `VK_EXT_debug_utils` messengers and `VK_EXT_debug_report`
//! callbacks, and how a finding is delivered to each.

use ash::vk;
use handoff_rules::{Finding, Severity};
use std::ffi::{c_void, CString};

/// A messenger as created by the app (or chained on `VkInstanceCreateInfo`).
#[derive(Clone, Copy)]
pub struct Messenger {
    pub handle: u64,
    pub severity: vk::DebugUtilsMessageSeverityFlagsEXT,
    pub types: vk::DebugUtilsMessageTypeFlagsEXT,
    pub callback: vk::PFN_vkDebugUtilsMessengerCallbackEXT,
    pub user_data: *mut c_void,
}

/// A debug report callback as created by the app (or chained).
#[derive(Clone, Copy)]
pub struct ReportCallback {
    pub handle: u64,
    pub flags: vk::DebugReportFlagsEXT,
    pub callback: vk::PFN_vkDebugReportCallbackEXT,
    pub user_data: *mut c_void,
}

// SAFETY: `user_data` is an opaque value the app asked to get back on whatever thread
// reports; the layer never dereferences it. The spec makes callbacks callable from any
// thread that makes a Vulkan call.
unsafe impl Send for Messenger {}
// SAFETY: as above.
unsafe impl Sync for Messenger {}
// SAFETY: as above.
unsafe impl Send for ReportCallback {}
// SAFETY: as above.
unsafe impl Sync for ReportCallback {}

impl Messenger {
    /// # Safety
    /// `info` must be a valid `VkDebugUtilsMessengerCreateInfoEXT`.
    pub unsafe fn from_create_info(
        info: &vk::DebugUtilsMessengerCreateInfoEXT<'_>,
        handle: u64,
    ) -> Self {
        Self {
            handle,
            severity: info.message_severity,
            types: info.message_type,
            callback: info.pfn_user_callback,
            user_data: info.p_user_data,
        }
    }
}

impl ReportCallback {
    pub fn from_create_info(info: &vk::DebugReportCallbackCreateInfoEXT<'_>, handle: u64) -> Self {
        Self {
            handle,
            flags: info.flags,
            callback: info.pfn_callback,
            user_data: info.p_user_data,
        }
    }
}

/// A finding turned into the C strings and arrays callbacks receive; built once per report.
pub struct CMessage {
    id: CString,
    id_number: i32,
    message: CString,
    report_message: CString,
    severity: Severity,
    objects: Vec<vk::DebugUtilsObjectNameInfoEXT<'static>>,
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl CMessage {
    pub fn new(finding: &Finding, message: &str) -> Self {
        let objects = finding
            .objects
            .iter()
            .map(|o| vk::DebugUtilsObjectNameInfoEXT {
                object_type: o.ty,
                object_handle: o.handle,
                ..Default::default()
            })
            .collect();
        Self {
            id: c_string(finding.id()),
            id_number: handoff_rules::id_number(finding.id()),
            message: c_string(message),
            report_message: c_string(&format!("[ {} ] {}", finding.id(), message)),
            severity: finding.rule.severity,
            objects,
        }
    }

    fn utils_severity(&self) -> vk::DebugUtilsMessageSeverityFlagsEXT {
        match self.severity {
            Severity::Error => vk::DebugUtilsMessageSeverityFlagsEXT::ERROR,
            Severity::Warning => vk::DebugUtilsMessageSeverityFlagsEXT::WARNING,
        }
    }

    fn report_flags(&self) -> vk::DebugReportFlagsEXT {
        match self.severity {
            Severity::Error => vk::DebugReportFlagsEXT::ERROR,
            Severity::Warning => vk::DebugReportFlagsEXT::WARNING,
        }
    }

    /// Calls the messenger if it listens to this severity; returns what it returned.
    pub fn deliver(&self, m: &Messenger) -> bool {
        let severity = self.utils_severity();
        let ty = vk::DebugUtilsMessageTypeFlagsEXT::VALIDATION;
        if !m.severity.contains(severity) || !m.types.contains(ty) {
            return false;
        }
        let Some(callback) = m.callback else {
            return false;
        };
        let data = vk::DebugUtilsMessengerCallbackDataEXT {
            p_message_id_name: self.id.as_ptr(),
            message_id_number: self.id_number,
            p_message: self.message.as_ptr(),
            object_count: self.objects.len() as u32,
            p_objects: self.objects.as_ptr(),
            ..Default::default()
        };
        // SAFETY: the app registered this callback for exactly this call shape; every
        // pointer in `data` lives until the call returns.
        unsafe { callback(severity, ty, &data, m.user_data) == vk::TRUE }
    }

    /// Calls the debug report callback if it listens to this severity.
    pub fn deliver_report(&self, r: &ReportCallback) -> bool {
        let flags = self.report_flags();
        if !r.flags.contains(flags) {
            return false;
        }
        let Some(callback) = r.callback else {
            return false;
        };
        let (ty, handle) = self
            .objects
            .first()
            .map(|o| (report_object_type(o.object_type), o.object_handle))
            .unwrap_or((vk::DebugReportObjectTypeEXT::UNKNOWN, 0));
        // SAFETY: as for messengers; the strings live until the call returns.
        unsafe {
            callback(
                flags,
                ty,
                handle,
                0,
                self.id_number,
                c"Handoff".as_ptr(),
                self.report_message.as_ptr(),
                r.user_data,
            ) == vk::TRUE
        }
    }
}

/// `VkObjectType` and `VkDebugReportObjectTypeEXT` share values for the core types.
fn report_object_type(ty: vk::ObjectType) -> vk::DebugReportObjectTypeEXT {
    if (0..=25).contains(&ty.as_raw()) {
        vk::DebugReportObjectTypeEXT::from_raw(ty.as_raw())
    } else {
        vk::DebugReportObjectTypeEXT::UNKNOWN
    }
}

//! External semaphores and fences, and submissions that release memory (RULES-TARGET 1.15,
//! 1.16, G15).

#[allow(unused_imports)]
use super::{Area, Rule, Severity};

macro_rules! sync_rule {
    ($name:ident, $id:literal, $area:ident, $target:literal, $page:literal, $blocks:literal, $summary:literal) => {
        pub const $name: Rule = Rule {
            id: $id,
            aliases: &[],
            severity: Severity::Error,
            area: Area::$area,
            target: $target,
            summary: $summary,
            spec: refpage!($page),
            blocks_call: $blocks,
        };
    };
}

// ---- vkCreateSemaphore / vkCreateFence with an export create info ----------------------

sync_rule!(SEM_EXPORT_TYPES_UNSUPPORTED, "VUID-VkExportSemaphoreCreateInfo-handleTypes-01124", Export,
    "vkCreateSemaphore", "VkExportSemaphoreCreateInfo", false,
    "the export handle types are not all EXPORTABLE and mutually compatible per vkGetPhysicalDeviceExternalSemaphoreProperties (asked for the semaphore's type)");
sync_rule!(
    SEM_EXPORT_TYPES_INVALID,
    "VUID-VkExportSemaphoreCreateInfo-handleTypes-parameter",
    Export,
    "vkCreateSemaphore",
    "VkExportSemaphoreCreateInfo",
    false,
    "handleTypes has bits that are no VkExternalSemaphoreHandleTypeFlagBits value"
);
sync_rule!(FENCE_EXPORT_TYPES_UNSUPPORTED, "VUID-VkExportFenceCreateInfo-handleTypes-01446", Export,
    "vkCreateFence", "VkExportFenceCreateInfo", false,
    "the export handle types are not all EXPORTABLE and mutually compatible per vkGetPhysicalDeviceExternalFenceProperties");
sync_rule!(
    FENCE_EXPORT_TYPES_INVALID,
    "VUID-VkExportFenceCreateInfo-handleTypes-parameter",
    Export,
    "vkCreateFence",
    "VkExportFenceCreateInfo",
    false,
    "handleTypes has bits that are no VkExternalFenceHandleTypeFlagBits value"
);

// ---- vkGetSemaphoreFdKHR --------------------------------------------------------------

sync_rule!(SEM_GET_FD_NOT_EXPORTED, "VUID-VkSemaphoreGetFdInfoKHR-handleType-01132", Export,
    "vkGetSemaphoreFdKHR", "VkSemaphoreGetFdInfoKHR", false,
    "the handle type was not requested in VkExportSemaphoreCreateInfo::handleTypes when the semaphore was created");
sync_rule!(SEM_GET_FD_FROM_IMPORTED, "VUID-VkSemaphoreGetFdInfoKHR-semaphore-01133", Export,
    "vkGetSemaphoreFdKHR", "VkSemaphoreGetFdInfoKHR", false,
    "the semaphore's payload is an imported one whose handle type does not list the exported type in exportFromImportedHandleTypes");
sync_rule!(
    SEM_GET_FD_NOT_FD,
    "VUID-VkSemaphoreGetFdInfoKHR-handleType-01136",
    Export,
    "vkGetSemaphoreFdKHR",
    "VkSemaphoreGetFdInfoKHR",
    false,
    "the handle type is no POSIX file descriptor type (only OPAQUE_FD and SYNC_FD are)"
);
sync_rule!(SEM_GET_FD_SYNC_TIMELINE, "VUID-VkSemaphoreGetFdInfoKHR-handleType-03253", Export,
    "vkGetSemaphoreFdKHR", "VkSemaphoreGetFdInfoKHR", false,
    "a SYNC_FD (copy transference) export from a timeline semaphore; only binary semaphores export sync files");
sync_rule!(
    SEM_GET_FD_UNKNOWN,
    "VUID-VkSemaphoreGetFdInfoKHR-semaphore-parameter",
    Handle,
    "vkGetSemaphoreFdKHR",
    "VkSemaphoreGetFdInfoKHR",
    true,
    "the semaphore was never created on this device or was already destroyed"
);
sync_rule!(SEM_GET_FD_TYPE_INVALID, "VUID-VkSemaphoreGetFdInfoKHR-handleType-parameter", Export,
    "vkGetSemaphoreFdKHR", "VkSemaphoreGetFdInfoKHR", false,
    "handleType is not one valid VkExternalSemaphoreHandleTypeFlagBits value (zero, several bits, or undefined bits)");
sync_rule!(
    SEM_GET_FD_NULL_FD,
    "VUID-vkGetSemaphoreFdKHR-pFd-parameter",
    Export,
    "vkGetSemaphoreFdKHR",
    "vkGetSemaphoreFdKHR",
    true,
    "pFd is NULL, so the driver has nowhere to write the exported fd"
);

// ---- vkImportSemaphoreFdKHR -----------------------------------------------------------

sync_rule!(
    SEM_IMPORT_TYPE_NOT_FD,
    "VUID-VkImportSemaphoreFdInfoKHR-handleType-01143",
    Import,
    "vkImportSemaphoreFdKHR",
    "VkImportSemaphoreFdInfoKHR",
    false,
    "the handle type is neither OPAQUE_FD nor SYNC_FD, the only types an fd import takes"
);
sync_rule!(
    SEM_IMPORT_SYNC_FD_PERMANENT,
    "VUID-VkImportSemaphoreFdInfoKHR-handleType-07307",
    Import,
    "vkImportSemaphoreFdKHR",
    "VkImportSemaphoreFdInfoKHR",
    false,
    "a SYNC_FD (copy transference) import without VK_SEMAPHORE_IMPORT_TEMPORARY_BIT"
);
sync_rule!(SEM_IMPORT_TEMPORARY_TIMELINE, "VUID-VkImportSemaphoreFdInfoKHR-flags-03323", Import,
    "vkImportSemaphoreFdKHR", "VkImportSemaphoreFdInfoKHR", false,
    "a TEMPORARY import of a timeline payload (the exporter's type where the layer saw it, else the importing semaphore's)");
sync_rule!(SEM_IMPORT_FD_INCOMPATIBLE, "VUID-VkImportSemaphoreFdInfoKHR-fd-01544", Import,
    "vkImportSemaphoreFdKHR", "VkImportSemaphoreFdInfoKHR", true,
    "the fd cannot be a payload of this handle type here: not open, provably no semaphore (a pipe, a memory or fence payload, …), or OPAQUE_FD from a device with another deviceUUID or driverUUID");
sync_rule!(SEM_IMPORT_FLAGS_DIFFER, "VUID-VkImportSemaphoreFdInfoKHR-handleType-03263", Import,
    "vkImportSemaphoreFdKHR", "VkImportSemaphoreFdInfoKHR", false,
    "an OPAQUE_FD import into a semaphore whose VkSemaphoreCreateInfo::flags differ from the exporting semaphore's");
sync_rule!(SEM_IMPORT_TYPE_DIFFERS, "VUID-VkImportSemaphoreFdInfoKHR-handleType-03264", Import,
    "vkImportSemaphoreFdKHR", "VkImportSemaphoreFdInfoKHR", false,
    "an OPAQUE_FD import into a semaphore whose type (binary or timeline) differs from the exporting semaphore's");
sync_rule!(
    SEM_IMPORT_UNKNOWN,
    "VUID-VkImportSemaphoreFdInfoKHR-semaphore-parameter",
    Handle,
    "vkImportSemaphoreFdKHR",
    "VkImportSemaphoreFdInfoKHR",
    true,
    "the semaphore was never created on this device or was already destroyed"
);
sync_rule!(
    SEM_IMPORT_FLAGS_INVALID,
    "VUID-VkImportSemaphoreFdInfoKHR-flags-parameter",
    Import,
    "vkImportSemaphoreFdKHR",
    "VkImportSemaphoreFdInfoKHR",
    false,
    "flags has bits that are no VkSemaphoreImportFlagBits value"
);
sync_rule!(
    SEM_IMPORT_TYPE_INVALID,
    "VUID-VkImportSemaphoreFdInfoKHR-handleType-parameter",
    Import,
    "vkImportSemaphoreFdKHR",
    "VkImportSemaphoreFdInfoKHR",
    false,
    "handleType is not one valid VkExternalSemaphoreHandleTypeFlagBits value"
);

// ---- vkGetFenceFdKHR ------------------------------------------------------------------

sync_rule!(FENCE_GET_FD_NOT_EXPORTED, "VUID-VkFenceGetFdInfoKHR-handleType-01453", Export,
    "vkGetFenceFdKHR", "VkFenceGetFdInfoKHR", false,
    "the handle type was not requested in VkExportFenceCreateInfo::handleTypes when the fence was created");
sync_rule!(FENCE_GET_FD_FROM_IMPORTED, "VUID-VkFenceGetFdInfoKHR-fence-01455", Export,
    "vkGetFenceFdKHR", "VkFenceGetFdInfoKHR", false,
    "the fence's payload is an imported one whose handle type does not list the exported type in exportFromImportedHandleTypes");
sync_rule!(
    FENCE_GET_FD_NOT_FD,
    "VUID-VkFenceGetFdInfoKHR-handleType-01456",
    Export,
    "vkGetFenceFdKHR",
    "VkFenceGetFdInfoKHR",
    false,
    "the handle type is no POSIX file descriptor type (only OPAQUE_FD and SYNC_FD are)"
);
sync_rule!(
    FENCE_GET_FD_UNKNOWN,
    "VUID-VkFenceGetFdInfoKHR-fence-parameter",
    Handle,
    "vkGetFenceFdKHR",
    "VkFenceGetFdInfoKHR",
    true,
    "the fence was never created on this device or was already destroyed"
);
sync_rule!(FENCE_GET_FD_TYPE_INVALID, "VUID-VkFenceGetFdInfoKHR-handleType-parameter", Export,
    "vkGetFenceFdKHR", "VkFenceGetFdInfoKHR", false,
    "handleType is not one valid VkExternalFenceHandleTypeFlagBits value (zero, several bits, or undefined bits)");
sync_rule!(
    FENCE_GET_FD_NULL_FD,
    "VUID-vkGetFenceFdKHR-pFd-parameter",
    Export,
    "vkGetFenceFdKHR",
    "vkGetFenceFdKHR",
    true,
    "pFd is NULL, so the driver has nowhere to write the exported fd"
);

// ---- vkImportFenceFdKHR ---------------------------------------------------------------

sync_rule!(
    FENCE_IMPORT_TYPE_NOT_FD,
    "VUID-VkImportFenceFdInfoKHR-handleType-01464",
    Import,
    "vkImportFenceFdKHR",
    "VkImportFenceFdInfoKHR",
    false,
    "the handle type is neither OPAQUE_FD nor SYNC_FD, the only types an fd import takes"
);
sync_rule!(
    FENCE_IMPORT_SYNC_FD_PERMANENT,
    "VUID-VkImportFenceFdInfoKHR-handleType-07306",
    Import,
    "vkImportFenceFdKHR",
    "VkImportFenceFdInfoKHR",
    false,
    "a SYNC_FD (copy transference) import without VK_FENCE_IMPORT_TEMPORARY_BIT"
);
sync_rule!(FENCE_IMPORT_FD_INCOMPATIBLE, "VUID-VkImportFenceFdInfoKHR-fd-01541", Import,
    "vkImportFenceFdKHR", "VkImportFenceFdInfoKHR", true,
    "the fd cannot be a payload of this handle type here: not open, provably no fence (a pipe, a memory or semaphore payload, …), or OPAQUE_FD from a device with another deviceUUID or driverUUID");
sync_rule!(
    FENCE_IMPORT_UNKNOWN,
    "VUID-VkImportFenceFdInfoKHR-fence-parameter",
    Handle,
    "vkImportFenceFdKHR",
    "VkImportFenceFdInfoKHR",
    true,
    "the fence was never created on this device or was already destroyed"
);
sync_rule!(
    FENCE_IMPORT_FLAGS_INVALID,
    "VUID-VkImportFenceFdInfoKHR-flags-parameter",
    Import,
    "vkImportFenceFdKHR",
    "VkImportFenceFdInfoKHR",
    false,
    "flags has bits that are no VkFenceImportFlagBits value"
);
sync_rule!(
    FENCE_IMPORT_TYPE_INVALID,
    "VUID-VkImportFenceFdInfoKHR-handleType-parameter",
    Import,
    "vkImportFenceFdKHR",
    "VkImportFenceFdInfoKHR",
    false,
    "handleType is not one valid VkExternalFenceHandleTypeFlagBits value"
);

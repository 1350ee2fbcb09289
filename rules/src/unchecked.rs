//! Requirements in Handoff's scope that it does not check, or checks only in part, and why.
//!
//! Rendered below the catalogue in `rules/README.md`, so a user can tell "silent because
//! fine" from "silent because the layer cannot know".

/// One requirement the layer leaves unchecked (or checks only where it can know).
#[derive(Debug, PartialEq, Eq)]
pub struct Unchecked {
    /// The VUID, or a short name for a requirement without one.
    pub id: &'static str,
    /// `true`: checked where the layer can know, silent elsewhere (the reason says where).
    pub partial: bool,
    /// Why, in one line.
    pub reason: &'static str,
}

/// Every requirement of the memory-side scope that is not (fully) checked.
pub static UNCHECKED: &[Unchecked] = &[
    Unchecked {
        id: "VUID-vkDestroyImage-image-parameter, VUID-vkBindImageMemory-image-parameter, VUID-VkImageMemoryBarrier(2)-image-parameter",
        partial: true,
        reason: "swapchain images are created where the layer cannot see them, so an image handle it does not know may be valid: only images the layer saw destroyed (the last 256) and not created again are reported, and in barriers only transfers to or from VK_QUEUE_FAMILY_EXTERNAL/FOREIGN",
    },
    Unchecked {
        id: "VUID-VkMemoryAllocateInfo-allocationSize-01742",
        partial: true,
        reason: "checked when the export was made through the layer in this process, or in another process that shares a ledger_dir with this one, and the imported fd is shown to be the same open file (kcmp) or the same unique inode; an exporter without the layer (or without the ledger) leaves no record",
    },
    Unchecked {
        id: "VUID-VkMemoryDedicatedAllocateInfo-image-01878, -buffer-01879",
        partial: true,
        reason: "as 01742: the exporter's dedicated resource is known only for exports seen in this process or published in the ledger",
    },
    Unchecked {
        id: "VUID-VkImportMemoryFdInfoKHR-fd-01746 (aliases -fd-00668, -fd-01520)",
        partial: true,
        reason: "the fd carries no UUID; compared only when the exporting device is known to the layer (same process), and only for OPAQUE_FD, the one fd type the compatibility table ties to the UUIDs",
    },
    Unchecked {
        id: "VUID-VkMemoryAllocateInfo-None-00643, -None-00644",
        partial: true,
        reason: "the exporter's device mask and physical-device set are known only for exports seen in this process; checked for OPAQUE_FD only, since a dma-buf may legitimately cross GPUs; physical-device handles are compared within one instance, across instances only the size of the set",
    },
    Unchecked {
        id: "VUID-VkImportMemoryFdInfoKHR-handleType-00670 (wrong kind of memory handle)",
        partial: true,
        reason: "only fds that provably are no memory handle are reported (closed, negative, pipes, sockets, directories, eventfds and other anonymous inodes); whether an open regular file or device node is a memory object of the declared type only the driver can tell",
    },
    Unchecked {
        id: "fd ownership after a successful import (no VUID)",
        partial: true,
        reason: "the app's later close/read/dup of a consumed fd happens in libc, which the layer does not see; only a second Vulkan import of the same payload is reported (HANDOFF-Import-fd-reused), and only where the driver kept the consumed fd open (a driver that closes it frees the number, and a second import of it is 00670 or a fresh file); once a device's driver was seen closing the fds of repeated imports of one handle type and never keeping one, only one such import in 16 is asked again, so a driver that keeps some fds and closes others can have its first kept one missed",
    },
    Unchecked {
        id: "External handle support of DRM-format-modifier images (00990, 09860, 09862)",
        partial: true,
        reason: "the capability query needs the image's modifier (VkPhysicalDeviceImageDrmFormatModifierInfoEXT); such images are skipped, as VK_EXT_image_drm_format_modifier rules are outside this catalogue",
    },
    Unchecked {
        id: "VUID-vkGetMemoryFdPropertiesKHR-fd-00673 (1.3.239 wording: not from Vulkan)",
        partial: true,
        reason: "the current spec only asks for a valid POSIX fd memory handle, which is what the layer checks; the older \"must not be a Vulkan export\" wording is not enforced",
    },
    Unchecked {
        id: "Win32, Android, Fuchsia and Metal handle types",
        partial: false,
        reason: "outside a Linux layer's reach: their handles cannot be created or inspected here; only their structure-level rules (one import at a time, KHR and NV export not together) are checked",
    },
    Unchecked {
        id: "VUID-VkMemoryAllocateInfo-None-12523, VUID-VkMemoryGetFdInfoKHR-handleType-12524",
        partial: false,
        reason: "added in spec 1.4.363 after the snapshot this catalogue follows; their text is not verified yet",
    },
    Unchecked {
        id: "VUID-vkBindImageMemory-image-01445, VUID-VkBindImageMemoryInfo-image-01445 (disjoint images)",
        partial: true,
        reason: "a disjoint image has one dedicated answer per plane and a plane-less query is invalid, so the layer does not ask for disjoint images",
    },
    Unchecked {
        id: "VUID-vkBindImageMemory-memory-02629, VUID-VkBindImageMemoryInfo-memory-02629",
        partial: true,
        reason: "the offset is always checked; the image parameters are compared on the VkImageCreateInfo members (chained structures and queue family lists are not), and only while the image the memory was dedicated to is still alive",
    },
    Unchecked {
        id: "VkDedicatedAllocationMemoryAllocateInfoNV rules (VUID-VkDedicatedAllocationMemoryAllocateInfoNV-image-00649 to -00655)",
        partial: false,
        reason: "not implemented: VK_NV_dedicated_allocation is superseded by VkMemoryDedicatedAllocateInfo; memory allocated with the NV struct is tracked as not dedicated, so the KHR dedicated and binding rules stay silent for it",
    },
    Unchecked {
        id: "HANDOFF-Export-reexport-not-allowed for memory that is not dedicated",
        partial: true,
        reason: "exportFromImportedHandleTypes is asked for the dedicated resource when there is one, otherwise for a plain transfer buffer, the least specific resource any memory can back",
    },
    // Ownership state at submit (checks/ownership.rs).
    Unchecked {
        id: "HANDOFF-Ownership-use-while-released (descriptor use)",
        partial: true,
        reason: "transfer commands, render pass attachments and barriers are tracked; a released resource read or written through a descriptor in a draw or dispatch is out of scope for now and stays silent",
    },
    Unchecked {
        id: "VUID-vkQueueSubmit-pSubmits-02207, VUID-vkQueueSubmit2-commandBuffer-03879 (acquire from EXTERNAL/FOREIGN)",
        partial: true,
        reason: "the matching release lives in another instance, process or API; the layer reports a second acquire with no release since (HANDOFF-Ownership-acquire-without-release) and compares layouts where it saw the release (HANDOFF-Ownership-acquire-layout-mismatch); transfers between two families of one device are left to the Khronos layer",
    },
    Unchecked {
        id: "HANDOFF-Ownership-acquire-layout-mismatch",
        partial: true,
        reason: "compared only when the release was made by another resource the layer saw (another device or instance of this process, through the payload registry); an acquire after this resource's own release pairs with a peer the layer does not see, and oldLayout UNDEFINED discards the contents",
    },
    Unchecked {
        id: "VUID-VkExternalMemoryAcquireUnmodifiedEXT-acquireUnmodifiedMemory-08922",
        partial: true,
        reason: "modifications are counted from transfer commands and attachments on resources bound to the same memory or payload in this process; shader writes through descriptors, host writes to mapped memory and writes by other processes or APIs are not seen",
    },
    Unchecked {
        id: "HANDOFF-Ownership-acquire-without-release (resources used before their first acquire)",
        partial: true,
        reason: "a resource counts as owned by this device once a transfer command, attachment or acquire used it; a layout transition alone does not, since importers commonly transition before the first acquire",
    },
    // Semaphores and fences (checks/sync.rs).
    Unchecked {
        id: "VUID-VkImportSemaphoreFdInfoKHR-fd-01544, VUID-VkImportFenceFdInfoKHR-fd-01541",
        partial: true,
        reason: "reported for fds that provably are no payload of the type (closed, negative, pipes, sockets, directories, dma-bufs, other anonymous inodes, payloads this process exported from memory or from the other kind) and for OPAQUE_FD exported in this process by a device with other UUIDs; an fd from another process carries no record, and SYNC_FD exports are not followed (a sync file fits every device)",
    },
    Unchecked {
        id: "VUID-VkImportSemaphoreFdInfoKHR-handleType-03263, -handleType-03264",
        partial: true,
        reason: "the exporting semaphore's flags and type are known only for OPAQUE_FD exports seen in this process",
    },
    Unchecked {
        id: "VUID-VkImportSemaphoreFdInfoKHR-flags-03323",
        partial: true,
        reason: "the payload's type is the exporter's where the layer saw the export; otherwise the importing semaphore's type stands in for it, as the Khronos layer does",
    },
    Unchecked {
        id: "VUID-VkMemoryAllocateInfo-None-00643, -00644 across processes",
        partial: true,
        reason: "the ledger does not publish device groups or device masks, so these two are checked only when the exporting device is in this process",
    },
    Unchecked {
        id: "HANDOFF-Ownership-not-external-memory and every rule of a device that cannot share",
        partial: true,
        reason: "a device that enables no extension able to export or import memory, a semaphore or a fence (and not VK_EXT_queue_family_foreign) gets the next layer's commands and is not tracked: it can hand nothing over, so a release to VK_QUEUE_FAMILY_EXTERNAL there is not reported",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_line() {
        for u in UNCHECKED {
            assert!(
                !u.reason.contains('\n') && !u.reason.ends_with('.'),
                "{}",
                u.id
            );
        }
    }
}

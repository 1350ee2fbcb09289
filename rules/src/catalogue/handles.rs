//! Handles the layer proves dead (issue 7): memory, buffers and command buffers that this
//! device never made or already freed, and images the layer saw destroyed. Each rule blocks
//! the call unless `forward_invalid_calls` is on: a freed handle reaching the driver is a
//! use after free there.
//!
//! Memory, buffers and command buffers have a single creation command each, all
//! intercepted, so absence from the state map proves the handle invalid. Images also come
//! from swapchains, which the layer does not see, so only an image seen destroyed (and not
//! created again) is reported.

#[allow(unused_imports)]
use super::{Area, Rule, Severity};

macro_rules! handle_rule {
    ($name:ident, $id:literal, [$($alias:literal),*], $target:literal, $page:literal, $summary:literal) => {
        pub const $name: Rule = Rule {
            id: $id,
            aliases: &[$($alias),*],
            severity: Severity::Error,
            area: Area::Handle,
            target: $target,
            summary: $summary,
            spec: refpage!($page),
            blocks_call: true,
        };
    };
}

// ---- binding memory ------------------------------------------------------------------

handle_rule!(
    BIND_BUFFER_MEMORY_DEAD,
    "VUID-vkBindBufferMemory-memory-parameter",
    [],
    "vkBindBufferMemory",
    "vkBindBufferMemory",
    "the memory was never allocated on this device or was already freed"
);
handle_rule!(
    BIND_BUFFER_BUFFER_DEAD,
    "VUID-vkBindBufferMemory-buffer-parameter",
    [],
    "vkBindBufferMemory",
    "vkBindBufferMemory",
    "the buffer was never created on this device or was already destroyed"
);
handle_rule!(
    BIND_BUFFER_INFO_MEMORY_DEAD,
    "VUID-VkBindBufferMemoryInfo-memory-parameter",
    [],
    "vkBindBufferMemory2 VkBindBufferMemoryInfo",
    "VkBindBufferMemoryInfo",
    "the memory of a bind info was never allocated on this device or was already freed"
);
handle_rule!(
    BIND_BUFFER_INFO_BUFFER_DEAD,
    "VUID-VkBindBufferMemoryInfo-buffer-parameter",
    [],
    "vkBindBufferMemory2 VkBindBufferMemoryInfo",
    "VkBindBufferMemoryInfo",
    "the buffer of a bind info was never created on this device or was already destroyed"
);
handle_rule!(
    BIND_IMAGE_MEMORY_DEAD,
    "VUID-vkBindImageMemory-memory-parameter",
    [],
    "vkBindImageMemory",
    "vkBindImageMemory",
    "the memory was never allocated on this device or was already freed"
);
handle_rule!(
    BIND_IMAGE_IMAGE_DEAD,
    "VUID-vkBindImageMemory-image-parameter",
    [],
    "vkBindImageMemory",
    "vkBindImageMemory",
    "the image was already destroyed (and not created again)"
);
handle_rule!(BIND_IMAGE_INFO_MEMORY_DEAD, "VUID-VkBindImageMemoryInfo-pNext-01632",
    ["VUID-VkBindImageMemoryInfo-memory-01625"],
    "vkBindImageMemory2 VkBindImageMemoryInfo", "VkBindImageMemoryInfo",
    "the memory of a bind info is not VK_NULL_HANDLE and was never allocated on this device or was already freed");
handle_rule!(
    BIND_IMAGE_INFO_IMAGE_DEAD,
    "VUID-VkBindImageMemoryInfo-image-parameter",
    [],
    "vkBindImageMemory2 VkBindImageMemoryInfo",
    "VkBindImageMemoryInfo",
    "the image of a bind info was already destroyed (and not created again)"
);

// ---- freeing and destroying ----------------------------------------------------------

handle_rule!(FREE_MEMORY_DEAD, "VUID-vkFreeMemory-memory-parameter", [],
    "vkFreeMemory", "vkFreeMemory",
    "the memory is not VK_NULL_HANDLE and was never allocated on this device or was already freed (a double free)");
handle_rule!(DESTROY_BUFFER_DEAD, "VUID-vkDestroyBuffer-buffer-parameter", [],
    "vkDestroyBuffer", "vkDestroyBuffer",
    "the buffer is not VK_NULL_HANDLE and was never created on this device or was already destroyed (a double destroy)");
handle_rule!(
    DESTROY_IMAGE_DEAD,
    "VUID-vkDestroyImage-image-parameter",
    [],
    "vkDestroyImage",
    "vkDestroyImage",
    "the image was already destroyed and not created again (a double destroy)"
);

// ---- recording and submitting --------------------------------------------------------

handle_rule!(BARRIER_IMG_DEAD, "VUID-VkImageMemoryBarrier-image-parameter", [],
    "vkCmdPipelineBarrier VkImageMemoryBarrier", "VkImageMemoryBarrier",
    "a barrier that transfers to or from an external or foreign queue family names an image that was already destroyed");
handle_rule!(BARRIER_IMG2_DEAD, "VUID-VkImageMemoryBarrier2-image-parameter", [],
    "vkCmdPipelineBarrier2 VkImageMemoryBarrier2", "VkImageMemoryBarrier2",
    "a barrier that transfers to or from an external or foreign queue family names an image that was already destroyed");
handle_rule!(SUBMIT_CB_DEAD, "VUID-VkSubmitInfo-pCommandBuffers-parameter", [],
    "vkQueueSubmit VkSubmitInfo", "VkSubmitInfo",
    "a submitted command buffer was never allocated on the queue's device or was already freed (vkFreeCommandBuffers or vkDestroyCommandPool)");
handle_rule!(SUBMIT2_CB_DEAD, "VUID-VkCommandBufferSubmitInfo-commandBuffer-parameter", [],
    "vkQueueSubmit2 VkCommandBufferSubmitInfo", "VkCommandBufferSubmitInfo",
    "a submitted command buffer was never allocated on the queue's device or was already freed (vkFreeCommandBuffers or vkDestroyCommandPool)");

//! Ownership and layout of external resources as the queues see them, applied at submit
//! (G6 to G10, 12331/12332, 08922).

use super::{Area, Rule, Severity};

const QUEUE_TRANSFERS: &str =
    "https://docs.vulkan.org/spec/latest/chapters/synchronization.html#synchronization-queue-transfers";
const EXTERNAL_SHARING: &str =
    "https://docs.vulkan.org/spec/latest/chapters/resources.html#resources-external-sharing";

pub const OWNERSHIP_ACQUIRE_WITHOUT_RELEASE: Rule = Rule {
    id: "HANDOFF-Ownership-acquire-without-release",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkQueueSubmit",
    summary: "an acquire from VK_QUEUE_FAMILY_EXTERNAL/FOREIGN of a resource this device owns and has not released since (a second acquire); the first acquire of imported memory, or of memory whose other side was never seen, is fine",
    spec: QUEUE_TRANSFERS,
    blocks_call: false,
};

pub const OWNERSHIP_USE_WHILE_RELEASED: Rule = Rule {
    id: "HANDOFF-Ownership-use-while-released",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkQueueSubmit",
    summary: "a transfer command, render pass attachment or barrier other than the acquire touches a resource released to VK_QUEUE_FAMILY_EXTERNAL/FOREIGN before it is acquired again (descriptor use in draws and dispatches is not tracked)",
    spec: QUEUE_TRANSFERS,
    blocks_call: false,
};

pub const OWNERSHIP_NOT_EXTERNAL_MEMORY: Rule = Rule {
    id: "HANDOFF-Ownership-not-external-memory",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkQueueSubmit",
    summary: "a resource is released to VK_QUEUE_FAMILY_EXTERNAL/FOREIGN although its memory was neither exported nor imported",
    spec: EXTERNAL_SHARING,
    blocks_call: false,
};

pub const OWNERSHIP_ACQUIRE_LAYOUT_MISMATCH: Rule = Rule {
    id: "HANDOFF-Ownership-acquire-layout-mismatch",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkQueueSubmit",
    summary: "an acquire from VK_QUEUE_FAMILY_EXTERNAL/FOREIGN names an oldLayout other than the newLayout of the matching release (paired in this process, across devices and instances through the payload; oldLayout UNDEFINED discards and is not compared)",
    spec: QUEUE_TRANSFERS,
    blocks_call: false,
};

/// The ERROR form: `peer = other-api`, or any release to `VK_QUEUE_FAMILY_FOREIGN_EXT`.
pub const HANDOFF_LAYOUT_NOT_GENERAL: Rule = Rule {
    id: "HANDOFF-Handoff-layout-not-general",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handoff,
    target: "vkQueueSubmit",
    summary: "an image released to a consumer that is not Vulkan (FOREIGN, or EXTERNAL with peer = other-api) is not in VK_IMAGE_LAYOUT_GENERAL; with peer = unknown (the default) the same id is a WARNING, with peer = vulkan it is silent",
    spec: refpage!("VK_KHR_external_memory"),
    blocks_call: false,
};

/// The WARNING form of [`HANDOFF_LAYOUT_NOT_GENERAL`] for `peer = unknown`: the same fact, so
/// the same id. Not listed in the catalogue, whose ids are unique; the row above covers both.
pub const HANDOFF_LAYOUT_NOT_GENERAL_PEER_UNKNOWN: Rule = Rule {
    severity: Severity::Warning,
    ..HANDOFF_LAYOUT_NOT_GENERAL
};

pub const ACQUIRE_UNMODIFIED_BUT_MODIFIED: Rule = Rule {
    id: "VUID-VkExternalMemoryAcquireUnmodifiedEXT-acquireUnmodifiedMemory-08922",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "VkExternalMemoryAcquireUnmodifiedEXT",
    summary: "an acquire claims acquireUnmodifiedMemory, but this process used memory bound to the resource after its last release",
    spec: refpage!("VkExternalMemoryAcquireUnmodifiedEXT"),
    blocks_call: false,
};

pub const BARRIER_IMG_D3D11_RELEASE_NOT_GENERAL: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-dstQueueFamilyIndex-12331",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handoff,
    target: "VkImageMemoryBarrier",
    summary: "an image created with a D3D11 texture handle type is released to VK_QUEUE_FAMILY_EXTERNAL with a newLayout other than VK_IMAGE_LAYOUT_GENERAL",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_D3D11_ACQUIRE_NOT_GENERAL: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-srcQueueFamilyIndex-12332",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handoff,
    target: "VkImageMemoryBarrier",
    summary: "an image created with a D3D11 texture handle type is acquired from VK_QUEUE_FAMILY_EXTERNAL with an oldLayout other than VK_IMAGE_LAYOUT_GENERAL or UNDEFINED",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG2_D3D11_RELEASE_NOT_GENERAL: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-dstQueueFamilyIndex-12331",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handoff,
    target: "VkImageMemoryBarrier2",
    summary: "an image created with a D3D11 texture handle type is released to VK_QUEUE_FAMILY_EXTERNAL (synchronization2) with a newLayout other than VK_IMAGE_LAYOUT_GENERAL",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_D3D11_ACQUIRE_NOT_GENERAL: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-12332",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handoff,
    target: "VkImageMemoryBarrier2",
    summary: "an image created with a D3D11 texture handle type is acquired from VK_QUEUE_FAMILY_EXTERNAL (synchronization2) with an oldLayout other than VK_IMAGE_LAYOUT_GENERAL or UNDEFINED",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

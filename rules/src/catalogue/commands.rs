//! Command pools and command buffers: the record-time ownership-transfer rules that need the
//! pool's queue family or the synchronization2 feature (RULES-TARGET 1.18), and the
//! sync1 `vkCmdWaitEvents` rule that forbids ownership transfers there.

use super::{Area, Rule, Severity};

pub const CMD_BARRIER_POOL_FAMILY: Rule = Rule {
    id: "VUID-vkCmdPipelineBarrier-srcQueueFamilyIndex-10388",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier",
    summary: "an ownership transfer of an EXCLUSIVE resource names neither as srcQueueFamilyIndex nor as dstQueueFamilyIndex the queue family of the command buffer's pool",
    spec: refpage!("vkCmdPipelineBarrier"),
    blocks_call: false,
};

pub const CMD_BARRIER2_POOL_FAMILY: Rule = Rule {
    id: "VUID-vkCmdPipelineBarrier2-srcQueueFamilyIndex-10387",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2",
    summary: "an ownership transfer of an EXCLUSIVE resource names neither as srcQueueFamilyIndex nor as dstQueueFamilyIndex the queue family of the command buffer's pool",
    spec: refpage!("vkCmdPipelineBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF_SYNC1_CONCURRENT_NO_IGNORED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-None-09049",
    aliases: &["VUID-VkBufferMemoryBarrier-synchronization2-03853"],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "VkBufferMemoryBarrier",
    summary: "without the synchronization2 feature, a barrier on a CONCURRENT buffer needs srcQueueFamilyIndex or dstQueueFamilyIndex to be VK_QUEUE_FAMILY_IGNORED",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_SYNC1_CONCURRENT_SRC: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-None-09050",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "VkBufferMemoryBarrier",
    summary: "without the synchronization2 feature, a barrier on a CONCURRENT buffer needs srcQueueFamilyIndex to be VK_QUEUE_FAMILY_IGNORED or VK_QUEUE_FAMILY_EXTERNAL",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_SYNC1_CONCURRENT_DST: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-None-09051",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "VkBufferMemoryBarrier",
    summary: "without the synchronization2 feature, a barrier on a CONCURRENT buffer needs dstQueueFamilyIndex to be VK_QUEUE_FAMILY_IGNORED or VK_QUEUE_FAMILY_EXTERNAL",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_SYNC1_CONCURRENT_NO_IGNORED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-None-09052",
    aliases: &["VUID-VkImageMemoryBarrier-synchronization2-03857"],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "VkImageMemoryBarrier",
    summary: "without the synchronization2 feature, a barrier on a CONCURRENT image needs srcQueueFamilyIndex or dstQueueFamilyIndex to be VK_QUEUE_FAMILY_IGNORED",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_SYNC1_CONCURRENT_SRC: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-None-09053",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "VkImageMemoryBarrier",
    summary: "without the synchronization2 feature, a barrier on a CONCURRENT image needs srcQueueFamilyIndex to be VK_QUEUE_FAMILY_IGNORED or VK_QUEUE_FAMILY_EXTERNAL",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_SYNC1_CONCURRENT_DST: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-None-09054",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "VkImageMemoryBarrier",
    summary: "without the synchronization2 feature, a barrier on a CONCURRENT image needs dstQueueFamilyIndex to be VK_QUEUE_FAMILY_IGNORED or VK_QUEUE_FAMILY_EXTERNAL",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const WAIT_EVENTS_TRANSFER: Rule = Rule {
    id: "VUID-vkCmdWaitEvents-srcQueueFamilyIndex-02803",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdWaitEvents",
    summary: "a buffer or image barrier of vkCmdWaitEvents has different srcQueueFamilyIndex and dstQueueFamilyIndex: vkCmdWaitEvents cannot transfer ownership",
    spec: refpage!("vkCmdWaitEvents"),
    blocks_call: false,
};

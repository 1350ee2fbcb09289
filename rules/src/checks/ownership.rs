//! Ownership and layout of external buffers and images as the queues see them: the state
//! rules of RULES-TARGET G6 to G10 (plus 12331/12332 and 08922), applied in submission order
//! to what command buffers recorded.
//!
//! The layer records [`RecordedOp`]s per command buffer (`layer/src/commands.rs`) and replays
//! them here when the command buffer is submitted (`layer/src/ownership.rs`).

use ash::vk;

/// A buffer or an image, by raw handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Buffer(u64),
    Image(u64),
}

impl Resource {
    pub fn raw(self) -> u64 {
        match self {
            Resource::Buffer(h) | Resource::Image(h) => h,
        }
    }

    pub fn object_type(self) -> vk::ObjectType {
        match self {
            Resource::Buffer(_) => vk::ObjectType::BUFFER,
            Resource::Image(_) => vk::ObjectType::IMAGE,
        }
    }
}

/// The part of a resource a barrier or a command touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// `offset` and `size` (`VK_WHOLE_SIZE` allowed) of a buffer.
    Buffer { offset: u64, size: u64 },
    /// A subresource range of an image (`VK_REMAINING_*` allowed).
    Image(ImageRange),
}

/// `VkImageSubresourceRange`, copied (ash's type has no `PartialEq`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageRange {
    pub aspect_mask: vk::ImageAspectFlags,
    pub base_mip_level: u32,
    pub level_count: u32,
    pub base_array_layer: u32,
    pub layer_count: u32,
}

impl From<vk::ImageSubresourceRange> for ImageRange {
    fn from(r: vk::ImageSubresourceRange) -> Self {
        Self {
            aspect_mask: r.aspect_mask,
            base_mip_level: r.base_mip_level,
            level_count: r.level_count,
            base_array_layer: r.base_array_layer,
            layer_count: r.layer_count,
        }
    }
}

/// One buffer or image barrier, recorded because it names `VK_QUEUE_FAMILY_EXTERNAL` or
/// `VK_QUEUE_FAMILY_FOREIGN_EXT`, or because its resource is bound to external memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierOp {
    pub resource: Resource,
    pub range: Range,
    pub src: u32,
    pub dst: u32,
    /// Image barriers only; `UNDEFINED` for buffers.
    pub old_layout: vk::ImageLayout,
    pub new_layout: vk::ImageLayout,
    /// `VkExternalMemoryAcquireUnmodifiedEXT::acquireUnmodifiedMemory` on the barrier.
    pub acquire_unmodified: bool,
    /// The recording command (`vkCmdPipelineBarrier2`, ...) and the barrier's index in its
    /// array, for messages.
    pub command: &'static str,
    pub index: u32,
}

/// A command other than a barrier that reads or writes an external resource: a transfer
/// command (copy, blit, clear, fill, update, resolve) or a render pass attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UseOp {
    pub resource: Resource,
    /// The recording command, for messages.
    pub command: &'static str,
}

/// What a command buffer recorded that the ownership rules replay at submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedOp {
    Barrier(BarrierOp),
    Use(UseOp),
    /// `vkCmdExecuteCommands`: the secondary command buffers' ops apply here, in order, when
    /// the primary is submitted (raw `VkCommandBuffer` handles).
    Execute(Vec<u64>),
}

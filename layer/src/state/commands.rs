//! Command pools and command buffers: the pool's queue family and what each command buffer
//! recorded for the ownership rules (see `handoff_rules::checks::ownership`).
//!
//! Only operations that touch an external resource or name a special queue family are kept,
//! so command buffers of an app that shares nothing stay empty.

use super::{accounting, Key};
use ash::vk::{self, Handle};
use dashmap::DashMap;
use handoff_rules::checks::ownership::RecordedOp;
use once_cell::sync::Lazy;

/// A `VkCommandBuffer` as allocated, with what it recorded since its last begin or reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandBufferRecord {
    pub pool: u64,
    /// `VkCommandPoolCreateInfo::queueFamilyIndex` of its pool.
    pub family: u32,
    pub level: vk::CommandBufferLevel,
    pub ops: Vec<RecordedOp>,
}

static COMMAND_BUFFERS: Lazy<DashMap<Key, CommandBufferRecord>> =
    Lazy::new(|| accounting::measured(DashMap::new));

fn key(device: vk::Device, cb: vk::CommandBuffer) -> Key {
    (device.as_raw(), cb.as_raw())
}

pub fn insert_command_buffer(device: vk::Device, cb: vk::CommandBuffer, rec: CommandBufferRecord) {
    accounting::measured(|| COMMAND_BUFFERS.insert(key(device, cb), rec));
}

pub fn remove_command_buffer(
    device: vk::Device,
    cb: vk::CommandBuffer,
) -> Option<CommandBufferRecord> {
    accounting::measured(|| COMMAND_BUFFERS.remove(&key(device, cb)).map(|(_, v)| v))
}

/// The queue family of the command buffer's pool.
pub fn family(device: vk::Device, cb: vk::CommandBuffer) -> Option<u32> {
    COMMAND_BUFFERS.get(&key(device, cb)).map(|r| r.family)
}

/// Runs `f` on the command buffer's recorded operations (no other lock of this map may be
/// taken inside `f` for the same key).
pub fn with_ops<R>(
    device: vk::Device,
    cb: vk::CommandBuffer,
    f: impl FnOnce(&[RecordedOp]) -> R,
) -> Option<R> {
    COMMAND_BUFFERS.get(&key(device, cb)).map(|r| f(&r.ops))
}

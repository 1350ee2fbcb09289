//! Applies what submitted command buffers recorded to the ownership and layout of external
//! resources, in submission order per queue, and reports the state rules
//! (`handoff_rules::checks::ownership`).

use crate::dispatch::DeviceData;
use ash::vk;
use handoff_rules::Finding;

/// What one submitted batch did, for the submit-level rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// A command buffer released memory to `VK_QUEUE_FAMILY_EXTERNAL` or `FOREIGN`.
    pub released: bool,
}

/// Applies the recorded operations of `command_buffers` (one batch of `vkQueueSubmit(2)`,
/// in order) as executed on `queue`, a queue of family `queue_family`.
pub fn apply_submission(
    data: &DeviceData,
    queue: vk::Queue,
    queue_family: u32,
    command_buffers: &[vk::CommandBuffer],
    findings: &mut Vec<Finding>,
) -> Applied {
    let _ = (data, queue, queue_family, command_buffers, findings);
    Applied::default()
}

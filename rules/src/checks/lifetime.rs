//! Object lifetime: handles used after they were freed (or never made), and objects still
//! alive at device destruction.

use crate::catalogue::{self as cat, Rule, LEAK_LIVE_OBJECTS};
use crate::checks::bind::Form;
use crate::finding::{Finding, Object};
use ash::vk;

/// Why the layer knows a handle is dead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dead {
    /// A type with a single, intercepted creation command (memory, buffers, command
    /// buffers): absent from the state map, so never made on this device or already freed.
    Absent,
    /// An image the layer saw destroyed and not created again.
    Destroyed,
}

impl Dead {
    fn words(self, made: &str, freed: &str) -> String {
        match self {
            Dead::Absent => format!("was never {made} on this device or was already {freed}"),
            Dead::Destroyed => format!("was already {freed} (and not created again)"),
        }
    }
}

/// What one bind names, with the handles the layer proved dead (`None`: alive, unknown but
/// possibly valid, or VK_NULL_HANDLE where the command allows it).
#[derive(Clone, Copy, Debug)]
pub struct BindHandles {
    pub device: u64,
    pub form: Form,
    /// True for an image bind, false for a buffer bind.
    pub image: bool,
    pub resource: u64,
    pub resource_dead: Option<Dead>,
    pub memory: u64,
    pub memory_dead: Option<Dead>,
}

/// A bind naming a dead resource or dead memory: one finding per dead handle.
pub fn bind(b: &BindHandles) -> Vec<Finding> {
    let mut out = Vec::new();
    let (command, resource_type, resource_name) = if b.image {
        ("vkBindImageMemory", vk::ObjectType::IMAGE, "VkImage")
    } else {
        ("vkBindBufferMemory", vk::ObjectType::BUFFER, "VkBuffer")
    };
    let place = match b.form {
        Form::Single => command.to_owned(),
        Form::Info { command, index } => format!("{command} pBindInfos[{index}]"),
    };
    let single = matches!(b.form, Form::Single);
    let pick = |single_rule: &'static Rule, info_rule: &'static Rule| {
        if single {
            single_rule
        } else {
            info_rule
        }
    };
    let device = Object::new(vk::ObjectType::DEVICE, b.device);
    if let Some(dead) = b.resource_dead {
        let rule = match b.image {
            true => pick(
                &cat::BIND_IMAGE_IMAGE_DEAD,
                &cat::BIND_IMAGE_INFO_IMAGE_DEAD,
            ),
            false => pick(
                &cat::BIND_BUFFER_BUFFER_DEAD,
                &cat::BIND_BUFFER_INFO_BUFFER_DEAD,
            ),
        };
        out.push(Finding::new(
            rule,
            format!(
                "{place} binds {resource_name} 0x{:x}, which {}. Binding memory to a dead \
                 handle is a use after free in the driver.",
                b.resource,
                dead.words("created", "destroyed")
            ),
            vec![Object::new(resource_type, b.resource), device],
        ));
    }
    if let Some(dead) = b.memory_dead {
        let rule = match b.image {
            true => pick(
                &cat::BIND_IMAGE_MEMORY_DEAD,
                &cat::BIND_IMAGE_INFO_MEMORY_DEAD,
            ),
            false => pick(
                &cat::BIND_BUFFER_MEMORY_DEAD,
                &cat::BIND_BUFFER_INFO_MEMORY_DEAD,
            ),
        };
        out.push(Finding::new(
            rule,
            format!(
                "{place} binds {resource_name} 0x{:x} to VkDeviceMemory 0x{:x}, which {}. \
                 Keep the memory allocated as long as anything is bound to it.",
                b.resource,
                b.memory,
                dead.words("allocated", "freed")
            ),
            vec![
                Object::new(vk::ObjectType::DEVICE_MEMORY, b.memory),
                Object::new(resource_type, b.resource),
                device,
            ],
        ));
    }
    out
}

/// `vkFreeMemory` of a non-null handle this device does not hold: a double free, or memory
/// of another device.
pub fn free_memory(device: u64, memory: u64) -> Finding {
    Finding::new(
        &cat::FREE_MEMORY_DEAD,
        format!(
            "vkFreeMemory was given VkDeviceMemory 0x{memory:x}, which {}. Free each \
             allocation once, on the device that allocated it.",
            Dead::Absent.words("allocated", "freed")
        ),
        vec![
            Object::new(vk::ObjectType::DEVICE_MEMORY, memory),
            Object::new(vk::ObjectType::DEVICE, device),
        ],
    )
}

/// `vkDestroyBuffer` of a non-null handle this device does not hold.
pub fn destroy_buffer(device: u64, buffer: u64) -> Finding {
    Finding::new(
        &cat::DESTROY_BUFFER_DEAD,
        format!(
            "vkDestroyBuffer was given VkBuffer 0x{buffer:x}, which {}. Destroy each buffer \
             once, on the device that created it.",
            Dead::Absent.words("created", "destroyed")
        ),
        vec![
            Object::new(vk::ObjectType::BUFFER, buffer),
            Object::new(vk::ObjectType::DEVICE, device),
        ],
    )
}

/// `vkDestroyImage` of an image the layer saw destroyed before.
pub fn destroy_image(device: u64, image: u64) -> Finding {
    Finding::new(
        &cat::DESTROY_IMAGE_DEAD,
        format!(
            "vkDestroyImage was given VkImage 0x{image:x}, which {}. Destroy each image once.",
            Dead::Destroyed.words("created", "destroyed")
        ),
        vec![
            Object::new(vk::ObjectType::IMAGE, image),
            Object::new(vk::ObjectType::DEVICE, device),
        ],
    )
}

/// An image barrier (`sync2`: `VkImageMemoryBarrier2`) whose image the layer saw destroyed.
pub fn barrier_image(
    device: u64,
    command_buffer: u64,
    command: &str,
    sync2: bool,
    index: usize,
    image: u64,
) -> Finding {
    let rule = if sync2 {
        &cat::BARRIER_IMG2_DEAD
    } else {
        &cat::BARRIER_IMG_DEAD
    };
    Finding::new(
        rule,
        format!(
            "{command} pImageMemoryBarriers[{index}] names VkImage 0x{image:x}, which {}. \
             Record ownership transfers only for live images.",
            Dead::Destroyed.words("created", "destroyed")
        ),
        vec![
            Object::new(vk::ObjectType::IMAGE, image),
            Object::new(vk::ObjectType::COMMAND_BUFFER, command_buffer),
            Object::new(vk::ObjectType::DEVICE, device),
        ],
    )
}

/// Where a dead command buffer sits in a submission.
#[derive(Clone, Copy, Debug)]
pub struct SubmitSlot {
    pub queue: u64,
    /// `vkQueueSubmit`, `vkQueueSubmit2` or `vkQueueSubmit2KHR`.
    pub command: &'static str,
    /// `VkSubmitInfo2`/`VkCommandBufferSubmitInfo` rather than `VkSubmitInfo`.
    pub sync2: bool,
    pub submit: usize,
    pub index: usize,
}

/// A submitted command buffer the queue's device does not hold.
pub fn submit_command_buffer(slot: &SubmitSlot, command_buffer: u64) -> Finding {
    let (rule, array): (&'static Rule, &str) = if slot.sync2 {
        (&cat::SUBMIT2_CB_DEAD, "pCommandBufferInfos")
    } else {
        (&cat::SUBMIT_CB_DEAD, "pCommandBuffers")
    };
    Finding::new(
        rule,
        format!(
            "{} pSubmits[{}].{array}[{}] is VkCommandBuffer 0x{command_buffer:x}, which was \
             never allocated on the queue's device or was already freed (vkFreeCommandBuffers \
             or vkDestroyCommandPool). Submit only live command buffers.",
            slot.command, slot.submit, slot.index
        ),
        vec![
            Object::new(vk::ObjectType::COMMAND_BUFFER, command_buffer),
            Object::new(vk::ObjectType::QUEUE, slot.queue),
        ],
    )
}

/// `vkDestroyDevice` while tracked objects are alive: one finding listing them.
pub fn destroy_device(device: u64, live: &[Object]) -> Option<Finding> {
    if live.is_empty() {
        return None;
    }
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for obj in live {
        match kinds.iter_mut().find(|(k, _)| *k == obj.type_name()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((obj.type_name(), 1)),
        }
    }
    let list = kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut objects = vec![Object::new(vk::ObjectType::DEVICE, device)];
    objects.extend_from_slice(live);
    Some(Finding::new(
        &LEAK_LIVE_OBJECTS,
        format!(
            "vkDestroyDevice was called while {list} created from it were still alive. Free or \
             destroy them first; exported payloads stay alive in other processes only through \
             their own imports."
        ),
        objects,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_reports_each_dead_handle_with_the_form_s_id() {
        let mut b = BindHandles {
            device: 1,
            form: Form::Single,
            image: false,
            resource: 0xb,
            resource_dead: None,
            memory: 0xe0,
            memory_dead: None,
        };
        assert!(bind(&b).is_empty());
        b.memory_dead = Some(Dead::Absent);
        let f = bind(&b);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id(), "VUID-vkBindBufferMemory-memory-parameter");
        assert!(f[0].message.contains("0xe0"), "{}", f[0].message);
        b.resource_dead = Some(Dead::Absent);
        let ids: Vec<_> = bind(&b).iter().map(|f| f.id()).collect();
        assert_eq!(
            ids,
            [
                "VUID-vkBindBufferMemory-buffer-parameter",
                "VUID-vkBindBufferMemory-memory-parameter"
            ]
        );
        b.image = true;
        b.form = Form::Info {
            command: "vkBindImageMemory2KHR",
            index: 3,
        };
        b.resource_dead = Some(Dead::Destroyed);
        let f = bind(&b);
        assert_eq!(f[0].id(), "VUID-VkBindImageMemoryInfo-image-parameter");
        assert_eq!(f[1].id(), "VUID-VkBindImageMemoryInfo-pNext-01632");
        assert!(f[0]
            .message
            .starts_with("vkBindImageMemory2KHR pBindInfos[3]"));
        assert!(f[0]
            .message
            .contains("already destroyed (and not created again)"));
        assert!(f.iter().all(|f| f.rule.blocks_call));
    }

    #[test]
    fn free_destroy_barrier_and_submit_name_their_handles() {
        let f = free_memory(1, 0x10);
        assert_eq!(f.id(), "VUID-vkFreeMemory-memory-parameter");
        assert_eq!(
            f.objects[0],
            Object::new(vk::ObjectType::DEVICE_MEMORY, 0x10)
        );
        assert_eq!(
            destroy_buffer(1, 0x11).id(),
            "VUID-vkDestroyBuffer-buffer-parameter"
        );
        assert_eq!(
            destroy_image(1, 0x12).id(),
            "VUID-vkDestroyImage-image-parameter"
        );
        let f = barrier_image(1, 0x13, "vkCmdPipelineBarrier2KHR", true, 2, 0x12);
        assert_eq!(f.id(), "VUID-VkImageMemoryBarrier2-image-parameter");
        assert!(f.message.contains("pImageMemoryBarriers[2]"));
        assert_eq!(
            barrier_image(1, 0x13, "vkCmdPipelineBarrier", false, 0, 0x12).id(),
            "VUID-VkImageMemoryBarrier-image-parameter"
        );
        let mut slot = SubmitSlot {
            queue: 0x14,
            command: "vkQueueSubmit",
            sync2: false,
            submit: 1,
            index: 0,
        };
        let f = submit_command_buffer(&slot, 0x15);
        assert_eq!(f.id(), "VUID-VkSubmitInfo-pCommandBuffers-parameter");
        assert!(f.message.contains("pSubmits[1].pCommandBuffers[0]"));
        slot.sync2 = true;
        assert_eq!(
            submit_command_buffer(&slot, 0x15).id(),
            "VUID-VkCommandBufferSubmitInfo-commandBuffer-parameter"
        );
    }

    #[test]
    fn nothing_live_is_silent() {
        assert!(destroy_device(1, &[]).is_none());
    }

    #[test]
    fn lists_counts_per_type() {
        let live = [
            Object::new(vk::ObjectType::DEVICE_MEMORY, 5),
            Object::new(vk::ObjectType::DEVICE_MEMORY, 6),
        ];
        let f = destroy_device(1, &live).unwrap();
        assert_eq!(f.id(), "HANDOFF-Leak-live-objects");
        assert!(f.message.contains("2 VkDeviceMemory"));
        assert_eq!(f.objects.len(), 3);
    }
}

//! What a check returns: one violated rule, in words, with the handles involved.

use crate::catalogue::Rule;
use ash::vk;

/// A handle named by a finding, as `VkDebugUtilsObjectNameInfoEXT` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Object {
    pub ty: vk::ObjectType,
    pub handle: u64,
}

impl Object {
    pub fn new(ty: vk::ObjectType, handle: u64) -> Self {
        Self { ty, handle }
    }

    /// The Vulkan type name (`VkDeviceMemory`), as the report file spells it.
    pub fn type_name(&self) -> &'static str {
        object_type_name(self.ty)
    }
}

/// `VkObjectType` as the C type name.
pub fn object_type_name(ty: vk::ObjectType) -> &'static str {
    match ty {
        vk::ObjectType::INSTANCE => "VkInstance",
        vk::ObjectType::PHYSICAL_DEVICE => "VkPhysicalDevice",
        vk::ObjectType::DEVICE => "VkDevice",
        vk::ObjectType::QUEUE => "VkQueue",
        vk::ObjectType::SEMAPHORE => "VkSemaphore",
        vk::ObjectType::COMMAND_BUFFER => "VkCommandBuffer",
        vk::ObjectType::FENCE => "VkFence",
        vk::ObjectType::DEVICE_MEMORY => "VkDeviceMemory",
        vk::ObjectType::BUFFER => "VkBuffer",
        vk::ObjectType::IMAGE => "VkImage",
        vk::ObjectType::EVENT => "VkEvent",
        vk::ObjectType::COMMAND_POOL => "VkCommandPool",
        vk::ObjectType::DEBUG_UTILS_MESSENGER_EXT => "VkDebugUtilsMessengerEXT",
        vk::ObjectType::DEBUG_REPORT_CALLBACK_EXT => "VkDebugReportCallbackEXT",
        _ => "VkUnknown",
    }
}

/// One violation of one rule.
#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static Rule,
    pub message: String,
    pub objects: Vec<Object>,
}

impl Finding {
    pub fn new(rule: &'static Rule, message: impl Into<String>, objects: Vec<Object>) -> Self {
        Self {
            rule,
            message: message.into(),
            objects,
        }
    }

    pub fn id(&self) -> &'static str {
        self.rule.id
    }
}

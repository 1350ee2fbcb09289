//! The rule catalogue: every id Handoff reports, with its aliases, severity, a one-line
//! summary in our own words and the spec page it comes from.
//!
//! Ids are the current spec's VUIDs where one exists, otherwise `HANDOFF-<Area>-<name>`.
//! `rules/README.md` is rendered from this table (a test keeps them in sync).

/// How bad a finding is (DESIGN.md: ERROR breaks the spec, WARNING is a hazard it allows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The part of the interop story a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    Import,
    Export,
    Ownership,
    Handoff,
    Sync,
    Chain,
    Leak,
    Layer,
    Settings,
    /// A handle the layer never saw or saw freed.
    Handle,
    /// Buffers and images declared for external memory.
    Resource,
}

/// One catalogue row.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// `VUID-…` or `HANDOFF-…`: what `pMessageIdName` carries.
    pub id: &'static str,
    /// Older ids of the same rule (1.3.239 numbering), accepted by `message_id_filter`.
    pub aliases: &'static [&'static str],
    pub severity: Severity,
    pub area: Area,
    /// The Vulkan command or structure the rule is attached to.
    pub target: &'static str,
    /// What is wrong, in one line.
    pub summary: &'static str,
    /// Refpage or spec section.
    pub spec: &'static str,
    /// The call has undefined behaviour: the layer does not forward it unless
    /// `forward_invalid_calls` is on.
    pub blocks_call: bool,
}

const REFPAGES: &str = "https://docs.vulkan.org/refpages/latest/refpages/source/";

macro_rules! refpage {
    ($name:literal) => {
        concat!(
            "https://docs.vulkan.org/refpages/latest/refpages/source/",
            $name,
            ".html"
        )
    };
}

pub const GET_FD_HANDLE_TYPE_NOT_EXPORTED: Rule = Rule {
    id: "VUID-VkMemoryGetFdInfoKHR-handleType-00671",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkGetMemoryFdKHR",
    summary: "the handle type was not requested in VkExportMemoryAllocateInfo::handleTypes when the memory was allocated",
    spec: refpage!("VkMemoryGetFdInfoKHR"),
    blocks_call: false,
};

pub const GET_FD_HANDLE_TYPE_NOT_FD: Rule = Rule {
    id: "VUID-VkMemoryGetFdInfoKHR-handleType-00672",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkGetMemoryFdKHR",
    summary: "vkGetMemoryFdKHR exports only OPAQUE_FD or DMA_BUF handles",
    spec: refpage!("VkMemoryGetFdInfoKHR"),
    blocks_call: false,
};

pub const GET_FD_MEMORY_UNKNOWN: Rule = Rule {
    id: "VUID-VkMemoryGetFdInfoKHR-memory-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handle,
    target: "vkGetMemoryFdKHR",
    summary: "the memory handle was never allocated on this device or was already freed",
    spec: refpage!("VkMemoryGetFdInfoKHR"),
    blocks_call: true,
};

pub const IMPORT_FD_HANDLE_TYPE_NOT_FD: Rule = Rule {
    id: "VUID-VkImportMemoryFdInfoKHR-handleType-00669",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an fd import takes only the OPAQUE_FD or DMA_BUF handle type",
    spec: refpage!("VkImportMemoryFdInfoKHR"),
    blocks_call: false,
};

pub const IMPORT_FD_INVALID: Rule = Rule {
    id: "VUID-VkImportMemoryFdInfoKHR-handleType-00670",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "the imported fd is not open or is provably no memory handle (a pipe, socket, directory, eventfd, …)",
    spec: refpage!("VkImportMemoryFdInfoKHR"),
    blocks_call: true,
};

pub const ALLOC_MULTIPLE_IMPORTS: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-None-06657",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "one allocation defines more than one import operation",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const ALLOC_EXPORT_KHR_AND_NV: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-pNext-00640",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkAllocateMemory",
    summary: "VkExportMemoryAllocateInfo is chained together with an NV export structure",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const ALLOC_IMPORT_CAPTURE_ADDRESS: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-opaqueCaptureAddress-03333",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an import asks for a non-zero opaque capture address",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const FD_PROPERTIES_OPAQUE_FD: Rule = Rule {
    id: "VUID-vkGetMemoryFdPropertiesKHR-handleType-00674",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkGetMemoryFdPropertiesKHR",
    summary: "fd properties may not be queried for the OPAQUE_FD handle type",
    spec: refpage!("vkGetMemoryFdPropertiesKHR"),
    blocks_call: false,
};

pub const FD_PROPERTIES_FD_INVALID: Rule = Rule {
    id: "VUID-vkGetMemoryFdPropertiesKHR-fd-00673",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkGetMemoryFdPropertiesKHR",
    summary: "the queried fd is not open or is provably no memory handle",
    spec: refpage!("vkGetMemoryFdPropertiesKHR"),
    blocks_call: true,
};

pub const BUFFER_EXTERNAL_TYPES_INCOMPATIBLE: Rule = Rule {
    id: "VUID-VkBufferCreateInfo-pNext-00920",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateBuffer",
    summary: "the buffer's external handle types are not all reported compatible with each other by vkGetPhysicalDeviceExternalBufferProperties for its usage and flags",
    spec: refpage!("VkBufferCreateInfo"),
    blocks_call: false,
};

pub const IMAGE_EXTERNAL_TYPES_INCOMPATIBLE: Rule = Rule {
    id: "VUID-VkImageCreateInfo-pNext-00990",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateImage",
    summary: "the image's external handle types are not all reported compatible with each other by vkGetPhysicalDeviceImageFormatProperties2 for its parameters",
    spec: refpage!("VkImageCreateInfo"),
    blocks_call: false,
};

pub const IMAGE_EXTERNAL_NV_AND_KHR: Rule = Rule {
    id: "VUID-VkImageCreateInfo-pNext-00988",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateImage",
    summary:
        "VkExternalMemoryImageCreateInfo and VkExternalMemoryImageCreateInfoNV are both chained",
    spec: refpage!("VkImageCreateInfo"),
    blocks_call: false,
};

pub const IMAGE_EXTERNAL_NV_TYPES_INCOMPATIBLE: Rule = Rule {
    id: "VUID-VkImageCreateInfo-pNext-00991",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateImage",
    summary: "the image's NV external handle types are not all reported compatible by vkGetPhysicalDeviceExternalImageFormatPropertiesNV for its parameters",
    spec: refpage!("VkImageCreateInfo"),
    blocks_call: false,
};

pub const IMAGE_EXTERNAL_LAYOUT_NOT_UNDEFINED: Rule = Rule {
    id: "VUID-VkImageCreateInfo-pNext-01443",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateImage",
    summary: "an image declared with external handle types (KHR or NV) does not start in VK_IMAGE_LAYOUT_UNDEFINED",
    spec: refpage!("VkImageCreateInfo"),
    blocks_call: false,
};

pub const LEAK_LIVE_OBJECTS: Rule = Rule {
    id: "HANDOFF-Leak-live-objects",
    aliases: &["VUID-vkDestroyDevice-device-05137"],
    severity: Severity::Error,
    area: Area::Leak,
    target: "vkDestroyDevice",
    summary: "the device was destroyed while objects created from it were still alive",
    spec: refpage!("vkDestroyDevice"),
    blocks_call: false,
};

pub const CHAIN_MALFORMED: Rule = Rule {
    id: "HANDOFF-Chain-malformed",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Chain,
    target: "pNext",
    summary: "a pNext chain loops back on itself or is absurdly long; the layer stopped walking it",
    spec: "https://docs.vulkan.org/spec/latest/chapters/fundamentals.html#fundamentals-validusage-pNext",
    blocks_call: false,
};

pub const LAYER_INTERNAL_ERROR: Rule = Rule {
    id: "HANDOFF-Layer-internal-error",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Layer,
    target: "any",
    summary: "Handoff itself failed (a caught panic); the call was answered with an error code",
    spec: "https://github.com/handoff-vk/handoff/issues",
    blocks_call: false,
};

pub const SETTINGS_INVALID: Rule = Rule {
    id: "HANDOFF-Settings-invalid",
    aliases: &[],
    severity: Severity::Warning,
    area: Area::Settings,
    target: "vkCreateInstance",
    summary: "a Handoff setting has an unknown key or a value out of range; its default is used",
    spec: "https://vulkan.lunarg.com/doc/sdk/latest/linux/layer_configuration.html",
    blocks_call: false,
};

/// Every rule, in the order `handoff rules` lists them.
pub static CATALOGUE: &[&Rule] = &[
    &GET_FD_HANDLE_TYPE_NOT_EXPORTED,
    &GET_FD_HANDLE_TYPE_NOT_FD,
    &GET_FD_MEMORY_UNKNOWN,
    &IMPORT_FD_HANDLE_TYPE_NOT_FD,
    &IMPORT_FD_INVALID,
    &ALLOC_MULTIPLE_IMPORTS,
    &ALLOC_EXPORT_KHR_AND_NV,
    &ALLOC_IMPORT_CAPTURE_ADDRESS,
    &FD_PROPERTIES_OPAQUE_FD,
    &FD_PROPERTIES_FD_INVALID,
    &BUFFER_EXTERNAL_TYPES_INCOMPATIBLE,
    &IMAGE_EXTERNAL_TYPES_INCOMPATIBLE,
    &IMAGE_EXTERNAL_NV_AND_KHR,
    &IMAGE_EXTERNAL_NV_TYPES_INCOMPATIBLE,
    &IMAGE_EXTERNAL_LAYOUT_NOT_UNDEFINED,
    &LEAK_LIVE_OBJECTS,
    &CHAIN_MALFORMED,
    &LAYER_INTERNAL_ERROR,
    &SETTINGS_INVALID,
];

/// The rule with this id or alias.
pub fn lookup(id: &str) -> Option<&'static Rule> {
    CATALOGUE
        .iter()
        .copied()
        .find(|r| r.id == id || r.aliases.contains(&id))
}

/// The refpage URL for a Vulkan command or structure name.
pub fn refpage_url(name: &str) -> String {
    format!("{REFPAGES}{name}.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for rule in CATALOGUE {
            for id in std::iter::once(&rule.id).chain(rule.aliases) {
                assert!(seen.insert(*id), "duplicate id {id}");
                assert!(
                    id.starts_with("VUID-") || id.starts_with("HANDOFF-"),
                    "bad id {id}"
                );
            }
            assert!(rule.spec.starts_with("https://"));
            assert!(!rule.summary.ends_with('.'));
        }
    }

    #[test]
    fn lookup_by_alias() {
        assert_eq!(
            lookup("VUID-vkDestroyDevice-device-05137").map(|r| r.id),
            Some("HANDOFF-Leak-live-objects")
        );
        assert!(lookup("VUID-nothing").is_none());
    }
}

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

// The row modules use `refpage!`, so they come after it.
mod commands;
mod handles;
mod ownership;
mod queue;
mod sync;

pub use commands::*;
pub use handles::*;
pub use ownership::*;
pub use queue::*;
pub use sync::*;

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

// Binding memory to buffers and images (rules/src/checks/bind.rs).

pub const BIND_BUFFER_REQUIRES_DEDICATED: Rule = Rule {
    id: "VUID-vkBindBufferMemory-buffer-01444",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindBufferMemory",
    summary: "the buffer requires a dedicated allocation, but the memory was not allocated dedicated to this buffer",
    spec: refpage!("vkBindBufferMemory"),
    blocks_call: false,
};

pub const BIND_BUFFER_INFO_REQUIRES_DEDICATED: Rule = Rule {
    id: "VUID-VkBindBufferMemoryInfo-buffer-01444",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindBufferMemory2",
    summary: "the buffer requires a dedicated allocation, but the memory was not allocated dedicated to this buffer",
    spec: refpage!("VkBindBufferMemoryInfo"),
    blocks_call: false,
};

pub const BIND_BUFFER_DEDICATED_OTHER: Rule = Rule {
    id: "VUID-vkBindBufferMemory-memory-01508",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindBufferMemory",
    summary: "memory dedicated to a buffer is bound to another buffer, or at a non-zero offset",
    spec: refpage!("vkBindBufferMemory"),
    blocks_call: false,
};

pub const BIND_BUFFER_INFO_DEDICATED_OTHER: Rule = Rule {
    id: "VUID-VkBindBufferMemoryInfo-memory-01508",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindBufferMemory2",
    summary: "memory dedicated to a buffer is bound to another buffer, or at a non-zero offset",
    spec: refpage!("VkBindBufferMemoryInfo"),
    blocks_call: false,
};

pub const BIND_BUFFER_DEDICATED_TO_IMAGE: Rule = Rule {
    id: "VUID-vkBindBufferMemory-memory-10925",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindBufferMemory",
    summary: "memory dedicated to an image is bound to a buffer",
    spec: refpage!("vkBindBufferMemory"),
    blocks_call: false,
};

pub const BIND_BUFFER_INFO_DEDICATED_TO_IMAGE: Rule = Rule {
    id: "VUID-VkBindBufferMemoryInfo-memory-10925",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindBufferMemory2",
    summary: "memory dedicated to an image is bound to a buffer",
    spec: refpage!("VkBindBufferMemoryInfo"),
    blocks_call: false,
};

pub const BIND_BUFFER_EXPORT_TYPES: Rule = Rule {
    id: "VUID-vkBindBufferMemory-memory-02726",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkBindBufferMemory",
    summary: "exportable memory is bound to a buffer whose external handle types include none of the memory's export types",
    spec: refpage!("vkBindBufferMemory"),
    blocks_call: false,
};

pub const BIND_BUFFER_INFO_EXPORT_TYPES: Rule = Rule {
    id: "VUID-VkBindBufferMemoryInfo-memory-02726",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkBindBufferMemory2",
    summary: "exportable memory is bound to a buffer whose external handle types include none of the memory's export types",
    spec: refpage!("VkBindBufferMemoryInfo"),
    blocks_call: false,
};

pub const BIND_BUFFER_IMPORT_TYPE: Rule = Rule {
    id: "VUID-vkBindBufferMemory-memory-02985",
    aliases: &["VUID-vkBindBufferMemory-memory-02727"],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkBindBufferMemory",
    summary: "imported memory is bound to a buffer whose external handle types do not include the import's handle type",
    spec: refpage!("vkBindBufferMemory"),
    blocks_call: false,
};

pub const BIND_BUFFER_INFO_IMPORT_TYPE: Rule = Rule {
    id: "VUID-VkBindBufferMemoryInfo-memory-02985",
    aliases: &["VUID-VkBindBufferMemoryInfo-memory-02727"],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkBindBufferMemory2",
    summary: "imported memory is bound to a buffer whose external handle types do not include the import's handle type",
    spec: refpage!("VkBindBufferMemoryInfo"),
    blocks_call: false,
};

pub const BIND_IMAGE_REQUIRES_DEDICATED: Rule = Rule {
    id: "VUID-vkBindImageMemory-image-01445",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory",
    summary: "the image requires a dedicated allocation, but the memory was not allocated dedicated to this image",
    spec: refpage!("vkBindImageMemory"),
    blocks_call: false,
};

pub const BIND_IMAGE_INFO_REQUIRES_DEDICATED: Rule = Rule {
    id: "VUID-VkBindImageMemoryInfo-image-01445",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory2",
    summary: "the image requires a dedicated allocation, but the memory was not allocated dedicated to this image",
    spec: refpage!("VkBindImageMemoryInfo"),
    blocks_call: false,
};

pub const BIND_IMAGE_DEDICATED_OTHER: Rule = Rule {
    id: "VUID-vkBindImageMemory-memory-02628",
    aliases: &["VUID-vkBindImageMemory-memory-01509"],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory",
    summary: "memory dedicated to an image is bound to another image, or at a non-zero offset (dedicatedAllocationImageAliasing off)",
    spec: refpage!("vkBindImageMemory"),
    blocks_call: false,
};

pub const BIND_IMAGE_INFO_DEDICATED_OTHER: Rule = Rule {
    id: "VUID-VkBindImageMemoryInfo-memory-02628",
    aliases: &["VUID-VkBindImageMemoryInfo-memory-01509"],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory2",
    summary: "memory dedicated to an image is bound to another image, or at a non-zero offset (dedicatedAllocationImageAliasing off)",
    spec: refpage!("VkBindImageMemoryInfo"),
    blocks_call: false,
};

pub const BIND_IMAGE_DEDICATED_ALIAS: Rule = Rule {
    id: "VUID-vkBindImageMemory-memory-02629",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory",
    summary: "with dedicatedAllocationImageAliasing on, memory dedicated to an image is bound at a non-zero offset, or to an image created with other parameters or a larger extent or more layers",
    spec: refpage!("vkBindImageMemory"),
    blocks_call: false,
};

pub const BIND_IMAGE_INFO_DEDICATED_ALIAS: Rule = Rule {
    id: "VUID-VkBindImageMemoryInfo-memory-02629",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory2",
    summary: "with dedicatedAllocationImageAliasing on, memory dedicated to an image is bound at a non-zero offset, or to an image created with other parameters or a larger extent or more layers",
    spec: refpage!("VkBindImageMemoryInfo"),
    blocks_call: false,
};

pub const BIND_IMAGE_DEDICATED_TO_BUFFER: Rule = Rule {
    id: "VUID-vkBindImageMemory-memory-10926",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory",
    summary: "memory dedicated to a buffer is bound to an image",
    spec: refpage!("vkBindImageMemory"),
    blocks_call: false,
};

pub const BIND_IMAGE_INFO_DEDICATED_TO_BUFFER: Rule = Rule {
    id: "VUID-VkBindImageMemoryInfo-memory-10926",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkBindImageMemory2",
    summary: "memory dedicated to a buffer is bound to an image",
    spec: refpage!("VkBindImageMemoryInfo"),
    blocks_call: false,
};

pub const BIND_IMAGE_EXPORT_TYPES: Rule = Rule {
    id: "VUID-vkBindImageMemory-memory-02728",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkBindImageMemory",
    summary: "exportable memory is bound to an image whose external handle types include none of the memory's export types",
    spec: refpage!("vkBindImageMemory"),
    blocks_call: false,
};

pub const BIND_IMAGE_INFO_EXPORT_TYPES: Rule = Rule {
    id: "VUID-VkBindImageMemoryInfo-memory-02728",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkBindImageMemory2",
    summary: "exportable memory is bound to an image whose external handle types include none of the memory's export types",
    spec: refpage!("VkBindImageMemoryInfo"),
    blocks_call: false,
};

pub const BIND_IMAGE_IMPORT_TYPE: Rule = Rule {
    id: "VUID-vkBindImageMemory-memory-02989",
    aliases: &["VUID-vkBindImageMemory-memory-02729"],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkBindImageMemory",
    summary: "imported memory is bound to an image whose external handle types do not include the import's handle type",
    spec: refpage!("vkBindImageMemory"),
    blocks_call: false,
};

pub const BIND_IMAGE_INFO_IMPORT_TYPE: Rule = Rule {
    id: "VUID-VkBindImageMemoryInfo-memory-02989",
    aliases: &["VUID-VkBindImageMemoryInfo-memory-02729"],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkBindImageMemory2",
    summary: "imported memory is bound to an image whose external handle types do not include the import's handle type",
    spec: refpage!("VkBindImageMemoryInfo"),
    blocks_call: false,
};

pub const SPARSE_BIND_EXPORT_TYPES: Rule = Rule {
    id: "VUID-VkSparseMemoryBind-memory-02730",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkQueueBindSparse",
    summary: "a sparse buffer or opaque image bind uses exportable memory whose export types are none of the resource's external handle types",
    spec: refpage!("VkSparseMemoryBind"),
    blocks_call: false,
};

pub const SPARSE_BIND_IMPORT_TYPE: Rule = Rule {
    id: "VUID-VkSparseMemoryBind-memory-02731",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkQueueBindSparse",
    summary: "a sparse buffer or opaque image bind uses imported memory whose handle type is not among the resource's external handle types",
    spec: refpage!("VkSparseMemoryBind"),
    blocks_call: false,
};

pub const SPARSE_IMAGE_BIND_EXPORT_TYPES: Rule = Rule {
    id: "VUID-VkSparseImageMemoryBind-memory-02732",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkQueueBindSparse",
    summary: "a sparse image bind uses exportable memory whose export types are none of the image's external handle types",
    spec: refpage!("VkSparseImageMemoryBind"),
    blocks_call: false,
};

pub const SPARSE_IMAGE_BIND_IMPORT_TYPE: Rule = Rule {
    id: "VUID-VkSparseImageMemoryBind-memory-02733",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkQueueBindSparse",
    summary: "a sparse image bind uses imported memory whose handle type is not among the image's external handle types",
    spec: refpage!("VkSparseImageMemoryBind"),
    blocks_call: false,
};

pub const DEDICATED_BOTH_IMAGE_AND_BUFFER: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-image-01432",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkAllocateMemory",
    summary: "VkMemoryDedicatedAllocateInfo names both an image and a buffer",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const DEDICATED_IMAGE_SIZE: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-image-02964",
    aliases: &["VUID-VkMemoryDedicatedAllocateInfo-image-01433"],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkAllocateMemory",
    summary: "a dedicated allocation is smaller than the image's VkMemoryRequirements::size (the current spec allows larger; 1.3.239's 01433 asked for equal)",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const DEDICATED_BUFFER_SIZE: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-buffer-02965",
    aliases: &["VUID-VkMemoryDedicatedAllocateInfo-buffer-01435"],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkAllocateMemory",
    summary: "a dedicated allocation is smaller than the buffer's VkMemoryRequirements::size (the current spec allows larger; 1.3.239's 01435 asked for equal)",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const DEDICATED_IMAGE_SPARSE: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-image-01434",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkAllocateMemory",
    summary: "the dedicated image was created with VK_IMAGE_CREATE_SPARSE_BINDING_BIT",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const DEDICATED_BUFFER_SPARSE: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-buffer-01436",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkAllocateMemory",
    summary: "the dedicated buffer was created with VK_BUFFER_CREATE_SPARSE_BINDING_BIT",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const DEDICATED_IMAGE_DISJOINT: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-image-01797",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkAllocateMemory",
    summary: "the dedicated image was created with VK_IMAGE_CREATE_DISJOINT_BIT",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const DEDICATED_IMAGE_UNKNOWN: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-image-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handle,
    target: "vkAllocateMemory",
    summary:
        "the dedicated image is no live image of this device (never created or already destroyed)",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: true,
};

pub const DEDICATED_BUFFER_UNKNOWN: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-buffer-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Handle,
    target: "vkAllocateMemory",
    summary:
        "the dedicated buffer is no live buffer of this device (never created or already destroyed)",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: true,
};

pub const ALLOC_DEDICATED_ONLY_NOT_DEDICATED: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-pNext-00639",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkAllocateMemory, vkBind*Memory",
    summary: "an exported handle type is DEDICATED_ONLY for the resource the memory backs, but the allocation is not dedicated to it (checked at bind when no resource was named)",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_DEDICATED_ONLY_NOT_DEDICATED: Rule = Rule {
    id: "HANDOFF-Import-dedicated-only",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory, vkBind*Memory",
    summary: "an imported handle type is DEDICATED_ONLY for the resource the memory backs, but the import is not a dedicated allocation (capabilities: \"to create (or import) a dedicated allocation\")",
    spec: "https://docs.vulkan.org/spec/latest/chapters/capabilities.html#VkExternalMemoryFeatureFlagBits",
    blocks_call: false,
};

pub const EXPORT_TYPES_NOT_SUPPORTED_FOR_RESOURCE: Rule = Rule {
    id: "VUID-VkExportMemoryAllocateInfo-handleTypes-09860",
    aliases: &["VUID-VkExportMemoryAllocateInfo-handleTypes-00656"],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkAllocateMemory, vkBind*Memory",
    summary: "the export handle types are not all EXPORTABLE and mutually compatible for the resource the memory backs (at allocation when dedicated, else at bind)",
    spec: refpage!("VkExportMemoryAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_TYPE_NOT_SUPPORTED_FOR_RESOURCE: Rule = Rule {
    id: "VUID-VkImportMemoryFdInfoKHR-handleType-09862",
    aliases: &["VUID-VkImportMemoryFdInfoKHR-handleType-00667"],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory, vkBind*Memory",
    summary: "the imported fd handle type is not IMPORTABLE for the resource the memory backs (at allocation when dedicated, else at bind)",
    spec: refpage!("VkImportMemoryFdInfoKHR"),
    blocks_call: false,
};

pub const MEMORY_ALLOCATE_PNEXT_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-pNext-pNext",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Chain,
    target: "vkAllocateMemory",
    summary: "an external-memory, dedicated or device-group structure is chained without the Vulkan version or extension that provides it",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const BUFFER_CREATE_PNEXT_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferCreateInfo-pNext-pNext",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Chain,
    target: "vkCreateBuffer",
    summary:
        "VkExternalMemoryBufferCreateInfo is chained without Vulkan 1.1 or VK_KHR_external_memory",
    spec: refpage!("VkBufferCreateInfo"),
    blocks_call: false,
};

pub const IMAGE_CREATE_PNEXT_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageCreateInfo-pNext-pNext",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Chain,
    target: "vkCreateImage",
    summary: "an external-memory image create info (KHR or NV) is chained without the Vulkan version or extension that provides it",
    spec: refpage!("VkImageCreateInfo"),
    blocks_call: false,
};

pub const EXPORT_ALLOC_HANDLE_TYPES_INVALID: Rule = Rule {
    id: "VUID-VkExportMemoryAllocateInfo-handleTypes-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkAllocateMemory",
    summary: "handleTypes has bits that are no valid VkExternalMemoryHandleTypeFlagBits for the device (undefined, or from an extension not enabled, e.g. DMA_BUF without VK_EXT_external_memory_dma_buf)",
    spec: refpage!("VkExportMemoryAllocateInfo"),
    blocks_call: false,
};

pub const EXTERNAL_BUFFER_HANDLE_TYPES_INVALID: Rule = Rule {
    id: "VUID-VkExternalMemoryBufferCreateInfo-handleTypes-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateBuffer",
    summary: "handleTypes has bits that are no valid VkExternalMemoryHandleTypeFlagBits for the device (undefined, or from an extension not enabled)",
    spec: refpage!("VkExternalMemoryBufferCreateInfo"),
    blocks_call: false,
};

pub const EXTERNAL_IMAGE_HANDLE_TYPES_INVALID: Rule = Rule {
    id: "VUID-VkExternalMemoryImageCreateInfo-handleTypes-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateImage",
    summary: "handleTypes has bits that are no valid VkExternalMemoryHandleTypeFlagBits for the device (undefined, or from an extension not enabled)",
    spec: refpage!("VkExternalMemoryImageCreateInfo"),
    blocks_call: false,
};

pub const EXPORT_ALLOC_NV_HANDLE_TYPES_INVALID: Rule = Rule {
    id: "VUID-VkExportMemoryAllocateInfoNV-handleTypes-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkAllocateMemory",
    summary: "handleTypes has bits that are no VkExternalMemoryHandleTypeFlagBitsNV value",
    spec: refpage!("VkExportMemoryAllocateInfoNV"),
    blocks_call: false,
};

pub const EXTERNAL_IMAGE_NV_HANDLE_TYPES_INVALID: Rule = Rule {
    id: "VUID-VkExternalMemoryImageCreateInfoNV-handleTypes-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkCreateImage",
    summary: "handleTypes has bits that are no VkExternalMemoryHandleTypeFlagBitsNV value",
    spec: refpage!("VkExternalMemoryImageCreateInfoNV"),
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

pub const IMPORT_PAYLOAD_SIZE_TYPE_MISMATCH: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-allocationSize-01742",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an OPAQUE_FD import of a payload exported by Vulkan in this process does not repeat the exporter's allocationSize and memoryTypeIndex",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_DEDICATED_IMAGE_MISMATCH: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-image-01878",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an OPAQUE_FD import dedicated to an image imports a payload that was not a dedicated allocation of an identical image",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_DEDICATED_BUFFER_MISMATCH: Rule = Rule {
    id: "VUID-VkMemoryDedicatedAllocateInfo-buffer-01879",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an OPAQUE_FD import dedicated to a buffer imports a payload that was not a dedicated allocation of an identical buffer",
    spec: refpage!("VkMemoryDedicatedAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_FD_DEVICE_INCOMPATIBLE: Rule = Rule {
    id: "VUID-VkImportMemoryFdInfoKHR-fd-01746",
    aliases: &[
        "VUID-VkImportMemoryFdInfoKHR-fd-00668",
        "VUID-VkImportMemoryFdInfoKHR-fd-01520",
    ],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an OPAQUE_FD payload is imported on a device whose deviceUUID or driverUUID differs from the exporter's",
    spec: refpage!("VkImportMemoryFdInfoKHR"),
    blocks_call: false,
};

pub const IMPORT_DMA_BUF_MEMORY_TYPE: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-memoryTypeIndex-00648",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "a dma-buf made outside Vulkan is imported with a memoryTypeIndex that vkGetMemoryFdPropertiesKHR does not report for it",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_DEVICE_MASK_MISMATCH: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-None-00643",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an import of a Vulkan payload uses a device mask other than the one the payload was allocated with",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_DEVICE_SET_MISMATCH: Rule = Rule {
    id: "VUID-VkMemoryAllocateInfo-None-00644",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an import of a Vulkan payload happens on a device made of other physical devices than the exporting device",
    spec: refpage!("VkMemoryAllocateInfo"),
    blocks_call: false,
};

pub const IMPORT_FD_REUSED: Rule = Rule {
    id: "HANDOFF-Import-fd-reused",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "an fd that an earlier successful import consumed (the driver still holds it) is imported again",
    spec: "https://docs.vulkan.org/spec/latest/chapters/memory.html#VkImportMemoryFdInfoKHR",
    blocks_call: true,
};

pub const EXPORT_REEXPORT_NOT_ALLOWED: Rule = Rule {
    id: "HANDOFF-Export-reexport-not-allowed",
    aliases: &[],
    severity: Severity::Warning,
    area: Area::Export,
    target: "vkGetMemoryFdKHR",
    summary: "imported memory is exported as a handle type outside the exportFromImportedHandleTypes the driver reports for its import type",
    spec: refpage!("VkExternalMemoryProperties"),
    blocks_call: false,
};

pub const GET_FD_NULL_FD_POINTER: Rule = Rule {
    id: "VUID-vkGetMemoryFdKHR-pFd-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkGetMemoryFdKHR",
    summary: "pFd is NULL, so the driver has nowhere to write the exported fd",
    spec: refpage!("vkGetMemoryFdKHR"),
    blocks_call: true,
};

pub const GET_FD_HANDLE_TYPE_INVALID: Rule = Rule {
    id: "VUID-VkMemoryGetFdInfoKHR-handleType-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Export,
    target: "vkGetMemoryFdKHR",
    summary: "handleType is not one valid VkExternalMemoryHandleTypeFlagBits value (zero, several bits, or undefined bits)",
    spec: refpage!("VkMemoryGetFdInfoKHR"),
    blocks_call: false,
};

pub const IMPORT_FD_HANDLE_TYPE_INVALID: Rule = Rule {
    id: "VUID-VkImportMemoryFdInfoKHR-handleType-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkAllocateMemory",
    summary: "a non-zero handleType is not one valid VkExternalMemoryHandleTypeFlagBits value (several bits, or undefined bits)",
    spec: refpage!("VkImportMemoryFdInfoKHR"),
    blocks_call: false,
};

pub const FD_PROPERTIES_NULL_OUT: Rule = Rule {
    id: "VUID-vkGetMemoryFdPropertiesKHR-pMemoryFdProperties-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Import,
    target: "vkGetMemoryFdPropertiesKHR",
    summary: "pMemoryFdProperties is NULL, so the driver has nowhere to write the answer",
    spec: refpage!("vkGetMemoryFdPropertiesKHR"),
    blocks_call: true,
};

pub const QUERY_NV_HANDLE_TYPE_MULTIPLE: Rule = Rule {
    id: "VUID-vkGetPhysicalDeviceExternalImageFormatPropertiesNV-externalHandleType-07721",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkGetPhysicalDeviceExternalImageFormatPropertiesNV",
    summary: "externalHandleType has more than one bit set: the NV query answers for one handle type at a time",
    spec: refpage!("vkGetPhysicalDeviceExternalImageFormatPropertiesNV"),
    blocks_call: false,
};

pub const QUERY_NV_HANDLE_TYPE_INVALID: Rule = Rule {
    id: "VUID-vkGetPhysicalDeviceExternalImageFormatPropertiesNV-externalHandleType-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkGetPhysicalDeviceExternalImageFormatPropertiesNV",
    summary: "externalHandleType has bits that are not VkExternalMemoryHandleTypeFlagBitsNV values",
    spec: refpage!("vkGetPhysicalDeviceExternalImageFormatPropertiesNV"),
    blocks_call: false,
};

pub const QUERY_NV_USAGE_ZERO: Rule = Rule {
    id: "VUID-vkGetPhysicalDeviceExternalImageFormatPropertiesNV-usage-requiredbitmask",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkGetPhysicalDeviceExternalImageFormatPropertiesNV",
    summary: "usage is 0: the NV external image format query needs the image's usage",
    spec: refpage!("vkGetPhysicalDeviceExternalImageFormatPropertiesNV"),
    blocks_call: false,
};

pub const QUERY_BUFFER_HANDLE_TYPE_INVALID: Rule = Rule {
    id: "VUID-VkPhysicalDeviceExternalBufferInfo-handleType-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkGetPhysicalDeviceExternalBufferProperties",
    summary: "handleType is not one valid VkExternalMemoryHandleTypeFlagBits value (zero, several bits, or undefined bits)",
    spec: refpage!("VkPhysicalDeviceExternalBufferInfo"),
    blocks_call: false,
};

pub const QUERY_BUFFER_USAGE_ZERO: Rule = Rule {
    id: "VUID-VkPhysicalDeviceExternalBufferInfo-None-09500",
    aliases: &["VUID-VkPhysicalDeviceExternalBufferInfo-usage-requiredbitmask"],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkGetPhysicalDeviceExternalBufferProperties",
    summary: "usage is 0 and no VkBufferUsageFlags2CreateInfo is chained: the query needs the buffer's usage",
    spec: refpage!("VkPhysicalDeviceExternalBufferInfo"),
    blocks_call: false,
};

pub const QUERY_IMAGE_HANDLE_TYPE_INVALID: Rule = Rule {
    id: "VUID-VkPhysicalDeviceExternalImageFormatInfo-handleType-parameter",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Resource,
    target: "vkGetPhysicalDeviceImageFormatProperties2",
    summary: "a non-zero handleType in VkPhysicalDeviceExternalImageFormatInfo is not one valid VkExternalMemoryHandleTypeFlagBits value (several bits, or undefined bits)",
    spec: refpage!("VkPhysicalDeviceExternalImageFormatInfo"),
    blocks_call: false,
};

pub const BARRIER_BUF_BOTH_SPECIAL: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-04087",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "a queue family ownership transfer names a special family (VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT) on both sides",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_EXTERNAL_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-None-09097",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_EXTERNAL_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-None-09098",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_FOREIGN_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-09099",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_FOREIGN_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-dstQueueFamilyIndex-09100",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_EXCLUSIVE_SRC_INVALID: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-buffer-09095",
    aliases: &["VUID-VkBufferMemoryBarrier-buffer-04089"],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "an ownership transfer of an EXCLUSIVE buffer has a srcQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_EXCLUSIVE_DST_INVALID: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier-buffer-09096",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "an ownership transfer of an EXCLUSIVE buffer has a dstQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkBufferMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF_HOST_STAGE: Rule = Rule {
    id: "VUID-vkCmdPipelineBarrier-srcStageMask-09634",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkBufferMemoryBarrier",
    summary: "a barrier whose stage masks include the HOST stage has different srcQueueFamilyIndex and dstQueueFamilyIndex (a host barrier cannot transfer ownership)",
    spec: refpage!("vkCmdPipelineBarrier"),
    blocks_call: false,
};

pub const BARRIER_BUF2_BOTH_SPECIAL: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-srcQueueFamilyIndex-04087",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "a queue family ownership transfer names a special family (VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT) on both sides",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF2_EXTERNAL_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-None-09097",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF2_EXTERNAL_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-None-09098",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF2_FOREIGN_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-srcQueueFamilyIndex-09099",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF2_FOREIGN_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-dstQueueFamilyIndex-09100",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF2_EXCLUSIVE_SRC_INVALID: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-buffer-09095",
    aliases: &["VUID-VkBufferMemoryBarrier2-buffer-04089"],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "an ownership transfer of an EXCLUSIVE buffer has a srcQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF2_EXCLUSIVE_DST_INVALID: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-buffer-09096",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "an ownership transfer of an EXCLUSIVE buffer has a dstQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_BUF2_HOST_STAGE: Rule = Rule {
    id: "VUID-VkBufferMemoryBarrier2-srcStageMask-03851",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkBufferMemoryBarrier2",
    summary: "a barrier whose stage masks include the HOST stage has different srcQueueFamilyIndex and dstQueueFamilyIndex (a host barrier cannot transfer ownership)",
    spec: refpage!("VkBufferMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG_BOTH_SPECIAL: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-srcQueueFamilyIndex-04070",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "a queue family ownership transfer names a special family (VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT) on both sides",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_EXTERNAL_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-None-09119",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_EXTERNAL_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-None-09120",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_FOREIGN_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-srcQueueFamilyIndex-09121",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_FOREIGN_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-dstQueueFamilyIndex-09122",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_EXCLUSIVE_SRC_INVALID: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-image-09117",
    aliases: &["VUID-VkImageMemoryBarrier-image-04072"],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "an ownership transfer of an EXCLUSIVE image has a srcQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_EXCLUSIVE_DST_INVALID: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier-image-09118",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "an ownership transfer of an EXCLUSIVE image has a dstQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkImageMemoryBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG_HOST_STAGE: Rule = Rule {
    id: "VUID-vkCmdPipelineBarrier-srcStageMask-09633",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier VkImageMemoryBarrier",
    summary: "a barrier whose stage masks include the HOST stage has different srcQueueFamilyIndex and dstQueueFamilyIndex (a host barrier cannot transfer ownership)",
    spec: refpage!("vkCmdPipelineBarrier"),
    blocks_call: false,
};

pub const BARRIER_IMG2_BOTH_SPECIAL: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-04070",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "a queue family ownership transfer names a special family (VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT) on both sides",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_EXTERNAL_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-None-09119",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_EXTERNAL_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-None-09120",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_EXTERNAL but neither Vulkan 1.1 nor VK_KHR_external_memory is available",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_FOREIGN_SRC_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-09121",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "srcQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_FOREIGN_DST_UNSUPPORTED: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-dstQueueFamilyIndex-09122",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "dstQueueFamilyIndex is VK_QUEUE_FAMILY_FOREIGN_EXT but VK_EXT_queue_family_foreign is not enabled",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_EXCLUSIVE_SRC_INVALID: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-image-09117",
    aliases: &["VUID-VkImageMemoryBarrier2-image-04072"],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "an ownership transfer of an EXCLUSIVE image has a srcQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_EXCLUSIVE_DST_INVALID: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-image-09118",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "an ownership transfer of an EXCLUSIVE image has a dstQueueFamilyIndex that is neither a queue family of the device nor VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT",
    spec: refpage!("VkImageMemoryBarrier2"),
    blocks_call: false,
};

pub const BARRIER_IMG2_HOST_STAGE: Rule = Rule {
    id: "VUID-VkImageMemoryBarrier2-srcStageMask-03854",
    aliases: &[],
    severity: Severity::Error,
    area: Area::Ownership,
    target: "vkCmdPipelineBarrier2 VkImageMemoryBarrier2",
    summary: "a barrier whose stage masks include the HOST stage has different srcQueueFamilyIndex and dstQueueFamilyIndex (a host barrier cannot transfer ownership)",
    spec: refpage!("VkImageMemoryBarrier2"),
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
    &BIND_BUFFER_REQUIRES_DEDICATED,
    &BIND_BUFFER_INFO_REQUIRES_DEDICATED,
    &BIND_BUFFER_DEDICATED_OTHER,
    &BIND_BUFFER_INFO_DEDICATED_OTHER,
    &BIND_BUFFER_DEDICATED_TO_IMAGE,
    &BIND_BUFFER_INFO_DEDICATED_TO_IMAGE,
    &BIND_BUFFER_EXPORT_TYPES,
    &BIND_BUFFER_INFO_EXPORT_TYPES,
    &BIND_BUFFER_IMPORT_TYPE,
    &BIND_BUFFER_INFO_IMPORT_TYPE,
    &BIND_IMAGE_REQUIRES_DEDICATED,
    &BIND_IMAGE_INFO_REQUIRES_DEDICATED,
    &BIND_IMAGE_DEDICATED_OTHER,
    &BIND_IMAGE_INFO_DEDICATED_OTHER,
    &BIND_IMAGE_DEDICATED_ALIAS,
    &BIND_IMAGE_INFO_DEDICATED_ALIAS,
    &BIND_IMAGE_DEDICATED_TO_BUFFER,
    &BIND_IMAGE_INFO_DEDICATED_TO_BUFFER,
    &BIND_IMAGE_EXPORT_TYPES,
    &BIND_IMAGE_INFO_EXPORT_TYPES,
    &BIND_IMAGE_IMPORT_TYPE,
    &BIND_IMAGE_INFO_IMPORT_TYPE,
    &SPARSE_BIND_EXPORT_TYPES,
    &SPARSE_BIND_IMPORT_TYPE,
    &SPARSE_IMAGE_BIND_EXPORT_TYPES,
    &SPARSE_IMAGE_BIND_IMPORT_TYPE,
    &DEDICATED_BOTH_IMAGE_AND_BUFFER,
    &DEDICATED_IMAGE_SIZE,
    &DEDICATED_BUFFER_SIZE,
    &DEDICATED_IMAGE_SPARSE,
    &DEDICATED_BUFFER_SPARSE,
    &DEDICATED_IMAGE_DISJOINT,
    &DEDICATED_IMAGE_UNKNOWN,
    &DEDICATED_BUFFER_UNKNOWN,
    &ALLOC_DEDICATED_ONLY_NOT_DEDICATED,
    &IMPORT_DEDICATED_ONLY_NOT_DEDICATED,
    &EXPORT_TYPES_NOT_SUPPORTED_FOR_RESOURCE,
    &IMPORT_TYPE_NOT_SUPPORTED_FOR_RESOURCE,
    &MEMORY_ALLOCATE_PNEXT_UNSUPPORTED,
    &BUFFER_CREATE_PNEXT_UNSUPPORTED,
    &IMAGE_CREATE_PNEXT_UNSUPPORTED,
    &EXPORT_ALLOC_HANDLE_TYPES_INVALID,
    &EXTERNAL_BUFFER_HANDLE_TYPES_INVALID,
    &EXTERNAL_IMAGE_HANDLE_TYPES_INVALID,
    &EXPORT_ALLOC_NV_HANDLE_TYPES_INVALID,
    &EXTERNAL_IMAGE_NV_HANDLE_TYPES_INVALID,
    &IMPORT_PAYLOAD_SIZE_TYPE_MISMATCH,
    &IMPORT_DEDICATED_IMAGE_MISMATCH,
    &IMPORT_DEDICATED_BUFFER_MISMATCH,
    &IMPORT_FD_DEVICE_INCOMPATIBLE,
    &IMPORT_DMA_BUF_MEMORY_TYPE,
    &IMPORT_DEVICE_MASK_MISMATCH,
    &IMPORT_DEVICE_SET_MISMATCH,
    &IMPORT_FD_REUSED,
    &EXPORT_REEXPORT_NOT_ALLOWED,
    &GET_FD_NULL_FD_POINTER,
    &GET_FD_HANDLE_TYPE_INVALID,
    &IMPORT_FD_HANDLE_TYPE_INVALID,
    &FD_PROPERTIES_NULL_OUT,
    &QUERY_NV_HANDLE_TYPE_MULTIPLE,
    &QUERY_NV_HANDLE_TYPE_INVALID,
    &QUERY_NV_USAGE_ZERO,
    &QUERY_BUFFER_HANDLE_TYPE_INVALID,
    &QUERY_BUFFER_USAGE_ZERO,
    &QUERY_IMAGE_HANDLE_TYPE_INVALID,
    &BARRIER_BUF_BOTH_SPECIAL,
    &BARRIER_BUF_EXTERNAL_SRC_UNSUPPORTED,
    &BARRIER_BUF_EXTERNAL_DST_UNSUPPORTED,
    &BARRIER_BUF_FOREIGN_SRC_UNSUPPORTED,
    &BARRIER_BUF_FOREIGN_DST_UNSUPPORTED,
    &BARRIER_BUF_EXCLUSIVE_SRC_INVALID,
    &BARRIER_BUF_EXCLUSIVE_DST_INVALID,
    &BARRIER_BUF_HOST_STAGE,
    &BARRIER_BUF2_BOTH_SPECIAL,
    &BARRIER_BUF2_EXTERNAL_SRC_UNSUPPORTED,
    &BARRIER_BUF2_EXTERNAL_DST_UNSUPPORTED,
    &BARRIER_BUF2_FOREIGN_SRC_UNSUPPORTED,
    &BARRIER_BUF2_FOREIGN_DST_UNSUPPORTED,
    &BARRIER_BUF2_EXCLUSIVE_SRC_INVALID,
    &BARRIER_BUF2_EXCLUSIVE_DST_INVALID,
    &BARRIER_BUF2_HOST_STAGE,
    &BARRIER_IMG_BOTH_SPECIAL,
    &BARRIER_IMG_EXTERNAL_SRC_UNSUPPORTED,
    &BARRIER_IMG_EXTERNAL_DST_UNSUPPORTED,
    &BARRIER_IMG_FOREIGN_SRC_UNSUPPORTED,
    &BARRIER_IMG_FOREIGN_DST_UNSUPPORTED,
    &BARRIER_IMG_EXCLUSIVE_SRC_INVALID,
    &BARRIER_IMG_EXCLUSIVE_DST_INVALID,
    &BARRIER_IMG_HOST_STAGE,
    &BARRIER_IMG2_BOTH_SPECIAL,
    &BARRIER_IMG2_EXTERNAL_SRC_UNSUPPORTED,
    &BARRIER_IMG2_EXTERNAL_DST_UNSUPPORTED,
    &BARRIER_IMG2_FOREIGN_SRC_UNSUPPORTED,
    &BARRIER_IMG2_FOREIGN_DST_UNSUPPORTED,
    &BARRIER_IMG2_EXCLUSIVE_SRC_INVALID,
    &BARRIER_IMG2_EXCLUSIVE_DST_INVALID,
    &BARRIER_IMG2_HOST_STAGE,
    // Command pools and buffers (catalogue/commands.rs).
    &CMD_BARRIER_POOL_FAMILY,
    &CMD_BARRIER2_POOL_FAMILY,
    &BARRIER_BUF_SYNC1_CONCURRENT_NO_IGNORED,
    &BARRIER_BUF_SYNC1_CONCURRENT_SRC,
    &BARRIER_BUF_SYNC1_CONCURRENT_DST,
    &BARRIER_IMG_SYNC1_CONCURRENT_NO_IGNORED,
    &BARRIER_IMG_SYNC1_CONCURRENT_SRC,
    &BARRIER_IMG_SYNC1_CONCURRENT_DST,
    &WAIT_EVENTS_TRANSFER,
    // Ownership state at submit (catalogue/ownership.rs).
    &OWNERSHIP_ACQUIRE_WITHOUT_RELEASE,
    &OWNERSHIP_USE_WHILE_RELEASED,
    &OWNERSHIP_NOT_EXTERNAL_MEMORY,
    &OWNERSHIP_ACQUIRE_LAYOUT_MISMATCH,
    &HANDOFF_LAYOUT_NOT_GENERAL,
    &ACQUIRE_UNMODIFIED_BUT_MODIFIED,
    &BARRIER_IMG_D3D11_RELEASE_NOT_GENERAL,
    &BARRIER_IMG_D3D11_ACQUIRE_NOT_GENERAL,
    &BARRIER_IMG2_D3D11_RELEASE_NOT_GENERAL,
    &BARRIER_IMG2_D3D11_ACQUIRE_NOT_GENERAL,
    // Semaphores, fences and submissions (catalogue/sync.rs).
    &SEM_EXPORT_TYPES_UNSUPPORTED,
    &SEM_EXPORT_TYPES_INVALID,
    &FENCE_EXPORT_TYPES_UNSUPPORTED,
    &FENCE_EXPORT_TYPES_INVALID,
    &SEM_GET_FD_NOT_EXPORTED,
    &SEM_GET_FD_FROM_IMPORTED,
    &SEM_GET_FD_NOT_FD,
    &SEM_GET_FD_SYNC_TIMELINE,
    &SEM_GET_FD_UNKNOWN,
    &SEM_GET_FD_TYPE_INVALID,
    &SEM_GET_FD_NULL_FD,
    &SEM_IMPORT_TYPE_NOT_FD,
    &SEM_IMPORT_SYNC_FD_PERMANENT,
    &SEM_IMPORT_TEMPORARY_TIMELINE,
    &SEM_IMPORT_FD_INCOMPATIBLE,
    &SEM_IMPORT_FLAGS_DIFFER,
    &SEM_IMPORT_TYPE_DIFFERS,
    &SEM_IMPORT_UNKNOWN,
    &SEM_IMPORT_FLAGS_INVALID,
    &SEM_IMPORT_TYPE_INVALID,
    &FENCE_GET_FD_NOT_EXPORTED,
    &FENCE_GET_FD_FROM_IMPORTED,
    &FENCE_GET_FD_NOT_FD,
    &FENCE_GET_FD_UNKNOWN,
    &FENCE_GET_FD_TYPE_INVALID,
    &FENCE_GET_FD_NULL_FD,
    &FENCE_IMPORT_TYPE_NOT_FD,
    &FENCE_IMPORT_SYNC_FD_PERMANENT,
    &FENCE_IMPORT_FD_INCOMPATIBLE,
    &FENCE_IMPORT_UNKNOWN,
    &FENCE_IMPORT_FLAGS_INVALID,
    &FENCE_IMPORT_TYPE_INVALID,
    // Queues and pending work (catalogue/queue.rs).
    &SYNC_RELEASE_WITHOUT_SIGNAL,
    &SEM_IMPORT_PENDING,
    &FENCE_IMPORT_PENDING,
    &SEM_SYNC_FD_QUEUE_WAITING,
    &SEM_SYNC_FD_NOT_SIGNALED,
    &SEM_SYNC_FD_SIGNAL_NOT_SUBMITTED,
    &FENCE_SYNC_FD_NOT_SIGNALED,
    // Handles proven dead (catalogue/handles.rs).
    &BIND_BUFFER_MEMORY_DEAD,
    &BIND_BUFFER_BUFFER_DEAD,
    &BIND_BUFFER_INFO_MEMORY_DEAD,
    &BIND_BUFFER_INFO_BUFFER_DEAD,
    &BIND_IMAGE_MEMORY_DEAD,
    &BIND_IMAGE_IMAGE_DEAD,
    &BIND_IMAGE_INFO_MEMORY_DEAD,
    &BIND_IMAGE_INFO_IMAGE_DEAD,
    &FREE_MEMORY_DEAD,
    &DESTROY_BUFFER_DEAD,
    &DESTROY_IMAGE_DEAD,
    &BARRIER_IMG_DEAD,
    &BARRIER_IMG2_DEAD,
    &SUBMIT_CB_DEAD,
    &SUBMIT2_CB_DEAD,
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

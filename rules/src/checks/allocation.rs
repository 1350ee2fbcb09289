//! `vkAllocateMemory` dedicated-allocation and per-resource export/import support clauses
//! (RULES-TARGET §1.2–1.5, §1.18, G12, G13, G17), the `pNext` structures chained without
//! their extension, and the handle-type bits that are no valid flag bits (§1.17).
//!
//! The per-resource support check ([`resource_support`]) is shared by vkAllocateMemory (when
//! a dedicated resource is named, so the resource is known) and vkBind*Memory (for memory
//! that was not dedicated: only the bind tells which resource it backs).

use crate::catalogue::Rule;
use crate::catalogue::{
    ALLOC_DEDICATED_ONLY_NOT_DEDICATED, BUFFER_CREATE_PNEXT_UNSUPPORTED,
    DEDICATED_BOTH_IMAGE_AND_BUFFER, DEDICATED_BUFFER_SIZE, DEDICATED_BUFFER_SPARSE,
    DEDICATED_BUFFER_UNKNOWN, DEDICATED_IMAGE_DISJOINT, DEDICATED_IMAGE_SIZE,
    DEDICATED_IMAGE_SPARSE, DEDICATED_IMAGE_UNKNOWN, EXPORT_ALLOC_HANDLE_TYPES_INVALID,
    EXPORT_ALLOC_NV_HANDLE_TYPES_INVALID, EXPORT_TYPES_NOT_SUPPORTED_FOR_RESOURCE,
    EXTERNAL_BUFFER_HANDLE_TYPES_INVALID, EXTERNAL_IMAGE_HANDLE_TYPES_INVALID,
    EXTERNAL_IMAGE_NV_HANDLE_TYPES_INVALID, IMAGE_CREATE_PNEXT_UNSUPPORTED,
    IMPORT_DEDICATED_ONLY_NOT_DEDICATED, IMPORT_FD_HANDLE_TYPE_INVALID,
    IMPORT_TYPE_NOT_SUPPORTED_FOR_RESOURCE, MEMORY_ALLOCATE_PNEXT_UNSUPPORTED,
};
use crate::checks::memory_import::handle_type_names;
use crate::checks::resource_create::{bits, Answer};
use crate::finding::{Finding, Object};
use ash::vk;

/// The device's API version and enabled extensions, as the layer recorded them.
#[derive(Clone, Copy, Debug)]
pub struct Enabled<'a> {
    /// The lower of the instance's `apiVersion` and the physical device's.
    pub api_version: u32,
    pub extensions: &'a [String],
}

impl Enabled<'_> {
    pub fn has(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e == name)
    }

    /// Whether a struct or bit provided by `core` (a version, 0 for none) or any of
    /// `extensions` may be used.
    fn provides(&self, core: u32, extensions: &[&str]) -> bool {
        (core != 0 && self.api_version >= core) || extensions.iter().any(|e| self.has(e))
    }
}

/// What provides each extending structure the rules look at: a core version (0 for none)
/// and the extensions that provide it. Unlisted structures are not judged.
const STRUCT_PROVIDERS: &[(&str, u32, &[&str])] = &[
    (
        "VkExportMemoryAllocateInfo",
        vk::API_VERSION_1_1,
        &["VK_KHR_external_memory"],
    ),
    ("VkImportMemoryFdInfoKHR", 0, &["VK_KHR_external_memory_fd"]),
    (
        "VkMemoryDedicatedAllocateInfo",
        vk::API_VERSION_1_1,
        &["VK_KHR_dedicated_allocation"],
    ),
    (
        "VkImportMemoryHostPointerInfoEXT",
        0,
        &["VK_EXT_external_memory_host"],
    ),
    (
        "VkExportMemoryAllocateInfoNV",
        0,
        &["VK_NV_external_memory"],
    ),
    (
        "VkDedicatedAllocationMemoryAllocateInfoNV",
        0,
        &["VK_NV_dedicated_allocation"],
    ),
    (
        "VkMemoryAllocateFlagsInfo",
        vk::API_VERSION_1_1,
        &["VK_KHR_device_group"],
    ),
    (
        "VkExternalMemoryBufferCreateInfo",
        vk::API_VERSION_1_1,
        &["VK_KHR_external_memory"],
    ),
    (
        "VkExternalMemoryImageCreateInfo",
        vk::API_VERSION_1_1,
        &["VK_KHR_external_memory"],
    ),
    (
        "VkExternalMemoryImageCreateInfoNV",
        0,
        &["VK_NV_external_memory"],
    ),
];

/// The memory handle-type bits an extension defines (the core 1.1 bits need nothing more
/// than the structure that carries them). Bits in no row and not core are no valid bits.
const MEMORY_BIT_PROVIDERS: &[(u32, &str)] = &[
    (0x80, "VK_EXT_external_memory_host"),
    (0x100, "VK_EXT_external_memory_host"),
    (0x200, "VK_EXT_external_memory_dma_buf"),
    (0x400, "VK_ANDROID_external_memory_android_hardware_buffer"),
    (0x800, "VK_FUCHSIA_external_memory"),
    (0x1000, "VK_NV_external_memory_rdma"),
    (0x4000, "VK_QNX_external_memory_screen_buffer"),
    (0x10000, "VK_EXT_external_memory_metal"),
    (0x20000, "VK_EXT_external_memory_metal"),
    (0x40000, "VK_EXT_external_memory_metal"),
];

/// OPAQUE_FD … D3D12_RESOURCE: defined by Vulkan 1.1 / VK_KHR_external_memory_capabilities.
const CORE_MEMORY_BITS: u32 = 0x7f;
/// Bits the layer does not know the meaning of but that a newer spec may define (between
/// known ones): given the benefit of the doubt.
const UNSURE_MEMORY_BITS: u32 = 0x2000 | 0x8000;
/// `VkExternalMemoryHandleTypeFlagBitsNV`: OPAQUE_WIN32, OPAQUE_WIN32_KMT, D3D11_IMAGE,
/// D3D11_IMAGE_KMT.
const NV_MEMORY_BITS: u32 = 0xf;

/// Which structure of which call a `pNext` check is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainOf {
    MemoryAllocateInfo,
    BufferCreateInfo,
    ImageCreateInfo,
}

impl ChainOf {
    fn rule(self) -> &'static Rule {
        match self {
            ChainOf::MemoryAllocateInfo => &MEMORY_ALLOCATE_PNEXT_UNSUPPORTED,
            ChainOf::BufferCreateInfo => &BUFFER_CREATE_PNEXT_UNSUPPORTED,
            ChainOf::ImageCreateInfo => &IMAGE_CREATE_PNEXT_UNSUPPORTED,
        }
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            ChainOf::MemoryAllocateInfo => ("vkAllocateMemory", "VkMemoryAllocateInfo"),
            ChainOf::BufferCreateInfo => ("vkCreateBuffer", "VkBufferCreateInfo"),
            ChainOf::ImageCreateInfo => ("vkCreateImage", "VkImageCreateInfo"),
        }
    }
}

/// One finding per chained structure (by name, as [`STRUCT_PROVIDERS`] spells it) whose
/// providing version or extension the device does not have.
pub fn chain_support(
    of: ChainOf,
    chained: &[&'static str],
    enabled: &Enabled<'_>,
    device: u64,
) -> Vec<Finding> {
    let (command, info) = of.words();
    let mut out = Vec::new();
    for (i, name) in chained.iter().enumerate() {
        if chained[..i].contains(name) {
            continue;
        }
        let Some((_, core, exts)) = STRUCT_PROVIDERS.iter().find(|(n, _, _)| n == name) else {
            continue;
        };
        if enabled.provides(*core, exts) {
            continue;
        }
        let needs = match *core {
            0 => exts.join(" or "),
            v => format!(
                "Vulkan {}.{} or {}",
                vk::api_version_major(v),
                vk::api_version_minor(v),
                exts.join(" or ")
            ),
        };
        out.push(Finding::new(
            of.rule(),
            format!(
                "{command} chains {name} in {info}::pNext, but the device was created without \
                 what provides it ({needs}; the device has Vulkan {}.{}). Enable {} in \
                 VkDeviceCreateInfo::ppEnabledExtensionNames, or drop the structure.",
                vk::api_version_major(enabled.api_version),
                vk::api_version_minor(enabled.api_version),
                exts.join(" or ")
            ),
            vec![Object::new(vk::ObjectType::DEVICE, device)],
        ));
    }
    out
}

/// Which handle-type member a bit check is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleTypesOf {
    ExportMemoryAllocateInfo,
    ImportMemoryFdInfo,
    ExternalMemoryBufferCreateInfo,
    ExternalMemoryImageCreateInfo,
}

impl HandleTypesOf {
    fn rule(self) -> &'static Rule {
        match self {
            HandleTypesOf::ExportMemoryAllocateInfo => &EXPORT_ALLOC_HANDLE_TYPES_INVALID,
            HandleTypesOf::ImportMemoryFdInfo => &IMPORT_FD_HANDLE_TYPE_INVALID,
            HandleTypesOf::ExternalMemoryBufferCreateInfo => &EXTERNAL_BUFFER_HANDLE_TYPES_INVALID,
            HandleTypesOf::ExternalMemoryImageCreateInfo => &EXTERNAL_IMAGE_HANDLE_TYPES_INVALID,
        }
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            HandleTypesOf::ExportMemoryAllocateInfo => (
                "vkAllocateMemory",
                "VkExportMemoryAllocateInfo::handleTypes",
            ),
            HandleTypesOf::ImportMemoryFdInfo => {
                ("vkAllocateMemory", "VkImportMemoryFdInfoKHR::handleType")
            }
            HandleTypesOf::ExternalMemoryBufferCreateInfo => (
                "vkCreateBuffer",
                "VkExternalMemoryBufferCreateInfo::handleTypes",
            ),
            HandleTypesOf::ExternalMemoryImageCreateInfo => (
                "vkCreateImage",
                "VkExternalMemoryImageCreateInfo::handleTypes",
            ),
        }
    }
}

/// The bits of `types` that are no valid `VkExternalMemoryHandleTypeFlagBits` for the
/// device, each with why.
fn invalid_memory_bits(
    types: vk::ExternalMemoryHandleTypeFlags,
    enabled: &Enabled<'_>,
) -> Vec<String> {
    bits(types.as_raw())
        .filter(|b| b & (CORE_MEMORY_BITS | UNSURE_MEMORY_BITS) == 0)
        .filter_map(|b| {
            let name = handle_type_names(vk::ExternalMemoryHandleTypeFlags::from_raw(b));
            match MEMORY_BIT_PROVIDERS.iter().find(|(bit, _)| *bit == b) {
                Some((_, ext)) if enabled.has(ext) => None,
                Some((_, ext)) => Some(format!("{name} needs {ext}, which is not enabled")),
                None => Some(format!(
                    "0x{b:x} is no VkExternalMemoryHandleTypeFlagBits value"
                )),
            }
        })
        .collect()
}

/// `*-handleTypes-parameter` (`-handleType-parameter` for the fd import): a bit that is no
/// valid flag bit, or one whose extension is not enabled on the device.
pub fn handle_types_valid(
    of: HandleTypesOf,
    types: vk::ExternalMemoryHandleTypeFlags,
    enabled: &Enabled<'_>,
    device: u64,
) -> Vec<Finding> {
    // Core and driver-dependent bits are valid on every device: nothing to say or format.
    if types.as_raw() & !(CORE_MEMORY_BITS | UNSURE_MEMORY_BITS) == 0 {
        return Vec::new();
    }
    // The fd import's undefined bits and multi-bit values are payload.rs's
    // (`import_handle_type_parameter`); here only a defined bit whose extension is missing.
    if of == HandleTypesOf::ImportMemoryFdInfo && types.as_raw().count_ones() != 1 {
        return Vec::new();
    }
    let mut problems = invalid_memory_bits(types, enabled);
    if of == HandleTypesOf::ImportMemoryFdInfo {
        problems.retain(|p| !p.contains(" is no VkExternalMemoryHandleTypeFlagBits value"));
    }
    if problems.is_empty() {
        return Vec::new();
    }
    let (command, member) = of.words();
    vec![Finding::new(
        of.rule(),
        format!(
            "{command} sets {member} to {}, which is not a valid combination of handle type \
             bits for this device: {}. Enable the extension that defines the handle type, or \
             leave the bit out.",
            handle_type_names(types),
            problems.join("; ")
        ),
        vec![Object::new(vk::ObjectType::DEVICE, device)],
    )]
}

/// Which NV handle-type member a bit check is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NvHandleTypesOf {
    ExportMemoryAllocateInfoNV,
    ExternalMemoryImageCreateInfoNV,
}

/// `VkExportMemoryAllocateInfoNV-handleTypes-parameter`,
/// `VkExternalMemoryImageCreateInfoNV-handleTypes-parameter`: bits that are no
/// `VkExternalMemoryHandleTypeFlagBitsNV` value.
pub fn nv_handle_types_valid(
    of: NvHandleTypesOf,
    types: vk::ExternalMemoryHandleTypeFlagsNV,
    device: u64,
) -> Vec<Finding> {
    let rest = types.as_raw() & !NV_MEMORY_BITS;
    if rest == 0 {
        return Vec::new();
    }
    let (rule, command, member) = match of {
        NvHandleTypesOf::ExportMemoryAllocateInfoNV => (
            &EXPORT_ALLOC_NV_HANDLE_TYPES_INVALID,
            "vkAllocateMemory",
            "VkExportMemoryAllocateInfoNV::handleTypes",
        ),
        NvHandleTypesOf::ExternalMemoryImageCreateInfoNV => (
            &EXTERNAL_IMAGE_NV_HANDLE_TYPES_INVALID,
            "vkCreateImage",
            "VkExternalMemoryImageCreateInfoNV::handleTypes",
        ),
    };
    vec![Finding::new(
        rule,
        format!(
            "{command} sets {member} to 0x{:x}; bits 0x{rest:x} are no \
             VkExternalMemoryHandleTypeFlagBitsNV value (only OPAQUE_WIN32, OPAQUE_WIN32_KMT, \
             D3D11_IMAGE and D3D11_IMAGE_KMT exist). Leave them out.",
            types.as_raw()
        ),
        vec![Object::new(vk::ObjectType::DEVICE, device)],
    )]
}

/// A buffer or an image, by raw handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceRef {
    Buffer(u64),
    Image(u64),
}

impl ResourceRef {
    pub fn object(self) -> Object {
        match self {
            ResourceRef::Buffer(h) => Object::new(vk::ObjectType::BUFFER, h),
            ResourceRef::Image(h) => Object::new(vk::ObjectType::IMAGE, h),
        }
    }

    fn words(self) -> String {
        match self {
            ResourceRef::Buffer(h) => format!("buffer 0x{h:x}"),
            ResourceRef::Image(h) => format!("image 0x{h:x}"),
        }
    }

    fn query(self) -> &'static str {
        match self {
            ResourceRef::Buffer(_) => "vkGetPhysicalDeviceExternalBufferProperties",
            ResourceRef::Image(_) => {
                "vkGetPhysicalDeviceImageFormatProperties2 with VkPhysicalDeviceExternalImageFormatInfo"
            }
        }
    }
}

/// What the layer knows of a resource named by `VkMemoryDedicatedAllocateInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DedicatedTarget {
    pub resource: ResourceRef,
    /// Created with `VK_{BUFFER,IMAGE}_CREATE_SPARSE_BINDING_BIT`.
    pub sparse_binding: bool,
    /// Created with `VK_IMAGE_CREATE_DISJOINT_BIT` (images only).
    pub disjoint: bool,
    /// `VkMemoryRequirements::size` as the driver answered the layer; `None` when it could
    /// not ask (a disjoint image has no plane-less answer).
    pub requirement_size: Option<u64>,
}

/// A handle named by `VkMemoryDedicatedAllocateInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// `VK_NULL_HANDLE`.
    Null,
    /// Not a live resource of this device (never created, or destroyed): the raw handle.
    Unknown(u64),
    Known(DedicatedTarget),
}

/// Checks `VkMemoryDedicatedAllocateInfo` (the KHR / core structure; the NV form has its own
/// rules, not checked here). `image` and `buffer` are its two members as the layer found
/// them.
pub fn dedicated_info(
    device: u64,
    allocation_size: u64,
    image: Named,
    buffer: Named,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let dev = Object::new(vk::ObjectType::DEVICE, device);
    let raw = |n: Named| match n {
        Named::Null => 0,
        Named::Unknown(h) => h,
        Named::Known(t) => match t.resource {
            ResourceRef::Buffer(h) | ResourceRef::Image(h) => h,
        },
    };
    if image != Named::Null && buffer != Named::Null {
        out.push(Finding::new(
            &DEDICATED_BOTH_IMAGE_AND_BUFFER,
            format!(
                "vkAllocateMemory chains VkMemoryDedicatedAllocateInfo naming both image 0x{:x} \
                 and buffer 0x{:x}; a dedicated allocation belongs to one resource. Set the \
                 member of the resource the memory is not for to VK_NULL_HANDLE.",
                raw(image),
                raw(buffer)
            ),
            vec![
                dev,
                Object::new(vk::ObjectType::IMAGE, raw(image)),
                Object::new(vk::ObjectType::BUFFER, raw(buffer)),
            ],
        ));
    }
    for (named, is_image) in [(image, true), (buffer, false)] {
        match named {
            Named::Null => {}
            Named::Unknown(h) => {
                let (rule, kind, ty) = if is_image {
                    (&DEDICATED_IMAGE_UNKNOWN, "image", vk::ObjectType::IMAGE)
                } else {
                    (&DEDICATED_BUFFER_UNKNOWN, "buffer", vk::ObjectType::BUFFER)
                };
                out.push(Finding::new(
                    rule,
                    format!(
                        "vkAllocateMemory chains VkMemoryDedicatedAllocateInfo::{kind} 0x{h:x}, \
                         which is no live {kind} of this device (never created, or already \
                         destroyed); the call was not passed to the driver. Create the {kind} \
                         first and keep it alive until the memory is bound."
                    ),
                    vec![dev, Object::new(ty, h)],
                ));
            }
            // With both named (01432) the allocation is for neither; judging its size or
            // flags against each would only add noise.
            Named::Known(_) if image != Named::Null && buffer != Named::Null => {}
            Named::Known(t) => out.extend(known_target(device, allocation_size, &t)),
        }
    }
    out
}

fn known_target(device: u64, allocation_size: u64, t: &DedicatedTarget) -> Vec<Finding> {
    let mut out = Vec::new();
    let objects = vec![
        Object::new(vk::ObjectType::DEVICE, device),
        t.resource.object(),
    ];
    let what = t.resource.words();
    let is_image = matches!(t.resource, ResourceRef::Image(_));
    if t.sparse_binding {
        let (rule, flag) = if is_image {
            (
                &DEDICATED_IMAGE_SPARSE,
                "VK_IMAGE_CREATE_SPARSE_BINDING_BIT",
            )
        } else {
            (
                &DEDICATED_BUFFER_SPARSE,
                "VK_BUFFER_CREATE_SPARSE_BINDING_BIT",
            )
        };
        out.push(Finding::new(
            rule,
            format!(
                "vkAllocateMemory makes a dedicated allocation for {what}, which was created \
                 with {flag}; sparse resources are bound with vkQueueBindSparse, never to a \
                 dedicated allocation. Drop VkMemoryDedicatedAllocateInfo, or create the \
                 resource without sparse binding."
            ),
            objects.clone(),
        ));
    }
    if is_image && t.disjoint {
        out.push(Finding::new(
            &DEDICATED_IMAGE_DISJOINT,
            format!(
                "vkAllocateMemory makes a dedicated allocation for {what}, which was created \
                 with VK_IMAGE_CREATE_DISJOINT_BIT; each plane of a disjoint image is bound \
                 separately, so it cannot have one dedicated allocation. Allocate without \
                 VkMemoryDedicatedAllocateInfo, or create the image without DISJOINT."
            ),
            objects.clone(),
        ));
    }
    if let Some(size) = t.requirement_size {
        if allocation_size < size {
            let rule = if is_image {
                &DEDICATED_IMAGE_SIZE
            } else {
                &DEDICATED_BUFFER_SIZE
            };
            out.push(Finding::new(
                rule,
                format!(
                    "vkAllocateMemory makes a dedicated allocation of {allocation_size} bytes \
                     for {what}, whose VkMemoryRequirements::size is {size} bytes; a \
                     dedicated allocation must be at least that large. Allocate \
                     VkMemoryRequirements::size bytes (from vkGet*MemoryRequirements for \
                     this resource)."
                ),
                objects,
            ));
        }
    }
    out
}

/// Where a support check runs: the message says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// At `vkAllocateMemory`, for the resource named by `VkMemoryDedicatedAllocateInfo`.
    Allocate,
    /// When the memory is bound to the resource (vkBind*Memory or its `2` form).
    Bind,
}

/// What the per-resource support rules need: the memory's export and import handle types,
/// whether it is dedicated to this resource, and the driver's answers for this resource's
/// exact create parameters (one per bit of `export_types | import_type`).
#[derive(Clone, Debug)]
pub struct SupportFacts<'a> {
    pub device: u64,
    /// The memory (0 at vkAllocateMemory, where it does not exist yet).
    pub memory: u64,
    pub resource: ResourceRef,
    /// `VkExportMemoryAllocateInfo::handleTypes`.
    pub export_types: vk::ExternalMemoryHandleTypeFlags,
    /// The imported handle type (empty when no import).
    pub import_type: vk::ExternalMemoryHandleTypeFlags,
    /// The import came through `VkImportMemoryFdInfoKHR` (09862 is about that structure).
    pub fd_import: bool,
    /// The allocation names a resource in `VkMemoryDedicatedAllocateInfo` (or the NV form).
    pub dedicated: bool,
    pub answers: &'a [(vk::ExternalMemoryHandleTypeFlags, Answer)],
    pub when: When,
}

fn answer_for(
    answers: &[(vk::ExternalMemoryHandleTypeFlags, Answer)],
    bit: vk::ExternalMemoryHandleTypeFlags,
) -> Answer {
    answers
        .iter()
        .find(|(b, _)| *b == bit)
        .map(|(_, a)| *a)
        .unwrap_or(Answer::Unknown)
}

fn features(a: &Answer) -> Option<vk::ExternalMemoryFeatureFlags> {
    match a {
        Answer::Props { features, .. } => Some(*features),
        Answer::Unsupported(_) => Some(vk::ExternalMemoryFeatureFlags::empty()),
        Answer::Unknown => None,
    }
}

/// 09860 (export types exportable and compatible for the resource), 09862 (fd import type
/// importable for it), 00639 and `HANDOFF-Import-dedicated-only` (a DEDICATED_ONLY handle
/// type on memory that is not dedicated).
pub fn resource_support(f: &SupportFacts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let query = f.resource.query();
    // The words and objects of a message, built only when a rule fires.
    let words = || match f.when {
        When::Allocate => (
            "at vkAllocateMemory".to_owned(),
            format!("the memory dedicated to {}", f.resource.words()),
        ),
        When::Bind => {
            let cmd = match f.resource {
                ResourceRef::Buffer(_) => "vkBindBufferMemory",
                ResourceRef::Image(_) => "vkBindImageMemory",
            };
            (
                format!("when bound by {cmd}"),
                format!("memory 0x{:x}, bound to {}", f.memory, f.resource.words()),
            )
        }
    };
    let objects = || {
        let mut objects = vec![Object::new(vk::ObjectType::DEVICE, f.device)];
        if f.memory != 0 {
            objects.push(Object::new(vk::ObjectType::DEVICE_MEMORY, f.memory));
        }
        objects.push(f.resource.object());
        objects
    };

    // 09860: every export type EXPORTABLE and compatible with all the others.
    if !f.export_types.is_empty() {
        let mut problems = Vec::new();
        for bit in bits(f.export_types.as_raw()).map(vk::ExternalMemoryHandleTypeFlags::from_raw) {
            let a = answer_for(f.answers, bit);
            let name = || handle_type_names(bit);
            match a {
                Answer::Unknown => {}
                Answer::Unsupported(r) => {
                    problems.push(format!("{}: the query answered {r:?}", name()))
                }
                Answer::Props {
                    features,
                    compatible,
                    ..
                } => {
                    if !features.contains(vk::ExternalMemoryFeatureFlags::EXPORTABLE) {
                        problems.push(format!(
                            "{} is not EXPORTABLE (features {features:?})",
                            name()
                        ));
                    } else if !compatible.contains(f.export_types) {
                        problems.push(format!(
                            "{} is compatible only with {}",
                            name(),
                            handle_type_names(compatible)
                        ));
                    }
                }
            }
        }
        if !problems.is_empty() {
            let (at, memory_words) = words();
            out.push(Finding::new(
                &EXPORT_TYPES_NOT_SUPPORTED_FOR_RESOURCE,
                format!(
                    "VkExportMemoryAllocateInfo::handleTypes {} of {memory_words} are not all \
                     exportable together for it ({at}): {}, as {query} reports for the \
                     resource's create parameters. Export only handle types the driver \
                     reports EXPORTABLE and compatible with each other for this resource.",
                    handle_type_names(f.export_types),
                    problems.join("; ")
                ),
                objects(),
            ));
        }
        // 00639: a DEDICATED_ONLY export type without a dedicated allocation.
        if !f.dedicated {
            let dedicated_only: Vec<String> = bits(f.export_types.as_raw())
                .map(vk::ExternalMemoryHandleTypeFlags::from_raw)
                .filter(|b| {
                    features(&answer_for(f.answers, *b))
                        .is_some_and(|x| x.contains(vk::ExternalMemoryFeatureFlags::DEDICATED_ONLY))
                })
                .map(handle_type_names)
                .collect();
            if !dedicated_only.is_empty() {
                let (at, memory_words) = words();
                out.push(Finding::new(
                    &ALLOC_DEDICATED_ONLY_NOT_DEDICATED,
                    format!(
                        "{memory_words} exports {}, which {query} reports DEDICATED_ONLY for \
                         it ({at}), but the allocation chains no VkMemoryDedicatedAllocateInfo \
                         naming the resource. Allocate the memory with \
                         VkMemoryDedicatedAllocateInfo naming this resource.",
                        dedicated_only.join(" and ")
                    ),
                    objects(),
                ));
            }
        }
    }

    if !f.import_type.is_empty() {
        let a = answer_for(f.answers, f.import_type);
        // 09862: the fd import type must be IMPORTABLE for the resource.
        if f.fd_import {
            let problem = match a {
                Answer::Unknown => None,
                Answer::Unsupported(r) => Some(format!("the query answered {r:?}")),
                Answer::Props { features, .. }
                    if !features.contains(vk::ExternalMemoryFeatureFlags::IMPORTABLE) =>
                {
                    Some(format!("it is not IMPORTABLE (features {features:?})"))
                }
                Answer::Props { .. } => None,
            };
            if let Some(problem) = problem {
                let (at, memory_words) = words();
                let name = handle_type_names(f.import_type);
                out.push(Finding::new(
                    &IMPORT_TYPE_NOT_SUPPORTED_FOR_RESOURCE,
                    format!(
                        "VkImportMemoryFdInfoKHR imports {name} into {memory_words}, but {query} \
                         does not support importing it for the resource ({at}): {problem}. \
                         Import only a handle type the driver reports IMPORTABLE for this \
                         resource's create parameters."
                    ),
                    objects(),
                ));
            }
        }
        // G12: DEDICATED_ONLY applies to imports too.
        if !f.dedicated
            && features(&a)
                .is_some_and(|x| x.contains(vk::ExternalMemoryFeatureFlags::DEDICATED_ONLY))
        {
            let (at, memory_words) = words();
            let name = handle_type_names(f.import_type);
            out.push(Finding::new(
                &IMPORT_DEDICATED_ONLY_NOT_DEDICATED,
                format!(
                    "{memory_words} was imported as {name}, which {query} reports \
                     DEDICATED_ONLY for the resource ({at}), but the import chains no \
                     VkMemoryDedicatedAllocateInfo naming it; a DEDICATED_ONLY handle type can \
                     only be imported into a dedicated allocation. Import with \
                     VkMemoryDedicatedAllocateInfo naming this resource."
                ),
                objects(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vk::ExternalMemoryFeatureFlags as Feat;
    use vk::ExternalMemoryHandleTypeFlags as T;

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    fn props(features: Feat, compatible: T) -> Answer {
        Answer::Props {
            features,
            compatible,
            export_from_imported: T::empty(),
        }
    }

    fn target(resource: ResourceRef) -> DedicatedTarget {
        DedicatedTarget {
            resource,
            sparse_binding: false,
            disjoint: false,
            requirement_size: Some(4096),
        }
    }

    #[test]
    fn dedicated_valid_exact_and_larger_are_silent() {
        for size in [4096, 8192] {
            let t = Named::Known(target(ResourceRef::Image(7)));
            assert!(dedicated_info(1, size, t, Named::Null).is_empty());
            let t = Named::Known(target(ResourceRef::Buffer(8)));
            assert!(dedicated_info(1, size, Named::Null, t).is_empty());
        }
        assert!(dedicated_info(1, 1, Named::Null, Named::Null).is_empty());
    }

    #[test]
    fn dedicated_smaller_fires_02964_02965() {
        let t = Named::Known(target(ResourceRef::Image(7)));
        let f = dedicated_info(1, 4095, t, Named::Null);
        assert_eq!(ids(&f), [DEDICATED_IMAGE_SIZE.id]);
        assert!(f[0].message.contains("4095") && f[0].message.contains("4096"));
        assert!(f[0]
            .objects
            .contains(&Object::new(vk::ObjectType::IMAGE, 7)));
        let t = Named::Known(target(ResourceRef::Buffer(8)));
        assert_eq!(
            ids(&dedicated_info(1, 100, Named::Null, t)),
            [DEDICATED_BUFFER_SIZE.id]
        );
        // No answer (disjoint): no size finding.
        let mut t = target(ResourceRef::Image(7));
        t.requirement_size = None;
        assert!(dedicated_info(1, 1, Named::Known(t), Named::Null).is_empty());
    }

    #[test]
    fn both_fires_01432() {
        let i = Named::Known(target(ResourceRef::Image(7)));
        let b = Named::Known(target(ResourceRef::Buffer(8)));
        // Alone: only 01432, not the size of each against the allocation.
        assert_eq!(
            ids(&dedicated_info(1, 1, i, b)),
            [DEDICATED_BOTH_IMAGE_AND_BUFFER.id]
        );
        assert_eq!(
            ids(&dedicated_info(1, 4096, i, b)),
            [DEDICATED_BOTH_IMAGE_AND_BUFFER.id]
        );
    }

    #[test]
    fn sparse_and_disjoint() {
        let mut t = target(ResourceRef::Image(7));
        t.sparse_binding = true;
        assert_eq!(
            ids(&dedicated_info(1, 4096, Named::Known(t), Named::Null)),
            [DEDICATED_IMAGE_SPARSE.id]
        );
        let mut t = target(ResourceRef::Buffer(8));
        t.sparse_binding = true;
        assert_eq!(
            ids(&dedicated_info(1, 4096, Named::Null, Named::Known(t))),
            [DEDICATED_BUFFER_SPARSE.id]
        );
        let mut t = target(ResourceRef::Image(7));
        t.disjoint = true;
        t.requirement_size = None;
        assert_eq!(
            ids(&dedicated_info(1, 4096, Named::Known(t), Named::Null)),
            [DEDICATED_IMAGE_DISJOINT.id]
        );
    }

    #[test]
    fn unknown_handles_fire_parameter_ids_and_block() {
        let f = dedicated_info(1, 4096, Named::Unknown(0x99), Named::Null);
        assert_eq!(ids(&f), [DEDICATED_IMAGE_UNKNOWN.id]);
        assert!(f[0].rule.blocks_call);
        let f = dedicated_info(1, 4096, Named::Null, Named::Unknown(0x98));
        assert_eq!(ids(&f), [DEDICATED_BUFFER_UNKNOWN.id]);
    }

    fn facts<'a>(
        export: T,
        import: T,
        dedicated: bool,
        answers: &'a [(T, Answer)],
        when: When,
    ) -> SupportFacts<'a> {
        SupportFacts {
            device: 1,
            memory: if when == When::Bind { 5 } else { 0 },
            resource: ResourceRef::Image(7),
            export_types: export,
            import_type: import,
            fd_import: !import.is_empty(),
            dedicated,
            answers,
            when,
        }
    }

    #[test]
    fn support_valid_is_silent() {
        let a = [(
            T::OPAQUE_FD,
            props(Feat::EXPORTABLE | Feat::IMPORTABLE, T::OPAQUE_FD),
        )];
        for when in [When::Allocate, When::Bind] {
            assert!(resource_support(&facts(T::OPAQUE_FD, T::empty(), false, &a, when)).is_empty());
            assert!(resource_support(&facts(T::empty(), T::OPAQUE_FD, false, &a, when)).is_empty());
        }
        // Unknown answers: nothing.
        let a = [(T::OPAQUE_FD, Answer::Unknown)];
        assert!(
            resource_support(&facts(T::OPAQUE_FD, T::OPAQUE_FD, false, &a, When::Bind)).is_empty()
        );
    }

    #[test]
    fn export_not_exportable_or_incompatible_fires_09860() {
        let a = [
            (
                T::OPAQUE_FD,
                props(Feat::EXPORTABLE | Feat::IMPORTABLE, T::OPAQUE_FD),
            ),
            (
                T::HOST_ALLOCATION_EXT,
                props(Feat::IMPORTABLE, T::HOST_ALLOCATION_EXT),
            ),
        ];
        let f = resource_support(&facts(
            T::OPAQUE_FD | T::HOST_ALLOCATION_EXT,
            T::empty(),
            true,
            &a,
            When::Allocate,
        ));
        assert_eq!(ids(&f), [EXPORT_TYPES_NOT_SUPPORTED_FOR_RESOURCE.id]);
        assert!(
            f[0].message.contains("at vkAllocateMemory"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("not EXPORTABLE"), "{}", f[0].message);
        let a = [(
            T::DMA_BUF_EXT,
            Answer::Unsupported(vk::Result::ERROR_FORMAT_NOT_SUPPORTED),
        )];
        let f = resource_support(&facts(T::DMA_BUF_EXT, T::empty(), false, &a, When::Bind));
        assert_eq!(ids(&f), [EXPORT_TYPES_NOT_SUPPORTED_FOR_RESOURCE.id]);
        assert!(
            f[0].message.contains("when bound by vkBindImageMemory"),
            "{}",
            f[0].message
        );
        assert!(f[0]
            .objects
            .contains(&Object::new(vk::ObjectType::DEVICE_MEMORY, 5)));
    }

    #[test]
    fn dedicated_only_export_fires_00639_unless_dedicated() {
        let a = [(
            T::DMA_BUF_EXT,
            props(
                Feat::DEDICATED_ONLY | Feat::EXPORTABLE | Feat::IMPORTABLE,
                T::DMA_BUF_EXT,
            ),
        )];
        let f = resource_support(&facts(T::DMA_BUF_EXT, T::empty(), false, &a, When::Bind));
        assert_eq!(ids(&f), [ALLOC_DEDICATED_ONLY_NOT_DEDICATED.id]);
        assert!(
            resource_support(&facts(T::DMA_BUF_EXT, T::empty(), true, &a, When::Allocate))
                .is_empty()
        );
        // Import side (G12).
        let f = resource_support(&facts(T::empty(), T::DMA_BUF_EXT, false, &a, When::Bind));
        assert_eq!(ids(&f), [IMPORT_DEDICATED_ONLY_NOT_DEDICATED.id]);
        assert!(
            resource_support(&facts(T::empty(), T::DMA_BUF_EXT, true, &a, When::Bind)).is_empty()
        );
    }

    #[test]
    fn import_not_importable_fires_09862() {
        let a = [(T::DMA_BUF_EXT, props(Feat::EXPORTABLE, T::DMA_BUF_EXT))];
        let f = resource_support(&facts(T::empty(), T::DMA_BUF_EXT, true, &a, When::Allocate));
        assert_eq!(ids(&f), [IMPORT_TYPE_NOT_SUPPORTED_FOR_RESOURCE.id]);
        // A host-pointer import is no fd import: 09862 does not apply.
        let mut x = facts(T::empty(), T::DMA_BUF_EXT, true, &a, When::Allocate);
        x.fd_import = false;
        assert!(resource_support(&x).is_empty());
    }

    #[test]
    fn chain_support_by_version_and_extension() {
        let none: Vec<String> = vec![];
        let v10 = Enabled {
            api_version: vk::API_VERSION_1_0,
            extensions: &none,
        };
        let v11 = Enabled {
            api_version: vk::API_VERSION_1_1,
            extensions: &none,
        };
        let f = chain_support(
            ChainOf::MemoryAllocateInfo,
            &[
                "VkExportMemoryAllocateInfo",
                "VkMemoryDedicatedAllocateInfo",
                "VkSomethingElse",
            ],
            &v10,
            1,
        );
        assert_eq!(ids(&f), [MEMORY_ALLOCATE_PNEXT_UNSUPPORTED.id; 2]);
        assert!(chain_support(
            ChainOf::MemoryAllocateInfo,
            &["VkExportMemoryAllocateInfo", "VkMemoryAllocateFlagsInfo"],
            &v11,
            1
        )
        .is_empty());
        let f = chain_support(
            ChainOf::MemoryAllocateInfo,
            &[
                "VkImportMemoryFdInfoKHR",
                "VkImportMemoryHostPointerInfoEXT",
            ],
            &v11,
            1,
        );
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("VK_KHR_external_memory_fd"));
        let exts = vec![
            "VK_KHR_external_memory".to_owned(),
            "VK_NV_external_memory".to_owned(),
        ];
        let e = Enabled {
            api_version: vk::API_VERSION_1_0,
            extensions: &exts,
        };
        assert!(chain_support(
            ChainOf::ImageCreateInfo,
            &[
                "VkExternalMemoryImageCreateInfo",
                "VkExternalMemoryImageCreateInfoNV"
            ],
            &e,
            1
        )
        .is_empty());
        assert_eq!(
            ids(&chain_support(
                ChainOf::BufferCreateInfo,
                &["VkExternalMemoryBufferCreateInfo"],
                &v10,
                1
            )),
            [BUFFER_CREATE_PNEXT_UNSUPPORTED.id]
        );
        assert_eq!(
            ids(&chain_support(
                ChainOf::ImageCreateInfo,
                &["VkExternalMemoryImageCreateInfoNV"],
                &v11,
                1
            )),
            [IMAGE_CREATE_PNEXT_UNSUPPORTED.id]
        );
    }

    #[test]
    fn handle_type_bits() {
        let none: Vec<String> = vec![];
        let e = Enabled {
            api_version: vk::API_VERSION_1_1,
            extensions: &none,
        };
        for of in [
            HandleTypesOf::ExportMemoryAllocateInfo,
            HandleTypesOf::ExternalMemoryBufferCreateInfo,
            HandleTypesOf::ExternalMemoryImageCreateInfo,
            HandleTypesOf::ImportMemoryFdInfo,
        ] {
            assert!(handle_types_valid(of, T::OPAQUE_FD | T::OPAQUE_WIN32, &e, 1).is_empty());
            let f = handle_types_valid(of, T::DMA_BUF_EXT, &e, 1);
            assert_eq!(ids(&f), [of.rule().id]);
            assert!(f[0].message.contains("VK_EXT_external_memory_dma_buf"));
        }
        let f = handle_types_valid(
            HandleTypesOf::ExportMemoryAllocateInfo,
            T::from_raw(0x100_0000),
            &e,
            1,
        );
        assert!(f[0].message.contains("0x1000000 is no"), "{}", f[0].message);
        let exts = vec!["VK_EXT_external_memory_dma_buf".to_owned()];
        let e = Enabled {
            api_version: vk::API_VERSION_1_1,
            extensions: &exts,
        };
        assert!(
            handle_types_valid(HandleTypesOf::ImportMemoryFdInfo, T::DMA_BUF_EXT, &e, 1).is_empty()
        );
        assert!(nv_handle_types_valid(
            NvHandleTypesOf::ExportMemoryAllocateInfoNV,
            vk::ExternalMemoryHandleTypeFlagsNV::OPAQUE_WIN32,
            1
        )
        .is_empty());
        assert_eq!(
            ids(&nv_handle_types_valid(
                NvHandleTypesOf::ExternalMemoryImageCreateInfoNV,
                vk::ExternalMemoryHandleTypeFlagsNV::from_raw(0x30),
                1
            )),
            [EXTERNAL_IMAGE_NV_HANDLE_TYPES_INVALID.id]
        );
    }
}

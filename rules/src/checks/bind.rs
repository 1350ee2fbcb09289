//! Binding memory to buffers and images: `vkBindBufferMemory`, `vkBindBufferMemory2`,
//! `vkBindImageMemory`, `vkBindImageMemory2` and `vkQueueBindSparse` (RULES-TARGET §1.8,
//! §1.9, §1.10 and the renumbered ids of §1.18).
//!
//! The layer hands in what the memory was allocated with, what the resource was created
//! with and, where a rule needs it, the driver's `requiresDedicatedAllocation` answer; these
//! checks never ask anything themselves. Every rule exists twice, once per entry point
//! (`vkBindBufferMemory-…` and `VkBindBufferMemoryInfo-…`), and the [`Form`] of the call
//! picks the id.

use crate::catalogue::{
    Rule, BIND_BUFFER_DEDICATED_OTHER, BIND_BUFFER_DEDICATED_TO_IMAGE, BIND_BUFFER_EXPORT_TYPES,
    BIND_BUFFER_IMPORT_TYPE, BIND_BUFFER_INFO_DEDICATED_OTHER, BIND_BUFFER_INFO_DEDICATED_TO_IMAGE,
    BIND_BUFFER_INFO_EXPORT_TYPES, BIND_BUFFER_INFO_IMPORT_TYPE,
    BIND_BUFFER_INFO_REQUIRES_DEDICATED, BIND_BUFFER_REQUIRES_DEDICATED,
    BIND_IMAGE_DEDICATED_ALIAS, BIND_IMAGE_DEDICATED_OTHER, BIND_IMAGE_DEDICATED_TO_BUFFER,
    BIND_IMAGE_EXPORT_TYPES, BIND_IMAGE_IMPORT_TYPE, BIND_IMAGE_INFO_DEDICATED_ALIAS,
    BIND_IMAGE_INFO_DEDICATED_OTHER, BIND_IMAGE_INFO_DEDICATED_TO_BUFFER,
    BIND_IMAGE_INFO_EXPORT_TYPES, BIND_IMAGE_INFO_IMPORT_TYPE, BIND_IMAGE_INFO_REQUIRES_DEDICATED,
    BIND_IMAGE_REQUIRES_DEDICATED, SPARSE_BIND_EXPORT_TYPES, SPARSE_BIND_IMPORT_TYPE,
    SPARSE_IMAGE_BIND_EXPORT_TYPES, SPARSE_IMAGE_BIND_IMPORT_TYPE,
};
use crate::finding::{Finding, Object};
use ash::vk;

/// Which entry point a bind came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `vkBindBufferMemory` / `vkBindImageMemory`.
    Single,
    /// `vkBindBufferMemory2(KHR)` / `vkBindImageMemory2(KHR)`: the command's name as the app
    /// called it and the element of `pBindInfos`.
    Info { command: &'static str, index: usize },
}

impl Form {
    fn pick(self, single: &'static Rule, info: &'static Rule) -> &'static Rule {
        match self {
            Form::Single => single,
            Form::Info { .. } => info,
        }
    }

    /// `vkBindBufferMemory` or `vkBindBufferMemory2 pBindInfos[2]`.
    fn place(self, single: &str) -> String {
        match self {
            Form::Single => single.to_owned(),
            Form::Info { command, index } => format!("{command} pBindInfos[{index}]"),
        }
    }

    fn offset_name(self) -> &'static str {
        match self {
            Form::Single => "memoryOffset",
            Form::Info { .. } => "VkBind*MemoryInfo::memoryOffset",
        }
    }
}

/// The resource a dedicated allocation was made for (raw handles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DedicatedTo {
    #[default]
    None,
    Buffer(u64),
    Image(u64),
}

/// What the memory was allocated with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryFacts {
    /// `VkExportMemoryAllocateInfo::handleTypes` (empty when none was chained).
    pub export_types: vk::ExternalMemoryHandleTypeFlags,
    /// The handle type of the import that made it (empty when it was no import).
    pub import_type: vk::ExternalMemoryHandleTypeFlags,
    /// `VkMemoryDedicatedAllocateInfo`'s resource.
    pub dedicated: DedicatedTo,
}

impl MemoryFacts {
    /// Memory that none of the external-memory or dedicated rules can concern.
    pub fn is_plain(&self) -> bool {
        self.export_types.is_empty()
            && self.import_type.is_empty()
            && self.dedicated == DedicatedTo::None
    }
}

/// One buffer bind.
#[derive(Clone, Copy, Debug)]
pub struct BufferBindCall {
    pub device: u64,
    pub form: Form,
    pub buffer: u64,
    pub memory: u64,
    pub offset: u64,
}

/// What the buffer was created with, and the driver's dedicated answer.
#[derive(Clone, Copy, Debug, Default)]
pub struct BufferFacts {
    /// `VkExternalMemoryBufferCreateInfo::handleTypes`.
    pub external_types: vk::ExternalMemoryHandleTypeFlags,
    /// `VkMemoryDedicatedRequirements::requiresDedicatedAllocation`; false when the layer did
    /// not (or could not) ask.
    pub requires_dedicated: bool,
}

/// The `VkImageCreateInfo` members that 02629 compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    pub flags: vk::ImageCreateFlags,
    pub image_type: vk::ImageType,
    pub format: vk::Format,
    pub extent: vk::Extent3D,
    pub mip_levels: u32,
    pub array_layers: u32,
    pub samples: vk::SampleCountFlags,
    pub tiling: vk::ImageTiling,
    pub usage: vk::ImageUsageFlags,
    pub sharing_mode: vk::SharingMode,
    pub initial_layout: vk::ImageLayout,
}

/// One image bind.
#[derive(Clone, Copy, Debug)]
pub struct ImageBindCall {
    pub device: u64,
    pub form: Form,
    pub image: u64,
    pub memory: u64,
    pub offset: u64,
    /// `dedicatedAllocationImageAliasing` was enabled at `vkCreateDevice`.
    pub aliasing_enabled: bool,
}

/// What the image was created with, and the driver's dedicated answer.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImageFacts {
    /// `VkExternalMemoryImageCreateInfo::handleTypes`.
    pub external_types: vk::ExternalMemoryHandleTypeFlags,
    /// `VkMemoryDedicatedRequirements::requiresDedicatedAllocation`; false when the layer did
    /// not (or could not) ask.
    pub requires_dedicated: bool,
    /// The image's create parameters, when known.
    pub shape: Option<ImageShape>,
}

/// Handle types in words: `OPAQUE_FD | DMA_BUF_EXT`, or `none`.
fn words(t: vk::ExternalMemoryHandleTypeFlags) -> String {
    if t.is_empty() {
        "none".to_owned()
    } else {
        format!("{t:?}")
    }
}

fn hex(h: u64) -> String {
    format!("0x{h:x}")
}

/// What the memory is dedicated to, in words.
fn dedicated_words(d: DedicatedTo) -> String {
    match d {
        DedicatedTo::None => "no resource".to_owned(),
        DedicatedTo::Buffer(b) => format!("buffer {}", hex(b)),
        DedicatedTo::Image(i) => format!("image {}", hex(i)),
    }
}

/// Checks one buffer bind (01444, 01508, 10925, 02726, 02985).
pub fn bind_buffer(call: &BufferBindCall, mem: &MemoryFacts, buf: &BufferFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let form = call.form;
    // Names are formatted only for a finding: most binds produce none.
    let names = || {
        (
            form.place("vkBindBufferMemory"),
            hex(call.memory),
            hex(call.buffer),
        )
    };
    let objects = || {
        vec![
            Object::new(vk::ObjectType::DEVICE_MEMORY, call.memory),
            Object::new(vk::ObjectType::BUFFER, call.buffer),
            Object::new(vk::ObjectType::DEVICE, call.device),
        ]
    };

    if buf.requires_dedicated && mem.dedicated != DedicatedTo::Buffer(call.buffer) {
        let (at, m, b) = names();
        out.push(Finding::new(
            form.pick(
                &BIND_BUFFER_REQUIRES_DEDICATED,
                &BIND_BUFFER_INFO_REQUIRES_DEDICATED,
            ),
            format!(
                "{at} binds memory {m} to buffer {b}, which requires a dedicated allocation \
                 (vkGetBufferMemoryRequirements2 reports requiresDedicatedAllocation for its \
                 external handle types {}), but the memory is dedicated to {}. Allocate memory \
                 for this buffer with VkMemoryDedicatedAllocateInfo::buffer = {b} and bind that.",
                words(buf.external_types),
                dedicated_words(mem.dedicated)
            ),
            objects(),
        ));
    }

    match mem.dedicated {
        DedicatedTo::Buffer(owner) if owner != call.buffer || call.offset != 0 => {
            let what = if owner != call.buffer {
                format!("buffer {}, not to buffer {}", hex(call.buffer), hex(owner))
            } else {
                format!("offset {}", call.offset)
            };
            let (at, m, _) = names();
            out.push(Finding::new(
                form.pick(
                    &BIND_BUFFER_DEDICATED_OTHER,
                    &BIND_BUFFER_INFO_DEDICATED_OTHER,
                ),
                format!(
                    "{at} binds memory {m}, which was allocated dedicated to buffer {} \
                     (VkMemoryDedicatedAllocateInfo::buffer), to {what}. Dedicated memory backs \
                     only its own buffer, at {} 0: bind it to buffer {} at offset 0, or \
                     allocate memory without VkMemoryDedicatedAllocateInfo for sharing.",
                    hex(owner),
                    form.offset_name(),
                    hex(owner)
                ),
                objects(),
            ));
        }
        DedicatedTo::Image(owner) => {
            let (at, m, b) = names();
            out.push(Finding::new(
                form.pick(
                    &BIND_BUFFER_DEDICATED_TO_IMAGE,
                    &BIND_BUFFER_INFO_DEDICATED_TO_IMAGE,
                ),
                format!(
                    "{at} binds memory {m}, which was allocated dedicated to image {} \
                     (VkMemoryDedicatedAllocateInfo::image), to buffer {b}. Memory dedicated to \
                     an image cannot back a buffer: allocate separate memory for the buffer.",
                    hex(owner)
                ),
                objects(),
            ));
        }
        _ => {}
    }

    if !mem.export_types.is_empty() && !mem.export_types.intersects(buf.external_types) {
        let (at, m, b) = names();
        out.push(Finding::new(
            form.pick(&BIND_BUFFER_EXPORT_TYPES, &BIND_BUFFER_INFO_EXPORT_TYPES),
            format!(
                "{at} binds memory {m}, allocated exportable as {} \
                 (VkExportMemoryAllocateInfo::handleTypes), to buffer {b}, whose \
                 VkExternalMemoryBufferCreateInfo::handleTypes ({}) include none of them. \
                 Create the buffer with at least one of the memory's export handle types, or \
                 bind memory allocated for the buffer's handle types.",
                words(mem.export_types),
                words(buf.external_types)
            ),
            objects(),
        ));
    }

    if !mem.import_type.is_empty() && !buf.external_types.contains(mem.import_type) {
        let (at, m, b) = names();
        out.push(Finding::new(
            form.pick(&BIND_BUFFER_IMPORT_TYPE, &BIND_BUFFER_INFO_IMPORT_TYPE),
            format!(
                "{at} binds memory {m}, imported as {}, to buffer {b}, whose \
                 VkExternalMemoryBufferCreateInfo::handleTypes ({}) do not include that handle \
                 type. Create the buffer with VkExternalMemoryBufferCreateInfo::handleTypes \
                 including {}.",
                words(mem.import_type),
                words(buf.external_types),
                words(mem.import_type)
            ),
            objects(),
        ));
    }
    out
}

/// Why `bound` may not alias memory dedicated to `original` (02629), in words; empty when it
/// may.
pub fn alias_problems(bound: &ImageShape, original: &ImageShape) -> Vec<String> {
    let mut p = Vec::new();
    macro_rules! same {
        ($field:ident, $name:literal) => {
            if bound.$field != original.$field {
                p.push(format!(
                    concat!($name, " {:?} differs from {:?}"),
                    bound.$field, original.$field
                ));
            }
        };
    }
    same!(flags, "flags");
    same!(image_type, "imageType");
    same!(format, "format");
    same!(mip_levels, "mipLevels");
    same!(samples, "samples");
    same!(tiling, "tiling");
    same!(usage, "usage");
    same!(sharing_mode, "sharingMode");
    same!(initial_layout, "initialLayout");
    let (b, o) = (bound.extent, original.extent);
    if b.width > o.width || b.height > o.height || b.depth > o.depth {
        p.push(format!(
            "extent {}x{}x{} is larger than {}x{}x{} in some dimension",
            b.width, b.height, b.depth, o.width, o.height, o.depth
        ));
    }
    if bound.array_layers > original.array_layers {
        p.push(format!(
            "arrayLayers {} is more than {}",
            bound.array_layers, original.array_layers
        ));
    }
    p
}

/// Checks one image bind (01445, 02628/02629, 10926, 02728, 02989). `dedicated_shape` is
/// the create parameters of the image the memory is dedicated to, when that is another
/// image the layer still knows.
pub fn bind_image(
    call: &ImageBindCall,
    mem: &MemoryFacts,
    img: &ImageFacts,
    dedicated_shape: Option<&ImageShape>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let form = call.form;
    // Names are formatted only for a finding: most binds produce none.
    let names = || {
        (
            form.place("vkBindImageMemory"),
            hex(call.memory),
            hex(call.image),
        )
    };
    let objects = || {
        vec![
            Object::new(vk::ObjectType::DEVICE_MEMORY, call.memory),
            Object::new(vk::ObjectType::IMAGE, call.image),
            Object::new(vk::ObjectType::DEVICE, call.device),
        ]
    };

    if img.requires_dedicated && mem.dedicated != DedicatedTo::Image(call.image) {
        let (at, m, i) = names();
        out.push(Finding::new(
            form.pick(
                &BIND_IMAGE_REQUIRES_DEDICATED,
                &BIND_IMAGE_INFO_REQUIRES_DEDICATED,
            ),
            format!(
                "{at} binds memory {m} to image {i}, which requires a dedicated allocation \
                 (vkGetImageMemoryRequirements2 reports requiresDedicatedAllocation for its \
                 external handle types {}), but the memory is dedicated to {}. Allocate memory \
                 for this image with VkMemoryDedicatedAllocateInfo::image = {i} and bind that.",
                words(img.external_types),
                dedicated_words(mem.dedicated)
            ),
            objects(),
        ));
    }

    match mem.dedicated {
        DedicatedTo::Image(owner) if !call.aliasing_enabled => {
            if owner != call.image || call.offset != 0 {
                let what = if owner != call.image {
                    format!("image {}, not to image {}", hex(call.image), hex(owner))
                } else {
                    format!("offset {}", call.offset)
                };
                let (at, m, _) = names();
                out.push(Finding::new(
                    form.pick(
                        &BIND_IMAGE_DEDICATED_OTHER,
                        &BIND_IMAGE_INFO_DEDICATED_OTHER,
                    ),
                    format!(
                        "{at} binds memory {m}, which was allocated dedicated to image {} \
                         (VkMemoryDedicatedAllocateInfo::image), to {what}. Dedicated memory \
                         backs only its own image, at {} 0 (the \
                         dedicatedAllocationImageAliasing feature is not enabled): bind it to \
                         image {} at offset 0, or allocate separate memory.",
                        hex(owner),
                        form.offset_name(),
                        hex(owner)
                    ),
                    objects(),
                ));
            }
        }
        DedicatedTo::Image(owner) => {
            let mut problems = Vec::new();
            if call.offset != 0 {
                problems.push(format!("the offset is {}, not 0", call.offset));
            }
            if owner != call.image {
                if let (Some(bound), Some(original)) = (img.shape.as_ref(), dedicated_shape) {
                    problems.extend(alias_problems(bound, original));
                }
            }
            if !problems.is_empty() {
                let (at, m, i) = names();
                out.push(Finding::new(
                    form.pick(
                        &BIND_IMAGE_DEDICATED_ALIAS,
                        &BIND_IMAGE_INFO_DEDICATED_ALIAS,
                    ),
                    format!(
                        "{at} binds memory {m}, which was allocated dedicated to image {}, to \
                         image {i}, but {}. With dedicatedAllocationImageAliasing enabled, \
                         dedicated memory may back another image only at offset 0 and only if \
                         that image was created with the same parameters, with an extent and \
                         arrayLayers no larger than the original's.",
                        hex(owner),
                        problems.join("; ")
                    ),
                    objects(),
                ));
            }
        }
        DedicatedTo::Buffer(owner) => {
            let (at, m, i) = names();
            out.push(Finding::new(
                form.pick(
                    &BIND_IMAGE_DEDICATED_TO_BUFFER,
                    &BIND_IMAGE_INFO_DEDICATED_TO_BUFFER,
                ),
                format!(
                    "{at} binds memory {m}, which was allocated dedicated to buffer {} \
                     (VkMemoryDedicatedAllocateInfo::buffer), to image {i}. Memory dedicated to \
                     a buffer cannot back an image: allocate separate memory for the image.",
                    hex(owner)
                ),
                objects(),
            ));
        }
        DedicatedTo::None => {}
    }

    if !mem.export_types.is_empty() && !mem.export_types.intersects(img.external_types) {
        let (at, m, i) = names();
        out.push(Finding::new(
            form.pick(&BIND_IMAGE_EXPORT_TYPES, &BIND_IMAGE_INFO_EXPORT_TYPES),
            format!(
                "{at} binds memory {m}, allocated exportable as {} \
                 (VkExportMemoryAllocateInfo::handleTypes), to image {i}, whose \
                 VkExternalMemoryImageCreateInfo::handleTypes ({}) include none of them. \
                 Create the image with at least one of the memory's export handle types, or \
                 bind memory allocated for the image's handle types.",
                words(mem.export_types),
                words(img.external_types)
            ),
            objects(),
        ));
    }

    if !mem.import_type.is_empty() && !img.external_types.contains(mem.import_type) {
        let (at, m, i) = names();
        out.push(Finding::new(
            form.pick(&BIND_IMAGE_IMPORT_TYPE, &BIND_IMAGE_INFO_IMPORT_TYPE),
            format!(
                "{at} binds memory {m}, imported as {}, to image {i}, whose \
                 VkExternalMemoryImageCreateInfo::handleTypes ({}) do not include that handle \
                 type. Create the image with VkExternalMemoryImageCreateInfo::handleTypes \
                 including {}.",
                words(mem.import_type),
                words(img.external_types),
                words(mem.import_type)
            ),
            objects(),
        ));
    }
    out
}

/// Which array of `VkBindSparseInfo` a sparse bind is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SparseKind {
    /// `pBufferBinds[].pBinds[]` (`VkSparseMemoryBind`).
    Buffer,
    /// `pImageOpaqueBinds[].pBinds[]` (`VkSparseMemoryBind`).
    ImageOpaque,
    /// `pImageBinds[].pBinds[]` (`VkSparseImageMemoryBind`).
    Image,
}

/// One sparse bind of `vkQueueBindSparse` that names memory.
#[derive(Clone, Copy, Debug)]
pub struct SparseBindCall {
    pub device: u64,
    pub queue: u64,
    pub kind: SparseKind,
    /// Index into `pBindInfo`.
    pub info: usize,
    /// Index into `pBufferBinds` / `pImageOpaqueBinds` / `pImageBinds`.
    pub array: usize,
    /// Index into that element's `pBinds`.
    pub bind: usize,
    /// The buffer or image.
    pub resource: u64,
    pub memory: u64,
}

/// Checks one sparse bind (02730/02731 for buffers and opaque image binds, 02732/02733 for
/// image binds). `resource_types` is the resource's external handle types.
pub fn sparse_bind(
    call: &SparseBindCall,
    mem: &MemoryFacts,
    resource_types: vk::ExternalMemoryHandleTypeFlags,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let (array, noun, create_info, ty) = match call.kind {
        SparseKind::Buffer => (
            "pBufferBinds",
            "buffer",
            "VkExternalMemoryBufferCreateInfo",
            vk::ObjectType::BUFFER,
        ),
        SparseKind::ImageOpaque => (
            "pImageOpaqueBinds",
            "image",
            "VkExternalMemoryImageCreateInfo",
            vk::ObjectType::IMAGE,
        ),
        SparseKind::Image => (
            "pImageBinds",
            "image",
            "VkExternalMemoryImageCreateInfo",
            vk::ObjectType::IMAGE,
        ),
    };
    let (export_rule, import_rule) = match call.kind {
        SparseKind::Image => (
            &SPARSE_IMAGE_BIND_EXPORT_TYPES,
            &SPARSE_IMAGE_BIND_IMPORT_TYPE,
        ),
        _ => (&SPARSE_BIND_EXPORT_TYPES, &SPARSE_BIND_IMPORT_TYPE),
    };
    let at = format!(
        "vkQueueBindSparse pBindInfo[{}].{array}[{}].pBinds[{}]",
        call.info, call.array, call.bind
    );
    let (m, r) = (hex(call.memory), hex(call.resource));
    let objects = || {
        vec![
            Object::new(vk::ObjectType::DEVICE_MEMORY, call.memory),
            Object::new(ty, call.resource),
            Object::new(vk::ObjectType::QUEUE, call.queue),
            Object::new(vk::ObjectType::DEVICE, call.device),
        ]
    };
    if !mem.export_types.is_empty() && !mem.export_types.intersects(resource_types) {
        out.push(Finding::new(
            export_rule,
            format!(
                "{at} binds memory {m}, allocated exportable as {}, to {noun} {r}, whose \
                 {create_info}::handleTypes ({}) include none of them. Create the {noun} with \
                 at least one of the memory's export handle types, or bind other memory.",
                words(mem.export_types),
                words(resource_types)
            ),
            objects(),
        ));
    }
    if !mem.import_type.is_empty() && !resource_types.contains(mem.import_type) {
        out.push(Finding::new(
            import_rule,
            format!(
                "{at} binds memory {m}, imported as {}, to {noun} {r}, whose \
                 {create_info}::handleTypes ({}) do not include that handle type. Create the \
                 {noun} with {create_info}::handleTypes including {}.",
                words(mem.import_type),
                words(resource_types),
                words(mem.import_type)
            ),
            objects(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type H = vk::ExternalMemoryHandleTypeFlags;
    const OPAQUE: H = H::OPAQUE_FD;
    const HOST: H = H::HOST_ALLOCATION_EXT;
    const DMABUF: H = H::DMA_BUF_EXT;
    const MEM: u64 = 0x10;
    const BUF: u64 = 0x20;
    const IMG: u64 = 0x30;

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    fn buffer_call(form: Form, offset: u64) -> BufferBindCall {
        BufferBindCall {
            device: 1,
            form,
            buffer: BUF,
            memory: MEM,
            offset,
        }
    }

    fn image_call(form: Form, offset: u64, aliasing: bool) -> ImageBindCall {
        ImageBindCall {
            device: 1,
            form,
            image: IMG,
            memory: MEM,
            offset,
            aliasing_enabled: aliasing,
        }
    }

    fn mem(export: H, import: H, dedicated: DedicatedTo) -> MemoryFacts {
        MemoryFacts {
            export_types: export,
            import_type: import,
            dedicated,
        }
    }

    fn buf(types: H, requires: bool) -> BufferFacts {
        BufferFacts {
            external_types: types,
            requires_dedicated: requires,
        }
    }

    fn img(types: H, requires: bool) -> ImageFacts {
        ImageFacts {
            external_types: types,
            requires_dedicated: requires,
            shape: Some(shape(64, 1)),
        }
    }

    fn shape(size: u32, layers: u32) -> ImageShape {
        ImageShape {
            flags: vk::ImageCreateFlags::empty(),
            image_type: vk::ImageType::TYPE_2D,
            format: vk::Format::R8G8B8A8_UNORM,
            extent: vk::Extent3D {
                width: size,
                height: size,
                depth: 1,
            },
            mip_levels: 1,
            array_layers: layers,
            samples: vk::SampleCountFlags::TYPE_1,
            tiling: vk::ImageTiling::OPTIMAL,
            usage: vk::ImageUsageFlags::TRANSFER_DST,
            sharing_mode: vk::SharingMode::EXCLUSIVE,
            initial_layout: vk::ImageLayout::UNDEFINED,
        }
    }

    const INFO: Form = Form::Info {
        command: "vkBindBufferMemory2",
        index: 3,
    };

    #[test]
    fn plain_memory_on_plain_buffer_is_silent() {
        let m = MemoryFacts::default();
        assert!(m.is_plain());
        assert!(
            bind_buffer(&buffer_call(Form::Single, 256), &m, &buf(H::empty(), false)).is_empty()
        );
        assert!(bind_image(
            &image_call(Form::Single, 256, false),
            &m,
            &img(H::empty(), false),
            None
        )
        .is_empty());
    }

    #[test]
    fn export_dedicated_bound_correctly_is_silent() {
        let m = mem(OPAQUE, H::empty(), DedicatedTo::Buffer(BUF));
        assert!(bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(OPAQUE, true)).is_empty());
        let m = mem(DMABUF, H::empty(), DedicatedTo::Image(IMG));
        assert!(bind_image(
            &image_call(INFO, 0, false),
            &m,
            &img(DMABUF | OPAQUE, true),
            None
        )
        .is_empty());
    }

    #[test]
    fn export_types_disjoint_fire_02726_and_02728() {
        let m = mem(OPAQUE, H::empty(), DedicatedTo::None);
        let f = bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(H::empty(), false));
        assert_eq!(ids(&f), ["VUID-vkBindBufferMemory-memory-02726"]);
        assert!(f[0].message.contains("OPAQUE_FD"), "{}", f[0].message);
        assert!(f[0].message.contains("(none)"), "{}", f[0].message);
        let f = bind_buffer(&buffer_call(INFO, 0), &m, &buf(HOST, false));
        assert_eq!(ids(&f), ["VUID-VkBindBufferMemoryInfo-memory-02726"]);
        assert!(f[0].message.contains("vkBindBufferMemory2 pBindInfos[3]"));
        let f = bind_image(
            &image_call(Form::Single, 0, false),
            &m,
            &img(DMABUF, false),
            None,
        );
        assert_eq!(ids(&f), ["VUID-vkBindImageMemory-memory-02728"]);
        // One shared type is enough.
        let m = mem(OPAQUE | DMABUF, H::empty(), DedicatedTo::None);
        assert!(bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(DMABUF, false)).is_empty());
    }

    #[test]
    fn import_type_missing_fires_02985_and_02989() {
        let m = mem(H::empty(), OPAQUE, DedicatedTo::None);
        assert!(bind_buffer(
            &buffer_call(Form::Single, 0),
            &m,
            &buf(OPAQUE | HOST, false)
        )
        .is_empty());
        let f = bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(HOST, false));
        assert_eq!(ids(&f), ["VUID-vkBindBufferMemory-memory-02985"]);
        let f = bind_image(
            &image_call(INFO, 0, false),
            &m,
            &img(H::empty(), false),
            None,
        );
        assert_eq!(ids(&f), ["VUID-VkBindImageMemoryInfo-memory-02989"]);
        assert!(
            crate::catalogue::lookup("VUID-vkBindBufferMemory-memory-02727")
                .is_some_and(|r| r.id == "VUID-vkBindBufferMemory-memory-02985")
        );
        assert!(
            crate::catalogue::lookup("VUID-VkBindImageMemoryInfo-memory-02729")
                .is_some_and(|r| r.id == "VUID-VkBindImageMemoryInfo-memory-02989")
        );
    }

    #[test]
    fn requires_dedicated_fires_01444_and_01445() {
        let m = MemoryFacts::default();
        let f = bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(DMABUF, true));
        assert_eq!(ids(&f), ["VUID-vkBindBufferMemory-buffer-01444"]);
        let f = bind_image(&image_call(INFO, 0, false), &m, &img(DMABUF, true), None);
        assert_eq!(ids(&f), ["VUID-VkBindImageMemoryInfo-image-01445"]);
        assert!(f[0].message.contains("no resource"), "{}", f[0].message);
    }

    #[test]
    fn dedicated_buffer_memory_elsewhere_fires_01508() {
        let m = mem(H::empty(), H::empty(), DedicatedTo::Buffer(0x99));
        let f = bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(H::empty(), false));
        assert_eq!(ids(&f), ["VUID-vkBindBufferMemory-memory-01508"]);
        assert!(f[0].message.contains("0x99"));
        let m = mem(H::empty(), H::empty(), DedicatedTo::Buffer(BUF));
        let f = bind_buffer(&buffer_call(INFO, 256), &m, &buf(H::empty(), false));
        assert_eq!(ids(&f), ["VUID-VkBindBufferMemoryInfo-memory-01508"]);
        assert!(f[0].message.contains("offset 256"));
    }

    #[test]
    fn dedicated_cross_kind_fires_10925_and_10926() {
        let m = mem(H::empty(), H::empty(), DedicatedTo::Image(IMG));
        let f = bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(H::empty(), false));
        assert_eq!(ids(&f), ["VUID-vkBindBufferMemory-memory-10925"]);
        let m = mem(H::empty(), H::empty(), DedicatedTo::Buffer(BUF));
        let f = bind_image(
            &image_call(INFO, 0, true),
            &m,
            &img(H::empty(), false),
            None,
        );
        assert_eq!(ids(&f), ["VUID-VkBindImageMemoryInfo-memory-10926"]);
    }

    #[test]
    fn dedicated_image_elsewhere_fires_02628_without_aliasing() {
        let m = mem(H::empty(), H::empty(), DedicatedTo::Image(0x77));
        let f = bind_image(
            &image_call(Form::Single, 0, false),
            &m,
            &img(H::empty(), false),
            None,
        );
        assert_eq!(ids(&f), ["VUID-vkBindImageMemory-memory-02628"]);
        assert!(
            crate::catalogue::lookup("VUID-vkBindImageMemory-memory-01509")
                .is_some_and(|r| r.id == "VUID-vkBindImageMemory-memory-02628")
        );
        let m = mem(H::empty(), H::empty(), DedicatedTo::Image(IMG));
        let f = bind_image(
            &image_call(INFO, 4096, false),
            &m,
            &img(H::empty(), false),
            None,
        );
        assert_eq!(ids(&f), ["VUID-VkBindImageMemoryInfo-memory-02628"]);
    }

    #[test]
    fn aliasing_allows_smaller_identical_images_02629() {
        let m = mem(H::empty(), H::empty(), DedicatedTo::Image(0x77));
        let original = shape(64, 2);
        let mut small = img(H::empty(), false);
        small.shape = Some(shape(32, 1));
        assert!(bind_image(
            &image_call(Form::Single, 0, true),
            &m,
            &small,
            Some(&original)
        )
        .is_empty());
        // Larger: fires.
        let mut large = img(H::empty(), false);
        large.shape = Some(shape(128, 1));
        let f = bind_image(
            &image_call(Form::Single, 0, true),
            &m,
            &large,
            Some(&original),
        );
        assert_eq!(ids(&f), ["VUID-vkBindImageMemory-memory-02629"]);
        assert!(f[0].message.contains("128x128x1"), "{}", f[0].message);
        // Another format: fires.
        let mut other = img(H::empty(), false);
        let mut s = shape(64, 1);
        s.format = vk::Format::B8G8R8A8_UNORM;
        other.shape = Some(s);
        let f = bind_image(&image_call(INFO, 0, true), &m, &other, Some(&original));
        assert_eq!(ids(&f), ["VUID-VkBindImageMemoryInfo-memory-02629"]);
        assert!(f[0].message.contains("format"), "{}", f[0].message);
        // Offset: fires even for the image itself.
        let m = mem(H::empty(), H::empty(), DedicatedTo::Image(IMG));
        let f = bind_image(&image_call(Form::Single, 1024, true), &m, &small, None);
        assert_eq!(ids(&f), ["VUID-vkBindImageMemory-memory-02629"]);
        // Unknown original: only the offset is checked.
        let m = mem(H::empty(), H::empty(), DedicatedTo::Image(0x77));
        assert!(bind_image(&image_call(Form::Single, 0, true), &m, &large, None).is_empty());
    }

    #[test]
    fn sparse_binds_fire_02730_to_02733() {
        let call = |kind| SparseBindCall {
            device: 1,
            queue: 2,
            kind,
            info: 0,
            array: 1,
            bind: 2,
            resource: BUF,
            memory: MEM,
        };
        let exported = mem(OPAQUE, H::empty(), DedicatedTo::None);
        let imported = mem(H::empty(), OPAQUE, DedicatedTo::None);
        let f = sparse_bind(&call(SparseKind::Buffer), &exported, H::empty());
        assert_eq!(ids(&f), ["VUID-VkSparseMemoryBind-memory-02730"]);
        assert!(
            f[0].message.contains("pBufferBinds[1].pBinds[2]"),
            "{}",
            f[0].message
        );
        let f = sparse_bind(&call(SparseKind::ImageOpaque), &imported, HOST);
        assert_eq!(ids(&f), ["VUID-VkSparseMemoryBind-memory-02731"]);
        let f = sparse_bind(&call(SparseKind::Image), &exported, DMABUF);
        assert_eq!(ids(&f), ["VUID-VkSparseImageMemoryBind-memory-02732"]);
        let f = sparse_bind(&call(SparseKind::Image), &imported, H::empty());
        assert_eq!(ids(&f), ["VUID-VkSparseImageMemoryBind-memory-02733"]);
        assert!(sparse_bind(&call(SparseKind::Image), &imported, OPAQUE).is_empty());
        assert!(sparse_bind(&call(SparseKind::Buffer), &exported, OPAQUE).is_empty());
    }

    #[test]
    fn findings_name_memory_resource_and_device() {
        let m = mem(OPAQUE, H::empty(), DedicatedTo::None);
        let f = bind_buffer(&buffer_call(Form::Single, 0), &m, &buf(H::empty(), false));
        let objs: Vec<_> = f[0].objects.iter().map(|o| (o.ty, o.handle)).collect();
        assert_eq!(
            objs,
            [
                (vk::ObjectType::DEVICE_MEMORY, MEM),
                (vk::ObjectType::BUFFER, BUF),
                (vk::ObjectType::DEVICE, 1)
            ]
        );
        assert!(!f[0].rule.blocks_call);
    }
}

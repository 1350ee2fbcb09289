//! Imports checked against their exporter (the payload registry, RULES-TARGET §2.2 G1–G5),
//! re-export of imported memory (G14), and the implicit parameter ids of the fd getters.
//!
//! The layer finds the exporter of an imported fd (only when the export happened in this
//! process and the layer can prove the fd is the same open file); these checks compare.

use crate::catalogue::{
    EXPORT_REEXPORT_NOT_ALLOWED, FD_PROPERTIES_NULL_OUT, GET_FD_HANDLE_TYPE_INVALID,
    GET_FD_NULL_FD_POINTER, IMPORT_DEDICATED_BUFFER_MISMATCH, IMPORT_DEDICATED_IMAGE_MISMATCH,
    IMPORT_DEVICE_MASK_MISMATCH, IMPORT_DEVICE_SET_MISMATCH, IMPORT_DMA_BUF_MEMORY_TYPE,
    IMPORT_FD_DEVICE_INCOMPATIBLE, IMPORT_FD_HANDLE_TYPE_INVALID, IMPORT_FD_REUSED,
    IMPORT_PAYLOAD_SIZE_TYPE_MISMATCH,
};
use crate::checks::memory_export::GetFdCall;
use crate::checks::memory_import::{handle_type_names, AllocateCall};
use crate::finding::{Finding, Object};
use ash::vk;

/// Every bit the current spec defines for `VkExternalMemoryHandleTypeFlagBits` lies below
/// this mask (0x1 … 0x40000); a bit above it is no handle type at all.
pub const DEFINED_HANDLE_TYPE_BITS: u32 = 0x0007_ffff;

/// `VkBufferCreateInfo` as far as "identical buffers" compare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferIdentity {
    pub flags: vk::BufferCreateFlags,
    pub size: u64,
    pub usage: vk::BufferUsageFlags,
    pub sharing_mode: vk::SharingMode,
    pub external_types: vk::ExternalMemoryHandleTypeFlags,
}

/// `VkImageCreateInfo` as far as "identical images" compare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageIdentity {
    pub flags: vk::ImageCreateFlags,
    pub image_type: vk::ImageType,
    pub format: vk::Format,
    pub extent: [u32; 3],
    pub mip_levels: u32,
    pub array_layers: u32,
    pub samples: vk::SampleCountFlags,
    pub tiling: vk::ImageTiling,
    pub usage: vk::ImageUsageFlags,
    pub sharing_mode: vk::SharingMode,
    pub external_types: vk::ExternalMemoryHandleTypeFlags,
}

/// The resource a dedicated allocation was made for, with its create parameters when the
/// layer recorded them (`None`: the handle is unknown to the layer, nothing is compared).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DedicatedIdentity {
    #[default]
    None,
    Buffer(u64, Option<BufferIdentity>),
    Image(u64, Option<ImageIdentity>),
}

/// The device side of an allocation: exporter or importer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceSide {
    pub device: u64,
    /// Identifies the `VkInstance` (its dispatch key): physical-device handles compare only
    /// within one instance.
    pub instance: u64,
    /// The physical devices the device was created from, in order: held inline for the
    /// usual one or two (every export copies it; a shared `Arc` made threads that export at
    /// once take turns at its count).
    pub group: DeviceGroup,
    pub device_uuid: Option<[u8; vk::UUID_SIZE]>,
    pub driver_uuid: Option<[u8; vk::UUID_SIZE]>,
}

/// The physical devices of a device, in order: inline for the usual one or two (a copy, no
/// count to take), shared beyond (device groups of up to 32).
#[derive(Clone, Debug)]
pub enum DeviceGroup {
    Inline(u8, [u64; 2]),
    Shared(std::sync::Arc<[u64]>),
}

impl Default for DeviceGroup {
    fn default() -> Self {
        DeviceGroup::Inline(0, [0; 2])
    }
}

impl std::ops::Deref for DeviceGroup {
    type Target = [u64];

    fn deref(&self) -> &[u64] {
        match self {
            DeviceGroup::Inline(n, ids) => &ids[..usize::from(*n)],
            DeviceGroup::Shared(ids) => ids,
        }
    }
}

impl PartialEq for DeviceGroup {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for DeviceGroup {}

impl From<&[u64]> for DeviceGroup {
    fn from(ids: &[u64]) -> Self {
        match *ids {
            [] => DeviceGroup::default(),
            [a] => DeviceGroup::Inline(1, [a, 0]),
            [a, b] => DeviceGroup::Inline(2, [a, b]),
            _ => DeviceGroup::Shared(ids.into()),
        }
    }
}

impl From<Vec<u64>> for DeviceGroup {
    fn from(ids: Vec<u64>) -> Self {
        DeviceGroup::from(ids.as_slice())
    }
}

impl FromIterator<u64> for DeviceGroup {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        DeviceGroup::from(iter.into_iter().collect::<Vec<_>>())
    }
}

/// What the registry recorded when a payload was exported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExporterFacts {
    pub side: DeviceSide,
    pub memory: u64,
    pub allocation_size: u64,
    pub memory_type_index: u32,
    pub dedicated: DedicatedIdentity,
    /// `VkMemoryAllocateFlagsInfo::deviceMask` when DEVICE_MASK was set.
    pub device_mask: Option<u32>,
    /// The exporting process, when it is another one (known from the `ledger_dir` ledger):
    /// its handles mean nothing here.
    pub process: Option<u32>,
}

/// The importing side of a `vkAllocateMemory`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImporterFacts {
    pub side: DeviceSide,
    pub dedicated: DedicatedIdentity,
}

fn hex16(u: &[u8; vk::UUID_SIZE]) -> String {
    u.iter().map(|b| format!("{b:02x}")).collect()
}

/// The device mask in effect: the explicit one, else every device of the group.
fn effective_mask(mask: Option<u32>, group_len: usize) -> u32 {
    mask.unwrap_or_else(|| {
        if group_len >= 32 {
            u32::MAX
        } else {
            (1u32 << group_len.max(1)) - 1
        }
    })
}

/// An OPAQUE_FD import of a payload this process exported through Vulkan: 01746 (UUIDs),
/// 01742 (size and type), 01878/01879 (dedicated identity), 00644 (device set), 00643
/// (device mask). A UUID mismatch stops there: on another physical device the other
/// comparisons say nothing more.
pub fn opaque_import(
    call: &AllocateCall,
    importer: &ImporterFacts,
    exporter: &ExporterFacts,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let fd = call.fd_import.as_ref().map_or(-1, |i| i.fd);
    let objects = || {
        vec![
            Object::new(vk::ObjectType::DEVICE, call.device),
            Object::new(vk::ObjectType::DEVICE_MEMORY, exporter.memory),
            Object::new(vk::ObjectType::DEVICE, exporter.side.device),
        ]
    };
    // Formatted only for a finding: a matching import reports nothing.
    let exporter_words = || match exporter.process {
        Some(pid) => format!("memory of process {pid} (from the ledger)"),
        None => format!(
            "VkDeviceMemory 0x{:x} of VkDevice 0x{:x}",
            exporter.memory, exporter.side.device
        ),
    };

    let uuid_differs =
        |a: Option<[u8; 16]>, b: Option<[u8; 16]>| matches!((a, b), (Some(x), Some(y)) if x != y);
    let dev_differs = uuid_differs(importer.side.device_uuid, exporter.side.device_uuid);
    let drv_differs = uuid_differs(importer.side.driver_uuid, exporter.side.driver_uuid);
    if dev_differs || drv_differs {
        let mut what = Vec::new();
        if dev_differs {
            what.push(format!(
                "deviceUUID {} here, {} at the exporter",
                hex16(&importer.side.device_uuid.unwrap_or_default()),
                hex16(&exporter.side.device_uuid.unwrap_or_default())
            ));
        }
        if drv_differs {
            what.push(format!(
                "driverUUID {} here, {} at the exporter",
                hex16(&importer.side.driver_uuid.unwrap_or_default()),
                hex16(&exporter.side.driver_uuid.unwrap_or_default())
            ));
        }
        let exp = exporter_words();
        out.push(Finding::new(
            &IMPORT_FD_DEVICE_INCOMPATIBLE,
            format!(
                "vkAllocateMemory on VkDevice 0x{:x} imports OPAQUE_FD fd {fd}, exported from \
                 {exp}, but the devices are not compatible: {}. An OPAQUE_FD payload can only \
                 be imported on a device with the exporter's deviceUUID and driverUUID; share \
                 across drivers or GPUs with a dma-buf (or copy through host memory).",
                call.device,
                what.join("; ")
            ),
            objects(),
        ));
        return out;
    }

    let size_differs = call.allocation_size != exporter.allocation_size;
    let type_differs = call.memory_type_index != exporter.memory_type_index;
    if size_differs || type_differs {
        let exp = exporter_words();
        out.push(Finding::new(
            &IMPORT_PAYLOAD_SIZE_TYPE_MISMATCH,
            format!(
                "vkAllocateMemory imports OPAQUE_FD fd {fd} with allocationSize {} and \
                 memoryTypeIndex {}, but the payload was allocated as {exp} with \
                 allocationSize {} and memoryTypeIndex {}. An OPAQUE_FD import must repeat \
                 both values of the exporting allocation; pass them along with the fd.",
                call.allocation_size,
                call.memory_type_index,
                exporter.allocation_size,
                exporter.memory_type_index
            ),
            objects(),
        ));
    }

    match importer.dedicated {
        DedicatedIdentity::Image(handle, Some(mine)) => {
            let problem = match exporter.dedicated {
                DedicatedIdentity::Image(_, Some(theirs)) if theirs == mine => None,
                DedicatedIdentity::Image(_, None) => None,
                DedicatedIdentity::Image(h, Some(theirs)) => Some(format!(
                    "was dedicated to VkImage 0x{h:x}, created with other parameters ({})",
                    image_differences(&mine, &theirs)
                )),
                DedicatedIdentity::Buffer(h, _) => Some(format!(
                    "was dedicated to VkBuffer 0x{h:x}, not to an image"
                )),
                DedicatedIdentity::None => Some("was no dedicated allocation".to_owned()),
            };
            if let Some(problem) = problem {
                let mut objs = objects();
                objs.insert(1, Object::new(vk::ObjectType::IMAGE, handle));
                let exp = exporter_words();
                out.push(Finding::new(
                    &IMPORT_DEDICATED_IMAGE_MISMATCH,
                    format!(
                        "vkAllocateMemory imports OPAQUE_FD fd {fd} as a dedicated allocation \
                         of VkImage 0x{handle:x}, but the exporting {exp} {problem}. Export \
                         from a dedicated allocation of an identically created image, or \
                         import without VkMemoryDedicatedAllocateInfo."
                    ),
                    objs,
                ));
            }
        }
        DedicatedIdentity::Buffer(handle, Some(mine)) => {
            let problem = match exporter.dedicated {
                DedicatedIdentity::Buffer(_, Some(theirs)) if theirs == mine => None,
                DedicatedIdentity::Buffer(_, None) => None,
                DedicatedIdentity::Buffer(h, Some(theirs)) => Some(format!(
                    "was dedicated to VkBuffer 0x{h:x}, created with other parameters ({})",
                    buffer_differences(&mine, &theirs)
                )),
                DedicatedIdentity::Image(h, _) => {
                    Some(format!("was dedicated to VkImage 0x{h:x}, not to a buffer"))
                }
                DedicatedIdentity::None => Some("was no dedicated allocation".to_owned()),
            };
            if let Some(problem) = problem {
                let mut objs = objects();
                objs.insert(1, Object::new(vk::ObjectType::BUFFER, handle));
                let exp = exporter_words();
                out.push(Finding::new(
                    &IMPORT_DEDICATED_BUFFER_MISMATCH,
                    format!(
                        "vkAllocateMemory imports OPAQUE_FD fd {fd} as a dedicated allocation \
                         of VkBuffer 0x{handle:x}, but the exporting {exp} {problem}. Export \
                         from a dedicated allocation of an identically created buffer, or \
                         import without VkMemoryDedicatedAllocateInfo."
                    ),
                    objs,
                ));
            }
        }
        _ => {}
    }

    let same_instance = importer.side.instance == exporter.side.instance;
    let set_differs = if same_instance {
        importer.side.group != exporter.side.group
    } else {
        // Handles of two instances do not compare; only the size of the set does.
        importer.side.group.len() != exporter.side.group.len()
    };
    if set_differs {
        let list = |g: &[u64]| {
            g.iter()
                .map(|p| format!("0x{p:x}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let exp = exporter_words();
        out.push(Finding::new(
            &IMPORT_DEVICE_SET_MISMATCH,
            format!(
                "vkAllocateMemory on VkDevice 0x{:x} (physical devices [{}]) imports fd {fd}, a \
                 payload allocated as {exp} (physical devices [{}]). A payload made by Vulkan \
                 must be imported on a device built from the same list of physical devices as \
                 the exporting device; create the importing device with the same \
                 VkDeviceGroupDeviceCreateInfo list.",
                call.device,
                list(&importer.side.group),
                list(&exporter.side.group)
            ),
            objects(),
        ));
    } else {
        let mine = effective_mask(call.device_mask, importer.side.group.len());
        let theirs = effective_mask(exporter.device_mask, exporter.side.group.len());
        if mine != theirs {
            let say = |m: Option<u32>, eff: u32| match m {
                Some(m) => format!("0x{m:x}"),
                None => {
                    format!("0x{eff:x} (no VkMemoryAllocateFlagsInfo device mask: all devices)")
                }
            };
            let exp = exporter_words();
            out.push(Finding::new(
                &IMPORT_DEVICE_MASK_MISMATCH,
                format!(
                    "vkAllocateMemory imports fd {fd} with device mask {}, but the payload was \
                     allocated as {exp} with device mask {}. Chain VkMemoryAllocateFlagsInfo \
                     with the exporter's deviceMask.",
                    say(call.device_mask, mine),
                    say(exporter.device_mask, theirs)
                ),
                objects(),
            ));
        }
    }
    out
}

fn image_differences(a: &ImageIdentity, b: &ImageIdentity) -> String {
    let mut d = Vec::new();
    macro_rules! cmp {
        ($f:ident) => {
            if a.$f != b.$f {
                d.push(format!(
                    "{} {:?} here, {:?} there",
                    stringify!($f),
                    a.$f,
                    b.$f
                ));
            }
        };
    }
    cmp!(flags);
    cmp!(image_type);
    cmp!(format);
    cmp!(extent);
    cmp!(mip_levels);
    cmp!(array_layers);
    cmp!(samples);
    cmp!(tiling);
    cmp!(usage);
    cmp!(sharing_mode);
    cmp!(external_types);
    d.join("; ")
}

fn buffer_differences(a: &BufferIdentity, b: &BufferIdentity) -> String {
    let mut d = Vec::new();
    macro_rules! cmp {
        ($f:ident) => {
            if a.$f != b.$f {
                d.push(format!(
                    "{} {:?} here, {:?} there",
                    stringify!($f),
                    a.$f,
                    b.$f
                ));
            }
        };
    }
    cmp!(flags);
    cmp!(size);
    cmp!(usage);
    cmp!(sharing_mode);
    cmp!(external_types);
    d.join("; ")
}

/// 00648: a DMA_BUF import of an fd not made by Vulkan in this process, with the
/// `memoryTypeBits` the driver gave for that fd.
pub fn dma_buf_memory_type(call: &AllocateCall, memory_type_bits: u32) -> Option<Finding> {
    let fd = call.fd_import.as_ref()?.fd;
    let bit = 1u32.checked_shl(call.memory_type_index).unwrap_or(0);
    if memory_type_bits & bit != 0 {
        return None;
    }
    let allowed: Vec<String> = (0..32)
        .filter(|i| memory_type_bits & (1 << i) != 0)
        .map(|i| i.to_string())
        .collect();
    Some(Finding::new(
        &IMPORT_DMA_BUF_MEMORY_TYPE,
        format!(
            "vkAllocateMemory imports dma-buf fd {fd} with memoryTypeIndex {}, but \
             vkGetMemoryFdPropertiesKHR reports memoryTypeBits 0x{memory_type_bits:x} for it \
             (memory types {}). Ask vkGetMemoryFdPropertiesKHR and pick one of its types.",
            call.memory_type_index,
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        ),
        vec![Object::new(vk::ObjectType::DEVICE, call.device)],
    ))
}

/// What the layer recorded about an fd number that a successful import consumed and the
/// driver still holds open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsumedFd {
    pub fd: i32,
    pub device: u64,
    pub memory: u64,
}

/// `HANDOFF-Import-fd-reused`: the layer proved that the fd is still the file an earlier
/// import consumed.
pub fn fd_reused(call: &AllocateCall, prior: &ConsumedFd) -> Finding {
    Finding::new(
        &IMPORT_FD_REUSED,
        format!(
            "vkAllocateMemory imports fd {} again, but an earlier successful import (VkDeviceMemory \
             0x{:x} of VkDevice 0x{:x}) consumed it: the fd belongs to the driver since then and \
             still refers to that payload. Export a new fd with vkGetMemoryFdKHR (or dup() the \
             fd before the first import) for every import.",
            prior.fd, prior.memory, prior.device
        ),
        vec![
            Object::new(vk::ObjectType::DEVICE, call.device),
            Object::new(vk::ObjectType::DEVICE_MEMORY, prior.memory),
        ],
    )
}

/// G14: exporting `call.handle_type` from memory imported as `import_type`, where the
/// driver reported `export_from_imported` for that import type (asked as `query`).
pub fn reexport(
    call: &GetFdCall,
    import_type: vk::ExternalMemoryHandleTypeFlags,
    export_from_imported: vk::ExternalMemoryHandleTypeFlags,
    query: &str,
) -> Option<Finding> {
    if import_type.is_empty() || export_from_imported.contains(call.handle_type) {
        return None;
    }
    Some(Finding::new(
        &EXPORT_REEXPORT_NOT_ALLOWED,
        format!(
            "vkGetMemoryFdKHR exports {} from VkDeviceMemory 0x{:x}, which was imported as {}; \
             {query} reports exportFromImportedHandleTypes {} for that import type, so the \
             driver does not promise this re-export works. Export from the original \
             allocation instead, or re-export only a type listed there.",
            handle_type_names(call.handle_type),
            call.memory,
            handle_type_names(import_type),
            handle_type_names(export_from_imported)
        ),
        vec![
            Object::new(vk::ObjectType::DEVICE_MEMORY, call.memory),
            Object::new(vk::ObjectType::DEVICE, call.device),
        ],
    ))
}

/// Whether `t` is exactly one handle-type bit that the spec defines.
pub fn is_valid_handle_type_bit(t: vk::ExternalMemoryHandleTypeFlags) -> bool {
    t.as_raw().count_ones() == 1 && t.as_raw() & !DEFINED_HANDLE_TYPE_BITS == 0
}

/// The implicit ids of `vkGetMemoryFdKHR`: `pFd` non-null, `handleType` one valid bit.
pub fn get_fd_parameters(call: &GetFdCall, fd_pointer_null: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let objects = || {
        vec![
            Object::new(vk::ObjectType::DEVICE_MEMORY, call.memory),
            Object::new(vk::ObjectType::DEVICE, call.device),
        ]
    };
    if !is_valid_handle_type_bit(call.handle_type) {
        out.push(Finding::new(
            &GET_FD_HANDLE_TYPE_INVALID,
            format!(
                "vkGetMemoryFdKHR is given VkMemoryGetFdInfoKHR::handleType 0x{:x} ({}) for \
                 VkDeviceMemory 0x{:x}; it must be exactly one VkExternalMemoryHandleTypeFlagBits \
                 value. Pass VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT or \
                 VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT.",
                call.handle_type.as_raw(),
                handle_type_names(call.handle_type),
                call.memory
            ),
            objects(),
        ));
    }
    if fd_pointer_null {
        out.push(Finding::new(
            &GET_FD_NULL_FD_POINTER,
            format!(
                "vkGetMemoryFdKHR is called for VkDeviceMemory 0x{:x} with pFd = NULL; the \
                 driver would write the new fd through it. Pass a pointer to an int.",
                call.memory
            ),
            objects(),
        ));
    }
    out
}

/// The implicit id of `VkImportMemoryFdInfoKHR::handleType`: zero (no import) or one valid
/// bit.
pub fn import_handle_type_parameter(call: &AllocateCall) -> Option<Finding> {
    let imp = call.fd_import.as_ref()?;
    if imp.handle_type.is_empty() || is_valid_handle_type_bit(imp.handle_type) {
        return None;
    }
    Some(Finding::new(
        &IMPORT_FD_HANDLE_TYPE_INVALID,
        format!(
            "vkAllocateMemory chains VkImportMemoryFdInfoKHR with handleType 0x{:x} ({}) for \
             fd {}; a non-zero handleType must be exactly one VkExternalMemoryHandleTypeFlagBits \
             value. Use the single type the fd was exported as.",
            imp.handle_type.as_raw(),
            handle_type_names(imp.handle_type),
            imp.fd
        ),
        vec![Object::new(vk::ObjectType::DEVICE, call.device)],
    ))
}

/// The implicit id of `vkGetMemoryFdPropertiesKHR::pMemoryFdProperties`.
pub fn fd_properties_null_out(device: u64, fd: i32) -> Finding {
    Finding::new(
        &FD_PROPERTIES_NULL_OUT,
        format!(
            "vkGetMemoryFdPropertiesKHR is called for fd {fd} with pMemoryFdProperties = NULL; \
             the driver would write the answer through it. Pass a VkMemoryFdPropertiesKHR."
        ),
        vec![Object::new(vk::ObjectType::DEVICE, device)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::memory_import::{FdImport, FdKind};

    const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;

    fn side(device: u64) -> DeviceSide {
        DeviceSide {
            device,
            instance: 7,
            group: vec![0x100].into(),
            device_uuid: Some([1; 16]),
            driver_uuid: Some([2; 16]),
        }
    }

    fn exporter() -> ExporterFacts {
        ExporterFacts {
            side: side(1),
            memory: 0x50,
            allocation_size: 4096,
            memory_type_index: 1,
            dedicated: DedicatedIdentity::None,
            device_mask: None,
            process: None,
        }
    }

    fn importer() -> ImporterFacts {
        ImporterFacts {
            side: side(2),
            dedicated: DedicatedIdentity::None,
        }
    }

    fn call() -> AllocateCall {
        AllocateCall {
            device: 2,
            fd_import: Some(FdImport {
                handle_type: OPAQUE,
                fd: 9,
                kind: FdKind::Regular,
            }),
            allocation_size: 4096,
            memory_type_index: 1,
            ..Default::default()
        }
    }

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    fn image() -> ImageIdentity {
        ImageIdentity {
            flags: vk::ImageCreateFlags::empty(),
            image_type: vk::ImageType::TYPE_2D,
            format: vk::Format::R8G8B8A8_UNORM,
            extent: [64, 64, 1],
            mip_levels: 1,
            array_layers: 1,
            samples: vk::SampleCountFlags::TYPE_1,
            tiling: vk::ImageTiling::OPTIMAL,
            usage: vk::ImageUsageFlags::SAMPLED,
            sharing_mode: vk::SharingMode::EXCLUSIVE,
            external_types: OPAQUE,
        }
    }

    fn buffer() -> BufferIdentity {
        BufferIdentity {
            flags: vk::BufferCreateFlags::empty(),
            size: 4096,
            usage: vk::BufferUsageFlags::TRANSFER_SRC,
            sharing_mode: vk::SharingMode::EXCLUSIVE,
            external_types: OPAQUE,
        }
    }

    #[test]
    fn device_groups_compare_by_their_members() {
        let one = DeviceGroup::from(vec![0x100]);
        assert_eq!(&*one, &[0x100]);
        assert_eq!(one, DeviceGroup::from(&[0x100u64][..]));
        assert_ne!(one, DeviceGroup::from(vec![0x100, 0x101]));
        let four: DeviceGroup = (1..=4u64).collect();
        assert_eq!(four.len(), 4);
        assert_eq!(four.clone(), DeviceGroup::from(vec![1, 2, 3, 4]));
        assert!(DeviceGroup::default().is_empty());
    }

    #[test]
    fn matching_import_is_silent() {
        assert!(opaque_import(&call(), &importer(), &exporter()).is_empty());
    }

    #[test]
    fn size_or_type_mismatch_is_01742() {
        let mut c = call();
        c.allocation_size = 8192;
        let f = opaque_import(&c, &importer(), &exporter());
        assert_eq!(ids(&f), [IMPORT_PAYLOAD_SIZE_TYPE_MISMATCH.id]);
        assert!(f[0].message.contains("allocationSize 8192"));
        assert_eq!(f[0].objects[1].handle, 0x50);
        let mut c = call();
        c.memory_type_index = 2;
        let f = opaque_import(&c, &importer(), &exporter());
        assert_eq!(ids(&f), [IMPORT_PAYLOAD_SIZE_TYPE_MISMATCH.id]);
    }

    #[test]
    fn uuid_mismatch_is_01746_alone() {
        let mut i = importer();
        i.side.device_uuid = Some([9; 16]);
        i.side.group = vec![0x200].into();
        let mut c = call();
        c.allocation_size = 1;
        let f = opaque_import(&c, &i, &exporter());
        assert_eq!(ids(&f), [IMPORT_FD_DEVICE_INCOMPATIBLE.id]);
        assert!(f[0].message.contains("deviceUUID 0909"));
        // Unknown UUIDs compare as nothing.
        let mut i = importer();
        i.side.driver_uuid = None;
        assert!(opaque_import(&call(), &i, &exporter()).is_empty());
        let mut i = importer();
        i.side.driver_uuid = Some([3; 16]);
        assert_eq!(
            ids(&opaque_import(&call(), &i, &exporter())),
            [IMPORT_FD_DEVICE_INCOMPATIBLE.id]
        );
    }

    #[test]
    fn dedicated_image_identity_is_01878() {
        let mut i = importer();
        i.dedicated = DedicatedIdentity::Image(0x77, Some(image()));
        let mut e = exporter();
        e.dedicated = DedicatedIdentity::Image(0x66, Some(image()));
        assert!(opaque_import(&call(), &i, &e).is_empty());
        let mut other = image();
        other.extent = [32, 64, 1];
        e.dedicated = DedicatedIdentity::Image(0x66, Some(other));
        let f = opaque_import(&call(), &i, &e);
        assert_eq!(ids(&f), [IMPORT_DEDICATED_IMAGE_MISMATCH.id]);
        assert!(f[0].message.contains("extent"), "{}", f[0].message);
        e.dedicated = DedicatedIdentity::None;
        assert_eq!(
            ids(&opaque_import(&call(), &i, &e)),
            [IMPORT_DEDICATED_IMAGE_MISMATCH.id]
        );
        e.dedicated = DedicatedIdentity::Buffer(0x66, Some(buffer()));
        assert_eq!(
            ids(&opaque_import(&call(), &i, &e)),
            [IMPORT_DEDICATED_IMAGE_MISMATCH.id]
        );
        // Unknown identities compare as nothing.
        e.dedicated = DedicatedIdentity::Image(0x66, None);
        assert!(opaque_import(&call(), &i, &e).is_empty());
        i.dedicated = DedicatedIdentity::Image(0x77, None);
        e.dedicated = DedicatedIdentity::None;
        assert!(opaque_import(&call(), &i, &e).is_empty());
    }

    #[test]
    fn dedicated_buffer_identity_is_01879() {
        let mut i = importer();
        i.dedicated = DedicatedIdentity::Buffer(0x77, Some(buffer()));
        let mut e = exporter();
        e.dedicated = DedicatedIdentity::Buffer(0x66, Some(buffer()));
        assert!(opaque_import(&call(), &i, &e).is_empty());
        let mut other = buffer();
        other.usage = vk::BufferUsageFlags::TRANSFER_DST;
        e.dedicated = DedicatedIdentity::Buffer(0x66, Some(other));
        let f = opaque_import(&call(), &i, &e);
        assert_eq!(ids(&f), [IMPORT_DEDICATED_BUFFER_MISMATCH.id]);
        assert!(f[0].message.contains("usage"));
        e.dedicated = DedicatedIdentity::None;
        assert_eq!(
            ids(&opaque_import(&call(), &i, &e)),
            [IMPORT_DEDICATED_BUFFER_MISMATCH.id]
        );
        // An exporter dedicated to something the importer is not dedicated to: no id.
        let i = importer();
        e.dedicated = DedicatedIdentity::Buffer(0x66, Some(buffer()));
        assert!(opaque_import(&call(), &i, &e).is_empty());
    }

    #[test]
    fn device_set_is_00644_and_mask_is_00643() {
        let mut i = importer();
        i.side.group = vec![0x100, 0x101].into();
        let f = opaque_import(&call(), &i, &exporter());
        assert_eq!(ids(&f), [IMPORT_DEVICE_SET_MISMATCH.id]);
        // Same set, other mask.
        let mut e = exporter();
        e.side.group = vec![0x100, 0x101].into();
        e.device_mask = Some(0x1);
        let f = opaque_import(&call(), &i, &e);
        assert_eq!(ids(&f), [IMPORT_DEVICE_MASK_MISMATCH.id]);
        let mut c = call();
        c.device_mask = Some(0x1);
        assert!(opaque_import(&c, &i, &e).is_empty());
        // No mask on either side means all devices on both.
        e.device_mask = None;
        assert!(opaque_import(&call(), &i, &e).is_empty());
        e.device_mask = Some(0x3);
        assert!(opaque_import(&call(), &i, &e).is_empty());
    }

    #[test]
    fn other_instances_compare_set_sizes_only() {
        let mut i = importer();
        i.side.instance = 8;
        i.side.group = vec![0x999].into();
        assert!(opaque_import(&call(), &i, &exporter()).is_empty());
        i.side.group = vec![0x999, 0x998].into();
        assert_eq!(
            ids(&opaque_import(&call(), &i, &exporter())),
            [IMPORT_DEVICE_SET_MISMATCH.id]
        );
    }

    #[test]
    fn dma_buf_type_is_00648() {
        let mut c = call();
        c.memory_type_index = 2;
        let f = dma_buf_memory_type(&c, 0x3).unwrap();
        assert_eq!(f.id(), IMPORT_DMA_BUF_MEMORY_TYPE.id);
        assert!(f.message.contains("memory types 0, 1"));
        c.memory_type_index = 1;
        assert!(dma_buf_memory_type(&c, 0x3).is_none());
        c.memory_type_index = 40;
        assert!(dma_buf_memory_type(&c, 0xffff_ffff).is_some());
    }

    #[test]
    fn reused_fd_names_the_first_import() {
        let f = fd_reused(
            &call(),
            &ConsumedFd {
                fd: 9,
                device: 1,
                memory: 0x44,
            },
        );
        assert_eq!(f.id(), IMPORT_FD_REUSED.id);
        assert_eq!(f.objects[1].handle, 0x44);
        const { assert!(IMPORT_FD_REUSED.blocks_call) };
    }

    #[test]
    fn reexport_outside_export_from_imported_warns() {
        let c = GetFdCall {
            device: 1,
            memory: 2,
            handle_type: OPAQUE,
        };
        let dma = vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;
        let f = reexport(&c, dma, dma, "q").unwrap();
        assert_eq!(f.id(), EXPORT_REEXPORT_NOT_ALLOWED.id);
        assert!(reexport(&c, OPAQUE, OPAQUE, "q").is_none());
        assert!(reexport(&c, vk::ExternalMemoryHandleTypeFlags::empty(), dma, "q").is_none());
    }

    #[test]
    fn parameters() {
        let mut c = GetFdCall {
            device: 1,
            memory: 2,
            handle_type: OPAQUE,
        };
        assert!(get_fd_parameters(&c, false).is_empty());
        assert_eq!(
            ids(&get_fd_parameters(&c, true)),
            [GET_FD_NULL_FD_POINTER.id]
        );
        for bad in [0u32, 0x3, 0x8000_0000] {
            c.handle_type = vk::ExternalMemoryHandleTypeFlags::from_raw(bad);
            assert_eq!(
                ids(&get_fd_parameters(&c, false)),
                [GET_FD_HANDLE_TYPE_INVALID.id]
            );
        }
        c.handle_type = vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT;
        assert!(get_fd_parameters(&c, false).is_empty());

        let mut a = call();
        assert!(import_handle_type_parameter(&a).is_none());
        if let Some(i) = a.fd_import.as_mut() {
            i.handle_type = vk::ExternalMemoryHandleTypeFlags::from_raw(0x4000_0000);
        }
        assert_eq!(
            import_handle_type_parameter(&a).map(|f| f.id()),
            Some(IMPORT_FD_HANDLE_TYPE_INVALID.id)
        );
        if let Some(i) = a.fd_import.as_mut() {
            i.handle_type = vk::ExternalMemoryHandleTypeFlags::empty();
        }
        assert!(import_handle_type_parameter(&a).is_none());
        assert_eq!(fd_properties_null_out(1, 3).id(), FD_PROPERTIES_NULL_OUT.id);
    }
}

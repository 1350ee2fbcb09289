//! External semaphores and fences: export create infos, fd export and import
//! (RULES-TARGET 1.15, 1.16, G15), and submissions that release memory without signalling.
//!
//! Semaphores and fences share one shape (handle-type bits, an import that is permanent or
//! temporary, exportFromImportedHandleTypes), so the checks take [`Kind`] and raw bits and
//! pick the rule of the kind. Bits are raw `u32`s: the two flag types differ only in which
//! bit SYNC_FD is.

use crate::catalogue::*;
use crate::checks::memory_import::{AllocateCall, FdKind};
use crate::checks::payload::DeviceSide;
use crate::finding::{Finding, Object};
use ash::vk;

/// Which of the two objects a call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Semaphore,
    Fence,
}

const OPAQUE_FD: u32 = 0x1;
/// `VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT` = `VK_EXTERNAL_FENCE_FEATURE_EXPORTABLE_BIT`.
pub const FEATURE_EXPORTABLE: u32 = 0x1;
/// The only `Vk{Semaphore,Fence}ImportFlagBits` value: TEMPORARY.
pub const IMPORT_TEMPORARY: u32 = 0x1;

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Semaphore => "VkSemaphore",
            Kind::Fence => "VkFence",
        }
    }

    fn object_type(self) -> vk::ObjectType {
        match self {
            Kind::Semaphore => vk::ObjectType::SEMAPHORE,
            Kind::Fence => vk::ObjectType::FENCE,
        }
    }

    /// The SYNC_FD bit of this kind's handle-type flags.
    pub fn sync_fd(self) -> u32 {
        match self {
            Kind::Semaphore => vk::ExternalSemaphoreHandleTypeFlags::SYNC_FD.as_raw(),
            Kind::Fence => vk::ExternalFenceHandleTypeFlags::SYNC_FD.as_raw(),
        }
    }

    /// Every handle-type bit the spec defines for this kind.
    fn defined_bits(self) -> u32 {
        match self {
            // OPAQUE_FD, OPAQUE_WIN32(_KMT), D3D12_FENCE, SYNC_FD, ZIRCON_EVENT.
            Kind::Semaphore => 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x80,
            // OPAQUE_FD, OPAQUE_WIN32(_KMT), SYNC_FD.
            Kind::Fence => 0x1 | 0x2 | 0x4 | 0x8,
        }
    }

    fn fd_types(self) -> u32 {
        OPAQUE_FD | self.sync_fd()
    }

    fn is_valid_bit(self, t: u32) -> bool {
        t.count_ones() == 1 && t & !self.defined_bits() == 0
    }

    fn is_fd_type(self, t: u32) -> bool {
        t.count_ones() == 1 && self.fd_types() & t != 0
    }
}

/// A handle-type mask in words (`OPAQUE_FD|SYNC_FD`).
pub fn type_names(kind: Kind, t: u32) -> String {
    if t == 0 {
        return "0".to_owned();
    }
    let mut names = Vec::new();
    let mut rest = t;
    for (bit, name) in [
        (OPAQUE_FD, "OPAQUE_FD"),
        (0x2, "OPAQUE_WIN32"),
        (0x4, "OPAQUE_WIN32_KMT"),
        (kind.sync_fd(), "SYNC_FD"),
        (if kind == Kind::Semaphore { 0x8 } else { 0 }, "D3D12_FENCE"),
        (
            if kind == Kind::Semaphore { 0x80 } else { 0 },
            "ZIRCON_EVENT_FUCHSIA",
        ),
    ] {
        if bit != 0 && t & bit != 0 {
            names.push(name.to_owned());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(format!("0x{rest:x}"));
    }
    names.join("|")
}

/// The driver's answer for one handle type (`VkExternal{Semaphore,Fence}Properties`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncAnswer {
    Props {
        features: u32,
        compatible: u32,
        export_from_imported: u32,
    },
    /// The query could not be made.
    Unknown,
}

fn timeline_word(timeline: bool) -> &'static str {
    if timeline {
        "timeline"
    } else {
        "binary"
    }
}

/// `VkExport{Semaphore,Fence}CreateInfo::handleTypes`: each bit defined (-parameter), and
/// every bit EXPORTABLE and compatible with the others (01124 / 01446). `answers` holds the
/// driver's answer per valid bit of `handle_types`.
pub fn export_create(
    kind: Kind,
    device: u64,
    handle_types: u32,
    timeline: bool,
    answers: &[(u32, SyncAnswer)],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let objects = || vec![Object::new(vk::ObjectType::DEVICE, device)];
    let (invalid_rule, unsupported_rule, query, create) = match kind {
        Kind::Semaphore => (
            &SEM_EXPORT_TYPES_INVALID,
            &SEM_EXPORT_TYPES_UNSUPPORTED,
            "vkGetPhysicalDeviceExternalSemaphoreProperties",
            "vkCreateSemaphore",
        ),
        Kind::Fence => (
            &FENCE_EXPORT_TYPES_INVALID,
            &FENCE_EXPORT_TYPES_UNSUPPORTED,
            "vkGetPhysicalDeviceExternalFenceProperties",
            "vkCreateFence",
        ),
    };
    let undefined = handle_types & !kind.defined_bits();
    if undefined != 0 {
        out.push(Finding::new(
            invalid_rule,
            format!(
                "{create} chains VkExport{}CreateInfo with handleTypes 0x{handle_types:x}; bits \
                 0x{undefined:x} are no handle type. Request only defined handle-type bits.",
                &kind.name()[2..]
            ),
            objects(),
        ));
    }
    let what = match kind {
        Kind::Semaphore => format!("a {} semaphore", timeline_word(timeline)),
        Kind::Fence => "a fence".to_owned(),
    };
    let mut problems = Vec::new();
    for &(bit, answer) in answers {
        let SyncAnswer::Props {
            features,
            compatible,
            ..
        } = answer
        else {
            continue;
        };
        if features & FEATURE_EXPORTABLE == 0 {
            problems.push(format!(
                "{} is not EXPORTABLE for {what}",
                type_names(kind, bit)
            ));
            continue;
        }
        let others = handle_types & !bit & kind.defined_bits();
        let incompatible = others & !compatible;
        if incompatible != 0 {
            problems.push(format!(
                "{} is compatible only with {}, not with {}",
                type_names(kind, bit),
                type_names(kind, compatible),
                type_names(kind, incompatible)
            ));
        }
    }
    if !problems.is_empty() {
        out.push(Finding::new(
            unsupported_rule,
            format!(
                "{create} requests export handle types {} for {what}, but {query} says: {}. \
                 Request only exportable handle types that are compatible with each other \
                 (one {} per handle type where they are not).",
                type_names(kind, handle_types),
                problems.join("; "),
                &kind.name()[2..]
            ),
            objects(),
        ));
    }
    out
}

/// The payload an object currently holds through an import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Imported {
    pub handle_type: u32,
    pub temporary: bool,
}

/// What the layer recorded about a semaphore or fence, for the getters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectFacts {
    /// A timeline semaphore (never for fences).
    pub timeline: bool,
    /// `VkExport{Semaphore,Fence}CreateInfo::handleTypes` at creation.
    pub export_types: u32,
    pub imported: Option<Imported>,
    /// exportFromImportedHandleTypes of the imported handle type, when the driver answered.
    pub export_from_imported: Option<u32>,
}

/// The arguments of `vkGet{Semaphore,Fence}FdKHR`.
#[derive(Clone, Copy, Debug)]
pub struct GetFdCall {
    pub kind: Kind,
    pub device: u64,
    pub object: u64,
    pub handle_type: u32,
    pub fd_pointer_null: bool,
}

/// Checks `vkGet{Semaphore,Fence}FdKHR`: the implicit ids, 01136/01456 (fd types only),
/// 01132/01453 (requested at creation), 01133/01455 (exportable from the imported payload)
/// and 03253 (SYNC_FD from a timeline semaphore). `facts` is `None` for an unknown handle.
pub fn get_fd(call: &GetFdCall, facts: Option<&ObjectFacts>) -> Vec<Finding> {
    let mut out = Vec::new();
    let kind = call.kind;
    let objects = || {
        vec![
            Object::new(kind.object_type(), call.object),
            Object::new(vk::ObjectType::DEVICE, call.device),
        ]
    };
    let (cmd, info) = match kind {
        Kind::Semaphore => ("vkGetSemaphoreFdKHR", "VkSemaphoreGetFdInfoKHR"),
        Kind::Fence => ("vkGetFenceFdKHR", "VkFenceGetFdInfoKHR"),
    };
    let r = |sem: &'static Rule, fence: &'static Rule| match kind {
        Kind::Semaphore => sem,
        Kind::Fence => fence,
    };
    let t = call.handle_type;
    let name = kind.name();
    let valid = kind.is_valid_bit(t);
    if !valid {
        out.push(Finding::new(
            r(&SEM_GET_FD_TYPE_INVALID, &FENCE_GET_FD_TYPE_INVALID),
            format!(
                "{cmd} is given {info}::handleType 0x{t:x} ({}) for {name} 0x{:x}; it must be \
                 exactly one handle-type bit. Pass OPAQUE_FD or SYNC_FD.",
                type_names(kind, t),
                call.object
            ),
            objects(),
        ));
    } else if !kind.is_fd_type(t) {
        out.push(Finding::new(
            r(&SEM_GET_FD_NOT_FD, &FENCE_GET_FD_NOT_FD),
            format!(
                "{cmd} asks for handleType {} of {name} 0x{:x}; only OPAQUE_FD and SYNC_FD are \
                 file descriptors. Use the export command of that handle type instead.",
                type_names(kind, t),
                call.object
            ),
            objects(),
        ));
    }
    if call.fd_pointer_null {
        out.push(Finding::new(
            r(&SEM_GET_FD_NULL_FD, &FENCE_GET_FD_NULL_FD),
            format!(
                "{cmd} is called for {name} 0x{:x} with pFd = NULL; the driver would write the \
                 new fd through it. Pass a pointer to an int.",
                call.object
            ),
            objects(),
        ));
    }
    let Some(facts) = facts else {
        out.push(Finding::new(
            r(&SEM_GET_FD_UNKNOWN, &FENCE_GET_FD_UNKNOWN),
            format!(
                "{cmd} is given {name} 0x{:x}, which was never created on this device or was \
                 already destroyed.",
                call.object
            ),
            objects(),
        ));
        return out;
    };
    if !kind.is_fd_type(t) {
        return out;
    }
    if facts.export_types & t == 0 {
        let requested = if facts.export_types == 0 {
            format!("no VkExport{}CreateInfo was chained", &name[2..])
        } else {
            format!(
                "VkExport{}CreateInfo::handleTypes was {}",
                &name[2..],
                type_names(kind, facts.export_types)
            )
        };
        out.push(Finding::new(
            r(&SEM_GET_FD_NOT_EXPORTED, &FENCE_GET_FD_NOT_EXPORTED),
            format!(
                "{cmd} exports {} from {name} 0x{:x}, but at creation {requested}. Add {} to \
                 the export handle types when creating it.",
                type_names(kind, t),
                call.object,
                type_names(kind, t)
            ),
            objects(),
        ));
    }
    if let (Some(imp), Some(allowed)) = (facts.imported, facts.export_from_imported) {
        if allowed & t == 0 {
            out.push(Finding::new(
                r(&SEM_GET_FD_FROM_IMPORTED, &FENCE_GET_FD_FROM_IMPORTED),
                format!(
                    "{cmd} exports {} from {name} 0x{:x}, whose current payload was imported \
                     ({}{}); exportFromImportedHandleTypes of {} is {}. Export from the \
                     object that owns the payload, or re-import instead of re-exporting.",
                    type_names(kind, t),
                    call.object,
                    if imp.temporary { "temporarily, " } else { "" },
                    type_names(kind, imp.handle_type),
                    type_names(kind, imp.handle_type),
                    type_names(kind, allowed)
                ),
                objects(),
            ));
        }
    }
    if kind == Kind::Semaphore && t == kind.sync_fd() && facts.timeline {
        out.push(Finding::new(
            &SEM_GET_FD_SYNC_TIMELINE,
            format!(
                "vkGetSemaphoreFdKHR exports SYNC_FD from timeline VkSemaphore 0x{:x}; a sync \
                 file carries one binary signal. Export OPAQUE_FD, or use a binary semaphore.",
                call.object
            ),
            objects(),
        ));
    }
    out
}

/// Where the layer has seen an imported fd come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FdOrigin {
    /// Not exported through Vulkan in this process as far as the layer saw.
    #[default]
    Unknown,
    /// A payload of `vkGetMemoryFdKHR`.
    Memory { device: u64, memory: u64 },
    /// A payload of `vkGet{Semaphore,Fence}FdKHR`.
    Sync(SyncExporter),
}

/// What the layer recorded when a semaphore or fence payload was exported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncExporter {
    pub kind: Option<Kind>,
    pub side: DeviceSide,
    pub object: u64,
    pub handle_type: u32,
    pub timeline: bool,
    /// `VkSemaphoreCreateInfo::flags` (raw).
    pub flags: u32,
}

/// The importing object's facts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImporterFacts {
    pub timeline: bool,
    pub flags: u32,
    pub side: DeviceSide,
}

/// The arguments of `vkImport{Semaphore,Fence}FdKHR`, with what the fd was found to be.
#[derive(Clone, Debug)]
pub struct ImportCall {
    pub kind: Kind,
    pub device: u64,
    pub object: u64,
    pub handle_type: u32,
    pub flags: u32,
    pub fd: i32,
    pub fd_kind: FdKind,
}

fn hex16(u: &[u8; vk::UUID_SIZE]) -> String {
    u.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why the fd cannot be a payload of this kind, from what the fd is.
fn not_sync(kind: Kind, call: &ImportCall) -> Option<String> {
    if call.handle_type == kind.sync_fd() && call.fd == -1 {
        // -1 is a sync file that is already signaled.
        return None;
    }
    match &call.fd_kind {
        FdKind::Negative | FdKind::Closed | FdKind::Pipe | FdKind::Socket | FdKind::Directory => {
            call.fd_kind.not_memory()
        }
        FdKind::OtherAnonInode(name) => Some(format!("is an anonymous inode of kind {name:?}")),
        FdKind::DmaBuf => Some("is a dma-buf (a memory payload)".to_owned()),
        FdKind::EventFd | FdKind::Regular | FdKind::CharDevice | FdKind::Unknown => None,
    }
}

/// Checks `vkImport{Semaphore,Fence}FdKHR`: the implicit ids, 01143/01464 (fd types),
/// 07307/07306 (SYNC_FD is TEMPORARY), 01544/01541 (the fd: open, of this kind, from a
/// device with the same UUIDs), 03263/03264 (OPAQUE_FD: the exporter's flags and type) and
/// 03323 (no TEMPORARY import of a timeline payload). `importer` is `None` for an unknown
/// handle.
pub fn import(
    call: &ImportCall,
    importer: Option<&ImporterFacts>,
    origin: &FdOrigin,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let kind = call.kind;
    let name = kind.name();
    let r = |sem: &'static Rule, fence: &'static Rule| match kind {
        Kind::Semaphore => sem,
        Kind::Fence => fence,
    };
    let (cmd, info, flag) = match kind {
        Kind::Semaphore => (
            "vkImportSemaphoreFdKHR",
            "VkImportSemaphoreFdInfoKHR",
            "VK_SEMAPHORE_IMPORT_TEMPORARY_BIT",
        ),
        Kind::Fence => (
            "vkImportFenceFdKHR",
            "VkImportFenceFdInfoKHR",
            "VK_FENCE_IMPORT_TEMPORARY_BIT",
        ),
    };
    let mine = Object::new(kind.object_type(), call.object);
    let dev = Object::new(vk::ObjectType::DEVICE, call.device);
    let objects = || vec![mine, dev];
    let t = call.handle_type;
    let fd = call.fd;
    let temporary = call.flags & IMPORT_TEMPORARY != 0;

    if !kind.is_valid_bit(t) {
        out.push(Finding::new(
            r(&SEM_IMPORT_TYPE_INVALID, &FENCE_IMPORT_TYPE_INVALID),
            format!(
                "{cmd} is given {info}::handleType 0x{t:x} ({}) for fd {fd}; it must be exactly \
                 one handle-type bit. Use the type the fd was exported as.",
                type_names(kind, t)
            ),
            objects(),
        ));
    } else if !kind.is_fd_type(t) {
        out.push(Finding::new(
            r(&SEM_IMPORT_TYPE_NOT_FD, &FENCE_IMPORT_TYPE_NOT_FD),
            format!(
                "{cmd} imports fd {fd} into {name} 0x{:x} as {}; an fd import takes only \
                 OPAQUE_FD or SYNC_FD. Use the import command of that handle type instead.",
                call.object,
                type_names(kind, t)
            ),
            objects(),
        ));
    }
    if call.flags & !IMPORT_TEMPORARY != 0 {
        out.push(Finding::new(
            r(&SEM_IMPORT_FLAGS_INVALID, &FENCE_IMPORT_FLAGS_INVALID),
            format!(
                "{cmd} is given {info}::flags 0x{:x}; the only defined bit is {flag} (0x1).",
                call.flags
            ),
            objects(),
        ));
    }
    if t == kind.sync_fd() && !temporary {
        out.push(Finding::new(
            r(
                &SEM_IMPORT_SYNC_FD_PERMANENT,
                &FENCE_IMPORT_SYNC_FD_PERMANENT,
            ),
            format!(
                "{cmd} imports SYNC_FD fd {fd} into {name} 0x{:x} without {flag}; a sync file is \
                 copied in (copy transference) and can only replace the payload temporarily. \
                 Set {flag}.",
                call.object
            ),
            objects(),
        ));
    }
    let importer_known = importer.is_some();
    if !importer_known {
        out.push(Finding::new(
            r(&SEM_IMPORT_UNKNOWN, &FENCE_IMPORT_UNKNOWN),
            format!(
                "{cmd} is given {name} 0x{:x}, which was never created on this device or was \
                 already destroyed.",
                call.object
            ),
            objects(),
        ));
    }
    if !kind.is_fd_type(t) {
        return out;
    }
    let incompatible = r(&SEM_IMPORT_FD_INCOMPATIBLE, &FENCE_IMPORT_FD_INCOMPATIBLE);
    let type_name = type_names(kind, t);
    if let Some(what) = not_sync(kind, call) {
        out.push(Finding::new(
            incompatible,
            format!(
                "{cmd} imports fd {fd} into {name} 0x{:x} as {type_name}, but fd {fd} {what}: it \
                 cannot be a {} payload. Pass an fd returned by the matching export that is \
                 still open and was not consumed by an earlier import.",
                call.object,
                &name[2..]
            ),
            objects(),
        ));
        return out;
    }
    let exporter = match origin {
        FdOrigin::Unknown => None,
        FdOrigin::Memory { device, memory } => {
            out.push(Finding::new(
                incompatible,
                format!(
                    "{cmd} imports fd {fd} into {name} 0x{:x} as {type_name}, but fd {fd} is a \
                     memory payload exported by vkGetMemoryFdKHR from VkDeviceMemory 0x{memory:x} \
                     of VkDevice 0x{device:x}. Import it with vkAllocateMemory, and pass the fd \
                     of the {} export here.",
                    call.object,
                    &name[2..]
                ),
                vec![
                    mine,
                    dev,
                    Object::new(vk::ObjectType::DEVICE_MEMORY, *memory),
                ],
            ));
            return out;
        }
        FdOrigin::Sync(e) => Some(e),
    };
    let Some(exporter) = exporter else {
        if let Some(imp) = importer {
            temporary_timeline(call, imp.timeline, None, &mut out);
        }
        return out;
    };
    let theirs = Object::new(exporter.kind.unwrap_or(kind).object_type(), exporter.object);
    let exporter_objects = || vec![mine, dev, theirs];
    let exp_kind = exporter.kind.unwrap_or(kind);
    if exp_kind != kind || exporter.handle_type != t {
        out.push(Finding::new(
            incompatible,
            format!(
                "{cmd} imports fd {fd} into {name} 0x{:x} as {type_name}, but fd {fd} was \
                 exported as {} from {} 0x{:x}. Import a payload with the command and handle \
                 type it was exported with.",
                call.object,
                type_names(exp_kind, exporter.handle_type),
                exp_kind.name(),
                exporter.object
            ),
            exporter_objects(),
        ));
        return out;
    }
    if t == OPAQUE_FD {
        let differs = |a: Option<[u8; 16]>, b: Option<[u8; 16]>| matches!((a, b), (Some(x), Some(y)) if x != y);
        if let Some(imp) = importer {
            let mut what = Vec::new();
            if differs(imp.side.device_uuid, exporter.side.device_uuid) {
                what.push(format!(
                    "deviceUUID {} here, {} at the exporter",
                    hex16(&imp.side.device_uuid.unwrap_or_default()),
                    hex16(&exporter.side.device_uuid.unwrap_or_default())
                ));
            }
            if differs(imp.side.driver_uuid, exporter.side.driver_uuid) {
                what.push(format!(
                    "driverUUID {} here, {} at the exporter",
                    hex16(&imp.side.driver_uuid.unwrap_or_default()),
                    hex16(&exporter.side.driver_uuid.unwrap_or_default())
                ));
            }
            if !what.is_empty() {
                out.push(Finding::new(
                    incompatible,
                    format!(
                        "{cmd} on VkDevice 0x{:x} imports OPAQUE_FD fd {fd}, exported from {} \
                         0x{:x} of VkDevice 0x{:x}, but the devices are not compatible: {}. An \
                         OPAQUE_FD payload can only be imported on a device with the \
                         exporter's deviceUUID and driverUUID; use SYNC_FD across drivers.",
                        call.device,
                        name,
                        exporter.object,
                        exporter.side.device,
                        what.join("; ")
                    ),
                    vec![
                        mine,
                        dev,
                        theirs,
                        Object::new(vk::ObjectType::DEVICE, exporter.side.device),
                    ],
                ));
                return out;
            }
            if kind == Kind::Semaphore {
                if imp.flags != exporter.flags {
                    out.push(Finding::new(
                        &SEM_IMPORT_FLAGS_DIFFER,
                        format!(
                            "vkImportSemaphoreFdKHR imports OPAQUE_FD fd {fd} into VkSemaphore \
                             0x{:x} created with flags 0x{:x}, but the exporting VkSemaphore \
                             0x{:x} was created with flags 0x{:x}. Create the importing \
                             semaphore with the exporter's VkSemaphoreCreateInfo::flags.",
                            call.object, imp.flags, exporter.object, exporter.flags
                        ),
                        exporter_objects(),
                    ));
                }
                if imp.timeline != exporter.timeline {
                    out.push(Finding::new(
                        &SEM_IMPORT_TYPE_DIFFERS,
                        format!(
                            "vkImportSemaphoreFdKHR imports OPAQUE_FD fd {fd} into {} VkSemaphore \
                             0x{:x}, but the exporting VkSemaphore 0x{:x} is a {} semaphore. \
                             Create the importing semaphore with the exporter's \
                             VkSemaphoreTypeCreateInfo::semaphoreType.",
                            timeline_word(imp.timeline),
                            call.object,
                            exporter.object,
                            timeline_word(exporter.timeline)
                        ),
                        exporter_objects(),
                    ));
                }
            }
        }
    }
    temporary_timeline(call, exporter.timeline, Some(exporter.object), &mut out);
    out
}

/// 03323: a TEMPORARY semaphore import of a timeline payload. The payload's type is the
/// exporter's where the layer saw the export, else the importing semaphore's (as the
/// Khronos layer reads it).
fn temporary_timeline(
    call: &ImportCall,
    timeline: bool,
    exporter: Option<u64>,
    out: &mut Vec<Finding>,
) {
    if call.kind != Kind::Semaphore || call.flags & IMPORT_TEMPORARY == 0 || !timeline {
        return;
    }
    let whose = match exporter {
        Some(e) => format!("the exporting VkSemaphore 0x{e:x} is a timeline semaphore"),
        None => format!(
            "VkSemaphore 0x{:x} is a timeline semaphore (the payload's exporter is unknown \
             to the layer)",
            call.object
        ),
    };
    let mut objects = vec![
        Object::new(vk::ObjectType::SEMAPHORE, call.object),
        Object::new(vk::ObjectType::DEVICE, call.device),
    ];
    if let Some(e) = exporter {
        objects.push(Object::new(vk::ObjectType::SEMAPHORE, e));
    }
    out.push(Finding::new(
        &SEM_IMPORT_TEMPORARY_TIMELINE,
        format!(
            "vkImportSemaphoreFdKHR imports fd {} with VK_SEMAPHORE_IMPORT_TEMPORARY_BIT, but \
             {whose}; a timeline payload can only be imported permanently. Drop the TEMPORARY \
             flag (OPAQUE_FD) or share a binary semaphore.",
            call.fd
        ),
        objects,
    ));
}

/// 00670 for a memory import of an fd the layer saw exported from a semaphore or fence.
pub fn memory_import_of_sync(call: &AllocateCall, exporter: &SyncExporter) -> Finding {
    let fd = call.fd_import.as_ref().map_or(-1, |i| i.fd);
    let kind = exporter.kind.unwrap_or(Kind::Semaphore);
    let (name, cmd) = match kind {
        Kind::Semaphore => ("VkSemaphore", "vkGetSemaphoreFdKHR"),
        Kind::Fence => ("VkFence", "vkGetFenceFdKHR"),
    };
    Finding::new(
        &IMPORT_FD_INVALID,
        format!(
            "vkAllocateMemory imports fd {fd}, but fd {fd} is a {} payload exported by {cmd} \
             from {name} 0x{:x}: it cannot be a memory handle. Import it with the matching \
             semaphore or fence import, and pass the fd of a vkGetMemoryFdKHR export here.",
            &name[2..],
            exporter.object
        ),
        vec![
            Object::new(vk::ObjectType::DEVICE, call.device),
            Object::new(kind.object_type(), exporter.object),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEM_SYNC: u32 = 0x10;
    const FENCE_SYNC: u32 = 0x8;

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    fn props(features: u32, compatible: u32) -> SyncAnswer {
        SyncAnswer::Props {
            features,
            compatible,
            export_from_imported: compatible,
        }
    }

    #[test]
    fn export_create_rules() {
        let ok = [(OPAQUE_FD, props(0x3, OPAQUE_FD))];
        assert!(export_create(Kind::Semaphore, 1, OPAQUE_FD, false, &ok).is_empty());
        let not_exportable = [(OPAQUE_FD, props(0x2, OPAQUE_FD))];
        assert_eq!(
            ids(&export_create(
                Kind::Fence,
                1,
                OPAQUE_FD,
                false,
                &not_exportable
            )),
            [FENCE_EXPORT_TYPES_UNSUPPORTED.id]
        );
        let both = [
            (OPAQUE_FD, props(0x3, OPAQUE_FD)),
            (SEM_SYNC, props(0x3, SEM_SYNC)),
        ];
        assert_eq!(
            ids(&export_create(
                Kind::Semaphore,
                1,
                OPAQUE_FD | SEM_SYNC,
                false,
                &both
            )),
            [SEM_EXPORT_TYPES_UNSUPPORTED.id]
        );
        let compatible = [
            (OPAQUE_FD, props(0x3, OPAQUE_FD | SEM_SYNC)),
            (SEM_SYNC, props(0x3, OPAQUE_FD | SEM_SYNC)),
        ];
        assert!(
            export_create(Kind::Semaphore, 1, OPAQUE_FD | SEM_SYNC, false, &compatible).is_empty()
        );
        // An unanswered query proves nothing.
        assert!(export_create(
            Kind::Semaphore,
            1,
            OPAQUE_FD,
            true,
            &[(1, SyncAnswer::Unknown)]
        )
        .is_empty());
        assert_eq!(
            ids(&export_create(Kind::Fence, 1, 0x100, false, &[])),
            [FENCE_EXPORT_TYPES_INVALID.id]
        );
    }

    fn get(kind: Kind, t: u32) -> GetFdCall {
        GetFdCall {
            kind,
            device: 1,
            object: 0x20,
            handle_type: t,
            fd_pointer_null: false,
        }
    }

    #[test]
    fn get_fd_rules() {
        let facts = ObjectFacts {
            export_types: OPAQUE_FD,
            ..Default::default()
        };
        assert!(get_fd(&get(Kind::Semaphore, OPAQUE_FD), Some(&facts)).is_empty());
        assert_eq!(
            ids(&get_fd(&get(Kind::Semaphore, SEM_SYNC), Some(&facts))),
            [SEM_GET_FD_NOT_EXPORTED.id]
        );
        assert_eq!(
            ids(&get_fd(&get(Kind::Fence, 0x2), Some(&facts))),
            [FENCE_GET_FD_NOT_FD.id]
        );
        assert_eq!(
            ids(&get_fd(&get(Kind::Fence, 0x3), Some(&facts))),
            [FENCE_GET_FD_TYPE_INVALID.id]
        );
        assert_eq!(
            ids(&get_fd(&get(Kind::Semaphore, OPAQUE_FD), None)),
            [SEM_GET_FD_UNKNOWN.id]
        );
        let mut null = get(Kind::Fence, OPAQUE_FD);
        null.fd_pointer_null = true;
        assert_eq!(ids(&get_fd(&null, Some(&facts))), [FENCE_GET_FD_NULL_FD.id]);
        let timeline = ObjectFacts {
            timeline: true,
            export_types: SEM_SYNC,
            ..Default::default()
        };
        assert_eq!(
            ids(&get_fd(&get(Kind::Semaphore, SEM_SYNC), Some(&timeline))),
            [SEM_GET_FD_SYNC_TIMELINE.id]
        );
        let imported = ObjectFacts {
            export_types: OPAQUE_FD,
            imported: Some(Imported {
                handle_type: SEM_SYNC,
                temporary: true,
            }),
            export_from_imported: Some(SEM_SYNC),
            ..Default::default()
        };
        assert_eq!(
            ids(&get_fd(&get(Kind::Semaphore, OPAQUE_FD), Some(&imported))),
            [SEM_GET_FD_FROM_IMPORTED.id]
        );
        let allowed = ObjectFacts {
            export_from_imported: Some(OPAQUE_FD),
            ..imported
        };
        assert!(get_fd(&get(Kind::Semaphore, OPAQUE_FD), Some(&allowed)).is_empty());
    }

    fn side(uuid: u8) -> DeviceSide {
        DeviceSide {
            device: uuid as u64,
            device_uuid: Some([uuid; 16]),
            driver_uuid: Some([uuid; 16]),
            ..Default::default()
        }
    }

    fn imp(kind: Kind, t: u32, flags: u32, fd: i32, fd_kind: FdKind) -> ImportCall {
        ImportCall {
            kind,
            device: 1,
            object: 0x30,
            handle_type: t,
            flags,
            fd,
            fd_kind,
        }
    }

    fn exporter(kind: Kind, timeline: bool, flags: u32, uuid: u8) -> FdOrigin {
        FdOrigin::Sync(SyncExporter {
            kind: Some(kind),
            side: side(uuid),
            object: 0x40,
            handle_type: OPAQUE_FD,
            timeline,
            flags,
        })
    }

    #[test]
    fn import_parameter_rules() {
        let me = ImporterFacts {
            side: side(1),
            ..Default::default()
        };
        let call = imp(Kind::Semaphore, OPAQUE_FD, 0, 5, FdKind::Regular);
        assert!(import(&call, Some(&me), &FdOrigin::Unknown).is_empty());
        let sync_perm = imp(Kind::Semaphore, SEM_SYNC, 0, 5, FdKind::EventFd);
        assert_eq!(
            ids(&import(&sync_perm, Some(&me), &FdOrigin::Unknown)),
            [SEM_IMPORT_SYNC_FD_PERMANENT.id]
        );
        let fence_sync = imp(Kind::Fence, FENCE_SYNC, 0, -1, FdKind::Negative);
        assert_eq!(
            ids(&import(&fence_sync, Some(&me), &FdOrigin::Unknown)),
            [FENCE_IMPORT_SYNC_FD_PERMANENT.id]
        );
        // SYNC_FD -1 with TEMPORARY: an already-signaled sync file, valid.
        let signaled = imp(Kind::Fence, FENCE_SYNC, 1, -1, FdKind::Negative);
        assert!(import(&signaled, Some(&me), &FdOrigin::Unknown).is_empty());
        let win32 = imp(Kind::Fence, 0x2, 0, 5, FdKind::Regular);
        assert_eq!(
            ids(&import(&win32, Some(&me), &FdOrigin::Unknown)),
            [FENCE_IMPORT_TYPE_NOT_FD.id]
        );
        let bad = imp(Kind::Semaphore, 0x11, 0x2, 5, FdKind::Regular);
        assert_eq!(
            ids(&import(&bad, Some(&me), &FdOrigin::Unknown)),
            [SEM_IMPORT_TYPE_INVALID.id, SEM_IMPORT_FLAGS_INVALID.id]
        );
        assert_eq!(
            ids(&import(&call, None, &FdOrigin::Unknown)),
            [SEM_IMPORT_UNKNOWN.id]
        );
        let closed = imp(Kind::Semaphore, OPAQUE_FD, 0, 99, FdKind::Closed);
        assert_eq!(
            ids(&import(&closed, Some(&me), &FdOrigin::Unknown)),
            [SEM_IMPORT_FD_INCOMPATIBLE.id]
        );
        let pipe = imp(Kind::Fence, OPAQUE_FD, 0, 7, FdKind::Pipe);
        assert_eq!(
            ids(&import(&pipe, Some(&me), &FdOrigin::Unknown)),
            [FENCE_IMPORT_FD_INCOMPATIBLE.id]
        );
        let memory = FdOrigin::Memory {
            device: 1,
            memory: 0x50,
        };
        assert_eq!(
            ids(&import(&call, Some(&me), &memory)),
            [SEM_IMPORT_FD_INCOMPATIBLE.id]
        );
    }

    #[test]
    fn import_exporter_rules() {
        let me = ImporterFacts {
            side: side(1),
            ..Default::default()
        };
        let call = imp(Kind::Semaphore, OPAQUE_FD, 0, 5, FdKind::Regular);
        assert!(import(&call, Some(&me), &exporter(Kind::Semaphore, false, 0, 1)).is_empty());
        assert_eq!(
            ids(&import(
                &call,
                Some(&me),
                &exporter(Kind::Semaphore, false, 0, 2)
            )),
            [SEM_IMPORT_FD_INCOMPATIBLE.id]
        );
        assert_eq!(
            ids(&import(
                &call,
                Some(&me),
                &exporter(Kind::Fence, false, 0, 1)
            )),
            [SEM_IMPORT_FD_INCOMPATIBLE.id]
        );
        assert_eq!(
            ids(&import(
                &call,
                Some(&me),
                &exporter(Kind::Semaphore, false, 0x4, 1)
            )),
            [SEM_IMPORT_FLAGS_DIFFER.id]
        );
        assert_eq!(
            ids(&import(
                &call,
                Some(&me),
                &exporter(Kind::Semaphore, true, 0, 1)
            )),
            [SEM_IMPORT_TYPE_DIFFERS.id]
        );
        let temp = imp(Kind::Semaphore, OPAQUE_FD, 1, 5, FdKind::Regular);
        let tl = ImporterFacts {
            timeline: true,
            ..me.clone()
        };
        assert_eq!(
            ids(&import(
                &temp,
                Some(&tl),
                &exporter(Kind::Semaphore, true, 0, 1)
            )),
            [SEM_IMPORT_TEMPORARY_TIMELINE.id]
        );
        assert_eq!(
            ids(&import(&temp, Some(&tl), &FdOrigin::Unknown)),
            [SEM_IMPORT_TEMPORARY_TIMELINE.id]
        );
        let perm = imp(Kind::Semaphore, OPAQUE_FD, 0, 5, FdKind::Regular);
        assert!(import(&perm, Some(&tl), &exporter(Kind::Semaphore, true, 0, 1)).is_empty());
        // Fences have no flag or type rule: another device's fence is still 01541.
        let fence = imp(Kind::Fence, OPAQUE_FD, 0, 5, FdKind::Regular);
        assert!(import(&fence, Some(&me), &exporter(Kind::Fence, false, 0, 1)).is_empty());
        assert_eq!(
            ids(&import(
                &fence,
                Some(&me),
                &exporter(Kind::Fence, false, 0, 3)
            )),
            [FENCE_IMPORT_FD_INCOMPATIBLE.id]
        );
    }

    #[test]
    fn names() {
        assert_eq!(type_names(Kind::Semaphore, 0x11), "OPAQUE_FD|SYNC_FD");
        assert_eq!(type_names(Kind::Fence, 0x9), "OPAQUE_FD|SYNC_FD");
        assert_eq!(type_names(Kind::Fence, 0x100), "0x100");
    }
}

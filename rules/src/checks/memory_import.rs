//! `vkAllocateMemory` import clauses and `vkGetMemoryFdPropertiesKHR`: which handle types an
//! fd import takes, whether the fd can be a memory handle at all, one import at a time, no
//! KHR and NV export together, no opaque capture address on an import.

use crate::catalogue::{
    ALLOC_EXPORT_KHR_AND_NV, ALLOC_IMPORT_CAPTURE_ADDRESS, ALLOC_MULTIPLE_IMPORTS,
    FD_PROPERTIES_FD_INVALID, FD_PROPERTIES_OPAQUE_FD, IMPORT_FD_HANDLE_TYPE_NOT_FD,
    IMPORT_FD_INVALID,
};
use crate::checks::memory_export::is_fd_handle_type;
use crate::finding::{Finding, Object};
use ash::vk;

/// What the layer found an fd number to be, from `fcntl(F_GETFD)` and `fstat` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FdKind {
    /// A negative number.
    Negative,
    /// Not an open file descriptor of this process.
    Closed,
    Pipe,
    Socket,
    Directory,
    EventFd,
    /// An anonymous inode that is no memory object (`eventpoll`, `signalfd`, `timerfd`, …);
    /// the name is the part in brackets of the `/proc/self/fd` link.
    OtherAnonInode(String),
    /// A regular file, a memfd among them.
    Regular,
    /// A character device (e.g. a GPU driver node).
    CharDevice,
    /// A dma-buf.
    DmaBuf,
    /// Open, but nothing the layer can classify (it gives the benefit of the doubt).
    Unknown,
}

impl FdKind {
    /// What the fd is, as a message says it ("is a pipe"), when it can be no memory handle.
    pub fn not_memory(&self) -> Option<String> {
        Some(match self {
            FdKind::Negative => "is negative, so no file descriptor at all".to_owned(),
            FdKind::Closed => "is not an open file descriptor of this process".to_owned(),
            FdKind::Pipe => "is a pipe (or FIFO)".to_owned(),
            FdKind::Socket => "is a socket".to_owned(),
            FdKind::Directory => "is a directory".to_owned(),
            FdKind::EventFd => "is an eventfd".to_owned(),
            FdKind::OtherAnonInode(name) => format!("is an anonymous inode of kind {name:?}"),
            FdKind::Regular | FdKind::CharDevice | FdKind::DmaBuf | FdKind::Unknown => return None,
        })
    }
}

/// `VkImportMemoryFdInfoKHR` as chained.
#[derive(Clone, Debug)]
pub struct FdImport {
    pub handle_type: vk::ExternalMemoryHandleTypeFlags,
    pub fd: i32,
    pub kind: FdKind,
}

/// The parts of a `VkMemoryAllocateInfo` chain the import rules read.
#[derive(Clone, Debug, Default)]
pub struct AllocateCall {
    pub device: u64,
    /// `VkImportMemoryFdInfoKHR`, when chained.
    pub fd_import: Option<FdImport>,
    /// `VkImportMemoryHostPointerInfoEXT::handleType` (empty when absent).
    pub host_pointer_type: vk::ExternalMemoryHandleTypeFlags,
    /// Other import structures that define an import (non-zero handle type), by name.
    pub other_imports: Vec<&'static str>,
    /// `VkExportMemoryAllocateInfo` is chained.
    pub export_khr: bool,
    /// NV export structures chained (`VkExportMemoryAllocateInfoNV`,
    /// `VkExportMemoryWin32HandleInfoNV`), by name.
    pub export_nv: Vec<&'static str>,
    /// `VkMemoryOpaqueCaptureAddressAllocateInfo::opaqueCaptureAddress` (0 when absent).
    pub opaque_capture_address: u64,
    /// `VkExportMemoryAllocateInfo::handleTypes` (empty when absent).
    pub export_types: vk::ExternalMemoryHandleTypeFlags,
    /// `VkMemoryDedicatedAllocateInfo` (or the NV form), when chained.
    pub dedicated: Option<DedicatedInfo>,
    /// `VkMemoryAllocateFlagsInfo::deviceMask` when `DEVICE_MASK` is set, else `None`.
    pub device_mask: Option<u32>,
    /// The extending structures the `pNext` rules know, by name, in chain order (inline: an
    /// allocation's chain is short, and a call that reports nothing allocates nothing).
    pub chained: smallvec::SmallVec<[&'static str; 3]>,
    /// `VkExportMemoryAllocateInfoNV::handleTypes`, when chained.
    pub export_nv_types: Option<vk::ExternalMemoryHandleTypeFlagsNV>,
    /// `VkMemoryAllocateInfo::allocationSize` and `memoryTypeIndex`.
    pub allocation_size: u64,
    pub memory_type_index: u32,
}

/// `VkMemoryDedicatedAllocateInfo` as chained: raw handles, 0 for `VK_NULL_HANDLE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DedicatedInfo {
    pub buffer: u64,
    pub image: u64,
    /// Chained as `VkDedicatedAllocationMemoryAllocateInfoNV` rather than the KHR struct.
    pub nv: bool,
}

impl AllocateCall {
    /// The import structures that define an import operation, by name.
    /// How many import structures define an import (no allocation: the common answer is
    /// one, and only a finding needs the names).
    pub fn active_import_count(&self) -> usize {
        usize::from(
            self.fd_import
                .as_ref()
                .is_some_and(|i| !i.handle_type.is_empty()),
        ) + usize::from(!self.host_pointer_type.is_empty())
            + self.other_imports.len()
    }

    pub fn active_imports(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self
            .fd_import
            .as_ref()
            .is_some_and(|i| !i.handle_type.is_empty())
        {
            v.push("VkImportMemoryFdInfoKHR");
        }
        if !self.host_pointer_type.is_empty() {
            v.push("VkImportMemoryHostPointerInfoEXT");
        }
        v.extend(self.other_imports.iter().copied());
        v
    }
}

/// One Vulkan name per set bit, joined with " | " ("no handle type" when empty).
pub fn handle_type_names(t: vk::ExternalMemoryHandleTypeFlags) -> String {
    use vk::ExternalMemoryHandleTypeFlags as F;
    const NAMES: &[(F, &str)] = &[
        (F::OPAQUE_FD, "VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT"),
        (
            F::OPAQUE_WIN32,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_BIT",
        ),
        (
            F::OPAQUE_WIN32_KMT,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_KMT_BIT",
        ),
        (
            F::D3D11_TEXTURE,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_D3D11_TEXTURE_BIT",
        ),
        (
            F::D3D11_TEXTURE_KMT,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_D3D11_TEXTURE_KMT_BIT",
        ),
        (
            F::D3D12_HEAP,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_D3D12_HEAP_BIT",
        ),
        (
            F::D3D12_RESOURCE,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_D3D12_RESOURCE_BIT",
        ),
        (
            F::DMA_BUF_EXT,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT",
        ),
        (
            F::HOST_ALLOCATION_EXT,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT",
        ),
        (
            F::HOST_MAPPED_FOREIGN_MEMORY_EXT,
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_MAPPED_FOREIGN_MEMORY_BIT_EXT",
        ),
    ];
    if t.is_empty() {
        return "no handle type".to_owned();
    }
    let mut parts: Vec<String> = NAMES
        .iter()
        .filter(|(f, _)| t.contains(*f))
        .map(|(_, n)| (*n).to_owned())
        .collect();
    let known = NAMES.iter().fold(0u32, |acc, (f, _)| acc | f.as_raw());
    let rest = t.as_raw() & !known;
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    parts.join(" | ")
}

/// Checks the import and export clauses of a `vkAllocateMemory` call.
pub fn allocate_memory(call: &AllocateCall) -> Vec<Finding> {
    let mut out = Vec::new();
    let dev = || vec![Object::new(vk::ObjectType::DEVICE, call.device)];

    if let Some(imp) = call
        .fd_import
        .as_ref()
        .filter(|i| !i.handle_type.is_empty())
    {
        let single_fd_type = is_fd_handle_type(imp.handle_type);
        if !single_fd_type {
            out.push(Finding::new(
                &IMPORT_FD_HANDLE_TYPE_NOT_FD,
                format!(
                    "vkAllocateMemory imports fd {} through VkImportMemoryFdInfoKHR with handleType \
                     {}; an fd import takes only VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT or \
                     VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT. Set the handle type the fd \
                     was exported as, or use VkImportMemoryHostPointerInfoEXT for host memory.",
                    imp.fd,
                    handle_type_names(imp.handle_type)
                ),
                dev(),
            ));
        } else if let Some(what) = imp.kind.not_memory() {
            out.push(Finding::new(
                &IMPORT_FD_INVALID,
                format!(
                    "vkAllocateMemory imports fd {} as {}, but fd {} {what}: it cannot be a \
                     memory handle. Pass an fd returned by vkGetMemoryFdKHR (or a dma-buf from \
                     its exporter) that is still open and was not consumed by an earlier import.",
                    imp.fd,
                    handle_type_names(imp.handle_type),
                    imp.fd
                ),
                dev(),
            ));
        }
    }

    if call.active_import_count() > 1 {
        let imports = call.active_imports();
        out.push(Finding::new(
            &ALLOC_MULTIPLE_IMPORTS,
            format!(
                "vkAllocateMemory chains {} import structures that each define an import ({}); \
                 one allocation imports at most one payload. Allocate once per imported handle, \
                 or set the unused structure's handleType to 0.",
                imports.len(),
                imports.join(", ")
            ),
            dev(),
        ));
    }

    if call.export_khr && !call.export_nv.is_empty() {
        out.push(Finding::new(
            &ALLOC_EXPORT_KHR_AND_NV,
            format!(
                "vkAllocateMemory chains VkExportMemoryAllocateInfo together with {}; the KHR \
                 and the NV external-memory exports exclude each other. Keep only \
                 VkExportMemoryAllocateInfo.",
                call.export_nv.join(" and ")
            ),
            dev(),
        ));
    }

    if call.opaque_capture_address != 0 && call.active_import_count() > 0 {
        let imports = call.active_imports();
        out.push(Finding::new(
            &ALLOC_IMPORT_CAPTURE_ADDRESS,
            format!(
                "vkAllocateMemory imports memory ({}) and asks for opaque capture address \
                 0x{:x} in VkMemoryOpaqueCaptureAddressAllocateInfo; an import keeps the \
                 exporter's address. Set opaqueCaptureAddress to 0 for imports.",
                imports.join(", "),
                call.opaque_capture_address
            ),
            dev(),
        ));
    }
    out
}

/// The arguments of `vkGetMemoryFdPropertiesKHR`.
#[derive(Clone, Debug)]
pub struct FdPropertiesCall {
    pub device: u64,
    pub handle_type: vk::ExternalMemoryHandleTypeFlags,
    pub fd: i32,
    pub kind: FdKind,
}

/// Checks a `vkGetMemoryFdPropertiesKHR` call.
pub fn get_memory_fd_properties(call: &FdPropertiesCall) -> Vec<Finding> {
    let mut out = Vec::new();
    let dev = || vec![Object::new(vk::ObjectType::DEVICE, call.device)];
    if call.handle_type == vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD {
        out.push(Finding::new(
            &FD_PROPERTIES_OPAQUE_FD,
            format!(
                "vkGetMemoryFdPropertiesKHR is asked about fd {} as \
                 VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT; opaque fds carry no properties \
                 to query. Import an OPAQUE_FD with the exporter's memoryTypeIndex instead, and \
                 query only fds from outside Vulkan (e.g. \
                 VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT).",
                call.fd
            ),
            dev(),
        ));
    }
    if let Some(what) = call.kind.not_memory() {
        out.push(Finding::new(
            &FD_PROPERTIES_FD_INVALID,
            format!(
                "vkGetMemoryFdPropertiesKHR is asked about fd {} as {}, but fd {} {what}: it \
                 cannot be a memory handle. Pass the open fd of the memory object (e.g. the \
                 dma-buf) you are about to import.",
                call.fd,
                handle_type_names(call.handle_type),
                call.fd
            ),
            dev(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    const DMA: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;
    const HOST: vk::ExternalMemoryHandleTypeFlags =
        vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT;

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    fn fd_import(handle_type: vk::ExternalMemoryHandleTypeFlags, kind: FdKind) -> AllocateCall {
        AllocateCall {
            device: 1,
            fd_import: Some(FdImport {
                handle_type,
                fd: 7,
                kind,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn plain_and_valid_imports_are_silent() {
        assert!(allocate_memory(&AllocateCall::default()).is_empty());
        for kind in [
            FdKind::Regular,
            FdKind::CharDevice,
            FdKind::DmaBuf,
            FdKind::Unknown,
        ] {
            assert!(allocate_memory(&fd_import(OPAQUE, kind.clone())).is_empty());
            assert!(allocate_memory(&fd_import(DMA, kind)).is_empty());
        }
        // handleType 0: no import at all, whatever the fd.
        assert!(allocate_memory(&fd_import(
            vk::ExternalMemoryHandleTypeFlags::empty(),
            FdKind::Pipe
        ))
        .is_empty());
    }

    #[test]
    fn non_fd_type_fires_00669_only() {
        let f = allocate_memory(&fd_import(HOST, FdKind::Pipe));
        assert_eq!(ids(&f), [IMPORT_FD_HANDLE_TYPE_NOT_FD.id]);
        assert!(f[0].message.contains("HOST_ALLOCATION_BIT_EXT"));
        assert!(f[0].message.contains("fd 7"));
        let f = allocate_memory(&fd_import(OPAQUE | DMA, FdKind::Regular));
        assert_eq!(ids(&f), [IMPORT_FD_HANDLE_TYPE_NOT_FD.id]);
    }

    #[test]
    fn non_memory_fds_fire_00670() {
        for (kind, words) in [
            (FdKind::Negative, "negative"),
            (FdKind::Closed, "not an open"),
            (FdKind::Pipe, "fd 7 is a pipe"),
            (FdKind::Socket, "fd 7 is a socket"),
            (FdKind::Directory, "fd 7 is a directory"),
            (FdKind::EventFd, "fd 7 is an eventfd"),
            (FdKind::OtherAnonInode("timerfd".into()), "\"timerfd\""),
        ] {
            let f = allocate_memory(&fd_import(OPAQUE, kind));
            assert_eq!(ids(&f), [IMPORT_FD_INVALID.id]);
            assert!(f[0].message.contains(words), "{}", f[0].message);
        }
        const { assert!(IMPORT_FD_INVALID.blocks_call) };
    }

    #[test]
    fn two_imports_fire_06657() {
        let mut c = fd_import(OPAQUE, FdKind::Regular);
        c.host_pointer_type = HOST;
        let f = allocate_memory(&c);
        assert_eq!(ids(&f), [ALLOC_MULTIPLE_IMPORTS.id]);
        assert!(f[0]
            .message
            .contains("VkImportMemoryFdInfoKHR, VkImportMemoryHostPointerInfoEXT"));
        // A host pointer import alone, or with an fd struct of handleType 0, is one import.
        let mut c = fd_import(vk::ExternalMemoryHandleTypeFlags::empty(), FdKind::Regular);
        c.host_pointer_type = HOST;
        assert!(allocate_memory(&c).is_empty());
        let c = AllocateCall {
            host_pointer_type: HOST,
            other_imports: vec!["VkImportMemoryWin32HandleInfoKHR"],
            ..Default::default()
        };
        assert_eq!(ids(&allocate_memory(&c)), [ALLOC_MULTIPLE_IMPORTS.id]);
    }

    #[test]
    fn khr_and_nv_export_fire_00640() {
        let mut c = AllocateCall {
            export_khr: true,
            ..Default::default()
        };
        assert!(allocate_memory(&c).is_empty());
        c.export_nv = vec!["VkExportMemoryAllocateInfoNV"];
        let f = allocate_memory(&c);
        assert_eq!(ids(&f), [ALLOC_EXPORT_KHR_AND_NV.id]);
        c.export_khr = false;
        assert!(allocate_memory(&c).is_empty());
    }

    #[test]
    fn capture_address_on_import_fires_03333() {
        let mut c = fd_import(OPAQUE, FdKind::Regular);
        c.opaque_capture_address = 0x1000;
        let f = allocate_memory(&c);
        assert_eq!(ids(&f), [ALLOC_IMPORT_CAPTURE_ADDRESS.id]);
        assert!(f[0].message.contains("0x1000"));
        // No import: the capture address is the app's business.
        let c = AllocateCall {
            opaque_capture_address: 0x1000,
            ..Default::default()
        };
        assert!(allocate_memory(&c).is_empty());
    }

    fn props(handle_type: vk::ExternalMemoryHandleTypeFlags, kind: FdKind) -> FdPropertiesCall {
        FdPropertiesCall {
            device: 1,
            handle_type,
            fd: 9,
            kind,
        }
    }

    #[test]
    fn fd_properties() {
        assert!(get_memory_fd_properties(&props(DMA, FdKind::DmaBuf)).is_empty());
        assert!(get_memory_fd_properties(&props(DMA, FdKind::Regular)).is_empty());
        assert_eq!(
            ids(&get_memory_fd_properties(&props(OPAQUE, FdKind::Regular))),
            [FD_PROPERTIES_OPAQUE_FD.id]
        );
        let f = get_memory_fd_properties(&props(DMA, FdKind::Pipe));
        assert_eq!(ids(&f), [FD_PROPERTIES_FD_INVALID.id]);
        assert!(f[0].message.contains("fd 9 is a pipe"));
        const { assert!(FD_PROPERTIES_FD_INVALID.blocks_call) };
        assert_eq!(
            ids(&get_memory_fd_properties(&props(OPAQUE, FdKind::Socket))),
            [FD_PROPERTIES_OPAQUE_FD.id, FD_PROPERTIES_FD_INVALID.id]
        );
    }

    #[test]
    fn names_in_words() {
        assert_eq!(
            handle_type_names(OPAQUE | HOST),
            "VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT | \
             VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT"
        );
        assert_eq!(
            handle_type_names(vk::ExternalMemoryHandleTypeFlags::from_raw(0x8000_0000)),
            "0x80000000"
        );
    }
}

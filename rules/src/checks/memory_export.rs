//! `vkGetMemoryFdKHR`: what may be exported from a memory object.

use crate::catalogue::{
    GET_FD_HANDLE_TYPE_NOT_EXPORTED, GET_FD_HANDLE_TYPE_NOT_FD, GET_FD_MEMORY_UNKNOWN,
};
use crate::finding::{Finding, Object};
use ash::vk;

/// The parts of `VkMemoryGetFdInfoKHR` the rules read.
#[derive(Clone, Copy, Debug)]
pub struct GetFdCall {
    pub device: u64,
    pub memory: u64,
    pub handle_type: vk::ExternalMemoryHandleTypeFlags,
}

/// What the layer recorded when the memory was allocated.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExportFacts {
    /// `VkExportMemoryAllocateInfo::handleTypes` (0 when none was chained).
    pub export_types: vk::ExternalMemoryHandleTypeFlags,
}

/// Whether `t` is exactly one of the handle types `vkGetMemoryFdKHR` can return and an fd
/// import can take (OPAQUE_FD or DMA_BUF).
#[inline]
pub fn is_fd_handle_type(t: vk::ExternalMemoryHandleTypeFlags) -> bool {
    // Two compares, no population count (x86-64's baseline has no POPCNT instruction).
    t == vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD
        || t == vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT
}

/// Checks a `vkGetMemoryFdKHR` call. `memory` is `None` when the layer does not know the
/// handle (never allocated on this device, or freed).
pub fn get_memory_fd(call: &GetFdCall, memory: Option<&ExportFacts>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mem_obj = Object::new(vk::ObjectType::DEVICE_MEMORY, call.memory);
    let dev_obj = Object::new(vk::ObjectType::DEVICE, call.device);

    // 00672 is about the argument alone; it holds whatever the memory is.
    let single_fd_type = is_fd_handle_type(call.handle_type);
    if !single_fd_type {
        out.push(Finding::new(
            &GET_FD_HANDLE_TYPE_NOT_FD,
            format!(
                "vkGetMemoryFdKHR asked for handleType {:?}; only OPAQUE_FD or DMA_BUF_EXT \
                 (one bit) can be exported as a file descriptor. Use the Win32 or host-pointer \
                 export command for other handle types.",
                call.handle_type
            ),
            vec![mem_obj, dev_obj],
        ));
    }

    let Some(facts) = memory else {
        out.push(Finding::new(
            &GET_FD_MEMORY_UNKNOWN,
            format!(
                "vkGetMemoryFdKHR was given VkDeviceMemory 0x{:x}, which was never allocated on \
                 this device or was already freed.",
                call.memory
            ),
            vec![mem_obj, dev_obj],
        ));
        return out;
    };

    if single_fd_type && !facts.export_types.contains(call.handle_type) {
        let requested = if facts.export_types.is_empty() {
            "no VkExportMemoryAllocateInfo was chained, so the memory is not exportable".to_owned()
        } else {
            format!(
                "VkExportMemoryAllocateInfo::handleTypes was {:?}",
                facts.export_types
            )
        };
        out.push(Finding::new(
            &GET_FD_HANDLE_TYPE_NOT_EXPORTED,
            format!(
                "vkGetMemoryFdKHR exports {:?} from VkDeviceMemory 0x{:x}, but at allocation \
                 {requested}. Add {:?} to VkExportMemoryAllocateInfo::handleTypes when \
                 allocating.",
                call.handle_type, call.memory, call.handle_type
            ),
            vec![mem_obj, dev_obj],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    const DMA: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT;

    fn call(handle_type: vk::ExternalMemoryHandleTypeFlags) -> GetFdCall {
        GetFdCall {
            device: 1,
            memory: 0x10,
            handle_type,
        }
    }

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    #[test]
    fn fd_handle_types_are_one_bit_of_opaque_fd_or_dma_buf() {
        use vk::ExternalMemoryHandleTypeFlags as T;
        assert!(is_fd_handle_type(T::OPAQUE_FD));
        assert!(is_fd_handle_type(T::DMA_BUF_EXT));
        assert!(!is_fd_handle_type(T::OPAQUE_FD | T::DMA_BUF_EXT));
        assert!(!is_fd_handle_type(T::OPAQUE_WIN32));
        assert!(!is_fd_handle_type(T::empty()));
    }

    #[test]
    fn exported_type_is_silent() {
        let facts = ExportFacts {
            export_types: OPAQUE,
        };
        assert!(get_memory_fd(&call(OPAQUE), Some(&facts)).is_empty());
    }

    #[test]
    fn type_not_requested_fires_00671() {
        let facts = ExportFacts {
            export_types: OPAQUE,
        };
        let f = get_memory_fd(&call(DMA), Some(&facts));
        assert_eq!(ids(&f), [GET_FD_HANDLE_TYPE_NOT_EXPORTED.id]);
        assert_eq!(f[0].objects[0].handle, 0x10);
    }

    #[test]
    fn not_exportable_at_all_fires_00671() {
        let f = get_memory_fd(&call(OPAQUE), Some(&ExportFacts::default()));
        assert_eq!(ids(&f), [GET_FD_HANDLE_TYPE_NOT_EXPORTED.id]);
        assert!(f[0].message.contains("not exportable"));
    }

    #[test]
    fn non_fd_type_fires_00672_only() {
        let host = vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT;
        let facts = ExportFacts { export_types: host };
        assert_eq!(
            ids(&get_memory_fd(&call(host), Some(&facts))),
            [GET_FD_HANDLE_TYPE_NOT_FD.id]
        );
        // Two fd bits at once are not one fd handle type either.
        let f = get_memory_fd(
            &call(OPAQUE | DMA),
            Some(&ExportFacts {
                export_types: OPAQUE | DMA,
            }),
        );
        assert_eq!(ids(&f), [GET_FD_HANDLE_TYPE_NOT_FD.id]);
    }

    #[test]
    fn unknown_memory_blocks() {
        let f = get_memory_fd(&call(OPAQUE), None);
        assert_eq!(ids(&f), [GET_FD_MEMORY_UNKNOWN.id]);
        assert!(f[0].rule.blocks_call);
    }
}

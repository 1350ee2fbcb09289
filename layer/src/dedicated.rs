//! Dedicated allocations and per-resource export/import support at `vkAllocateMemory`, and
//! the same support rules at bind time for memory that named no resource.
//!
//! The driver's answers are asked with the resource's exact create parameters (format list
//! included) through [`capabilities`], and the memory requirements through
//! [`requirements`]; the checks themselves are pure (`handoff_rules::checks::allocation`).
//!
//! Where each rule can be known:
//! - a resource named by `VkMemoryDedicatedAllocateInfo`: at `vkAllocateMemory` (01432,
//!   01434, 01436, 01797, 02964/02965, 09860, 09862; 00639 and `HANDOFF-Import-dedicated-only`
//!   cannot fire there, the allocation is dedicated);
//! - memory that named no resource: only `vkBind*Memory` tells which resource it backs, so
//!   09860, 09862, 00639 and `HANDOFF-Import-dedicated-only` run from the bind interception
//!   through [`resource_support_findings`].

use crate::capabilities::{self, ImageParams};
use crate::dispatch::DeviceData;
use crate::memo::Key;
use crate::requirements;
use crate::state::resources as tracked;
use crate::state::resources::BufferRecord;
use ash::vk::{self, Handle};
use handoff_rules::checks::allocation::{
    self, ChainOf, DedicatedTarget, Enabled, HandleTypesOf, Named, NvHandleTypesOf, ResourceRef,
    SupportFacts, When,
};
use handoff_rules::checks::bind::{DedicatedTo, MemoryFacts};
use handoff_rules::checks::memory_import::AllocateCall;
use handoff_rules::checks::resource_create::Answer;
use handoff_rules::Finding;

/// A resource memory is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Buffer(vk::Buffer),
    Image(vk::Image),
}

/// The fd handle types (`VkImportMemoryFdInfoKHR`); other imports are host pointers.
const FD_TYPES: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::from_raw(
    vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD.as_raw()
        | vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT.as_raw(),
);

fn enabled(data: &DeviceData) -> Enabled<'_> {
    Enabled {
        api_version: data.api_version,
        extensions: &data.extensions,
    }
}

/// The driver's answers for `types` with the exact create parameters of a tracked
/// resource; `None` when the layer has no record of it.
fn answers(
    data: &DeviceData,
    resource: Resource,
    types: vk::ExternalMemoryHandleTypeFlags,
) -> Option<(
    ResourceRef,
    Vec<(vk::ExternalMemoryHandleTypeFlags, Answer)>,
)> {
    match resource {
        Resource::Buffer(b) => {
            let rec = tracked::buffer(data.handle, b)?;
            let a = capabilities::buffer_answers(
                &data.capabilities,
                data.physical_device,
                rec.flags,
                rec.usage,
                types,
            );
            Some((ResourceRef::Buffer(b.as_raw()), a))
        }
        Resource::Image(i) => {
            let rec = tracked::image(data.handle, i)?;
            let params = ImageParams {
                format: rec.format,
                image_type: rec.image_type,
                tiling: rec.tiling,
                usage: rec.usage,
                flags: rec.flags,
            };
            let view_formats = if rec.has_format_list {
                Some(tracked::image_view_formats(data.handle, i).unwrap_or_default())
            } else {
                None
            };
            let a = capabilities::image_answers(
                &data.capabilities,
                data.physical_device,
                params,
                view_formats.as_deref(),
                types,
            );
            Some((ResourceRef::Image(i.as_raw()), a))
        }
    }
}

/// 09860, 09862, 00639 and `HANDOFF-Import-dedicated-only` for `memory` (its record's
/// export types, import type and dedicated resource: `rec`) when it is bound to `resource`.
/// Silent for memory that was dedicated (its resource was judged at `vkAllocateMemory`;
/// binding it elsewhere is the bind rules' 01508/02628), for memory without export or
/// import, and for resources the layer has no record of.
pub fn resource_support_findings(
    data: &DeviceData,
    memory: vk::DeviceMemory,
    rec: &MemoryFacts,
    resource: Resource,
    buffer: Option<&BufferRecord>,
) -> Vec<Finding> {
    if rec.dedicated != DedicatedTo::None {
        return Vec::new();
    }
    let types = rec.export_types | rec.import_type;
    if types.is_empty() {
        return Vec::new();
    }
    // For a buffer the rules read only its flags and usage besides the memory's types.
    let key = buffer.map(|b| Key::BufferSupport {
        flags: b.flags,
        usage: b.usage,
        export_types: rec.export_types,
        import_type: rec.import_type,
    });
    let mut out = Vec::new();
    data.memo.judge(key, || {
        let Some((resource, answers)) = answers(data, resource, types) else {
            return false;
        };
        out = allocation::resource_support(&SupportFacts {
            device: data.handle.as_raw(),
            memory: memory.as_raw(),
            resource,
            export_types: rec.export_types,
            import_type: rec.import_type,
            fd_import: FD_TYPES.contains(rec.import_type),
            dedicated: false,
            answers: &answers,
            when: When::Bind,
        });
        out.is_empty()
    });
    out
}

/// The name of an allocate-info extending structure the `pNext` rules know, with a bit of
/// its own (the allocate interception collects the names into `AllocateCall::chained` and
/// the bits into its memo key during its walk).
pub fn allocate_struct_name(st: vk::StructureType) -> Option<(u32, &'static str)> {
    Some(match st {
        vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO => (1, "VkExportMemoryAllocateInfo"),
        vk::StructureType::IMPORT_MEMORY_FD_INFO_KHR => (1 << 1, "VkImportMemoryFdInfoKHR"),
        vk::StructureType::MEMORY_DEDICATED_ALLOCATE_INFO => {
            (1 << 2, "VkMemoryDedicatedAllocateInfo")
        }
        vk::StructureType::IMPORT_MEMORY_HOST_POINTER_INFO_EXT => {
            (1 << 3, "VkImportMemoryHostPointerInfoEXT")
        }
        vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO_NV => {
            (1 << 4, "VkExportMemoryAllocateInfoNV")
        }
        vk::StructureType::DEDICATED_ALLOCATION_MEMORY_ALLOCATE_INFO_NV => {
            (1 << 5, "VkDedicatedAllocationMemoryAllocateInfoNV")
        }
        vk::StructureType::MEMORY_ALLOCATE_FLAGS_INFO => (1 << 6, "VkMemoryAllocateFlagsInfo"),
        _ => return None,
    })
}

/// A handle named by the dedicated structure, as the layer knows it.
fn named(data: &DeviceData, resource: Resource) -> Named {
    match resource {
        Resource::Image(i) if i.is_null() => Named::Null,
        Resource::Buffer(b) if b.is_null() => Named::Null,
        Resource::Image(i) => match tracked::image(data.handle, i) {
            None => Named::Unknown(i.as_raw()),
            Some(rec) => {
                let disjoint = rec.flags.contains(vk::ImageCreateFlags::DISJOINT);
                Named::Known(DedicatedTarget {
                    resource: ResourceRef::Image(i.as_raw()),
                    sparse_binding: rec.flags.contains(vk::ImageCreateFlags::SPARSE_BINDING),
                    disjoint,
                    requirement_size: if disjoint {
                        // A disjoint image has one answer per plane; a plane-less query
                        // is invalid.
                        None
                    } else {
                        // SAFETY: a live, non-disjoint image of this device (tracked).
                        Some(unsafe { requirements::image(data, i) }.size)
                    },
                })
            }
        },
        Resource::Buffer(b) => match tracked::buffer(data.handle, b) {
            None => Named::Unknown(b.as_raw()),
            Some(rec) => Named::Known(DedicatedTarget {
                resource: ResourceRef::Buffer(b.as_raw()),
                sparse_binding: rec.flags.contains(vk::BufferCreateFlags::SPARSE_BINDING),
                disjoint: false,
                // SAFETY: a live buffer of this device (tracked).
                requirement_size: Some(unsafe { requirements::buffer(data, b) }.size),
            }),
        },
    }
}

/// Appends `more` to `out`; nearly always nothing, at the cost of one compare.
#[inline(always)]
fn append(out: &mut Vec<Finding>, more: Vec<Finding>) {
    if !more.is_empty() {
        out.extend(more);
    }
}

/// The dedicated-allocation, per-resource support, `pNext` and handle-type-bit rules of
/// one `vkAllocateMemory` call, from what the interception copied out of it.
///
/// `chained_set` is the set of `call.chained` (the bits of [`allocate_struct_name`]): the
/// `pNext` support rule depends on nothing else, so a set found supported is not judged again.
pub fn allocation_findings(
    data: &DeviceData,
    call: &AllocateCall,
    chained_set: u32,
) -> Vec<Finding> {
    let device = data.handle.as_raw();
    let enabled = enabled(data);
    let mut out = Vec::new();
    data.memo.judge(Some(Key::AllocateChain(chained_set)), || {
        out =
            allocation::chain_support(ChainOf::MemoryAllocateInfo, &call.chained, &enabled, device);
        out.is_empty()
    });
    if call.export_khr {
        append(
            &mut out,
            allocation::handle_types_valid(
                HandleTypesOf::ExportMemoryAllocateInfo,
                call.export_types,
                &enabled,
                device,
            ),
        );
    }
    if let Some(t) = call.export_nv_types {
        append(
            &mut out,
            allocation::nv_handle_types_valid(
                NvHandleTypesOf::ExportMemoryAllocateInfoNV,
                t,
                device,
            ),
        );
    }
    let fd_import_type = call
        .fd_import
        .as_ref()
        .map(|i| i.handle_type)
        .unwrap_or_default();
    if !fd_import_type.is_empty() {
        append(
            &mut out,
            allocation::handle_types_valid(
                HandleTypesOf::ImportMemoryFdInfo,
                fd_import_type,
                &enabled,
                device,
            ),
        );
    }

    let Some(d) = call.dedicated else {
        return out;
    };
    let image = named(data, Resource::Image(vk::Image::from_raw(d.image)));
    let buffer = named(data, Resource::Buffer(vk::Buffer::from_raw(d.buffer)));
    if !d.nv {
        out.extend(allocation::dedicated_info(
            device,
            call.allocation_size,
            image,
            buffer,
        ));
    }
    // The per-resource support rules, for the one resource the allocation is dedicated to.
    let target = match (image, buffer) {
        (Named::Known(t), Named::Null) | (Named::Null, Named::Known(t)) => t.resource,
        _ => return out,
    };
    // 09862 is about VkImportMemoryFdInfoKHR, and only OPAQUE_FD / DMA_BUF import through
    // it (other values are 00669's and the parameter rule's).
    let import_type =
        if fd_import_type.as_raw().count_ones() == 1 && FD_TYPES.contains(fd_import_type) {
            fd_import_type
        } else {
            vk::ExternalMemoryHandleTypeFlags::empty()
        };
    let types = call.export_types | import_type;
    if types.is_empty() {
        return out;
    }
    let resource = match target {
        ResourceRef::Buffer(h) => Resource::Buffer(vk::Buffer::from_raw(h)),
        ResourceRef::Image(h) => Resource::Image(vk::Image::from_raw(h)),
    };
    if let Some((resource, answers)) = answers(data, resource, types) {
        out.extend(allocation::resource_support(&SupportFacts {
            device,
            memory: 0,
            resource,
            export_types: call.export_types,
            import_type,
            fd_import: !import_type.is_empty(),
            dedicated: true,
            answers: &answers,
            when: When::Allocate,
        }));
    }
    out
}

/// `VUID-VkBufferCreateInfo-pNext-pNext` and
/// `VUID-VkExternalMemoryBufferCreateInfo-handleTypes-parameter` for one `vkCreateBuffer`;
/// `external` is `VkExternalMemoryBufferCreateInfo::handleTypes` when it was chained.
pub fn buffer_create_findings(
    data: &DeviceData,
    external: Option<vk::ExternalMemoryHandleTypeFlags>,
) -> Vec<Finding> {
    let Some(types) = external else {
        return Vec::new();
    };
    let device = data.handle.as_raw();
    let enabled = enabled(data);
    let mut out = allocation::chain_support(
        ChainOf::BufferCreateInfo,
        &["VkExternalMemoryBufferCreateInfo"],
        &enabled,
        device,
    );
    out.extend(allocation::handle_types_valid(
        HandleTypesOf::ExternalMemoryBufferCreateInfo,
        types,
        &enabled,
        device,
    ));
    out
}

/// `VUID-VkImageCreateInfo-pNext-pNext` and the `handleTypes-parameter` ids of
/// `VkExternalMemoryImageCreateInfo(NV)` for one `vkCreateImage`; `khr` and `nv` are the
/// structures' `handleTypes` when they were chained.
pub fn image_create_findings(
    data: &DeviceData,
    khr: Option<vk::ExternalMemoryHandleTypeFlags>,
    nv: Option<vk::ExternalMemoryHandleTypeFlagsNV>,
) -> Vec<Finding> {
    let device = data.handle.as_raw();
    let enabled = enabled(data);
    let mut names = Vec::new();
    if khr.is_some() {
        names.push("VkExternalMemoryImageCreateInfo");
    }
    if nv.is_some() {
        names.push("VkExternalMemoryImageCreateInfoNV");
    }
    let mut out = allocation::chain_support(ChainOf::ImageCreateInfo, &names, &enabled, device);
    if let Some(t) = khr {
        out.extend(allocation::handle_types_valid(
            HandleTypesOf::ExternalMemoryImageCreateInfo,
            t,
            &enabled,
            device,
        ));
    }
    if let Some(t) = nv {
        out.extend(allocation::nv_handle_types_valid(
            NvHandleTypesOf::ExternalMemoryImageCreateInfoNV,
            t,
            device,
        ));
    }
    out
}

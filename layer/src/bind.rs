//! Binding memory to buffers and images: `vkBindBufferMemory`, `vkBindBufferMemory2(KHR)`,
//! `vkBindImageMemory`, `vkBindImageMemory2(KHR)` and `vkQueueBindSparse`.
//!
//! Each bind is checked against what the memory was allocated with (export types, import
//! type, dedicated resource) and what the resource was created with; the driver is asked
//! for `requiresDedicatedAllocation` only for resources declared with external handle types
//! (and once per buffer shape: `requirements::buffer_cached`), so plain memory bound to a
//! plain resource costs two map lookups. A buffer bind of memory that names no dedicated
//! resource is judged once per (buffer shape, memory types) pairing: the memo
//! (`Key::BufferBind`) answers the repeats, so an external-memory bind also costs two
//! lookups and a few compares. Only a freed or unknown handle blocks the call
//! (`liveness`); the other findings are reported and the call goes on. A successful
//! non-sparse bind is recorded on the resource's record.

use crate::c_arrays::slice;
use crate::dedicated;
use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::memo::Key;
use crate::requirements;
use crate::state::resources::{self as tracked, Binding, BufferRecord, ImageRecord};
use crate::state::{self, Dedicated, MemoryRecord};
use ash::vk::{self, Handle};
use handoff_rules::checks::bind::{
    self as rules, BufferBindCall, BufferFacts, DedicatedTo, Form, ImageBindCall, ImageFacts,
    ImageShape, MemoryFacts, SparseBindCall, SparseKind,
};
use handoff_rules::Finding;
use smallvec::SmallVec;

/// What the bind rules read of a memory object (its record's export types, import type and
/// dedicated resource), copied out of the state map without the rest of the record.
#[inline(always)]
fn memory_facts(rec: &MemoryRecord) -> MemoryFacts {
    MemoryFacts {
        export_types: rec.export_types,
        import_type: rec.import_type,
        dedicated: match rec.dedicated {
            Dedicated::None => DedicatedTo::None,
            Dedicated::Buffer(b) => DedicatedTo::Buffer(b),
            Dedicated::Image(i) => DedicatedTo::Image(i),
        },
    }
}

fn image_shape(rec: &ImageRecord) -> ImageShape {
    ImageShape {
        flags: rec.flags,
        image_type: rec.image_type,
        format: rec.format,
        extent: vk::Extent3D {
            width: rec.extent[0],
            height: rec.extent[1],
            depth: rec.extent[2],
        },
        mip_levels: rec.mip_levels,
        array_layers: rec.array_layers,
        samples: rec.samples,
        tiling: rec.tiling,
        usage: rec.usage,
        sharing_mode: rec.sharing_mode,
        initial_layout: rec.initial_layout,
    }
}

/// The findings of one buffer bind; nothing for a memory or buffer the layer does not know.
#[inline]
fn check_buffer(
    data: &DeviceData,
    form: Form,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    offset: u64,
    external: &mut bool,
) -> Vec<Finding> {
    let device = data.handle;
    let mem = state::with_memory(device, memory, memory_facts);
    // What the buffer's record says, read in place: `None` for nothing to judge (no rule can
    // fire, or the memo knows the pairing clean), else a copy of the record to judge.
    let verdict = tracked::with_buffer(device, buffer, |buf| {
        let mem = mem.as_ref()?;
        // Only external handle types make a buffer require a dedicated allocation.
        if mem.is_plain() && buf.external_types.is_empty() {
            return None;
        }
        if mem.dedicated == DedicatedTo::None
            && buf.plain_chain
            && data.memo.is_clean(&bind_key(mem, buf))
        {
            return None;
        }
        Some(*buf)
    });
    let (Some(mem), Some(verdict)) = (mem.as_ref(), verdict) else {
        // liveness (helper B): the lookups above prove a dead handle, no new lookup.
        let (h, known) = (buffer.as_raw(), verdict.is_some());
        return crate::liveness::bind(data, form, false, h, known, memory, mem.is_some());
    };
    *external = is_external(mem);
    match verdict {
        None => Vec::new(),
        Some(buf) => judge_buffer(data, form, buffer, memory, offset, mem, &buf),
    }
}

/// A buffer bind that [`check_buffer`] would find nothing in (no rule can fire, or the memo
/// knows the pairing clean), recorded as the driver will make it, under the lookup that
/// judged it: `Some(previous binding)`, for taking it back should the driver refuse. `None`
/// (nothing recorded): the full path decides, and records after the driver.
#[inline]
fn quick_bind_buffer(
    data: &DeviceData,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    offset: u64,
) -> Option<Option<Binding>> {
    if memory.is_null() {
        return None;
    }
    let device = data.handle;
    let mem = state::with_memory(device, memory, memory_facts)?;
    tracked::bind_buffer_if(device, buffer, |buf| {
        let clean = (mem.is_plain() && buf.external_types.is_empty())
            || (mem.dedicated == DedicatedTo::None
                && buf.plain_chain
                && data.memo.is_clean(&bind_key(&mem, buf)));
        clean.then_some(Binding {
            memory: memory.as_raw(),
            offset,
            external_memory: is_external(&mem),
        })
    })
}

/// The memo key of a bind of `mem` (dedicated to nothing) to a buffer of record `buf`.
#[inline(always)]
fn bind_key(mem: &MemoryFacts, buf: &BufferRecord) -> Key {
    Key::BufferBind {
        size: buf.size,
        flags: buf.flags,
        usage: buf.usage,
        sharing_mode: buf.sharing_mode,
        external_types: buf.external_types,
        export_types: mem.export_types,
        import_type: mem.import_type,
    }
}

/// The bind and per-resource support rules of one buffer bind, both records known.
#[inline(never)]
fn judge_buffer(
    data: &DeviceData,
    form: Form,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    offset: u64,
    mem: &MemoryFacts,
    buf: &BufferRecord,
) -> Vec<Finding> {
    let out = judge_buffer_rules(data, form, buffer, memory, offset, mem, buf);
    // Memory that named no resource, bound to a buffer whose record holds every create
    // parameter its requirements depend on: the rules read nothing but the key (no handle,
    // no offset), so a pairing judged clean once is clean again.
    if out.is_empty() && mem.dedicated == DedicatedTo::None && buf.plain_chain {
        data.memo.mark_clean(bind_key(mem, buf));
    }
    out
}

/// The rules of [`judge_buffer`].
fn judge_buffer_rules(
    data: &DeviceData,
    form: Form,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    offset: u64,
    facts: &MemoryFacts,
    buf: &BufferRecord,
) -> Vec<Finding> {
    let requires_dedicated = !buf.external_types.is_empty()
        && facts.dedicated != DedicatedTo::Buffer(buffer.as_raw())
        // SAFETY: a live buffer of this device (the layer has its record).
        && unsafe { requirements::buffer_cached(data, buffer, buf) }
            .dedicated
            .is_some_and(|d| d.requires);
    let call = BufferBindCall {
        device: data.handle.as_raw(),
        form,
        buffer: buffer.as_raw(),
        memory: memory.as_raw(),
        offset,
    };
    let facts_buf = BufferFacts {
        external_types: buf.external_types,
        requires_dedicated,
    };
    let mut out = rules::bind_buffer(&call, facts, &facts_buf);
    // Memory that named no resource meets its resource here: 09860/09862 and friends.
    out.extend(dedicated::resource_support_findings(
        data,
        memory,
        facts,
        dedicated::Resource::Buffer(buffer),
        Some(buf),
    ));
    out
}

/// The findings of one image bind; nothing for a memory or image the layer does not know.
fn check_image(
    data: &DeviceData,
    form: Form,
    image: vk::Image,
    memory: vk::DeviceMemory,
    offset: u64,
    external: &mut bool,
) -> Vec<Finding> {
    let device = data.handle;
    let (mem, img) = (
        state::memory(device, memory).map(|m| memory_facts(&m)),
        tracked::image(device, image),
    );
    let (Some(facts), Some(img)) = (mem, img) else {
        // liveness (helper B): the lookups above prove a dead handle, no new lookup.
        let (h, known) = (image.as_raw(), img.is_some());
        return crate::liveness::bind(data, form, true, h, known, memory, mem.is_some());
    };
    *external = is_external(&facts);
    if facts.is_plain() && img.external_types.is_empty() {
        return Vec::new();
    }
    // A disjoint image has per-plane requirements; a plane-less query is invalid.
    let requires_dedicated = !img.external_types.is_empty()
        && !img.flags.contains(vk::ImageCreateFlags::DISJOINT)
        && facts.dedicated != DedicatedTo::Image(image.as_raw())
        // SAFETY: a live, non-disjoint image of this device (the layer has its record).
        && unsafe { requirements::image(data, image) }
            .dedicated
            .is_some_and(|d| d.requires);
    let dedicated_shape = match facts.dedicated {
        DedicatedTo::Image(owner) if data.dedicated_image_aliasing && owner != image.as_raw() => {
            tracked::image(device, vk::Image::from_raw(owner)).map(|r| image_shape(&r))
        }
        _ => None,
    };
    let call = ImageBindCall {
        device: device.as_raw(),
        form,
        image: image.as_raw(),
        memory: memory.as_raw(),
        offset,
        aliasing_enabled: data.dedicated_image_aliasing,
    };
    let facts_img = ImageFacts {
        external_types: img.external_types,
        requires_dedicated,
        shape: Some(image_shape(&img)),
    };
    let mut out = rules::bind_image(&call, &facts, &facts_img, dedicated_shape.as_ref());
    // Memory that named no resource meets its resource here: 09860/09862 and friends.
    out.extend(dedicated::resource_support_findings(
        data,
        memory,
        &facts,
        dedicated::Resource::Image(image),
        None,
    ));
    out
}

/// Which kind of resource a bind command binds: it picks the check and the record.
#[derive(Clone, Copy)]
enum Target {
    Buffer,
    Image,
}

/// Memory that exported or imported: barriers on what it backs are worth a look.
#[inline(always)]
fn is_external(m: &MemoryFacts) -> bool {
    !m.export_types.is_empty() || !m.import_type.is_empty()
}

/// One bind: the raw buffer or image, the memory and the offset.
type Bind = (u64, vk::DeviceMemory, u64);

/// The findings of one bind of `target`.
#[inline]
fn check(
    data: &DeviceData,
    target: Target,
    form: Form,
    (handle, memory, offset): Bind,
    external: &mut bool,
) -> Vec<Finding> {
    match target {
        Target::Buffer => check_buffer(
            data,
            form,
            vk::Buffer::from_raw(handle),
            memory,
            offset,
            external,
        ),
        Target::Image => check_image(
            data,
            form,
            vk::Image::from_raw(handle),
            memory,
            offset,
            external,
        ),
    }
}

/// Records one bind the driver accepted.
#[inline]
fn record(data: &DeviceData, target: Target, (handle, memory, offset): Bind, external: bool) {
    // A swapchain image bind (VkBindImageMemorySwapchainInfoKHR) names no memory.
    if memory.is_null() {
        return;
    }
    let binding = Binding {
        memory: memory.as_raw(),
        offset,
        external_memory: external,
    };
    match target {
        Target::Buffer => {
            tracked::set_buffer_binding(data.handle, vk::Buffer::from_raw(handle), binding)
        }
        Target::Image => {
            tracked::set_image_binding(data.handle, vk::Image::from_raw(handle), binding)
        }
    }
}

/// Reports `findings` (if any); `Some` result when an app callback stopped the call.
#[inline]
fn refused(data: &DeviceData, findings: Vec<Finding>) -> Option<vk::Result> {
    if findings.is_empty() {
        return None;
    }
    data.reporter
        .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
}

/// The body of `vkBindBufferMemory` and `vkBindImageMemory`: [`bind_and_record`] for one
/// bind, without the per-bind vectors. Out of line: a buffer bind that
/// [`quick_bind_buffer`] answers never comes here, and the entry point's hot text stays
/// small.
#[inline(never)]
fn bind_one_and_record(
    data: &DeviceData,
    target: Target,
    bind: Bind,
    forward: impl FnOnce() -> vk::Result,
) -> vk::Result {
    let mut external = false;
    let findings = check(data, target, Form::Single, bind, &mut external);
    if let Some(r) = refused(data, findings) {
        return r;
    }
    let res = forward();
    if res == vk::Result::SUCCESS {
        record(data, target, bind, external);
    }
    res
}

/// The body every non-sparse bind command shares: check each bind, report, forward unless
/// an app callback stopped the call, and record the bindings the driver accepted.
fn bind_and_record(
    data: &DeviceData,
    target: Target,
    binds: &[Bind],
    form: impl Fn(usize) -> Form,
    forward: impl FnOnce() -> vk::Result,
) -> vk::Result {
    let mut findings = Vec::new();
    // Whether each bind's memory exported or imported, read during the checks.
    let mut external: SmallVec<[bool; 4]> = SmallVec::with_capacity(binds.len());
    for (index, &bind) in binds.iter().enumerate() {
        let mut ext = false;
        findings.extend(check(data, target, form(index), bind, &mut ext));
        external.push(ext);
    }
    if let Some(r) = refused(data, findings) {
        return r;
    }
    let res = forward();
    if res == vk::Result::SUCCESS {
        for (&bind, &external_memory) in binds.iter().zip(&external) {
            record(data, target, bind, external_memory);
        }
    }
    res
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[link_section = ".text.hot.handoff"]
pub unsafe extern "system" fn bind_buffer_memory(
    device: vk::Device,
    buffer: vk::Buffer,
    memory: vk::DeviceMemory,
    memory_offset: vk::DeviceSize,
) -> vk::Result {
    guarded(
        "vkBindBufferMemory",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let forward = || {
                // SAFETY: forwarding the app's arguments.
                unsafe {
                    (data.fns.fp_v1_0().bind_buffer_memory)(device, buffer, memory, memory_offset)
                }
            };
            if let Some(prev) = quick_bind_buffer(&data, buffer, memory, memory_offset) {
                let res = forward();
                if res != vk::Result::SUCCESS {
                    tracked::restore_buffer_binding(device, buffer, prev);
                }
                return res;
            }
            bind_one_and_record(
                &data,
                Target::Buffer,
                (buffer.as_raw(), memory, memory_offset),
                forward,
            )
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn bind_image_memory(
    device: vk::Device,
    image: vk::Image,
    memory: vk::DeviceMemory,
    memory_offset: vk::DeviceSize,
) -> vk::Result {
    guarded(
        "vkBindImageMemory",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // SAFETY: `device` is a live device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            bind_one_and_record(
                &data,
                Target::Image,
                (image.as_raw(), memory, memory_offset),
                || {
                    // SAFETY: forwarding the app's arguments.
                    unsafe {
                        (data.fns.fp_v1_0().bind_image_memory)(device, image, memory, memory_offset)
                    }
                },
            )
        },
    )
}

/// Which name of a `*2` command the app called, to forward to the same one.
#[derive(Clone, Copy)]
enum Alias {
    Core,
    Khr,
}

impl Alias {
    fn command(self, target: Target) -> &'static str {
        match (target, self) {
            (Target::Buffer, Alias::Core) => "vkBindBufferMemory2",
            (Target::Buffer, Alias::Khr) => "vkBindBufferMemory2KHR",
            (Target::Image, Alias::Core) => "vkBindImageMemory2",
            (Target::Image, Alias::Khr) => "vkBindImageMemory2KHR",
        }
    }

    /// The next command to forward to: the KHR one when the app called it by that name,
    /// else the core one at Vulkan 1.1, else the KHR one; `None` when the device has
    /// neither (the command does not exist there).
    fn next<F: Copy>(self, data: &DeviceData, core: F, khr: F) -> Option<F> {
        let has_khr = data.has_extension(vk::KHR_BIND_MEMORY2_NAME);
        match self {
            Alias::Khr if has_khr => Some(khr),
            _ if data.api_version >= vk::API_VERSION_1_1 => Some(core),
            _ if has_khr => Some(khr),
            _ => None,
        }
    }
}

/// `(buffer or image, memory, offset)` of each element of a `*2` call.
///
/// # Safety
/// `p_infos` is null or points to `count` valid structures.
unsafe fn copy_infos<T>(p_infos: *const T, count: u32, each: impl Fn(&T) -> Bind) -> Vec<Bind> {
    // SAFETY: the caller's guarantee, passed on.
    unsafe { slice(p_infos, count) }.iter().map(each).collect()
}

fn bind_buffer_memory2_common(
    alias: Alias,
    device: vk::Device,
    bind_info_count: u32,
    p_bind_infos: *const vk::BindBufferMemoryInfo<'_>,
) -> vk::Result {
    let command = alias.command(Target::Buffer);
    guarded(command, vk::Result::ERROR_OUT_OF_HOST_MEMORY, move || {
        // SAFETY: `device` is a live device of this layer's chain.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: valid infos per the caller, or null.
        let binds = unsafe {
            copy_infos(p_bind_infos, bind_info_count, |i| {
                (i.buffer.as_raw(), i.memory, i.memory_offset)
            })
        };
        let form = |index| Form::Info { command, index };
        bind_and_record(&data, Target::Buffer, &binds, form, || {
            let next = alias.next(
                &data,
                data.fns.fp_v1_1().bind_buffer_memory2,
                data.bind_memory2.bind_buffer_memory2_khr,
            );
            match next {
                // SAFETY: forwarding the app's arguments.
                Some(next) => unsafe { next(device, bind_info_count, p_bind_infos) },
                None => vk::Result::ERROR_FEATURE_NOT_PRESENT,
            }
        })
    })
}

fn bind_image_memory2_common(
    alias: Alias,
    device: vk::Device,
    bind_info_count: u32,
    p_bind_infos: *const vk::BindImageMemoryInfo<'_>,
) -> vk::Result {
    let command = alias.command(Target::Image);
    guarded(command, vk::Result::ERROR_OUT_OF_HOST_MEMORY, move || {
        // SAFETY: `device` is a live device of this layer's chain.
        let Some(data) = dispatch::device(unsafe { dispatch::key(device) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        // SAFETY: valid infos per the caller, or null.
        let binds = unsafe {
            copy_infos(p_bind_infos, bind_info_count, |i| {
                (i.image.as_raw(), i.memory, i.memory_offset)
            })
        };
        let form = |index| Form::Info { command, index };
        bind_and_record(&data, Target::Image, &binds, form, || {
            let next = alias.next(
                &data,
                data.fns.fp_v1_1().bind_image_memory2,
                data.bind_memory2.bind_image_memory2_khr,
            );
            match next {
                // SAFETY: forwarding the app's arguments.
                Some(next) => unsafe { next(device, bind_info_count, p_bind_infos) },
                None => vk::Result::ERROR_FEATURE_NOT_PRESENT,
            }
        })
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn bind_buffer_memory2(
    device: vk::Device,
    bind_info_count: u32,
    p_bind_infos: *const vk::BindBufferMemoryInfo<'_>,
) -> vk::Result {
    bind_buffer_memory2_common(Alias::Core, device, bind_info_count, p_bind_infos)
}

/// # Safety
/// As [`bind_buffer_memory2`].
pub unsafe extern "system" fn bind_buffer_memory2_khr(
    device: vk::Device,
    bind_info_count: u32,
    p_bind_infos: *const vk::BindBufferMemoryInfo<'_>,
) -> vk::Result {
    bind_buffer_memory2_common(Alias::Khr, device, bind_info_count, p_bind_infos)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn bind_image_memory2(
    device: vk::Device,
    bind_info_count: u32,
    p_bind_infos: *const vk::BindImageMemoryInfo<'_>,
) -> vk::Result {
    bind_image_memory2_common(Alias::Core, device, bind_info_count, p_bind_infos)
}

/// # Safety
/// As [`bind_image_memory2`].
pub unsafe extern "system" fn bind_image_memory2_khr(
    device: vk::Device,
    bind_info_count: u32,
    p_bind_infos: *const vk::BindImageMemoryInfo<'_>,
) -> vk::Result {
    bind_image_memory2_common(Alias::Khr, device, bind_info_count, p_bind_infos)
}

/// One sparse bind's findings; nothing for memory or a resource the layer does not know.
fn check_sparse(
    data: &DeviceData,
    mut call: SparseBindCall,
    memory: vk::DeviceMemory,
    resource_types: Option<vk::ExternalMemoryHandleTypeFlags>,
) -> Vec<Finding> {
    let Some(types) = resource_types else {
        return Vec::new();
    };
    if memory.is_null() {
        return Vec::new();
    }
    let Some(mem) = state::memory(data.handle, memory) else {
        return Vec::new();
    };
    let facts = memory_facts(&mem);
    if facts.export_types.is_empty() && facts.import_type.is_empty() {
        return Vec::new();
    }
    call.memory = memory.as_raw();
    rules::sparse_bind(&call, &facts, types)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn queue_bind_sparse(
    queue: vk::Queue,
    bind_info_count: u32,
    p_bind_info: *const vk::BindSparseInfo<'_>,
    fence: vk::Fence,
) -> vk::Result {
    guarded(
        "vkQueueBindSparse",
        vk::Result::ERROR_OUT_OF_HOST_MEMORY,
        move || {
            // Queues share their device's dispatch pointer.
            // SAFETY: `queue` is a live queue of a device of this layer's chain.
            let Some(data) = dispatch::device(unsafe { dispatch::key(queue) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            let device = data.handle;
            let mut findings = Vec::new();
            // SAFETY: valid bind infos per the caller, or null; each array is valid for its
            // count.
            let infos = unsafe { slice(p_bind_info, bind_info_count) };
            for (i, info) in infos.iter().enumerate() {
                let base = |kind, array, resource| SparseBindCall {
                    device: device.as_raw(),
                    queue: queue.as_raw(),
                    kind,
                    info: i,
                    array,
                    bind: 0,
                    resource,
                    memory: 0,
                };
                // SAFETY: as above.
                let buffers = unsafe { slice(info.p_buffer_binds, info.buffer_bind_count) };
                for (a, b) in buffers.iter().enumerate() {
                    let types = tracked::buffer(device, b.buffer).map(|r| r.external_types);
                    // SAFETY: as above.
                    for (k, bind) in unsafe { slice(b.p_binds, b.bind_count) }.iter().enumerate() {
                        let call = SparseBindCall {
                            bind: k,
                            ..base(SparseKind::Buffer, a, b.buffer.as_raw())
                        };
                        findings.extend(check_sparse(&data, call, bind.memory, types));
                    }
                }
                // SAFETY: as above.
                let opaque =
                    unsafe { slice(info.p_image_opaque_binds, info.image_opaque_bind_count) };
                for (a, b) in opaque.iter().enumerate() {
                    let types = tracked::image(device, b.image).map(|r| r.external_types);
                    // SAFETY: as above.
                    for (k, bind) in unsafe { slice(b.p_binds, b.bind_count) }.iter().enumerate() {
                        let call = SparseBindCall {
                            bind: k,
                            ..base(SparseKind::ImageOpaque, a, b.image.as_raw())
                        };
                        findings.extend(check_sparse(&data, call, bind.memory, types));
                    }
                }
                // SAFETY: as above.
                let images = unsafe { slice(info.p_image_binds, info.image_bind_count) };
                for (a, b) in images.iter().enumerate() {
                    let types = tracked::image(device, b.image).map(|r| r.external_types);
                    // SAFETY: as above.
                    for (k, bind) in unsafe { slice(b.p_binds, b.bind_count) }.iter().enumerate() {
                        let call = SparseBindCall {
                            bind: k,
                            ..base(SparseKind::Image, a, b.image.as_raw())
                        };
                        findings.extend(check_sparse(&data, call, bind.memory, types));
                    }
                }
            }
            if !findings.is_empty() {
                if let Some(r) = data
                    .reporter
                    .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
                {
                    return r;
                }
            }
            // SAFETY: forwarding the app's arguments.
            unsafe {
                (data.fns.fp_v1_0().queue_bind_sparse)(queue, bind_info_count, p_bind_info, fence)
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_recorded_on_known_resources_only() {
        let device = vk::Device::from_raw(0xb1d0);
        let buffer = vk::Buffer::from_raw(0xb1d1);
        tracked::insert_buffer(device, buffer, tracked::plain_buffer());
        let binding = Binding {
            memory: 0x77,
            offset: 256,
            external_memory: false,
        };
        tracked::set_buffer_binding(device, buffer, binding);
        assert_eq!(
            tracked::buffer(device, buffer).and_then(|r| r.bound),
            Some(binding)
        );
        // An unknown buffer or image stays unknown.
        let stranger = vk::Buffer::from_raw(0xb1d2);
        tracked::set_buffer_binding(device, stranger, binding);
        assert!(tracked::buffer(device, stranger).is_none());
        tracked::set_image_binding(device, vk::Image::from_raw(0xb1d3), binding);
        assert!(tracked::image(device, vk::Image::from_raw(0xb1d3)).is_none());
        tracked::remove_buffer(device, buffer);
    }
}

//! Command pools and command buffers: pool family, allocate/free/begin/reset, and the
//! commands whose effect on external resources the ownership rules replay at submit
//! (`RecordedOp::Use` of transfer commands and render pass attachments, the render pass's
//! layout change, `RecordedOp::Execute` of secondaries). Barriers are recorded in
//! `barrier.rs`.
//!
//! Recording costs one lookup per resource a command names; nothing is stored unless that
//! resource is external, so an app that shares nothing allocates nothing here.

use crate::c_arrays::slice;
use crate::dispatch::{self, DeviceData};
use crate::guard::guarded;
use crate::pnext;
use crate::state::{commands as recorded, resources as tracked, views};
use ash::vk::{self, Handle};
use handoff_rules::checks::commands::{render_pass_ops, ExternalAttachment};
use handoff_rules::checks::ownership::{RecordedOp, Resource, UseOp};

/// Whether a KHR-named call, or a core-named one on a device older than `core`, goes to the
/// KHR entry point of the next layer.
fn khr_route(data: &DeviceData, khr: bool, ext_enabled: bool, core: u32) -> bool {
    ext_enabled && (khr || data.api_version < core)
}

// ---------------------------------------------------------------------------------------
// Pools and command buffers.

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_command_pool(
    device: vk::Device,
    p_create_info: *const vk::CommandPoolCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_pool: *mut vk::CommandPool,
) -> vk::Result {
    guarded(
        "vkCreateCommandPool",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (data.fns.fp_v1_0().create_command_pool)(device, p_create_info, p_allocator, p_pool)
            };
            if res == vk::Result::SUCCESS {
                // SAFETY: valid create info; the pool was written on success.
                if let (Some(info), Some(pool)) =
                    unsafe { (p_create_info.as_ref(), p_pool.as_ref()) }
                {
                    recorded::insert_pool(device, *pool, info.queue_family_index);
                }
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_command_pool(
    device: vk::Device,
    pool: vk::CommandPool,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyCommandPool", (), || {
        // SAFETY: a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return;
        };
        if !pool.is_null() {
            recorded::destroy_pool(device, pool);
        }
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().destroy_command_pool)(device, pool, p_allocator) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn reset_command_pool(
    device: vk::Device,
    pool: vk::CommandPool,
    flags: vk::CommandPoolResetFlags,
) -> vk::Result {
    guarded(
        "vkResetCommandPool",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe { (data.fns.fp_v1_0().reset_command_pool)(device, pool, flags) };
            if res == vk::Result::SUCCESS {
                recorded::reset_pool(device, pool);
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn allocate_command_buffers(
    device: vk::Device,
    p_allocate_info: *const vk::CommandBufferAllocateInfo<'_>,
    p_command_buffers: *mut vk::CommandBuffer,
) -> vk::Result {
    guarded(
        "vkAllocateCommandBuffers",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (data.fns.fp_v1_0().allocate_command_buffers)(
                    device,
                    p_allocate_info,
                    p_command_buffers,
                )
            };
            if res == vk::Result::SUCCESS {
                // SAFETY: a valid allocate info per the caller.
                if let Some(info) = unsafe { p_allocate_info.as_ref() } {
                    // SAFETY: on success the driver wrote `commandBufferCount` handles.
                    let cbs = unsafe {
                        slice(
                            p_command_buffers as *const vk::CommandBuffer,
                            info.command_buffer_count,
                        )
                    };
                    recorded::allocate(device, info.command_pool, cbs);
                }
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn free_command_buffers(
    device: vk::Device,
    pool: vk::CommandPool,
    count: u32,
    p_command_buffers: *const vk::CommandBuffer,
) {
    guarded("vkFreeCommandBuffers", (), || {
        // SAFETY: a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return;
        };
        // SAFETY: `count` handles (null ones allowed) per the caller.
        let cbs = unsafe { slice(p_command_buffers, count) };
        recorded::free(device, pool, cbs);
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().free_command_buffers)(device, pool, count, p_command_buffers) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn begin_command_buffer(
    command_buffer: vk::CommandBuffer,
    p_begin_info: *const vk::CommandBufferBeginInfo<'_>,
) -> vk::Result {
    guarded(
        "vkBeginCommandBuffer",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live command buffer.
            let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // Beginning resets a recorded command buffer implicitly.
            recorded::clear_ops(data.handle, command_buffer);
            // SAFETY: forwarding the app's arguments.
            unsafe { (data.fns.fp_v1_0().begin_command_buffer)(command_buffer, p_begin_info) }
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn reset_command_buffer(
    command_buffer: vk::CommandBuffer,
    flags: vk::CommandBufferResetFlags,
) -> vk::Result {
    guarded(
        "vkResetCommandBuffer",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live command buffer.
            let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe { (data.fns.fp_v1_0().reset_command_buffer)(command_buffer, flags) };
            if res == vk::Result::SUCCESS {
                recorded::clear_ops(data.handle, command_buffer);
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_execute_commands(
    command_buffer: vk::CommandBuffer,
    count: u32,
    p_command_buffers: *const vk::CommandBuffer,
) {
    guarded("vkCmdExecuteCommands", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        let device = data.handle;
        // SAFETY: `count` secondaries per the caller.
        let secondaries = unsafe { slice(p_command_buffers, count) };
        if secondaries.iter().any(|&s| recorded::has_ops(device, s)) {
            let with_ops: Vec<u64> = secondaries
                .iter()
                .filter(|&&s| recorded::has_ops(device, s))
                .map(|s| s.as_raw())
                .collect();
            recorded::push_ops(device, command_buffer, [RecordedOp::Execute(with_ops)]);
        }
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_execute_commands)(command_buffer, count, p_command_buffers)
        }
    })
}

// ---------------------------------------------------------------------------------------
// Transfer commands.

/// Records a `Use` of each external resource among `resources`.
fn uses<const N: usize>(
    data: &DeviceData,
    command_buffer: vk::CommandBuffer,
    command: &'static str,
    resources: [Resource; N],
) {
    let device = data.handle;
    let external = resources.map(|r| r.raw() != 0 && tracked::is_external(device, r));
    if external.iter().any(|&e| e) {
        let ops = resources
            .into_iter()
            .zip(external)
            .filter(|&(_, e)| e)
            .map(|(resource, _)| RecordedOp::Use(UseOp { resource, command }));
        recorded::push_ops(device, command_buffer, ops);
    }
}

fn buf(b: vk::Buffer) -> Resource {
    Resource::Buffer(b.as_raw())
}

fn img(i: vk::Image) -> Resource {
    Resource::Image(i.as_raw())
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_copy_buffer(
    command_buffer: vk::CommandBuffer,
    src: vk::Buffer,
    dst: vk::Buffer,
    region_count: u32,
    p_regions: *const vk::BufferCopy,
) {
    guarded("vkCmdCopyBuffer", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(
            &data,
            command_buffer,
            "vkCmdCopyBuffer",
            [buf(src), buf(dst)],
        );
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_copy_buffer)(command_buffer, src, dst, region_count, p_regions)
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_copy_image(
    command_buffer: vk::CommandBuffer,
    src: vk::Image,
    src_layout: vk::ImageLayout,
    dst: vk::Image,
    dst_layout: vk::ImageLayout,
    region_count: u32,
    p_regions: *const vk::ImageCopy,
) {
    guarded("vkCmdCopyImage", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(
            &data,
            command_buffer,
            "vkCmdCopyImage",
            [img(src), img(dst)],
        );
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_copy_image)(
                command_buffer,
                src,
                src_layout,
                dst,
                dst_layout,
                region_count,
                p_regions,
            )
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "system" fn cmd_blit_image(
    command_buffer: vk::CommandBuffer,
    src: vk::Image,
    src_layout: vk::ImageLayout,
    dst: vk::Image,
    dst_layout: vk::ImageLayout,
    region_count: u32,
    p_regions: *const vk::ImageBlit,
    filter: vk::Filter,
) {
    guarded("vkCmdBlitImage", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(
            &data,
            command_buffer,
            "vkCmdBlitImage",
            [img(src), img(dst)],
        );
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_blit_image)(
                command_buffer,
                src,
                src_layout,
                dst,
                dst_layout,
                region_count,
                p_regions,
                filter,
            )
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_resolve_image(
    command_buffer: vk::CommandBuffer,
    src: vk::Image,
    src_layout: vk::ImageLayout,
    dst: vk::Image,
    dst_layout: vk::ImageLayout,
    region_count: u32,
    p_regions: *const vk::ImageResolve,
) {
    guarded("vkCmdResolveImage", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(
            &data,
            command_buffer,
            "vkCmdResolveImage",
            [img(src), img(dst)],
        );
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_resolve_image)(
                command_buffer,
                src,
                src_layout,
                dst,
                dst_layout,
                region_count,
                p_regions,
            )
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_copy_buffer_to_image(
    command_buffer: vk::CommandBuffer,
    src: vk::Buffer,
    dst: vk::Image,
    dst_layout: vk::ImageLayout,
    region_count: u32,
    p_regions: *const vk::BufferImageCopy,
) {
    guarded("vkCmdCopyBufferToImage", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(
            &data,
            command_buffer,
            "vkCmdCopyBufferToImage",
            [buf(src), img(dst)],
        );
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_copy_buffer_to_image)(
                command_buffer,
                src,
                dst,
                dst_layout,
                region_count,
                p_regions,
            )
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_copy_image_to_buffer(
    command_buffer: vk::CommandBuffer,
    src: vk::Image,
    src_layout: vk::ImageLayout,
    dst: vk::Buffer,
    region_count: u32,
    p_regions: *const vk::BufferImageCopy,
) {
    guarded("vkCmdCopyImageToBuffer", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(
            &data,
            command_buffer,
            "vkCmdCopyImageToBuffer",
            [img(src), buf(dst)],
        );
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_copy_image_to_buffer)(
                command_buffer,
                src,
                src_layout,
                dst,
                region_count,
                p_regions,
            )
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_clear_color_image(
    command_buffer: vk::CommandBuffer,
    image: vk::Image,
    layout: vk::ImageLayout,
    p_color: *const vk::ClearColorValue,
    range_count: u32,
    p_ranges: *const vk::ImageSubresourceRange,
) {
    guarded("vkCmdClearColorImage", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(&data, command_buffer, "vkCmdClearColorImage", [img(image)]);
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_clear_color_image)(
                command_buffer,
                image,
                layout,
                p_color,
                range_count,
                p_ranges,
            )
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_clear_depth_stencil_image(
    command_buffer: vk::CommandBuffer,
    image: vk::Image,
    layout: vk::ImageLayout,
    p_depth_stencil: *const vk::ClearDepthStencilValue,
    range_count: u32,
    p_ranges: *const vk::ImageSubresourceRange,
) {
    guarded("vkCmdClearDepthStencilImage", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(
            &data,
            command_buffer,
            "vkCmdClearDepthStencilImage",
            [img(image)],
        );
        // SAFETY: forwarding the app's arguments.
        unsafe {
            (data.fns.fp_v1_0().cmd_clear_depth_stencil_image)(
                command_buffer,
                image,
                layout,
                p_depth_stencil,
                range_count,
                p_ranges,
            )
        }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_fill_buffer(
    command_buffer: vk::CommandBuffer,
    dst: vk::Buffer,
    offset: vk::DeviceSize,
    size: vk::DeviceSize,
    value: u32,
) {
    guarded("vkCmdFillBuffer", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(&data, command_buffer, "vkCmdFillBuffer", [buf(dst)]);
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().cmd_fill_buffer)(command_buffer, dst, offset, size, value) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_update_buffer(
    command_buffer: vk::CommandBuffer,
    dst: vk::Buffer,
    offset: vk::DeviceSize,
    size: vk::DeviceSize,
    p_data: *const std::ffi::c_void,
) {
    guarded("vkCmdUpdateBuffer", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        uses(&data, command_buffer, "vkCmdUpdateBuffer", [buf(dst)]);
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().cmd_update_buffer)(command_buffer, dst, offset, size, p_data) }
    })
}

/// The `*2` transfer commands (core 1.3 and VK_KHR_copy_commands2): one info struct naming
/// a source and a destination.
macro_rules! transfer2 {
    ($core:ident, $khr:ident, $info:ident, $name:literal, $name_khr:literal,
     $core_fp:ident, $khr_fp:ident, |$i:ident| $resources:expr) => {
        /// # Safety
        /// The loader calls this with arguments valid for the Vulkan command, as the spec
        /// requires of the application.
        pub unsafe extern "system" fn $core(
            command_buffer: vk::CommandBuffer,
            p_info: *const vk::$info<'_>,
        ) {
            transfer2_common(false, command_buffer, p_info);
        }

        /// # Safety
        /// As the core-named command.
        pub unsafe extern "system" fn $khr(
            command_buffer: vk::CommandBuffer,
            p_info: *const vk::$info<'_>,
        ) {
            transfer2_common(true, command_buffer, p_info);
        }

        impl Transfer2 for vk::$info<'_> {
            const NAMES: (&'static str, &'static str) = ($name, $name_khr);
            fn resources(&self) -> [Resource; 2] {
                let $i = self;
                $resources
            }
            fn next(
                data: &DeviceData,
                khr: bool,
            ) -> unsafe extern "system" fn(vk::CommandBuffer, *const Self) {
                if khr_route(data, khr, data.enabled.copy_commands2, vk::API_VERSION_1_3) {
                    data.copy_commands2.$khr_fp
                } else {
                    data.fns.fp_v1_3().$core_fp
                }
            }
        }
    };
}

/// An info struct of a `*2` transfer command.
trait Transfer2: Sized {
    /// The core and the KHR command names.
    const NAMES: (&'static str, &'static str);
    fn resources(&self) -> [Resource; 2];
    fn next(
        data: &DeviceData,
        khr: bool,
    ) -> unsafe extern "system" fn(vk::CommandBuffer, *const Self);
}

fn transfer2_common<T: Transfer2>(khr: bool, command_buffer: vk::CommandBuffer, p_info: *const T) {
    let command = if khr { T::NAMES.1 } else { T::NAMES.0 };
    guarded(command, (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        // SAFETY: a valid info per the caller, or null.
        if let Some(info) = unsafe { p_info.as_ref() } {
            uses(&data, command_buffer, command, info.resources());
        }
        // SAFETY: forwarding the app's arguments.
        unsafe { T::next(&data, khr)(command_buffer, p_info) }
    })
}

transfer2!(
    cmd_copy_buffer2,
    cmd_copy_buffer2_khr,
    CopyBufferInfo2,
    "vkCmdCopyBuffer2",
    "vkCmdCopyBuffer2KHR",
    cmd_copy_buffer2,
    cmd_copy_buffer2_khr,
    |i| [buf(i.src_buffer), buf(i.dst_buffer)]
);
transfer2!(
    cmd_copy_image2,
    cmd_copy_image2_khr,
    CopyImageInfo2,
    "vkCmdCopyImage2",
    "vkCmdCopyImage2KHR",
    cmd_copy_image2,
    cmd_copy_image2_khr,
    |i| [img(i.src_image), img(i.dst_image)]
);
transfer2!(
    cmd_copy_buffer_to_image2,
    cmd_copy_buffer_to_image2_khr,
    CopyBufferToImageInfo2,
    "vkCmdCopyBufferToImage2",
    "vkCmdCopyBufferToImage2KHR",
    cmd_copy_buffer_to_image2,
    cmd_copy_buffer_to_image2_khr,
    |i| [buf(i.src_buffer), img(i.dst_image)]
);
transfer2!(
    cmd_copy_image_to_buffer2,
    cmd_copy_image_to_buffer2_khr,
    CopyImageToBufferInfo2,
    "vkCmdCopyImageToBuffer2",
    "vkCmdCopyImageToBuffer2KHR",
    cmd_copy_image_to_buffer2,
    cmd_copy_image_to_buffer2_khr,
    |i| [img(i.src_image), buf(i.dst_buffer)]
);
transfer2!(
    cmd_blit_image2,
    cmd_blit_image2_khr,
    BlitImageInfo2,
    "vkCmdBlitImage2",
    "vkCmdBlitImage2KHR",
    cmd_blit_image2,
    cmd_blit_image2_khr,
    |i| [img(i.src_image), img(i.dst_image)]
);
transfer2!(
    cmd_resolve_image2,
    cmd_resolve_image2_khr,
    ResolveImageInfo2,
    "vkCmdResolveImage2",
    "vkCmdResolveImage2KHR",
    cmd_resolve_image2,
    cmd_resolve_image2_khr,
    |i| [img(i.src_image), img(i.dst_image)]
);

// ---------------------------------------------------------------------------------------
// Image views, framebuffers, render passes.

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_image_view(
    device: vk::Device,
    p_create_info: *const vk::ImageViewCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_view: *mut vk::ImageView,
) -> vk::Result {
    guarded(
        "vkCreateImageView",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (data.fns.fp_v1_0().create_image_view)(device, p_create_info, p_allocator, p_view)
            };
            if res == vk::Result::SUCCESS {
                // SAFETY: valid create info; the view was written on success.
                if let (Some(info), Some(view)) =
                    unsafe { (p_create_info.as_ref(), p_view.as_ref()) }
                {
                    // The image's memory is bound by now (01020), so external-ness is known.
                    if tracked::is_external(device, img(info.image)) {
                        views::insert_view(
                            device,
                            *view,
                            views::ViewRecord {
                                image: info.image.as_raw(),
                                range: info.subresource_range.into(),
                            },
                        );
                    }
                }
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_image_view(
    device: vk::Device,
    view: vk::ImageView,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyImageView", (), || {
        // SAFETY: a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return;
        };
        if !view.is_null() {
            views::remove_view(device, view);
        }
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().destroy_image_view)(device, view, p_allocator) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_framebuffer(
    device: vk::Device,
    p_create_info: *const vk::FramebufferCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_framebuffer: *mut vk::Framebuffer,
) -> vk::Result {
    guarded(
        "vkCreateFramebuffer",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (data.fns.fp_v1_0().create_framebuffer)(
                    device,
                    p_create_info,
                    p_allocator,
                    p_framebuffer,
                )
            };
            if res != vk::Result::SUCCESS {
                return res;
            }
            // SAFETY: valid create info; the framebuffer was written on success.
            let (Some(info), Some(fb)) =
                (unsafe { (p_create_info.as_ref(), p_framebuffer.as_ref()) })
            else {
                return res;
            };
            // An imageless framebuffer's pAttachments is ignored (and may be anything): its
            // views come with each vkCmdBeginRenderPass.
            if info.flags.contains(vk::FramebufferCreateFlags::IMAGELESS) {
                return res;
            }
            // SAFETY: `attachmentCount` views per the caller.
            let attachments = unsafe { slice(info.p_attachments, info.attachment_count) };
            if attachments
                .iter()
                .any(|v| views::view(device, v.as_raw()).is_some())
            {
                let raw: Box<[u64]> = attachments.iter().map(|v| v.as_raw()).collect();
                views::insert_framebuffer(device, *fb, raw);
            }
            res
        },
    )
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_framebuffer(
    device: vk::Device,
    framebuffer: vk::Framebuffer,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyFramebuffer", (), || {
        // SAFETY: a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return;
        };
        if !framebuffer.is_null() {
            views::remove_framebuffer(device, framebuffer);
        }
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().destroy_framebuffer)(device, framebuffer, p_allocator) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_render_pass(
    device: vk::Device,
    p_create_info: *const vk::RenderPassCreateInfo<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_render_pass: *mut vk::RenderPass,
) -> vk::Result {
    guarded(
        "vkCreateRenderPass",
        vk::Result::ERROR_INITIALIZATION_FAILED,
        || {
            // SAFETY: a live device.
            let Some(data) = (unsafe { dispatch::device_of(device) }) else {
                return vk::Result::ERROR_INITIALIZATION_FAILED;
            };
            // SAFETY: forwarding the app's arguments.
            let res = unsafe {
                (data.fns.fp_v1_0().create_render_pass)(
                    device,
                    p_create_info,
                    p_allocator,
                    p_render_pass,
                )
            };
            if res == vk::Result::SUCCESS {
                // SAFETY: valid create info; the render pass was written on success.
                if let (Some(info), Some(rp)) =
                    unsafe { (p_create_info.as_ref(), p_render_pass.as_ref()) }
                {
                    // SAFETY: `attachmentCount` descriptions per the caller.
                    let atts = unsafe { slice(info.p_attachments, info.attachment_count) };
                    let layouts = atts
                        .iter()
                        .map(|a| (a.initial_layout, a.final_layout))
                        .collect();
                    views::insert_render_pass(device, *rp, layouts);
                }
            }
            res
        },
    )
}

fn create_render_pass2_common(
    khr: bool,
    device: vk::Device,
    p_create_info: *const vk::RenderPassCreateInfo2<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_render_pass: *mut vk::RenderPass,
) -> vk::Result {
    let command = if khr {
        "vkCreateRenderPass2KHR"
    } else {
        "vkCreateRenderPass2"
    };
    guarded(command, vk::Result::ERROR_INITIALIZATION_FAILED, || {
        // SAFETY: a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return vk::Result::ERROR_INITIALIZATION_FAILED;
        };
        let next = if khr_route(
            &data,
            khr,
            data.enabled.create_renderpass2,
            vk::API_VERSION_1_2,
        ) {
            data.create_renderpass2.create_render_pass2_khr
        } else {
            data.fns.fp_v1_2().create_render_pass2
        };
        // SAFETY: forwarding the app's arguments.
        let res = unsafe { next(device, p_create_info, p_allocator, p_render_pass) };
        if res == vk::Result::SUCCESS {
            // SAFETY: valid create info; the render pass was written on success.
            if let (Some(info), Some(rp)) =
                unsafe { (p_create_info.as_ref(), p_render_pass.as_ref()) }
            {
                // SAFETY: `attachmentCount` descriptions per the caller.
                let atts = unsafe { slice(info.p_attachments, info.attachment_count) };
                let layouts = atts
                    .iter()
                    .map(|a| (a.initial_layout, a.final_layout))
                    .collect();
                views::insert_render_pass(device, *rp, layouts);
            }
        }
        res
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_render_pass2(
    device: vk::Device,
    p_create_info: *const vk::RenderPassCreateInfo2<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_render_pass: *mut vk::RenderPass,
) -> vk::Result {
    create_render_pass2_common(false, device, p_create_info, p_allocator, p_render_pass)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn create_render_pass2_khr(
    device: vk::Device,
    p_create_info: *const vk::RenderPassCreateInfo2<'_>,
    p_allocator: *const vk::AllocationCallbacks<'_>,
    p_render_pass: *mut vk::RenderPass,
) -> vk::Result {
    create_render_pass2_common(true, device, p_create_info, p_allocator, p_render_pass)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn destroy_render_pass(
    device: vk::Device,
    render_pass: vk::RenderPass,
    p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    guarded("vkDestroyRenderPass", (), || {
        // SAFETY: a live device.
        let Some(data) = (unsafe { dispatch::device_of(device) }) else {
            return;
        };
        if !render_pass.is_null() {
            views::remove_render_pass(device, render_pass);
        }
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().destroy_render_pass)(device, render_pass, p_allocator) }
    })
}

/// Records the ops of a render pass instance: a `Use` of each external attachment image and
/// its `initialLayout` → `finalLayout` change.
///
/// # Safety
/// `begin` is a valid `VkRenderPassBeginInfo` (its chain included).
unsafe fn begin_render_pass_ops(
    data: &DeviceData,
    command_buffer: vk::CommandBuffer,
    command: &'static str,
    begin: &vk::RenderPassBeginInfo<'_>,
) {
    let device = data.handle;
    let att = |v: u64| {
        views::view(device, v).map(|r| ExternalAttachment {
            image: r.image,
            range: r.range,
        })
    };
    // Imageless framebuffers: the views come in VkRenderPassAttachmentBeginInfo.
    let imageless = if begin.p_next.is_null() {
        None
    } else {
        // SAFETY: the begin info's valid chain; the type matches the sType.
        unsafe {
            pnext::find::<vk::RenderPassAttachmentBeginInfo<'_>>(
                begin.p_next,
                vk::StructureType::RENDER_PASS_ATTACHMENT_BEGIN_INFO,
            )
        }
        .0
    };
    let attachments: Option<Vec<Option<ExternalAttachment>>> = match imageless {
        Some(p) => {
            // SAFETY: found in a valid chain; its array is valid for its count.
            let v = unsafe { slice((*p).p_attachments, (*p).attachment_count) };
            v.iter()
                .any(|v| att(v.as_raw()).is_some())
                .then(|| v.iter().map(|v| att(v.as_raw())).collect())
        }
        None => views::with_framebuffer(device, begin.framebuffer, |v| {
            v.iter().map(|&v| att(v)).collect()
        }),
    };
    let Some(attachments) = attachments else {
        return;
    };
    let mut ops = Vec::new();
    views::with_render_pass(device, begin.render_pass, |layouts| {
        render_pass_ops(command, &attachments, layouts, &mut ops)
    });
    if !ops.is_empty() {
        recorded::push_ops(device, command_buffer, ops);
    }
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_begin_render_pass(
    command_buffer: vk::CommandBuffer,
    p_begin: *const vk::RenderPassBeginInfo<'_>,
    contents: vk::SubpassContents,
) {
    guarded("vkCmdBeginRenderPass", (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        // SAFETY: a valid begin info per the caller, or null.
        if let Some(begin) = unsafe { p_begin.as_ref() } {
            // SAFETY: as above.
            unsafe { begin_render_pass_ops(&data, command_buffer, "vkCmdBeginRenderPass", begin) };
        }
        // SAFETY: forwarding the app's arguments.
        unsafe { (data.fns.fp_v1_0().cmd_begin_render_pass)(command_buffer, p_begin, contents) }
    })
}

fn begin_render_pass2_common(
    khr: bool,
    command_buffer: vk::CommandBuffer,
    p_begin: *const vk::RenderPassBeginInfo<'_>,
    p_subpass_begin: *const vk::SubpassBeginInfo<'_>,
) {
    let command = if khr {
        "vkCmdBeginRenderPass2KHR"
    } else {
        "vkCmdBeginRenderPass2"
    };
    guarded(command, (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        // SAFETY: a valid begin info per the caller, or null.
        if let Some(begin) = unsafe { p_begin.as_ref() } {
            // SAFETY: as above.
            unsafe { begin_render_pass_ops(&data, command_buffer, command, begin) };
        }
        let next = if khr_route(
            &data,
            khr,
            data.enabled.create_renderpass2,
            vk::API_VERSION_1_2,
        ) {
            data.create_renderpass2.cmd_begin_render_pass2_khr
        } else {
            data.fns.fp_v1_2().cmd_begin_render_pass2
        };
        // SAFETY: forwarding the app's arguments.
        unsafe { next(command_buffer, p_begin, p_subpass_begin) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_begin_render_pass2(
    command_buffer: vk::CommandBuffer,
    p_begin: *const vk::RenderPassBeginInfo<'_>,
    p_subpass_begin: *const vk::SubpassBeginInfo<'_>,
) {
    begin_render_pass2_common(false, command_buffer, p_begin, p_subpass_begin)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_begin_render_pass2_khr(
    command_buffer: vk::CommandBuffer,
    p_begin: *const vk::RenderPassBeginInfo<'_>,
    p_subpass_begin: *const vk::SubpassBeginInfo<'_>,
) {
    begin_render_pass2_common(true, command_buffer, p_begin, p_subpass_begin)
}

/// The views of a `VkRenderingInfo`: each color attachment's view and resolve view, and the
/// depth and stencil attachments'.
///
/// # Safety
/// `info` is a valid rendering info.
unsafe fn rendering_views(info: &vk::RenderingInfo<'_>, mut f: impl FnMut(vk::ImageView)) {
    // SAFETY: `colorAttachmentCount` attachments per the caller.
    let colors = unsafe { slice(info.p_color_attachments, info.color_attachment_count) };
    // SAFETY: null or valid per the caller.
    let ds = unsafe {
        [
            info.p_depth_attachment.as_ref(),
            info.p_stencil_attachment.as_ref(),
        ]
    };
    for a in colors.iter().chain(ds.into_iter().flatten()) {
        f(a.image_view);
        f(a.resolve_image_view);
    }
}

fn begin_rendering_common(
    khr: bool,
    command_buffer: vk::CommandBuffer,
    p_info: *const vk::RenderingInfo<'_>,
) {
    let command = if khr {
        "vkCmdBeginRenderingKHR"
    } else {
        "vkCmdBeginRendering"
    };
    guarded(command, (), || {
        // SAFETY: a live command buffer.
        let Some(data) = (unsafe { dispatch::device_of(command_buffer) }) else {
            return;
        };
        let device = data.handle;
        // SAFETY: a valid rendering info per the caller, or null.
        if let Some(info) = unsafe { p_info.as_ref() } {
            let mut ops = Vec::new();
            // SAFETY: as above.
            unsafe {
                rendering_views(info, |v| {
                    if v.is_null() {
                        return;
                    }
                    if let Some(r) = views::view(device, v.as_raw()) {
                        ops.push(RecordedOp::Use(UseOp {
                            resource: Resource::Image(r.image),
                            command,
                        }));
                    }
                })
            };
            if !ops.is_empty() {
                recorded::push_ops(device, command_buffer, ops);
            }
        }
        let next = if khr_route(
            &data,
            khr,
            data.enabled.dynamic_rendering,
            vk::API_VERSION_1_3,
        ) {
            data.dynamic_rendering.cmd_begin_rendering_khr
        } else {
            data.fns.fp_v1_3().cmd_begin_rendering
        };
        // SAFETY: forwarding the app's arguments.
        unsafe { next(command_buffer, p_info) }
    })
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_begin_rendering(
    command_buffer: vk::CommandBuffer,
    p_info: *const vk::RenderingInfo<'_>,
) {
    begin_rendering_common(false, command_buffer, p_info)
}

/// # Safety
/// The loader calls this with arguments valid for the Vulkan command, as the spec
/// requires of the application.
pub unsafe extern "system" fn cmd_begin_rendering_khr(
    command_buffer: vk::CommandBuffer,
    p_info: *const vk::RenderingInfo<'_>,
) {
    begin_rendering_common(true, command_buffer, p_info)
}

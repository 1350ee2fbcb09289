//! Command pools and command buffers. Recording is accepted and ignored: the mock never
//! executes work, so every `vkCmd*` is a no-op.

use crate::ffi;
use crate::handles::Dispatchable;
use crate::state::{self, CommandBufferObj, Object};
use ash::vk;
use ash::vk::Handle;
use std::ffi::c_void;

/// `vkCreateCommandPool`.
///
/// # Safety
/// `p_info` is null or valid; `p_pool` is null or writable.
pub unsafe extern "system" fn create_command_pool(
    device: vk::Device,
    p_info: *const vk::CommandPoolCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_pool: *mut vk::CommandPool,
) -> vk::Result {
    ffi::guard(|| {
        let Some(p) = state::with(|r| r.device_profile(device)) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        if p_pool.is_null() || info.queue_family_index as usize >= p.queue_families.len() {
            return vk::Result::ERROR_UNKNOWN;
        }
        let id = state::with(|r| r.insert(device, Object::CommandPool));
        // SAFETY: checked non-null; writable per the caller.
        unsafe { ffi::write(p_pool, vk::CommandPool::from_raw(id)) };
        vk::Result::SUCCESS
    })
}

/// `vkDestroyCommandPool`: frees the pool's command buffers too.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_command_pool(
    _device: vk::Device,
    pool: vk::CommandPool,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| {
        state::with(|r| {
            if r.remove_if(pool.as_raw(), |o| matches!(o, Object::CommandPool))
                .is_some()
            {
                r.command_buffers.retain(|_, c| c.pool != pool.as_raw());
            }
        })
    })
}

/// Whether a command pool is live.
fn pool_exists(pool: vk::CommandPool) -> bool {
    state::with(|r| matches!(r.object_mut(pool.as_raw()), Some(Object::CommandPool)))
}

/// `vkResetCommandPool`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn reset_command_pool(
    _device: vk::Device,
    pool: vk::CommandPool,
    _flags: vk::CommandPoolResetFlags,
) -> vk::Result {
    ffi::guard(|| {
        if pool_exists(pool) {
            vk::Result::SUCCESS
        } else {
            vk::Result::ERROR_UNKNOWN
        }
    })
}

/// `vkTrimCommandPool`.
pub extern "system" fn trim_command_pool(
    _device: vk::Device,
    _pool: vk::CommandPool,
    _flags: vk::CommandPoolTrimFlags,
) {
}

/// `vkAllocateCommandBuffers`.
///
/// # Safety
/// `p_info` is null or valid; `p_buffers` is null or valid for `commandBufferCount` writes.
pub unsafe extern "system" fn allocate_command_buffers(
    device: vk::Device,
    p_info: *const vk::CommandBufferAllocateInfo<'_>,
    p_buffers: *mut vk::CommandBuffer,
) -> vk::Result {
    ffi::guard(|| {
        // SAFETY: valid or null per the caller.
        let Some(info) = (unsafe { ffi::opt(p_info) }) else {
            return vk::Result::ERROR_UNKNOWN;
        };
        if p_buffers.is_null() || !pool_exists(info.command_pool) {
            return vk::Result::ERROR_UNKNOWN;
        }
        let objs: Vec<CommandBufferObj> = (0..info.command_buffer_count)
            .map(|_| CommandBufferObj {
                handle: Dispatchable::new(),
                device: device.as_raw(),
                pool: info.command_pool.as_raw(),
            })
            .collect();
        for (i, obj) in objs.iter().enumerate() {
            // SAFETY: the app provided `commandBufferCount` slots.
            unsafe {
                ffi::write(
                    p_buffers.add(i),
                    vk::CommandBuffer::from_raw(obj.handle.raw()),
                )
            };
        }
        state::with(|r| {
            for obj in objs {
                r.command_buffers.insert(obj.handle.raw(), obj);
            }
        });
        vk::Result::SUCCESS
    })
}

/// `vkFreeCommandBuffers`.
///
/// # Safety
/// `p_buffers` is null or points to `count` handles.
pub unsafe extern "system" fn free_command_buffers(
    _device: vk::Device,
    pool: vk::CommandPool,
    count: u32,
    p_buffers: *const vk::CommandBuffer,
) {
    ffi::guard_void(|| {
        // SAFETY: forwarded from the caller.
        let buffers = unsafe { ffi::slice(p_buffers, count) };
        state::with(|r| {
            for cb in buffers {
                if r.command_buffers
                    .get(&cb.as_raw())
                    .is_some_and(|c| c.pool == pool.as_raw())
                {
                    r.command_buffers.remove(&cb.as_raw());
                }
            }
        })
    })
}

/// Whether a command buffer is live.
fn command_buffer_result(cb: vk::CommandBuffer) -> vk::Result {
    if state::with(|r| r.command_buffers.contains_key(&cb.as_raw())) {
        vk::Result::SUCCESS
    } else {
        vk::Result::ERROR_UNKNOWN
    }
}

/// `vkBeginCommandBuffer`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn begin_command_buffer(
    cb: vk::CommandBuffer,
    _p_info: *const vk::CommandBufferBeginInfo<'_>,
) -> vk::Result {
    ffi::guard(|| command_buffer_result(cb))
}

/// `vkEndCommandBuffer`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn end_command_buffer(cb: vk::CommandBuffer) -> vk::Result {
    ffi::guard(|| command_buffer_result(cb))
}

/// `vkResetCommandBuffer`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn reset_command_buffer(
    cb: vk::CommandBuffer,
    _flags: vk::CommandBufferResetFlags,
) -> vk::Result {
    ffi::guard(|| command_buffer_result(cb))
}

// ---- recording: accepted and ignored ----------------------------------------------

type Cb = vk::CommandBuffer;
type P = *const c_void;

/// `vkCmdPipelineBarrier`.
#[allow(clippy::too_many_arguments)] // the Vulkan signature
pub extern "system" fn cmd_pipeline_barrier(
    _cb: Cb,
    _src: vk::PipelineStageFlags,
    _dst: vk::PipelineStageFlags,
    _deps: vk::DependencyFlags,
    _n_mem: u32,
    _mem: P,
    _n_buf: u32,
    _buf: P,
    _n_img: u32,
    _img: P,
) {
}

/// `vkCmdPipelineBarrier2`, `vkCmdCopyBuffer2`, `vkCmdCopyImage2`,
/// `vkCmdCopyBufferToImage2`, `vkCmdCopyImageToBuffer2`, `vkCmdBlitImage2`,
/// `vkCmdBeginRendering`, `vkCmdEndRenderPass2`: one info pointer.
pub extern "system" fn cmd_one_pointer(_cb: Cb, _info: P) {}

/// `vkCmdEndRenderPass`, `vkCmdEndRendering`: no arguments.
pub extern "system" fn cmd_no_args(_cb: Cb) {}

/// `vkCmdCopyBuffer`.
pub extern "system" fn cmd_copy_buffer(
    _cb: Cb,
    _src: vk::Buffer,
    _dst: vk::Buffer,
    _n: u32,
    _regions: P,
) {
}

/// `vkCmdFillBuffer`.
pub extern "system" fn cmd_fill_buffer(
    _cb: Cb,
    _dst: vk::Buffer,
    _offset: u64,
    _size: u64,
    _data: u32,
) {
}

/// `vkCmdUpdateBuffer`.
pub extern "system" fn cmd_update_buffer(
    _cb: Cb,
    _dst: vk::Buffer,
    _offset: u64,
    _size: u64,
    _data: P,
) {
}

/// `vkCmdCopyBufferToImage`.
pub extern "system" fn cmd_copy_buffer_to_image(
    _cb: Cb,
    _src: vk::Buffer,
    _dst: vk::Image,
    _layout: vk::ImageLayout,
    _n: u32,
    _regions: P,
) {
}

/// `vkCmdCopyImageToBuffer`.
pub extern "system" fn cmd_copy_image_to_buffer(
    _cb: Cb,
    _src: vk::Image,
    _layout: vk::ImageLayout,
    _dst: vk::Buffer,
    _n: u32,
    _regions: P,
) {
}

/// `vkCmdCopyImage`.
#[allow(clippy::too_many_arguments)] // the Vulkan signature
pub extern "system" fn cmd_copy_image(
    _cb: Cb,
    _src: vk::Image,
    _src_layout: vk::ImageLayout,
    _dst: vk::Image,
    _dst_layout: vk::ImageLayout,
    _n: u32,
    _regions: P,
) {
}

/// `vkCmdBlitImage`.
#[allow(clippy::too_many_arguments)] // the Vulkan signature
pub extern "system" fn cmd_blit_image(
    _cb: Cb,
    _src: vk::Image,
    _src_layout: vk::ImageLayout,
    _dst: vk::Image,
    _dst_layout: vk::ImageLayout,
    _n: u32,
    _regions: P,
    _filter: vk::Filter,
) {
}

/// `vkCmdClearColorImage` and `vkCmdClearDepthStencilImage` (same shape).
pub extern "system" fn cmd_clear_image(
    _cb: Cb,
    _image: vk::Image,
    _layout: vk::ImageLayout,
    _value: P,
    _n: u32,
    _ranges: P,
) {
}

/// `vkCmdExecuteCommands`.
pub extern "system" fn cmd_execute_commands(_cb: Cb, _n: u32, _cbs: *const vk::CommandBuffer) {}

/// `vkCmdWaitEvents`.
#[allow(clippy::too_many_arguments)] // the Vulkan signature
pub extern "system" fn cmd_wait_events(
    _cb: Cb,
    _n_events: u32,
    _events: *const vk::Event,
    _src: vk::PipelineStageFlags,
    _dst: vk::PipelineStageFlags,
    _n_mem: u32,
    _mem: P,
    _n_buf: u32,
    _buf: P,
    _n_img: u32,
    _img: P,
) {
}

/// `vkCmdWaitEvents2`.
pub extern "system" fn cmd_wait_events2(_cb: Cb, _n: u32, _events: *const vk::Event, _infos: P) {}

/// `vkCmdSetEvent` and `vkCmdResetEvent`.
pub extern "system" fn cmd_set_event(_cb: Cb, _event: vk::Event, _stage: vk::PipelineStageFlags) {}

/// `vkCmdSetEvent2`.
pub extern "system" fn cmd_set_event2(_cb: Cb, _event: vk::Event, _info: P) {}

/// `vkCmdResetEvent2`.
pub extern "system" fn cmd_reset_event2(
    _cb: Cb,
    _event: vk::Event,
    _stage: vk::PipelineStageFlags2,
) {
}

/// `vkCmdBeginRenderPass`.
pub extern "system" fn cmd_begin_render_pass(_cb: Cb, _info: P, _contents: vk::SubpassContents) {}

/// `vkCmdNextSubpass`.
pub extern "system" fn cmd_next_subpass(_cb: Cb, _contents: vk::SubpassContents) {}

/// `vkCmdBeginRenderPass2` and `vkCmdNextSubpass2`: two info pointers.
pub extern "system" fn cmd_two_pointers(_cb: Cb, _a: P, _b: P) {}

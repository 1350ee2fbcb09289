//! Objects that need nothing but a handle: image views, render passes, framebuffers,
//! and events (which also keep their set/reset state).

use crate::ffi;
use crate::state::{self, Object};
use ash::vk;
use ash::vk::Handle;
use std::ffi::c_void;

/// Creates a plain object and writes its handle.
///
/// # Safety
/// `p_out` is null or writable.
unsafe fn create_plain(
    device: vk::Device,
    has_info: bool,
    object: Object,
    p_out: *mut u64,
) -> vk::Result {
    if !has_info || p_out.is_null() || state::with(|r| r.device_profile(device)).is_none() {
        return vk::Result::ERROR_UNKNOWN;
    }
    let id = state::with(|r| r.insert(device, object));
    // SAFETY: checked non-null; writable per the caller.
    unsafe { ffi::write(p_out, id) };
    vk::Result::SUCCESS
}

/// Destroys a plain object of the kind `is_kind` accepts.
fn destroy_plain(id: u64, is_kind: fn(&Object) -> bool) {
    let removed = state::with(|r| r.remove_if(id, is_kind));
    drop(removed);
}

/// `vkCreateImageView`.
///
/// # Safety
/// `p_info` is null or valid; `p_view` is null or writable.
pub unsafe extern "system" fn create_image_view(
    device: vk::Device,
    p_info: *const vk::ImageViewCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_view: *mut vk::ImageView,
) -> vk::Result {
    // SAFETY: a VkImageView is a u64 handle; the caller's pointer rules carry over.
    ffi::guard(|| unsafe {
        create_plain(device, !p_info.is_null(), Object::ImageView, p_view.cast())
    })
}

/// `vkDestroyImageView`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_image_view(
    _device: vk::Device,
    view: vk::ImageView,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| destroy_plain(view.as_raw(), |o| matches!(o, Object::ImageView)))
}

/// `vkCreateRenderPass` and `vkCreateRenderPass2` (the create info is not read).
///
/// # Safety
/// `p_render_pass` is null or writable.
pub unsafe extern "system" fn create_render_pass(
    device: vk::Device,
    p_info: *const c_void,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_render_pass: *mut vk::RenderPass,
) -> vk::Result {
    // SAFETY: a VkRenderPass is a u64 handle; the caller's pointer rules carry over.
    ffi::guard(|| unsafe {
        create_plain(
            device,
            !p_info.is_null(),
            Object::RenderPass,
            p_render_pass.cast(),
        )
    })
}

/// `vkDestroyRenderPass`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_render_pass(
    _device: vk::Device,
    render_pass: vk::RenderPass,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| destroy_plain(render_pass.as_raw(), |o| matches!(o, Object::RenderPass)))
}

/// `vkCreateFramebuffer`.
///
/// # Safety
/// `p_framebuffer` is null or writable.
pub unsafe extern "system" fn create_framebuffer(
    device: vk::Device,
    p_info: *const vk::FramebufferCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_framebuffer: *mut vk::Framebuffer,
) -> vk::Result {
    // SAFETY: a VkFramebuffer is a u64 handle; the caller's pointer rules carry over.
    ffi::guard(|| unsafe {
        create_plain(
            device,
            !p_info.is_null(),
            Object::Framebuffer,
            p_framebuffer.cast(),
        )
    })
}

/// `vkDestroyFramebuffer`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_framebuffer(
    _device: vk::Device,
    framebuffer: vk::Framebuffer,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| destroy_plain(framebuffer.as_raw(), |o| matches!(o, Object::Framebuffer)))
}

/// `vkCreateEvent`: created unset.
///
/// # Safety
/// `p_event` is null or writable.
pub unsafe extern "system" fn create_event(
    device: vk::Device,
    p_info: *const vk::EventCreateInfo<'_>,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
    p_event: *mut vk::Event,
) -> vk::Result {
    // SAFETY: a VkEvent is a u64 handle; the caller's pointer rules carry over.
    ffi::guard(|| unsafe {
        create_plain(
            device,
            !p_info.is_null(),
            Object::Event { set: false },
            p_event.cast(),
        )
    })
}

/// `vkDestroyEvent`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn destroy_event(
    _device: vk::Device,
    event: vk::Event,
    _p_allocator: *const vk::AllocationCallbacks<'_>,
) {
    ffi::guard_void(|| destroy_plain(event.as_raw(), |o| matches!(o, Object::Event { .. })))
}

/// Reads or changes an event's state.
fn with_event(event: vk::Event, f: impl FnOnce(&mut bool) -> vk::Result) -> vk::Result {
    state::with(|r| match r.object_mut(event.as_raw()) {
        Some(Object::Event { set }) => f(set),
        _ => vk::Result::ERROR_UNKNOWN,
    })
}

/// `vkGetEventStatus`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn get_event_status(
    _device: vk::Device,
    event: vk::Event,
) -> vk::Result {
    ffi::guard(|| {
        with_event(event, |set| {
            if *set {
                vk::Result::EVENT_SET
            } else {
                vk::Result::EVENT_RESET
            }
        })
    })
}

/// `vkSetEvent`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn set_event(_device: vk::Device, event: vk::Event) -> vk::Result {
    ffi::guard(|| {
        with_event(event, |set| {
            *set = true;
            vk::Result::SUCCESS
        })
    })
}

/// `vkResetEvent`.
///
/// # Safety
/// No pointer is read.
pub unsafe extern "system" fn reset_event(_device: vk::Device, event: vk::Event) -> vk::Result {
    ffi::guard(|| {
        with_event(event, |set| {
            *set = false;
            vk::Result::SUCCESS
        })
    })
}

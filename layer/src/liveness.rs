//! Handles the layer proves dead (issue 7): the checks the entry points run when a lookup
//! they already made came back empty, and the record of recently destroyed images.
//!
//! Memory, buffers and command buffers have one creation command each (`vkAllocateMemory`,
//! `vkCreateBuffer`, `vkAllocateCommandBuffers`), all intercepted from `vkCreateDevice` on,
//! so a non-null handle missing from the state map was never made on that device or was
//! already freed. Images also come from `vkGetSwapchainImagesKHR`, which the layer does not
//! see, so an unknown image proves nothing; an image is reported only when the layer saw it
//! destroyed and has not seen it created since (a recreated handle is back in the state
//! map, and the checks run only for handles missing from it).
//!
//! Nothing here runs on the valid path except [`image_destroyed`] (one atomic add and three
//! stores per `vkDestroyImage`). The cost of a finding (formatting, reporting) is paid
//! only when there is one.

use crate::dispatch::DeviceData;
use crate::state::commands as recorded;
use ash::vk::{self, Handle};
use handoff_rules::checks::lifetime::{self as rules, BindHandles, Dead, SubmitSlot};
use handoff_rules::checks::{barrier::is_special, bind::Form};
use handoff_rules::Finding;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How many destroyed images are remembered, across all devices. A use of a destroyed
/// image comes soon after its destruction in practice; a fixed ring keeps the state from
/// growing over millions of create/destroy cycles and lives outside the heap.
const RING: usize = 256;

/// One remembered `(device, image)`; an image of 0 is an empty slot (no image is
/// VK_NULL_HANDLE).
struct Slot {
    device: AtomicU64,
    image: AtomicU64,
}

/// Lock-free, so that a `fork()` while another thread destroys an image cannot leave a
/// lock held in the child. A writer empties the slot's image before it writes the device,
/// and a reader accepts a slot only when the image reads the same before and after the
/// device, so a reader never pairs one writer's device with another image. (Two writers in
/// one slot at once would need 256 destructions during one of them.)
static DESTROYED: [Slot; RING] = [const {
    Slot {
        device: AtomicU64::new(0),
        image: AtomicU64::new(0),
    }
}; RING];

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// `vkDestroyImage` of an image the layer tracked: remember it.
pub fn image_destroyed(device: vk::Device, image: vk::Image) {
    let slot = &DESTROYED[NEXT.fetch_add(1, Ordering::Relaxed) % RING];
    slot.image.store(0, Ordering::SeqCst);
    slot.device.store(device.as_raw(), Ordering::SeqCst);
    slot.image.store(image.as_raw(), Ordering::SeqCst);
}

/// Whether `image`, which the caller found missing from the state map, was destroyed by
/// the app (rather than being a swapchain image or another image the layer never saw).
pub fn image_was_destroyed(device: vk::Device, image: vk::Image) -> bool {
    let (device, image) = (device.as_raw(), image.as_raw());
    image != 0
        && DESTROYED.iter().any(|s| {
            s.image.load(Ordering::SeqCst) == image
                && s.device.load(Ordering::SeqCst) == device
                && s.image.load(Ordering::SeqCst) == image
        })
}

/// A device that shares nothing gets the next layer's commands (entry.rs), so its objects
/// are not in the state map; an entry point of ours reached on it anyway (a device command
/// taken from `vkGetInstanceProcAddr`) must not call a handle dead that it never saw made.
fn untracked(data: &DeviceData) -> bool {
    !data.enabled.shares
}

/// Reports `finding` for a void command; true when the command must not be forwarded.
fn void_blocked(data: &DeviceData, finding: Finding) -> bool {
    if untracked(data) {
        return false;
    }
    let verdict = data.reporter.report(finding);
    verdict.undefined && !data.reporter.settings.forward_invalid_calls
}

/// One bind whose memory or resource lookup came back empty (`*_known`: the lookup found
/// it). Unknown images and null memory stay silent (see the module documentation).
pub fn bind(
    data: &DeviceData,
    form: Form,
    image: bool,
    resource: u64,
    resource_known: bool,
    memory: vk::DeviceMemory,
    memory_known: bool,
) -> Vec<Finding> {
    if untracked(data) {
        return Vec::new();
    }
    let device = data.handle;
    let resource_dead = match (resource_known, image) {
        (true, _) => None,
        (false, false) => Some(Dead::Absent),
        (false, true) => {
            image_was_destroyed(device, vk::Image::from_raw(resource)).then_some(Dead::Destroyed)
        }
    };
    let memory_dead = (!memory_known && !memory.is_null()).then_some(Dead::Absent);
    if resource_dead.is_none() && memory_dead.is_none() {
        return Vec::new();
    }
    rules::bind(&BindHandles {
        device: device.as_raw(),
        form,
        image,
        resource,
        resource_dead,
        memory: memory.as_raw(),
        memory_dead,
    })
}

/// `vkFreeMemory` of a non-null handle the state map did not hold. True: do not forward.
pub fn free_memory(data: &DeviceData, memory: vk::DeviceMemory) -> bool {
    void_blocked(
        data,
        rules::free_memory(data.handle.as_raw(), memory.as_raw()),
    )
}

/// `vkDestroyBuffer` of a non-null handle the state map did not hold. True: do not forward.
pub fn destroy_buffer(data: &DeviceData, buffer: vk::Buffer) -> bool {
    void_blocked(
        data,
        rules::destroy_buffer(data.handle.as_raw(), buffer.as_raw()),
    )
}

/// `vkDestroyImage` of a non-null handle; `known`: the state map held it (and has just
/// dropped it). True: do not forward.
pub fn destroy_image(data: &DeviceData, image: vk::Image, known: bool) -> bool {
    if known {
        image_destroyed(data.handle, image);
        return false;
    }
    image_was_destroyed(data.handle, image)
        && void_blocked(
            data,
            rules::destroy_image(data.handle.as_raw(), image.as_raw()),
        )
}

/// An image barrier whose image the state map did not hold: a finding when it transfers
/// to or from a special queue family and the image was destroyed. Ownership transfers of
/// swapchain images (graphics to present) are left alone: their handle may reuse the
/// value of a destroyed image. Takes whether the barrier is a `VkImageMemoryBarrier2`, its
/// index and its image, then its source and destination families.
pub fn barrier_image(
    data: &DeviceData,
    command_buffer: vk::CommandBuffer,
    command: &str,
    (sync2, index, image): (bool, usize, u64),
    (src, dst): (u32, u32),
) -> Option<Finding> {
    let special = (is_special(src) || is_special(dst)) && !untracked(data);
    (special && image_was_destroyed(data.handle, vk::Image::from_raw(image))).then(|| {
        rules::barrier_image(
            data.handle.as_raw(),
            command_buffer.as_raw(),
            command,
            sync2,
            index,
            image,
        )
    })
}

/// Reports the dead command buffers of a submission; the result to return instead of
/// forwarding, if any.
fn refuse_submit(data: &DeviceData, findings: Vec<Finding>) -> Option<vk::Result> {
    if findings.is_empty() || untracked(data) {
        return None;
    }
    data.reporter
        .refuse(findings, vk::Result::ERROR_VALIDATION_FAILED_EXT)
}

/// `vkQueueSubmit`: every command buffer must be live on the queue's device.
///
/// # Safety
/// `submits` are valid `VkSubmitInfo`s: each `pCommandBuffers` is null or valid for its
/// count for the duration of the call.
pub unsafe fn queue_submit(
    data: &DeviceData,
    queue: vk::Queue,
    submits: &[vk::SubmitInfo<'_>],
) -> Option<vk::Result> {
    let device = data.handle;
    let mut findings = Vec::new();
    for (submit, s) in submits.iter().enumerate() {
        // SAFETY: per the caller.
        let cbs = unsafe { crate::c_arrays::slice(s.p_command_buffers, s.command_buffer_count) };
        for (index, &cb) in cbs.iter().enumerate() {
            // One lookup per command buffer: every live one is in the map (see the module
            // documentation).
            if recorded::family(device, cb).is_none() {
                let slot = SubmitSlot {
                    queue: queue.as_raw(),
                    command: "vkQueueSubmit",
                    sync2: false,
                    submit,
                    index,
                };
                findings.push(rules::submit_command_buffer(&slot, cb.as_raw()));
            }
        }
    }
    refuse_submit(data, findings)
}

/// `vkQueueSubmit2(KHR)` (`command` as the app called it): as [`queue_submit`] for each
/// `VkCommandBufferSubmitInfo`.
///
/// # Safety
/// `submits` are valid `VkSubmitInfo2`s: each `pCommandBufferInfos` is null or valid for
/// its count for the duration of the call.
pub unsafe fn queue_submit2(
    data: &DeviceData,
    queue: vk::Queue,
    command: &'static str,
    submits: &[vk::SubmitInfo2<'_>],
) -> Option<vk::Result> {
    let device = data.handle;
    let mut findings = Vec::new();
    for (submit, s) in submits.iter().enumerate() {
        // SAFETY: per the caller.
        let infos = unsafe {
            crate::c_arrays::slice(s.p_command_buffer_infos, s.command_buffer_info_count)
        };
        for (index, info) in infos.iter().enumerate() {
            if recorded::family(device, info.command_buffer).is_none() {
                let slot = SubmitSlot {
                    queue: queue.as_raw(),
                    command,
                    sync2: true,
                    submit,
                    index,
                };
                findings.push(rules::submit_command_buffer(
                    &slot,
                    info.command_buffer.as_raw(),
                ));
            }
        }
    }
    refuse_submit(data, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_remembers_destroyed_images_per_device_and_forgets_the_oldest() {
        let (a, b) = (
            vk::Device::from_raw(0x1171_0001),
            vk::Device::from_raw(0x1171_0002),
        );
        let img = vk::Image::from_raw(0x1);
        image_destroyed(a, img);
        assert!(image_was_destroyed(a, img));
        assert!(!image_was_destroyed(b, img));
        assert!(!image_was_destroyed(a, vk::Image::null()));
        for i in 0..RING as u64 {
            image_destroyed(b, vk::Image::from_raw(0x1000 + i));
        }
        assert!(!image_was_destroyed(a, img), "pushed out by newer ones");
        assert!(image_was_destroyed(b, vk::Image::from_raw(0x1000)));
    }
}

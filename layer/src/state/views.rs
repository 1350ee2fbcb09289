//! Image views, framebuffers and render passes, as far as the ownership rules need them to
//! see which external images a render pass instance touches and the layouts it leaves them
//! in.
//!
//! Views are kept only when their image is external (its memory is bound by then, so that
//! is known at `vkCreateImageView`), and framebuffers only when one of their attachments
//! is such a view: an app that shares nothing adds nothing here but its render passes'
//! attachment layouts.

use super::Key;
use super::{fast_map, FastMap};
use ash::vk::{self, Handle};
use handoff_rules::checks::ownership::ImageRange;
use std::sync::LazyLock;

/// A view of an external image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewRecord {
    pub image: u64,
    pub range: ImageRange,
}

struct Views {
    views: FastMap<Key, ViewRecord>,
    /// `VkFramebufferCreateInfo::pAttachments` (raw views), for framebuffers with at least
    /// one tracked view.
    framebuffers: FastMap<Key, Box<[u64]>>,
    /// `(initialLayout, finalLayout)` of each attachment of each render pass.
    render_passes: FastMap<Key, Box<[(vk::ImageLayout, vk::ImageLayout)]>>,
}

static VIEWS: LazyLock<Views> = LazyLock::new(|| Views {
    views: fast_map(),
    framebuffers: fast_map(),
    render_passes: fast_map(),
});
/// For fork.rs, which holds them across fork(), in this order.
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 3] {
    [&VIEWS.framebuffers, &VIEWS.render_passes, &VIEWS.views]
}

fn key(device: vk::Device, handle: u64) -> Key {
    (device.as_raw(), handle)
}

pub fn insert_view(device: vk::Device, view: vk::ImageView, rec: ViewRecord) {
    let k = key(device, view.as_raw());
    VIEWS.views.insert(k, rec);
}

pub fn remove_view(device: vk::Device, view: vk::ImageView) {
    let k = key(device, view.as_raw());
    VIEWS.views.remove(&k);
}

/// The tracked view (a view of an external image), if any.
pub fn view(device: vk::Device, view: u64) -> Option<ViewRecord> {
    VIEWS.views.get(&key(device, view)).map(|r| *r)
}

pub fn insert_framebuffer(device: vk::Device, fb: vk::Framebuffer, views: Box<[u64]>) {
    let k = key(device, fb.as_raw());
    VIEWS.framebuffers.insert(k, views);
}

pub fn remove_framebuffer(device: vk::Device, fb: vk::Framebuffer) {
    let k = key(device, fb.as_raw());
    VIEWS.framebuffers.remove(&k);
}

/// Runs `f` on a tracked framebuffer's attachment views.
pub fn with_framebuffer<R>(
    device: vk::Device,
    fb: vk::Framebuffer,
    f: impl FnOnce(&[u64]) -> R,
) -> Option<R> {
    VIEWS
        .framebuffers
        .get(&key(device, fb.as_raw()))
        .map(|v| f(&v))
}

pub fn insert_render_pass(
    device: vk::Device,
    rp: vk::RenderPass,
    layouts: Box<[(vk::ImageLayout, vk::ImageLayout)]>,
) {
    let k = key(device, rp.as_raw());
    VIEWS.render_passes.insert(k, layouts);
}

pub fn remove_render_pass(device: vk::Device, rp: vk::RenderPass) {
    let k = key(device, rp.as_raw());
    VIEWS.render_passes.remove(&k);
}

/// Runs `f` on a render pass's `(initialLayout, finalLayout)` per attachment (empty for an
/// unknown render pass).
pub fn with_render_pass<R>(
    device: vk::Device,
    rp: vk::RenderPass,
    f: impl FnOnce(&[(vk::ImageLayout, vk::ImageLayout)]) -> R,
) -> R {
    match VIEWS.render_passes.get(&key(device, rp.as_raw())) {
        Some(l) => f(&l),
        None => f(&[]),
    }
}

/// Drops every view, framebuffer and render pass of `device`.
pub fn remove_device(device: vk::Device) {
    let dev = device.as_raw();
    {
        VIEWS.views.retain(|k, _| k.0 != dev);
        VIEWS.framebuffers.retain(|k, _| k.0 != dev);
        VIEWS.render_passes.retain(|k, _| k.0 != dev);
        VIEWS.views.shrink_to_fit();
        VIEWS.framebuffers.shrink_to_fit();
        VIEWS.render_passes.shrink_to_fit();
    };
}

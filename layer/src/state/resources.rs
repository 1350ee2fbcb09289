//! Buffers and images as created: their external-memory declarations and the create
//! parameters that capability queries need.
//!
//! Same conventions as the rest of the state map: keyed by `(device, handle)`, small `Copy`
//! records. The rare `VkImageFormatListCreateInfo` lists live in a side map so that image
//! records stay `Copy`.

use super::filter;
use super::shard_map::ShardMap;
use super::Key;
use ash::vk::{self, Handle};

/// A `VkBuffer` as created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferRecord {
    pub size: u64,
    pub flags: vk::BufferCreateFlags,
    pub usage: vk::BufferUsageFlags,
    pub sharing_mode: vk::SharingMode,
    /// `VkExternalMemoryBufferCreateInfo::handleTypes`, empty when none was chained.
    pub external_types: vk::ExternalMemoryHandleTypeFlags,
    /// The memory bound by a successful `vkBindBufferMemory(2)`, if any.
    pub bound: Option<Binding>,
    /// Nothing but `VkExternalMemoryBufferCreateInfo` was chained: the record holds every
    /// create parameter the driver's memory requirements can depend on.
    pub plain_chain: bool,
}

/// A `VkImage` as created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageRecord {
    pub flags: vk::ImageCreateFlags,
    pub image_type: vk::ImageType,
    pub format: vk::Format,
    /// `extent` as `[width, height, depth]`.
    pub extent: [u32; 3],
    pub mip_levels: u32,
    pub array_layers: u32,
    pub samples: vk::SampleCountFlags,
    pub tiling: vk::ImageTiling,
    pub usage: vk::ImageUsageFlags,
    pub sharing_mode: vk::SharingMode,
    pub initial_layout: vk::ImageLayout,
    /// `VkExternalMemoryImageCreateInfo::handleTypes`, empty when none was chained.
    pub external_types: vk::ExternalMemoryHandleTypeFlags,
    /// `VkExternalMemoryImageCreateInfoNV::handleTypes`, empty when none was chained.
    pub external_types_nv: vk::ExternalMemoryHandleTypeFlagsNV,
    /// Whether a `VkImageFormatListCreateInfo` was chained (see [`image_view_formats`]).
    pub has_format_list: bool,
    /// The memory bound by a successful `vkBindImageMemory(2)`, if any (for a disjoint
    /// image, the last plane bound).
    pub bound: Option<Binding>,
}

/// Memory bound to a buffer or image (non-sparse binds), as the driver accepted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The raw `VkDeviceMemory`.
    pub memory: u64,
    pub offset: u64,
    /// Whether that memory was exported or imported, judged once at bind time so that a
    /// barrier costs one lookup, not two.
    pub external_memory: bool,
}

#[link_section = ".data.handoff_hot"]
static BUFFERS: ShardMap<BufferRecord> = ShardMap::new();
#[link_section = ".data.handoff_hot"]
static IMAGES: ShardMap<ImageRecord> = ShardMap::new();
/// `VkImageFormatListCreateInfo::pViewFormats`, only for images that chained one.
static VIEW_FORMATS: ShardMap<Box<[vk::Format]>> = ShardMap::new();
/// For fork.rs, which holds them across fork().
pub(crate) fn fork_locks() -> [&'static dyn crate::fork::ForkLock; 3] {
    [&BUFFERS, &IMAGES, &VIEW_FORMATS]
}

fn key(device: vk::Device, handle: u64) -> Key {
    (device.as_raw(), handle)
}

impl BufferRecord {
    /// Whether barriers and transfer commands must look at it (see [`filter`]).
    fn interesting(&self) -> bool {
        !self.external_types.is_empty()
            || self.sharing_mode == vk::SharingMode::CONCURRENT
            || self.bound.is_some_and(|b| b.external_memory)
    }
}

impl ImageRecord {
    /// Whether barriers and transfer commands must look at it (see [`filter`]).
    fn interesting(&self) -> bool {
        !self.external_types.is_empty()
            || !self.external_types_nv.is_empty()
            || self.sharing_mode == vk::SharingMode::CONCURRENT
            || self.bound.is_some_and(|b| b.external_memory)
    }
}

/// False when the buffer or image is certainly plain: EXCLUSIVE and not external. One load,
/// no lookup (see [`filter`]).
pub fn maybe_interesting(device: vk::Device, handle: u64) -> bool {
    filter::maybe(device.as_raw(), handle)
}

#[inline]
pub fn insert_buffer(device: vk::Device, buffer: vk::Buffer, rec: BufferRecord) {
    let k = key(device, buffer.as_raw());
    if rec.interesting() {
        filter::add(k.0, k.1);
    }
    if let Some(old) = BUFFERS.insert(k, rec) {
        // helper-S: facts cached by the ownership state are stale now.
        super::ownership::changed();
        // A handle the driver handed out again without the layer seeing its destruction.
        if old.interesting() {
            filter::remove(k.0, k.1);
        }
    }
}

#[cfg(test)]
pub fn remove_buffer(device: vk::Device, buffer: vk::Buffer) -> Option<BufferRecord> {
    let k = key(device, buffer.as_raw());
    let old = BUFFERS.remove(&k);
    if old.is_some_and(|r| r.interesting()) {
        filter::remove(k.0, k.1);
    }
    old
}

/// [`remove_buffer`] for a caller that only asks whether the buffer was tracked.
#[inline]
pub fn forget_buffer(device: vk::Device, buffer: vk::Buffer) -> bool {
    let k = key(device, buffer.as_raw());
    let mut interesting = false;
    let known = BUFFERS
        .remove_if(&k, |r| {
            interesting = r.interesting();
            true
        })
        .is_some();
    if interesting {
        filter::remove(k.0, k.1);
    }
    known
}

pub fn buffer(device: vk::Device, buffer: vk::Buffer) -> Option<BufferRecord> {
    BUFFERS.get(&key(device, buffer.as_raw()))
}

/// `f` on a tracked buffer's record, read in place under its shard's lock (no copy of
/// the record); `None` for an unknown buffer. `f` must be short and must not touch the
/// state map.
#[inline]
pub fn with_buffer<R>(
    device: vk::Device,
    buffer: vk::Buffer,
    f: impl FnOnce(&BufferRecord) -> R,
) -> Option<R> {
    BUFFERS.read(&key(device, buffer.as_raw()), f)
}

/// Sets a tracked buffer's binding to what `decide` returns for its record (under its
/// shard's write lock), keeping the barrier filter's count in step with the record and
/// counting an ownership change; returns the binding it had before. `None`: an unknown
/// buffer, or `decide` said to leave it. `decide` must be short and must not touch the
/// state map.
#[inline]
fn replace_buffer_binding(
    device: vk::Device,
    buffer: vk::Buffer,
    decide: impl FnOnce(&BufferRecord) -> Option<Option<Binding>>,
) -> Option<Option<Binding>> {
    let k = key(device, buffer.as_raw());
    let prev = BUFFERS.update(&k, |r| {
        let bound = decide(r)?;
        let was = r.interesting();
        let prev = std::mem::replace(&mut r.bound, bound);
        match (was, r.interesting()) {
            (false, true) => filter::add(k.0, k.1),
            (true, false) => filter::remove(k.0, k.1),
            _ => {}
        }
        Some(prev)
    })??;
    // helper-S: facts cached by the ownership state are stale now.
    super::ownership::changed();
    Some(prev)
}

/// Records the memory bound to a tracked buffer; an unknown buffer is left alone.
#[inline]
pub fn set_buffer_binding(device: vk::Device, buffer: vk::Buffer, binding: Binding) {
    replace_buffer_binding(device, buffer, |_| Some(Some(binding)));
}

/// A bind judged and recorded under one lookup: runs `judge` on the tracked buffer's
/// record under its shard's write lock and, when it returns a binding, records it there
/// and then. Returns the binding the buffer had before (for [`restore_buffer_binding`]),
/// or `None` for an unknown buffer or a `judge` that returned `None` (nothing recorded).
/// `judge` must be short and must not touch the state map.
#[inline]
pub fn bind_buffer_if(
    device: vk::Device,
    buffer: vk::Buffer,
    judge: impl FnOnce(&BufferRecord) -> Option<Binding>,
) -> Option<Option<Binding>> {
    replace_buffer_binding(device, buffer, |r| judge(r).map(Some))
}

/// Takes back a binding [`bind_buffer_if`] recorded (the driver refused the bind).
pub fn restore_buffer_binding(device: vk::Device, buffer: vk::Buffer, prev: Option<Binding>) {
    replace_buffer_binding(device, buffer, |_| Some(prev));
}

/// Records the memory bound to a tracked image; an unknown image is left alone.
pub fn set_image_binding(device: vk::Device, image: vk::Image, binding: Binding) {
    let k = key(device, image.as_raw());
    IMAGES.update(&k, |r| {
        let was = r.interesting();
        r.bound = Some(binding);
        // helper-S: facts cached by the ownership state are stale now.
        super::ownership::changed();
        if !was && r.interesting() {
            filter::add(k.0, k.1);
        }
    });
}

/// Records an image; `view_formats` is the chained format list, if any.
pub fn insert_image(
    device: vk::Device,
    image: vk::Image,
    rec: ImageRecord,
    view_formats: Option<Vec<vk::Format>>,
) {
    let k = key(device, image.as_raw());
    if rec.interesting() {
        filter::add(k.0, k.1);
    }
    if let Some(old) = IMAGES.insert(k, rec) {
        // helper-S: facts cached by the ownership state are stale now.
        super::ownership::changed();
        if old.interesting() {
            filter::remove(k.0, k.1);
        }
    }
    match view_formats {
        Some(v) => {
            VIEW_FORMATS.insert(k, v.into_boxed_slice());
        }
        None => {
            VIEW_FORMATS.remove(&k);
        }
    }
}

pub fn remove_image(device: vk::Device, image: vk::Image) -> Option<ImageRecord> {
    let k = key(device, image.as_raw());
    VIEW_FORMATS.remove(&k);
    let old = IMAGES.remove(&k);
    if old.is_some_and(|r| r.interesting()) {
        filter::remove(k.0, k.1);
    }
    old
}

pub fn image(device: vk::Device, image: vk::Image) -> Option<ImageRecord> {
    IMAGES.get(&key(device, image.as_raw()))
}

/// The `VkImageFormatListCreateInfo` formats an image was created with.
pub fn image_view_formats(device: vk::Device, image: vk::Image) -> Option<Vec<vk::Format>> {
    VIEW_FORMATS.read(&key(device, image.as_raw()), |v| v.to_vec())
}

/// Drops every buffer and image of `device`; returns the live ones as
/// `(object type, handle)`, buffers first.
pub fn remove_device(device: vk::Device) -> Vec<(vk::ObjectType, u64)> {
    let dev = device.as_raw();
    let mut live: Vec<(vk::ObjectType, u64)> = Vec::new();
    drop_device_records(
        &BUFFERS,
        dev,
        vk::ObjectType::BUFFER,
        BufferRecord::interesting,
        &mut live,
    );
    drop_device_records(
        &IMAGES,
        dev,
        vk::ObjectType::IMAGE,
        ImageRecord::interesting,
        &mut live,
    );
    VIEW_FORMATS.retain(|k, _| k.0 != dev);
    BUFFERS.shrink_to_fit();
    IMAGES.shrink_to_fit();
    VIEW_FORMATS.shrink_to_fit();
    live
}

/// Drops the records of device `dev` from `map`, listing each as `(kind, handle)` in `live`
/// and taking the interesting ones out of the barrier filter.
fn drop_device_records<V>(
    map: &ShardMap<V>,
    dev: u64,
    kind: vk::ObjectType,
    interesting: fn(&V) -> bool,
    live: &mut Vec<(vk::ObjectType, u64)>,
) {
    map.retain(|k, r| {
        let keep = k.0 != dev;
        if !keep {
            live.push((kind, k.1));
            if interesting(r) {
                filter::remove(k.0, k.1);
            }
        }
        keep
    });
}

/// `(buffers, images)` alive now.
pub fn counts() -> (u64, u64) {
    (BUFFERS.len() as u64, IMAGES.len() as u64)
}

/// What the barrier rules and the recording need of a buffer or image, in one lookup: its
/// sharing mode and whether it is external (created with external handle types, or bound
/// to memory that was exported or imported). `None` for an untracked resource.
pub fn sharing_and_external(
    device: vk::Device,
    resource: handoff_rules::checks::ownership::Resource,
) -> Option<(vk::SharingMode, bool)> {
    use handoff_rules::checks::ownership::Resource;
    let k = key(device, resource.raw());
    let (sharing, declared, bound) = match resource {
        Resource::Buffer(_) => BUFFERS.read(&k, |r| {
            (r.sharing_mode, !r.external_types.is_empty(), r.bound)
        })?,
        Resource::Image(_) => IMAGES.read(&k, |r| {
            let declared = !r.external_types.is_empty() || !r.external_types_nv.is_empty();
            (r.sharing_mode, declared, r.bound)
        })?,
    };
    let external = declared || bound.is_some_and(|b| b.external_memory);
    Some((sharing, external))
}

/// Whether a buffer or image is external (see [`sharing_and_external`]).
pub fn is_external(
    device: vk::Device,
    resource: handoff_rules::checks::ownership::Resource,
) -> bool {
    sharing_and_external(device, resource).is_some_and(|(_, e)| e)
}

/// A plain, unbound 4 KiB transfer buffer's record, for tests.
#[cfg(test)]
pub(crate) fn plain_buffer() -> BufferRecord {
    BufferRecord {
        size: 4096,
        flags: vk::BufferCreateFlags::empty(),
        usage: vk::BufferUsageFlags::TRANSFER_DST,
        sharing_mode: vk::SharingMode::EXCLUSIVE,
        external_types: vk::ExternalMemoryHandleTypeFlags::empty(),
        bound: None,
        plain_chain: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ash::vk::Handle;

    /// A bind recorded before the driver's answer is taken back whole when the driver
    /// refuses: binding, external flag and the barrier filter's count.
    #[test]
    fn an_early_bind_is_taken_back() {
        let (device, buffer) = (
            vk::Device::from_raw(0x7e57_0001),
            vk::Buffer::from_raw(0x42),
        );
        insert_buffer(device, buffer, plain_buffer());
        let key = (device.as_raw(), buffer.as_raw());
        assert!(!filter::maybe(key.0, key.1));
        let exported = Binding {
            memory: 7,
            offset: 0,
            external_memory: true,
        };
        // A judge that finds something records nothing.
        assert_eq!(bind_buffer_if(device, buffer, |_| None), None);
        assert_eq!(buffer_bound(device, buffer), None);
        let prev = bind_buffer_if(device, buffer, |_| Some(exported)).unwrap();
        assert_eq!(prev, None);
        assert_eq!(buffer_bound(device, buffer), Some(exported));
        assert!(filter::maybe(key.0, key.1));
        restore_buffer_binding(device, buffer, prev);
        assert_eq!(buffer_bound(device, buffer), None);
        assert!(!filter::maybe(key.0, key.1));
        // An unknown buffer: nothing to judge, nothing recorded.
        let other = vk::Buffer::from_raw(0x43);
        assert_eq!(bind_buffer_if(device, other, |_| Some(exported)), None);
        assert!(remove_buffer(device, buffer).is_some());
    }

    fn buffer_bound(device: vk::Device, buffer: vk::Buffer) -> Option<Binding> {
        super::buffer(device, buffer).and_then(|b| b.bound)
    }
}

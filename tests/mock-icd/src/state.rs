//! The process-wide object registry: every live object of every instance, keyed by its
//! handle value. Unknown handles are simply absent, so no entry point ever dereferences a
//! handle the app made up.

use crate::handles::Dispatchable;
use crate::memory::Memory;
use crate::profile::Profile;
use crate::resources::{Buffer, Image};
use crate::sync::{Fence, Semaphore};
use ash::vk;
use ash::vk::Handle;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// A device group: its physical devices and `subsetAllocation`.
pub type Group = (Vec<u64>, bool);

/// A `VkInstance`.
#[derive(Debug)]
pub struct InstanceObj {
    #[allow(dead_code)] // owns the handle's block, freed with the object
    pub handle: Dispatchable,
    pub profile: Arc<Profile>,
    /// The instance's physical devices, in enumeration order.
    pub physicals: Vec<u64>,
    /// Its device groups: physical devices and `subsetAllocation`.
    pub groups: Vec<Group>,
}

/// A `VkPhysicalDevice`.
#[derive(Debug)]
pub struct PhysicalObj {
    #[allow(dead_code)] // owns the handle's block, freed with the object
    pub handle: Dispatchable,
    pub profile: Arc<Profile>,
}

/// A `VkDevice`.
#[derive(Debug)]
pub struct DeviceObj {
    #[allow(dead_code)] // owns the handle's block, freed with the object
    pub handle: Dispatchable,
    pub physical: u64,
    /// The physical devices of the device group it was created on
    /// (`VkDeviceGroupDeviceCreateInfo::pPhysicalDevices`, or just `physical`): bit `i` of a
    /// device mask is `group[i]`.
    pub group: Vec<u64>,
    pub profile: Arc<Profile>,
    /// `(family, index, flags, queue handle)` of every created queue.
    pub queues: Vec<(u32, u32, vk::DeviceQueueCreateFlags, u64)>,
}

/// A `VkQueue`.
#[derive(Debug)]
pub struct QueueObj {
    pub handle: Dispatchable,
    pub device: u64,
}

/// A `VkCommandBuffer`.
#[derive(Debug)]
pub struct CommandBufferObj {
    pub handle: Dispatchable,
    pub device: u64,
    pub pool: u64,
}

/// A non-dispatchable object.
#[derive(Debug)]
pub enum Object {
    Memory(Memory),
    Buffer(Buffer),
    Image(Image),
    Fence(Fence),
    Semaphore(Semaphore),
    Event { set: bool },
    CommandPool,
    ImageView,
    RenderPass,
    Framebuffer,
}

impl Object {
    /// The memory object, if this is one.
    pub fn as_memory_mut(&mut self) -> Option<&mut Memory> {
        match self {
            Self::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The buffer, if this is one.
    pub fn as_buffer_mut(&mut self) -> Option<&mut Buffer> {
        match self {
            Self::Buffer(b) => Some(b),
            _ => None,
        }
    }

    /// The image, if this is one.
    pub fn as_image_mut(&mut self) -> Option<&mut Image> {
        match self {
            Self::Image(i) => Some(i),
            _ => None,
        }
    }

    /// The fence, if this is one.
    pub fn as_fence_mut(&mut self) -> Option<&mut Fence> {
        match self {
            Self::Fence(f) => Some(f),
            _ => None,
        }
    }

    /// The semaphore, if this is one.
    pub fn as_semaphore_mut(&mut self) -> Option<&mut Semaphore> {
        match self {
            Self::Semaphore(s) => Some(s),
            _ => None,
        }
    }
}

/// A non-dispatchable object with the device that owns it.
#[derive(Debug)]
pub struct Entry {
    pub device: u64,
    pub object: Object,
}

/// All live objects.
#[derive(Debug, Default)]
pub struct Registry {
    pub instances: HashMap<u64, InstanceObj>,
    pub physical_devices: HashMap<u64, PhysicalObj>,
    pub devices: HashMap<u64, DeviceObj>,
    pub queues: HashMap<u64, QueueObj>,
    pub command_buffers: HashMap<u64, CommandBufferObj>,
    pub objects: HashMap<u64, Entry>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

/// For fork.rs, which holds it across fork() (after the work table).
pub(crate) fn fork_lock() -> &'static Mutex<Registry> {
    &REGISTRY
}

/// Runs `f` with the registry locked. A panic in an earlier holder does not poison it:
/// every update leaves the maps consistent.
pub fn with<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut guard = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
    f(&mut guard)
}

impl Registry {
    /// The profile of a live instance.
    pub fn instance_profile(&self, instance: vk::Instance) -> Option<Arc<Profile>> {
        self.instances
            .get(&instance.as_raw())
            .map(|i| i.profile.clone())
    }

    /// The profile of a live physical device.
    pub fn physical_profile(&self, physical: vk::PhysicalDevice) -> Option<Arc<Profile>> {
        self.physical_devices
            .get(&physical.as_raw())
            .map(|p| p.profile.clone())
    }

    /// The profile of a live device.
    pub fn device_profile(&self, device: vk::Device) -> Option<Arc<Profile>> {
        self.devices
            .get(&device.as_raw())
            .map(|d| d.profile.clone())
    }

    /// Adds a non-dispatchable object and returns its handle value.
    pub fn insert(&mut self, device: vk::Device, object: Object) -> u64 {
        let id = crate::handles::next_id();
        self.objects.insert(
            id,
            Entry {
                device: device.as_raw(),
                object,
            },
        );
        id
    }

    /// A live non-dispatchable object.
    pub fn object_mut(&mut self, id: u64) -> Option<&mut Object> {
        self.objects.get_mut(&id).map(|e| &mut e.object)
    }

    /// A live memory object.
    pub fn memory_mut(&mut self, memory: vk::DeviceMemory) -> Option<&mut Memory> {
        self.object_mut(memory.as_raw())
            .and_then(Object::as_memory_mut)
    }

    /// A live buffer.
    pub fn buffer_mut(&mut self, buffer: vk::Buffer) -> Option<&mut Buffer> {
        self.object_mut(buffer.as_raw())
            .and_then(Object::as_buffer_mut)
    }

    /// A live image.
    pub fn image_mut(&mut self, image: vk::Image) -> Option<&mut Image> {
        self.object_mut(image.as_raw())
            .and_then(Object::as_image_mut)
    }

    /// A live fence.
    pub fn fence_mut(&mut self, fence: vk::Fence) -> Option<&mut Fence> {
        self.object_mut(fence.as_raw())
            .and_then(Object::as_fence_mut)
    }

    /// A live semaphore.
    pub fn semaphore_mut(&mut self, semaphore: vk::Semaphore) -> Option<&mut Semaphore> {
        self.object_mut(semaphore.as_raw())
            .and_then(Object::as_semaphore_mut)
    }

    /// Removes a non-dispatchable object if it is live and `keep` accepts it. Dropping the
    /// returned entry releases what the object holds (fds, mappings).
    pub fn remove_if(&mut self, id: u64, keep: impl FnOnce(&Object) -> bool) -> Option<Entry> {
        if self.objects.get(&id).is_some_and(|e| keep(&e.object)) {
            self.objects.remove(&id)
        } else {
            None
        }
    }

    /// Removes a device with its queues, command buffers and every object it still owns.
    pub fn remove_device(&mut self, device: u64) -> Option<DeviceObj> {
        let dev = self.devices.remove(&device)?;
        self.queues.retain(|_, q| q.device != device);
        self.command_buffers.retain(|_, c| c.device != device);
        self.objects.retain(|_, e| e.device != device);
        Some(dev)
    }

    /// The device group of an instance that contains a physical device.
    pub fn group_of(&self, physical: u64) -> Option<&Group> {
        self.instances
            .values()
            .flat_map(|i| &i.groups)
            .find(|(g, _)| g.contains(&physical))
    }

    /// Removes an instance with its physical devices and the devices made from them.
    pub fn remove_instance(&mut self, instance: u64) -> Option<InstanceObj> {
        let inst = self.instances.remove(&instance)?;
        let devices: Vec<u64> = self
            .devices
            .iter()
            .filter(|(_, d)| inst.physicals.contains(&d.physical))
            .map(|(k, _)| *k)
            .collect();
        for d in devices {
            self.remove_device(d);
        }
        for p in &inst.physicals {
            self.physical_devices.remove(p);
        }
        Some(inst)
    }
}

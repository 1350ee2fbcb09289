//! What the mock device reports: the profile schema, the built-in profiles and their
//! selection through `HANDOFF_MOCK_PROFILE`.
//!
//! Every struct here is `#[serde(default)]` with lavapipe's values as the defaults, so a
//! JSON profile may give only the fields it changes. The JSON names are the Vulkan member
//! names (camelCase); flags and handle types are plain numbers. See `README.md`.

mod captured;
mod full;
mod lavapipe;
mod load;
mod nvidia;
mod types;
mod vkstructs;

pub use load::{builtin, builtin_names, from_env, from_json_str, select, ProfileError, ENV_VAR};
pub use types::{DeviceType, Uuid, Version};
pub use vkstructs::{Features, Limits, SparseProperties};

use ash::vk;
use serde::{Deserialize, Serialize};

/// One extension: name and spec version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Extension {
    pub name: String,
    pub spec_version: u32,
}

impl Extension {
    /// An extension entry.
    pub fn new(name: &str, spec_version: u32) -> Self {
        Self {
            name: name.to_owned(),
            spec_version,
        }
    }
}

/// Builds an extension list from `(name, specVersion)` pairs.
pub fn extensions(list: &[(&str, u32)]) -> Vec<Extension> {
    list.iter().map(|(n, v)| Extension::new(n, *v)).collect()
}

/// One queue family (`VkQueueFamilyProperties`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct QueueFamily {
    /// `VkQueueFlags` bits.
    pub queue_flags: u32,
    pub queue_count: u32,
    pub timestamp_valid_bits: u32,
    pub min_image_transfer_granularity: [u32; 3],
}

impl Default for QueueFamily {
    fn default() -> Self {
        Self::new(0x7, 1, 64)
    }
}

impl QueueFamily {
    /// A family with a (1,1,1) transfer granularity.
    pub fn new(queue_flags: u32, queue_count: u32, timestamp_valid_bits: u32) -> Self {
        Self {
            queue_flags,
            queue_count,
            timestamp_valid_bits,
            min_image_transfer_granularity: [1, 1, 1],
        }
    }
}

/// One memory heap (`VkMemoryHeap`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MemoryHeap {
    pub size: u64,
    /// `VkMemoryHeapFlags` bits.
    pub flags: u32,
}

/// One memory type (`VkMemoryType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MemoryType {
    /// `VkMemoryPropertyFlags` bits.
    pub property_flags: u32,
    pub heap_index: u32,
}

/// `VkFormatProperties` of one supported format. Formats not listed are unsupported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct FormatProps {
    /// `VkFormat` value.
    pub format: i32,
    pub linear_tiling_features: u32,
    pub optimal_tiling_features: u32,
    pub buffer_features: u32,
}

impl FormatProps {
    /// From `(format, linear, optimal, buffer)`.
    pub fn from_tuple((format, linear, optimal, buffer): (i32, u32, u32, u32)) -> Self {
        Self {
            format,
            linear_tiling_features: linear,
            optimal_tiling_features: optimal,
            buffer_features: buffer,
        }
    }
}

/// External properties of one handle type (`VkExternalMemoryProperties` and the
/// semaphore/fence/NV equivalents, which have the same three fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalEntry {
    /// The single handle-type bit this entry answers for.
    pub handle_type: u32,
    /// `externalMemoryFeatures` / `externalSemaphoreFeatures` / `externalFenceFeatures`.
    pub features: u32,
    pub export_from_imported_handle_types: u32,
    pub compatible_handle_types: u32,
}

impl ExternalEntry {
    /// An entry.
    pub fn new(
        handle_type: u32,
        features: u32,
        export_from_imported: u32,
        compatible: u32,
    ) -> Self {
        Self {
            handle_type,
            features,
            export_from_imported_handle_types: export_from_imported,
            compatible_handle_types: compatible,
        }
    }
}

/// External properties of one semaphore or fence handle type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalSyncEntry {
    pub handle_type: u32,
    pub features: u32,
    pub export_from_imported_handle_types: u32,
    pub compatible_handle_types: u32,
    /// Semaphores only: the entry applies to binary semaphores.
    pub binary: bool,
    /// Semaphores only: the entry applies to timeline semaphores.
    pub timeline: bool,
}

impl Default for ExternalSyncEntry {
    fn default() -> Self {
        Self {
            handle_type: 0,
            features: 0,
            export_from_imported_handle_types: 0,
            compatible_handle_types: 0,
            binary: true,
            timeline: true,
        }
    }
}

impl ExternalSyncEntry {
    /// An entry for binary and timeline semaphores (or a fence).
    pub fn new(
        handle_type: u32,
        features: u32,
        export_from_imported: u32,
        compatible: u32,
    ) -> Self {
        Self {
            handle_type,
            features,
            export_from_imported_handle_types: export_from_imported,
            compatible_handle_types: compatible,
            ..Self::default()
        }
    }
}

/// A per-format/tiling replacement of an image external-memory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageOverride {
    /// `VkFormat`; absent = any format.
    pub format: Option<i32>,
    /// `VkImageTiling`; absent = any tiling.
    pub tiling: Option<i32>,
    pub handle_type: u32,
    /// `false`: the handle type is unsupported for this format/tiling (answered per
    /// `quirks.unsupportedImageHandleType`).
    pub supported: bool,
    pub features: u32,
    pub export_from_imported_handle_types: u32,
    pub compatible_handle_types: u32,
}

impl Default for ImageOverride {
    fn default() -> Self {
        Self {
            format: None,
            tiling: None,
            handle_type: 0,
            supported: true,
            features: 0,
            export_from_imported_handle_types: 0,
            compatible_handle_types: 0,
        }
    }
}

/// External memory properties for buffers and images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalMemory {
    /// Answers of `vkGetPhysicalDeviceExternalBufferProperties`; absent handle types: all 0.
    pub buffer: Vec<ExternalEntry>,
    /// Answers of `vkGetPhysicalDeviceImageFormatProperties2` for every supported
    /// format/tiling; absent handle types are unsupported.
    pub image: Vec<ExternalEntry>,
    /// Checked before `image`; the first match wins.
    pub image_overrides: Vec<ImageOverride>,
}

impl Default for ExternalMemory {
    fn default() -> Self {
        lavapipe::external_memory()
    }
}

/// How the image format query answers an unsupported external handle type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnsupportedImageHandleType {
    /// `VK_ERROR_FORMAT_NOT_SUPPORTED`, as the spec requires.
    FormatNotSupported,
    /// `VK_SUCCESS` with all external features 0 (lavapipe 22.3.6).
    SuccessZero,
}

/// What `vkGetMemoryFdKHR` does for a handle type the memory was not allocated to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExportUndeclared {
    /// `VK_ERROR_INVALID_EXTERNAL_HANDLE`.
    Error,
    /// `VK_SUCCESS` with fd -1 (lavapipe 22.3.6).
    MinusOne,
}

/// Driver behaviour that differs between drivers on the edges of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Quirks {
    pub unsupported_image_handle_type: UnsupportedImageHandleType,
    pub export_undeclared_handle_type: ExportUndeclared,
}

impl Default for Quirks {
    fn default() -> Self {
        lavapipe::quirks()
    }
}

/// When `VkMemoryDedicatedRequirements` asks for a dedicated allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DedicatedRule {
    /// Resources created with any of these external handle types require one.
    pub requires_for_handle_types: u32,
    /// Resources created with any of these external handle types prefer one.
    pub prefers_for_handle_types: u32,
    /// Every resource requires one.
    pub always_requires: bool,
    /// Every resource prefers one.
    pub always_prefers: bool,
}

impl DedicatedRule {
    /// `(prefers, requires)` for a resource created with `handle_types`.
    pub fn answer(&self, handle_types: u32) -> (bool, bool) {
        let requires = self.always_requires || handle_types & self.requires_for_handle_types != 0;
        let prefers =
            requires || self.always_prefers || handle_types & self.prefers_for_handle_types != 0;
        (prefers, requires)
    }
}

/// Dedicated-allocation rules for buffers and images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DedicatedAllocation {
    pub buffer: DedicatedRule,
    pub image: DedicatedRule,
}

/// Alignments and memory types of `vk*MemoryRequirements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MemoryRequirements {
    pub buffer_alignment: u64,
    pub image_alignment: u64,
    /// Masked with the types that exist.
    pub buffer_memory_type_bits: u32,
    pub image_optimal_memory_type_bits: u32,
    pub image_linear_memory_type_bits: u32,
    /// `maxMemoryAllocationSize` (VkPhysicalDeviceMaintenance3Properties); larger
    /// allocations fail with `VK_ERROR_OUT_OF_DEVICE_MEMORY`.
    pub max_memory_allocation_size: u64,
    /// `maxBufferSize` (VkPhysicalDeviceMaintenance4Properties).
    pub max_buffer_size: u64,
}

impl Default for MemoryRequirements {
    fn default() -> Self {
        lavapipe::memory_requirements()
    }
}

/// Answers of `vkGetMemoryFdPropertiesKHR` and `vkGetMemoryHostPointerPropertiesEXT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct MemoryImportProperties {
    /// `memoryTypeBits` for a DMA_BUF fd.
    pub dma_buf_memory_type_bits: u32,
    /// `memoryTypeBits` for a host pointer.
    pub host_pointer_memory_type_bits: u32,
    /// `minImportedHostPointerAlignment`.
    pub min_imported_host_pointer_alignment: u64,
}

impl Default for MemoryImportProperties {
    fn default() -> Self {
        lavapipe::memory_import_properties()
    }
}

/// One device group of `vkEnumeratePhysicalDeviceGroups`: indices into the profile's
/// physical devices (0 is the profile itself, 1.. its `extraPhysicalDevices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DeviceGroup {
    pub physical_devices: Vec<u32>,
    /// `subsetAllocation`; absent: true for a group of more than one device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subset_allocation: Option<bool>,
}

/// A resolved device group: physical-device indices and `subsetAllocation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGroup {
    pub devices: Vec<usize>,
    pub subset_allocation: bool,
}

/// Keys an `extraPhysicalDevices` entry may not set (they describe the instance).
const INSTANCE_LEVEL_KEYS: &[&str] = &[
    "base",
    "extraPhysicalDevices",
    "deviceGroups",
    "instanceExtensions",
];

/// Everything the mock device reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Profile {
    /// JSON files only: the built-in profile whose values fill what the file leaves out
    /// (default `lavapipe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    pub device_name: String,
    #[serde(rename = "vendorID")]
    pub vendor_id: u32,
    #[serde(rename = "deviceID")]
    pub device_id: u32,
    pub api_version: Version,
    pub driver_version: u32,
    pub device_type: DeviceType,
    #[serde(rename = "pipelineCacheUUID")]
    pub pipeline_cache_uuid: Uuid,
    #[serde(rename = "deviceUUID")]
    pub device_uuid: Uuid,
    #[serde(rename = "driverUUID")]
    pub driver_uuid: Uuid,
    pub device_node_mask: u32,
    /// `VkDriverId` value.
    #[serde(rename = "driverID")]
    pub driver_id: i32,
    pub driver_name: String,
    pub driver_info: String,
    /// `major, minor, subminor, patch`.
    pub conformance_version: [u8; 4],
    pub instance_extensions: Vec<Extension>,
    pub device_extensions: Vec<Extension>,
    pub queue_families: Vec<QueueFamily>,
    pub memory_heaps: Vec<MemoryHeap>,
    pub memory_types: Vec<MemoryType>,
    pub features: Features,
    pub limits: Limits,
    pub sparse_properties: SparseProperties,
    pub formats: Vec<FormatProps>,
    pub external_memory: ExternalMemory,
    pub external_semaphore: Vec<ExternalSyncEntry>,
    pub external_fence: Vec<ExternalSyncEntry>,
    /// `vkGetPhysicalDeviceExternalImageFormatPropertiesNV` (NV handle types and features);
    /// the command exists only with the instance extension
    /// `VK_NV_external_memory_capabilities`.
    pub nv_external_memory: Vec<ExternalEntry>,
    pub dedicated_allocation: DedicatedAllocation,
    pub memory_requirements: MemoryRequirements,
    pub memory_import: MemoryImportProperties,
    pub quirks: Quirks,
    /// More physical devices of the same instance, enumerated after this one: each entry
    /// holds profile keys laid over this profile (objects merge, other values replace).
    pub extra_physical_devices: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Device groups; a physical device in none is a group of its own.
    pub device_groups: Vec<DeviceGroup>,
}

impl Default for Profile {
    fn default() -> Self {
        lavapipe::profile()
    }
}

impl Profile {
    /// Whether the device reports this extension.
    pub fn has_device_ext(&self, name: &str) -> bool {
        self.device_extensions.iter().any(|e| e.name == name)
    }

    /// Whether the instance reports this extension.
    pub fn has_instance_ext(&self, name: &str) -> bool {
        self.instance_extensions.iter().any(|e| e.name == name)
    }

    /// Mask of the memory types that exist.
    pub fn memory_type_mask(&self) -> u32 {
        match self.memory_types.len() {
            n if n >= 32 => u32::MAX,
            n => (1u32 << n) - 1,
        }
    }

    /// The properties of a supported format.
    pub fn format(&self, format: vk::Format) -> Option<&FormatProps> {
        self.formats.iter().find(|f| f.format == format.as_raw())
    }

    /// The buffer external-memory entry of one handle type.
    pub fn buffer_external(&self, handle_type: u32) -> Option<&ExternalEntry> {
        self.external_memory
            .buffer
            .iter()
            .find(|e| e.handle_type == handle_type)
    }

    /// The image external-memory answer of one handle type for a format and tiling:
    /// `None` when unsupported.
    pub fn image_external(
        &self,
        format: vk::Format,
        tiling: vk::ImageTiling,
        handle_type: u32,
    ) -> Option<ExternalEntry> {
        let matches = |o: &&ImageOverride| {
            o.handle_type == handle_type
                && o.format.map_or(true, |f| f == format.as_raw())
                && o.tiling.map_or(true, |t| t == tiling.as_raw())
        };
        if let Some(o) = self.external_memory.image_overrides.iter().find(matches) {
            return o.supported.then(|| {
                ExternalEntry::new(
                    o.handle_type,
                    o.features,
                    o.export_from_imported_handle_types,
                    o.compatible_handle_types,
                )
            });
        }
        self.external_memory
            .image
            .iter()
            .find(|e| e.handle_type == handle_type)
            .cloned()
    }

    /// The semaphore entry of one handle type for a binary or timeline semaphore.
    pub fn semaphore_external(
        &self,
        handle_type: u32,
        timeline: bool,
    ) -> Option<&ExternalSyncEntry> {
        self.external_semaphore
            .iter()
            .find(|e| e.handle_type == handle_type && if timeline { e.timeline } else { e.binary })
    }

    /// The fence entry of one handle type.
    pub fn fence_external(&self, handle_type: u32) -> Option<&ExternalSyncEntry> {
        self.external_fence
            .iter()
            .find(|e| e.handle_type == handle_type)
    }

    /// The profile of every physical device: this one (without the extra devices and the
    /// groups) first, then one per `extraPhysicalDevices` entry, laid over it.
    pub fn physical_devices(&self) -> Result<Vec<Profile>, String> {
        let mut first = self.clone();
        first.base = None;
        first.extra_physical_devices.clear();
        first.device_groups.clear();
        let mut all = vec![first.clone()];
        let base = serde_json::to_value(&first).map_err(|e| e.to_string())?;
        for (i, over) in self.extra_physical_devices.iter().enumerate() {
            if let Some(k) = INSTANCE_LEVEL_KEYS.iter().find(|k| over.contains_key(**k)) {
                return Err(format!(
                    "extraPhysicalDevices[{i}]: {k:?} cannot differ between physical devices"
                ));
            }
            let mut merged = base.clone();
            load::merge(&mut merged, serde_json::Value::Object(over.clone()));
            let p: Profile = serde_json::from_value(merged)
                .map_err(|e| format!("extraPhysicalDevices[{i}]: {e}"))?;
            load::check(&p).map_err(|e| format!("extraPhysicalDevices[{i}]: {e}"))?;
            all.push(p);
        }
        Ok(all)
    }

    /// Every device group, each physical device in exactly one (those `deviceGroups`
    /// leaves out alone), ordered by their first device.
    pub fn resolved_device_groups(&self) -> Result<Vec<ResolvedGroup>, String> {
        let count = 1 + self.extra_physical_devices.len();
        let mut owner: Vec<Option<usize>> = vec![None; count];
        for (g, group) in self.device_groups.iter().enumerate() {
            if group.physical_devices.is_empty()
                || group.physical_devices.len() > vk::MAX_DEVICE_GROUP_SIZE
            {
                return Err(format!(
                    "deviceGroups[{g}] has {} devices (1 to {} allowed)",
                    group.physical_devices.len(),
                    vk::MAX_DEVICE_GROUP_SIZE
                ));
            }
            for &d in &group.physical_devices {
                let Some(slot) = owner.get_mut(d as usize) else {
                    return Err(format!(
                        "deviceGroups[{g}]: physical device {d} does not exist (there are {count})"
                    ));
                };
                if slot.is_some() {
                    return Err(format!(
                        "deviceGroups[{g}]: physical device {d} is already in a group"
                    ));
                }
                *slot = Some(g);
            }
        }
        let mut groups: Vec<ResolvedGroup> = Vec::new();
        for (d, o) in owner.iter().enumerate() {
            if groups.iter().any(|r| r.devices.contains(&d)) {
                continue;
            }
            groups.push(match o {
                None => ResolvedGroup {
                    devices: vec![d],
                    subset_allocation: false,
                },
                Some(g) => {
                    let group = &self.device_groups[*g];
                    let devices: Vec<usize> =
                        group.physical_devices.iter().map(|&x| x as usize).collect();
                    ResolvedGroup {
                        subset_allocation: group.subset_allocation.unwrap_or(devices.len() > 1),
                        devices,
                    }
                }
            });
        }
        Ok(groups)
    }

    /// The packed `apiVersion`.
    pub fn api_version(&self) -> u32 {
        self.api_version.0
    }
}

#[cfg(test)]
mod tests;

//! Profile parsing and selection.

use super::*;

const EXAMPLE: &str = include_str!("../../profiles/example.json");

fn without_base(mut p: Profile) -> Profile {
    p.base = None;
    p
}

#[test]
fn unset_or_empty_selects_lavapipe() {
    assert_eq!(select(None).unwrap(), lavapipe::profile());
    assert_eq!(select(Some("")).unwrap(), lavapipe::profile());
    assert_eq!(select(Some("  ")).unwrap(), lavapipe::profile());
}

#[test]
fn builtin_names_select_their_profiles() {
    for name in builtin_names() {
        let p = select(Some(name)).unwrap();
        assert_eq!(Some(p), builtin(name));
    }
    assert_eq!(select(Some("nvidia")).unwrap().device_name, "NVIDIA H200");
    assert_eq!(select(Some("full")).unwrap().driver_name, "handoff-mock");
}

#[test]
fn unknown_name_is_an_error_naming_the_value() {
    let err = select(Some("radeon")).unwrap_err();
    assert_eq!(err, ProfileError::UnknownName("radeon".into()));
    let text = err.to_string();
    assert!(
        text.contains("radeon") && text.contains("lavapipe, nvidia, full"),
        "{text}"
    );
}

#[test]
fn slash_or_json_suffix_means_a_file() {
    assert!(matches!(
        select(Some("missing.json")),
        Err(ProfileError::Unreadable { .. })
    ));
    assert!(matches!(
        select(Some("./nowhere/profile")),
        Err(ProfileError::Unreadable { .. })
    ));
    assert!(matches!(
        select(Some("/nonexistent/x")),
        Err(ProfileError::Unreadable { .. })
    ));
}

#[test]
fn file_profile_is_read_and_invalid_file_reported() {
    let dir =
        std::env::temp_dir().join(format!("handoff-mock-profile-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(&good, r#"{"deviceName": "from a file", "base": "nvidia"}"#).unwrap();
    let p = select(good.to_str()).unwrap();
    assert_eq!(p.device_name, "from a file");
    assert_eq!(p.vendor_id, 0x10de);
    assert_eq!(p.base.as_deref(), Some("nvidia"));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let err = select(bad.to_str()).unwrap_err();
    assert!(matches!(err, ProfileError::Invalid { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_object_is_lavapipe_through_serde_defaults_and_merge() {
    let direct: Profile = serde_json::from_str("{}").unwrap();
    assert_eq!(direct, lavapipe::profile());
    assert_eq!(
        without_base(from_json_str("{}").unwrap()),
        lavapipe::profile()
    );
}

#[test]
fn partial_nested_objects_keep_the_base_values() {
    let p = from_json_str(
        r#"{"features": {"sparseBinding": true}, "limits": {"maxImageDimension2D": 1234}}"#,
    )
    .unwrap();
    let base = lavapipe::profile();
    assert!(p.features.sparse_binding);
    assert_eq!(
        p.features.robust_buffer_access,
        base.features.robust_buffer_access
    );
    assert_eq!(
        p.features.timeline_semaphore,
        base.features.timeline_semaphore
    );
    assert_eq!(p.limits.max_image_dimension2_d, 1234);
    assert_eq!(
        p.limits.max_image_dimension1_d,
        base.limits.max_image_dimension1_d
    );
    // Direct serde (no merge) defaults nested structs to lavapipe's values too.
    let direct: Profile = serde_json::from_str(r#"{"features": {"sparseBinding": true}}"#).unwrap();
    assert!(direct.features.sparse_binding);
    assert_eq!(direct.features.shader_float64, base.features.shader_float64);
}

#[test]
fn arrays_replace_the_base() {
    let p = from_json_str(
        r#"{"base": "nvidia", "queueFamilies": [{"queueFlags": 4, "queueCount": 3}]}"#,
    )
    .unwrap();
    assert_eq!(
        p.queue_families,
        vec![QueueFamily {
            queue_flags: 4,
            queue_count: 3,
            ..QueueFamily::default()
        }]
    );
    assert_eq!(
        p.queue_families[0].min_image_transfer_granularity,
        [1, 1, 1]
    );
}

#[test]
fn value_forms_are_parsed() {
    let p = from_json_str(
        r#"{"apiVersion": "1.2.3", "deviceUUID": "00112233-4455-6677-8899-aabbccddeeff",
            "driverUUID": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16], "deviceType": "INTEGRATED_GPU"}"#,
    )
    .unwrap();
    assert_eq!(p.api_version, Version::new(1, 2, 3));
    assert_eq!(p.device_uuid.to_hex(), "00112233445566778899aabbccddeeff");
    assert_eq!(p.driver_uuid.0[15], 16);
    assert_eq!(p.device_type, DeviceType::IntegratedGpu);
    let packed = from_json_str(&format!(
        r#"{{"apiVersion": {}}}"#,
        ash::vk::API_VERSION_1_1
    ))
    .unwrap();
    assert_eq!(packed.api_version.to_string(), "1.1.0");
}

#[test]
fn bad_values_are_rejected_with_a_reason() {
    let cases = [
        (r#"{"deviceUUID": "1234"}"#, "UUID"),
        (r#"{"apiVersion": "one.two"}"#, "version"),
        (r#"{"deviceType": "GPU"}"#, "GPU"),
        (r#"{"noSuchField": 1}"#, "noSuchField"),
        (r#"{"features": {"noSuchFeature": true}}"#, "noSuchFeature"),
        (r#"{"base": "mystery"}"#, "mystery"),
        (r#"{"base": 3}"#, "base"),
        ("[]", "object"),
        (
            r#"{"memoryTypes": [{"propertyFlags": 1, "heapIndex": 5}]}"#,
            "heapIndex",
        ),
        (r#"{"queueFamilies": []}"#, "queueFamilies"),
        (
            r#"{"queueFamilies": [{"queueFlags": 1, "queueCount": 0}]}"#,
            "queueCount",
        ),
        (
            r#"{"externalMemory": {"buffer": [{"handleType": 3}]}}"#,
            "single bit",
        ),
        (r#"{"externalFence": [{"handleType": 0}]}"#, "single bit"),
    ];
    for (json, needle) in cases {
        let err = from_json_str(json).unwrap_err();
        assert!(err.contains(needle), "{json}: {err}");
    }
}

#[test]
fn builtins_round_trip_through_json() {
    for name in builtin_names() {
        let p = builtin(name).unwrap();
        let text = serde_json::to_string_pretty(&p).unwrap();
        let back = from_json_str(&text).unwrap();
        assert_eq!(without_base(back), p, "{name}");
        let via_base = from_json_str(&format!(r#"{{"base": "{name}"}}"#)).unwrap();
        assert_eq!(without_base(via_base), p, "{name}");
    }
}

#[test]
fn example_profile_parses() {
    let p = from_json_str(EXAMPLE).unwrap();
    assert_eq!(p.base.as_deref(), Some("full"));
    assert_eq!(p.device_name, "Example mock device");
    assert_ne!(p.device_uuid, full::profile().device_uuid);
}

#[test]
fn lavapipe_matches_the_capture() {
    let p = lavapipe::profile();
    assert_eq!(p.api_version.to_string(), "1.3.230");
    assert_eq!(p.device_uuid.to_hex(), "6d65736132322e332e36000000000000");
    assert_eq!(p.driver_uuid.to_hex(), "6c6c766d706970655555494400000000");
    assert_eq!(p.queue_families, vec![QueueFamily::new(0x7, 1, 64)]);
    assert_eq!(
        p.memory_types,
        vec![MemoryType {
            property_flags: 0xf,
            heap_index: 0
        }]
    );
    assert!(!p.features.sparse_binding && !p.features.buffer_device_address_capture_replay);
    assert!(p.features.synchronization2 && p.features.timeline_semaphore);
    let opaque = ExternalEntry::new(0x1, 0x6, 0x1, 0x1);
    let host = ExternalEntry::new(0x80, 0x4, 0x0, 0x80);
    assert_eq!(p.external_memory.buffer, vec![opaque.clone(), host.clone()]);
    for format in [37, 44, 97, 100, 126] {
        let f = ash::vk::Format::from_raw(format);
        assert_eq!(
            p.image_external(f, ash::vk::ImageTiling::OPTIMAL, 0x1),
            Some(opaque.clone())
        );
        assert_eq!(
            p.image_external(f, ash::vk::ImageTiling::OPTIMAL, 0x200),
            None
        );
    }
    assert!(p
        .format(ash::vk::Format::G8_B8R8_2PLANE_420_UNORM)
        .is_none());
    assert_eq!(
        p.format(ash::vk::Format::D32_SFLOAT)
            .unwrap()
            .linear_tiling_features,
        0
    );
    assert_eq!(
        p.quirks.unsupported_image_handle_type,
        UnsupportedImageHandleType::SuccessZero
    );
    assert!(p.external_semaphore.is_empty() && p.external_fence.is_empty());
    for absent in [
        "VK_EXT_external_memory_dma_buf",
        "VK_EXT_queue_family_foreign",
        "VK_KHR_external_semaphore_fd",
        "VK_KHR_external_fence_fd",
        "VK_NV_external_memory",
        "VK_EXT_image_drm_format_modifier",
    ] {
        assert!(!p.has_device_ext(absent), "{absent}");
    }
    assert!(
        p.has_device_ext("VK_KHR_external_memory_fd")
            && p.has_device_ext("VK_EXT_external_memory_host")
    );
    assert_eq!(p.dedicated_allocation.image.answer(0x1), (false, false));
}

#[test]
fn nvidia_matches_the_capture() {
    let p = nvidia::profile();
    assert_eq!(p.api_version.to_string(), "1.4.312");
    assert_eq!(p.device_uuid.to_hex(), "0f063d2399394854ac718feb436339ef");
    assert_eq!(p.driver_uuid.to_hex(), "c7d8a05ebe165883a8186d61bf0812b6");
    let families: Vec<(u32, u32, u32)> = p
        .queue_families
        .iter()
        .map(|q| (q.queue_flags, q.queue_count, q.timestamp_valid_bits))
        .collect();
    assert_eq!(
        families,
        vec![
            (0xf, 16, 64),
            (0xc, 2, 64),
            (0xe, 8, 64),
            (0x2c, 7, 32),
            (0x10c, 1, 64)
        ]
    );
    let types: Vec<(u32, u32)> = p
        .memory_types
        .iter()
        .map(|t| (t.property_flags, t.heap_index))
        .collect();
    assert_eq!(
        types,
        vec![(0x0, 1), (0x1, 0), (0x6, 1), (0xe, 1), (0x7, 0)]
    );
    assert_eq!(p.memory_heaps.len(), 2);
    assert_eq!(
        p.external_semaphore,
        vec![ExternalSyncEntry::new(1, 3, 1, 1)]
    );
    assert_eq!(p.external_fence, vec![ExternalSyncEntry::new(1, 3, 1, 1)]);
    assert_eq!(
        p.buffer_external(0x80),
        Some(&ExternalEntry::new(0x80, 0x6, 0x80, 0x80))
    );
    assert!(
        p.has_device_ext("VK_EXT_queue_family_foreign")
            && !p.has_device_ext("VK_EXT_external_memory_dma_buf")
    );
    assert_eq!(
        p.quirks.unsupported_image_handle_type,
        UnsupportedImageHandleType::FormatNotSupported
    );
}

#[test]
fn full_has_every_knob_turned() {
    let p = full::profile();
    for ext in [
        "VK_EXT_external_memory_dma_buf",
        "VK_EXT_queue_family_foreign",
        "VK_KHR_external_semaphore_fd",
        "VK_KHR_external_fence_fd",
        "VK_NV_external_memory",
        "VK_EXT_image_drm_format_modifier",
        "VK_NV_dedicated_allocation_image_aliasing",
        "VK_KHR_dedicated_allocation",
        "VK_KHR_external_memory_fd",
        "VK_KHR_synchronization2",
        "VK_KHR_timeline_semaphore",
    ] {
        assert!(p.has_device_ext(ext), "{ext}");
    }
    assert!(p.has_instance_ext("VK_NV_external_memory_capabilities"));
    assert!(p.queue_families.len() >= 2);
    assert!(p.queue_families.iter().any(|q| q.queue_flags == 0x4));
    assert!(p.features.sparse_binding);
    assert_eq!(p.memory_types.len(), 3);
    let rgba = ash::vk::Format::R8G8B8A8_UNORM;
    let dma = p
        .image_external(rgba, ash::vk::ImageTiling::OPTIMAL, 0x200)
        .unwrap();
    assert_eq!(dma.features, 0x7);
    assert_eq!(p.buffer_external(0x200).unwrap().features, 0x6);
    assert_eq!(p.buffer_external(0x1).unwrap().compatible_handle_types, 0x1);
    assert_eq!(
        p.image_external(
            ash::vk::Format::D32_SFLOAT,
            ash::vk::ImageTiling::OPTIMAL,
            0x200
        ),
        None
    );
    assert_eq!(p.dedicated_allocation.image.answer(0x200), (true, true));
    assert!(
        p.semaphore_external(0x10, false).is_some() && p.semaphore_external(0x10, true).is_none()
    );
    assert!(p.fence_external(0x8).is_some() && p.fence_external(0x1).is_some());
    assert_ne!(
        p.memory_import.dma_buf_memory_type_bits & p.memory_type_mask(),
        p.memory_type_mask()
    );
}

#[test]
fn builtin_uuids_are_distinct() {
    let all: Vec<Profile> = builtin_names().iter().filter_map(|n| builtin(n)).collect();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a.device_uuid, b.device_uuid);
            assert_ne!(a.driver_uuid, b.driver_uuid);
        }
    }
}

#[test]
fn lavapipe_and_nvidia_have_one_physical_device_in_its_own_group() {
    for name in ["lavapipe", "nvidia"] {
        let p = builtin(name).unwrap();
        let devices = p.physical_devices().unwrap();
        assert_eq!(devices.len(), 1, "{name}");
        assert_eq!(devices[0], p, "{name}: the device is the profile");
        assert_eq!(
            p.resolved_device_groups().unwrap(),
            vec![ResolvedGroup {
                devices: vec![0],
                subset_allocation: false
            }],
            "{name}"
        );
    }
}

#[test]
fn full_has_a_second_device_with_its_own_uuids_in_a_group_of_two() {
    let p = builtin("full").unwrap();
    let devices = p.physical_devices().unwrap();
    assert_eq!(devices.len(), 2);
    let (a, b) = (&devices[0], &devices[1]);
    assert!(a.extra_physical_devices.is_empty() && a.device_groups.is_empty());
    assert_eq!(a.device_uuid, p.device_uuid);
    assert_ne!(a.device_uuid, b.device_uuid);
    assert_ne!(a.driver_uuid, b.driver_uuid);
    assert_ne!(a.device_name, b.device_name);
    assert_eq!(b.device_node_mask, 2);
    // Everything else is the first device's.
    assert_eq!(a.external_memory, b.external_memory);
    assert_eq!(a.device_extensions, b.device_extensions);
    assert_eq!(
        p.resolved_device_groups().unwrap(),
        vec![ResolvedGroup {
            devices: vec![0, 1],
            subset_allocation: true
        }]
    );
}

#[test]
fn json_extra_devices_and_groups() {
    let p = from_json_str(
        r#"{"extraPhysicalDevices": [{"deviceName": "B"}, {"deviceName": "C", "deviceUUID": "000102030405060708090a0b0c0d0e0f"}],
            "deviceGroups": [{"physicalDevices": [2, 0]}]}"#,
    )
    .unwrap();
    let devices = p.physical_devices().unwrap();
    let names: Vec<&str> = devices.iter().map(|d| d.device_name.as_str()).collect();
    assert_eq!(names, ["llvmpipe (LLVM 15.0.6, 256 bits)", "B", "C"]);
    assert_eq!(devices[2].device_uuid.0[15], 15);
    assert_eq!(
        p.resolved_device_groups().unwrap(),
        vec![
            ResolvedGroup {
                devices: vec![2, 0],
                subset_allocation: true
            },
            ResolvedGroup {
                devices: vec![1],
                subset_allocation: false
            },
        ]
    );
    // A file based on `full` keeps its devices unless it replaces them.
    let p = from_json_str(r#"{"base": "full", "deviceName": "X"}"#).unwrap();
    assert_eq!(
        p.physical_devices().unwrap()[1].device_name,
        "Handoff mock device (full, second)"
    );
    let p = from_json_str(r#"{"base": "full", "extraPhysicalDevices": [], "deviceGroups": []}"#)
        .unwrap();
    assert_eq!(p.physical_devices().unwrap().len(), 1);
}

#[test]
fn bad_extra_devices_and_groups_are_errors() {
    let cases = [
        (
            r#"{"deviceGroups": [{"physicalDevices": [1]}]}"#,
            "does not exist",
        ),
        (
            r#"{"extraPhysicalDevices": [{}], "deviceGroups": [{"physicalDevices": [0, 1]}, {"physicalDevices": [1]}]}"#,
            "already in a group",
        ),
        (r#"{"deviceGroups": [{"physicalDevices": []}]}"#, "1 to 32"),
        (
            r#"{"extraPhysicalDevices": [{"instanceExtensions": []}]}"#,
            "instanceExtensions",
        ),
        (
            r#"{"extraPhysicalDevices": [{"deviceGroups": []}]}"#,
            "deviceGroups",
        ),
        (r#"{"extraPhysicalDevices": [{"colour": 1}]}"#, "colour"),
        (
            r#"{"extraPhysicalDevices": [{"queueFamilies": []}]}"#,
            "queueFamilies is empty",
        ),
        (
            r#"{"deviceGroups": [{"physicalDevices": [0], "size": 1}]}"#,
            "size",
        ),
    ];
    for (text, needle) in cases {
        let err = from_json_str(text).unwrap_err();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

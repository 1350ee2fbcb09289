//! Object lifetime at device destruction.

use crate::catalogue::LEAK_LIVE_OBJECTS;
use crate::finding::{Finding, Object};
use ash::vk;

/// `vkDestroyDevice` while tracked objects are alive: one finding listing them.
pub fn destroy_device(device: u64, live: &[Object]) -> Option<Finding> {
    if live.is_empty() {
        return None;
    }
    let mut kinds: Vec<(&str, usize)> = Vec::new();
    for obj in live {
        match kinds.iter_mut().find(|(k, _)| *k == obj.type_name()) {
            Some((_, n)) => *n += 1,
            None => kinds.push((obj.type_name(), 1)),
        }
    }
    let list = kinds
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut objects = vec![Object::new(vk::ObjectType::DEVICE, device)];
    objects.extend_from_slice(live);
    Some(Finding::new(
        &LEAK_LIVE_OBJECTS,
        format!(
            "vkDestroyDevice was called while {list} created from it were still alive. Free or \
             destroy them first; exported payloads stay alive in other processes only through \
             their own imports."
        ),
        objects,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_live_is_silent() {
        assert!(destroy_device(1, &[]).is_none());
    }

    #[test]
    fn lists_counts_per_type() {
        let live = [
            Object::new(vk::ObjectType::DEVICE_MEMORY, 5),
            Object::new(vk::ObjectType::DEVICE_MEMORY, 6),
        ];
        let f = destroy_device(1, &live).unwrap();
        assert_eq!(f.id(), "HANDOFF-Leak-live-objects");
        assert!(f.message.contains("2 VkDeviceMemory"));
        assert_eq!(f.objects.len(), 3);
    }
}

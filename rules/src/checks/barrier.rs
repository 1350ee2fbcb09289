//! Record-time parameter rules for queue family ownership transfers in `vkCmdPipelineBarrier`
//! and `vkCmdPipelineBarrier2(KHR)` buffer and image memory barriers (RULES-TARGET 1.11,
//! 1.12, 1.18).
//!
//! `EXTERNAL`→`EXTERNAL` (and any `src == dst`) is no transfer and stays silent; only a
//! transfer between two *different* special families is invalid (04087/04070).

use crate::catalogue::*;
use crate::finding::{Finding, Object};
use ash::vk;

/// Which barrier structure, and so which command and which ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `VkBufferMemoryBarrier` of `vkCmdPipelineBarrier`.
    Buffer,
    /// `VkBufferMemoryBarrier2` of `vkCmdPipelineBarrier2(KHR)`.
    Buffer2,
    /// `VkImageMemoryBarrier` of `vkCmdPipelineBarrier`.
    Image,
    /// `VkImageMemoryBarrier2` of `vkCmdPipelineBarrier2(KHR)`.
    Image2,
}

struct Rules {
    array: &'static str,
    both_special: &'static Rule,
    external_src: &'static Rule,
    external_dst: &'static Rule,
    foreign_src: &'static Rule,
    foreign_dst: &'static Rule,
    exclusive_src: &'static Rule,
    exclusive_dst: &'static Rule,
    host: &'static Rule,
}

impl Kind {
    fn rules(self) -> Rules {
        match self {
            Kind::Buffer => Rules {
                array: "pBufferMemoryBarriers",
                both_special: &BARRIER_BUF_BOTH_SPECIAL,
                external_src: &BARRIER_BUF_EXTERNAL_SRC_UNSUPPORTED,
                external_dst: &BARRIER_BUF_EXTERNAL_DST_UNSUPPORTED,
                foreign_src: &BARRIER_BUF_FOREIGN_SRC_UNSUPPORTED,
                foreign_dst: &BARRIER_BUF_FOREIGN_DST_UNSUPPORTED,
                exclusive_src: &BARRIER_BUF_EXCLUSIVE_SRC_INVALID,
                exclusive_dst: &BARRIER_BUF_EXCLUSIVE_DST_INVALID,
                host: &BARRIER_BUF_HOST_STAGE,
            },
            Kind::Buffer2 => Rules {
                array: "pDependencyInfo->pBufferMemoryBarriers",
                both_special: &BARRIER_BUF2_BOTH_SPECIAL,
                external_src: &BARRIER_BUF2_EXTERNAL_SRC_UNSUPPORTED,
                external_dst: &BARRIER_BUF2_EXTERNAL_DST_UNSUPPORTED,
                foreign_src: &BARRIER_BUF2_FOREIGN_SRC_UNSUPPORTED,
                foreign_dst: &BARRIER_BUF2_FOREIGN_DST_UNSUPPORTED,
                exclusive_src: &BARRIER_BUF2_EXCLUSIVE_SRC_INVALID,
                exclusive_dst: &BARRIER_BUF2_EXCLUSIVE_DST_INVALID,
                host: &BARRIER_BUF2_HOST_STAGE,
            },
            Kind::Image => Rules {
                array: "pImageMemoryBarriers",
                both_special: &BARRIER_IMG_BOTH_SPECIAL,
                external_src: &BARRIER_IMG_EXTERNAL_SRC_UNSUPPORTED,
                external_dst: &BARRIER_IMG_EXTERNAL_DST_UNSUPPORTED,
                foreign_src: &BARRIER_IMG_FOREIGN_SRC_UNSUPPORTED,
                foreign_dst: &BARRIER_IMG_FOREIGN_DST_UNSUPPORTED,
                exclusive_src: &BARRIER_IMG_EXCLUSIVE_SRC_INVALID,
                exclusive_dst: &BARRIER_IMG_EXCLUSIVE_DST_INVALID,
                host: &BARRIER_IMG_HOST_STAGE,
            },
            Kind::Image2 => Rules {
                array: "pDependencyInfo->pImageMemoryBarriers",
                both_special: &BARRIER_IMG2_BOTH_SPECIAL,
                external_src: &BARRIER_IMG2_EXTERNAL_SRC_UNSUPPORTED,
                external_dst: &BARRIER_IMG2_EXTERNAL_DST_UNSUPPORTED,
                foreign_src: &BARRIER_IMG2_FOREIGN_SRC_UNSUPPORTED,
                foreign_dst: &BARRIER_IMG2_FOREIGN_DST_UNSUPPORTED,
                exclusive_src: &BARRIER_IMG2_EXCLUSIVE_SRC_INVALID,
                exclusive_dst: &BARRIER_IMG2_EXCLUSIVE_DST_INVALID,
                host: &BARRIER_IMG2_HOST_STAGE,
            },
        }
    }

    fn object_type(self) -> vk::ObjectType {
        match self {
            Kind::Buffer | Kind::Buffer2 => vk::ObjectType::BUFFER,
            Kind::Image | Kind::Image2 => vk::ObjectType::IMAGE,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Buffer | Kind::Buffer2 => "buffer",
            Kind::Image | Kind::Image2 => "image",
        }
    }
}

/// What the device offers, and which call is recorded.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub device: u64,
    pub command_buffer: u64,
    /// `vkCmdPipelineBarrier`, `vkCmdPipelineBarrier2` or `vkCmdPipelineBarrier2KHR`.
    pub command: &'static str,
    /// Vulkan 1.1 or VK_KHR_external_memory.
    pub external_enabled: bool,
    /// VK_EXT_queue_family_foreign.
    pub foreign_enabled: bool,
    /// `vkGetPhysicalDeviceQueueFamilyProperties`' count.
    pub queue_family_count: u32,
}

/// One buffer or image memory barrier.
#[derive(Clone, Copy, Debug)]
pub struct Barrier {
    pub kind: Kind,
    /// Index in its array.
    pub index: usize,
    /// The buffer or image handle.
    pub resource: u64,
    pub src: u32,
    pub dst: u32,
    /// The barrier's (sync2) or the command's (sync1) stage masks include HOST.
    pub host_stage: bool,
    /// The resource's sharing mode, when the layer tracks it.
    pub sharing: Option<vk::SharingMode>,
}

/// `VK_QUEUE_FAMILY_EXTERNAL` or `VK_QUEUE_FAMILY_FOREIGN_EXT`.
#[inline]
pub fn is_special(family: u32) -> bool {
    family == vk::QUEUE_FAMILY_EXTERNAL || family == vk::QUEUE_FAMILY_FOREIGN_EXT
}

/// Whether a barrier can break any rule of this module (the cheap pre-filter: no
/// allocation, no lookup). A barrier with `src == dst` that names no special family, or a
/// transfer between two valid families without a HOST stage, never can.
#[inline]
pub fn needs_check(src: u32, dst: u32, host_stage: bool, queue_family_count: u32) -> bool {
    if is_special(src) || is_special(dst) {
        return true;
    }
    src != dst && (host_stage || src >= queue_family_count || dst >= queue_family_count)
}

fn family(f: u32) -> String {
    match f {
        vk::QUEUE_FAMILY_EXTERNAL => "VK_QUEUE_FAMILY_EXTERNAL".to_owned(),
        vk::QUEUE_FAMILY_FOREIGN_EXT => "VK_QUEUE_FAMILY_FOREIGN_EXT".to_owned(),
        vk::QUEUE_FAMILY_IGNORED => "VK_QUEUE_FAMILY_IGNORED".to_owned(),
        n => n.to_string(),
    }
}

/// Whether any rule of [`check`] fires for `b`: the same conditions, without building a
/// message, so that the common valid transfer formats nothing.
#[inline]
fn may_fire(ctx: &Context, b: &Barrier) -> bool {
    let transfer = b.src != b.dst;
    let unknown = |f: u32| !is_special(f) && f >= ctx.queue_family_count;
    (transfer && is_special(b.src) && is_special(b.dst))
        || (!ctx.external_enabled
            && (b.src == vk::QUEUE_FAMILY_EXTERNAL || b.dst == vk::QUEUE_FAMILY_EXTERNAL))
        || (!ctx.foreign_enabled
            && (b.src == vk::QUEUE_FAMILY_FOREIGN_EXT || b.dst == vk::QUEUE_FAMILY_FOREIGN_EXT))
        || (transfer
            && b.sharing == Some(vk::SharingMode::EXCLUSIVE)
            && (unknown(b.src) || unknown(b.dst)))
        || (transfer && b.host_stage)
}

/// The findings of one barrier.
pub fn check(ctx: &Context, b: &Barrier) -> Vec<Finding> {
    let mut out = Vec::new();
    check_into(ctx, b, &mut out);
    out
}

/// [`check`], appending to `out`: inlined into the layer's barrier loop, so that a valid
/// barrier costs a few compares and no call.
#[inline]
pub fn check_into(ctx: &Context, b: &Barrier, out: &mut Vec<Finding>) {
    if may_fire(ctx, b) {
        messages(ctx, b, out);
    }
}

// Out of line and cold: only a barrier that breaks a rule formats anything.
#[cold]
#[inline(never)]
fn messages(ctx: &Context, b: &Barrier, out: &mut Vec<Finding>) {
    let rules = b.kind.rules();
    let at = format!("{} {}[{}]", ctx.command, rules.array, b.index);
    let noun = b.kind.noun();
    let res = format!("0x{:x}", b.resource);
    let (s, d) = (family(b.src), family(b.dst));
    let objects = || {
        vec![
            Object::new(b.kind.object_type(), b.resource),
            Object::new(vk::ObjectType::COMMAND_BUFFER, ctx.command_buffer),
            Object::new(vk::ObjectType::DEVICE, ctx.device),
        ]
    };
    let transfer = b.src != b.dst;
    if transfer && is_special(b.src) && is_special(b.dst) {
        out.push(Finding::new(
            rules.both_special,
            format!(
                "{at} transfers {noun} {res} from {s} to {d}: both are special queue families \
                 reserved for external ownership transfers. Release to a special family from \
                 a queue family of this device, or acquire from it into one."
            ),
            objects(),
        ));
    }
    if !ctx.external_enabled {
        for (f, rule, side) in [
            (b.src, rules.external_src, "srcQueueFamilyIndex"),
            (b.dst, rules.external_dst, "dstQueueFamilyIndex"),
        ] {
            if f == vk::QUEUE_FAMILY_EXTERNAL {
                out.push(Finding::new(
                    rule,
                    format!(
                        "{at} ({noun} {res}) has {side} VK_QUEUE_FAMILY_EXTERNAL, but the \
                         device has neither Vulkan 1.1 nor VK_KHR_external_memory. Create the \
                         instance with apiVersion 1.1 or enable VK_KHR_external_memory."
                    ),
                    objects(),
                ));
            }
        }
    }
    if !ctx.foreign_enabled {
        for (f, rule, side) in [
            (b.src, rules.foreign_src, "srcQueueFamilyIndex"),
            (b.dst, rules.foreign_dst, "dstQueueFamilyIndex"),
        ] {
            if f == vk::QUEUE_FAMILY_FOREIGN_EXT {
                out.push(Finding::new(
                    rule,
                    format!(
                        "{at} ({noun} {res}) has {side} VK_QUEUE_FAMILY_FOREIGN_EXT, but \
                         VK_EXT_queue_family_foreign is not enabled on the device. Enable the \
                         extension at vkCreateDevice."
                    ),
                    objects(),
                ));
            }
        }
    }
    if transfer && b.sharing == Some(vk::SharingMode::EXCLUSIVE) {
        for (f, rule, side) in [
            (b.src, rules.exclusive_src, "srcQueueFamilyIndex"),
            (b.dst, rules.exclusive_dst, "dstQueueFamilyIndex"),
        ] {
            if !is_special(f) && f >= ctx.queue_family_count {
                out.push(Finding::new(
                    rule,
                    format!(
                        "{at} transfers ownership of EXCLUSIVE {noun} {res} from {s} to {d}, \
                         but {side} {} is not a queue family of the device (it has {}), nor \
                         VK_QUEUE_FAMILY_EXTERNAL or VK_QUEUE_FAMILY_FOREIGN_EXT.",
                        family(f),
                        ctx.queue_family_count
                    ),
                    objects(),
                ));
            }
        }
    }
    if transfer && b.host_stage {
        out.push(Finding::new(
            rules.host,
            format!(
                "{at} ({noun} {res}) has the HOST stage in its stage masks and transfers \
                 ownership from {s} to {d}. A host barrier cannot transfer ownership: use equal \
                 queue family indices, or record the transfer without the HOST stage."
            ),
            objects(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXT: u32 = vk::QUEUE_FAMILY_EXTERNAL;
    const FOR: u32 = vk::QUEUE_FAMILY_FOREIGN_EXT;
    const IGN: u32 = vk::QUEUE_FAMILY_IGNORED;

    fn ctx(external: bool, foreign: bool) -> Context {
        Context {
            device: 1,
            command_buffer: 2,
            command: "vkCmdPipelineBarrier",
            external_enabled: external,
            foreign_enabled: foreign,
            queue_family_count: 3,
        }
    }

    fn bar(kind: Kind, src: u32, dst: u32, sharing: Option<vk::SharingMode>) -> Barrier {
        Barrier {
            kind,
            index: 0,
            resource: 0x42,
            src,
            dst,
            host_stage: false,
            sharing,
        }
    }

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    const EXCL: Option<vk::SharingMode> = Some(vk::SharingMode::EXCLUSIVE);
    const CONC: Option<vk::SharingMode> = Some(vk::SharingMode::CONCURRENT);

    #[test]
    fn may_fire_agrees_with_the_messages() {
        let families = [0, 1, 2, 3, 7, EXT, FOR, IGN];
        for (ext, forn) in [(true, true), (false, true), (true, false), (false, false)] {
            let c = ctx(ext, forn);
            for k in [Kind::Buffer, Kind::Buffer2, Kind::Image, Kind::Image2] {
                for s in families {
                    for d in families {
                        for sharing in [None, EXCL, CONC] {
                            for host in [false, true] {
                                let mut b = bar(k, s, d, sharing);
                                b.host_stage = host;
                                let mut out = Vec::new();
                                messages(&c, &b, &mut out);
                                let fires = !out.is_empty();
                                assert_eq!(
                                    may_fire(&c, &b),
                                    fires,
                                    "{k:?} {s} {d} {sharing:?} {host}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn release_acquire_and_external_to_external_are_silent() {
        let c = ctx(true, true);
        for k in [Kind::Buffer, Kind::Buffer2, Kind::Image, Kind::Image2] {
            for (s, d) in [
                (0, EXT),
                (EXT, 0),
                (EXT, EXT),
                (FOR, FOR),
                (2, FOR),
                (IGN, IGN),
            ] {
                assert!(check(&c, &bar(k, s, d, EXCL)).is_empty(), "{k:?} {s} {d}");
            }
        }
        assert!(!needs_check(0, 0, true, 3));
        assert!(!needs_check(0, 2, false, 3));
        assert!(needs_check(0, 3, false, 3));
        assert!(needs_check(0, 1, true, 3));
        assert!(needs_check(EXT, EXT, false, 3));
    }

    #[test]
    fn both_special_fires_04087_and_04070() {
        let c = ctx(true, true);
        let f = check(&c, &bar(Kind::Buffer, EXT, FOR, None));
        assert_eq!(
            ids(&f),
            ["VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-04087"]
        );
        assert!(f[0]
            .message
            .contains("VK_QUEUE_FAMILY_EXTERNAL to VK_QUEUE_FAMILY_FOREIGN_EXT"));
        let f = check(&c, &bar(Kind::Image2, FOR, EXT, CONC));
        assert_eq!(
            ids(&f),
            ["VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-04070"]
        );
        assert!(!f[0].rule.blocks_call);
    }

    #[test]
    fn external_without_support_fires_09097_09098_09119_09120() {
        let c = ctx(false, true);
        let f = check(&c, &bar(Kind::Buffer, EXT, 0, None));
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier-None-09097"]);
        let f = check(&c, &bar(Kind::Buffer2, 0, EXT, None));
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier2-None-09098"]);
        let f = check(&c, &bar(Kind::Image, EXT, EXT, None));
        assert_eq!(
            ids(&f),
            [
                "VUID-VkImageMemoryBarrier-None-09119",
                "VUID-VkImageMemoryBarrier-None-09120"
            ]
        );
    }

    #[test]
    fn foreign_without_extension_fires_09099_09100_09121_09122() {
        let c = ctx(true, false);
        let f = check(&c, &bar(Kind::Buffer, FOR, 0, None));
        assert_eq!(
            ids(&f),
            ["VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-09099"]
        );
        let f = check(&c, &bar(Kind::Buffer2, 0, FOR, None));
        assert_eq!(
            ids(&f),
            ["VUID-VkBufferMemoryBarrier2-dstQueueFamilyIndex-09100"]
        );
        let f = check(&c, &bar(Kind::Image2, FOR, 1, None));
        assert_eq!(
            ids(&f),
            ["VUID-VkImageMemoryBarrier2-srcQueueFamilyIndex-09121"]
        );
        let f = check(&c, &bar(Kind::Image, 1, FOR, None));
        assert_eq!(
            ids(&f),
            ["VUID-VkImageMemoryBarrier-dstQueueFamilyIndex-09122"]
        );
    }

    #[test]
    fn exclusive_invalid_family_fires_09095_09096_09117_09118() {
        let c = ctx(true, true);
        let f = check(&c, &bar(Kind::Buffer, 7, EXT, EXCL));
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier-buffer-09095"]);
        assert!(f[0].message.contains("it has 3"), "{}", f[0].message);
        let f = check(&c, &bar(Kind::Buffer2, EXT, IGN, EXCL));
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier2-buffer-09096"]);
        let f = check(&c, &bar(Kind::Image, 3, 0, EXCL));
        assert_eq!(ids(&f), ["VUID-VkImageMemoryBarrier-image-09117"]);
        let f = check(&c, &bar(Kind::Image2, FOR, 9, EXCL));
        assert_eq!(ids(&f), ["VUID-VkImageMemoryBarrier2-image-09118"]);
        // Concurrent or untracked resources are not checked here.
        assert!(check(&c, &bar(Kind::Image, 3, 0, CONC)).is_empty());
        assert!(check(&c, &bar(Kind::Image, 3, 0, None)).is_empty());
        assert_eq!(
            crate::catalogue::lookup("VUID-VkBufferMemoryBarrier-buffer-04089").map(|r| r.id),
            Some("VUID-VkBufferMemoryBarrier-buffer-09095")
        );
        assert_eq!(
            crate::catalogue::lookup("VUID-VkImageMemoryBarrier2-image-04072").map(|r| r.id),
            Some("VUID-VkImageMemoryBarrier2-image-09117")
        );
    }

    #[test]
    fn host_stage_transfer_fires_09633_09634_03851_03854() {
        let c = ctx(true, true);
        let host = |k, s, d| Barrier {
            host_stage: true,
            ..bar(k, s, d, EXCL)
        };
        let f = check(&c, &host(Kind::Buffer, 0, EXT));
        assert_eq!(ids(&f), ["VUID-vkCmdPipelineBarrier-srcStageMask-09634"]);
        let f = check(&c, &host(Kind::Image, EXT, 0));
        assert_eq!(ids(&f), ["VUID-vkCmdPipelineBarrier-srcStageMask-09633"]);
        let f = check(&c, &host(Kind::Buffer2, 0, 1));
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier2-srcStageMask-03851"]);
        let f = check(&c, &host(Kind::Image2, 1, 0));
        assert_eq!(ids(&f), ["VUID-VkImageMemoryBarrier2-srcStageMask-03854"]);
        assert!(check(&c, &host(Kind::Image2, EXT, EXT)).is_empty());
    }
}

//! Record-time rules that need the command pool's queue family or the synchronization2
//! feature (10387/10388, the synchronization1 CONCURRENT rules 09049 to 09054), the sync1
//! `vkCmdWaitEvents` rule (02803), and which recorded commands the ownership rules replay
//! at submit (see [`super::ownership::RecordedOp`]).

use super::barrier::{is_special, Barrier, Context, Kind};
use super::ownership::{BarrierOp, ImageRange, Range, RecordedOp, Resource, UseOp};
use crate::catalogue::*;
use crate::finding::{Finding, Object};
use ash::vk;

fn family(f: u32) -> String {
    match f {
        vk::QUEUE_FAMILY_EXTERNAL => "VK_QUEUE_FAMILY_EXTERNAL".to_owned(),
        vk::QUEUE_FAMILY_FOREIGN_EXT => "VK_QUEUE_FAMILY_FOREIGN_EXT".to_owned(),
        vk::QUEUE_FAMILY_IGNORED => "VK_QUEUE_FAMILY_IGNORED".to_owned(),
        n => n.to_string(),
    }
}

fn is_buffer(kind: Kind) -> bool {
    matches!(kind, Kind::Buffer | Kind::Buffer2)
}

fn array(kind: Kind) -> &'static str {
    match kind {
        Kind::Buffer => "pBufferMemoryBarriers",
        Kind::Image => "pImageMemoryBarriers",
        Kind::Buffer2 => "pDependencyInfo->pBufferMemoryBarriers",
        Kind::Image2 => "pDependencyInfo->pImageMemoryBarriers",
    }
}

fn subject(ctx: &Context, b: &Barrier) -> (String, String) {
    let noun = if is_buffer(b.kind) { "buffer" } else { "image" };
    (
        format!("{} {}[{}]", ctx.command, array(b.kind), b.index),
        format!("{noun} 0x{:x}", b.resource),
    )
}

fn objects(ctx: &Context, b: &Barrier) -> Vec<Object> {
    let ty = if is_buffer(b.kind) {
        vk::ObjectType::BUFFER
    } else {
        vk::ObjectType::IMAGE
    };
    vec![
        Object::new(ty, b.resource),
        Object::new(vk::ObjectType::COMMAND_BUFFER, ctx.command_buffer),
        Object::new(vk::ObjectType::DEVICE, ctx.device),
    ]
}

/// 10388 (`vkCmdPipelineBarrier`) / 10387 (`vkCmdPipelineBarrier2(KHR)`): an ownership
/// transfer of an EXCLUSIVE resource must name the pool's family on one side. CONCURRENT
/// and untracked resources are left alone (a CONCURRENT transfer to EXTERNAL has IGNORED on
/// the other side by 09050/09051, so it can never name the pool's family). A transfer
/// between two special families is 04087/04070 already and names no family of the device.
#[inline]
pub fn pool_family(ctx: &Context, b: &Barrier, pool_family: u32) -> Option<Finding> {
    if b.src == b.dst
        || (is_special(b.src) && is_special(b.dst))
        || b.sharing != Some(vk::SharingMode::EXCLUSIVE)
        || b.src == pool_family
        || b.dst == pool_family
    {
        return None;
    }
    Some(pool_family_finding(ctx, b, pool_family))
}

// Out of line and cold, so that the inlined check above stays a few compares.
#[cold]
#[inline(never)]
fn pool_family_finding(ctx: &Context, b: &Barrier, pool_family: u32) -> Finding {
    let rule = match b.kind {
        Kind::Buffer | Kind::Image => &CMD_BARRIER_POOL_FAMILY,
        Kind::Buffer2 | Kind::Image2 => &CMD_BARRIER2_POOL_FAMILY,
    };
    let (at, res) = subject(ctx, b);
    let (s, d) = (family(b.src), family(b.dst));
    Finding::new(
        rule,
        format!(
            "{at} transfers ownership of EXCLUSIVE {res} from {s} to {d}, but the command \
             buffer's pool was created for queue family {pool_family}. Record a release in a \
             command buffer of the source family and the acquire in one of the destination \
             family."
        ),
        objects(ctx, b),
    )
}

/// Whether [`sync1_concurrent`] can fire: a sync1 barrier without the feature, naming any
/// family other than IGNORED (the pre-filter that decides whether the sharing mode is read).
#[inline]
pub fn needs_sync1_concurrent_check(kind: Kind, sync2_enabled: bool, src: u32, dst: u32) -> bool {
    matches!(kind, Kind::Buffer | Kind::Image)
        && !sync2_enabled
        && (src != vk::QUEUE_FAMILY_IGNORED || dst != vk::QUEUE_FAMILY_IGNORED)
}

/// 09049 to 09054: without the synchronization2 feature, a sync1 barrier on a CONCURRENT
/// resource has IGNORED on one side, and each side is IGNORED or EXTERNAL. Each clause
/// that is broken is reported.
pub fn sync1_concurrent(ctx: &Context, b: &Barrier, sync2_enabled: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    if !needs_sync1_concurrent_check(b.kind, sync2_enabled, b.src, b.dst)
        || b.sharing != Some(vk::SharingMode::CONCURRENT)
    {
        return out;
    }
    let (no_ignored, src_rule, dst_rule) = if is_buffer(b.kind) {
        (
            &BARRIER_BUF_SYNC1_CONCURRENT_NO_IGNORED,
            &BARRIER_BUF_SYNC1_CONCURRENT_SRC,
            &BARRIER_BUF_SYNC1_CONCURRENT_DST,
        )
    } else {
        (
            &BARRIER_IMG_SYNC1_CONCURRENT_NO_IGNORED,
            &BARRIER_IMG_SYNC1_CONCURRENT_SRC,
            &BARRIER_IMG_SYNC1_CONCURRENT_DST,
        )
    };
    let (at, res) = subject(ctx, b);
    let (s, d) = (family(b.src), family(b.dst));
    let ign = vk::QUEUE_FAMILY_IGNORED;
    if b.src != ign && b.dst != ign {
        out.push(Finding::new(
            no_ignored,
            format!(
                "{at} names {s} and {d} for CONCURRENT {res}, and the synchronization2 feature \
                 is not enabled: one of them must be VK_QUEUE_FAMILY_IGNORED (a CONCURRENT \
                 resource needs no transfer between the device's families)."
            ),
            objects(ctx, b),
        ));
    }
    let ok = |f: u32| f == ign || f == vk::QUEUE_FAMILY_EXTERNAL;
    for (f, rule, side) in [
        (b.src, src_rule, "srcQueueFamilyIndex"),
        (b.dst, dst_rule, "dstQueueFamilyIndex"),
    ] {
        if !ok(f) {
            out.push(Finding::new(
                rule,
                format!(
                    "{at} has {side} {} for CONCURRENT {res}, and the synchronization2 feature \
                     is not enabled: it must be VK_QUEUE_FAMILY_IGNORED or \
                     VK_QUEUE_FAMILY_EXTERNAL.",
                    family(f)
                ),
                objects(ctx, b),
            ));
        }
    }
    out
}

/// 02803: `vkCmdWaitEvents` (sync1) cannot transfer ownership; its barriers have equal
/// families.
pub fn wait_events_transfer(ctx: &Context, b: &Barrier) -> Option<Finding> {
    if b.src == b.dst {
        return None;
    }
    let (at, res) = subject(ctx, b);
    Some(Finding::new(
        &WAIT_EVENTS_TRANSFER,
        format!(
            "{at} ({res}) has srcQueueFamilyIndex {} and dstQueueFamilyIndex {}: \
             vkCmdWaitEvents cannot transfer queue family ownership. Record the transfer with \
             vkCmdPipelineBarrier (or vkCmdWaitEvents2).",
            family(b.src),
            family(b.dst)
        ),
        objects(ctx, b),
    ))
}

/// Whether a barrier is kept for the ownership rules: it names a special family, or its
/// resource is external (bound to imported or exported memory, or created for it).
#[inline]
pub fn records_barrier(src: u32, dst: u32, external: bool) -> bool {
    external || is_special(src) || is_special(dst)
}

/// An attachment of a render pass instance whose image is external: the image and the
/// view's subresource range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExternalAttachment {
    pub image: u64,
    pub range: ImageRange,
}

/// The ops a render pass instance records for its external attachments: a `Use` of each
/// image, then the layout change the render pass performs on it (`initialLayout` to
/// `finalLayout`) as a barrier with no ownership transfer. `attachments[i]` and
/// `layouts[i]` describe attachment `i`; an attachment without layouts (a render pass the
/// layer did not see) gets the `Use` only.
pub fn render_pass_ops(
    command: &'static str,
    attachments: &[Option<ExternalAttachment>],
    layouts: &[(vk::ImageLayout, vk::ImageLayout)],
    out: &mut Vec<RecordedOp>,
) {
    for (i, a) in attachments.iter().enumerate() {
        let Some(a) = a else { continue };
        let resource = Resource::Image(a.image);
        out.push(RecordedOp::Use(UseOp { resource, command }));
        if let Some(&(initial, fin)) = layouts.get(i) {
            out.push(RecordedOp::Barrier(BarrierOp {
                resource,
                range: Range::Image(a.range),
                src: vk::QUEUE_FAMILY_IGNORED,
                dst: vk::QUEUE_FAMILY_IGNORED,
                old_layout: initial,
                new_layout: fin,
                acquire_unmodified: false,
                command,
                index: i as u32,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXT: u32 = vk::QUEUE_FAMILY_EXTERNAL;
    const FOR: u32 = vk::QUEUE_FAMILY_FOREIGN_EXT;
    const IGN: u32 = vk::QUEUE_FAMILY_IGNORED;
    const EXCL: Option<vk::SharingMode> = Some(vk::SharingMode::EXCLUSIVE);
    const CONC: Option<vk::SharingMode> = Some(vk::SharingMode::CONCURRENT);

    fn ctx() -> Context {
        Context {
            device: 1,
            command_buffer: 2,
            command: "vkCmdPipelineBarrier",
            external_enabled: true,
            foreign_enabled: true,
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

    #[test]
    fn pool_family_fires_10388_and_10387() {
        let c = ctx();
        let f = pool_family(&c, &bar(Kind::Buffer, 1, EXT, EXCL), 0).unwrap();
        assert_eq!(
            f.id(),
            "VUID-vkCmdPipelineBarrier-srcQueueFamilyIndex-10388"
        );
        assert!(f.message.contains("queue family 0"), "{}", f.message);
        let f = pool_family(&c, &bar(Kind::Image2, EXT, 2, EXCL), 1).unwrap();
        assert_eq!(
            f.id(),
            "VUID-vkCmdPipelineBarrier2-srcQueueFamilyIndex-10387"
        );
        let f = pool_family(&c, &bar(Kind::Image, 1, 2, EXCL), 0).unwrap();
        assert_eq!(
            f.id(),
            "VUID-vkCmdPipelineBarrier-srcQueueFamilyIndex-10388"
        );
    }

    #[test]
    fn pool_family_silent_cases() {
        let c = ctx();
        for k in [Kind::Buffer, Kind::Buffer2, Kind::Image, Kind::Image2] {
            // Release from, acquire into, or transfers touching the pool's family.
            for (s, d) in [(0, EXT), (EXT, 0), (0, FOR), (FOR, 0), (0, 1), (2, 0)] {
                assert!(pool_family(&c, &bar(k, s, d, EXCL), 0).is_none());
            }
            // No transfer, CONCURRENT or untracked resources.
            assert!(pool_family(&c, &bar(k, 1, 1, EXCL), 0).is_none());
            assert!(pool_family(&c, &bar(k, EXT, EXT, EXCL), 0).is_none());
            assert!(pool_family(&c, &bar(k, EXT, FOR, EXCL), 0).is_none());
            assert!(pool_family(&c, &bar(k, EXT, IGN, CONC), 0).is_none());
            assert!(pool_family(&c, &bar(k, 1, EXT, None), 0).is_none());
        }
    }

    #[test]
    fn sync1_concurrent_fires_09049_to_09054() {
        let c = ctx();
        let f = sync1_concurrent(&c, &bar(Kind::Buffer, 0, IGN, CONC), false);
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier-None-09050"]);
        let f = sync1_concurrent(&c, &bar(Kind::Buffer, IGN, 1, CONC), false);
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier-None-09051"]);
        let f = sync1_concurrent(&c, &bar(Kind::Buffer, EXT, EXT, CONC), false);
        assert_eq!(ids(&f), ["VUID-VkBufferMemoryBarrier-None-09049"]);
        let f = sync1_concurrent(&c, &bar(Kind::Image, 0, 1, CONC), false);
        assert_eq!(
            ids(&f),
            [
                "VUID-VkImageMemoryBarrier-None-09052",
                "VUID-VkImageMemoryBarrier-None-09053",
                "VUID-VkImageMemoryBarrier-None-09054"
            ]
        );
        let f = sync1_concurrent(&c, &bar(Kind::Image, FOR, IGN, CONC), false);
        assert_eq!(ids(&f), ["VUID-VkImageMemoryBarrier-None-09053"]);
        let f = sync1_concurrent(&c, &bar(Kind::Image, IGN, 2, CONC), false);
        assert_eq!(ids(&f), ["VUID-VkImageMemoryBarrier-None-09054"]);
        assert_eq!(
            crate::catalogue::lookup("VUID-VkBufferMemoryBarrier-synchronization2-03853")
                .map(|r| r.id),
            Some("VUID-VkBufferMemoryBarrier-None-09049")
        );
        assert_eq!(
            crate::catalogue::lookup("VUID-VkImageMemoryBarrier-synchronization2-03857")
                .map(|r| r.id),
            Some("VUID-VkImageMemoryBarrier-None-09052")
        );
    }

    #[test]
    fn sync1_concurrent_silent_cases() {
        let c = ctx();
        for k in [Kind::Buffer, Kind::Image] {
            for (s, d) in [(IGN, IGN), (EXT, IGN), (IGN, EXT)] {
                assert!(sync1_concurrent(&c, &bar(k, s, d, CONC), false).is_empty());
            }
            // With the feature, EXCLUSIVE or untracked: not these rules.
            assert!(sync1_concurrent(&c, &bar(k, 0, 1, CONC), true).is_empty());
            assert!(sync1_concurrent(&c, &bar(k, 0, 1, EXCL), false).is_empty());
            assert!(sync1_concurrent(&c, &bar(k, 0, 1, None), false).is_empty());
        }
        // The sync2 structures have no such rule.
        for k in [Kind::Buffer2, Kind::Image2] {
            assert!(sync1_concurrent(&c, &bar(k, 0, 1, CONC), false).is_empty());
            assert!(!needs_sync1_concurrent_check(k, false, 0, 1));
        }
        assert!(!needs_sync1_concurrent_check(Kind::Buffer, false, IGN, IGN));
        assert!(needs_sync1_concurrent_check(Kind::Image, false, 0, 0));
    }

    #[test]
    fn wait_events_transfer_fires_02803() {
        let c = Context {
            command: "vkCmdWaitEvents",
            ..ctx()
        };
        let f = wait_events_transfer(&c, &bar(Kind::Buffer, 0, EXT, EXCL)).unwrap();
        assert_eq!(f.id(), "VUID-vkCmdWaitEvents-srcQueueFamilyIndex-02803");
        assert!(f
            .message
            .starts_with("vkCmdWaitEvents pBufferMemoryBarriers[0]"));
        assert!(wait_events_transfer(&c, &bar(Kind::Image, 0, 0, EXCL)).is_none());
        assert!(wait_events_transfer(&c, &bar(Kind::Image, IGN, IGN, CONC)).is_none());
    }

    #[test]
    fn records_special_or_external() {
        assert!(records_barrier(0, EXT, false));
        assert!(records_barrier(FOR, 0, false));
        assert!(records_barrier(IGN, IGN, true));
        assert!(!records_barrier(0, 1, false));
        assert!(!records_barrier(IGN, IGN, false));
    }

    #[test]
    fn render_pass_ops_use_then_layout_change() {
        let range = ImageRange {
            aspect_mask: vk::ImageAspectFlags::COLOR,
            base_mip_level: 0,
            level_count: 1,
            base_array_layer: 0,
            layer_count: 1,
        };
        let atts = [
            None,
            Some(ExternalAttachment { image: 7, range }),
            Some(ExternalAttachment { image: 8, range }),
        ];
        let layouts = [
            (vk::ImageLayout::UNDEFINED, vk::ImageLayout::GENERAL),
            (
                vk::ImageLayout::GENERAL,
                vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL,
            ),
        ];
        let mut out = Vec::new();
        render_pass_ops("vkCmdBeginRenderPass", &atts, &layouts, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0],
            RecordedOp::Use(UseOp {
                resource: Resource::Image(7),
                command: "vkCmdBeginRenderPass"
            })
        );
        let RecordedOp::Barrier(b) = out[1] else {
            panic!("{:?}", out[1])
        };
        assert_eq!((b.src, b.dst), (IGN, IGN));
        assert_eq!(b.old_layout, vk::ImageLayout::GENERAL);
        assert_eq!(b.new_layout, vk::ImageLayout::COLOR_ATTACHMENT_OPTIMAL);
        assert_eq!((b.index, b.range), (1, Range::Image(range)));
        // Attachment 2 has no layouts (unknown render pass): its use only.
        assert_eq!(
            out[2],
            RecordedOp::Use(UseOp {
                resource: Resource::Image(8),
                command: "vkCmdBeginRenderPass"
            })
        );
    }
}

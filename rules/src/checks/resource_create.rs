//! `vkCreateBuffer` / `vkCreateImage`: the external-memory create infos against what the
//! driver reports for the resource's exact parameters (RULES-TARGET §1.1).
//!
//! The layer asks the driver one question per requested handle-type bit and hands the
//! answers in; these checks never query anything themselves.

use crate::catalogue::{
    BUFFER_EXTERNAL_TYPES_INCOMPATIBLE, IMAGE_EXTERNAL_LAYOUT_NOT_UNDEFINED,
    IMAGE_EXTERNAL_NV_AND_KHR, IMAGE_EXTERNAL_NV_TYPES_INCOMPATIBLE,
    IMAGE_EXTERNAL_TYPES_INCOMPATIBLE,
};
use crate::finding::{Finding, Object};
use ash::vk;

/// The driver's answer for one handle type (KHR queries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The query succeeded with these properties. All-zero features (lavapipe's way of
    /// saying "unsupported" on images) count as unsupported.
    Props {
        features: vk::ExternalMemoryFeatureFlags,
        compatible: vk::ExternalMemoryHandleTypeFlags,
        /// `exportFromImportedHandleTypes`: what memory imported as this type may export.
        export_from_imported: vk::ExternalMemoryHandleTypeFlags,
    },
    /// The query returned this error code (`VK_ERROR_FORMAT_NOT_SUPPORTED`): unsupported.
    Unsupported(vk::Result),
    /// The layer could not ask (no entry point, or an unrelated error): no finding.
    Unknown,
}

/// The driver's answer for one NV handle type (`vkGetPhysicalDeviceExternalImageFormatPropertiesNV`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NvAnswer {
    /// `externalMemoryFeatures` and `compatibleHandleTypes` of a successful query.
    Props {
        features: vk::ExternalMemoryFeatureFlagsNV,
        compatible: vk::ExternalMemoryHandleTypeFlagsNV,
    },
    Unsupported(vk::Result),
    Unknown,
}

/// The parts of `VkBufferCreateInfo` the rules read.
#[derive(Clone, Copy, Debug)]
pub struct BufferCreateCall {
    pub device: u64,
    pub flags: vk::BufferCreateFlags,
    pub usage: vk::BufferUsageFlags,
    /// `VkExternalMemoryBufferCreateInfo::handleTypes` (empty when none was chained).
    pub external_types: vk::ExternalMemoryHandleTypeFlags,
}

/// The parts of `VkImageCreateInfo` the rules read.
#[derive(Clone, Copy, Debug)]
pub struct ImageCreateCall {
    pub device: u64,
    pub flags: vk::ImageCreateFlags,
    pub format: vk::Format,
    pub image_type: vk::ImageType,
    pub tiling: vk::ImageTiling,
    pub usage: vk::ImageUsageFlags,
    pub initial_layout: vk::ImageLayout,
    /// `VkExternalMemoryImageCreateInfo::handleTypes`; `None` when it was not chained.
    pub external_types: Option<vk::ExternalMemoryHandleTypeFlags>,
    /// `VkExternalMemoryImageCreateInfoNV::handleTypes`; `None` when it was not chained.
    pub external_types_nv: Option<vk::ExternalMemoryHandleTypeFlagsNV>,
}

/// Handle types in words: `OPAQUE_FD | HOST_ALLOCATION_EXT`, or `none`.
pub fn memory_types_words(t: vk::ExternalMemoryHandleTypeFlags) -> String {
    if t.is_empty() {
        "none".to_owned()
    } else {
        format!("{t:?}")
    }
}

/// NV handle types in words.
pub fn nv_types_words(t: vk::ExternalMemoryHandleTypeFlagsNV) -> String {
    if t.is_empty() {
        "none".to_owned()
    } else {
        format!("{t:?}")
    }
}

/// Any Vulkan flags value in words: its bit names, or `none`.
fn flags_words<T: std::fmt::Debug + PartialEq + Default>(t: T) -> String {
    if t == T::default() {
        "none".to_owned()
    } else {
        format!("{t:?}")
    }
}

/// The single bits of `flags`, lowest first.
pub fn bits(flags: u32) -> impl Iterator<Item = u32> {
    (0..32).map(|i| 1u32 << i).filter(move |b| flags & b != 0)
}

/// One requested bit the driver does not accept together with the others, in words;
/// `None` when the answer allows the whole request (or is unknown).
fn khr_problem(
    requested: vk::ExternalMemoryHandleTypeFlags,
    bit: vk::ExternalMemoryHandleTypeFlags,
    answer: &Answer,
    query: &str,
) -> Option<String> {
    match answer {
        Answer::Unknown => None,
        Answer::Unsupported(r) => Some(format!(
            "for {} {query} answered {r:?} (not supported at all)",
            memory_types_words(bit)
        )),
        Answer::Props { features, .. } if features.is_empty() => Some(format!(
            "for {} {query} reported no external memory features (not supported at all)",
            memory_types_words(bit)
        )),
        Answer::Props { compatible, .. } if !compatible.contains(requested) => Some(format!(
            "for {} {query} reported compatibleHandleTypes {}",
            memory_types_words(bit),
            memory_types_words(*compatible)
        )),
        Answer::Props { .. } => None,
    }
}

fn khr_problems(
    requested: vk::ExternalMemoryHandleTypeFlags,
    answers: &[(vk::ExternalMemoryHandleTypeFlags, Answer)],
    query: &str,
) -> Vec<String> {
    answers
        .iter()
        .filter_map(|(bit, a)| khr_problem(requested, *bit, a, query))
        .collect()
}

/// Checks `vkCreateBuffer`. `answers` holds one `vkGetPhysicalDeviceExternalBufferProperties`
/// answer per bit of `call.external_types` (same flags and usage).
pub fn create_buffer(
    call: &BufferCreateCall,
    answers: &[(vk::ExternalMemoryHandleTypeFlags, Answer)],
) -> Vec<Finding> {
    let mut out = Vec::new();
    if call.external_types.is_empty() {
        return out;
    }
    let problems = khr_problems(
        call.external_types,
        answers,
        "vkGetPhysicalDeviceExternalBufferProperties",
    );
    if !problems.is_empty() {
        out.push(Finding::new(
            &BUFFER_EXTERNAL_TYPES_INCOMPATIBLE,
            format!(
                "vkCreateBuffer requests external handle types {} in \
                 VkExternalMemoryBufferCreateInfo::handleTypes (usage {}, flags {}), but \
                 the driver does not allow them together: {}. Request only handle types that \
                 the driver lists as compatible with each other for this usage and these flags \
                 (use separate buffers for the others).",
                memory_types_words(call.external_types),
                flags_words(call.usage),
                flags_words(call.flags),
                problems.join("; ")
            ),
            vec![Object::new(vk::ObjectType::DEVICE, call.device)],
        ));
    }
    out
}

/// Checks `vkCreateImage`. `answers` holds one `vkGetPhysicalDeviceImageFormatProperties2`
/// answer per bit of the KHR handle types, `nv_answers` one
/// `vkGetPhysicalDeviceExternalImageFormatPropertiesNV` answer per NV bit (both for the
/// image's exact format, type, tiling, usage and flags).
pub fn create_image(
    call: &ImageCreateCall,
    answers: &[(vk::ExternalMemoryHandleTypeFlags, Answer)],
    nv_answers: &[(vk::ExternalMemoryHandleTypeFlagsNV, NvAnswer)],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let dev = || vec![Object::new(vk::ObjectType::DEVICE, call.device)];
    let khr = call.external_types.unwrap_or_default();
    let nv = call.external_types_nv.unwrap_or_default();
    let params = format!(
        "format {:?}, type {:?}, tiling {:?}, usage {}, flags {}",
        call.format,
        call.image_type,
        call.tiling,
        flags_words(call.usage),
        flags_words(call.flags)
    );

    if call.external_types.is_some() && call.external_types_nv.is_some() {
        out.push(Finding::new(
            &IMAGE_EXTERNAL_NV_AND_KHR,
            format!(
                "vkCreateImage chains both VkExternalMemoryImageCreateInfo (handleTypes {}) and \
                 VkExternalMemoryImageCreateInfoNV (handleTypes {}); only one of them may be \
                 chained. Keep VkExternalMemoryImageCreateInfo and drop the NV structure.",
                memory_types_words(khr),
                nv_types_words(nv)
            ),
            dev(),
        ));
    }

    if !khr.is_empty() {
        let problems = khr_problems(
            khr,
            answers,
            "vkGetPhysicalDeviceImageFormatProperties2 with VkPhysicalDeviceExternalImageFormatInfo",
        );
        if !problems.is_empty() {
            out.push(Finding::new(
                &IMAGE_EXTERNAL_TYPES_INCOMPATIBLE,
                format!(
                    "vkCreateImage requests external handle types {} in \
                     VkExternalMemoryImageCreateInfo::handleTypes ({params}), but the driver \
                     does not allow them together for these parameters: {}. Request only \
                     handle types that the driver lists as compatible with each other for \
                     exactly these image parameters.",
                    memory_types_words(khr),
                    problems.join("; ")
                ),
                dev(),
            ));
        }
    }

    if !nv.is_empty() {
        let problems: Vec<String> = nv_answers
            .iter()
            .filter_map(|(bit, a)| match a {
                NvAnswer::Unknown => None,
                NvAnswer::Unsupported(r) => Some(format!(
                    "for {} the query answered {r:?} (not supported at all)",
                    nv_types_words(*bit)
                )),
                NvAnswer::Props { features, .. } if features.is_empty() => Some(format!(
                    "for {} the query reported no external memory features (not supported at all)",
                    nv_types_words(*bit)
                )),
                NvAnswer::Props { compatible, .. } if !compatible.contains(nv) => Some(format!(
                    "for {} the query reported compatibleHandleTypes {}",
                    nv_types_words(*bit),
                    nv_types_words(*compatible)
                )),
                NvAnswer::Props { .. } => None,
            })
            .collect();
        if !problems.is_empty() {
            out.push(Finding::new(
                &IMAGE_EXTERNAL_NV_TYPES_INCOMPATIBLE,
                format!(
                    "vkCreateImage requests NV external handle types {} in \
                     VkExternalMemoryImageCreateInfoNV::handleTypes ({params}), but \
                     vkGetPhysicalDeviceExternalImageFormatPropertiesNV does not allow them \
                     together: {}. Request only handle types it lists as compatible for these \
                     image parameters.",
                    nv_types_words(nv),
                    problems.join("; ")
                ),
                dev(),
            ));
        }
    }

    if (!khr.is_empty() || !nv.is_empty()) && call.initial_layout != vk::ImageLayout::UNDEFINED {
        let declared = match (khr.is_empty(), nv.is_empty()) {
            (false, true) => format!(
                "VkExternalMemoryImageCreateInfo::handleTypes {}",
                memory_types_words(khr)
            ),
            (true, false) => format!(
                "VkExternalMemoryImageCreateInfoNV::handleTypes {}",
                nv_types_words(nv)
            ),
            _ => format!(
                "external handle types {} (KHR) and {} (NV)",
                memory_types_words(khr),
                nv_types_words(nv)
            ),
        };
        out.push(Finding::new(
            &IMAGE_EXTERNAL_LAYOUT_NOT_UNDEFINED,
            format!(
                "vkCreateImage declares {declared} but initialLayout is {:?}; an image that may \
                 be backed by external memory must start in VK_IMAGE_LAYOUT_UNDEFINED. Create \
                 it with UNDEFINED and transition it with a barrier.",
                call.initial_layout
            ),
            dev(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type H = vk::ExternalMemoryHandleTypeFlags;
    type F = vk::ExternalMemoryFeatureFlags;
    const OPAQUE: H = H::OPAQUE_FD;
    const HOST: H = H::HOST_ALLOCATION_EXT;
    const WIN32: vk::ExternalMemoryHandleTypeFlagsNV =
        vk::ExternalMemoryHandleTypeFlagsNV::OPAQUE_WIN32;
    const KMT: vk::ExternalMemoryHandleTypeFlagsNV =
        vk::ExternalMemoryHandleTypeFlagsNV::OPAQUE_WIN32_KMT;
    const D3D: vk::ExternalMemoryHandleTypeFlagsNV =
        vk::ExternalMemoryHandleTypeFlagsNV::D3D11_IMAGE;

    fn props(features: F, compatible: H) -> Answer {
        Answer::Props {
            features,
            compatible,
            export_from_imported: compatible,
        }
    }

    /// lavapipe's answers (RULES-TARGET §3.1).
    fn lavapipe(bit: H) -> Answer {
        if bit == OPAQUE {
            props(F::EXPORTABLE | F::IMPORTABLE, OPAQUE)
        } else if bit == HOST {
            props(F::IMPORTABLE, HOST)
        } else {
            props(F::empty(), H::empty())
        }
    }

    fn answers(t: H) -> Vec<(H, Answer)> {
        bits(t.as_raw())
            .map(|b| (H::from_raw(b), lavapipe(H::from_raw(b))))
            .collect()
    }

    fn buffer(t: H) -> BufferCreateCall {
        BufferCreateCall {
            device: 1,
            flags: vk::BufferCreateFlags::empty(),
            usage: vk::BufferUsageFlags::TRANSFER_SRC,
            external_types: t,
        }
    }

    fn image(khr: Option<H>, nv: Option<vk::ExternalMemoryHandleTypeFlagsNV>) -> ImageCreateCall {
        ImageCreateCall {
            device: 1,
            flags: vk::ImageCreateFlags::empty(),
            format: vk::Format::R8G8B8A8_UNORM,
            image_type: vk::ImageType::TYPE_2D,
            tiling: vk::ImageTiling::OPTIMAL,
            usage: vk::ImageUsageFlags::SAMPLED,
            initial_layout: vk::ImageLayout::UNDEFINED,
            external_types: khr,
            external_types_nv: nv,
        }
    }

    fn nv_answer(bit: vk::ExternalMemoryHandleTypeFlagsNV) -> NvAnswer {
        if bit == WIN32 || bit == KMT {
            NvAnswer::Props {
                features: vk::ExternalMemoryFeatureFlagsNV::EXPORTABLE,
                compatible: WIN32 | KMT,
            }
        } else {
            NvAnswer::Props {
                features: vk::ExternalMemoryFeatureFlagsNV::empty(),
                compatible: vk::ExternalMemoryHandleTypeFlagsNV::empty(),
            }
        }
    }

    fn nv_answers(
        t: vk::ExternalMemoryHandleTypeFlagsNV,
    ) -> Vec<(vk::ExternalMemoryHandleTypeFlagsNV, NvAnswer)> {
        bits(t.as_raw())
            .map(|b| {
                let b = vk::ExternalMemoryHandleTypeFlagsNV::from_raw(b);
                (b, nv_answer(b))
            })
            .collect()
    }

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.id()).collect()
    }

    #[test]
    fn compatible_buffer_is_silent() {
        assert!(create_buffer(&buffer(OPAQUE), &answers(OPAQUE)).is_empty());
        assert!(create_buffer(&buffer(H::empty()), &[]).is_empty());
    }

    #[test]
    fn incompatible_buffer_types_fire_00920_once() {
        let t = OPAQUE | HOST;
        let f = create_buffer(&buffer(t), &answers(t));
        assert_eq!(ids(&f), [BUFFER_EXTERNAL_TYPES_INCOMPATIBLE.id]);
        assert!(
            f[0].message.contains("OPAQUE_FD | HOST_ALLOCATION_EXT"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("compatibleHandleTypes OPAQUE_FD"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].objects[0].ty, vk::ObjectType::DEVICE);
        assert!(f[0].message.contains("flags none"), "{}", f[0].message);
    }

    #[test]
    fn unsupported_and_unknown_answers() {
        let unsupported = [(
            OPAQUE,
            Answer::Unsupported(vk::Result::ERROR_FORMAT_NOT_SUPPORTED),
        )];
        let f = create_buffer(&buffer(OPAQUE), &unsupported);
        assert_eq!(ids(&f), [BUFFER_EXTERNAL_TYPES_INCOMPATIBLE.id]);
        assert!(f[0].message.contains("ERROR_FORMAT_NOT_SUPPORTED"));
        // The layer could not ask: no guess.
        assert!(create_buffer(
            &buffer(OPAQUE | HOST),
            &[(OPAQUE, Answer::Unknown), (HOST, Answer::Unknown)]
        )
        .is_empty());
    }

    #[test]
    fn zero_features_success_is_unsupported_for_images() {
        let dma = H::DMA_BUF_EXT;
        let f = create_image(&image(Some(dma), None), &answers(dma), &[]);
        assert_eq!(ids(&f), [IMAGE_EXTERNAL_TYPES_INCOMPATIBLE.id]);
        assert!(f[0].message.contains("no external memory features"));
    }

    #[test]
    fn image_types_00990() {
        assert!(create_image(&image(Some(OPAQUE), None), &answers(OPAQUE), &[]).is_empty());
        let t = OPAQUE | HOST;
        let f = create_image(&image(Some(t), None), &answers(t), &[]);
        assert_eq!(ids(&f), [IMAGE_EXTERNAL_TYPES_INCOMPATIBLE.id]);
        assert!(f[0].message.contains("R8G8B8A8_UNORM"));
    }

    #[test]
    fn nv_and_khr_both_chained_00988() {
        let f = create_image(
            &image(Some(OPAQUE), Some(WIN32)),
            &answers(OPAQUE),
            &nv_answers(WIN32),
        );
        assert_eq!(ids(&f), [IMAGE_EXTERNAL_NV_AND_KHR.id]);
        // Both chained with empty handle types is still two structures.
        let f = create_image(
            &image(
                Some(H::empty()),
                Some(vk::ExternalMemoryHandleTypeFlagsNV::empty()),
            ),
            &[],
            &[],
        );
        assert_eq!(ids(&f), [IMAGE_EXTERNAL_NV_AND_KHR.id]);
    }

    #[test]
    fn nv_types_00991() {
        assert!(create_image(
            &image(None, Some(WIN32 | KMT)),
            &[],
            &nv_answers(WIN32 | KMT)
        )
        .is_empty());
        let f = create_image(
            &image(None, Some(WIN32 | D3D)),
            &[],
            &nv_answers(WIN32 | D3D),
        );
        assert_eq!(ids(&f), [IMAGE_EXTERNAL_NV_TYPES_INCOMPATIBLE.id]);
        assert!(f[0].message.contains("D3D11_IMAGE"), "{}", f[0].message);
        let unsupported = [(
            D3D,
            NvAnswer::Unsupported(vk::Result::ERROR_FORMAT_NOT_SUPPORTED),
        )];
        assert_eq!(
            ids(&create_image(&image(None, Some(D3D)), &[], &unsupported)),
            [IMAGE_EXTERNAL_NV_TYPES_INCOMPATIBLE.id]
        );
        assert!(create_image(&image(None, Some(D3D)), &[], &[(D3D, NvAnswer::Unknown)]).is_empty());
    }

    #[test]
    fn initial_layout_01443() {
        let mut c = image(Some(OPAQUE), None);
        c.initial_layout = vk::ImageLayout::PREINITIALIZED;
        let f = create_image(&c, &answers(OPAQUE), &[]);
        assert_eq!(ids(&f), [IMAGE_EXTERNAL_LAYOUT_NOT_UNDEFINED.id]);
        assert!(f[0].message.contains("PREINITIALIZED"));
        let mut c = image(None, Some(WIN32));
        c.initial_layout = vk::ImageLayout::PREINITIALIZED;
        assert_eq!(
            ids(&create_image(&c, &[], &nv_answers(WIN32))),
            [IMAGE_EXTERNAL_LAYOUT_NOT_UNDEFINED.id]
        );
        // Chained with zero handle types: not external, any layout is fine.
        let mut c = image(Some(H::empty()), None);
        c.initial_layout = vk::ImageLayout::PREINITIALIZED;
        assert!(create_image(&c, &[], &[]).is_empty());
    }
}

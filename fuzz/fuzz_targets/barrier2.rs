//! Hostile `pNext` chains through the loader, the Handoff layer and the mock ICD (profile
//! `full`, which has VK_KHR_external_semaphore_fd and VK_KHR_external_fence_fd): only
//! vkCmdPipelineBarrier and vkCmdPipelineBarrier2KHR (buffer, image and memory barrier arrays
//! of every count up to 3, each with the chain; the image and buffer of the sync2 barriers are
//! external, so the layer looks for VkExternalMemoryAcquireUnmodifiedEXT in every chain).
//!
//! Decoding and expected outcomes as the `chains` target.

#![no_main]

mod common;

use handoff_tests::app::hostile::{Case, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::run_all("full", data, |d| Case::decode_among(d, &Target::BARRIER));
});

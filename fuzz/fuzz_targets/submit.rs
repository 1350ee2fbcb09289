//! Hostile `pNext` chains through the loader, the Handoff layer and the mock ICD (profile
//! `full`, which has VK_KHR_external_semaphore_fd and VK_KHR_external_fence_fd): only
//! vkQueueSubmit (a timeline info whose value counts need not match its semaphores) and
//! vkQueueSubmit2KHR (VkSubmitInfo2 chains, fenced VkSemaphoreSubmitInfo and
//! VkCommandBufferSubmitInfo arrays of every count up to 3, chains on those too).
//!
//! Decoding and expected outcomes as the `chains` target.

#![no_main]

mod common;

use handoff_tests::app::hostile::{Case, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::run_all("full", data, |d| Case::decode_among(d, &Target::SUBMIT));
});

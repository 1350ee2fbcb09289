//! Hostile `pNext` chains through the real loader, the Handoff layer and the mock ICD.
//!
//! The input decodes into cases (`handoff_tests::app::hostile::Case::decode`): an entry
//! point, a chain of fenced structs (unknown `sType`s, benign known ones, duplicates), a tail
//! of up to 100k links, an optional link back (a cycle), and timeline value counts that need
//! not match their semaphores. One instance and device serve every input. A crash, a hang
//! (libFuzzer's `-timeout`) or an outcome other than the expected one is a finding.

#![no_main]

mod common;

use handoff_tests::app::hostile::Case;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The lavapipe profile: the import targets are not called there (see `sync`).
    common::run_all("lavapipe", data, Case::decode);
});

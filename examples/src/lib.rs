//! Small external-memory interop programs that a reader can run, with and without Handoff.
//!
//! Each example is a module with `pub fn run(args: &[String]) -> i32` (the arguments after
//! the program name; the return value is the exit code) and a thin binary in `src/bin/`.
//! Every example takes `--bug`, which makes one interop mistake on purpose: run it under
//! `VK_LAYER_HANDOFF_validation` and the layer reports it.
//!
//! `handoff demo` runs every example twice (correct, then `--bug`) through the layer and
//! checks what the layer says; it calls [`EXAMPLES`] through `handoff example NAME`.

pub mod common;
pub mod cuda_interop;
mod cuda_peer;
pub mod image_handoff;
pub mod roundtrip;

/// One bundled example: what `handoff demo` needs to run and judge it.
pub struct Example {
    /// The name on the command line (`handoff example NAME`, `target/release/NAME`).
    pub name: &'static str,
    /// What it shows, in one line.
    pub summary: &'static str,
    /// The id the layer must report for the `--bug` run.
    pub bug_finding: &'static str,
    /// The example itself.
    pub run: fn(&[String]) -> i32,
}

/// Every bundled example, in the order `handoff demo` runs them.
pub static EXAMPLES: &[Example] = &[
    Example {
        name: "roundtrip",
        summary: "export OPAQUE_FD memory on one device, import it on another, compare the bytes",
        bug_finding: "VUID-VkMemoryGetFdInfoKHR-handleType-00671",
        run: roundtrip::run,
    },
    Example {
        name: "image_handoff",
        summary: "hand an image to a second process through VK_QUEUE_FAMILY_EXTERNAL and back",
        bug_finding: "HANDOFF-Handoff-layout-not-general",
        run: image_handoff::run,
    },
    Example {
        name: "cuda_interop",
        summary: "hand a buffer and two semaphores to CUDA as OPAQUE_FD and read CUDA's bytes back",
        bug_finding: "VUID-VkMemoryGetFdInfoKHR-handleType-00671",
        run: cuda_interop::run,
    },
];

/// The example with this name.
pub fn find(name: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.name == name)
}

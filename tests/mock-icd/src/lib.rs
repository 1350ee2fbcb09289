//! Handoff's mock Vulkan ICD: a driver for the Khronos loader (ICD interface 5) whose
//! capabilities come from a profile (`HANDOFF_MOCK_PROFILE`: `lavapipe`, `nvidia`,
//! `full`, or a JSON file) and whose device memory is backed by memfds, so OPAQUE_FD
//! export and import share real bytes. Nothing is ever executed on a queue.
//!
//! The rlib exposes only [`profile`], for tests that want to know what the mock reports.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod capabilities;
mod commands;
mod device;
mod dispatch;
mod fd;
mod ffi;
mod fork;
mod formats;
mod handles;
mod icd;
mod instance;
mod memory;
mod objects;
mod physical_device;
pub mod profile;
mod queue;
mod resources;
mod state;
mod sync;

pub use icd::{
    vk_icdGetInstanceProcAddr, vk_icdGetPhysicalDeviceProcAddr,
    vk_icdNegotiateLoaderICDInterfaceVersion,
};

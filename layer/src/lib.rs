//! VK_LAYER_HANDOFF_validation: a Vulkan layer that validates external-memory interop.
//!
//! See ARCHITECTURE.md at the repository root for the map of this crate.

#![allow(non_snake_case)]

pub mod report;
pub mod settings;

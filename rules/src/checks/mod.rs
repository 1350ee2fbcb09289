//! Checks, one module per Vulkan area. Each is a pure function from a call snapshot and
//! the tracked facts to findings.

pub mod allocation;
pub mod barrier;
pub mod bind;
pub mod commands;
pub mod lifetime;
pub mod memory_export;
pub mod memory_import;
pub mod ownership;
pub mod payload;
pub mod queries;
pub mod queue;
pub mod resource_create;
pub mod sync;

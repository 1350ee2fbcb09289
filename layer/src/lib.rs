//! VK_LAYER_HANDOFF_validation: a Vulkan layer that validates external-memory interop.
//!
//! See ARCHITECTURE.md at the repository root for the map of this crate.

#![allow(non_snake_case)]

pub mod barrier;
pub mod bind;
pub mod c_arrays;
pub mod capabilities;
pub mod commands;
pub mod dedicated;
pub mod device;
pub mod dispatch;
pub mod entry;
pub mod fd;
pub mod fork;
pub mod guard;
pub mod instance;
pub mod ledger;
pub mod liveness;
pub mod loader_abi;
pub mod memo;
pub mod memory;
pub mod ownership;
pub mod payload;
pub mod pnext;
pub mod queries;
pub mod report;
pub mod requirements;
pub mod resources;
pub mod settings;
pub mod spare;
pub mod state;
pub mod submit;
pub mod sync;

/// Counts the heap bytes the layer holds (see `state::accounting`).
#[global_allocator]
static ALLOC: state::accounting::CountingAlloc = state::accounting::CountingAlloc;

//! VK_LAYER_HANDOFF_validation: a Vulkan layer that validates external-memory interop.
//!
//! See ARCHITECTURE.md at the repository root for the map of this crate.

#![allow(non_snake_case)]

mod barrier;
mod bind;
mod c_arrays;
mod capabilities;
mod commands;
mod dedicated;
mod device;
mod dispatch;
mod entry;
mod fd;
mod fork;
mod guard;
mod instance;
mod ledger;
mod liveness;
mod loader_abi;
mod memo;
mod memory;
mod ownership;
mod payload;
pub mod pnext;
mod queries;
mod report;
mod requirements;
mod resources;
pub mod settings;
mod spare;
mod state;
mod submit;
mod sync;

// The hot paths' entry points share `.text.hot.handoff` (see ARCHITECTURE.md): the section
// starts on a page boundary, so that its code spans as few pages as its size allows
// (`%progbits`: `@` begins a comment in some ELF assemblers, 32-bit ARM's among them).
#[cfg(target_os = "linux")]
std::arch::global_asm!(
    ".pushsection .text.hot.handoff,\"ax\",%progbits",
    ".p2align 12",
    ".popsection"
);

/// Counts the heap bytes the layer holds (see `state::accounting`).
#[global_allocator]
static ALLOC: state::accounting::CountingAlloc = state::accounting::CountingAlloc;
